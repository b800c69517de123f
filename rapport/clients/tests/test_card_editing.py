"""Editing on the client card: details inline, phones and e-mails, tags, the trash."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import Company, Contact, ContactPoint
from rapport.clients.services import PointInput

HTMX = {"HX-Request": "true"}


@pytest.fixture
def acme(manager: User) -> Company:
    return services.company_create(
        by=manager, name="Acme", tax_id="7701", points=[PointInput("phone", "+7 912 345-67-89")]
    )


@pytest.fixture
def ivanov(manager: User, acme: Company) -> Contact:
    return services.contact_create(by=manager, last_name="Ivanov", first_name="Ivan", company=acme)


def details(record: Company | Contact, **changes: object) -> dict[str, object]:
    """The details form as the card draws it, with some fields changed."""
    company = record
    data: dict[str, object] = {
        "version": company.version,
        "status": company.status,
        "tax_id": company.tax_id,
        "address": company.address,
        "website": company.website,
        "notes": company.notes,
        "lead_source": "",
    }
    if isinstance(company, Company):
        data |= {"name": company.name, "industry": company.industry}
    else:
        data |= {
            "last_name": company.last_name,
            "first_name": company.first_name,
            "middle_name": company.middle_name,
            "position": company.position,
            "company": company.company_id or "",
            "birthday": "",
        }
    return data | changes


def test_owner_edits_details_inline(acme: Company, as_manager: Client, manager: User) -> None:
    form = as_manager.get(f"/clients/company/{acme.pk}/edit/", headers=HTMX)
    assert 'id="details-form"' in form.content.decode()
    response = as_manager.post(
        f"/clients/company/{acme.pk}/edit/", details(acme, industry="Steel", website="acme.example"), headers=HTMX
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Steel" in page
    assert 'id="details-form"' not in page
    acme.refresh_from_db()
    assert (acme.industry, acme.website, acme.version) == ("Steel", "https://acme.example", 2)
    assert acme.history.first().history_user == manager


def test_renaming_reloads_the_card(acme: Company, as_manager: Client) -> None:
    response = as_manager.post(f"/clients/company/{acme.pk}/edit/", details(acme, name="Acme Steel"), headers=HTMX)
    assert response.headers["HX-Refresh"] == "true"
    acme.refresh_from_db()
    assert acme.name == "Acme Steel"


def test_stale_form_is_refused_naming_who_changed_it(acme: Company, as_manager: Client, head: User) -> None:
    stale = details(acme, industry="Mine")
    services.client_update(by=head, client=acme, version=acme.version, industry="Theirs")
    response = as_manager.post(f"/clients/company/{acme.pk}/edit/", stale, headers=HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Changed by" in page
    assert head.display_name in page
    acme.refresh_from_db()
    assert acme.industry == "Theirs"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"website": "not a site"}, "website", "Enter a valid URL"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"name": ""}, "name", "This field is required"),
    ],
)
def test_bad_details_get_a_message_next_to_the_field(
    acme: Company, as_manager: Client, changes: dict[str, str], field: str, message: str
) -> None:
    response = as_manager.post(f"/clients/company/{acme.pk}/edit/", details(acme, **changes), headers=HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    error_at = page.index(f'id="id_{field}-error"')
    assert message in page[error_at : error_at + 300]
    acme.refresh_from_db()
    assert (acme.name, acme.version) == ("Acme", 1)


def test_duplicate_tax_id_is_refused_next_to_the_field(acme: Company, as_manager: Client, manager: User) -> None:
    other = services.company_create(by=manager, name="Other")
    response = as_manager.post(f"/clients/company/{other.pk}/edit/", details(other, tax_id="7701"), headers=HTMX)
    assert response.status_code == 422
    assert "belongs to Acme already" in response.content.decode()
    other.refresh_from_db()
    assert other.tax_id == ""


def test_personal_data_locked_for_managers_when_only_operators_may_edit_it(
    ivanov: Contact, as_manager: Client, operator: User, settings: object
) -> None:
    settings.RAPPORT_PERSONAL_DATA_EDITORS = "operators"  # type: ignore[attr-defined]
    form = as_manager.get(f"/clients/contact/{ivanov.pk}/edit/", headers=HTMX).content.decode()
    assert 'name="last_name"' in form
    assert "Only operators may change personal data." in form
    response = as_manager.post(
        f"/clients/contact/{ivanov.pk}/edit/", details(ivanov, last_name="Petrov", position="Buyer"), headers=HTMX
    )
    assert response.status_code == 200
    ivanov.refresh_from_db()
    assert (ivanov.last_name, ivanov.position) == ("Ivanov", "Buyer")
    client_for(operator).post(f"/clients/contact/{ivanov.pk}/edit/", details(ivanov, last_name="Petrov"), headers=HTMX)
    ivanov.refresh_from_db()
    assert ivanov.last_name == "Petrov"


def test_contact_cannot_be_moved_to_a_company_out_of_sight(ivanov: Contact, as_manager: Client, outsider: User) -> None:
    hidden = services.company_create(by=outsider, name="Hidden Ltd")
    response = as_manager.post(f"/clients/contact/{ivanov.pk}/edit/", details(ivanov, company=hidden.pk), headers=HTMX)
    assert response.status_code == 422
    ivanov.refresh_from_db()
    assert ivanov.company_id != hidden.pk


def test_company_picker_offers_only_visible_companies(acme: Company, as_manager: Client, outsider: User) -> None:
    services.company_create(by=outsider, name="Acme Hidden")
    found = as_manager.get("/clients/company/autocomplete/", {"q": "acme"}).json()["results"]
    assert [hit["text"] for hit in found] == ["Acme"]


@pytest.mark.parametrize("persona", ["teammate", "outsider"])
def test_others_cannot_open_the_editor(acme: Company, personas: dict[str, User], persona: str) -> None:
    client = client_for(personas[persona])
    assert client.get(f"/clients/company/{acme.pk}/edit/").status_code == 404
    assert client.post(f"/clients/company/{acme.pk}/edit/", details(acme, industry="X")).status_code == 404
    acme.refresh_from_db()
    assert acme.industry == ""


def test_head_and_operator_edit_a_team_client(acme: Company, head: User, operator: User) -> None:
    for number, user in enumerate([head, operator]):
        acme.refresh_from_db()
        response = client_for(user).post(
            f"/clients/company/{acme.pk}/edit/", details(acme, industry=f"By {number}"), headers=HTMX
        )
        assert response.status_code == 200
    acme.refresh_from_db()
    assert acme.industry == "By 1"


def test_editor_works_without_javascript(acme: Company, as_manager: Client) -> None:
    page = as_manager.get(f"/clients/company/{acme.pk}/edit/").content.decode()
    assert 'id="details-form"' in page
    assert 'id="timeline"' in page  # the whole card, with the editor open
    response = as_manager.post(f"/clients/company/{acme.pk}/edit/", details(acme, industry="Steel"))
    assert response.status_code == 302
    assert response["Location"] == acme.get_absolute_url()


# ---- Phones and e-mails ---------------------------------------------------------------------


def test_owner_adds_a_phone_and_a_bad_one_is_explained(acme: Company, as_manager: Client) -> None:
    assert 'id="point-add-open"' in as_manager.get(acme.get_absolute_url()).content.decode()
    opened = as_manager.get(f"/clients/company/{acme.pk}/points/", headers=HTMX).content.decode()
    assert 'id="point-add-form"' in opened
    bad = as_manager.post(f"/clients/company/{acme.pk}/points/", {"kind": "phone", "value": "12"}, headers=HTMX)
    assert bad.status_code == 422
    assert "+7 912 345-67-89" in bad.content.decode() or "format" in bad.content.decode()
    good = as_manager.post(
        f"/clients/company/{acme.pk}/points/",
        {"kind": "email", "value": "Sales@Acme.Example", "label": "sales"},
        headers=HTMX,
    )
    assert good.status_code == 200
    assert 'href="mailto:sales@acme.example"' in good.content.decode()
    assert ContactPoint.objects.filter(company=acme).count() == 2


def test_owner_corrects_a_phone_and_moves_the_star(acme: Company, as_manager: Client, manager: User) -> None:
    first = ContactPoint.objects.get(company=acme)
    second = services.contact_point_add(by=manager, client=acme, point=PointInput("phone", "+7 912 000-00-01"))
    editor = as_manager.get(f"/clients/points/{second.pk}/edit/", headers=HTMX)
    assert 'value="+7 912 000-00-01"' in editor.content.decode()
    response = as_manager.post(
        f"/clients/points/{second.pk}/",
        {"value": "+7 912 000-00-02", "label": "mobile", "is_primary": "on"},
        headers=HTMX,
    )
    assert response.status_code == 200
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.normalized, second.is_primary, first.is_primary) == ("+79120000002", True, False)
    assert 'href="tel:+79120000002"' in response.content.decode()


def test_correcting_a_phone_to_a_bad_value_keeps_the_old_one(acme: Company, as_manager: Client) -> None:
    point = ContactPoint.objects.get(company=acme)
    response = as_manager.post(f"/clients/points/{point.pk}/", {"value": "call me"}, headers=HTMX)
    assert response.status_code == 422
    point.refresh_from_db()
    assert point.normalized == "+79123456789"


def test_removing_the_primary_phone_passes_the_star(acme: Company, as_manager: Client, manager: User) -> None:
    first = ContactPoint.objects.get(company=acme)
    second = services.contact_point_add(by=manager, client=acme, point=PointInput("phone", "+7 912 000-00-01"))
    assert as_manager.post(f"/clients/points/{first.pk}/remove/", headers=HTMX).status_code == 200
    second.refresh_from_db()
    assert second.is_primary
    assert not ContactPoint.objects.filter(pk=first.pk).exists()


@pytest.mark.parametrize("persona", ["teammate", "outsider"])
def test_points_of_others_clients_are_not_found(acme: Company, personas: dict[str, User], persona: str) -> None:
    point = ContactPoint.objects.get(company=acme)
    client = client_for(personas[persona])
    assert client.post(f"/clients/points/{point.pk}/remove/").status_code == 404
    assert client.post(f"/clients/points/{point.pk}/", {"value": "+7 912 000-00-09"}).status_code == 404
    assert (
        client.post(f"/clients/company/{acme.pk}/points/", {"kind": "phone", "value": "+79120000009"}).status_code
        == 404
    )
    assert ContactPoint.objects.filter(company=acme).count() == 1


def test_managers_cannot_touch_points_when_only_operators_may(
    acme: Company, as_manager: Client, settings: object
) -> None:
    settings.RAPPORT_PERSONAL_DATA_EDITORS = "operators"  # type: ignore[attr-defined]
    point = ContactPoint.objects.get(company=acme)
    assert 'id="point-add-open"' not in as_manager.get(acme.get_absolute_url()).content.decode()
    assert as_manager.get(f"/clients/company/{acme.pk}/points/").status_code == 403
    assert as_manager.post(f"/clients/points/{point.pk}/remove/").status_code == 403
    assert (
        as_manager.post(f"/clients/company/{acme.pk}/points/", {"kind": "phone", "value": "+79120000009"}).status_code
        == 403
    )
    assert ContactPoint.objects.filter(company=acme).count() == 1


# ---- Tags -----------------------------------------------------------------------------------


def test_owner_sets_tags(acme: Company, as_manager: Client) -> None:
    response = as_manager.post(f"/clients/company/{acme.pk}/tags/", {"tags": "VIP, wholesale"}, headers=HTMX)
    assert response.status_code == 200
    assert sorted(tag.name for tag in acme.tags.all()) == ["VIP", "wholesale"]
    as_manager.post(f"/clients/company/{acme.pk}/tags/", {"tags": "VIP"}, headers=HTMX)
    assert [tag.name for tag in acme.tags.all()] == ["VIP"]


def test_over_long_tag_is_explained(acme: Company, as_manager: Client) -> None:
    response = as_manager.post(f"/clients/company/{acme.pk}/tags/", {"tags": "x" * 51}, headers=HTMX)
    assert response.status_code == 422
    assert "at most 50 characters" in response.content.decode()
    assert not acme.tags.exists()


def test_pool_client_tags_are_read_only_for_a_manager(manager: User, operator: User) -> None:
    pooled = services.company_create(by=operator, name="Pooled")
    client = client_for(manager)
    assert 'id="tags-form"' not in client.get(pooled.get_absolute_url()).content.decode()
    assert client.post(f"/clients/company/{pooled.pk}/tags/", {"tags": "mine"}).status_code == 403


# ---- Trash ----------------------------------------------------------------------------------


def test_owner_moves_a_client_to_the_trash_and_an_admin_restores_it(
    acme: Company, as_manager: Client, as_admin: Client
) -> None:
    response = as_manager.post(f"/clients/company/{acme.pk}/delete/", headers=HTMX)
    assert response.headers["HX-Redirect"] == "/clients/companies/"
    assert as_manager.get(acme.get_absolute_url()).status_code == 404
    assert as_admin.get(acme.get_absolute_url()).status_code == 404
    trash = as_admin.get("/clients/trash/").content.decode()
    assert "Acme" in trash
    restored = as_admin.post(f"/clients/company/{acme.pk}/restore/")
    assert restored["Location"] == acme.get_absolute_url()
    assert as_manager.get(acme.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("persona", ["manager", "head", "operator", "agent"])
def test_only_admins_see_the_trash(acme: Company, personas: dict[str, User], persona: str, manager: User) -> None:
    services.client_delete(by=manager, client=acme)
    client = client_for(personas[persona])
    assert client.get("/clients/trash/").status_code == 403
    assert client.post(f"/clients/company/{acme.pk}/restore/").status_code == 403
    acme.refresh_from_db()
    assert acme.is_deleted


def test_restoring_a_tax_id_now_held_by_another_client_is_explained(
    acme: Company, manager: User, as_admin: Client
) -> None:
    services.client_delete(by=manager, client=acme)
    services.company_create(by=manager, name="Acme Again", tax_id="7701")
    response = as_admin.post(f"/clients/company/{acme.pk}/restore/", follow=True)
    assert "belongs to Acme Again already" in response.content.decode()
    acme.refresh_from_db()
    assert acme.is_deleted


@pytest.mark.parametrize("persona", ["teammate", "outsider", "agent"])
def test_others_cannot_delete(acme: Company, personas: dict[str, User], persona: str) -> None:
    assert client_for(personas[persona]).post(f"/clients/company/{acme.pk}/delete/").status_code == 404
    acme.refresh_from_db()
    assert not acme.is_deleted

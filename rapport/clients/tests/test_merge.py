"""Merging two records of one client: operators and admins; everything moves to the survivor."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import merge, services
from rapport.clients.models import ClientMerge, ClientTransfer, Company, Contact, ContactPoint
from rapport.clients.services import PointInput


@pytest.fixture
def kept(manager: User) -> Company:
    return services.company_create(
        by=manager, name="Acme", industry="Steel", points=[PointInput("phone", "+7 912 345-67-89")]
    )


@pytest.fixture
def duplicate(teammate: User, head: User) -> Company:
    company = services.company_create(
        by=teammate,
        name="ACME Ltd",
        tax_id="7701",
        address="Lenina 1",
        points=[PointInput("phone", "+7 (912) 345 6789"), PointInput("email", "info@acme.example")],
    )
    services.contact_create(by=teammate, last_name="Petrov", company=company)
    services.client_tags_set(by=teammate, client=company, names=["VIP"])
    services.client_transfer(by=head, client=company, to_user=teammate, reason="Shuffle")
    return company


def test_operator_merges_a_duplicate_company(kept: Company, duplicate: Company, operator: User) -> None:
    client = client_for(operator)
    compare = client.get(f"/clients/company/{kept.pk}/merge/", {"other": duplicate.pk}).content.decode()
    assert "ACME Ltd" in compare
    assert 'name="keep_name"' in compare  # both have a name: the operator picks
    assert 'name="keep_tax_id"' not in compare  # only the duplicate has one: it is taken
    response = client.post(
        f"/clients/company/{kept.pk}/merge/", {"other": duplicate.pk, "keep_name": "merged"}, follow=True
    )
    assert response.status_code == 200
    kept.refresh_from_db()
    duplicate.refresh_from_db()
    assert (kept.name, kept.tax_id, kept.address, kept.industry) == ("ACME Ltd", "7701", "Lenina 1", "Steel")
    assert duplicate.is_deleted
    points = ContactPoint.objects.filter(company=kept)
    # The same phone in another format is one phone; the e-mail moves over.
    assert sorted(points.values_list("normalized", flat=True)) == ["+79123456789", "info@acme.example"]
    assert points.filter(is_primary=True).count() == 2
    assert [person.last_name for person in Contact.objects.filter(company=kept)] == ["Petrov"]
    assert [tag.name for tag in kept.tags.all()] == ["VIP"]
    assert ClientTransfer.objects.filter(company=kept, reason="Shuffle").exists()
    record = ClientMerge.objects.get()
    assert (record.survivor_id, record.merged_id, record.by) == (kept.pk, duplicate.pk, operator)
    timeline = response.content.decode()
    assert "Merged with ACME Ltd" in timeline
    assert kept.history.first().history_user == operator


def test_merged_record_cannot_come_back_from_the_trash(
    kept: Company, duplicate: Company, operator: User, admin_user: User
) -> None:
    merge.client_merge(by=operator, survivor=kept, merged=duplicate)
    response = client_for(admin_user).post(f"/clients/company/{duplicate.pk}/restore/", follow=True)
    assert "was merged into another record" in response.content.decode()
    duplicate.refresh_from_db()
    assert duplicate.is_deleted


@pytest.mark.parametrize("persona", ["manager", "head", "agent", "outsider"])
def test_only_operators_and_admins_merge(
    kept: Company, duplicate: Company, personas: dict[str, User], persona: str
) -> None:
    client = client_for(personas[persona])
    assert client.get(f"/clients/company/{kept.pk}/merge/").status_code == 403
    assert client.post(f"/clients/company/{kept.pk}/merge/", {"other": duplicate.pk}).status_code == 403
    with pytest.raises(PermissionDenied):
        merge.client_merge(by=personas[persona], survivor=kept, merged=duplicate)
    duplicate.refresh_from_db()
    assert not duplicate.is_deleted


def test_merging_a_record_with_itself_or_a_missing_one_is_refused(kept: Company, operator: User) -> None:
    client = client_for(operator)
    page = client.get(f"/clients/company/{kept.pk}/merge/", {"other": kept.pk}).content.decode()
    assert "Choose another record" in page
    assert client.get(f"/clients/company/{kept.pk}/merge/", {"other": 999999}).status_code == 404
    assert client.post(f"/clients/contact/{kept.pk}/merge/", {"other": kept.pk}).status_code == 404
    kept.refresh_from_db()
    assert not kept.is_deleted


def test_merging_contacts_keeps_the_survivors_company(manager: User, operator: User) -> None:
    acme = services.company_create(by=manager, name="Acme")
    first = services.contact_create(by=manager, last_name="Ivanov", company=acme)
    second = services.contact_create(by=manager, last_name="Ivanov", first_name="Ivan", birthday=None)
    merge.client_merge(by=operator, survivor=first, merged=second)
    first.refresh_from_db()
    assert (first.first_name, first.company_id) == ("Ivan", acme.pk)


def test_merge_picker_finds_only_the_same_kind_and_not_itself(
    kept: Company, duplicate: Company, operator: User
) -> None:
    query: dict[str, str | int] = {"q": "acme", "exclude": kept.pk}
    found = client_for(operator).get("/clients/company/autocomplete/", query).json()
    assert [hit["value"] for hit in found["results"]] == [duplicate.pk]

from __future__ import annotations

from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import Company, Contact
from rapport.clients.services import PointInput


def test_manager_registers_a_company(manager: User, as_manager: Client) -> None:
    response = as_manager.post(
        "/clients/companies/new/",
        {"name": "Northwind", "tax_id": "5501", "phone": "+1 201 555 0199", "email": "Buy@Northwind.test"},
    )
    company = Company.objects.get(name="Northwind")
    assert response["Location"] == company.get_absolute_url()
    assert (company.owner, company.registrant) == (manager, manager)
    assert sorted(company.points.values_list("normalized", flat=True)) == ["+12015550199", "buy@northwind.test"]


def test_bad_input_is_shown_by_the_field_and_nothing_is_saved(as_manager: Client) -> None:
    response = as_manager.post("/clients/companies/new/", {"name": "", "phone": "12", "email": "nope"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_name-error"' in page
    assert "is not a phone number. Write it like" in page
    assert "Enter a valid email address." in page
    assert not Company.objects.exists()


def test_contact_needs_a_name_and_can_join_a_company(manager: User, as_manager: Client) -> None:
    acme = services.company_create(by=manager, name="Acme")
    assert as_manager.post("/clients/contacts/new/", {"position": "CEO"}).status_code == 422
    response = as_manager.post(f"/clients/contacts/new/?company={acme.pk}", {"last_name": "Lee", "position": "CEO"})
    assert response.status_code == 302
    assert Contact.objects.get(last_name="Lee").company == acme


def test_cannot_attach_a_contact_to_an_invisible_company(outsider: User, as_manager: Client) -> None:
    theirs = services.company_create(by=outsider, name="Theirs")
    assert as_manager.get(f"/clients/contacts/new/?company={theirs.pk}").status_code == 404


def test_manager_cannot_give_a_new_client_to_someone_else(teammate: User, as_manager: Client) -> None:
    response = as_manager.post("/clients/companies/new/", {"name": "Gift", "owner": teammate.pk})
    assert response.status_code == 422
    assert not Company.objects.filter(name="Gift").exists()


def test_duplicates_show_name_and_owner_even_out_of_scope(
    outsider: User, manager: User, as_manager: Client, settings: object
) -> None:
    # A Russian company: "8 912 …" is a national number there.
    settings.DEFAULT_PHONE_REGION = "RU"  # type: ignore[attr-defined]
    services.contact_create(
        by=outsider, last_name="Smirnova", first_name="Olga", points=[PointInput("phone", "+7 912 000-11-22")]
    )
    mine = services.contact_create(by=manager, last_name="Mine", points=[PointInput("email", "me@x.test")])
    by_phone = as_manager.get("/clients/duplicates/", {"phone": "8 912 000 11 22"}).content.decode()
    assert "Smirnova Olga" in by_phone
    assert "Oscar Outsider" in by_phone
    assert "/clients/contacts/" not in by_phone  # no link to a client the manager may not open
    by_name = as_manager.get("/clients/duplicates/", {"last_name": "smirnova", "first_name": "OLGA"}).content.decode()
    assert "Smirnova Olga" in by_name
    by_email = as_manager.get("/clients/duplicates/", {"email": "ME@x.test"}).content.decode()
    assert mine.get_absolute_url() in by_email
    assert "Already in the base?" not in as_manager.get("/clients/duplicates/", {"phone": "+1 999"}).content.decode()


def test_creating_needs_sign_in(db: None) -> None:
    assert Client().get("/clients/companies/new/").status_code == 302


def test_operator_creates_into_the_pool_or_for_a_manager(operator: User, manager: User) -> None:
    client = client_for(operator)
    client.post("/clients/companies/new/", {"name": "Pooled"})
    client.post("/clients/companies/new/", {"name": "Assigned", "owner": manager.pk})
    assert Company.objects.get(name="Pooled").owner is None
    assert Company.objects.get(name="Assigned").owner == manager


def test_a_person_typed_for_a_company_is_matched_by_name_among_its_people(manager: User, as_manager: Client) -> None:
    acme = services.company_create(by=manager, name="Acme")
    services.contact_create(by=manager, last_name="Ivanov", first_name="Ivan", company=acme)
    services.contact_create(by=manager, last_name="Ivanov", first_name="Ivan")
    typed: dict[str, str | int] = {"last_name": "Ivanov", "first_name": "Ivan", "company": acme.pk}
    page = as_manager.get("/clients/duplicates/", typed).content.decode()
    assert page.count('class="list-group-item list-group-item-action duplicate"') == 1
    assert "same name at this company" in page
    other = services.company_create(by=manager, name="Other")
    assert (
        "Already in the base?"
        not in as_manager.get("/clients/duplicates/", {**typed, "company": other.pk}).content.decode()
    )

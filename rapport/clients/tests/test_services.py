from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import ClientStatus, ClientTransfer, Company, Contact, ContactPoint
from rapport.clients.services import PointInput
from rapport.clients.tests.factories import CompanyFactory


def test_manager_registers_a_company_with_phone_and_email(manager: User) -> None:
    company = services.company_create(
        by=manager,
        name=" Acme ",
        tax_id="7701234567",
        points=[PointInput("phone", "+7 (912) 345-67-89"), PointInput("email", "Sales@Acme.example")],
    )
    assert (company.name, company.owner, company.registrant) == ("Acme", manager, manager)
    phone, email = ContactPoint.objects.filter(company=company).order_by("kind").reverse()
    assert (phone.normalized, phone.digits_reversed, phone.is_primary) == ("+79123456789", "98765432197", True)
    assert (email.normalized, email.value) == ("sales@acme.example", "Sales@Acme.example")
    assert company.history.first().history_user == manager


def test_unparseable_phone_shows_the_expected_format_and_saves_nothing(manager: User) -> None:
    with pytest.raises(ValidationError) as caught:
        services.contact_create(by=manager, last_name="Ivanov", points=[PointInput("phone", "12")])
    assert "is not a phone number. Write it like" in str(caught.value.message_dict["value"])
    assert not Contact.objects.exists()


def test_a_contact_needs_a_name(manager: User) -> None:
    with pytest.raises(ValidationError) as caught:
        services.contact_create(by=manager, position="CEO")
    assert "last_name" in caught.value.message_dict


def test_duplicate_tax_id_is_refused(manager: User, teammate: User) -> None:
    services.company_create(by=manager, name="First", tax_id="123456")
    with pytest.raises(ValidationError) as caught:
        services.company_create(by=teammate, name="Second", tax_id="123456")
    assert "This tax id belongs to First already." in caught.value.message_dict["tax_id"]


def test_owner_outside_the_team_is_refused(head: User, outsider: User, teammate: User) -> None:
    with pytest.raises(ValidationError) as caught:
        services.company_create(by=head, name="X", owner=outsider)
    assert "your own team" in caught.value.message_dict["owner"][0]
    assert services.company_create(by=head, name="Y", owner=teammate).owner == teammate


def test_stale_version_is_refused_with_who_and_when(manager: User, head: User) -> None:
    company = services.company_create(by=manager, name="Acme")
    services.client_update(by=head, client=company, version=1, industry="Steel")
    with pytest.raises(ValidationError) as caught:
        services.client_update(by=manager, client=company, version=1, industry="Timber")
    assert "Changed by Hanna Head at" in caught.value.messages[0]
    company.refresh_from_db()
    assert (company.industry, company.version) == ("Steel", 2)


def test_update_keeps_history(manager: User) -> None:
    company = services.company_create(by=manager, name="Acme")
    services.client_update(by=manager, client=company, version=1, name="Acme Group")
    names = list(company.history.values_list("name", flat=True))
    assert names == ["Acme Group", "Acme"]


def test_personal_data_reserved_for_operators(manager: User, operator: User, settings: object) -> None:
    contact = services.contact_create(by=manager, last_name="Petrov")
    settings.RAPPORT_PERSONAL_DATA_EDITORS = "operators"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as caught:
        services.client_update(by=manager, client=contact, version=1, last_name="Petrova")
    assert "Only operators may change personal data." in caught.value.message_dict["last_name"]
    # The manager still edits the rest, and the operator the name.
    services.client_update(by=manager, client=contact, version=1, position="Buyer")
    services.client_update(by=operator, client=contact, version=2, last_name="Petrova")
    contact.refresh_from_db()
    assert (contact.last_name, contact.position) == ("Petrova", "Buyer")
    with pytest.raises(PermissionDenied):
        services.contact_point_add(by=manager, client=contact, point=PointInput("email", "p@example.com"))


def test_nobody_edits_a_client_outside_their_rights(manager: User, outsider: User) -> None:
    company = services.company_create(by=manager, name="Acme")
    with pytest.raises(PermissionDenied):
        services.client_update(by=outsider, client=company, version=1, industry="Oil")


def test_transfer_is_logged_and_pool_round_trip(manager: User, teammate: User, head: User) -> None:
    company = services.company_create(by=manager, name="Acme")
    with pytest.raises(PermissionDenied):
        services.client_transfer(by=manager, client=company, to_user=teammate)

    services.client_transfer(by=head, client=company, to_user=None, reason="No contact for 60 days")
    company.refresh_from_db()
    assert (company.owner, company.status) == (None, ClientStatus.POOL)

    services.client_take_from_pool(by=teammate, client=company)
    company.refresh_from_db()
    assert (company.owner, company.status) == (teammate, ClientStatus.ACTIVE)
    log = list(ClientTransfer.objects.filter(company=company).values_list("from_user__username", "to_user__username"))
    assert log == [(None, "teammate"), ("manager", None)]
    with pytest.raises(ValidationError):
        services.client_take_from_pool(by=manager, client=company)


def test_soft_delete_and_restore(manager: User, admin_user: User) -> None:
    company = services.company_create(by=manager, name="Acme", tax_id="999")
    services.client_delete(by=manager, client=company)
    assert not Company.objects.alive().exists()
    # Its tax id is free while it is in the trash…
    other = services.company_create(by=manager, name="Acme 2", tax_id="999")
    # …so restoring it is refused until the clash is resolved.
    with pytest.raises(ValidationError):
        services.client_restore(by=admin_user, client=company)
    services.client_delete(by=manager, client=other)
    services.client_restore(by=admin_user, client=company)
    assert list(Company.objects.alive().values_list("name", flat=True)) == ["Acme"]


def test_one_primary_per_kind(manager: User) -> None:
    contact = services.contact_create(by=manager, last_name="Lee")
    first = services.contact_point_add(by=manager, client=contact, point=PointInput("phone", "+1 201 555 0123"))
    second = services.contact_point_add(
        by=manager, client=contact, point=PointInput("phone", "+1 201 555 0124", is_primary=True)
    )
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    with pytest.raises(ValidationError):
        services.contact_point_add(by=manager, client=contact, point=PointInput("phone", "(201) 555-0124"))
    services.contact_point_remove(by=manager, point=second)
    first.refresh_from_db()
    assert first.is_primary


def test_a_contact_cannot_be_moved_to_an_invisible_company(manager: User, outsider: User) -> None:
    contact = services.contact_create(by=manager, last_name="Lee")
    theirs = services.company_create(by=outsider, name="Theirs")
    with pytest.raises(ValidationError) as caught:
        services.client_update(by=manager, client=contact, version=1, company=theirs)
    assert "Choose a company you can see." in caught.value.message_dict["company"]


def test_tags_are_set_case_insensitively_and_bulk_adding_keeps_the_rest(manager):
    company = CompanyFactory.create(owner=manager)
    services.client_tags_set(by=manager, client=company, names=["VIP", "  wholesale ", "vip"])
    assert sorted(tag.name for tag in company.tags.all()) == ["VIP", "wholesale"]
    services.client_tag_add(by=manager, client=company, name="Vip")
    services.client_tag_add(by=manager, client=company, name="Export")
    assert sorted(tag.name for tag in company.tags.all()) == ["Export", "VIP", "wholesale"]
    company.refresh_from_db()
    assert company.version == 4
    assert company.history.first().history_user == manager


def test_tags_of_a_client_you_cannot_edit_are_refused(manager, teammate):
    company = CompanyFactory.create(owner=teammate)
    with pytest.raises(PermissionDenied):
        services.client_tags_set(by=manager, client=company, names=["mine now"])
    assert not company.tags.exists()

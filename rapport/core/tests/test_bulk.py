from __future__ import annotations

from datetime import UTC, date, datetime

from rapport.accounts.models import User
from rapport.clients.models import ClientStatus, Contact
from rapport.core.bulk import bulk_insert, ids_after, last_id, update_rows


def test_bulk_insert_fills_defaults_and_keeps_dates(manager: User) -> None:
    before = last_id(Contact)
    when = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    count = bulk_insert(
        Contact,
        ["last_name", "first_name", "owner_id", "birthday", "last_contact_at", "tax_id"],
        [("Ivanova", "Anna", manager.pk, date(1990, 5, 17), when, ""), ("Tran", "Minh", None, None, None, "")],
    )
    assert count == 2
    anna, minh = Contact.objects.filter(pk__in=ids_after(Contact, before)).order_by("pk")
    assert (anna.display_name, anna.owner, anna.birthday, anna.last_contact_at) == (
        "Ivanova Anna",
        manager,
        date(1990, 5, 17),
        when,
    )
    assert (minh.status, minh.version, minh.notes, minh.owner) == (ClientStatus.ACTIVE, 1, "", None)
    assert minh.created_at is not None


def test_update_rows_sets_each_rows_value_and_moves_a_forward_column_only_forward(manager: User) -> None:
    earlier, later = datetime(2026, 3, 1, 9, 0, tzinfo=UTC), datetime(2026, 3, 1, 17, 45, 30, 250, tzinfo=UTC)
    never, seen, recent = (
        Contact.objects.create(last_name=name, owner=manager, last_contact_at=at)
        for name, at in (("Never", None), ("Seen", earlier), ("Recent", later))
    )

    update_rows(
        Contact,
        ["last_contact_at", "notes"],
        [(later, "called", never.pk), (later, "called", seen.pk), (earlier, "called", recent.pk)],
        forward="last_contact_at",
    )

    found = {contact.pk: (contact.last_contact_at, contact.notes) for contact in Contact.objects.all()}
    assert found == {never.pk: (later, "called"), seen.pk: (later, "called"), recent.pk: (later, "")}

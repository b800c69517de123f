from __future__ import annotations

from datetime import UTC, date, datetime

from rapport.accounts.models import User
from rapport.clients.models import ClientStatus, Contact
from rapport.core.bulk import bulk_insert, ids_after, last_id


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

"""Which client a call is with: its number against the client base's phones.

The number as E.164 first; when that finds nobody, its last MATCH_DIGITS digits, so a PBX
that sends local formats ("2015550123", "8 912 …") still finds the stored international
number (a prefix range on the reversed digits, the index the search box uses). Several
clients with that number: the answering manager's own, else the one contacted last.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.accounts.models import User
from rapport.clients.models import ContactPoint, ContactPointKind
from rapport.clients.services import AnyClient
from rapport.core.phones import digits_of, prefix_range

# Enough digits to tell subscribers apart in any numbering plan, few enough to leave out country and trunk codes.
MATCH_DIGITS = 9
CANDIDATES = 20
NEVER = datetime.min.replace(tzinfo=UTC)
CHOICE_FIELDS = ("id", "deleted_at", "owner_id", "last_contact_at")


def _points(e164: str, raw: str) -> list[ContactPoint]:
    phones = (
        ContactPoint.objects.filter(kind=ContactPointKind.PHONE)
        .select_related("company", "contact")
        # What the choice below reads, no more: building a client's every column cost more than the query.
        .only(*(f"{kind}__{name}" for kind in ("company", "contact") for name in CHOICE_FIELDS))
        .order_by()  # which of the few found wins is decided below
    )
    if e164:
        exact = list(phones.filter(normalized=e164)[:CANDIDATES])
        if exact:
            return exact
    digits = digits_of(e164 or raw)
    if len(digits) < MATCH_DIGITS:
        return []
    low, high = prefix_range(digits[::-1][:MATCH_DIGITS])
    return list(phones.filter(digits_reversed__gte=low, digits_reversed__lt=high)[:CANDIDATES])


def client_for_number(e164: str, raw: str, answered_by: User | None) -> AnyClient | None:
    """The living client this number belongs to, or None."""
    clients: list[AnyClient] = []
    for point in _points(e164, raw):
        client = point.contact or point.company
        if client is not None and client.deleted_at is None:
            clients.append(client)
    if not clients:
        return None
    if answered_by is not None:
        for client in clients:
            if client.owner_id == answered_by.pk:
                return client
    # The one contacted last; never contacted ones after, the newest of them first.
    return max(clients, key=lambda client: (client.last_contact_at or NEVER, client.pk))

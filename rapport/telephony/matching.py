"""Which client a call is with: its number against the client base's phones.

The number as E.164 first; when that finds nobody, its last MATCH_DIGITS digits, so a PBX
that sends local formats ("2015550123", "8 912 …") still finds the stored international
number (a prefix range on the reversed digits, the index the search box uses). Several
clients with that number: the answering manager's own, else the one contacted last.
The numbers of a whole batch of calls are looked up together: one query for the exact ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.clients.models import ContactPoint, ContactPointKind
from rapport.clients.services import AnyClient
from rapport.core.phones import digits_of, prefix_range

# Enough digits to tell subscribers apart in any numbering plan, few enough to leave out country and trunk codes.
MATCH_DIGITS = 9
CANDIDATES = 20
NEVER = datetime.min.replace(tzinfo=UTC)
CHOICE_FIELDS = ("id", "deleted_at", "owner_id", "last_contact_at")


def _phones() -> QuerySet[ContactPoint]:
    return (
        ContactPoint.objects.filter(kind=ContactPointKind.PHONE)
        # What the choice below reads, and the contact's company (its id), which a call on the timeline is also
        # under; no more: building a client's every column cost more than the query.
        .select_related("company", "contact__company")
        .only(
            "normalized",
            "contact__company__id",
            *(f"{kind}__{name}" for kind in ("company", "contact") for name in CHOICE_FIELDS),
        )
        .order_by()  # which of the few found wins is decided below
    )


def _exact_points(numbers: Iterable[str]) -> dict[str, list[ContactPoint]]:
    """The phones stored as exactly these E.164 numbers, by number (one query)."""
    found: dict[str, list[ContactPoint]] = {}
    wanted = sorted(set(numbers))
    if wanted:
        for point in _phones().filter(normalized__in=wanted):
            found.setdefault(point.normalized, []).append(point)
    return found


def _tail_points(e164: str, raw: str) -> list[ContactPoint]:
    """The phones ending in the number's last MATCH_DIGITS digits, for a number the region could not read."""
    digits = digits_of(e164 or raw)
    if len(digits) < MATCH_DIGITS:
        return []
    low, high = prefix_range(digits[::-1][:MATCH_DIGITS])
    return list(_phones().filter(digits_reversed__gte=low, digits_reversed__lt=high)[:CANDIDATES])


def _choice(points: list[ContactPoint], answered_by: User | None) -> AnyClient | None:
    clients: list[AnyClient] = []
    for point in points:
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


def clients_for_numbers(calls: Sequence[tuple[str, str, User | None]]) -> list[AnyClient | None]:
    """For each (E.164, number as written, answering manager): the living client the number belongs to, or None."""
    exact = _exact_points(e164 for e164, _raw, _user in calls if e164)
    return [_choice(exact.get(e164) or _tail_points(e164, raw), user) for e164, raw, user in calls]

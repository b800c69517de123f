"""Reads that feed the client screens."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.columns import ColumnChoice, read_rows
from rapport.clients.models import ClientTransfer, Company, Contact, ContactPoint
from rapport.core.paging import PAGE_SIZE, PageNumbering

if TYPE_CHECKING:
    from rapport.clients.services import AnyClient

HISTORY_SIZE = 20
# Fields whose changes the history tab shows (stamps and bookkeeping are left out).
HIDDEN_HISTORY_FIELDS = {"version", "updated_at", "search_text", "last_contact_at", "deleted_by"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    by: str
    changes: list[FieldChange]
    created: bool


def history_of(client: AnyClient) -> list[HistoryEntry]:
    """The latest changes, newest first: who, when, each field old → new."""
    records = list(client.history.select_related("history_user")[: HISTORY_SIZE + 1])
    model = type(client)
    entries: list[HistoryEntry] = []
    for record, previous in zip(records, [*records[1:], None], strict=False):
        if len(entries) == HISTORY_SIZE:
            break
        changes = []
        if previous is not None:
            # Tags are left out: diffing many-to-many fields costs a query per record.
            delta = record.diff_against(
                previous, excluded_fields=[*HIDDEN_HISTORY_FIELDS, "tags"], foreign_keys_are_objs=False
            )
            for change in delta.changes:
                label = str(getattr(model._meta.get_field(change.field), "verbose_name", change.field))
                changes.append(FieldChange(field=label, old=change.old, new=change.new))
            if not changes:
                continue
        entries.append(
            HistoryEntry(
                at=record.history_date,
                by=record.history_user.display_name if record.history_user else "",
                changes=changes,
                created=previous is None,
            )
        )
    return entries


def points_of(client: AnyClient) -> list[ContactPoint]:
    return list(ContactPoint.objects.filter(**{client.kind: client}))


TRANSFERS_SHOWN = 50
# Only what a name needs from each person: fewer columns are cheaper to build and read.
NAME_FIELDS = ["username", "first_name", "last_name"]


def transfers_of(client: AnyClient) -> list[ClientTransfer]:
    """The latest owner changes, newest first, for the transfer log."""
    transfers = (
        ClientTransfer.objects.filter(**{client.kind: client})
        .select_related("from_user", "to_user", "by", "approved_by")
        .only(
            "at",
            "reason",
            "kind",
            "rule",
            *[f"{person}__{name}" for person in ("from_user", "to_user", "by", "approved_by") for name in NAME_FIELDS],
        )
    )
    return list(transfers[:TRANSFERS_SHOWN])


# ---- Client lists ---------------------------------------------------------------------------

# Lists never count more than this: an exact COUNT(*) over 200k rows costs more than the page.
COUNT_CAP = 1_000


@dataclass(frozen=True)
class ClientPage(PageNumbering):
    rows: list[dict[str, Any]]  # as columns.read_rows gives them
    number: int
    has_next: bool
    total: int
    total_capped: bool


def client_list(user: User, model: type[Company] | type[Contact], filters: dict[str, Any]) -> QuerySet[Any]:
    """The visible companies or contacts matching the list filters, in the chosen order.

    What is read of them is up to the caller: a page or an export reads only its columns
    (``columns.read_rows``, ``columns.iter_rows``).
    """
    from rapport.activities.next_steps import has_next_step
    from rapport.clients.forms import (
        NEXT_STEP_NO,
        NEXT_STEP_YES,
        OPEN_DEAL_NO,
        OPEN_DEAL_YES,
        OWNER_ME,
        OWNER_NONE,
        SORTS,
    )

    rows = access.clients_visible_to(user, model)
    owner = filters.get("owner")
    if owner == OWNER_ME:
        rows = rows.filter(owner=user)
    elif owner == OWNER_NONE:
        rows = rows.filter(owner__isnull=True)
    elif owner:
        rows = rows.filter(owner_id=int(owner))
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    if filters.get("source"):
        rows = rows.filter(lead_source=filters["source"])
    if filters.get("tag"):
        rows = rows.filter(tags=filters["tag"])
    zone = timezone.get_current_timezone()
    if filters.get("contacted_after"):
        rows = rows.filter(last_contact_at__gte=datetime.combine(filters["contacted_after"], time.min, zone))
    if filters.get("contacted_before"):
        rows = rows.filter(
            last_contact_at__lt=datetime.combine(filters["contacted_before"] + timedelta(days=1), time.min, zone)
        )
    if filters.get("birthday_month") and model is Contact:
        rows = rows.filter(**{"birthday__month": filters["birthday_month"]})
    if filters.get("open_deal") in {OPEN_DEAL_YES, OPEN_DEAL_NO}:
        from rapport.sales.models import Deal

        # Any open deal of the client counts, whoever owns it: whether someone is already selling to them.
        open_deals = Deal.objects.open().filter(**{"contact_id" if model is Contact else "company_id": OuterRef("pk")})
        rows = rows.filter(Exists(open_deals) if filters["open_deal"] == OPEN_DEAL_YES else ~Exists(open_deals))
    if filters.get("next_step") in {NEXT_STEP_YES, NEXT_STEP_NO}:
        planned = has_next_step("contact" if model is Contact else "company")
        rows = rows.filter(planned if filters["next_step"] == NEXT_STEP_YES else ~planned)
    order = SORTS.get(filters.get("sort") or "last_contact", SORTS["last_contact"])[1]
    return rows.order_by(*order) if order else rows


def client_page(rows: QuerySet[Any], number: int, columns: ColumnChoice) -> ClientPage:
    """One page of a list, read for its columns, and how many match (counted up to COUNT_CAP)."""
    number = max(1, number)
    start = (number - 1) * PAGE_SIZE
    found = read_rows(rows[start : start + PAGE_SIZE + 1], columns)
    # A first page that is not full has counted itself.
    total = len(found) if number == 1 and len(found) <= PAGE_SIZE else rows.order_by()[: COUNT_CAP + 1].count()
    return ClientPage(
        rows=found[:PAGE_SIZE],
        number=number,
        has_next=len(found) > PAGE_SIZE,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
    )


# ---- Duplicates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PossibleDuplicate:
    """A client that may be the one being entered. Only its name and owner are shown, even out of scope."""

    name: str
    owner: str
    reason: str
    url: str  # empty when the user may not open it


DUPLICATES_SHOWN = 5


def possible_duplicates(
    user: User, *, phone: str = "", email: str = "", name: str = "", company_id: int | None = None
) -> list[PossibleDuplicate]:
    """Clients already in the base with this phone, e-mail or exact name — whoever owns them.

    A person typed in for a company is matched by name among that company's people.
    """
    from django.db.models import Q
    from django.utils.translation import gettext as _

    from rapport.clients.search import search_fold
    from rapport.core.phones import phone_parse

    point_match = Q(pk__in=[])
    if phone.strip():
        with contextlib.suppress(ValidationError):  # not a phone yet: nothing to match
            point_match |= Q(kind="phone", normalized=phone_parse(phone).e164)
    if email.strip():
        point_match |= Q(kind="email", normalized=email.strip().lower())
    found: list[tuple[Company | Contact, str]] = []
    for point in ContactPoint.objects.filter(point_match).select_related("company__owner", "contact__owner")[
        :DUPLICATES_SHOWN
    ]:
        client = point.company or point.contact
        if client is not None and not client.is_deleted:
            found.append((client, _("same phone") if point.kind == "phone" else _("same e-mail")))
    folded = search_fold(name)
    if len(folded) >= 3:
        namesakes: list[tuple[QuerySet[Any], str]] = [
            (Company.objects.alive(), _("same name")),
            (Contact.objects.alive(), _("same name"))
            if company_id is None
            else (Contact.objects.alive().filter(company_id=company_id), _("same name at this company")),
        ]
        for clients, reason in namesakes:
            for client in clients.filter(search_text=folded).select_related("owner")[:DUPLICATES_SHOWN]:
                found.append((client, reason))
    visible = {
        (model.__name__.lower(), pk)
        for model in (Company, Contact)
        for pk in access.clients_visible_to(user, model)
        .filter(pk__in=[client.pk for client, _ in found if isinstance(client, model)])
        .values_list("pk", flat=True)
    }
    result: dict[tuple[str, int], PossibleDuplicate] = {}
    for client, reason in found:
        result.setdefault(
            (client.kind, client.pk),
            PossibleDuplicate(
                name=client.display_name,
                owner=client.owner.display_name if client.owner else _("the pool"),
                reason=reason,
                url=client.get_absolute_url() if (client.kind, client.pk) in visible else "",
            ),
        )
    return list(result.values())[:DUPLICATES_SHOWN]


# ---- Trash ----------------------------------------------------------------------------------


def trash_rows(*, limit: int, offset: int = 0, kind: str | None = None) -> list[AnyClient]:
    """Deleted companies and contacts, newest deletion first: each kind reads at most offset + limit rows."""
    from rapport.clients.models import CLIENT_MODELS

    rows: list[AnyClient] = []
    for model_kind, model in CLIENT_MODELS.items():
        if kind in {None, model_kind}:
            deleted = model.objects.deleted().select_related("owner", "deleted_by").order_by("-deleted_at", "-id")
            rows.extend(deleted[: offset + limit])
    rows.sort(key=lambda client: (client.deleted_at, client.kind, client.pk), reverse=True)
    return rows[offset : offset + limit]

"""The head's control room: per person of a team, what needs the head's eye — read live, a few grouped queries.

On top of the team dashboard (motivation.dashboard: this month's plan against fact, this week's
load, data quality), per person: activities overdue, clients without a next step, stale clients
(no logged contact for ``STALE_DAYS`` days), open deals off their checkpoints (one overdue) or
stuck in a stage longer than the stage allows. Each count is one grouped query over the people's
own rows along an index that starts with the owner, whatever the size of the base — except the
clients without a next step: that asks every client whether anything is planned for it (about
100 ms for a team of 60,000 clients), so the control room shows the count the morning job took
(``DeviationSnapshot``) and the list behind it is live. Deals going well — open, nothing
overdue or stuck, a checkpoint done before its day — are listed for a courtesy call.

The morning job (``deviations_snapshot_and_digest``) stores everyone's four figures and tells
each head, in the notification centre (and so by e-mail), which of their people's figures
rose since the day before: new deviations only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus
from rapport.activities.next_steps import has_next_step
from rapport.clients.models import ClientStatus, Company, Contact
from rapport.core.models import NotificationLevel
from rapport.core.notifications import Draft, notify_each
from rapport.sales.models import Deal, DealCheckpoint
from rapport.sales.queries import off_track
from rapport.supervision.models import DeviationSnapshot

# A client is stale after this many days without a logged contact (the usual redistribution rule's).
STALE_DAYS = 30
# Deals going well shown for a courtesy call: the largest, at most this many.
DEALS_AHEAD_SHOWN = 10
# Clients the head's figures count: those being worked (frozen ones wait on purpose, the pool has no owner).
WORKED = [ClientStatus.ACTIVE]


@dataclass
class Deviations:
    """One person's figures; each opens the list behind it."""

    overdue: int = 0
    without_next_step: int = 0
    stale: int = 0
    deals_off: int = 0

    @property
    def total(self) -> int:
        return self.overdue + self.without_next_step + self.stale + self.deals_off


@dataclass
class ControlFigures:
    people: dict[int, Deviations] = field(default_factory=dict)
    deals_ahead: list[Deal] = field(default_factory=list)
    counted_on: date | None = None  # the day of the snapshot the "without a next step" figures come from


def stale_before(now: datetime) -> datetime:
    return now - timedelta(days=STALE_DAYS)


def _overdue(ids: list[int], now: datetime) -> dict[int, int]:
    rows = (
        Activity.objects.filter(
            owner_id__in=ids, status=ActivityStatus.PLANNED, deleted_at__isnull=True, due_at__lt=now
        )
        .order_by()
        .values("owner_id")
        .annotate(count=Count("pk"))
    )
    return {row["owner_id"]: row["count"] for row in rows}


def _clients(ids: list[int], now: datetime, *, next_steps: bool) -> tuple[dict[int, int], dict[int, int]]:
    """Person id → stale clients, and (``next_steps``: the costly part) → clients without a next step."""
    without: dict[int, int] = {}
    stale: dict[int, int] = {}
    since = stale_before(now)
    for model, kind in ((Company, "company"), (Contact, "contact")):
        counts: dict[str, Count] = {
            "stale": Count("pk", filter=Q(last_contact_at__lt=since) | Q(last_contact_at__isnull=True))
        }
        if next_steps:
            counts["without"] = Count("pk", filter=~Q(has_next_step(kind)))
        rows = (
            model.objects.filter(owner_id__in=ids, status__in=WORKED, deleted_at__isnull=True)
            .order_by()
            .values("owner_id")
            .annotate(**counts)
        )
        for row in rows:
            counted: dict[str, Any] = dict(row)  # the annotations are chosen at run time
            stale[counted["owner_id"]] = stale.get(counted["owner_id"], 0) + counted["stale"]
            if next_steps:
                without[counted["owner_id"]] = without.get(counted["owner_id"], 0) + counted["without"]
    return stale, without


def _deals_off(ids: list[int], off: Q) -> dict[int, int]:
    rows = (
        Deal.objects.open()
        .filter(owner_id__in=ids)
        .filter(off)
        .order_by()
        .values("owner_id")
        .annotate(count=Count("pk"))
    )
    return {row["owner_id"]: row["count"] for row in rows}


def deals_ahead(ids: list[int], off: Q, *, limit: int = DEALS_AHEAD_SHOWN) -> list[Deal]:
    """Open deals going well: nothing overdue, nothing stuck, and a checkpoint done before its day."""
    early = DealCheckpoint.objects.filter(deal_id=OuterRef("pk"), done_at__isnull=False, done_at__lt=F("due_date"))
    return list(
        Deal.objects.open()
        .filter(owner_id__in=ids)
        .filter(Exists(early))
        .exclude(off)
        .select_related("owner", "company", "contact", "stage")
        .order_by(F("amount").desc(nulls_last=True), "pk")[:limit]
    )


def control_figures(people: Sequence[User], *, now: datetime, today: date) -> ControlFigures:
    """The people's figures now; clients without a next step as this morning's job counted them (live for
    those it has not counted, e.g. before its first run)."""
    ids = [person.pk for person in people]
    overdue = _overdue(ids, now)
    counted = dict(
        DeviationSnapshot.objects.filter(user_id__in=ids, on=today).values_list("user_id", "without_next_step")
    )
    missing = [pk for pk in ids if pk not in counted]
    # Stale clients are counted live with, when this morning's count is missing for someone, the costly figure.
    stale, live = _clients(ids, now, next_steps=bool(missing))
    counted |= {pk: live.get(pk, 0) for pk in missing}
    off_condition = off_track(now, today)
    off = _deals_off(ids, off_condition)
    return ControlFigures(
        people={
            pk: Deviations(
                overdue=overdue.get(pk, 0),
                without_next_step=counted.get(pk, 0),
                stale=stale.get(pk, 0),
                deals_off=off.get(pk, 0),
            )
            for pk in ids
        },
        deals_ahead=deals_ahead(ids, off_condition),
        counted_on=today if not missing else None,
    )


# ---- The morning job: snapshots and the heads' digest ----------------------------------------------

FIGURES = ("overdue", "without_next_step", "stale", "deals_off")


def _figure_texts() -> dict[str, str]:
    return {
        "overdue": gettext("activities overdue"),
        "without_next_step": gettext("clients without a next step"),
        "stale": gettext("stale clients"),
        "deals_off": gettext("deals off their checkpoints"),
    }


def _watched() -> list[User]:
    """Everyone who owns clients or sells: the people heads watch."""
    return list(
        User.objects.filter(is_active=True, role__in=access.PLANNED_ROLES).select_related("team__head").order_by("pk")
    )


def deviations_snapshot(*, now: datetime, today: date) -> dict[int, Deviations]:
    """Count everyone's figures (set-based: a few grouped queries for all) and store them as today's snapshot."""
    people = _watched()
    ids = [person.pk for person in people]
    overdue = _overdue(ids, now)
    stale, without = _clients(ids, now, next_steps=True)
    off = _deals_off(ids, off_track(now, today))
    found = {
        pk: Deviations(
            overdue=overdue.get(pk, 0),
            without_next_step=without.get(pk, 0),
            stale=stale.get(pk, 0),
            deals_off=off.get(pk, 0),
        )
        for pk in ids
    }
    DeviationSnapshot.objects.bulk_create(
        [DeviationSnapshot(user_id=pk, on=today, **vars(figures)) for pk, figures in found.items()],
        update_conflicts=True,
        unique_fields=["user", "on"],
        update_fields=list(FIGURES),
    )
    return found


def _risen(now: Deviations, before: DeviationSnapshot) -> list[tuple[str, int, int]]:
    return [
        (name, getattr(before, name), getattr(now, name))
        for name in FIGURES
        if getattr(now, name) > getattr(before, name)
    ]


def deviations_snapshot_and_digest(*, now: datetime | None = None) -> int:
    """The morning job: today's snapshot, then each head hears of their people's figures that rose since the
    previous snapshot (nothing when nothing rose; nothing on the first run, which has nothing to compare).
    Returns how many notifications were posted."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        found = deviations_snapshot(now=now, today=today)
        previous: dict[int, DeviationSnapshot] = {}
        for snapshot in DeviationSnapshot.objects.filter(user_id__in=list(found), on__lt=today).order_by(
            "user_id", "on"
        ):
            previous[snapshot.user_id] = snapshot  # the latest before today, per person
        people = {person.pk: person for person in _watched()}
        by_head: dict[int, list[tuple[User, list[tuple[str, int, int]]]]] = defaultdict(list)
        heads: dict[int, User] = {}
        for pk, figures in found.items():
            person = people.get(pk)
            head = person.team.head if person is not None and person.team is not None else None
            if head is None or pk not in previous:
                continue
            risen = _risen(figures, previous[pk])
            if risen:
                heads[head.pk] = head
                by_head[head.pk].append((person, risen))  # type: ignore[arg-type]
        drafts = [_digest_draft(heads[pk], rows) for pk, rows in by_head.items()]
        return len(notify_each(drafts))


def _digest_draft(head: User, rows: list[tuple[User, list[tuple[str, int, int]]]]) -> Draft:
    with translation.override(head.language_or_default):
        names = _figure_texts()
        lines = []
        for person, risen in sorted(rows, key=lambda row: row[0].display_name.lower()):
            changes = "; ".join(
                gettext("%(figure)s %(before)s → %(now)s") % {"figure": names[name], "before": before, "now": now}
                for name, before, now in risen
            )
            lines.append(f"{person.display_name}: {changes}")
        title = ngettext(
            "New deviations in your team: %(count)s person",
            "New deviations in your team: %(count)s people",
            len(rows),
        ) % {"count": len(rows)}
        return Draft(
            recipient=head,
            title=title,
            body="\n".join(lines),
            url=reverse("supervision:control"),
            level=NotificationLevel.WARNING,
        )

"""Activities on the client's and the deal's timeline; a merge of clients carries them over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.clients import merge, timeline
from rapport.clients.timeline import TIMELINE_SIZE, TimelineEntry

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.clients.services import AnyClient
    from rapport.sales.models import Deal
    from rapport.telephony.models import Call

ICONS = {
    ActivityKind.CALL: "phone",
    ActivityKind.MEETING: "users",
    ActivityKind.TASK: "circle-check",
    ActivityKind.NOTE: "notes",
    ActivityKind.EMAIL: "mail",
}
FIELDS = (
    "kind",
    "status",
    "direction",
    "subject",
    "result",
    "at",
    "outcome__name",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    # The telephony's record of a call (a reverse one-to-one: a join, no query of its own).
    "duration",
    "phone_call__id",
    "phone_call__recording_url",
    "phone_call__disposition",
)


PHONE_CALL = Activity._meta.get_field("phone_call")


class ActivityUrls:
    """The activity page's URL by substitution: one reverse() per timeline, not one per entry."""

    MARK = 987654321

    def __init__(self) -> None:
        self.detail = reverse("activities:activity-detail", args=[self.MARK])

    def of(self, pk: object) -> str:
        return self.detail.replace(str(self.MARK), str(pk))


def _title(kind: str, status: str, subject: str, outcome: str | None) -> str:
    label = str(ActivityKind(kind).label)
    if status == ActivityStatus.PLANNED:
        label = _("%(kind)s planned") % {"kind": label}
    elif status == ActivityStatus.CANCELLED:
        label = _("%(kind)s cancelled") % {"kind": label}
    detail = outcome or subject
    return f"{label}: {detail}" if detail and detail != label else label


def _recorded(row: dict[str, Any]) -> str:
    """What the PBX said of a recorded call: its talk time and how it ended ("3 min · ANSWERED")."""
    minutes = row["duration"]
    parts = [ngettext("%(minutes)s min", "%(minutes)s min", minutes) % {"minutes": minutes} if minutes else ""]
    parts.append(str(row["phone_call__disposition"] or ""))
    return " · ".join(part for part in parts if part)


def entries(rows: list[dict[str, Any]]) -> list[TimelineEntry]:
    """Timeline entries from activity rows read as values (FIELDS and pk), each linking to its page."""
    urls = ActivityUrls()
    result = []
    for row in rows:
        owner = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip() or str(
            row["owner__username"] or ""
        )
        subject, outcome = str(row["subject"] or ""), row["outcome__name"]
        body = str(row["result"] or "")
        # A call the telephony recorded is done without anyone's click: its outcome is the one still asked for.
        awaiting = bool(row["phone_call__id"]) and not outcome and row["status"] == ActivityStatus.DONE
        if outcome and subject and subject != outcome:
            body = f"{subject}. {body}".strip() if body else subject
        if row["phone_call__id"]:
            body = " · ".join(part for part in (_recorded(row), body) if part)
        result.append(
            TimelineEntry(
                at=row["at"],
                kind=str(row["kind"]),
                icon=ICONS.get(str(row["kind"]), "activity"),  # type: ignore[call-overload]
                title=_title(str(row["kind"]), str(row["status"]), subject, str(outcome) if outcome else None),
                body=body,
                by=owner,
                url=urls.of(row["pk"]),
                key=f"activity-{row['pk']}",
                badge=_("No outcome yet") if awaiting else "",
                recording_url=str(row["phone_call__recording_url"] or ""),
            )
        )
    return result


def entries_of(activities: list[Activity]) -> list[TimelineEntry]:
    """The entries of activities just saved (their outcome and owner loaded), newest first, without a query."""
    rows = []
    for activity in sorted(activities, key=lambda item: (item.at, item.pk), reverse=True):
        owner, outcome = activity.owner, activity.outcome
        # The telephony's record only when it was loaded with the activity (select_related): never a query here.
        call = cast("Call | None", PHONE_CALL.get_cached_value(activity, default=None))
        rows.append(
            {
                "pk": activity.pk,
                **{name: getattr(activity, name) for name in FIELDS if "__" not in name},
                "outcome__name": outcome.name if outcome is not None else None,
                "phone_call__id": call.pk if call is not None else None,
                "phone_call__recording_url": call.recording_url if call is not None else "",
                "phone_call__disposition": call.disposition if call is not None else "",
                "owner__username": owner.username if owner is not None else "",
                "owner__first_name": owner.first_name if owner is not None else "",
                "owner__last_name": owner.last_name if owner is not None else "",
            }
        )
    return entries(rows)


def entries_read(pks: list[int]) -> list[TimelineEntry]:
    """The entries of these activities as stored now, newest first (one query): an entry an htmx answer redraws."""
    return entries(list(Activity.objects.filter(pk__in=pks).values("pk", *FIELDS).order_by("-at", "-id")))


def _client_activities(client: AnyClient, limit: int, viewer: User) -> list[TimelineEntry]:
    # Whoever sees the client sees its history, whoever logged it: the client's story is one.
    rows = Activity.objects.alive().filter(**{client.kind: client}).values("pk", *FIELDS).order_by("-at", "-id")
    return entries(list(rows[:limit]))


@dataclass(frozen=True)
class DealActivities:
    entries: list[TimelineEntry]
    next_step_planned: bool  # a planned activity exists: the card flags a deal without one


def deal_activities(deal: Deal, *, limit: int = TIMELINE_SIZE) -> DealActivities:
    """The deal's latest activities for its card, and whether one is still planned.

    One query; a second only when all ``limit`` entries shown are done or cancelled and an
    older planned one might exist.
    """
    rows = list(Activity.objects.alive().filter(deal=deal).values("pk", *FIELDS).order_by("-at", "-id")[:limit])
    planned = any(row["status"] == ActivityStatus.PLANNED for row in rows)
    if not planned and len(rows) == limit:
        planned = Activity.objects.planned().filter(deal=deal).exists()
    return DealActivities(entries=entries(rows), next_step_planned=planned)


def _move_activities(survivor: AnyClient, merged: AnyClient) -> int:
    return Activity.objects.filter(**{merged.kind: merged}).update(**{survivor.kind: survivor})


timeline.register("activities", _client_activities)
merge.register_mover("activities", gettext_lazy("activities"), _move_activities)

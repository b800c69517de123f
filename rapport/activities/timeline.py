"""Activities on the client's and the deal's timeline; a merge of clients carries them over."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.clients import merge, timeline
from rapport.clients.timeline import TimelineEntry

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.clients.services import AnyClient

ICONS = {
    ActivityKind.CALL: "phone",
    ActivityKind.MEETING: "users",
    ActivityKind.TASK: "checkbox",
    ActivityKind.NOTE: "note",
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
)


def _title(kind: str, status: str, subject: str, outcome: str | None) -> str:
    label = str(ActivityKind(kind).label)
    if status == ActivityStatus.PLANNED:
        label = _("%(kind)s planned") % {"kind": label}
    elif status == ActivityStatus.CANCELLED:
        label = _("%(kind)s cancelled") % {"kind": label}
    detail = outcome or subject
    return f"{label}: {detail}" if detail and detail != label else label


def entries(rows: list[dict[str, object]]) -> list[TimelineEntry]:
    """Timeline entries from activity rows read as values (FIELDS and pk)."""
    result = []
    for row in rows:
        owner = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip() or str(
            row["owner__username"] or ""
        )
        subject, outcome = str(row["subject"] or ""), row["outcome__name"]
        body = str(row["result"] or "")
        if outcome and subject and subject != outcome:
            body = f"{subject}. {body}".strip() if body else subject
        result.append(
            TimelineEntry(
                at=row["at"],  # type: ignore[arg-type]
                kind=str(row["kind"]),
                icon=ICONS.get(str(row["kind"]), "point"),  # type: ignore[call-overload]
                title=_title(str(row["kind"]), str(row["status"]), subject, str(outcome) if outcome else None),
                body=body,
                by=owner,
                url="",  # the activity page comes with the activity screens
            )
        )
    return result


def _client_activities(client: AnyClient, limit: int, viewer: User) -> list[TimelineEntry]:
    # Whoever sees the client sees its history, whoever logged it: the client's story is one.
    rows = Activity.objects.alive().filter(**{client.kind: client}).values("pk", *FIELDS).order_by("-at", "-id")
    return entries(list(rows[:limit]))


def _move_activities(survivor: AnyClient, merged: AnyClient) -> int:
    return Activity.objects.filter(**{merged.kind: merged}).update(**{survivor.kind: survivor})


timeline.register("activities", _client_activities)
merge.register_mover("activities", gettext_lazy("activities"), _move_activities)

"""Deals on the client's card: their stage moves join the client timeline, and a merge carries them over."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.accounts import access
from rapport.clients import merge, timeline
from rapport.clients.timeline import TimelineEntry
from rapport.sales.models import Deal, DealStageChange, StageKind

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.clients.services import AnyClient


def stage_change_entry(change: DealStageChange, *, with_title: bool = True) -> TimelineEntry:
    deal, stage = change.deal, change.to_stage
    name = {"deal": deal.title}
    if change.from_stage is None:
        title, icon = _("Deal registered: %(deal)s") % name, "briefcase"
    elif stage.kind == StageKind.WON:
        title, icon = _("Deal won: %(deal)s") % name, "trophy"
    elif stage.kind == StageKind.LOST:
        title, icon = _("Deal lost: %(deal)s") % name, "thumb-down"
    else:
        title, icon = _("%(deal)s moved to “%(stage)s”") % {**name, "stage": stage.name}, "arrow-big-right"
    if not with_title:
        title = stage.name if change.from_stage is None else f"{change.from_stage.name} → {stage.name}"
    return TimelineEntry(
        at=change.at,
        kind="deal",
        icon=icon,
        title=title,
        by=change.by.display_name if change.by else "",
        url=deal.get_absolute_url(),
    )


def _deal_moves(client: AnyClient, limit: int, viewer: User) -> list[TimelineEntry]:
    # Only the deals the viewer may open: a colleague's deal stays private to its scope. Their ids are read
    # first: as a subquery they made PostgreSQL spend ~5 ms planning the joins below (the card's budget is 40).
    visible = list(access.deals_visible_to(viewer).filter(**{client.kind: client}).values_list("pk", flat=True))
    if not visible:
        return []
    changes = (
        DealStageChange.objects.filter(deal_id__in=visible)
        .select_related("deal", "from_stage", "to_stage", "by")
        .only(
            "at",
            "deal__title",
            "from_stage__name",
            "to_stage__name",
            "to_stage__kind",
            "by__username",
            "by__first_name",
            "by__last_name",
        )
        .order_by("-at", "-id")[:limit]
    )
    return [stage_change_entry(change) for change in changes]


def _move_deals(survivor: AnyClient, merged: AnyClient) -> int:
    return Deal.objects.filter(**{merged.kind: merged}).update(**{survivor.kind: survivor})


timeline.register("deals", _deal_moves)
merge.register_mover("deals", gettext_lazy("deals"), _move_deals)

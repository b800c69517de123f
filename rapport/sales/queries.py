"""Reads that feed the deal screens: the card's lines with stock, its timeline, a client's deals."""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.timeline import TimelineEntry
from rapport.sales.models import Deal, DealCheckpoint, DealLine, DealQuerySet, DealStageChange, Product, Stage
from rapport.sales.timeline import stage_change_entry

if TYPE_CHECKING:
    from rapport.clients.services import AnyClient

DEAL_TIMELINE_SIZE = 50
CLIENT_DEALS_SHOWN = 10
PRODUCT_SUGGESTIONS = 10
# Fields whose changes the deal's timeline shows: stage moves and closing have their own entries.
HIDDEN_HISTORY_FIELDS = ["version", "stage", "closed_at", "deleted_at", "external_id", "created_at"]
NAME_FIELDS = ["username", "first_name", "last_name"]


def stages_of(deal: Deal) -> list[Stage]:
    """The pipeline's stages in order, for the stage track and the move buttons."""
    return list(Stage.objects.filter(pipeline_id=deal.pipeline_id).order_by("position", "id"))


def checkpoints_of(deal: Deal) -> list[DealCheckpoint]:
    return list(
        DealCheckpoint.objects.filter(deal=deal)
        .select_related("type", "done_by")
        .order_by("type__position", "due_date", "id")
    )


def lines_of(deal: Deal) -> list[DealLine]:
    """The deal's products, each with ``available``: what all warehouses have left after reservations."""
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=12, decimal_places=3))
    return list(
        DealLine.objects.filter(deal=deal)
        .select_related("product")
        .annotate(
            available=Coalesce(
                Sum(F("product__stock__quantity") - F("product__stock__reserved"), output_field=DecimalField()), zero
            )
        )
        .order_by("position", "id")
    )


def products_matching(query: str, *, limit: int = PRODUCT_SUGGESTIONS) -> list[Product]:
    """Products on sale whose SKU starts with, or whose name contains, what was typed."""
    query = query.strip()[:100]
    if not query:
        return []
    return list(
        Product.objects.filter(is_active=True)
        .filter(Q(sku__istartswith=query) | Q(name__icontains=query))
        .only("sku", "name", "unit")
        .order_by("name", "id")[:limit]
    )


def deals_of_client(user: User, client: AnyClient, *, limit: int = CLIENT_DEALS_SHOWN) -> list[Deal]:
    """The client's deals the user may see, open ones first, newest first; ``limit + 1`` tells there are more."""
    visible: DealQuerySet = access.deals_visible_to(user)  # type: ignore[assignment]
    return list(
        visible.of_client(client)
        .select_related("stage")
        .only("title", "amount", "currency", "closed_at", "created_at", "stage__name", "stage__kind", "stage__colour")
        .order_by(F("closed_at").desc(nulls_first=True), "-created_at", "-id")[: limit + 1]
    )


# ---- The deal's timeline --------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class DealEvent:
    """One entry of the deal's timeline: a stage move, a checkpoint done, or fields changed."""

    entry: TimelineEntry
    changes: tuple[FieldChange, ...] = ()


def deal_timeline(
    deal: Deal, *, checkpoints: list[DealCheckpoint] | None = None, limit: int = DEAL_TIMELINE_SIZE
) -> list[DealEvent]:
    """Stage moves, checkpoints done and field changes, newest first, at most ``limit``.

    Costs one query for the stage moves, one for the history and one per kind of linked record
    named in the changes (people, clients …); the checkpoints are read once with the card's.
    """
    streams = [
        _stage_moves(deal, limit),
        _checkpoints_done(checkpoints if checkpoints is not None else checkpoints_of(deal), limit),
        _field_changes(deal, limit),
    ]
    return list(heapq.merge(*streams, key=lambda event: event.entry.at, reverse=True))[:limit]


def _stage_moves(deal: Deal, limit: int) -> list[DealEvent]:
    changes = (
        DealStageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "by")
        .only("at", "from_stage__name", "to_stage__name", "to_stage__kind", *[f"by__{name}" for name in NAME_FIELDS])
        .order_by("-at", "-id")[:limit]
    )
    events = []
    for change in changes:
        change.deal = deal
        entry = replace(stage_change_entry(change, with_title=False), kind="stage", url="")
        if change.from_stage_id is None:
            title = _("Registered in “%(stage)s”") % {"stage": change.to_stage.name}
            entry = replace(entry, kind="registered", title=title)
        events.append(DealEvent(entry))
    return events


def _checkpoints_done(checkpoints: list[DealCheckpoint], limit: int) -> list[DealEvent]:
    done = sorted(
        (checkpoint for checkpoint in checkpoints if checkpoint.done_at is not None),
        key=lambda checkpoint: checkpoint.done_at,  # type: ignore[arg-type, return-value]
        reverse=True,
    )
    return [
        DealEvent(
            TimelineEntry(
                at=checkpoint.done_at,  # type: ignore[arg-type]
                kind="checkpoint",
                icon="circle-check",
                title=_("Checkpoint done: %(checkpoint)s") % {"checkpoint": checkpoint.type.name},
                by=checkpoint.done_by.display_name if checkpoint.done_by else "",
            )
        )
        for checkpoint in done[:limit]
    ]


def _field_changes(deal: Deal, limit: int) -> list[DealEvent]:
    """Who changed which fields, old → new, from the deal's history (its first record is the registration)."""
    records = list(deal.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    raw: list[tuple[Any, list[tuple[str, Any, Any]]]] = []
    for record, previous in zip(records, [*records[1:], None], strict=False):
        if previous is None:
            continue  # the registration, already told by the first stage entry
        delta = record.diff_against(previous, excluded_fields=HIDDEN_HISTORY_FIELDS, foreign_keys_are_objs=False)
        if delta.changes:
            raw.append((record, [(change.field, change.old, change.new) for change in delta.changes]))
    names = _names_of_links(raw)
    events = []
    for record, changes in raw:
        shown = tuple(
            FieldChange(
                field=str(getattr(Deal._meta.get_field(field), "verbose_name", field)),
                old=names.get((field, old), old),
                new=names.get((field, new), new),
            )
            for field, old, new in changes
        )
        events.append(
            DealEvent(
                TimelineEntry(
                    at=record.history_date,
                    kind="change",
                    icon="pencil",
                    title=_("Details changed"),
                    by=record.history_user.display_name if record.history_user else "",
                ),
                shown,
            )
        )
    return events


def _names_of_links(raw: list[tuple[Any, list[tuple[str, Any, Any]]]]) -> dict[tuple[str, Any], str]:
    """Names for the ids history keeps in linked fields: one query per kind of record named."""
    wanted: dict[str, set[Any]] = defaultdict(set)
    for _record, changes in raw:
        for field, old, new in changes:
            if Deal._meta.get_field(field).is_relation:
                wanted[field] |= {value for value in (old, new) if value is not None}
    by_model: dict[Any, set[Any]] = defaultdict(set)
    for field, ids in wanted.items():
        by_model[Deal._meta.get_field(field).related_model] |= ids
    shown: dict[tuple[Any, Any], str] = {}
    for model, ids in by_model.items():
        for record in model._default_manager.filter(pk__in=ids):
            shown[(model, record.pk)] = getattr(record, "display_name", None) or str(record)
    return {
        (field, pk): shown[(Deal._meta.get_field(field).related_model, pk)]
        for field, ids in wanted.items()
        for pk in ids
        if (Deal._meta.get_field(field).related_model, pk) in shown
    }


def sellers() -> QuerySet[User]:
    """Who may own deals or be credited with them: active people of the selling roles."""
    from rapport.sales.services import SELLING_ROLES

    return User.objects.filter(is_active=True, role__in=SELLING_ROLES).order_by("last_name", "first_name", "id")


def off_track(now: datetime, today: date) -> Q:
    """An open deal off its track: a checkpoint overdue, or in its stage longer than the stage allows (stages are
    few: one condition per stage with a limit, read in one query). For the deal list and the control room."""
    overdue = DealCheckpoint.objects.filter(deal_id=OuterRef("pk"), done_at__isnull=True, due_date__lt=today)
    off = Q(Exists(overdue))
    for stage_id, days in Stage.objects.filter(stale_after_days__isnull=False).values_list("pk", "stale_after_days"):
        off |= Q(stage_id=stage_id, stage_entered_at__lt=now - timedelta(days=days or 0))
    return off

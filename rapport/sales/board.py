"""The board of a pipeline: a column per stage with its totals and its latest cards.

Whatever the number of deals, a board costs four queries: the pipeline's stages, one
aggregate grouped by stage and currency (the column headers), the cards — at most
``CARD_LIMIT`` an open stage and ``CLOSED_CARD_LIMIT`` a won or lost one, picked by a
window function so the database never returns the rest — and their owners. Open stages
show open deals; won and lost ones only the deals closed within the last
``CLOSED_WITHIN_DAYS`` days. Which deals a person sees is ``access.deal_visibility``, the
filter of ``access.deals_visible_to``, spelled so that SQLite can use its indexes."""

from __future__ import annotations

import operator
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.sales.models import Deal, DealCheckpoint, Pipeline, Stage, StageKind

CARD_LIMIT = 50
# Won and lost columns are narrow, for a glance at what closed lately: fewer cards.
CLOSED_CARD_LIMIT = 20
CLOSED_WITHIN_DAYS = 30
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class BoardFilters:
    """What the board's query string narrows it to; ``None`` is "any"."""

    owner: int | None = None
    team: int | None = None
    source: int | None = None
    close_month: date | None = None  # the first day of the month of the expected close


@dataclass(frozen=True)
class StageSum:
    currency: str
    amount: Decimal
    weighted: Decimal  # the amount times the stage's probability


@dataclass(frozen=True)
class Card:
    deal: Deal  # only the fields a card shows are loaded, and its owner
    client_name: str
    url: str
    move_url: str
    can_move: bool
    next_step_overdue: bool
    checkpoint_overdue: bool
    stuck_days: int | None  # days in the stage, when longer than the stage's norm


@dataclass
class Column:
    stage: Stage
    count: int = 0
    sums: list[StageSum] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    shown: int | None = None  # how many cards the page shows, when they were not read here (after a move)
    loaded: bool = True  # False: a won or lost column the page fetches right after it (see board_for)

    @property
    def is_open(self) -> bool:
        return self.stage.kind == StageKind.OPEN

    @property
    def more(self) -> int:
        return max(0, self.count - (len(self.cards) if self.shown is None else self.shown))


@dataclass(frozen=True)
class Board:
    pipeline: Pipeline
    columns: list[Column]
    closed_since: datetime


def board_pipelines() -> list[Pipeline]:
    """The pipelines in use, in their order: the board's switcher."""
    return list(Pipeline.objects.filter(is_active=True).only("name", "position"))


def first_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True).only("pk").first()


def _each_way(visibility: Q, condition: Q) -> Q:
    """``condition AND visibility``, spelled as one OR branch per way a deal is visible.

    The same rows either way. But SQLite uses an index for each branch of an OR (its
    "multi-index OR") only when every branch carries the whole condition; otherwise it scans
    every deal of the pipeline, or worse, to test the visibility row by row. PostgreSQL's
    bitmap scans handle both spellings alike.
    """
    if visibility.connector != Q.OR or visibility.negated or len(visibility.children) < 2:
        return condition & visibility
    return reduce(
        operator.or_,
        (condition & (way if isinstance(way, Q) else Q(way)) for way in visibility.children),
    )


def board_condition(
    user: User, pipeline: Pipeline, stages: list[Stage], filters: BoardFilters, *, closed_since: datetime
) -> Q:
    """The deals a board shows: visible to ``user``, open in open stages, recently closed in the others."""
    open_ids = [stage.pk for stage in stages if stage.kind == StageKind.OPEN]
    closed_ids = [stage.pk for stage in stages if stage.kind != StageKind.OPEN]
    narrowed = Q(deleted_at__isnull=True, pipeline=pipeline)
    if filters.owner is not None:
        narrowed &= Q(owner_id=filters.owner)
    if filters.team is not None:
        narrowed &= Q(owner_id__in=User.objects.filter(team_id=filters.team).values("pk"))
    if filters.source is not None:
        narrowed &= Q(lead_source_id=filters.source)
    if filters.close_month is not None:
        start = filters.close_month.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        narrowed &= Q(expected_close__gte=start, expected_close__lt=end)
    # A closed deal's stage is where it closed, so it entered that stage when it closed: asking
    # by stage_entered_at reads the (stage, stage_entered_at) index instead of every closed deal.
    parts = [
        narrowed & Q(stage_id__in=open_ids, closed_at__isnull=True),
        narrowed & Q(stage_id__in=closed_ids, closed_at__isnull=False, stage_entered_at__gte=closed_since),
    ]
    visibility = access.deal_visibility(user)
    return reduce(operator.or_, (_each_way(visibility, part) for part in parts))


def _sums(rows: list[dict[str, Any]], stage: Stage) -> list[StageSum]:
    default = settings.RAPPORT_DEFAULT_CURRENCY
    sums = [
        StageSum(
            currency=str(row["currency"]),
            amount=Decimal(row["amount"]),
            weighted=(Decimal(row["amount"]) * stage.probability / 100).quantize(CENTS),
        )
        for row in rows
        if row["amount"] is not None
    ]
    # The company's currency first, then the others alphabetically.
    return sorted(sums, key=lambda item: (item.currency != default, item.currency))


def _client_name(deal: Deal) -> str:
    """``deal.client_name`` from the names read with the deal (a contact's as Contact.display_name has it)."""
    company = getattr(deal, "company_name", None)
    if company:
        return str(company)
    parts = (getattr(deal, f"contact_{part}_name", "") for part in ("last", "first", "middle"))
    return " ".join(part for part in parts if part)


class _DealUrls:
    """A deal's card and move URLs by substitution: one reverse() per board, not two per card."""

    MARK = 987654321

    def __init__(self) -> None:
        self.detail = reverse("sales:deal-detail", args=[self.MARK])
        self.move = reverse("sales:deal-move", args=[self.MARK])

    def of(self, deal: Deal) -> tuple[str, str]:
        pk = str(deal.pk)
        return self.detail.replace(str(self.MARK), pk), self.move.replace(str(self.MARK), pk)


def _editable(known: dict[int | None, bool], user: User, deal: Deal) -> bool:
    if deal.owner_id not in known:
        known[deal.owner_id] = access.can_edit_deal(user, deal)
    return known[deal.owner_id]


def board_for(
    user: User,
    pipeline: Pipeline,
    filters: BoardFilters,
    *,
    only_stages: Collection[int] | None = None,
    only_deal: int | None = None,
    closed: bool = True,
) -> Board:
    """The board of ``pipeline`` as ``user`` sees it.

    After a move, ``only_stages`` limits it to the two columns concerned and ``only_deal``
    to the one card that moved: the page keeps the others. ``closed=False`` leaves the won
    and lost columns empty (``loaded`` false): reading what closed lately means walking every
    deal closed in the last days, as much again as the open columns cost, so the page asks
    for those columns in a second request once it is shown.
    """
    now = timezone.now()
    today = timezone.localdate(now)
    closed_since = now - timedelta(days=CLOSED_WITHIN_DAYS)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
    columns = {stage.pk: Column(stage) for stage in stages if only_stages is None or stage.pk in only_stages}
    if not closed:
        for column in columns.values():
            column.loaded = column.is_open
    shown = [stage for stage in stages if stage.pk in columns and columns[stage.pk].loaded]
    closed_ids = [stage.pk for stage in shown if stage.kind != StageKind.OPEN]
    deals = Deal.objects.filter(board_condition(user, pipeline, shown, filters, closed_since=closed_since))

    totals: dict[int, list[dict[str, Any]]] = {}
    for row in deals.order_by().values("stage_id", "currency").annotate(count=Count("pk"), amount=Sum("amount")):
        totals.setdefault(row["stage_id"], []).append(dict(row))

    if only_deal is None:
        # The latest in each stage first (a card just dropped on a column is at its top): the
        # window picks their ids on the deals table alone, then only those rows are joined to
        # their clients.
        limit = Case(When(stage_id__in=closed_ids, then=Value(CLOSED_CARD_LIMIT)), default=Value(CARD_LIMIT))
        ranked = deals.annotate(
            board_rank=Window(
                RowNumber(), partition_by=[F("stage_id")], order_by=[F("stage_entered_at").desc(), F("id").desc()]
            )
        )
        latest = Deal.objects.filter(pk__in=ranked.filter(board_rank__lte=limit).values("pk"))
    else:
        # After a move: the card that moved. It was on the board and still passes its filters,
        # so its id and stage are enough; a request moving it again meanwhile may have taken it
        # out of these two columns.
        latest = Deal.objects.filter(pk=only_deal, stage_id__in=columns)
    for stage_id, stage_rows in totals.items():
        column = columns[stage_id]
        column.count = sum(int(row["count"]) for row in stage_rows)
        column.sums = _sums(stage_rows, column.stage)

    late_checkpoints = DealCheckpoint.objects.filter(deal=OuterRef("pk"), done_at__isnull=True, due_date__lt=today)
    # Plain values for the client's name, not Company and Contact objects: a board has 300 cards.
    deals_shown = list(
        latest.only(
            "title",
            "stage_id",
            "amount",
            "currency",
            "owner_id",
            "expected_close",
            "next_step_at",
            "stage_entered_at",
            "version",
        )
        .annotate(
            company_name=F("company__name"),
            contact_last_name=F("contact__last_name"),
            contact_first_name=F("contact__first_name"),
            contact_middle_name=F("contact__middle_name"),
            checkpoint_overdue=Exists(late_checkpoints),
        )
        .order_by("stage_id", "-stage_entered_at", "-id")
    )
    # The owners once each (a team has a dozen), for their names and for the edit right.
    owners = User.objects.filter(pk__in={deal.owner_id for deal in deals_shown}).only(
        "first_name", "last_name", "username", "team_id"
    )
    owner_of = {owner.pk: owner for owner in owners} if deals_shown else {}
    urls = _DealUrls()
    may_edit = access.can_create_deals(user)
    # The edit right follows from the owner alone (owner, the owner's head, admins): asked once per owner.
    editable: dict[int | None, bool] = {}
    for deal in deals_shown:
        column = columns[deal.stage_id]
        deal.stage = column.stage  # the column's stage and the owner read above: no query per card
        deal.owner = owner_of.get(deal.owner_id) if deal.owner_id else None
        is_open = column.is_open
        norm = column.stage.stale_after_days
        days = deal.days_in_stage(today)
        url, move_url = urls.of(deal)
        column.cards.append(
            Card(
                deal=deal,
                client_name=_client_name(deal),
                url=url,
                move_url=move_url,
                can_move=may_edit and _editable(editable, user, deal),
                next_step_overdue=is_open and deal.next_step_at is not None and deal.next_step_at < today,
                checkpoint_overdue=is_open and bool(getattr(deal, "checkpoint_overdue", False)),
                stuck_days=days if is_open and norm is not None and days > norm else None,
            )
        )
    return Board(pipeline=pipeline, columns=list(columns.values()), closed_since=closed_since)

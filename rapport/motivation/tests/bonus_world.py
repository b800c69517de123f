"""A small world for the bonus tests: a pipeline without gates, deals won on given days, contact history, rules.

Deals are made with the ORM where a test needs a deal won on a given day; stage moves go
through the sales services under ``moment(...)``, which sets the clock those services read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from unittest import mock

from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.clients.models import Company
from rapport.motivation.models import BonusRule, BonusRuleKind, Statement, StatementStatus
from rapport.motivation.periods import Period
from rapport.sales import services as sales_services
from rapport.sales.models import Deal, LostReason, Pipeline, Stage, StageKind

JAN = Period(date(2026, 1, 1), date(2026, 1, 31))
FEB = Period(date(2026, 2, 1), date(2026, 2, 28))
MAR = Period(date(2026, 3, 1), date(2026, 3, 31))


def on(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), timezone.get_current_timezone())


@contextlib.contextmanager
def moment(when: datetime) -> Iterator[None]:
    """The clock the services read (timezone.now) stands at ``when``."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


@dataclass
class Board:
    pipeline: Pipeline
    talks: Stage
    won: Stage
    lost: Stage
    reason: LostReason


def board() -> Board:
    pipeline = Pipeline.objects.create(name="Bonus tests")
    talks = Stage.objects.create(pipeline=pipeline, name="Talks", position=0, kind=StageKind.OPEN)
    won = Stage.objects.create(pipeline=pipeline, name="Won", position=1, kind=StageKind.WON, probability=100)
    lost = Stage.objects.create(pipeline=pipeline, name="Lost", position=2, kind=StageKind.LOST, probability=0)
    reason = LostReason.objects.get_or_create(name="Price too high")[0]
    return Board(pipeline, talks, won, lost, reason)


def client(name: str = "Acme Trading") -> Company:
    return Company.objects.create(name=name)


def won_deal(
    where: Board,
    *,
    registrant: User,
    closer: User,
    amount: str | int | None = 1000,
    closed: datetime,
    company: Company | None = None,
    currency: str = "USD",
    **fields: Any,
) -> Deal:
    """A deal ``registrant`` registered and ``closer`` won (and owns) at ``closed``."""
    return Deal.objects.create(
        title=fields.pop("title", "Chairs"),
        company=company or client(),
        pipeline=where.pipeline,
        stage=where.won,
        owner=fields.pop("owner", closer),
        registrant=registrant,
        closer=closer,
        amount=None if amount is None else Decimal(amount),
        currency=currency,
        closed_at=closed,
        stage_entered_at=closed,
        **fields,
    )


def contact_logged(
    at: datetime,
    *,
    company: Company | None = None,
    deal: Deal | None = None,
    owner: User | None = None,
    kind: str = ActivityKind.CALL,
    status: str = ActivityStatus.DONE,
) -> Activity:
    return Activity.objects.create(
        kind=kind,
        status=status,
        done_at=at if status == ActivityStatus.DONE else None,
        due_at=at if status != ActivityStatus.DONE else None,
        at=at,
        owner=owner,
        company=company,
        deal=deal,
        subject="Talked about chairs",
    )


def share_rules(
    registrant: str | int | None = 2, closer: str | int | None = 3, since: date = date(2025, 1, 1), **conditions: Any
) -> list[BonusRule]:
    """A registrant's and a closer's share (either left out when None); the conditions are the closer's (as the
    demo's: the registrant is paid whoever closes the deal and however)."""
    rules = []
    for kind, percent in ((BonusRuleKind.REGISTRANT_SHARE, registrant), (BonusRuleKind.CLOSER_SHARE, closer)):
        if percent is not None:
            asked = conditions if kind == BonusRuleKind.CLOSER_SHARE else {}
            rules.append(
                BonusRule.objects.create(
                    name=str(kind.label), kind=kind, percent=Decimal(percent), effective_from=since, **asked
                )
            )
    return rules


def reopen(deal: Deal, by: User, where: Board, when: datetime) -> None:
    with moment(when):
        sales_services.deal_move_to_stage(by=by, deal=deal, stage=where.talks)


def win(deal: Deal, by: User, where: Board, when: datetime) -> None:
    with moment(when):
        sales_services.deal_move_to_stage(by=by, deal=deal, stage=where.won)


def lose(deal: Deal, by: User, where: Board, when: datetime) -> None:
    with moment(when):
        sales_services.deal_move_to_stage(by=by, deal=deal, stage=where.lost, lost_reason=where.reason)


def statement_of(person: User, period: Period, currency: str = "USD") -> Statement:
    """The latest version of the person's statement for the period."""
    found = (
        Statement.objects.filter(person=person, period_start=period.start, period_end=period.end, currency=currency)
        .order_by("-version")
        .first()
    )
    assert found is not None, f"{person} has no statement for {period}"
    return found


def paid(person: User, period: Period, currency: str = "USD") -> list[tuple[str, str, Decimal]]:
    """(line kind, reason code, amount) of the latest version of the person's statement, in order."""
    statement = statement_of(person, period, currency)
    return [(line.kind, line.reason_code, line.amount) for line in statement.lines.order_by("pk")]


def approved_total(person: User, deal: Deal, kind: str) -> Decimal:
    """What the latest approved version of each period paid the person for the deal under rules of a kind."""
    total = Decimal(0)
    for statement in Statement.objects.filter(person=person, status=StatementStatus.APPROVED):
        newer = Statement.objects.filter(
            person=person,
            period_start=statement.period_start,
            period_end=statement.period_end,
            currency=statement.currency,
            status=StatementStatus.APPROVED,
            version__gt=statement.version,
        )
        if newer.exists():
            continue
        total += sum((line.amount for line in statement.lines.filter(deal=deal, rule__kind=kind)), Decimal(0))
    return total

"""Properties of the bonus engine over random histories of a deal (hypothesis).

One deal, registered by a manager, goes through a random sequence of events over three
months — won, reopened, lost, handed from owner to owner, its registrant corrected — with
statements computed and approved at random moments in between. Then every month is computed
and every draft approved until nothing changes. Whatever the order of events:

- a statement's total is the sum of its lines;
- an approved statement never changes;
- the registrant's share is paid once, to the deal's registrant, if the deal is won (else not at all);
- handing the deal between owners never creates or loses money: across everyone, the closer's
  share is paid once, to its closer, if the deal is won.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.accounts.models import User
from rapport.motivation.models import BonusRuleKind, Statement, StatementStatus
from rapport.motivation.statements import statement_approve, statements_compute
from rapport.motivation.tests.bonus_world import (
    FEB,
    JAN,
    MAR,
    Board,
    approved_total,
    board,
    client,
    lose,
    moment,
    on,
    reopen,
    share_rules,
    win,
)
from rapport.sales import services as sales_services
from rapport.sales.models import Deal, StageKind

MONTHS = [JAN, FEB, MAR]
AMOUNT = Decimal(1000)
REGISTRANT_SHARE, CLOSER_SHARE = Decimal(100), Decimal(50)  # 10 % and 5 %

# What can happen to the deal on a day: won, reopened, lost, given to another owner or registrant (by index).
DEAL_EVENTS = st.one_of(
    st.sampled_from([("win",), ("win",), ("reopen",), ("lose",)]),
    st.tuples(st.just("owner"), st.integers(0, 2)),
    st.tuples(st.just("registrant"), st.integers(0, 2)),
)
# A month: the deal's events, each maybe followed by a computation, and whether the head approves at its end.
MONTH = st.tuples(
    st.lists(st.tuples(DEAL_EVENTS, st.booleans()), max_size=4),
    st.booleans(),
)
HISTORIES = st.lists(MONTH, min_size=1, max_size=len(MONTHS)).map(
    lambda months: [
        event
        for number, (happenings, approved) in enumerate(months)
        for event in [
            *([("next month",)] if number else []),
            *[
                step
                for happening, computed in happenings
                for step in [happening, *([("compute",)] if computed else [])]
            ],
            ("compute",),
            *([("approve",)] if approved else []),
        ]
    ]
)


class _RolledBackError(Exception):
    """Raised at the end of each example so its records are rolled back."""


def _approve_drafts(by: User) -> int:
    approved = 0
    for draft in Statement.objects.filter(status=StatementStatus.DRAFT).order_by("period_start", "person_id", "pk"):
        try:
            statement_approve(by=by, statement=draft)
        except ValidationError:
            continue  # out of date: it was brought up to date, the next round approves it
        except Statement.DoesNotExist:  # pragma: no cover  (a refresh removed it)
            continue
        approved += 1
    return approved


def _frozen() -> dict[int, tuple[Any, ...]]:
    """Every approved statement as it stands: its total and its lines."""
    return {
        statement.pk: (
            statement.total,
            statement.version,
            sorted((line.rule_id, line.deal_id, line.kind, line.amount) for line in statement.lines.all()),
        )
        for statement in Statement.objects.filter(status=StatementStatus.APPROVED).prefetch_related("lines")
    }


def _play(events: list[tuple[Any, ...]], sellers: list[User], by: User, where: Board) -> Deal:
    deal = Deal.objects.create(
        title="Chairs",
        company=client(),
        pipeline=where.pipeline,
        stage=where.talks,
        owner=sellers[0],
        registrant=sellers[0],
        amount=AMOUNT,
        currency="USD",
    )
    month, day = 0, 1
    frozen: dict[int, tuple[Any, ...]] = {}
    for event in events:
        day += 1
        when = on(MONTHS[month].start + timedelta(days=day))
        deal.refresh_from_db()
        kind = event[0]
        if kind == "win" and deal.stage.kind != StageKind.WON:
            win(deal, by, where, when)
        elif kind == "reopen" and deal.stage.kind != StageKind.OPEN:
            reopen(deal, by, where, when)
        elif kind == "lose" and deal.stage.kind != StageKind.LOST:
            lose(deal, by, where, when)
        elif kind == "owner":
            with moment(when):
                sales_services.deal_update(by=by, deal=deal, version=None, owner=sellers[event[1]])
        elif kind == "registrant":
            with moment(when):
                sales_services.deal_set_registrant(by=by, deal=deal, registrant=sellers[event[1]])
        elif kind == "compute":
            with moment(when):
                statements_compute(MONTHS[month], [seller.pk for seller in sellers])
        elif kind == "approve":
            _approve_drafts(by)
            frozen |= _frozen()
        elif kind == "next month" and month < len(MONTHS) - 1:
            month, day = month + 1, 1
    _settle(sellers, by)
    deal.refresh_from_db()
    deal.frozen_before_settling = frozen  # type: ignore[attr-defined]
    return deal


def _settle(sellers: list[User], by: User) -> None:
    """Compute every month and approve every draft until nothing changes (the head's month-end, repeated)."""
    ids = [seller.pk for seller in sellers]
    for _round in range(8):
        changed = sum(
            result.created + result.updated + result.removed
            for result in (statements_compute(month, ids) for month in MONTHS)
        )
        approved = _approve_drafts(by)
        if not changed and not approved:
            return
    raise AssertionError("the statements did not settle")


@pytest.fixture
def world(db: None, manager: User, teammate: User, agent: User, admin_user: User) -> Callable[[list[Any]], Deal]:
    where = board()
    share_rules(registrant=10, closer=5)
    sellers = [manager, teammate, agent]

    def run(events: list[Any]) -> Deal:
        return _play(events, sellers, admin_user, where)

    return run


def _each_example(world: Callable[[list[Any]], Deal], events: list[Any], check: Callable[[Deal], None]) -> None:
    try:
        with transaction.atomic():
            check(world(events))
            raise _RolledBackError
    except _RolledBackError:
        pass


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(events=HISTORIES)
def test_a_statements_total_is_the_sum_of_its_lines(world: Callable[[list[Any]], Deal], events: list[Any]) -> None:
    def check(deal: Deal) -> None:
        for statement in Statement.objects.prefetch_related("lines"):
            assert statement.total == sum((line.amount for line in statement.lines.all()), Decimal(0))

    _each_example(world, events, check)


@PROPERTY
@given(events=HISTORIES)
def test_an_approved_statement_never_changes(world: Callable[[list[Any]], Deal], events: list[Any]) -> None:
    def check(deal: Deal) -> None:
        before = deal.frozen_before_settling  # type: ignore[attr-defined]
        now = _frozen()
        assert {pk: now.get(pk) for pk in before} == before
        assert not Statement.objects.filter(status=StatementStatus.DRAFT).exists()

    _each_example(world, events, check)


@PROPERTY
@given(events=HISTORIES)
def test_a_deal_is_credited_to_its_registrant_once_whatever_the_order_of_events(
    world: Callable[[list[Any]], Deal], events: list[Any]
) -> None:
    def check(deal: Deal) -> None:
        won = deal.stage.kind == StageKind.WON
        people = User.objects.filter(pk__in=[deal.owner_id, deal.registrant_id]) | User.objects.filter(
            bonus_statements__isnull=False
        )
        paid = {person.pk: approved_total(person, deal, BonusRuleKind.REGISTRANT_SHARE) for person in people.distinct()}
        expected = {pk: Decimal(0) for pk in paid} | {deal.registrant_id: REGISTRANT_SHARE if won else Decimal(0)}
        assert paid == expected

    _each_example(world, events, check)


@PROPERTY
@given(events=HISTORIES)
def test_moving_a_deal_between_owners_never_creates_or_loses_money(
    world: Callable[[list[Any]], Deal], events: list[Any]
) -> None:
    def check(deal: Deal) -> None:
        won = deal.stage.kind == StageKind.WON
        people = User.objects.filter(bonus_statements__isnull=False).distinct()
        paid = {person.pk: approved_total(person, deal, BonusRuleKind.CLOSER_SHARE) for person in people}
        assert sum(paid.values(), Decimal(0)) == (CLOSER_SHARE if won else 0)
        if won:
            assert deal.closer_id is not None
            assert paid.get(deal.closer_id) == CLOSER_SHARE

    _each_example(world, events, check)


def test_a_history_with_every_kind_of_event_settles_to_the_right_money(
    world: Callable[[list[Any]], Deal], manager: User, teammate: User, agent: User
) -> None:
    """One history spelled out: won by the manager in January and paid, handed to the teammate and won again in
    February, the registrant corrected to the agent in March."""
    deal = world(
        [
            ("win",),
            ("compute",),
            ("approve",),
            ("next month",),
            ("reopen",),
            ("owner", 1),
            ("win",),
            ("compute",),
            ("approve",),
            ("next month",),
            ("registrant", 2),
        ]
    )

    assert approved_total(manager, deal, BonusRuleKind.CLOSER_SHARE) == 0
    assert approved_total(teammate, deal, BonusRuleKind.CLOSER_SHARE) == CLOSER_SHARE
    assert approved_total(manager, deal, BonusRuleKind.REGISTRANT_SHARE) == 0
    assert approved_total(agent, deal, BonusRuleKind.REGISTRANT_SHARE) == REGISTRANT_SHARE

"""The bonus engine on statements computed by hand: shares, eligibility, plans, claw-backs and versions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities.models import ActivityKind, ActivityStatus
from rapport.clients.models import Contact
from rapport.motivation import bonus
from rapport.motivation.models import (
    BonusRule,
    BonusRuleKind,
    LineKind,
    Metric,
    PeriodKind,
    QualitySnapshot,
    Statement,
    StatementLine,
    StatementStatus,
    Target,
)
from rapport.motivation.statements import statement_approve, statement_difference, statements_compute
from rapport.motivation.tests.bonus_world import (
    FEB,
    JAN,
    MAR,
    Board,
    board,
    client,
    contact_logged,
    lose,
    on,
    paid,
    reopen,
    share_rules,
    statement_of,
    win,
    won_deal,
)
from rapport.sales import services as sales_services
from rapport.sales.models import CheckpointType, DealCheckpoint

CREDIT, CLAWBACK, REFUSED = LineKind.CREDIT, LineKind.CLAWBACK, LineKind.REFUSED


@pytest.fixture
def where(db: None) -> Board:
    return board()


@pytest.fixture
def registrant(manager: User) -> User:
    return manager


@pytest.fixture
def closer(teammate: User) -> User:
    return teammate


def approve(statement: Statement, by: User) -> Statement:
    return statement_approve(by=by, statement=statement)


# ---- Shares of won deals ---------------------------------------------------------------------------


def test_a_deal_registered_by_a_and_won_by_b_pays_both_their_shares(
    where: Board, registrant: User, closer: User
) -> None:
    share_rules(registrant=2, closer=3, min_activities=1)
    acme = client()
    call = contact_logged(on(date(2026, 1, 5)), company=acme)
    deal = won_deal(
        where, registrant=registrant, closer=closer, amount=1000, closed=on(date(2026, 1, 20)), company=acme
    )

    statements_compute(JAN, [registrant.pk, closer.pk])

    assert paid(registrant, JAN) == [(CREDIT, "registrant_share", Decimal("20.00"))]
    assert paid(closer, JAN) == [(CREDIT, "closer_share", Decimal("30.00"))]
    line = statement_of(closer, JAN).lines.get()
    assert (line.deal, line.rule.kind, line.activity_ids) == (deal, BonusRuleKind.CLOSER_SHARE, [call.pk])
    assert line.reason == "Won the deal: 3 % of its 1,000 USD."
    assert statement_of(registrant, JAN).total == Decimal("20.00")


def test_a_deal_without_contact_history_pays_nothing_and_its_line_says_why(
    where: Board, registrant: User, closer: User
) -> None:
    share_rules(registrant=2, closer=3, min_activities=1)
    won_deal(where, registrant=registrant, closer=closer, amount=1000, closed=on(date(2026, 1, 20)))

    statements_compute(JAN, [registrant.pk, closer.pk])

    assert paid(closer, JAN) == [(REFUSED, "no_contact_history", Decimal(0))]
    line = statement_of(closer, JAN).lines.get()
    assert line.reason == ("No bonus: 0 of the 1 calls, meetings or e-mails with the client needed before the win.")
    with translation.override("ru"):
        assert line.reason  # rendered in the reader's language, never an error
    assert statement_of(closer, JAN).total == 0
    # The registrant's rule asks for no history: they are paid.
    assert paid(registrant, JAN) == [(CREDIT, "registrant_share", Decimal("20.00"))]


def test_only_done_calls_meetings_and_emails_with_the_client_before_the_win_count(
    where: Board, registrant: User, closer: User
) -> None:
    share_rules(registrant=None, closer=3, min_activities=3)
    acme, other = client(), client("Other Ltd")
    person = Contact.objects.create(last_name="Buyer", company=acme)
    won_at = on(date(2026, 1, 20))
    deal = won_deal(where, registrant=registrant, closer=closer, closed=won_at, company=acme, contact=person)
    counted = [
        contact_logged(won_at - timedelta(days=9), company=acme, kind=ActivityKind.MEETING),
        contact_logged(won_at - timedelta(days=5), deal=deal, kind=ActivityKind.EMAIL),
    ]
    # Not contact history: after the win, planned, a note, another client's, deleted.
    contact_logged(won_at + timedelta(hours=1), company=acme)
    contact_logged(won_at - timedelta(days=2), company=acme, status=ActivityStatus.PLANNED)
    contact_logged(won_at - timedelta(days=2), company=acme, kind=ActivityKind.NOTE)
    contact_logged(won_at - timedelta(days=2), company=other)
    gone = contact_logged(won_at - timedelta(days=2), company=acme)
    gone.deleted_at = won_at
    gone.save(update_fields=["deleted_at"])

    assert bonus.compute([closer.pk], JAN)[closer.pk][0].reason_params == {"found": 2, "needed": 3}

    through_person = contact_logged(won_at - timedelta(days=1), company=None)
    through_person.contact = person
    through_person.save(update_fields=["contact"])
    [line] = bonus.compute([closer.pk], JAN)[closer.pk]
    assert (line.kind, line.amount) == (CREDIT, Decimal("30.00"))
    assert line.evidence == (through_person.pk, counted[1].pk, counted[0].pk)  # latest first


def test_checkpoints_required_pay_only_when_every_checkpoint_is_done(
    where: Board, registrant: User, closer: User
) -> None:
    share_rules(registrant=None, closer=3, checkpoints_required=True)
    deal = won_deal(where, registrant=registrant, closer=closer, closed=on(date(2026, 1, 20)))
    contract = CheckpointType.objects.create(pipeline=where.pipeline, name="Contract", position=2)
    proposal = CheckpointType.objects.create(pipeline=where.pipeline, name="Proposal", position=1)
    DealCheckpoint.objects.create(deal=deal, type=contract, due_date=date(2026, 1, 10))
    DealCheckpoint.objects.create(deal=deal, type=proposal, due_date=date(2026, 1, 5), done_at=on(date(2026, 1, 4)))

    [line] = bonus.compute([closer.pk], JAN)[closer.pk]
    assert (line.kind, line.reason_code, line.reason_params) == (
        REFUSED,
        "checkpoints_not_done",
        {"names": ["Contract"]},
    )

    DealCheckpoint.objects.filter(type=contract).update(done_at=on(date(2026, 1, 15)))
    [line] = bonus.compute([closer.pk], JAN)[closer.pk]
    assert (line.kind, line.amount) == (CREDIT, Decimal("30.00"))


@pytest.mark.parametrize(("score", "code"), [(None, "quality_unknown"), (69, "quality_below"), (70, "closer_share")])
def test_a_minimum_data_quality_is_the_score_up_to_the_day_of_the_win(
    where: Board, registrant: User, closer: User, score: int | None, code: str
) -> None:
    share_rules(registrant=None, closer=3, min_quality=70)
    won_deal(where, registrant=registrant, closer=closer, closed=on(date(2026, 1, 20)))
    if score is not None:
        snapshot = {"clients_score": score, "activities_share": score, "clients": 5}
        QualitySnapshot.objects.create(user=closer, on=date(2026, 1, 18), score=score, **snapshot)
        # A later score does not count for a deal already won.
        QualitySnapshot.objects.create(user=closer, on=date(2026, 1, 25), score=100 - score, **snapshot)

    [line] = bonus.compute([closer.pk], JAN)[closer.pk]
    assert line.reason_code == code


def test_shares_follow_the_rule_in_force_on_the_day_of_the_win_and_its_currency(
    where: Board, registrant: User, closer: User
) -> None:
    BonusRule.objects.create(
        name="Old",
        kind=BonusRuleKind.CLOSER_SHARE,
        percent=1,
        effective_from=date(2025, 1, 1),
        effective_until=date(2026, 1, 14),
    )
    BonusRule.objects.create(name="New", kind=BonusRuleKind.CLOSER_SHARE, percent=5, effective_from=date(2026, 1, 15))
    BonusRule.objects.create(
        name="Euro", kind=BonusRuleKind.REGISTRANT_SHARE, percent=10, currency="EUR", effective_from=date(2025, 1, 1)
    )
    won_deal(where, registrant=registrant, closer=closer, amount=100, closed=on(date(2026, 1, 10)))
    won_deal(where, registrant=registrant, closer=closer, amount=100, closed=on(date(2026, 1, 20)))
    won_deal(where, registrant=registrant, closer=closer, amount=100, closed=on(date(2026, 1, 21)), currency="EUR")

    statements_compute(JAN, [registrant.pk, closer.pk])

    assert paid(closer, JAN) == [(CREDIT, "closer_share", Decimal("1.00")), (CREDIT, "closer_share", Decimal("5.00"))]
    assert paid(closer, JAN, "EUR") == [(CREDIT, "closer_share", Decimal("5.00"))]
    assert paid(registrant, JAN, "EUR") == [(CREDIT, "registrant_share", Decimal("10.00"))]
    assert not Statement.objects.filter(person=registrant, currency="USD").exists()


def test_a_deal_without_an_amount_pays_nothing(where: Board, registrant: User, closer: User) -> None:
    share_rules(registrant=None, closer=3)
    won_deal(where, registrant=registrant, closer=closer, amount=None, closed=on(date(2026, 1, 20)))

    assert [line.reason_code for line in bonus.compute([closer.pk], JAN)[closer.pk]] == ["no_amount"]


def test_shares_round_half_up_to_cents(where: Board, registrant: User, closer: User) -> None:
    share_rules(registrant=None, closer="2.5")
    won_deal(where, registrant=registrant, closer=closer, amount="10.10", closed=on(date(2026, 1, 20)))

    assert [line.amount for line in bonus.compute([closer.pk], JAN)[closer.pk]] == [Decimal("0.25")]


# ---- Plans ------------------------------------------------------------------------------------------


def month_target(person: User, metric: str, value: int, currency: str = "") -> Target:
    return Target.objects.create(
        user=person,
        metric=metric,
        value=Decimal(value),
        currency=currency,
        period_kind=PeriodKind.MONTH,
        starts_on=JAN.start,
        ends_on=JAN.end,
    )


def test_per_unit_above_plan_pays_each_unit_beyond_the_target(where: Board, closer: User, manager: User) -> None:
    BonusRule.objects.create(
        name="Calls",
        kind=BonusRuleKind.PER_UNIT_ABOVE_PLAN,
        metric=Metric.CALLS,
        amount=5,
        currency="USD",
        effective_from=date(2026, 1, 1),
    )
    month_target(closer, Metric.CALLS, 10)
    month_target(manager, Metric.CALLS, 10)
    for day in range(13):
        contact_logged(on(date(2026, 1, 1 + day)), owner=closer)
    for day in range(10):
        contact_logged(on(date(2026, 1, 1 + day)), owner=manager)

    lines = bonus.compute([closer.pk, manager.pk], JAN)

    assert [(line.kind, line.amount, line.reason_params["excess"]) for line in lines[closer.pk]] == [
        (CREDIT, Decimal("15.00"), "3")
    ]
    [line] = lines[manager.pk]
    assert (line.kind, line.reason_code) == (REFUSED, "plan_not_exceeded")


def test_an_accelerator_pays_its_percentage_of_the_revenue_above_the_plan(
    where: Board, registrant: User, closer: User
) -> None:
    BonusRule.objects.create(
        name="Accelerator",
        kind=BonusRuleKind.ACCELERATOR,
        metric=Metric.REVENUE_WON,
        percent=10,
        currency="USD",
        effective_from=date(2026, 1, 1),
    )
    month_target(closer, Metric.REVENUE_WON, 1000, "USD")
    won_deal(where, registrant=registrant, closer=closer, amount=900, closed=on(date(2026, 1, 10)))
    won_deal(where, registrant=registrant, closer=closer, amount=600, closed=on(date(2026, 1, 12)))
    won_deal(where, registrant=registrant, closer=closer, amount=5000, closed=on(date(2026, 1, 12)), currency="EUR")

    statements_compute(JAN, [closer.pk])

    assert paid(closer, JAN) == [(CREDIT, "accelerator", Decimal("50.00"))]
    assert statement_of(closer, JAN).lines.get().reason == (
        "Revenue won: 1,500 against a plan of 1,000; 10 % of the 500 above it."
    )


# ---- Claw-back and versions --------------------------------------------------------------------


def test_a_deal_reopened_after_its_statement_was_approved_is_clawed_back_once(
    where: Board, registrant: User, closer: User, head: User, admin_user: User
) -> None:
    share_rules(registrant=2, closer=3)
    deal = won_deal(where, registrant=registrant, closer=closer, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [registrant.pk, closer.pk])
    january = approve(statement_of(closer, JAN), head)
    approve(statement_of(registrant, JAN), head)

    reopen(deal, admin_user, where, on(date(2026, 2, 3)))
    statements_compute(FEB, [registrant.pk, closer.pk])

    assert paid(closer, FEB) == [(CLAWBACK, "clawback_reopened", Decimal("-30.00"))]
    assert paid(registrant, FEB) == [(CLAWBACK, "clawback_reopened", Decimal("-20.00"))]
    assert statement_of(closer, FEB).lines.get().reason == "The deal was reopened: the 30 USD paid is taken back."
    # January stays as approved; recomputing it changes nothing there either.
    statements_compute(JAN, [closer.pk])
    assert statement_of(closer, JAN) == january
    assert paid(closer, JAN) == [(CREDIT, "closer_share", Decimal("30.00"))]

    approve(statement_of(closer, FEB), head)
    statements_compute(MAR, [closer.pk])
    assert not Statement.objects.filter(person=closer, period_start=MAR.start).exists()


def test_a_deal_lost_after_approval_is_clawed_back_and_won_again_is_credited_again(
    where: Board, registrant: User, closer: User, head: User, admin_user: User
) -> None:
    share_rules(registrant=None, closer=3)
    deal = won_deal(where, registrant=registrant, closer=closer, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [closer.pk])
    approve(statement_of(closer, JAN), head)
    lose(deal, admin_user, where, on(date(2026, 2, 3)))
    statements_compute(FEB, [closer.pk])
    approve(statement_of(closer, FEB), head)
    assert paid(closer, FEB) == [(CLAWBACK, "clawback_lost", Decimal("-30.00"))]

    reopen(deal, admin_user, where, on(date(2026, 3, 2)))
    win(deal, admin_user, where, on(date(2026, 3, 9)))
    statements_compute(MAR, [closer.pk])

    assert paid(closer, MAR) == [(CREDIT, "closer_share", Decimal("30.00"))]


def test_a_deal_reopened_and_won_again_by_its_closer_is_not_paid_twice(
    where: Board, registrant: User, closer: User, head: User, admin_user: User
) -> None:
    share_rules(registrant=2, closer=3)
    deal = won_deal(where, registrant=registrant, closer=closer, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [registrant.pk, closer.pk])
    approve(statement_of(closer, JAN), head)

    reopen(deal, admin_user, where, on(date(2026, 2, 2)))
    win(deal, admin_user, where, on(date(2026, 2, 6)))
    statements_compute(FEB, [closer.pk])

    assert paid(closer, FEB) == [(REFUSED, "already_credited", Decimal(0))]
    assert "Already credited on the statement for" in statement_of(closer, FEB).lines.get().reason


def test_a_deal_won_again_by_another_owner_moves_the_closers_share_to_them(
    where: Board, registrant: User, closer: User, head: User, admin_user: User, agent: User
) -> None:
    share_rules(registrant=None, closer=3)
    deal = won_deal(where, registrant=registrant, closer=closer, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [closer.pk])
    approve(statement_of(closer, JAN), head)

    reopen(deal, admin_user, where, on(date(2026, 2, 2)))
    with_owner = sales_services.deal_update(by=admin_user, deal=deal, version=None, owner=agent)
    win(with_owner, admin_user, where, on(date(2026, 2, 6)))
    statements_compute(FEB, [closer.pk, agent.pk])

    assert paid(closer, FEB) == [(CLAWBACK, "clawback_not_closer", Decimal("-30.00"))]
    assert paid(agent, FEB) == [(CREDIT, "closer_share", Decimal("30.00"))]


def test_a_registrant_corrected_after_approval_moves_the_share_to_the_new_one(
    where: Board, registrant: User, closer: User, head: User, admin_user: User
) -> None:
    share_rules(registrant=2, closer=None)
    deal = won_deal(where, registrant=registrant, closer=closer, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [registrant.pk])
    approve(statement_of(registrant, JAN), head)

    sales_services.deal_set_registrant(by=admin_user, deal=deal, registrant=closer)
    statements_compute(FEB, [registrant.pk, closer.pk])

    assert paid(registrant, FEB) == [(CLAWBACK, "clawback_not_registrant", Decimal("-20.00"))]
    assert paid(closer, FEB) == [(CREDIT, "registrant_share", Decimal("20.00"))]


def test_a_late_change_makes_version_two_with_the_difference(
    where: Board, registrant: User, closer: User, head: User
) -> None:
    share_rules(registrant=2, closer=3)
    deal = won_deal(where, registrant=registrant, closer=closer, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [registrant.pk, closer.pk])
    first = approve(statement_of(registrant, JAN), head)

    type(deal).objects.filter(pk=deal.pk).update(amount=Decimal(1500))
    result = statements_compute(JAN, [registrant.pk, closer.pk])

    second = statement_of(registrant, JAN)
    assert (second.version, second.status, second.previous, second.total) == (
        2,
        StatementStatus.DRAFT,
        first,
        Decimal("30.00"),
    )
    [change] = statement_difference(second)
    assert (change.deal_id, change.before, change.after, change.difference) == (
        deal.pk,
        Decimal("20.00"),
        Decimal("30.00"),
        Decimal("10.00"),
    )
    first.refresh_from_db()
    assert (first.total, first.status) == (Decimal("20.00"), StatementStatus.APPROVED)
    # The closer's statement was a draft: rewritten in place, no new version.
    assert (result.created, result.updated) == (1, 1)
    assert statement_of(closer, JAN).version == 1

    # Changed back before anyone approved version 2: it is no longer needed.
    type(deal).objects.filter(pk=deal.pk).update(amount=Decimal(1000))
    statements_compute(JAN, [registrant.pk])
    assert statement_of(registrant, JAN) == first


def test_only_the_money_makes_a_new_version_of_an_approved_statement(
    where: Board, registrant: User, closer: User, head: User
) -> None:
    share_rules(registrant=None, closer=3, min_activities=2)
    acme = client()
    won_deal(where, registrant=registrant, closer=closer, closed=on(date(2026, 1, 20)), company=acme)
    statements_compute(JAN, [closer.pk])
    approve(statement_of(closer, JAN), head)

    contact_logged(on(date(2026, 1, 3)), company=acme)  # still one short: the reason's figures change, not the money
    assert statements_compute(JAN, [closer.pk]).created == 0
    assert Statement.objects.filter(person=closer).count() == 1


def test_a_recomputation_of_an_unchanged_period_writes_nothing(where: Board, registrant: User, closer: User) -> None:
    share_rules()
    won_deal(where, registrant=registrant, closer=closer, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [registrant.pk, closer.pk])
    before = list(Statement.objects.values_list("pk", "computed_at"))
    lines = list(StatementLine.objects.values_list("pk", flat=True))

    result = statements_compute(JAN, [registrant.pk, closer.pk])

    assert (result.created, result.updated, result.removed, result.unchanged) == (0, 0, 0, 2)
    assert list(Statement.objects.values_list("pk", "computed_at")) == before
    assert list(StatementLine.objects.values_list("pk", flat=True)) == lines


def test_people_with_nothing_to_say_get_no_statement(where: Board, registrant: User, outsider: User) -> None:
    share_rules()
    statements_compute(JAN, [registrant.pk, outsider.pk])

    assert not Statement.objects.exists()


def test_everyone_who_sells_is_computed_when_no_one_is_named(where: Board, registrant: User, closer: User) -> None:
    share_rules()
    analyst = UserFactory.create(role=Role.ANALYST)
    won_deal(where, registrant=analyst, closer=closer, closed=on(date(2026, 1, 20)))

    statements_compute(JAN)

    assert set(Statement.objects.values_list("person_id", flat=True)) == {closer.pk}

"""Bonus statements and rules through their services: approval and its lock, who may do what, bad input refused
with nothing written, rule versions, bonus so far, the nightly job, and a query count that ignores the deals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.accounts.tests.factories import UserFactory
from rapport.core.models import JobRun
from rapport.motivation.models import (
    ApprovedStatementError,
    BonusRule,
    BonusRuleKind,
    LineKind,
    Metric,
    Statement,
    StatementLine,
    StatementStatus,
)
from rapport.motivation.periods import month_of
from rapport.motivation.statements import (
    bonus_so_far,
    bonus_so_far_of,
    rule_save,
    statement_approve,
    statements_compute,
)
from rapport.motivation.tasks import BONUS_STATEMENTS, bonus_statements
from rapport.motivation.tests.bonus_world import (
    FEB,
    JAN,
    Board,
    board,
    client,
    contact_logged,
    moment,
    on,
    paid,
    share_rules,
    statement_of,
    won_deal,
)
from rapport.sales.models import Deal


@pytest.fixture
def where(db: None) -> Board:
    return board()


@pytest.fixture
def january(where: Board, manager: User, teammate: User, outsider: User) -> dict[str, Statement]:
    """January's drafts: the manager registered and the teammate won a deal; the outsider won one of their own."""
    share_rules(registrant=2, closer=3)
    won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=on(date(2026, 1, 20)))
    won_deal(where, registrant=outsider, closer=outsider, amount=100, closed=on(date(2026, 1, 21)))
    statements_compute(JAN, [manager.pk, teammate.pk, outsider.pk])
    return {
        "manager": statement_of(manager, JAN),
        "teammate": statement_of(teammate, JAN),
        "outsider": statement_of(outsider, JAN),
    }


# ---- Approval ---------------------------------------------------------------------------------------


def test_a_head_approves_their_team_members_statement_and_it_is_locked(
    january: dict[str, Statement], head: User
) -> None:
    approved = statement_approve(by=head, statement=january["manager"])

    approved.refresh_from_db()
    assert (approved.status, approved.approved_by, approved.total) == (StatementStatus.APPROVED, head, Decimal("20"))
    assert approved.approved_at is not None


def test_an_approved_statement_and_its_lines_never_change_by_any_path(
    january: dict[str, Statement], head: User
) -> None:
    approved = statement_approve(by=head, statement=january["manager"])
    line = approved.lines.get()

    approved.total = Decimal(1)
    with pytest.raises(ApprovedStatementError):
        approved.save()
    with pytest.raises(ApprovedStatementError):
        approved.delete()
    with pytest.raises(ApprovedStatementError):
        Statement.objects.filter(pk=approved.pk).update(total=0)
    with pytest.raises(ApprovedStatementError):
        Statement.objects.filter(pk=approved.pk).delete()
    line.amount = Decimal(1)
    with pytest.raises(ApprovedStatementError):
        line.save()
    with pytest.raises(ApprovedStatementError):
        line.delete()
    with pytest.raises(ApprovedStatementError):
        StatementLine.objects.filter(pk=line.pk).update(amount=0)
    with pytest.raises(ApprovedStatementError):
        StatementLine.objects.filter(statement=approved).delete()
    with pytest.raises(ApprovedStatementError):
        StatementLine.objects.bulk_create(
            [StatementLine(statement=approved, rule=line.rule, kind=LineKind.CREDIT, amount=1, reason_code="x")]
        )

    stored = Statement.objects.get(pk=approved.pk)
    assert (stored.total, stored.lines.get().amount) == (Decimal("20"), Decimal("20"))


@pytest.mark.parametrize(
    ("approver", "whose"),
    [
        ("head", "outsider"),  # another team's
        ("teammate", "manager"),  # a colleague, not a head
        ("manager", "manager"),  # one's own
        ("operator", "manager"),
    ],
)
def test_approving_what_is_not_yours_to_approve_is_refused_and_changes_nothing(
    january: dict[str, Statement], personas: dict[str, User], approver: str, whose: str
) -> None:
    with pytest.raises(PermissionDenied):
        statement_approve(by=personas[approver], statement=january[whose])

    assert not Statement.objects.filter(status=StatementStatus.APPROVED).exists()


def test_nobody_approves_their_own_statement_not_even_a_head(
    where: Board, head: User, admin_user: User, manager: User
) -> None:
    share_rules()
    won_deal(where, registrant=head, closer=head, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [head.pk])
    own = statement_of(head, JAN)

    with pytest.raises(PermissionDenied):
        statement_approve(by=head, statement=own)
    assert statement_approve(by=admin_user, statement=own).is_approved


def test_an_admin_approves_anyones(january: dict[str, Statement], admin_user: User) -> None:
    assert statement_approve(by=admin_user, statement=january["outsider"]).is_approved


def test_approving_twice_is_refused(january: dict[str, Statement], head: User, admin_user: User) -> None:
    statement_approve(by=head, statement=january["manager"])

    with pytest.raises(ValidationError, match="already approved by Hanna Head"):
        statement_approve(by=admin_user, statement=january["manager"])


def test_a_statement_recomputed_since_it_was_opened_is_not_approved(
    january: dict[str, Statement], head: User, manager: User
) -> None:
    seen = january["manager"]
    Deal.objects.update(amount=Decimal(2000))
    with moment(on(date(2026, 2, 1))):
        statements_compute(JAN, [manager.pk])

    with pytest.raises(ValidationError) as refusal:
        statement_approve(by=head, statement=seen)

    assert refusal.value.code == "stale"
    assert statement_of(manager, JAN).status == StatementStatus.DRAFT


def test_a_statement_no_longer_true_is_brought_up_to_date_instead_of_approved(
    january: dict[str, Statement], head: User, manager: User
) -> None:
    Deal.objects.update(amount=Decimal(2000))  # nobody recomputed yet

    with pytest.raises(ValidationError, match="The figures changed"):
        statement_approve(by=head, statement=january["manager"])

    current = statement_of(manager, JAN)
    assert (current.status, current.total) == (StatementStatus.DRAFT, Decimal("40"))
    assert statement_approve(by=head, statement=current).is_approved


def test_two_drafts_carrying_one_claw_back_cannot_both_be_approved(
    where: Board, manager: User, teammate: User, head: User, admin_user: User
) -> None:
    from rapport.motivation.tests.bonus_world import MAR, reopen

    share_rules(registrant=None, closer=3)
    deal = won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [teammate.pk])
    statement_approve(by=head, statement=statement_of(teammate, JAN))
    reopen(deal, admin_user, where, on(date(2026, 2, 3)))
    statements_compute(FEB, [teammate.pk])
    statements_compute(MAR, [teammate.pk])
    assert paid(teammate, FEB) == paid(teammate, MAR) == [("clawback", "clawback_reopened", Decimal("-30"))]

    statement_approve(by=head, statement=statement_of(teammate, FEB))
    with pytest.raises(ValidationError, match="The figures changed"):
        statement_approve(by=head, statement=statement_of(teammate, MAR))

    assert not Statement.objects.filter(person=teammate, period_start=MAR.start).exists()


# ---- Who sees which statements -------------------------------------------------------------------------


def test_statements_are_seen_by_their_person_their_head_admins_and_analysts_not_operators(
    january: dict[str, Statement], personas: dict[str, User]
) -> None:
    def seen(name: str) -> set[int]:
        return set(access.statements_visible_to(personas[name]).values_list("pk", flat=True))

    ids = {name: statement.pk for name, statement in january.items()}
    assert seen("manager") == {ids["manager"]}
    assert seen("head") == {ids["manager"], ids["teammate"]}
    assert seen("admin") == set(ids.values())
    assert seen("operator") == set()  # they see every client, but pay is for who manages people
    assert seen("outsider") == {ids["outsider"]}
    with pytest.raises(Http404):
        access.statement_for_user(personas["manager"], ids["teammate"])
    assert access.statement_for_user(personas["head"], ids["teammate"]) == january["teammate"]


# ---- Rules ----------------------------------------------------------------------------------------------

CLOSER: dict[str, Any] = {
    "name": "Closer's share",
    "kind": BonusRuleKind.CLOSER_SHARE,
    "percent": "3",
    "effective_from": date(2026, 1, 1),
}
PER_CALL: dict[str, Any] = {
    "name": "Calls above plan",
    "kind": BonusRuleKind.PER_UNIT_ABOVE_PLAN,
    "metric": Metric.CALLS,
    "amount": "5",
    "effective_from": date(2026, 1, 1),
}


def test_an_admin_configures_rules_with_their_conditions(admin_user: User) -> None:
    rule = rule_save(by=admin_user, **CLOSER, min_activities="2", checkpoints_required=True, min_quality=70)
    per_call = rule_save(by=admin_user, **PER_CALL)

    assert (rule.percent, rule.min_activities, rule.checkpoints_required, rule.min_quality, rule.currency) == (
        Decimal(3),
        2,
        True,
        70,
        "",
    )
    assert (per_call.amount, per_call.metric, per_call.currency) == (Decimal(5), Metric.CALLS, "USD")


@pytest.mark.parametrize("who", ["head", "manager", "operator"])
def test_only_admins_configure_rules(personas: dict[str, User], who: str) -> None:
    with pytest.raises(PermissionDenied):
        rule_save(by=personas[who], **CLOSER)
    assert not BonusRule.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (CLOSER | {"percent": "101"}, "percent", "cannot be over 100"),
        (CLOSER | {"percent": "0"}, "percent", "An empty rule pays nothing"),
        (CLOSER | {"percent": None}, "percent", "Give the percentage"),
        (CLOSER | {"percent": "lots"}, "percent", "Give a number"),
        (CLOSER | {"percent": "2.555"}, "percent", "two decimals"),
        (CLOSER | {"metric": Metric.CALLS}, "metric", "counts no metric"),
        (CLOSER | {"amount": "5"}, "amount", "leave the amount empty"),
        (CLOSER | {"name": "  "}, "name", "Give the rule a name"),
        (CLOSER | {"kind": "lottery"}, "kind", "Choose one of the kinds"),
        # ISO 4217's "no currency", never one of RAPPORT_CURRENCIES: refused.
        (CLOSER | {"currency": "JPY"}, "currency", "Choose one of the currencies"),
        (CLOSER | {"min_activities": -1}, "min_activities", "from 0 to 1,000"),
        (CLOSER | {"min_quality": 101}, "min_quality", "0 to 100"),
        (CLOSER | {"effective_from": None}, "effective_from", "first day"),
        (CLOSER | {"effective_until": date(2025, 12, 31)}, "effective_until", "before the first"),
        (CLOSER | {"effective_from": date(2205, 1, 1)}, "effective_from", "Choose a date between"),
        (PER_CALL | {"metric": ""}, "metric", "Choose the metric"),
        (PER_CALL | {"amount": None}, "amount", "Give the amount"),
        (PER_CALL | {"amount": "0"}, "amount", "An empty rule pays nothing"),
        (PER_CALL | {"min_activities": 2}, "min_activities", "condition on deals"),
        (PER_CALL | {"checkpoints_required": True}, "checkpoints_required", "condition on deals"),
        (PER_CALL | {"kind": BonusRuleKind.ACCELERATOR, "amount": None, "percent": "5"}, "metric", "Revenue won"),
    ],
)
def test_bad_rules_are_refused_by_field_and_nothing_is_written(
    admin_user: User, fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refusal:
        rule_save(by=admin_user, **fields)

    assert words in " ".join(refusal.value.message_dict[field])
    assert not BonusRule.objects.exists()


def test_a_second_rule_paying_for_the_same_thing_on_the_same_days_is_refused(admin_user: User) -> None:
    rule_save(by=admin_user, **CLOSER, effective_until=date(2026, 6, 30))

    with pytest.raises(ValidationError, match="already pays for this"):
        rule_save(by=admin_user, **CLOSER | {"effective_from": date(2026, 6, 1)})
    later = rule_save(by=admin_user, **CLOSER | {"effective_from": date(2026, 7, 1), "percent": "4"})
    assert later.percent == Decimal(4)
    assert BonusRule.objects.count() == 2


def test_the_database_refuses_an_empty_or_oversized_rule_too(db: None) -> None:
    from django.db import IntegrityError, transaction

    for percent in (Decimal(0), Decimal(101)):
        with pytest.raises(IntegrityError), transaction.atomic():
            BonusRule.objects.create(
                name="x", kind=BonusRuleKind.CLOSER_SHARE, percent=percent, effective_from=date(2026, 1, 1)
            )


def test_changing_an_unused_rule_changes_it_in_place(admin_user: User) -> None:
    rule = rule_save(by=admin_user, **CLOSER)

    changed = rule_save(by=admin_user, rule=rule, **CLOSER | {"percent": "4"})

    assert (changed.pk, changed.percent, BonusRule.objects.count()) == (rule.pk, Decimal(4), 1)


def test_changing_a_rule_an_approved_statement_used_makes_a_new_version(
    where: Board, admin_user: User, manager: User, teammate: User, head: User
) -> None:
    rule = rule_save(by=admin_user, **CLOSER)
    won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [teammate.pk])
    approved = statement_approve(by=head, statement=statement_of(teammate, JAN))

    new = rule_save(by=admin_user, rule=rule, **CLOSER | {"percent": "5", "effective_from": date(2026, 3, 1)})

    rule.refresh_from_db()
    assert (new.replaces, new.percent, new.effective_from) == (rule, Decimal(5), date(2026, 3, 1))
    assert (rule.percent, rule.effective_until, rule.is_active) == (Decimal(3), date(2026, 2, 28), True)
    assert approved.lines.get().rule == rule
    # The history holds: January is still paid by the old version.
    statements_compute(JAN, [teammate.pk])
    assert statement_of(teammate, JAN) == approved
    with pytest.raises(ValidationError, match="replaced by a newer version"):
        rule_save(by=admin_user, rule=rule, **CLOSER)


def test_a_new_version_from_the_same_day_retires_the_old_one_and_a_recomputation_shows_it(
    where: Board, admin_user: User, manager: User, teammate: User, head: User
) -> None:
    rule = rule_save(by=admin_user, **CLOSER)
    won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [teammate.pk])
    approved = statement_approve(by=head, statement=statement_of(teammate, JAN))

    rule_save(by=admin_user, rule=rule, **CLOSER | {"percent": "5"})
    statements_compute(JAN, [teammate.pk])

    rule.refresh_from_db()
    assert not rule.is_active
    second = statement_of(teammate, JAN)
    assert (second.version, second.previous, second.total) == (2, approved, Decimal(50))


# ---- Bonus so far ----------------------------------------------------------------------------------------


def test_bonus_so_far_is_this_months_statement_computed_live_without_writing(
    where: Board, manager: User, teammate: User, head: User
) -> None:
    share_rules(registrant=2, closer=3)
    today = timezone.localdate()
    won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=timezone.now())

    assert bonus_so_far(manager, today) == {"USD": Decimal(20)}
    assert bonus_so_far(head, today) == {}
    assert bonus_so_far_of(head, today) == {
        head.pk: {},
        manager.pk: {"USD": Decimal(20)},
        teammate.pk: {"USD": Decimal(30)},
    }
    assert bonus_so_far_of(manager, today) == {manager.pk: {"USD": Decimal(20)}}
    assert not Statement.objects.exists()


def test_bonus_so_far_costs_a_few_queries_for_one_person(
    where: Board, manager: User, teammate: User, django_assert_max_num_queries: Any
) -> None:
    share_rules(registrant=2, closer=3, min_activities=1, checkpoints_required=True, min_quality=50)
    for _number in range(5):
        won_deal(where, registrant=manager, closer=teammate, closed=timezone.now())

    with django_assert_max_num_queries(8):
        bonus_so_far(teammate, timezone.localdate())


# ---- The nightly job and the cost of computing ----------------------------------------------------------


def test_the_nightly_job_brings_this_months_statements_up_to_date(where: Board, manager: User, teammate: User) -> None:
    share_rules()
    won_deal(where, registrant=manager, closer=teammate, closed=timezone.now())

    bonus_statements.enqueue()

    month = month_of(timezone.localdate())
    assert set(Statement.objects.filter(period_start=month.start).values_list("person_id", "total", "status")) == {
        (manager.pk, Decimal(20), StatementStatus.DRAFT),
        (teammate.pk, Decimal(30), StatementStatus.DRAFT),
    }
    assert JobRun.objects.get(name=BONUS_STATEMENTS).runs == 1


def _month_of_deals(where: Board, people: list[User], deals: int) -> None:
    acme = client()
    contact_logged(on(date(2026, 1, 2)), company=acme)
    for number in range(deals):
        won_deal(
            where,
            registrant=people[number % len(people)],
            closer=people[(number + 1) % len(people)],
            amount=100 + number,
            closed=on(date(2026, 1, 3 + number % 25)),
            company=acme,
        )


@pytest.mark.parametrize("deals", [3, 30])
def test_computing_statements_costs_the_same_queries_for_3_deals_as_for_30(
    where: Board, deals: int, django_assert_max_num_queries: Any, admin_user: User
) -> None:
    share_rules(registrant=2, closer=3, min_activities=1, checkpoints_required=True, min_quality=0)
    people = [UserFactory.create() for _ in range(6)]
    _month_of_deals(where, people, deals)
    ids = [person.pk for person in people]

    with django_assert_max_num_queries(16):
        statements_compute(JAN, ids)
    with django_assert_max_num_queries(20):  # rewriting every draft
        Deal.objects.update(amount=Decimal(7))
        statements_compute(JAN, ids)
    for statement in Statement.objects.all():
        statement_approve(by=admin_user, statement=statement)
    with django_assert_max_num_queries(30):  # deals deleted: January stays as approved, February claws back
        Deal.objects.update(deleted_at=timezone.now())
        statements_compute(JAN, ids)
        statements_compute(FEB, ids)
    paid_in_january = Statement.objects.filter(period_start=JAN.start).exclude(total=0)
    assert Statement.objects.filter(period_start=FEB.start).count() == paid_in_january.count()
    assert Statement.objects.filter(period_start=JAN.start, version__gt=1).count() == 0

"""The plan metrics read live from the CRM, and the counters they drive at the top of my day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities import services as activity_services
from rapport.clients import services as client_services
from rapport.clients.models import Company
from rapport.motivation import metrics
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.periods import Period, month_of, next_period, quarter_of
from rapport.motivation.progress import AHEAD, BEHIND, DONE, Progress
from rapport.sales import services as sales_services
from rapport.sales.models import Deal, Pipeline, Stage

MY_DAY = "/activities/my-day/"


def this_month() -> Period:
    return month_of(timezone.localdate())


def meeting(by: User, client: Company, **fields: Any) -> None:
    person = client_services.contact_create(
        by=by,
        last_name="Petrova",
        first_name="Anna",
        company=client,
        points=[client_services.PointInput(kind="email", value=f"anna{Target.objects.count()}@acme.test")],
    )
    activity_services.activity_create(
        by=by, kind="meeting", status="done", contact=person, subject="Terms", result="Agreed", **fields
    )


def target(metric: str, value: int, *, person: User | None = None, team: Any = None, **fields: Any) -> Target:
    period = this_month()
    return Target.objects.create(
        metric=metric,
        user=person,
        team=team,
        period_kind=PeriodKind.MONTH,
        starts_on=period.start,
        ends_on=period.end,
        value=Decimal(value),
        **fields,
    )


def won(by: User, deal: Deal, pipeline: Pipeline) -> Deal:
    deal.checkpoints.update(done_at=timezone.now())
    return sales_services.deal_move_to_stage(by=by, deal=deal, stage=Stage.objects.get(pipeline=pipeline, name="Won"))


# ---- Periods -----------------------------------------------------------------------------------


def test_periods() -> None:
    assert month_of(date(2028, 2, 10)) == Period(date(2028, 2, 1), date(2028, 2, 29))
    assert quarter_of(date(2026, 11, 24)) == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert next_period(PeriodKind.QUARTER, quarter_of(date(2026, 11, 24))) == Period(
        date(2027, 1, 1), date(2027, 3, 31)
    )
    assert next_period(PeriodKind.MONTH, month_of(date(2026, 1, 31))) == Period(date(2026, 2, 1), date(2026, 2, 28))
    custom = Period(date(2026, 3, 10), date(2026, 3, 19))
    assert next_period(PeriodKind.CUSTOM, custom) == Period(date(2026, 3, 20), date(2026, 3, 29))
    assert custom.elapsed_share(date(2026, 3, 14)) == 0.5
    assert (custom.elapsed_share(date(2026, 1, 1)), custom.elapsed_share(date(2027, 1, 1))) == (0.0, 1.0)


# ---- Metrics -----------------------------------------------------------------------------------


def test_calls_and_meetings_count_what_was_done_in_the_period(manager: User, teammate: User, acme: Company) -> None:
    now = timezone.now()
    for _ in range(2):
        activity_services.activity_create(by=manager, kind="call", status="done", company=acme)
    activity_services.activity_create(by=manager, kind="call", company=acme, due_at=now + timedelta(hours=1))
    activity_services.activity_create(
        by=manager, kind="call", status="done", company=acme, done_at=now - timedelta(days=40)
    )
    gone = activity_services.activity_create(by=manager, kind="call", status="done", company=acme)
    activity_services.activity_delete(by=manager, activity=gone)
    meeting(manager, acme)
    ids = [manager.pk, teammate.pk]
    period = Period(timezone.localdate() - timedelta(days=1), timezone.localdate())
    assert metrics.facts(Metric.CALLS, ids, period) == {manager.pk: 2, teammate.pk: 0}
    assert metrics.facts(Metric.MEETINGS, ids, period) == {manager.pk: 1, teammate.pk: 0}


def test_new_clients_are_companies_and_private_persons(manager: User, acme: Company) -> None:
    client_services.contact_create(by=manager, last_name="Ivanov", first_name="Ivan", company=acme)
    client_services.contact_create(by=manager, last_name="Loner", first_name="Lev")
    assert metrics.facts(Metric.NEW_CLIENTS, [manager.pk], this_month()) == {manager.pk: 2}


def test_a_won_deal_counts_for_its_closer_and_its_registrant(
    manager: User, teammate: User, head: User, acme: Company, pipeline: Pipeline
) -> None:
    theirs = client_services.company_create(by=teammate, name="Theirs Ltd")
    buyer = client_services.contact_create(by=teammate, last_name="Buyer", first_name="Bob", company=theirs)
    deal = sales_services.deal_create(
        by=teammate, title="Chairs", company=theirs, contact=buyer, pipeline=pipeline, amount=Decimal(500)
    )
    deal = sales_services.deal_update(by=head, deal=deal, version=deal.version, owner=manager)
    won(manager, deal, pipeline)
    # Handed on after the win: still the manager's win.
    deal.refresh_from_db()
    sales_services.deal_update(by=head, deal=deal, version=deal.version, owner=teammate)
    ids = [manager.pk, teammate.pk]
    period = this_month()
    assert metrics.facts(Metric.DEALS_REGISTERED, ids, period) == {manager.pk: 0, teammate.pk: 1}
    assert metrics.facts(Metric.DEALS_WON, ids, period) == {manager.pk: 1, teammate.pk: 0}
    currency = deal.currency
    assert metrics.facts(Metric.REVENUE_WON, ids, period, currency=currency)[manager.pk] == Decimal(500)
    # "XXX" is ISO 4217's "no currency": no deal is in it, so revenue counted in it is nothing.
    assert metrics.facts(Metric.REVENUE_WON, ids, period, currency="XXX")[manager.pk] == 0
    assert metrics.facts(Metric.CHECKPOINTS, ids, period) == {manager.pk: 0, teammate.pk: 0}  # set in bulk above


def test_checkpoints_passed(manager: User, acme: Company, pipeline: Pipeline) -> None:
    deal = sales_services.deal_create(by=manager, title="Desks", company=acme, pipeline=pipeline)
    for checkpoint in deal.checkpoints.all()[:2]:
        sales_services.deal_checkpoint_set(by=manager, checkpoint=checkpoint, done=True)
    assert metrics.facts(Metric.CHECKPOINTS, [manager.pk], this_month()) == {manager.pk: 2}


def test_a_teams_figure_is_its_members_sum(manager: User, teammate: User, acme: Company) -> None:
    theirs = client_services.company_create(by=teammate, name="Theirs Ltd")
    activity_services.activity_create(by=manager, kind="call", status="done", company=acme)
    activity_services.activity_create(by=teammate, kind="call", status="done", company=theirs)
    assert metrics.team_fact(Metric.CALLS, [manager.pk, teammate.pk], this_month()) == 2


# ---- Progress ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fact", "day", "pace", "percent"),
    [(5, 15, AHEAD, 50), (4, 20, BEHIND, 40), (10, 3, DONE, 100), (12, 30, DONE, 100)],
)
def test_pace_against_the_share_of_the_period(fact: int, day: int, pace: str, percent: int) -> None:
    goal = Target(metric=Metric.DEALS_WON, starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30), value=Decimal(10))
    progress = Progress(goal, Decimal(fact), date(2026, 11, day))
    assert (progress.pace, progress.percent) == (pace, percent)


# ---- My day ------------------------------------------------------------------------------------


def counters(page: str) -> list[str]:
    import re

    return [
        " ".join(figure.split())
        for figure in re.findall(r'class="h2 mb-1 plan-counter-figure">(.*?)</div>', page, flags=re.S)
    ]


def test_a_meeting_logged_moves_the_counter_on_the_next_page(
    manager: User, teammate: User, as_manager: Client, acme: Company
) -> None:
    assert 'class="row row-cards mb-3 plan-counters"' not in as_manager.get(MY_DAY).content.decode()
    target(Metric.MEETINGS, 10, person=manager)
    target(Metric.CALLS, 100, team=manager.team)
    for _ in range(5):
        meeting(manager, acme)
    theirs = client_services.company_create(by=teammate, name="Theirs Ltd")
    activity_services.activity_create(by=teammate, kind="call", status="done", company=theirs)
    assert counters(as_manager.get(MY_DAY).content.decode()) == ["5 of 10", "1 of 100"]
    meeting(manager, acme)
    page = as_manager.get(MY_DAY).content.decode()
    assert counters(page) == ["6 of 10", "1 of 100"]
    assert "Meetings held" in page


def test_others_targets_are_not_shown(manager: User, teammate: User, outsider: User, as_manager: Client) -> None:
    target(Metric.MEETINGS, 10, person=teammate)
    target(Metric.MEETINGS, 10, team=outsider.team)
    old = target(Metric.CALLS, 10, person=manager)
    old.starts_on, old.ends_on = date(2020, 1, 1), date(2020, 1, 31)
    old.save()
    assert counters(as_manager.get(MY_DAY).content.decode()) == []


def test_counters_cost_a_query_or_two(
    manager: User, as_manager: Client, acme: Company, django_assert_num_queries: Any
) -> None:
    target(Metric.MEETINGS, 10, person=manager)
    target(Metric.DEALS_WON, 3, person=manager)
    target(Metric.CALLS, 100, team=manager.team)
    # My day's own (test_my_day, the targets' query included), the team's members, the person's and the
    # team's calls and meetings together, and the deals won.
    with django_assert_num_queries(10 + 1 + 1 + 1):
        response = as_manager.get(MY_DAY)
    assert counters(response.content.decode()) == ["0 of 3", "0 of 10", "0 of 100"]

"""The team dashboard and bonus so far, as heads and managers meet them.

Who opens the dashboard (heads for their team, admins and analysts for any), what each row says
(this month's targets with live facts, this week's load day by day, the latest data-quality
score), the cost in queries, and bonus so far: the person's own card on my day and each
person's figure on the dashboard, computed live.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.motivation import services
from rapport.motivation.dashboard import week_of
from rapport.motivation.models import Metric, PeriodKind, QualitySnapshot
from rapport.motivation.periods import month_of
from rapport.motivation.tests.bonus_world import Board, board, contact_logged, on, share_rules, won_deal

DASHBOARD = reverse("motivation:dashboard")
SO_FAR = reverse("motivation:bonus-so-far")
MY_DAY = reverse("activities:my-day")


def set_target(by: User, metric: str, value: int, *, person: User | None = None, team: Team | None = None) -> None:
    period = month_of(timezone.localdate())
    services.target_save(
        by=by,
        metric=metric,
        value=value,
        period_kind=PeriodKind.MONTH,
        starts_on=period.start,
        ends_on=period.end,
        person=person,
        team=team,
    )


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="dashboard-row" data-person="(\d+)"', html)


def day_cell(html: str, person: User, day: str) -> tuple[str, str]:
    row = re.search(rf'data-person="{person.pk}".*?</tr>', html, re.S)
    assert row is not None
    found = re.search(rf'data-day="{day}" data-done="(\d+)" data-planned="(\d+)"', row.group(0))
    assert found is not None
    return found.group(1), found.group(2)


def logged(person: User, *, days_ago: int = 0, status: str = ActivityStatus.DONE) -> Activity:
    return contact_logged(timezone.now() - timedelta(days=days_ago), owner=person, status=status)


# ---- Who opens it --------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), [("manager", 403), ("agent", 403), ("operator", 403)])
def test_the_dashboard_is_for_those_who_manage_people(personas: dict[str, User], persona: str, status: int) -> None:
    assert client_for(personas[persona]).get(DASHBOARD).status_code == status


def test_a_head_sees_their_team_and_cannot_open_another_by_its_address(
    head: User, manager: User, teammate: User, outsider: User, team_b: Team
) -> None:
    as_head = client_for(head)
    page = as_head.get(DASHBOARD).content.decode()
    assert set(rows(page)) == {str(head.pk), str(manager.pk), str(teammate.pk)}
    assert str(outsider.pk) not in rows(page)
    assert as_head.get(DASHBOARD, {"team": team_b.pk}).status_code == 404


def test_an_admin_and_an_analyst_choose_any_team(admin_user: User, manager: User, outsider: User, team_b: Team) -> None:
    analyst = UserFactory.create(role=Role.ANALYST)
    for viewer in (admin_user, analyst):
        page = client_for(viewer).get(DASHBOARD, {"team": team_b.pk}).content.decode()
        assert rows(page) == [str(outsider.pk)]
        assert 'id="dashboard-team"' in page
    # An analyst sees no one's data-quality score: that is for who manages them.
    assert "dashboard-quality" not in client_for(analyst).get(DASHBOARD, {"team": team_b.pk}).content.decode()


def test_the_navigation_offers_it_to_heads_only(head: User, manager: User) -> None:
    assert DASHBOARD in client_for(head).get(MY_DAY).content.decode()
    assert DASHBOARD not in client_for(manager).get(MY_DAY).content.decode()


# ---- What it shows -------------------------------------------------------------------------------


def test_each_person_shows_their_targets_with_live_facts(head: User, manager: User, team_a: Team) -> None:
    set_target(head, Metric.CALLS, 10, person=manager)
    set_target(head, Metric.CALLS, 30, team=team_a)
    for _ in range(3):
        logged(manager)
    page = client_for(head).get(DASHBOARD).content.decode()
    row = re.search(rf'data-person="{manager.pk}".*?</tr>', page, re.S)
    assert row is not None
    assert 'data-fact="3" data-target="10"' in row.group(0)
    team_card = re.search(
        r'class="card-body dashboard-team-target" data-metric="calls".*?data-fact="(\d+)" data-target="(\d+)"',
        page,
        re.S,
    )
    assert team_card is not None
    assert team_card.groups() == ("3", "30")


def test_the_week_counts_done_and_still_planned_per_day(head: User, manager: User) -> None:
    today = timezone.localdate()
    week = week_of(today)
    logged(manager)
    logged(manager)
    contact_logged(on(today, 16), owner=manager, status=ActivityStatus.PLANNED)
    cancelled = contact_logged(on(today, 17), owner=manager, status=ActivityStatus.PLANNED)
    Activity.objects.filter(pk=cancelled.pk).update(status=ActivityStatus.CANCELLED)
    Activity.objects.create(
        kind=ActivityKind.TASK, status=ActivityStatus.DONE, at=on(week.start - timedelta(days=1)), owner=manager
    )
    page = client_for(head).get(DASHBOARD).content.decode()
    assert day_cell(page, manager, today.isoformat()) == ("2", "1")
    assert sum(int(day_cell(page, manager, (week.start + timedelta(days=n)).isoformat())[0]) for n in range(7)) == 2


def test_data_quality_is_the_latest_snapshot_with_its_change_in_a_week(head: User, manager: User) -> None:
    today = timezone.localdate()
    QualitySnapshot.objects.create(
        user=manager, on=today - timedelta(days=8), score=60, clients_score=60, activities_share=60, clients=5
    )
    QualitySnapshot.objects.create(user=manager, on=today, score=72, clients_score=70, activities_share=80, clients=5)
    page = client_for(head).get(DASHBOARD).content.decode()
    assert 'data-score="72"' in page
    assert "+12 in a week" in page


def test_a_stale_snapshot_is_not_shown_as_the_score_now(head: User, manager: User) -> None:
    QualitySnapshot.objects.create(
        user=manager,
        on=timezone.localdate() - timedelta(days=10),
        score=40,
        clients_score=40,
        activities_share=40,
        clients=1,
    )
    assert 'data-score="40"' not in client_for(head).get(DASHBOARD).content.decode()


def test_the_queries_do_not_grow_with_people_or_activities(
    head: User, team_a: Team, django_assert_max_num_queries: object
) -> None:
    people = [UserFactory.create(role=Role.MANAGER, team=team_a) for _ in range(2)]
    for person in people:
        set_target(head, Metric.CALLS, 10, person=person)
        set_target(head, Metric.DEALS_WON, 2, person=person)
        logged(person)
    as_head = client_for(head)
    as_head.get(DASHBOARD)  # warm the session and the navigation's caches

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert as_head.get(DASHBOARD).status_code == 200
        return len(queries)

    before = count()
    for _ in range(6):
        person = UserFactory.create(role=Role.MANAGER, team=team_a)
        set_target(head, Metric.CALLS, 10, person=person)
        set_target(head, Metric.DEALS_WON, 2, person=person)
        logged(person)
        logged(person, days_ago=1)
    assert count() == before
    assert before <= 12


# ---- Bonus so far --------------------------------------------------------------------------------


@pytest.fixture
def paying(manager: User, teammate: User) -> Board:
    """This month: a deal registered by the manager and won by the teammate, with contact history."""
    share_rules(registrant=2, closer=3, since=month_of(timezone.localdate()).start - timedelta(days=40))
    where = board()
    deal = won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=timezone.now())
    contact_logged(timezone.now() - timedelta(minutes=5), company=deal.company, owner=teammate)
    return where


def figure(html: str, person: User) -> str:
    found = re.search(
        rf'<span id="bonus-so-far-{person.pk}" hx-swap-oob="true"[^>]*>(.*?)</span>\s*(?=<span|$)', html, re.S
    )
    assert found is not None, html
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_my_day_fetches_my_bonus_so_far_and_it_is_mine(manager: User, paying: Board) -> None:
    as_manager = client_for(manager)
    assert 'id="bonus-so-far-loader"' in as_manager.get(MY_DAY).content.decode()
    card = as_manager.get(SO_FAR).content.decode()
    assert 'id="bonus-so-far"' in card
    assert "20.00 USD" in card  # 2 % of 1,000 as the registrant


def test_without_rules_my_day_shows_no_bonus_card(manager: User) -> None:
    assert 'id="bonus-so-far"' not in client_for(manager).get(SO_FAR).content.decode()


def test_the_dashboard_fills_each_persons_bonus_so_far(
    head: User, manager: User, teammate: User, team_a: Team, paying: Board
) -> None:
    answer = client_for(head).get(SO_FAR, {"team": team_a.pk}).content.decode()
    assert figure(answer, manager) == "20.00 USD"
    assert figure(answer, teammate) == "30.00 USD"
    assert figure(answer, head) == "0"


def test_only_those_who_manage_a_team_read_its_bonus_so_far(
    head: User, manager: User, outsider: User, team_a: Team, team_b: Team, paying: Board
) -> None:
    assert client_for(manager).get(SO_FAR, {"team": team_a.pk}).status_code == 403
    assert client_for(head).get(SO_FAR, {"team": team_b.pk}).status_code == 404
    assert client_for(outsider).get(SO_FAR).content.decode().count("USD") == 0


def test_the_amounts_are_live(head: User, manager: User, teammate: User, team_a: Team, paying: Board) -> None:
    deal = won_deal(paying, registrant=manager, closer=manager, amount=500, closed=timezone.now())
    contact_logged(timezone.now() - timedelta(minutes=1), company=deal.company, owner=manager)
    card = client_for(manager).get(SO_FAR).content.decode()
    assert "45.00 USD" in card  # 20, then 2 % and 3 % of 500

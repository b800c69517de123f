"""The head's control room as heads meet it.

Who opens it (heads for their team, admins and analysts for any), what each row says (this month's
targets with live facts, this week's load day by day, the latest data-quality score, overdue
activities, clients without a next step, stale clients, deals off track — each linking to the list
behind it), the deals going well, the cost in queries, and the morning digest of new deviations.
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
from rapport.clients.models import ClientStatus, Company
from rapport.core.models import Notification
from rapport.motivation import services
from rapport.motivation.dashboard import week_of
from rapport.motivation.models import Metric, PeriodKind, QualitySnapshot
from rapport.motivation.periods import month_of
from rapport.motivation.tests.bonus_world import board, client, contact_logged, on
from rapport.sales.models import CheckpointType, Deal, DealCheckpoint, Stage
from rapport.supervision.control import deviations_snapshot_and_digest
from rapport.supervision.models import DeviationSnapshot

DASHBOARD = reverse("supervision:control")
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
    # Session, user, teams, people; the plan grid's; the week's load; quality snapshots; overdue; stale (two kinds);
    # this morning's snapshot and, without one, clients without a next step (two kinds); stages; deals off track;
    # deals going well; the bell.
    assert before <= 19


# ---- What needs the head's eye ------------------------------------------------------------------------------


def figure(html: str, person: User, name: str) -> int:
    row = re.search(rf'data-person="{person.pk}".*?</tr>', html, re.S)
    assert row is not None
    found = re.search(rf'data-figure="{name}" data-count="(\d+)"', row.group(0))
    assert found is not None
    return int(found.group(1))


def test_each_person_shows_overdue_activities_stale_clients_and_clients_without_a_next_step(
    head: User, manager: User
) -> None:
    now = timezone.now()
    fresh = Company.objects.create(name="Fresh", owner=manager, last_contact_at=now - timedelta(days=2))
    Company.objects.create(name="Forgotten", owner=manager, last_contact_at=now - timedelta(days=40))
    Company.objects.create(name="Never called", owner=manager)
    Company.objects.create(name="Frozen on purpose", owner=manager, status=ClientStatus.FROZEN)
    contact_logged(now + timedelta(days=1), company=fresh, owner=manager, status=ActivityStatus.PLANNED)
    overdue = contact_logged(now - timedelta(days=2), owner=manager, status=ActivityStatus.PLANNED)
    page = client_for(head).get(DASHBOARD).content.decode()
    assert figure(page, manager, "overdue") == 1
    assert figure(page, manager, "stale") == 2  # forty days ago and never; the frozen one waits on purpose
    assert figure(page, manager, "without_next_step") == 2
    assert figure(page, manager, "deals_off") == 0
    # Each figure opens the list behind it.
    activities = client_for(head).get(
        reverse("activities:activity-list"),
        {"owner": str(manager.pk), "status": "planned", "to": (timezone.localdate() - timedelta(days=1)).isoformat()},
    )
    assert overdue.subject in activities.content.decode()
    assert f"owner={manager.pk}&amp;status=active&amp;next_step=none" in page


def test_clients_without_a_next_step_come_from_this_mornings_count(head: User, manager: User) -> None:
    DeviationSnapshot.objects.create(user=head, on=timezone.localdate())
    Company.objects.create(name="Forgotten", owner=manager)
    DeviationSnapshot.objects.create(user=manager, on=timezone.localdate(), without_next_step=7)
    page = client_for(head).get(DASHBOARD).content.decode()
    assert figure(page, manager, "without_next_step") == 7
    assert "this morning" in page


def test_deals_off_track_open_the_deal_list_filtered_to_them(head: User, manager: User) -> None:
    where = board()
    stuck = Deal.objects.create(
        title="Stuck chairs",
        company=client("Slow Ltd"),
        pipeline=where.pipeline,
        stage=where.talks,
        owner=manager,
        registrant=manager,
        stage_entered_at=timezone.now() - timedelta(days=30),
    )
    Stage.objects.filter(pk=where.talks.pk).update(stale_after_days=10)
    fine = Deal.objects.create(
        title="Fine tables",
        company=client("Quick Ltd"),
        pipeline=where.pipeline,
        stage=where.talks,
        owner=manager,
        registrant=manager,
        stage_entered_at=timezone.now(),
    )
    as_head = client_for(head)
    page = as_head.get(DASHBOARD).content.decode()
    assert figure(page, manager, "deals_off") == 1
    listed = as_head.get(reverse("sales:deal-list"), {"owner": str(manager.pk), "status": "open", "attention": "off"})
    assert stuck.title in listed.content.decode()
    assert fine.title not in listed.content.decode()


def test_deals_going_well_are_listed_for_a_courtesy_call(head: User, manager: User) -> None:
    where = board()
    deal = Deal.objects.create(
        title="Early bird",
        company=client("Keen Ltd"),
        pipeline=where.pipeline,
        stage=where.talks,
        owner=manager,
        registrant=manager,
        amount=5000,
        stage_entered_at=timezone.now(),
    )
    kind = CheckpointType.objects.create(pipeline=where.pipeline, name="Proposal sent")
    DealCheckpoint.objects.create(
        deal=deal, type=kind, due_date=timezone.localdate() + timedelta(days=5), done_at=timezone.now()
    )
    page = client_for(head).get(DASHBOARD).content.decode()
    assert 'id="control-deals-ahead"' in page
    assert f'data-deal="{deal.pk}"' in page


# ---- The morning digest -------------------------------------------------------------------------------


def test_the_morning_digest_tells_the_head_only_what_rose(head: User, manager: User, teammate: User) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    DeviationSnapshot.objects.create(user=manager, on=yesterday, overdue=0, stale=5)
    DeviationSnapshot.objects.create(user=teammate, on=yesterday, overdue=0)
    contact_logged(timezone.now() - timedelta(days=2), owner=manager, status=ActivityStatus.PLANNED)

    assert deviations_snapshot_and_digest() == 1

    note = Notification.objects.get(recipient=head)
    assert "1 person" in note.title
    assert "Mark Manager: activities overdue 0 → 1" in note.body
    assert "stale" not in note.body  # fell from 5 to 0: not a new deviation
    assert "Teammate" not in note.body
    assert DeviationSnapshot.objects.filter(on=timezone.localdate()).count() >= 3
    # The same morning again: nothing new, nothing said.
    assert deviations_snapshot_and_digest() == 1  # compared with yesterday's still
    assert Notification.objects.filter(recipient=head).count() == 2


def test_the_first_morning_says_nothing(head: User, manager: User) -> None:
    contact_logged(timezone.now() - timedelta(days=2), owner=manager, status=ActivityStatus.PLANNED)
    assert deviations_snapshot_and_digest() == 0
    assert not Notification.objects.filter(recipient=head).exists()


def test_the_morning_job_runs_the_digest_and_records_its_run(head: User, manager: User) -> None:
    from rapport.core.models import JobRun
    from rapport.supervision.tasks import DEVIATIONS, deviations_digest

    deviations_digest.call()
    assert DeviationSnapshot.objects.filter(user=manager, on=timezone.localdate()).exists()
    assert JobRun.objects.get(name=DEVIATIONS).runs == 1

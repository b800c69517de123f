"""The demo opens my day on live plan counters: this month's targets for every manager and team."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.utils import timezone

from conftest import client_for, load_tiny_demo
from rapport.accounts.models import Role, User
from rapport.motivation.models import Metric, Target
from rapport.motivation.periods import month_of


@pytest.fixture
def demo_data(db: None) -> None:
    load_tiny_demo()


def test_every_manager_and_team_has_this_months_targets(demo_data: None) -> None:
    month = month_of(timezone.localdate())
    running = Target.objects.filter(starts_on=month.start, ends_on=month.end)
    managers = User.objects.filter(role=Role.MANAGER)
    for manager in managers:
        assert set(running.filter(user=manager).values_list("metric", flat=True)) == {
            Metric.MEETINGS,
            Metric.CALLS,
            Metric.DEALS_WON,
        }
    assert running.filter(team__isnull=False, metric=Metric.CALLS).count() == 2
    assert not running.filter(Q(value__lt=1)).exists()


def test_the_demo_manager_sees_the_counters(demo_data: None) -> None:
    page = client_for(User.objects.get(username="manager")).get("/activities/my-day/").content.decode()
    assert page.count('class="card card-sm plan-counter"') == 4  # three own, the team's calls

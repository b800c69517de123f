"""The demo's activities look like what the services write: owners, links, outcomes and callbacks."""

from __future__ import annotations

import pytest
from django.db.models import F, Q
from django.utils import timezone

from conftest import load_tiny_demo
from rapport.activities.models import Activity, ActivityStatus
from rapport.clients.models import ClientStatus


@pytest.fixture
def demo_data(db: None) -> None:
    load_tiny_demo()


def test_demo_activities_are_on_their_owners_clients(demo_data: None) -> None:
    assert Activity.objects.count() == 3000
    assert not Activity.objects.filter(company__isnull=True, contact__isnull=True).exists()
    # Clients the supervision demo later put in the shared pool keep the activities of their last owner.
    on_others = (
        Q(company__isnull=False)
        & ~Q(company__owner=F("owner"))
        & Q(contact__isnull=True)
        & ~Q(company__status=ClientStatus.POOL)
    )
    assert not Activity.objects.filter(on_others).exists()
    # A contact at a company carries the company too, as the services fill it.
    assert not Activity.objects.filter(contact__company__isnull=False).exclude(company=F("contact__company")).exists()


def test_done_ones_have_an_outcome_of_their_kind_and_planned_ones_a_due_time(demo_data: None) -> None:
    done = Activity.objects.filter(status=ActivityStatus.DONE)
    assert not done.filter(done_at__isnull=True).exists()
    assert not done.exclude(at=F("done_at")).exists()
    assert not done.filter(outcome__isnull=False).exclude(outcome__kind=F("kind")).exists()
    planned = Activity.objects.filter(status=ActivityStatus.PLANNED)
    assert planned.filter(due_at__gte=timezone.now()).exists()
    assert planned.filter(due_at__lt=timezone.now()).exists()  # overdue, for my day
    assert not planned.filter(done_at__isnull=False).exists()
    callbacks = planned.filter(follow_up_of__isnull=False)
    assert callbacks.exists()
    assert not callbacks.exclude(follow_up_of__kind="call").exists()

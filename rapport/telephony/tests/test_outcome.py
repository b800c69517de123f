"""A recorded call waits for its outcome: the client card's quick log offers it for one click, the timeline
shows what it still waits for and the recording's link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus, Outcome
from rapport.clients import services
from rapport.clients.models import Company
from rapport.clients.services import PointInput
from rapport.telephony.events import Event
from rapport.telephony.ingest import events_ingest
from rapport.telephony.models import Integration

QUICK_LOG = reverse("activities:quick-log")


@pytest.fixture
def acme(manager: User) -> Company:
    return services.company_create(by=manager, name="Acme", points=[PointInput(kind="phone", value="+12015550123")])


@pytest.fixture
def recorded(pbx: Integration, acme: Company) -> Activity:
    """A three-minute incoming call to extension 101, ended five minutes ago, with its recording."""
    ended = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    common = {"call_id": "c1", "direction": "in", "caller": "+12015550123", "callee": "+12025550100"}
    events_ingest(
        pbx,
        [
            Event(event_id="1", type="answered", at=ended - timedelta(minutes=3), extension="101", **common),  # type: ignore[arg-type]
            Event(
                event_id="2", type="ended", at=ended, extension="101", duration=170, disposition="ANSWERED", **common
            ),  # type: ignore[arg-type]
            Event(event_id="3", type="recording", at=ended, recording_url="https://pbx.example.com/c1.mp3", **common),  # type: ignore[arg-type]
        ],
    )
    return Activity.objects.get()


def test_the_card_asks_the_outcome_of_the_managers_recorded_call(
    recorded: Activity, acme: Company, as_manager: Client
) -> None:
    page = as_manager.get(acme.get_absolute_url()).content.decode()

    assert 'id="quick-log-awaiting"' in page
    assert "Your incoming call at" in page
    assert "3 min" in page
    assert f'name="activity" value="{recorded.pk}"' in page
    # Its timeline entry says what it waits for and links the recording.
    assert f'id="timeline-activity-{recorded.pk}"' in page
    assert "No outcome yet" in page
    assert "3 min · ANSWERED" in page  # the talk time and how the PBX says it ended
    assert 'href="https://pbx.example.com/c1.mp3"' in page


def test_one_click_gives_the_recorded_call_its_outcome_and_logs_nothing_new(
    recorded: Activity, acme: Company, as_manager: Client
) -> None:
    taken = Outcome.objects.get(kind="call", name="Taken into work")

    response = as_manager.post(
        QUICK_LOG, {"company": acme.pk, "activity": recorded.pk, "outcome": taken.pk}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    recorded.refresh_from_db()
    assert (recorded.outcome, recorded.status, recorded.subject) == (taken, ActivityStatus.DONE, "Incoming call")
    assert Activity.objects.count() == 1
    answer = response.content.decode()
    assert "Call saved: Taken into work." in answer
    # The entry is redrawn in place, without its badge; the panel no longer asks.
    assert f'id="timeline-activity-{recorded.pk}" hx-swap-oob="true"' in answer
    assert "No outcome yet" not in answer
    assert 'id="quick-log-awaiting"' not in answer
    assert 'id="quick-log-awaiting"' not in as_manager.get(acme.get_absolute_url()).content.decode()


def test_an_outcome_that_asks_for_a_callback_plans_it(recorded: Activity, acme: Company, as_manager: Client) -> None:
    later = Outcome.objects.get(kind="call", name="Call back later")

    response = as_manager.post(
        QUICK_LOG,
        {"company": acme.pk, "activity": recorded.pk, "outcome": later.pk, "follow_up": "tomorrow"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200, response.content.decode()[:500]
    callback = Activity.objects.get(status=ActivityStatus.PLANNED)
    assert callback.follow_up_of == recorded


def test_someone_elses_recorded_call_is_not_theirs_to_note(
    recorded: Activity, acme: Company, personas: dict[str, User]
) -> None:
    taken = Outcome.objects.get(kind="call", name="Taken into work")
    data = {"company": acme.pk, "activity": recorded.pk, "outcome": taken.pk}

    # The teammate sees the team's client but may not note the manager's call; the outsider does not see it at all.
    assert client_for(personas["teammate"]).post(QUICK_LOG, data).status_code in {403, 404}
    assert client_for(personas["outsider"]).post(QUICK_LOG, data).status_code == 404
    recorded.refresh_from_db()
    assert recorded.outcome is None
    page = client_for(personas["teammate"]).get(acme.get_absolute_url()).content.decode()
    assert 'id="quick-log-awaiting"' not in page  # asked of its owner only


def test_a_call_of_another_client_is_refused(recorded: Activity, manager: User, as_manager: Client) -> None:
    other = services.company_create(by=manager, name="Other")
    taken = Outcome.objects.get(kind="call", name="Taken into work")

    response = as_manager.post(QUICK_LOG, {"company": other.pk, "activity": recorded.pk, "outcome": taken.pk})

    assert response.status_code == 404
    recorded.refresh_from_db()
    assert recorded.outcome is None


def test_a_call_recorded_yesterday_is_no_longer_asked(recorded: Activity, acme: Company, as_manager: Client) -> None:
    Activity.objects.filter(pk=recorded.pk).update(at=timezone.now() - timedelta(hours=25))

    assert 'id="quick-log-awaiting"' not in as_manager.get(acme.get_absolute_url()).content.decode()

"""The iCal feed: read by calendar apps without signing in, by the secret in its address, revoked by renewing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Component

from rapport.accounts.models import User
from rapport.activities import calendar_services, services
from rapport.activities.models import Activity, ActivityKind, ActivitySettings, ActivityStatus
from rapport.clients.models import Company, Contact


def feed_url(user: User) -> str:
    return reverse("activities:feed", args=[calendar_services.activity_settings_for(user).feed_token])


def events(response: Any) -> dict[str, Component]:
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(activity: Activity) -> str:
    return f"activity-{activity.pk}@testserver.example"


@pytest.fixture(autouse=True)
def _base_url(settings: object) -> None:
    settings.RAPPORT_BASE_URL = "https://testserver.example"  # type: ignore[attr-defined]


def test_the_feed_holds_my_planned_and_done_activities_as_events(
    manager: User, teammate: User, acme: Company, ivanov: Contact
) -> None:
    due = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    meeting = services.activity_create(
        by=manager, kind=ActivityKind.MEETING, subject="Sign the contract", due_at=due, contact=ivanov, duration=90
    )
    done_at = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    call = services.activity_create(
        by=manager,
        kind=ActivityKind.CALL,
        status=ActivityStatus.DONE,
        subject="Intro call",
        done_at=done_at,
        company=acme,
    )
    too_old = services.activity_create(
        by=manager, kind=ActivityKind.CALL, status=ActivityStatus.DONE, done_at=timezone.now() - timedelta(days=40)
    )
    too_far = services.activity_create(
        by=manager, kind=ActivityKind.TASK, subject="Far off", due_at=timezone.now() + timedelta(days=200)
    )
    cancelled = services.activity_cancel(
        by=manager, activity=services.activity_create(by=manager, kind=ActivityKind.TASK, due_at=due)
    )
    someone_elses = services.activity_create(by=teammate, kind=ActivityKind.TASK, due_at=due)

    response = Client().get(feed_url(manager))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    found = events(response)
    assert set(found) == {uid(meeting), uid(call)}
    for absent in (too_old, too_far, cancelled, someone_elses):
        assert uid(absent) not in found
    event = found[uid(meeting)]
    assert event.decoded("DTSTART") == due
    assert event.decoded("DURATION") == timedelta(minutes=90)
    assert "Sign the contract" in str(event["SUMMARY"])
    assert "Ivanov Fedor" in str(event["DESCRIPTION"])
    assert "Acme Trading" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == f"https://testserver.example/activities/{meeting.pk}/"
    done = found[uid(call)]
    assert done.decoded("DTSTART") == done_at
    assert done.decoded("DURATION") == timedelta(minutes=30)
    assert "Acme Trading" in str(done["DESCRIPTION"])


def test_an_event_keeps_its_uid_when_the_activity_moves(manager: User) -> None:
    task = services.activity_create(by=manager, kind=ActivityKind.TASK, due_at=timezone.now() + timedelta(days=1))
    url = feed_url(manager)
    before = events(Client().get(url))

    new_due = (timezone.now() + timedelta(days=5)).replace(microsecond=0)
    services.activity_reschedule(by=manager, activity=task, due_at=new_due)
    after = events(Client().get(url))

    assert set(before) == set(after) == {uid(task)}
    assert after[uid(task)].decoded("DTSTART") == new_due
    assert after[uid(task)]["SEQUENCE"] == 2


def test_an_unknown_token_is_404(db: None) -> None:
    assert Client().get(reverse("activities:feed", args=["no-such-secret"])).status_code == 404


def test_an_inactive_persons_feed_is_gone(manager: User) -> None:
    url = feed_url(manager)
    manager.is_active = False
    manager.save()

    assert Client().get(url).status_code == 404


def test_renewing_the_link_makes_the_old_one_404(manager: User, as_manager: Client) -> None:
    old = feed_url(manager)
    settings_page = as_manager.get(reverse("activities:feed-settings")).content.decode()
    assert f"https://testserver.example{old}" in settings_page

    response = as_manager.post(reverse("activities:feed-renew"), follow=True)

    assert response.status_code == 200
    new = feed_url(manager)
    assert new != old
    assert f"https://testserver.example{new}" in response.content.decode()
    assert "the old one no longer works" in response.content.decode()
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200


def test_renewing_needs_signing_in_and_a_post(manager: User, as_manager: Client) -> None:
    token = calendar_services.activity_settings_for(manager).feed_token

    assert Client().post(reverse("activities:feed-renew")).status_code == 302
    assert as_manager.get(reverse("activities:feed-renew")).status_code == 405
    assert ActivitySettings.objects.get(user=manager).feed_token == token


def test_feed_settings_need_signing_in(db: None) -> None:
    assert Client().get(reverse("activities:feed-settings"))["Location"].startswith("/accounts/login/")


def test_the_feed_speaks_its_owners_language(manager: User) -> None:
    manager.language = "ru"
    manager.save()
    services.activity_create(
        by=manager, kind=ActivityKind.CALL, status=ActivityStatus.DONE, done_at=datetime.now(UTC) - timedelta(hours=1)
    )

    [event] = events(Client().get(feed_url(manager))).values()

    assert "Выполнена" in str(event["DESCRIPTION"])  # "Done"

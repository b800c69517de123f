"""The permission matrix for activities: every role × every activity route, list, export and settings screen.

One world of four planned tasks, one per kind of ownership (the manager's, a teammate's,
another team's, the team's outside agent's), each on its owner's company, and the nine
personas of the client matrix. Each activity-bound route is called by each persona on each
activity and must answer what the access policy says: 404 out of sight, 403 seen but not
theirs to change, success otherwise. Every list shows exactly the visible activities; the
settings screens are the admins'. `test_every_route_is_in_the_matrix` in
test_permission_matrix.py counts the routes listed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Activity, Outcome
from rapport.clients import services as client_services
from tests.test_permission_matrix import PERSONAS, csv_text, people, undone, xlsx_text

__all__ = ["people"]  # the client matrix's personas, used as a fixture here

KEYS = ["mine", "team", "far", "agents"]
SUBJECTS = {key: f"Matrix task {key}" for key in KEYS}
EVERY = set(KEYS)
VISIBLE: dict[str, set[str]] = {
    "manager": {"mine"},
    "teammate": {"team"},
    "head": {"mine", "team", "agents"},
    "outsider": {"far"},
    "agent": {"agents"},
    "operator": EVERY,
    "admin": EVERY,
    "analyst": EVERY,
    "marketer": EVERY,
}
# Owners, their head and admins change an activity; the roles that only read never do.
EDITABLE: dict[str, set[str]] = {
    **{persona: VISIBLE[persona] for persona in ["manager", "teammate", "head", "outsider", "agent"]},
    "operator": set(),
    "admin": EVERY,
    "analyst": set(),
    "marketer": set(),
}
SUCCESS = "success"  # any 2xx or 3xx: each screen answers a success its own way
HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(people: dict[str, User]) -> dict[str, Activity]:
    owners = {"mine": "manager", "team": "teammate", "far": "outsider", "agents": "agent"}
    activities = {}
    for key, persona in owners.items():
        company = client_services.company_create(by=people[persona], name=f"Matrix activity client {key}")
        activities[key] = services.activity_create(
            by=people[persona],
            kind="task",
            company=company,
            subject=SUBJECTS[key],
            # Due now: on today's my day and this week's calendar whatever the hour the suite runs at (three hours
            # ahead was tomorrow after 21:00).
            due_at=timezone.now(),
        )
    return activities


def expect_seen(persona: str, key: str) -> int | str:
    return SUCCESS if key in VISIBLE[persona] else 404


def expect_edit(persona: str, key: str) -> int | str:
    if key not in VISIBLE[persona]:
        return 404
    return SUCCESS if key in EDITABLE[persona] else 403


def _later(activity: Activity) -> dict[str, Any]:
    return {
        "due_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "version": activity.version,
    }


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # {id} is filled in
    expect: Callable[[str, str], int | str]
    data: Callable[[Activity], dict[str, Any]] = field(default=lambda activity: {})
    htmx: bool = False


ROUTES = [
    Route("activities:activity-detail", "get", "/activities/{id}/", expect_seen),
    Route("activities:activity-complete", "post", "/activities/{id}/complete/", expect_edit),
    Route("activities:activity-cancel", "post", "/activities/{id}/cancel/", expect_edit),
    Route("activities:activity-delete", "post", "/activities/{id}/delete/", expect_edit),
    Route("activities:my-day-done", "post", "/activities/my-day/{id}/done/", expect_edit, htmx=True),
    Route(
        "activities:my-day-later",
        "post",
        "/activities/my-day/{id}/later/",
        expect_edit,
        lambda activity: {"later": "tomorrow", "version": activity.version},
        htmx=True,
    ),
    Route("activities:calendar-move", "post", "/activities/calendar/{id}/move/", expect_edit, _later),
    Route("api:activity_detail", "get", "/api/v1/activities/{id}", expect_seen),
    Route(
        "api:activity_update",
        "patch",
        "/api/v1/activities/{id}",
        expect_edit,
        lambda a: {"subject": "Changed", "version": a.version},
    ),
    Route("api:activity_delete", "delete", "/api/v1/activities/{id}", expect_edit),
    Route("api:activity_complete", "post", "/api/v1/activities/{id}/complete", expect_edit),
    Route("api:activity_cancel", "post", "/api/v1/activities/{id}/cancel", expect_edit),
    Route(
        "api:activity_reschedule",
        "post",
        "/api/v1/activities/{id}/reschedule",
        expect_edit,
        lambda a: {"due_at": (timezone.now() + timedelta(days=2)).isoformat()},
    ),
]


def call(client: Client, route: Route, activity: Activity) -> int:
    path = route.path.format(id=activity.pk)
    data = route.data(activity)
    if route.name.startswith("api:"):
        return getattr(client, route.method)(path, data, content_type="application/json").status_code  # type: ignore[no-any-return]
    return getattr(client, route.method)(path, data, headers=HTMX if route.htmx else {}).status_code  # type: ignore[no-any-return]


def outcome_of(status: int) -> int | str:
    return SUCCESS if 200 <= status < 400 else status


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_activity_route(route: Route, people: dict[str, User], world: dict[str, Activity]) -> None:
    answers, expected = {}, {}
    for persona in PERSONAS:
        client = client_for(people[persona])
        for key in KEYS:
            activity = Activity.objects.get(pk=world[key].pk)
            answers[persona, key] = outcome_of(undone(lambda: call(client, route, activity)))  # noqa: B023
            expected[persona, key] = route.expect(persona, key)
    assert {cell: answer for cell, answer in answers.items() if answer != expected[cell]} == {}


# ---- Reads: exactly the visible activities -----------------------------------------------------

READERS: dict[str, tuple[str, Callable[[bytes], str]]] = {
    "activities:activity-list": ("/activities/list/", bytes.decode),
    "activities:activity-export csv": ("/activities/list/export/?format=csv", csv_text),
    "activities:activity-export xlsx": ("/activities/list/export/?format=xlsx", xlsx_text),
    "api:activity_list": ("/api/v1/activities", bytes.decode),
}


def shown(text: str) -> set[str]:
    return {key for key, subject in SUBJECTS.items() if subject in text}


@pytest.mark.parametrize("reader", list(READERS), ids=str)
def test_lists_show_exactly_the_visible_activities(
    reader: str, people: dict[str, User], world: dict[str, Activity]
) -> None:
    path, text_of = READERS[reader]
    seen = {}
    for persona in PERSONAS:
        response = client_for(people[persona]).get(path)
        assert response.status_code == 200, (persona, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
        seen[persona] = shown(text_of(body))
    assert seen == VISIBLE


def test_my_day_and_the_calendar_show_only_ones_own(people: dict[str, User], world: dict[str, Activity]) -> None:
    # A head's calendar shows the team on request; by default everyone sees their own.
    for persona, key in [("manager", "mine"), ("teammate", "team"), ("outsider", "far")]:
        client = client_for(people[persona])
        for path in ["/activities/my-day/", "/activities/calendar/?view=week"]:
            assert shown(client.get(path).content.decode()) == {key}, (persona, path)


# ---- The settings screens: admins only -----------------------------------------------------------

ADMIN_SCREENS = ["/activities/settings/outcomes/", "/activities/settings/outcomes/new/", "/activities/settings/rules/"]


@pytest.mark.parametrize("path", ADMIN_SCREENS)
def test_activity_settings_are_the_admins(path: str, people: dict[str, User]) -> None:
    answers = {persona: client_for(people[persona]).get(path).status_code for persona in PERSONAS}
    assert answers == {persona: 200 if persona == "admin" else 403 for persona in PERSONAS}


def test_outcome_changes_are_the_admins(people: dict[str, User]) -> None:
    outcome = Outcome.objects.filter(kind="call").first()
    assert outcome is not None
    for persona in PERSONAS:
        client = client_for(people[persona])
        edit = client.get(f"/activities/settings/outcomes/{outcome.pk}/").status_code
        moved = undone(lambda: client.post(f"/activities/settings/outcomes/{outcome.pk}/move/", {"direction": "down"}))  # noqa: B023
        assert (edit, outcome_of(moved.status_code)) == ((200, SUCCESS) if persona == "admin" else (403, 403)), persona


def covered_route_names() -> set[str]:
    """Routes this file proves, and activity routes proven by their own tests (named there)."""
    return (
        {route.name for route in ROUTES}
        | {reader.split()[0] for reader in READERS}
        | {
            "activities:my-day",
            "activities:my-day-side",  # test_my_day: one's own birthdays and clients only
            "activities:calendar",
            "activities:outcome-list",
            "activities:outcome-create",
            "activities:outcome-edit",
            "activities:outcome-move",
            "activities:rules",
            # Signed-in users' own things, and what each user may log: proven in rapport/activities/tests.
            "activities:quick-log",  # test_quick_log: 404 out of sight, 403 for those who only read
            "activities:activity-create",  # test_pages
            "activities:outcome-follow-up",  # test_settings: admins only
            "activities:outcome-active",  # test_settings: admins only
            "activities:reminder-settings",  # test_settings: each user their own offsets
            "activities:feed-settings",  # test_feed: one's own feed link
            "activities:feed-renew",  # test_feed
            "activities:feed",  # test_feed: the secret token is the access
            "activities:activity-import",  # test_import: 403 for those who only read; links only what one sees
            "api:activity_create",  # test_api
            "api:call_quick_log",  # test_api
            "api:outcome_list",  # test_api
            "api:outcome_create",  # test_api: admins only
            "api:outcome_update",  # test_api: admins only
            "api:minimum_data_rule_list",  # test_api
            "api:minimum_data_rule_set",  # test_api: admins only
        }
    )

"""Activity settings: admins edit the outcome picklists and the minimum-data rules; everyone chooses their reminders."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities import services
from rapport.activities.models import Activity, ActivityKind, ActivitySettings, MinimumDataRule, Outcome
from rapport.activities.reminders import offsets_for
from rapport.activities.settings_services import reminder_offsets_save
from rapport.clients.models import Company

OUTCOMES = "/activities/settings/outcomes/"
RULES = "/activities/settings/rules/"
REMINDERS = "/activities/settings/reminders/"


def outcome(kind: str, name: str) -> Outcome:
    return Outcome.objects.get(kind=kind, name=name)


def call_outcomes() -> list[str]:
    return list(
        Outcome.objects.filter(kind=ActivityKind.CALL).order_by("position", "id").values_list("name", flat=True)
    )


def ticked(page: str) -> list[int]:
    """The reminder times a page shows ticked."""
    return [int(value) for value in re.findall(r'name="offsets" value="(\d+)"[^>]* checked', page)]


def rules() -> dict[tuple[str, str], list[str]]:
    return {(rule.kind, rule.status): rule.required for rule in MinimumDataRule.objects.all()}


# ---- Who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "teammate", "head", "operator", "agent", "outsider"])
def test_only_admins_configure_outcomes_and_rules(persona: str, personas: dict[str, User]) -> None:
    client = client_for(personas[persona])
    no_answer = outcome(ActivityKind.CALL, "No answer")
    for url in [OUTCOMES, f"{OUTCOMES}new/", f"{OUTCOMES}{no_answer.pk}/", RULES]:
        assert client.get(url).status_code == 403, url
    posts = {
        f"{OUTCOMES}new/": {"kind": "call", "name": "Sneaky"},
        f"{OUTCOMES}{no_answer.pk}/": {"kind": "call", "name": "Sneaky"},
        f"{OUTCOMES}{no_answer.pk}/follow-up/": {},
        f"{OUTCOMES}{no_answer.pk}/active/": {},
        f"{OUTCOMES}{no_answer.pk}/move/": {"direction": "up"},
        RULES: {"call-done": ["outcome"]},
    }
    before = call_outcomes()
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert call_outcomes() == before
    no_answer.refresh_from_db()
    assert (no_answer.name, no_answer.asks_follow_up, no_answer.is_active) == ("No answer", True, True)
    assert ("call", "done") not in rules()


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, db: None) -> None:
    for url in [OUTCOMES, RULES, REMINDERS]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_the_admin_menu_offers_the_settings_to_admins_only(as_admin: Client, as_manager: Client) -> None:
    assert f'href="{OUTCOMES}"' in as_admin.get("/activities/settings/reminders/").content.decode()
    assert f'href="{OUTCOMES}"' not in as_manager.get("/activities/settings/reminders/").content.decode()


# ---- Outcomes ----------------------------------------------------------------------------------


def test_outcomes_are_listed_by_kind_in_order(
    as_admin: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_max_num_queries(8):
        page = as_admin.get(OUTCOMES).content.decode()
    calls = page[page.index('id="outcomes-call"') : page.index('id="outcomes-meeting"')]
    positions = [calls.index(name) for name in ["Taken into work", "Completed", "No answer", "Call back later"]]
    assert positions == sorted(positions)
    meetings = page[page.index('id="outcomes-meeting"') : page.index('id="outcomes-task"')]
    assert "Next meeting agreed" in meetings
    assert "No answer" not in meetings
    assert 'id="outcomes-note"' in page  # a kind without outcomes still has its card
    assert "asks for a follow-up" in calls


def test_more_outcomes_cost_no_more_queries(
    admin_user: User, as_admin: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for number in range(30):
        services.outcome_save(by=admin_user, kind=ActivityKind.TASK, name=f"Outcome {number}")
    with django_assert_max_num_queries(8):
        assert as_admin.get(OUTCOMES).status_code == 200


def test_an_admin_adds_an_outcome_at_the_end_of_its_kind(as_admin: Client) -> None:
    response = as_admin.post(f"{OUTCOMES}new/", {"kind": "call", "name": " Sent a proposal ", "asks_follow_up": "on"})
    assert response.status_code == 302
    assert response["Location"] == f"{OUTCOMES}#outcomes-call"
    assert call_outcomes()[-1] == "Sent a proposal"
    added = outcome(ActivityKind.CALL, "Sent a proposal")
    assert (added.asks_follow_up, added.is_active) == (True, True)
    assert "Outcome “Sent a proposal” added." in as_admin.get(OUTCOMES).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "call", "name": "no ANSWER"}, "This kind already has an outcome with this name."),
        ({"kind": "call", "name": ""}, "This field is required."),
        ({"kind": "visit", "name": "Came by"}, "Select a valid choice."),
    ],
)
def test_a_bad_outcome_is_refused_next_to_its_field(as_admin: Client, data: dict[str, str], message: str) -> None:
    count = Outcome.objects.count()
    response = as_admin.post(f"{OUTCOMES}new/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert "invalid-feedback" in page
    assert Outcome.objects.count() == count


def test_an_admin_renames_an_outcome(as_admin: Client) -> None:
    no_answer = outcome(ActivityKind.CALL, "No answer")
    page = as_admin.get(f"{OUTCOMES}{no_answer.pk}/").content.decode()
    assert 'value="No answer"' in page
    response = as_admin.post(
        f"{OUTCOMES}{no_answer.pk}/",
        {"kind": "call", "name": "Nobody answered", "asks_follow_up": "on", "is_active": "on"},
    )
    assert response.status_code == 302
    no_answer.refresh_from_db()
    assert (no_answer.name, no_answer.asks_follow_up, no_answer.is_active) == ("Nobody answered", True, True)


def test_an_outcome_in_use_keeps_its_kind(manager: User, acme: Company, as_admin: Client) -> None:
    held = outcome(ActivityKind.CALL, "Completed")
    services.call_quick_log(by=manager, client=acme, outcome=held)
    response = as_admin.post(f"{OUTCOMES}{held.pk}/", {"kind": "meeting", "name": "Completed", "is_active": "on"})
    assert response.status_code == 422
    assert "Activities already use this outcome: it stays with its kind." in response.content.decode()
    held.refresh_from_db()
    assert held.kind == ActivityKind.CALL


def test_asking_for_a_follow_up_is_turned_on_and_off(as_admin: Client) -> None:
    wrong = outcome(ActivityKind.CALL, "Wrong number")
    as_admin.post(f"{OUTCOMES}{wrong.pk}/follow-up/", {"asks": "1"})
    wrong.refresh_from_db()
    assert wrong.asks_follow_up
    as_admin.post(f"{OUTCOMES}{wrong.pk}/follow-up/", {})
    wrong.refresh_from_db()
    assert not wrong.asks_follow_up


def test_a_retired_outcome_is_no_longer_offered_and_can_be_restored(
    manager: User, acme: Company, as_admin: Client
) -> None:
    wrong = outcome(ActivityKind.CALL, "Wrong number")
    services.call_quick_log(by=manager, client=acme, outcome=wrong)
    response = as_admin.post(f"{OUTCOMES}{wrong.pk}/active/", {}, follow=True)
    page = response.content.decode()
    assert "“Wrong number” is no longer offered; activities that have it keep it." in page
    assert "retired" in page
    wrong.refresh_from_db()
    assert not wrong.is_active
    assert Activity.objects.get(kind=ActivityKind.CALL).outcome == wrong
    with pytest.raises(ValidationError):
        services.call_quick_log(by=manager, client=acme, outcome=wrong)

    as_admin.post(f"{OUTCOMES}{wrong.pk}/active/", {"active": "1"})
    wrong.refresh_from_db()
    assert wrong.is_active


def test_outcomes_move_up_and_down_within_their_kind(as_admin: Client) -> None:
    meetings_before = list(Outcome.objects.filter(kind=ActivityKind.MEETING).values_list("name", "position"))
    later = outcome(ActivityKind.CALL, "Call back later")
    as_admin.post(f"{OUTCOMES}{later.pk}/move/", {"direction": "up"})
    assert call_outcomes() == ["Taken into work", "Completed", "Call back later", "No answer", "Wrong number"]
    as_admin.post(f"{OUTCOMES}{later.pk}/move/", {"direction": "down"})
    as_admin.post(f"{OUTCOMES}{later.pk}/move/", {"direction": "down"})
    assert call_outcomes() == ["Taken into work", "Completed", "No answer", "Wrong number", "Call back later"]
    as_admin.post(f"{OUTCOMES}{later.pk}/move/", {"direction": "down"})  # already the last: stays
    assert call_outcomes()[-1] == "Call back later"
    assert list(Outcome.objects.filter(kind=ActivityKind.MEETING).values_list("name", "position")) == meetings_before


# ---- Minimum-data rules ------------------------------------------------------------------------


def test_the_rules_page_shows_the_matrix_with_the_default_meeting_rule(
    as_admin: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_max_num_queries(8):
        page = as_admin.get(RULES).content.decode()
    assert 'id="default-rules"' in page
    assert "Meeting · Done: the date, the client&#x27;s last and first name" in page
    assert 'id="rule-meeting-done-result" checked' in page
    assert 'id="rule-meeting-planned-result" checked' not in page
    assert 'id="rule-call-done-outcome"' in page
    assert page.count('type="checkbox"') == 5 * 3 * 8


def test_an_admin_changes_the_rules_and_they_are_enforced(manager: User, acme: Company, as_admin: Client) -> None:
    data = {
        "call-done": ["outcome", "duration"],
        "meeting-done": ["date", "client_name", "contact_point", "subject"],  # the result no longer
    }
    response = as_admin.post(RULES, data)
    assert response.status_code == 302
    assert rules() == {
        ("call", "done"): ["outcome", "duration"],
        ("meeting", "done"): ["date", "client_name", "contact_point", "subject"],
    }
    assert "The rules are saved." in as_admin.get(RULES).content.decode()
    with pytest.raises(ValidationError) as refused:
        services.activity_create(by=manager, kind=ActivityKind.CALL, status="done", company=acme)
    assert set(refused.value.message_dict) == {"__all__", "outcome", "duration"}

    # Unticking every box of a cell removes its rule.
    as_admin.post(RULES, {"meeting-done": ["subject"]})
    assert rules() == {("meeting", "done"): ["subject"]}


def test_an_unknown_requirement_is_refused_and_nothing_is_saved(as_admin: Client) -> None:
    before = rules()
    response = as_admin.post(RULES, {"call-done": ["outcome"], "meeting-done": ["mood"]})
    assert response.status_code == 422
    assert "Select a valid choice. mood is not one of the available choices." in response.content.decode()
    assert rules() == before


# ---- A person's reminders ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HEAD, Role.OPERATOR, Role.AGENT, Role.ANALYST, Role.ADMIN])
def test_everyone_signed_in_chooses_their_own_reminders(role: str, db: None) -> None:
    user = UserFactory.create(role=role)
    client = client_for(user)
    page = client.get(REMINDERS).content.decode()
    # The defaults, fifteen minutes and a day before, are ticked.
    assert ticked(page) == [15, 1440]
    assert 'value="30"' in page

    response = client.post(REMINDERS, {"offsets": ["60", "5"], "other": "45"}, follow=True)
    assert "You will be reminded: 5 minutes before, 45 minutes before, 1 hour before." in response.content.decode()
    assert ActivitySettings.objects.get(user=user).reminder_offsets == [5, 45, 60]
    assert offsets_for(user) == [5, 45, 60]
    # A time of one's own stays on offer, ticked.
    assert ticked(client.get(REMINDERS).content.decode()) == [5, 45, 60]


def test_no_reminders_at_all(as_manager: Client, manager: User) -> None:
    response = as_manager.post(REMINDERS, {}, follow=True)
    assert "You will get no reminders before your activities." in response.content.decode()
    assert offsets_for(manager) == []


def test_saving_ones_reminders_leaves_the_calendar_feed_secret(manager: User, as_manager: Client) -> None:
    feed = ActivitySettings.objects.create(user=manager)
    as_manager.post(REMINDERS, {"offsets": ["30"]})
    settings = ActivitySettings.objects.get(user=manager)
    assert settings.reminder_offsets == [30]
    assert settings.feed_token == feed.feed_token


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"other": "-5"}, "A reminder comes before the due time: minutes cannot be below zero."),
        ({"other": "10081"}, "A reminder can come at most a week (10080 minutes) before."),
        ({"offsets": ["15"], "other": "15"}, "This time is already chosen above."),
        ({"offsets": ["17"]}, "Select a valid choice. 17 is not one of the available choices."),
        ({"other": "soon"}, "Enter a whole number."),
    ],
)
def test_bad_reminder_times_are_refused_next_to_the_field(
    as_manager: Client, manager: User, data: dict[str, object], message: str
) -> None:
    response = as_manager.post(REMINDERS, data)
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert "invalid-feedback" in page
    assert not ActivitySettings.objects.filter(user=manager).exists()


@pytest.mark.parametrize(
    ("offsets", "message"),
    [
        ([15, 15], "Each reminder time can be chosen once."),
        ([-1], "minutes cannot be below zero"),
        ([7 * 1440 + 1], "at most a week"),
        ([True], "whole minutes"),
        (list(range(11)), "Choose at most 10 reminders."),
    ],
)
def test_the_service_refuses_bad_offsets_from_any_caller(manager: User, offsets: list[int], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        reminder_offsets_save(by=manager, offsets=offsets)
    assert message in " ".join(refused.value.message_dict["offsets"])
    assert not ActivitySettings.objects.filter(user=manager).exists()


def test_a_week_ahead_is_the_longest_reminder(manager: User) -> None:
    reminder_offsets_save(by=manager, offsets=[7 * 1440, 0])
    assert offsets_for(manager) == [0, 7 * 1440]

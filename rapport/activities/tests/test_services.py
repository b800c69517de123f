"""The activity services: what is checked before anything is written, and what a done activity changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, MinimumDataRule, Outcome
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact


def outcome(kind: str, name: str) -> Outcome:
    return Outcome.objects.get(kind=kind, name=name)


def test_a_new_installation_has_call_outcomes_and_the_meeting_rule(db: None) -> None:
    calls = list(Outcome.objects.filter(kind=ActivityKind.CALL).values_list("name", "asks_follow_up"))
    assert ("Wrong number", False) in calls
    assert ("Call back later", True) in calls
    rule = MinimumDataRule.objects.get(kind=ActivityKind.MEETING, status=ActivityStatus.DONE)
    assert rule.required == ["date", "client_name", "contact_point", "subject", "result"]


def test_one_outcome_logs_a_done_call_and_sets_the_clients_last_contact(manager: User, acme: Company) -> None:
    logged = services.call_quick_log(by=manager, client=acme, outcome=outcome("call", "Wrong number"))

    call = Activity.objects.get()
    assert call == logged.call
    assert logged.follow_up is None
    assert (call.kind, call.status, call.owner, call.company) == ("call", "done", manager, acme)
    assert call.done_at is not None
    assert call.at == call.done_at
    acme.refresh_from_db()
    assert acme.last_contact_at == call.done_at


def test_a_call_logged_late_moves_the_last_contact_of_the_contact_and_its_company_never_back(
    manager: User, acme: Company, ivanov: Contact
) -> None:
    today = timezone.now().replace(microsecond=0)
    fields: dict[str, Any] = {"subject": "Prices", "outcome": outcome("call", "Wrong number"), "contact": ivanov}
    services.activity_create(by=manager, kind=ActivityKind.CALL, status="done", done_at=today, **fields)
    last_week = today - timedelta(days=7)
    services.activity_create(by=manager, kind=ActivityKind.CALL, status="done", done_at=last_week, **fields)

    acme.refresh_from_db()
    ivanov.refresh_from_db()
    assert (acme.last_contact_at, ivanov.last_contact_at) == (today, today)


def test_call_back_later_asks_when_and_plans_the_callback(manager: User, ivanov: Contact) -> None:
    later = outcome("call", "Call back later")
    with pytest.raises(ValidationError) as refused:
        services.call_quick_log(by=manager, client=ivanov, outcome=later)
    assert "follow_up_at" in refused.value.message_dict
    assert not Activity.objects.exists()

    tomorrow = timezone.now() + timedelta(days=1)
    logged = services.call_quick_log(by=manager, client=ivanov, outcome=later, follow_up_at=tomorrow)

    assert logged.follow_up is not None
    assert (logged.follow_up.status, logged.follow_up.due_at) == ("planned", tomorrow)
    assert logged.follow_up.follow_up_of == logged.call
    # The contact's company comes along, so the company's card shows both too.
    assert logged.follow_up.company == ivanov.company


def test_a_meeting_is_not_done_without_its_minimum_data(manager: User, acme: Company) -> None:
    with pytest.raises(ValidationError) as refused:
        services.activity_create(by=manager, kind="meeting", status="done", company=acme)

    errors = refused.value.message_dict
    assert errors["__all__"] == [
        "To save this meeting as “done” it needs: the client's last and first name, "
        "at least one contact detail of the client, the subject, the result."
    ]
    assert set(errors) == {"__all__", "contact", "subject", "result"}
    assert not Activity.objects.exists()


def test_a_meeting_with_its_minimum_data_is_done(manager: User, acme: Company) -> None:
    person = client_services.contact_create(
        by=manager,
        last_name="Petrova",
        first_name="Anna",
        company=acme,
        points=[client_services.PointInput(kind="email", value="anna@acme.example")],
    )
    meeting = services.activity_create(
        by=manager, kind="meeting", status="done", contact=person, subject="Terms", result="They want 3% off"
    )
    assert meeting.status == "done"
    assert meeting.company == acme


def test_the_rule_applies_when_a_planned_meeting_is_completed(manager: User, acme: Company) -> None:
    meeting = services.activity_create(
        by=manager, kind="meeting", company=acme, subject="Demo", due_at=timezone.now() + timedelta(hours=2)
    )
    with pytest.raises(ValidationError) as refused:
        services.activity_complete(by=manager, activity=meeting, result="Went well")
    assert "contact" in refused.value.message_dict
    meeting.refresh_from_db()
    assert meeting.status == "planned"
    assert meeting.result == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"duration": -5, "status": "done"}, "duration"),
        ({"due_at": timezone.now() - timedelta(days=800)}, "due_at"),
        ({"done_at": timezone.now() + timedelta(days=2), "status": "done"}, "done_at"),
    ],
)
def test_bad_numbers_and_dates_are_refused_by_field(
    manager: User, acme: Company, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.activity_create(by=manager, kind="call", company=acme, **fields)  # type: ignore[arg-type]
    assert field in refused.value.message_dict
    assert not Activity.objects.exists()


def test_an_outcome_of_another_kind_is_refused(manager: User, acme: Company) -> None:
    with pytest.raises(ValidationError) as refused:
        services.activity_create(
            by=manager, kind="call", status="done", company=acme, outcome=outcome("meeting", "Held")
        )
    assert "outcome" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.call_quick_log(by=manager, client=acme, outcome=outcome("meeting", "Held"))
    assert not Activity.objects.exists()


def test_nobody_logs_on_a_client_they_cannot_see(outsider: User, acme: Company) -> None:
    with pytest.raises(ValidationError) as refused:
        services.call_quick_log(by=outsider, client=acme, outcome=outcome("call", "Completed"))
    assert "company" in refused.value.message_dict
    assert not Activity.objects.exists()


def test_owner_head_and_admin_edit_others_do_not(
    manager: User, teammate: User, head: User, admin_user: User, acme: Company
) -> None:
    task = services.activity_create(by=manager, kind="task", company=acme, subject="Send the price list")
    with pytest.raises(PermissionDenied):
        services.activity_update(by=teammate, activity=task, subject="Mine now")
    services.activity_update(by=head, activity=task, subject="Send the new price list")
    services.activity_update(by=admin_user, activity=task, subject="Send the 2027 price list")
    task.refresh_from_db()
    assert (task.subject, task.version) == ("Send the 2027 price list", 3)


def test_a_stale_version_is_refused(manager: User, acme: Company) -> None:
    task = services.activity_create(by=manager, kind="task", company=acme, subject="Call the accountant")
    services.activity_update(by=manager, activity=task, version=1, subject="Call the chief accountant")
    with pytest.raises(ValidationError) as refused:
        services.activity_update(by=manager, activity=task, version=1, subject="Old copy")
    assert refused.value.code == "stale"


def test_a_head_plans_for_the_team_a_manager_only_for_themselves(
    manager: User, teammate: User, head: User, outsider: User, acme: Company
) -> None:
    planned = services.activity_create(by=head, kind="task", owner=manager, subject="Check the contract")
    assert planned.owner == manager
    with pytest.raises(ValidationError):
        services.activity_create(by=head, kind="task", owner=outsider, subject="Not my team")
    with pytest.raises(ValidationError):
        services.activity_create(by=manager, kind="task", owner=teammate, subject="Do it for me")


def test_rescheduling_moves_the_due_time_and_the_sort_moment(manager: User, acme: Company) -> None:
    call = services.activity_create(by=manager, kind="call", company=acme, due_at=timezone.now() + timedelta(hours=1))
    later = timezone.now() + timedelta(days=2)
    services.activity_reschedule(by=manager, activity=call, due_at=later)
    call.refresh_from_db()
    assert call.due_at == later
    assert call.at == later


def test_only_admins_edit_the_picklists_and_rules(manager: User, admin_user: User) -> None:
    with pytest.raises(PermissionDenied):
        services.outcome_save(by=manager, kind="call", name="Busy")
    busy = services.outcome_save(by=admin_user, kind="call", name="Busy", asks_follow_up=True)
    assert busy.position > outcome("call", "Wrong number").position
    with pytest.raises(ValidationError) as refused:
        services.outcome_save(by=admin_user, kind="call", name="busy")
    assert "name" in refused.value.message_dict

    services.minimum_data_rule_save(by=admin_user, kind="call", status="done", required=["outcome", "duration"])
    with pytest.raises(ValidationError) as refused:
        services.minimum_data_rule_save(by=admin_user, kind="call", status="done", required=["mood"])
    assert "required" in refused.value.message_dict


def test_those_who_see_everything_open_an_activity_without_a_client(manager: User, admin_user: User) -> None:
    from rapport.accounts import access

    task = services.activity_create(by=manager, kind="task", subject="Prepare the quarterly report")
    assert access.activity_for_user(admin_user, task.pk) == task

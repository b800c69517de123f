"""Activities over the API as a program sees it: who sees and changes which, the quick log in one call,
the picklists, and what bad input answers (nothing saved)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities import services
from rapport.activities.models import Activity, MinimumDataRule, Outcome
from rapport.api.tests.helpers import API, bearer, caller, send
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.sales import services as sales_services
from rapport.sales.models import Deal

# Who sees whose activities (by their owner's scope).
VISIBLE = {
    "manager": {"manager"},
    "teammate": {"teammate"},
    "agent": {"agent"},
    "head": {"manager", "teammate", "agent"},
    "outsider": {"outsider"},
    "operator": {"manager", "teammate", "agent", "outsider"},
    "admin": {"manager", "teammate", "agent", "outsider"},
}
# Who may change the manager's activity: its owner, the owner's head, admins.
EDITORS = {"manager", "head", "admin"}


def outcome(kind: str, name: str) -> Outcome:
    return Outcome.objects.get(kind=kind, name=name)


@pytest.fixture
def activities(personas: dict[str, User]) -> dict[str, Activity]:
    soon = timezone.now() + timedelta(days=1)
    made = {}
    for persona in ["manager", "teammate", "agent", "outsider"]:
        user = personas[persona]
        company = client_services.company_create(by=user, name=f"{persona.title()} Client Ltd")
        made[persona] = services.activity_create(
            by=user, kind="call", subject=f"{persona.title()}'s call", company=company, due_at=soon
        )
    return made


def unchanged(activity: Activity) -> None:
    fresh = Activity.objects.get(pk=activity.pk)
    assert (fresh.version, fresh.status, fresh.deleted_at, fresh.due_at) == (
        activity.version,
        activity.status,
        activity.deleted_at,
        activity.due_at,
    )


# ---- Who sees and changes what ----------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_persona_lists_exactly_their_scope(
    personas: dict[str, User], activities: dict[str, Activity], persona: str
) -> None:
    response = caller(personas[persona]).get(f"{API}/activities")
    assert response.status_code == 200
    assert {row["subject"] for row in response.json()["items"]} == {activities[key].subject for key in VISIBLE[persona]}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_an_activity_out_of_sight_answers_404_to_every_verb(
    personas: dict[str, User], activities: dict[str, Activity], persona: str
) -> None:
    client = caller(personas[persona])
    later = (timezone.now() + timedelta(days=3)).isoformat()
    for key, activity in activities.items():
        if key in VISIBLE[persona]:
            continue
        url = f"{API}/activities/{activity.pk}"
        for method, path, data in [
            ("get", url, None),
            ("patch", url, {"version": 1, "subject": "x"}),
            ("delete", url, None),
            ("post", f"{url}/complete", {}),
            ("post", f"{url}/cancel", None),
            ("post", f"{url}/reschedule", {"due_at": later}),
        ]:
            response = send(client, method, path, data)
            assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), (key, method, path)
        unchanged(activity)


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_only_the_owner_the_head_and_admins_change_an_activity(
    personas: dict[str, User], activities: dict[str, Activity], persona: str
) -> None:
    activity = activities["manager"]
    if "manager" not in VISIBLE[persona]:
        return  # out of sight: the test above
    client = caller(personas[persona])
    url = f"{API}/activities/{activity.pk}"
    response = send(client, "patch", url, {"version": 1, "subject": "Changed"})
    if persona in EDITORS:
        assert response.status_code == 200, response.json()
        assert response.json()["subject"] == "Changed"
        assert response.json()["version"] == 2
        return
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "You may not change this activity: its owner, the owner's head and admins may."
    )
    for method, path, data in [
        ("delete", url, None),
        ("post", f"{url}/complete", {}),
        ("post", f"{url}/cancel", None),
        ("post", f"{url}/reschedule", {"due_at": (timezone.now() + timedelta(days=3)).isoformat()}),
    ]:
        assert send(client, method, path, data).status_code == 403, (method, path)
    unchanged(activity)
    assert Activity.objects.get(pk=activity.pk).subject == "Manager's call"


def test_an_activity_on_a_client_one_sees_is_read_but_not_changed(
    teammate: User, manager: User, admin_user: User
) -> None:
    # The teammate's call on a client of the shared pool: the manager sees the client, so its history too.
    pool = client_services.company_create(by=admin_user, name="Pool Ltd")
    client_services.client_transfer(by=admin_user, client=pool, to_user=None)
    call = services.activity_create(by=teammate, kind="call", status="done", subject="Cold call", company=pool)
    client = bearer(manager)
    assert client.get(f"{API}/activities/{call.pk}").json()["subject"] == "Cold call"
    response = send(client, "patch", f"{API}/activities/{call.pk}", {"version": 1, "subject": "x"})
    assert response.status_code == 403
    assert Activity.objects.get(pk=call.pk).subject == "Cold call"


def test_signing_in_is_required(activities: dict[str, Activity]) -> None:
    assert Client().get(f"{API}/activities").status_code == 401
    assert send(Client(), "post", f"{API}/calls/quick-log", {}).status_code == 401


# ---- The list ---------------------------------------------------------------------------------


def test_list_filters_by_kind_status_owner_client_and_period(
    personas: dict[str, User], acme: Company, deal: Deal
) -> None:
    manager, head = personas["manager"], personas["head"]
    now = timezone.now()
    old = services.activity_create(
        by=manager, kind="call", status="done", subject="Old call", company=acme, done_at=now - timedelta(days=10)
    )
    services.activity_create(by=manager, kind="meeting", subject="Meeting", deal=deal, due_at=now + timedelta(days=1))
    services.activity_create(by=head, kind="task", subject="Head's task", due_at=now + timedelta(days=2))
    client = bearer(head)

    def found(**query: Any) -> set[str]:
        response = client.get(f"{API}/activities", query)
        assert response.status_code == 200, response.json()
        return {row["subject"] for row in response.json()["items"]}

    assert found(kind="call") == {"Old call"}
    assert found(status="planned") == {"Meeting", "Head's task"}
    assert found(owner=head.pk) == {"Head's task"}
    assert found(company=acme.pk) == {"Old call", "Meeting"}
    assert found(deal=deal.pk) == {"Meeting"}
    assert found(**{"from": (now - timedelta(days=1)).isoformat()}) == {"Meeting", "Head's task"}
    assert found(**{"to": (now - timedelta(days=1)).date().isoformat()}) == {"Old call"}
    row = client.get(f"{API}/activities", {"kind": "call"}).json()["items"][0]
    assert row["id"] == old.pk
    assert (row["kind"], row["status"], row["owner"], row["company"], row["version"]) == (
        "call",
        "done",
        manager.pk,
        acme.pk,
        1,
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "visit"}, "kind"),
        ({"status": "lost"}, "status"),
        ({"owner": "me"}, "owner"),
        ({"from": "yesterday"}, "from"),
        ({"limit": 1000}, "limit"),
        ({"owner": 2**70}, "owner"),
        ({"offset": 2**70}, "offset"),
    ],
)
def test_bad_list_filters_answer_422_naming_the_field(manager: User, query: dict[str, Any], field: str) -> None:
    response = bearer(manager).get(f"{API}/activities", query)
    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


def test_list_pages_cost_a_fixed_number_of_queries(
    manager: User, acme: Company, django_assert_max_num_queries: Any
) -> None:
    for number in range(30):
        services.activity_create(by=manager, kind="task", subject=f"Task {number:02}", company=acme)
    client = client_for(manager)
    # The session and its user, the page.
    with django_assert_max_num_queries(3):
        first = client.get(f"{API}/activities", {"limit": 25}).json()
    assert (len(first["items"]), first["has_more"]) == (25, True)
    last = client.get(f"{API}/activities", {"limit": 25, "offset": 25}).json()
    assert (len(last["items"]), last["has_more"]) == (5, False)
    assert {row["subject"] for row in first["items"] + last["items"]} == {f"Task {number:02}" for number in range(30)}


# ---- Creating, changing, completing -----------------------------------------------------------


def test_a_manager_plans_a_call(manager: User, ivanov: Contact, deal: Deal) -> None:
    due = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    response = send(
        bearer(manager),
        "post",
        f"{API}/activities",
        {
            "kind": "call",
            "subject": "Ask about the chairs",
            "contact": ivanov.pk,
            "deal": deal.pk,
            "due_at": due.isoformat(),
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    activity = Activity.objects.get()
    assert body["id"] == activity.pk
    assert (activity.kind, activity.status, activity.owner, activity.contact, activity.deal) == (
        "call",
        "planned",
        manager,
        ivanov,
        deal,
    )
    # The contact's company comes along.
    assert (activity.company_id, body["company"]) == (ivanov.company_id, ivanov.company_id)
    assert activity.due_at == due


def test_a_naive_moment_is_in_the_callers_time_zone(manager: User, acme: Company) -> None:
    due = timezone.localtime() + timedelta(days=1)
    naive = due.replace(tzinfo=None, microsecond=0).isoformat()
    response = send(bearer(manager), "post", f"{API}/activities", {"kind": "task", "company": acme.pk, "due_at": naive})
    assert response.status_code == 201
    assert Activity.objects.get().due_at == due.replace(microsecond=0)


def test_a_reader_logs_nothing(db: None, acme: Company) -> None:
    analyst = UserFactory.create(role=Role.ANALYST)
    response = send(bearer(analyst), "post", f"{API}/activities", {"kind": "note", "subject": "Hi"})
    assert response.status_code == 403
    assert response.json()["detail"] == "Only managers, heads of sales, agents, operators and admins log activities."
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"kind": "call", "duration": -5}, "duration", "The duration cannot be below zero."),
        (
            {"kind": "meeting", "outcome": "<call outcome>"},
            "outcome",
            "Choose one of the outcomes of a meeting.",
        ),
        (
            {"kind": "call", "due_at": "2020-01-01T10:00:00Z"},
            "due_at",
            "This date is more than a year ago: give the date the activity is planned for.",
        ),
        ({"kind": "call", "status": "done", "done_at": "2999-01-01T10:00:00Z"}, "done_at", None),
        ({"kind": "call", "company": "<outsider's company>"}, "company", "Choose a company you can see."),
        ({"kind": "call", "deal": 999_999}, "deal", "Choose a deal you can see."),
        ({"kind": "call", "owner": "<outsider>"}, "owner", "You can only give activities to people of your own team."),
        ({"kind": "call", "outcome": 999_999}, "outcome", None),
    ],
)
def test_bad_input_answers_422_by_field_and_saves_nothing(
    personas: dict[str, User], payload: dict[str, Any], field: str, message: str | None
) -> None:
    manager, outsider = personas["manager"], personas["outsider"]
    stand_ins = {
        "<call outcome>": outcome("call", "No answer").pk,
        "<outsider's company>": client_services.company_create(by=outsider, name="Initech").pk,
        "<outsider>": outsider.pk,
    }
    data = {key: stand_ins.get(value, value) if isinstance(value, str) else value for key, value in payload.items()}
    response = send(bearer(manager), "post", f"{API}/activities", data)
    assert response.status_code == 422, response.json()
    detail = response.json()["detail"]
    assert field in detail, detail
    if message is not None:
        assert detail[field] == [message]
    assert not Activity.objects.exists()


def test_a_meeting_done_without_its_minimum_data_lists_what_is_missing(manager: User, acme: Company) -> None:
    response = send(
        bearer(manager), "post", f"{API}/activities", {"kind": "meeting", "status": "done", "company": acme.pk}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["__all__"] == [
        "To save this meeting as “done” it needs: the client's last and first name, "
        "at least one contact detail of the client, the subject, the result."
    ]
    assert detail["subject"] == ["Needed: the subject."]
    assert set(detail) == {"__all__", "contact", "subject", "result"}
    assert not Activity.objects.exists()


def test_a_body_that_does_not_match_the_schema_answers_422_naming_the_field(manager: User) -> None:
    client = bearer(manager)
    for payload, field in [
        ({"kind": "visit"}, "kind"),
        ({"subject": "No kind"}, "kind"),
        ({"kind": "call", "colour": "red"}, "colour"),
        ({"kind": "call", "due_at": "soon"}, "due_at"),
        ({"kind": "call", "duration": 2**40}, "duration"),
    ]:
        response = send(client, "post", f"{API}/activities", payload)
        assert response.status_code == 422, payload
        assert [error["loc"][-1] for error in response.json()["detail"]] == [field], response.json()
    assert not Activity.objects.exists()


def test_patch_needs_the_current_version(manager: User, activities: dict[str, Activity]) -> None:
    activity = activities["manager"]
    client = bearer(manager)
    url = f"{API}/activities/{activity.pk}"
    missing = send(client, "patch", url, {"subject": "No version"})
    assert missing.status_code == 422
    assert send(client, "patch", url, {"version": 1, "subject": "First"}).status_code == 200
    stale = send(client, "patch", url, {"version": 1, "subject": "Second"})
    assert stale.status_code == 409
    assert "reload" in stale.json()["detail"]
    assert Activity.objects.get(pk=activity.pk).subject == "First"


def test_patch_refuses_an_outcome_of_another_kind_and_changes_nothing(
    manager: User, activities: dict[str, Activity]
) -> None:
    activity = activities["manager"]
    held = outcome("meeting", "Held")
    response = send(
        bearer(manager), "patch", f"{API}/activities/{activity.pk}", {"version": 1, "outcome": held.pk, "subject": "x"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == {"outcome": ["Choose one of the outcomes of a call."]}
    unchanged(activity)
    assert Activity.objects.get(pk=activity.pk).subject == "Manager's call"


def test_complete_with_an_outcome_then_the_status_stays(manager: User, activities: dict[str, Activity]) -> None:
    activity = activities["manager"]
    client = bearer(manager)
    url = f"{API}/activities/{activity.pk}/complete"
    response = send(
        client, "post", url, {"outcome": outcome("call", "Completed").pk, "result": "Ordered", "version": 1}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["result"], body["version"]) == ("done", "Ordered", 2)
    assert body["done_at"] is not None
    assert body["at"] == body["done_at"]
    # Without a body: done now.
    other = services.activity_create(by=manager, kind="task", subject="Tidy up")
    assert send(client, "post", f"{API}/activities/{other.pk}/complete").json()["status"] == "done"


def test_complete_refused_for_missing_minimum_data_changes_nothing(
    manager: User, acme: Company, activities: dict[str, Activity]
) -> None:
    meeting = services.activity_create(by=manager, kind="meeting", company=acme)
    response = send(bearer(manager), "post", f"{API}/activities/{meeting.pk}/complete", {"result": "Went well"})
    assert response.status_code == 422
    assert "__all__" in response.json()["detail"]
    fresh = Activity.objects.get(pk=meeting.pk)
    assert (fresh.status, fresh.result, fresh.version) == ("planned", "", 1)


def test_cancel_reschedule_and_delete(manager: User, activities: dict[str, Activity]) -> None:
    activity = activities["manager"]
    client = bearer(manager)
    url = f"{API}/activities/{activity.pk}"
    later = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    moved = send(client, "post", f"{url}/reschedule", {"due_at": later.isoformat(), "version": 1})
    assert moved.status_code == 200, moved.json()
    assert Activity.objects.get(pk=activity.pk).due_at == later
    stale = send(client, "post", f"{url}/reschedule", {"due_at": later.isoformat(), "version": 1})
    assert stale.status_code == 409
    cancelled = client.post(f"{url}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    # Only a planned activity moves.
    refused = send(client, "post", f"{url}/reschedule", {"due_at": later.isoformat()})
    assert refused.status_code == 422
    assert list(refused.json()["detail"]) == ["due_at"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert Activity.objects.get(pk=activity.pk).deleted_at is not None


# ---- The quick log ----------------------------------------------------------------------------


def test_the_quick_log_is_one_call(manager: User, ivanov: Contact, deal: Deal) -> None:
    tomorrow = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    response = send(
        bearer(manager),
        "post",
        f"{API}/calls/quick-log",
        {
            "contact_id": ivanov.pk,
            "outcome_id": outcome("call", "Call back later").pk,
            "follow_up_at": tomorrow.isoformat(),
            "deal_id": deal.pk,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    call, follow_up = Activity.objects.get(pk=body["call"]["id"]), Activity.objects.get(pk=body["follow_up"]["id"])
    assert (call.kind, call.status, call.contact, call.deal, call.outcome) == (
        "call",
        "done",
        ivanov,
        deal,
        outcome("call", "Call back later"),
    )
    assert (follow_up.status, follow_up.due_at, follow_up.follow_up_of) == ("planned", tomorrow, call)
    assert body["follow_up"]["follow_up_of"] == call.pk


def test_a_wrong_number_closes_the_call_without_a_follow_up(manager: User, acme: Company) -> None:
    response = send(
        bearer(manager),
        "post",
        f"{API}/calls/quick-log",
        {"company_id": acme.pk, "outcome_id": outcome("call", "Wrong number").pk},
    )
    assert response.status_code == 201
    assert response.json()["follow_up"] is None
    assert Activity.objects.get().company == acme


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"outcome": "Call back later"}, "follow_up_at"),
        ({"outcome": "Call back later", "follow_up_at": "2020-01-01T10:00:00Z"}, "follow_up_at"),
        ({"outcome": "Held"}, "outcome_id"),
        ({"outcome": "No answer", "client": "none"}, "company_id"),
        ({"outcome": "No answer", "client": "both"}, "company_id"),
        ({"outcome": "No answer", "client": "outsider's"}, "contact_id"),
        ({"outcome": "No answer", "deal_id": 999_999, "follow_up_at": "<tomorrow>"}, "deal_id"),
        ({"outcome": "Wrong number", "deal_id": "<other client's deal>"}, "deal_id"),
    ],
)
def test_a_refused_quick_log_names_the_field_and_saves_nothing(
    personas: dict[str, User], ivanov: Contact, deal: Deal, payload: dict[str, Any], field: str
) -> None:
    manager, outsider = personas["manager"], personas["outsider"]
    name = payload.pop("outcome")
    found = Outcome.objects.get(name=name)
    data: dict[str, Any] = {"outcome_id": found.pk, "contact_id": ivanov.pk, **payload}
    client_choice = data.pop("client", None)
    if client_choice == "none":
        data.pop("contact_id")
    elif client_choice == "both":
        data["company_id"] = ivanov.company_id
    elif client_choice == "outsider's":
        data["contact_id"] = client_services.contact_create(by=outsider, last_name="Smith", first_name="Ann").pk
    if data.get("follow_up_at") == "<tomorrow>":
        data["follow_up_at"] = (timezone.now() + timedelta(days=1)).isoformat()
    if data.get("deal_id") == "<other client's deal>":
        other = client_services.company_create(by=manager, name="Other Ltd")
        data["deal_id"] = sales_services.deal_create(by=manager, title="Other", company=other).pk
    response = send(bearer(manager), "post", f"{API}/calls/quick-log", data)
    assert response.status_code == 422, response.json()
    assert field in response.json()["detail"], response.json()
    assert not Activity.objects.exists()


def test_a_reader_may_not_quick_log(db: None, acme: Company) -> None:
    analyst = UserFactory.create(role=Role.ANALYST)
    response = send(
        bearer(analyst),
        "post",
        f"{API}/calls/quick-log",
        {"company_id": acme.pk, "outcome_id": outcome("call", "Wrong number").pk},
    )
    assert response.status_code == 403
    assert not Activity.objects.exists()


# ---- Outcome picklists and minimum-data rules -------------------------------------------------


def test_everyone_reads_the_outcomes_of_a_kind(agent: User) -> None:
    Outcome.objects.filter(kind="call", name="Completed").update(is_active=False)
    client = caller(agent)
    calls = client.get(f"{API}/activity-outcomes", {"kind": "call"}).json()
    assert [row["name"] for row in calls] == ["Taken into work", "No answer", "Call back later", "Wrong number"]
    assert {row["name"]: row["asks_follow_up"] for row in calls}["Call back later"] is True
    every = client.get(f"{API}/activity-outcomes", {"kind": "call", "include_inactive": "true"}).json()
    assert "Completed" in [row["name"] for row in every]
    assert {row["kind"] for row in client.get(f"{API}/activity-outcomes").json()} == {
        "call",
        "meeting",
        "task",
        "email",
    }
    assert client.get(f"{API}/activity-outcomes", {"kind": "visit"}).status_code == 422


def test_admins_add_and_change_outcomes(admin_user: User) -> None:
    client = bearer(admin_user)
    created = send(client, "post", f"{API}/activity-outcomes", {"kind": "call", "name": "Busy", "asks_follow_up": True})
    assert created.status_code == 201, created.json()
    busy = Outcome.objects.get(name="Busy")
    assert (busy.kind, busy.asks_follow_up, busy.is_active) == ("call", True, True)
    changed = send(client, "patch", f"{API}/activity-outcomes/{busy.pk}", {"name": "Line busy", "is_active": False})
    assert changed.status_code == 200
    busy.refresh_from_db()
    assert (busy.name, busy.asks_follow_up, busy.is_active) == ("Line busy", True, False)
    assert send(client, "patch", f"{API}/activity-outcomes/999999", {"name": "x"}).status_code == 404
    duplicate = send(client, "post", f"{API}/activity-outcomes", {"kind": "call", "name": "wrong NUMBER"})
    assert (duplicate.status_code, list(duplicate.json()["detail"])) == (422, ["name"])
    blank = send(client, "post", f"{API}/activity-outcomes", {"kind": "call", "name": "   "})
    assert (blank.status_code, list(blank.json()["detail"])) == (422, ["name"])


@pytest.mark.parametrize("persona", ["manager", "head", "operator"])
def test_only_admins_change_picklists_and_rules(personas: dict[str, User], persona: str) -> None:
    client = bearer(personas[persona])
    before = list(Outcome.objects.values_list("pk", "name", "is_active"))
    no_answer = outcome("call", "No answer")
    for method, path, data in [
        ("post", f"{API}/activity-outcomes", {"kind": "call", "name": "Busy"}),
        ("patch", f"{API}/activity-outcomes/{no_answer.pk}", {"is_active": False}),
        ("put", f"{API}/minimum-data-rules/call/done", {"required": ["outcome"]}),
    ]:
        response = send(client, method, path, data)
        assert response.status_code == 403, (method, path)
        assert response.json()["detail"] == "Only admins change the outcome picklists and the minimum-data rules."
    assert list(Outcome.objects.values_list("pk", "name", "is_active")) == before
    assert not MinimumDataRule.objects.filter(kind="call").exists()


def test_admins_set_and_remove_minimum_data_rules(admin_user: User, manager: User, acme: Company) -> None:
    client = bearer(admin_user)
    rules = client.get(f"{API}/minimum-data-rules").json()
    assert rules == [
        {
            "kind": "meeting",
            "status": "done",
            "required": ["date", "client_name", "contact_point", "subject", "result"],
        }
    ]
    response = send(client, "put", f"{API}/minimum-data-rules/call/done", {"required": ["outcome", "duration"]})
    assert response.status_code == 200
    assert response.json() == {"kind": "call", "status": "done", "required": ["outcome", "duration"]}
    # The rule applies at once, to the API's callers too.
    refused = send(bearer(manager), "post", f"{API}/activities", {"kind": "call", "status": "done", "company": acme.pk})
    assert refused.status_code == 422
    assert set(refused.json()["detail"]) == {"__all__", "outcome", "duration"}
    removed = send(client, "put", f"{API}/minimum-data-rules/call/done", {"required": []})
    assert removed.json() == {"kind": "call", "status": "done", "required": []}
    assert not MinimumDataRule.objects.filter(kind="call").exists()


@pytest.mark.parametrize(
    ("path", "required", "field"),
    [
        ("visit/done", ["subject"], "kind"),
        ("call/finished", ["subject"], "status"),
        ("call/done", ["mood"], "required"),
    ],
)
def test_a_bad_rule_answers_422_by_field_and_saves_nothing(
    admin_user: User, path: str, required: list[str], field: str
) -> None:
    response = send(bearer(admin_user), "put", f"{API}/minimum-data-rules/{path}", {"required": required})
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert MinimumDataRule.objects.count() == 1


# ---- The document -----------------------------------------------------------------------------


def test_the_endpoints_are_in_the_openapi_document(as_manager: Client) -> None:
    paths = as_manager.get("/api/openapi.json").json()["paths"]
    expected = {
        "/api/v1/activities": {"get", "post"},
        "/api/v1/activities/{activity_id}": {"get", "patch", "delete"},
        "/api/v1/activities/{activity_id}/complete": {"post"},
        "/api/v1/activities/{activity_id}/cancel": {"post"},
        "/api/v1/activities/{activity_id}/reschedule": {"post"},
        "/api/v1/calls/quick-log": {"post"},
        "/api/v1/activity-outcomes": {"get", "post"},
        "/api/v1/activity-outcomes/{outcome_id}": {"patch"},
        "/api/v1/minimum-data-rules": {"get"},
        "/api/v1/minimum-data-rules/{kind}/{status}": {"put"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) >= methods, path
    parameters = {row["name"] for row in paths["/api/v1/activities"]["get"]["parameters"]}
    assert {"kind", "status", "owner", "from", "to", "limit", "offset"} <= parameters

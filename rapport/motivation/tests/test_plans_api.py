"""Plans over the API as a program sees it: who reads and sets whose targets, progress on a day, and what bad
input answers (nothing saved)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from rapport.accounts.models import Team, User
from rapport.api.tests.helpers import API, caller, send
from rapport.clients import services as client_services
from rapport.motivation import services
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.periods import month_of

TARGETS = f"{API}/plans/targets"
MARCH: dict[str, Any] = {"period_kind": PeriodKind.MONTH, "starts_on": date(2026, 3, 1), "ends_on": None}

# Whose person targets each persona reads (the team's own target: every member, and the company-wide roles).
READS = {
    "manager": {"manager", "team"},
    "teammate": {"teammate", "team"},
    "agent": {"agent", "team"},
    "head": {"manager", "teammate", "agent", "team"},
    "outsider": {"outsider"},
    "operator": {"manager", "teammate", "agent", "outsider", "team"},
    "admin": {"manager", "teammate", "agent", "outsider", "team"},
}


@pytest.fixture
def targets(personas: dict[str, User], team_a: Team) -> dict[str, Target]:
    admin = personas["admin"]
    made = {
        name: services.target_save(by=admin, metric=Metric.CALLS, value=10, person=personas[name], **MARCH)
        for name in ["manager", "teammate", "agent", "outsider"]
    }
    made["team"] = services.target_save(by=admin, metric=Metric.CALLS, value=100, team=team_a, **MARCH)
    return made


def unchanged(target: Target) -> None:
    fresh = Target.objects.get(pk=target.pk)
    assert (fresh.value, fresh.starts_on, fresh.ends_on, fresh.user_id, fresh.team_id) == (
        target.value,
        target.starts_on,
        target.ends_on,
        target.user_id,
        target.team_id,
    )


# ---- Reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(READS))
def test_each_persona_lists_exactly_the_targets_of_their_scope(
    personas: dict[str, User], targets: dict[str, Target], persona: str
) -> None:
    response = caller(personas[persona]).get(TARGETS)

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["items"]} == {targets[key].pk for key in READS[persona]}


def test_the_list_filters_by_dates_person_team_and_metric(
    admin_user: User, targets: dict[str, Target], manager: User, team_a: Team
) -> None:
    later = services.target_save(
        by=admin_user,
        metric=Metric.MEETINGS,
        value=5,
        person=manager,
        period_kind="month",
        starts_on=date(2026, 5, 1),
        ends_on=None,
    )
    client = caller(admin_user)

    def ids(**query: Any) -> set[int]:
        return {row["id"] for row in client.get(TARGETS, query).json()["items"]}

    assert ids(**{"from": "2026-04-01"}) == {later.pk}
    assert ids(to="2026-03-15", person=manager.pk) == {targets["manager"].pk}
    assert ids(team=team_a.pk) == {targets["team"].pk}
    assert ids(metric="meetings") == {later.pk}
    first = client.get(TARGETS, {"limit": 2}).json()
    assert len(first["items"]) == 2
    assert first["has_more"] is True


def test_a_target_reads_as_a_program_expects(admin_user: User, targets: dict[str, Target], manager: User) -> None:
    row = caller(admin_user).get(TARGETS, {"person": manager.pk}).json()["items"][0]

    assert {key: row[key] for key in ["metric", "person", "team", "period_kind", "starts_on", "ends_on", "value"]} == {
        "metric": "calls",
        "person": manager.pk,
        "team": None,
        "period_kind": "month",
        "starts_on": "2026-03-01",
        "ends_on": "2026-03-31",
        "value": "10.00",
    }


# ---- Setting -----------------------------------------------------------------------------------


def test_a_head_sets_a_team_members_target(head: User, manager: User) -> None:
    response = send(
        caller(head),
        "post",
        TARGETS,
        {"metric": "deals_won", "value": 4, "starts_on": "2026-03-01", "person": manager.pk},
    )

    assert response.status_code == 201
    assert response.json()["ends_on"] == "2026-03-31"
    assert Target.objects.get(pk=response.json()["id"]).set_by == head


def test_revenue_takes_its_currency(admin_user: User, outsider: User) -> None:
    body = {"metric": "revenue_won", "value": "2500.50", "starts_on": "2026-03-01", "person": outsider.pk}
    response = send(caller(admin_user), "post", TARGETS, body | {"currency": "EUR"})

    assert response.status_code == 201
    assert (response.json()["currency"], response.json()["value"]) == ("EUR", "2500.50")


@pytest.mark.parametrize(
    ("persona", "whose", "status"),
    [
        ("head", "manager", 201),
        ("head", "team_a", 201),
        ("head", "outsider", 403),
        ("head", "team_b", 403),
        ("admin", "outsider", 201),
        ("admin", "team_b", 201),
        ("manager", "manager", 403),
        ("agent", "agent", 403),
        ("operator", "manager", 403),
    ],
)
def test_who_sets_whose_targets(
    personas: dict[str, User], team_a: Team, team_b: Team, persona: str, whose: str, status: int
) -> None:
    owner = {"team": team_a.pk} if whose == "team_a" else {"team": team_b.pk} if whose == "team_b" else {}
    owner = owner or {"person": personas[whose].pk}

    response = send(
        caller(personas[persona]), "post", TARGETS, {"metric": "calls", "value": 5, "starts_on": "2026-03-01"} | owner
    )

    assert response.status_code == status
    assert Target.objects.count() == (1 if status == 201 else 0)
    if status == 403:
        assert "heads of sales" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"value": -1}, {"value": ["A target cannot be below zero."]}),
        ({"value": "2.5"}, {"value": ["“Calls made” is counted in whole numbers."]}),
        ({"starts_on": "2026-03-02"}, {"starts_on": ["A month's target starts on the first of the month."]}),
        ({"period_kind": "custom"}, {"ends_on": ["Give the last day."]}),
        ({"currency": "USD"}, {"currency": ["Only a revenue target has a currency."]}),
        ({"person": 10**9}, {"person": ["Choose one that exists."]}),
        ({"team": 1}, {"person": ["Give either a person or a team."]}),
    ],
)
def test_bad_input_answers_422_by_field_and_saves_nothing(
    head: User, manager: User, team_a: Team, body: dict[str, Any], detail: dict[str, list[str]]
) -> None:
    payload = {"metric": "calls", "value": 5, "starts_on": "2026-03-01", "person": manager.pk} | body
    if "team" in body:
        payload["team"] = team_a.pk

    response = send(caller(head), "post", TARGETS, payload)

    assert response.status_code == 422
    assert response.json()["detail"] == detail
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    "body", [{"metric": "smiles"}, {"value": "NaN"}, {"starts_on": "2026-02-30"}, {"colour": "red"}]
)
def test_a_body_that_does_not_match_the_schema_answers_422(head: User, manager: User, body: dict[str, Any]) -> None:
    payload = {"metric": "calls", "value": 5, "starts_on": "2026-03-01", "person": manager.pk} | body

    response = send(caller(head), "post", TARGETS, payload)

    assert response.status_code == 422
    assert not Target.objects.exists()


def test_an_overlap_answers_422_naming_the_other_target(head: User, targets: dict[str, Target], manager: User) -> None:
    response = send(
        caller(head),
        "post",
        TARGETS,
        {
            "metric": "calls",
            "value": 5,
            "period_kind": "custom",
            "starts_on": "2026-03-25",
            "ends_on": "2026-04-10",
            "person": manager.pk,
        },
    )

    assert response.status_code == 422
    assert "from March 1, 2026 to March 31, 2026" in response.json()["detail"]["starts_on"][0]
    assert Target.objects.filter(user=manager).count() == 1


def test_a_head_changes_a_team_members_target_and_moves_it_to_another_month(
    head: User, targets: dict[str, Target]
) -> None:
    target = targets["manager"]

    response = send(caller(head), "patch", f"{TARGETS}/{target.pk}", {"value": 12, "starts_on": "2026-04-01"})

    assert response.status_code == 200
    target.refresh_from_db()
    assert (target.value, target.starts_on, target.ends_on, target.set_by) == (
        Decimal(12),
        date(2026, 4, 1),
        date(2026, 4, 30),
        head,
    )


def test_a_patch_into_an_overlap_changes_nothing(admin_user: User, targets: dict[str, Target], manager: User) -> None:
    april = services.target_save(
        by=admin_user,
        metric=Metric.CALLS,
        value=9,
        person=manager,
        period_kind="month",
        starts_on=date(2026, 4, 1),
        ends_on=None,
    )

    response = send(caller(admin_user), "patch", f"{TARGETS}/{april.pk}", {"starts_on": "2026-03-01"})

    assert response.status_code == 422
    unchanged(april)


@pytest.mark.parametrize(
    ("persona", "key", "status"),
    [
        ("head", "outsider", 404),
        ("manager", "teammate", 404),
        ("manager", "manager", 403),
        ("manager", "team", 403),
        ("agent", "agent", 403),
        ("operator", "manager", 403),
        ("outsider", "team", 404),
    ],
)
def test_a_target_out_of_sight_answers_404_and_one_seen_but_not_theirs_403(
    personas: dict[str, User], targets: dict[str, Target], persona: str, key: str, status: int
) -> None:
    client = caller(personas[persona])
    target = targets[key]

    assert send(client, "patch", f"{TARGETS}/{target.pk}", {"value": 1}).status_code == status
    assert client.delete(f"{TARGETS}/{target.pk}").status_code == status
    unchanged(target)


def test_a_head_deletes_a_team_target(head: User, targets: dict[str, Target]) -> None:
    response = caller(head).delete(f"{TARGETS}/{targets['team'].pk}")

    assert response.status_code == 204
    assert not Target.objects.filter(pk=targets["team"].pk).exists()


# ---- Progress ----------------------------------------------------------------------------------


def test_progress_gives_each_running_target_with_its_fact_and_pace(head: User, manager: User, team_a: Team) -> None:
    period = month_of(timezone.localdate())
    running: dict[str, Any] = {"period_kind": "month", "starts_on": period.start, "ends_on": None}
    services.target_save(by=head, metric=Metric.NEW_CLIENTS, value=4, person=manager, **running)
    services.target_save(by=head, metric=Metric.NEW_CLIENTS, value=40, team=team_a, **running)
    client_services.company_create(by=manager, name="Fresh Client Ltd")
    client_services.company_create(by=manager, name="Another Fresh Client Ltd")

    mine = caller(manager).get(f"{API}/plans/progress").json()
    seen_by_head = (
        caller(head).get(f"{API}/plans/progress", {"person": str(manager.pk), "on": period.start.isoformat()}).json()
    )

    assert [(row["target"]["person"], row["target"]["team"], row["fact"], row["share"]) for row in mine] == [
        (manager.pk, None, "2", 0.5),
        (None, team_a.pk, "2", 0.05),
    ]
    assert mine[0]["elapsed"] == round(period.elapsed_share(timezone.localdate()), 4)
    assert mine[0]["pace"] in {"ahead", "behind"}
    assert seen_by_head[0]["pace"] == "ahead"  # two of four on the first day
    assert seen_by_head[0]["elapsed"] == round(1 / period.days, 4)


def test_a_day_outside_every_target_has_no_progress(head: User, manager: User) -> None:
    services.target_save(by=head, metric=Metric.CALLS, value=4, person=manager, **MARCH)

    response = caller(manager).get(f"{API}/plans/progress", {"on": "2026-04-01"})

    assert response.json() == []


@pytest.mark.parametrize(
    ("persona", "whose", "status"),
    [("manager", "teammate", 404), ("head", "outsider", 404), ("admin", "outsider", 200)],
)
def test_progress_of_someone_out_of_scope_answers_404(
    personas: dict[str, User], persona: str, whose: str, status: int
) -> None:
    response = caller(personas[persona]).get(f"{API}/plans/progress", {"person": personas[whose].pk})

    assert response.status_code == status


def test_progress_refuses_a_date_it_cannot_read(manager: User) -> None:
    assert caller(manager).get(f"{API}/plans/progress", {"on": "tomorrow"}).status_code == 422
    assert (
        caller(manager).get(f"{API}/plans/progress", {"on": (date.today() + timedelta(days=1)).isoformat()}).status_code
        == 200
    )

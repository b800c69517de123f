"""The plan/fact report over the API as a program sees it: rows per scope, periods, metrics, and what bad input
answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.api.tests.helpers import API, caller
from rapport.motivation.tests.test_report import last_month, this_month, work_done

REPORT = f"{API}/plans/report"


@pytest.fixture
def worked(personas: dict[str, User], team_a: Team) -> dict[str, User]:
    return work_done(personas, team_a)


def two_months() -> dict[str, Any]:
    return {"until": this_month().end.isoformat(), "count": 2}


def table(body: dict[str, Any]) -> dict[str, list[tuple[str | None, str, int | None]]]:
    """Row ("team" or the person's username-free id) → (target, fact, percent) per period."""
    found = {}
    for row in body["rows"]:
        key = "team" if row["person"] is None else str(row["person"]["id"])
        found[key] = [(cell["target"], cell["fact"], cell["percent"]) for cell in row["cells"]]
    return found


def test_a_head_reads_their_teams_people_and_the_team(worked: dict[str, User]) -> None:
    response = caller(worked["head"]).get(REPORT, two_months())

    body = response.json()
    assert response.status_code == 200
    assert body["kind"] == "month"
    assert body["periods"] == [
        {"starts_on": last_month().start.isoformat(), "ends_on": last_month().end.isoformat()},
        {"starts_on": this_month().start.isoformat(), "ends_on": this_month().end.isoformat()},
    ]
    ids = {name: str(user.pk) for name, user in worked.items()}
    assert table(body) == {
        ids["agent"]: [(None, "0", None), (None, "0", None)],
        ids["head"]: [(None, "0", None), (None, "0", None)],
        ids["manager"]: [("5.00", "1", 20), ("10.00", "3", 30)],
        ids["teammate"]: [(None, "0", None), (None, "2", None)],
        "team": [(None, "1", None), ("20.00", "5", 25)],
    }
    assert body["rows"][-1]["team"]["name"] == "Team A"
    assert body["rows"][0]["person"]["name"] == "Anton Agent"


def test_a_manager_reads_their_own_row_and_the_teams(worked: dict[str, User]) -> None:
    body = caller(worked["manager"]).get(REPORT, two_months()).json()

    assert set(table(body)) == {str(worked["manager"].pk), "team"}


def test_one_person_and_several_metrics(worked: dict[str, User]) -> None:
    teammate = worked["teammate"]

    body = caller(worked["head"]).get(REPORT, {**two_months(), "person": teammate.pk, "metric": ["meetings", "calls"]})

    assert [(row["metric"], row["person"]["id"]) for row in body.json()["rows"]] == [
        ("calls", teammate.pk),
        ("meetings", teammate.pk),
    ]
    assert body.json()["rows"][1]["cells"][1] == {
        "starts_on": this_month().start.isoformat(),
        "ends_on": this_month().end.isoformat(),
        "target": "3.00",
        "fact": "0",
        "percent": 0,
    }


@pytest.mark.parametrize(
    ("persona", "query", "status"),
    [
        ("manager", {"person": "teammate"}, 404),
        ("outsider", {"team": "team_a"}, 404),
        ("head", {"team": "team_b"}, 404),
        ("head", {"person": "outsider"}, 404),
        ("operator", {"team": "team_b"}, 200),
        ("admin", {"person": "outsider"}, 200),
        ("agent", {}, 200),
    ],
)
def test_who_reads_whose_report(
    worked: dict[str, User],
    team_a: Team,
    team_b: Team,
    persona: str,
    query: dict[str, str],
    status: int,
) -> None:
    ids = {"team_a": team_a.pk, "team_b": team_b.pk} | {name: user.pk for name, user in worked.items()}

    response = caller(worked[persona]).get(REPORT, {key: str(ids[value]) for key, value in query.items()})

    assert response.status_code == status


def test_quarters_for_a_company_wide_role_without_a_team(worked: dict[str, User]) -> None:
    body = caller(worked["operator"]).get(REPORT, {"kind": "quarter", "count": "4", "until": "2026-02-10"}).json()

    assert [period["starts_on"] for period in body["periods"]] == [
        "2025-04-01",
        "2025-07-01",
        "2025-10-01",
        "2026-01-01",
    ]
    # No team chosen and none of their own: everyone's rows, no team's.
    assert all(row["team"] is None for row in body["rows"])
    assert {row["person"]["id"] for row in body["rows"]} >= {worked["manager"].pk, worked["outsider"].pk}


def test_those_who_read_no_plans_get_403(worked: dict[str, User], settings: Any) -> None:
    settings.RAPPORT_CLIENT_SCOPES = {"analyst": "own"}
    analyst = UserFactory.create(role=Role.ANALYST)

    response = caller(analyst).get(REPORT)

    assert response.status_code == 403
    assert "Plans are read by" in response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        {"kind": "custom"},
        {"count": 0},
        {"count": 25},
        {"metric": "karma"},
        {"until": "1999-12-31"},
        {"until": "yesterday"},
        {"team": "abc"},
        {"person": -1},
    ],
)
def test_input_not_understood_answers_422(worked: dict[str, User], query: dict[str, Any]) -> None:
    response = caller(worked["head"]).get(REPORT, query)

    assert response.status_code == 422


def test_dates_out_of_range_are_keyed_by_until(worked: dict[str, User]) -> None:
    response = caller(worked["head"]).get(REPORT, {"until": "2101-01-01"})

    assert response.json() == {"detail": {"until": ["Choose a date between Jan. 1, 2000 and Dec. 31, 2100."]}}


def test_without_a_key_or_session_401(db: None) -> None:
    assert Client().get(REPORT).status_code == 401

"""The leaderboard over the API as a program sees it: places, the caller's own place, scope and bad input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.api.tests.helpers import API, caller
from rapport.motivation.models import Metric
from rapport.motivation.periods import month_of
from rapport.motivation.tests.test_leaderboard import calls_done, target

BOARD = f"{API}/plans/leaderboard"


@pytest.fixture
def board_team(personas: dict[str, User], team_a: Team) -> dict[str, User]:
    calls_done(personas["head"], 3)
    calls_done(personas["manager"], 1)
    calls_done(personas["teammate"], 3)
    calls_done(personas["outsider"], 2)
    target(Metric.CALLS, 4, person=personas["teammate"])
    return personas


def places(body: dict[str, Any], personas: dict[str, User]) -> list[tuple[str, int, str]]:
    names = {user.pk: name for name, user in personas.items()}
    return [(names[item["person"]["id"]], item["rank"], item["fact"]) for item in body["items"]]


def test_a_member_reads_their_teams_board_with_their_own_place(board_team: dict[str, User]) -> None:
    response = caller(board_team["manager"]).get(BOARD)

    body = response.json()
    month = month_of(timezone.localdate())
    assert response.status_code == 200
    assert (body["team"]["name"], body["metric"], body["starts_on"], body["ends_on"]) == (
        "Team A",
        "calls",
        month.start.isoformat(),
        month.end.isoformat(),
    )
    assert places(body, board_team) == [("head", 1, "3"), ("teammate", 1, "3"), ("manager", 3, "1"), ("agent", 4, "0")]
    teammate = body["items"][1]
    assert (teammate["target"], teammate["percent"]) == ("4.00", 75)
    assert body["own"]["person"]["id"] == board_team["manager"].pk
    assert (body["own"]["rank"], body["currency"], body["currency_source"]) == (3, "", "")


def test_the_own_place_is_given_when_the_limit_leaves_it_out(board_team: dict[str, User]) -> None:
    body = caller(board_team["agent"]).get(BOARD, {"limit": 2}).json()

    assert len(body["items"]) == 2
    assert (body["own"]["person"]["id"], body["own"]["rank"]) == (board_team["agent"].pk, 4)


def test_other_dates_and_metrics(board_team: dict[str, User], settings: Any) -> None:
    settings.RAPPORT_DEFAULT_CURRENCY = "EUR"
    client = caller(board_team["head"])

    last_year = client.get(BOARD, {"from": "2025-01-01", "until": "2025-12-31"}).json()
    january = client.get(BOARD, {"from": "2025-01-01"}).json()
    revenue = client.get(BOARD, {"metric": "revenue_won"}).json()

    assert {item["fact"] for item in last_year["items"]} == {"0"}
    assert (january["starts_on"], january["ends_on"]) == ("2025-01-01", "2025-01-31")
    assert (revenue["currency"], revenue["currency_source"]) == ("EUR", "company")


@pytest.mark.parametrize(
    ("persona", "team", "status"),
    [
        ("outsider", "team_a", 404),
        ("head", "team_b", 404),
        ("outsider", "team_b", 200),
        ("operator", "team_a", 200),
        ("admin", "team_b", 200),
        ("agent", "team_a", 200),
    ],
)
def test_who_reads_which_teams_board(
    board_team: dict[str, User], team_a: Team, team_b: Team, persona: str, team: str, status: int
) -> None:
    teams = {"team_a": team_a, "team_b": team_b}

    response = caller(board_team[persona]).get(BOARD, {"team": teams[team].pk})

    assert response.status_code == status


def test_an_analyst_reads_any_team_and_has_no_place(board_team: dict[str, User], team_b: Team) -> None:
    analyst = UserFactory.create(role=Role.ANALYST)

    body = caller(analyst).get(BOARD, {"team": team_b.pk}).json()

    assert places(body, board_team) == [("outsider", 1, "2")]
    assert body["own"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "team"),  # the operator is in no team
        ({"team": 1, "from": "2026-05-01", "until": "2026-04-01"}, "until"),
        ({"team": 1, "from": "1999-12-01"}, "from"),
    ],
)
def test_input_not_understood_answers_422_keyed_by_parameter(
    board_team: dict[str, User], team_a: Team, query: dict[str, Any], field: str
) -> None:
    query = {key: team_a.pk if key == "team" else value for key, value in query.items()}

    response = caller(board_team["operator"]).get(BOARD, query)

    assert response.status_code == 422
    assert field in response.json()["detail"]


@pytest.mark.parametrize("query", [{"metric": "karma"}, {"limit": 0}, {"limit": 101}, {"from": "March"}, {"team": 0}])
def test_malformed_parameters_answer_422(board_team: dict[str, User], query: dict[str, Any]) -> None:
    assert caller(board_team["manager"]).get(BOARD, query).status_code == 422


def test_without_a_key_or_session_401(db: None) -> None:
    from django.test import Client

    assert Client().get(BOARD).status_code == 401


def test_the_board_reads_four_queries_after_signing_in(
    board_team: dict[str, User], django_assert_num_queries: Any
) -> None:
    client = caller(board_team["manager"])
    # The key with its user, its last use; the team, the members, their targets, their calls (one grouped query).
    with django_assert_num_queries(6):
        response = client.get(BOARD)

    assert Decimal(response.json()["items"][0]["fact"]) == 3

"""The leaderboard as people use it: places and ties, targets and percents, the viewer's own row always in view,
medals, the revenue's currency, who opens which team's board, bad addresses, and what it costs."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities import services as activity_services
from rapport.clients import services as client_services
from rapport.core import bench
from rapport.motivation.leaderboard import leaderboard, ranked
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.periods import Period, month_of
from rapport.sales import services as sales_services
from rapport.sales.models import Pipeline, Stage

BOARD = reverse("motivation:leaderboard")
HTMX = {"HX-Request": "true"}


def this_month() -> Period:
    return month_of(timezone.localdate())


def calls_done(person: User, count: int) -> None:
    company = client_services.company_create(by=person, name=f"{person.username}'s client")
    for _ in range(count):
        activity_services.activity_create(by=person, kind="call", status="done", company=company)


def target(metric: str, value: Any, *, person: User | None = None, team: Team | None = None, **fields: Any) -> Target:
    period = this_month()
    return Target.objects.create(
        metric=metric,
        user=person,
        team=team,
        period_kind=PeriodKind.MONTH,
        starts_on=period.start,
        ends_on=period.end,
        value=Decimal(value),
        **fields,
    )


def board_rows(html: str) -> list[tuple[str, str, str]]:
    """(person id, place, fact) of each row the board shows, top to bottom."""
    return re.findall(
        r'<tr class="leaderboard-row[^"]*" data-person="(\d+)" data-rank="(\d+)" data-fact="([\d.]+)"', html
    )


def own_row(html: str) -> str | None:
    found = re.search(r'<tr class="leaderboard-row[^"]*leaderboard-own" data-person="(\d+)"', html)
    return found[1] if found else None


@pytest.fixture
def ranked_team(personas: dict[str, User], team_a: Team) -> dict[str, User]:
    """Team A's calls this month: head 5, manager 3, teammate 3, agent 1; around them, people not on the board."""
    calls_done(personas["head"], 5)
    calls_done(personas["manager"], 3)
    calls_done(personas["teammate"], 3)
    calls_done(personas["agent"], 1)
    calls_done(personas["outsider"], 7)  # another team
    gone = UserFactory.create(username="gone", role=Role.MANAGER, team=team_a)
    calls_done(gone, 9)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    clerk = UserFactory.create(username="clerk", role=Role.OPERATOR, team=team_a)  # in the team, but sells nothing
    calls_done(clerk, 10)
    return personas


# ---- Places ------------------------------------------------------------------------------------


def test_equal_figures_share_a_place_and_the_next_place_is_skipped(ranked_team: dict[str, User], team_a: Team) -> None:
    board = leaderboard(team_a, Metric.CALLS, this_month(), ranked_team["teammate"])

    assert [(place.person.username, place.rank, int(place.fact)) for place in board.places] == [
        ("head", 1, 5),
        ("manager", 2, 3),
        ("teammate", 2, 3),
        ("agent", 4, 1),
    ]
    assert board.own is not None
    assert (board.own.person.username, board.own.rank) == ("teammate", 2)


def test_ranking_by_hand() -> None:
    people = [UserFactory.build(pk=number, first_name=name, last_name="") for number, name in enumerate("DCBAE", 1)]
    values = [Decimal(value) for value in (4, 9, 4, 4, 0)]

    found = [
        (rank, person.first_name, int(value)) for rank, person, value in ranked(list(zip(people, values, strict=True)))
    ]

    assert found == [(1, "C", 9), (2, "A", 4), (2, "B", 4), (2, "D", 4), (5, "E", 0)]


def test_each_place_shows_its_target_and_the_percent_reached(ranked_team: dict[str, User], team_a: Team) -> None:
    target(Metric.CALLS, 6, person=ranked_team["manager"])
    target(Metric.CALLS, 2, person=ranked_team["teammate"])
    target(Metric.CALLS, 100, team=team_a)
    target(Metric.MEETINGS, 1, person=ranked_team["head"])  # another metric

    board = leaderboard(team_a, Metric.CALLS, this_month(), ranked_team["head"])

    assert {place.person.username: (place.target, place.percent) for place in board.places} == {
        "head": (None, None),
        "manager": (6, 50),
        "teammate": (2, 150),  # passed by half: not capped
        "agent": (None, None),
    }


def test_the_page_shows_places_targets_and_medals(ranked_team: dict[str, User]) -> None:
    target(Metric.CALLS, 6, person=ranked_team["manager"])

    html = client_for(ranked_team["manager"]).get(BOARD).content.decode()

    ids = {str(user.pk): name for name, user in ranked_team.items()}
    assert [(ids[person], rank, fact) for person, rank, fact in board_rows(html)] == [
        ("head", "1", "5"),
        ("manager", "2", "3"),
        ("teammate", "2", "3"),
        ("agent", "4", "1"),
    ]
    assert re.findall(r'data-medal="(\w+)"', html) == ["gold", "silver", "silver"]
    assert 'data-percent="50"' in html
    assert own_row(html) == str(ranked_team["manager"].pk)
    assert f"Calls made · {timezone.localdate().strftime('%B %Y')} · Team A" in html


def test_nothing_done_wins_no_medal(personas: dict[str, User]) -> None:
    html = client_for(personas["manager"]).get(BOARD).content.decode()

    assert {rank for _person, rank, _fact in board_rows(html)} == {"1"}
    assert "data-medal" not in html


def test_the_viewers_row_stays_in_view_below_the_first_ten(manager: User, team_a: Team) -> None:
    callers = [
        UserFactory.create(username=f"caller{number:02}", first_name=f"Caller {number:02}", last_name="", team=team_a)
        for number in range(11)
    ]
    for caller in callers:
        calls_done(caller, 1)

    html = client_for(manager).get(BOARD).content.decode()

    shown = board_rows(html)
    assert [person for person, _rank, _fact in shown] == [str(caller.pk) for caller in callers[:10]] + [str(manager.pk)]
    assert shown[-1] == (str(manager.pk), "12", "0")
    assert own_row(html) == str(manager.pk)
    assert 'class="leaderboard-gap"' in html
    assert "The first 10 of 13 people." in html


def test_the_viewer_among_the_first_ten_is_shown_once(ranked_team: dict[str, User]) -> None:
    html = client_for(ranked_team["agent"]).get(BOARD).content.decode()

    assert [person for person, _rank, _fact in board_rows(html)].count(str(ranked_team["agent"].pk)) == 1
    assert "leaderboard-gap" not in html


# ---- Revenue -----------------------------------------------------------------------------------


def won(by: User, pipeline: Pipeline, amount: int, currency: str) -> None:
    company = client_services.company_create(by=by, name=f"Buyer in {currency} {amount}")
    buyer = client_services.contact_create(by=by, last_name="Buyer", first_name="Bob", company=company)
    deal = sales_services.deal_create(
        by=by,
        title="Chairs",
        company=company,
        contact=buyer,
        pipeline=pipeline,
        amount=Decimal(amount),
        currency=currency,
    )
    deal.checkpoints.update(done_at=timezone.now())
    sales_services.deal_move_to_stage(by=by, deal=deal, stage=Stage.objects.get(pipeline=pipeline, name="Won"))


def test_revenue_counts_in_the_currency_of_the_teams_targets(
    manager: User, teammate: User, team_a: Team, pipeline: Pipeline, settings: Any
) -> None:
    settings.RAPPORT_DEFAULT_CURRENCY = "USD"
    won(manager, pipeline, 500, "EUR")
    won(manager, pipeline, 1000, "USD")
    as_manager = client_for(manager)
    query = {"metric": Metric.REVENUE_WON}

    before = as_manager.get(BOARD, query).content.decode()
    target(Metric.REVENUE_WON, 2000, team=team_a, currency="EUR")
    target(Metric.REVENUE_WON, 800, person=teammate, currency="USD")  # not the team's currency: no percent of it
    after = as_manager.get(BOARD, query).content.decode()

    assert (str(manager.pk), "1", "1000") in board_rows(before)
    assert 'data-currency="USD"' in before
    assert "the company's currency" in before
    assert (str(manager.pk), "1", "500") in board_rows(after)
    assert 'data-currency="EUR"' in after
    assert "the currency of the team's revenue targets" in after
    board = leaderboard(team_a, Metric.REVENUE_WON, this_month(), manager)
    assert {place.person.username: place.target for place in board.places}["teammate"] is None


# ---- Who opens which board ---------------------------------------------------------------------


def test_a_member_of_another_team_cannot_open_this_board(
    ranked_team: dict[str, User], team_a: Team, team_b: Team
) -> None:
    as_outsider = client_for(ranked_team["outsider"])

    assert as_outsider.get(BOARD, {"team": team_a.pk}).status_code == 404
    assert as_outsider.get(BOARD, {"team": 10**12}).status_code == 404
    own = as_outsider.get(BOARD, {"team": team_b.pk})
    assert own.status_code == 200
    assert board_rows(own.content.decode()) == [(str(ranked_team["outsider"].pk), "1", "7")]


def test_a_head_cannot_open_another_teams_board(head: User, team_b: Team) -> None:
    assert client_for(head).get(BOARD, {"team": team_b.pk}).status_code == 404


def test_an_analyst_opens_any_teams_board_and_is_on_none(ranked_team: dict[str, User], team_b: Team) -> None:
    analyst = UserFactory.create(role=Role.ANALYST)

    html = client_for(analyst).get(BOARD, {"team": team_b.pk}).content.decode()

    assert board_rows(html) == [(str(ranked_team["outsider"].pk), "1", "7")]
    assert own_row(html) is None
    assert re.search(r'<select name="team"[^>]*>\s*<option value="\d+">Team A</option>', html)  # every team


def test_someone_in_no_team_is_told_there_is_no_board(db: None) -> None:
    loner = UserFactory.create(role=Role.MANAGER, team=None)

    html = client_for(loner).get(BOARD).content.decode()

    assert 'id="leaderboard-no-team"' in html
    assert not board_rows(html)


def test_signed_out_visitors_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(BOARD)

    assert response.status_code == 302
    assert "login" in response["Location"]


# ---- The address -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"metric": "karma"}, "Select a valid choice"),
        ({"team": "abc"}, "Select a valid choice"),
        ({"kind": "week"}, "Select a valid choice"),
        ({"kind": "month", "month": "March"}, "Enter a valid date"),
        ({"kind": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "The last day cannot be before the first"),
        ({"kind": "custom", "start": "0001-01-01", "end": "9999-12-31"}, "Choose a date between"),
    ],
)
def test_an_address_not_understood_says_why_and_shows_this_months_calls(
    ranked_team: dict[str, User], query: dict[str, str], words: str
) -> None:
    response = client_for(ranked_team["manager"]).get(BOARD, query)

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'class="[^"]*invalid-feedback d-block" id="id_\w+-error">[^<]*{words}', html)
    assert f"Calls made · {timezone.localdate().strftime('%B %Y')} · Team A" in html
    assert len(board_rows(html)) == 4


def test_another_period_and_metric_are_chosen_in_the_address(ranked_team: dict[str, User]) -> None:
    year = timezone.localdate().year
    as_head = client_for(ranked_team["head"])

    quarter = as_head.get(BOARD, {"kind": "quarter", "quarter": f"{year}-Q1", "metric": "meetings"}).content.decode()
    htmx = as_head.get(BOARD, {"kind": "month", "month": "2026-01", "metric": "deals_won"}, headers=HTMX)

    assert f"Meetings held · Q1 {year} · Team A" in quarter
    assert 'id="leaderboard-body"' in htmx.content.decode()
    assert "<html" not in htmx.content.decode()
    assert 'id="leaderboard-previous" href="?kind=month&amp;month=2025-12&amp;team=' in htmx.content.decode()
    assert "&amp;metric=deals_won" in htmx.content.decode()


def test_the_plans_page_and_my_day_lead_to_the_board(manager: User, head: User, team_a: Team) -> None:
    target(Metric.CALLS, 10, person=manager)
    as_manager = client_for(manager)

    plans = as_manager.get(reverse("motivation:plans")).content.decode()
    my_day = as_manager.get(reverse("activities:my-day")).content.decode()

    assert f'href="{BOARD}" class="btn" id="plans-leaderboard-link"' in plans
    assert f'href="{BOARD}" id="plan-counters-leaderboard"' in my_day


# ---- Cost --------------------------------------------------------------------------------------


@pytest.mark.parametrize("extra_people", [0, 6])
def test_the_board_costs_the_same_queries_however_many_people(
    ranked_team: dict[str, User], team_a: Team, django_assert_num_queries: Any, extra_people: int
) -> None:
    for _ in range(extra_people):
        person = UserFactory.create(role=Role.MANAGER, team=team_a)
        target(Metric.CALLS, 5, person=person)
    as_manager = client_for(ranked_team["manager"])

    # Session and user, the teams, the members, their targets, their calls (one grouped query), the unread bell.
    with django_assert_num_queries(7):
        response = as_manager.get(BOARD)

    assert len(board_rows(response.content.decode())) == 4 + extra_people


def test_the_bench_operations_lead_to_the_pages_they_time(ranked_team: dict[str, User]) -> None:
    import rapport.motivation.bench_ops  # noqa: F401  (registers them)

    operations = {operation.key: operation for operation in bench.operations()}
    context = bench.BenchContext(database="default")
    for key, user in [("team plan/fact", "head"), ("leaderboard", "manager")]:
        operation = operations[key]
        path = operation.path(context)
        assert (operation.user, operation.target_ms) == (user, 150)
        assert resolve(path).url_name in {"plans", "leaderboard"}
        assert client_for(ranked_team[user]).get(path).status_code == 200

"""The plan/fact report: each person's and the team's target, fact and percent over consecutive periods, who gets
which rows, bad addresses, the exports, and what it costs."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from conftest import client_for
from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities import services as activity_services
from rapport.clients import services as client_services
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.periods import Period, month_of, quarter_of
from rapport.motivation.report import periods_until, plan_fact, revenue_currency

REPORT = reverse("motivation:report")
EXPORT = reverse("motivation:report-export")
HTMX = {"HX-Request": "true"}


def this_month() -> Period:
    return month_of(timezone.localdate())


def last_month() -> Period:
    return month_of(this_month().start - timedelta(days=1))


def calls_done(person: User, count: int, *, in_period: Period | None = None) -> None:
    company = client_services.company_create(by=person, name=f"{person.username}'s client {count}")
    fields: dict[str, Any] = {}
    if in_period is not None:
        zone = timezone.get_current_timezone()
        fields["done_at"] = datetime.combine(in_period.start + timedelta(days=14), time(12), zone)
    for _ in range(count):
        activity_services.activity_create(by=person, kind="call", status="done", company=company, **fields)


def target(metric: str, value: Any, period: Period, *, person: User | None = None, team: Team | None = None) -> Target:
    return Target.objects.create(
        metric=metric,
        user=person,
        team=team,
        period_kind=PeriodKind.MONTH,
        starts_on=period.start,
        ends_on=period.end,
        value=Decimal(value),
    )


@pytest.fixture
def worked(personas: dict[str, User], team_a: Team) -> dict[str, User]:
    return work_done(personas, team_a)


def work_done(personas: dict[str, User], team_a: Team) -> dict[str, User]:
    """Team A's calls: the manager 1 last month and 3 this month, the teammate 2 this month; the outsider 4 this
    month; and targets."""
    manager, teammate = personas["manager"], personas["teammate"]
    calls_done(manager, 1, in_period=last_month())
    calls_done(manager, 3)
    calls_done(teammate, 2)
    calls_done(personas["outsider"], 4)
    target(Metric.CALLS, 5, last_month(), person=manager)
    target(Metric.CALLS, 10, this_month(), person=manager)
    target(Metric.CALLS, 20, this_month(), team=team_a)
    target(Metric.MEETINGS, 3, this_month(), person=teammate)
    return personas


def figures(cells: list[Any]) -> list[tuple[int, int | None, int | None]]:
    return [(int(cell.fact), None if cell.target is None else int(cell.target), cell.percent) for cell in cells]


# ---- The figures ---------------------------------------------------------------------------------


def test_each_row_sets_the_fact_against_the_target_of_each_period(worked: dict[str, User], team_a: Team) -> None:
    people = [worked["manager"], worked["teammate"]]

    report = plan_fact(
        people=people, teams=[team_a], metrics=[Metric.CALLS], kind=PeriodKind.MONTH, first_period=last_month(), count=2
    )

    assert report.periods == [last_month(), this_month()]
    assert [(row.name, figures(row.cells)) for row in report.rows] == [
        ("Mark Manager", [(1, 5, 20), (3, 10, 30)]),
        ("Tina Teammate", [(0, None, None), (2, None, None)]),
        # All the team's members against the team's own target.
        ("Team A", [(1, None, None), (5, 20, 25)]),
    ]
    assert [row.is_team for row in report.rows] == [False, False, True]


def test_percent_is_not_capped_and_a_zero_target_is_met(worked: dict[str, User]) -> None:
    teammate = worked["teammate"]
    target(Metric.CALLS, 1, this_month(), person=teammate)
    target(Metric.CALLS, 0, last_month(), person=teammate)

    report = plan_fact(
        people=[teammate], teams=[], metrics=[Metric.CALLS], kind=PeriodKind.MONTH, first_period=last_month(), count=2
    )

    assert figures(report.rows[0].cells) == [(0, 0, 100), (2, 1, 200)]


def test_quarters_and_several_metrics(worked: dict[str, User], team_a: Team) -> None:
    quarter = quarter_of(timezone.localdate())
    Target.objects.create(
        metric=Metric.CALLS,
        user=worked["manager"],
        period_kind=PeriodKind.QUARTER,
        starts_on=quarter.start,
        ends_on=quarter.end,
        value=8,
    )

    report = plan_fact(
        people=[worked["manager"]],
        teams=[team_a],
        metrics=[Metric.MEETINGS, Metric.CALLS],
        kind=PeriodKind.QUARTER,
        first_period=periods_until(PeriodKind.QUARTER, quarter, 3)[0],
        count=3,
    )

    assert report.metrics == [Metric.CALLS, Metric.MEETINGS]  # in Metric's order
    assert [(row.metric, row.name) for row in report.rows] == [
        (Metric.CALLS, "Mark Manager"),
        (Metric.CALLS, "Team A"),
        (Metric.MEETINGS, "Mark Manager"),
        (Metric.MEETINGS, "Team A"),
    ]
    calls = report.rows_of(Metric.CALLS)[0].cells[-1]
    assert calls.period == quarter
    # The month's targets are not the quarter's.
    assert calls.target == 8
    assert calls.percent == int(calls.fact * 100 / 8)


def test_periods_go_back_across_the_year() -> None:
    from datetime import date

    assert periods_until(PeriodKind.MONTH, month_of(date(2026, 2, 10)), 3) == [
        month_of(date(2025, 12, 1)),
        month_of(date(2026, 1, 1)),
        month_of(date(2026, 2, 1)),
    ]
    assert periods_until(PeriodKind.QUARTER, quarter_of(date(2026, 2, 10)), 2)[0] == quarter_of(date(2025, 11, 1))


def test_revenue_is_counted_in_the_teams_currency_else_the_most_used_else_the_companys(
    team_a: Team, manager: User, teammate: User, settings: Any
) -> None:
    settings.RAPPORT_DEFAULT_CURRENCY = "USD"

    def revenue(currency: str, **whose: Any) -> Target:
        return Target(metric=Metric.REVENUE_WON, currency=currency, **whose)

    assert revenue_currency([]) == ("USD", False)
    assert revenue_currency(
        [revenue("EUR", user=manager), revenue("BGN", user=teammate), revenue("EUR", user=teammate)]
    ) == (
        "EUR",
        True,
    )
    assert revenue_currency([revenue("EUR", user=manager), revenue("BGN", team=team_a)], team=team_a) == ("BGN", True)


@pytest.mark.parametrize("extra_people", [0, 5])
def test_one_query_for_the_targets_one_for_the_members_then_one_per_metric_and_period(
    worked: dict[str, User], team_a: Team, django_assert_num_queries: Any, extra_people: int
) -> None:
    people = [worked["manager"], worked["teammate"]]
    people += [UserFactory.create(role=Role.MANAGER, team=team_a) for _ in range(extra_people)]

    with django_assert_num_queries(1 + 1 + 2 * 3):
        report = plan_fact(
            people=people,
            teams=[team_a],
            metrics=[Metric.CALLS, Metric.DEALS_WON],
            kind=PeriodKind.MONTH,
            first_period=periods_until(PeriodKind.MONTH, this_month(), 3)[0],
            count=3,
        )

    assert len(report.rows) == 2 * (len(people) + 1)


# ---- The page: who gets which rows ----------------------------------------------------------------


def rows(html: str) -> dict[str, list[str]]:
    """Row ("team" or a person's id) → its cells as "fact/target/percent", oldest period first."""
    found: dict[str, list[str]] = {}
    for row, body in re.findall(r'<tr class="report-row[^"]*" data-row="([^"]+)">(.*?)</tr>', html, re.S):
        found[row] = [
            "/".join(cell)
            for cell in re.findall(r'data-fact="([\d.]*)" data-target="([\d.]*)" data-percent="(\d*)"', body)
        ]
    return found


def two_months() -> dict[str, str]:
    return {"kind": "month", "month": this_month().start.strftime("%Y-%m"), "count": "2"}


def test_a_head_reads_their_teams_people_and_the_team(worked: dict[str, User]) -> None:
    response = client_for(worked["head"]).get(REPORT, two_months())

    html = response.content.decode()
    ids = {name: str(user.pk) for name, user in worked.items()}
    assert response.status_code == 200
    assert rows(html) == {
        ids["agent"]: ["0//", "0//"],
        ids["head"]: ["0//", "0//"],
        ids["manager"]: ["1/5/20", "3/10/30"],
        ids["teammate"]: ["0//", "2//"],
        "team": ["1//", "5/20/25"],
    }
    assert '3 /\n              10\n              <span class="text-secondary">(30%)</span>' in html
    assert re.search(r'<th class="text-nowrap" data-period="[\d-]+">' + last_month().start.strftime("%B %Y"), html)


def test_a_manager_reads_only_their_own_row_and_the_teams(worked: dict[str, User]) -> None:
    html = client_for(worked["manager"]).get(REPORT, two_months()).content.decode()

    assert rows(html) == {str(worked["manager"].pk): ["1/5/20", "3/10/30"], "team": ["1//", "5/20/25"]}


def test_a_manager_cannot_open_another_teams_report(worked: dict[str, User], team_a: Team, team_b: Team) -> None:
    as_outsider = client_for(worked["outsider"])

    assert as_outsider.get(REPORT, {"team": team_a.pk}).status_code == 404
    assert as_outsider.get(EXPORT, {"team": team_a.pk}).status_code == 404
    assert client_for(worked["head"]).get(REPORT, {"team": team_b.pk}).status_code == 404
    assert set(rows(as_outsider.get(REPORT).content.decode())) == {str(worked["outsider"].pk), "team"}


def test_an_analyst_reads_any_teams_report(worked: dict[str, User], team_b: Team) -> None:
    analyst = UserFactory.create(role=Role.ANALYST)

    html = client_for(analyst).get(REPORT, {**two_months(), "team": str(team_b.pk)}).content.decode()

    assert rows(html) == {str(worked["outsider"].pk): ["0//", "4//"], "team": ["0//", "4//"]}


def test_those_who_read_no_plans_are_refused(worked: dict[str, User], settings: Any) -> None:
    settings.RAPPORT_CLIENT_SCOPES = {"analyst": "own"}
    analyst = UserFactory.create(role=Role.ANALYST)

    assert client_for(analyst).get(REPORT).status_code == 403
    assert client_for(analyst).get(EXPORT).status_code == 403
    assert Client().get(REPORT).status_code == 302  # signed out: to the sign-in page


# ---- The address ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"count": "many"}, "Enter a whole number"),
        ({"count": "0"}, "greater than or equal to 1"),
        ({"count": "25"}, "less than or equal to 24"),
        ({"metric": "karma"}, "Select a valid choice"),
        ({"kind": "custom"}, "Select a valid choice"),
        ({"kind": "month", "month": "0001-01"}, "Choose a date between"),
        ({"kind": "quarter", "quarter": "2026-Q7"}, "Choose a quarter"),
        ({"team": "abc"}, "Select a valid choice"),
    ],
)
def test_an_address_not_understood_says_why_and_shows_six_months_of_calls(
    worked: dict[str, User], query: dict[str, str], words: str
) -> None:
    response = client_for(worked["head"]).get(REPORT, query)

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'class="[^"]*invalid-feedback d-block" id="id_\w+-error">[^<]*{words}', html)
    assert re.search(r'id="report-title">Calls made · Team A<', html)
    cells = rows(html)[str(worked["manager"].pk)]
    assert len(cells) == 6
    if query.get("kind") != "quarter":  # a quarter asked for falls back to this quarter
        assert cells[-1] == "3/10/30"


def test_quarters_are_chosen_in_the_address_and_htmx_gets_the_body(worked: dict[str, User]) -> None:
    year = timezone.localdate().year

    response = client_for(worked["head"]).get(
        REPORT, {"kind": "quarter", "quarter": f"{year}-Q1", "count": "4", "metric": "meetings"}, headers=HTMX
    )

    html = response.content.decode()
    assert "<html" not in html
    assert re.search(r'id="report-title">Meetings held · Team A<', html)
    assert re.findall(r'<th class="text-nowrap" data-period="[\d-]+">([^<]+)</th>', html) == [
        f"Q2 {year - 1}",
        f"Q3 {year - 1}",
        f"Q4 {year - 1}",
        f"Q1 {year}",
    ]
    assert f'href="{EXPORT}?kind=quarter&amp;quarter={year}-Q1&amp;team=' in html


def test_the_plans_page_leads_to_the_report(worked: dict[str, User]) -> None:
    html = client_for(worked["manager"]).get(reverse("motivation:plans")).content.decode()

    assert f'href="{REPORT}" class="btn" id="plans-report-link"' in html


@pytest.mark.parametrize("extra_people", [0, 5])
def test_the_page_costs_the_same_queries_however_many_people(
    worked: dict[str, User], team_a: Team, django_assert_num_queries: Any, extra_people: int
) -> None:
    for _ in range(extra_people):
        UserFactory.create(role=Role.MANAGER, team=team_a)
    as_head = client_for(worked["head"])

    # Session and user, the teams, the people, the targets, the team's members, calls in each of the six months
    # (one grouped query each), and the unread bell.
    with django_assert_num_queries(13):
        response = as_head.get(REPORT)

    assert len(rows(response.content.decode())) == 5 + extra_people


# ---- Exports ---------------------------------------------------------------------------------------


def test_the_csv_holds_the_same_figures_one_line_per_row_and_period(worked: dict[str, User]) -> None:
    manager = worked["manager"]
    manager.first_name = "=HYPERLINK(1)"
    manager.save(update_fields=["first_name"])

    response = client_for(worked["head"]).get(EXPORT, {**two_months(), "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == [
        "Person or team",
        "Period",
        "From",
        "Until",
        "Metric",
        "Target",
        "Fact",
        "Share of the target, %",
        "Currency",
    ]
    last, this = last_month(), this_month()
    mine = [line for line in lines if line[0] == "'=HYPERLINK(1) Manager"]
    assert [line[1:4] for line in mine] == [
        [last.start.strftime("%B %Y"), last.start.isoformat(), last.end.isoformat()],
        [this.start.strftime("%B %Y"), this.start.isoformat(), this.end.isoformat()],
    ]
    assert [line[4:] for line in mine] == [
        ["Calls made", "5.00", "1", "20", ""],
        ["Calls made", "10.00", "3", "30", ""],
    ]
    assert [line[0] for line in lines[-2:]] == ["Team A (the team)"] * 2
    assert [line[4:] for line in lines[-2:]] == [
        ["Calls made", "", "1", "", ""],
        ["Calls made", "20.00", "5", "25", ""],
    ]
    assert len(lines) == 1 + 5 * 2


def test_the_xlsx_holds_the_same_with_numbers_as_numbers(worked: dict[str, User]) -> None:
    manager = worked["manager"]
    manager.first_name = "=HYPERLINK(1)"
    manager.save(update_fields=["first_name"])

    response = client_for(worked["head"]).get(EXPORT, {**two_months(), "format": "xlsx"})

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    sheet = workbook.active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Person or team"
    manager_rows = [row for row in values if str(row[0]).startswith("=HYPERLINK")]
    assert [(row[5], row[6], row[7]) for row in manager_rows] == [(5, 1, 20), (10, 3, 30)]
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row[:1] if cell.value)
    assert len(values) == 1 + 5 * 2


def test_a_managers_export_holds_only_their_own_row_and_the_teams(worked: dict[str, User]) -> None:
    response = client_for(worked["manager"]).get(EXPORT, two_months())

    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    names = {line[0] for line in list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]}
    assert names == {"Mark Manager", "Team A (the team)"}


def test_an_unknown_export_format_is_refused_in_words(worked: dict[str, User]) -> None:
    response = client_for(worked["head"]).get(EXPORT, {"format": "pdf"})

    assert response.status_code == 400
    assert "choose csv or xlsx" in response.content.decode()

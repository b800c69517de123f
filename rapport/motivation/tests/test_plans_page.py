"""The plans page as people use it: who sees whose plans, live facts in the cells, bulk entry, copying a period."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import rapport.motivation.shell_plans  # noqa: F401  (the nav item, until MotivationConfig.ready imports it)
from conftest import client_for
from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities import services as activity_services
from rapport.clients import services as client_services
from rapport.clients.models import Contact
from rapport.clients.services import PointInput
from rapport.motivation import services
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.periods import month_of, next_period

PLANS = reverse("motivation:plans")
EDIT = reverse("motivation:plans-edit")
COPY = reverse("motivation:plans-copy")
HTMX = {"HX-Request": "true"}


def this_month() -> dict[str, Any]:
    period = month_of(timezone.localdate())
    return {"period_kind": PeriodKind.MONTH, "starts_on": period.start, "ends_on": period.end}


def set_target(by: User, metric: str, value: int, **whose: Any) -> Target:
    return services.target_save(by=by, metric=metric, value=value, **(this_month() | whose))


def cells(html: str) -> dict[tuple[str, str], str]:
    """(row, metric) → "fact/target" of each cell with a target: the row is a person's id or "team"."""
    found = {}
    for row, body in re.findall(r'<tr class="plans-row[^"]*" data-row="([^"]+)">(.*?)</tr>', html, re.S):
        for metric, fact, target in re.findall(
            r'data-metric="(\w+)">\s*<div data-pace="\w+" data-fact="([\d.]+)" data-target="([\d.]+)"', body
        ):
            found[row, metric] = f"{fact}/{target}"
    return found


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="plans-row[^"]*" data-row="([^"]+)">', html)


@pytest.fixture
def ivanov(manager: User) -> Contact:
    company = client_services.company_create(by=manager, name="Acme Trading")
    return client_services.contact_create(
        by=manager,
        last_name="Ivanov",
        first_name="Fedor",
        company=company,
        points=[PointInput("phone", "+1 201-555-0100")],
    )


def meeting_held(by: User, contact: Contact) -> None:
    activity_services.activity_create(
        by=by,
        kind="meeting",
        status="done",
        contact=contact,
        subject="Presentation",
        result="They want a proposal",
        done_at=timezone.now() - timedelta(minutes=1),
    )


# ---- What the cells say --------------------------------------------------------------------------


def test_a_meeting_logged_shows_in_its_cell_on_the_next_page(
    head: User, manager: User, as_manager: Client, ivanov: Contact
) -> None:
    set_target(head, Metric.MEETINGS, 10, person=manager)

    before = cells(as_manager.get(PLANS).content.decode())
    meeting_held(manager, ivanov)
    after = cells(as_manager.get(PLANS).content.decode())

    assert before[str(manager.pk), Metric.MEETINGS] == "0/10"
    assert after[str(manager.pk), Metric.MEETINGS] == "1/10"


def test_the_team_row_counts_everyone_in_the_team(
    head: User, manager: User, teammate: User, team_a: Team, ivanov: Contact
) -> None:
    set_target(head, Metric.MEETINGS, 20, team=team_a)
    set_target(head, Metric.NEW_CLIENTS, 5, person=teammate)
    meeting_held(manager, ivanov)
    client_services.company_create(by=teammate, name="Tina's new client")

    html = client_for(head).get(PLANS).content.decode()

    assert cells(html) == {("team", Metric.MEETINGS): "1/20", (str(teammate.pk), Metric.NEW_CLIENTS): "1/5"}
    assert "1 of 20" in html
    assert re.search(r'<th data-metric="meetings">Meetings held</th>\s*<th data-metric="new_clients">', html)


def test_a_cell_says_whether_it_keeps_pace_with_the_period(head: User, manager: User, as_manager: Client) -> None:
    set_target(head, Metric.CALLS, 0, person=manager)
    set_target(head, Metric.DEALS_WON, 10**6, person=manager)

    html = as_manager.get(PLANS).content.decode()

    assert 'data-pace="done" data-fact="0" data-target="0"' in html
    pace = "ahead" if month_of(timezone.localdate()).elapsed_share(timezone.localdate()) == 0 else "behind"
    assert f'data-pace="{pace}" data-fact="0" data-target="1000000"' in html
    assert "Target reached" in html


def test_a_period_without_targets_says_so_and_offers_heads_to_set_them(head: User, as_manager: Client) -> None:
    head_page = client_for(head).get(PLANS).content.decode()
    manager_page = as_manager.get(PLANS).content.decode()

    assert "No targets are set for this period." in head_page
    assert f'href="{EDIT}?' in head_page
    assert "No targets are set for this period." in manager_page
    assert f'href="{EDIT}?' not in manager_page


def test_targets_with_other_dates_are_listed_with_a_link_to_their_period(head: User, manager: User) -> None:
    start = month_of(timezone.localdate()).start
    services.target_save(
        by=head,
        metric=Metric.CALLS,
        value=30,
        person=manager,
        period_kind=PeriodKind.CUSTOM,
        starts_on=start,
        ends_on=start + timedelta(days=9),
    )

    html = client_for(head).get(PLANS).content.decode()

    assert 'id="plans-others"' in html
    assert f"?kind=custom&amp;start={start.isoformat()}&amp;end={(start + timedelta(days=9)).isoformat()}" in html


# ---- Who sees whose ------------------------------------------------------------------------------


@pytest.fixture
def planned(head: User, manager: User, teammate: User, agent: User, outsider: User, admin_user: User) -> None:
    for person in [head, manager, teammate, agent]:
        set_target(head, Metric.CALLS, 10, person=person)
    set_target(head, Metric.CALLS, 100, team=head.team)
    set_target(admin_user, Metric.CALLS, 10, person=outsider)


@pytest.mark.parametrize(
    ("persona", "seen"),
    [
        ("manager", ["manager", "team"]),
        ("agent", ["agent", "team"]),
        ("head", ["agent", "head", "manager", "teammate", "team"]),
        ("outsider", ["outsider", "team"]),
        ("admin", ["agent", "head", "manager", "teammate", "team"]),
        ("operator", ["agent", "head", "manager", "teammate", "team"]),
    ],
)
def test_each_persona_reads_the_plans_their_scope_holds(
    personas: dict[str, User], planned: None, persona: str, seen: list[str]
) -> None:
    ids = {str(user.pk): name for name, user in personas.items()} | {"team": "team"}

    html = client_for(personas[persona]).get(PLANS).content.decode()

    assert sorted(ids[row] for row in rows(html)) == sorted(seen)
    if persona == "outsider":
        assert cells(html) == {(str(personas["outsider"].pk), Metric.CALLS): "0/10"}


def test_a_manager_cannot_open_another_team_by_its_address(
    personas: dict[str, User], planned: None, team_a: Team
) -> None:
    html = client_for(personas["outsider"]).get(PLANS, {"team": team_a.pk}).content.decode()

    assert "Select a valid choice" in html
    assert str(personas["manager"].pk) not in rows(html)


def test_an_analyst_reads_any_team(personas: dict[str, User], planned: None, team_b: Team) -> None:
    analyst = UserFactory.create(role=Role.ANALYST)

    html = client_for(analyst).get(PLANS, {"team": team_b.pk}).content.decode()

    assert rows(html) == [str(personas["outsider"].pk), "team"]
    assert 'id="plans-edit"' not in html


def test_the_navigation_offers_plans_to_those_who_have_them(as_manager: Client, operator: User) -> None:
    marketer = UserFactory.create(role=Role.MARKETER)

    assert 'data-nav="plans"' in as_manager.get(PLANS).content.decode()
    assert 'data-nav="plans"' in client_for(marketer).get(PLANS).content.decode()


# ---- Choosing the period -------------------------------------------------------------------------


def test_a_quarter_and_custom_dates_are_chosen_in_the_address(head: User, manager: User) -> None:
    services.target_save(
        by=head,
        metric=Metric.CALLS,
        value=300,
        person=manager,
        period_kind=PeriodKind.QUARTER,
        starts_on=month_of(timezone.localdate()).start.replace(month=1),
        ends_on=None,
    )
    year = timezone.localdate().year

    quarter = client_for(head).get(PLANS, {"kind": "quarter", "quarter": f"{year}-Q1"}).content.decode()
    custom = client_for(head).get(PLANS, {"kind": "custom", "start": f"{year}-01-01", "end": f"{year}-03-31"})

    assert cells(quarter) == {(str(manager.pk), Metric.CALLS): "0/300"}
    assert f"Q1 {year}" in quarter
    assert cells(custom.content.decode()) == {(str(manager.pk), Metric.CALLS): "0/300"}


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"kind": "week"}, "Select a valid choice"),
        ({"kind": "month", "month": "March"}, "Enter a valid date"),
        ({"kind": "month", "month": "0001-01"}, "Choose a date between"),
        ({"kind": "quarter", "quarter": "2026-Q9"}, "Choose a quarter"),
        ({"kind": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "The last day cannot be before the first"),
        ({"kind": "custom", "start": "1999-12-31", "end": "2026-03-01"}, "Choose a date between"),
        ({"team": "abc"}, "Select a valid choice"),
        ({"team": "999999999999999999999"}, "Select a valid choice"),
    ],
)
def test_an_address_not_understood_says_why_and_shows_this_period(
    head: User, query: dict[str, str], words: str
) -> None:
    response = client_for(head).get(PLANS, query)

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'class="[^"]*invalid-feedback d-block" id="id_\w+-error">[^<]*{words}', html)
    title = re.search(r'id="plans-title">\s*([^<·]+)', html)[1].strip()  # type: ignore[index]
    quarter = f"Q{(timezone.localdate().month - 1) // 3 + 1} {timezone.localdate().year}"
    assert title == (quarter if query.get("kind") == "quarter" else timezone.localdate().strftime("%B %Y"))


def test_switching_the_kind_keeps_the_place(head: User) -> None:
    html = client_for(head).get(PLANS, {"kind": "quarter", "month": "2026-05"}, headers=HTMX).content.decode()

    assert 'id="plans-body"' in html
    assert "<html" not in html
    assert 'value="2026-Q2" selected' in html
    assert "Q2 2026" in html


def test_previous_and_next_lead_to_the_neighbouring_months(head: User) -> None:
    html = client_for(head).get(PLANS, {"kind": "month", "month": "2026-01"}).content.decode()

    assert 'id="plans-previous" href="?kind=month&amp;month=2025-12' in html
    assert 'id="plans-next" href="?kind=month&amp;month=2026-02' in html


# ---- Query counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("extra_people", [0, 6])
def test_the_page_reads_once_per_metric_shown_however_many_people(
    head: User, manager: User, teammate: User, team_a: Team, django_assert_num_queries: Any, extra_people: int
) -> None:
    people = [manager, teammate, head]
    people += [UserFactory.create(role=Role.MANAGER, team=team_a) for _ in range(extra_people)]
    for person in people:
        set_target(head, Metric.CALLS, 10, person=person)
        set_target(head, Metric.DEALS_WON, 2, person=person)
    set_target(head, Metric.MEETINGS, 50, team=team_a)
    as_head = client_for(head)

    # Session and user, the teams, the people, the targets, the team's members, calls, meetings,
    # deals won (one grouped query each), and the unread bell.
    with django_assert_num_queries(10):
        response = as_head.get(PLANS)

    assert len(cells(response.content.decode())) == 2 * len(people) + 1


# ---- Bulk entry ---------------------------------------------------------------------------------


def month_query() -> dict[str, str]:
    return {"kind": "month", "month": timezone.localdate().strftime("%Y-%m")}


def edit_url(team: Team) -> str:
    return f"{EDIT}?kind=month&month={timezone.localdate().strftime('%Y-%m')}&team={team.pk}"


def test_a_head_sets_the_teams_targets_in_one_form(head: User, manager: User, teammate: User, team_a: Team) -> None:
    existing = set_target(head, Metric.CALLS, 10, person=teammate)
    as_head = client_for(head)
    form = as_head.get(edit_url(team_a)).content.decode()
    assert f'name="cell-{teammate.pk}-calls" value="10"' in form

    response = as_head.post(
        edit_url(team_a),
        {
            f"cell-{manager.pk}-calls": "120",
            f"cell-{manager.pk}-revenue_won": "15000.50",
            f"cell-{teammate.pk}-calls": "",
            "cell-team-meetings": "40",
        },
    )

    assert response.status_code == 302
    assert {(t.user_id, t.team_id, t.metric, t.value) for t in Target.objects.all()} == {
        (manager.pk, None, Metric.CALLS, 120),
        (manager.pk, None, Metric.REVENUE_WON, Decimal("15000.50")),
        (None, team_a.pk, Metric.MEETINGS, 40),
    }
    assert not Target.objects.filter(pk=existing.pk).exists()
    page = as_head.get(response["Location"]).content.decode()
    assert f"Targets for {timezone.localdate().strftime('%B %Y')} saved: 3 set, 0 changed, 1 removed." in page


def test_bulk_entry_shows_each_refusal_next_to_its_cell_and_saves_nothing(
    head: User, manager: User, teammate: User, team_a: Team
) -> None:
    response = client_for(head).post(
        edit_url(team_a),
        {
            f"cell-{manager.pk}-calls": "120",
            f"cell-{manager.pk}-meetings": "-5",
            f"cell-{teammate.pk}-deals_won": "lots",
        },
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was saved" in html
    assert re.search(
        rf'name="cell-{manager.pk}-meetings" value="-5"[^>]*is-invalid[^>]*>\s*<div class="invalid-feedback d-block" '
        rf'id="id_cell-{manager.pk}-meetings-error">A target cannot be below zero.</div>',
        html,
    )
    assert f'id="id_cell-{teammate.pk}-deals_won-error">Enter a number.' in html
    assert f'name="cell-{manager.pk}-calls" value="120"' in html
    assert not Target.objects.exists()


@pytest.mark.parametrize("persona", ["manager", "agent", "operator", "outsider"])
def test_only_heads_and_admins_open_bulk_entry(personas: dict[str, User], team_a: Team, persona: str) -> None:
    client = client_for(personas[persona])

    assert client.get(edit_url(team_a)).status_code == 403
    assert client.post(edit_url(team_a), {f"cell-{personas['manager'].pk}-calls": "5"}).status_code == 403
    assert not Target.objects.exists()


def test_a_head_cannot_edit_another_team_and_an_admin_can(head: User, admin_user: User, team_b: Team) -> None:
    # The other team is not among the head's: the form falls back to their own, with the reason.
    page = client_for(head).get(edit_url(team_b))
    assert page.status_code == 302

    assert client_for(admin_user).get(edit_url(team_b)).status_code == 200


# ---- Copy to the next period -----------------------------------------------------------------------


def test_copy_to_the_next_period_reports_copied_and_skipped(
    head: User, manager: User, teammate: User, team_a: Team
) -> None:
    set_target(head, Metric.CALLS, 10, person=manager)
    set_target(head, Metric.CALLS, 20, person=teammate)
    following = next_period(PeriodKind.MONTH, month_of(timezone.localdate()))
    services.target_save(
        by=head,
        metric=Metric.CALLS,
        value=25,
        person=teammate,
        period_kind=PeriodKind.MONTH,
        starts_on=following.start,
        ends_on=None,
    )
    as_head = client_for(head)

    response = as_head.post(f"{COPY}?kind=month&month={timezone.localdate().strftime('%Y-%m')}&team={team_a.pk}")

    assert response.status_code == 302
    assert f"month={following.start.strftime('%Y-%m')}" in response["Location"]
    page = as_head.get(response["Location"]).content.decode()
    assert f"Targets copied to {following.start.strftime('%B %Y')}: 1; skipped as already set there: 1." in page
    assert cells(page) == {(str(manager.pk), Metric.CALLS): "0/10", (str(teammate.pk), Metric.CALLS): "0/25"}


@pytest.mark.parametrize("persona", ["manager", "agent", "operator"])
def test_only_heads_and_admins_copy(personas: dict[str, User], persona: str) -> None:
    set_target(personas["head"], Metric.CALLS, 10, person=personas["manager"])

    response = client_for(personas[persona]).post(f"{COPY}?kind=month", {"scope": "all"})

    assert response.status_code == 403
    assert Target.objects.count() == 1

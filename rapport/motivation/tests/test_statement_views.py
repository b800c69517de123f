"""The bonus statements screens: who sees which statements, a statement's lines with their reasons and records,
approval and its refusals, the difference a new version shows, the exports, recomputing, and what it all costs."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]

from conftest import client_for
from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities.models import Activity
from rapport.motivation.models import Statement, StatementStatus
from rapport.motivation.statements import statement_approve, statements_compute
from rapport.motivation.tests.bonus_world import (
    JAN,
    Board,
    board,
    client,
    contact_logged,
    on,
    share_rules,
    statement_of,
    won_deal,
)
from rapport.sales.models import Deal

LIST = reverse("motivation:statements")
EXPORT = reverse("motivation:statements-export")
COMPUTE = reverse("motivation:statements-compute")
JANUARY: dict[str, str | int] = {"month": "2026-01"}
HTMX = {"HX-Request": "true"}


def detail(statement: Statement) -> str:
    return reverse("motivation:statement", args=[statement.pk])


def approve_url(statement: Statement) -> str:
    return reverse("motivation:statement-approve", args=[statement.pk])


@pytest.fixture
def where(db: None) -> Board:
    return board()


@pytest.fixture
def january(where: Board, manager: User, teammate: User, outsider: User) -> dict[str, Any]:
    """January: the manager registered two deals the teammate won — "Chairs" after a call with the client, "Tables"
    with no contact history; the closer's share asks for one. The outsider (team B) won "Desks" of their own."""
    share_rules(registrant=2, closer=3, min_activities=1)
    chairs_client, desks_client = client("Chairs Ltd"), client("Desks Ltd")
    call = contact_logged(on(date(2026, 1, 10)), company=chairs_client, owner=teammate)
    contact_logged(on(date(2026, 1, 11)), company=desks_client, owner=outsider)
    chairs = won_deal(
        where,
        registrant=manager,
        closer=teammate,
        amount=1000,
        closed=on(date(2026, 1, 20)),
        company=chairs_client,
        title="Chairs",
    )
    tables = won_deal(
        where, registrant=manager, closer=teammate, amount=500, closed=on(date(2026, 1, 22)), title="Tables"
    )
    won_deal(
        where, registrant=outsider, closer=outsider, amount=100, closed=on(date(2026, 1, 23)), company=desks_client
    )
    statements_compute(JAN, [manager.pk, teammate.pk, outsider.pk])
    return {
        "manager": statement_of(manager, JAN),
        "teammate": statement_of(teammate, JAN),
        "outsider": statement_of(outsider, JAN),
        "chairs": chairs,
        "tables": tables,
        "call": call,
    }


def listed(page: str) -> dict[str, tuple[str, str]]:
    """Statement id → (status, total) of each row of the list."""
    return {
        pk: (status, total)
        for pk, status, total in re.findall(
            r'<tr class="statements-row" data-statement="(\d+)" data-person="\d+" data-status="(\w+)" '
            r'data-total="([\d.-]+)">',
            page,
        )
    }


def ids(*statements: Statement) -> set[str]:
    return {str(statement.pk) for statement in statements}


def lines_of(page: str) -> list[dict[str, str]]:
    """Each line of a statement page: its kind, deal, amount, reason and the activities it links."""
    found = []
    for attrs, body in re.findall(r'<tr class="statement-line" ([^>]*)>(.*?)</tr>', page, re.S):
        values = dict(re.findall(r'data-(\w+)="([^"]*)"', attrs))
        reason = re.search(r'<td class="statement-reason">(.*?)</td>', body, re.S)
        values["reason"] = html.unescape(reason[1].strip()) if reason else ""
        values["activities"] = ",".join(re.findall(r'href="/[^"]*activities/(\d+)/"', body))
        values["deal_link"] = ",".join(re.findall(r'href="(/[^"]*deals/\d+/)"', body))
        found.append(values)
    return found


def seen_at(page: str) -> str:
    found = re.search(r'name="computed_at" value="([^"]+)"', page)
    assert found is not None, "no approve form"
    return html.unescape(found[1])


def shown_messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# ---- Who sees which statements ------------------------------------------------------------------------


def test_a_manager_sees_only_their_own_statement(january: dict[str, Any], manager: User) -> None:
    as_manager = client_for(manager)

    page = as_manager.get(LIST, JANUARY).content.decode()

    assert set(listed(page)) == ids(january["manager"])
    assert 'id="statements-compute"' not in page  # recomputing is for heads and admins
    assert 'name="team"' not in page  # one team in sight: no team to choose
    assert as_manager.get(detail(january["manager"])).status_code == 200
    assert as_manager.get(detail(january["teammate"])).status_code == 404
    assert as_manager.get(detail(january["outsider"])).status_code == 404


def test_a_head_sees_their_team_and_not_another_teams(january: dict[str, Any], head: User, team_b: Team) -> None:
    as_head = client_for(head)

    page = as_head.get(LIST, JANUARY).content.decode()

    assert set(listed(page)) == ids(january["manager"], january["teammate"])
    assert listed(page)[str(january["manager"].pk)] == ("draft", "30.00")
    assert "Mark Manager" in page
    assert "Oscar Outsider" not in page
    assert as_head.get(detail(january["outsider"])).status_code == 404
    assert as_head.get(LIST, {**JANUARY, "team": team_b.pk}).status_code == 404
    assert as_head.get(EXPORT, {**JANUARY, "team": team_b.pk}).status_code == 404


@pytest.mark.parametrize("persona", ["admin", "analyst"])
def test_admins_and_analysts_see_everyones_and_may_choose_a_team(
    january: dict[str, Any], personas: dict[str, User], team_b: Team, persona: str
) -> None:
    viewer = personas.get(persona) or UserFactory.create(role=Role.ANALYST)
    as_viewer = client_for(viewer)

    everyone = as_viewer.get(LIST, JANUARY).content.decode()
    team_b_only = as_viewer.get(LIST, {**JANUARY, "team": team_b.pk}).content.decode()

    assert set(listed(everyone)) == ids(january["manager"], january["teammate"], january["outsider"])
    assert '<option value="" selected>All teams</option>' in everyone
    assert set(listed(team_b_only)) == ids(january["outsider"])
    assert as_viewer.get(detail(january["outsider"])).status_code == 200


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MARKETER])
def test_those_who_read_no_statements_are_refused(january: dict[str, Any], role: str) -> None:
    # They see every client, but pay is for who manages people.
    as_reader = client_for(UserFactory.create(role=role))

    assert as_reader.get(LIST).status_code == 403
    assert as_reader.get(EXPORT).status_code == 403
    assert as_reader.get(detail(january["manager"])).status_code == 404
    assert Client().get(LIST).status_code == 302  # signed out: to the sign-in page


def test_an_analyst_limited_to_their_own_clients_sees_no_statements(january: dict[str, Any], settings: Any) -> None:
    settings.RAPPORT_CLIENT_SCOPES = {"analyst": "own"}
    as_analyst = client_for(UserFactory.create(role=Role.ANALYST))

    assert listed(as_analyst.get(LIST, JANUARY).content.decode()) == {}
    assert as_analyst.get(detail(january["manager"])).status_code == 404


def test_the_navigation_offers_bonuses_to_those_who_read_statements(
    manager: User, admin_user: User, operator: User
) -> None:
    assert 'data-nav="bonuses"' in client_for(manager).get(reverse("core:home")).content.decode()
    assert 'data-nav="bonuses"' in client_for(admin_user).get(reverse("core:home")).content.decode()
    assert 'data-nav="bonuses"' not in client_for(operator).get(reverse("core:home")).content.decode()


# ---- The list -----------------------------------------------------------------------------------------


def test_the_list_totals_each_currency_and_says_what_awaits_approval(
    january: dict[str, Any], where: Board, admin_user: User, head: User, manager: User
) -> None:
    won_deal(where, registrant=manager, closer=manager, amount=200, closed=on(date(2026, 1, 25)), currency="EUR")
    statements_compute(JAN, [manager.pk])
    statement_approve(by=head, statement=january["teammate"])

    page = client_for(admin_user).get(LIST, JANUARY).content.decode()

    totals = re.findall(
        r'<tr class="statements-total" data-currency="(\w+)" data-total="([\d.]+)">(.*?)</tr>', page, re.S
    )
    assert [(currency, total) for currency, total, _row in totals] == [("EUR", "4.00"), ("USD", "65.00")]
    usd = re.sub(r"\s+", " ", totals[1][2])
    assert "Total in USD, 3 statements" in usd
    assert "2 awaiting approval" in usd
    assert "Approved by Hanna Head" in page


def test_an_empty_month_says_what_to_do(head: User, manager: User) -> None:
    as_head, as_manager = client_for(head), client_for(manager)

    for_head = as_head.get(LIST, JANUARY).content.decode()
    for_manager = as_manager.get(LIST, JANUARY).content.decode()

    assert "No bonus statements for January 2026 yet." in for_head
    assert "Press “Recompute now” to compute them at once." in for_head
    assert "a statement appears once a deal or a plan earns a bonus" in for_manager


def test_previous_and_next_lead_to_the_neighbouring_months_and_htmx_gets_the_body(head: User, team_a: Team) -> None:
    response = client_for(head).get(LIST, {"month": "2026-01"}, headers=HTMX)

    page = response.content.decode()
    assert "<html" not in page
    assert 'id="statements-previous" href="?month=2025-12"' in page
    assert 'id="statements-next" href="?month=2026-02"' in page
    assert 'id="statements-title">January 2026<' in page


def test_a_month_not_understood_says_why_and_shows_this_month(head: User) -> None:
    page = client_for(head).get(LIST, {"month": "1999-12"}).content.decode()

    assert re.search(r'id="id_month-error">Choose a month between January 2000 and December 2100', page)
    assert "Enter a valid date" in client_for(head).get(LIST, {"month": "soon"}).content.decode()


@pytest.mark.parametrize("extra_people", [0, 4])
def test_the_list_costs_the_same_queries_however_many_statements(
    where: Board, head: User, team_a: Team, django_assert_num_queries: Any, extra_people: int
) -> None:
    share_rules()
    people = [UserFactory.create(role=Role.MANAGER, team=team_a) for _ in range(1 + extra_people)]
    for person in people:
        won_deal(where, registrant=person, closer=person, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [person.pk for person in people])
    as_head = client_for(head)

    # Session and user, the teams, the team's members (the head's scope), the statements (with people, teams and
    # approvers), the unread bell.
    with django_assert_num_queries(6):
        response = as_head.get(LIST, JANUARY)

    assert len(listed(response.content.decode())) == 1 + extra_people


# ---- A statement ----------------------------------------------------------------------------------------


def test_a_deal_registered_by_a_and_won_by_b_pays_both_and_one_without_history_says_why(
    january: dict[str, Any], head: User
) -> None:
    as_head = client_for(head)
    chairs, tables, call = january["chairs"], january["tables"], january["call"]

    registrant = lines_of(as_head.get(detail(january["manager"])).content.decode())
    closer_page = as_head.get(detail(january["teammate"])).content.decode()
    closer = lines_of(closer_page)

    # A, who registered both deals, gets the registrant's share of each.
    assert [(line["kind"], line["deal"], line["amount"]) for line in registrant] == [
        ("credit", str(chairs.pk), "20.00"),
        ("credit", str(tables.pk), "10.00"),
    ]
    assert registrant[0]["reason"] == "Registered the deal: 2 % of its 1,000 USD."
    assert registrant[0]["deal_link"] == reverse("sales:deal-detail", args=[chairs.pk])
    # B, who won them, gets the closer's share of the one with a call before the win, linked as evidence ...
    by_deal = {line["deal"]: line for line in closer}
    assert (by_deal[str(chairs.pk)]["kind"], by_deal[str(chairs.pk)]["amount"]) == ("credit", "30.00")
    assert by_deal[str(chairs.pk)]["reason"] == "Won the deal: 3 % of its 1,000 USD."
    assert by_deal[str(chairs.pk)]["activities"] == str(call.pk)
    assert reverse("activities:activity-detail", args=[call.pk]) in closer_page
    # ... and nothing for the one with no contact history, saying why.
    assert (by_deal[str(tables.pk)]["kind"], by_deal[str(tables.pk)]["amount"]) == ("refused", "0.00")
    assert by_deal[str(tables.pk)]["reason"] == (
        "No bonus: 0 of the 1 calls, meetings or e-mails with the client needed before the win."
    )
    assert by_deal[str(tables.pk)]["deal_link"] == reverse("sales:deal-detail", args=[tables.pk])
    assert 'id="statement-total" data-total="30.00"' in closer_page
    assert re.findall(r'<h2 class="card-title">([^<]+)</h2>', closer_page) == [
        "Credited",
        "Not paid, and why",
    ]


@pytest.mark.parametrize("evidence", [1, 6])
def test_a_statement_costs_the_same_queries_however_many_lines_and_records(
    where: Board, head: User, manager: User, django_assert_num_queries: Any, evidence: int
) -> None:
    share_rules(registrant=None, closer=3, min_activities=1)
    for number in range(evidence):
        company = client(f"Client {number}")
        for day in (5, 6):
            contact_logged(on(date(2026, 1, day)), company=company, owner=manager)
        won_deal(where, registrant=manager, closer=manager, closed=on(date(2026, 1, 20)), company=company)
    statements_compute(JAN, [manager.pk])
    statement = statement_of(manager, JAN)
    as_head = client_for(head)

    # Session and user, the team's members (the head's scope), the statement, its lines (with rules and deals),
    # their records, its versions, the unread bell.
    with django_assert_num_queries(8):
        page = as_head.get(detail(statement)).content.decode()

    assert len(lines_of(page)) == evidence
    assert Activity.objects.count() == 2 * evidence


# ---- Approval -------------------------------------------------------------------------------------------


def test_a_head_approves_and_the_statement_is_locked(january: dict[str, Any], head: User) -> None:
    as_head = client_for(head)
    statement = january["manager"]
    page = as_head.get(detail(statement)).content.decode()

    response = as_head.post(approve_url(statement), {"computed_at": seen_at(page)}, follow=True)

    statement.refresh_from_db()
    assert (statement.status, statement.approved_by) == (StatementStatus.APPROVED, head)
    assert shown_messages(response) == [
        "Mark Manager's statement for January 2026 is approved and locked: it will not change any more."
    ]
    after = response.content.decode()
    assert 'id="statement-locked"' in after
    assert 'id="statement-approve"' not in after
    assert "Approved by Hanna Head" in after
    assert listed(as_head.get(LIST, JANUARY).content.decode())[str(statement.pk)] == ("approved", "30.00")


def test_a_head_cannot_approve_their_own_statement(where: Board, head: User, admin_user: User) -> None:
    share_rules()
    won_deal(where, registrant=head, closer=head, closed=on(date(2026, 1, 20)))
    statements_compute(JAN, [head.pk])
    own = statement_of(head, JAN)
    as_head = client_for(head)

    page = as_head.get(detail(own)).content.decode()
    response = as_head.post(approve_url(own), {"computed_at": own.computed_at.isoformat()})

    assert 'id="statement-approve"' not in page
    assert response.status_code == 403
    assert shown_messages(response) == [
        "Nobody approves their own statement: the head of your team or an administrator does."
    ]
    assert statement_of(head, JAN).status == StatementStatus.DRAFT
    assert 'id="statement-approve"' in client_for(admin_user).get(detail(own)).content.decode()


@pytest.mark.parametrize(
    ("persona", "whose", "status"),
    [
        ("head", "outsider", 404),  # another team's: out of sight
        ("teammate", "manager", 404),  # a colleague's: out of sight
        ("manager", "manager", 403),  # one's own: seen, not theirs to approve
        ("operator", "manager", 404),  # sees every client, not their pay
        ("outsider", "outsider", 403),
    ],
)
def test_approving_what_is_not_yours_to_approve_is_refused(
    january: dict[str, Any], personas: dict[str, User], persona: str, whose: str, status: int
) -> None:
    statement = january[whose]

    response = client_for(personas[persona]).post(
        approve_url(statement), {"computed_at": statement.computed_at.isoformat()}
    )

    assert response.status_code == status
    assert not Statement.objects.filter(status=StatementStatus.APPROVED).exists()
    if status == 403:  # seen, so the refusal says who approves it
        assert "approves" in shown_messages(response)[0]


def test_an_analyst_who_sees_every_statement_is_told_who_approves_it(january: dict[str, Any]) -> None:
    statement = january["outsider"]
    as_analyst = client_for(UserFactory.create(role=Role.ANALYST))

    page = as_analyst.get(detail(statement)).content.decode()
    response = as_analyst.post(approve_url(statement), {"computed_at": statement.computed_at.isoformat()})

    assert 'id="statement-approve"' not in page

    assert response.status_code == 403
    assert shown_messages(response) == [
        "Only the head of Oscar Outsider's team or an administrator approves this statement."
    ]
    assert 'id="statement-approve"' not in response.content.decode()
    assert statement_of(statement.person, JAN).status == StatementStatus.DRAFT


def test_figures_recomputed_since_the_head_opened_them_are_not_approved(
    january: dict[str, Any], head: User, manager: User
) -> None:
    as_head = client_for(head)
    statement = january["manager"]
    opened = seen_at(as_head.get(detail(statement)).content.decode())
    Deal.objects.filter(pk=january["chairs"].pk).update(amount=Decimal(2000))
    statements_compute(JAN, [manager.pk])

    response = as_head.post(approve_url(statement), {"computed_at": opened}, follow=True)

    assert response.redirect_chain[-1][0] == detail(statement)
    assert shown_messages(response) == [
        "This statement was recomputed since you opened it: reload it and review its figures."
    ]
    assert statement_of(manager, JAN).status == StatementStatus.DRAFT
    # The page now shows the new figures, and its form the moment they were computed.
    page = response.content.decode()
    assert 'id="statement-total" data-total="50.00"' in page
    assert seen_at(page) != opened


def test_figures_the_crm_no_longer_holds_are_brought_up_to_date_instead_of_approved(
    january: dict[str, Any], head: User, manager: User
) -> None:
    as_head = client_for(head)
    statement = january["manager"]
    opened = seen_at(as_head.get(detail(statement)).content.decode())
    Deal.objects.filter(pk=january["chairs"].pk).update(amount=Decimal(2000))  # nobody recomputed yet

    response = as_head.post(approve_url(statement), {"computed_at": opened}, follow=True)

    assert shown_messages(response)[0].startswith("The figures changed since this statement was computed")
    assert 'id="statement-total" data-total="50.00"' in response.content.decode()
    assert statement_of(manager, JAN).status == StatementStatus.DRAFT


@pytest.mark.parametrize("sent", ["", "yesterday", "2026-13-45T10:00:00+00:00", "2026-01-20T10:00:00"])
def test_an_approval_without_the_moment_seen_is_refused_with_a_message(
    january: dict[str, Any], head: User, sent: str
) -> None:
    statement = january["manager"]

    response = client_for(head).post(approve_url(statement), {"computed_at": sent}, follow=True)

    assert response.status_code == 200
    assert shown_messages(response) == [
        "The statement could not be approved: reload it, review its figures and approve again."
    ]
    assert statement_of(statement.person, JAN).status == StatementStatus.DRAFT


def test_a_statement_approved_meanwhile_says_by_whom(january: dict[str, Any], head: User, admin_user: User) -> None:
    as_head = client_for(head)
    statement = january["manager"]
    opened = seen_at(as_head.get(detail(statement)).content.decode())
    statement_approve(by=admin_user, statement=statement)

    response = as_head.post(approve_url(statement), {"computed_at": opened}, follow=True)

    assert shown_messages(response)[0].startswith("This statement was already approved by Ada Admin on ")
    assert statement_of(statement.person, JAN).approved_by == admin_user


# ---- A new version ----------------------------------------------------------------------------------------


def test_a_late_change_makes_version_2_which_shows_the_difference(
    january: dict[str, Any], head: User, manager: User
) -> None:
    first = statement_approve(by=head, statement=january["manager"])
    Deal.objects.filter(pk=january["chairs"].pk).update(amount=Decimal(2000))
    statements_compute(JAN, [manager.pk])
    second = statement_of(manager, JAN)
    assert (second.version, second.previous_id) == (2, first.pk)
    as_head = client_for(head)

    page = as_head.get(detail(second)).content.decode()
    earlier = as_head.get(detail(first)).content.decode()

    assert "Changes since version 1" in page
    changes = re.findall(
        r'<tr class="statement-change" data-rule="\d+" data-deal="(\d+)" data-before="([\d.-]+)" '
        r'data-after="([\d.-]+)" data-difference="([\d.-]+)">',
        page,
    )
    assert changes == [(str(january["chairs"].pk), "20.00", "40.00", "20.00")]
    assert "+20.00 USD" in page
    assert 'id="statement-changes-total">Total: 30.00 → 50.00 USD<' in page
    assert f'href="{detail(first)}" data-version="1"' in page
    assert 'id="statement-approve"' in page
    # The approved version stays as it was, and leads to the one that follows.
    assert 'id="statement-total" data-total="30.00"' in earlier
    assert f'see <a href="{detail(second)}">version 2</a>' in earlier
    assert "Changes since" not in earlier
    listing = as_head.get(LIST, JANUARY).content.decode()
    assert listing.count("changed since the approved version") == 1
    assert listed(listing) == {
        str(second.pk): ("draft", "50.00"),
        str(january["teammate"].pk): ("draft", "30.00"),
    }


# ---- Exports --------------------------------------------------------------------------------------------


def test_the_csv_holds_one_row_per_line_of_what_the_viewer_sees(january: dict[str, Any], head: User) -> None:
    manager = january["manager"].person
    manager.first_name = "=HYPERLINK(1)"
    manager.save(update_fields=["first_name"])

    response = client_for(head).get(EXPORT, {**JANUARY, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bonuses-2026-01.csv"'
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [
        "Person",
        "Team",
        "Period",
        "From",
        "Until",
        "Currency",
        "Version",
        "Status",
        "Approved by",
        "Rule",
        "Deal",
        "Kind",
        "Reason",
        "Amount",
    ]
    assert [(row[0], row[10], row[11], row[14 - 1]) for row in rows[1:]] == [
        ("'=HYPERLINK(1) Manager", "Chairs", "Credit", "20.00"),
        ("'=HYPERLINK(1) Manager", "Tables", "Credit", "10.00"),
        ("Tina Teammate", "Chairs", "Credit", "30.00"),
        ("Tina Teammate", "Tables", "No bonus", "0.00"),
    ]
    assert rows[4][:10] == [
        "Tina Teammate",
        "Team A",
        "January 2026",
        "2026-01-01",
        "2026-01-31",
        "USD",
        "1",
        "Draft",
        "",
        "Share of a won deal to its closer",
    ]
    assert rows[4][12] == "No bonus: 0 of the 1 calls, meetings or e-mails with the client needed before the win."


def test_the_xlsx_holds_the_same_rows_with_numbers_and_a_manager_only_their_own(
    january: dict[str, Any], head: User, manager: User
) -> None:
    statement_approve(by=head, statement=january["manager"])

    response = client_for(manager).get(EXPORT, {**JANUARY, "format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active  # type: ignore[attr-defined]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Person"
    assert [(row[0], row[7], row[8], row[10], row[13]) for row in rows[1:]] == [
        ("Mark Manager", "Approved", "Hanna Head", "Chairs", 20),
        ("Mark Manager", "Approved", "Hanna Head", "Tables", 10),
    ]


def test_an_unknown_export_format_is_refused(head: User) -> None:
    response = client_for(head).get(EXPORT, {"format": "pdf"})

    assert response.status_code == 400
    assert "choose csv or xlsx" in response.content.decode()


# ---- Recomputing --------------------------------------------------------------------------------------


def test_a_head_recomputes_their_teams_statements_and_is_told_what_changed(
    where: Board, head: User, manager: User, teammate: User, outsider: User
) -> None:
    share_rules()
    for person in (manager, teammate, outsider):
        won_deal(where, registrant=person, closer=person, closed=on(date(2026, 1, 20)))
    as_head = client_for(head)

    first = as_head.post(f"{COMPUTE}?month=2026-01", follow=True)
    again = as_head.post(f"{COMPUTE}?month=2026-01", follow=True)

    assert first.redirect_chain[-1][0] == f"{LIST}?month=2026-01"
    assert shown_messages(first) == [
        "Statements for January 2026 brought up to date: 2 new, 0 updated, 0 removed, 0 unchanged."
    ]
    assert set(Statement.objects.values_list("person__username", flat=True)) == {"manager", "teammate"}
    assert len(listed(first.content.decode())) == 2
    assert shown_messages(again) == ["Statements for January 2026 are up to date: nothing changed."]


def test_an_admin_recomputes_everyone_or_the_team_shown(
    where: Board, admin_user: User, manager: User, outsider: User, team_b: Team
) -> None:
    share_rules()
    for person in (manager, outsider):
        won_deal(where, registrant=person, closer=person, closed=on(date(2026, 1, 20)))
    as_admin = client_for(admin_user)

    as_admin.post(f"{COMPUTE}?month=2026-01&team={team_b.pk}")
    assert set(Statement.objects.values_list("person__username", flat=True)) == {"outsider"}
    as_admin.post(f"{COMPUTE}?month=2026-01")
    assert set(Statement.objects.values_list("person__username", flat=True)) == {"outsider", "manager"}


@pytest.mark.parametrize("persona", ["manager", "operator", "agent"])
def test_only_heads_and_admins_recompute(where: Board, personas: dict[str, User], persona: str) -> None:
    share_rules()
    won_deal(where, registrant=personas["manager"], closer=personas["manager"], closed=on(date(2026, 1, 20)))

    response = client_for(personas[persona]).post(f"{COMPUTE}?month=2026-01")

    assert response.status_code == 403
    assert not Statement.objects.exists()


def test_recomputing_a_month_not_understood_computes_nothing(where: Board, head: User, manager: User) -> None:
    share_rules()
    won_deal(where, registrant=manager, closer=manager, closed=on(date(2026, 1, 20)))

    response = client_for(head).post(f"{COMPUTE}?month=someday", follow=True)

    assert shown_messages(response) == ["Choose the month again: the address was not understood. Nothing was computed."]
    assert not Statement.objects.exists()
    assert client_for(head).get(COMPUTE).status_code == 405

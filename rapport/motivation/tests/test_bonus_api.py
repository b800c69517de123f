"""Bonuses over the API as a program sees it: whose statements each persona reads, approving what was read (and
refusing stale figures, a second approval, one's own), recomputing within scope, bonus so far, and the rules —
read by everyone, written by admins, bad input refused by field with nothing saved."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.api.tests.helpers import API, bearer, caller, send
from rapport.motivation.models import BonusRule, BonusRuleKind, Statement, StatementStatus
from rapport.motivation.statements import statement_approve, statements_compute
from rapport.motivation.tests.bonus_world import (
    FEB,
    JAN,
    Board,
    board,
    contact_logged,
    on,
    share_rules,
    statement_of,
    won_deal,
)
from rapport.sales.models import Deal

STATEMENTS = f"{API}/bonus/statements"
RULES = f"{API}/bonus/rules"
SO_FAR = f"{API}/bonus/so-far"

# Whose January statements each persona reads: their own, a head's team's, everyone's for admins and analysts
# (not for operators, though they see every client: pay is for who manages people).
READS = {
    "manager": {"manager"},
    "teammate": {"teammate"},
    "agent": set(),
    "head": {"manager", "teammate", "head"},
    "outsider": {"outsider"},
    "operator": set(),
    "analyst": {"manager", "teammate", "head", "outsider"},
    "admin": {"manager", "teammate", "head", "outsider"},
}


@pytest.fixture
def people(personas: dict[str, User]) -> dict[str, User]:
    return personas | {"analyst": UserFactory.create(username="analyst", role=Role.ANALYST)}


@pytest.fixture
def where(db: None) -> Board:
    return board()


@pytest.fixture
def january(where: Board, people: dict[str, User]) -> dict[str, Statement]:
    """January's drafts: the manager registered a deal the teammate won; the head and the outsider won their own."""
    manager, teammate, head, outsider = (people[name] for name in ["manager", "teammate", "head", "outsider"])
    share_rules(registrant=2, closer=3)
    won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=on(date(2026, 1, 20)))
    won_deal(where, registrant=head, closer=head, amount=200, closed=on(date(2026, 1, 21)))
    won_deal(where, registrant=outsider, closer=outsider, amount=100, closed=on(date(2026, 1, 22)))
    statements_compute(JAN, [manager.pk, teammate.pk, head.pk, outsider.pk])
    return {name: statement_of(people[name], JAN) for name in ["manager", "teammate", "head", "outsider"]}


def approve(client: Client, statement: Statement, computed_at: str | None = None) -> Any:
    if computed_at is None:
        computed_at = client.get(f"{STATEMENTS}/{statement.pk}").json()["computed_at"]
    return send(client, "post", f"{STATEMENTS}/{statement.pk}/approve", {"computed_at": computed_at})


def still_draft(statement: Statement) -> bool:
    return Statement.objects.get(pk=statement.pk).status == StatementStatus.DRAFT


# ---- Reading statements ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(READS))
def test_each_persona_lists_exactly_the_statements_of_their_scope(
    people: dict[str, User], january: dict[str, Statement], persona: str
) -> None:
    response = caller(people[persona]).get(STATEMENTS)

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["items"]} == {january[key].pk for key in READS[persona]}


def test_a_statement_reads_as_a_program_expects(january: dict[str, Statement], head: User, manager: User) -> None:
    row = caller(head).get(STATEMENTS, {"person": manager.pk}).json()["items"][0]

    assert {key: value for key, value in row.items() if key != "computed_at"} == {
        "id": january["manager"].pk,
        "person": {"id": manager.pk, "name": "Mark Manager"},
        "starts_on": "2026-01-01",
        "ends_on": "2026-01-31",
        "currency": "USD",
        "version": 1,
        "status": "draft",
        "total": "20.00",
        "approved_by": None,
        "approved_at": None,
        "previous": None,
    }
    assert row["computed_at"].startswith(january["manager"].computed_at.strftime("%Y-%m-%dT%H:%M"))


def test_the_list_filters_by_period_person_team_status_and_currency(
    january: dict[str, Statement], where: Board, people: dict[str, User], team_b: Any
) -> None:
    admin, manager = people["admin"], people["manager"]
    statement_approve(by=admin, statement=january["teammate"])
    won_deal(where, registrant=manager, closer=manager, amount=500, closed=on(date(2026, 2, 10)), currency="EUR")
    statements_compute(FEB, [manager.pk])
    february = statement_of(manager, FEB, "EUR")
    client = caller(admin)

    def ids(**query: Any) -> set[int]:
        response = client.get(STATEMENTS, query)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["items"]}

    assert ids(month="2026-02") == {february.pk}
    assert ids(**{"from": "2026-02-01"}) == {february.pk}
    assert ids(until="2026-01-31") == {statement.pk for statement in january.values()}
    assert ids(person=manager.pk) == {january["manager"].pk, february.pk}
    assert ids(team=team_b.pk) == {january["outsider"].pk}
    assert ids(status="approved") == {january["teammate"].pk}
    assert ids(currency="eur") == {february.pk}
    first = client.get(STATEMENTS, {"limit": 2}).json()
    assert (len(first["items"]), first["has_more"]) == (2, True)
    assert first["items"][0]["id"] == february.pk  # the latest period first


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "March"}, "month"),
        ({"from": "yesterday"}, "from"),
        ({"status": "paid"}, "status"),
        ({"currency": "EURO"}, "currency"),
        ({"limit": 101}, "limit"),
        ({"person": 0}, "person"),
    ],
)
def test_list_filters_not_understood_answer_422_naming_them(
    january: dict[str, Statement], admin_user: User, query: dict[str, Any], field: str
) -> None:
    response = caller(admin_user).get(STATEMENTS, query)

    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


def test_a_month_and_dates_together_are_refused(january: dict[str, Statement], admin_user: User) -> None:
    response = caller(admin_user).get(STATEMENTS, {"month": "2026-01", "until": "2026-01-31"})

    assert response.status_code == 422
    assert response.json() == {"detail": {"month": ["Give a month or dates (from, until), not both."]}}


@pytest.mark.parametrize("persona", ["head", "admin"])
def test_the_list_costs_the_same_queries_for_one_statement_as_for_many(
    where: Board, people: dict[str, User], persona: str, django_assert_num_queries: Any
) -> None:
    share_rules(registrant=2, closer=3)
    team = [people["manager"], people["teammate"], people["agent"], people["head"]]
    won_deal(where, registrant=people["manager"], closer=people["manager"], closed=on(date(2026, 1, 5)))
    statements_compute(JAN, [person.pk for person in team])
    client = bearer(people[persona])
    client.get(STATEMENTS)  # the key's first use writes its last_used_at
    # The key with its user; a head's team members (the admin sees all); the page with people and approvers.
    expected = 3 if persona == "head" else 2
    with django_assert_num_queries(expected):
        assert len(client.get(STATEMENTS).json()["items"]) == 1

    for number in range(8):
        won_deal(where, registrant=team[number % 4], closer=team[(number + 1) % 4], closed=on(date(2026, 2, 5)))
    statements_compute(FEB, [person.pk for person in team])
    for statement in Statement.objects.filter(period_start=FEB.start).exclude(person=people["head"]):
        statement_approve(by=people["admin"] if persona == "head" else people["head"], statement=statement)
    with django_assert_num_queries(expected):
        assert len(client.get(STATEMENTS).json()["items"]) == 5


def test_a_statement_has_its_lines_with_reasons_and_evidence(
    where: Board, manager: User, teammate: User, head: User
) -> None:
    share_rules(registrant=2, closer=3, min_activities=1)
    deal = won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=on(date(2026, 1, 20)))
    call = contact_logged(on(date(2026, 1, 10)), company=deal.company)
    statements_compute(JAN, [teammate.pk])
    statement = statement_of(teammate, JAN)

    body = caller(head).get(f"{STATEMENTS}/{statement.pk}").json()

    closer_rule = BonusRule.objects.get(kind=BonusRuleKind.CLOSER_SHARE)
    assert body["lines"] == [
        {
            "id": statement.lines.get().pk,
            "kind": "credit",
            "rule": {"id": closer_rule.pk, "name": closer_rule.name},
            "deal": deal.pk,
            "amount": "30.00",
            "reason": "Won the deal: 3 % of its 1,000 USD.",
            "reason_code": "closer_share",
            "reason_params": {"percent": "3", "base": "1000", "currency": "USD"},
            "evidence": [call.pk],
        }
    ]
    assert (body["changes"], body["may_approve"], body["total"]) == ([], True, "30.00")


def test_a_new_version_shows_what_changed_against_the_approved_one(
    january: dict[str, Statement], head: User, manager: User
) -> None:
    statement_approve(by=head, statement=january["manager"])
    Deal.objects.filter(registrant=manager).update(amount=Decimal(1500))
    statements_compute(JAN, [manager.pk])
    second = statement_of(manager, JAN)

    body = caller(manager).get(f"{STATEMENTS}/{second.pk}").json()

    registrant_rule = BonusRule.objects.get(kind=BonusRuleKind.REGISTRANT_SHARE)
    assert (body["version"], body["previous"], body["may_approve"]) == (2, january["manager"].pk, False)
    assert body["changes"] == [
        {
            "rule": {"id": registrant_rule.pk, "name": registrant_rule.name},
            "deal": Deal.objects.get(registrant=manager).pk,
            "before": "20.00",
            "after": "30.00",
            "difference": "10.00",
        }
    ]


@pytest.mark.parametrize(
    ("persona", "whose", "status"),
    [
        ("manager", "manager", 200),
        ("manager", "teammate", 404),
        ("head", "teammate", 200),
        ("head", "outsider", 404),
        ("outsider", "manager", 404),
        ("agent", "manager", 404),
        ("analyst", "outsider", 200),
        ("admin", "outsider", 200),
    ],
)
def test_a_statement_out_of_sight_answers_404(
    people: dict[str, User], january: dict[str, Statement], persona: str, whose: str, status: int
) -> None:
    response = caller(people[persona]).get(f"{STATEMENTS}/{january[whose].pk}")

    assert response.status_code == status


def test_without_a_key_or_session_401(db: None) -> None:
    assert Client().get(STATEMENTS).status_code == 401
    assert Client().get(RULES).status_code == 401
    assert Client().get(SO_FAR).status_code == 401


# ---- Approving --------------------------------------------------------------------------------


def test_a_head_approves_the_figures_they_read(january: dict[str, Statement], head: User) -> None:
    response = approve(caller(head), january["manager"])

    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["approved_by"]["name"], body["total"], body["may_approve"]) == (
        "approved",
        "Hanna Head",
        "20.00",
        False,
    )
    assert not still_draft(january["manager"])


def test_figures_recomputed_since_they_were_read_are_not_approved(
    january: dict[str, Statement], head: User, manager: User
) -> None:
    client = caller(head)
    read = client.get(f"{STATEMENTS}/{january['manager'].pk}").json()["computed_at"]
    Deal.objects.filter(registrant=manager).update(amount=Decimal(2000))
    statements_compute(JAN, [manager.pk])

    response = approve(client, january["manager"], computed_at=read)

    assert response.status_code == 409
    assert "recomputed since you opened it" in response.json()["detail"]
    assert still_draft(january["manager"])
    assert approve(client, january["manager"]).status_code == 200  # read again, then approved


def test_figures_no_longer_true_are_brought_up_to_date_instead_of_approved(
    january: dict[str, Statement], head: User, manager: User
) -> None:
    Deal.objects.filter(registrant=manager).update(amount=Decimal(2000))  # nobody recomputed yet

    response = approve(caller(head), january["manager"])

    assert response.status_code == 409
    assert "The figures changed" in response.json()["detail"]
    assert (statement_of(manager, JAN).status, statement_of(manager, JAN).total) == ("draft", Decimal(40))


def test_a_statement_approved_already_answers_409_naming_who(
    january: dict[str, Statement], head: User, admin_user: User
) -> None:
    computed_at = caller(head).get(f"{STATEMENTS}/{january['manager'].pk}").json()["computed_at"]
    assert approve(caller(head), january["manager"], computed_at).status_code == 200

    response = approve(caller(admin_user), january["manager"], computed_at)

    assert response.status_code == 409
    assert "already approved by Hanna Head" in response.json()["detail"]


@pytest.mark.parametrize(
    ("persona", "whose", "status"),
    [
        ("head", "head", 403),  # one's own, even a head's
        ("manager", "manager", 403),
        ("analyst", "manager", 403),  # reads every statement, approves none
        ("operator", "manager", 404),  # pay is not theirs to see
        ("head", "outsider", 404),  # another team's
        ("teammate", "manager", 404),
        ("agent", "manager", 404),
    ],
)
def test_approving_what_is_not_yours_is_refused_and_changes_nothing(
    people: dict[str, User], january: dict[str, Statement], persona: str, whose: str, status: int
) -> None:
    statement = january[whose]

    response = approve(caller(people[persona]), statement, statement.computed_at.isoformat())

    assert response.status_code == status
    if status == 403:
        assert "nobody approves their own" in response.json()["detail"]
    assert still_draft(statement)


def test_an_admin_approves_anyones_even_a_heads(january: dict[str, Statement], admin_user: User) -> None:
    assert approve(caller(admin_user), january["head"]).status_code == 200
    assert approve(caller(admin_user), january["outsider"]).status_code == 200


@pytest.mark.parametrize("body", [{}, {"computed_at": "2026-01-20T12:00:00"}, {"computed_at": "soon"}])
def test_an_approval_without_an_aware_computed_at_answers_422(
    january: dict[str, Statement], head: User, body: dict[str, Any]
) -> None:
    response = send(caller(head), "post", f"{STATEMENTS}/{january['manager'].pk}/approve", body)

    assert response.status_code == 422
    assert still_draft(january["manager"])


# ---- Recomputing ------------------------------------------------------------------------------


def test_a_head_recomputes_their_teams_month(
    january: dict[str, Statement], head: User, manager: User, outsider: User
) -> None:
    Deal.objects.update(amount=Decimal(2000))

    response = send(caller(head), "post", f"{STATEMENTS}/compute", {"month": "2026-01"})

    # The team's four sellers: the manager, the teammate and the head were rewritten, the agent has nothing.
    assert response.status_code == 200
    assert response.json() == {
        "starts_on": "2026-01-01",
        "ends_on": "2026-01-31",
        "people": 4,
        "created": 0,
        "updated": 3,
        "removed": 0,
        "unchanged": 0,
    }
    assert statement_of(manager, JAN).total == Decimal(40)
    assert statement_of(outsider, JAN).total == Decimal(5)  # another team's: untouched


def test_an_admin_recomputes_given_people_or_everyone(
    january: dict[str, Statement], admin_user: User, outsider: User, manager: User
) -> None:
    Deal.objects.update(amount=Decimal(2000))
    client = caller(admin_user)

    some = send(client, "post", f"{STATEMENTS}/compute", {"month": "2026-01", "people": [outsider.pk]}).json()
    everyone = send(client, "post", f"{STATEMENTS}/compute", {"month": "2026-01"}).json()

    assert (some["people"], some["updated"]) == (1, 1)
    assert (everyone["updated"], everyone["unchanged"]) == (3, 1)
    assert (statement_of(outsider, JAN).total, statement_of(manager, JAN).total) == (Decimal(100), Decimal(40))


def test_recomputing_defaults_to_this_month(where: Board, head: User, manager: User) -> None:
    share_rules()
    won_deal(where, registrant=manager, closer=manager, closed=timezone.now())

    body = send(caller(head), "post", f"{STATEMENTS}/compute", {}).json()

    assert (body["starts_on"], body["created"]) == (timezone.localdate().replace(day=1).isoformat(), 1)


@pytest.mark.parametrize("persona", ["manager", "agent", "operator", "analyst"])
def test_only_heads_and_admins_recompute(people: dict[str, User], january: dict[str, Statement], persona: str) -> None:
    Deal.objects.update(amount=Decimal(2000))

    response = send(caller(people[persona]), "post", f"{STATEMENTS}/compute", {"month": "2026-01"})

    assert response.status_code == 403
    assert "Only heads of sales" in response.json()["detail"]
    assert statement_of(people["manager"], JAN).total == Decimal(20)


def test_a_head_naming_people_outside_their_team_is_refused_and_nothing_is_computed(
    january: dict[str, Statement], head: User, manager: User, outsider: User, operator: User
) -> None:
    Deal.objects.update(amount=Decimal(2000))

    response = send(
        caller(head), "post", f"{STATEMENTS}/compute", {"month": "2026-01", "people": [manager.pk, outsider.pk]}
    )

    assert response.status_code == 422
    assert response.json()["detail"]["people"][0].endswith(f"these are not: {outsider.pk}.")
    assert statement_of(manager, JAN).total == Decimal(20)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "1999-12"}, "month"),
        ({"month": (timezone.localdate().replace(day=1) + timedelta(days=40)).strftime("%Y-%m")}, "month"),
        ({"month": "2026-1"}, "month"),
        ({"people": []}, "people"),
        ({"people": ["me"]}, "people"),
        ({"period": "2026-01"}, "period"),
    ],
)
def test_a_month_or_people_not_understood_answer_422(
    january: dict[str, Statement], admin_user: User, body: dict[str, Any], field: str
) -> None:
    response = send(caller(admin_user), "post", f"{STATEMENTS}/compute", body)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert field in detail if isinstance(detail, dict) else field in {str(error["loc"][2]) for error in detail}


# ---- Bonus so far -----------------------------------------------------------------------------


@pytest.fixture
def this_month(where: Board, manager: User, teammate: User, outsider: User) -> None:
    share_rules(registrant=2, closer=3)
    won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=timezone.now())
    won_deal(where, registrant=outsider, closer=outsider, amount=100, closed=timezone.now())


def so_far(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {row["person"]["name"]: row["totals"] for row in body["people"]}


def test_a_manager_reads_their_own_bonus_so_far(this_month: None, manager: User) -> None:
    body = caller(manager).get(SO_FAR).json()

    assert so_far(body) == {"Mark Manager": {"USD": "20.00"}}
    assert body["starts_on"] == timezone.localdate().replace(day=1).isoformat()
    assert not Statement.objects.exists()


def test_a_head_reads_their_teams(this_month: None, head: User, agent: User) -> None:
    assert so_far(caller(head).get(SO_FAR).json()) == {
        "Anton Agent": {},
        "Hanna Head": {},
        "Mark Manager": {"USD": "20.00"},
        "Tina Teammate": {"USD": "30.00"},
    }


@pytest.mark.parametrize(
    ("persona", "whose", "status"),
    [("head", "teammate", 200), ("head", "outsider", 404), ("manager", "teammate", 404), ("admin", "outsider", 200)],
)
def test_one_persons_bonus_so_far_within_scope(
    this_month: None, people: dict[str, User], persona: str, whose: str, status: int
) -> None:
    response = caller(people[persona]).get(SO_FAR, {"person": people[whose].pk})

    assert response.status_code == status
    if status == 200:
        assert [row["person"]["id"] for row in response.json()["people"]] == [people[whose].pk]


# ---- Rules ------------------------------------------------------------------------------------

CLOSER: dict[str, Any] = {
    "name": "Closer's share",
    "kind": "closer_share",
    "percent": "3",
    "effective_from": "2026-01-01",
}


@pytest.mark.parametrize("persona", sorted(READS))
def test_everyone_reads_the_rules(people: dict[str, User], persona: str) -> None:
    rules = share_rules(registrant=2, closer=3)

    listed = caller(people[persona]).get(RULES)
    one = caller(people[persona]).get(f"{RULES}/{rules[0].pk}")

    assert listed.status_code == one.status_code == 200
    assert {row["id"] for row in listed.json()["items"]} == {rule.pk for rule in rules}
    assert (one.json()["kind"], one.json()["percent"]) == ("registrant_share", "2.00")


def test_the_rules_filter_by_kind_and_the_day_in_force(admin_user: User) -> None:
    old, new = (
        BonusRule.objects.create(
            name=name,
            kind=BonusRuleKind.CLOSER_SHARE,
            percent=percent,
            effective_from=starts,
            effective_until=ends,
        )
        for name, percent, starts, ends in [
            ("Old", 3, date(2025, 1, 1), date(2025, 12, 31)),
            ("New", 4, date(2026, 1, 1), None),
        ]
    )
    registrant = share_rules(registrant=2, closer=None)[0]
    client = caller(admin_user)

    def ids(**query: Any) -> list[int]:
        return [row["id"] for row in client.get(RULES, query).json()["items"]]

    assert ids(kind="closer_share") == [new.pk, old.pk]
    assert ids(on="2025-06-01") == [old.pk, registrant.pk]  # by kind: closer_share first
    assert client.get(f"{RULES}/{10**9}").status_code == 404


def test_an_admin_adds_a_rule(admin_user: User) -> None:
    response = send(caller(admin_user), "post", RULES, CLOSER | {"min_activities": 2, "min_quality": 70})

    body = response.json()
    assert response.status_code == 201
    assert {
        key: body[key] for key in ["name", "kind", "percent", "amount", "metric", "currency", "min_activities"]
    } == {
        "name": "Closer's share",
        "kind": "closer_share",
        "percent": "3.00",
        "amount": None,
        "metric": "",
        "currency": "",
        "min_activities": 2,
    }
    assert BonusRule.objects.get().created_by == admin_user


@pytest.mark.parametrize("persona", ["head", "manager", "analyst", "operator", "agent"])
def test_only_admins_write_rules(people: dict[str, User], persona: str) -> None:
    rule = share_rules(registrant=None, closer=3)[0]
    client = caller(people[persona])

    added = send(client, "post", RULES, CLOSER | {"effective_from": "2030-01-01"})
    changed = send(client, "put", f"{RULES}/{rule.pk}", CLOSER | {"percent": "9"})

    assert added.status_code == changed.status_code == 403
    assert added.json() == {"detail": "Only admins configure bonus rules."}
    assert list(BonusRule.objects.values_list("percent", flat=True)) == [Decimal(3)]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (CLOSER | {"percent": "101"}, {"percent": ["A percentage cannot be over 100."]}),
        (CLOSER | {"percent": None}, {"percent": ["Give the percentage."]}),
        (CLOSER | {"name": "  "}, {"name": ["Give the rule a name."]}),
        (CLOSER | {"metric": "calls"}, {"metric": ["A share of won deals counts no metric: leave it empty."]}),
        (CLOSER | {"currency": "JPY"}, {"currency": ["Choose one of the currencies: USD, EUR, GBP."]}),
        (CLOSER | {"effective_until": "2025-12-31"}, {"effective_until": ["The last day cannot be before the first."]}),
        (
            {"name": "Calls", "kind": "per_unit_above_plan", "effective_from": "2026-01-01"},
            {"metric": ["Choose the metric whose plan it rewards."], "amount": ["Give the amount paid per unit."]},
        ),
    ],
)
def test_a_bad_rule_answers_422_by_field_and_saves_nothing(
    admin_user: User, body: dict[str, Any], detail: dict[str, list[str]], settings: Any
) -> None:
    settings.RAPPORT_CURRENCIES = ["USD", "EUR", "GBP"]

    response = send(caller(admin_user), "post", RULES, body)

    assert response.status_code == 422
    assert response.json()["detail"] == detail
    assert not BonusRule.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"name", "kind", "effective_from"}),
        ({"kind": "lottery", "name": "x", "effective_from": "2026-01-01"}, {"kind"}),
        (CLOSER | {"percent": "NaN"}, {"percent"}),
        (CLOSER | {"colour": "red"}, {"colour"}),
    ],
)
def test_a_rule_missing_its_fields_answers_422_naming_them(
    admin_user: User, body: dict[str, Any], fields: set[str]
) -> None:
    response = send(caller(admin_user), "post", RULES, body)

    assert response.status_code == 422
    assert {str(error["loc"][-1]) for error in response.json()["detail"]} == fields
    assert not BonusRule.objects.exists()


def test_an_overlapping_rule_answers_422_naming_the_one_in_the_way(admin_user: User) -> None:
    send(caller(admin_user), "post", RULES, CLOSER)

    response = send(caller(admin_user), "post", RULES, CLOSER | {"effective_from": "2026-06-01"})

    assert response.status_code == 422
    assert "“Closer's share” already pays for this" in response.json()["detail"]["effective_from"][0]
    assert BonusRule.objects.count() == 1


def test_changing_an_unused_rule_changes_it_in_place(admin_user: User) -> None:
    rule_id = send(caller(admin_user), "post", RULES, CLOSER).json()["id"]

    response = send(caller(admin_user), "put", f"{RULES}/{rule_id}", CLOSER | {"percent": "4"})

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["percent"], BonusRule.objects.count()) == (rule_id, "4.00", 1)


def test_a_change_based_on_a_stale_read_is_refused(admin_user: User) -> None:
    created = send(caller(admin_user), "post", RULES, CLOSER).json()
    seen = created["updated_at"]
    assert (
        send(caller(admin_user), "put", f"{RULES}/{created['id']}", CLOSER | {"percent": "4", "seen": seen}).status_code
        == 200
    )

    late = send(caller(admin_user), "put", f"{RULES}/{created['id']}", CLOSER | {"percent": "6", "seen": seen})

    assert late.status_code == 409
    assert "Someone changed this rule since you opened it" in str(late.json()["detail"])
    assert BonusRule.objects.get(pk=created["id"]).percent == 4


def test_changing_a_rule_an_approved_statement_used_answers_its_new_version(
    january: dict[str, Statement], admin_user: User, head: User
) -> None:
    statement_approve(by=head, statement=january["manager"])
    rule = BonusRule.objects.get(kind=BonusRuleKind.REGISTRANT_SHARE)
    body = {"name": rule.name, "kind": rule.kind, "percent": "5", "effective_from": "2026-03-01"}

    response = send(caller(admin_user), "put", f"{RULES}/{rule.pk}", body)

    new = response.json()
    rule.refresh_from_db()
    assert response.status_code == 200
    assert (new["id"] != rule.pk, new["replaces"], new["percent"]) == (True, rule.pk, "5.00")
    assert (rule.percent, rule.effective_until) == (Decimal(2), date(2026, 2, 28))
    again = send(caller(admin_user), "put", f"{RULES}/{rule.pk}", body)
    assert again.status_code == 422
    assert "replaced by a newer version" in again.json()["detail"][0]


def test_changing_a_missing_rule_answers_404(admin_user: User) -> None:
    assert send(caller(admin_user), "put", f"{RULES}/{10**9}", CLOSER).status_code == 404

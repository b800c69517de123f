"""Redistribution over the API as a program sees it: who reads which rules, admins write them (bad input refused by
field, nothing saved), dry runs, proposals read by their team's head and admins, approval with exclusions, and a
second approval answered 409."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.api.tests.helpers import API, caller, send
from rapport.clients.models import ClientTransfer, Company
from rapport.supervision.models import Proposal, ProposalStatus, RedistributionRule
from rapport.supervision.review import review
from rapport.supervision.tests.rules_world import NOW, company, rule

RULES = f"{API}/redistribution/rules"
PROPOSALS = f"{API}/redistribution/proposals"


@pytest.fixture
def people(personas: dict[str, User], team_b: Team) -> dict[str, User]:
    head_b = UserFactory.create(username="head_b", role=Role.HEAD, team=team_b, first_name="Hugo", last_name="Bhead")
    return personas | {"analyst": UserFactory.create(username="analyst", role=Role.ANALYST), "head_b": head_b}


def body(**changes: Any) -> dict[str, Any]:
    return {"name": "Stale clients to the pool", "condition": "stale", "days": 30, "action": "pool", **changes}


def test_each_persona_reads_the_rules_that_apply_to_them(people: dict[str, User], team_a: Team, team_b: Team) -> None:
    everyone = rule(name="Everyone")
    ours = rule(name="Team A rule", team=team_a)
    theirs = rule(name="Team B rule", team=team_b)
    off = rule(name="Off", is_active=False)
    expected = {
        "manager": {everyone, ours},
        "head": {everyone, ours},
        "agent": {everyone, ours},
        "outsider": {everyone, theirs},
        "operator": {everyone},
        "analyst": {everyone},
        "admin": {everyone, ours, theirs, off},
    }
    for name, rules in expected.items():
        answer = caller(people[name]).get(RULES).json()
        assert {item["id"] for item in answer["items"]} == {r.pk for r in rules}, name
        outside = theirs if theirs not in rules else ours
        if outside not in rules:
            assert caller(people[name]).get(f"{RULES}/{outside.pk}").status_code == 404, name
    detail = caller(people["manager"]).get(f"{RULES}/{ours.pk}").json()
    assert detail["sentence"] == (
        "When clients of Team A have no logged contact for 30 days and no open deal, they go to the shared pool."
    )


def test_only_admins_write_rules_and_bad_input_is_refused_by_field(people: dict[str, User], team_a: Team) -> None:
    existing = rule(name="Team A rule", team=team_a)
    for name in ("manager", "head", "operator", "analyst"):
        program = caller(people[name])
        assert send(program, "post", RULES, body()).status_code == 403, name
        assert send(program, "put", f"{RULES}/{existing.pk}", body()).status_code in {403, 404}, name
        assert program.delete(f"{RULES}/{existing.pk}").status_code in {403, 404}, name
        assert program.post(f"{RULES}/{existing.pk}/dry-run").status_code in {403, 404}, name
    refused = send(caller(people["head"]), "post", RULES, body())
    assert refused.json() == {"detail": "Only admins write redistribution rules and run their reviews."}

    admin = caller(people["admin"])
    no_condition = send(admin, "post", RULES, body(condition="", days=None))
    assert no_condition.status_code == 422
    assert list(no_condition.json()["detail"]) == ["condition"]
    outside = send(admin, "post", RULES, body(team=999_999, days=4000))
    assert outside.json()["detail"] == {
        "days": ["Give a whole number of days from 1 to 3,650."],
        "team": ["Choose one of the teams, or none for every team."],
    }
    assert RedistributionRule.objects.count() == 1

    created = send(admin, "post", RULES, body(team=team_a.pk, action="round_robin"))
    assert created.status_code == 201
    made = created.json()
    assert (made["team"], made["action"], made["mode"], made["schedule"]) == (
        team_a.pk,
        "round_robin",
        "approval",
        "weekly",
    )
    changed = send(admin, "put", f"{RULES}/{made['id']}", body(days=45, updated_at=made["updated_at"]))
    assert changed.json()["days"] == 45
    stale = send(admin, "put", f"{RULES}/{made['id']}", body(days=60, updated_at=made["updated_at"]))
    assert stale.status_code == 409
    assert admin.delete(f"{RULES}/{made['id']}").status_code == 204


def test_a_rule_that_made_proposals_answers_409_to_delete(people: dict[str, User]) -> None:
    company(people["manager"], "Stale Ltd", contacted=60)
    used = rule()
    review(used, now=NOW, dry_run=False)
    answer = caller(people["admin"]).delete(f"{RULES}/{used.pk}")
    assert answer.status_code == 409
    assert "take it out of use instead of deleting it" in answer.json()["detail"]


def test_a_dry_run_answers_the_moves_and_stores_nothing(people: dict[str, User]) -> None:
    stale = company(people["manager"], "Stale Ltd", contacted=41)
    existing = rule()
    answer = caller(people["admin"]).post(f"{RULES}/{existing.pk}/dry-run")
    assert answer.status_code == 200
    assert answer.json() == {
        "matched": 1,
        "later": 0,
        "left": 0,
        "lines": [
            {
                "kind": "company",
                "client": stale.pk,
                "client_name": "Stale Ltd",
                "from_user": {"id": people["manager"].pk, "name": "Mark Manager"},
                "to_user": None,
                "reason": "No logged contact for 41 days, no open deal",
            }
        ],
    }
    assert not Proposal.objects.exists()


@pytest.fixture
def proposal(people: dict[str, User]) -> Proposal:
    company(people["manager"], "Stale Ltd", contacted=41)
    company(people["manager"], "Kept Ltd", contacted=50)
    return review(rule(), now=NOW, dry_run=False).proposals[0]


def test_proposals_are_read_by_their_teams_head_and_admins(people: dict[str, User], proposal: Proposal) -> None:
    for name in ("head", "admin"):
        listed = caller(people[name]).get(PROPOSALS).json()
        assert [item["id"] for item in listed["items"]] == [proposal.pk], name
        detail = caller(people[name]).get(f"{PROPOSALS}/{proposal.pk}").json()
        assert [line["client_name"] for line in detail["line_items"]] == ["Kept Ltd", "Stale Ltd"]
        assert detail["may_approve"] is True
    for name in ("manager", "teammate", "outsider", "operator", "analyst", "agent", "head_b"):
        assert caller(people[name]).get(PROPOSALS).json()["items"] == [], name
        assert caller(people[name]).get(f"{PROPOSALS}/{proposal.pk}").status_code == 404, name
        answer = send(caller(people[name]), "post", f"{PROPOSALS}/{proposal.pk}/approve", {"version": 1})
        assert answer.status_code == 404, name
    assert Proposal.objects.get().status == ProposalStatus.OPEN


def test_approving_with_exclusions_moves_the_others_and_twice_answers_409(
    people: dict[str, User], proposal: Proposal
) -> None:
    head = caller(people["head"])
    detail = head.get(f"{PROPOSALS}/{proposal.pk}").json()
    lines = {line["client_name"]: line for line in detail["line_items"]}
    url = f"{PROPOSALS}/{proposal.pk}/approve"

    assert send(head, "post", url, {"version": 1, "excluded": [999_999]}).status_code == 422
    assert send(head, "post", url, {"version": 2}).status_code == 409
    answer = send(head, "post", url, {"version": 1, "excluded": [lines["Kept Ltd"]["id"]]})
    assert answer.status_code == 200
    decided = answer.json()
    assert (decided["status"], decided["version"], decided["decided_by"]["name"]) == ("applied", 2, "Hanna Head")
    moved = {line["client_name"]: (line["excluded"], line["transfer"] is not None) for line in decided["line_items"]}
    assert moved == {"Stale Ltd": (False, True), "Kept Ltd": (True, False)}
    assert Company.objects.get(name="Stale Ltd").owner is None

    again = send(head, "post", url, {"version": 2})
    assert again.status_code == 409
    assert again.json()["detail"].startswith("This proposal was already approved by Hanna Head at ")
    assert ClientTransfer.objects.count() == 1

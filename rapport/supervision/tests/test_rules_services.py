"""Redistribution rules: who writes them, what a rule may say (refusals by field), stale edits, deletion, the
sentence everyone reads, and how many days a client has before a rule would move it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import Team, User
from rapport.clients.models import ClientStatus, Company, Contact, Tag
from rapport.sales.models import Pipeline
from rapport.sales.tests.factories import sales_pipeline
from rapport.supervision.models import RedistributionRule, RuleAction, RuleCondition, RuleMode, RuleSchedule
from rapport.supervision.review import review
from rapport.supervision.rules import days_before_move, rule_delete, rule_save, rule_sentence, rules_applying_to
from rapport.supervision.tests.rules_world import NOW, company, contact, open_deal, rule


def terms(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Stale clients to the pool",
        "condition": RuleCondition.STALE,
        "days": 30,
        "action": RuleAction.POOL,
    }
    return {**values, **changes}


def refusals(by: User, **changes: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        rule_save(by=by, **terms(**changes))
    return refused.value.message_dict


def test_only_admins_write_rules(personas: dict[str, User]) -> None:
    for name, person in personas.items():
        if name == "admin":
            continue
        with pytest.raises(PermissionDenied):
            rule_save(by=person, **terms())
    saved = rule_save(by=personas["admin"], **terms(team="", pipeline=None, tag=None))
    assert (saved.days, saved.schedule, saved.mode, saved.created_by) == (
        30,
        RuleSchedule.WEEKLY,
        RuleMode.APPROVAL,
        personas["admin"],
    )


def test_a_rule_without_a_condition_or_its_figure_is_refused_by_field(admin_user: User) -> None:
    assert refusals(admin_user, condition="") == {
        "condition": [
            "A rule needs a condition: choose when a client counts as neglected (no logged contact for a number of "
            "days, or callbacks missed)."
        ]
    }
    assert refusals(admin_user, days=None) == {"days": ["Give the number of days without a logged contact."]}
    assert refusals(admin_user, days=0) == {"days": ["Give a whole number of days from 1 to 3,650."]}
    assert refusals(admin_user, days="3651") == {"days": ["Give a whole number of days from 1 to 3,650."]}
    assert refusals(admin_user, condition=RuleCondition.MISSED_CALLBACKS) == {
        "missed_callbacks": ["Give how many missed callbacks move a client."]
    }
    assert refusals(admin_user, condition=RuleCondition.MISSED_CALLBACKS, missed_callbacks=101) == {
        "missed_callbacks": ["Give a whole number from 1 to 100."]
    }
    assert not RedistributionRule.objects.exists()


def test_choices_and_names_are_checked(admin_user: User, team_a: Team) -> None:
    pipeline = sales_pipeline()
    found = refusals(
        admin_user,
        name="  ",
        action="elsewhere",
        team=999_999,
        tag="x",
        pipeline=pipeline.pk,
        client_status="pool",
        schedule="monthly",
        mode="sometimes",
    )
    assert set(found) == {
        "name",
        "action",
        "team",
        "tag",
        "client_status",
        "schedule",
        "mode",
        "without_open_deal",
    }
    assert found["team"] == ["Choose one of the teams, or none for every team."]
    assert found["without_open_deal"][0].startswith("This rule looks only at clients with an open deal in the pipeline")
    saved = rule_save(by=admin_user, **terms(team=team_a.pk, pipeline=pipeline.pk, without_open_deal=False))
    assert (saved.team, saved.pipeline) == (team_a, pipeline)


def test_the_other_conditions_figure_is_dropped(admin_user: User) -> None:
    saved = rule_save(by=admin_user, **terms(missed_callbacks=3))
    assert (saved.days, saved.missed_callbacks) == (30, None)


def test_a_stale_edit_is_refused_and_a_fresh_one_saved(admin_user: User) -> None:
    saved = rule_save(by=admin_user, **terms())
    seen = saved.updated_at
    changed = rule_save(by=admin_user, rule=saved, seen=seen, **terms(days=45))
    assert changed.days == 45
    with pytest.raises(ValidationError) as stale:
        rule_save(by=admin_user, rule=saved, seen=seen, **terms(days=60))
    assert stale.value.code == "stale"
    assert RedistributionRule.objects.get().days == 45


def test_a_rule_that_made_proposals_is_taken_out_of_use_not_deleted(admin_user: User, manager: User) -> None:
    unused = rule(name="Unused")
    rule_delete(by=admin_user, rule=unused)
    assert not RedistributionRule.objects.filter(pk=unused.pk).exists()
    company(manager, "Stale Ltd", contacted=60)
    used = rule(name="Used")
    review(used, now=NOW, dry_run=False)
    with pytest.raises(ValidationError) as refused:
        rule_delete(by=admin_user, rule=used)
    assert refused.value.messages == [
        "“Used” has made proposals, which say what it did: take it out of use instead of deleting it."
    ]
    with pytest.raises(PermissionDenied):
        rule_delete(by=manager, rule=used)


def test_a_rule_reads_as_one_sentence(team_a: Team) -> None:
    vip = Tag.objects.create(name="VIP")
    assert rule_sentence(rule()) == (
        "When clients of every team have no logged contact for 30 days and no open deal, they go to the shared pool."
    )
    assert rule_sentence(
        rule(
            team=team_a,
            tag=vip,
            client_status=ClientStatus.FROZEN,
            condition=RuleCondition.MISSED_CALLBACKS,
            days=None,
            missed_callbacks=2,
            without_open_deal=False,
            action=RuleAction.ROUND_ROBIN,
        )
    ) == (
        "When clients of Team A with status “Frozen”, the tag “VIP” have 2 callbacks missed (planned and not done by "
        "their day), they go in turn to the other managers of the owner's team."
    )


def test_a_manager_reads_the_rules_of_their_team_and_the_company_wide_ones(
    manager: User, outsider: User, admin_user: User, team_a: Team, team_b: Team
) -> None:
    everyone = rule(name="Everyone")
    ours = rule(name="Team A's", team=team_a)
    theirs = rule(name="Team B's", team=team_b)
    off = rule(name="Not in use", is_active=False)
    assert rules_applying_to(manager) == [everyone, ours]
    assert rules_applying_to(outsider) == [everyone, theirs]
    assert set(RedistributionRule.objects.filter(pk__in=[r.pk for r in rules_applying_to(admin_user)])) == {
        everyone,
        ours,
        theirs,
    }
    assert off not in rules_applying_to(admin_user)


# ---- Days before a rule would move a client -------------------------------------------------------------


@pytest.fixture
def pipeline(db: None) -> Pipeline:
    return sales_pipeline()


def test_days_before_move_counts_down_from_the_last_contact(
    manager: User, outsider: User, team_a: Team, team_b: Team, pipeline: Pipeline
) -> None:
    month = rule(name="A month", days=30)
    quarter = rule(name="A quarter, team A", days=90, team=team_a)
    rule(name="Team B's", days=10, team=team_b)
    rule(name="Missed callbacks", condition=RuleCondition.MISSED_CALLBACKS, days=None, missed_callbacks=2)
    rule(name="Not in use", days=5, is_active=False)
    recent = company(manager, "Recent Ltd", contacted=20.5)
    overdue = company(manager, "Overdue Ltd", contacted=45)
    never = contact(manager, "Never", contacted=None, entered=12.5)
    dealing = company(manager, "Dealing Ltd", contacted=45)
    open_deal(dealing, pipeline)
    pooled = company(None, "Pool Ltd", contacted=400)

    found = days_before_move([recent, overdue, never, dealing, pooled], now=NOW)

    assert [(c.rule, c.days) for c in found["company", recent.pk]] == [(month, 10), (quarter, 70)]
    assert [(c.rule, c.days) for c in found["company", overdue.pk]] == [(month, 0), (quarter, 45)]
    assert [(c.rule, c.days) for c in found["contact", never.pk]] == [(month, 18), (quarter, 78)]
    assert ("company", dealing.pk) not in found
    assert ("company", pooled.pk) not in found


def test_days_before_move_costs_the_same_for_a_page_of_clients(manager: User, team_a: Team, pipeline: Pipeline) -> None:
    vip = Tag.objects.create(name="VIP")
    rule(name="A month")
    rule(name="VIP", tag=vip, team=team_a)

    def queries(count: int) -> int:
        clients: list[Company | Contact] = [company(manager, f"C{n}") for n in range(count)]
        clients += [contact(manager, f"P{n}") for n in range(count)]
        with CaptureQueriesContext(connection) as captured:
            days_before_move(clients, now=NOW + timedelta(seconds=1))
        return len(captured)

    assert queries(2) == queries(25) == 6

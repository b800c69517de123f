"""The redistribution screens: rules (admins), dry run and review now, proposals (heads and admins), the rules for
my clients (everyone), and the countdown on the client card — who may open what, and what each shows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from conftest import client_for
from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients.models import ClientTransfer, Company
from rapport.core import navigation
from rapport.core.models import Notification
from rapport.supervision.models import Proposal, ProposalLine, ProposalStatus, RedistributionRule, RuleAction
from rapport.supervision.review import review
from rapport.supervision.tests.rules_world import NOW, company, contact, rule

RULES = reverse("supervision:rules")
NEW = reverse("supervision:rule-new")
DRY_RUN = reverse("supervision:rule-dry-run")
PROPOSALS = reverse("supervision:proposals")
MY_RULES = reverse("supervision:my-rules")
HTMX = {"HX-Request": "true"}


def edit_url(rule: RedistributionRule) -> str:
    return reverse("supervision:rule-edit", args=[rule.pk])


def form_data(**changes: Any) -> dict[str, Any]:
    """A stale rule as the form posts it, with ``changes`` (None: left out, as an unchecked box)."""
    data: dict[str, Any] = {
        "name": "Stale clients to the pool",
        "team": "",
        "client_status": "",
        "tag": "",
        "pipeline": "",
        "condition": "stale",
        "days": "30",
        "missed_callbacks": "",
        "without_open_deal": "on",
        "action": "pool",
        "schedule": "weekly",
        "mode": "approval",
        "is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def analyst(db: None) -> User:
    return UserFactory.create(username="analyst", role=Role.ANALYST)


@pytest.fixture
def head_b(team_b: Team) -> User:
    user = UserFactory.create(username="head_b", role=Role.HEAD, team=team_b, first_name="Hugo", last_name="Bhead")
    team_b.head = user
    team_b.save(update_fields=["head"])
    return user


@pytest.fixture
def stale(manager: User) -> Company:
    return company(manager, "Stale Ltd", contacted=41)


def lines_shown(html: str) -> list[str]:
    return re.findall(r'class="proposal-line" data-line="(\d+)"', html)


# ---- Rules: admins only ----------------------------------------------------------------------------


def test_only_admins_open_and_post_the_rules_screens(personas: dict[str, User], analyst: User) -> None:
    existing = rule()
    for name, person in [*personas.items(), ("analyst", analyst)]:
        if name == "admin":
            continue
        browser = client_for(person)
        for url in (RULES, NEW, edit_url(existing)):
            assert browser.get(url).status_code == 403, (name, url)
        for url in (
            NEW,
            edit_url(existing),
            DRY_RUN,
            reverse("supervision:rule-review", args=[existing.pk]),
            reverse("supervision:rule-delete", args=[existing.pk]),
        ):
            assert browser.post(url, form_data()).status_code == 403, (name, url)
    assert RedistributionRule.objects.get() == existing
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("extra_rules", [0, 8])
def test_the_rules_list_reads_each_rule_in_words_in_the_same_queries(
    admin_user: User, django_assert_num_queries: Any, extra_rules: int
) -> None:
    for number in range(extra_rules + 1):
        rule(name=f"Rule {number}")
    browser = client_for(admin_user)
    # The session, the user, the rules with their open proposals, the shell's unread count.
    with django_assert_num_queries(4):
        response = browser.get(RULES)
    html = response.content.decode()
    assert html.count('class="rule-row"') == extra_rules + 1
    assert "When clients of every team have no logged contact for 30 days and no open deal" in html


def test_an_admin_adds_a_rule_and_refusals_stand_next_to_their_fields(admin_user: User, team_a: Team) -> None:
    browser = client_for(admin_user)
    assert browser.get(NEW).status_code == 200
    refused = browser.post(NEW, form_data(condition="", days=""))
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'id="id_condition-error"' in html
    assert "A rule needs a condition" in html
    assert not RedistributionRule.objects.exists()

    saved = browser.post(NEW, form_data(team=str(team_a.pk)))
    assert saved.status_code == 302
    assert (RedistributionRule.objects.get().team, RedistributionRule.objects.get().days) == (team_a, 30)


def test_a_form_drawn_before_someone_elses_change_is_refused(admin_user: User) -> None:
    existing = rule()
    browser = client_for(admin_user)
    page = browser.get(edit_url(existing)).content.decode()
    seen = re.search(r'name="seen" value="([^"]+)"', page)
    assert seen is not None
    assert browser.post(edit_url(existing), form_data(days="45", seen=seen.group(1))).status_code == 302
    stale = browser.post(edit_url(existing), form_data(days="60", seen=seen.group(1)))
    assert stale.status_code == 422
    assert "Someone changed this rule since you opened it" in stale.content.decode()
    assert RedistributionRule.objects.get().days == 45


def test_a_dry_run_shows_the_proposal_and_changes_nothing(admin_user: User, stale: Company) -> None:
    browser = client_for(admin_user)
    response = browser.post(DRY_RUN, form_data(), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="card mt-3" id="rule-dry-run">')
    assert "Stale Ltd" in html
    assert "No logged contact for 41 days, no open deal" in html
    assert "1 client meets the rule now." in html
    assert not RedistributionRule.objects.exists()
    assert not Proposal.objects.exists()
    assert Company.objects.get(pk=stale.pk).owner_id == stale.owner_id
    whole_page = browser.post(DRY_RUN, form_data())
    assert "Nothing was saved, moved or sent." in whole_page.content.decode()


def test_a_dry_run_of_a_rule_without_a_condition_shows_the_form_with_its_refusal(admin_user: User) -> None:
    response = client_for(admin_user).post(DRY_RUN, form_data(condition=""), headers=HTMX)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#rule-form"
    assert "A rule needs a condition" in response.content.decode()


def test_review_now_stores_the_proposal_and_tells_the_head(admin_user: User, head: User, stale: Company) -> None:
    existing = rule()
    response = client_for(admin_user).post(reverse("supervision:rule-review", args=[existing.pk]), follow=True)
    assert response.redirect_chain[-1][0] == PROPOSALS
    assert "1 client proposed for a move" in response.content.decode()
    assert ProposalLine.objects.get().company == stale
    assert Notification.objects.filter(recipient=head).count() == 1


def test_a_rule_not_in_use_is_not_reviewed_and_a_used_rule_is_not_deleted(admin_user: User, stale: Company) -> None:
    browser = client_for(admin_user)
    off = rule(name="Off", is_active=False)
    browser.post(reverse("supervision:rule-review", args=[off.pk]))
    assert not Proposal.objects.exists()
    used = rule(name="Used")
    review(used, now=NOW, dry_run=False)
    response = browser.post(reverse("supervision:rule-delete", args=[used.pk]), follow=True)
    assert "take it out of use instead of deleting it" in response.content.decode()
    assert RedistributionRule.objects.filter(pk=used.pk).exists()
    assert browser.post(reverse("supervision:rule-delete", args=[off.pk])).status_code == 302
    assert not RedistributionRule.objects.filter(pk=off.pk).exists()


# ---- Proposals: heads and admins -------------------------------------------------------------------------


@pytest.fixture
def proposal(stale: Company, head: User) -> Proposal:
    return review(rule(), now=NOW, dry_run=False).proposals[0]


def test_proposals_are_for_heads_and_admins(
    personas: dict[str, User], analyst: User, head_b: User, proposal: Proposal
) -> None:
    detail = reverse("supervision:proposal", args=[proposal.pk])
    decide = reverse("supervision:proposal-decide", args=[proposal.pk])
    for name in ("manager", "teammate", "operator", "agent", "outsider"):
        browser = client_for(personas[name])
        assert browser.get(PROPOSALS).status_code == 403, name
        assert browser.get(detail).status_code == 404, name
        assert browser.post(decide, {"version": "1"}).status_code == 404, name
    assert client_for(analyst).get(PROPOSALS).status_code == 403
    other_head = client_for(head_b)
    assert 'data-proposal="' not in other_head.get(PROPOSALS).content.decode()
    assert other_head.get(detail).status_code == 404
    assert other_head.post(decide, {"version": "1"}).status_code == 404
    assert Proposal.objects.get().status == ProposalStatus.OPEN
    for name in ("head", "admin"):
        browser = client_for(personas[name])
        assert f'data-proposal="{proposal.pk}"' in browser.get(PROPOSALS).content.decode()
        assert browser.get(detail).status_code == 200


@pytest.mark.parametrize("extra", [0, 6])
def test_the_proposals_list_costs_the_same_queries(
    admin_user: User, manager: User, django_assert_num_queries: Any, extra: int
) -> None:
    for number in range(extra + 1):
        company(manager, f"Stale {number}", contacted=60)
        review(rule(name=f"Rule {number}"), now=NOW, dry_run=False)
    browser = client_for(admin_user)
    # The session, the user, the page of proposals with their counts and team, the shell's unread count.
    with django_assert_num_queries(4):
        response = browser.get(PROPOSALS)
    assert response.content.decode().count('class="proposal-row"') == extra + 1


def test_the_head_approves_with_exclusions_and_a_second_approval_is_refused(
    head: User, manager: User, proposal: Proposal
) -> None:
    kept = company(manager, "Kept Ltd", contacted=60)
    second = review(rule(name="Second"), now=NOW, dry_run=False).proposals[0]
    kept_line = second.lines.get(company=kept)
    browser = client_for(head)
    page = browser.get(reverse("supervision:proposal", args=[second.pk])).content.decode()
    assert lines_shown(page) == [str(kept_line.pk)]
    assert 'name="version" value="1"' in page

    decide = reverse("supervision:proposal-decide", args=[second.pk])
    response = browser.post(decide, {"version": "1", "exclude": [str(kept_line.pk)]}, follow=True)
    assert "Proposal dismissed: every client stays with its owner." in response.content.decode()

    response = browser.post(reverse("supervision:proposal-decide", args=[proposal.pk]), {"version": "1"}, follow=True)
    html = response.content.decode()
    assert "Approved: 1 client moved; the owners are told why." in html
    assert 'data-outcome="moved"' in html
    again = browser.post(reverse("supervision:proposal-decide", args=[proposal.pk]), {"version": "1"}, follow=True)
    assert "This proposal was already approved by Hanna Head at" in again.content.decode()
    assert ClientTransfer.objects.count() == 1


def test_an_approval_with_a_mangled_form_changes_nothing(head: User, proposal: Proposal) -> None:
    browser = client_for(head)
    decide = reverse("supervision:proposal-decide", args=[proposal.pk])
    response = browser.post(decide, {"version": "one", "exclude": ["x"]}, follow=True)
    assert "The proposal could not be decided: reload it and decide again." in response.content.decode()
    assert Proposal.objects.get().status == ProposalStatus.OPEN


# ---- The rules for my clients, the card ---------------------------------------------------------------


def test_every_manager_reads_the_rules_for_their_clients_and_the_nearest_to_a_move(
    manager: User, outsider: User, team_a: Team, team_b: Team, django_assert_num_queries: Any
) -> None:
    rule(name="Company-wide")
    rule(name="Team B rule", team=team_b, action=RuleAction.ROUND_ROBIN)
    company(manager, "Nearly Ltd", contacted=25.5)
    company(manager, "Fresh Ltd", contacted=1.5)
    contact(manager, "Overdue", contacted=45)
    browser = client_for(manager)
    # The session, the user, the rules, my companies and contacts, the companies' and the contacts' open deals, the
    # shell's unread count (no rule of mine is a team's: the owners' teams are not read).
    with django_assert_num_queries(8):
        response = browser.get(MY_RULES)
    html = response.content.decode()
    assert "Company-wide" in html
    assert "Team B rule" not in html
    rows = re.findall(r'class="my-nearest-row" data-days="(\d+)"', html)
    assert rows == ["0", "5", "29"]
    assert "Team B rule" in client_for(outsider).get(MY_RULES).content.decode()


def test_the_card_tells_the_owner_how_many_days_are_left_and_a_pending_move(
    manager: User, head: User, teammate: User
) -> None:
    rule(name="A month")
    client = company(manager, "Nearly Ltd", contacted=25.5)
    card = client.get_absolute_url()
    html = client_for(manager).get(card).content.decode()
    assert 'id="client-rule-countdown"' in html
    assert "“A month” would move it in 5 days." in html
    assert "“A month” would move it in 5 days." in client_for(head).get(card).content.decode()

    Company.objects.filter(pk=client.pk).update(last_contact_at=NOW.replace(year=NOW.year - 1))
    review(RedistributionRule.objects.get(), dry_run=False)
    html = client_for(manager).get(card).content.decode()
    assert "Proposed to move to the shared pool by “A month”: awaiting the head's decision." in html


def test_the_card_says_nothing_when_no_rule_concerns_the_client(manager: User) -> None:
    client = company(manager, "Acme", contacted=5)
    assert 'id="client-rule-countdown"' not in client_for(manager).get(client.get_absolute_url()).content.decode()


def test_the_navigation_shows_each_screen_to_whom_may_open_it(
    manager: User, head: User, admin_user: User, operator: User
) -> None:
    def keys(user: User, group: str = "main") -> set[str]:
        return {item.key for item in navigation.items_for(user, group)}

    assert "redistribution" in keys(admin_user, "settings")
    assert "redistribution" not in keys(head, "settings")
    assert "proposals" in keys(head)
    assert "proposals" in keys(admin_user)
    assert "proposals" not in keys(manager)
    assert "my-rules" in keys(manager)
    assert "my-rules" not in keys(operator)
    html = client_for(head).get(MY_RULES).content.decode()
    assert PROPOSALS in html

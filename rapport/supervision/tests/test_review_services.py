"""Reviews of redistribution rules: who a rule finds, where each client goes and why, dry runs, proposals,
approval, automatic mode, and what follows a moved client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities.models import Activity, ActivityStatus
from rapport.clients import services as client_services
from rapport.clients.models import ClientStatus, ClientTransfer, Company, Contact, Tag, TransferKind
from rapport.core.models import Notification
from rapport.sales.models import Pipeline
from rapport.sales.tests.factories import sales_pipeline
from rapport.supervision import review as reviews
from rapport.supervision.models import (
    Proposal,
    ProposalLine,
    ProposalStatus,
    RedistributionRule,
    RuleAction,
    RuleCondition,
    RuleMode,
    RuleSchedule,
)
from rapport.supervision.pool import pool_claim
from rapport.supervision.review import due_reviews, proposal_decide, review
from rapport.supervision.tests.rules_world import (
    NOW,
    ago,
    callback,
    company,
    contact,
    open_deal,
    planned,
    rule,
)


@pytest.fixture
def pipeline(db: None) -> Pipeline:
    return sales_pipeline()


@pytest.fixture
def third(team_a: Team, head: User) -> User:
    """A third manager in team A."""
    return UserFactory.create(username="third", role=Role.MANAGER, team=team_a, first_name="Theo", last_name="Third")


@pytest.fixture
def head_b(team_b: Team) -> User:
    user = UserFactory.create(username="head_b", role=Role.HEAD, team=team_b, first_name="Hugo", last_name="Bhead")
    team_b.head = user
    team_b.save(update_fields=["head"])
    return user


def names(result: reviews.Review) -> list[str]:
    return [line.client_name for line in result.lines]


def owner_of(client: Company | Contact) -> int | None:
    return type(client).objects.get(pk=client.pk).owner_id


# ---- Who a stale rule finds ------------------------------------------------------------------------


def test_a_stale_rule_finds_clients_without_contact_and_without_an_open_deal(
    manager: User, teammate: User, outsider: User, pipeline: Pipeline
) -> None:
    company(manager, "Stale Ltd", contacted=41)
    company(manager, "Fresh Ltd", contacted=10)
    dealing = company(manager, "Dealing Ltd", contacted=90)
    open_deal(dealing, pipeline)
    closed = company(manager, "Closed Deal Ltd", contacted=90)
    open_deal(closed, pipeline, closed=True)
    company(manager, "Never Called Ltd", contacted=None, entered=100)
    company(manager, "Just Entered Ltd", contacted=None, entered=5)
    company(None, "Pool Ltd", contacted=400)
    gone = company(manager, "Deleted Ltd", contacted=400)
    Company.objects.filter(pk=gone.pk).update(deleted_at=NOW)
    company(outsider, "Far Ltd", contacted=50)
    contact(teammate, "Stalecontact", contacted=70)

    result = review(rule(), now=NOW)

    assert names(result) == ["Never Called Ltd", "Closed Deal Ltd", "Stalecontact", "Far Ltd", "Stale Ltd"]
    reasons = {line.client_name: line.reason for line in result.lines}
    assert reasons["Stale Ltd"] == "No logged contact for 41 days, no open deal"
    assert reasons["Never Called Ltd"] == "No logged contact since it was entered 100 days ago, no open deal"
    assert all(line.to_user is None for line in result.lines)
    assert result.matched == 5
    assert {line.client_name: line.from_user for line in result.lines}["Far Ltd"] == outsider


def test_the_scope_narrows_by_team_status_tag_and_pipeline(
    manager: User, outsider: User, team_a: Team, pipeline: Pipeline
) -> None:
    vip = Tag.objects.create(name="VIP")
    tagged = company(manager, "Tagged Ltd", contacted=60)
    tagged.tags.add(vip)
    frozen = company(manager, "Frozen Ltd", contacted=60)
    Company.objects.filter(pk=frozen.pk).update(status=ClientStatus.FROZEN)
    dealing = company(manager, "Dealing Ltd", contacted=60)
    open_deal(dealing, pipeline)
    company(outsider, "Far Ltd", contacted=60)

    assert names(review(rule(team=team_a), now=NOW)) == ["Tagged Ltd", "Frozen Ltd"]
    assert names(review(rule(tag=vip), now=NOW)) == ["Tagged Ltd"]
    assert names(review(rule(client_status=ClientStatus.FROZEN), now=NOW)) == ["Frozen Ltd"]
    in_pipeline = rule(pipeline=pipeline, without_open_deal=False)
    assert names(review(in_pipeline, now=NOW)) == ["Dealing Ltd"]
    assert review(rule(team=team_a, without_open_deal=False), now=NOW).matched == 3


# ---- Missed callbacks ---------------------------------------------------------------------------


def test_missed_callbacks_are_the_owners_callbacks_still_planned_after_their_day(manager: User, teammate: User) -> None:
    twice = company(manager, "Twice Missed Ltd", contacted=1)
    callback(twice, manager, due=-3)
    callback(twice, manager, due=-10)
    once = company(manager, "Once Missed Ltd", contacted=1)
    callback(once, manager, due=-3)
    callback(once, manager, due=+2)  # not due yet
    cancelled = company(manager, "Cancelled Ltd", contacted=1)
    callback(cancelled, manager, due=-3)
    callback(cancelled, manager, due=-4, status=ActivityStatus.CANCELLED)
    others = company(manager, "Colleague Missed Ltd", contacted=1)
    callback(others, teammate, due=-3)
    callback(others, teammate, due=-4)
    plain = company(manager, "Plain Call Ltd", contacted=1)
    planned(plain, manager, due=-3)
    planned(plain, manager, due=-4)
    person = contact(manager, "Thrice", contacted=1)
    for days in (-2, -3, -4):
        callback(person, manager, due=days)

    result = review(rule(condition=RuleCondition.MISSED_CALLBACKS, days=None, missed_callbacks=2), now=NOW)

    assert names(result) == ["Thrice", "Twice Missed Ltd"]
    assert [line.reason for line in result.lines] == [
        "3 callbacks missed, no open deal",
        "2 callbacks missed, no open deal",
    ]


# ---- Where they go ----------------------------------------------------------------------------------


def test_round_robin_goes_in_turn_within_the_owners_team_and_goes_on_where_the_last_review_stopped(
    manager: User, teammate: User, third: User, outsider: User, head: User
) -> None:
    in_turn = rule(action=RuleAction.ROUND_ROBIN)
    for days in (90, 80, 70):
        company(manager, f"Stale {days}", contacted=days)
    company(teammate, "Teammate's", contacted=65)
    company(outsider, "Alone in team B", contacted=60)

    first = review(in_turn, now=NOW, dry_run=False)

    # By id among the other managers of the owner's team (the head and agents receive nothing); the turn goes on.
    assert [(line.client_name, line.to_user) for line in first.lines] == [
        ("Stale 90", teammate),
        ("Stale 80", third),
        ("Stale 70", teammate),
        ("Teammate's", third),
    ]
    assert first.left == 1  # team B has nobody else
    assert "next in turn in the team" in first.lines[0].reason
    company(manager, "Later", contacted=50)
    second = review(in_turn, now=NOW)
    assert [(line.client_name, line.to_user) for line in second.lines] == [("Later", teammate)]


def test_least_loaded_picks_the_fewest_open_activities_per_client_and_spreads_a_big_review(
    manager: User, teammate: User, third: User
) -> None:
    busy = company(teammate, "Busy's client", contacted=1)
    for _ in range(4):
        planned(busy, teammate, due=5)
    company(third, "Third's client", contacted=1)
    planned(Company.objects.get(name="Third's client"), third, due=5)
    for days in range(60, 66):
        company(manager, f"Stale {days}", contacted=days)

    result = review(rule(action=RuleAction.LEAST_LOADED), now=NOW)

    # Theo has 1 open activity for his 1 client, Tina 4: Theo first, until his load passes hers.
    assert result.lines[0].to_user == third
    assert "least loaded in the team (1.00 open activities per client)" in result.lines[0].reason
    receivers = [line.to_user for line in result.lines]
    assert set(receivers) == {third, teammate}
    assert manager not in receivers


def test_a_client_on_an_open_proposal_is_not_proposed_again(manager: User) -> None:
    company(manager, "Stale Ltd", contacted=60)
    stale = rule()
    assert len(review(stale, now=NOW, dry_run=False).lines) == 1
    assert review(stale, now=NOW).lines == []
    assert review(rule(name="Another"), now=NOW).lines == []


def test_a_review_proposes_the_most_neglected_first_up_to_its_cap(
    manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reviews, "LINES_PER_REVIEW", 2)
    for days in (40, 90, 60):
        company(manager, f"Stale {days}", contacted=days)
    result = review(rule(), now=NOW)
    assert names(result) == ["Stale 90", "Stale 60"]
    assert (result.matched, result.later) == (3, 1)


# ---- Dry run, storing, approving ------------------------------------------------------------------


def counts() -> tuple[int, ...]:
    return (
        Proposal.objects.count(),
        ProposalLine.objects.count(),
        ClientTransfer.objects.count(),
        Notification.objects.count(),
        Company.objects.filter(owner__isnull=True).count(),
    )


def test_a_dry_run_writes_nothing(manager: User, head: User) -> None:
    company(manager, "Stale Ltd", contacted=60)
    stale = rule(mode=RuleMode.AUTOMATIC)
    before = counts()
    result = review(stale, now=NOW, dry_run=True)
    assert len(result.lines) == 1
    assert counts() == before
    stale.refresh_from_db()
    assert stale.last_review_at is None


def test_a_review_in_approval_mode_stores_one_proposal_per_team_and_tells_their_heads(
    manager: User, outsider: User, head: User, head_b: User
) -> None:
    stale = company(manager, "Stale Ltd", contacted=60)
    company(outsider, "Far Ltd", contacted=60)
    reviewed = rule()
    result = review(reviewed, now=NOW, dry_run=False)

    assert len(result.proposals) == 2
    assert {tuple(p.lines.values_list("from_user__team__name", flat=True)) for p in result.proposals} == {
        ("Team A",),
        ("Team B",),
    }
    assert owner_of(stale) == manager.pk  # nothing moves before a head approves
    told = Notification.objects.get(recipient=head)
    assert told.title == "1 client proposed for a move by “Stale to the pool”"
    assert Notification.objects.filter(recipient=head_b).count() == 1
    reviewed.refresh_from_db()
    assert reviewed.last_review_at == NOW


def test_the_head_approves_the_moves_but_the_excluded_lines_and_owners_learn_why(
    manager: User, teammate: User, head: User
) -> None:
    stale = company(manager, "Stale Ltd", contacted=41)
    kept = company(manager, "Kept Ltd", contacted=50)
    proposal = review(rule(), now=NOW, dry_run=False).proposals[0]
    kept_line = proposal.lines.get(company=kept)

    decided = proposal_decide(by=head, proposal=proposal, excluded_line_ids=[kept_line.pk], seen_version=1)

    assert (decided.status, decided.decided_by, decided.version) == (ProposalStatus.APPLIED, head, 2)
    assert owner_of(stale) is None
    assert Company.objects.get(pk=stale.pk).status == ClientStatus.POOL
    assert owner_of(kept) == manager.pk
    transfer = ClientTransfer.objects.get(company=stale)
    assert (transfer.kind, transfer.rule, transfer.approved_by, transfer.by) == (
        TransferKind.RULE,
        "Stale to the pool",
        head,
        head,
    )
    assert (transfer.from_user, transfer.to_user) == (manager, None)
    assert transfer.reason == "Rule “Stale to the pool”: No logged contact for 41 days, no open deal"
    assert ProposalLine.objects.get(company=stale).transfer == transfer
    assert ProposalLine.objects.get(pk=kept_line.pk).excluded
    told = Notification.objects.get(recipient=manager)
    assert told.title == "“Stale Ltd” moved to the shared pool"
    assert told.body == (
        "By the rule “Stale to the pool”: No logged contact for 41 days, no open deal. Approved by Hanna Head."
    )
    assert told.url == stale.get_absolute_url()


def test_approving_twice_is_refused_naming_who_approved_and_changes_nothing(manager: User, head: User) -> None:
    company(manager, "Stale Ltd", contacted=60)
    proposal = review(rule(), now=NOW, dry_run=False).proposals[0]
    proposal_decide(by=head, proposal=proposal, excluded_line_ids=[], seen_version=1)
    before = counts()

    with pytest.raises(ValidationError) as refused:
        proposal_decide(by=head, proposal=proposal, excluded_line_ids=[], seen_version=1)

    assert refused.value.code == "approved"
    assert refused.value.messages[0].startswith("This proposal was already approved by Hanna Head at ")
    assert counts() == before


def test_a_stale_version_or_a_foreign_line_is_refused(manager: User, head: User) -> None:
    company(manager, "Stale Ltd", contacted=60)
    proposal = review(rule(), now=NOW, dry_run=False).proposals[0]
    with pytest.raises(ValidationError) as stale:
        proposal_decide(by=head, proposal=proposal, excluded_line_ids=[], seen_version=7)
    assert stale.value.code == "stale"
    with pytest.raises(ValidationError) as foreign:
        proposal_decide(by=head, proposal=proposal, excluded_line_ids=[999_999], seen_version=1)
    assert foreign.value.message_dict == {"excluded": ["These lines are not in this proposal: 999999."]}
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.OPEN


def test_excluding_every_line_dismisses_the_proposal(manager: User, head: User) -> None:
    stale = company(manager, "Stale Ltd", contacted=60)
    proposal = review(rule(), now=NOW, dry_run=False).proposals[0]
    lines = list(proposal.lines.values_list("pk", flat=True))
    decided = proposal_decide(by=head, proposal=proposal, excluded_line_ids=lines, seen_version=1)
    assert decided.status == ProposalStatus.DISMISSED
    assert owner_of(stale) == manager.pk
    assert not ClientTransfer.objects.exists()


def test_who_decides_a_proposal(
    manager: User, teammate: User, head: User, head_b: User, agent: User, operator: User, admin_user: User
) -> None:
    company(manager, "Stale Ltd", contacted=60)
    proposal = review(rule(), now=NOW, dry_run=False).proposals[0]
    for refused in (manager, teammate, head_b, agent, operator):
        with pytest.raises(PermissionDenied):
            proposal_decide(by=refused, proposal=proposal, excluded_line_ids=[], seen_version=1)
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.OPEN
    proposal_decide(by=admin_user, proposal=proposal, excluded_line_ids=[], seen_version=1)
    assert Proposal.objects.get(pk=proposal.pk).decided_by == admin_user


def test_a_client_contacted_or_handed_over_since_the_review_stays_where_it_is(
    manager: User, teammate: User, head: User
) -> None:
    called = company(manager, "Called Since Ltd", contacted=60)
    handed = company(manager, "Handed Over Ltd", contacted=60)
    moved = company(manager, "Moved Ltd", contacted=60)
    proposal = review(rule(), now=NOW, dry_run=False).proposals[0]
    Company.objects.filter(pk=called.pk).update(last_contact_at=timezone.now())
    client_services.client_transfer(by=head, client=handed, to_user=teammate)

    proposal_decide(by=head, proposal=proposal, excluded_line_ids=[], seen_version=1)

    assert owner_of(called) == manager.pk
    assert owner_of(handed) == teammate.pk
    assert owner_of(moved) is None
    assert ProposalLine.objects.filter(proposal=proposal, transfer__isnull=False).count() == 1


def test_a_move_to_someone_no_longer_in_the_team_refuses_the_whole_approval(
    manager: User, teammate: User, third: User, head: User, team_b: Team
) -> None:
    first = company(manager, "First Ltd", contacted=90)
    second = company(manager, "Second Ltd", contacted=60)
    proposal = review(rule(action=RuleAction.ROUND_ROBIN), now=NOW, dry_run=False).proposals[0]
    User.objects.filter(pk=third.pk).update(team=team_b)

    with pytest.raises(ValidationError) as refused:
        proposal_decide(by=head, proposal=proposal, excluded_line_ids=[], seen_version=1)

    assert "Theo Third is not in the team of Mark Manager" in refused.value.messages[0]
    assert (owner_of(first), owner_of(second)) == (manager.pk, manager.pk)
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.OPEN
    assert not ClientTransfer.objects.exists()


def test_the_move_service_refuses_a_recipient_outside_the_team(manager: User, outsider: User) -> None:
    client = company(manager, "Acme", contacted=60)
    with pytest.raises(ValidationError) as refused:
        client_services.client_move_by_rule(
            by=None, client=client, to_user=outsider, reason="stale", rule="R", approved_by=None
        )
    assert refused.value.message_dict["to_user"] == [
        "Oscar Outsider is not in the team of Mark Manager: a rule reassigns clients within the team only."
    ]
    assert owner_of(client) == manager.pk


# ---- Automatic mode and failures --------------------------------------------------------------------


def test_automatic_mode_applies_at_once_and_tells_old_and_new_owners(
    manager: User, teammate: User, third: User
) -> None:
    stale = company(manager, "Stale Ltd", contacted=60)
    result = review(rule(action=RuleAction.ROUND_ROBIN, mode=RuleMode.AUTOMATIC), now=NOW, dry_run=False)

    assert result.moved == 1
    assert owner_of(stale) == teammate.pk
    proposal = Proposal.objects.get()
    assert (proposal.status, proposal.decided_by) == (ProposalStatus.APPLIED, None)
    transfer = ClientTransfer.objects.get(company=stale)
    assert (transfer.by, transfer.approved_by, transfer.kind) == (None, None, TransferKind.RULE)
    old = Notification.objects.get(recipient=manager)
    assert old.title == "“Stale Ltd” moved to Tina Teammate"
    assert old.body.endswith("Applied automatically.")
    new = Notification.objects.get(recipient=teammate)
    assert new.title == "“Stale Ltd” is now yours"
    assert new.body.startswith("From Mark Manager. By the rule “Stale to the pool”: No logged contact for 60 days")


def test_a_review_that_fails_half_way_changes_nothing(manager: User, monkeypatch: pytest.MonkeyPatch) -> None:
    first = company(manager, "First Ltd", contacted=90)
    second = company(manager, "Second Ltd", contacted=60)
    automatic = rule(mode=RuleMode.AUTOMATIC)
    real_move = client_services.client_move_by_rule
    calls = []

    def failing_after_the_first(**kwargs: Any) -> ClientTransfer:
        calls.append(kwargs["client"])
        if len(calls) > 1:
            raise RuntimeError("the database went away")
        return real_move(**kwargs)

    monkeypatch.setattr(client_services, "client_move_by_rule", failing_after_the_first)
    before = counts()
    with pytest.raises(RuntimeError):
        review(automatic, now=NOW, dry_run=False)

    assert len(calls) == 2  # the first client had moved before the failure
    assert counts() == before
    assert (owner_of(first), owner_of(second)) == (manager.pk, manager.pk)
    automatic.refresh_from_db()
    assert automatic.last_review_at is None


def test_many_moves_to_one_person_make_one_notification(manager: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reviews, "NOTIFIED_NAMES", 2)
    for days in (90, 80, 70):
        company(manager, f"Stale {days}", contacted=days)
    review(rule(mode=RuleMode.AUTOMATIC), now=NOW, dry_run=False)
    told = Notification.objects.get(recipient=manager)
    assert told.title == "3 clients moved away from you by “Stale to the pool”"
    assert told.body.splitlines() == [
        "Stale 90, to the shared pool: No logged contact for 90 days, no open deal",
        "Stale 80, to the shared pool: No logged contact for 80 days, no open deal",
        "and 1 more.",
        "Applied automatically.",
    ]


# ---- Open activities follow the client ----------------------------------------------------------------


def test_planned_activities_follow_the_client_to_its_new_owner(manager: User, teammate: User, head: User) -> None:
    client = company(manager, "Acme", contacted=60)
    mine = planned(client, manager, due=2)
    colleagues = planned(client, head, due=2)
    done = Activity.objects.create(kind="call", status=ActivityStatus.DONE, owner=manager, company=client, at=ago(70))
    person = contact(manager, "Contactperson", contacted=1)
    on_person = planned(person, manager, due=2, company=client)

    review(rule(action=RuleAction.ROUND_ROBIN, mode=RuleMode.AUTOMATIC), now=NOW, dry_run=False)

    owners = dict(Activity.objects.values_list("pk", "owner_id"))
    assert owners[mine.pk] == teammate.pk
    assert owners[colleagues.pk] == head.pk  # not the previous owner's
    assert owners[done.pk] == manager.pk  # history stays with who did it
    assert owners[on_person.pk] == manager.pk  # the contact's own: it did not move
    assert Activity.objects.get(pk=mine.pk).version == 2


def test_activities_follow_a_manual_hand_over_and_wait_in_the_pool_for_whoever_claims_the_client(
    manager: User, teammate: User, head: User
) -> None:
    client = company(manager, "Acme", contacted=60)
    call = planned(client, manager, due=2)
    colleagues = planned(client, head, due=2)
    client_services.client_transfer(by=head, client=client, to_user=teammate)
    assert Activity.objects.get(pk=call.pk).owner == teammate
    client_services.client_transfer(by=head, client=client, to_user=None)
    assert Activity.objects.get(pk=call.pk).owner == teammate

    pool_claim(by=manager, client=client)

    owners = dict(Activity.objects.values_list("pk", "owner_id"))
    assert owners == {call.pk: manager.pk, colleagues.pk: head.pk}


# ---- The periodic job ----------------------------------------------------------------------------------


def test_due_reviews_reviews_the_rules_whose_schedule_is_due(manager: User) -> None:
    company(manager, "Stale Ltd", contacted=60)
    never = rule(name="Never reviewed")
    weekly_due = rule(name="Weekly, due", last_review_at=NOW - timedelta(days=7))
    weekly_not = rule(name="Weekly, not due", last_review_at=NOW - timedelta(days=3))
    biweekly = rule(name="Biweekly", schedule=RuleSchedule.BIWEEKLY, last_review_at=NOW - timedelta(days=10))
    daily = rule(name="Daily", schedule=RuleSchedule.DAILY, last_review_at=NOW - timedelta(hours=23, minutes=30))
    rule(name="Not in use", is_active=False)

    done = due_reviews(NOW)

    assert {result.rule.pk for result in done} == {never.pk, weekly_due.pk, daily.pk}
    for untouched in (weekly_not, biweekly):
        untouched.refresh_from_db()
        assert untouched.last_review_at is not None
        assert untouched.last_review_at < NOW


def test_a_failing_rule_does_not_stop_the_others(manager: User, monkeypatch: pytest.MonkeyPatch) -> None:
    company(manager, "Stale Ltd", contacted=60)
    broken = rule(name="Broken")
    fine = rule(name="Fine", condition=RuleCondition.MISSED_CALLBACKS, days=None, missed_callbacks=1)
    real = reviews._reviewed

    def failing(rule: RedistributionRule, now: Any) -> reviews.Review:
        if rule.pk == broken.pk:
            raise RuntimeError("boom")
        return real(rule, now)

    monkeypatch.setattr(reviews, "_reviewed", failing)
    assert [result.rule.pk for result in due_reviews(NOW)] == [fine.pk]


# ---- Cost ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", [RuleAction.POOL, RuleAction.ROUND_ROBIN, RuleAction.LEAST_LOADED])
def test_a_review_costs_the_same_queries_for_3_clients_or_30(
    manager: User, teammate: User, third: User, action: str
) -> None:
    reviewed = rule(action=action)
    company(teammate, "Teammate's", contacted=1)

    def queries(clients: int) -> int:
        for number in range(clients):
            company(manager, f"Stale {number}", contacted=40 + number)
            contact(teammate, f"Person {number}", contacted=40 + number)
        with CaptureQueriesContext(connection) as captured:
            result = review(reviewed, now=NOW)
        assert len(result.lines) >= clients
        return len(captured)

    few = queries(3)
    assert queries(27) == few
    assert few <= 10

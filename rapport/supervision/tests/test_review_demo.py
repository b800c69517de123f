"""The demo's redistribution story: a stale client of the demo manager is proposed for the pool, the head approves,
a colleague claims it while the manager is told why it left — all of it in the client's transfer log."""

from __future__ import annotations

import pytest

from rapport.accounts.models import User
from rapport.clients import queries as client_queries
from rapport.clients import services as client_services
from rapport.clients.models import Company, TransferKind
from rapport.core import demo
from rapport.core.models import Notification
from rapport.supervision.models import Proposal, ProposalLine, ProposalStatus, RedistributionRule
from rapport.supervision.review import load_demo, proposal_decide

RULE = "Stale clients to the pool"


@pytest.fixture
def demo_data(db: None) -> None:
    demo.SCALES["T"] = demo.Scale(
        "T", teams=2, managers_per_team=3, companies=300, contacts=400, deals=200, activities=3000
    )
    try:
        context = demo.load("T", log=lambda line: None)
    finally:
        del demo.SCALES["T"]
    if not RedistributionRule.objects.filter(name=RULE).exists():  # until supervision's demo runs it
        load_demo(context)


def test_the_demo_manager_has_a_stale_client_proposed_for_the_pool(demo_data: None) -> None:
    manager = User.objects.get(username="manager")
    assert manager.team_id is not None
    rule = RedistributionRule.objects.get(name=RULE)
    assert (rule.team_id, rule.days, rule.action, rule.mode) == (manager.team_id, 30, "pool", "approval")
    proposal = Proposal.objects.get(rule=rule)
    assert proposal.status == ProposalStatus.OPEN
    lines = ProposalLine.objects.filter(proposal=proposal)
    assert lines.filter(from_user=manager, to_user=None).exists()
    assert not lines.exclude(from_user__team_id=manager.team_id).exists()
    assert Notification.objects.filter(recipient__username="head", url__contains=f"/proposals/{proposal.pk}/").exists()


def test_the_head_approves_a_colleague_claims_and_the_log_tells_it_all(demo_data: None) -> None:
    manager, head = User.objects.get(username="manager"), User.objects.get(username="head")
    assert manager.team_id is not None
    proposal = Proposal.objects.get(rule__name=RULE)
    line = ProposalLine.objects.filter(proposal=proposal, from_user=manager, company__isnull=False).first()
    assert line is not None
    assert line.company_id is not None
    others = ProposalLine.objects.filter(proposal=proposal).exclude(pk=line.pk).values_list("pk", flat=True)

    proposal_decide(by=head, proposal=proposal, excluded_line_ids=list(others), seen_version=proposal.version)

    client = Company.objects.get(pk=line.company_id)
    assert client.owner is None
    told = Notification.objects.get(recipient=manager, title=f"“{client.name}” moved to the shared pool")
    assert told.body.startswith(f"By the rule “{RULE}”: No logged contact for ")
    assert told.body.endswith(f"Approved by {head.display_name}.")

    colleague = User.objects.filter(team_id=manager.team_id, role="manager").exclude(pk=manager.pk).first()
    assert colleague is not None
    client_services.client_take_from_pool(by=colleague, client=client)

    log = client_queries.transfers_of(client)
    assert [(entry.from_user, entry.to_user) for entry in log] == [(None, colleague), (manager, None)]
    moved_by_rule = log[1]
    assert (moved_by_rule.kind, moved_by_rule.rule, moved_by_rule.approved_by) == (TransferKind.RULE, RULE, head)
    assert moved_by_rule.reason.startswith(f"Rule “{RULE}”: No logged contact for ")
    assert log[0].kind == TransferKind.POOL_CLAIM

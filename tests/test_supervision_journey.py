"""Issue #7's story, through the screens: a stale client of manager A is proposed for the pool, the head approves,
manager B claims it while A is told why it left — and all of it is in the client's transfer log."""

from __future__ import annotations

import re

from django.urls import reverse

from conftest import client_for
from rapport.accounts.models import Team, User
from rapport.core.models import Notification
from rapport.supervision.models import Proposal, ProposalStatus
from rapport.supervision.review import review
from rapport.supervision.tests.rules_world import company, rule


def test_a_stale_client_goes_to_the_pool_on_approval_and_a_colleague_claims_it(
    head: User, manager: User, teammate: User, team_a: Team
) -> None:
    forgotten = company(manager, "Forgotten Ltd", contacted=45)
    company(manager, "Busy Ltd", contacted=2)
    stale_rule = rule(team=team_a)
    review(stale_rule, dry_run=False)
    proposal = Proposal.objects.get(rule=stale_rule)

    # The head sees the proposal: the stale client, from A to the pool, and why.
    as_head = client_for(head)
    page = as_head.get(reverse("supervision:proposal", args=[proposal.pk])).content.decode()
    assert "Forgotten Ltd" in page
    assert "Busy Ltd" not in page
    approved = as_head.post(
        reverse("supervision:proposal-decide", args=[proposal.pk]), {"version": str(proposal.version)}
    )
    assert approved.status_code in {200, 302}
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED
    forgotten.refresh_from_db()
    assert forgotten.owner is None

    # A is told why it left.
    told = Notification.objects.filter(recipient=manager).order_by("-pk").first()
    assert told is not None
    assert "Forgotten Ltd" in f"{told.title} {told.body}"

    # B finds it in the pool and claims it.
    as_teammate = client_for(teammate)
    assert "Forgotten Ltd" in as_teammate.get(reverse("supervision:pool")).content.decode()
    claimed = as_teammate.post(reverse("supervision:pool-claim"), {"claim": f"company-{forgotten.pk}"})
    assert claimed.status_code in {200, 302}
    forgotten.refresh_from_db()
    assert forgotten.owner == teammate

    # The transfer log tells the whole story: the rule's move approved by the head, then B's claim.
    log = as_teammate.get(reverse("clients:client-transfers", args=["company", forgotten.pk])).content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", log.split("<tbody>", 1)[1], re.S)
    assert len(rows) == 2
    assert "Taken from the pool" in rows[0]
    assert "Tina Teammate" in rows[0]
    assert "Moved by a rule" in rows[1]
    assert "approved by Hanna Head" in rows[1]
    assert "Mark Manager" in rows[1]

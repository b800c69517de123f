"""The demo shows the bonus story: last month's statements, a deal registered by one manager and won by another
paying both their shares, and a deal without contact history paying nothing, with the reason on its line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import load_tiny_demo
from rapport.motivation.models import BonusRuleKind, LineKind, StatementLine, StatementStatus
from rapport.motivation.periods import month_of


@pytest.fixture
def demo_data(db: None) -> None:
    load_tiny_demo(deals=1500, activities=800)


def test_last_months_drafts_pay_the_registrant_and_the_closer_of_a_handed_over_deal(demo_data: None) -> None:
    last_month = month_of(month_of(timezone.localdate()).start - timedelta(days=1))
    lines = list(
        StatementLine.objects.filter(statement__period_start=last_month.start).select_related(
            "statement", "deal", "rule"
        )
    )
    assert lines
    assert {line.statement.status for line in lines} == {StatementStatus.DRAFT}
    paid = {(line.statement.person_id, line.deal_id, line.rule.kind) for line in lines if line.kind == LineKind.CREDIT}
    handed_over = [
        line.deal
        for line in lines
        if line.deal is not None
        and line.deal.registrant_id != line.deal.closer_id
        and (line.deal.closer_id, line.deal_id, BonusRuleKind.CLOSER_SHARE) in paid
    ]
    assert handed_over, "no deal registered by one manager and won by another paid its closer last month"
    deal = handed_over[0]
    assert (deal.registrant_id, deal.pk, BonusRuleKind.REGISTRANT_SHARE) in paid

    refused = [line for line in lines if line.reason_code == "no_contact_history"]
    assert refused, "no deal won last month without contact history (the demo's sizes decide)"
    assert refused[0].kind == LineKind.REFUSED
    assert refused[0].amount == 0
    assert "No bonus: 0 of the 1 calls, meetings or e-mails with the client needed before the win." in refused[0].reason

"""The demo's deals obey the rules the services enforce: gates, closing, owners and registrants."""

from __future__ import annotations

import pytest
from django.db.models import Count, F

from conftest import load_tiny_demo
from rapport.clients.models import ClientTransfer, Company
from rapport.sales.gates import gate_missing
from rapport.sales.models import Deal, DealStageChange, StageKind


@pytest.fixture
def demo_data(db: None) -> None:
    load_tiny_demo(companies=400, contacts=600, deals=400, activities=0)


def test_demo_deals_pass_the_gates_of_their_stages(demo_data: None) -> None:
    deals = Deal.objects.select_related("stage", "pipeline", "company", "contact")
    assert deals.count() == 400
    assert set(deals.values_list("stage__kind", flat=True)) == set(StageKind.values)
    for deal in deals.exclude(stage__kind=StageKind.LOST):
        assert gate_missing(deal, deal.stage) == [], (deal.pk, deal.stage.name)


def test_demo_deals_are_closed_exactly_when_won_or_lost(demo_data: None) -> None:
    assert not Deal.objects.filter(stage__kind=StageKind.OPEN, closed_at__isnull=False).exists()
    assert not Deal.objects.exclude(stage__kind=StageKind.OPEN).filter(closed_at__isnull=True).exists()
    assert not Deal.objects.filter(stage__kind=StageKind.LOST, lost_reason__isnull=True).exists()


def test_each_demo_deal_has_its_moves_ending_in_its_stage(demo_data: None) -> None:
    assert not Deal.objects.annotate(moves=Count("stage_changes")).filter(moves=0).exists()
    for deal in Deal.objects.all()[:50]:
        latest = DealStageChange.objects.filter(deal=deal).order_by("-at", "-id").first()
        assert latest is not None
        assert latest.to_stage_id == deal.stage_id
    # Owners sell; some deals were registered by a teammate and handed over.
    assert Deal.objects.exclude(registrant=F("owner")).exists()
    assert not Deal.objects.exclude(registrant__team=F("owner__team")).exists()


def test_some_demo_companies_have_a_long_history(demo_data: None) -> None:
    long_lived = Company.objects.annotate(moves=Count("transfers")).filter(moves__gte=50)
    assert long_lived.exists()
    for company in long_lived[:3]:
        latest = ClientTransfer.objects.filter(company=company).first()
        assert latest is not None
        assert latest.to_user_id == company.owner_id

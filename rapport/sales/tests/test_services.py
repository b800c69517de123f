"""The deal services: registration, gates, stage moves, closing, registrant, lines, stale versions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import merge
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.sales import services
from rapport.sales.models import Deal, DealStageChange, Pipeline, StageKind
from rapport.sales.tests.factories import lost_reason, product_with_price, sales_pipeline, stage


def test_a_deal_needs_only_a_client_and_a_title(manager: User, acme: Company, pipeline: Pipeline) -> None:
    deal = services.deal_create(by=manager, title="  Chairs  ", company=acme)
    assert (deal.title, deal.owner, deal.registrant) == ("Chairs", manager, manager)
    assert deal.stage == stage(pipeline, "Qualification")
    assert deal.closed_at is None
    # Every checkpoint type of the pipeline is on the deal's track, due after its offset.
    assert [(c.type.name, (c.due_date - deal.created_at.date()).days) for c in deal.checkpoints.all()] == [
        ("Presentation", 7),
        ("Commercial proposal", 14),
        ("Contract", 30),
    ]
    first = DealStageChange.objects.get(deal=deal)
    assert (first.from_stage, first.to_stage.name) == (None, "Qualification")


def test_a_deal_without_a_client_is_refused(manager: User, pipeline: Pipeline) -> None:
    with pytest.raises(ValidationError) as error:
        services.deal_create(by=manager, title="Chairs")
    assert "company" in error.value.message_dict
    assert not Deal.objects.exists()


def test_a_client_out_of_sight_is_refused(manager: User, outsider: User, pipeline: Pipeline) -> None:
    far = client_services.company_create(by=outsider, name="Far Away Ltd")
    with pytest.raises(ValidationError, match="you can see"):
        services.deal_create(by=manager, title="Chairs", company=far)


def test_analysts_and_operators_do_not_register_deals(
    personas: dict[str, User], acme: Company, pipeline: Pipeline
) -> None:
    with pytest.raises(PermissionDenied):
        services.deal_create(by=personas["operator"], title="Chairs", company=acme)


def test_the_gate_lists_everything_missing_and_the_deal_stays(manager: User, deal: Deal, pipeline: Pipeline) -> None:
    with pytest.raises(ValidationError) as error:
        services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Proposal"))
    assert error.value.messages == [
        "To move to “Proposal” the deal needs: amount, the “Commercial proposal” checkpoint done."
    ]
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"
    assert deal.stage_changes.count() == 1


def test_skipping_a_stage_does_not_skip_its_gate(manager: User, deal: Deal, pipeline: Pipeline) -> None:
    deal = services.deal_update(by=manager, deal=deal, version=deal.version, amount=Decimal(500))
    with pytest.raises(ValidationError, match="Commercial proposal"):
        services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Negotiation"))


def test_a_deal_moves_once_its_gate_is_met_and_each_move_is_a_row(
    manager: User, deal: Deal, pipeline: Pipeline, ivanov: Contact
) -> None:
    deal = services.deal_update(by=manager, deal=deal, version=deal.version, amount=Decimal(500), contact=ivanov)
    proposal = deal.checkpoints.get(type__name="Commercial proposal")
    services.deal_checkpoint_set(by=manager, checkpoint=proposal, done=True)
    deal = services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Negotiation"))
    assert deal.stage.name == "Negotiation"
    change = deal.stage_changes.first()
    assert change is not None
    assert change.from_stage is not None
    assert (change.from_stage.name, change.to_stage.name, change.by) == ("Qualification", "Negotiation", manager)
    # Undoing a checkpoint the stage requires would leave the deal where its gate forbids.
    with pytest.raises(ValidationError, match="requires this checkpoint"):
        services.deal_checkpoint_set(by=manager, checkpoint=proposal, done=False)


def test_won_closes_the_deal_and_reopening_clears_it(
    manager: User, deal: Deal, pipeline: Pipeline, ivanov: Contact
) -> None:
    deal.checkpoints.update(done_at="2026-01-01T00:00Z")
    deal = services.deal_update(by=manager, deal=deal, version=deal.version, amount=Decimal(100), contact=ivanov)
    deal = services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Won"))
    assert deal.closed_at is not None
    assert deal.stage.kind == StageKind.WON
    assert deal.closer == manager  # the owner when it was won: the closer's share is theirs
    deal = services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Presentation"))
    assert deal.closed_at is None
    assert deal.closer is None


def test_lost_needs_a_reason(manager: User, deal: Deal, pipeline: Pipeline) -> None:
    with pytest.raises(ValidationError) as error:
        services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Lost"))
    assert error.value.message_dict == {"lost_reason": ["Choose why the deal was lost."]}
    reason = lost_reason()
    deal = services.deal_move_to_stage(
        by=manager, deal=deal, stage=stage(pipeline, "Lost"), lost_reason=reason, lost_note="Went elsewhere"
    )
    assert (deal.lost_reason, deal.lost_note, deal.closed_at is not None) == (reason, "Went elsewhere", True)


def test_a_stage_of_another_pipeline_is_refused(manager: User, deal: Deal) -> None:
    other = sales_pipeline("Distribution")
    with pytest.raises(ValidationError, match="another pipeline"):
        services.deal_move_to_stage(by=manager, deal=deal, stage=stage(other, "Presentation"))


def test_a_stale_version_is_refused_naming_who_changed_it(manager: User, head: User, deal: Deal) -> None:
    services.deal_update(by=head, deal=deal, version=deal.version, title="Chairs and desks")
    with pytest.raises(ValidationError) as error:
        services.deal_update(by=manager, deal=deal, version=deal.version, title="Only chairs")
    assert "Changed by Hanna Head" in error.value.messages[0]
    deal.refresh_from_db()
    assert deal.title == "Chairs and desks"


def test_who_may_edit_a_deal(personas: dict[str, User], deal: Deal) -> None:
    for persona in ["teammate", "outsider", "operator", "agent"]:
        with pytest.raises(PermissionDenied):
            services.deal_update(by=personas[persona], deal=deal, version=None, title="Mine now")
    services.deal_update(by=personas["head"], deal=deal, version=None, title="Head's edit")
    services.deal_update(by=personas["admin"], deal=deal, version=None, title="Admin's edit")


def test_the_registrant_stays_when_the_owner_changes_and_only_an_admin_corrects_it(
    manager: User, teammate: User, head: User, admin_user: User, deal: Deal
) -> None:
    deal = services.deal_update(by=head, deal=deal, version=None, owner=teammate)
    assert (deal.owner, deal.registrant) == (teammate, manager)
    with pytest.raises(PermissionDenied):
        services.deal_set_registrant(by=head, deal=deal, registrant=teammate)
    deal = services.deal_set_registrant(by=admin_user, deal=deal, registrant=teammate)
    assert deal.registrant == teammate
    record = deal.history.first()
    assert record is not None
    assert (record.history_user, record.prev_record.registrant) == (admin_user, manager)


def test_a_manager_gives_deals_to_nobody_else(manager: User, teammate: User, deal: Deal) -> None:
    with pytest.raises(ValidationError, match="your own team"):
        services.deal_update(by=manager, deal=deal, version=None, owner=teammate)


def test_lines_set_the_amount_at_the_price_list_price(manager: User, deal: Deal) -> None:
    chair = product_with_price(price="100.00")
    line = services.deal_line_add(by=manager, deal=deal, product=chair, quantity=Decimal(3), discount=Decimal(10))
    deal.refresh_from_db()
    assert (line.price, deal.amount) == (Decimal("100.00"), Decimal("270.00"))
    services.deal_line_update(by=manager, line=line, quantity=Decimal(5))
    deal.refresh_from_db()
    assert deal.amount == Decimal("450.00")
    with pytest.raises(ValidationError, match="follows the products"):
        services.deal_update(by=manager, deal=deal, version=None, amount=Decimal(1))


@pytest.mark.parametrize(
    ("quantity", "currency", "message"),
    [
        (Decimal(-1), None, "more than zero"),
        (Decimal(0), None, "more than zero"),
        (Decimal(1), "EUR", "are in USD, not EUR"),
    ],
)
def test_bad_lines_write_nothing(manager: User, deal: Deal, quantity: Decimal, currency: str, message: str) -> None:
    chair = product_with_price()
    with pytest.raises(ValidationError, match=message):
        services.deal_line_add(
            by=manager, deal=deal, product=chair, quantity=quantity, price=Decimal(5), currency=currency
        )
    deal.refresh_from_db()
    assert (deal.lines.count(), deal.amount, deal.version) == (0, None, 1)


def test_a_price_list_in_another_currency_is_refused(manager: User, acme: Company, pipeline: Pipeline) -> None:
    chair = product_with_price(currency="USD")
    deal = services.deal_create(by=manager, title="In euros", company=acme, currency="EUR")
    with pytest.raises(ValidationError, match="no price list is in EUR"):
        services.deal_line_add(by=manager, deal=deal, product=chair, quantity=Decimal(1))


def test_deals_show_on_the_client_timeline_and_follow_a_merge(
    manager: User, operator: User, acme: Company, deal: Deal, pipeline: Pipeline, as_manager: Client
) -> None:
    services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Presentation"))
    page = as_manager.get(acme.get_absolute_url()).content.decode()
    assert "Deal registered: Chairs for the office" in page
    assert "Chairs for the office moved to “Presentation”" in page
    twin = client_services.company_create(by=manager, name="Acme Trading Twin")
    merge.client_merge(by=operator, survivor=twin, merged=acme)
    deal.refresh_from_db()
    assert deal.company == twin
    assert "Chairs for the office" in client_for(manager).get(twin.get_absolute_url()).content.decode()


def test_a_negative_amount_is_refused_next_to_the_field(manager: User, acme: Company, deal: Deal) -> None:
    with pytest.raises(ValidationError) as error:
        services.deal_create(by=manager, title="Refund", company=acme, amount=Decimal(-5))
    assert error.value.message_dict == {"amount": ["The amount cannot be negative."]}
    with pytest.raises(ValidationError) as error:
        services.deal_update(by=manager, deal=deal, version=None, amount=Decimal(-5))
    assert error.value.message_dict == {"amount": ["The amount cannot be negative."]}

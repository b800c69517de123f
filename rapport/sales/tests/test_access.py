"""Who sees which deals: the access policy's scopes, with the registrant kept in sight of their deal."""

from __future__ import annotations

import pytest

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.sales import services
from rapport.sales.models import Deal, Pipeline


@pytest.fixture
def deals(personas: dict[str, User], pipeline: Pipeline) -> dict[str, Deal]:
    made = {}
    for persona in ["manager", "teammate", "outsider", "agent"]:
        user = personas[persona]
        company = client_services.company_create(by=user, name=f"{persona.title()} Client Ltd")
        made[persona] = services.deal_create(by=user, title=f"{persona.title()}'s deal", company=company)
    return made


EXPECTED = {
    "manager": {"manager"},
    "teammate": {"teammate"},
    "head": {"manager", "teammate", "agent"},
    "outsider": {"outsider"},
    "agent": {"agent"},
    "operator": {"manager", "teammate", "outsider", "agent"},
    "admin": {"manager", "teammate", "outsider", "agent"},
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_each_role_sees_its_scope(personas: dict[str, User], deals: dict[str, Deal], persona: str) -> None:
    seen = set(access.deals_visible_to(personas[persona]).values_list("title", flat=True))
    assert seen == {deals[key].title for key in EXPECTED[persona]}


def test_the_registrant_keeps_seeing_a_deal_handed_to_a_colleague(
    personas: dict[str, User], deals: dict[str, Deal]
) -> None:
    manager, teammate, head = personas["manager"], personas["teammate"], personas["head"]
    services.deal_update(by=head, deal=deals["manager"], version=None, owner=teammate)
    assert deals["manager"].pk in set(access.deals_visible_to(manager).values_list("pk", flat=True))
    assert access.can_edit_deal(manager, access.deal_for_user(manager, deals["manager"].pk)) is False
    assert access.can_edit_deal(teammate, access.deal_for_user(teammate, deals["manager"].pk)) is True


def test_deleted_and_inactive(personas: dict[str, User], deals: dict[str, Deal]) -> None:
    manager = personas["manager"]
    services.deal_delete(by=manager, deal=deals["manager"])
    assert not access.deals_visible_to(manager).exists()
    manager.is_active = False
    assert not access.deals_visible_to(manager).exists()


def test_the_client_timeline_shows_only_deals_the_viewer_may_open(
    personas: dict[str, User], pipeline: Pipeline
) -> None:
    from conftest import client_for

    manager, outsider, admin = personas["manager"], personas["outsider"], personas["admin"]
    shared = client_services.company_create(by=manager, name="Shared Client Ltd")
    services.deal_create(by=manager, title="Chairs for the manager", company=shared)
    services.deal_create(by=admin, title="Desks for the outsider", company=shared, owner=outsider)
    page = client_for(manager).get(shared.get_absolute_url()).content.decode()
    assert "Chairs for the manager" in page
    assert "Desks for the outsider" not in page
    assert "Desks for the outsider" in client_for(admin).get(shared.get_absolute_url()).content.decode()

from __future__ import annotations

import pytest
from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import ClientStatus, ClientTransfer, Company


@pytest.fixture
def acme(manager: User) -> Company:
    return services.company_create(by=manager, name="Acme")


def test_head_transfers_within_the_team(acme: Company, head: User, teammate: User) -> None:
    client = client_for(head)
    assert 'id="client-transfer"' in client.get(acme.get_absolute_url()).content.decode()
    response = client.post(f"/clients/company/{acme.pk}/transfer/", {"to_user": teammate.pk, "reason": "Holiday"})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.owner == teammate
    assert ClientTransfer.objects.get(company=acme).reason == "Holiday"


def test_head_cannot_hand_a_client_outside_the_team(acme: Company, head: User, outsider: User, manager: User) -> None:
    client_for(head).post(f"/clients/company/{acme.pk}/transfer/", {"to_user": outsider.pk})
    acme.refresh_from_db()
    assert acme.owner == manager


def test_manager_cannot_transfer(acme: Company, as_manager: Client, teammate: User) -> None:
    assert 'id="client-transfer"' not in as_manager.get(acme.get_absolute_url()).content.decode()
    assert as_manager.post(f"/clients/company/{acme.pk}/transfer/", {"to_user": teammate.pk}).status_code == 403
    acme.refresh_from_db()
    assert acme.owner is not None
    assert acme.owner.username == "manager"


def test_outsider_gets_404_for_actions(acme: Company, outsider: User) -> None:
    client = client_for(outsider)
    assert client.post(f"/clients/company/{acme.pk}/transfer/", {}).status_code == 404
    assert client.post(f"/clients/company/{acme.pk}/take/").status_code == 404
    assert client.post(f"/clients/dragon/{acme.pk}/take/").status_code == 404


def test_to_the_pool_and_taken_back_by_another_manager(acme: Company, head: User, outsider: User) -> None:
    response = client_for(head).post(f"/clients/company/{acme.pk}/transfer/", {"to_user": "", "reason": "Stale"})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.status == ClientStatus.POOL
    other = client_for(outsider)
    assert 'id="take-from-pool"' in other.get(acme.get_absolute_url()).content.decode()
    other.post(f"/clients/company/{acme.pk}/take/")
    acme.refresh_from_db()
    assert (acme.owner, acme.status) == (outsider, ClientStatus.ACTIVE)
    # It left the pool, and the first team's head no longer sees it at all.
    assert client_for(head).post(f"/clients/company/{acme.pk}/take/").status_code == 404


def test_a_client_taken_by_a_teammate_leaves_the_managers_scope(
    acme: Company, head: User, manager: User, teammate: User
) -> None:
    client_for(head).post(f"/clients/company/{acme.pk}/transfer/", {"to_user": ""})
    client_for(teammate).post(f"/clients/company/{acme.pk}/take/")
    # The teammate took it; the manager's page, opened before, still offers the button.
    response = client_for(manager).post(f"/clients/company/{acme.pk}/take/", follow=True)
    assert response.status_code == 404  # now the teammate's client, outside the manager's scope

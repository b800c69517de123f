"""Who sees and edits which clients: every persona against every kind of client."""

from __future__ import annotations

import pytest

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import ClientStatus, Company
from rapport.clients.tests.factories import CompanyFactory, ContactFactory


@pytest.fixture
def clients(personas: dict[str, User]) -> dict[str, Company]:
    return {
        "manager's": CompanyFactory.create(name="Manager Ltd", owner=personas["manager"]),
        "teammate's": CompanyFactory.create(name="Teammate Ltd", owner=personas["teammate"]),
        "outsider's": CompanyFactory.create(name="Outsider Ltd", owner=personas["outsider"]),
        "agent's": CompanyFactory.create(name="Agent Ltd", owner=personas["agent"]),
        "pool": CompanyFactory.create(name="Pool Ltd", owner=None, status=ClientStatus.POOL),
    }


# Which clients each persona sees (the default scopes of accounts.access).
VISIBLE = {
    "manager": {"manager's", "pool"},
    "teammate": {"teammate's", "pool"},
    "head": {"manager's", "teammate's", "agent's", "pool"},
    "outsider": {"outsider's", "pool"},
    "agent": {"agent's"},
    "operator": {"manager's", "teammate's", "outsider's", "agent's", "pool"},
    "admin": {"manager's", "teammate's", "outsider's", "agent's", "pool"},
}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_visibility(personas: dict[str, User], clients: dict[str, Company], persona: str) -> None:
    user = personas[persona]
    seen = set(access.companies_visible_to(user).values_list("name", flat=True))
    assert seen == {clients[key].name for key in VISIBLE[persona]}


def test_deleted_clients_are_seen_by_nobody(personas: dict[str, User], clients: dict[str, Company]) -> None:
    from django.utils import timezone

    Company.objects.filter(pk=clients["manager's"].pk).update(deleted_at=timezone.now())
    for user in personas.values():
        assert "Manager Ltd" not in set(access.companies_visible_to(user).values_list("name", flat=True))


def test_contacts_follow_the_same_policy(personas: dict[str, User]) -> None:
    ContactFactory.create(last_name="Mine", owner=personas["manager"])
    ContactFactory.create(last_name="Theirs", owner=personas["outsider"])
    assert set(access.contacts_visible_to(personas["manager"]).values_list("last_name", flat=True)) == {"Mine"}
    assert set(access.contacts_visible_to(personas["head"]).values_list("last_name", flat=True)) == {"Mine"}


def test_out_of_scope_client_answers_404(personas: dict[str, User], clients: dict[str, Company]) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        access.company_for_user(personas["manager"], clients["outsider's"].pk)
    assert access.company_for_user(personas["manager"], clients["manager's"].pk) == clients["manager's"]


def test_scopes_are_configurable_per_role(
    personas: dict[str, User], clients: dict[str, Company], settings: object
) -> None:
    settings.RAPPORT_CLIENT_SCOPES = {"manager": "team"}  # type: ignore[attr-defined]
    seen = set(access.companies_visible_to(personas["manager"]).values_list("name", flat=True))
    assert seen == {"Manager Ltd", "Teammate Ltd", "Agent Ltd", "Pool Ltd"}


EDITS = {
    "manager": {"manager's"},
    "teammate": {"teammate's"},
    "head": {"manager's", "teammate's", "agent's"},
    "outsider": {"outsider's"},
    "agent": {"agent's"},
    "operator": {"manager's", "teammate's", "outsider's", "agent's", "pool"},
    "admin": {"manager's", "teammate's", "outsider's", "agent's", "pool"},
}


@pytest.mark.parametrize("persona", sorted(EDITS))
def test_edit_rights(personas: dict[str, User], clients: dict[str, Company], persona: str) -> None:
    user = personas[persona]
    editable = {key for key, client in clients.items() if access.can_edit_client(user, client)}
    assert editable == EDITS[persona]


def test_personal_data_can_be_reserved_for_operators(
    personas: dict[str, User], clients: dict[str, Company], settings: object
) -> None:
    client = clients["manager's"]
    assert access.can_edit_personal_data(personas["manager"], client)
    settings.RAPPORT_PERSONAL_DATA_EDITORS = "operators"  # type: ignore[attr-defined]
    assert not access.can_edit_personal_data(personas["manager"], client)
    assert access.can_edit_personal_data(personas["operator"], client)
    assert access.can_edit_personal_data(personas["admin"], client)


def test_a_mistyped_scope_never_widens_access(
    personas: dict[str, User], clients: dict[str, Company], settings: object
) -> None:
    settings.RAPPORT_CLIENT_SCOPES = {"manager": "everything"}  # type: ignore[attr-defined]
    seen = set(access.companies_visible_to(personas["manager"]).values_list("name", flat=True))
    assert seen == {"Manager Ltd", "Pool Ltd"}

"""Bulk actions from the lists: a new owner, a tag, active or frozen — each record within its own rights."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import bulk_actions, services
from rapport.clients.models import ClientStatus, ClientTransfer, Company, Contact
from rapport.clients.tests.factories import CompanyFactory


def said(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The messages this request left (each test client keeps its own, shown on the next page)."""
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    response.client.cookies.pop("messages", None)  # shown, as the next page would
    return messages


def tags_of(client: Company | Contact) -> set[str]:
    return set(client.tags.values_list("name", flat=True))


@pytest.fixture
def book(personas: dict[str, User]) -> dict[str, Company]:
    return {
        "mine": services.company_create(by=personas["manager"], name="Mine"),
        "mine too": services.company_create(by=personas["manager"], name="Mine too"),
        "teammate's": services.company_create(by=personas["teammate"], name="Teammate's"),
        "outsider's": services.company_create(by=personas["outsider"], name="Outsider's"),
        "pool": CompanyFactory.create(name="Pooled", owner=None, status=ClientStatus.POOL),
    }


def post(client: Client, action: str, clients: list[Company] | list[Contact], kind: str = "companies", **data: object):  # type: ignore[no-untyped-def]
    return client.post(f"/clients/{kind}/bulk/", {"action": action, "ids": [c.pk for c in clients], **data})


def test_manager_tags_their_own_and_is_told_what_was_skipped(
    personas: dict[str, User], book: dict[str, Company], as_manager: Client
) -> None:
    response = post(as_manager, "tag", [book["mine"], book["mine too"], book["pool"]], tag="Autumn fair")
    assert response.status_code == 302
    assert said(response) == ["2 changed, 1 skipped (not yours to change)."]
    assert tags_of(book["mine"]) == tags_of(book["mine too"]) == {"Autumn fair"}
    assert tags_of(book["pool"]) == set()
    # The page it comes back to shows the result.
    page = as_manager.get(response["Location"], {"cols": "tags"}).content.decode()
    assert page.count('me-1">Autumn fair<') == 2


def test_ids_out_of_scope_are_simply_not_found(
    personas: dict[str, User], book: dict[str, Company], as_manager: Client
) -> None:
    response = post(as_manager, "frozen", [book["mine"], book["teammate's"], book["outsider's"]])
    assert response.status_code == 302
    assert said(response) == ["1 changed, 0 skipped (not yours to change), 2 not found (no longer in your list)."]
    book["teammate's"].refresh_from_db()
    book["outsider's"].refresh_from_db()
    assert book["teammate's"].status == book["outsider's"].status == ClientStatus.ACTIVE
    # Deleted, never existing, or not even numbers: no 500, just not found.
    services.client_delete(by=personas["manager"], client=book["mine too"])
    response = as_manager.post(
        "/clients/companies/bulk/", {"action": "tag", "tag": "x", "ids": [book["mine too"].pk, 999999, "abc", ""]}
    )
    assert response.status_code == 302
    assert said(response) == ["0 changed, 0 skipped (not yours to change), 2 not found (no longer in your list)."]


def test_status_changes_and_what_is_already_so(book: dict[str, Company], as_manager: Client) -> None:
    services.client_update(
        by=book["mine"].owner, client=book["mine"], version=book["mine"].version, status=ClientStatus.FROZEN
    )
    response = post(as_manager, "frozen", [book["mine"], book["mine too"]])
    assert said(response) == ["1 changed, 0 skipped (not yours to change), 1 already so."]
    response = post(as_manager, "active", [book["mine"], book["mine too"]])
    assert said(response) == ["2 changed, 0 skipped (not yours to change)."]
    assert set(Company.objects.filter(name__startswith="Mine").values_list("status", flat=True)) == {"active"}
    # History shows who froze it.
    latest = Company.objects.get(name="Mine").history.first()
    assert latest is not None
    assert latest.history_user == book["mine"].owner


def test_pool_clients_are_not_restatused(personas: dict[str, User], book: dict[str, Company]) -> None:
    operator = client_for(personas["operator"])
    response = post(operator, "frozen", [book["pool"], book["outsider's"]])
    assert said(response)[0].startswith("1 changed, 1 skipped (not yours to change).")
    assert "shared pool" in said(response)[0]
    book["pool"].refresh_from_db()
    assert book["pool"].status == ClientStatus.POOL


def test_head_assigns_owners_within_the_team(personas: dict[str, User], book: dict[str, Company]) -> None:
    head, teammate = personas["head"], personas["teammate"]
    as_head = client_for(head)
    page = as_head.get("/clients/companies/").content.decode()
    assert 'id="bulk-owner"' in page
    assert f'<option value="{teammate.pk}">Tina Teammate</option>' in page
    assert f'<option value="{personas["outsider"].pk}">' not in page
    response = post(as_head, "owner", [book["mine"], book["mine too"], book["pool"]], to_user=teammate.pk)
    assert said(response) == ["2 changed, 1 skipped (not yours to change)."]
    assert set(Company.objects.filter(name__startswith="Mine").values_list("owner", flat=True)) == {teammate.pk}
    transfers = ClientTransfer.objects.filter(to_user=teammate, by=head)
    assert transfers.count() == 2
    # Giving them to someone outside the team is not a choice.
    response = post(as_head, "owner", [book["mine"]], to_user=personas["outsider"].pk)
    assert "Select a valid choice" in said(response)[0]
    book["mine"].refresh_from_db()
    assert book["mine"].owner == teammate


def test_head_sends_clients_to_the_pool(personas: dict[str, User], book: dict[str, Company]) -> None:
    response = post(client_for(personas["head"]), "owner", [book["teammate's"]], to_user="")
    assert said(response) == ["1 changed, 0 skipped (not yours to change)."]
    book["teammate's"].refresh_from_db()
    assert (book["teammate's"].owner, book["teammate's"].status) == (None, ClientStatus.POOL)


def test_admin_assigns_anyone(personas: dict[str, User], book: dict[str, Company], as_admin: Client) -> None:
    response = post(as_admin, "owner", [book["outsider's"], book["mine"]], to_user=personas["outsider"].pk)
    assert said(response) == ["1 changed, 0 skipped (not yours to change), 1 already so."]
    book["mine"].refresh_from_db()
    assert book["mine"].owner == personas["outsider"]


@pytest.mark.parametrize("persona", ["manager", "agent", "operator"])
def test_who_may_not_assign_owners(personas: dict[str, User], book: dict[str, Company], persona: str) -> None:
    client = client_for(personas[persona])
    page = client.get("/clients/companies/").content.decode()
    assert 'id="bulk-owner"' not in page
    assert 'id="bulk-tag"' in page
    response = post(client, "owner", [book["mine"]], to_user=personas["teammate"].pk)
    assert response.status_code == 403
    book["mine"].refresh_from_db()
    assert book["mine"].owner == personas["manager"]


def test_read_only_roles_get_no_bulk_actions(book: dict[str, Company]) -> None:
    analyst = client_for(UserFactory.create(role=Role.ANALYST))
    page = analyst.get("/clients/companies/").content.decode()
    assert "data-bulk-row" not in page
    assert 'id="bulk-bar"' not in page
    assert post(analyst, "tag", [book["mine"]], tag="x").status_code == 403
    assert tags_of(book["mine"]) == set()


def test_bad_input_is_explained(book: dict[str, Company], as_manager: Client) -> None:
    response = post(as_manager, "tag", [book["mine"]], tag="   ")
    assert said(response) == ["Give the tag a name."]
    response = post(as_manager, "tag", [book["mine"]], tag="x" * 51)
    assert "at most 50 characters" in said(response)[0]
    response = post(as_manager, "delete-everything", [book["mine"]])
    assert "Select a valid choice" in said(response)[0]
    response = as_manager.post("/clients/companies/bulk/", {"action": "tag", "tag": "x"})
    assert said(response) == ["Select some clients first."]
    assert as_manager.get("/clients/companies/bulk/").status_code == 405
    assert tags_of(book["mine"]) == set()


def test_back_to_the_same_filtered_page(book: dict[str, Company], as_manager: Client) -> None:
    response = post(as_manager, "tag", [book["mine"]], tag="x", query="status=active&cols=tags&owner=", page="2")
    assert response["Location"] == "/clients/companies/?status=active&cols=tags&page=2"


def test_all_matching_the_filters(
    personas: dict[str, User], book: dict[str, Company], as_manager: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = personas["manager"]
    for number in range(4):
        services.company_create(by=manager, name=f"Frozen {number}", status=ClientStatus.FROZEN)
    # Only what the filters match, within the user's scope; ids sent with it do not matter.
    response = as_manager.post(
        "/clients/companies/bulk/",
        {"action": "tag", "tag": "Cold", "all_matching": "on", "query": "status=frozen", "ids": [book["mine"].pk]},
    )
    assert said(response) == ["4 changed, 0 skipped (not yours to change)."]
    assert set(Company.objects.filter(tags__name="Cold").values_list("name", flat=True)) == {
        f"Frozen {number}" for number in range(4)
    }
    # Capped, and the list says so before anyone clicks.
    monkeypatch.setattr(bulk_actions, "BULK_LIMIT", 2)
    response = as_manager.post(
        "/clients/companies/bulk/", {"action": "active", "all_matching": "on", "query": "status=frozen&sort=name"}
    )
    assert said(response) == ["2 changed, 0 skipped (not yours to change)."]
    assert Company.objects.filter(status=ClientStatus.FROZEN).count() == 2


def test_the_page_offers_all_matching_and_says_the_cap(manager: User, as_manager: Client) -> None:
    from rapport.clients.queries import COUNT_CAP
    from rapport.core.paging import PAGE_SIZE

    Company.objects.bulk_create(Company(name=f"C{n:04}", owner=manager) for n in range(PAGE_SIZE + 5))
    page = as_manager.get("/clients/companies/").content.decode()
    assert f"or all {PAGE_SIZE + 5} matching the filters" in page
    Company.objects.bulk_create(Company(name=f"D{n:04}", owner=manager) for n in range(COUNT_CAP))
    page = as_manager.get("/clients/companies/").content.decode()
    assert "or the first 1,000 matching the filters (at most 1,000 at a time)" in page


def test_contacts_too(personas: dict[str, User], as_manager: Client) -> None:
    mine = services.contact_create(by=personas["manager"], last_name="Mine")
    theirs = services.contact_create(by=personas["outsider"], last_name="Theirs")
    response = post(as_manager, "tag", [mine, theirs], kind="contacts", tag="Met")
    assert said(response) == ["1 changed, 0 skipped (not yours to change), 1 not found (no longer in your list)."]
    assert tags_of(mine) == {"Met"}
    assert tags_of(theirs) == set()
    assert response["Location"] == "/clients/contacts/"


def test_one_refused_record_does_not_undo_the_others(
    personas: dict[str, User], book: dict[str, Company], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.exceptions import ValidationError

    real = services.client_tag_add

    def flaky(*, by: User, client: Company | Contact, name: str) -> object:
        if client.pk == book["mine too"].pk:
            real(by=by, client=client, name="half")  # written, then the record fails: rolled back alone
            raise ValidationError("The record was changed meanwhile.")
        return real(by=by, client=client, name=name)

    monkeypatch.setattr(services, "client_tag_add", flaky)
    result = bulk_actions.bulk_run(
        by=personas["manager"], model=Company, action="tag", ids=[book["mine"].pk, book["mine too"].pk], tag="Ok"
    )
    assert (result.changed, result.skipped) == (1, 1)
    assert "The record was changed meanwhile." in result.message
    assert tags_of(book["mine"]) == {"Ok"}
    assert tags_of(book["mine too"]) == set()

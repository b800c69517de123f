"""Transfer, take from the pool, tags, the trash and restore over the API: who may, and what a program sees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.api.tests.helpers import API, bearer, caller, send
from rapport.clients import services
from rapport.clients.models import ClientStatus, ClientTransfer, Company, Contact, Tag
from rapport.clients.tests.factories import CompanyFactory, ContactFactory

# What each persona gets back for each action on another's client: the access policy's answer
# (404 out of scope, 403 visible but not theirs to change) as a program sees it.
TRANSFER_MANAGERS_CLIENT = {
    "manager": 403,
    "teammate": 404,
    "head": 200,
    "outsider": 404,
    "operator": 403,
    "agent": 404,
    "admin": 200,
}
TAKE_FROM_POOL = {
    "manager": 200,
    "teammate": 200,
    "head": 200,
    "outsider": 200,
    "operator": 403,
    "agent": 404,
    "admin": 403,
}
TAG_MANAGERS_CLIENT = {
    "manager": 200,
    "teammate": 404,
    "head": 200,
    "outsider": 404,
    "operator": 200,
    "agent": 404,
    "admin": 200,
}
ADMINS_ONLY = {
    "manager": 403,
    "teammate": 403,
    "head": 403,
    "outsider": 403,
    "operator": 403,
    "agent": 403,
    "admin": 200,
}


def _deleted(company: Company, by: User) -> Company:
    Company.objects.filter(pk=company.pk).update(deleted_at=timezone.now(), deleted_by=by)
    company.refresh_from_db()
    return company


# ---- Transfer -------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), sorted(TRANSFER_MANAGERS_CLIENT.items()))
def test_who_transfers_the_managers_client(
    personas: dict[str, User], clients: dict[str, Company], persona: str, status: int
) -> None:
    company = clients["manager's"]
    teammate = personas["teammate"]
    url = f"{API}/companies/{company.pk}/transfer"
    response = send(caller(personas[persona]), "post", url, {"to_user": teammate.pk, "reason": "Holiday"})
    assert response.status_code == status, response.content
    company.refresh_from_db()
    if status == 200:
        body = response.json()
        assert (body["from_user"], body["to_user"], body["by"], body["reason"]) == (
            personas["manager"].pk,
            teammate.pk,
            personas[persona].pk,
            "Holiday",
        )
        assert company.owner == teammate
        assert ClientTransfer.objects.get(pk=body["id"]).company == company
    else:
        assert company.owner == personas["manager"]
        assert not ClientTransfer.objects.exists()
    if status == 403:
        assert response.json() == {
            "detail": "Only admins, and heads within their own team, give clients to another owner."
        }
    if status == 404:
        assert response.json() == {"detail": "Not found."}


def test_transfer_to_null_puts_the_client_in_the_pool(head: User, manager: User, clients: dict[str, Company]) -> None:
    company = clients["manager's"]
    response = send(bearer(head), "post", f"{API}/companies/{company.pk}/transfer", {"to_user": None})
    assert response.status_code == 200
    assert (response.json()["from_user"], response.json()["to_user"]) == (manager.pk, None)
    after = send(bearer(head), "get", f"{API}/companies/{company.pk}").json()
    assert (after["owner"], after["status"], after["version"]) == (None, "pool", 2)


def test_a_contact_is_transferred_the_same_way(admin_user: User, manager: User, outsider: User) -> None:
    contact = ContactFactory.create(last_name="Lee", owner=manager)
    response = send(bearer(admin_user), "post", f"{API}/contacts/{contact.pk}/transfer", {"to_user": outsider.pk})
    assert (response.status_code, response.json()["to_user"]) == (200, outsider.pk)
    assert Contact.objects.get(pk=contact.pk).owner == outsider
    # The manager no longer sees it.
    assert bearer(manager).get(f"{API}/contacts/{contact.pk}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"to_user": "outsider"}, {"to_user": ["You can only assign clients to managers of your own team."]}),
        ({"to_user": "operator"}, {"to_user": ["Olga Operator cannot own clients."]}),
        (
            {"to_user": 999_999},
            {"to_user": ["Select a valid choice. That choice is not one of the available choices."]},
        ),
    ],
)
def test_a_transfer_to_someone_who_cannot_take_it_is_422(
    personas: dict[str, User], clients: dict[str, Company], payload: dict[str, Any], detail: Any
) -> None:
    if isinstance(payload["to_user"], str):
        payload = {"to_user": personas[payload["to_user"]].pk}
    company = clients["manager's"]
    response = send(bearer(personas["head"]), "post", f"{API}/companies/{company.pk}/transfer", payload)
    assert (response.status_code, response.json()) == (422, {"detail": detail})
    company.refresh_from_db()
    assert company.owner == personas["manager"]


@pytest.mark.parametrize("payload", [{}, {"reason": "No owner given"}, {"to_user": None, "reason": "x" * 301}])
def test_a_malformed_transfer_is_422_and_never_empties_the_owner(
    head: User, manager: User, clients: dict[str, Company], payload: dict[str, Any]
) -> None:
    company = clients["manager's"]
    response = send(bearer(head), "post", f"{API}/companies/{company.pk}/transfer", payload)
    assert response.status_code == 422
    assert "detail" in response.json()
    company.refresh_from_db()
    assert company.owner == manager


def test_a_caller_without_the_right_hears_that_before_any_check_of_the_new_owner(
    manager: User, clients: dict[str, Company]
) -> None:
    url = f"{API}/companies/{clients["manager's"].pk}/transfer"
    assert send(bearer(manager), "post", url, {"to_user": 999_999}).status_code == 403


# ---- Take from the pool ---------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), sorted(TAKE_FROM_POOL.items()))
def test_who_takes_from_the_pool(
    personas: dict[str, User], clients: dict[str, Company], persona: str, status: int
) -> None:
    pool = clients["pool"]
    response = send(caller(personas[persona]), "post", f"{API}/companies/{pool.pk}/take")
    assert response.status_code == status, response.content
    pool.refresh_from_db()
    if status == 200:
        body = response.json()
        assert (body["owner"], body["status"], body["version"]) == (personas[persona].pk, "active", 2)
        assert (pool.owner, pool.status) == (personas[persona], ClientStatus.ACTIVE)
        assert ClientTransfer.objects.get().reason == "Taken from the pool"
    else:
        assert (pool.owner, pool.status) == (None, ClientStatus.POOL)
        assert not ClientTransfer.objects.exists()
    if status == 403:
        assert response.json() == {"detail": "Only managers and heads of sales take clients from the pool."}


def test_a_client_taken_by_a_colleague_is_gone_from_the_pool(
    manager: User, teammate: User, head: User, clients: dict[str, Company]
) -> None:
    url = f"{API}/companies/{clients['pool'].pk}/take"
    assert send(bearer(manager), "post", url).status_code == 200
    # The teammate no longer sees it; the head, who sees the team's clients, is told why.
    assert send(bearer(teammate), "post", url).status_code == 404
    response = send(bearer(head), "post", url)
    assert response.status_code == 422
    assert response.json()["detail"][0].startswith("Pool Ltd is no longer in the pool: Mark Manager has had it since")
    assert Company.objects.get(pk=clients["pool"].pk).owner == manager


def test_a_contact_is_taken_from_the_pool_the_same_way(manager: User) -> None:
    contact = ContactFactory.create(last_name="Lee", owner=None, status=ClientStatus.POOL)
    response = send(bearer(manager), "post", f"{API}/contacts/{contact.pk}/take")
    assert (response.status_code, response.json()["owner"]) == (200, manager.pk)


# ---- Tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), sorted(TAG_MANAGERS_CLIENT.items()))
def test_who_sets_the_managers_clients_tags(
    personas: dict[str, User], clients: dict[str, Company], persona: str, status: int
) -> None:
    company = clients["manager's"]
    response = send(caller(personas[persona]), "put", f"{API}/companies/{company.pk}/tags", {"tags": ["VIP"]})
    assert response.status_code == status, response.content
    assert [tag.name for tag in company.tags.all()] == (["VIP"] if status == 200 else [])
    if status == 200:
        assert (response.json()["tags"], response.json()["version"]) == (["VIP"], 2)


def test_agents_tag_their_own_clients_but_nobody_tags_the_pool_untaken(
    agent: User, manager: User, clients: dict[str, Company]
) -> None:
    own = send(client_for(agent), "put", f"{API}/companies/{clients["agent's"].pk}/tags", {"tags": ["Dealer"]})
    assert (own.status_code, own.json()["tags"]) == (200, ["Dealer"])
    pool = send(bearer(manager), "put", f"{API}/companies/{clients['pool'].pk}/tags", {"tags": ["Mine"]})
    assert pool.status_code == 403
    assert pool.json()["detail"].startswith("You may not change this client:")
    assert not clients["pool"].tags.exists()


def test_tags_become_exactly_the_names_given(manager: User, clients: dict[str, Company]) -> None:
    Tag.objects.create(name="Export")
    company = clients["manager's"]
    url = f"{API}/companies/{company.pk}/tags"
    caller_ = bearer(manager)
    response = send(caller_, "put", url, {"tags": ["vip", " export ", "VIP", ""]})
    # Names match existing tags whatever their case; blanks are ignored; the order is alphabetical.
    assert response.json()["tags"] == ["Export", "vip"]
    assert Tag.objects.count() == 2
    assert caller_.get(f"{API}/companies").json()["items"][0]["tags"] == ["Export", "vip"]
    cleared = send(caller_, "put", url, {"tags": []})
    assert (cleared.json()["tags"], cleared.json()["version"]) == ([], 3)


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"tags": ["ok", "x" * 51]}, {"tags": ["A tag is at most 50 characters long."]}),
        ({"tags": "VIP"}, None),
        ({"tags": ["x"] * 101}, None),
        ({}, None),
    ],
)
def test_bad_tags_are_422_and_change_nothing(
    manager: User, clients: dict[str, Company], payload: dict[str, Any], detail: Any
) -> None:
    company = clients["manager's"]
    company.tags.add(Tag.objects.create(name="Keep"))
    response = send(bearer(manager), "put", f"{API}/companies/{company.pk}/tags", payload)
    assert response.status_code == 422
    if detail is not None:
        assert response.json() == {"detail": detail}
    assert [tag.name for tag in company.tags.all()] == ["Keep"]
    assert not Tag.objects.filter(name="ok").exists()


def test_a_tag_change_makes_an_older_copy_stale(manager: User, head: User) -> None:
    company = services.company_create(by=head, owner=manager, name="Acme")
    send(bearer(head), "put", f"{API}/companies/{company.pk}/tags", {"tags": ["VIP"]})
    response = send(bearer(manager), "patch", f"{API}/companies/{company.pk}", {"version": 1, "notes": "x"})
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Changed by Hanna Head at ")


def test_contact_tags_are_set_the_same_way(manager: User) -> None:
    contact = ContactFactory.create(last_name="Lee", owner=manager)
    response = send(bearer(manager), "put", f"{API}/contacts/{contact.pk}/tags", {"tags": ["Decision maker"]})
    assert (response.status_code, response.json()["tags"]) == (200, ["Decision maker"])


# ---- Trash and restore ----------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), sorted(ADMINS_ONLY.items()))
def test_only_admins_see_the_trash(
    personas: dict[str, User], clients: dict[str, Company], persona: str, status: int
) -> None:
    _deleted(clients["manager's"], personas["manager"])
    response = caller(personas[persona]).get(f"{API}/trash")
    assert response.status_code == status
    if status == 200:
        assert [(item["kind"], item["name"]) for item in response.json()["items"]] == [("company", "Manager Ltd")]
    else:
        assert response.json() == {"detail": "Only admins see the trash."}


def test_the_trash_pages_through_both_kinds_newest_first(
    admin_user: User, manager: User, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    for number in range(3):
        CompanyFactory.create(name=f"Firm {number}", owner=manager, deleted_at=now - timedelta(hours=number * 2))
    for number in range(2):
        ContactFactory.create(
            last_name=f"Person {number}", first_name="", owner=manager, deleted_at=now - timedelta(hours=number * 2 + 1)
        )
    CompanyFactory.create(name="Alive", owner=manager)
    caller_ = bearer(admin_user)
    caller_.get(f"{API}/trash")  # the token's first use writes last_used_at
    with django_assert_max_num_queries(3):  # the token, deleted companies, deleted contacts
        first = caller_.get(f"{API}/trash", {"limit": 2}).json()
    assert [item["name"] for item in first["items"]] == ["Firm 0", "Person 0"]
    assert first["has_more"] is True
    last = caller_.get(f"{API}/trash", {"limit": 2, "offset": 4}).json()
    assert ([item["name"] for item in last["items"]], last["has_more"]) == (["Firm 2"], False)
    contacts = caller_.get(f"{API}/trash", {"kind": "contact"}).json()
    assert [(item["kind"], item["name"], item["owner"]) for item in contacts["items"]] == [
        ("contact", "Person 0", manager.pk),
        ("contact", "Person 1", manager.pk),
    ]
    bad_filters: list[dict[str, str | int]] = [{"kind": "deal"}, {"limit": 0}, {"limit": 101}, {"offset": -1}]
    for bad in bad_filters:
        assert caller_.get(f"{API}/trash", bad).status_code == 422


@pytest.mark.parametrize(("persona", "status"), sorted(ADMINS_ONLY.items()))
def test_only_admins_restore(personas: dict[str, User], clients: dict[str, Company], persona: str, status: int) -> None:
    company = _deleted(clients["manager's"], personas["manager"])
    response = send(caller(personas[persona]), "post", f"{API}/companies/{company.pk}/restore")
    assert response.status_code == status
    company.refresh_from_db()
    if status == 200:
        assert (response.json()["name"], company.deleted_at) == ("Manager Ltd", None)
        # Back in the base: its owner sees it again.
        assert bearer(personas["manager"]).get(f"{API}/companies/{company.pk}").status_code == 200
    else:
        assert response.json() == {"detail": "Only admins restore clients from the trash."}
        assert company.deleted_at is not None


def test_restore_answers_404_for_what_is_not_in_the_trash(admin_user: User, clients: dict[str, Company]) -> None:
    caller_ = bearer(admin_user)
    assert send(caller_, "post", f"{API}/companies/{clients["manager's"].pk}/restore").status_code == 404
    assert send(caller_, "post", f"{API}/contacts/999999/restore").status_code == 404


def test_restore_is_refused_when_the_tax_id_is_taken_meanwhile(admin_user: User, manager: User) -> None:
    old = services.company_create(by=manager, name="Old", tax_id="7701234567")
    services.client_delete(by=manager, client=old)
    services.company_create(by=manager, name="New", tax_id="7701234567")
    response = send(bearer(admin_user), "post", f"{API}/companies/{old.pk}/restore")
    assert (response.status_code, response.json()) == (
        422,
        {"detail": {"tax_id": ["This tax id belongs to New already."]}},
    )
    assert Company.objects.get(pk=old.pk).deleted_at is not None


def test_a_contact_is_restored_the_same_way(admin_user: User, manager: User) -> None:
    contact = services.contact_create(by=manager, last_name="Lee")
    services.client_delete(by=manager, client=contact)
    response = send(bearer(admin_user), "post", f"{API}/contacts/{contact.pk}/restore")
    assert (response.status_code, response.json()["last_name"]) == (200, "Lee")


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_a_deleted_client_is_404_to_every_other_verb(
    personas: dict[str, User], clients: dict[str, Company], persona: str
) -> None:
    company = _deleted(clients["manager's"], personas["manager"])
    caller_ = bearer(personas[persona])
    url = f"{API}/companies/{company.pk}"
    for method, path, data in [
        ("get", url, None),
        ("patch", url, {"version": 1, "notes": "x"}),
        ("delete", url, None),
        ("post", f"{url}/points", {"kind": "email", "value": "x@example.com"}),
        ("post", f"{url}/transfer", {"to_user": None}),
        ("post", f"{url}/take", None),
        ("put", f"{url}/tags", {"tags": ["x"]}),
    ]:
        response = send(caller_, method, path, data)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), (method, path)
    assert personas["manager"].pk not in {row["owner"] for row in caller_.get(f"{API}/companies").json()["items"]}


# ---- The browser's session ------------------------------------------------------------------


def test_actions_work_with_the_session_and_its_csrf_token(manager: User, clients: dict[str, Company]) -> None:
    company = clients["manager's"]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    url = f"{API}/companies/{company.pk}/tags"
    refused = send(browser, "put", url, {"tags": ["VIP"]})
    assert (refused.status_code, refused.json()) == (403, {"detail": "CSRF check Failed"})
    assert not company.tags.exists()
    browser.cookies["csrftoken"] = "a" * 32
    response = browser.put(url, {"tags": ["VIP"]}, content_type="application/json", HTTP_X_CSRFTOKEN="a" * 32)
    assert (response.status_code, response.json()["tags"]) == (200, ["VIP"])
    # Reading needs no CSRF token.
    assert browser.get(f"{API}/companies/{company.pk}").json()["tags"] == ["VIP"]


def test_an_admins_session_reads_the_trash(admin_user: User, manager: User, clients: dict[str, Company]) -> None:
    _deleted(clients["manager's"], manager)
    response = client_for(admin_user).get(f"{API}/trash")
    assert [item["id"] for item in response.json()["items"]] == [clients["manager's"].pk]


# ---- Documentation --------------------------------------------------------------------------


def test_the_openapi_document_lists_the_actions_and_their_errors(manager: User) -> None:
    schema = client_for(manager).get("/api/openapi.json").json()
    paths = schema["paths"]
    for kind, id_name in [("companies", "company_id"), ("contacts", "contact_id")]:
        assert set(paths[f"/api/v1/{kind}/{{{id_name}}}/transfer"]) == {"post"}
        assert set(paths[f"/api/v1/{kind}/{{{id_name}}}/take"]) == {"post"}
        assert set(paths[f"/api/v1/{kind}/{{{id_name}}}/tags"]) == {"put"}
        assert set(paths[f"/api/v1/{kind}/{{{id_name}}}/restore"]) == {"post"}
    assert set(paths["/api/v1/trash"]) == {"get"}
    transfer = paths["/api/v1/companies/{company_id}/transfer"]["post"]
    assert set(transfer["responses"]) == {"200", "401", "403", "404", "422"}
    assert "409" in paths["/api/v1/companies/{company_id}"]["patch"]["responses"]
    assert schema["components"]["schemas"]["TransferIn"]["required"] == ["to_user"]

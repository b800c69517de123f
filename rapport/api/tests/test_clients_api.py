"""The client API as a program sees it: who gets in, who sees what, and what a bad request answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.api.models import ApiToken, hash_key
from rapport.api.services import api_token_create, api_token_revoke
from rapport.api.tests.helpers import API, bearer, caller, send
from rapport.clients import services
from rapport.clients.models import Company, ContactPoint
from rapport.clients.tests.factories import CompanyFactory, ContactFactory
from rapport.clients.tests.test_access import VISIBLE

# ---- Signing in -----------------------------------------------------------------------------


def test_a_token_signs_in_and_only_its_hash_is_kept(manager: User, clients: dict[str, Company]) -> None:
    token, key = api_token_create(by=manager, user=manager, name="Zapier")
    assert token.key_hash == hash_key(key) != key
    response = Client(headers={"Authorization": f"Bearer {key}"}).get(f"{API}/companies")
    assert response.status_code == 200
    assert {row["name"] for row in response.json()["items"]} == {"Manager Ltd", "Pool Ltd"}
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(manager: User) -> None:
    token, key = api_token_create(by=manager, user=manager, name="Zapier")
    caller = Client(headers={"Authorization": f"Bearer {key}"})
    recently = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently)
    caller.get(f"{API}/companies")
    token.refresh_from_db()
    assert token.last_used_at == recently
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently - timedelta(minutes=1))
    caller.get(f"{API}/companies")
    token.refresh_from_db()
    assert token.last_used_at > recently


def test_revoked_unknown_inactive_and_agents_tokens_are_401(manager: User, teammate: User, head: User) -> None:
    revoked, revoked_key = api_token_create(by=manager, user=manager, name="old")
    api_token_revoke(by=manager, token=revoked)
    _, inactive_key = api_token_create(by=teammate, user=teammate, name="left the company")
    User.objects.filter(pk=teammate.pk).update(is_active=False)
    # Someone who becomes an outside agent keeps the row but loses the key's use (agents hold none).
    _, agent_key = api_token_create(by=head, user=head, name="before the move")
    User.objects.filter(pk=head.pk).update(role=Role.AGENT)
    for key in [revoked_key, inactive_key, agent_key, "rpt_made-up"]:
        caller = Client(headers={"Authorization": f"Bearer {key}"})
        refused = caller.get(f"{API}/companies")
        assert (refused.status_code, refused.json()) == (401, {"detail": "Unauthorized"})
        # A wrong key is a 401 on writes too, not a CSRF failure of the session fallback.
        assert send(caller, "post", f"{API}/companies", {"name": "X"}).status_code == 401
    assert Client().get(f"{API}/companies").status_code == 401
    assert not Company.objects.exists()


def test_only_the_owner_or_an_admin_revokes_a_token(manager: User, teammate: User, admin_user: User) -> None:
    token, _ = api_token_create(by=manager, user=manager, name="script")
    with pytest.raises(PermissionDenied):
        api_token_revoke(by=teammate, token=token)
    api_token_revoke(by=admin_user, token=token)
    assert token.is_revoked


def test_the_session_works_with_csrf_on_writes(manager: User) -> None:
    assert client_for(manager).get(f"{API}/companies").status_code == 200
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    assert send(browser, "post", f"{API}/companies", {"name": "Acme"}).status_code == 403
    browser.cookies["csrftoken"] = "a" * 32
    response = browser.post(
        f"{API}/companies", {"name": "Acme"}, content_type="application/json", HTTP_X_CSRFTOKEN="a" * 32
    )
    assert response.status_code == 201


# ---- Who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_persona_lists_exactly_their_scope(
    personas: dict[str, User], clients: dict[str, Company], persona: str
) -> None:
    response = caller(personas[persona]).get(f"{API}/companies")
    assert {row["name"] for row in response.json()["items"]} == {clients[key].name for key in VISIBLE[persona]}


def test_contacts_follow_the_same_policy(manager: User, outsider: User) -> None:
    ContactFactory.create(last_name="Mine", owner=manager)
    ContactFactory.create(last_name="Theirs", owner=outsider)
    response = bearer(manager).get(f"{API}/contacts")
    assert [row["last_name"] for row in response.json()["items"]] == ["Mine"]


def test_a_client_out_of_scope_answers_404_to_every_verb(manager: User, clients: dict[str, Company]) -> None:
    theirs = clients["outsider's"]
    caller = bearer(manager)
    url = f"{API}/companies/{theirs.pk}"
    for method, path, data in [
        ("get", url, None),
        ("patch", url, {"version": 1, "industry": "Oil"}),
        ("delete", url, None),
        ("post", f"{url}/points", {"kind": "email", "value": "x@example.com"}),
    ]:
        response = send(caller, method, path, data)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    theirs.refresh_from_db()
    assert (theirs.industry, theirs.deleted_at, theirs.points.count()) == ("", None, 0)


def test_a_visible_client_the_user_may_not_edit_answers_403_with_a_reason(
    manager: User, clients: dict[str, Company]
) -> None:
    # The pool is visible to managers but must be taken before it is edited.
    response = send(bearer(manager), "patch", f"{API}/companies/{clients['pool'].pk}", {"version": 1, "notes": "x"})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("You may not change this client:")


def test_lists_filter_by_owner_status_and_search(
    manager: User, head: User, teammate: User, clients: dict[str, Company]
) -> None:
    caller = bearer(head)
    by_owner = caller.get(f"{API}/companies", {"owner": teammate.pk}).json()["items"]
    assert [row["name"] for row in by_owner] == ["Teammate Ltd"]
    in_pool = caller.get(f"{API}/companies", {"status": "pool"}).json()["items"]
    assert [row["name"] for row in in_pool] == ["Pool Ltd"]
    found = caller.get(f"{API}/companies", {"q": "ltd"}).json()["items"]
    assert {row["name"] for row in found} == {"Manager Ltd", "Teammate Ltd", "Agent Ltd", "Pool Ltd"}
    # Search never reaches past the scope.
    assert bearer(manager).get(f"{API}/companies", {"q": "outsider"}).json()["items"] == []


def test_lists_page_by_limit_and_offset(manager: User) -> None:
    for number in range(5):
        CompanyFactory.create(name=f"Firm {number}", owner=manager)
    caller = bearer(manager)
    first = caller.get(f"{API}/companies", {"limit": 2}).json()
    last = caller.get(f"{API}/companies", {"limit": 2, "offset": 4}).json()
    assert ([row["name"] for row in first["items"]], first["has_more"]) == (["Firm 0", "Firm 1"], True)
    assert ([row["name"] for row in last["items"]], last["has_more"]) == (["Firm 4"], False)
    assert caller.get(f"{API}/companies", {"limit": 101}).status_code == 422


def test_a_list_costs_a_fixed_number_of_queries(manager: User, django_assert_max_num_queries: Any) -> None:
    for number in range(30):
        company = CompanyFactory.create(name=f"Firm {number:02}", owner=manager)
        ContactPoint.objects.create(company=company, kind="email", value=f"{number}@x.example", normalized="x")
        ContactPoint.objects.create(company=company, kind="phone", value="+1", normalized="+1", is_primary=True)
    caller = bearer(manager)
    caller.get(f"{API}/companies")  # the token's first use writes last_used_at
    # The token, the page, its contact points, its tags.
    with django_assert_max_num_queries(4):
        response = caller.get(f"{API}/companies", {"limit": 100})
    assert len(response.json()["items"]) == 30
    assert all(len(row["points"]) == 2 for row in response.json()["items"])


# ---- Writes ---------------------------------------------------------------------------------


def test_create_answers_201_with_the_caller_as_registrant(manager: User) -> None:
    response = send(
        bearer(manager),
        "post",
        f"{API}/companies",
        {"name": " Acme ", "tax_id": "7701234567", "points": [{"kind": "phone", "value": "+7 (912) 345-67-89"}]},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["owner"], body["registrant"], body["version"]) == ("Acme", manager.pk, manager.pk, 1)
    assert [(p["kind"], p["normalized"], p["is_primary"]) for p in body["points"]] == [("phone", "+79123456789", True)]
    assert Company.objects.get(pk=body["id"]).registrant == manager


def test_a_contact_joins_only_a_company_the_caller_sees(manager: User, clients: dict[str, Company]) -> None:
    caller = bearer(manager)
    mine = send(caller, "post", f"{API}/contacts", {"last_name": "Lee", "company": clients["manager's"].pk})
    assert (mine.status_code, mine.json()["company"]) == (201, clients["manager's"].pk)
    theirs = send(caller, "post", f"{API}/contacts", {"last_name": "Kim", "company": clients["outsider's"].pk})
    assert theirs.status_code == 422
    assert theirs.json() == {"detail": {"company": ["Choose a company you can see."]}}


def test_a_bad_phone_is_422_naming_the_expected_format(manager: User) -> None:
    response = send(
        bearer(manager), "post", f"{API}/contacts", {"last_name": "Lee", "points": [{"kind": "phone", "value": "12"}]}
    )
    assert response.status_code == 422
    assert "is not a phone number. Write it like" in response.json()["detail"]["value"][0]


def test_a_stale_version_is_409_saying_who_changed_it_and_changes_nothing(manager: User, head: User) -> None:
    company = services.company_create(by=manager, name="Acme")
    services.client_update(by=head, client=company, version=1, industry="Steel")
    response = send(bearer(manager), "patch", f"{API}/companies/{company.pk}", {"version": 1, "industry": "Timber"})
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Changed by Hanna Head at ")
    assert "reload to see their changes" in response.json()["detail"]
    company.refresh_from_db()
    assert (company.industry, company.version) == ("Steel", 2)
    # With the version it now has, the same change goes through.
    response = send(bearer(manager), "patch", f"{API}/companies/{company.pk}", {"version": 2, "industry": "Timber"})
    assert (response.status_code, response.json()["version"]) == (200, 3)


def test_update_changes_only_the_fields_sent(manager: User) -> None:
    company = services.company_create(by=manager, name="Acme", industry="Steel")
    response = send(bearer(manager), "patch", f"{API}/companies/{company.pk}", {"version": 1, "notes": "Big"})
    assert response.status_code == 200
    assert (response.json()["industry"], response.json()["notes"], response.json()["version"]) == ("Steel", "Big", 2)
    assert company.history.first().history_user == manager


def test_personal_data_reserved_for_operators(manager: User, operator: User, settings: Any) -> None:
    contact = services.contact_create(by=manager, last_name="Petrov")
    settings.RAPPORT_PERSONAL_DATA_EDITORS = "operators"
    url = f"{API}/contacts/{contact.pk}"
    response = send(bearer(manager), "patch", url, {"version": 1, "last_name": "Petrova"})
    assert (response.status_code, response.json()) == (
        422,
        {"detail": {"last_name": ["Only operators may change personal data."]}},
    )
    assert send(bearer(operator), "patch", url, {"version": 1, "last_name": "Petrova"}).status_code == 200


def test_delete_is_soft_and_hides_the_client(manager: User) -> None:
    company = services.company_create(by=manager, name="Acme")
    caller = bearer(manager)
    assert caller.delete(f"{API}/companies/{company.pk}").status_code == 204
    company.refresh_from_db()
    assert company.deleted_by == manager
    assert caller.get(f"{API}/companies/{company.pk}").status_code == 404


def test_contact_points_are_added_and_removed(manager: User, clients: dict[str, Company]) -> None:
    contact = services.contact_create(by=manager, last_name="Lee")
    caller = bearer(manager)
    added = send(caller, "post", f"{API}/contacts/{contact.pk}/points", {"kind": "email", "value": "Lee@X.example"})
    assert (added.status_code, added.json()["normalized"]) == (201, "lee@x.example")
    point_id = added.json()["id"]
    # A point is removed only through the client it belongs to.
    other = services.contact_create(by=manager, last_name="Kim")
    assert caller.delete(f"{API}/contacts/{other.pk}/points/{point_id}").status_code == 404
    assert caller.delete(f"{API}/contacts/{contact.pk}/points/{point_id}").status_code == 204
    assert not ContactPoint.objects.filter(pk=point_id).exists()


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/companies", {"name": ""}),
        ("post", "/companies", {"name": "x" * 201}),
        ("post", "/companies", {"name": "Acme", "status": "bogus"}),
        ("post", "/companies", {"name": "Acme", "website": "not a url"}),
        ("post", "/companies", {"name": "Acme", "owner": 999_999}),
        ("post", "/companies", {"name": "Acme", "points": [{"kind": "fax", "value": "1"}]}),
        ("post", "/contacts", {"position": "CEO"}),
        ("post", "/contacts", {"last_name": "Lee", "birthday": "yesterday"}),
        ("patch", "/companies/{id}", {"name": "No version"}),
        ("patch", "/companies/{id}", {"version": 1, "owner": 1}),
        ("patch", "/companies/{id}", {"version": 1, "name": None}),
        ("get", "/companies?status=bogus", None),
    ],
)
def test_bad_input_is_422_never_500(
    manager: User, clients: dict[str, Company], method: str, path: str, data: Any
) -> None:
    url = API + path.replace("{id}", str(clients["manager's"].pk))
    response = send(bearer(manager), method, url, data)
    assert response.status_code == 422, response.content
    assert "detail" in response.json()


def test_a_body_that_is_not_json_is_400(manager: User) -> None:
    response = send(bearer(manager), "post", f"{API}/companies", "{not json")
    assert (response.status_code, response.json()) == (400, {"detail": "Cannot parse request body"})


def test_ids_beyond_any_row_are_404_or_422(manager: User) -> None:
    caller = bearer(manager)
    for number in [2**31, 2**63]:
        assert caller.get(f"{API}/companies/{number}").status_code == 404
    assert caller.get(f"{API}/contacts", {"owner": 2**31}).json()["items"] == []
    assert caller.get(f"{API}/contacts", {"owner": 2**63}).status_code == 422


# ---- Documentation --------------------------------------------------------------------------


def test_the_openapi_document_lists_the_endpoints(manager: User) -> None:
    assert Client().get("/api/openapi.json").status_code == 302  # people sign in first
    schema = client_for(manager).get("/api/openapi.json").json()
    assert schema["info"] == {"title": "Rapport API", "version": "1", "description": ""}
    assert {
        "/api/v1/companies",
        "/api/v1/companies/{company_id}",
        "/api/v1/companies/{company_id}/points",
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}/points/{point_id}",
    } <= set(schema["paths"])


def test_the_docs_page_loads_swagger_from_our_own_static_files(manager: User) -> None:
    page = client_for(manager).get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn.jsdelivr.net" not in page


def test_api_token_command_prints_a_working_key(manager: User) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.test import Client

    out = StringIO()
    call_command("api_token", "manager", "script", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("rpt_")
    response = Client().get("/api/v1/companies", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert ApiToken.objects.get(user=manager).prefix == key[:10]


def test_api_token_command_refuses_agents_and_blank_names(manager: User, agent: User) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=r"Outside agents cannot have API tokens\."):
        call_command("api_token", "agent", "script")
    with pytest.raises(CommandError, match=r"Fill this in\."):
        call_command("api_token", "manager", "   ")
    assert not ApiToken.objects.exists()

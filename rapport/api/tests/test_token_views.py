"""The API token screen: each person's own keys, made and shown once, revoked at once; admins see everyone's."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.api.models import ApiToken
from rapport.api.services import api_token_create

LIST = "/accounts/api-tokens/"
CREATE = "/accounts/api-tokens/new/"
KEY = re.compile(r"rpt_[A-Za-z0-9_-]{43}")
HOLDERS = ["manager", "teammate", "head", "outsider", "operator", "admin"]


def revoke_url(token: ApiToken) -> str:
    return f"/accounts/api-tokens/{token.pk}/revoke/"


def works(key: str) -> bool:
    return Client(headers={"Authorization": f"Bearer {key}"}).get("/api/v1/companies").status_code == 200


@pytest.fixture
def tokens(personas: dict[str, User]) -> dict[str, ApiToken]:
    """One token per persona who may hold one, named after them."""
    return {
        name: api_token_create(by=user, user=user, name=f"{name}-key")[0]
        for name, user in personas.items()
        if name != "agent"
    }


# ---- Who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [name for name in HOLDERS if name != "admin"])
def test_each_person_sees_only_their_own_tokens(
    personas: dict[str, User], tokens: dict[str, ApiToken], persona: str
) -> None:
    page = client_for(personas[persona]).get(LIST).content.decode()
    shown = {name for name in tokens if f"{name}-key" in page}
    assert shown == {persona}
    assert 'id="other-tokens"' not in page
    assert tokens[persona].prefix + "…" in page


def test_admins_see_their_own_and_everyone_elses_tokens(admin_user: User, tokens: dict[str, ApiToken]) -> None:
    page = client_for(admin_user).get(LIST).content.decode()
    own, others = page.split('id="other-tokens"')
    assert "admin-key" in own
    assert "admin-key" not in others
    assert all(f"{name}-key" in others for name in tokens if name != "admin")
    assert "Mark Manager" in others


def test_agents_hold_no_tokens_and_the_screen_refuses_them(agent: User, tokens: dict[str, ApiToken]) -> None:
    browser = client_for(agent)
    assert browser.get(LIST).status_code == 403
    assert browser.post(CREATE, {"name": "mine"}).status_code == 403
    assert browser.post(revoke_url(tokens["manager"])).status_code == 403
    assert not ApiToken.objects.filter(user=agent).exists()
    assert not tokens["manager"].is_revoked


def test_people_signed_out_are_sent_to_the_login(tokens: dict[str, ApiToken]) -> None:
    for response in [Client().get(LIST), Client().post(CREATE, {"name": "x"})]:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert ApiToken.objects.count() == len(tokens)


def test_the_list_costs_the_same_however_many_tokens(
    admin_user: User, manager: User, tokens: dict[str, ApiToken], django_assert_max_num_queries: Any
) -> None:
    browser = client_for(admin_user)
    # Session and user; own tokens; others' count and page; the shell's own (notifications).
    with django_assert_max_num_queries(8) as few:
        browser.get(LIST)
    for number in range(20):
        api_token_create(by=manager, user=manager, name=f"more {number}")
        api_token_create(by=admin_user, user=admin_user, name=f"mine {number}")
    with django_assert_max_num_queries(len(few)):
        assert browser.get(LIST).status_code == 200


# ---- Making a token -------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_works(manager: User) -> None:
    browser = client_for(manager)
    response = browser.post(CREATE, {"name": "  Telephony   bridge "})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    key = KEY.search(page)
    assert key is not None
    assert 'id="new-token-key"' in page
    assert 'data-copy="#new-token-key"' in page
    token = ApiToken.objects.get(user=manager)
    assert (token.name, token.prefix) == ("Telephony bridge", key.group()[:10])
    assert works(key.group())
    # Never again: the list shows only the prefix.
    later = browser.get(LIST).content.decode()
    assert key.group() not in later
    assert KEY.search(later) is None
    assert f"{token.prefix}…" in later


def test_htmx_gets_the_region_with_the_key(manager: User) -> None:
    response = client_for(manager).post(CREATE, {"name": "Zapier"}, headers={"HX-Request": "true"})
    assert response.status_code == 201
    page = response.content.decode()
    assert page.lstrip().startswith('<div class="row row-cards" id="api-tokens">')
    assert "<html" not in page
    assert KEY.search(page) is not None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
    ],
)
def test_a_bad_name_is_explained_next_to_the_field(manager: User, name: str, message: str) -> None:
    response = client_for(manager).post(CREATE, {"name": name})
    assert response.status_code == 422
    page = response.content.decode()
    field = page[page.index('id="field-name"') :]
    field = field[: field.index("</div>\n</div>")]
    assert f'<div class="invalid-feedback d-block" id="id_name-error">{message}</div>' in field
    assert 'aria-invalid="true"' in field
    assert KEY.search(page) is None
    assert not ApiToken.objects.exists()


def test_a_name_is_escaped(manager: User) -> None:
    page = client_for(manager).post(CREATE, {"name": "<b>bold</b>"}).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page


# ---- Revoking -------------------------------------------------------------------------------


def test_a_revoked_key_is_refused_at_once(manager: User) -> None:
    token, key = api_token_create(by=manager, user=manager, name="script")
    assert works(key)
    browser = client_for(manager)
    response = browser.post(revoke_url(token))
    assert (response.status_code, response["Location"]) == (302, LIST)
    token.refresh_from_db()
    assert token.is_revoked
    assert not works(key)
    page = browser.get(LIST).content.decode()
    assert "“script” is revoked: programs using it are refused from now on." in page
    assert "Revoked" in page


@pytest.mark.parametrize("persona", [name for name in HOLDERS if name not in {"manager", "admin"}])
def test_another_persons_token_is_404(personas: dict[str, User], tokens: dict[str, ApiToken], persona: str) -> None:
    response = client_for(personas[persona]).post(revoke_url(tokens["manager"]))
    assert response.status_code == 404
    tokens["manager"].refresh_from_db()
    assert not tokens["manager"].is_revoked


def test_admins_revoke_anyones_token(admin_user: User, manager: User) -> None:
    token, key = api_token_create(by=manager, user=manager, name="leaked")
    response = client_for(admin_user).post(revoke_url(token), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Mark Manager&#x27;s token “leaked” is revoked" in response.content.decode()
    assert not works(key)


def test_revoking_twice_keeps_the_first_time(manager: User) -> None:
    token, _ = api_token_create(by=manager, user=manager, name="script")
    browser = client_for(manager)
    browser.post(revoke_url(token))
    token.refresh_from_db()
    first = token.revoked_at
    assert browser.post(revoke_url(token)).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at == first


def test_revoke_and_create_need_a_post(manager: User, tokens: dict[str, ApiToken]) -> None:
    browser = client_for(manager)
    assert browser.get(revoke_url(tokens["manager"])).status_code == 405
    assert browser.get(CREATE).status_code == 405
    assert not ApiToken.objects.get(pk=tokens["manager"].pk).is_revoked


# ---- Ways in --------------------------------------------------------------------------------


def test_the_profile_leads_to_the_tokens_except_for_agents(manager: User, agent: User) -> None:
    assert 'href="/accounts/api-tokens/"' in client_for(manager).get("/accounts/profile/").content.decode()
    assert "/accounts/api-tokens/" not in client_for(agent).get("/accounts/profile/").content.decode()


def test_admins_find_everyones_tokens_in_the_administration_menu(admin_user: User, manager: User) -> None:
    assert 'data-nav="api-tokens"' in client_for(admin_user).get("/accounts/profile/").content.decode()
    assert 'data-nav="api-tokens"' not in client_for(manager).get("/accounts/profile/").content.decode()

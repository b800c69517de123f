from __future__ import annotations

import zoneinfo

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from conftest import client_for
from rapport.accounts.models import User
from rapport.core.middleware import UserPreferencesMiddleware


def test_home_shows_my_team(operator: User, manager: User, teammate: User, outsider: User) -> None:
    # People who sell see their day on the home page instead (activities' tests); the others, their team.
    operator.team = manager.team
    operator.save()
    page = client_for(operator).get("/").content.decode()
    assert "Team A" in page
    assert "Tina Teammate" in page
    assert "Head: Hanna Head" in page
    assert "Oscar Outsider" not in page


def test_home_query_count(personas: dict[str, User], django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    operator = client_for(personas["operator"])
    with django_assert_max_num_queries(8):
        assert operator.get("/").status_code == 200


def test_search_finds_colleagues_by_name_fragment(personas: dict[str, User], as_manager: Client) -> None:
    response = as_manager.get("/search/", {"q": "tina"})
    page = response.content.decode()
    assert "Colleagues" in page
    assert "Tina Teammate" in page
    assert "Oscar Outsider" not in page


def test_search_as_you_type_returns_only_the_results(personas: dict[str, User], as_manager: Client) -> None:
    response = as_manager.get("/search/", {"q": "osc"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "Oscar Outsider" in page
    assert "<html" not in page


def test_search_needs_two_characters(personas: dict[str, User], as_manager: Client) -> None:
    page = as_manager.get("/search/", {"q": "t"}).content.decode()
    assert "Type at least 2 characters." in page
    assert "Tina Teammate" not in page


def test_search_says_when_nothing_is_found(personas: dict[str, User], as_manager: Client) -> None:
    assert "Nothing found for" in as_manager.get("/search/", {"q": "zzzz"}).content.decode()


def test_agent_finds_only_themself(personas: dict[str, User]) -> None:
    client = client_for(personas["agent"])
    assert "Tina Teammate" not in client.get("/search/", {"q": "tina"}).content.decode()
    assert "Anton Agent" in client.get("/search/", {"q": "anton"}).content.decode()


def test_unknown_url_shows_the_friendly_404(as_manager: Client) -> None:
    response = as_manager.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_500_page_renders_without_a_request() -> None:
    from django.template.loader import render_to_string

    with translation.override("en"):
        page = render_to_string("500.html")
    assert "Something went wrong on our side" in page


def test_pages_send_a_strict_content_security_policy(as_manager: Client) -> None:
    policy = as_manager.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


@pytest.mark.parametrize("language", ["ru", "vi", "bg"])
def test_user_language_is_used(operator: User, language: str) -> None:
    operator.language = language
    operator.save()
    with translation.override(language):
        greeting = translation.gettext("Hello, %(name)s") % {"name": "Olga"}
        sign_out = translation.gettext("Sign out")
    assert not greeting.startswith("Hello")
    response = client_for(operator).get("/")
    assert response["Content-Language"] == language
    assert greeting in response.content.decode()
    assert sign_out in response.content.decode()


def test_language_switcher_remembers_the_choice(manager: User, as_manager: Client) -> None:
    response = as_manager.post("/accounts/language/", {"language": "bg", "next": "/notifications/"})
    assert response["Location"] == "/notifications/"
    manager.refresh_from_db()
    assert manager.language == "bg"
    assert response.cookies["django_language"].value == "bg"


def test_language_switcher_refuses_off_site_next_and_unknown_language(manager: User, as_manager: Client) -> None:
    response = as_manager.post("/accounts/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    manager.refresh_from_db()
    assert manager.language == ""


def test_anonymous_language_switch_sets_the_cookie(db: None) -> None:
    response = Client().post("/accounts/language/", {"language": "ru", "next": "/accounts/login/"})
    assert response.cookies["django_language"].value == "ru"
    client = Client()
    client.cookies["django_language"] = "ru"
    assert "Войти" in client.get("/accounts/login/").content.decode()


def test_user_time_zone_is_activated(manager: User) -> None:
    manager.time_zone = "Asia/Ho_Chi_Minh"
    seen = {}

    def view(request: object) -> object:
        seen["zone"] = timezone.get_current_timezone()
        from django.http import HttpResponse

        return HttpResponse()

    request = RequestFactory().get("/")
    request.user = manager
    UserPreferencesMiddleware(view)(request)  # type: ignore[arg-type]
    assert seen["zone"] == zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def test_preferences_form_saves_and_rejects_unknown_zone(manager: User, as_manager: Client) -> None:
    response = as_manager.post("/accounts/profile/", {"language": "vi", "time_zone": "Europe/Sofia"})
    assert response.status_code == 302
    manager.refresh_from_db()
    assert (manager.language, manager.time_zone) == ("vi", "Europe/Sofia")

    response = as_manager.post("/accounts/profile/", {"language": "vi", "time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    manager.refresh_from_db()
    assert manager.time_zone == "Europe/Sofia"

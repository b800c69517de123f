from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from rapport.accounts.models import User

LOGIN = "/accounts/login/"


def test_sign_in_and_out(manager: User) -> None:
    client = Client()
    response = client.post(LOGIN, {"username": "manager", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.get("/").status_code == 200

    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get("/")["Location"].startswith(LOGIN)


def test_wrong_password_says_so_and_reveals_nothing_else(manager: User) -> None:
    wrong_password = Client().post(LOGIN, {"username": "manager", "password": "nope"})
    unknown_user = Client().post(LOGIN, {"username": "nobody", "password": "nope"})
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert "Wrong username or password." in response.content.decode()
    # Same page either way: nothing tells whether the username exists.
    assert "nobody" not in unknown_user.content.decode().replace('value="nobody"', "")


def test_sign_in_pauses_after_repeated_failures(manager: User) -> None:
    client = Client()
    for _ in range(5):
        client.post(LOGIN, {"username": "manager", "password": "wrong"})
    response = client.post(LOGIN, {"username": "manager", "password": PASSWORD})
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_from_one_address_pause_other_usernames(manager: User, teammate: User) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(5):
        client.post(LOGIN, {"username": f"guess{number}", "password": "wrong"})
    response = client.post(LOGIN, {"username": "teammate", "password": PASSWORD})
    assert "Too many failed attempts" in response.content.decode()
    # Another address is not affected.
    other = Client(REMOTE_ADDR="203.0.113.8").post(LOGIN, {"username": "teammate", "password": PASSWORD})
    assert other.status_code == 302


def test_inactive_user_cannot_sign_in(manager: User) -> None:
    manager.is_active = False
    manager.save()
    response = Client().post(LOGIN, {"username": "manager", "password": PASSWORD})
    assert "Wrong username or password." in response.content.decode()


def test_pages_need_sign_in(db: None) -> None:
    for url in ["/", "/search/?q=ab", "/notifications/", "/accounts/profile/", "/accounts/users/", "/system/"]:
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(LOGIN), url


def test_password_change(manager: User, as_manager: Client) -> None:
    response = as_manager.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "a-much-better-one-42", "new_password2": "a-much-better-one-42"},
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password("a-much-better-one-42")


def test_password_change_with_wrong_old_password_is_refused(manager: User, as_manager: Client) -> None:
    response = as_manager.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": "a-much-better-one-42", "new_password2": "a-much-better-one-42"},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/"])
def test_login_never_redirects_off_site(manager: User, next_url: str) -> None:
    response = Client().post(f"{LOGIN}?next={next_url}", {"username": "manager", "password": PASSWORD})
    assert response["Location"] == reverse("core:home")

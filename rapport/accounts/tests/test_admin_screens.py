from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from conftest import client_for
from rapport.accounts.models import Role, Team, User

ADMIN_PAGES = ["/accounts/users/", "/accounts/users/new/", "/accounts/teams/", "/accounts/teams/new/", "/system/"]


@pytest.mark.parametrize("persona", ["manager", "teammate", "head", "operator", "outsider", "agent"])
def test_only_admins_open_admin_screens(personas: dict[str, User], persona: str) -> None:
    client = client_for(personas[persona])
    someone, team = personas["teammate"], personas["manager"].team
    assert team is not None
    for url in [*ADMIN_PAGES, f"/accounts/users/{someone.pk}/", f"/accounts/teams/{team.pk}/"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/accounts/users/new/", {"username": "sneaky", "role": Role.ADMIN}).status_code == 403
    assert not User.objects.filter(username="sneaky").exists()
    # And the navigation does not offer what they cannot open.
    page = client.get("/").content.decode()
    assert 'data-nav="users"' not in page
    assert 'data-nav="system"' not in page


def test_admin_sees_admin_sections(personas: dict[str, User]) -> None:
    page = client_for(personas["admin"]).get("/").content.decode()
    for key in ["users", "teams", "system"]:
        assert f'data-nav="{key}"' in page


def test_admin_adds_a_user_who_gets_the_role_group(as_admin: Client, team_a: Team) -> None:
    response = as_admin.post(
        "/accounts/users/new/",
        {
            "username": "newbie",
            "first_name": "Nina",
            "last_name": "New",
            "email": "nina@example.com",
            "role": Role.OPERATOR,
            "team": team_a.pk,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert (user.role, user.team, user.email) == (Role.OPERATOR, team_a, "nina@example.com")
    assert list(user.groups.values_list("name", flat=True)) == ["operator"]
    assert not user.has_usable_password()  # they set it through "forgot password"


def test_duplicate_username_is_shown_next_to_the_field(as_admin: Client, manager: User) -> None:
    response = as_admin.post("/accounts/users/new/", {"username": "MANAGER", "role": Role.MANAGER})
    assert response.status_code == 422
    page = response.content.decode()
    assert "A user with this username already exists." in page
    assert 'id="id_username-error"' in page
    assert User.objects.filter(username__iexact="manager").count() == 1


def test_bad_input_gets_messages_and_writes_nothing(as_admin: Client) -> None:
    response = as_admin.post(
        "/accounts/users/new/", {"username": "has space", "email": "not-an-email", "role": "emperor"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Use letters, digits and @ . + - _ only." in page
    assert "Enter a valid email address." in page
    assert "Select a valid choice." in page
    assert not User.objects.filter(username="has space").exists()


def test_admin_changes_role_and_group_follows(as_admin: Client, manager: User, team_a: Team) -> None:
    response = as_admin.post(
        f"/accounts/users/{manager.pk}/",
        {
            "first_name": "Mark",
            "last_name": "Manager",
            "email": manager.email,
            "role": Role.HEAD,
            "team": team_a.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.role == Role.HEAD
    assert list(manager.groups.values_list("name", flat=True)) == ["head"]
    assert manager.username == "manager"


def test_the_last_admin_cannot_demote_themself(as_admin: Client, admin_user: User) -> None:
    response = as_admin.post(
        f"/accounts/users/{admin_user.pk}/",
        {"first_name": "Ada", "last_name": "Admin", "email": "", "role": Role.MANAGER, "is_active": "on"},
    )
    assert response.status_code == 422
    assert "last active administrator" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


def test_deactivated_user_is_listed_as_inactive(as_admin: Client, manager: User) -> None:
    as_admin.post(
        f"/accounts/users/{manager.pk}/",
        {"first_name": "Mark", "last_name": "Manager", "email": manager.email, "role": Role.MANAGER},
    )
    manager.refresh_from_db()
    assert not manager.is_active
    assert "Inactive" in as_admin.get("/accounts/users/").content.decode()


def test_user_list_query_count(as_admin: Client, personas: dict[str, User], django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(8):
        response = as_admin.get("/accounts/users/")
    assert response.status_code == 200
    for user in personas.values():
        assert user.display_name in response.content.decode()


def test_team_create_and_edit(as_admin: Client, head: User, outsider: User) -> None:
    response = as_admin.post("/accounts/teams/new/", {"name": "Key accounts"})
    assert response.status_code == 302
    team = Team.objects.get(name="Key accounts")

    # A manager cannot head a team; the message sits next to the field.
    response = as_admin.post(f"/accounts/teams/{team.pk}/", {"name": "Key accounts", "head": outsider.pk})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()

    duplicate = as_admin.post("/accounts/teams/new/", {"name": "key ACCOUNTS"})
    assert duplicate.status_code == 422
    assert "A team with this name already exists." in duplicate.content.decode()
    assert Team.objects.filter(name__iexact="key accounts").count() == 1


def test_head_of_another_team_cannot_head_this_one(as_admin: Client, head: User) -> None:
    response = as_admin.post("/accounts/teams/new/", {"name": "Second", "head": head.pk})
    assert response.status_code == 422
    assert "belongs to another team" in response.content.decode()
    assert not Team.objects.filter(name="Second").exists()


def test_team_list_query_count(as_admin: Client, personas: dict[str, User], django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(8):
        response = as_admin.get("/accounts/teams/")
    assert "Team A" in response.content.decode()
    assert "Hanna Head" in response.content.decode()


def test_every_role_has_its_group(db: None) -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert Group.objects.get(name="admin").permissions.filter(codename="add_user").exists()
    assert not Group.objects.get(name="agent").permissions.exists()

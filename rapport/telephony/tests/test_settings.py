"""Admins set up telephony: an integration's secret is shown once, extensions map to people, bad input is told
next to its field; nobody else opens the settings."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import client_for
from rapport.accounts.models import User
from rapport.telephony.models import Extension, Integration

LIST = reverse("telephony:integration-list")
NEW = reverse("telephony:integration-create")


def test_an_admin_creates_an_integration_and_sees_its_secret_once(as_admin: Client, head: User) -> None:
    response = as_admin.post(
        NEW,
        {
            "name": "office-pbx",
            "region": "us",
            "duty_manager": head.pk,
            "callback_minutes": 20,
            "ami_port": 5038,
            "ami_context": "from-internal",
            "is_active": "on",
        },
    )

    integration = Integration.objects.get()
    page = response.content.decode()
    assert response.status_code == 200
    assert integration.secret in page
    assert "http://testserver/telephony/office-pbx/events" in page
    assert response["Cache-Control"] == "no-store"
    assert (integration.region, integration.duty_manager, integration.callback_minutes) == ("US", head, 20)
    # Never again: not on the list, not on its settings page.
    assert integration.secret not in as_admin.get(LIST).content.decode()
    edit = reverse("telephony:integration-edit", args=[integration.pk])
    assert integration.secret not in as_admin.get(edit).content.decode()


def test_a_new_secret_replaces_the_old_one_and_is_shown_once(as_admin: Client, pbx: Integration) -> None:
    old = pbx.secret

    response = as_admin.post(reverse("telephony:integration-secret", args=[pbx.pk]))

    pbx.refresh_from_db()
    assert pbx.secret != old
    assert pbx.secret in response.content.decode()
    assert "The old secret signs nothing from now on." in response.content.decode()


def test_bad_input_is_told_next_to_its_field_and_nothing_is_saved(as_admin: Client, pbx: Integration) -> None:
    response = as_admin.post(NEW, {"name": "office-pbx", "callback_minutes": "-5", "ami_port": 5038})

    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_name-error"' in page
    assert "Telephony integration with this Name already exists." in page
    assert 'id="id_callback_minutes-error"' in page
    assert Integration.objects.count() == 1


def test_the_ami_password_is_never_drawn_and_an_empty_one_keeps_it(as_admin: Client, pbx: Integration) -> None:
    pbx.ami_secret = "s3cret-ami"
    pbx.save()
    edit = reverse("telephony:integration-edit", args=[pbx.pk])
    assert "s3cret-ami" not in as_admin.get(edit).content.decode()

    as_admin.post(
        edit,
        {
            "name": "office-pbx",
            "region": "US",
            "callback_minutes": 30,
            "ami_host": "10.0.0.5",
            "ami_port": 5038,
            "ami_username": "rapport",
            "ami_secret": "",
            "ami_context": "from-internal",
            "is_active": "on",
        },
    )

    pbx.refresh_from_db()
    assert (pbx.ami_host, pbx.ami_username, pbx.ami_secret) == ("10.0.0.5", "rapport", "s3cret-ami")
    assert pbx.has_ami


def test_extensions_map_to_people_and_move_between_them(
    as_admin: Client, pbx: Integration, manager: User, teammate: User
) -> None:
    add = reverse("telephony:extension-add", args=[pbx.pk])

    as_admin.post(add, {"number": "102", "user": teammate.pk})
    as_admin.post(add, {"number": "101", "user": teammate.pk})  # 101 was the manager's

    assert dict(Extension.objects.values_list("number", "user")) == {"101": teammate.pk, "102": teammate.pk}
    page = as_admin.get(reverse("telephony:integration-edit", args=[pbx.pk])).content.decode()
    assert page.count('class="list-group-item d-flex align-items-center gap-2 extension-row"') == 2

    extension = Extension.objects.get(number="102")
    as_admin.post(reverse("telephony:extension-remove", args=[extension.pk]))
    assert list(Extension.objects.values_list("number", flat=True)) == ["101"]


def test_an_extension_for_someone_who_does_not_call_is_refused(
    as_admin: Client, pbx: Integration, admin_user: User
) -> None:
    response = as_admin.post(reverse("telephony:extension-add", args=[pbx.pk]), {"number": "", "user": admin_user.pk})

    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_number-error"' in page
    assert 'id="id_user-error"' in page
    assert Extension.objects.count() == 1


@pytest.mark.parametrize("persona", ["manager", "teammate", "head", "outsider", "operator", "agent"])
def test_only_admins_open_and_post_the_settings(personas: dict[str, User], pbx: Integration, persona: str) -> None:
    client = client_for(personas[persona])
    extension = pbx.extensions.get()
    for url in (LIST, NEW, reverse("telephony:integration-edit", args=[pbx.pk])):
        assert client.get(url).status_code == 403, url
    for url in (
        NEW,
        reverse("telephony:integration-edit", args=[pbx.pk]),
        reverse("telephony:integration-secret", args=[pbx.pk]),
        reverse("telephony:extension-add", args=[pbx.pk]),
        reverse("telephony:extension-remove", args=[extension.pk]),
    ):
        assert client.post(url, {"name": "x", "number": "1"}).status_code == 403, url
    secret = pbx.secret
    pbx.refresh_from_db()
    assert (pbx.secret, pbx.extensions.count()) == (secret, 1)


def test_signed_out_visitors_are_sent_to_sign_in(pbx: Integration) -> None:
    response = Client().get(LIST)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_settings_menu_shows_telephony_to_admins_only(as_admin: Client, as_manager: Client) -> None:
    assert f'href="{LIST}"' in as_admin.get("/").content.decode()
    assert f'href="{LIST}"' not in as_manager.get("/").content.decode()

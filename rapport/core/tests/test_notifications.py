from __future__ import annotations

from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.core.models import Notification
from rapport.core.notifications import notify


def test_notify_reaches_the_bell_and_opening_marks_read(manager: User, as_manager: Client) -> None:
    [note] = notify(recipients=[manager], title="Client X moved to you", url="/notifications/")
    page = as_manager.get("/notifications/").content.decode()
    assert 'id="bell-count">1<' in page
    assert "Client X moved to you" in page

    response = as_manager.post(f"/notifications/{note.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    note.refresh_from_db()
    assert note.is_read
    assert 'id="bell-count"' not in as_manager.get("/").content.decode()


def test_inactive_users_are_not_notified(manager: User, teammate: User) -> None:
    teammate.is_active = False
    teammate.save()
    notify(recipients=[manager, teammate], title="Hello")
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["manager"]


def test_nobody_opens_someone_elses_notification(manager: User, teammate: User) -> None:
    [note] = notify(recipients=[manager], title="Private")
    response = client_for(teammate).post(f"/notifications/{note.pk}/open/")
    assert response.status_code == 404
    note.refresh_from_db()
    assert not note.is_read
    assert "Private" not in client_for(teammate).get("/notifications/").content.decode()


def test_off_site_links_are_not_followed(manager: User, as_manager: Client) -> None:
    [note] = notify(recipients=[manager], title="Phish", url="https://evil.example/")
    response = as_manager.post(f"/notifications/{note.pk}/open/")
    assert response["Location"] == "/notifications/"


def test_mark_all_read_through_htmx_returns_the_bell(manager: User, as_manager: Client) -> None:
    notify(recipients=[manager], title="One")
    notify(recipients=[manager], title="Two")
    response = as_manager.post("/notifications/read-all/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="bell"' in response.content.decode()
    assert 'id="bell-count"' not in response.content.decode()
    assert not Notification.objects.unread().exists()


def test_notification_list_pages_and_counts_queries(  # type: ignore[no-untyped-def]
    manager: User, as_manager: Client, django_assert_max_num_queries
) -> None:
    for number in range(30):
        notify(recipients=[manager], title=f"Note {number}")
    with django_assert_max_num_queries(8):
        response = as_manager.get("/notifications/")
    page = response.content.decode()
    assert "Note 29" in page
    assert "Note 0<" not in page
    assert "Page 1 of 2" in page
    assert "Note 0<" in as_manager.get("/notifications/?page=2").content.decode()


def test_bell_partial(manager: User, as_manager: Client) -> None:
    notify(recipients=[manager], title="Fresh")
    response = as_manager.get("/notifications/bell/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Fresh" in response.content.decode()
    assert "<html" not in response.content.decode()

"""The hourly e-mail digest of unread notifications, over a real SMTP conversation."""

from __future__ import annotations

import pytest
from django.test import override_settings

from conftest import Mailbox
from rapport.accounts.models import User
from rapport.core.models import JobRun, Notification
from rapport.core.notifications import notifications_email_digest, notify
from rapport.core.tasks import NOTIFICATION_DIGEST, notification_digest


def parts(message: object) -> dict[str, str]:
    found = {}
    for part in message.walk():  # type: ignore[attr-defined]
        if part.get_content_maintype() == "text":
            found[part.get_content_type()] = part.get_payload(decode=True).decode()
    return found


@override_settings(RAPPORT_BASE_URL="https://crm.example.com")
def test_unread_notifications_arrive_as_one_message_once(manager: User, teammate: User, smtp_server: Mailbox) -> None:
    notify(recipients=[manager], title="Checkpoint overdue: proposal for Acme", url="/sales/deals/7/")
    notify(recipients=[manager], title="Acme moved to you", body="From Tina.", url="/clients/companies/3/")
    [read] = notify(recipients=[manager], title="Already seen")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    teammate.email = ""
    teammate.save(update_fields=["email"])
    notify(recipients=[teammate], title="Nobody to mail this to")

    assert notifications_email_digest() == 1
    [message] = smtp_server.messages
    assert message["To"] == manager.email
    assert message["Subject"] == "2 new notifications in Rapport"
    text, html = parts(message)["text/plain"], parts(message)["text/html"]
    assert "Checkpoint overdue: proposal for Acme" in text
    assert "https://crm.example.com/sales/deals/7/" in text
    assert "From Tina." in text
    assert "Already seen" not in text
    assert '<a href="https://crm.example.com/clients/companies/3/"' in html
    assert "https://crm.example.com/notifications/" in html

    assert Notification.objects.filter(recipient=manager, emailed_at__isnull=False).count() == 2
    # Nothing new: no second message.
    assert notifications_email_digest() == 0
    notify(recipients=[manager], title="One more")
    notifications_email_digest()
    assert smtp_server.messages[-1]["Subject"] == "1 new notification in Rapport"
    assert len(smtp_server.messages) == 2


def test_the_digest_speaks_the_recipients_language(manager: User, smtp_server: Mailbox) -> None:
    manager.language = "ru"
    manager.save(update_fields=["language"])
    notify(recipients=[manager], title="Привет")
    notifications_email_digest()
    [message] = smtp_server.messages
    html = parts(message)["text/html"]
    assert '<html lang="ru">' in html


@pytest.mark.django_db
def test_a_refusing_mail_server_leaves_notifications_for_the_next_run(manager: User, settings: object) -> None:
    settings.MAILERS = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 1},  # nothing listens there
        }
    }
    notify(recipients=[manager], title="Waiting")
    with pytest.raises(OSError):  # noqa: PT011  (the connection itself fails before any message)
        notifications_email_digest()
    assert Notification.objects.get().emailed_at is None


def test_the_hourly_job_sends_and_records_its_run(manager: User, smtp_server: Mailbox) -> None:
    notify(recipients=[manager], title="Hello")
    notification_digest.enqueue()
    assert len(smtp_server.messages) == 1
    assert JobRun.objects.get(name=NOTIFICATION_DIGEST).runs == 1


def test_a_long_digest_lists_the_latest_and_counts_the_rest(manager: User, smtp_server: Mailbox) -> None:
    for number in range(22):
        notify(recipients=[manager], title=f"Reminder {number}")
    notifications_email_digest()
    [message] = smtp_server.messages
    assert message["Subject"] == "22 new notifications in Rapport"
    text = parts(message)["text/plain"]
    assert "Reminder 21" in text
    assert "Reminder 1\n" not in text
    assert "… and 2 more." in text
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()

"""The notification centre's one entry point: every app posts notifications through ``notify``."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from rapport.core.models import Notification, NotificationLevel

if TYPE_CHECKING:
    from rapport.accounts.models import User

logger = logging.getLogger(__name__)

# How many of the latest notifications the bell's dropdown shows.
BELL_SIZE = 6


def notify(
    *,
    recipients: Iterable[User],
    title: str,
    body: str = "",
    url: str = "",
    level: str = NotificationLevel.INFO,
) -> list[Notification]:
    """Post one notification to each recipient (inactive users are skipped)."""
    rows = [
        Notification(recipient=user, title=title[:200], body=body, url=url, level=level)
        for user in recipients
        if user.is_active
    ]
    return Notification.objects.bulk_create(rows)


@dataclass(frozen=True)
class Draft:
    """One notification to one person, for callers whose text differs per recipient (their language, say)."""

    recipient: User
    title: str
    body: str = ""
    url: str = ""
    level: str = NotificationLevel.INFO


def notify_each(drafts: Iterable[Draft]) -> list[Notification]:
    """Post many individual notifications in one statement (inactive users are skipped)."""
    rows = [
        Notification(
            recipient=draft.recipient, title=draft.title[:200], body=draft.body, url=draft.url, level=draft.level
        )
        for draft in drafts
        if draft.recipient.is_active
    ]
    return Notification.objects.bulk_create(rows)


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    notification = Notification.objects.for_user(user).get(pk=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())


def unread_count(user: User) -> int:
    return Notification.objects.for_user(user).unread().count()


# ---- The e-mail digest -----------------------------------------------------------------------

# People per run and notifications per message: a job run does bounded work, the next run goes on.
DIGEST_PEOPLE_PER_RUN = 500
DIGEST_ITEMS = 1000
DIGEST_LISTED = 20


def absolute_url(path: str) -> str:
    """A link for an e-mail: paths inside Rapport are prefixed with RAPPORT_BASE_URL."""
    if path.startswith("/"):
        return f"{settings.RAPPORT_BASE_URL}{path}"
    return path if path.startswith(("http://", "https://")) else ""


def _digest_message(user: User, notifications: list[Notification], count: int) -> EmailMultiAlternatives:
    with translation.override(user.language_or_default):
        subject = ngettext("%(count)s new notification in Rapport", "%(count)s new notifications in Rapport", count) % {
            "count": count
        }
        context = {
            "user": user,
            "count": count,
            "items": [(note, absolute_url(note.url)) for note in notifications],
            "more": max(0, count - DIGEST_LISTED),
            "all_url": absolute_url(reverse("core:notification-list")),
            "profile_url": absolute_url(reverse("accounts:profile")),
        }
        text = render_to_string("core/digest_email.txt", context)
        html = render_to_string("core/digest_email.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    return message


def notifications_email_digest() -> int:
    """E-mail each person with an address their unread notifications not e-mailed yet, as one message.

    A notification is marked e-mailed in the transaction that sends it: if the mail server
    refuses, it stays waiting for the next run. Returns how many messages went out.
    """
    from rapport.accounts.models import User

    waiting = Notification.objects.awaiting_digest()
    people = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(Exists(waiting.filter(recipient=OuterRef("pk"))))
        .order_by("pk")[:DIGEST_PEOPLE_PER_RUN]
    )
    sent = 0
    mailer = mail.mailers.default
    with mailer:
        for user in people:
            try:
                with transaction.atomic():
                    rows = waiting.filter(recipient=user).order_by("-created_at", "-id")
                    if connection.features.has_select_for_update_skip_locked:
                        # A second run at the same time skips what this one is sending.
                        rows = rows.select_for_update(skip_locked=True)
                    ids = list(rows.values_list("pk", flat=True)[:DIGEST_ITEMS])
                    if not ids:
                        continue
                    listed = list(
                        Notification.objects.filter(pk__in=ids[:DIGEST_LISTED]).order_by("-created_at", "-id")
                    )
                    mailer.send_messages([_digest_message(user, listed, len(ids))])
                    Notification.objects.filter(pk__in=ids).update(emailed_at=timezone.now())
            except (OSError, smtplib.SMTPException):
                logger.exception("The notification digest for user %s was not sent", user.pk)
            else:
                sent += 1
    return sent

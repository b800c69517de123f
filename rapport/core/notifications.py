"""The notification centre's one entry point: every app posts notifications through ``notify``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from rapport.core.models import Notification, NotificationLevel

if TYPE_CHECKING:
    from rapport.accounts.models import User

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

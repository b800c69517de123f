"""The calendar's own writes: a person's feed settings (activities themselves change through ``services``)."""

from __future__ import annotations

from django.db import transaction

from rapport.accounts.models import User
from rapport.activities.models import ActivitySettings, new_feed_token


def activity_settings_for(user: User) -> ActivitySettings:
    """The person's settings, made with the defaults (a fresh feed secret) the first time they are asked for."""
    settings, _created = ActivitySettings.objects.get_or_create(user=user)
    return settings


@transaction.atomic
def feed_token_renew(*, by: User) -> ActivitySettings:
    """Draw a new feed secret: the old feed address stops working at once (a leaked link is revoked this way)."""
    settings = activity_settings_for(by)
    settings = ActivitySettings.objects.select_for_update().get(pk=settings.pk)
    settings.feed_token = new_feed_token()
    settings.save(update_fields=["feed_token"])
    return settings

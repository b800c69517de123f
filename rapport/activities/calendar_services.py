"""The writes of my day and the calendar: a person's feed settings, and a planned call finished by its outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Activity, ActivityKind, ActivitySettings, Direction, Outcome, new_feed_token


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


@transaction.atomic
def planned_call_complete(
    *,
    by: User,
    activity: Activity,
    outcome: Outcome,
    follow_up_at: datetime | None = None,
    version: int | None = None,
) -> services.QuickLog:
    """Finish a planned call by its outcome (my day's outcome buttons); one that asks for it plans the callback.

    The quick log of the client card logs a new call; here the call was planned, so it is that
    call which is done, and nothing is left planned twice. Both writes are one transaction.
    """
    errors: dict[str, str] = {}
    if activity.kind != ActivityKind.CALL:
        errors["outcome"] = _("Only a call is finished by a call's outcome.")
    elif outcome.kind != ActivityKind.CALL or not outcome.is_active:
        errors["outcome"] = _("Choose one of the outcomes of a call.")
    elif outcome.asks_follow_up and follow_up_at is None:
        errors["follow_up_at"] = _("Choose when to call back.")
    elif follow_up_at is not None and follow_up_at < timezone.now() - timedelta(minutes=5):
        errors["follow_up_at"] = _("Choose a time to call back that is still ahead.")
    if errors:
        raise ValidationError(errors)
    changes: dict[str, object] = {"outcome": outcome}
    if not activity.subject:
        changes["subject"] = outcome.name
    call = services.activity_complete(by=by, activity=activity, version=version, **changes)
    follow_up = None
    if follow_up_at is not None and outcome.asks_follow_up:
        follow_up = services.activity_create(
            by=by,
            kind=ActivityKind.CALL,
            owner=call.owner,
            company=call.company,
            contact=call.contact,
            deal=call.deal,
            follow_up_of=call,
            direction=Direction.OUT,
            subject=_("Call back"),
            due_at=follow_up_at,
        )
    return services.QuickLog(call=call, follow_up=follow_up)

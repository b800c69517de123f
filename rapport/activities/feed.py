"""A person's activities as an iCalendar feed, for the calendar app on their phone or desktop.

The feed is read without signing in, by a secret in its address (``ActivitySettings.feed_token``);
drawing a new secret revokes the old address. It holds the owner's planned and done activities
from a month back to half a year ahead, one event each, whose UID stays the same when the
activity moves, so the calendar app updates the event rather than adding another.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.core.notifications import absolute_url

PAST = timedelta(days=30)
AHEAD = timedelta(days=180)
DEFAULT_DURATION = timedelta(minutes=30)
# A feed is read every few minutes by calendar apps: the most events it carries.
EVENT_LIMIT = 5000


def feed_activities(owner: User, now: datetime) -> list[Activity]:
    dated = Q(status=ActivityStatus.DONE) | Q(status=ActivityStatus.PLANNED, due_at__isnull=False)
    rows = (
        Activity.objects.alive()
        .filter(dated, owner=owner, at__gte=now - PAST, at__lt=now + AHEAD)
        .select_related("company", "contact", "outcome")
        .order_by("at", "pk")
    )
    return list(rows[:EVENT_LIMIT])


def _uid(activity: Activity) -> str:
    host = urlsplit(settings.RAPPORT_BASE_URL).hostname or "rapport"
    return f"activity-{activity.pk}@{host}"


def _summary(activity: Activity) -> str:
    kind = str(ActivityKind(activity.kind).label)
    subject = activity.subject or (activity.outcome.name if activity.outcome else "")
    client = activity.client
    title = f"{kind}: {subject}" if subject and subject != kind else kind
    return f"{title} · {client.display_name}" if client is not None else title


def _description(activity: Activity) -> str:
    lines = []
    client = activity.client
    if client is not None:
        lines.append(_("Client: %(name)s") % {"name": client.display_name})
        if activity.contact is not None and activity.company is not None:
            lines.append(_("Company: %(name)s") % {"name": activity.company.name})
    if activity.status == ActivityStatus.DONE:
        lines.append(_("Done") + (f": {activity.outcome.name}" if activity.outcome else ""))
    if activity.result:
        lines.append(activity.result)
    return "\n".join(lines)


def event_for(activity: Activity) -> Event:
    start = activity.done_at if activity.status == ActivityStatus.DONE else activity.due_at
    event = Event()
    event.add("uid", _uid(activity))
    event.add("dtstamp", activity.updated_at.astimezone(UTC))
    event.add("last-modified", activity.updated_at.astimezone(UTC))
    event.add("sequence", activity.version)
    event.add("dtstart", (start or activity.at).astimezone(UTC))
    event.add("duration", timedelta(minutes=activity.duration) if activity.duration else DEFAULT_DURATION)
    event.add("summary", _summary(activity))
    description = _description(activity)
    if description:
        event.add("description", description)
    event.add("url", absolute_url(reverse("activities:activity-detail", args=[activity.pk])))
    event.add("status", "CONFIRMED")
    event.add("categories", [str(ActivityKind(activity.kind).label)])
    return event


def feed_for(owner: User) -> bytes:
    """The owner's feed as iCalendar bytes, in their language (the words of the summaries)."""
    with translation.override(owner.language_or_default):
        calendar = Calendar()
        calendar.add("prodid", "-//Rapport//Activities//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", _("Rapport: %(name)s") % {"name": owner.display_name})
        calendar.add("x-published-ttl", "PT15M")
        for activity in feed_activities(owner, timezone.now()):
            calendar.add_component(event_for(activity))
        ical: bytes = calendar.to_ical()
        return ical

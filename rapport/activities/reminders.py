"""Reminders before an activity's due time and the day before a contact's birthday, each sent once.

Activity reminders: a person chooses offsets (minutes before the due time; 15 and 1440 unless
they chose others). The offset's window runs from ``due_at - offset`` to the due time (an
offset of 0, "at the due time", runs for ZERO_WINDOW after it). A run every five minutes
reminds, for each planned activity, of the tightest offset whose window is open now:

- an activity due in ten minutes is reminded once ("in 10 minutes"), not also of the day before;
- an offset whose window was already open when the activity was planned or last changed (more
  than LATE_START into it) is not sent — the person has just seen it: a call planned two minutes
  ahead gets no 15-minute reminder; one planned, or moved, to ten hours ahead gets no "1 day"
  reminder but does get the 15-minute one;
- a ReminderSent row (activity, offset, due_at) is the memory and the lock: rows go in with
  ``INSERT … ON CONFLICT DO NOTHING RETURNING`` and only the activities whose row this run
  inserted are notified, in the same transaction. Two workers at once, or a run repeated after a
  restart, therefore never remind twice; a new due time (rescheduling) is a new row, so it
  reminds again.

Birthdays: at seven each morning, the owner of each contact whose birthday is tomorrow (in the
company's time zone) is told, once a year (a BirthdayReminderSent row, claimed the same way).
Someone born on 29 February is remembered on 28 February in the years without one.

The notifications reach people's mailboxes through the hourly e-mail digest.
"""

from __future__ import annotations

import calendar
import math
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, ActivitySettings, BirthdayReminderSent, ReminderSent
from rapport.clients.models import Contact
from rapport.core.notifications import Draft, notify_each

BATCH = 500
# "At the due time" (offset 0) is sent up to this long after it: two runs of the job.
ZERO_WINDOW = timedelta(minutes=10)
# An activity planned or changed this long into an offset's window still gets that reminder: the job's period.
LATE_START = timedelta(minutes=5)
# The longest offset a person may choose: a week.
LONGEST_OFFSET = 7 * 24 * 60


@dataclass
class ReminderReport:
    due: int = 0  # reminders found due and not yet sent
    notifications: int = 0


# ---- Offsets ------------------------------------------------------------------------------------


def clean_offsets(values: Any) -> list[int]:
    """The usable offsets of a stored list, tightest first (a bad value is skipped, not a failed run)."""
    if not isinstance(values, list | tuple):
        return []
    offsets = {
        value
        for value in values
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LONGEST_OFFSET
    }
    return sorted(offsets)


def default_offsets() -> list[int]:
    return clean_offsets([int(value) for value in settings.RAPPORT_REMINDER_OFFSETS])


def offsets_for(user: User) -> list[int]:
    """The person's offsets: their own choice, else RAPPORT_REMINDER_OFFSETS."""
    chosen = ActivitySettings.objects.filter(user=user).values_list("reminder_offsets", flat=True).first()
    return default_offsets() if chosen is None else clean_offsets(chosen)


def offset_due(offsets: Sequence[int], *, due_at: datetime, changed_at: datetime, now: datetime) -> int | None:
    """The offset to remind of now: the tightest whose window is open, unless the activity was planned or
    changed after it opened."""
    for offset in offsets:  # tightest first
        opens = due_at - timedelta(minutes=offset)
        closes = due_at + ZERO_WINDOW if offset == 0 else due_at
        if opens <= now < closes:
            # A looser offset's window opened even earlier, so it was open at the change too.
            return offset if changed_at <= opens + LATE_START else None
    return None


# ---- Claiming -----------------------------------------------------------------------------------


def _db_datetime(value: datetime) -> Any:
    # As the ORM stores it (naive UTC text on SQLite), so the unique constraint compares like with like.
    return connection.ops.adapt_datetimefield_value(value)


def _insert_returning(
    table: type[Any], columns: Sequence[str], rows: Sequence[Sequence[Any]], returning: str
) -> set[int]:
    """INSERT the rows the unique constraint lets in; returns their ``returning`` column."""
    if not rows:
        return set()
    name = connection.ops.quote_name(table._meta.db_table)
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    values = ", ".join([row] * len(rows))
    names = ", ".join(connection.ops.quote_name(column) for column in columns)  # "offset" is an SQL keyword
    params = [value for values_of_row in rows for value in values_of_row]
    sql = (
        f"INSERT INTO {name} ({names}) VALUES {values} "  # noqa: S608  (names are ours, values bound)
        f"ON CONFLICT DO NOTHING RETURNING {connection.ops.quote_name(returning)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {found for (found,) in cursor.fetchall()}


# ---- Activity reminders -------------------------------------------------------------------------


def _in(minutes: int) -> str:
    """ "in 15 minutes", "in 3 hours", "in 2 days": the time left, rounded as people say it."""
    if minutes < 90:
        return ngettext("in %(count)s minute", "in %(count)s minutes", minutes) % {"count": minutes}
    if minutes < 23 * 60:
        hours = round(minutes / 60)
        return ngettext("in %(count)s hour", "in %(count)s hours", hours) % {"count": hours}
    days = round(minutes / 1440)
    return ngettext("in %(count)s day", "in %(count)s days", days) % {"count": days}


def _what(activity: Activity) -> str:
    client = activity.client
    if client is not None:
        with_client = {
            ActivityKind.CALL: _("Call with %(client)s"),
            ActivityKind.MEETING: _("Meeting with %(client)s"),
            ActivityKind.TASK: _("Task for %(client)s"),
            ActivityKind.NOTE: _("Note on %(client)s"),
            ActivityKind.EMAIL: _("E-mail to %(client)s"),
        }
        template = with_client.get(ActivityKind(activity.kind)) if activity.kind in ActivityKind.values else None
        if template is not None:
            return template % {"client": client.display_name}
    if activity.subject:
        return _("%(kind)s “%(subject)s”") % {"kind": activity.get_kind_display(), "subject": activity.subject}
    return str(activity.get_kind_display())


def _zone(user: User) -> tzinfo:
    if user.time_zone:
        try:
            return zoneinfo.ZoneInfo(user.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def reminder_text(activity: Activity, user: User, now: datetime) -> tuple[str, str]:
    """The title and body of a reminder, in the person's language and time zone."""
    assert activity.due_at is not None
    with translation.override(user.language_or_default), timezone.override(_zone(user)):
        what = _what(activity)
        minutes = math.ceil((activity.due_at - now).total_seconds() / 60)
        if minutes <= 0:
            title = _("%(activity)s now") % {"activity": what}
        else:
            title = _("%(activity)s %(in_time)s") % {"activity": what, "in_time": _in(minutes)}
        when = formats.date_format(timezone.localtime(activity.due_at), "SHORT_DATETIME_FORMAT")
        body = _("Due %(when)s.") % {"when": when}
        if activity.subject and activity.subject not in what:
            body = f"{activity.subject}. {body}"
    return title, body


def _reminders_due(now: datetime) -> list[tuple[int, int, datetime]]:
    """(activity, offset, due time) of every reminder to send now: two queries, whatever the number of people.

    The candidates are the planned activities due from ZERO_WINDOW ago to the longest offset
    anyone chose ahead (the partial index on due_at), each with the tightest offset already
    sent for its current due time.
    """
    default = default_offsets()
    chosen = {
        user_id: clean_offsets(offsets)
        for user_id, offsets in ActivitySettings.objects.values_list("user_id", "reminder_offsets")
    }
    longest = max((offset for offsets in [default, *chosen.values()] for offset in offsets), default=None)
    if longest is None:
        return []
    tightest_sent = (
        ReminderSent.objects.filter(activity=OuterRef("pk"), due_at=OuterRef("due_at"))
        .order_by("offset")
        .values("offset")[:1]
    )
    candidates = (
        Activity.objects.planned()
        .filter(
            due_at__gt=now - ZERO_WINDOW,
            due_at__lte=now + timedelta(minutes=longest),
            owner__isnull=False,
            owner__is_active=True,
        )
        .annotate(tightest_sent=Subquery(tightest_sent))
        .values_list("pk", "owner_id", "due_at", "updated_at", "tightest_sent")
        .order_by("due_at", "pk")
    )
    due = []
    for pk, owner_id, due_at, changed_at, sent in candidates:
        if due_at is None:  # excluded by the filter; for the type checker
            continue
        offset = offset_due(chosen.get(owner_id, default), due_at=due_at, changed_at=changed_at, now=now)
        if offset is None or (sent is not None and sent <= offset):
            continue  # nothing due, or already reminded as tightly
        due.append((pk, offset, due_at))
    return due


def _remind(batch: list[tuple[int, int, datetime]], now: datetime) -> int:
    """Claim and notify one batch in one transaction; returns the notifications posted."""
    with transaction.atomic():
        sent_at = _db_datetime(timezone.now())
        claimed = _insert_returning(
            ReminderSent,
            ["activity_id", "offset", "due_at", "sent_at"],
            [(pk, offset, _db_datetime(due_at), sent_at) for pk, offset, due_at in batch],
            returning="activity_id",
        )
        if not claimed:
            return 0
        activities = Activity.objects.filter(pk__in=claimed).select_related("owner", "contact", "company")
        drafts = []
        for activity in activities.order_by("due_at", "pk"):
            title, body = reminder_text(activity, activity.owner, now)
            drafts.append(Draft(recipient=activity.owner, title=title, body=body, url=activity.get_absolute_url()))
        return len(notify_each(drafts))


def _chunks[Item](items: list[Item], size: int) -> Iterable[list[Item]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reminders_send(now: datetime | None = None) -> ReminderReport:
    """Remind owners of their planned activities as their offsets ask; each reminder once."""
    now = now or timezone.now()
    due = _reminders_due(now)
    report = ReminderReport(due=len(due))
    for batch in _chunks(due, BATCH):
        report.notifications += _remind(batch, now)
    return report


# ---- Birthdays ----------------------------------------------------------------------------------


def birthdays_on(day: date) -> Q:
    """Contacts whose birthday falls on ``day`` this year: 29 February counts as 1 March when the year has none."""
    condition = Q(birthday__month=day.month, birthday__day=day.day)
    if (day.month, day.day) == (3, 1) and not calendar.isleap(day.year):
        condition |= Q(birthday__month=2, birthday__day=29)
    return condition


def birthday_text(contact: Contact, user: User, day: date) -> tuple[str, str]:
    with translation.override(user.language_or_default):
        title = _("Birthday tomorrow: %(name)s") % {"name": contact.display_name}
        when = formats.date_format(day, "SHORT_DATE_FORMAT")
        assert contact.birthday is not None
        age = day.year - contact.birthday.year
        if 0 < age < 120:
            body = _("%(name)s turns %(age)s on %(date)s.") % {"name": contact.display_name, "age": age, "date": when}
        else:
            body = _("%(name)s has a birthday on %(date)s.") % {"name": contact.display_name, "date": when}
        if contact.company is not None:
            body = f"{body} {contact.company.name}."
    return title, body


def _remind_birthdays(contacts: list[Contact], day: date) -> int:
    with transaction.atomic():
        sent_at = _db_datetime(timezone.now())
        claimed = _insert_returning(
            BirthdayReminderSent,
            ["contact_id", "year", "sent_at"],
            [(contact.pk, day.year, sent_at) for contact in contacts],
            returning="contact_id",
        )
        drafts = []
        for contact in contacts:
            if contact.pk not in claimed or contact.owner is None:
                continue
            title, body = birthday_text(contact, contact.owner, day)
            drafts.append(Draft(recipient=contact.owner, title=title, body=body, url=contact.get_absolute_url()))
        return len(notify_each(drafts))


def birthdays_remind(now: datetime | None = None) -> int:
    """Tell owners about their contacts' birthdays tomorrow (the company's time zone); returns the notifications."""
    now = now or timezone.now()
    tomorrow = timezone.localdate(now, timezone.get_default_timezone()) + timedelta(days=1)
    reminded = BirthdayReminderSent.objects.filter(contact=OuterRef("pk"), year=tomorrow.year)
    contacts = (
        Contact.objects.alive()
        .filter(birthdays_on(tomorrow), owner__isnull=False, owner__is_active=True)
        .exclude(Exists(reminded))
        .select_related("owner", "company")
        .order_by("pk")
    )
    sent = 0
    last = 0
    while True:
        page = list(contacts.filter(pk__gt=last)[:BATCH])
        if not page:
            return sent
        sent += _remind_birthdays(page, tomorrow)
        last = page[-1].pk

"""My day: what a person has to do today, what slipped, the callbacks they owe, whose birthday it is,
and which of their clients wait for a next step.

Each part is one or two queries over the person's own rows, read along an index that starts
with the owner (activities by owner and time, planned ones by owner and due time, clients by
owner and status), and each list is capped: the page costs the same queries whatever the
size of the database. Birthdays and the clients without a next step read every contact of
the person (thousands, and no index holds a birthday): the page fetches them in a second
request once it is shown (``my_day_side``), as the board does its closed columns.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import CharField, Count, Exists, F, Func, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Outcome
from rapport.clients.models import ClientStatus, Company, Contact

# Caps: a list longer than this says how many more there are and links to the activity list.
TODAY_LIMIT = 100
OVERDUE_LIMIT = 20
CALLBACK_LIMIT = 10
BIRTHDAY_LIMIT = 100
NO_NEXT_STEP_SHOWN = 10
# What other apps show at the top of my day (motivation: the plan counters), each as HTML for the request.
TOP_PANELS: list[Callable[[HttpRequest], str]] = []


def register_top_panel(panel: Callable[[HttpRequest], str]) -> None:
    if panel not in TOP_PANELS:
        TOP_PANELS.append(panel)


def top_panels(request: HttpRequest) -> str:
    return "".join(panel(request) for panel in TOP_PANELS)


CONTACT_NAME = ("last_name", "first_name", "middle_name")
# "This week": today and the six days after it.
BIRTHDAY_DAYS = 7
# What a row shows of its activity and client; the outcome comes by its id from the outcomes read once.
ROW_FIELDS = (
    "kind",
    "status",
    "subject",
    "at",
    "due_at",
    "version",
    "follow_up_of_id",
    "outcome_id",
    "owner_id",
    "deleted_at",
    "company__name",
    "contact__last_name",
    "contact__first_name",
    "contact__middle_name",
)


@dataclass(frozen=True)
class Birthday:
    contact: Contact
    on: date  # the day it is celebrated this time (28 February for 29 February outside leap years)
    age: int | None  # the age reached, when the year of birth is plausible


@dataclass(frozen=True)
class MyDay:
    """The activities: what the page shows first."""

    today: date
    activities: list[Activity]  # today's planned and done, in time order
    overdue: list[Activity]
    overdue_count: int
    callbacks: list[Activity]
    callback_count: int
    outcomes: list[Outcome]  # every kind's, retired ones too: done rows name theirs

    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)


@dataclass(frozen=True)
class Side:
    """Birthdays and the clients without a next step: read over all the person's contacts, so fetched apart."""

    today: date
    birthdays: list[Birthday]
    no_next_step: list[Company | Contact]
    no_next_step_count: int

    @property
    def more(self) -> int:
        return self.no_next_step_count - len(self.no_next_step)

    @property
    def birthdays_today(self) -> list[Birthday]:
        return [birthday for birthday in self.birthdays if birthday.on == self.today]

    @property
    def birthdays_later(self) -> list[Birthday]:
        return [birthday for birthday in self.birthdays if birthday.on != self.today]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first moment of a day and of the next, in the active (the user's) time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(day, time(), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(), tzinfo=zone),
    )


def _rows(user: User) -> QuerySet[Activity]:
    return Activity.objects.alive().filter(owner=user).select_related("company", "contact").only(*ROW_FIELDS)


def todays_activities(user: User, today: date) -> list[Activity]:
    """Planned (with a due time) and done activities of the day; ``at`` is the due or the done time."""
    start, end = day_bounds(today)
    dated = Q(status=ActivityStatus.DONE) | Q(status=ActivityStatus.PLANNED, due_at__isnull=False)
    return list(_rows(user).filter(dated, at__gte=start, at__lt=end).order_by("at", "pk")[:TODAY_LIMIT])


def overdue(user: User, today: date) -> QuerySet[Activity]:
    """Planned and due before today: listed until done or moved (the partial index of planned ones serves it)."""
    start, _end = day_bounds(today)
    return _rows(user).filter(status=ActivityStatus.PLANNED, due_at__lt=start).order_by("due_at", "pk")


def callbacks_owed(user: User) -> QuerySet[Activity]:
    """Planned calls that follow up an earlier one ("call back later"), soonest first."""
    return (
        _rows(user)
        .filter(status=ActivityStatus.PLANNED, kind=ActivityKind.CALL, follow_up_of__isnull=False)
        .order_by(F("due_at").asc(nulls_last=True), "pk")
    )


def sections_of(activity: Activity, today: date) -> set[str]:
    """The sections of my day that list the activity: "today", "overdue", "callbacks" (as the queries above choose)."""
    if activity.deleted_at is not None:
        return set()
    start, end = day_bounds(today)
    planned = activity.status == ActivityStatus.PLANNED
    found = set()
    if (
        activity.status == ActivityStatus.DONE or (planned and activity.due_at is not None)
    ) and start <= activity.at < end:
        found.add("today")
    if planned and activity.due_at is not None and activity.due_at < start:
        found.add("overdue")
    if planned and activity.kind == ActivityKind.CALL and activity.follow_up_of_id is not None:
        found.add("callbacks")
    return found


def _celebrated_on(days: list[date]) -> dict[tuple[int, int], date]:
    """(month, day) of a birth date → the day of ``days`` it is celebrated on; 29 February counts on the 28th."""
    dates = {(day.month, day.day): day for day in days}
    for day in days:
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            dates[(2, 29)] = day
    return dates


class MonthDay(Func):
    """A date's "MM-DD", in the database's own C functions (Django's month and day lookups are Python
    functions on SQLite, called once per contact: most of my day's second request there)."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="strftime('%%%%m-%%%%d', %(expressions)s)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'MM-DD')", **extra)


def birthdays(user: User, today: date, days: int = BIRTHDAY_DAYS) -> list[Birthday]:
    """The person's contacts whose birthday falls within ``days`` from today.

    The filter names each "MM-DD" of the window, so it crosses the new year on its own; the
    database reads only the owner's contacts.
    """
    window = [today + timedelta(days=offset) for offset in range(days)]
    dates = _celebrated_on(window)
    contacts = (
        Contact.objects.alive()
        .filter(owner=user, birthday__isnull=False)
        .alias(celebrated=MonthDay("birthday"))
        .filter(celebrated__in=[f"{month:02d}-{day:02d}" for month, day in dates])
        .only(*CONTACT_NAME, "birthday")
        .order_by("last_name", "first_name", "pk")
    )
    found = []
    for contact in contacts[:BIRTHDAY_LIMIT]:
        born = contact.birthday
        if born is None:  # pragma: no cover  (the filter asks for a birthday)
            continue
        on = dates[(born.month, born.day)]
        age = on.year - born.year
        found.append(Birthday(contact=contact, on=on, age=age if born.year > 1900 and 0 < age < 130 else None))
    return sorted(found, key=lambda birthday: birthday.on)


def clients_without_next_step(user: User) -> tuple[int, list[Company | Contact]]:
    """How many of the person's active clients they have planned nothing with, and the first few, least recently
    contacted first.

    The next step is the person's own: their planned activities (a few hundred, read along the
    index of planned ones by owner) are set against their clients, never every activity of each
    client. A contact person counts as taken care of when their company has a next step. Frozen
    clients wait on purpose, and the shared pool has no owner: neither is listed.
    """
    planned = Activity.objects.planned().filter(owner=user)
    companies = (
        Company.objects.alive()
        .filter(owner=user, status=ClientStatus.ACTIVE)
        .exclude(Exists(planned.filter(company=OuterRef("pk"))))
    )
    contacts = (
        Contact.objects.alive()
        .filter(owner=user, status=ClientStatus.ACTIVE)
        .exclude(Exists(planned.filter(contact=OuterRef("pk"))))
        .exclude(Exists(planned.filter(company=OuterRef("company_id"))))
    )
    order = (F("last_contact_at").asc(nulls_first=True), "pk")
    shown: list[Company | Contact] = [
        *companies.only("name", "last_contact_at").order_by(*order)[:NO_NEXT_STEP_SHOWN],
        *contacts.only(*CONTACT_NAME, "last_contact_at").order_by(*order)[:NO_NEXT_STEP_SHOWN],
    ]
    never = datetime.min.replace(tzinfo=UTC)
    shown.sort(key=lambda client: client.last_contact_at or never)
    return companies.count() + contacts.count(), shown[:NO_NEXT_STEP_SHOWN]


def _counts(user: User, today: date) -> dict[str, int]:
    """How many are overdue and how many callbacks are owed, in one pass over the person's planned activities."""
    start, _end = day_bounds(today)
    return (
        Activity.objects.planned()
        .filter(owner=user)
        .aggregate(
            overdue=Count("pk", filter=Q(due_at__lt=start)),
            callbacks=Count("pk", filter=Q(kind=ActivityKind.CALL, follow_up_of__isnull=False)),
        )
    )


def my_day(user: User) -> MyDay:
    today = timezone.localdate()
    counts = _counts(user, today)
    return MyDay(
        today=today,
        activities=todays_activities(user, today),
        overdue=list(overdue(user, today)[:OVERDUE_LIMIT]),
        overdue_count=counts["overdue"],
        callbacks=list(callbacks_owed(user)[:CALLBACK_LIMIT]),
        callback_count=counts["callbacks"],
        outcomes=list(Outcome.objects.all()),
    )


def my_day_side(user: User) -> Side:
    today = timezone.localdate()
    count, waiting = clients_without_next_step(user)
    return Side(today=today, birthdays=birthdays(user, today), no_next_step=waiting, no_next_step_count=count)

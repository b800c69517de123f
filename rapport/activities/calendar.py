"""The calendar: a day, a week or a month of activities, laid out in cells by day (and by hour).

One query reads the period's activities along the (owner, at) index, capped, with their
clients; the grid is then built in Python. Whose activities: the person's own; a head may
pick one of the team or the whole team, a role that sees everyone anyone — the people
``calendar_people`` offers, and no one else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.db.models import F, Q
from django.utils import formats, timezone

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus
from rapport.activities.services import OWNING_ROLES

# More than this in one view is a crowd: the page shows the first ones and asks to narrow down.
CARD_LIMIT = 300
# A month's day shows this many cards, then "N more" (the day view lists them all).
MONTH_CELL_CARDS = 4
# The hours a day or week shows at least; an activity earlier or later widens them.
FIRST_HOUR, LAST_HOUR = 8, 19
# What a card shows of its activity (and the access policy asks: its status and owner).
CARD_FIELDS = (
    "kind",
    "status",
    "subject",
    "at",
    "due_at",
    "version",
    "owner_id",
)
# The time a click on a month's day plans for.
MONTH_SLOT_TIME = time(9)


class View(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    view: View
    anchor: date  # the day asked for
    first: date  # the first day shown
    last: date  # the last day shown
    previous: date  # the anchor of the previous period
    next: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range((self.last - self.first).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.first, time(), tzinfo=zone),
            datetime.combine(self.last + timedelta(days=1), time(), tzinfo=zone),
        )


def first_weekday() -> int:
    """Monday 0 … Sunday 6, as the active language's FIRST_DAY_OF_WEEK says (Sunday 0 there)."""
    return (int(formats.get_format("FIRST_DAY_OF_WEEK")) - 1) % 7


def _week_start(day: date, first: int) -> date:
    return day - timedelta(days=(day.weekday() - first) % 7)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_for(view: View, anchor: date) -> Period:
    if view == View.DAY:
        step = timedelta(days=1)
        return Period(view, anchor, anchor, anchor, anchor - step, anchor + step)
    first_day = first_weekday()
    if view == View.WEEK:
        start = _week_start(anchor, first_day)
        step = timedelta(days=7)
        return Period(view, anchor, start, start + timedelta(days=6), anchor - step, anchor + step)
    month_start = anchor.replace(day=1)
    next_month = _add_months(month_start, 1)
    start = _week_start(month_start, first_day)
    end = _week_start(next_month - timedelta(days=1), first_day) + timedelta(days=6)
    return Period(view, anchor, start, end, _add_months(month_start, -1), next_month)


def calendar_people(user: User) -> list[User]:
    """Whose calendars the user may open: their own; a head their team's; a role that sees everyone, anyone's."""
    if access.client_scope(user) == access.Scope.OWN:
        return [user]  # nobody else to read
    people = access.people_in_scope(user, OWNING_ROLES)
    found = list(people.only("pk", "first_name", "last_name", "username", "role", "team_id", "is_active"))
    if all(person.pk != user.pk for person in found):
        found.insert(0, user)
    return found


@dataclass(frozen=True)
class Card:
    activity: Activity  # its owner set from the people offered, its client read as names only
    client_name: str


@dataclass
class Cell:
    day: date
    hour: int | None  # None: a month's whole day
    cards: list[Card] = field(default_factory=list)

    @property
    def slot(self) -> str:
        """The local time a click on the cell plans for, as a datetime-local input writes it."""
        at = time(self.hour) if self.hour is not None else MONTH_SLOT_TIME
        return datetime.combine(self.day, at).strftime("%Y-%m-%dT%H:%M")

    @property
    def shown(self) -> list[Card]:
        return self.cards if self.hour is not None else self.cards[:MONTH_CELL_CARDS]

    @property
    def more(self) -> int:
        return len(self.cards) - len(self.shown)


@dataclass
class Grid:
    period: Period
    today: date
    rows: list[tuple[int, list[Cell]]]  # a day or a week: (hour, a cell per day)
    weeks: list[list[Cell]]  # a month: a cell per day, seven to a row
    count: int
    truncated: bool


def period_cards(user: User, owners: dict[int, User], period: Period) -> list[Card]:
    """Planned (with a due time) and done activities of ``owners`` in the period, by time; CARD_LIMIT + 1 at most.

    A week holds a few hundred: the clients come as names, not as models, and the owners from
    ``owners``, so each card is one model built rather than four.
    """
    start, end = period.bounds()
    dated = Q(status=ActivityStatus.DONE) | Q(status=ActivityStatus.PLANNED, due_at__isnull=False)
    ids = list(owners)
    owner = Q(owner_id=ids[0]) if len(ids) == 1 else Q(owner_id__in=ids)
    rows = (
        access.activities_visible_to(user)
        .filter(owner, dated, at__gte=start, at__lt=end)
        .only(*CARD_FIELDS)
        .annotate(
            company_name=F("company__name"),
            contact_last_name=F("contact__last_name"),
            contact_first_name=F("contact__first_name"),
            contact_middle_name=F("contact__middle_name"),
        )
        .order_by("at", "pk")
    )
    cards = []
    for activity in rows[: CARD_LIMIT + 1]:
        activity.owner = owners.get(activity.owner_id or 0)  # one of them: the filter says so
        # As Contact.display_name puts a person's names; a company's name otherwise.
        names = [activity.contact_last_name, activity.contact_first_name, activity.contact_middle_name]
        contact = " ".join(name for name in names if name)
        cards.append(Card(activity, contact or activity.company_name or ""))
    return cards


def grid_for(user: User, owners: dict[int, User], period: Period) -> Grid:
    cards = period_cards(user, owners, period)
    truncated = len(cards) > CARD_LIMIT
    cards = cards[:CARD_LIMIT]
    local = {card.activity.pk: timezone.localtime(card.activity.at) for card in cards}
    days = period.days
    if period.view == View.MONTH:
        by_day: dict[date, list[Card]] = defaultdict(list)
        for card in cards:
            by_day[local[card.activity.pk].date()].append(card)
        cells = [Cell(day, None, by_day.get(day, [])) for day in days]
        weeks = [cells[index : index + 7] for index in range(0, len(cells), 7)]
        return Grid(period, timezone.localdate(), [], weeks, len(cards), truncated)
    hours = {at.hour for at in local.values()}
    first, last = min(hours | {FIRST_HOUR}), max(hours | {LAST_HOUR})
    table = {(day, hour): Cell(day, hour) for day in days for hour in range(first, last + 1)}
    for card in cards:
        at = local[card.activity.pk]
        table[(at.date(), at.hour)].cards.append(card)
    rows = [(hour, [table[(day, hour)] for day in days]) for hour in range(first, last + 1)]
    return Grid(period, timezone.localdate(), rows, [], len(cards), truncated)

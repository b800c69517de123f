"""Plan periods: a month, a quarter or custom dates, both ends included, in the company's time zone."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from rapport.motivation.models import PeriodKind


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as moments: from its first midnight to the midnight after its last day (excluded)."""
        zone = timezone.get_current_timezone()
        return datetime.combine(self.start, time.min, zone), datetime.combine(
            self.end + timedelta(days=1), time.min, zone
        )

    def elapsed_share(self, today: date) -> float:
        """How much of the period has gone by at the end of ``today``: 0 before it, 1 after it."""
        if today < self.start:
            return 0.0
        if today >= self.end:
            return 1.0
        return ((today - self.start).days + 1) / self.days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def month_of(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(day.replace(day=1), day.replace(day=last))


def quarter_of(day: date) -> Period:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    return Period(start, month_of(date(day.year, first_month + 2, 1)).end)


def period_of(kind: str, day: date) -> Period:
    """The month or quarter holding ``day`` (a custom period has no natural one: its own dates are given)."""
    return quarter_of(day) if kind == PeriodKind.QUARTER else month_of(day)


def next_period(kind: str, period: Period) -> Period:
    """The period after this one: the next month or quarter, or as many days right after custom dates."""
    if kind in {PeriodKind.MONTH, PeriodKind.QUARTER}:
        return period_of(kind, period.end + timedelta(days=1))
    return Period(period.end + timedelta(days=1), period.end + timedelta(days=period.days))

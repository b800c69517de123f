"""The team dashboard: per person of a team, this month's plan against fact, this week's load and data quality.

What a head looks at first in the morning: who is behind their plan, who has nothing planned
for Thursday, whose data is slipping. It reads, whatever the number of people or activities:
the plan grid's queries (``plan_grid``: targets, then one grouped query per metric), one
grouped query for the week's activities per person, day and status (along the owner-and-time
index), and one for the people's latest data-quality snapshots — two per person at most, to
show the change. The live quality score of ten people's thousands of clients costs more than
the whole page may; the daily snapshot (motivation.tasks, six in the morning) is the head's
figure, and the person's own page has the live one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q

from rapport.accounts.models import Team, User
from rapport.activities.models import Activity, ActivityStatus
from rapport.motivation.models import QualitySnapshot
from rapport.motivation.periods import Period, month_of
from rapport.motivation.plan_grid import PlanGrid, plan_grid
from rapport.motivation.progress import Progress
from rapport.motivation.quality import score_band

# A snapshot older than this is not "the score now": the job has not run for a while.
SNAPSHOT_FRESH_DAYS = 7
WEEK_DAYS = 7


@dataclass(frozen=True)
class DayLoad:
    day: date
    planned: int  # still planned for that day (overdue ones included, on their day)
    done: int

    @property
    def is_empty(self) -> bool:
        return not self.planned and not self.done


@dataclass(frozen=True)
class QualityNow:
    score: int
    on: date
    change: int | None  # against the snapshot a week or more before, when there is one

    @property
    def band(self) -> str:
        return score_band(self.score)


@dataclass(frozen=True)
class PersonRow:
    person: User
    cells: list[tuple[str, Progress | None]]  # metric → progress, in the grid's metric order
    week: list[DayLoad]
    quality: QualityNow | None

    @property
    def behind(self) -> int:
        return sum(1 for _metric, progress in self.cells if progress is not None and progress.pace == "behind")


@dataclass(frozen=True)
class TeamDashboard:
    team: Team | None
    period: Period
    week: Period
    grid: PlanGrid
    rows: list[PersonRow]
    team_cells: list[tuple[str, Progress | None]]  # the team's own targets, by metric

    @property
    def planned_this_week(self) -> int:
        return sum(day.planned for row in self.rows for day in row.week)

    @property
    def done_this_week(self) -> int:
        return sum(day.done for row in self.rows for day in row.week)


def week_of(day: date) -> Period:
    """Monday to Sunday around ``day``."""
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=WEEK_DAYS - 1))


def week_load(people: Sequence[User], week: Period) -> dict[int, list[DayLoad]]:
    """Person id → each day of the week: activities still planned for it and done on it.

    One query along the owner-and-time index, a pair of counts per day: each day's bounds are
    moments in the company's time zone, so the database converts no dates (SQLite would call
    Python for each row).
    """
    ids = [person.pk for person in people]
    days = [week.start + timedelta(days=offset) for offset in range(week.days)]
    counts: dict[str, Count] = {}
    for number, day in enumerate(days):
        start, end = Period(day, day).bounds()
        on_day = Q(at__gte=start, at__lt=end)
        counts[f"planned_{number}"] = Count("pk", filter=on_day & Q(status=ActivityStatus.PLANNED))
        counts[f"done_{number}"] = Count("pk", filter=on_day & Q(status=ActivityStatus.DONE))
    start, end = week.bounds()
    rows = (
        Activity.objects.alive()
        .filter(owner_id__in=ids, at__gte=start, at__lt=end, status__in=[ActivityStatus.PLANNED, ActivityStatus.DONE])
        .order_by()
        .values("owner_id")
        .annotate(**counts)
    )
    counted: dict[int, dict[str, Any]] = {row["owner_id"]: dict(row) for row in rows}
    loads: dict[int, list[DayLoad]] = {}
    for pk in ids:
        row = counted.get(pk, {})
        loads[pk] = [
            DayLoad(day, row.get(f"planned_{number}", 0), row.get(f"done_{number}", 0))
            for number, day in enumerate(days)
        ]
    return loads


def latest_quality(people: Sequence[User], today: date) -> dict[int, QualityNow]:
    """Person id → their latest data-quality snapshot of the last week, with the change since a week before it."""
    ids = [person.pk for person in people]
    since = today - timedelta(days=SNAPSHOT_FRESH_DAYS + WEEK_DAYS)
    found: dict[int, list[QualitySnapshot]] = defaultdict(list)
    for snapshot in QualitySnapshot.objects.filter(user_id__in=ids, on__gt=since, on__lte=today).order_by("on"):
        found[snapshot.user_id].append(snapshot)
    latest: dict[int, QualityNow] = {}
    for pk, snapshots in found.items():
        last = snapshots[-1]
        if last.on <= today - timedelta(days=SNAPSHOT_FRESH_DAYS):
            continue
        before = [snapshot for snapshot in snapshots if snapshot.on <= last.on - timedelta(days=WEEK_DAYS)]
        change = last.score - before[-1].score if before else None
        latest[pk] = QualityNow(score=last.score, on=last.on, change=change)
    return latest


def team_dashboard(*, people: Sequence[User], team: Team | None, today: date) -> TeamDashboard:
    """The dashboard of ``people`` (a team's, as the viewer may see them) on ``today``: this month, this week."""
    period, week = month_of(today), week_of(today)
    grid = plan_grid(people=people, team=team, period=period, today=today)
    loads = week_load(people, week)
    qualities = latest_quality(people, today)
    by_person = {row.person.pk: row for row in grid.rows if row.person is not None}
    rows = [
        PersonRow(
            person=person,
            cells=[(metric, by_person[person.pk].cells.get(metric)) for metric in grid.metrics],
            week=loads[person.pk],
            quality=qualities.get(person.pk),
        )
        for person in people
    ]
    team_row = next((row for row in grid.rows if row.is_team), None)
    team_cells = [(metric, team_row.cells.get(metric) if team_row else None) for metric in grid.metrics]
    return TeamDashboard(team=team, period=period, week=week, grid=grid, rows=rows, team_cells=team_cells)

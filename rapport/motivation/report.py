"""Plan against fact, period by period: each person's (and each team's) target, fact and percent of the target for
consecutive months or quarters.

Set-based, whatever the number of people: one query for the targets of every row, metric and
period; one for the teams' members when team totals are asked for; then one ``metrics.facts``
call per metric and period for everyone at once (people and members together). A target
counts for a period when it runs over exactly that period (a month's target for its month),
as on the plans page.

A team's row is its figure as the plans page and my day's counters count it: all its members'
together (their average for a score), against the team's own target. Revenue is counted in
one currency for the whole report (``revenue_currency``): deals in others are not converted, and
revenue targets in others are left out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.motivation.metrics import MONEY, facts
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.periods import Period, next_period, period_of
from rapport.motivation.plan_grid import team_figure

# A report longer than this is a data export, not a screen: two years of months.
MAX_PERIODS = 24
REPORT_KINDS = (PeriodKind.MONTH, PeriodKind.QUARTER)


def percent_of(fact: Decimal, target: Decimal | None) -> int | None:
    """The fact as a whole percent of the target, not capped (130 when passed by a third); None without a
    target; a target of zero is met (100), as ``Progress`` says."""
    if target is None:
        return None
    if target <= 0:
        return 100
    return int(fact * 100 / target)


def revenue_currency(targets: Iterable[Target], *, team: Team | None = None) -> tuple[str, bool]:
    """The currency revenue is counted in, and whether the targets chose it: the team's own revenue target's,
    else the one most of the revenue targets use, else the company's (``RAPPORT_DEFAULT_CURRENCY``)."""
    used: Counter[str] = Counter()
    for target in targets:
        if target.metric != Metric.REVENUE_WON or not target.currency:
            continue
        if team is not None and target.team_id == team.pk:
            return target.currency, True
        used[target.currency] += 1
    if used:
        # The most used; between equals, the first in the alphabet, so the choice does not flicker.
        return min(used, key=lambda code: (-used[code], code)), True
    return str(settings.RAPPORT_DEFAULT_CURRENCY), False


def periods_until(kind: str, last: Period, count: int) -> list[Period]:
    """``count`` consecutive periods of the kind, the last of them ``last``, oldest first."""
    found = [last]
    while len(found) < count:
        found.insert(0, period_of(kind, found[0].start - timedelta(days=1)))
    return found


@dataclass(frozen=True)
class Cell:
    period: Period
    fact: Decimal
    target: Decimal | None  # None: no target for exactly this period

    @property
    def percent(self) -> int | None:
        return percent_of(self.fact, self.target)


@dataclass(frozen=True)
class ReportRow:
    metric: str
    person: User | None  # None: a team's own row
    team: Team | None  # the team of a team's row (a person's row leaves it None)
    cells: list[Cell]  # one per period, oldest first

    @property
    def is_team(self) -> bool:
        return self.person is None

    @property
    def name(self) -> str:
        return self.person.display_name if self.person is not None else str(self.team)


@dataclass(frozen=True)
class PlanFact:
    kind: str
    periods: list[Period]
    metrics: list[str]
    currency: str  # revenue is counted in it
    currency_from_targets: bool  # False: the company's currency, as no revenue target names one
    rows: list[ReportRow]  # per metric (in Metric's order): the people, then the teams' rows

    def rows_of(self, metric: str) -> list[ReportRow]:
        return [row for row in self.rows if row.metric == metric]


def plan_fact(
    *,
    people: Sequence[User],
    teams: Sequence[Team],
    metrics: Sequence[str],
    kind: str,
    first_period: Period,
    count: int,
) -> PlanFact:
    """Target, fact and percent of each of ``people`` and ``teams``, for each metric (in Metric's order), over
    ``count`` periods of ``kind`` from ``first_period`` on.

    Queries: 1 (targets) + 1 (the teams' members, when there are teams) + one ``facts`` per metric and period.
    """
    if kind not in REPORT_KINDS:
        raise ValueError(f"a report runs over months or quarters, not {kind!r}")
    if not 1 <= count <= MAX_PERIODS:
        raise ValueError(f"a report runs over 1 to {MAX_PERIODS} periods, not {count}")
    periods = [first_period]
    while len(periods) < count:
        periods.append(next_period(kind, periods[-1]))
    asked = [metric for metric in Metric.values if metric in set(metrics)]
    person_ids = [person.pk for person in people]
    team_ids = [team.pk for team in teams]

    targets = list(
        Target.objects.filter(
            Q(user_id__in=person_ids) | Q(team_id__in=team_ids),
            metric__in=asked,
            starts_on__gte=periods[0].start,
            ends_on__lte=periods[-1].end,
        ).order_by("starts_on", "id")
    )
    currency, from_targets = revenue_currency(targets, team=teams[0] if len(teams) == 1 else None)
    values: dict[tuple[str, int | None, int | None, Period], Decimal] = {}
    for target in targets:
        if target.metric in MONEY and target.currency != currency:
            continue  # a figure in another currency cannot be set against revenue counted in this one
        values[target.metric, target.user_id, target.team_id, Period(target.starts_on, target.ends_on)] = target.value

    members: dict[int, list[int]] = defaultdict(list)
    if team_ids:
        for pk, team_id in User.objects.filter(team_id__in=team_ids).order_by("pk").values_list("pk", "team_id"):
            members[team_id].append(pk)
    everyone = sorted({*person_ids, *(pk for ids in members.values() for pk in ids)})

    counted: dict[tuple[str, Period], dict[int, Decimal]] = {
        (metric, period): facts(metric, everyone, period, currency=currency if metric in MONEY else "")
        for metric in asked
        for period in periods
    }

    rows: list[ReportRow] = []
    for metric in asked:
        for person in people:
            cells = [
                Cell(
                    period,
                    counted[metric, period].get(person.pk, Decimal(0)),
                    values.get((metric, person.pk, None, period)),
                )
                for period in periods
            ]
            rows.append(ReportRow(metric, person, None, cells))
        for team in teams:
            cells = []
            for period in periods:
                found = counted[metric, period]
                fact = team_figure(metric, [found[pk] for pk in members.get(team.pk, []) if pk in found])
                cells.append(Cell(period, fact, values.get((metric, None, team.pk, period))))
            rows.append(ReportRow(metric, None, team, cells))
    return PlanFact(
        kind=kind,
        periods=periods,
        metrics=asked,
        currency=currency,
        currency_from_targets=from_targets,
        rows=rows,
    )


def report_people(viewer: User, team: Team | None) -> list[User]:
    """The people rows a viewer gets: those whose plans they see (``access.plan_people_visible_to``: a manager
    themself, a head their team, the roles that see every client everyone), of the team when one is chosen."""
    people = access.plan_people_visible_to(viewer)
    if team is not None:
        people = people.filter(team=team)
    return list(people.order_by("first_name", "last_name", "username"))

"""Plans as people read them: a period's grid of targets with their live facts, and a person's running targets.

``plan_grid`` reads one query for the targets, one for the team's members when the team has
a target of its own, then one grouped query per metric shown (``metrics.facts``; revenue once
per currency, new clients counts companies and private persons apart) — however many people
and cells. The plans page draws it; leaderboards and the plan/fact report can read it too.

A team's figure is all its members' (as the counters of my day count it): their sum, or
their average for a score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import F, Q

from rapport.accounts.models import Team, User
from rapport.motivation import metrics
from rapport.motivation.models import Metric, Target
from rapport.motivation.periods import Period
from rapport.motivation.progress import Progress

METRIC_ORDER = {metric: position for position, metric in enumerate(Metric.values)}


@dataclass(frozen=True)
class GridRow:
    person: User | None  # None: the team's own row
    cells: dict[str, Progress] = field(default_factory=dict)  # metric → progress, where a target is set

    @property
    def is_team(self) -> bool:
        return self.person is None


@dataclass(frozen=True)
class PlanGrid:
    period: Period
    team: Team | None
    rows: list[GridRow]  # the people, then the team's own row when there is a team
    metrics: list[str]  # the metrics with a target in the period, in Metric's order
    others: list[Target]  # the same people's (and team's) targets running in the period with other dates

    @property
    def is_empty(self) -> bool:
        return not self.metrics


def team_figure(metric: str, values: Collection[Decimal]) -> Decimal:
    """A team's figure from its members' (as metrics.team_fact gives it, from values already read)."""
    if not values:
        return Decimal(0)
    total = sum(values, Decimal(0))
    if metric in metrics.AVERAGED:
        return (total / len(values)).quantize(Decimal(1))
    return total


def plan_grid(*, people: Sequence[User], team: Team | None, period: Period, today: date) -> PlanGrid:
    """The targets of exactly ``period`` for ``people`` (and for ``team``), each with its fact so far."""
    person_ids = [person.pk for person in people]
    owners = Q(user_id__in=person_ids)
    if team is not None:
        owners |= Q(team=team)
    running = list(
        Target.objects.filter(owners, starts_on__lte=period.end, ends_on__gte=period.start).order_by(
            "starts_on", "metric", "id"
        )
    )
    exact = [target for target in running if (target.starts_on, target.ends_on) == (period.start, period.end)]
    others = [target for target in running if (target.starts_on, target.ends_on) != (period.start, period.end)]

    members: list[int] = []
    if any(target.team_id is not None for target in exact) and team is not None:
        members = list(User.objects.filter(team=team).order_by("pk").values_list("pk", flat=True))

    # Who each (metric, currency) is read for: the people with such a target, and the members for the team's.
    wanted: dict[tuple[str, str], set[int]] = defaultdict(set)
    for target in exact:
        ids = {target.user_id} if target.user_id is not None else set(members)
        wanted[target.metric, target.currency].update(ids)
    facts = {
        (metric, currency): metrics.facts(metric, sorted(ids), period, currency=currency)
        for (metric, currency), ids in wanted.items()
    }

    cells: dict[int | None, dict[str, Progress]] = defaultdict(dict)
    for target in exact:
        values = facts[target.metric, target.currency]
        if target.user_id is not None:
            fact = values.get(target.user_id, Decimal(0))
        else:
            fact = team_figure(target.metric, [values[pk] for pk in members if pk in values])
        cells[target.user_id][target.metric] = Progress(target, fact, today)

    rows = [GridRow(person, cells.get(person.pk, {})) for person in people]
    if team is not None:
        rows.append(GridRow(None, cells.get(None, {})))
    shown = sorted({target.metric for target in exact}, key=METRIC_ORDER.__getitem__)
    return PlanGrid(period=period, team=team, rows=rows, metrics=shown, others=others)


def running_progress(person: User, day: date, *, with_team: bool) -> list[Progress]:
    """The person's targets running on ``day`` (and their team's, with ``with_team``), each with its fact.

    One grouped query per target (each has its own period), along the person's indexes.
    """
    team_id = person.team_id if with_team else None
    owners = Q(user=person)
    if team_id is not None:
        owners |= Q(team_id=team_id)
    # The person's own first, then the team's (NULLs sort differently on SQLite and PostgreSQL).
    running = Target.objects.filter(owners, starts_on__lte=day, ends_on__gte=day).order_by(
        F("team_id").asc(nulls_first=True), "metric", "id"
    )
    members: list[int] | None = None
    found: list[Progress] = []
    for target in running:
        period = Period(target.starts_on, target.ends_on)
        if target.user_id is not None:
            fact = metrics.facts(target.metric, [person.pk], period, currency=target.currency)[person.pk]
        else:
            if members is None:
                members = list(User.objects.filter(Q(team_id=team_id)).values_list("pk", flat=True))
            fact = metrics.team_fact(target.metric, members, period, currency=target.currency)
        found.append(Progress(target, fact, day))
    return found

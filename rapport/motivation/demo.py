"""Demo plans: this month's targets for every manager and team, set from their pace so far.

Each manager gets meetings, calls and deals won for the month, set so that some are ahead
and some behind (their fact so far, stretched to the whole month and by a random ambition);
each team a calls target, the sum of its members'. My day then opens on live counters.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.utils import timezone

from rapport.core import demo
from rapport.core.bulk import bulk_insert
from rapport.motivation import metrics
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.periods import month_of

PLANNED = (Metric.MEETINGS, Metric.CALLS, Metric.DEALS_WON)
# At least this much, whatever the month so far: a target of 0 or 1 motivates nobody.
FLOOR = {Metric.MEETINGS: 3, Metric.CALLS: 20, Metric.DEALS_WON: 1}


@demo.generator(order=60)
def targets(context: demo.DemoContext) -> None:
    managers = context.managers
    if not managers:
        return
    today = timezone.localdate()
    month = month_of(today)
    share = max(month.elapsed_share(today), 0.1)
    rng, now = context.rng, timezone.now()
    rows: list[tuple[str, int | None, int | None, int]] = []
    team_calls: dict[int, int] = {}
    for metric in PLANNED:
        facts = metrics.facts(metric, [manager.pk for manager in managers], month)
        for manager in managers:
            pace = float(facts[manager.pk]) / share
            value = max(FLOOR[metric], math.ceil(pace * rng.uniform(0.8, 1.3)))
            rows.append((metric, manager.pk, None, value))
            if metric == Metric.CALLS and manager.team_id is not None:
                team_calls[manager.team_id] = team_calls.get(manager.team_id, 0) + value
    rows += [(Metric.CALLS, None, team_id, value) for team_id, value in team_calls.items()]
    bulk_insert(
        Target,
        [
            "metric",
            "user_id",
            "team_id",
            "period_kind",
            "starts_on",
            "ends_on",
            "value",
            "currency",
            "created_at",
            "updated_at",
        ],
        (
            (metric, user_id, team_id, PeriodKind.MONTH, month.start, month.end, Decimal(value), "", now, now)
            for metric, user_id, team_id, value in rows
        ),
    )
    context.log(f"  {len(rows)} targets for {month.start:%B %Y}")

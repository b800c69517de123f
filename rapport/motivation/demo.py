"""Demo plans and bonuses: this month's targets for every manager and team, set from their pace so far;
two bonus rules and last month's statements.

Each manager gets meetings, calls and deals won for the month, set so that some are ahead
and some behind (their fact so far, stretched to the whole month and by a random ambition);
each team a calls target, the sum of its members'. My day then opens on live counters.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from rapport.core import demo
from rapport.core.bulk import bulk_insert
from rapport.motivation import metrics
from rapport.motivation.models import BonusRule, BonusRuleKind, LineKind, Metric, PeriodKind, StatementLine, Target
from rapport.motivation.periods import Period, month_of
from rapport.motivation.statements import statements_compute
from rapport.sales.models import Deal

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


# Demo bonus rules: the registrant's share whoever wins the deal, the closer's once the client was contacted.
REGISTRANT_PERCENT = Decimal(2)
CLOSER_PERCENT = Decimal(3)
# Demo sizes up to this many deals get last month's statements for every manager.
ALL_STATEMENTS_UP_TO = 30_000


@demo.generator(order=70)
def bonuses(context: demo.DemoContext) -> None:
    """Two bonus rules in force since the demo's history began, and last month's statements as drafts to approve."""
    if not context.managers:
        return
    today = timezone.localdate()
    since = today.replace(year=today.year - 3, day=1)
    BonusRule.objects.bulk_create(
        [
            BonusRule(
                name=gettext("Registrant's share"),
                kind=BonusRuleKind.REGISTRANT_SHARE,
                percent=REGISTRANT_PERCENT,
                effective_from=since,
            ),
            BonusRule(
                name=gettext("Closer's share"),
                kind=BonusRuleKind.CLOSER_SHARE,
                percent=CLOSER_PERCENT,
                min_activities=1,
                effective_from=since,
            ),
        ]
    )
    last_month = month_of(month_of(today).start - timedelta(days=1))
    first_team = [manager.pk for manager in context.managers if manager.team_id == context.managers[0].team_id]
    # At scale M, every manager's statements cost about 9 s inside the load (its new tables have no planner
    # statistics yet): there, only the demo manager's team; the nightly job computes everyone's months.
    people = [manager.pk for manager in context.managers] if context.scale.deals <= ALL_STATEMENTS_UP_TO else first_team
    result = statements_compute(last_month, people)
    _hand_over_a_won_deal(first_team, last_month)
    context.log(f"  2 bonus rules, {result.created} statements for {last_month.start:%B %Y}")


def _hand_over_a_won_deal(team: list[int], period: Period) -> None:
    """Make sure the first team (the demo manager's) shows a deal registered by one manager and won by another.

    The sales demo has a teammate register 15 % of deals, but a small demo may have none of them
    won last month: then one won deal that paid its closer is given a teammate as its registrant.
    """
    start, end = period.bounds()
    won = Deal.objects.filter(closer_id__in=team, closed_at__gte=start, closed_at__lt=end, deleted_at__isnull=True)
    if len(team) < 2 or won.exclude(registrant_id=F("closer_id")).exists():
        return
    paid = (
        StatementLine.objects.filter(
            statement__person_id__in=team,
            statement__period_start=period.start,
            statement__period_end=period.end,
            rule__kind=BonusRuleKind.CLOSER_SHARE,
            kind=LineKind.CREDIT,
        )
        .select_related("deal")
        .order_by("-amount", "pk")
        .first()
    )
    if paid is None or paid.deal is None:
        return
    closer = paid.deal.closer_id
    registrant = next(person for person in team if person != closer)
    Deal.objects.filter(pk=paid.deal.pk).update(registrant_id=registrant)
    statements_compute(period, [registrant, *([closer] if closer else [])])

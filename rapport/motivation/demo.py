"""Demo plans and bonuses: this month's targets for every manager and team, set from their pace so far;
eight weeks of data-quality scores; two bonus rules and last month's statements.

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

from rapport.clients.models import Company
from rapport.core import demo
from rapport.core.bulk import bulk_insert
from rapport.motivation import metrics, quality
from rapport.motivation.models import (
    BonusRule,
    BonusRuleKind,
    LineKind,
    Metric,
    PeriodKind,
    QualitySnapshot,
    StatementLine,
    Target,
)
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


# Weeks of daily data-quality snapshots: the team view's trend and the dashboard's change in a week.
QUALITY_WEEKS = 8


@demo.generator(order=65)
def quality_history(context: demo.DemoContext) -> None:
    """Today's data-quality scores as the morning job stores them, and a plausible history before them.

    Scores are real today (``managers_quality``); on each earlier day a little lower or higher, as data is
    completed over weeks. Not at scale M: scoring a team's tens of thousands of clients takes about a second
    per person (the morning job's work, not the load's); the benchmarks read the snapshots the same way with
    or without them.
    """
    if not context.managers or context.scale.deals > ALL_STATEMENTS_UP_TO:
        return
    people = context.managers
    today = timezone.localdate()
    scores = quality.managers_quality(people)
    snapshots = []
    for person in people:
        now = scores[person.pk]
        score, clients_score = now.score or 0, now.clients_score or 0
        share = 100 if now.activities_share is None else now.activities_share
        for back in range(7 * QUALITY_WEEKS):
            snapshots.append(
                QualitySnapshot(
                    user_id=person.pk,
                    on=today - timedelta(days=back),
                    score=score,
                    clients_score=clients_score,
                    activities_share=share,
                    clients=now.clients,
                )
            )
            if back % 7 == 6:  # the week before: a few points lower, now and then higher
                drift = context.rng.choice((-2, 0, 1, 2, 3, 4))
                score, clients_score = max(0, score - drift), max(0, clients_score - drift)
    QualitySnapshot.objects.bulk_create(snapshots)
    context.log(f"  {len(snapshots)} data-quality snapshots over {QUALITY_WEEKS} weeks")


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
    _win_without_contact_history(context, last_month)
    result = statements_compute(last_month, people)
    _hand_over_a_won_deal(first_team, last_month)
    context.log(f"  2 bonus rules, {result.created} statements for {last_month.start:%B %Y}")


def _win_without_contact_history(context: demo.DemoContext, period: Period) -> None:
    """A deal won last month by someone of the demo manager's team, moved to a new client nobody ever called
    (an order that came in by itself): the registrant's share pays, the closer's says why it does not — "no
    bonus for a deal without contact history". The deal keeps its stage moves and checkpoints."""
    first = context.managers[0]
    team = [manager.pk for manager in context.managers if manager.team_id == first.team_id]
    start, end = period.bounds()
    deal = (
        Deal.objects.filter(
            closer_id__in=team, contact__isnull=True, closed_at__gte=start, closed_at__lt=end, deleted_at__isnull=True
        )
        .order_by("closed_at", "pk")
        .first()
    )
    if deal is None:
        return
    locale = context.team_locale.get(first.team_id or 0, "en_US")
    company = Company.objects.create(name=context.faker(locale).company(), owner_id=deal.closer_id)
    Deal.objects.filter(pk=deal.pk).update(company=company)


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

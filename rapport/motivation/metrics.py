"""What each plan metric counts, read from the CRM's records as they are now: no nightly batch, so a meeting
logged a moment ago moves the counter on the next page.

``facts`` answers one metric for many people over one period in one grouped query, along an
index that starts with the person (their activities by time, the deals they registered or
won, the checkpoints they passed, the clients they registered). Counters, leaderboards and
the plan/fact report all read through it.

- calls, meetings: done calls and meetings the person owns, by the moment they were done (a
  meeting is only saved as done with its minimum data, so every one counted has it);
- new clients: companies and private persons (contacts without a company) the person
  registered — a company's people are part of that client, not new clients of their own;
- deals registered: deals the person registered, whoever owns them now;
- deals won, revenue won: deals won while the person owned them (``Deal.closer``), by the
  moment they closed; revenue counts deals in the target's currency only (there are no
  exchange rates to convert others);
- checkpoints passed: deal checkpoints the person marked done;
- data quality: the person's latest daily score in the period (motivation.quality's snapshots).
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.clients.models import Company, Contact
from rapport.motivation.models import Metric, QualitySnapshot
from rapport.motivation.periods import Period
from rapport.sales.models import Deal, DealCheckpoint

# Metrics whose team figure is the members' average rather than their sum.
AVERAGED = frozenset({Metric.DATA_QUALITY})
MONEY = frozenset({Metric.REVENUE_WON})


def _grouped(rows: QuerySet[Any], person: str, value: Any) -> dict[int, Decimal]:
    found = rows.order_by().values(person).annotate(value=value).values_list(person, "value")
    return {pk: Decimal(amount or 0) for pk, amount in found}


ACTIVITY_METRICS = {Metric.CALLS: ActivityKind.CALL, Metric.MEETINGS: ActivityKind.MEETING}


def activity_facts(ids: Collection[int], period: Period) -> dict[str, dict[int, Decimal]]:
    """Calls and meetings of many people over one period, both in one query: metric → person → count."""
    start, end = period.bounds()
    rows = Activity.objects.filter(
        owner_id__in=ids,
        at__gte=start,
        at__lt=end,
        kind__in=ACTIVITY_METRICS.values(),
        status=ActivityStatus.DONE,
        deleted_at__isnull=True,
    )
    found: dict[str, dict[int, Decimal]] = {metric: dict.fromkeys(ids, Decimal(0)) for metric in ACTIVITY_METRICS}
    metric_of: dict[str, str] = {kind: metric for metric, kind in ACTIVITY_METRICS.items()}
    for owner_id, kind, count in (
        rows.order_by().values("owner_id", "kind").annotate(n=Count("*")).values_list("owner_id", "kind", "n")
    ):
        found[metric_of[kind]][owner_id] = Decimal(count)
    return found


def _new_clients(ids: Collection[int], start: Any, end: Any) -> dict[int, Decimal]:
    window = Q(registrant_id__in=ids, created_at__gte=start, created_at__lt=end, deleted_at__isnull=True)
    totals = _grouped(Company.objects.filter(window), "registrant_id", Count("*"))
    persons = _grouped(Contact.objects.filter(window, company__isnull=True), "registrant_id", Count("*"))
    for pk, count in persons.items():
        totals[pk] = totals.get(pk, Decimal(0)) + count
    return totals


def _won(ids: Collection[int], start: Any, end: Any) -> QuerySet[Deal]:
    return Deal.objects.filter(closer_id__in=ids, closed_at__gte=start, closed_at__lt=end, deleted_at__isnull=True)


def _quality(ids: Collection[int], period: Period) -> dict[int, Decimal]:
    """Each person's latest score within the period."""
    scores: dict[int, Decimal] = {}
    rows = QualitySnapshot.objects.filter(user_id__in=ids, on__gte=period.start, on__lte=period.end)
    for user_id, score in rows.order_by("user_id", "on").values_list("user_id", "score"):
        scores[user_id] = Decimal(score)  # the last one of each person wins
    return scores


def facts(metric: str, ids: Collection[int], period: Period, *, currency: str = "") -> dict[int, Decimal]:
    """Person id → the metric's value over the period, for each of ``ids`` (0 for those with nothing)."""
    ids = list(ids)
    if not ids:
        return {}
    start, end = period.bounds()
    if metric in ACTIVITY_METRICS:
        found = activity_facts(ids, period)[metric]
    elif metric == Metric.NEW_CLIENTS:
        found = _new_clients(ids, start, end)
    elif metric == Metric.DEALS_REGISTERED:
        registered = Deal.objects.filter(
            registrant_id__in=ids, created_at__gte=start, created_at__lt=end, deleted_at__isnull=True
        )
        found = _grouped(registered, "registrant_id", Count("*"))
    elif metric == Metric.DEALS_WON:
        found = _grouped(_won(ids, start, end), "closer_id", Count("*"))
    elif metric == Metric.REVENUE_WON:
        won = _won(ids, start, end).filter(amount__isnull=False)
        found = _grouped(won.filter(currency=currency) if currency else won, "closer_id", Sum("amount"))
    elif metric == Metric.CHECKPOINTS:
        passed = DealCheckpoint.objects.filter(done_by_id__in=ids, done_at__gte=start, done_at__lt=end)
        found = _grouped(passed, "done_by_id", Count("*"))
    elif metric == Metric.DATA_QUALITY:
        found = _quality(ids, period)
    else:
        raise ValueError(f"unknown metric {metric!r}")
    return {pk: found.get(pk, Decimal(0)) for pk in ids}


def team_fact(metric: str, member_ids: Collection[int], period: Period, *, currency: str = "") -> Decimal:
    """A team's figure: its members' sum, or their average for a score."""
    values = facts(metric, member_ids, period, currency=currency)
    if not values:
        return Decimal(0)
    total = sum(values.values(), Decimal(0))
    if metric in AVERAGED:
        return (total / len(values)).quantize(Decimal(1))
    return total

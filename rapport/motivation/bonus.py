"""The bonus engine: what each person earns over a period, line by line, read set-based from the CRM's records.

``compute(person_ids, period)`` writes nothing: it answers the lines a statement should hold
now, each with its rule, its deal, its amount, the reason in a code and figures, and the
activities that made the deal eligible. motivation.statements turns them into statements.

**Shares of won deals.** A deal won in the period (closed in it, in a won stage, not deleted)
is credited to its registrant by each registrant-share rule, and to its closer — the owner
when it was won (``Deal.closer``) — by each closer-share rule, in force on the day it was won
and in its currency (a rule without one takes every currency, each deal paid in its own).
Eligibility, per rule: at least ``min_activities`` done calls, meetings or e-mails with the
client before the win (linked to the deal, its company or its contact person), every
checkpoint of the deal done, the person's data-quality score at least ``min_quality`` (their
latest daily score in the month up to the day of the win). A deal that fails pays nothing and
says why on its line.

**What was paid.** Money is paid by approved statements: for each period, its latest approved
version. For a person, a deal and a role (registrant or closer), what is due now is set
against what those statements of *other* periods paid, and the line of this period is the
difference. So a deal paid on an approved statement and later reopened, lost, deleted or
credited to someone else gets a negative line (the claw-back) equal to what was paid; once
that line is approved nothing remains to take back; a deal reopened and won again is not paid
twice ("already credited"); a registrant corrected after the old one was paid is credited in
the period being computed. What a period's own approved version paid for a deal that has
since left the period (reopened, lost, handed over) stays as approved when the period is
computed again: the claw-back belongs to the later periods. Approval checks that a statement
is still what the engine says (motivation.statements.statement_approve), so of two drafts
carrying one claw-back only the first approved keeps it. This is why a deal is credited to
its registrant once, whatever the order of events, and why handing a deal from owner to owner
never creates or loses money (test_bonus_properties).

**Plans.** A per-unit rule pays its amount for each unit of the metric above the person's
target for exactly this period; an accelerator pays its percentage of the revenue above it.
Below the plan a line says so, paying nothing.

Queries: one for the rules, one per role for the deals won, three for what approved statements
paid, one for the deals they paid that were not won in the period, one for the contact
history of all the deals, one for checkpoints not done, one for the quality scores, one for
the targets and one per metric for the plan facts — whatever the number of people and deals.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from rapport.activities.models import CONTACT_KINDS, Activity, ActivityStatus
from rapport.motivation import metrics
from rapport.motivation.models import (
    PLAN_KINDS,
    SHARE_KINDS,
    BonusRule,
    BonusRuleKind,
    LineKind,
    Metric,
    QualitySnapshot,
    Statement,
    StatementLine,
    StatementStatus,
    Target,
)
from rapport.motivation.periods import Period
from rapport.sales.models import Deal, DealCheckpoint, StageKind

CENT = Decimal("0.01")
ZERO = Decimal(0)
# A data-quality score counts for this many days after it was taken.
SCORE_VALID_DAYS = 31
# The deal field naming who holds each share's role.
ROLE_FIELD: dict[str, str] = {BonusRuleKind.REGISTRANT_SHARE: "registrant_id", BonusRuleKind.CLOSER_SHARE: "closer_id"}


@dataclass(frozen=True)
class LineDraft:
    """A statement line as computed, before it is stored."""

    rule_id: int
    kind: str
    amount: Decimal
    currency: str
    reason_code: str
    reason_params: dict[str, Any] = field(default_factory=dict)
    deal_id: int | None = None
    evidence: tuple[int, ...] = ()

    def signature(self) -> tuple[Any, ...]:
        """Everything the line shows: a draft showing other things is rewritten."""
        params = json.dumps(self.reason_params, sort_keys=True, default=str)
        return (self.rule_id, self.deal_id, self.kind, self.amount, self.reason_code, params, self.evidence)

    def payment(self) -> tuple[int, int | None, Decimal]:
        """What the line pays and for what: an approved statement gets a new version only when these differ."""
        return (self.rule_id, self.deal_id, self.amount)


# A person's stake in a deal: (person id, deal id, rule kind, currency).
Stake = tuple[int, int, str, str]


@dataclass(frozen=True)
class _Deal:
    pk: int
    amount: Decimal | None
    currency: str
    closed_at: datetime | None
    stage_kind: str
    deleted: bool
    registrant_id: int | None
    closer_id: int | None
    company_id: int | None
    contact_id: int | None

    @property
    def is_won(self) -> bool:
        return self.stage_kind == StageKind.WON and not self.deleted and self.closed_at is not None

    def holder(self, kind: str) -> int | None:
        return self.registrant_id if kind == BonusRuleKind.REGISTRANT_SHARE else self.closer_id

    def held_by(self, stake: Stake) -> bool:
        person, _deal, kind, currency = stake
        return self.is_won and self.holder(kind) == person and self.currency == currency


_DEAL_COLUMNS = (
    "pk",
    "amount",
    "currency",
    "closed_at",
    "stage__kind",
    "deleted_at",
    "registrant_id",
    "closer_id",
    "company_id",
    "contact_id",
)


def _deals(rows: Iterable[tuple[Any, ...]]) -> list[_Deal]:
    return [
        _Deal(pk, amount, currency, closed, kind, deleted is not None, registrant, closer, company, contact)
        for pk, amount, currency, closed, kind, deleted, registrant, closer, company, contact in rows
    ]


@dataclass
class _Paid:
    """What approved statements paid a person for one stake: in other periods, and the period's own."""

    elsewhere: Decimal = ZERO
    approved_here: bool = False  # the period's own approved version has lines for it
    rule_id: int = 0
    last_period: tuple[date, date] | None = None


def _approved_share_lines() -> QuerySet[StatementLine]:
    """The share lines of the statements that paid: each period's latest approved version."""
    newer_approved = Statement.objects.filter(
        person_id=OuterRef("statement__person_id"),
        period_start=OuterRef("statement__period_start"),
        period_end=OuterRef("statement__period_end"),
        currency=OuterRef("statement__currency"),
        status=StatementStatus.APPROVED,
        version__gt=OuterRef("statement__version"),
    )
    return StatementLine.objects.filter(
        statement__status=StatementStatus.APPROVED, deal__isnull=False, rule__kind__in=list(SHARE_KINDS)
    ).filter(~Exists(newer_approved))


def _handed_over(ids: list[int]) -> set[tuple[int, str]]:
    """(deal, kind) of the won deals these people registered that approved statements paid someone else for.

    A registrant corrected after the old one was paid is owed the share now, not only when the
    period of the win is computed again. (A new closer needs no such search: winning the deal
    again dates it in the period it happens in.)
    """
    rows = (
        _approved_share_lines()
        .filter(
            ~Q(deal__registrant_id=F("statement__person_id")),
            rule__kind=BonusRuleKind.REGISTRANT_SHARE,
            deal__registrant_id__in=ids,
            deal__stage__kind=StageKind.WON,
            deal__deleted_at__isnull=True,
        )
        .order_by()
        .values("statement__person_id", "deal_id", "rule__kind")
        .annotate(net=Sum("amount"))
        .exclude(net=0)
    )
    return {(row["deal_id"], row["rule__kind"]) for row in rows}


def _paid(
    ids: list[int], period: Period, start: datetime, end: datetime, handed_over: Collection[int]
) -> dict[Stake, _Paid]:
    """What the latest approved version of each period paid these people per stake.

    Left out: the stakes settled elsewhere — paid in another period for a deal the person still
    holds, in that currency, won outside this period (and not just handed over to them).
    Nothing this period computes changes them, and they are most of a person's history.
    """
    here = Q(statement__period_start=period.start, statement__period_end=period.end)
    holds = (
        Q(rule__kind=BonusRuleKind.REGISTRANT_SHARE, deal__registrant_id=F("statement__person_id"))
        | Q(rule__kind=BonusRuleKind.CLOSER_SHARE, deal__closer_id=F("statement__person_id"))
    ) & Q(deal__stage__kind=StageKind.WON, deal__deleted_at__isnull=True, deal__currency=F("statement__currency"))
    won_here = Q(deal__closed_at__gte=start, deal__closed_at__lt=end)
    in_play = here | won_here | ~holds
    if handed_over:
        in_play |= Q(deal_id__in=list(handed_over))
    rows = (
        _approved_share_lines()
        .filter(statement__person_id__in=ids)
        .filter(in_play)
        .order_by()
        .values(
            "statement__person_id",
            "deal_id",
            "rule__kind",
            "statement__currency",
            "statement__period_start",
            "statement__period_end",
        )
        .annotate(paid=Sum("amount"), last_rule=Max("rule_id"))
    )
    found: dict[Stake, _Paid] = {}
    for row in rows:
        stake = (row["statement__person_id"], row["deal_id"], row["rule__kind"], row["statement__currency"])
        paid = found.setdefault(stake, _Paid())
        paid.rule_id = max(paid.rule_id, row["last_rule"])
        span = (row["statement__period_start"], row["statement__period_end"])
        if span == (period.start, period.end):
            paid.approved_here = True
        else:
            paid.elsewhere += row["paid"]
            if row["paid"] and (paid.last_period is None or span > paid.last_period):
                paid.last_period = span
    return found


def _approved_here(ids: list[int], period: Period) -> dict[Stake, list[LineDraft]]:
    """The share lines of the period's own latest approved statements, per stake, as they were approved."""
    rows = (
        _approved_share_lines()
        .filter(statement__person_id__in=ids, statement__period_start=period.start, statement__period_end=period.end)
        .order_by("pk")
        .values_list(
            "statement__person_id",
            "statement__currency",
            "deal_id",
            "rule__kind",
            "rule_id",
            "kind",
            "amount",
            "reason_code",
            "reason_params",
            "evidence",
        )
    )
    found: dict[Stake, list[LineDraft]] = defaultdict(list)
    for person, currency, deal, rule_kind, rule, kind, amount, code, params, evidence in rows:
        found[person, deal, rule_kind, currency].append(
            LineDraft(rule, kind, amount, currency, code, dict(params), deal, tuple(int(pk) for pk in evidence))
        )
    return found


@dataclass
class _Eligibility:
    """The facts the rules' conditions ask about, read once for all the deals in play."""

    history: dict[int, list[int]] = field(default_factory=dict)  # deal → contact activities before the win
    undone: dict[int, list[str]] = field(default_factory=dict)  # deal → names of checkpoints not done
    scores: dict[int, list[tuple[date, int]]] = field(default_factory=dict)  # person → (day, score), by day

    def score_on(self, person: int, day: date) -> int | None:
        """The person's latest score on or before ``day``, if one was taken in the month before it."""
        taken = self.scores.get(person, [])
        index = bisect.bisect_right(taken, (day, 101)) - 1
        if index < 0 or taken[index][0] <= day - timedelta(days=SCORE_VALID_DAYS):
            return None
        return taken[index][1]


def _history(deals: list[_Deal]) -> dict[int, list[int]]:
    """Each deal's done calls, meetings and e-mails with its client before the win, latest first (one query)."""
    if not deals:
        return {}
    latest = max(deal.closed_at for deal in deals if deal.closed_at is not None)  # held deals are all won
    rows = Activity.objects.filter(
        Q(deal_id__in=[deal.pk for deal in deals])
        | Q(company_id__in={deal.company_id for deal in deals if deal.company_id})
        | Q(contact_id__in={deal.contact_id for deal in deals if deal.contact_id}),
        kind__in=list(CONTACT_KINDS),
        status=ActivityStatus.DONE,
        deleted_at__isnull=True,
        at__lt=latest,
    ).values_list("pk", "at", "deal_id", "company_id", "contact_id")
    on: dict[tuple[str, int], list[tuple[datetime, int]]] = defaultdict(list)
    for pk, at, deal_id, company_id, contact_id in rows:
        for link, value in (("deal", deal_id), ("company", company_id), ("contact", contact_id)):
            if value is not None:
                on[link, value].append((at, pk))
    history: dict[int, list[int]] = {}
    for deal in deals:
        seen: dict[int, datetime] = {}
        links: list[tuple[str, int | None]] = [
            ("deal", deal.pk),
            ("company", deal.company_id),
            ("contact", deal.contact_id),
        ]
        for link, linked in links:
            if linked is None:
                continue
            for at, pk in on.get((link, linked), ()):
                if deal.closed_at is not None and at < deal.closed_at:
                    seen[pk] = at
        history[deal.pk] = [pk for pk, _at in sorted(seen.items(), key=lambda item: (item[1], item[0]), reverse=True)]
    return history


def _undone(deal_ids: list[int]) -> dict[int, list[str]]:
    undone: dict[int, list[str]] = defaultdict(list)
    rows = DealCheckpoint.objects.filter(deal_id__in=deal_ids, done_at__isnull=True).order_by(
        "deal_id", "type__position", "type_id"
    )
    for deal_id, name in rows.values_list("deal_id", "type__name"):
        undone[deal_id].append(name)
    return undone


def _scores(people: Collection[int], days: Collection[date]) -> dict[int, list[tuple[date, int]]]:
    if not people or not days:
        return {}
    scores: dict[int, list[tuple[date, int]]] = defaultdict(list)
    rows = QualitySnapshot.objects.filter(
        user_id__in=list(people), on__gt=min(days) - timedelta(days=SCORE_VALID_DAYS), on__lte=max(days)
    ).order_by("user_id", "on")
    for person, day, score in rows.values_list("user_id", "on", "score"):
        scores[person].append((day, score))
    return scores


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _figure(value: Decimal) -> str:
    """A number as the reason's figures keep it: plain, without trailing zeros after the point."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _refused(
    rule: BonusRule, currency: str, code: str, params: dict[str, Any] | None = None, deal_id: int | None = None
) -> LineDraft:
    return LineDraft(rule.pk, LineKind.REFUSED, ZERO, currency, code, params or {}, deal_id)


def _quality_refusal(rule: BonusRule, person: int, day: date, facts: _Eligibility) -> tuple[str, dict[str, Any]] | None:
    if rule.min_quality is None:
        return None
    score = facts.score_on(person, day)
    if score is None:
        return "quality_unknown", {"day": day.isoformat()}
    if score < rule.min_quality:
        return "quality_below", {"score": score, "needed": rule.min_quality}
    return None


def _share_line(rule: BonusRule, deal: _Deal, person: int, facts: _Eligibility) -> LineDraft:
    assert deal.closed_at is not None  # a won deal is closed
    history = facts.history.get(deal.pk, [])
    needed = rule.min_activities
    if needed and len(history) < needed:
        return LineDraft(
            rule.pk,
            LineKind.REFUSED,
            ZERO,
            deal.currency,
            "no_contact_history",
            {"found": len(history), "needed": needed},
            deal.pk,
            tuple(history),
        )
    evidence = tuple(history[:needed])
    if rule.checkpoints_required and facts.undone.get(deal.pk):
        return _refused(rule, deal.currency, "checkpoints_not_done", {"names": facts.undone[deal.pk]}, deal.pk)
    refusal = _quality_refusal(rule, person, timezone.localdate(deal.closed_at), facts)
    if refusal is not None:
        return _refused(rule, deal.currency, refusal[0], refusal[1], deal.pk)
    percent = rule.percent or ZERO
    amount = _money((deal.amount or ZERO) * percent / 100)
    if amount <= 0:
        return _refused(rule, deal.currency, "no_amount", deal_id=deal.pk)
    params = {"percent": _figure(percent), "base": _figure(deal.amount or ZERO), "currency": deal.currency}
    return LineDraft(rule.pk, LineKind.CREDIT, amount, deal.currency, rule.kind, params, deal.pk, evidence)


def _rules_for(deal: _Deal, kind: str, rules: list[BonusRule]) -> list[BonusRule]:
    assert deal.closed_at is not None
    day = timezone.localdate(deal.closed_at)
    return [
        rule for rule in rules if rule.kind == kind and rule.in_force_on(day) and rule.currency in {"", deal.currency}
    ]


def _clawback_reason(deal: _Deal, stake: Stake) -> str:
    person, _deal, kind, currency = stake
    if deal.deleted:
        return "clawback_deleted"
    if deal.stage_kind == StageKind.LOST:
        return "clawback_lost"
    if deal.stage_kind != StageKind.WON or deal.closed_at is None:
        return "clawback_reopened"
    if deal.holder(kind) != person:
        return "clawback_not_registrant" if kind == BonusRuleKind.REGISTRANT_SHARE else "clawback_not_closer"
    if deal.currency != currency:
        return "clawback_currency"
    return "clawback_adjustment"


def _stake_lines(
    stake: Stake, deal: _Deal, paid: _Paid | None, rules: list[BonusRule], facts: _Eligibility, won_here: bool
) -> list[LineDraft]:
    person, _deal_id, kind, currency = stake
    due_lines: list[LineDraft] = []
    if deal.held_by(stake):
        due_lines = [_share_line(rule, deal, person, facts) for rule in _rules_for(deal, kind, rules)]
    elsewhere = paid.elsewhere if paid else ZERO
    if not elsewhere:
        return due_lines
    due = sum((line.amount for line in due_lines), ZERO)
    difference = due - elsewhere
    rule_id = next((line.rule_id for line in due_lines), paid.rule_id if paid else 0)
    figures = {"paid": _figure(elsewhere), "due": _figure(due), "currency": currency}
    if difference == 0:
        if not won_here or paid is None or paid.last_period is None:
            return []
        start, end = paid.last_period
        params = {"start": start.isoformat(), "end": end.isoformat()}
        return [LineDraft(rule_id, LineKind.REFUSED, ZERO, currency, "already_credited", params, deal.pk)]
    if difference > 0:
        return [LineDraft(rule_id, LineKind.CREDIT, difference, currency, "adjustment", figures, deal.pk)]
    reason = _clawback_reason(deal, stake)
    return [LineDraft(rule_id, LineKind.CLAWBACK, difference, currency, reason, figures, deal.pk)]


def _share_lines(ids: list[int], period: Period, rules: list[BonusRule]) -> dict[int, list[LineDraft]]:
    start, end = period.bounds()
    deals: dict[int, _Deal] = {}
    won_here: set[Stake] = set()
    for kind in sorted({rule.kind for rule in rules}):
        won = Deal.objects.filter(
            **{f"{ROLE_FIELD[kind]}__in": ids},
            closed_at__gte=start,
            closed_at__lt=end,
            stage__kind=StageKind.WON,
            deleted_at__isnull=True,
        )
        for deal in _deals(won.order_by().values_list(*_DEAL_COLUMNS)):
            deals[deal.pk] = deal
            holder = deal.holder(kind)
            if holder is not None:
                won_here.add((holder, deal.pk, kind, deal.currency))
    handed_over = _handed_over(ids) if rules else set()
    paid = _paid(ids, period, start, end, {deal for deal, _kind in handed_over})
    missing = ({stake[1] for stake in paid} | {deal for deal, _kind in handed_over}) - deals.keys()
    if missing:
        for deal in _deals(Deal.objects.filter(pk__in=missing).order_by().values_list(*_DEAL_COLUMNS)):
            deals[deal.pk] = deal
    taken_over: set[Stake] = set()
    for deal_id, kind in handed_over:
        deal = deals[deal_id]
        holder = deal.holder(kind)
        if holder is not None and holder in ids:
            taken_over.add((holder, deal_id, kind, deal.currency))
    stakes = sorted(won_here | taken_over | paid.keys())
    held = {stake[1]: deals[stake[1]] for stake in stakes if deals[stake[1]].held_by(stake)}
    held_list = sorted(held.values(), key=lambda deal: deal.pk)
    facts = _Eligibility()
    if held_list and any(rule.min_activities for rule in rules):
        facts.history = _history(held_list)
    if held_list and any(rule.checkpoints_required for rule in rules):
        facts.undone = _undone([deal.pk for deal in held_list])
    if held_list and any(rule.min_quality is not None for rule in rules):
        days = {timezone.localdate(deal.closed_at) for deal in held_list if deal.closed_at is not None}
        facts.scores = _scores({stake[0] for stake in stakes}, days)
    # What the period's approved version paid for a deal since reopened, lost or handed to someone else stays
    # as it was: those events belong to the periods they happened in, where the claw-back goes.
    approved_here = _approved_here(ids, period) if any(paid.approved_here for paid in paid.values()) else {}
    lines: dict[int, list[LineDraft]] = defaultdict(list)
    for stake in stakes:
        deal = deals[stake[1]]
        if stake in approved_here and not (deal.held_by(stake) and stake in won_here):
            lines[stake[0]] += approved_here[stake]
        else:
            lines[stake[0]] += _stake_lines(stake, deal, paid.get(stake), rules, facts, stake in won_here)
    return lines


def _plan_lines(ids: list[int], period: Period, rules: list[BonusRule]) -> dict[int, list[LineDraft]]:
    lines: dict[int, list[LineDraft]] = defaultdict(list)
    targets: dict[tuple[int, str, str], Decimal] = {}
    rows = Target.objects.filter(
        user_id__in=ids, metric__in={rule.metric for rule in rules}, starts_on=period.start, ends_on=period.end
    )
    for person, metric, currency, value in rows.values_list("user_id", "metric", "currency", "value"):
        targets[person, metric, currency] = value
    facts_by: dict[tuple[str, str], dict[int, Decimal]] = {}
    quality = _Eligibility()
    if any(rule.min_quality is not None for rule in rules):
        quality.scores = _scores(ids, [period.end])
    for rule in rules:
        currency = rule.currency if rule.metric in metrics.MONEY else ""
        planned = {
            person: targets[person, rule.metric, currency]
            for person in ids
            if (person, rule.metric, currency) in targets
        }
        if not planned:
            continue
        if (rule.metric, currency) not in facts_by:
            facts_by[rule.metric, currency] = metrics.facts(rule.metric, ids, period, currency=currency)
        facts = facts_by[rule.metric, currency]
        for person, plan in planned.items():
            lines[person].append(_plan_line(rule, person, facts.get(person, ZERO), plan, period, quality))
    return lines


def _plan_line(
    rule: BonusRule, person: int, fact: Decimal, plan: Decimal, period: Period, quality: _Eligibility
) -> LineDraft:
    figures: dict[str, Any] = {"metric": rule.metric, "fact": _figure(fact), "plan": _figure(plan)}
    refusal = _quality_refusal(rule, person, period.end, quality)
    if refusal is not None:
        return _refused(rule, rule.currency, refusal[0], refusal[1])
    excess = fact - plan
    if rule.kind == BonusRuleKind.ACCELERATOR:
        amount = _money(excess * (rule.percent or ZERO) / 100) if excess > 0 else ZERO
        figures |= {"percent": _figure(rule.percent or ZERO), "excess": _figure(excess)}
        code = "accelerator"
    else:
        amount = _money(excess * (rule.amount or ZERO)) if excess > 0 else ZERO
        figures |= {"excess": _figure(excess), "amount": _figure(rule.amount or ZERO), "currency": rule.currency}
        code = "above_plan"
    if amount <= 0:
        return _refused(rule, rule.currency, "plan_not_exceeded", figures)
    return LineDraft(rule.pk, LineKind.CREDIT, amount, rule.currency, code, figures)


def compute(person_ids: Collection[int], period: Period) -> dict[int, list[LineDraft]]:
    """Person id → the lines their statements for ``period`` should hold now (in any currency; maybe none)."""
    ids = sorted(set(person_ids))
    result: dict[int, list[LineDraft]] = {pk: [] for pk in ids}
    if not ids:
        return result
    rules = list(BonusRule.objects.filter(is_active=True).order_by("pk"))
    shares = [rule for rule in rules if rule.kind in SHARE_KINDS]
    planned = [
        rule
        for rule in rules
        if rule.kind in PLAN_KINDS and rule.in_force_on(period.end) and rule.metric in Metric.values
    ]
    # Claw-backs are owed even when no share rule is in use any more.
    for person, lines in _share_lines(ids, period, shares).items():
        result[person] += lines
    if planned:
        for person, lines in _plan_lines(ids, period, planned).items():
            result[person] += lines
    return result


def totals(lines: Iterable[LineDraft]) -> dict[str, Decimal]:
    """Currency → the sum of the lines in it."""
    found: dict[str, Decimal] = {}
    for line in lines:
        found[line.currency] = found.get(line.currency, ZERO) + line.amount
    return found

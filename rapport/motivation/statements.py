"""Bonus rules and statements: every change goes through these functions — the screens, the API and the nightly job.

Each runs in one transaction and checks everything before it writes: the right to act
(``accounts.access``: admins configure rules; heads approve their team members' statements,
admins anyone's, nobody their own), then the input. A refusal is a ValidationError keyed by
field (PermissionDenied for a missing right); nothing is half-written.

Statements are computed by motivation.bonus and stored per person, period and currency. The
writers of one person's statements go one at a time: each first locks that person's row, so a
recomputation and an approval cannot interleave (the approval compares the statement with a
fresh computation, which is only meaningful while nobody else writes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.motivation import bonus
from rapport.motivation.bonus import LineDraft
from rapport.motivation.metrics import MONEY
from rapport.motivation.models import (
    PLAN_KINDS,
    SHARE_KINDS,
    BonusRule,
    BonusRuleKind,
    Metric,
    Statement,
    StatementLine,
    StatementStatus,
)
from rapport.motivation.periods import Period, month_of
from rapport.motivation.services import FIRST_DAY, LAST_DAY

# Below this, so an amount fits its column (14 digits, 2 of them decimals).
AMOUNT_LIMIT = Decimal(10) ** 12
CENT = Decimal("0.01")
MAX_ACTIVITIES = 1000
SCORE_LIMIT = 100


def _lock_people(ids: Iterable[int]) -> None:
    """Serialise the writers of these people's statements (see the module's docstring); always by id."""
    list(User.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk").values_list("pk"))


def _day(value: date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


# ---- Computing statements ------------------------------------------------------------------------


@dataclass(frozen=True)
class ComputeResult:
    created: int  # new statements: a first draft, or the next version of an approved one
    updated: int  # drafts whose lines changed
    removed: int  # drafts no longer needed (nothing to say, or the same as the approved version)
    unchanged: int


def _stored(line: StatementLine, currency: str) -> LineDraft:
    return LineDraft(
        rule_id=line.rule_id,
        kind=line.kind,
        amount=line.amount,
        currency=currency,
        reason_code=line.reason_code,
        reason_params=dict(line.reason_params),
        deal_id=line.deal_id,
        evidence=tuple(int(pk) for pk in line.evidence),
    )


def _signatures(lines: Iterable[LineDraft]) -> list[tuple[Any, ...]]:
    return sorted((line.signature() for line in lines), key=repr)


def _payments(lines: Iterable[LineDraft]) -> list[tuple[Any, ...]]:
    return sorted((line.payment() for line in lines if line.amount), key=repr)


def _line(statement: Statement, draft: LineDraft) -> StatementLine:
    return StatementLine(
        statement=statement,
        rule_id=draft.rule_id,
        deal_id=draft.deal_id,
        kind=draft.kind,
        amount=draft.amount,
        reason_code=draft.reason_code,
        reason_params=draft.reason_params,
        evidence=list(draft.evidence),
    )


def _total(lines: Iterable[LineDraft]) -> Decimal:
    return sum((line.amount for line in lines), Decimal(0))


def _sellers() -> list[int]:
    return list(
        User.objects.filter(is_active=True, role__in=access.PLANNED_ROLES).order_by("pk").values_list("pk", flat=True)
    )


def statements_compute(period: Period, person_ids: Collection[int] | None = None) -> ComputeResult:
    """Bring the statements of ``period`` up to date for these people (everyone who sells when None).

    Per person and currency: a first draft when there is something to say; a draft rewritten
    when its lines changed (removed when it would only repeat the approved version before it);
    after an approved version, the next version as a draft when the money differs — its
    ``previous`` is the approved one, so the difference can be shown (``statement_difference``).
    An approved statement itself is never touched.

    The number of queries does not grow with the number of people or deals.
    """
    with transaction.atomic():
        ids = sorted(set(person_ids)) if person_ids is not None else _sellers()
        if not ids:
            return ComputeResult(0, 0, 0, 0)
        _lock_people(ids)
        return _store(period, bonus.compute(ids, period))


def _store(period: Period, computed: dict[int, list[LineDraft]]) -> ComputeResult:
    chains: dict[tuple[int, str], list[Statement]] = defaultdict(list)
    existing = Statement.objects.filter(
        person_id__in=list(computed), period_start=period.start, period_end=period.end
    ).order_by("person_id", "currency", "version")
    for statement in existing:
        chains[statement.person_id, statement.currency].append(statement)
    wanted: dict[tuple[int, str], list[LineDraft]] = defaultdict(list)
    for person, lines in computed.items():
        for line in lines:
            wanted[person, line.currency].append(line)
    compared = {chain[-1].pk for chain in chains.values()} | {
        chain[-2].pk for chain in chains.values() if len(chain) > 1
    }
    stored: dict[int, list[LineDraft]] = defaultdict(list)
    currency_of = {statement.pk: statement.currency for chain in chains.values() for statement in chain}
    for kept in StatementLine.objects.filter(statement_id__in=compared).order_by("pk"):
        stored[kept.statement_id].append(_stored(kept, currency_of[kept.statement_id]))

    now = timezone.now()
    created: list[tuple[Statement, list[LineDraft]]] = []
    rewritten: list[tuple[Statement, list[LineDraft]]] = []
    removed: list[int] = []
    unchanged = 0
    for key in sorted(chains.keys() | wanted.keys()):
        person, currency = key
        lines, chain = wanted.get(key, []), chains.get(key, [])
        latest = chain[-1] if chain else None
        if latest is None:
            fresh = Statement(person_id=person, period_start=period.start, period_end=period.end, currency=currency)
            fresh.total, fresh.computed_at = _total(lines), now
            created.append((fresh, lines))
        elif latest.is_approved:
            if _payments(lines) == _payments(stored[latest.pk]):
                unchanged += 1
                continue
            following = Statement(
                person_id=person,
                period_start=period.start,
                period_end=period.end,
                currency=currency,
                version=latest.version + 1,
                previous=latest,
            )
            following.total, following.computed_at = _total(lines), now
            created.append((following, lines))
        else:
            before = chain[-2] if len(chain) > 1 else None
            repeats = _payments(lines) == _payments(stored[before.pk]) if before is not None else not lines
            if repeats:
                removed.append(latest.pk)
            elif _signatures(lines) != _signatures(stored[latest.pk]):
                latest.total, latest.computed_at = _total(lines), now
                rewritten.append((latest, lines))
            else:
                unchanged += 1

    if removed:
        Statement.objects.filter(pk__in=removed, status=StatementStatus.DRAFT).delete()
    if rewritten:
        StatementLine.objects.filter(statement_id__in=[statement.pk for statement, _lines in rewritten]).delete()
        Statement.objects.bulk_update([statement for statement, _lines in rewritten], ["total", "computed_at"])
    if created:
        Statement.objects.bulk_create([statement for statement, _lines in created])
    new_lines = [_line(statement, line) for statement, lines in [*created, *rewritten] for line in lines]
    if new_lines:
        StatementLine.objects.bulk_create(new_lines)
    return ComputeResult(created=len(created), updated=len(rewritten), removed=len(removed), unchanged=unchanged)


# ---- Approving -------------------------------------------------------------------------------------


def statement_approve(*, by: User, statement: Statement) -> Statement:
    """Approve a draft as the head saw it: from then on it never changes.

    Refused when it is not the approver's to approve (PermissionDenied), when it is approved
    already, and when it is not what the head saw: recomputed since (``computed_at`` differs),
    or no longer what the engine computes now — then the draft is brought up to date first, so
    the head reviews the current figures (claw-backs of one deal in two periods' drafts: only
    the first approved keeps its line).
    """
    if not access.can_approve_statement(by, statement):
        raise PermissionDenied
    period = Period(statement.period_start, statement.period_end)
    with transaction.atomic():
        _lock_people([statement.person_id])
        current = Statement.objects.select_for_update().filter(pk=statement.pk).first()
        if current is None:
            raise ValidationError(
                _("This statement was recomputed meanwhile: reload it to see its figures."), code="gone"
            )
        if current.is_approved:
            approver = current.approved_by.display_name if current.approved_by else _("someone")
            raise ValidationError(
                _("This statement was already approved by %(name)s on %(day)s.")
                % {"name": approver, "day": _day(timezone.localdate(current.approved_at))},
                code="approved",
            )
        if current.computed_at != statement.computed_at:
            raise ValidationError(
                _("This statement was recomputed since you opened it: reload it and review its figures."),
                code="stale",
            )
        fresh = [
            line
            for line in bonus.compute([current.person_id], period)[current.person_id]
            if line.currency == current.currency
        ]
        stored = [_stored(line, current.currency) for line in current.lines.order_by("pk")]
        if _signatures(fresh) == _signatures(stored):
            current.status, current.approved_by, current.approved_at = StatementStatus.APPROVED, by, timezone.now()
            current.save(update_fields=["status", "approved_by", "approved_at"])
            return current
    statements_compute(period, [statement.person_id])
    raise ValidationError(
        _(
            "The figures changed since this statement was computed (a deal or an approval meanwhile): "
            "it now shows the current ones. Review them and approve again."
        ),
        code="stale",
    )


@dataclass(frozen=True)
class LineChange:
    """One line's amount in a version against the version it supersedes."""

    rule_id: int
    deal_id: int | None
    before: Decimal
    after: Decimal
    line: StatementLine | None  # in this version
    earlier: StatementLine | None  # in the one before

    @property
    def difference(self) -> Decimal:
        return self.after - self.before


def statement_difference(statement: Statement) -> list[LineChange]:
    """What changed against the previous version, line by line (by rule and deal); empty for a first version."""
    if statement.previous_id is None:
        return []
    related = ("rule", "deal")
    now = list(StatementLine.objects.filter(statement=statement).select_related(*related).order_by("pk"))
    then = list(
        StatementLine.objects.filter(statement_id=statement.previous_id).select_related(*related).order_by("pk")
    )
    keyed_now: dict[tuple[int, int | None], list[StatementLine]] = defaultdict(list)
    keyed_then: dict[tuple[int, int | None], list[StatementLine]] = defaultdict(list)
    for line in now:
        keyed_now[line.rule_id, line.deal_id].append(line)
    for line in then:
        keyed_then[line.rule_id, line.deal_id].append(line)
    changes = []
    for key in sorted(keyed_now.keys() | keyed_then.keys(), key=lambda pair: (pair[1] or 0, pair[0])):
        after = sum((line.amount for line in keyed_now.get(key, [])), Decimal(0))
        before = sum((line.amount for line in keyed_then.get(key, [])), Decimal(0))
        if after != before:
            shown = keyed_now[key][0] if keyed_now.get(key) else None
            earlier = keyed_then[key][0] if keyed_then.get(key) else None
            changes.append(LineChange(key[0], key[1], before, after, shown, earlier))
    return changes


# ---- Bonus so far ----------------------------------------------------------------------------------


def bonus_so_far(person: User, today: date) -> dict[str, Decimal]:
    """Currency → what the person's statement for the month of ``today`` would pay now, computed live for them alone."""
    return bonus.totals(bonus.compute([person.pk], month_of(today))[person.pk])


def bonus_so_far_of(
    viewer: User, today: date, *, people: Collection[int] | None = None
) -> dict[int, dict[str, Decimal]]:
    """Person id → their bonus so far, for everyone whose pay the viewer sees (a head: the team), computed at once.

    ``people``: only these of them (the others are left out, not refused).
    """
    visible = access.pay_people_visible_to(viewer)
    if people is not None:
        visible = visible.filter(pk__in=list(people))
    computed = bonus.compute(list(visible.order_by("pk").values_list("pk", flat=True)), month_of(today))
    return {person: bonus.totals(lines) for person, lines in computed.items()}


# ---- Rules -------------------------------------------------------------------------------------------

# What a rule says, as opposed to its name and whether it is in use: changed on a rule an
# approved statement used, they make a new version.
TERMS = (
    "kind",
    "percent",
    "amount",
    "metric",
    "currency",
    "min_activities",
    "checkpoints_required",
    "min_quality",
    "effective_from",
    "effective_until",
)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _whole(value: Any, low: int, high: int) -> int | None:
    number = _number(value)
    if number is None or number != number.to_integral_value() or not low <= number <= high:
        return None
    return int(number)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _checked_percent(value: Any, errors: dict[str, str]) -> Decimal | None:
    if _empty(value):
        errors["percent"] = _("Give the percentage.")
        return None
    number = _number(value)
    if number is None:
        errors["percent"] = _("Give a number.")
    elif number <= 0:
        errors["percent"] = _("An empty rule pays nothing: give a percentage above 0.")
    elif number > 100:
        errors["percent"] = _("A percentage cannot be over 100.")
    elif number != number.quantize(CENT):
        errors["percent"] = _("Give at most two decimals.")
    return number


def _checked_amount(value: Any, errors: dict[str, str]) -> Decimal | None:
    if _empty(value):
        errors["amount"] = _("Give the amount paid per unit.")
        return None
    number = _number(value)
    if number is None:
        errors["amount"] = _("Give a number.")
    elif number <= 0:
        errors["amount"] = _("An empty rule pays nothing: give an amount above 0.")
    elif number >= AMOUNT_LIMIT:
        errors["amount"] = _("An amount must be below 1,000,000,000,000.")
    elif number != number.quantize(CENT):
        errors["amount"] = _("Give at most two decimals (cents).")
    return number


def _checked_terms(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The rule's fields as stored, and what is wrong with them by field."""
    errors: dict[str, str] = {}
    kind = fields["kind"]
    name = (fields["name"] or "").strip()
    if not name:
        errors["name"] = _("Give the rule a name.")
    elif len(name) > 100:
        errors["name"] = _("A name has at most 100 characters.")
    terms: dict[str, Any] = {"name": name, "kind": kind, "percent": None, "amount": None, "metric": ""}
    if kind not in BonusRuleKind.values:
        errors["kind"] = _("Choose one of the kinds: %(names)s.") % {"names": ", ".join(BonusRuleKind.values)}
        return terms, errors

    metric = (fields["metric"] or "").strip()
    if kind in SHARE_KINDS:
        terms["percent"] = _checked_percent(fields["percent"], errors)
        if metric:
            errors["metric"] = _("A share of won deals counts no metric: leave it empty.")
        if not _empty(fields["amount"]):
            errors["amount"] = _("A share is a percentage of the deal: leave the amount empty.")
    else:
        if metric not in Metric.values:
            errors["metric"] = _("Choose the metric whose plan it rewards.")
        elif kind == BonusRuleKind.ACCELERATOR and metric not in MONEY:
            errors["metric"] = _(
                "An accelerator pays a percentage of the revenue above the plan: choose “%(name)s”."
            ) % {"name": Metric.REVENUE_WON.label}
        terms["metric"] = metric
        if kind == BonusRuleKind.ACCELERATOR:
            terms["percent"] = _checked_percent(fields["percent"], errors)
            if not _empty(fields["amount"]):
                errors["amount"] = _("An accelerator pays a percentage: leave the amount empty.")
        else:
            terms["amount"] = _checked_amount(fields["amount"], errors)
            if not _empty(fields["percent"]):
                errors["percent"] = _("A per-unit rule pays an amount per unit: leave the percentage empty.")

    code = (fields["currency"] or "").strip().upper()
    if kind in PLAN_KINDS and not code:
        code = settings.RAPPORT_DEFAULT_CURRENCY
    if code and code not in settings.RAPPORT_CURRENCIES:
        errors["currency"] = _("Choose one of the currencies: %(codes)s.") % {
            "codes": ", ".join(settings.RAPPORT_CURRENCIES)
        }
    terms["currency"] = code

    activities = _whole(fields["min_activities"] if not _empty(fields["min_activities"]) else 0, 0, MAX_ACTIVITIES)
    if activities is None:
        errors["min_activities"] = _("Give a whole number from 0 to 1,000.")
    elif activities and kind in PLAN_KINDS:
        errors["min_activities"] = _("Contact history is a condition on deals: only a share of won deals asks for it.")
    terms["min_activities"] = activities or 0
    checkpoints = bool(fields["checkpoints_required"])
    if checkpoints and kind in PLAN_KINDS:
        errors["checkpoints_required"] = _(
            "Checkpoints are a condition on deals: only a share of won deals asks for them."
        )
    terms["checkpoints_required"] = checkpoints
    quality = None
    if not _empty(fields["min_quality"]):
        quality = _whole(fields["min_quality"], 0, SCORE_LIMIT)
        if quality is None:
            errors["min_quality"] = _("Data quality is a whole score from 0 to 100.")
    terms["min_quality"] = quality

    starts, ends = fields["effective_from"], fields["effective_until"]
    if starts is None:
        errors["effective_from"] = _("Give the first day the rule is in force.")
    elif not FIRST_DAY <= starts <= LAST_DAY:
        errors["effective_from"] = _out_of_range()
    if ends is not None:
        if starts is not None and ends < starts:
            errors["effective_until"] = _("The last day cannot be before the first.")
        elif ends > LAST_DAY:
            errors["effective_until"] = _out_of_range()
    terms["effective_from"], terms["effective_until"] = starts, ends
    terms["is_active"] = bool(fields["is_active"])
    return terms, errors


def _out_of_range() -> str:
    return _("Choose a date between %(first)s and %(last)s.") % {"first": _day(FIRST_DAY), "last": _day(LAST_DAY)}


def _overlapping(terms: dict[str, Any], others: Iterable[int]) -> BonusRule | None:
    """An active rule of the same kind that would pay for the same thing on some of the same days."""
    ends = terms["effective_until"] or LAST_DAY
    found = BonusRule.objects.filter(
        Q(effective_until__isnull=True) | Q(effective_until__gte=terms["effective_from"]),
        kind=terms["kind"],
        metric=terms["metric"],
        is_active=True,
        effective_from__lte=ends,
    ).exclude(pk__in=list(others))
    if terms["kind"] in SHARE_KINDS and terms["currency"]:
        # A share without a currency takes every currency, so it overlaps one with a currency.
        found = found.filter(currency__in=["", terms["currency"]])
    elif terms["kind"] in PLAN_KINDS:
        found = found.filter(currency=terms["currency"])
    return found.order_by("effective_from").first()


def _used_in_approved(rule: BonusRule) -> bool:
    return StatementLine.objects.filter(rule=rule, statement__status=StatementStatus.APPROVED).exists()


def _to_the_millisecond(moment: datetime) -> datetime:
    """A moment as forms and JSON send it back (JSON answers keep milliseconds only)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@transaction.atomic
def rule_save(
    *,
    by: User,
    name: str,
    kind: str,
    effective_from: date | None,
    percent: Decimal | int | str | None = None,
    amount: Decimal | int | str | None = None,
    metric: str = "",
    currency: str = "",
    min_activities: int | str | None = 0,
    checkpoints_required: bool = False,
    min_quality: int | str | None = None,
    effective_until: date | None = None,
    is_active: bool = True,
    rule: BonusRule | None = None,
    seen: datetime | None = None,
) -> BonusRule:
    """Create a rule (``rule``: change that one) — admins only.

    Refused by field: a percentage missing, not above 0 (an empty rule pays nothing) or over
    100; a per-unit rule without its metric and amount; an accelerator on anything but revenue;
    deal conditions on a plan rule; dates out of order; a second active rule paying for the
    same thing on the same days; a change to a rule saved by someone else since ``seen`` (its ``updated_at``
    when the form was drawn). Changing the terms of a rule an approved statement used makes
    a new version (``replaces`` it); the old one then stops the day before the new one starts,
    or altogether when the new one starts no later. The new version is returned.
    """
    if not access.can_configure_bonus_rules(by):
        raise PermissionDenied
    current: BonusRule | None = None
    if rule is not None:
        current = BonusRule.objects.select_for_update().filter(pk=rule.pk).first()
        if current is None:
            raise ValidationError(_("This rule was deleted meanwhile."))
        if BonusRule.objects.filter(replaces=current).exists():
            raise ValidationError(_("This rule was replaced by a newer version meanwhile: change that one."))
        if seen is not None and _to_the_millisecond(current.updated_at) != _to_the_millisecond(seen):
            raise ValidationError(
                _("Someone changed this rule since you opened it: reload it to see their change, then make yours."),
                code="stale",
            )
    terms, errors = _checked_terms(
        {
            "name": name,
            "kind": kind,
            "percent": percent,
            "amount": amount,
            "metric": metric,
            "currency": currency,
            "min_activities": min_activities,
            "checkpoints_required": checkpoints_required,
            "min_quality": min_quality,
            "effective_from": effective_from,
            "effective_until": effective_until,
            "is_active": is_active,
        }
    )
    if current is not None and terms["kind"] != current.kind and "kind" not in errors:
        errors["kind"] = _("A rule keeps its kind: make a new rule for another kind.")
    if errors:
        raise ValidationError(errors)
    if terms["is_active"]:
        clash = _overlapping(terms, [current.pk] if current else [])
        if clash is not None:
            raise ValidationError(
                {
                    "effective_from": _(
                        "“%(name)s” already pays for this from %(start)s%(end)s: change that rule, "
                        "or choose dates that do not overlap it."
                    )
                    % {
                        "name": clash.name,
                        "start": _day(clash.effective_from),
                        "end": f" – {_day(clash.effective_until)}" if clash.effective_until else "",
                    }
                }
            )
    if current is None:
        return BonusRule.objects.create(**terms, created_by=by)
    changed = [term for term in TERMS if getattr(current, term) != terms[term]]
    if changed and _used_in_approved(current):
        return _new_version(current, terms, by)
    for term, value in terms.items():
        setattr(current, term, value)
    current.save(update_fields=[*terms, "updated_at"])
    return current


def _new_version(current: BonusRule, terms: dict[str, Any], by: User) -> BonusRule:
    starts = terms["effective_from"]
    if starts > current.effective_from:
        day_before = starts - timedelta(days=1)
        if current.effective_until is None or current.effective_until > day_before:
            current.effective_until = day_before
            current.save(update_fields=["effective_until", "updated_at"])
    else:
        current.is_active = False
        current.save(update_fields=["is_active", "updated_at"])
    return BonusRule.objects.create(**terms, replaces=current, created_by=by)


# ---- Reading a period's statements -----------------------------------------------------------------


def statements_of_period(viewer: User, period: Period, *, team_id: int | None = None) -> list[Statement]:
    """The statements of ``period`` the viewer sees (of one team's people when ``team_id``), each person's latest
    version per currency — an older one is superseded by the version naming it ``previous`` — by person's name.

    One query, with the person, their team and the approver.
    """
    superseded = Statement.objects.filter(
        period_start=period.start, period_end=period.end, previous__isnull=False
    ).values("previous_id")
    statements = access.statements_visible_to(viewer).filter(period_start=period.start, period_end=period.end)
    if team_id is not None:
        statements = statements.filter(person__team_id=team_id)
    return list(
        statements.exclude(pk__in=superseded)
        .select_related("person", "person__team", "approved_by")
        .order_by("person__first_name", "person__last_name", "person__username", "person_id", "currency")
    )

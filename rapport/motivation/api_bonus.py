"""Bonuses over HTTP (/api/v1/bonus/): statements (read within scope, approve, recompute), bonus so far, rules.

The same rules as the screens: statements are read through ``accounts.access`` (one out of
the caller's sight answers 404, like a missing one), and every change goes through
``motivation.statements``, so an approval of figures recomputed since they were read, or a
rule paying over 100 %, is refused here exactly as on the pages. Heads approve and recompute
their team's statements, admins anyone's, nobody approves their own (403, with the reason).
Every signed-in person reads the bonus rules, so a manager can see what they are paid by;
admins write them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.api.schemas import READ_ERRORS, UPDATE_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, RowId, refused_because
from rapport.core.http import RapportRequest
from rapport.motivation import services, statements
from rapport.motivation.api_reports import PersonOut
from rapport.motivation.models import (
    BonusRule,
    BonusRuleKind,
    LineKind,
    Metric,
    PeriodKind,
    Statement,
    StatementLine,
    StatementStatus,
)
from rapport.motivation.periods import Period, month_of
from rapport.motivation.statements import LineChange

router = Router(tags=["bonuses"])

# "2026-03": a month as the month inputs of the screens give it (year 1000 on, so it is always a date).
MONTH = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"
# The refusals of an approval that say "reload": nothing is wrong with the request, the statement moved on.
RELOAD = {"stale", "approved", "gone"}

# ---- Schemas ----------------------------------------------------------------------------------


class StatementOut(Schema):
    id: int
    person: PersonOut
    starts_on: date
    ends_on: date = Field(description="Included.")
    currency: str
    version: int = Field(description="1 for a period's first statement; a recomputation after approval adds one.")
    status: StatementStatus
    total: Decimal
    computed_at: datetime = Field(description="When these figures were computed: send it back to approve them.")
    approved_by: PersonOut | None
    approved_at: datetime | None
    previous: int | None = Field(description="The approved version this one supersedes, if any.")


class StatementPage(Schema):
    items: list[StatementOut]
    has_more: bool


class StatementFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)
    month: str | None = Field(None, pattern=MONTH, description="`YYYY-MM`: that month's statements.")
    # "from" is a Python keyword: the attribute has another name, the parameter not.
    since: date | None = Field(None, alias="from", description="Statements of periods ending on or after this day.")
    until: date | None = Field(None, description="Statements of periods starting on or before this day.")
    person: RowId | None = None
    team: RowId | None = Field(None, description="The statements of this team's people.")
    status: StatementStatus | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)


class RuleRef(Schema):
    id: int
    name: str


class LineOut(Schema):
    id: int
    kind: LineKind = Field(description="`credit`, `clawback` (negative: paid before, taken back) or `refused` (0).")
    rule: RuleRef
    deal: int | None
    amount: Decimal
    reason: str = Field(description="Why, in the caller's language.")
    reason_code: str
    reason_params: dict[str, Any] = Field(description="The figures of the reason.")
    evidence: list[int] = Field(description="The activities (contact history) that made the deal eligible.")


class ChangeOut(Schema):
    rule: RuleRef
    deal: int | None
    before: Decimal = Field(description="What the previous version paid for it.")
    after: Decimal
    difference: Decimal


class StatementDetailOut(StatementOut):
    lines: list[LineOut]
    changes: list[ChangeOut] = Field(description="Against the previous version, by rule and deal; empty without one.")
    may_approve: bool = Field(description="Whether the caller may approve it (as a draft).")


class ApprovalIn(Input):
    computed_at: AwareDatetime = Field(
        description="The statement's `computed_at` as read: figures recomputed since are not approved (409)."
    )


class ComputeIn(Input):
    month: str | None = Field(None, pattern=MONTH, description="`YYYY-MM`. Default: this month.")
    people: list[RowId] | None = Field(
        None, min_length=1, max_length=1000, description="Only these people. Default: everyone in the caller's scope."
    )


class ComputeOut(Schema):
    starts_on: date
    ends_on: date
    people: int = Field(description="How many people's statements were brought up to date.")
    created: int = Field(description="New statements: a first draft, or the next version of an approved one.")
    updated: int = Field(description="Drafts whose lines changed.")
    removed: int = Field(description="Drafts no longer needed.")
    unchanged: int


class SoFarFilters(Schema):
    person: RowId | None = Field(None, description="Only this person. Default: everyone in the caller's scope.")


class PersonSoFarOut(Schema):
    person: PersonOut
    totals: dict[str, Decimal] = Field(description="Currency → what this month's statement would pay now.")


class SoFarOut(Schema):
    starts_on: date
    ends_on: date
    people: list[PersonSoFarOut]


class RuleOut(Schema):
    id: int
    name: str
    kind: BonusRuleKind
    percent: Decimal | None
    amount: Decimal | None
    metric: str = Field(description="The metric a plan rule rewards; empty for a share.")
    currency: str = Field(description="Empty for a share: deals in any currency, each paid in its own.")
    min_activities: int
    checkpoints_required: bool
    min_quality: int | None
    effective_from: date
    effective_until: date | None
    is_active: bool
    replaces: int | None = Field(validation_alias="replaces_id", description="The version this one replaced.")
    created_by: int | None = Field(validation_alias="created_by_id")
    created_at: datetime
    updated_at: datetime


class RulePage(Schema):
    items: list[RuleOut]
    has_more: bool


class RuleFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)
    kind: BonusRuleKind | None = None
    on: date | None = Field(None, description="Only the rules in force on this day.")


class RuleIn(Input):
    """A rule's terms; the services check them as a whole (which fields a kind asks for), keyed by field."""

    name: str
    kind: BonusRuleKind
    percent: Decimal | None = Field(None, allow_inf_nan=False, description="Shares and accelerators.")
    amount: Decimal | None = Field(None, allow_inf_nan=False, description="Per unit above plan.")
    metric: Metric | None = Field(None, description="Plan rules: the metric whose plan it rewards.")
    currency: str = Field("", max_length=3)
    min_activities: int = Field(0, description="Shares: contact history needed before the win.")
    checkpoints_required: bool = False
    min_quality: int | None = None
    effective_from: date
    effective_until: date | None = None
    is_active: bool = True
    seen: datetime | None = Field(
        None, description="On a change: the rule's `updated_at` as read; a rule changed since is refused (409)."
    )


# ---- Helpers ----------------------------------------------------------------------------------


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name}


def _month(value: str) -> Period:
    year, month = (int(part) for part in value.split("-"))
    return month_of(date(year, month, 1))


def _statement_out(statement: Statement) -> dict[str, Any]:
    return {
        "id": statement.pk,
        "person": _person(statement.person),
        "starts_on": statement.period_start,
        "ends_on": statement.period_end,
        "currency": statement.currency,
        "version": statement.version,
        "status": statement.status,
        "total": statement.total,
        "computed_at": statement.computed_at,
        "approved_by": _person(statement.approved_by) if statement.approved_by is not None else None,
        "approved_at": statement.approved_at,
        "previous": statement.previous_id,
    }


def _rule_ref(rule: BonusRule) -> dict[str, Any]:
    return {"id": rule.pk, "name": rule.name}


def _line_out(line: StatementLine) -> dict[str, Any]:
    return {
        "id": line.pk,
        "kind": line.kind,
        "rule": _rule_ref(line.rule),
        "deal": line.deal_id,
        "amount": line.amount,
        "reason": line.reason,
        "reason_code": line.reason_code,
        "reason_params": line.reason_params,
        "evidence": line.activity_ids,
    }


def _change_out(change: LineChange) -> dict[str, Any]:
    shown = change.line or change.earlier
    assert shown is not None  # a change is a line in one version or the other
    return {
        "rule": _rule_ref(shown.rule),
        "deal": change.deal_id,
        "before": change.before,
        "after": change.after,
        "difference": change.difference,
    }


def _detail(by: User, statement: Statement) -> dict[str, Any]:
    """The statement with its lines and its difference to the previous version: three queries at most."""
    lines = statement.lines.select_related("rule").order_by("pk")
    return _statement_out(statement) | {
        "lines": [_line_out(line) for line in lines],
        "changes": [_change_out(change) for change in statements.statement_difference(statement)],
        "may_approve": not statement.is_approved and access.can_approve_statement(by, statement),
    }


def _same_moment(seen: datetime, stored: datetime) -> bool:
    """JSON carries a moment to the millisecond (and so do browsers' clocks): compare no finer."""
    return seen.replace(microsecond=seen.microsecond // 1000 * 1000) == stored.replace(
        microsecond=stored.microsecond // 1000 * 1000
    )


def _may_not_approve() -> str:
    return _("Heads of sales approve their team members' statements and admins anyone's; nobody approves their own.")


def _may_not_compute() -> str:
    return _("Only heads of sales (for their team) and admins recompute bonus statements.")


def _may_not_configure() -> str:
    return _("Only admins configure bonus rules.")


# ---- Statements -------------------------------------------------------------------------------


@router.get("/bonus/statements", response={200: StatementPage, 401: Message, 422: Invalid})
def statement_list(request: RapportRequest, filters: Query[StatementFilters]) -> dict[str, Any]:
    """A page of the statements the caller sees, every version, the latest periods first. One query."""
    rows = access.statements_visible_to(request.user)
    if filters.month is not None:
        if filters.since is not None or filters.until is not None:
            raise ValidationError({"month": [_("Give a month or dates (from, until), not both.")]})
        month = _month(filters.month)
        rows = rows.filter(period_start__lte=month.end, period_end__gte=month.start)
    if filters.since is not None:
        rows = rows.filter(period_end__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(period_start__lte=filters.until)
    if filters.person is not None:
        rows = rows.filter(person_id=filters.person)
    if filters.team is not None:
        rows = rows.filter(person__team_id=filters.team)
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    if filters.currency is not None:
        rows = rows.filter(currency=filters.currency.upper())
    ordered = rows.select_related("person", "approved_by").order_by(
        "-period_start", "-period_end", "person_id", "currency", "-version", "pk"
    )
    found = list(ordered[filters.offset : filters.offset + filters.limit + 1])
    return {"items": [_statement_out(row) for row in found[: filters.limit]], "has_more": len(found) > filters.limit}


# Before the statement's own routes: "compute" would otherwise be read as a statement's id.
@router.post("/bonus/statements/compute", response={200: ComputeOut, **WRITE_ERRORS})
def statements_recompute(request: RapportRequest, payload: ComputeIn) -> dict[str, Any]:
    """Bring a month's statements up to date now (the nightly job does it anyway) for the people in the caller's
    scope: a head's team, everyone for admins; approved statements are never touched."""
    by = request.user
    if not access.can_compute_statements(by):
        raise PermissionDenied(_may_not_compute())
    today = timezone.localdate()
    period = _month(payload.month) if payload.month is not None else month_of(today)
    try:
        services.plan_period(PeriodKind.MONTH, period.start, None)
    except ValidationError as error:
        raise ValidationError({"month": error.messages}) from error
    if period.start > today:
        raise ValidationError({"month": [_("This month has not begun: there is nothing to pay yet.")]})
    scope = access.plan_people_visible_to(by)
    if payload.people is not None:
        scope = scope.filter(pk__in=payload.people)
    ids = sorted(scope.values_list("pk", flat=True))
    if payload.people is not None and len(ids) < len(set(payload.people)):
        outside = sorted(set(payload.people) - set(ids))
        raise ValidationError(
            {
                "people": [
                    _(
                        "Only the statements of people who sell within your scope (a head's: their team) are "
                        "recomputed here; these are not: %(ids)s."
                    )
                    % {"ids": ", ".join(str(pk) for pk in outside)}
                ]
            }
        )
    result = statements.statements_compute(period, ids)
    return {
        "starts_on": period.start,
        "ends_on": period.end,
        "people": len(ids),
        "created": result.created,
        "updated": result.updated,
        "removed": result.removed,
        "unchanged": result.unchanged,
    }


@router.get("/bonus/statements/{statement_id}", response={200: StatementDetailOut, **READ_ERRORS})
def statement_detail(request: RapportRequest, statement_id: int) -> dict[str, Any]:
    """A statement with its lines, each with its reason, and what changed against the version it supersedes."""
    return _detail(request.user, access.statement_for_user(request.user, statement_id))


@router.post("/bonus/statements/{statement_id}/approve", response={200: StatementDetailOut, **UPDATE_ERRORS})
def statement_approval(
    request: RapportRequest, statement_id: int, payload: ApprovalIn
) -> dict[str, Any] | Status[dict[str, str]]:
    """Approve a draft as the caller read it (its `computed_at`): from then on it never changes."""
    by = request.user
    statement = access.statement_for_user(by, statement_id)
    if not _same_moment(payload.computed_at, statement.computed_at):
        # The service compares under its lock and refuses: the caller read other figures.
        statement.computed_at = payload.computed_at
    try:
        with refused_because(_may_not_approve()):
            approved = statements.statement_approve(by=by, statement=statement)
    except ValidationError as error:
        if getattr(error, "code", None) in RELOAD:
            return Status(409, {"detail": error.messages[0]})
        raise
    return _detail(by, approved)


# ---- Bonus so far -----------------------------------------------------------------------------


@router.get("/bonus/so-far", response={200: SoFarOut, **READ_ERRORS, 422: Invalid})
def bonus_so_far(request: RapportRequest, filters: Query[SoFarFilters]) -> dict[str, Any]:
    """What this month's statement would pay now, per currency: the caller's, and their scope's people's (a head's
    team, everyone's for admins and analysts), computed live; nothing is stored."""
    by = request.user
    today = timezone.localdate()
    people = None
    if filters.person is not None:
        people = [get_object_or_404(access.pay_people_visible_to(by), pk=filters.person).pk]
    totals = statements.bonus_so_far_of(by, today, people=people)
    named = User.objects.filter(pk__in=list(totals)).order_by("first_name", "last_name", "username", "pk")
    month = month_of(today)
    return {
        "starts_on": month.start,
        "ends_on": month.end,
        "people": [{"person": _person(person), "totals": totals[person.pk]} for person in named],
    }


# ---- Rules ------------------------------------------------------------------------------------


@router.get("/bonus/rules", response={200: RulePage, 401: Message, 422: Invalid})
def bonus_rule_list(request: RapportRequest, filters: Query[RuleFilters]) -> dict[str, Any]:
    """A page of the bonus rules, every version, by kind and the latest first."""
    rows = BonusRule.objects.all()
    if filters.kind is not None:
        rows = rows.filter(kind=filters.kind)
    if filters.on is not None:
        rows = rows.filter(
            Q(effective_until__isnull=True) | Q(effective_until__gte=filters.on),
            is_active=True,
            effective_from__lte=filters.on,
        )
    found = list(rows.order_by("kind", "-effective_from", "pk")[filters.offset : filters.offset + filters.limit + 1])
    return {"items": found[: filters.limit], "has_more": len(found) > filters.limit}


@router.get("/bonus/rules/{rule_id}", response={200: RuleOut, **READ_ERRORS})
def bonus_rule_detail(request: RapportRequest, rule_id: int) -> BonusRule:
    return get_object_or_404(BonusRule, pk=rule_id)


def _terms(payload: RuleIn) -> dict[str, Any]:
    terms = payload.model_dump()
    terms["metric"] = terms["metric"] or ""
    return terms


@router.post("/bonus/rules", response={201: RuleOut, **WRITE_ERRORS})
def bonus_rule_create(request: RapportRequest, payload: RuleIn) -> Status[BonusRule]:
    """Add a rule. Refused by field: a percentage missing or over 100, a plan rule without its metric, …"""
    with refused_because(_may_not_configure()):
        rule = statements.rule_save(by=request.user, **_terms(payload))
    rule.refresh_from_db()  # as stored: "3.00", as every read answers it
    return Status(201, rule)


@router.put("/bonus/rules/{rule_id}", response={200: RuleOut, **WRITE_ERRORS})
def bonus_rule_update(request: RapportRequest, rule_id: int, payload: RuleIn) -> BonusRule:
    """Replace a rule's fields (those left out take their defaults). A rule an approved statement was computed with
    keeps its terms: a change of them answers a new version, which `replaces` it."""
    rule = get_object_or_404(BonusRule, pk=rule_id)
    with refused_because(_may_not_configure()):
        saved = statements.rule_save(by=request.user, rule=rule, **_terms(payload))
    saved.refresh_from_db()
    return saved

"""Redistribution over HTTP (/api/v1/redistribution/): rules, their dry runs, proposals and their approval.

The same rules as the screens. Everyone reads the rules that apply to their clients (in use,
company-wide or of their team), admins every rule; a rule out of sight answers 404. Admins write
rules and run dry runs (403 for anyone else, with the reason). Proposals are read and approved by
the head of their clients' team and by admins (``access.proposals_visible_to``); approving one
already decided, or changed since it was read, answers 409 — nothing moves twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.api.schemas import READ_ERRORS, UPDATE_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, RowId, refused_because
from rapport.core.http import RapportRequest
from rapport.supervision import review as reviews
from rapport.supervision import rules
from rapport.supervision.models import Proposal, ProposalLine, ProposalStatus, RedistributionRule

router = Router(tags=["redistribution"])

# The refusals of an approval that say "reload": nothing is wrong with the request, the proposal moved on.
RELOAD = {"stale", "approved", "gone"}


# ---- Schemas ----------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str


class RuleOut(Schema):
    id: int
    name: str
    is_active: bool
    team: int | None = Field(description="Clients of this team's people only; none: every team.")
    pipeline: int | None = Field(description="Only clients with an open deal in this pipeline.")
    client_status: str = Field(description="`active`, `frozen`, or empty for any.")
    tag: int | None
    condition: str = Field(description="`stale` (no logged contact for `days`) or `missed_callbacks`.")
    days: int | None
    without_open_deal: bool
    missed_callbacks: int | None
    action: str = Field(description="`pool`, `round_robin` or `least_loaded` (within the owner's team).")
    schedule: str = Field(description="`daily`, `weekly` or `biweekly`.")
    mode: str = Field(description="`approval` (a head approves) or `automatic` (applied at once).")
    last_review_at: datetime | None
    updated_at: datetime = Field(description="Send it back with a change: a rule changed since is not overwritten.")
    sentence: str = Field(description="The rule in plain words, in the caller's language.")


class RulePage(Schema):
    items: list[RuleOut]
    has_more: bool


class PageFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)


class RuleIn(Input):
    """A rule's fields, checked as a whole by the service and refused by field."""

    name: str = Field(max_length=200)
    condition: str = Field(max_length=30)
    days: int | None = Field(None, description="For `stale`: 1 to 3,650.")
    without_open_deal: bool = True
    missed_callbacks: int | None = Field(None, description="For `missed_callbacks`: 1 to 100.")
    action: str = Field(max_length=30)
    team: RowId | None = None
    pipeline: RowId | None = None
    client_status: str = Field("", max_length=10)
    tag: RowId | None = None
    schedule: str = Field("weekly", max_length=10)
    mode: str = Field("approval", max_length=10)
    is_active: bool = True
    updated_at: AwareDatetime | None = Field(
        None, description="On a change: the rule's `updated_at` as read; a rule changed since answers 409."
    )


class MoveOut(Schema):
    kind: str = Field(description="`company` or `contact`.")
    client: int
    client_name: str
    from_user: PersonOut
    to_user: PersonOut | None = Field(description="None: the shared pool.")
    reason: str


class DryRunOut(Schema):
    matched: int = Field(description="Clients meeting the rule now (those on an open proposal aside).")
    later: int = Field(description="Beyond this review's cap: the next review takes them up.")
    left: int = Field(description="With nobody else in the owner's team to receive them.")
    lines: list[MoveOut] = Field(description="The moves a review would propose now, the most neglected first.")


class RuleRef(Schema):
    id: int
    name: str


class ProposalOut(Schema):
    id: int
    rule: RuleRef
    status: ProposalStatus
    created_at: datetime
    decided_by: PersonOut | None
    decided_at: datetime | None
    version: int = Field(description="Send it back to approve: a proposal changed since answers 409.")
    lines: int


class ProposalPage(Schema):
    items: list[ProposalOut]
    has_more: bool


class ProposalFilters(PageFilters):
    status: ProposalStatus | None = None


class LineOut(Schema):
    id: int
    company: int | None
    contact: int | None
    client_name: str
    from_user: PersonOut | None
    to_user: PersonOut | None = Field(description="None: the shared pool.")
    reason: str
    excluded: bool
    transfer: int | None = Field(description="The transfer-log entry of the move, once moved.")


class ProposalDetailOut(ProposalOut):
    line_items: list[LineOut]
    may_approve: bool


class ApprovalIn(Input):
    version: int = Field(ge=1, description="The proposal's `version` as read.")
    excluded: list[RowId] = Field(
        default_factory=list, max_length=1000, description="Lines whose clients stay with their owners."
    )


# ---- Helpers ----------------------------------------------------------------------------------


def _person(user: User | None) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.display_name} if user is not None else None


def _rule_out(rule: RedistributionRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "is_active": rule.is_active,
        "team": rule.team_id,
        "pipeline": rule.pipeline_id,
        "client_status": rule.client_status,
        "tag": rule.tag_id,
        "condition": rule.condition,
        "days": rule.days,
        "without_open_deal": rule.without_open_deal,
        "missed_callbacks": rule.missed_callbacks,
        "action": rule.action,
        "schedule": rule.schedule,
        "mode": rule.mode,
        "last_review_at": rule.last_review_at,
        "updated_at": rule.updated_at,
        "sentence": rules.rule_sentence(rule),
    }


def _may_not_configure() -> str:
    return _("Only admins write redistribution rules and run their reviews.")


def _terms(payload: RuleIn) -> dict[str, Any]:
    return payload.model_dump(exclude={"updated_at"})


def _seen(sent: datetime | None, stored: datetime) -> datetime | None:
    """The moment the caller read the rule at, as the service compares it: JSON carries milliseconds only."""
    if sent is None:
        return None
    same = sent.replace(microsecond=sent.microsecond // 1000 * 1000) == stored.replace(
        microsecond=stored.microsecond // 1000 * 1000
    )
    return stored if same else sent


def _reloaded(rule_id: int) -> RedistributionRule:
    return RedistributionRule.objects.select_related("team", "pipeline", "tag").get(pk=rule_id)


# ---- Rules ------------------------------------------------------------------------------------


@router.get("/redistribution/rules", response={200: RulePage, 401: Message, 422: Invalid})
def redistribution_rule_list(request: RapportRequest, filters: Query[PageFilters]) -> dict[str, Any]:
    """The rules that apply to the caller's clients (admins: every rule), by name. One query."""
    rows = access.redistribution_rules_visible_to(request.user).select_related("team", "pipeline", "tag")
    found = list(rows.order_by("name", "pk")[filters.offset : filters.offset + filters.limit + 1])
    return {"items": [_rule_out(rule) for rule in found[: filters.limit]], "has_more": len(found) > filters.limit}


@router.get("/redistribution/rules/{rule_id}", response={200: RuleOut, **READ_ERRORS})
def redistribution_rule_detail(request: RapportRequest, rule_id: int) -> dict[str, Any]:
    return _rule_out(access.redistribution_rule_for_user(request.user, rule_id))


@router.post("/redistribution/rules", response={201: RuleOut, **WRITE_ERRORS})
def redistribution_rule_create(request: RapportRequest, payload: RuleIn) -> Status[dict[str, Any]]:
    """Add a rule. Refused by field: no condition, days out of 1–3,650, an unknown team, pipeline or tag, …"""
    with refused_because(_may_not_configure()):
        rule = rules.rule_save(by=request.user, **_terms(payload))
    return Status(201, _rule_out(_reloaded(rule.pk)))


@router.put("/redistribution/rules/{rule_id}", response={200: RuleOut, **UPDATE_ERRORS})
def redistribution_rule_update(request: RapportRequest, rule_id: int, payload: RuleIn) -> dict[str, Any]:
    """Replace a rule's fields (those left out take their defaults)."""
    rule = access.redistribution_rule_for_user(request.user, rule_id)
    with refused_because(_may_not_configure()):
        seen = _seen(payload.updated_at, rule.updated_at)
        saved = rules.rule_save(by=request.user, rule=rule, seen=seen, **_terms(payload))
    return _rule_out(_reloaded(saved.pk))


@router.delete("/redistribution/rules/{rule_id}", response={204: None, **UPDATE_ERRORS})
def redistribution_rule_delete(request: RapportRequest, rule_id: int) -> Status[Any]:
    """Delete a rule that never made a proposal; one that did answers 409 (take it out of use instead)."""
    rule = access.redistribution_rule_for_user(request.user, rule_id)
    try:
        with refused_because(_may_not_configure()):
            rules.rule_delete(by=request.user, rule=rule)
    except ValidationError as error:
        if getattr(error, "code", None) == "used":
            return Status(409, {"detail": error.messages[0]})
        raise
    return Status(204, None)


@router.post("/redistribution/rules/{rule_id}/dry-run", response={200: DryRunOut, **WRITE_ERRORS})
def redistribution_dry_run(request: RapportRequest, rule_id: int) -> dict[str, Any]:
    """The moves a review of the rule would propose now; nothing is stored, moved or sent."""
    rule = access.redistribution_rule_for_user(request.user, rule_id)
    if not access.can_configure_redistribution(request.user):
        raise PermissionDenied(_may_not_configure())
    result = reviews.review(rule, dry_run=True)
    return {
        "matched": result.matched,
        "later": result.later,
        "left": result.left,
        "lines": [
            {
                "kind": line.kind,
                "client": line.client_id,
                "client_name": line.client_name,
                "from_user": _person(line.from_user),
                "to_user": _person(line.to_user),
                "reason": line.reason,
            }
            for line in result.lines
        ],
    }


# ---- Proposals --------------------------------------------------------------------------------


def _proposal_out(proposal: Proposal, lines: int) -> dict[str, Any]:
    return {
        "id": proposal.pk,
        "rule": {"id": proposal.rule_id, "name": proposal.rule.name},
        "status": proposal.status,
        "created_at": proposal.created_at,
        "decided_by": _person(proposal.decided_by),
        "decided_at": proposal.decided_at,
        "version": proposal.version,
        "lines": lines,
    }


def _line_out(line: ProposalLine) -> dict[str, Any]:
    client = line.company or line.contact
    return {
        "id": line.pk,
        "company": line.company_id,
        "contact": line.contact_id,
        "client_name": client.display_name if client else "",
        "from_user": _person(line.from_user),
        "to_user": _person(line.to_user),
        "reason": line.reason,
        "excluded": line.excluded,
        "transfer": line.transfer_id,
    }


def _detail(user: User, proposal: Proposal) -> dict[str, Any]:
    lines = list(proposal.lines.select_related("company", "contact", "from_user", "to_user").order_by("pk"))
    return {
        **_proposal_out(proposal, len(lines)),
        "line_items": [_line_out(line) for line in lines],
        "may_approve": proposal.status == ProposalStatus.OPEN and access.can_decide_proposal(user, proposal),
    }


@router.get("/redistribution/proposals", response={200: ProposalPage, 401: Message, 422: Invalid})
def redistribution_proposal_list(request: RapportRequest, filters: Query[ProposalFilters]) -> dict[str, Any]:
    """The proposals the caller decides (a head's team's, every one for admins), newest first. One query."""
    rows = access.proposals_visible_to(request.user)
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    found = list(
        rows.select_related("rule", "decided_by")
        .annotate(line_count=Count("lines"))
        .order_by("-created_at", "-pk")[filters.offset : filters.offset + filters.limit + 1]
    )
    return {
        "items": [_proposal_out(proposal, proposal.line_count) for proposal in found[: filters.limit]],
        "has_more": len(found) > filters.limit,
    }


@router.get("/redistribution/proposals/{proposal_id}", response={200: ProposalDetailOut, **READ_ERRORS})
def redistribution_proposal_detail(request: RapportRequest, proposal_id: int) -> dict[str, Any]:
    """A proposal with its lines: each client, from whom, to whom (none: the pool) and why."""
    return _detail(request.user, access.proposal_for_user(request.user, proposal_id))


@router.post("/redistribution/proposals/{proposal_id}/approve", response={200: ProposalDetailOut, **UPDATE_ERRORS})
def redistribution_proposal_approval(
    request: RapportRequest, proposal_id: int, payload: ApprovalIn
) -> dict[str, Any] | Status[dict[str, str]]:
    """Approve a proposal as read (its `version`) but the `excluded` lines: their clients stay, the others move now
    and their old and new owners are told why. Excluding every line dismisses it. A second approval answers 409."""
    by = request.user
    proposal = access.proposal_for_user(by, proposal_id)
    try:
        with refused_because(_("Only the head of the clients' team or an administrator decides this proposal.")):
            decided = reviews.proposal_decide(
                by=by, proposal=proposal, excluded_line_ids=payload.excluded, seen_version=payload.version
            )
    except ValidationError as error:
        if getattr(error, "code", None) in RELOAD:
            return Status(409, {"detail": error.messages[0]})
        raise
    return _detail(by, access.proposal_for_user(by, decided.pk))

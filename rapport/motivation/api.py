"""Plans over HTTP (/api/v1/plans/): targets, and the progress of the targets running on a day.

The same rules as the plans page: reads go through ``accounts.access`` (a target of someone out
of the caller's scope answers 404, like a missing one), writes through ``motivation.services``,
so an overlapping or negative target is refused here exactly as in the grid. Managers and
agents read their own plans, heads their team's, the roles that see every client everyone's;
heads set their team's targets, admins anyone's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.api.schemas import READ_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, RowId, refused_because
from rapport.core.http import RapportRequest
from rapport.motivation import services
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.plan_grid import running_progress
from rapport.motivation.progress import Progress

router = Router()

# ---- Schemas ----------------------------------------------------------------------------------


class TargetOut(Schema):
    id: int
    metric: Metric
    person: int | None = Field(validation_alias="user_id", description="The person's target, or null for a team's.")
    team: int | None = Field(validation_alias="team_id", description="The team's own target, or null for a person's.")
    period_kind: PeriodKind
    starts_on: date
    ends_on: date = Field(description="Included.")
    value: Decimal
    currency: str = Field(description="For `revenue_won`: the currency counted (others are not converted).")
    set_by: int | None = Field(validation_alias="set_by_id")
    created_at: datetime
    updated_at: datetime


class TargetPage(Schema):
    items: list[TargetOut]
    has_more: bool


class TargetFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)
    # "from" is a Python keyword: the attribute has another name, the parameter not.
    since: date | None = Field(None, alias="from", description="Targets running on or after this day.")
    until: date | None = Field(None, alias="to", description="Targets running on or before this day.")
    person: RowId | None = None
    team: RowId | None = None
    metric: Metric | None = None


class TargetIn(Input):
    metric: Metric
    value: Decimal = Field(allow_inf_nan=False, description="At least 0; whole for counts, 0–100 for data quality.")
    period_kind: PeriodKind = PeriodKind.MONTH
    starts_on: date
    ends_on: date | None = Field(None, description="Required for custom dates; a month's or quarter's follows.")
    person: RowId | None = Field(None, description="Whose target: a person or a `team`, not both.")
    team: RowId | None = None
    currency: str = Field("", max_length=3, description="Revenue only; default: the company's currency.")


class TargetPatch(Input):
    metric: Metric | None = None
    value: Decimal | None = Field(None, allow_inf_nan=False)
    period_kind: PeriodKind | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    person: RowId | None = None
    team: RowId | None = None
    currency: str | None = Field(None, max_length=3)


class ProgressFilters(Schema):
    on: date | None = Field(None, description="Default: today.")
    person: RowId | None = Field(None, description="Default: the caller.")


class ProgressOut(Schema):
    target: TargetOut
    fact: Decimal = Field(description="The metric's value over the target's period, as the CRM's records say now.")
    share: float = Field(description="The fact as a share of the target: 1 when met (may pass 1).")
    elapsed: float = Field(description="The share of the period gone by at the end of `on`: 0 before it, 1 after.")
    expected: Decimal = Field(description="Where the fact would be by the end of `on` at an even pace.")
    pace: str = Field(description="`done` (target reached), `ahead` (at or above the pace) or `behind`.")


# ---- Helpers ----------------------------------------------------------------------------------


def _may_not_set() -> str:
    return _("Only heads of sales (for their team and its people) and admins set targets.")


def _one[M: Model](rows: QuerySet[M], pk: int, field: str) -> M:
    found = rows.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: _("Choose one that exists.")})
    return found


def _setter(by: User) -> None:
    """Refused early: a caller who sets no targets at all learns that before any complaint about the input."""
    if not (access.can_set_targets(by) or (by.team is not None and access.can_set_targets(by, team=by.team))):
        raise PermissionDenied(_may_not_set())


def _whose(by: User, data: dict[str, Any]) -> tuple[User | None, Team | None]:
    person_id, team_id = data.pop("person", None), data.pop("team", None)
    person = _one(access.people_visible_to(by), person_id, "person") if person_id is not None else None
    team = _one(Team.objects.all(), team_id, "team") if team_id is not None else None
    return person, team


def _target_for(by: User, target_id: int) -> Target:
    return get_object_or_404(access.targets_visible_to(by).select_related("user", "team"), pk=target_id)


def _progress_out(progress: Progress) -> dict[str, Any]:
    value = progress.target.value
    return {
        "target": progress.target,
        "fact": progress.fact,
        "share": 1.0 if value <= 0 else round(float(progress.fact / value), 4),
        "elapsed": round(progress.period.elapsed_share(progress.today), 4),
        "expected": progress.expected.quantize(Decimal("0.01")),
        "pace": progress.pace,
    }


# ---- Targets ----------------------------------------------------------------------------------


@router.get("/plans/targets", response={200: TargetPage, 401: Message, 422: Invalid}, tags=["plans"])
def target_list(request: RapportRequest, filters: Query[TargetFilters]) -> dict[str, Any]:
    """A page of the targets the caller reads, the latest periods first."""
    rows = access.targets_visible_to(request.user)
    if filters.since is not None:
        rows = rows.filter(ends_on__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(starts_on__lte=filters.until)
    if filters.person is not None:
        rows = rows.filter(user_id=filters.person)
    if filters.team is not None:
        rows = rows.filter(team_id=filters.team)
    if filters.metric is not None:
        rows = rows.filter(metric=filters.metric)
    found = list(rows.order_by("-starts_on", "metric", "id")[filters.offset : filters.offset + filters.limit + 1])
    return {"items": found[: filters.limit], "has_more": len(found) > filters.limit}


@router.post("/plans/targets", response={201: TargetOut, **WRITE_ERRORS}, tags=["plans"])
def target_create(request: RapportRequest, payload: TargetIn) -> Status[Target]:
    """Set a target for a `person` or a `team` over a month, a quarter or custom dates."""
    by = request.user
    _setter(by)
    data = payload.model_dump()
    person, team = _whose(by, data)
    with refused_because(_may_not_set()):
        target = services.target_save(by=by, person=person, team=team, **data)
    return Status(201, target)


@router.patch("/plans/targets/{target_id}", response={200: TargetOut, **WRITE_ERRORS}, tags=["plans"])
def target_update(request: RapportRequest, target_id: int, payload: TargetPatch) -> Target:
    """Change the fields sent; the others keep their values. A month's or quarter's last day follows its first."""
    by = request.user
    target = _target_for(by, target_id)
    if not access.can_set_targets(by, person=target.user, team=target.team):
        raise PermissionDenied(_may_not_set())
    changes = {name: value for name, value in payload.model_dump(exclude_unset=True).items() if value is not None}
    person, team = _whose(by, changes)
    if person is None and team is None:
        person, team = target.user, target.team
    fields: dict[str, Any] = {
        "metric": target.metric,
        "value": target.value,
        "period_kind": target.period_kind,
        "starts_on": target.starts_on,
        "ends_on": target.ends_on,
        "currency": target.currency,
    }
    if "metric" in changes and "currency" not in changes:
        fields["currency"] = ""  # the new metric's own: none, or the company's for revenue
    if {"period_kind", "starts_on"} & set(changes) and "ends_on" not in changes:
        kind = changes.get("period_kind", target.period_kind)
        if kind != PeriodKind.CUSTOM:
            fields["ends_on"] = None  # it follows from the new first day
    fields |= changes
    with refused_because(_may_not_set()):
        return services.target_save(by=by, target=target, person=person, team=team, **fields)


@router.delete("/plans/targets/{target_id}", response={204: None, **WRITE_ERRORS}, tags=["plans"])
def target_delete(request: RapportRequest, target_id: int) -> Status[None]:
    by = request.user
    target = _target_for(by, target_id)
    with refused_because(_may_not_set()):
        services.target_delete(by=by, target=target)
    return Status(204, None)


# ---- Progress ---------------------------------------------------------------------------------


@router.get("/plans/progress", response={200: list[ProgressOut], **READ_ERRORS, 422: Invalid}, tags=["plans"])
def plan_progress(request: RapportRequest, filters: Query[ProgressFilters]) -> list[dict[str, Any]]:
    """The person's targets running on the day, and their team's, each with its live fact and pace."""
    by = request.user
    day = filters.on or timezone.localdate()
    person = by if filters.person in (None, by.pk) else None
    if person is None:
        person = get_object_or_404(access.plan_people_visible_to(by), pk=filters.person)
    with_team = person.team_id is not None and access.leaderboard_teams_for(by).filter(pk=person.team_id).exists()
    return [_progress_out(progress) for progress in running_progress(person, day, with_team=with_team)]

"""Leaderboards and the plan/fact report over HTTP (/api/v1/plans/leaderboard, /api/v1/plans/report).

The same reads as the pages (``motivation.leaderboard``, ``motivation.report``) and the same
access policy: a team's board for its members and for the roles that see every client
(``access.leaderboard_teams_for``), report rows for the people whose plans the caller sees
(``access.plan_people_visible_to``). A team or person out of the caller's sight answers 404
like a missing one; a caller who reads no plans at all gets 403 on the report; input that
cannot be understood 422, keyed by the parameter.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.api.schemas import READ_ERRORS, Invalid, Message
from rapport.clients.api import RowId
from rapport.core.http import RapportRequest
from rapport.motivation import services
from rapport.motivation.leaderboard import Place, leaderboard
from rapport.motivation.models import Metric, PeriodKind
from rapport.motivation.periods import Period, month_of, period_of
from rapport.motivation.report import MAX_PERIODS, periods_until, plan_fact, report_people

router = Router()

# ---- Schemas ----------------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    name: str


class PersonOut(Schema):
    id: int
    name: str


class PlaceOut(Schema):
    rank: int = Field(description="Equal figures share a place, and the next is skipped: 1, 2, 2, 4.")
    person: PersonOut
    fact: Decimal
    target: Decimal | None = Field(description="The person's target of exactly this metric and period, if any.")
    percent: int | None = Field(description="The fact as a whole percent of the target (may pass 100); null without.")


class LeaderboardOut(Schema):
    team: TeamOut
    metric: Metric
    starts_on: date
    ends_on: date = Field(description="Included.")
    currency: str = Field(description="For `revenue_won`: the currency counted; empty for the other metrics.")
    currency_source: Literal["targets", "company", ""] = Field(
        description="Where the currency comes from: the team's revenue targets, or the company's default."
    )
    items: list[PlaceOut] = Field(description="The first `limit` places, best first.")
    own: PlaceOut | None = Field(description="The caller's place (also when below `limit`); null when not ranked.")


class LeaderboardFilters(Schema):
    team: RowId | None = Field(None, description="Default: the caller's team.")
    metric: Metric = Metric.CALLS
    # "from" is a Python keyword: the attribute has another name, the parameter not.
    since: date | None = Field(None, alias="from", description="Default: the first day of the month of `until`.")
    until: date | None = Field(None, description="Included. Default: the last day of the month of `from`.")
    limit: int = Field(10, ge=1, le=100)


class CellOut(Schema):
    starts_on: date
    ends_on: date
    target: Decimal | None
    fact: Decimal
    percent: int | None


class ReportRowOut(Schema):
    metric: Metric
    person: PersonOut | None = Field(description="A person's row; null for a team's.")
    team: TeamOut | None = Field(
        description="A team's row (all its members against its own target); null for a person's."
    )
    cells: list[CellOut] = Field(description="One per period, oldest first.")


class PeriodOut(Schema):
    starts_on: date
    ends_on: date


class ReportOut(Schema):
    kind: Literal["month", "quarter"]
    periods: list[PeriodOut]
    currency: str = Field(description="Revenue is counted in it; revenue targets in other currencies are left out.")
    currency_source: Literal["targets", "company"]
    rows: list[ReportRowOut]


class ReportFilters(Schema):
    team: RowId | None = Field(None, description="Default: the caller's team.")
    person: RowId | None = Field(None, description="Only this person's row.")
    metric: list[Metric] = Field([Metric.CALLS], description="Repeat for several.", max_length=len(Metric.values))
    kind: Literal["month", "quarter"] = "month"
    until: date | None = Field(None, description="A day of the last period. Default: today.")
    count: int = Field(6, ge=1, le=MAX_PERIODS, description="How many periods, up to the last.")


# ---- Helpers ----------------------------------------------------------------------------------


def _team(by: User, team_id: int | None) -> Team | None:
    """The team asked for (404 out of sight), else the caller's own when they see its figures."""
    teams = access.leaderboard_teams_for(by)
    if team_id is not None:
        return get_object_or_404(teams, pk=team_id)
    return teams.filter(pk=by.team_id).first() if by.team_id is not None else None


def _period(since: date | None, until: date | None) -> Period:
    if since is None:
        since = month_of(until or timezone.localdate()).start
    if until is None:
        until = month_of(since).end
    try:
        return services.plan_period(PeriodKind.CUSTOM, since, until)
    except ValidationError as error:
        names = {"starts_on": "from", "ends_on": "until"}
        raise ValidationError(
            {names.get(field, field): problems for field, problems in error.message_dict.items()}
        ) from error


def _last_period(kind: str, day: date) -> Period:
    """The month or quarter holding ``day``, within the dates plans are kept for."""
    try:
        return services.plan_period(kind, period_of(kind, day).start, None)
    except ValidationError as error:
        raise ValidationError({"until": error.messages}) from error


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name}


def _place(place: Place) -> dict[str, Any]:
    return {
        "rank": place.rank,
        "person": _person(place.person),
        "fact": place.fact,
        "target": place.target,
        "percent": place.percent,
    }


# ---- Endpoints --------------------------------------------------------------------------------


@router.get("/plans/leaderboard", response={200: LeaderboardOut, **READ_ERRORS, 422: Invalid}, tags=["plans"])
def plan_leaderboard(request: RapportRequest, filters: Query[LeaderboardFilters]) -> dict[str, Any]:
    """A team's selling members ranked by a metric over a period (default: this month), with their targets."""
    by = request.user
    team = _team(by, filters.team)
    if team is None:
        raise ValidationError({"team": [_("Choose a team: you are not in one.")]})
    period = _period(filters.since, filters.until)
    board = leaderboard(team, filters.metric, period, by)
    source = ("targets" if board.currency_from_targets else "company") if board.is_money else ""
    return {
        "team": {"id": team.pk, "name": team.name},
        "metric": board.metric,
        "starts_on": period.start,
        "ends_on": period.end,
        "currency": board.currency,
        "currency_source": source,
        "items": [_place(place) for place in board.places[: filters.limit]],
        "own": _place(board.own) if board.own is not None else None,
    }


@router.get("/plans/report", response={200: ReportOut, **READ_ERRORS, 403: Message, 422: Invalid}, tags=["plans"])
def plan_report(request: RapportRequest, filters: Query[ReportFilters]) -> dict[str, Any]:
    """Target, fact and percent of each person (and the team) for the last `count` months or quarters."""
    by = request.user
    if not access.sees_plans(by):
        raise PermissionDenied(_("Plans are read by those who have them and by the roles that see every client."))
    team = _team(by, filters.team)
    if filters.person is not None:
        people, teams = [get_object_or_404(access.plan_people_visible_to(by), pk=filters.person)], []
    else:
        people, teams = report_people(by, team), [team] if team is not None else []
    last = _last_period(filters.kind, filters.until or timezone.localdate())
    found = plan_fact(
        people=people,
        teams=teams,
        metrics=filters.metric,
        kind=filters.kind,
        first_period=periods_until(filters.kind, last, filters.count)[0],
        count=filters.count,
    )
    return {
        "kind": found.kind,
        "periods": [{"starts_on": period.start, "ends_on": period.end} for period in found.periods],
        "currency": found.currency,
        "currency_source": "targets" if found.currency_from_targets else "company",
        "rows": [
            {
                "metric": row.metric,
                "person": _person(row.person) if row.person is not None else None,
                "team": {"id": row.team.pk, "name": row.team.name} if row.team is not None else None,
                "cells": [
                    {
                        "starts_on": cell.period.start,
                        "ends_on": cell.period.end,
                        "target": cell.target,
                        "fact": cell.fact,
                        "percent": cell.percent,
                    }
                    for cell in row.cells
                ],
            }
            for row in found.rows
        ],
    }

"""The team dashboard, and bonus so far (a person's own on my day, a team's beside the dashboard).

The dashboard is for those who manage people (``access.sees_team_dashboard``): a head sees their
team, admins and the roles that see every client choose one. Bonus so far is the bonus engine run
live for this month (motivation.statements.bonus_so_far_of): it costs more than a page may, so the
pages draw without it and fetch it in a second request once shown, as my day does its side column.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.core.http import RapportRequest
from rapport.motivation.dashboard import team_dashboard
from rapport.motivation.models import BonusRule, Metric
from rapport.motivation.period_choice import team_out_of_sight, teams_for
from rapport.motivation.periods import month_of
from rapport.motivation.statements import bonus_so_far_of

PAGE = "motivation/dashboard.html"


def _chosen_team(user: User, asked: str, teams: list[Team]) -> Team | None:
    """The team asked for when it is one of the user's, else their own, else the first they may open."""
    for team in teams:
        if str(team.pk) == asked.strip().lstrip("0"):
            return team
    return next((team for team in teams if team.pk == user.team_id), teams[0] if teams else None)


@require_safe
@login_required
def dashboard_page(request: RapportRequest) -> HttpResponse:
    user = request.user
    if not access.sees_team_dashboard(user):
        raise PermissionDenied
    teams = teams_for(user)
    if team_out_of_sight(request.GET, teams):
        raise Http404
    team = _chosen_team(user, request.GET.get("team", ""), teams)
    people: list[User] = []
    if team is not None:
        people = list(
            access.plan_people_visible_to(user).filter(team=team).order_by("first_name", "last_name", "username")
        )
    today = timezone.localdate()
    board = team_dashboard(people=people, team=team, today=today)
    labels = dict(Metric.choices)
    context: dict[str, Any] = {
        "board": board,
        "team": team,
        "teams": teams,
        "today": today,
        "columns": [(metric, labels[metric]) for metric in board.grid.metrics],
        "elapsed": round(board.period.elapsed_share(today) * 100),
        "sees_quality": access.can_see_team_quality(user),
    }
    return render(request, PAGE, context)


def _totals_for(viewer: User, people: list[int]) -> dict[int, dict[str, Decimal]] | None:
    """Bonus so far of these people (currency → amount), computed for them only; None when no rule is in force."""
    if not people or not BonusRule.objects.filter(is_active=True).exists():
        return None
    return bonus_so_far_of(viewer, timezone.localdate(), people=people)


@require_safe
@login_required
def bonus_so_far(request: RapportRequest) -> HttpResponse:
    """Bonus so far this month: the viewer's own (``?team=`` absent), or each person of a team the viewer manages.

    The team's answer is one element per person, swapped into the dashboard's cells by their ids.
    """
    user = request.user
    asked = request.GET.get("team", "")
    context: dict[str, Any] = {"month": month_of(timezone.localdate())}
    if not asked:
        totals = _totals_for(user, [user.pk] if user.role in access.PLANNED_ROLES else [])
        context["has_rules"] = totals is not None
        context["totals"] = sorted((totals or {}).get(user.pk, {}).items())
        return render(request, "motivation/bonus_so_far.html#mine", context)
    if not access.sees_team_dashboard(user):
        raise PermissionDenied
    teams = teams_for(user)
    team = next((team for team in teams if str(team.pk) == asked.strip()), None)
    if team is None:
        raise Http404
    people = list(access.pay_people_visible_to(user).filter(team=team).values_list("pk", flat=True))
    totals = _totals_for(user, people)
    context["has_rules"] = totals is not None
    context["people"] = [(pk, sorted((totals or {}).get(pk, {}).items())) for pk in people]
    return render(request, "motivation/bonus_so_far.html#team", context)


urlpatterns: list[URLPattern] = [
    path("plans/team/", dashboard_page, name="dashboard"),
    path("bonuses/so-far/", bonus_so_far, name="bonus-so-far"),
]

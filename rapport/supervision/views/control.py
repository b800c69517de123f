"""The head's control room: the team dashboard (plan against fact, this week's load, data quality, bonus so far)
with what needs the head's eye per person — overdue activities, clients without a next step, stale clients,
deals off their checkpoints — each opening the list behind it, and the deals going well.

Heads see their team, admins and analysts choose one (``access.sees_team_dashboard``); a team asked
for by an id out of sight answers 404. Bonus so far arrives in a second request, as on my day.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.core.http import RapportRequest
from rapport.motivation.dashboard import team_dashboard
from rapport.motivation.models import Metric
from rapport.motivation.period_choice import team_out_of_sight, teams_for
from rapport.supervision.control import STALE_DAYS, Deviations, control_figures

PAGE = "supervision/control.html"


def _chosen_team(user: User, asked: str, teams: list[Team]) -> Team | None:
    """The team asked for when it is one of the user's, else their own, else the first they may open."""
    for team in teams:
        if str(team.pk) == asked.strip().lstrip("0"):
            return team
    return next((team for team in teams if team.pk == user.team_id), teams[0] if teams else None)


def _lists_behind(person: User, figures: Deviations) -> dict[str, str]:
    """The address of the list behind each figure of a person."""
    today = timezone.localdate()
    owner = {"owner": person.pk}
    stale_day = today - timedelta(days=STALE_DAYS + 1)
    return {
        "overdue": f"{reverse('activities:activity-list')}?"
        + urlencode({**owner, "status": "planned", "to": (today - timedelta(days=1)).isoformat()}),
        "without_companies": f"{reverse('clients:company-list')}?"
        + urlencode({**owner, "status": "active", "next_step": "none"}),
        "without_contacts": f"{reverse('clients:contact-list')}?"
        + urlencode({**owner, "status": "active", "next_step": "none"}),
        "stale": f"{reverse('clients:company-list')}?"
        + urlencode({**owner, "status": "active", "contacted_before": stale_day.isoformat(), "sort": "last_contact"}),
        "deals_off": f"{reverse('sales:deal-list')}?" + urlencode({**owner, "status": "open", "attention": "off"}),
    }


@require_safe
@login_required
def control_room(request: RapportRequest) -> HttpResponse:
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
    now = timezone.now()
    today = timezone.localdate(now)
    board = team_dashboard(people=people, team=team, today=today)
    figures = control_figures(people, now=now, today=today)
    labels = dict(Metric.choices)
    rows = [
        {
            "row": row,
            "figures": figures.people[row.person.pk],
            "lists": _lists_behind(row.person, figures.people[row.person.pk]),
        }
        for row in board.rows
    ]
    context: dict[str, Any] = {
        "board": board,
        "rows": rows,
        "figures": figures,
        "team": team,
        "teams": teams,
        "today": today,
        "stale_days": STALE_DAYS,
        "columns": [(metric, labels[metric]) for metric in board.grid.metrics],
        "elapsed": round(board.period.elapsed_share(today) * 100),
        "sees_quality": access.can_see_team_quality(user),
    }
    return render(request, PAGE, context)


urlpatterns: list[URLPattern] = [
    path("control/", control_room, name="control"),
]

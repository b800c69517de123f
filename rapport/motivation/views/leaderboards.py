"""The leaderboard page: a team's selling members ranked by a metric over a period, medals for the first three,
the viewer's own row highlighted and always in view.

Everyone in a team sees its board, the roles that see every client any team's
(``access.leaderboard_teams_for``); a team asked for by an id out of the viewer's sight answers
404. The period and the team are chosen as on the plans page (``period_choice``), the metric
beside them; whatever cannot be understood falls back, and the form says why.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_safe

from rapport.core.http import RapportRequest
from rapport.motivation.leaderboard import TOP, leaderboard
from rapport.motivation.models import Metric
from rapport.motivation.period_choice import MetricForm, Selection, selection_for, step, team_out_of_sight, teams_for

PAGE = "motivation/leaderboard.html"


def board_query(selection: Selection, metric: str, *, direction: int = 0) -> str:
    """The address of this board (or of the period before or after it), metric included."""
    period = step(selection, direction) if direction else selection.period
    return f"{selection.query(period=period)}&metric={metric}"


@require_safe
@login_required
def leaderboard_page(request: RapportRequest) -> HttpResponse:
    user = request.user
    teams = teams_for(user)
    if team_out_of_sight(request.GET, teams):
        raise Http404
    selection = selection_for(user, request.GET, teams=teams)
    metric_form = MetricForm(request.GET)
    metric = metric_form.chosen()
    if not metric_form.errors:
        metric_form = MetricForm(initial={"metric": metric})  # the input shows the metric shown
    board = leaderboard(selection.team, metric, selection.period, user) if selection.team is not None else None
    context: dict[str, Any] = {
        "selection": selection,
        "form": selection.form,
        "metric_form": metric_form,
        "metric": metric,
        "metric_label": Metric(metric).label,
        "board": board,
        "top": TOP,
        "previous_query": board_query(selection, metric, direction=-1),
        "next_query": board_query(selection, metric, direction=1),
    }
    if request.htmx:
        return render(request, f"{PAGE}#leaderboard-body", context)
    return render(request, PAGE, context)


urlpatterns: list[URLPattern] = [
    path("plans/leaderboard/", leaderboard_page, name="leaderboard"),
]

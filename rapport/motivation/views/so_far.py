"""Bonus so far: a person's own on my day, each person's of a team on the head's control room.

It is the bonus engine run live for this month (motivation.statements.bonus_so_far_of): it costs
more than a page may, so the pages draw without it and fetch it in a second request once shown,
as my day does its side column. A team's figures are for those who manage it
(``access.sees_team_dashboard``).
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
from rapport.accounts.models import User
from rapport.core.http import RapportRequest
from rapport.motivation.models import BonusRule
from rapport.motivation.period_choice import teams_for
from rapport.motivation.periods import month_of
from rapport.motivation.statements import bonus_so_far_of


def _totals_for(viewer: User, people: list[int]) -> dict[int, dict[str, Decimal]] | None:
    """Bonus so far of these people (currency → amount), computed for them only; None when no rule is in force."""
    if not people or not BonusRule.objects.filter(is_active=True).exists():
        return None
    return bonus_so_far_of(viewer, timezone.localdate(), people=people)


@require_safe
@login_required
def bonus_so_far(request: RapportRequest) -> HttpResponse:
    """Bonus so far this month: the viewer's own (``?team=`` absent), or each person of a team the viewer manages.

    The team's answer is one element per person, swapped into the control room's cells by their ids.
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
    path("bonuses/so-far/", bonus_so_far, name="bonus-so-far"),
]

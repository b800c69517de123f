"""The plan counters at the top of my day: "5 of 10 deals won", with a bar and the pace.

Read live on every render (one grouped query per running target, along the person's own
indexes), so a meeting just logged moves its counter on the next page. Registered with my
day as a top panel: activities does not know about plans.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities.my_day import register_top_panel
from rapport.motivation import metrics
from rapport.motivation.models import BonusRule, Target
from rapport.motivation.periods import Period
from rapport.motivation.progress import Progress

# More running targets than this are not counters any more but a report: the plans page has them all.
COUNTERS_SHOWN = 6


def counters_for(user: User, today: date) -> tuple[list[Progress], list[Progress]]:
    """The person's own targets running today, and their team's, each with its live fact."""
    mine = Q(user=user)
    if user.team_id is not None:
        mine |= Q(team_id=user.team_id)
    running = list(
        Target.objects.filter(mine, starts_on__lte=today, ends_on__gte=today).order_by("metric", "starts_on")[
            : COUNTERS_SHOWN + 1
        ]
    )
    own: list[Progress] = []
    team: list[Progress] = []
    shown = running[:COUNTERS_SHOWN]
    members = access.team_member_ids(user) if any(target.team_id is not None for target in shown) else []
    # Calls and meetings of the person and their team come from one query per period (the usual month).
    counted: dict[Period, dict[str, dict[int, Decimal]]] = {}
    for target in shown:
        period = Period(target.starts_on, target.ends_on)
        people = [user.pk] if target.user_id is not None else members
        if target.metric in metrics.ACTIVITY_METRICS:
            if period not in counted:
                counted[period] = metrics.activity_facts({user.pk, *members}, period)
            values = [counted[period][target.metric][pk] for pk in people]
            fact = sum(values, Decimal(0))
        elif target.user_id is not None:
            fact = metrics.facts(target.metric, people, period, currency=target.currency)[user.pk]
        else:
            fact = metrics.team_fact(target.metric, people, period, currency=target.currency)
        (own if target.user_id is not None else team).append(Progress(target, fact, today))
    return own, team


def plan_counters_panel(request: HttpRequest) -> str:
    user: User = request.user  # type: ignore[assignment]
    own, team = counters_for(user, timezone.localdate())
    # Bonus so far is fetched once the page is shown (views.dashboard.bonus_so_far): it runs the bonus engine.
    with_bonus = user.role in access.PLANNED_ROLES and BonusRule.objects.filter(is_active=True).exists()
    if not own and not team and not with_bonus:
        return ""
    return render_to_string("motivation/counters.html", {"own": own, "team": team, "with_bonus": with_bonus}, request)


register_top_panel(plan_counters_panel)

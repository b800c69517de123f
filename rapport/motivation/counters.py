"""The plan counters at the top of my day: "5 of 10 deals won", with a bar and the pace.

Read live on every render (one grouped query per running target, along the person's own
indexes), so a meeting just logged moves its counter on the next page. Registered with my
day as a top panel: activities does not know about plans.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities.my_day import register_top_panel
from rapport.motivation import metrics
from rapport.motivation.models import Target
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
    members: list[int] | None = None
    for target in running[:COUNTERS_SHOWN]:
        period = Period(target.starts_on, target.ends_on)
        if target.user_id is not None:
            fact = metrics.facts(target.metric, [user.pk], period, currency=target.currency)[user.pk]
            own.append(Progress(target, fact, today))
        else:
            if members is None:
                members = access.team_member_ids(user)
            team.append(
                Progress(target, metrics.team_fact(target.metric, members, period, currency=target.currency), today)
            )
    return own, team


def plan_counters_panel(request: HttpRequest) -> str:
    user: User = request.user  # type: ignore[assignment]
    own, team = counters_for(user, timezone.localdate())
    if not own and not team:
        return ""
    return render_to_string("motivation/counters.html", {"own": own, "team": team}, request)


register_top_panel(plan_counters_panel)

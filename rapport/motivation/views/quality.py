"""Data quality screens: a person's score with their lowest-scoring clients, and the team's scores over time.

A manager sees their own; a head opens the lists of the people in their scope (their team), an
admin anyone's, choosing the team. Every page costs the same few queries whatever the number
of clients or people (quality.managers_quality, quality.lowest_scores).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.accounts import access
from rapport.accounts.models import Role, Team, User
from rapport.core.http import RapportRequest
from rapport.core.paging import page_number
from rapport.motivation import quality
from rapport.motivation.models import QualitySnapshot
from rapport.motivation.quality import ManagerQuality, WeekScore

# Whose scores the team view lists: the roles that own clients.
OWNING_ROLES = [Role.MANAGER, Role.HEAD, Role.AGENT]
TREND_WEEKS = 8
NO_TEAM = "none"


@require_safe
@login_required
def my_quality(request: RapportRequest) -> HttpResponse:
    """My data quality: my score, and my clients with the lowest scores with what to fix in each."""
    return _person_page(request, request.user)


@require_safe
@login_required
def person_quality(request: RapportRequest, user_id: int) -> HttpResponse:
    """The same page for someone else: a head for their team, an admin for anyone (404 otherwise)."""
    return _person_page(request, access.quality_person_for(request.user, user_id))


def _person_page(request: RapportRequest, person: User) -> HttpResponse:
    page = quality.lowest_scores(person, page_number(request.GET))
    context: dict[str, object] = {"person": person, "is_me": person.pk == request.user.pk, "page": page}
    if request.htmx and request.htmx.target == "quality-table":
        return render(request, "motivation/quality_person.html#quality-table", context)
    context["quality"] = quality.manager_quality(person)
    context["can_see_team"] = access.can_see_team_quality(request.user)
    context["recent_days"] = quality.recent_days()
    context["activity_days"] = quality.ACTIVITY_DAYS
    return render(request, "motivation/quality_person.html", context)


@dataclass(frozen=True)
class MorningScore:
    """A person's data quality as this morning's snapshot keeps it (the activities counted are not kept)."""

    score: int
    clients_score: int
    activities_share: int
    clients: int
    activities: None = None
    is_snapshot: bool = True

    @property
    def band(self) -> str:
        return quality.score_band(self.score)

    @classmethod
    def of(cls, snapshot: QualitySnapshot) -> MorningScore:
        return cls(snapshot.score, snapshot.clients_score, snapshot.activities_share, snapshot.clients)


@dataclass(frozen=True)
class TeamRow:
    person: User
    quality: ManagerQuality | MorningScore
    weeks: list[WeekScore]


@require_safe
@login_required
def team_quality(request: RapportRequest) -> HttpResponse:
    """Per person of the team: the score now and the last eight weeks' (from the daily snapshots)."""
    user = request.user
    if not access.can_see_team_quality(user):
        raise PermissionDenied
    people = access.people_in_scope(user, OWNING_ROLES)
    teams: list[Team] = []
    chosen = ""
    if access.client_scope(user) == access.Scope.ALL:
        teams = list(Team.objects.order_by("name"))
        chosen = request.GET.get("team") or (str(teams[0].pk) if teams else NO_TEAM)
        people = _of_team(people, chosen)
    members = list(people.select_related("team").order_by("first_name", "last_name", "username"))
    today = timezone.localdate()
    trend = quality.quality_trend(members, days=7 * TREND_WEEKS, today=today)
    # This morning's snapshot where the job took one: scoring a team's clients live takes seconds on a big base.
    counted = {pk: snapshots[-1] for pk, snapshots in trend.items() if snapshots and snapshots[-1].on == today}
    live = quality.managers_quality([person for person in members if person.pk not in counted])
    rows = [
        TeamRow(
            person=person,
            quality=MorningScore.of(counted[person.pk]) if person.pk in counted else live[person.pk],
            weeks=quality.weekly(trend[person.pk], weeks=TREND_WEEKS, today=today),
        )
        for person in members
    ]
    context = {
        "rows": rows,
        "teams": teams,
        "chosen": chosen,
        "no_team": NO_TEAM,
    }
    return render(request, "motivation/quality_team.html", context)


def _of_team(people: QuerySet[User], chosen: str) -> QuerySet[User]:
    """The people of the chosen team, or of no team; anything else chooses nobody (never a 500)."""
    if chosen == NO_TEAM:
        return people.filter(team__isnull=True)
    if chosen.isdigit():
        return people.filter(team_id=int(chosen))
    return people.none()

"""A team's leaderboard: every selling member ranked by a metric over a period, each with their target, and the
viewer's own place always in view.

Three queries whatever the team's size: its selling members (the planned roles, active), their
targets of exactly that metric and period (and the team's own, which names the currency), and
one ``metrics.facts`` for them all. Equal figures share a place and the next place is skipped
(1, 2, 2, 4), so nobody is ranked above a colleague who did as much; among equals, names
decide the order of the rows only.

Revenue is counted in the currency of the team's revenue targets (``report.revenue_currency``),
else in the company's: deals in other currencies are not converted, and the page says which.
Who may open which team's board is the access policy's (``access.leaderboard_teams_for``);
this module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.motivation.metrics import MONEY, facts
from rapport.motivation.models import Target
from rapport.motivation.periods import Period
from rapport.motivation.report import percent_of, revenue_currency

# The rows a board shows before the viewer's own (when theirs is further down).
TOP = 10
MEDALS = {1: "gold", 2: "silver", 3: "bronze"}


@dataclass(frozen=True)
class Place:
    rank: int
    person: User
    fact: Decimal
    target: Decimal | None  # None: no target of exactly this metric and period

    @property
    def percent(self) -> int | None:
        return percent_of(self.fact, self.target)

    @property
    def bar(self) -> int:
        """The percent as a bar fills it: up to full."""
        return min(100, self.percent or 0)

    @property
    def medal(self) -> str:
        """Gold, silver or bronze for the first three places — not for a figure of nothing."""
        return MEDALS.get(self.rank, "") if self.fact > 0 else ""


@dataclass(frozen=True)
class Leaderboard:
    team: Team
    metric: str
    period: Period
    currency: str  # revenue's ("" for counts and scores)
    currency_from_targets: bool  # False: the company's currency, as no revenue target names one
    places: list[Place]  # everyone, best first
    own: Place | None  # the viewer's, when they are on the board

    @property
    def top(self) -> list[Place]:
        return self.places[:TOP]

    @property
    def own_below(self) -> Place | None:
        """The viewer's place when it is not among the top rows: shown after them, so it is always in view."""
        if self.own is None or any(place is self.own for place in self.top):
            return None
        return self.own

    @property
    def is_money(self) -> bool:
        return self.metric in MONEY


def ranked(values: list[tuple[User, Decimal]]) -> list[tuple[int, User, Decimal]]:
    """Best first, equal figures sharing a place and the following places skipped (1, 2, 2, 4)."""
    ordered = sorted(values, key=lambda item: (-item[1], item[0].display_name.casefold(), item[0].pk))
    found: list[tuple[int, User, Decimal]] = []
    for position, (person, value) in enumerate(ordered, start=1):
        rank = found[-1][0] if found and found[-1][2] == value else position
        found.append((rank, person, value))
    return found


def leaderboard(team: Team, metric: str, period: Period, viewer: User) -> Leaderboard:
    """The team's board for the metric over the period; ``viewer`` only marks their own place."""
    members = list(
        User.objects.filter(team=team, role__in=access.PLANNED_ROLES, is_active=True).order_by(
            "first_name", "last_name", "username"
        )
    )
    ids = [member.pk for member in members]
    targets = list(
        Target.objects.filter(
            Q(user_id__in=ids) | Q(team=team), metric=metric, starts_on=period.start, ends_on=period.end
        ).order_by("id")
    )
    currency, from_targets = revenue_currency(targets, team=team) if metric in MONEY else ("", False)
    figures = {
        target.user_id: target.value
        for target in targets
        if target.user_id is not None and (metric not in MONEY or target.currency == currency)
    }
    values = facts(metric, ids, period, currency=currency)
    places = [
        Place(rank=rank, person=person, fact=value, target=figures.get(person.pk))
        for rank, person, value in ranked([(member, values[member.pk]) for member in members])
    ]
    own = next((place for place in places if place.person.pk == viewer.pk), None)
    return Leaderboard(
        team=team,
        metric=metric,
        period=period,
        currency=currency,
        currency_from_targets=from_targets,
        places=places,
        own=own,
    )

"""What the plans screens show: a period (a month, a quarter or custom dates), a team and a metric, read from
the query string and checked, so each view of a screen has its address.

The plans page, the leaderboard and the plan/fact report share it: the same inputs, the same
fallback (what cannot be understood falls back to this month, and the form says why), the same
links to the neighbouring periods. The teams offered are ``access.leaderboard_teams_for``'s.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.motivation import services
from rapport.motivation.models import Metric, PeriodKind
from rapport.motivation.periods import Period, month_of, period_of, quarter_of

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
# The quarters the picker offers around today's (another one typed into the address still works).
QUARTERS_BACK, QUARTERS_AHEAD = 8, 4


def quarter_key(period: Period) -> str:
    return f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"


def _quarter_label(key: str) -> str:
    year, number = QUARTER.match(key).groups()  # type: ignore[union-attr]
    return _("Q%(number)s %(year)s") % {"number": number, "year": year}


def _quarter_start(key: str) -> date | None:
    found = QUARTER.match(key or "")
    if found is None:
        return None
    year, number = int(found[1]), int(found[2])
    return date(year, 3 * (number - 1) + 1, 1) if 1 <= year <= 9998 else None


class PlanFilterForm(forms.Form):
    """The period (a month, a quarter or custom dates) and the team; every field may be left out."""

    kind = forms.ChoiceField(label=gettext_lazy("Period"), choices=PeriodKind.choices, required=False)
    month = forms.DateField(
        label=gettext_lazy("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
    )
    quarter = forms.CharField(label=gettext_lazy("Quarter"), required=False, max_length=7, widget=forms.Select)
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    # Choices from the teams already read (a ModelChoiceField would query them again to draw and to check).
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), coerce=int, required=False)

    def __init__(
        self,
        data: QueryDict | None,
        *,
        teams: list[Team],
        today: date,
        initial: dict[str, Any] | None = None,
        kinds: Collection[str] = tuple(PeriodKind.values),
    ) -> None:
        super().__init__(data, initial=initial)
        self.teams = teams
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in PeriodKind.choices if value in kinds
        ]
        self.fields["team"].choices = [(team.pk, team.name) for team in teams]  # type: ignore[attr-defined]
        here = quarter_of(today).start
        keys = [
            quarter_key(quarter_of(shift_months(here, 3 * step)))
            for step in range(QUARTERS_AHEAD, -QUARTERS_BACK - 1, -1)
        ]
        chosen = (data.get("quarter") if data is not None else None) or (initial or {}).get("quarter") or ""
        if _quarter_start(chosen) is not None and chosen not in keys:
            keys.append(chosen)
        self.fields["quarter"].widget.choices = [(key, _quarter_label(key)) for key in keys]

    def clean_quarter(self) -> str:
        value: str = self.cleaned_data.get("quarter") or ""
        if value and _quarter_start(value) is None:
            raise ValidationError(_("Choose a quarter."))
        return value

    def chosen_team(self) -> Team | None:
        chosen = self.cleaned_data.get("team")
        return next((team for team in self.teams if team.pk == chosen), None)


def shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Selection:
    """What the page shows: the period (of a kind) and the team, and the form that chose them."""

    kind: str
    period: Period
    team: Team | None
    form: PlanFilterForm
    asked_kind: str  # whose inputs the form shows: the kind asked for, also when it fell back to this month

    def query(self, *, period: Period | None = None, kind: str | None = None) -> str:
        """The query string of this view of the page (or of another period of it)."""
        return period_query(kind or self.kind, period or self.period, self.team)

    @property
    def title(self) -> str:
        return period_title(self.kind, self.period)


def period_query(kind: str, period: Period, team: Team | None) -> str:
    params: dict[str, Any] = {"kind": kind}
    if kind == PeriodKind.MONTH:
        params["month"] = period.start.strftime("%Y-%m")
    elif kind == PeriodKind.QUARTER:
        params["quarter"] = quarter_key(period)
    else:
        params |= {"start": period.start.isoformat(), "end": period.end.isoformat()}
    if team is not None:
        params["team"] = team.pk
    return urlencode(params)


def period_title(kind: str, period: Period) -> str:
    if kind == PeriodKind.MONTH:
        return formats.date_format(period.start, "YEAR_MONTH_FORMAT")
    if kind == PeriodKind.QUARTER:
        return _quarter_label(quarter_key(period))
    return _("%(start)s – %(end)s") % {
        "start": formats.date_format(period.start, "SHORT_DATE_FORMAT"),
        "end": formats.date_format(period.end, "SHORT_DATE_FORMAT"),
    }


def teams_for(user: User) -> list[Team]:
    """The teams whose plans the user may open: their own, any for the roles that see every client."""
    return list(access.leaderboard_teams_for(user).order_by("name"))


def selection_for(
    user: User,
    data: QueryDict,
    *,
    teams: list[Team] | None = None,
    kinds: Collection[str] = tuple(PeriodKind.values),
) -> Selection:
    """The period and team asked for, checked; what cannot be understood falls back to this month, with the reason.

    ``teams`` are those offered (default: ``teams_for(user)``, read here); ``kinds`` the period kinds a screen
    offers (the report runs over whole months or quarters only).
    """
    today = timezone.localdate()
    teams = teams_for(user) if teams is None else teams
    form = PlanFilterForm(data, teams=teams, today=today, kinds=kinds)
    form.is_valid()
    clean = form.cleaned_data
    kind = asked_kind = clean.get("kind") or data.get("kind") or PeriodKind.MONTH
    if kind not in kinds:
        kind = PeriodKind.MONTH
    team = form.chosen_team() or next((team for team in teams if team.pk == user.team_id), None)
    if team is None and teams:
        team = teams[0]
    # The day the chosen kind's period holds: its own input, else another kind's (switching keeps the place).
    anchors: dict[str, date | None] = {
        PeriodKind.MONTH: clean.get("month"),
        PeriodKind.QUARTER: _quarter_start(clean.get("quarter") or ""),
        PeriodKind.CUSTOM: clean.get("start"),
    }
    anchor = anchors[kind] or next((day for day in anchors.values() if day is not None), None) or today
    start, end = (clean.get("start"), clean.get("end")) if kind == PeriodKind.CUSTOM else (None, None)
    if kind == PeriodKind.CUSTOM and (start is None or end is None):
        start, end = month_of(anchor).start, month_of(anchor).end
    elif kind != PeriodKind.CUSTOM:
        start = period_of(kind, anchor).start
    try:
        period = services.plan_period(kind, start, end)
    except ValidationError as error:
        names = {"starts_on": "start" if kind == PeriodKind.CUSTOM else kind, "ends_on": "end"}
        for field, problems in error.message_dict.items():
            form.add_error(names.get(field, "kind"), problems)
        kind, period = PeriodKind.MONTH, month_of(today)
    if not form.errors:
        # The inputs show the period chosen, also when it came from a default or another kind's input.
        initial = {"kind": kind, "start": period.start, "end": period.end, "team": team.pk if team else None}
        initial |= {"month": period.start, "quarter": quarter_key(quarter_of(period.start))}
        form = PlanFilterForm(None, teams=teams, today=today, initial=initial, kinds=kinds)
    return Selection(kind=kind, period=period, team=team, form=form, asked_kind=asked_kind if form.errors else kind)


def step(selection: Selection, direction: int) -> Period:
    """The period before or after the one shown, of the same kind (custom dates: as many days)."""
    period = selection.period
    if selection.kind == PeriodKind.CUSTOM:
        shift = period.days * direction
        start, end = period.start.toordinal() + shift, period.end.toordinal() + shift
        if date.min.toordinal() <= start and end <= date.max.toordinal():
            return Period(date.fromordinal(start), date.fromordinal(end))
        return period
    months = 3 if selection.kind == PeriodKind.QUARTER else 1
    if not 1 < period.start.year < 9999:
        return period
    return period_of(selection.kind, shift_months(period.start, months * direction))


# ---- The metric ---------------------------------------------------------------------------------


class MetricForm(forms.Form):
    """Which metric a leaderboard or a report counts; left out, calls (the first of them)."""

    metric = forms.ChoiceField(label=gettext_lazy("Metric"), choices=Metric.choices, required=False)

    def chosen(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("metric") or Metric.CALLS


def team_out_of_sight(data: QueryDict, teams: list[Team]) -> bool:
    """A team asked for by an id that is not among the user's: answered 404, as a record out of scope is (words
    that are no id at all fall back to the user's team, with the reason, like any other input not understood)."""
    asked = (data.get("team") or "").strip()
    return asked.isascii() and asked.isdigit() and all(str(team.pk) != asked.lstrip("0") for team in teams)

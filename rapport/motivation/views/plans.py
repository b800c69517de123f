"""The plans page: a period's targets for a team and its people, each cell "fact of target" with its bar and pace;
bulk entry of the whole grid for heads and admins, and the copy of a period's targets to the next.

Who sees what is the access policy's: a manager or agent reads their own row (and their team's
own target, as my day's counters show it), a head their team, the roles that see every client
any team. Heads set their team's targets and admins anyone's, through ``motivation.services``.
The period and the team come in the query string, so each view of the page has its address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.core.http import RapportRequest
from rapport.motivation import services
from rapport.motivation.models import Metric, PeriodKind
from rapport.motivation.periods import Period, month_of, period_of, quarter_of
from rapport.motivation.plan_grid import PlanGrid, plan_grid

PAGE = "motivation/plans.html"
EDIT = "motivation/plans_edit.html"
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
# The quarters the picker offers around today's (another one typed into the address still works).
QUARTERS_BACK, QUARTERS_AHEAD = 8, 4


# ---- Which period and team ------------------------------------------------------------------------


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
        self, data: QueryDict | None, *, teams: list[Team], today: date, initial: dict[str, Any] | None = None
    ) -> None:
        super().__init__(data, initial=initial)
        self.teams = teams
        self.fields["team"].choices = [(team.pk, team.name) for team in teams]  # type: ignore[attr-defined]
        here = quarter_of(today).start
        keys = [
            quarter_key(quarter_of(_shift_months(here, 3 * step)))
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


def _shift_months(day: date, months: int) -> date:
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


def _teams_for(user: User) -> list[Team]:
    """The teams whose plans the user may open: their own, any for the roles that see every client."""
    return list(access.leaderboard_teams_for(user).order_by("name"))


def selection_for(user: User, data: QueryDict) -> Selection:
    """The period and team asked for, checked; what cannot be understood falls back to this month, with the reason."""
    today = timezone.localdate()
    teams = _teams_for(user)
    form = PlanFilterForm(data, teams=teams, today=today)
    form.is_valid()
    clean = form.cleaned_data
    kind = asked_kind = clean.get("kind") or data.get("kind") or PeriodKind.MONTH
    if kind not in PeriodKind.values:
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
        form = PlanFilterForm(None, teams=teams, today=today, initial=initial)
    return Selection(kind=kind, period=period, team=team, form=form, asked_kind=asked_kind if form.errors else kind)


def people_for(user: User, team: Team | None) -> list[User]:
    """The rows of the grid: the people whose plans the user sees, of the team shown."""
    people: QuerySet[User] = access.plan_people_visible_to(user)
    if team is not None:
        people = people.filter(team=team)
    return list(people.order_by("first_name", "last_name", "username"))


def may_edit(user: User, selection: Selection) -> bool:
    return selection.team is not None and access.can_set_targets(user, team=selection.team)


# ---- The page -----------------------------------------------------------------------------------


def _others(grid: PlanGrid, people: list[User], team: Team | None) -> list[dict[str, Any]]:
    """The targets running in the period with other dates, each with the address of its own period."""
    names = {person.pk: person.display_name for person in people}
    found = []
    for target in grid.others:
        found.append(
            {
                "target": target,
                "owner": names.get(target.user_id or 0) or str(team),
                "query": period_query(target.period_kind, Period(target.starts_on, target.ends_on), team),
                "title": period_title(target.period_kind, Period(target.starts_on, target.ends_on)),
            }
        )
    return found


def plans_context(request: RapportRequest, selection: Selection) -> dict[str, Any]:
    user = request.user
    people = people_for(user, selection.team)
    grid = plan_grid(people=people, team=selection.team, period=selection.period, today=timezone.localdate())
    labels = dict(Metric.choices)
    return {
        "selection": selection,
        "form": selection.form,
        "grid": grid,
        "columns": [(metric, labels[metric]) for metric in grid.metrics],
        "table": [(row, [(metric, row.cells.get(metric)) for metric in grid.metrics]) for row in grid.rows],
        "others": _others(grid, people, selection.team),
        "can_edit": may_edit(user, selection),
        "can_copy_all": access.can_set_targets(user),
        "previous_query": selection.query(period=_step(selection, -1)),
        "next_query": selection.query(period=_step(selection, 1)),
        "elapsed": round(selection.period.elapsed_share(timezone.localdate()) * 100),
    }


def _step(selection: Selection, direction: int) -> Period:
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
    return period_of(selection.kind, _shift_months(period.start, months * direction))


@require_safe
@login_required
def plans_page(request: RapportRequest) -> HttpResponse:
    selection = selection_for(request.user, request.GET)
    context = plans_context(request, selection)
    if request.htmx:
        return render(request, f"{PAGE}#plans-body", context)
    return render(request, PAGE, context)


# ---- Bulk entry -----------------------------------------------------------------------------------


class BulkForm(forms.Form):
    """One input per person × metric, and per metric for the team's own target: ``services.cell_key`` names them."""

    def __init__(self, data: QueryDict | None, *, people: list[User], team: Team, initial: dict[str, Decimal]) -> None:
        super().__init__(data, initial=initial)
        rows = [(person.pk, person.display_name) for person in people] + [(services.TEAM_ROW, str(team))]
        for person_id, name in rows:
            for metric, label in Metric.choices:
                self.fields[services.cell_key(person_id, metric)] = forms.DecimalField(
                    label=f"{label} · {name}",
                    required=False,
                    localize=True,
                    widget=forms.TextInput(
                        attrs={
                            "inputmode": "decimal",
                            "autocomplete": "off",
                            "class": "form-control form-control-sm",
                            "style": "min-width: 6rem",
                            "aria-label": f"{label} · {name}",
                        }
                    ),
                )

    def clean(self) -> dict[str, Any]:
        """The figures' own rules (the services' words), so one post shows every cell's problem at once."""
        cleaned = super().clean() or {}
        for name, value in list(cleaned.items()):
            if value is not None and (problem := services.checked_value(name.split("-", 2)[2], value)[1]):
                self.add_error(name, problem)
        return cleaned

    def mark_errors(self) -> None:
        """Each refused cell drawn red and tied to its message (for screen readers too)."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid"
                attrs |= {"aria-invalid": "true", "aria-describedby": f"id_{name}-error"}

    def values(self) -> dict[tuple[int, str], Decimal | None]:
        found: dict[tuple[int, str], Decimal | None] = {}
        for name, value in self.cleaned_data.items():
            _cell, who, metric = name.split("-", 2)
            found[services.TEAM_ROW if who == "team" else int(who), metric] = value
        return found


def _initial(grid: PlanGrid) -> dict[str, Decimal]:
    initial = {}
    for row in grid.rows:
        for metric, progress in row.cells.items():
            value = progress.target.value
            shown = value.quantize(Decimal(1)) if value == value.to_integral_value() else value
            initial[services.cell_key(row.person.pk if row.person else services.TEAM_ROW, metric)] = shown
    return initial


def _understood(request: RapportRequest, selection: Selection) -> HttpResponseRedirect | None:
    """A period or team that could not be understood is never written to: back to the page, which says why."""
    if not selection.form.errors:
        return None
    messages.error(request, _("Choose the period and the team again: the address was not understood."))
    return redirect(f"{reverse('motivation:plans')}?{request.GET.urlencode()}")


def _editing(request: RapportRequest) -> Selection:
    selection = selection_for(request.user, request.GET)
    if not may_edit(request.user, selection):
        raise PermissionDenied
    return selection


def _edit_context(request: RapportRequest, selection: Selection, form: BulkForm, people: list[User]) -> dict[str, Any]:
    form.mark_errors()
    rows = [
        {
            "person": person,
            "label": person.display_name if person else str(selection.team),
            "cells": [
                (metric, form[services.cell_key(person.pk if person else services.TEAM_ROW, metric)])
                for metric in Metric.values
            ],
        }
        for person in [*people, None]
    ]
    return {
        "selection": selection,
        "form": form,
        "rows": rows,
        "metrics": Metric.choices,
        "currency": settings.RAPPORT_DEFAULT_CURRENCY,
        "back": f"{reverse('motivation:plans')}?{selection.query()}",
        "can_copy_all": access.can_set_targets(request.user),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def plans_edit(request: RapportRequest) -> HttpResponse:
    """The grid as a form: every cell of the team's people and of the team, saved all at once (or not at all)."""
    selection = _editing(request)
    if (refusal := _understood(request, selection)) is not None:
        return refusal
    team = selection.team
    assert team is not None  # may_edit holds it
    people = people_for(request.user, team)
    grid = plan_grid(people=people, team=team, period=selection.period, today=timezone.localdate())
    initial = _initial(grid)
    if request.method != "POST":
        return render(
            request,
            EDIT,
            _edit_context(request, selection, BulkForm(None, people=people, team=team, initial=initial), people),
        )
    form = BulkForm(request.POST, people=people, team=team, initial=initial)
    if form.is_valid():
        try:
            saved = services.targets_bulk_save(
                by=request.user,
                team=team,
                period_kind=selection.kind,
                starts_on=selection.period.start,
                ends_on=selection.period.end,
                values={key: value for key, value in form.values().items() if _changed(key, value, initial)},
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(
                request,
                _("Targets for %(period)s saved: %(created)d set, %(changed)d changed, %(deleted)d removed.")
                % {
                    "period": selection.title,
                    "created": saved.created,
                    "changed": saved.changed,
                    "deleted": saved.deleted,
                },
            )
            return redirect(f"{reverse('motivation:plans')}?{selection.query()}")
    return render(request, EDIT, _edit_context(request, selection, form, people), status=422)


def _changed(key: tuple[int, str], value: Decimal | None, initial: dict[str, Decimal]) -> bool:
    """Only the cells the form changed are sent: a target set meanwhile in a cell left empty stays."""
    before = initial.get(services.cell_key(*key))
    return value != before


@require_POST
@login_required
def plans_copy(request: RapportRequest) -> HttpResponseRedirect:
    """Copy the period's targets (the team's, or with ``scope=all`` everyone's, for admins) to the next period."""
    selection = selection_for(request.user, request.GET)
    if (refusal := _understood(request, selection)) is not None:
        return refusal
    everyone = request.POST.get("scope") == "all"
    team = None if everyone else selection.team
    if team is None and not everyone:
        raise PermissionDenied
    try:
        copied = services.targets_copy_to_next(
            by=request.user,
            period_kind=selection.kind,
            starts_on=selection.period.start,
            ends_on=selection.period.end,
            team=team,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{reverse('motivation:plans')}?{selection.query()}")
    following = period_title(selection.kind, copied.period)
    if copied.copied or copied.skipped:
        messages.success(
            request,
            _("Targets copied to %(period)s: %(copied)d; skipped as already set there: %(skipped)d.")
            % {"copied": copied.copied, "skipped": copied.skipped, "period": following},
        )
    else:
        messages.info(request, _("There were no targets in %(period)s to copy.") % {"period": selection.title})
    return redirect(f"{reverse('motivation:plans')}?{selection.query(period=copied.period)}")


urlpatterns: list[URLPattern] = [
    path("plans/", plans_page, name="plans"),
    path("plans/edit/", plans_edit, name="plans-edit"),
    path("plans/copy/", plans_copy, name="plans-copy"),
]

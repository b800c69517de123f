"""The plans page: a period's targets for a team and its people, each cell "fact of target" with its bar and pace;
bulk entry of the whole grid for heads and admins, and the copy of a period's targets to the next.

Who sees what is the access policy's: a manager or agent reads their own row (and their team's
own target, as my day's counters show it), a head their team, the roles that see every client
any team. Heads set their team's targets and admins anyone's, through ``motivation.services``.
The period and the team come in the query string, so each view of the page has its address.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.core.http import RapportRequest
from rapport.motivation import services
from rapport.motivation.models import Metric
from rapport.motivation.period_choice import Selection, period_query, period_title, selection_for, step
from rapport.motivation.periods import Period
from rapport.motivation.plan_grid import PlanGrid, plan_grid

PAGE = "motivation/plans.html"
EDIT = "motivation/plans_edit.html"


# ---- Which period and team (motivation.period_choice) ------------------------------------------


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
        "previous_query": selection.query(period=step(selection, -1)),
        "next_query": selection.query(period=step(selection, 1)),
        "elapsed": round(selection.period.elapsed_share(timezone.localdate()) * 100),
    }


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

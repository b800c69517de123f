"""Activity settings. Admins: the outcome picklists of each kind and the minimum-data rules. Everyone: their
own reminder times. Plain forms that post and come back with a message; every write is a service, which
checks the rights again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts import access
from rapport.activities import services, settings_services
from rapport.activities.models import REQUIREMENTS, ActivityKind, ActivityStatus, MinimumDataRule, Outcome
from rapport.activities.reminders import offsets_for
from rapport.activities.settings_forms import (
    MinimumDataRulesForm,
    OutcomeForm,
    ReminderOffsetsForm,
    offset_label,
    rule_field_name,
)
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest, allowed_by

# Signed in and allowed to configure this; anyone else gets 403.
_admin = allowed_by(access.can_configure_activities)


def _refused(request: RapportRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


# ---- Outcomes ----------------------------------------------------------------------------------


@_admin
def outcome_list(request: RapportRequest) -> HttpResponse:
    """Each kind's outcomes in the order the quick log offers them; the form at the bottom adds one."""
    form = OutcomeForm(new=True, initial={"kind": request.GET.get("kind") or ActivityKind.CALL})
    by_kind: dict[str, list[Outcome]] = {kind: [] for kind in ActivityKind.values}
    for outcome in Outcome.objects.order_by("kind", "position", "id"):
        by_kind.setdefault(outcome.kind, []).append(outcome)
    kinds = [(kind, label, by_kind[kind]) for kind, label in ActivityKind.choices]
    return render(
        request, "activities/settings/outcome_list.html", {"kinds": kinds, "form": form, "section": "outcomes"}
    )


def _outcome_page(request: RapportRequest, form: OutcomeForm, *, title: str) -> HttpResponse:
    context = {"form": form, "title": title, "back": reverse("activities:outcome-list"), "section": "outcomes"}
    return render(request, "activities/settings/form.html", context, status=422 if form.errors else 200)


@_admin
def outcome_create(request: RapportRequest) -> HttpResponse:
    initial = {"kind": request.GET.get("kind") or ActivityKind.CALL}
    form = OutcomeForm(request.POST if request.method == "POST" else None, new=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.outcome_save(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Outcome “%(name)s” added.") % {"name": outcome.name})
            return redirect(f"{reverse('activities:outcome-list')}#outcomes-{outcome.kind}")
    return _outcome_page(request, form, title=_("New outcome"))


@_admin
def outcome_edit(request: RapportRequest, outcome_id: int) -> HttpResponse:
    outcome = get_object_or_404(Outcome, pk=outcome_id)
    initial = {
        "kind": outcome.kind,
        "name": outcome.name,
        "asks_follow_up": outcome.asks_follow_up,
        "is_active": outcome.is_active,
    }
    form = OutcomeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.outcome_save(by=request.user, outcome=outcome, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Outcome saved."))
            return redirect(f"{reverse('activities:outcome-list')}#outcomes-{outcome.kind}")
    return _outcome_page(request, form, title=_("Outcome “%(name)s”") % {"name": outcome.name})


def _outcome_change(request: RapportRequest, outcome: Outcome, *, asks_follow_up: bool, is_active: bool) -> bool:
    """One flag of an outcome changed, the rest as they are; False (and a message) if the service refuses."""
    try:
        services.outcome_save(
            by=request.user,
            outcome=outcome,
            kind=outcome.kind,
            name=outcome.name,
            asks_follow_up=asks_follow_up,
            is_active=is_active,
        )
    except ValidationError as error:
        _refused(request, error)
        return False
    return True


@require_POST
@_admin
def outcome_follow_up(request: RapportRequest, outcome_id: int) -> HttpResponse:
    """Turn "asks for a follow-up" on (``asks=1``) or off."""
    outcome = get_object_or_404(Outcome, pk=outcome_id)
    asks = request.POST.get("asks") == "1"
    if _outcome_change(request, outcome, asks_follow_up=asks, is_active=outcome.is_active):
        messages.success(
            request,
            _("“%(name)s” now asks when to follow up.") % {"name": outcome.name}
            if asks
            else _("“%(name)s” no longer asks for a follow-up.") % {"name": outcome.name},
        )
    return redirect(f"{reverse('activities:outcome-list')}#outcomes-{outcome.kind}")


@require_POST
@_admin
def outcome_active(request: RapportRequest, outcome_id: int) -> HttpResponse:
    """Retire an outcome (no longer offered; activities keep it) or restore it (``active=1``)."""
    outcome = get_object_or_404(Outcome, pk=outcome_id)
    active = request.POST.get("active") == "1"
    if _outcome_change(request, outcome, asks_follow_up=outcome.asks_follow_up, is_active=active):
        messages.success(
            request,
            _("“%(name)s” is offered again.") % {"name": outcome.name}
            if active
            else _("“%(name)s” is no longer offered; activities that have it keep it.") % {"name": outcome.name},
        )
    return redirect(f"{reverse('activities:outcome-list')}#outcomes-{outcome.kind}")


@require_POST
@_admin
def outcome_move(request: RapportRequest, outcome_id: int) -> HttpResponse:
    outcome = get_object_or_404(Outcome, pk=outcome_id)
    step = -1 if request.POST.get("direction") == "up" else 1
    settings_services.outcome_move(by=request.user, outcome=outcome, step=step)
    return redirect(f"{reverse('activities:outcome-list')}#outcomes-{outcome.kind}")


# ---- Minimum-data rules ------------------------------------------------------------------------


@_admin
def rules(request: RapportRequest) -> HttpResponse:
    """The kind × status matrix: what an activity must carry to be saved with that status."""
    stored = {(rule.kind, rule.status): list(rule.required) for rule in MinimumDataRule.objects.all()}
    initial = {rule_field_name(kind, status): required for (kind, status), required in stored.items()}
    form = MinimumDataRulesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = settings_services.minimum_data_rules_save(by=request.user, rules=form.rules())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if changed:
                messages.success(request, _("The rules are saved."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("activities:rules")
    statuses = ActivityStatus.choices
    matrix = [
        {
            "kind": kind,
            "label": label,
            "errors": [
                error for status in ActivityStatus.values for error in form[rule_field_name(kind, status)].errors
            ],
            "rows": [
                {
                    "key": key,
                    "label": requirement,
                    "cells": [
                        {
                            "name": rule_field_name(kind, status),
                            "id": f"rule-{kind}-{status}-{key}",
                            "checked": key in _selected(form, rule_field_name(kind, status)),
                            "status_label": status_label,
                        }
                        for status, status_label in statuses
                    ],
                }
                for key, requirement in REQUIREMENTS.items()
            ],
        }
        for kind, label in ActivityKind.choices
    ]
    defaults = [
        {
            "kind": ActivityKind(kind).label,
            "status": ActivityStatus(status).label,
            "required": ", ".join(str(REQUIREMENTS[key]) for key in required),
        }
        for (kind, status), required in settings_services.DEFAULT_RULES.items()
    ]
    context = {
        "form": form,
        "matrix": matrix,
        "statuses": statuses,
        "defaults": defaults,
        "section": "rules",
    }
    return render(request, "activities/settings/rules.html", context, status=422 if form.errors else 200)


def _selected(form: MinimumDataRulesForm, name: str) -> set[str]:
    """What the matrix shows checked: what was posted (on a refusal) or what is stored."""
    if form.is_bound:
        return set(form.data.getlist(name)) if hasattr(form.data, "getlist") else set()
    return set(form.initial.get(name) or [])


# ---- A person's reminders ----------------------------------------------------------------------


@login_required
def reminder_settings(request: RapportRequest) -> HttpResponse:
    """When to be reminded before a planned activity: the signed-in person's own choice."""
    current = offsets_for(request.user)
    form = ReminderOffsetsForm(request.POST if request.method == "POST" else None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            row = settings_services.reminder_offsets_save(by=request.user, offsets=form.cleaned_data["chosen"])
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            chosen = [offset_label(offset) for offset in row.reminder_offsets]
            if chosen:
                messages.success(request, _("You will be reminded: %(times)s.") % {"times": ", ".join(chosen)})
            else:
                messages.success(request, _("You will get no reminders before your activities."))
            return redirect("activities:reminder-settings")
    context = {"form": form, "current": [offset_label(offset) for offset in current]}
    return render(request, "activities/settings/reminders.html", context, status=422 if form.errors else 200)


urlpatterns: list[URLPattern] = [
    path("settings/outcomes/", outcome_list, name="outcome-list"),
    path("settings/outcomes/new/", outcome_create, name="outcome-create"),
    path("settings/outcomes/<int:outcome_id>/", outcome_edit, name="outcome-edit"),
    path("settings/outcomes/<int:outcome_id>/follow-up/", outcome_follow_up, name="outcome-follow-up"),
    path("settings/outcomes/<int:outcome_id>/active/", outcome_active, name="outcome-active"),
    path("settings/outcomes/<int:outcome_id>/move/", outcome_move, name="outcome-move"),
    path("settings/rules/", rules, name="rules"),
    path("settings/reminders/", reminder_settings, name="reminder-settings"),
]

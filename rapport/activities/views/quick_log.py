"""The quick log on the client card: a call saved by clicking its outcome.

An outcome that asks for nothing more ("wrong number") is one click: a POST that saves the
call. One that asks for a follow-up ("call back later") first opens the due-time chooser
(a GET), whose presets save with the second click. The answer is the panel again, with
what was saved, and the new entries for the card's timeline (an out-of-band swap), so the
card is never read again: the quick log is timed to 30 ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.forms import DuePreset, QuickLogForm, due_presets
from rapport.activities.models import Activity, ActivityKind, Outcome
from rapport.activities.next_steps import next_step_of
from rapport.activities.timeline import entries_of
from rapport.clients.services import AnyClient
from rapport.clients.timeline import TimelineEntry
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest


@dataclass
class QuickLog:
    """What the panel shows: the outcome buttons, the chooser of the outcome picked, what was just saved."""

    outcomes: list[Outcome]
    form: QuickLogForm | None = None
    chosen: Outcome | None = None  # an outcome that asks when to follow up, waiting for the time
    presets: list[DuePreset] = field(default_factory=list)
    saved: services.QuickLog | None = None
    new_entries: list[TimelineEntry] = field(default_factory=list)


def call_outcomes() -> list[Outcome]:
    return list(Outcome.objects.filter(kind=ActivityKind.CALL, is_active=True).order_by("position", "id"))


def quick_log_for(user: User) -> QuickLog | None:
    """The panel as a client card first shows it, or None for people who do not log activities (one query)."""
    if not access.can_log_activities(user):
        return None
    return QuickLog(outcomes=call_outcomes())


def _client(request: RapportRequest, data: QueryDict) -> AnyClient:
    contact, company = data.get("contact", ""), data.get("company", "")
    if contact.isdigit():
        return access.contact_for_user(request.user, int(contact))
    if company.isdigit():
        return access.company_for_user(request.user, int(company))
    raise Http404


def _chooser(outcomes: list[Outcome], raw: str | None) -> Outcome | None:
    return next((outcome for outcome in outcomes if str(outcome.pk) == raw and outcome.asks_follow_up), None)


@require_http_methods(["GET", "POST"])
@login_required
def quick_log(request: RapportRequest) -> HttpResponse:
    """GET: the panel with the due-time chooser of ``?outcome=``; POST: log the call."""
    if not access.can_log_activities(request.user):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    client = _client(request, data)
    panel = QuickLog(outcomes=call_outcomes())
    panel.chosen = _chooser(panel.outcomes, data.get("outcome"))
    if panel.chosen is not None:
        panel.presets = due_presets()
    if request.method == "GET":
        panel.form = QuickLogForm(outcomes=panel.outcomes)
        return _render(request, client, panel)

    form = QuickLogForm(request.POST, outcomes=panel.outcomes)
    panel.form = form
    if form.is_valid():
        try:
            saved = services.call_quick_log(
                by=request.user,
                client=client,
                outcome=form.cleaned_data["outcome"],
                follow_up_at=form.cleaned_data.get("follow_up_at"),
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if not request.htmx:
                messages.success(request, _saved_message(saved))
                return redirect(client.get_absolute_url())
            activities = [saved.call, *([saved.follow_up] if saved.follow_up else [])]
            # A callback may be the client's new next step: the card's box is redrawn (out of band) then.
            next_step = next_step_of(client) if saved.follow_up else None
            return _render(
                request,
                client,
                QuickLog(outcomes=panel.outcomes, saved=saved, new_entries=entries_of(activities)),
                next_step=next_step,
            )
    return _render(request, client, panel, status=422)


def _saved_message(saved: services.QuickLog) -> str:
    message = _("Call saved: %(outcome)s.") % {"outcome": saved.call.subject}
    if saved.follow_up is not None:
        message = f"{message} {_('The callback is planned.')}"
    return message


def _render(
    request: RapportRequest,
    client: AnyClient,
    panel: QuickLog,
    *,
    status: int = 200,
    next_step: Activity | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {"client": client, "quick_log": panel, "redrawn_next_step": next_step}
    template = "activities/quick_log.html#quick-log" if request.htmx else "activities/quick_log.html"
    return render(request, template, context, status=status)


urlpatterns = [
    path("quick-log/", quick_log, name="quick-log"),
]

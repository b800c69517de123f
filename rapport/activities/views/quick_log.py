"""The quick log on the client card: a call saved by clicking its outcome.

An outcome that asks for nothing more ("wrong number") is one click: a POST that saves the
call. One that asks for a follow-up ("call back later") first opens the due-time chooser
(a GET), whose presets save with the second click. The answer is the panel again, with
what was saved, and the new entries for the card's timeline (an out-of-band swap), so the
card is never read again: the quick log is timed to 30 ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.forms import DuePreset, QuickLogForm, due_presets
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Outcome
from rapport.activities.next_steps import next_step_of
from rapport.activities.timeline import entries_of, entries_read
from rapport.clients.services import AnyClient
from rapport.clients.timeline import TimelineEntry
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest

# A recorded call older than this is history: its outcome is no longer asked for on the card.
AWAITING = timedelta(hours=24)


@dataclass
class QuickLog:
    """What the panel shows: the outcome buttons, the chooser of the outcome picked, what was just saved."""

    outcomes: list[Outcome]
    form: QuickLogForm | None = None
    chosen: Outcome | None = None  # an outcome that asks when to follow up, waiting for the time
    presets: list[DuePreset] = field(default_factory=list)
    saved: services.QuickLog | None = None
    new_entries: list[TimelineEntry] = field(default_factory=list)
    # A call the telephony recorded for this person and client, waiting for its outcome: the buttons give it that.
    awaiting: Activity | None = None
    redrawn_entries: list[TimelineEntry] = field(default_factory=list)


def call_outcomes() -> list[Outcome]:
    return list(Outcome.objects.filter(kind=ActivityKind.CALL, is_active=True).order_by("position", "id"))


def awaiting_outcome(user: User, client: AnyClient) -> Activity | None:
    """The person's latest call with this client that the telephony recorded in the last AWAITING hours and
    nobody gave an outcome yet (one query, along the client's activities by time)."""
    return (
        Activity.objects.alive()
        .filter(
            **{client.kind: client},
            owner=user,
            kind=ActivityKind.CALL,
            status=ActivityStatus.DONE,
            outcome__isnull=True,
            phone_call__isnull=False,
            at__gte=timezone.now() - AWAITING,
        )
        .select_related("phone_call")
        .order_by("-at", "-id")
        .first()
    )


def quick_log_for(user: User, client: AnyClient) -> QuickLog | None:
    """The panel as a client card first shows it, or None for people who do not log activities (two queries)."""
    if not access.can_log_activities(user):
        return None
    return QuickLog(outcomes=call_outcomes(), awaiting=awaiting_outcome(user, client))


def _awaiting(request: RapportRequest, client: AnyClient, raw: str | None) -> Activity | None:
    """The recorded call the buttons give an outcome to (``activity``): a call of this client the person may edit."""
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    activity = access.activity_for_user(request.user, int(raw))
    if activity.kind != ActivityKind.CALL or getattr(activity, f"{client.kind}_id") != client.pk:
        raise Http404
    if not access.can_edit_activity(request.user, activity):
        raise PermissionDenied
    return activity


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
    panel = QuickLog(outcomes=call_outcomes(), awaiting=_awaiting(request, client, data.get("activity")))
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
            saved = _save(request.user, client, panel.awaiting, form)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if not request.htmx:
                messages.success(request, _saved_message(saved))
                return redirect(client.get_absolute_url())
            # A recorded call is on the timeline already: its entry is redrawn; a new call and a callback are added.
            new = [saved.call] if panel.awaiting is None else []
            redrawn = entries_read([saved.call.pk]) if panel.awaiting is not None else []
            # A callback may be the client's new next step: the card's box is redrawn (out of band) then.
            next_step = next_step_of(client) if saved.follow_up else None
            return _render(
                request,
                client,
                QuickLog(
                    outcomes=panel.outcomes,
                    saved=saved,
                    new_entries=entries_of([*new, *([saved.follow_up] if saved.follow_up else [])]),
                    redrawn_entries=redrawn,
                ),
                next_step=next_step,
            )
    return _render(request, client, panel, status=422)


def _save(by: User, client: AnyClient, awaiting: Activity | None, form: QuickLogForm) -> services.QuickLog:
    """A new call logged by its outcome, or the outcome of the recorded call the panel offered."""
    outcome, follow_up_at = form.cleaned_data["outcome"], form.cleaned_data.get("follow_up_at")
    if awaiting is not None:
        return services.planned_call_complete(by=by, activity=awaiting, outcome=outcome, follow_up_at=follow_up_at)
    return services.call_quick_log(by=by, client=client, outcome=outcome, follow_up_at=follow_up_at)


def _saved_message(saved: services.QuickLog) -> str:
    outcome = saved.call.outcome
    message = _("Call saved: %(outcome)s.") % {"outcome": outcome.name if outcome is not None else saved.call.subject}
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

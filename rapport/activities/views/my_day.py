"""My day, the home page of people who sell: today's activities, what slipped, callbacks, birthdays, clients
without a next step — and each activity row done, moved or finished by its call outcome in place.

A row's buttons post here and get the row back, redrawn (htmx swaps it); the same activity
listed in another section of the page (an overdue callback is both) comes along out of band,
so the page never shows it twice in two states. A refusal (the minimum data an admin asks
of a finished meeting, say) is the row again with the reason and a link to the activity's
page, answered 422. Without JavaScript the buttons are plain posts that come back here.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from rapport.accounts import access
from rapport.activities import my_day as queries
from rapport.activities import services
from rapport.activities.forms import due_preset, due_presets
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Outcome
from rapport.core.http import RapportRequest
from rapport.core.templatetags.rapport import icon

PAGE = "activities/my_day.html"
ROW = f"{PAGE}#activity-row"
# The sections of the page an activity row appears in; a row's DOM id is "my-day-<section>-<pk>".
SECTIONS = ("today", "overdue", "callbacks")
LATER_CHOICES = [("hour", gettext_lazy("An hour later")), ("tomorrow", gettext_lazy("Tomorrow, same time"))]


# ---- Drawing the rows ---------------------------------------------------------------------------
# Some sixty rows, each with its buttons: through the template engine (a few microseconds per
# variable and tag) that was most of the page's time, so they are drawn here, as the board
# draws its cards (sales.templatetags.board_cards): the markup a template would give, every
# value escaped.

_escape = html.escape  # plain str only: cheaper than Django's escape, which also checks for lazy strings
_SENTINEL = 987654321  # a number no record has yet: reversed once, then replaced by each row's id
KIND_ICONS: dict[str, str] = {
    ActivityKind.CALL: "phone",
    ActivityKind.MEETING: "users",
    ActivityKind.TASK: "circle-check",
    ActivityKind.EMAIL: "mail",
    ActivityKind.NOTE: "notes",
}


def _url(name: str) -> str:
    return reverse(name, args=[_SENTINEL])


class Rows:
    """What every row says and links alike, translated and reversed once; ``row`` draws one activity."""

    def __init__(self, request: RapportRequest, outcomes: list[Outcome]) -> None:
        """``outcomes``: all of them (a done row names its own); a planned call offers the active ones of calls."""
        self.can_act = access.can_log_activities(request.user)
        self.outcome_names = {outcome.pk: _escape(outcome.name) for outcome in outcomes}
        call_outcomes = [outcome for outcome in outcomes if outcome.kind == ActivityKind.CALL and outcome.is_active]
        self.now = timezone.now()
        self.back = reverse("activities:my-day")
        self.csrf = _escape(get_token(request))
        self.kinds = {
            kind: (_escape(str(label)), str(icon(KIND_ICONS.get(kind, "activity"))))
            for kind, label in ActivityKind.choices
        }
        self.urls = {name: _url(f"activities:{name}") for name in ("activity-detail", "my-day-done", "my-day-later")}
        self.client_urls = {"company": _url("clients:company-detail"), "contact": _url("clients:contact-detail")}
        self.next_step = f"{reverse('activities:activity-create')}?next={quote(self.back, safe='')}&amp;after="
        check = str(icon("check"))
        self.done_badge = f'<span class="badge bg-green-lt my-day-done">{check} {_escape(_("Done"))}'
        self.cancelled = f'<span class="badge bg-secondary-lt">{_escape(_("Cancelled"))}</span>'
        self.late = f'<span class="badge bg-red-lt my-day-late">{_escape(_("Overdue"))}</span>'
        self.callback = f'<span class="badge bg-blue-lt my-day-callback">{_escape(_("Callback"))}</span>'
        done = _escape(_("Done"))
        self.done_button = (
            f'<button type="submit" class="btn btn-sm btn-success my-day-done-button">{check} {done}</button>'
        )
        self.plan_next = f"{icon('arrow-right')} {_escape(_('Plan the next step'))}"
        self.open_it = _escape(_("Open the activity to complete it"))
        later = "".join(
            f'<button type="submit" name="later" value="{key}" formaction="{{later}}" class="dropdown-item"'
            f' data-later="{key}">{_escape(str(label))}</button>'
            for key, label in LATER_CHOICES
        )
        self.later = (
            '<div class="dropdown"><button type="button" class="btn btn-sm dropdown-toggle my-day-later"'
            f' data-bs-toggle="dropdown" aria-expanded="false">{icon("clock")} {_escape(_("Later"))}</button>'
            f'<div class="dropdown-menu dropdown-menu-end">{later}</div></div>'
        )
        self.outcome_buttons = ""
        if self.can_act and call_outcomes:
            context = {"outcomes": call_outcomes, "presets": due_presets()}
            self.outcome_buttons = render_to_string(f"{PAGE}#outcome-buttons", context, request)

    def _link(self, name: str, pk: int) -> str:
        return self.urls[name].replace(str(_SENTINEL), str(pk))

    def row(self, activity: Activity, section: str, *, error: str = "", oob: bool = False) -> str:
        pk, local = activity.pk, timezone.localtime(activity.at)
        when = (
            formats.time_format(local, "TIME_FORMAT")
            if section == "today"
            else formats.date_format(local, "SHORT_DATETIME_FORMAT")
        )
        kind, kind_icon = self.kinds.get(activity.kind, ("", ""))
        subject = _escape(activity.subject) if activity.subject else kind
        swap = ' hx-swap-oob="true"' if oob else ""
        status = _escape(activity.status)
        parts = [
            f'<div class="list-group-item my-day-row my-day-status-{status}" id="my-day-{section}-{pk}"'
            f' data-activity="{pk}" data-version="{activity.version}"{swap}>',
            '<div class="d-flex flex-wrap align-items-center gap-2">',
            f'<div class="my-day-time text-secondary">{_escape(when)}</div>',
            f'<span class="my-day-kind" title="{kind}">{kind_icon}<span class="visually-hidden">{kind}</span></span>',
            '<div class="flex-fill my-day-what">',
            f'<a href="{self._link("activity-detail", pk)}" class="my-day-subject">{subject}</a>',
        ]
        client = activity.client
        if client is not None:
            url = self.client_urls[client.kind].replace(str(_SENTINEL), str(client.pk))
            name = _escape(client.display_name)
            parts.append(
                f' <span class="text-secondary">·</span> <a href="{url}" class="my-day-client-link">{name}</a>'
            )
        planned = activity.status == ActivityStatus.PLANNED
        if activity.status == ActivityStatus.DONE:
            outcome_name = self.outcome_names.get(activity.outcome_id or 0)
            outcome = f": {outcome_name}" if outcome_name else ""
            parts.append(f" {self.done_badge}{outcome}</span>")
        elif not planned:
            parts.append(f" {self.cancelled}")
        elif activity.due_at is not None and activity.due_at < self.now:
            parts.append(f" {self.late}")
        if planned and activity.follow_up_of_id is not None:
            parts.append(f" {self.callback}")
        parts.append("</div>")
        if planned and self.can_act:
            done = self._link("my-day-done", pk)
            buttons = self.outcome_buttons if activity.kind == ActivityKind.CALL and self.outcome_buttons else ""
            parts += [
                f'<form method="post" action="{done}" class="my-day-actions btn-list" data-done-form hx-post="{done}"'
                ' hx-target="closest .my-day-row" hx-swap="outerHTML">',
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{self.csrf}">',
                f'<input type="hidden" name="version" value="{activity.version}">',
                f'<input type="hidden" name="section" value="{section}">',
                buttons or self.done_button,
                self.later.replace("{later}", self._link("my-day-later", pk)),
                "</form>",
            ]
        elif activity.status == ActivityStatus.DONE and self.can_act:
            parts.append(
                f'<div class="my-day-actions"><a href="{self.next_step}{pk}" class="btn btn-sm my-day-next">'
                f"{self.plan_next}</a></div>"
            )
        parts.append("</div>")
        if error:
            detail = self._link("activity-detail", pk)
            parts.append(
                f'<div class="my-day-error alert alert-danger mt-2 mb-0 py-2" role="alert">{_escape(error)}'
                f' <a href="{detail}" class="alert-link my-day-error-link">{self.open_it}</a></div>'
            )
        parts.append("</div>")
        return "".join(parts)

    def section(self, activities: list[Activity], section: str) -> SafeString:
        return mark_safe("".join(self.row(activity, section) for activity in activities))  # noqa: S308  (escaped in row)


def my_day_context(request: RapportRequest) -> dict[str, Any]:
    day = queries.my_day(request.user)
    rows = Rows(request, day.outcomes)
    return {
        "day": day,
        "tools": rows,
        "today_rows": rows.section(day.activities, "today"),
        "overdue_rows": rows.section(day.overdue, "overdue"),
        "callback_rows": rows.section(day.callbacks, "callbacks"),
        "top_panels": mark_safe(queries.top_panels(request)),  # noqa: S308  (each panel renders a template)
    }


@require_safe
@login_required
def my_day(request: RapportRequest) -> HttpResponse:
    return render(request, PAGE, my_day_context(request))


@require_safe
@login_required
def my_day_side(request: RapportRequest) -> HttpResponse:
    """Birthdays and clients without a next step: the page fetches them once shown; without JavaScript, the
    link in their place opens the whole page with them."""
    side = queries.my_day_side(request.user)
    if request.htmx:
        return render(request, f"{PAGE}#side", {"side": side, "tools": Rows(request, [])})
    return render(request, PAGE, {**my_day_context(request), "side": side})


# ---- Acting on a row ---------------------------------------------------------------------------


class RowActionForm(forms.Form):
    version = forms.IntegerField(required=False, min_value=1)
    section = forms.ChoiceField(choices=[(name, name) for name in SECTIONS], required=False)
    # Done: an outcome finishes a planned call by it; an outcome that asks when comes as "<outcome id>:<due preset>".
    outcome = forms.IntegerField(required=False)
    callback = forms.RegexField(regex=r"^\d+:\w+$", required=False, max_length=40)
    # Later: one of LATER_CHOICES.
    later = forms.ChoiceField(choices=LATER_CHOICES, required=False)


def later_due(activity: Activity, choice: str, now: datetime) -> datetime:
    """An hour after its due time (or after now, once that has passed); or tomorrow at its time of day."""
    due = activity.due_at or now
    if choice == "hour":
        return (max(due, now) + timedelta(hours=1)).replace(second=0, microsecond=0)
    local = timezone.localtime(due)
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    return datetime.combine(tomorrow, local.time().replace(second=0, microsecond=0), tzinfo=local.tzinfo)


def _acted_rows(request: RapportRequest) -> Rows:
    """The drawing of an acted-on row: a planned call keeps its outcome buttons, a done one names its outcome."""
    return Rows(request, list(Outcome.objects.all()))


def _answer(request: RapportRequest, before: Activity, after: Activity, section: str, success: str) -> HttpResponse:
    """The row redrawn where it was acted on, and its copies in the page's other sections, out of band.

    Which other sections hold a copy is known from the activity as the page drew it, ``before``.
    """
    if not request.htmx:
        messages.success(request, success)
        return redirect("activities:my-day")
    rows = _acted_rows(request)
    others = sorted(queries.sections_of(before, timezone.localdate()) - {section})
    return HttpResponse(rows.row(after, section) + "".join(rows.row(after, other, oob=True) for other in others))


def _refusal(request: RapportRequest, activity: Activity, section: str, message: str, status: int) -> HttpResponse:
    if not request.htmx:
        messages.error(request, message)
        return redirect("activities:my-day")
    return HttpResponse(_acted_rows(request).row(activity, section, error=message), status=status)


def _reason(error: ValidationError) -> str:
    """A service's refusal as one sentence: the summary of what is missing, or each message."""
    if hasattr(error, "error_dict"):
        summary = error.message_dict.get("__all__")
        if summary:
            return " ".join(summary)
    return " ".join(str(message) for message in error.messages)


def _acting(request: RapportRequest, activity_id: int) -> tuple[Activity, RowActionForm]:
    """The activity (404 when out of sight) and the posted form; 403 when it is seen but not the user's to change."""
    activity = access.activity_for_user(request.user, activity_id)
    if not access.can_edit_activity(request.user, activity):
        raise PermissionDenied
    form = RowActionForm(request.POST)
    form.is_valid()
    return activity, form


@require_POST
@login_required
def my_day_done(request: RapportRequest, activity_id: int) -> HttpResponse:
    """Mark a planned activity done; a call by its outcome, with the callback's time when the outcome asks for it."""
    activity, form = _acting(request, activity_id)
    data = form.cleaned_data
    section = data.get("section") or SECTIONS[0]
    if form.errors:
        return _refusal(request, activity, section, _("The form was not understood: reload the page."), 422)
    if not activity.is_planned:
        return _refusal(request, activity, section, _("This activity is no longer planned: reload the page."), 422)
    try:
        outcome_id, preset = data.get("outcome"), ""
        if data.get("callback"):
            raw_outcome, preset = data["callback"].split(":")
            outcome_id = int(raw_outcome)
        if outcome_id is not None:
            outcome = Outcome.objects.filter(pk=outcome_id).first()
            if outcome is None:
                raise ValidationError({"outcome": _("Choose one of the outcomes of a call.")})
            follow_up_at = None
            if preset:
                follow_up_at = due_preset(preset)
                if follow_up_at is None:
                    raise ValidationError({"follow_up_at": _("Choose one of the times offered.")})
            saved = services.planned_call_complete(
                by=request.user,
                activity=activity,
                outcome=outcome,
                follow_up_at=follow_up_at,
                version=data.get("version"),
            )
            done = saved.call
            success = _("Call saved: %(outcome)s.") % {"outcome": outcome.name}
            if saved.follow_up is not None:
                success = f"{success} {_('The callback is planned.')}"
        else:
            done = services.activity_complete(by=request.user, activity=activity, version=data.get("version"))
            success = _("Done: %(activity)s.") % {"activity": done}
    except ValidationError as error:
        return _refusal(request, activity, section, _reason(error), 422)
    except PermissionDenied:
        return _refusal(request, activity, section, _("You can see this activity but not change it."), 403)
    return _answer(request, activity, done, section, success)


@require_POST
@login_required
def my_day_later(request: RapportRequest, activity_id: int) -> HttpResponse:
    """Move a planned activity an hour on, or to tomorrow at the same time."""
    activity, form = _acting(request, activity_id)
    data = form.cleaned_data
    section = data.get("section") or SECTIONS[0]
    if form.errors or not data.get("later"):
        return _refusal(request, activity, section, _("Choose when: an hour later or tomorrow."), 422)
    due_at = later_due(activity, data["later"], timezone.now())
    try:
        moved = services.activity_reschedule(
            by=request.user, activity=activity, due_at=due_at, version=data.get("version")
        )
    except ValidationError as error:
        return _refusal(request, activity, section, _reason(error), 422)
    except PermissionDenied:
        return _refusal(request, activity, section, _("You can see this activity but not change it."), 403)
    when = formats.date_format(timezone.localtime(due_at), "SHORT_DATETIME_FORMAT")
    return _answer(request, activity, moved, section, _("Moved to %(when)s.") % {"when": when})


urlpatterns = [
    path("my-day/", my_day, name="my-day"),
    path("my-day/side/", my_day_side, name="my-day-side"),
    path("my-day/<int:activity_id>/done/", my_day_done, name="my-day-done"),
    path("my-day/<int:activity_id>/later/", my_day_later, name="my-day-later"),
]

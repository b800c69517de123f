"""The calendar (day, week, month; drag a card to move it, click an empty slot to plan) and its iCal feed.

A drop posts the new due time; the answer is the card redrawn, or the reason it was refused
as plain text, and then calendar.js puts the card back where it was.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities import calendar as queries
from rapport.activities import calendar_services, services
from rapport.activities.feed import feed_for
from rapport.activities.forms import LOCAL_INPUT
from rapport.activities.models import Activity, ActivityKind, ActivitySettings
from rapport.core.http import RapportRequest
from rapport.core.notifications import absolute_url

PAGE = "activities/calendar.html"
EVERYONE = "all"  # the person filter's "all I may see"
VIEW_LABELS = {
    queries.View.DAY: gettext_lazy("Day"),
    queries.View.WEEK: gettext_lazy("Week"),
    queries.View.MONTH: gettext_lazy("Month"),
}


# Dates the calendar opens; further off is a typing mistake (and near date.min, arithmetic overflows).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def _anchor(raw: str) -> date:
    """The day asked for; today for a missing or unreadable one (a bad address is not worth an error page)."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return timezone.localdate()
    return day if EARLIEST <= day <= LATEST else timezone.localdate()


def _view(raw: str) -> queries.View:
    return queries.View(raw) if raw in queries.View else queries.View.WEEK


def _owners(user: User, people: list[User], raw: str) -> tuple[str, list[int]]:
    """The person filter: "" the user, "all" everyone offered, an id one of them (404 for anyone else)."""
    if not raw or raw == str(user.pk):
        return "", [user.pk]
    if raw == EVERYONE:
        return (EVERYONE if len(people) > 1 else ""), [person.pk for person in people]
    chosen = next((person for person in people if str(person.pk) == raw), None)
    if chosen is None:
        raise Http404
    return raw, [chosen.pk]


def calendar_url(view: str, anchor: date, person: str = "") -> str:
    query = QueryDict(mutable=True)
    query["view"] = view
    query["date"] = anchor.isoformat()
    if person:
        query["person"] = person
    return f"{reverse('activities:calendar')}?{query.urlencode()}"


def _title(period: queries.Period) -> str:
    if period.view == queries.View.DAY:
        return formats.date_format(period.anchor, "l, j E Y")
    if period.view == queries.View.MONTH:
        return formats.date_format(period.anchor, "YEAR_MONTH_FORMAT")
    # "E": the month as a date says it (Russian "23 ноября", not the calendar's "Ноябрь").
    month_day = str(formats.get_format("MONTH_DAY_FORMAT")).replace("F", "E")
    first, last = (formats.date_format(day, month_day) for day in (period.first, period.last))
    return f"{first} – {last} {period.last.year}"


# ---- Drawing the grid --------------------------------------------------------------------------
# A week holds a few hundred cards. Django's template engine costs a few microseconds per
# variable and tag, which over 300 cards was most of the page's time, so the cells and
# their cards are drawn here, as the board draws its cards (sales.templatetags.board_cards):
# the same markup a template would give, every value escaped.

_escape = html.escape  # plain str only: cheaper than Django's escape, which also checks for lazy strings
_SENTINEL = 987654321  # a number no activity has yet: reversed once, then replaced by each card's id


class _Drawing:
    """What every card and cell says alike, translated and reversed once per page."""

    def __init__(self, user: User, *, can_plan: bool, back: str) -> None:
        self.user_id = user.pk
        self.kinds = {kind: _escape(str(label)) for kind, label in ActivityKind.choices}
        self.detail = reverse("activities:activity-detail", args=[_SENTINEL])
        self.move = reverse("activities:calendar-move", args=[_SENTINEL])
        self.create = (
            f"{reverse('activities:activity-create')}?next={quote(back, safe='')}&amp;due_at=" if can_plan else ""
        )
        self.days: dict[date, str] = {}

    def day(self, day: date) -> str:
        if day not in self.days:
            self.days[day] = formats.date_format(day, "DATE_FORMAT")
        return self.days[day]

    def card(self, activity: Activity, client: str, movable: bool) -> str:
        pk = str(activity.pk)
        at = timezone.localtime(activity.at).strftime("%H:%M")
        drag = ""
        if movable:
            move = self.move.replace(str(_SENTINEL), pk)
            drag = f' draggable="true" data-move-url="{move}" data-version="{activity.version}" data-time="{at}"'
        subject = _escape(activity.subject) if activity.subject else self.kinds.get(activity.kind, "")
        status, kind = _escape(activity.status), _escape(activity.kind)
        parts = [
            f'<div class="calendar-card calendar-status-{status} calendar-kind-{kind}" id="calendar-card-{pk}"'
            f' data-activity="{pk}"{drag}>',
            f'<a href="{self.detail.replace(str(_SENTINEL), pk)}" class="calendar-card-link" draggable="false">'
            f'<span class="calendar-card-time">{at}</span> <span class="calendar-card-subject">{subject}</span></a>',
        ]
        if client:
            parts.append(f'<span class="calendar-card-client">{_escape(client)}</span>')
        owner = activity.owner
        if owner is not None and owner.pk != self.user_id:
            name, initials = _escape(owner.display_name), _escape(owner.initials)
            parts.append(f'<span class="calendar-card-owner" title="{name}">{initials}</span>')
        parts.append("</div>")
        return "".join(parts)

    def add_link(self, cell: queries.Cell) -> str:
        """The empty part of a cell: a link that plans an activity at the cell's time."""
        if not self.create:
            return ""
        if cell.hour is None:
            label = _("Plan an activity on %(day)s") % {"day": self.day(cell.day)}
        else:
            label = _("Plan an activity on %(day)s at %(time)s") % {"day": self.day(cell.day), "time": cell.slot[11:]}
        label = _escape(label)
        return (
            f'<a class="calendar-add" href="{self.create}{cell.slot}"><span class="visually-hidden">{label}</span></a>'
        )


def _cell_html(
    drawing: _Drawing, cell: queries.Cell, movable: set[int], today: date, *, anchor_month: int = 0, day_url: str = ""
) -> str:
    """A cell of the grid; a month's cell also has its day's number and "N more", linking to that day."""
    classes = "calendar-cell" + (" calendar-today" if cell.day == today else "")
    hour = "" if cell.hour is None else f' data-hour="{cell.hour}"'
    cards = "".join(drawing.card(card.activity, card.client_name, card.activity.pk in movable) for card in cell.shown)
    inner = [drawing.add_link(cell)]
    if cell.hour is None:
        classes += " calendar-month-cell" + ("" if cell.day.month == anchor_month else " calendar-other-month")
        inner.append(f'<a class="calendar-day-number" href="{day_url}">{cell.day.day}</a>')
    inner.append(f'<div class="calendar-cards" data-cards>{cards}</div>')
    if cell.more:
        more = ngettext("%(more)s more", "%(more)s more", cell.more) % {"more": cell.more}
        inner.append(f'<a class="calendar-more" href="{day_url}">{_escape(more)}</a>')
    return f'<td class="{classes}" data-date="{cell.day.isoformat()}"{hour}>{"".join(inner)}</td>'


def _movable(user: User, activities: list[Activity]) -> set[int]:
    return {activity.pk for activity in activities if activity.is_planned and access.can_edit_activity(user, activity)}


@require_safe
@login_required
def calendar(request: RapportRequest) -> HttpResponse:
    user = request.user
    view = _view(request.GET.get("view", ""))
    anchor = _anchor(request.GET.get("date", ""))
    people = queries.calendar_people(user)
    person, owners = _owners(user, people, request.GET.get("person", ""))
    period = queries.period_for(view, anchor)
    grid = queries.grid_for(user, {someone.pk: someone for someone in people if someone.pk in owners}, period)
    cells = [cell for _hour, row in grid.rows for cell in row] + [cell for week in grid.weeks for cell in week]
    movable = _movable(user, [card.activity for cell in cells for card in cell.shown])
    back = calendar_url(view, anchor, person)
    drawing = _Drawing(user, can_plan=access.can_log_activities(user), back=back)
    day_urls = {day: calendar_url(queries.View.DAY, day, person) for day in period.days}
    rows = [
        (hour, mark_safe("".join(_cell_html(drawing, cell, movable, grid.today) for cell in row)))  # noqa: S308
        for hour, row in grid.rows
    ]
    weeks = [
        mark_safe(  # noqa: S308  (drawn by _cell_html, every value escaped)
            "".join(
                _cell_html(drawing, cell, movable, grid.today, anchor_month=anchor.month, day_url=day_urls[cell.day])
                for cell in week
            )
        )
        for week in grid.weeks
    ]
    context: dict[str, Any] = {
        "grid": grid,
        "period": period,
        "title": _title(period),
        "rows": rows,
        "weeks": weeks,
        "days": [(day, day_urls[day]) for day in period.days[:7] if view != queries.View.MONTH],
        "weekdays": period.days[:7],
        "people": people,
        "person": person,
        "everyone": EVERYONE,
        "views": [(each, label, calendar_url(each, anchor, person)) for each, label in VIEW_LABELS.items()],
        "previous_url": calendar_url(view, period.previous, person),
        "next_url": calendar_url(view, period.next, person),
        "today_url": calendar_url(view, timezone.localdate(), person),
    }
    return render(request, PAGE, context)


# ---- Dragging a card ---------------------------------------------------------------------------


class MoveForm(forms.Form):
    due_at = forms.DateTimeField(
        input_formats=[LOCAL_INPUT],
        error_messages={
            "required": gettext_lazy("Choose when."),
            "invalid": gettext_lazy("This is not a date and time the calendar knows: reload the page."),
        },
    )
    version = forms.IntegerField(required=False, min_value=1)


def _refused(message: str, status: int) -> HttpResponse:
    """A refusal calendar.js shows as it is: plain text, in the user's language."""
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@require_POST
@login_required
def calendar_move(request: RapportRequest, activity_id: int) -> HttpResponse:
    """Move a planned activity to the day and time its card was dropped on; answer with the card redrawn."""
    user = request.user
    activity = access.activity_for_user(user, activity_id)
    if not access.can_edit_activity(user, activity):
        return _refused(_("You can see this activity but not change it."), 403)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _refused(" ".join(str(error) for errors in form.errors.values() for error in errors), 422)
    try:
        moved = services.activity_reschedule(
            by=user, activity=activity, due_at=form.cleaned_data["due_at"], version=form.cleaned_data["version"]
        )
    except ValidationError as error:
        return _refused(" ".join(str(message) for message in error.messages), 422)
    except PermissionDenied:
        return _refused(_("You can see this activity but not change it."), 403)
    drawing = _Drawing(user, can_plan=False, back="")
    client = moved.client
    return HttpResponse(drawing.card(moved, client.display_name if client else "", movable=True))


# ---- The feed ----------------------------------------------------------------------------------


@never_cache
@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The owner's activities as iCalendar; no sign-in, the secret in the address is the key."""
    settings = ActivitySettings.objects.select_related("user").filter(feed_token=token).first()
    if settings is None or not settings.user.is_active:
        raise Http404
    response = HttpResponse(feed_for(settings.user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="rapport.ics"'
    return response


def feed_address(settings: ActivitySettings) -> str:
    return absolute_url(reverse("activities:feed", args=[settings.feed_token]))


@require_safe
@login_required
def feed_settings(request: RapportRequest) -> HttpResponse:
    settings = calendar_services.activity_settings_for(request.user)
    address = feed_address(settings)
    webcal = "webcal://" + address.split("://", 1)[1] if "://" in address else address
    return render(
        request,
        "activities/feed_settings.html",
        {"address": address, "webcal": webcal, "calendar_url": reverse("activities:calendar")},
    )


@require_POST
@login_required
def feed_renew(request: RapportRequest) -> HttpResponse:
    calendar_services.feed_token_renew(by=request.user)
    messages.success(request, _("The feed has a new address: the old one no longer works."))
    return redirect("activities:feed-settings")


urlpatterns = [
    path("calendar/", calendar, name="calendar"),
    path("calendar/<int:activity_id>/move/", calendar_move, name="calendar-move"),
    path("calendar/feed/", feed_settings, name="feed-settings"),
    path("calendar/feed/renew/", feed_renew, name="feed-renew"),
    path("feed/<str:token>.ics", feed, name="feed"),
]

"""The activity list: filters, pages, and the export of everything it matches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_htmx.http import push_url

from rapport.accounts import access
from rapport.activities import exports
from rapport.activities.lists import activity_list, activity_page, list_state
from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.clients.exports import streamed
from rapport.core.http import RapportRequest
from rapport.core.paging import page_number, with_page

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Icons of the vendored sprite (rapport/static/vendor/icons.txt).
KIND_ICONS: dict[str, str] = {
    ActivityKind.CALL: "phone",
    ActivityKind.MEETING: "users",
    ActivityKind.TASK: "circle-check",
    ActivityKind.NOTE: "notes",
    ActivityKind.EMAIL: "mail",
}
STATUS_BADGES: dict[str, str] = {
    ActivityStatus.PLANNED: "bg-blue-lt",
    ActivityStatus.DONE: "bg-green-lt",
    ActivityStatus.CANCELLED: "bg-secondary-lt",
}


@dataclass(frozen=True)
class Row:
    """An activity as the list draws it."""

    activity: Activity
    icon: str
    badge: str
    overdue: bool


def rows_for(activities: list[Activity], now: datetime) -> list[Row]:
    return [
        Row(
            activity=activity,
            icon=KIND_ICONS.get(activity.kind, "activity"),
            badge=STATUS_BADGES.get(activity.status, ""),
            overdue=activity.is_planned and activity.due_at is not None and activity.due_at < now,
        )
        for activity in activities
    ]


def list_url(query: str = "") -> str:
    url = reverse("activities:activity-list")
    return f"{url}?{query}" if query else url


@require_safe
@login_required
def activity_list_view(request: RapportRequest) -> HttpResponse:
    """Everyone's list of the activities they see: their own, a head's team's, everyone's for company-wide roles."""
    user = request.user
    state = list_state(user, request.GET)
    page = activity_page(activity_list(user, state.filters), page_number(request.GET))
    context = {
        "form": state.form,
        "page": page,
        "rows": rows_for(page.rows, timezone.now()),
        # Not "query": the layout's search box shows that one.
        "list_query": state.query,
        "can_import": access.can_log_activities(user),
    }
    if request.htmx and request.htmx.target == "activity-table":
        html = render_to_string("activities/activity_list.html#activity-table", context, request)
        html += render_to_string("activities/activity_list.html#list-tools", {**context, "oob": True}, request)
        # The address bar shows the short form of the query, which is what bookmarks keep.
        return push_url(HttpResponse(html), list_url(with_page(state.query, page.number)))
    return render(request, "activities/activity_list.html", context)


@require_safe
@login_required
def activity_export(request: RapportRequest) -> HttpResponseBase:
    """Every activity the list matches that the user may see: not just the page. ``format`` is csv (default) or xlsx."""
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            _("Unknown export format “%(format)s”: choose csv or xlsx.") % {"format": fmt[:20]},
            content_type="text/plain; charset=utf-8",
        )
    user = request.user
    state = list_state(user, request.GET)
    rows = activity_list(user, state.filters)
    filename = f"{_('activities')}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    if fmt == "xlsx":
        file = exports.xlsx_file(rows, title=_("Activities"))
        return FileResponse(file, as_attachment=True, filename=filename, content_type=FORMATS[fmt])
    response = StreamingHttpResponse(streamed(exports.csv_lines(rows)), content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


urlpatterns: list[URLPattern] = [
    path("list/", activity_list_view, name="activity-list"),
    path("list/export/", activity_export, name="activity-export"),
]

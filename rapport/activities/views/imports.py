"""Activities from a CSV file: check it, then import it whole (see activities.csv_import)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from rapport.accounts import access
from rapport.activities.csv_import import MAX_ROWS, import_activities
from rapport.core import imports
from rapport.core.http import RapportRequest
from rapport.core.imports import ImportForm

TEMPLATE = "activities/activity_import.html"


@require_http_methods(["GET", "POST"])
@login_required
def activity_import(request: RapportRequest) -> HttpResponse:
    if not access.can_log_activities(request.user):
        raise PermissionDenied
    context: dict[str, object] = {"max_rows": MAX_ROWS}
    if request.method != "POST":
        return render(request, TEMPLATE, {**context, "form": ImportForm()})
    form = ImportForm(request.POST, request.FILES)
    try:
        data, token = imports.chosen_file(request, form, "activities")
    except imports.ExpiredError:
        messages.error(request, _("The checked file has expired: choose it again."))
        return redirect(request.path)
    if data is None:
        return render(request, TEMPLATE, {**context, "form": form}, status=422)
    result = import_activities(by=request.user, data=data, apply=request.POST.get("action") == "apply")
    if result.applied:
        imports.forget(request, "activities", token)
        messages.success(
            request,
            ngettext("Imported %(count)s activity.", "Imported %(count)s activities.", result.created)
            % {"count": result.created},
        )
        return redirect("activities:activity-list")
    if result.can_apply:
        token = imports.keep(request, "activities", data, token)
    context.update({"form": ImportForm(), "result": result, "token": token if result.can_apply else ""})
    return render(request, TEMPLATE, context, status=200 if result.can_apply else 422)


urlpatterns: list[URLPattern] = [
    path("import/", activity_import, name="activity-import"),
]

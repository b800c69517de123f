"""The plan/fact report: for the last few months or quarters, each person's fact against their target, and the
team's, with its CSV and XLSX export.

Who gets which rows is the access policy's: a head their team's people, the roles that see
every client any team's (``access.plan_people_visible_to``, ``access.leaderboard_teams_for``),
a manager or an agent only their own row. The team's row counts all its members against the
team's own target, as the plans page shows it to all of them. A team asked for by an id out of
sight answers 404; any other input not understood falls back (this month, calls, six periods)
and the form says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.exports import streamed
from rapport.core.http import RapportRequest
from rapport.motivation import report_exports
from rapport.motivation.metrics import MONEY
from rapport.motivation.models import Metric
from rapport.motivation.period_choice import (
    MetricForm,
    Selection,
    period_title,
    selection_for,
    team_out_of_sight,
    teams_for,
)
from rapport.motivation.report import MAX_PERIODS, REPORT_KINDS, PlanFact, periods_until, plan_fact, report_people

PAGE = "motivation/report.html"
DEFAULT_PERIODS = 6
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ReportForm(MetricForm):
    """The metric and how many periods, up to the one chosen; left out: calls over six."""

    count = forms.IntegerField(
        label=gettext_lazy("Periods"),
        min_value=1,
        max_value=MAX_PERIODS,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def periods(self) -> int:
        self.is_valid()
        return self.cleaned_data.get("count") or DEFAULT_PERIODS


@dataclass(frozen=True)
class ReportChoice:
    """What the report shows: the last period (of a kind) and the team, the metric, how many periods."""

    selection: Selection
    options: ReportForm
    metric: str
    count: int

    @property
    def query(self) -> str:
        return f"{self.selection.query()}&metric={self.metric}&count={self.count}"


def report_choice(user: User, data: QueryDict) -> ReportChoice:
    """The report asked for, checked; 404 for a team out of sight, PermissionDenied for those who read no plans."""
    if not access.sees_plans(user):
        raise PermissionDenied
    teams = teams_for(user)
    if team_out_of_sight(data, teams):
        raise Http404
    selection = selection_for(user, data, teams=teams, kinds=REPORT_KINDS)
    options = ReportForm(data)
    metric, count = options.chosen(), options.periods()
    if not options.errors:
        options = ReportForm(initial={"metric": metric, "count": count})  # the inputs show what is shown
    return ReportChoice(selection=selection, options=options, metric=metric, count=count)


def report_for(user: User, choice: ReportChoice) -> PlanFact:
    team = choice.selection.team
    kind = choice.selection.kind
    return plan_fact(
        people=report_people(user, team),
        teams=[team] if team is not None else [],
        metrics=[choice.metric],
        kind=kind,
        first_period=periods_until(kind, choice.selection.period, choice.count)[0],
        count=choice.count,
    )


@require_safe
@login_required
def report_page(request: RapportRequest) -> HttpResponse:
    choice = report_choice(request.user, request.GET)
    found = report_for(request.user, choice)
    context: dict[str, Any] = {
        "selection": choice.selection,
        "form": choice.selection.form,
        "options": choice.options,
        "choice": choice,
        "report": found,
        "metric_label": Metric(choice.metric).label,
        "is_money": choice.metric in MONEY,
        "periods": [(period, period_title(found.kind, period)) for period in found.periods],
        "rows": found.rows,
    }
    if request.htmx:
        return render(request, f"{PAGE}#report-body", context)
    return render(request, PAGE, context)


@require_safe
@login_required
def report_export(request: RapportRequest) -> HttpResponseBase:
    """The report on the page, as CSV (default) or XLSX (``format``)."""
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            _("Unknown export format “%(format)s”: choose csv or xlsx.") % {"format": fmt[:20]},
            content_type="text/plain; charset=utf-8",
        )
    choice = report_choice(request.user, request.GET)
    found = report_for(request.user, choice)
    filename = f"{_('plan-fact')}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    if fmt == "xlsx":
        file = report_exports.xlsx_file(found, title=_("Plan and fact"))
        return FileResponse(file, as_attachment=True, filename=filename, content_type=FORMATS[fmt])
    response = StreamingHttpResponse(streamed(report_exports.csv_lines(found)), content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


urlpatterns: list[URLPattern] = [
    path("plans/report/", report_page, name="report"),
    path("plans/report/export/", report_export, name="report-export"),
]

"""Bonus statements: the list, a statement with its lines, approval, the difference to the previous version, export.

Who sees which statements is the access policy's (``access.statements_visible_to``): a person
their own, a head their team's, the roles that see every client everyone's — a statement out of
sight answers 404, a team asked for by an id out of sight too. Heads approve their team members'
statements and admins anyone's, nobody their own (``statement_approve`` decides, and refuses
figures that changed since the head opened the statement). The list shows each person's latest
version per currency for a month; the month and the team come in the query string.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.activities.models import Activity
from rapport.clients.exports import streamed
from rapport.core.forms import moment_sent
from rapport.core.http import RapportRequest
from rapport.motivation import statement_exports
from rapport.motivation.models import LineKind, PeriodKind, Statement, StatementLine
from rapport.motivation.period_choice import period_title, shift_months, team_out_of_sight, teams_for
from rapport.motivation.periods import Period, month_of
from rapport.motivation.services import FIRST_DAY, LAST_DAY
from rapport.motivation.statements import (
    LineChange,
    statement_approve,
    statement_difference,
    statements_compute,
    statements_of_period,
)

PAGE = "motivation/statements.html"
DETAIL = "motivation/statement_detail.html"
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# ---- Which month and team ------------------------------------------------------------------------


class StatementFilterForm(forms.Form):
    """The month and, for those who see several teams, one of them; both may be left out (this month, all)."""

    month = forms.DateField(
        label=gettext_lazy("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
    )
    # Choices from the teams already read (a ModelChoiceField would query them again to draw and to check).
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), coerce=int, required=False, empty_value=None)

    def __init__(self, data: QueryDict | None, *, teams: list[Team], initial: dict[str, Any] | None = None) -> None:
        super().__init__(data, initial=initial)
        self.teams = teams
        self.fields["team"].choices = [  # type: ignore[attr-defined]
            ("", _("All teams")),
            *((team.pk, team.name) for team in teams),
        ]

    def clean_month(self) -> date | None:
        value: date | None = self.cleaned_data.get("month")
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(
                _("Choose a month between %(first)s and %(last)s.")
                % {
                    "first": formats.date_format(FIRST_DAY, "YEAR_MONTH_FORMAT"),
                    "last": formats.date_format(LAST_DAY, "YEAR_MONTH_FORMAT"),
                }
            )
        return value


@dataclass(frozen=True)
class StatementChoice:
    """What the list shows: a month, a team (None: every statement the viewer sees), and the form that chose them."""

    period: Period
    team: Team | None
    form: StatementFilterForm

    def query(self, *, period: Period | None = None) -> str:
        params: dict[str, Any] = {"month": (period or self.period).start.strftime("%Y-%m")}
        if self.team is not None:
            params["team"] = self.team.pk
        return urlencode(params)

    @property
    def title(self) -> str:
        return period_title(PeriodKind.MONTH, self.period)

    @property
    def offers_teams(self) -> bool:
        return len(self.form.teams) > 1


def statement_choice(user: User, data: QueryDict) -> StatementChoice:
    """The month and team asked for, checked; what cannot be understood falls back (this month, every team) and
    the form says why. PermissionDenied for those who read no statements, 404 for a team out of sight."""
    if not access.sees_statements(user):
        raise PermissionDenied
    teams = teams_for(user)
    if team_out_of_sight(data, teams):
        raise Http404
    form = StatementFilterForm(data, teams=teams)
    form.is_valid()
    period = month_of(form.cleaned_data.get("month") or timezone.localdate())
    team = next((team for team in teams if team.pk == form.cleaned_data.get("team")), None)
    if not form.errors:
        # The inputs show what is shown, also when it came from a default.
        initial = {"month": period.start, "team": team.pk if team else ""}
        form = StatementFilterForm(None, teams=teams, initial=initial)
    return StatementChoice(period=period, team=team, form=form)


def _month_step(choice: StatementChoice, direction: int) -> Period:
    moved = month_of(shift_months(choice.period.start, direction))
    return moved if FIRST_DAY <= moved.start <= LAST_DAY else choice.period


def _list_address(choice: StatementChoice) -> str:
    return f"{reverse('motivation:statements')}?{choice.query()}"


def _month_address(statement: Statement) -> str:
    """The list of the month the statement belongs to."""
    return f"{reverse('motivation:statements')}?{urlencode({'month': statement.period_start.strftime('%Y-%m')})}"


# ---- The list ------------------------------------------------------------------------------------


@dataclass
class CurrencyTotal:
    currency: str
    total: Decimal = Decimal(0)
    statements: int = 0
    drafts: int = 0


def currency_totals(statements: list[Statement]) -> list[CurrencyTotal]:
    """What the statements shown add up to, per currency (amounts in different currencies never add up)."""
    totals: dict[str, CurrencyTotal] = {}
    for statement in statements:
        row = totals.setdefault(statement.currency, CurrencyTotal(statement.currency))
        row.total += statement.total
        row.statements += 1
        row.drafts += 0 if statement.is_approved else 1
    return [totals[currency] for currency in sorted(totals)]


def list_context(user: User, choice: StatementChoice) -> dict[str, Any]:
    statements = statements_of_period(user, choice.period, team_id=choice.team.pk if choice.team else None)
    return {
        "choice": choice,
        "form": choice.form,
        "statements": statements,
        "totals": currency_totals(statements),
        "can_compute": access.can_compute_statements(user),
        "previous_query": choice.query(period=_month_step(choice, -1)),
        "next_query": choice.query(period=_month_step(choice, 1)),
    }


@require_safe
@login_required
def statements_page(request: RapportRequest) -> HttpResponse:
    choice = statement_choice(request.user, request.GET)
    context = list_context(request.user, choice)
    if request.htmx:
        return render(request, f"{PAGE}#statements-body", context)
    return render(request, PAGE, context)


def _back_to_list(request: RapportRequest, choice: StatementChoice) -> HttpResponse:
    """To the month's list, where the message says what happened (from htmx: the browser is sent there)."""
    target = _list_address(choice)
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@require_POST
@login_required
def statements_recompute(request: RapportRequest) -> HttpResponse:
    """Bring the month's statements up to date now (the nightly job does it anyway) for the people in the viewer's
    scope who sell — a head's team, everyone for an admin — of the team shown, if one is."""
    if not access.can_compute_statements(request.user):
        raise PermissionDenied
    choice = statement_choice(request.user, request.GET)
    if choice.form.errors:
        messages.error(request, _("Choose the month again: the address was not understood. Nothing was computed."))
        return redirect(f"{reverse('motivation:statements')}?{request.GET.urlencode()}")
    people = access.pay_people_visible_to(request.user)
    if choice.team is not None:
        people = people.filter(team=choice.team)
    ids = list(people.order_by("pk").values_list("pk", flat=True))
    if not ids:
        messages.info(request, _("Nobody here sells: there were no statements to compute."))
        return _back_to_list(request, choice)
    result = statements_compute(choice.period, ids)
    if result.created or result.updated or result.removed:
        messages.success(
            request,
            _(
                "Statements for %(period)s brought up to date: %(created)d new, %(updated)d updated, "
                "%(removed)d removed, %(unchanged)d unchanged."
            )
            % {
                "period": choice.title,
                "created": result.created,
                "updated": result.updated,
                "removed": result.removed,
                "unchanged": result.unchanged,
            },
        )
    else:
        messages.info(
            request, _("Statements for %(period)s are up to date: nothing changed.") % {"period": choice.title}
        )
    return _back_to_list(request, choice)


# ---- A statement -----------------------------------------------------------------------------------


# The statement's sections, in this order.
GROUP_TITLES = {
    LineKind.CREDIT: gettext_lazy("Credited"),
    LineKind.CLAWBACK: gettext_lazy("Taken back"),
    LineKind.REFUSED: gettext_lazy("Not paid, and why"),
}


@dataclass
class ShownLine:
    line: StatementLine
    activities: list[Activity] = field(default_factory=list)  # the evidence, in the order the engine gave it


@dataclass
class LineGroup:
    kind: str
    label: str
    lines: list[ShownLine]

    @property
    def subtotal(self) -> Decimal:
        return sum((shown.line.amount for shown in self.lines), Decimal(0))


@dataclass(frozen=True)
class ShownChange:
    """A line of the difference, with the rule and the deal of whichever version holds them."""

    change: LineChange

    @property
    def line(self) -> StatementLine:
        shown = self.change.line or self.change.earlier
        assert shown is not None  # a change has a line in one version at least
        return shown


def line_groups(statement: Statement) -> list[LineGroup]:
    """The lines by kind — credits, claw-backs, then what paid nothing and why — with their evidence, read at once."""
    lines = list(statement.lines.select_related("rule", "deal").order_by("pk"))
    ids = {pk for line in lines for pk in line.activity_ids}
    activities = Activity.objects.in_bulk(sorted(ids)) if ids else {}
    by_kind: dict[str, list[ShownLine]] = defaultdict(list)
    for line in lines:
        found = [activities[pk] for pk in line.activity_ids if pk in activities]
        by_kind[line.kind].append(ShownLine(line, found))
    return [LineGroup(kind, str(title), by_kind[kind]) for kind, title in GROUP_TITLES.items() if by_kind.get(kind)]


def detail_context(user: User, statement: Statement) -> dict[str, Any]:
    versions = list(
        access.statements_visible_to(user)
        .filter(
            person_id=statement.person_id,
            period_start=statement.period_start,
            period_end=statement.period_end,
            currency=statement.currency,
        )
        .select_related("approved_by")
        .order_by("version")
    )
    newer = next((other for other in versions if other.version > statement.version), None)
    return {
        "statement": statement,
        "period_title": statement_exports.period_title_of(statement),
        "groups": line_groups(statement),
        "versions": versions,
        "superseded_by": newer,
        "changes": [ShownChange(change) for change in statement_difference(statement)],
        "can_approve": not statement.is_approved and newer is None and access.can_approve_statement(user, statement),
        "back": _month_address(statement),
    }


@require_safe
@login_required
def statement_detail(request: RapportRequest, statement_id: int) -> HttpResponse:
    statement = access.statement_for_user(request.user, statement_id)
    return render(request, DETAIL, detail_context(request.user, statement))


def _not_yours(request: RapportRequest, statement: Statement) -> HttpResponse:
    """Someone who sees the statement but may not approve it: the statement again, saying who approves it."""
    if statement.person_id == request.user.pk:
        reason = _("Nobody approves their own statement: the head of your team or an administrator does.")
    else:
        reason = _("Only the head of %(person)s's team or an administrator approves this statement.") % {
            "person": statement.person.display_name
        }
    messages.error(request, reason)
    return render(request, DETAIL, detail_context(request.user, statement), status=403)


@require_POST
@login_required
def statement_approve_view(request: RapportRequest, statement_id: int) -> HttpResponse:
    """Approve the statement as the approver saw it (the form sends when its figures were computed)."""
    statement = access.statement_for_user(request.user, statement_id)
    if not access.can_approve_statement(request.user, statement):
        return _not_yours(request, statement)
    detail = reverse("motivation:statement", args=[statement.pk])
    seen = moment_sent(request.POST.get("computed_at", ""))
    if seen is None:
        messages.error(
            request, _("The statement could not be approved: reload it, review its figures and approve again.")
        )
        return redirect(detail)
    statement.computed_at = seen
    try:
        approved = statement_approve(by=request.user, statement=statement)
    except PermissionDenied:
        return _not_yours(request, statement)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        if not Statement.objects.filter(pk=statement.pk).exists():
            # Recomputed away (it would only have repeated the approved version): back to the month's list.
            return redirect(_month_address(statement))
        return redirect(detail)
    messages.success(
        request,
        _("%(person)s's statement for %(period)s is approved and locked: it will not change any more.")
        % {"person": approved.person.display_name, "period": statement_exports.period_title_of(approved)},
    )
    return redirect(detail)


# ---- Export --------------------------------------------------------------------------------------


@require_safe
@login_required
def statements_export(request: RapportRequest) -> HttpResponseBase:
    """The month's statements on the list, one row per line, as CSV (default) or XLSX (``format``)."""
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            _("Unknown export format “%(format)s”: choose csv or xlsx.") % {"format": fmt[:20]},
            content_type="text/plain; charset=utf-8",
        )
    choice = statement_choice(request.user, request.GET)
    statements = statements_of_period(request.user, choice.period, team_id=choice.team.pk if choice.team else None)
    lines = StatementLine.objects.filter(statement__in=[statement.pk for statement in statements])
    found = statement_exports.rows(statements, list(lines.select_related("rule", "deal").order_by("pk")))
    filename = f"{_('bonuses')}-{choice.period.start:%Y-%m}.{fmt}"
    if fmt == "xlsx":
        file = statement_exports.xlsx_file(found, title=_("Bonuses"))
        return FileResponse(file, as_attachment=True, filename=filename, content_type=FORMATS[fmt])
    response = StreamingHttpResponse(streamed(statement_exports.csv_lines(found)), content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


urlpatterns: list[URLPattern] = [
    path("bonuses/", statements_page, name="statements"),
    path("bonuses/compute/", statements_recompute, name="statements-compute"),
    path("bonuses/export/", statements_export, name="statements-export"),
    path("bonuses/<int:statement_id>/", statement_detail, name="statement"),
    path("bonuses/<int:statement_id>/approve/", statement_approve_view, name="statement-approve"),
]

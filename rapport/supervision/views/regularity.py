"""Purchase regularity on screen: the client card's panel, the team's overdue and falling clients, the policy.

The panel (``#client-regularity``, registered with clients.card_panels) shows the interval in
force, learned or set, the last order, whether the client is overdue, and the monthly volume
against the target as a chart; the client's editors set the interval and target in place. It
reloads itself when the orders panel says orders changed. The team page is for heads (their
team) and admins (any team, chosen); the policy for admins.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts import access
from rapport.accounts.models import Role, Team, User
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest
from rapport.supervision import regularity
from rapport.supervision.models import Regularity, RegularityPolicy
from rapport.supervision.regularity import AnyClient

PANEL = "supervision/regularity_panel.html"
TEAM = "supervision/regularity.html"
POLICY = "supervision/regularity_policy.html"
# Whose clients the team page lists: the roles that own clients.
OWNING_ROLES = [Role.MANAGER, Role.HEAD, Role.AGENT]
NO_TEAM = "none"


class RegularityForm(forms.Form):
    set_days = forms.IntegerField(
        label=gettext_lazy("Reorder interval, days"),
        required=False,
        help_text=gettext_lazy("Empty: learned from the orders (the median gap between them)."),
    )
    monthly_volume_target = forms.DecimalField(label=gettext_lazy("Monthly volume target"), required=False)


class PolicyForm(forms.Form):
    margin_percent = forms.IntegerField(
        label=gettext_lazy("Overdue after the interval plus, %"),
        help_text=gettext_lazy("With 20 %, a client ordering every 30 days is overdue after 36 days without an order."),
    )
    fall_percent = forms.IntegerField(
        label=gettext_lazy("A fall in volume worth a look, %"),
        help_text=gettext_lazy(
            "Last month's volume against the average of the six months before: a client below it by more is listed."
        ),
    )


def _client_for(request: RapportRequest, kind: str, client_id: int) -> AnyClient:
    if kind == "company":
        return access.company_for_user(request.user, client_id)
    if kind == "contact":
        return access.contact_for_user(request.user, client_id)
    raise Http404


def _chart(history: regularity.VolumeHistory, target: Decimal | None) -> dict[str, Any]:
    """What the chart script draws, for json_script (data, not code: the CSP forbids inline scripts)."""
    return {
        "labels": [formats.date_format(month.month, "YEAR_MONTH_FORMAT") for month in history.months],
        "volumes": [float(month.volume) for month in history.months],
        "target": None if target is None else float(target),
        "volume_label": _("Volume"),
        "target_label": _("Target"),
    }


def _panel_context(
    request: RapportRequest, client: AnyClient, row: Regularity | None = None, **extra: Any
) -> dict[str, Any]:
    """The client's rhythm (one query, unless given) and its months' volumes (one grouped query)."""
    row = row or regularity.regularity_of(client)
    today = timezone.localdate()
    history = regularity.volume_by_month(client, today=today)
    last_order_on = history.last_order_on or (row.last_order_on if row else None)
    # The flag is the job's; an order since it last ran ends the spell already.
    overdue = (
        row is not None
        and row.overdue_since is not None
        and (row.last_order_on is None or last_order_on is None or last_order_on <= row.last_order_on)
    )
    target = row.monthly_volume_target if row else None
    return {
        "client": client,
        "row": row,
        "last_order_on": last_order_on,
        "days_since": (today - last_order_on).days if last_order_on else None,
        "overdue": overdue,
        "months": history.months,
        "target": target,
        "chart": _chart(history, target),
        "has_volume": any(month.volume for month in history.months),
        "can_set": access.can_set_regularity(request.user, client),
        "form": None,
        **extra,
    }


def regularity_panel(request: HttpRequest, client: AnyClient) -> str:
    """The client card's regularity panel, for a client with a rhythm: one the periodic job learned from its orders,
    or one set by hand. Nothing (and one query) for the others, most clients of a business that does not ship."""
    row = regularity.regularity_of(client)
    if row is None:
        return ""
    # The chart's scripts come with the card; the panel redrawn by htmx finds them loaded.
    context = _panel_context(cast(RapportRequest, request), client, row, with_scripts=True)
    return render_to_string(PANEL, context, request=request)


@require_safe
@login_required
def regularity_region(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    """The panel as it stands: what "Cancel" goes back to, and what reloads when orders change."""
    client = _client_for(request, kind, client_id)
    return render(request, PANEL, _panel_context(request, client))


@require_http_methods(["GET", "POST"])
@login_required
def regularity_edit(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = _client_for(request, kind, client_id)
    if not access.can_set_regularity(request.user, client):
        raise PermissionDenied
    if request.method != "POST":
        row = regularity.regularity_of(client)
        initial = {"set_days": row.set_days, "monthly_volume_target": row.monthly_volume_target} if row else {}
        return render(request, PANEL, _panel_context(request, client, form=RegularityForm(initial=initial)))
    form = RegularityForm(request.POST)
    if form.is_valid():
        try:
            regularity.regularity_set(by=request.user, client=client, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
    if form.errors:
        return render(request, PANEL, _panel_context(request, client, form=form), status=422)
    if not request.htmx:
        return redirect(f"{client.get_absolute_url()}#client-regularity")
    return render(request, PANEL, _panel_context(request, client))


# ---- The team page -------------------------------------------------------------------------------


def _of_team(people: QuerySet[User], chosen: str) -> QuerySet[User]:
    """The people of the chosen team, or of no team; anything else chooses nobody (never a 500)."""
    if chosen == NO_TEAM:
        return people.filter(team__isnull=True)
    if chosen.isdigit():
        return people.filter(team_id=int(chosen))
    return people.none()


@require_safe
@login_required
def regularity_team(request: RapportRequest) -> HttpResponse:
    """The team's overdue clients and those whose volume fell: a head's team, a chosen team for admins."""
    user = request.user
    if not access.sees_regularity_alerts(user):
        raise PermissionDenied
    people = access.people_in_scope(user, OWNING_ROLES)
    teams: list[Team] = []
    chosen = ""
    if access.client_scope(user) == access.Scope.ALL:
        teams = list(Team.objects.order_by("name"))
        chosen = request.GET.get("team") or (str(teams[0].pk) if teams else NO_TEAM)
        people = _of_team(people, chosen)
    members = list(people)
    policy = RegularityPolicy.current()
    today = timezone.localdate()
    # The first LISTED of each list keep the page quick; "show all" asks for the rest, within LISTED_ALL.
    showing_all = request.GET.get("all") == "1"
    listed = regularity.LISTED_ALL if showing_all else regularity.LISTED
    context = {
        "overdue": regularity.overdue_clients(members, today, limit=listed),
        "falling": regularity.falling_clients(members, policy, today, limit=listed),
        "policy": policy,
        "teams": teams,
        "chosen": chosen,
        "no_team": NO_TEAM,
        "listed": listed,
        "showing_all": showing_all,
        "can_configure": access.can_configure_regularity(user),
        "can_import": access.can_import_orders(user),
    }
    return render(request, TEAM, context)


# ---- The policy ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def regularity_policy(request: RapportRequest) -> HttpResponse:
    if not access.can_configure_regularity(request.user):
        raise PermissionDenied
    policy = RegularityPolicy.current()
    if request.method != "POST":
        form = PolicyForm(initial={"margin_percent": policy.margin_percent, "fall_percent": policy.fall_percent})
        return render(request, POLICY, {"form": form, "policy": policy})
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            regularity.regularity_policy_set(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
    if form.errors:
        return render(request, POLICY, {"form": form, "policy": policy}, status=422)
    messages.success(request, _("The regularity policy is saved; the next check of the clients applies it."))
    return redirect("supervision:regularity-policy")


urlpatterns: list[URLPattern] = [
    path("regularity/", regularity_team, name="regularity"),
    path("regularity/policy/", regularity_policy, name="regularity-policy"),
    path("regularity/<str:kind>/<int:client_id>/", regularity_region, name="regularity-panel"),
    path("regularity/<str:kind>/<int:client_id>/edit/", regularity_edit, name="regularity-edit"),
]

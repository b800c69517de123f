"""The deal card (stage track, details editor, checkpoints, products, timeline) and registering a deal.

Card regions answer htmx with the region they changed (`deal_detail.html#…`) and an
``deal-changed`` event, on which the summary, the details and the timeline reload
themselves; a plain form post gets a redirect back to the card, so it works without
JavaScript. Stage moves, the registrant and deleting are plain posts: they change the
whole card.
"""

from __future__ import annotations

import heapq
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh, trigger_client_event

from rapport.accounts import access
from rapport.activities.timeline import deal_activities
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest
from rapport.sales import queries, services
from rapport.sales.forms import DealCreateForm, DealEditForm, LineEditForm, LineForm, RegistrantForm, StageMoveForm
from rapport.sales.models import Deal, DealCheckpoint, DealLine, LostReason, Stage, StageKind

CHANGED = "deal-changed"
# Regions that reload themselves on CHANGED (GET deal-region).
SELF_LOADING_REGIONS = {"deal-summary", "deal-details", "deal-timeline"}


# ---- Reading the card -----------------------------------------------------------------------


def _track(deal: Deal, stages: list[Stage]) -> list[dict[str, Any]]:
    """The open stages in order, each passed, current or ahead; won and lost apart as the track's two ends."""
    current = next((stage for stage in stages if stage.pk == deal.stage_id), deal.stage)
    steps = []
    for stage in stages:
        if stage.kind != StageKind.OPEN:
            continue
        if stage.pk == current.pk:
            state = "current"
        elif not current.is_open or stage.position < current.position:
            state = "passed"
        else:
            state = "ahead"
        steps.append({"stage": stage, "state": state})
    return steps


def _client_links(request: RapportRequest, deal: Deal) -> dict[str, bool]:
    """Link the deal's company and person only where the user may open their cards."""
    user = request.user
    everything = access.client_scope(user) == access.Scope.ALL and user.is_active
    return {
        "company_link": deal.company_id is not None
        and (everything or access.companies_visible_to(user).filter(pk=deal.company_id).exists()),
        "contact_link": deal.contact_id is not None
        and (everything or access.contacts_visible_to(user).filter(pk=deal.contact_id).exists()),
    }


def _summary_context(request: RapportRequest, deal: Deal) -> dict[str, Any]:
    admin = access.can_change_registrant(request.user)
    return {
        "deal": deal,
        **_client_links(request, deal),
        "registrant_form": RegistrantForm(deal=deal) if admin else None,
    }


def _lines_context(deal: Deal, can_edit: bool, **extra: Any) -> dict[str, Any]:
    lines = queries.lines_of(deal)
    return {
        "deal": deal,
        "can_edit": can_edit,
        "lines": lines,
        "line_form": LineForm(initial={"quantity": 1}) if can_edit else None,
        **extra,
    }


def _checkpoints_context(deal: Deal, can_edit: bool, checkpoints: list[DealCheckpoint] | None = None) -> dict[str, Any]:
    return {
        "deal": deal,
        "can_edit": can_edit,
        "checkpoints": checkpoints if checkpoints is not None else queries.checkpoints_of(deal),
    }


def _details_context(request: RapportRequest, deal: Deal, can_edit: bool) -> dict[str, Any]:
    return {"deal": deal, "can_edit": can_edit, **_client_links(request, deal)}


def _timeline_context(
    request: RapportRequest, deal: Deal, checkpoints: list[DealCheckpoint] | None = None
) -> dict[str, Any]:
    """The deal's own events and its activities in one feed; an open deal with nothing planned is flagged."""
    activities = deal_activities(deal, limit=queries.DEAL_TIMELINE_SIZE)
    events = queries.deal_timeline(deal, checkpoints=checkpoints)
    merged = heapq.merge(
        events,
        [queries.DealEvent(entry) for entry in activities.entries],
        key=lambda event: event.entry.at,
        reverse=True,
    )
    return {
        "deal": deal,
        "timeline": list(merged)[: queries.DEAL_TIMELINE_SIZE],
        "no_next_step": not deal.is_closed and not activities.next_step_planned,
        "can_plan": access.can_log_activities(request.user),
    }


def card_context(request: RapportRequest, deal: Deal) -> dict[str, Any]:
    """Everything the card shows, read once: the regions share the links and the checkpoints."""
    user = request.user
    can_edit = access.can_edit_deal(user, deal)
    checkpoints = queries.checkpoints_of(deal)
    stages = queries.stages_of(deal)
    lost_stages = [stage for stage in stages if stage.kind == StageKind.LOST]
    context: dict[str, Any] = {
        **_summary_context(request, deal),
        **_lines_context(deal, can_edit),
        **_checkpoints_context(deal, can_edit, checkpoints),
        "can_edit": can_edit,
        "track": _track(deal, stages),
        "won_stages": [stage for stage in stages if stage.kind == StageKind.WON],
        "lost_stages": lost_stages,
        "lost_form": StageMoveForm(deal=deal) if can_edit and lost_stages else None,
        **_timeline_context(request, deal, checkpoints),
        "can_delete": can_edit,
    }
    return context


@login_required
def deal_detail(request: RapportRequest, deal_id: int) -> HttpResponse:
    deal = access.deal_for_user(request.user, deal_id)
    return render(request, "sales/deal_detail.html", card_context(request, deal))


@login_required
def deal_region(request: RapportRequest, deal_id: int, region: str) -> HttpResponse:
    """One region as it stands: what reloads after a change elsewhere on the card, and what "Cancel" goes back to."""
    if region not in SELF_LOADING_REGIONS:
        raise Http404
    deal = access.deal_for_user(request.user, deal_id)
    can_edit = access.can_edit_deal(request.user, deal)
    if region == "deal-summary":
        context = _summary_context(request, deal)
    elif region == "deal-details":
        context = _details_context(request, deal, can_edit)
    else:
        context = _timeline_context(request, deal)
    return render(request, f"sales/deal_detail.html#{region}", context)


def _region(
    request: RapportRequest, deal: Deal, region: str, context: dict[str, Any], *, changed: bool
) -> HttpResponse:
    """The changed region for htmx (telling the others to reload); for a plain form post, back to the card."""
    if not request.htmx:
        return redirect(deal.get_absolute_url())
    failed = any(getattr(value, "errors", None) for value in context.values()) or bool(context.get("region_error"))
    response = render(request, f"sales/deal_detail.html#{region}", context, status=422 if failed else 200)
    if changed and not failed:
        trigger_client_event(response, CHANGED)
    return response


def _editable(request: RapportRequest, deal_id: int) -> Deal:
    deal = access.deal_for_user(request.user, deal_id)
    if not access.can_edit_deal(request.user, deal):
        raise PermissionDenied
    return deal


# ---- Details --------------------------------------------------------------------------------


@login_required
def deal_edit(request: RapportRequest, deal_id: int) -> HttpResponse:
    deal = _editable(request, deal_id)
    has_lines = deal.lines.exists()
    data = request.POST if request.method == "POST" else None
    form = DealEditForm(data, deal=deal, user=request.user, has_lines=has_lines)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        try:
            if changes:
                deal = services.deal_update(by=request.user, deal=deal, version=form.cleaned_data["version"], **changes)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if "title" in changes and request.htmx:
                return HttpResponseClientRefresh()
            deal = access.deal_for_user(request.user, deal.pk)
            return _region(request, deal, "deal-details", _details_context(request, deal, True), changed=bool(changes))
    context = {**_details_context(request, deal, True), "edit_form": form}
    if not request.htmx:
        context = {**card_context(request, deal), "edit_form": form}
        return render(request, "sales/deal_detail.html", context, status=422 if form.errors else 200)
    return render(request, "sales/deal_detail.html#deal-details", context, status=422 if form.errors else 200)


@require_POST
@login_required
def deal_set_registrant(request: RapportRequest, deal_id: int) -> HttpResponse:
    if not access.can_change_registrant(request.user):
        raise PermissionDenied
    deal = access.deal_for_user(request.user, deal_id)
    form = RegistrantForm(request.POST, deal=deal)
    if form.is_valid():
        try:
            services.deal_set_registrant(by=request.user, deal=deal, registrant=form.cleaned_data["registrant"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(name)s is now credited with registering this deal.")
                % {"name": form.cleaned_data["registrant"].display_name},
            )
    else:
        messages.error(request, _("Choose who registered the deal."))
    return redirect(deal.get_absolute_url())


# ---- Stages ---------------------------------------------------------------------------------


@require_POST
@login_required
def deal_stage(request: RapportRequest, deal_id: int) -> HttpResponse:
    """Move to a stage of the pipeline: the gate's refusal, or a missing reason for losing, comes back as a message."""
    deal = _editable(request, deal_id)
    form = StageMoveForm(request.POST, deal=deal)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect(deal.get_absolute_url())
    stage: Stage = form.cleaned_data["stage"]
    lost_reason: LostReason | None = form.cleaned_data["lost_reason"]
    try:
        services.deal_move_to_stage(
            by=request.user,
            deal=deal,
            stage=stage,
            version=form.cleaned_data["version"],
            lost_reason=lost_reason,
            lost_note=form.cleaned_data["lost_note"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if stage.kind == StageKind.WON:
            messages.success(request, _("The deal is won. Well done!"))
        elif stage.kind == StageKind.LOST:
            messages.info(request, _("The deal is closed as lost."))
    return redirect(deal.get_absolute_url())


@require_POST
@login_required
def deal_delete(request: RapportRequest, deal_id: int) -> HttpResponse:
    deal = _editable(request, deal_id)
    services.deal_delete(by=request.user, deal=deal)
    messages.success(request, _("The deal “%(title)s” is in the trash.") % {"title": deal.title})
    target = _client_url(request, deal)
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


def _client_url(request: RapportRequest, deal: Deal) -> str:
    links = _client_links(request, deal)
    if links["company_link"] and deal.company:
        return deal.company.get_absolute_url()
    if links["contact_link"] and deal.contact:
        return deal.contact.get_absolute_url()
    return reverse("core:home")


# ---- Checkpoints ----------------------------------------------------------------------------


@require_POST
@login_required
def checkpoint_toggle(request: RapportRequest, deal_id: int, checkpoint_id: int) -> HttpResponse:
    deal = _editable(request, deal_id)
    checkpoint = get_object_or_404(DealCheckpoint, pk=checkpoint_id, deal=deal)
    done = request.POST.get("done") == "1"
    context: dict[str, Any] = {}
    try:
        services.deal_checkpoint_set(by=request.user, checkpoint=checkpoint, done=done)
    except ValidationError as error:
        if not request.htmx:
            messages.error(request, " ".join(error.messages))
        context["region_error"] = " ".join(error.messages)
    return _region(request, deal, "deal-checkpoints", {**_checkpoints_context(deal, True), **context}, changed=True)


# ---- Lines ----------------------------------------------------------------------------------


@require_POST
@login_required
def line_add(request: RapportRequest, deal_id: int) -> HttpResponse:
    deal = _editable(request, deal_id)
    form = LineForm(request.POST)
    if form.is_valid():
        try:
            services.deal_line_add(by=request.user, deal=deal, **form.service_arguments())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            deal.refresh_from_db(fields=["amount", "version"])
            return _region(request, deal, "deal-lines", _lines_context(deal, True), changed=True)
    if not request.htmx:
        context = {**card_context(request, deal), "line_form": form}
        return render(request, "sales/deal_detail.html", context, status=422)
    return _region(request, deal, "deal-lines", _lines_context(deal, True, line_form=form), changed=False)


def _line_for(request: RapportRequest, line_id: int) -> tuple[DealLine, Deal]:
    line = get_object_or_404(DealLine, pk=line_id)
    deal = _editable(request, line.deal_id)
    line.deal = deal
    return line, deal


@login_required
def line_edit(request: RapportRequest, line_id: int) -> HttpResponse:
    """GET turns the line's row into its editor; POST saves it."""
    line, deal = _line_for(request, line_id)
    if request.method != "POST" and request.GET.get("cancel"):
        return _region(request, deal, "deal-lines", _lines_context(deal, True), changed=False)
    if request.method != "POST":
        form = LineEditForm(initial={"quantity": line.quantity, "price": line.price, "discount": line.discount})
        return _region(
            request,
            deal,
            "deal-lines",
            _lines_context(deal, True, editing_line=line.pk, editing_form=form),
            changed=False,
        )
    form = LineEditForm(request.POST)
    if form.is_valid():
        try:
            services.deal_line_update(by=request.user, line=line, **form.service_arguments())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            deal.refresh_from_db(fields=["amount", "version"])
            return _region(request, deal, "deal-lines", _lines_context(deal, True), changed=True)
    if not request.htmx:
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect(deal.get_absolute_url())
    return _region(
        request, deal, "deal-lines", _lines_context(deal, True, editing_line=line.pk, editing_form=form), changed=False
    )


@require_POST
@login_required
def line_remove(request: RapportRequest, line_id: int) -> HttpResponse:
    line, deal = _line_for(request, line_id)
    context: dict[str, Any] = {}
    try:
        services.deal_line_remove(by=request.user, line=line)
    except ValidationError as error:
        if not request.htmx:
            messages.error(request, " ".join(error.messages))
        context["region_error"] = " ".join(error.messages)
    deal.refresh_from_db(fields=["amount", "version"])
    return _region(request, deal, "deal-lines", _lines_context(deal, True, **context), changed=True)


@login_required
def product_autocomplete(request: RapportRequest) -> JsonResponse:
    """Products on sale by SKU or name, for the line picker (Tom Select)."""
    found = queries.products_matching(request.GET.get("q", ""))
    return JsonResponse({"results": [{"value": product.pk, "text": str(product)} for product in found]})


# ---- Registering a deal ---------------------------------------------------------------------


@login_required
def deal_create(request: RapportRequest) -> HttpResponse:
    """One short form; "New deal" on a client card brings ``?company=`` or ``?contact=``."""
    user = request.user
    if not access.can_create_deals(user):
        raise PermissionDenied
    initial: dict[str, Any] = {}
    client = None
    for kind, getter in (("company", access.company_for_user), ("contact", access.contact_for_user)):
        raw = request.GET.get(kind, "")
        if raw:
            client = getter(user, int(raw) if raw.isdigit() else 0)
            initial[kind] = client.pk
            if kind == "contact" and client.company_id and "company" not in initial:  # type: ignore[union-attr]
                initial["company"] = client.company_id  # type: ignore[union-attr]
    form = DealCreateForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_create(by=user, **form.service_arguments())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The deal is registered to your name."))
            return redirect(deal.get_absolute_url())
    context = {"form": form, "client": client}
    return render(request, "sales/deal_form.html", context, status=422 if form.errors else 200)

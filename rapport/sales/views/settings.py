"""Sales settings for admins: pipelines with their stages and gates, checkpoint types, reasons for losing,
price lists and warehouses. Plain forms that post and come back with a message; every write is a
settings service, which checks the rights again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts import access
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest, allowed_by
from rapport.sales import settings_services as services
from rapport.sales.models import GATE_FIELDS, CheckpointType, LostReason, Pipeline, PriceList, Stage, Warehouse
from rapport.sales.settings_forms import CheckpointTypeForm, LostReasonForm, NameForm, PriceListForm, StageForm

# Signed in and allowed to configure this; anyone else gets 403.
_admin = allowed_by(access.can_configure_sales)


def _step(request: RapportRequest) -> int:
    return -1 if request.POST.get("direction") == "up" else 1


def _refused(request: RapportRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _form_page(
    request: RapportRequest, form: Any, *, title: str, back: str, pretitle: str = "", **extra: Any
) -> HttpResponse:
    context = {"form": form, "title": title, "back": back, "pretitle": pretitle, **extra}
    return render(request, "sales/settings/form.html", context, status=422 if form.errors else 200)


# ---- Pipelines -------------------------------------------------------------------------------


@_admin
def pipeline_list(request: RapportRequest) -> HttpResponse:
    """Pipelines with their stages; the form at the bottom adds one."""
    form = NameForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.pipeline_create(by=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Pipeline added with three starter stages: rename them and add your own."))
            return redirect("sales:pipeline-detail", pipeline.pk)
    pipelines = Pipeline.objects.prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("position", "id")))
    return render(
        request,
        "sales/settings/pipeline_list.html",
        {"pipelines": pipelines, "form": form, "section": "pipelines"},
        status=422 if form.errors else 200,
    )


@_admin
def pipeline_detail(request: RapportRequest, pipeline_id: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    stages = (
        pipeline.stages.annotate(deal_count=Count("deals"))
        .prefetch_related("required_checkpoints")
        .order_by("position", "id")
    )
    context = {
        "pipeline": pipeline,
        "stages": stages,
        "checkpoint_types": pipeline.checkpoint_types.all(),
        "gate_labels": GATE_FIELDS,
        "section": "pipelines",
    }
    return render(request, "sales/settings/pipeline_detail.html", context)


@_admin
def pipeline_rename(request: RapportRequest, pipeline_id: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    form = NameForm(request.POST if request.method == "POST" else None, initial={"name": pipeline.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.pipeline_rename(by=request.user, pipeline=pipeline, name=form.cleaned_data["name"])
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("sales:pipeline-detail", pipeline.pk)
    back = reverse("sales:pipeline-detail", args=[pipeline.pk])
    return _form_page(request, form, title=_("Rename the pipeline"), back=back, pretitle=pipeline.name)


@require_POST
@_admin
def pipeline_move(request: RapportRequest, pipeline_id: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    services.pipeline_move(by=request.user, pipeline=pipeline, step=_step(request))
    return redirect("sales:pipeline-list")


@require_POST
@_admin
def pipeline_active(request: RapportRequest, pipeline_id: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    active = request.POST.get("active") == "1"
    try:
        services.pipeline_set_active(by=request.user, pipeline=pipeline, active=active)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            _("“%(name)s” is in use again.") % {"name": pipeline.name}
            if active
            else _("“%(name)s” takes no new deals now; its deals stay where they are.") % {"name": pipeline.name},
        )
    return redirect("sales:pipeline-list")


# ---- Stages ------------------------------------------------------------------------------------


def _stage_values(form: StageForm) -> dict[str, Any]:
    return {**form.cleaned_data, "required_checkpoints": list(form.cleaned_data["required_checkpoints"])}


@_admin
def stage_create(request: RapportRequest, pipeline_id: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    form = StageForm(request.POST if request.method == "POST" else None, pipeline=pipeline)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_create(by=request.user, pipeline=pipeline, **_stage_values(form))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Stage added."))
            return redirect("sales:pipeline-detail", pipeline.pk)
    return _form_page(
        request,
        form,
        title=_("New stage"),
        back=reverse("sales:pipeline-detail", args=[pipeline.pk]),
        pretitle=pipeline.name,
    )


@_admin
def stage_edit(request: RapportRequest, stage_id: int) -> HttpResponse:
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id)
    form = StageForm(request.POST if request.method == "POST" else None, pipeline=stage.pipeline, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_update(by=request.user, stage=stage, **_stage_values(form))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Stage saved."))
            return redirect("sales:pipeline-detail", stage.pipeline_id)
    return _form_page(
        request,
        form,
        title=_("Stage “%(name)s”") % {"name": stage.name},
        back=reverse("sales:pipeline-detail", args=[stage.pipeline_id]),
        pretitle=stage.pipeline.name,
    )


@require_POST
@_admin
def stage_move(request: RapportRequest, stage_id: int) -> HttpResponse:
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id)
    services.stage_move(by=request.user, stage=stage, step=_step(request))
    return redirect("sales:pipeline-detail", stage.pipeline_id)


@require_POST
@_admin
def stage_delete(request: RapportRequest, stage_id: int) -> HttpResponse:
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id)
    try:
        services.stage_delete(by=request.user, stage=stage)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The stage “%(name)s” is deleted.") % {"name": stage.name})
    return redirect("sales:pipeline-detail", stage.pipeline_id)


# ---- Checkpoint types --------------------------------------------------------------------------


@_admin
def checkpoint_type_create(request: RapportRequest, pipeline_id: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    form = CheckpointTypeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.checkpoint_type_create(by=request.user, pipeline=pipeline, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("sales:pipeline-detail", pipeline.pk)
    back = reverse("sales:pipeline-detail", args=[pipeline.pk])
    return _form_page(request, form, title=_("New checkpoint"), back=back, pretitle=pipeline.name)


@_admin
def checkpoint_type_edit(request: RapportRequest, checkpoint_type_id: int) -> HttpResponse:
    checkpoint_type = get_object_or_404(CheckpointType.objects.select_related("pipeline"), pk=checkpoint_type_id)
    initial = {"name": checkpoint_type.name, "due_days": checkpoint_type.due_days}
    form = CheckpointTypeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.checkpoint_type_update(by=request.user, checkpoint_type=checkpoint_type, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("sales:pipeline-detail", checkpoint_type.pipeline_id)
    return _form_page(
        request,
        form,
        title=_("Checkpoint “%(name)s”") % {"name": checkpoint_type.name},
        back=reverse("sales:pipeline-detail", args=[checkpoint_type.pipeline_id]),
        pretitle=checkpoint_type.pipeline.name,
    )


@require_POST
@_admin
def checkpoint_type_move(request: RapportRequest, checkpoint_type_id: int) -> HttpResponse:
    checkpoint_type = get_object_or_404(CheckpointType, pk=checkpoint_type_id)
    services.checkpoint_type_move(by=request.user, checkpoint_type=checkpoint_type, step=_step(request))
    return redirect("sales:pipeline-detail", checkpoint_type.pipeline_id)


@require_POST
@_admin
def checkpoint_type_delete(request: RapportRequest, checkpoint_type_id: int) -> HttpResponse:
    checkpoint_type = get_object_or_404(CheckpointType, pk=checkpoint_type_id)
    try:
        services.checkpoint_type_delete(by=request.user, checkpoint_type=checkpoint_type)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The checkpoint “%(name)s” is deleted.") % {"name": checkpoint_type.name})
    return redirect("sales:pipeline-detail", checkpoint_type.pipeline_id)


# ---- Reasons for losing ------------------------------------------------------------------------


@_admin
def lost_reason_list(request: RapportRequest) -> HttpResponse:
    form = NameForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lost_reason_create(by=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Reason added."))
            return redirect("sales:lost-reason-list")
    return render(
        request,
        "sales/settings/lost_reasons.html",
        {"reasons": LostReason.objects.all(), "form": form, "section": "reasons"},
        status=422 if form.errors else 200,
    )


@_admin
def lost_reason_edit(request: RapportRequest, reason_id: int) -> HttpResponse:
    reason = get_object_or_404(LostReason, pk=reason_id)
    initial = {"name": reason.name, "is_active": reason.is_active}
    form = LostReasonForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.lost_reason_update(by=request.user, reason=reason, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("sales:lost-reason-list")
    return _form_page(
        request, form, title=_("Reason “%(name)s”") % {"name": reason.name}, back=reverse("sales:lost-reason-list")
    )


# ---- Price lists and warehouses ----------------------------------------------------------------


@_admin
def catalogue_settings(request: RapportRequest) -> HttpResponse:
    return render(
        request,
        "sales/settings/catalogue.html",
        {"price_lists": PriceList.objects.all(), "warehouses": Warehouse.objects.all(), "section": "catalogue"},
    )


@_admin
def price_list_edit(request: RapportRequest, price_list_id: int | None = None) -> HttpResponse:
    price_list = get_object_or_404(PriceList, pk=price_list_id) if price_list_id else None
    initial = (
        {"name": price_list.name, "currency": price_list.currency, "is_default": price_list.is_default}
        if price_list
        else {}
    )
    form = PriceListForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.price_list_save(by=request.user, price_list=price_list, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("sales:catalogue-settings")
    title = _("Price list “%(name)s”") % {"name": price_list.name} if price_list else _("New price list")
    return _form_page(request, form, title=title, back=reverse("sales:catalogue-settings"))


@_admin
def warehouse_edit(request: RapportRequest, warehouse_id: int | None = None) -> HttpResponse:
    warehouse = get_object_or_404(Warehouse, pk=warehouse_id) if warehouse_id else None
    form = NameForm(
        request.POST if request.method == "POST" else None, initial={"name": warehouse.name if warehouse else ""}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.warehouse_save(by=request.user, warehouse=warehouse, name=form.cleaned_data["name"])
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("sales:catalogue-settings")
    title = _("Warehouse “%(name)s”") % {"name": warehouse.name} if warehouse else _("New warehouse")
    return _form_page(request, form, title=title, back=reverse("sales:catalogue-settings"))

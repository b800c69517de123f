"""Changing how sales are set up: pipelines and their stages and gates, checkpoint types, reasons for losing,
price lists and warehouses. Admins only (``access.can_configure_sales``).

The rule every pipeline keeps: at least one open, one won and one lost stage, so a deal
can always be registered, won and lost. A pipeline is born with three such stages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.sales.models import (
    GATE_FIELDS,
    CheckpointType,
    DealCheckpoint,
    DealStageChange,
    LostReason,
    Pipeline,
    PriceList,
    Stage,
    StageColour,
    StageKind,
    Warehouse,
)


def _check_admin(by: User) -> None:
    if not access.can_configure_sales(by):
        raise PermissionDenied


def _clean_name(name: str, taken: models.QuerySet[Any]) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if taken.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("“%(name)s” is already taken.") % {"name": name}})
    return name


def _move[Positioned: (Pipeline, Stage, CheckpointType, LostReason)](
    item: Positioned, siblings: models.QuerySet[Positioned], step: int
) -> None:
    """Swap the item with its neighbour above (-1) or below (+1), renumbering the list 0, 1, 2 …"""
    ordered = list(siblings.select_for_update())
    index = next(number for number, sibling in enumerate(ordered) if sibling.pk == item.pk)
    target = index + step
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, sibling in enumerate(ordered):
        if sibling.position != position:
            sibling.position = position
            sibling.save(update_fields=["position"])


def _next_position(siblings: models.QuerySet[Any]) -> int:
    last = siblings.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


# ---- Pipelines -------------------------------------------------------------------------------

STARTER_STAGES = [
    # The three stages a new pipeline starts with: the minimum the rule asks for.
    (gettext_lazy("New"), StageKind.OPEN, 10, StageColour.BLUE),
    (gettext_lazy("Won"), StageKind.WON, 100, StageColour.GREEN),
    (gettext_lazy("Lost"), StageKind.LOST, 0, StageColour.SECONDARY),
]


@transaction.atomic
def pipeline_create(*, by: User, name: str) -> Pipeline:
    _check_admin(by)
    pipeline = Pipeline.objects.create(
        name=_clean_name(name, Pipeline.objects.all()), position=_next_position(Pipeline.objects.all())
    )
    for position, (title, kind, probability, colour) in enumerate(STARTER_STAGES):
        Stage.objects.create(
            pipeline=pipeline, name=str(title), kind=kind, probability=probability, colour=colour, position=position
        )
    return pipeline


@transaction.atomic
def pipeline_rename(*, by: User, pipeline: Pipeline, name: str) -> Pipeline:
    _check_admin(by)
    pipeline.name = _clean_name(name, Pipeline.objects.exclude(pk=pipeline.pk))
    pipeline.save(update_fields=["name", "updated_at"])
    return pipeline


@transaction.atomic
def pipeline_move(*, by: User, pipeline: Pipeline, step: int) -> None:
    _check_admin(by)
    _move(pipeline, Pipeline.objects.all(), step)


@transaction.atomic
def pipeline_set_active(*, by: User, pipeline: Pipeline, active: bool) -> Pipeline:
    """A pipeline out of use takes no new deals; its deals stay where they are."""
    _check_admin(by)
    if not active and not Pipeline.objects.filter(is_active=True).exclude(pk=pipeline.pk).exists():
        raise ValidationError(_("At least one pipeline must stay in use: new deals need somewhere to go."))
    pipeline.is_active = active
    pipeline.save(update_fields=["is_active", "updated_at"])
    return pipeline


# ---- Stages and their gates --------------------------------------------------------------------


def _check_kinds(pipeline: Pipeline) -> None:
    kinds = set(pipeline.stages.values_list("kind", flat=True))
    if not {StageKind.OPEN, StageKind.WON, StageKind.LOST} <= kinds:
        raise ValidationError(
            _(
                "A pipeline needs at least one open stage, one won stage and one lost stage, "
                "so its deals can be worked on, won and lost."
            ),
            code="stage_kinds",
        )


def _check_gate(pipeline: Pipeline, fields: list[str], checkpoints: Iterable[CheckpointType]) -> None:
    unknown = [name for name in fields if name not in GATE_FIELDS]
    if unknown:
        raise ValidationError({"required_fields": _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)}})
    if any(checkpoint.pipeline_id != pipeline.pk for checkpoint in checkpoints):
        raise ValidationError({"required_checkpoints": _("Choose checkpoints of this pipeline.")})


STAGE_FIELDS = {"name", "kind", "probability", "colour", "stale_after_days", "required_fields"}


def _stage_values(pipeline: Pipeline, stage: Stage | None, values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - STAGE_FIELDS - {"required_checkpoints"}
    if unknown:
        raise ValueError(f"not stage fields: {sorted(unknown)}")
    if "name" in values:
        siblings = pipeline.stages.exclude(pk=stage.pk) if stage else pipeline.stages.all()
        values["name"] = _clean_name(values["name"], siblings)
    probability = values.get("probability")
    if probability is not None and not 0 <= probability <= 100:
        raise ValidationError({"probability": _("Enter a percentage from 0 to 100.")})
    if "kind" in values and values["kind"] not in StageKind.values:
        raise ValidationError({"kind": _("Choose open, won or lost.")})
    if "colour" in values and values["colour"] not in StageColour.values:
        raise ValidationError({"colour": _("Choose one of the colours offered.")})
    _check_gate(pipeline, list(values.get("required_fields", [])), values.get("required_checkpoints", []))
    return values


@transaction.atomic
def stage_create(*, by: User, pipeline: Pipeline, **values: Any) -> Stage:
    """Add a stage at the end of the open stages (before won and lost ones) unless it is won or lost itself."""
    _check_admin(by)
    values = _stage_values(pipeline, None, values)
    checkpoints = values.pop("required_checkpoints", [])
    stage = Stage.objects.create(pipeline=pipeline, position=_next_position(pipeline.stages.all()), **values)
    stage.required_checkpoints.set(checkpoints)
    if stage.kind == StageKind.OPEN:
        # Open stages come before the closing ones: move it up past them.
        closing = pipeline.stages.exclude(kind=StageKind.OPEN).exclude(pk=stage.pk).count()
        for _step in range(closing):
            _move(stage, pipeline.stages.all(), -1)
    return stage


@transaction.atomic
def stage_update(*, by: User, stage: Stage, **values: Any) -> Stage:
    _check_admin(by)
    pipeline = stage.pipeline
    values = _stage_values(pipeline, stage, values)
    checkpoints = values.pop("required_checkpoints", None)
    if "kind" in values and values["kind"] != stage.kind and stage.deals.exists():
        raise ValidationError(
            {"kind": _("Deals are in this stage: move them elsewhere before making it open, won or lost.")}
        )
    changed = [name for name, value in values.items() if getattr(stage, name) != value]
    for name in changed:
        setattr(stage, name, values[name])
    if changed:
        stage.save(update_fields=changed)
    if checkpoints is not None:
        stage.required_checkpoints.set(checkpoints)
    _check_kinds(pipeline)
    return stage


@transaction.atomic
def stage_move(*, by: User, stage: Stage, step: int) -> None:
    _check_admin(by)
    _move(stage, stage.pipeline.stages.all(), step)


@transaction.atomic
def stage_delete(*, by: User, stage: Stage) -> None:
    """Only a stage no deal is in, nor ever was (the deals' history names it), and not the last of its kind."""
    _check_admin(by)
    in_stage = stage.deals.count()
    if in_stage:
        raise ValidationError(
            _("%(count)s deals are in the stage “%(name)s”: move them to another stage first.")
            % {"count": in_stage, "name": stage.name},
            code="has_deals",
        )
    if DealStageChange.objects.filter(models.Q(to_stage=stage) | models.Q(from_stage=stage)).exists():
        raise ValidationError(
            _("Deals have passed through the stage “%(name)s” and their history needs it: rename it instead.")
            % {"name": stage.name},
            code="has_history",
        )
    pipeline = stage.pipeline
    stage.delete()
    _check_kinds(pipeline)


# ---- Checkpoint types ------------------------------------------------------------------------


@transaction.atomic
def checkpoint_type_create(*, by: User, pipeline: Pipeline, name: str, due_days: int) -> CheckpointType:
    _check_admin(by)
    return CheckpointType.objects.create(
        pipeline=pipeline,
        name=_clean_name(name, pipeline.checkpoint_types.all()),
        due_days=due_days,
        position=_next_position(pipeline.checkpoint_types.all()),
    )


@transaction.atomic
def checkpoint_type_update(*, by: User, checkpoint_type: CheckpointType, name: str, due_days: int) -> CheckpointType:
    _check_admin(by)
    siblings = CheckpointType.objects.filter(pipeline_id=checkpoint_type.pipeline_id).exclude(pk=checkpoint_type.pk)
    checkpoint_type.name = _clean_name(name, siblings)
    checkpoint_type.due_days = due_days
    checkpoint_type.save(update_fields=["name", "due_days"])
    return checkpoint_type


@transaction.atomic
def checkpoint_type_move(*, by: User, checkpoint_type: CheckpointType, step: int) -> None:
    _check_admin(by)
    _move(checkpoint_type, CheckpointType.objects.filter(pipeline_id=checkpoint_type.pipeline_id), step)


@transaction.atomic
def checkpoint_type_delete(*, by: User, checkpoint_type: CheckpointType) -> None:
    _check_admin(by)
    if DealCheckpoint.objects.filter(type=checkpoint_type).exists():
        raise ValidationError(
            _("Deals already track the checkpoint “%(name)s”, so it stays; rename it if it is called differently now.")
            % {"name": checkpoint_type.name}
        )
    checkpoint_type.delete()


# ---- Reasons for losing ------------------------------------------------------------------------


@transaction.atomic
def lost_reason_create(*, by: User, name: str) -> LostReason:
    _check_admin(by)
    return LostReason.objects.create(
        name=_clean_name(name, LostReason.objects.all()), position=_next_position(LostReason.objects.all())
    )


@transaction.atomic
def lost_reason_update(*, by: User, reason: LostReason, name: str, is_active: bool) -> LostReason:
    """Rename or retire a reason; a retired one is no longer offered, deals lost for it keep it."""
    _check_admin(by)
    reason.name = _clean_name(name, LostReason.objects.exclude(pk=reason.pk))
    reason.is_active = is_active
    reason.save(update_fields=["name", "is_active"])
    return reason


# ---- Price lists and warehouses ----------------------------------------------------------------


def _check_currency(currency: str) -> None:
    if currency not in settings.RAPPORT_CURRENCIES:
        raise ValidationError(
            {"currency": _("Choose one of: %(codes)s.") % {"codes": ", ".join(settings.RAPPORT_CURRENCIES)}}
        )


@transaction.atomic
def price_list_save(
    *, by: User, price_list: PriceList | None = None, name: str, currency: str, is_default: bool = False
) -> PriceList:
    """Create (``price_list`` None) or change a price list; making one the default unmarks the previous one."""
    _check_admin(by)
    _check_currency(currency)
    others = PriceList.objects.exclude(pk=price_list.pk) if price_list else PriceList.objects.all()
    name = _clean_name(name, others)
    if is_default:
        others.filter(is_default=True).update(is_default=False)
    if price_list is None:
        return PriceList.objects.create(name=name, currency=currency, is_default=is_default)
    price_list.name, price_list.currency, price_list.is_default = name, currency, is_default
    price_list.save(update_fields=["name", "currency", "is_default"])
    return price_list


@transaction.atomic
def warehouse_save(*, by: User, warehouse: Warehouse | None = None, name: str) -> Warehouse:
    _check_admin(by)
    others = Warehouse.objects.exclude(pk=warehouse.pk) if warehouse else Warehouse.objects.all()
    name = _clean_name(name, others)
    if warehouse is None:
        return Warehouse.objects.create(name=name)
    warehouse.name = name
    warehouse.save(update_fields=["name"])
    return warehouse

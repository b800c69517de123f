"""Sales over HTTP (/api/v1/): pipelines, deals, their lines and checkpoints (the catalogue: api_products).

The same rules as the screens: reads go through ``accounts.access`` (a deal out of scope
answers 404), writes through ``sales.services`` (deals) and ``sales.catalogue`` (products),
so a stage gate refuses a move here exactly as on the board. The API turns their
ValidationError into 422 (409 for a stale version) and PermissionDenied into 403; the
endpoints here add the reason a caller reads in the 403 (see ``rapport.api.api``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Prefetch, QuerySet, prefetch_related_objects
from django.forms import ModelChoiceField
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.api.schemas import READ_ERRORS, UPDATE_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, RowId, refused_because
from rapport.clients.models import LeadSource
from rapport.core.http import RapportRequest
from rapport.sales import services
from rapport.sales.models import (
    CheckpointState,
    Deal,
    DealCheckpoint,
    DealLine,
    LostReason,
    Pipeline,
    PriceList,
    Product,
    Stage,
    StageColour,
    StageKind,
)

router = Router()

# Amounts and quantities as the database holds them; NaN and infinity are no numbers for money.
Money = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=14, decimal_places=2)]
Quantity = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=12, decimal_places=3)]
Percent = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=5, decimal_places=2)]
Currency = Annotated[str, Field(max_length=10, description="An ISO code such as USD; the services list those in use.")]

# ---- Schemas: pipelines ---------------------------------------------------------------------


class CheckpointTypeOut(Schema):
    id: int
    name: str
    position: int
    due_days: int = Field(description="Due this many days after the deal is registered.")


class GateOut(Schema):
    required_fields: list[str] = Field(
        description="Deal fields the stage needs: amount, contact, expected_close, next_step_at, lines."
    )
    required_checkpoints: list[int] = Field(description="Ids of checkpoint types that must be done.")


class StageOut(Schema):
    id: int
    name: str
    position: int
    kind: StageKind
    probability: int = Field(description="Percent.")
    colour: StageColour
    norm_days: int | None = Field(
        validation_alias="stale_after_days", description="A deal longer in this stage is reported as stuck."
    )
    gate: GateOut = Field(
        description="What this stage itself asks of a deal; entering it also asks what the open stages before it ask."
    )

    @staticmethod
    def resolve_gate(obj: Stage) -> dict[str, list[Any]]:
        return {
            "required_fields": list(obj.required_fields),
            "required_checkpoints": [kind.pk for kind in obj.required_checkpoints.all()],
        }


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    stages: list[StageOut]
    checkpoint_types: list[CheckpointTypeOut]


class LostReasonOut(Schema):
    id: int
    name: str


# ---- Schemas: deals -------------------------------------------------------------------------


class CheckpointOut(Schema):
    id: int
    type: int = Field(validation_alias="type_id")
    name: str = Field(validation_alias="type.name")
    due_date: date
    done_at: datetime | None
    done_by: int | None = Field(validation_alias="done_by_id")
    state: CheckpointState

    @staticmethod
    def resolve_state(obj: DealCheckpoint) -> str:
        return obj.state()


class LineOut(Schema):
    id: int
    product: int = Field(validation_alias="product_id")
    sku: str = Field(validation_alias="product.sku")
    name: str = Field(validation_alias="product.name")
    quantity: Decimal
    price: Decimal
    discount: Decimal = Field(description="Percent.")
    total: Decimal = Field(description="quantity × price less the discount, in the deal's currency.")
    position: int


class DealOut(Schema):
    id: int
    title: str
    # Related records are given by id, under the same names the inputs and filters use.
    company: int | None = Field(validation_alias="company_id")
    contact: int | None = Field(validation_alias="contact_id")
    pipeline: int = Field(validation_alias="pipeline_id")
    stage: int = Field(validation_alias="stage_id")
    status: StageKind = Field(validation_alias="stage.kind", description="The kind of the deal's stage.")
    amount: Decimal | None
    currency: str
    price_list: int | None = Field(validation_alias="price_list_id")
    owner: int | None = Field(validation_alias="owner_id")
    registrant: int | None = Field(validation_alias="registrant_id")
    lead_source: int | None = Field(validation_alias="lead_source_id")
    expected_close: date | None
    next_step: str
    next_step_at: date | None
    stage_entered_at: datetime
    closed_at: datetime | None
    lost_reason: int | None = Field(validation_alias="lost_reason_id")
    lost_note: str
    notes: str
    external_id: str
    created_at: datetime
    updated_at: datetime
    version: int


class DealDetailOut(DealOut):
    checkpoints: list[CheckpointOut]
    lines: list[LineOut]


class DealPage(Schema):
    items: list[DealOut]
    has_more: bool


class DealFields(Input):
    """Fields a deal's editors set. The defaults never reach the services: only the fields sent do."""

    title: str = Field("", min_length=1, max_length=200)
    company: RowId | None = None
    contact: RowId | None = None
    # Refused here: the services leave a negative amount to the database constraint's wordless message.
    amount: Annotated[Money, Field(ge=0)] | None = None
    currency: Currency = ""
    price_list: RowId | None = None
    owner: RowId = Field(0, description="A seller's id: managers keep their deals, heads assign within the team.")
    lead_source: RowId | None = None
    expected_close: date | None = None
    next_step: str = Field("", max_length=200)
    next_step_at: date | None = None
    notes: str = Field("", max_length=10_000)


class DealIn(DealFields):
    title: str = Field(min_length=1, max_length=200)
    pipeline: RowId | None = Field(None, description="Default: the first pipeline in use.")
    stage: RowId | None = Field(None, description="Default: the pipeline's first open stage.")


class DealPatch(DealFields):
    version: int


class DealFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0)
    pipeline: RowId | None = None
    stage: RowId | None = None
    status: StageKind | None = None
    owner: RowId | None = None
    company: RowId | None = None
    contact: RowId | None = None
    updated_since: datetime | None = Field(None, description="Deals changed at or after this moment.")


class MoveIn(Input):
    stage: RowId = Field(description="A stage of the deal's pipeline.")
    version: int
    lost_reason: RowId | None = Field(None, description="Required when the stage is a lost one.")
    lost_note: str = Field("", max_length=300)


class RegistrantIn(Input):
    registrant: RowId


class CheckpointIn(Input):
    done: bool


class LineIn(Input):
    product: RowId | None = Field(None, description="The product's id, or give its `sku` instead.")
    sku: str | None = Field(None, max_length=64)
    quantity: Quantity
    price: Money | None = Field(None, description="Default: the product's price in the deal's price list.")
    discount: Percent = Decimal(0)
    currency: Currency | None = Field(None, description="The price's currency, if given: it must be the deal's.")


class LinePatch(Input):
    quantity: Quantity | None = None
    price: Money | None = None
    discount: Percent | None = None
    currency: Currency | None = None


# ---- Helpers --------------------------------------------------------------------------------


def invalid_choice() -> str:
    # Django's own (translated) message for an id that is not among the choices.
    return str(ModelChoiceField.default_error_messages["invalid_choice"])


def _one[M: Model](rows: QuerySet[M], pk: int, field: str, message: str | None = None) -> M:
    found = rows.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: message or invalid_choice()})
    return found


def _related(by: User, data: dict[str, Any]) -> dict[str, Any]:
    """Turn the ids in a payload into the records the services take; null stays null (it clears the field)."""
    lookups: dict[str, tuple[QuerySet[Any], str | None]] = {
        # Clients answer like missing ones when out of sight, so ids reveal nothing.
        "company": (access.companies_visible_to(by), _("Choose a company you can see.")),
        "contact": (access.contacts_visible_to(by), _("Choose a person you can see.")),
        "owner": (access.people_visible_to(by), None),
        "pipeline": (Pipeline.objects.filter(is_active=True), None),
        "stage": (Stage.objects.filter(pipeline__is_active=True).select_related("pipeline"), None),
        "price_list": (PriceList.objects.all(), None),
        "lead_source": (LeadSource.objects.filter(is_active=True), None),
    }
    for field, (rows, message) in lookups.items():
        if data.get(field) is not None:
            data[field] = _one(rows, data[field], field, message)
    return data


def _may_not_change() -> str:
    return _("You may not change this deal: its owner, the owner's head and admins may.")


def _editable(by: User, deal: Deal) -> Deal:
    """Refuse early, so a caller without the right learns that before any complaint about the input."""
    if not access.can_edit_deal(by, deal):
        raise PermissionDenied(_may_not_change())
    return deal


def _detail(by: User, deal_id: int) -> Deal:
    deal = access.deal_for_user(by, deal_id)
    prefetch_related_objects(
        [deal],
        Prefetch("checkpoints", DealCheckpoint.objects.select_related("type")),
        Prefetch("lines", DealLine.objects.select_related("product")),
    )
    return deal


def _product(data: dict[str, Any]) -> Product:
    product_id, sku = data.pop("product", None), data.pop("sku", None)
    if (product_id is None) == (sku is None):
        raise ValidationError({"product": _("Give either the product's id or its SKU.")})
    if product_id is not None:
        return _one(Product.objects.all(), product_id, "product")
    found = Product.objects.filter(sku=sku.strip()).first()
    if found is None:
        raise ValidationError({"sku": _("No product has this SKU.")})
    return found


# ---- Pipelines and reasons ------------------------------------------------------------------


@router.get("/pipelines", response={200: list[PipelineOut], 401: Message}, tags=["pipelines"])
def pipeline_list(request: RapportRequest) -> QuerySet[Pipeline]:
    """Every pipeline with its stages, their gates and the checkpoint types — what a program needs to
    read and move deals. Four queries whatever the number of pipelines."""
    return Pipeline.objects.prefetch_related("stages__required_checkpoints", "checkpoint_types")


@router.get("/lost-reasons", response={200: list[LostReasonOut], 401: Message}, tags=["pipelines"])
def lost_reason_list(request: RapportRequest) -> QuerySet[LostReason]:
    """The reasons in use, for moving a deal to a lost stage."""
    return LostReason.objects.filter(is_active=True)


# ---- Deals ----------------------------------------------------------------------------------


@router.get("/deals", response={200: DealPage, 401: Message, 422: Invalid}, tags=["deals"])
def deal_list(request: RapportRequest, filters: Query[DealFilters]) -> dict[str, Any]:
    """A page of the deals the caller sees, the latest registered first: one query whatever the page size.

    ``has_more`` replaces a total: an exact COUNT(*) over many deals costs more than the page.
    """
    rows = access.deals_visible_to(request.user).select_related("stage")
    for field in ["pipeline", "stage", "owner", "company", "contact"]:
        if getattr(filters, field) is not None:
            rows = rows.filter(**{f"{field}_id": getattr(filters, field)})
    if filters.status is not None:
        rows = rows.filter(stage__kind=filters.status)
    if filters.updated_since is not None:
        since = filters.updated_since
        if timezone.is_naive(since):
            since = timezone.make_aware(since)
        rows = rows.filter(updated_at__gte=since)
    found = list(rows[filters.offset : filters.offset + filters.limit + 1])
    return {"items": found[: filters.limit], "has_more": len(found) > filters.limit}


@router.post("/deals", response={201: DealDetailOut, **WRITE_ERRORS}, tags=["deals"])
def deal_create(request: RapportRequest, payload: DealIn) -> Status[Deal]:
    """Register a deal: a title and a company or a person are enough; the caller is its registrant."""
    if not access.can_create_deals(request.user):
        raise PermissionDenied(_("Only managers, heads of sales, agents and admins register deals."))
    data = _related(request.user, payload.model_dump(exclude_unset=True))
    deal = services.deal_create(by=request.user, **data)
    return Status(201, _detail(request.user, deal.pk))


@router.get("/deals/{deal_id}", response={200: DealDetailOut, **READ_ERRORS}, tags=["deals"])
def deal_detail(request: RapportRequest, deal_id: int) -> Deal:
    """One deal, with its checkpoints and its lines (products)."""
    return _detail(request.user, deal_id)


@router.patch("/deals/{deal_id}", response={200: DealDetailOut, **UPDATE_ERRORS}, tags=["deals"])
def deal_update(request: RapportRequest, deal_id: int, payload: DealPatch) -> Deal:
    """Change the fields sent; ``version`` is required. Stages change through ``move``."""
    deal = _editable(request.user, access.deal_for_user(request.user, deal_id))
    changes = _related(request.user, payload.model_dump(exclude_unset=True))
    version = changes.pop("version")
    with refused_because(_may_not_change()):
        services.deal_update(by=request.user, deal=deal, version=version, **changes)
    return _detail(request.user, deal_id)


@router.delete("/deals/{deal_id}", response={204: None, **WRITE_ERRORS}, tags=["deals"])
def deal_delete(request: RapportRequest, deal_id: int) -> Status[None]:
    deal = _editable(request.user, access.deal_for_user(request.user, deal_id))
    with refused_because(_may_not_change()):
        services.deal_delete(by=request.user, deal=deal)
    return Status(204, None)


@router.post("/deals/{deal_id}/move", response={200: DealDetailOut, **UPDATE_ERRORS}, tags=["deals"])
def deal_move(request: RapportRequest, deal_id: int, payload: MoveIn) -> Deal:
    """Move the deal to another stage of its pipeline, through the stage's gate, as on the board.

    A gate that refuses answers 422 with a sentence naming everything the deal lacks; won and lost
    stages close the deal, and a lost one needs a ``lost_reason``.
    """
    deal = _editable(request.user, access.deal_for_user(request.user, deal_id))
    stage = _one(Stage.objects.select_related("pipeline"), payload.stage, "stage")
    reason = None
    if payload.lost_reason is not None:
        reason = _one(LostReason.objects.filter(is_active=True), payload.lost_reason, "lost_reason")
    with refused_because(_may_not_change()):
        services.deal_move_to_stage(
            by=request.user,
            deal=deal,
            stage=stage,
            version=payload.version,
            lost_reason=reason,
            lost_note=payload.lost_note,
        )
    return _detail(request.user, deal_id)


@router.put("/deals/{deal_id}/registrant", response={200: DealDetailOut, **WRITE_ERRORS}, tags=["deals"])
def deal_registrant_set(request: RapportRequest, deal_id: int, payload: RegistrantIn) -> Deal:
    """Correct who registered the deal (admins): the bonus rules credit the registrant."""
    deal = access.deal_for_user(request.user, deal_id)
    with refused_because(_("Only admins change who registered a deal.")):
        if not access.can_change_registrant(request.user):
            raise PermissionDenied
        registrant = _one(access.people_visible_to(request.user), payload.registrant, "registrant")
        services.deal_set_registrant(by=request.user, deal=deal, registrant=registrant)
    return _detail(request.user, deal_id)


@router.post(
    "/deals/{deal_id}/checkpoints/{checkpoint_id}",
    response={200: CheckpointOut, **WRITE_ERRORS},
    tags=["deals"],
)
def deal_checkpoint_set(
    request: RapportRequest, deal_id: int, checkpoint_id: int, payload: CheckpointIn
) -> DealCheckpoint:
    """Mark a checkpoint done (``true``) or not yet (``false``; refused while the deal's stage requires it)."""
    deal = _editable(request.user, access.deal_for_user(request.user, deal_id))
    checkpoint = get_object_or_404(DealCheckpoint.objects.select_related("deal"), pk=checkpoint_id, deal=deal)
    with refused_because(_may_not_change()):
        services.deal_checkpoint_set(by=request.user, checkpoint=checkpoint, done=payload.done)
    return DealCheckpoint.objects.select_related("type").get(pk=checkpoint_id)


# ---- Lines ----------------------------------------------------------------------------------


@router.post("/deals/{deal_id}/lines", response={201: LineOut, **WRITE_ERRORS}, tags=["deals"])
def deal_line_add(request: RapportRequest, deal_id: int, payload: LineIn) -> Status[DealLine]:
    """Add a product to the deal; the deal's amount becomes the sum of its lines."""
    deal = _editable(request.user, access.deal_for_user(request.user, deal_id))
    data = payload.model_dump(exclude_unset=True)
    product = _product(data)
    with refused_because(_may_not_change()):
        line = services.deal_line_add(by=request.user, deal=deal, product=product, **data)
    return Status(201, DealLine.objects.select_related("product").get(pk=line.pk))


def _line(by: User, deal_id: int, line_id: int) -> DealLine:
    deal = _editable(by, access.deal_for_user(by, deal_id))
    return get_object_or_404(DealLine.objects.select_related("deal", "product"), pk=line_id, deal=deal)


@router.patch("/deals/{deal_id}/lines/{line_id}", response={200: LineOut, **WRITE_ERRORS}, tags=["deals"])
def deal_line_update(request: RapportRequest, deal_id: int, line_id: int, payload: LinePatch) -> DealLine:
    line = _line(request.user, deal_id, line_id)
    with refused_because(_may_not_change()):
        services.deal_line_update(by=request.user, line=line, **payload.model_dump(exclude_unset=True))
    return DealLine.objects.select_related("product").get(pk=line_id)


@router.delete("/deals/{deal_id}/lines/{line_id}", response={204: None, **WRITE_ERRORS}, tags=["deals"])
def deal_line_remove(request: RapportRequest, deal_id: int, line_id: int) -> Status[None]:
    line = _line(request.user, deal_id, line_id)
    with refused_because(_may_not_change()):
        services.deal_line_remove(by=request.user, line=line)
    return Status(204, None)

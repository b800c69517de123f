"""The client base over HTTP (/api/v1/): the same access policy and services as the screens.

Reads go through ``accounts.access`` (a client out of scope, or in the trash, answers 404);
writes through ``clients.services``, whose ValidationError and PermissionDenied the API
turns into 422 (409 for a stale version) and 403 (see ``rapport.api.api``). The services
refuse without words; the endpoints here add the reason a caller reads in the 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import ModelChoiceField
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.api.schemas import READ_ERRORS, UPDATE_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients import queries, services
from rapport.clients.models import (
    ClientStatus,
    ClientTransfer,
    Company,
    Contact,
    ContactPoint,
    ContactPointKind,
    LeadSource,
)
from rapport.clients.search import find_clients
from rapport.clients.services import AnyClient, PointInput
from rapport.core.http import RapportRequest

router = Router()

# A row id as the database can hold it: a larger number in a filter would overflow the driver (a 500).
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]

# ---- Schemas --------------------------------------------------------------------------------


class PointOut(Schema):
    id: int
    kind: ContactPointKind
    value: str
    normalized: str
    label: str
    is_primary: bool


class ClientOut(Schema):
    id: int
    tax_id: str
    industry: str
    address: str
    website: str
    notes: str
    status: ClientStatus
    # Related records are given by id, under the same names the inputs and filters use.
    owner: int | None = Field(validation_alias="owner_id")
    registrant: int | None = Field(validation_alias="registrant_id")
    lead_source: int | None = Field(validation_alias="lead_source_id")
    consent_email: bool
    consent_sms: bool
    last_contact_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    points: list[PointOut]
    tags: list[str] = Field(description="Tag names, in alphabetical order.")

    @staticmethod
    def resolve_tags(obj: Company | Contact) -> list[str]:
        # Sorted here: the database's collation would order "VIP" and "export" differently per engine.
        return sorted((tag.name for tag in obj.tags.all()), key=str.lower)


class CompanyOut(ClientOut):
    name: str


class ContactOut(ClientOut):
    last_name: str
    first_name: str
    middle_name: str
    position: str
    company: int | None = Field(validation_alias="company_id")
    birthday: date | None


class CompanyPage(Schema):
    items: list[CompanyOut]
    has_more: bool


class ContactPage(Schema):
    items: list[ContactOut]
    has_more: bool


class Input(Schema):
    # "  " is no name: blanks are trimmed before the length checks. An unknown field (a typo, or
    # "owner" in a PATCH — transfers are their own action) is refused rather than silently dropped.
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class PointIn(Input):
    kind: ContactPointKind
    value: str = Field(max_length=254)
    label: str = Field("", max_length=30)
    is_primary: bool = False


class ClientFields(Input):
    """Fields both kinds share. The defaults never reach the services: only the fields sent do."""

    tax_id: str = Field("", max_length=32)
    industry: str = Field("", max_length=100)
    address: str = Field("", max_length=300)
    website: str = Field("", max_length=200)
    notes: str = Field("", max_length=10_000)
    status: ClientStatus = ClientStatus.ACTIVE
    lead_source: RowId | None = None
    consent_email: bool = False
    consent_sms: bool = False


class CompanyFields(ClientFields):
    name: str = Field("", min_length=1, max_length=200)


class ContactFields(ClientFields):
    last_name: str = Field("", max_length=100)
    first_name: str = Field("", max_length=100)
    middle_name: str = Field("", max_length=100)
    position: str = Field("", max_length=100)
    company: RowId | None = None
    birthday: date | None = None


class NewClient(Input):
    owner: RowId | None = None
    points: list[PointIn] = Field(default_factory=list, max_length=20)


class CompanyIn(CompanyFields, NewClient):
    name: str = Field(min_length=1, max_length=200)


class ContactIn(ContactFields, NewClient):
    pass


class CompanyPatch(CompanyFields):
    version: int


class ContactPatch(ContactFields):
    version: int


class ClientFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0)
    owner: RowId | None = None
    status: ClientStatus | None = None
    q: str = Field("", max_length=100)


class TransferIn(Input):
    # Required, though it may be null: a forgotten field must not send a client to the pool.
    to_user: RowId | None = Field(description="The new owner's id, or null for the shared pool.")
    reason: str = Field("", max_length=300)


class TransferOut(Schema):
    """A row of the transfer log."""

    id: int
    from_user: int | None = Field(validation_alias="from_user_id")
    to_user: int | None = Field(validation_alias="to_user_id")
    by: int | None = Field(validation_alias="by_id")
    at: datetime
    reason: str


class TagsIn(Input):
    # The services check each name (at most 50 characters, blanks ignored, case-insensitive match);
    # the bounds here only keep a request to a sane size.
    tags: list[Annotated[str, Field(max_length=200)]] = Field(
        max_length=100, description="The client's tags from now on: names of existing or new tags."
    )


class TrashFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0)
    kind: Literal["company", "contact"] | None = None


class TrashItem(Schema):
    kind: Literal["company", "contact"]
    id: int
    name: str = Field(validation_alias="display_name")
    owner: int | None = Field(validation_alias="owner_id")
    deleted_at: datetime
    deleted_by: int | None = Field(validation_alias="deleted_by_id")


class TrashPage(Schema):
    items: list[TrashItem]
    has_more: bool


# ---- Helpers --------------------------------------------------------------------------------


def _page[M: (Company, Contact)](rows: QuerySet[M], filters: ClientFilters) -> dict[str, Any]:
    """One page, in the list's order or, with ``q``, in the order search finds them.

    Without ``q`` it costs three queries (the rows, their contact points, their tags) whatever the page size.
    ``has_more`` replaces a total: an exact COUNT(*) over a large base costs more than the page.
    """
    if filters.owner is not None:
        rows = rows.filter(owner_id=filters.owner)
    if filters.status:
        rows = rows.filter(status=filters.status)
    rows = rows.prefetch_related("points", "tags")
    end = filters.offset + filters.limit
    if filters.q.strip():
        found = find_clients(rows, filters.q, limit=end + 1)[filters.offset :]
    else:
        found = list(rows[filters.offset : end + 1])
    return {"items": found[: filters.limit], "has_more": len(found) > filters.limit}


def _invalid_choice() -> str:
    # Django's own (translated) message for an id that is not among the choices.
    return str(ModelChoiceField.default_error_messages["invalid_choice"])


def _owner(by: User, owner_id: int | None, *, field: str = "owner") -> User | None:
    if owner_id is None:
        return None
    owner = access.people_visible_to(by).filter(pk=owner_id).first()
    if owner is None:
        raise ValidationError({field: _invalid_choice()})
    return owner


@contextmanager
def refused_because(reason: str) -> Iterator[None]:
    """Give a service's wordless refusal the reason a caller reads in the 403."""
    try:
        yield
    except PermissionDenied as error:
        if str(error):
            raise
        raise PermissionDenied(reason) from error


def _may_not_change() -> str:
    return _(
        "You may not change this client: its owner, the owner's head, operators and admins may "
        "(a client in the pool is taken from it first)."
    )


def _related(by: User, data: dict[str, Any]) -> dict[str, Any]:
    """Turn the ids in a payload into the records the services take."""
    if data.get("lead_source") is not None:
        data["lead_source"] = LeadSource.objects.filter(is_active=True, pk=data["lead_source"]).first()
        if data["lead_source"] is None:
            raise ValidationError({"lead_source": _invalid_choice()})
    if data.get("company") is not None:
        # Only a visible company: an invisible one answers like a missing one, so ids reveal nothing.
        data["company"] = access.companies_visible_to(by).filter(pk=data["company"]).first()
        if data["company"] is None:
            raise ValidationError({"company": _("Choose a company you can see.")})
    return data


def _create_args(by: User, payload: CompanyIn | ContactIn) -> dict[str, Any]:
    data = _related(by, payload.model_dump(exclude_unset=True))
    data["owner"] = _owner(by, data.get("owner"))
    data["points"] = [PointInput(**point) for point in data.get("points", [])]
    return data


def _update(by: User, client: AnyClient, payload: CompanyPatch | ContactPatch) -> AnyClient:
    changes = _related(by, payload.model_dump(exclude_unset=True))
    version = changes.pop("version")
    with refused_because(_may_not_change()):
        return services.client_update(by=by, client=client, version=version, **changes)


def _delete(by: User, client: AnyClient) -> Status[None]:
    reason = _("You may not delete this client: its owner, the owner's head, operators and admins may; agents may not.")
    with refused_because(reason):
        services.client_delete(by=by, client=client)
    return Status(204, None)


def _points_refusal() -> str:
    return _("You may not change this client's phones, e-mails and messengers.")


def _add_point(by: User, client: AnyClient, payload: PointIn) -> Status[ContactPoint]:
    with refused_because(_points_refusal()):
        point = services.contact_point_add(by=by, client=client, point=PointInput(**payload.model_dump()))
    return Status(201, point)


def _remove_point(by: User, point: ContactPoint) -> Status[None]:
    with refused_because(_points_refusal()):
        services.contact_point_remove(by=by, point=point)
    return Status(204, None)


def _transfer(by: User, client: AnyClient, payload: TransferIn) -> ClientTransfer:
    with refused_because(_("Only admins, and heads within their own team, give clients to another owner.")):
        # Asked before the new owner is looked up, so a caller without the right learns that first.
        if not access.can_transfer_client(by, client):
            raise PermissionDenied
        to_user = _owner(by, payload.to_user, field="to_user")
        try:
            return services.client_transfer(by=by, client=client, to_user=to_user, reason=payload.reason)
        except ValidationError as error:
            # The services name the field "owner"; this endpoint's field is "to_user".
            if hasattr(error, "error_dict") and "owner" in error.error_dict:
                raise ValidationError({"to_user": error.message_dict["owner"]}) from error
            raise


def _take(by: User, client: AnyClient) -> None:
    # The shared pool's rules (the weekly limit) are supervision's: a claim goes through them from anywhere.
    from rapport.supervision.pool import pool_claim

    with refused_because(_("Only managers and heads of sales take clients from the pool.")):
        pool_claim(by=by, client=client)


def _tags_set(by: User, client: AnyClient, payload: TagsIn) -> None:
    with refused_because(_may_not_change()):
        services.client_tags_set(by=by, client=client, names=payload.tags)


def _restore(by: User, model: type[Company] | type[Contact], client_id: int) -> None:
    """Bring a client back from the trash; only admins see the trash, whatever the id (so it reveals nothing)."""
    with refused_because(_("Only admins restore clients from the trash.")):
        if not access.can_see_trash(by):
            raise PermissionDenied
        client: AnyClient = get_object_or_404(model.objects.deleted(), pk=client_id)  # type: ignore[assignment]
        services.client_restore(by=by, client=client)


# ---- Companies ------------------------------------------------------------------------------


@router.get("/companies", response={200: CompanyPage, 401: Message, 422: Invalid}, tags=["companies"])
def company_list(request: RapportRequest, filters: Query[ClientFilters]) -> dict[str, Any]:
    return _page(access.companies_visible_to(request.user), filters)


@router.post("/companies", response={201: CompanyOut, **WRITE_ERRORS}, tags=["companies"])
def company_create(request: RapportRequest, payload: CompanyIn) -> Status[Company]:
    return Status(201, services.company_create(by=request.user, **_create_args(request.user, payload)))


@router.get("/companies/{company_id}", response={200: CompanyOut, **READ_ERRORS}, tags=["companies"])
def company_detail(request: RapportRequest, company_id: int) -> Company:
    return access.company_for_user(request.user, company_id)


@router.patch("/companies/{company_id}", response={200: CompanyOut, **UPDATE_ERRORS}, tags=["companies"])
def company_update(request: RapportRequest, company_id: int, payload: CompanyPatch) -> AnyClient:
    return _update(request.user, access.company_for_user(request.user, company_id), payload)


@router.delete("/companies/{company_id}", response={204: None, **WRITE_ERRORS}, tags=["companies"])
def company_delete(request: RapportRequest, company_id: int) -> Status[None]:
    return _delete(request.user, access.company_for_user(request.user, company_id))


@router.post("/companies/{company_id}/points", response={201: PointOut, **WRITE_ERRORS}, tags=["companies"])
def company_point_add(request: RapportRequest, company_id: int, payload: PointIn) -> Status[ContactPoint]:
    return _add_point(request.user, access.company_for_user(request.user, company_id), payload)


@router.delete("/companies/{company_id}/points/{point_id}", response={204: None, **WRITE_ERRORS}, tags=["companies"])
def company_point_remove(request: RapportRequest, company_id: int, point_id: int) -> Status[None]:
    company = access.company_for_user(request.user, company_id)
    return _remove_point(request.user, get_object_or_404(ContactPoint, pk=point_id, company=company))


@router.post("/companies/{company_id}/transfer", response={200: TransferOut, **WRITE_ERRORS}, tags=["companies"])
def company_transfer(request: RapportRequest, company_id: int, payload: TransferIn) -> ClientTransfer:
    """Give the company to another owner (`to_user`), or to nobody — into the shared pool (`null`)."""
    return _transfer(request.user, access.company_for_user(request.user, company_id), payload)


@router.post("/companies/{company_id}/take", response={200: CompanyOut, **WRITE_ERRORS}, tags=["companies"])
def company_take(request: RapportRequest, company_id: int) -> Company:
    """Take a company from the shared pool: it becomes the caller's, and active."""
    _take(request.user, access.company_for_user(request.user, company_id))
    return access.company_for_user(request.user, company_id)


@router.put("/companies/{company_id}/tags", response={200: CompanyOut, **WRITE_ERRORS}, tags=["companies"])
def company_tags_set(request: RapportRequest, company_id: int, payload: TagsIn) -> Company:
    """Make the company's tags exactly these; unknown names become new tags."""
    _tags_set(request.user, access.company_for_user(request.user, company_id), payload)
    return access.company_for_user(request.user, company_id)


@router.post("/companies/{company_id}/restore", response={200: CompanyOut, **WRITE_ERRORS}, tags=["trash"])
def company_restore(request: RapportRequest, company_id: int) -> Company:
    """Bring a deleted company back from the trash (admins)."""
    _restore(request.user, Company, company_id)
    return access.company_for_user(request.user, company_id)


# ---- Contacts -------------------------------------------------------------------------------


@router.get("/contacts", response={200: ContactPage, 401: Message, 422: Invalid}, tags=["contacts"])
def contact_list(request: RapportRequest, filters: Query[ClientFilters]) -> dict[str, Any]:
    return _page(access.contacts_visible_to(request.user), filters)


@router.post("/contacts", response={201: ContactOut, **WRITE_ERRORS}, tags=["contacts"])
def contact_create(request: RapportRequest, payload: ContactIn) -> Status[Contact]:
    return Status(201, services.contact_create(by=request.user, **_create_args(request.user, payload)))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **READ_ERRORS}, tags=["contacts"])
def contact_detail(request: RapportRequest, contact_id: int) -> Contact:
    return access.contact_for_user(request.user, contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **UPDATE_ERRORS}, tags=["contacts"])
def contact_update(request: RapportRequest, contact_id: int, payload: ContactPatch) -> AnyClient:
    return _update(request.user, access.contact_for_user(request.user, contact_id), payload)


@router.delete("/contacts/{contact_id}", response={204: None, **WRITE_ERRORS}, tags=["contacts"])
def contact_delete(request: RapportRequest, contact_id: int) -> Status[None]:
    return _delete(request.user, access.contact_for_user(request.user, contact_id))


@router.post("/contacts/{contact_id}/points", response={201: PointOut, **WRITE_ERRORS}, tags=["contacts"])
def contact_point_add(request: RapportRequest, contact_id: int, payload: PointIn) -> Status[ContactPoint]:
    return _add_point(request.user, access.contact_for_user(request.user, contact_id), payload)


@router.delete("/contacts/{contact_id}/points/{point_id}", response={204: None, **WRITE_ERRORS}, tags=["contacts"])
def contact_point_remove(request: RapportRequest, contact_id: int, point_id: int) -> Status[None]:
    contact = access.contact_for_user(request.user, contact_id)
    return _remove_point(request.user, get_object_or_404(ContactPoint, pk=point_id, contact=contact))


@router.post("/contacts/{contact_id}/transfer", response={200: TransferOut, **WRITE_ERRORS}, tags=["contacts"])
def contact_transfer(request: RapportRequest, contact_id: int, payload: TransferIn) -> ClientTransfer:
    """Give the contact to another owner (`to_user`), or to nobody — into the shared pool (`null`)."""
    return _transfer(request.user, access.contact_for_user(request.user, contact_id), payload)


@router.post("/contacts/{contact_id}/take", response={200: ContactOut, **WRITE_ERRORS}, tags=["contacts"])
def contact_take(request: RapportRequest, contact_id: int) -> Contact:
    """Take a contact from the shared pool: it becomes the caller's, and active."""
    _take(request.user, access.contact_for_user(request.user, contact_id))
    return access.contact_for_user(request.user, contact_id)


@router.put("/contacts/{contact_id}/tags", response={200: ContactOut, **WRITE_ERRORS}, tags=["contacts"])
def contact_tags_set(request: RapportRequest, contact_id: int, payload: TagsIn) -> Contact:
    """Make the contact's tags exactly these; unknown names become new tags."""
    _tags_set(request.user, access.contact_for_user(request.user, contact_id), payload)
    return access.contact_for_user(request.user, contact_id)


@router.post("/contacts/{contact_id}/restore", response={200: ContactOut, **WRITE_ERRORS}, tags=["trash"])
def contact_restore(request: RapportRequest, contact_id: int) -> Contact:
    """Bring a deleted contact back from the trash (admins)."""
    _restore(request.user, Contact, contact_id)
    return access.contact_for_user(request.user, contact_id)


# ---- Trash ----------------------------------------------------------------------------------


@router.get("/trash", response={200: TrashPage, 401: Message, 403: Message, 422: Invalid}, tags=["trash"])
def trash(request: RapportRequest, filters: Query[TrashFilters]) -> dict[str, Any]:
    """Deleted companies and contacts, the latest deleted first (admins).

    Two queries (one a kind), each reading at most ``offset + limit + 1`` rows, merged here.
    """
    if not access.can_see_trash(request.user):
        raise PermissionDenied(_("Only admins see the trash."))
    # One row more than asked for says whether there is a next page.
    deleted = queries.trash_rows(limit=filters.limit + 1, offset=filters.offset, kind=filters.kind)
    return {"items": deleted[: filters.limit], "has_more": len(deleted) > filters.limit}

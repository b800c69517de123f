"""The client base over HTTP (/api/v1/): the same access policy and services as the screens.

Reads go through ``accounts.access`` (a client out of scope answers 404); writes through
``clients.services``, whose ValidationError and PermissionDenied the API turns into 422
and 403 (see ``rapport.api.api``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelChoiceField
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import ClientStatus, Company, Contact, ContactPoint, ContactPointKind, LeadSource
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


# ---- Helpers --------------------------------------------------------------------------------


def _page[M: (Company, Contact)](rows: QuerySet[M], filters: ClientFilters) -> dict[str, Any]:
    """One page, in the list's order or, with ``q``, in the order search finds them.

    Without ``q`` it costs two queries (the rows, their contact points) whatever the page size.
    ``has_more`` replaces a total: an exact COUNT(*) over a large base costs more than the page.
    """
    if filters.owner is not None:
        rows = rows.filter(owner_id=filters.owner)
    if filters.status:
        rows = rows.filter(status=filters.status)
    rows = rows.prefetch_related("points")
    end = filters.offset + filters.limit
    if filters.q.strip():
        found = find_clients(rows, filters.q, limit=end + 1)[filters.offset :]
    else:
        found = list(rows[filters.offset : end + 1])
    return {"items": found[: filters.limit], "has_more": len(found) > filters.limit}


def _invalid_choice() -> str:
    # Django's own (translated) message for an id that is not among the choices.
    return str(ModelChoiceField.default_error_messages["invalid_choice"])


def _owner(by: User, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = access.people_visible_to(by).filter(pk=owner_id).first()
    if owner is None:
        raise ValidationError({"owner": _invalid_choice()})
    return owner


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
    return services.client_update(by=by, client=client, version=version, **changes)


def _add_point(by: User, client: AnyClient, payload: PointIn) -> Status[ContactPoint]:
    point = services.contact_point_add(by=by, client=client, point=PointInput(**payload.model_dump()))
    return Status(201, point)


# ---- Companies ------------------------------------------------------------------------------


@router.get("/companies", response=CompanyPage, tags=["companies"])
def company_list(request: RapportRequest, filters: Query[ClientFilters]) -> dict[str, Any]:
    return _page(access.companies_visible_to(request.user), filters)


@router.post("/companies", response={201: CompanyOut}, tags=["companies"])
def company_create(request: RapportRequest, payload: CompanyIn) -> Status[Company]:
    return Status(201, services.company_create(by=request.user, **_create_args(request.user, payload)))


@router.get("/companies/{company_id}", response=CompanyOut, tags=["companies"])
def company_detail(request: RapportRequest, company_id: int) -> Company:
    return access.company_for_user(request.user, company_id)


@router.patch("/companies/{company_id}", response=CompanyOut, tags=["companies"])
def company_update(request: RapportRequest, company_id: int, payload: CompanyPatch) -> AnyClient:
    return _update(request.user, access.company_for_user(request.user, company_id), payload)


@router.delete("/companies/{company_id}", response={204: None}, tags=["companies"])
def company_delete(request: RapportRequest, company_id: int) -> Status[None]:
    services.client_delete(by=request.user, client=access.company_for_user(request.user, company_id))
    return Status(204, None)


@router.post("/companies/{company_id}/points", response={201: PointOut}, tags=["companies"])
def company_point_add(request: RapportRequest, company_id: int, payload: PointIn) -> Status[ContactPoint]:
    return _add_point(request.user, access.company_for_user(request.user, company_id), payload)


@router.delete("/companies/{company_id}/points/{point_id}", response={204: None}, tags=["companies"])
def company_point_remove(request: RapportRequest, company_id: int, point_id: int) -> Status[None]:
    company = access.company_for_user(request.user, company_id)
    point = get_object_or_404(ContactPoint, pk=point_id, company=company)
    services.contact_point_remove(by=request.user, point=point)
    return Status(204, None)


# ---- Contacts -------------------------------------------------------------------------------


@router.get("/contacts", response=ContactPage, tags=["contacts"])
def contact_list(request: RapportRequest, filters: Query[ClientFilters]) -> dict[str, Any]:
    return _page(access.contacts_visible_to(request.user), filters)


@router.post("/contacts", response={201: ContactOut}, tags=["contacts"])
def contact_create(request: RapportRequest, payload: ContactIn) -> Status[Contact]:
    return Status(201, services.contact_create(by=request.user, **_create_args(request.user, payload)))


@router.get("/contacts/{contact_id}", response=ContactOut, tags=["contacts"])
def contact_detail(request: RapportRequest, contact_id: int) -> Contact:
    return access.contact_for_user(request.user, contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut, tags=["contacts"])
def contact_update(request: RapportRequest, contact_id: int, payload: ContactPatch) -> AnyClient:
    return _update(request.user, access.contact_for_user(request.user, contact_id), payload)


@router.delete("/contacts/{contact_id}", response={204: None}, tags=["contacts"])
def contact_delete(request: RapportRequest, contact_id: int) -> Status[None]:
    services.client_delete(by=request.user, client=access.contact_for_user(request.user, contact_id))
    return Status(204, None)


@router.post("/contacts/{contact_id}/points", response={201: PointOut}, tags=["contacts"])
def contact_point_add(request: RapportRequest, contact_id: int, payload: PointIn) -> Status[ContactPoint]:
    return _add_point(request.user, access.contact_for_user(request.user, contact_id), payload)


@router.delete("/contacts/{contact_id}/points/{point_id}", response={204: None}, tags=["contacts"])
def contact_point_remove(request: RapportRequest, contact_id: int, point_id: int) -> Status[None]:
    contact = access.contact_for_user(request.user, contact_id)
    point = get_object_or_404(ContactPoint, pk=point_id, contact=contact)
    services.contact_point_remove(by=request.user, point=point)
    return Status(204, None)

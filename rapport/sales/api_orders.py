"""Orders over HTTP (/api/v1/orders, /api/v1/deals/{id}/order): what purchase regularity is read from.

The same rules as the client card: an order is read by whoever sees its client (one out of
sight answers 404, like a missing one) and written through ``sales.orders`` by whoever may
edit the client, so a negative amount or a date far off is refused here exactly as in the form.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts import access
from rapport.api.schemas import WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, RowId, refused_because
from rapport.core.http import RapportRequest
from rapport.sales import orders
from rapport.sales.models import Order
from rapport.sales.orders import AnyClient

router = Router(tags=["orders"])

# Signs and bounds are the service's to refuse, in words; here only what makes a number at all.
Amount = Annotated[Decimal, Field(allow_inf_nan=False, description="0 or more, at most two decimals.")]
Volume = Annotated[
    Decimal, Field(allow_inf_nan=False, description="In the client's unit (pallets, tonnes…): 0 or more.")
]


class OrderOut(Schema):
    id: int
    company: int | None = Field(validation_alias="company_id")
    contact: int | None = Field(validation_alias="contact_id")
    on: date
    amount: Decimal
    currency: str
    volume: Decimal | None
    deal: int | None = Field(validation_alias="deal_id", description="The won deal it was recorded from.")
    external_id: str
    created_by: int | None = Field(validation_alias="created_by_id")
    created_at: datetime
    updated_at: datetime


class OrderPage(Schema):
    items: list[OrderOut]
    has_more: bool


class OrderFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)
    company: RowId | None = None
    contact: RowId | None = None
    since: date | None = Field(None, alias="from", description="Orders on or after this day.")
    until: date | None = Field(None, alias="to", description="Orders on or before this day.")


class OrderFields(Input):
    on: date
    amount: Amount
    currency: str = Field("", max_length=10, description="Default: the company's currency.")
    volume: Volume | None = None


class OrderIn(OrderFields):
    company: RowId | None = Field(None, description="The client: a company or a `contact`, not both.")
    contact: RowId | None = None
    external_id: str = Field(
        "", max_length=100, description="Your system's number for it; one already recorded is refused."
    )


class DealOrderIn(Input):
    volume: Volume | None = None


def _may_not_record() -> str:
    return _("You may not record orders for this client: its owner, the owner's head, operators and admins may.")


def _client(request: RapportRequest, company: int | None, contact: int | None) -> AnyClient:
    # A client out of sight answers like a missing one, so ids reveal nothing.
    if company is not None and contact is None:
        found: AnyClient | None = (
            access.companies_visible_to(request.user).select_related("owner").filter(pk=company).first()
        )
        if found is None:
            raise ValidationError({"company": _("Choose a company you can see.")})
        return found
    if contact is None or company is not None:
        raise ValidationError({"company": _("Give the client: a company or a contact, not both.")})
    found = access.contacts_visible_to(request.user).select_related("owner").filter(pk=contact).first()
    if found is None:
        raise ValidationError({"contact": _("Choose a person you can see.")})
    return found


@router.get("/orders", response={200: OrderPage, 401: Message, 422: Invalid})
def order_list(request: RapportRequest, filters: Query[OrderFilters]) -> dict[str, Any]:
    """A page of the orders of the clients the caller sees, the latest first: one query whatever the page size."""
    rows = access.orders_visible_to(request.user)
    if filters.company is not None:
        rows = rows.filter(company_id=filters.company)
    if filters.contact is not None:
        rows = rows.filter(contact_id=filters.contact)
    if filters.since is not None:
        rows = rows.filter(on__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(on__lte=filters.until)
    found = list(rows.order_by("-on", "-id")[filters.offset : filters.offset + filters.limit + 1])
    return {"items": found[: filters.limit], "has_more": len(found) > filters.limit}


@router.post("/orders", response={201: OrderOut, **WRITE_ERRORS})
def order_create(request: RapportRequest, payload: OrderIn) -> Status[Order]:
    """Record an order of a `company` or a `contact`: its date (`on`), `amount` and, if known, `volume`."""
    client = _client(request, payload.company, payload.contact)
    if not access.can_record_orders(request.user, client):
        raise PermissionDenied(_may_not_record())
    order = orders.order_create(
        by=request.user,
        client=client,
        on=payload.on,
        amount=payload.amount,
        currency=payload.currency or None,
        volume=payload.volume,
        external_id=payload.external_id,
    )
    return Status(201, order)


@router.put("/orders/{order_id}", response={200: OrderOut, **WRITE_ERRORS})
def order_update(request: RapportRequest, order_id: int, payload: OrderFields) -> Order:
    """Replace an order's date, amount, currency and volume (left out: the company's currency, no volume)."""
    order = access.order_for_user(request.user, order_id)
    with refused_because(_may_not_record()):
        return orders.order_update(
            by=request.user,
            order=order,
            on=payload.on,
            amount=payload.amount,
            currency=payload.currency or None,
            volume=payload.volume,
        )


@router.delete("/orders/{order_id}", response={204: None, **WRITE_ERRORS})
def order_delete(request: RapportRequest, order_id: int) -> Status[None]:
    order = access.order_for_user(request.user, order_id)
    with refused_because(_may_not_record()):
        orders.order_delete(by=request.user, order=order)
    return Status(204, None)


@router.post("/deals/{deal_id}/order", response={201: OrderOut, **WRITE_ERRORS})
def deal_order_create(request: RapportRequest, deal_id: int, payload: DealOrderIn) -> Status[Order]:
    """Record a won deal's order: its amount and currency, dated the day it was won. One per deal; an open or
    lost deal, or a deal without an amount, answers 422."""
    deal = access.deal_for_user(request.user, deal_id)
    with refused_because(_may_not_record()):
        order = orders.order_from_deal(by=request.user, deal=deal, volume=payload.volume)
    return Status(201, order)

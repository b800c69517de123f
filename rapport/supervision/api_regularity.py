"""Purchase regularity over HTTP: the overdue clients in the caller's scope, and a client's rhythm.

A client's rhythm is read by whoever sees the client (one out of sight answers 404) and set
by whoever may edit it, through ``supervision.regularity.regularity_set`` as on the card.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from rapport.accounts import access
from rapport.api.schemas import READ_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, refused_because
from rapport.core.http import RapportRequest
from rapport.supervision import regularity
from rapport.supervision.models import Regularity
from rapport.supervision.regularity import AnyClient

router = Router(tags=["regularity"])


class ClientRef(Schema):
    kind: str = Field(description="`company` or `contact`.")
    id: int
    name: str
    owner: int | None


class AlertOut(Schema):
    client: ClientRef
    interval_days: int = Field(description="The interval in force: set by hand, else learned.")
    last_order_on: date
    overdue_since: date = Field(description="The first day past the interval plus the policy's margin.")
    days_since_last_order: int
    notified_on: date | None = Field(description="When the owner and their head were told (once a spell).")


class AlertPage(Schema):
    items: list[AlertOut]
    has_more: bool


class AlertFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)


class MonthOut(Schema):
    month: str = Field(description="YYYY-MM.")
    volume: Decimal
    orders: int


class RegularityOut(Schema):
    client: ClientRef
    learned_days: int | None = Field(description="The median gap between the latest orders; null below 3 orders.")
    set_days: int | None = Field(description="Set by hand; wins over the learned one.")
    interval_days: int | None
    monthly_volume_target: Decimal | None
    last_order_on: date | None
    overdue_since: date | None
    months: list[MonthOut] = Field(description="The last 12 months' shipped volume, the current month last.")


class RegularityIn(Input):
    set_days: int | None = Field(description="Days, 1–3650; null to learn the interval from the orders.")
    monthly_volume_target: Annotated[Decimal, Field(allow_inf_nan=False)] | None = Field(
        description="In the client's unit; null for none."
    )


def _ref(client: AnyClient) -> dict[str, Any]:
    return {"kind": client.kind, "id": client.pk, "name": client.display_name, "owner": client.owner_id}


def _client(request: RapportRequest, kind: str, client_id: int) -> AnyClient:
    if kind == "company":
        return access.company_for_user(request.user, client_id)
    if kind == "contact":
        return access.contact_for_user(request.user, client_id)
    raise Http404


def _out(client: AnyClient, row: Regularity | None) -> dict[str, Any]:
    history = regularity.volume_by_month(client)
    return {
        "client": _ref(client),
        "learned_days": row.learned_days if row else None,
        "set_days": row.set_days if row else None,
        "interval_days": row.interval_days if row else None,
        "monthly_volume_target": row.monthly_volume_target if row else None,
        "last_order_on": history.last_order_on or (row.last_order_on if row else None),
        "overdue_since": row.overdue_since if row else None,
        "months": [
            {"month": f"{month.month:%Y-%m}", "volume": month.volume, "orders": month.orders}
            for month in history.months
        ],
    }


@router.get("/regularity/alerts", response={200: AlertPage, 401: Message, 422: Invalid})
def regularity_alerts(request: RapportRequest, filters: Query[AlertFilters]) -> dict[str, Any]:
    """The overdue clients the caller sees (a manager their own, a head their team's, admins everyone's), the
    longest overdue first. A client with an order since the last check is no longer listed."""
    today = timezone.localdate()
    visible = access.regularities_visible_to(request.user).values("pk")
    rows = list(
        regularity.overdue_rows(today)
        .filter(pk__in=visible)
        .select_related("company", "contact")
        .order_by("overdue_since", "pk")[filters.offset : filters.offset + filters.limit + 1]
    )
    items = []
    for row in rows[: filters.limit]:
        client = regularity.client_of(row)
        assert row.last_order_on is not None
        items.append(
            {
                "client": _ref(client),
                "interval_days": row.interval_days,
                "last_order_on": row.last_order_on,
                "overdue_since": row.overdue_since,
                "days_since_last_order": (today - row.last_order_on).days,
                "notified_on": row.notified_on,
            }
        )
    return {"items": items, "has_more": len(rows) > filters.limit}


@router.get("/clients/{kind}/{client_id}/regularity", response={200: RegularityOut, **READ_ERRORS})
def client_regularity(request: RapportRequest, kind: str, client_id: int) -> dict[str, Any]:
    """A client's buying rhythm and its last 12 months' volume; `kind` is `company` or `contact`."""
    client = _client(request, kind, client_id)
    return _out(client, regularity.regularity_of(client))


@router.put("/clients/{kind}/{client_id}/regularity", response={200: RegularityOut, **WRITE_ERRORS})
def client_regularity_set(request: RapportRequest, kind: str, client_id: int, payload: RegularityIn) -> dict[str, Any]:
    """Set the interval by hand (`set_days`, null to learn it) and the monthly volume target (null for none)."""
    client = _client(request, kind, client_id)
    reason = _("You may not change this client's rhythm: its owner, the owner's head, operators and admins may.")
    with refused_because(reason):
        row = regularity.regularity_set(
            by=request.user,
            client=client,
            set_days=payload.set_days,
            monthly_volume_target=payload.monthly_volume_target,
        )
    return _out(client, row)

"""The shared pool over HTTP (/api/v1/pool): its clients, claims, and the weekly limit.

The same rules as the pool's page: everyone who sees the pool's clients reads it (outside agents
get 403); managers and heads claim, through ``pool.pool_claim`` — the first claim wins, and a
later one answers 409 saying who has the client since when; a claim over the weekly limit answers
422 with the reason. Admins set the limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts import access
from rapport.api.schemas import READ_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, RowId, refused_because
from rapport.clients.models import CLIENT_MODELS, ClientTransfer, TransferKind
from rapport.core.http import RapportRequest
from rapport.supervision import pool
from rapport.supervision.models import PoolPolicy

router = Router(tags=["supervision"])

# ---- Schemas ----------------------------------------------------------------------------------


class PoolFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=100_000)
    q: str = Field("", max_length=100, description="A name fragment, tax id, phone or e-mail.")
    kind: Literal["company", "contact"] | None = Field(None, description="Only companies, or only contacts.")


class PoolClientOut(Schema):
    kind: str = Field(description="`company` or `contact`.")
    id: int = Field(validation_alias="client_id")
    name: str
    company: str = Field(validation_alias="company_name", description="A contact's company, by name; else empty.")
    last_contact_at: datetime | None
    entered_at: datetime = Field(description="When it entered the pool: the move there, or its creation.")
    days_in_pool: int
    reason: str = Field(description="The move's reason; empty for a client entered without an owner.")
    rule: str = Field(description="The redistribution rule that moved it there, if one did.")


class PoolPageOut(Schema):
    items: list[PoolClientOut]
    has_more: bool
    capped: bool = Field(description="A search lists its first 500 matches of each kind only: type more to narrow.")


class ClaimIn(Input):
    kind: Literal["company", "contact"]
    id: RowId


class ClaimOut(Schema):
    """The transfer log's row the claim wrote."""

    id: int
    kind: TransferKind
    company: int | None = Field(validation_alias="company_id")
    contact: int | None = Field(validation_alias="contact_id")
    from_user: int | None = Field(validation_alias="from_user_id")
    to_user: int | None = Field(validation_alias="to_user_id")
    by: int | None = Field(validation_alias="by_id")
    at: datetime
    reason: str


class PolicyOut(Schema):
    claims_per_week: int
    used_this_week: int | None = Field(description="The caller's claims since Monday; null for who does not claim.")
    updated_at: datetime
    updated_by: int | None = Field(validation_alias="updated_by_id")


class PolicyIn(Input):
    claims_per_week: int = Field(description="0 to 10,000; 0 closes the pool to claims.")


# ---- Endpoints ----------------------------------------------------------------------------------


def _sees_pool(request: RapportRequest) -> None:
    if not access.sees_pool(request.user):
        raise PermissionDenied(_("Outside agents do not see the shared pool."))


@router.get("/pool", response={200: PoolPageOut, 401: Message, 403: Message, 422: Invalid})
def pool_list(request: RapportRequest, filters: Query[PoolFilters]) -> dict[str, Any]:
    """A page of the clients in the pool, the latest to enter it first."""
    _sees_pool(request)
    found = pool.pool_slice(
        request.user, query=filters.q, kind=filters.kind or "", offset=filters.offset, limit=filters.limit
    )
    return {"items": found.rows, "has_more": found.has_more, "capped": found.capped}


@router.post("/pool/claim", response={200: ClaimOut, 409: Message, **WRITE_ERRORS})
def pool_claim(request: RapportRequest, payload: ClaimIn) -> ClientTransfer | Status[dict[str, str]]:
    """Take a client from the pool: it becomes the caller's, within the weekly limit."""
    by = request.user
    with refused_because(_("Only managers and heads of sales take clients from the pool.")):
        if not access.can_claim_from_pool(by):
            raise PermissionDenied
        client = access.client_for_pool_claim(by, CLIENT_MODELS[payload.kind], payload.id)
        try:
            return pool.pool_claim(by=by, client=client)
        except ValidationError as error:
            if getattr(error, "code", None) == "taken":
                return Status(409, {"detail": error.messages[0]})
            raise


def _policy_out(request: RapportRequest, policy: PoolPolicy) -> dict[str, Any]:
    usage = pool.pool_usage(request.user)
    return {
        "claims_per_week": policy.claims_per_week,
        "used_this_week": usage.used if usage is not None else None,
        "updated_at": policy.updated_at,
        "updated_by_id": policy.updated_by_id,
    }


@router.get("/pool/policy", response={200: PolicyOut, **READ_ERRORS, 403: Message})
def pool_policy_read(request: RapportRequest) -> dict[str, Any]:
    """The weekly limit, and how much of it the caller used."""
    _sees_pool(request)
    return _policy_out(request, PoolPolicy.current())


@router.put("/pool/policy", response={200: PolicyOut, **WRITE_ERRORS})
def pool_policy_write(request: RapportRequest, payload: PolicyIn) -> dict[str, Any]:
    """Set the weekly limit (admins)."""
    with refused_because(_("Only admins set the pool's limit.")):
        policy = pool.pool_policy_save(by=request.user, claims_per_week=payload.claims_per_week)
    return _policy_out(request, policy)

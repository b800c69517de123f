"""Data quality over HTTP (/api/v1/quality/): a person's score with its two parts, a client's checks.

The same policy as the screens: everyone reads their own score, heads their team's people's,
admins anyone's (``access.quality_person_for``: 404 otherwise); a client's checks are read by
whoever sees the client (``access.company_for_user``/``contact_for_user``).
"""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Router, Schema

from rapport.accounts import access
from rapport.api.schemas import READ_ERRORS
from rapport.core.http import RapportRequest
from rapport.motivation.quality import ClientQuality, client_quality, manager_quality

router = Router()


class PersonQualityOut(Schema):
    person: int
    score: int | None = Field(description="0–100: 70 % the clients' average, 30 % the activities share; null: nothing.")
    clients_score: int | None = Field(description="The average score of the clients the person owns.")
    clients: int
    activities_share: int | None = Field(
        description="The share (%) of the person's activities done in the last 90 days with their minimum data."
    )
    activities: int


class CheckOut(Schema):
    key: str
    label: str
    ok: bool
    fix_url: str = Field(description="Where to fix it in the web interface (empty when it passes).")


class ClientQualityOut(Schema):
    kind: Literal["company", "contact"]
    id: int
    score: int
    checks: list[CheckOut]


@router.get("/quality/people/{person_id}", response={200: PersonQualityOut, **READ_ERRORS}, tags=["quality"])
def person_quality(request: RapportRequest, person_id: int) -> dict[str, Any]:
    """A person's data-quality score now."""
    person = access.quality_person_for(request.user, person_id)
    quality = manager_quality(person)
    return {
        "person": person.pk,
        "score": quality.score,
        "clients_score": quality.clients_score,
        "clients": quality.clients,
        "activities_share": quality.activities_share,
        "activities": quality.activities,
    }


def _client_out(quality: ClientQuality) -> dict[str, Any]:
    return {
        "kind": quality.kind,
        "id": quality.pk,
        "score": quality.score,
        "checks": [
            {
                "key": result.key,
                "label": str(result.label),
                "ok": result.ok,
                "fix_url": "" if result.ok else result.fix_url,
            }
            for result in quality.results
        ],
    }


@router.get("/quality/companies/{company_id}", response={200: ClientQualityOut, **READ_ERRORS}, tags=["quality"])
def company_quality(request: RapportRequest, company_id: int) -> dict[str, Any]:
    """A company's score and each check, passed or with where to fix it."""
    return _client_out(client_quality(access.company_for_user(request.user, company_id)))


@router.get("/quality/contacts/{contact_id}", response={200: ClientQualityOut, **READ_ERRORS}, tags=["quality"])
def contact_quality(request: RapportRequest, contact_id: int) -> dict[str, Any]:
    """A contact person's score and each check."""
    return _client_out(client_quality(access.contact_for_user(request.user, contact_id)))

"""A client's next step: its soonest planned activity, whoever planned it. Active clients without one are flagged.

A contact person counts as taken care of when their company has a next step: a meeting
planned with the company is a step with its people too. The client card reads one client's
step; the client lists read the steps of a page (or an export batch) in one query, and filter
by having one with an EXISTS. My day's "clients with no next step" asks the same of the
person's own plans only (my_day.clients_without_next_step).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q

from rapport.activities.models import Activity

if TYPE_CHECKING:
    from rapport.clients.services import AnyClient


@dataclass(frozen=True)
class NextStep:
    """What a list shows of a client's next step."""

    pk: int
    kind: str
    subject: str
    at: datetime  # when it is due (or, undated, when it was planned)


def _of_client(client: AnyClient) -> Q:
    if client.kind == "company":
        return Q(company_id=client.pk)
    own = Q(contact_id=client.pk)
    company_id = getattr(client, "company_id", None)
    return own | Q(company_id=company_id) if company_id is not None else own


def next_step_of(client: AnyClient) -> Activity | None:
    """The client's soonest planned activity, its owner loaded (one query)."""
    planned = Activity.objects.planned().filter(_of_client(client)).select_related("owner")
    return planned.order_by("at", "pk").first()


def next_steps_of(kind: str, rows: list[dict[str, Any]]) -> dict[int, NextStep]:
    """The next step of each client row (``id``, and ``company_id`` for contacts) that has one, in one query."""
    ids = [row["id"] for row in rows]
    if kind == "company":
        links = Q(company_id__in=ids)
    else:
        companies = {row["company_id"] for row in rows if row.get("company_id") is not None}
        links = Q(contact_id__in=ids) | Q(company_id__in=companies) if companies else Q(contact_id__in=ids)
    planned = Activity.objects.planned().filter(links).order_by("at", "pk")
    soonest: dict[tuple[str, int], NextStep] = {}
    for pk, activity_kind, subject, at, company_id, contact_id in planned.values_list(
        "pk", "kind", "subject", "at", "company_id", "contact_id"
    ):
        step = NextStep(pk=pk, kind=activity_kind, subject=subject, at=at)
        # The first seen of each client is its soonest (the rows come in time order).
        if contact_id is not None:
            soonest.setdefault(("contact", contact_id), step)
        if company_id is not None:
            soonest.setdefault(("company", company_id), step)
    found: dict[int, NextStep] = {}
    for row in rows:
        steps = [soonest.get((kind, row["id"]))]
        if kind == "contact" and row.get("company_id") is not None:
            steps.append(soonest.get(("company", row["company_id"])))
        known = [step for step in steps if step is not None]
        if known:
            found[row["id"]] = min(known, key=lambda step: (step.at, step.pk))
    return found


def has_next_step(kind: str) -> Exists:
    """For filtering a company or contact queryset: the client has a planned activity (its company's counts)."""
    planned = Activity.objects.planned()
    if kind == "company":
        return Exists(planned.filter(company_id=OuterRef("pk")))
    return Exists(planned.filter(Q(contact_id=OuterRef("pk")) | Q(company_id=OuterRef("company_id"))))

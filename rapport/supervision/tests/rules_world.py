"""Hand-made worlds for the redistribution tests: clients last contacted so many days ago, open deals,
missed callbacks, and rules.

The personas are the root conftest's: team A (``head``, ``manager``, ``teammate``, ``agent``) and
team B (``outsider``). Clients are made with the ORM where a test needs a contact on a given day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.clients.models import Company, Contact
from rapport.sales.models import Deal, Pipeline
from rapport.supervision.models import RedistributionRule, RuleAction, RuleCondition, RuleMode

NOW = timezone.now()


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def company(owner: User | None, name: str, *, contacted: float | None = 60, entered: float = 400) -> Company:
    """A company of ``owner`` last contacted ``contacted`` days ago (None: never), entered ``entered`` days ago."""
    made = Company.objects.create(
        name=name, owner=owner, last_contact_at=ago(contacted) if contacted is not None else None
    )
    Company.objects.filter(pk=made.pk).update(created_at=ago(entered))
    made.refresh_from_db()
    return made


def contact(owner: User | None, last_name: str, *, contacted: float | None = 60, entered: float = 400) -> Contact:
    made = Contact.objects.create(
        last_name=last_name, owner=owner, last_contact_at=ago(contacted) if contacted is not None else None
    )
    Contact.objects.filter(pk=made.pk).update(created_at=ago(entered))
    made.refresh_from_db()
    return made


def open_deal(client: Company | Contact, pipeline: Pipeline, *, closed: bool = False) -> Deal:
    return Deal.objects.create(
        title=f"Deal of {client.display_name}",
        **{client.kind: client},
        pipeline=pipeline,
        stage=pipeline.stages.order_by("position")[0],
        owner=client.owner,
        closed_at=NOW if closed else None,
    )


def planned(client: Company | Contact, owner: User | None, *, due: float = -3, **fields: Any) -> Activity:
    """A planned call on the client, due in ``due`` days (negative: overdue)."""
    link = {"contact": client} if isinstance(client, Contact) else {"company": client}
    when = NOW + timedelta(days=due)
    values = {"kind": ActivityKind.CALL, "subject": "Call", **fields}
    return Activity.objects.create(**values, status=ActivityStatus.PLANNED, owner=owner, due_at=when, at=when, **link)


def callback(
    client: Company | Contact, owner: User | None, *, due: float = -3, status: str = ActivityStatus.PLANNED
) -> Activity:
    """A callback of an earlier call on the client (what "call back later" plans), due ``due`` days from now."""
    link = {"contact": client} if isinstance(client, Contact) else {"company": client}
    earlier = Activity.objects.create(
        kind=ActivityKind.CALL, status=ActivityStatus.DONE, owner=owner, done_at=ago(10), at=ago(10), **link
    )
    made = planned(client, owner, due=due, follow_up_of=earlier, subject="Call back")
    if status != ActivityStatus.PLANNED:
        Activity.objects.filter(pk=made.pk).update(status=status)
    return made


def rule(**fields: Any) -> RedistributionRule:
    """A stale rule (30 days, no open deal, to the pool, approval mode) with ``fields`` changed."""
    values: dict[str, Any] = {
        "name": "Stale to the pool",
        "condition": RuleCondition.STALE,
        "days": 30,
        "without_open_deal": True,
        "action": RuleAction.POOL,
        "mode": RuleMode.APPROVAL,
        **fields,
    }
    return RedistributionRule.objects.create(**values)

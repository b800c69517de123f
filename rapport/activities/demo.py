"""Demo activities: two years of calls, meetings, e-mails, tasks and notes, and the weeks ahead planned.

Data set M has 3M activities, about 30k a manager. Each goes on a client of its owner
(a contact at a company carries the company too); one in ten is on one of that client's
deals. Done ones carry an outcome of their kind; about 2 % are planned in the next month
or overdue by a few days, and some planned calls are callbacks of an earlier call, so
"my day" has something in each of its sections. Rows go in as tuples through core.bulk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Direction, Outcome
from rapport.clients.models import Company, Contact
from rapport.core import demo
from rapport.core.bulk import bulk_insert, ids_after, indexes_dropped, last_id
from rapport.sales.models import Deal

KIND_WEIGHTS = [
    (ActivityKind.CALL, 60),
    (ActivityKind.MEETING, 12),
    (ActivityKind.EMAIL, 16),
    (ActivityKind.TASK, 7),
    (ActivityKind.NOTE, 5),
]
SUBJECTS = {
    ActivityKind.CALL: ["Follow-up call", "Price question", "Delivery dates", "Introductory call", "Invoice question"],
    ActivityKind.MEETING: ["Product demo", "Contract talks", "Quarterly review", "Site visit", "Presentation"],
    ActivityKind.EMAIL: ["Commercial proposal", "Price list", "Contract draft", "Thank you", "Invoice"],
    ActivityKind.TASK: ["Prepare the proposal", "Send the contract", "Check the payment", "Update the price list"],
    ActivityKind.NOTE: ["Prefers calls in the morning", "Budget approved for Q1", "New purchasing manager"],
}
RESULTS = [
    "Interested, wants the price list",
    "Asked to call after the holidays",
    "Agreed on a meeting next week",
    "Decision maker is on leave",
    "Satisfied with the last delivery",
    "",
]
PLANNED_SHARE = 0.02
CALLBACK_SHARE = 0.25  # of planned calls: a callback of an earlier call


@demo.generator(order=40)
def activities(context: demo.DemoContext) -> None:
    rng, now = context.rng, timezone.now()
    clients = list(Company.objects.filter(owner__isnull=False).values_list("pk", "owner_id"))
    people = list(Contact.objects.filter(owner__isnull=False).values_list("pk", "owner_id", "company_id", "last_name"))
    if not clients and not people:
        return
    deals_of: dict[int, list[int]] = {}
    for some_deal, deal_company in Deal.objects.filter(company__isnull=False).values_list("pk", "company_id"):
        deals_of.setdefault(deal_company, []).append(some_deal)
    outcomes: dict[str, list[int]] = {}
    for outcome_id, kind in Outcome.objects.filter(is_active=True).values_list("pk", "kind"):
        outcomes.setdefault(kind, []).append(outcome_id)
    kinds = [kind for kind, _weight in KIND_WEIGHTS]
    weights = [weight for _kind, weight in KIND_WEIGHTS]

    rows: list[tuple[Any, ...]] = []
    callbacks: list[tuple[Any, ...]] = []
    days = 730 * 24 * 60
    for _number in range(context.scale.activities):
        kind = rng.choices(kinds, weights)[0]
        contact_id: int | None
        company_id: int | None
        row: tuple[Any, ...]
        if people and (not clients or rng.random() < 0.5):
            contact_id, owner_id, company_id, _name = rng.choice(people)
        else:
            company_id, owner_id = rng.choice(clients)
            contact_id = None
        deal_id: int | None = None
        if company_id is not None and rng.random() < 0.1 and company_id in deals_of:
            deal_id = rng.choice(deals_of[company_id])
        planned = rng.random() < PLANNED_SHARE
        subject = rng.choice(SUBJECTS[kind])
        direction = (Direction.IN if rng.random() < 0.3 else Direction.OUT) if kind in ("call", "email") else ""
        if planned:
            # Mostly ahead within a month, some a few days overdue; working hours.
            day = rng.randrange(-4, 30)
            due = (now + timedelta(days=day)).replace(hour=rng.randrange(9, 18), minute=rng.choice((0, 15, 30, 45)))
            row = (kind, direction, subject, "", None, ActivityStatus.PLANNED, due, None, None, due)
            is_callback = kind == ActivityKind.CALL and rng.random() < CALLBACK_SHARE
        else:
            done = now - timedelta(minutes=rng.randrange(10, days))
            outcome = rng.choice(outcomes[kind]) if kind in outcomes else None
            duration = (
                rng.randrange(1, 25) if kind == "call" else (rng.randrange(30, 120) if kind == "meeting" else None)
            )
            result = rng.choice(RESULTS) if kind in ("call", "meeting") else ""
            row = (kind, direction, subject, result, outcome, ActivityStatus.DONE, None, done, duration, done)
            is_callback = False
        full = (*row, owner_id, owner_id, company_id, contact_id, deal_id, row[-1] - timedelta(days=1), now)
        if is_callback:
            callbacks.append(full)
        else:
            rows.append(full)

    columns = [
        "kind",
        "direction",
        "subject",
        "result",
        "outcome_id",
        "status",
        "due_at",
        "done_at",
        "duration",
        "at",
        "owner_id",
        "created_by_id",
        "company_id",
        "contact_id",
        "deal_id",
        "created_at",
        "updated_at",
    ]
    with indexes_dropped(Activity):
        before = last_id(Activity)
        bulk_insert(Activity, columns, rows)
        # Callbacks follow up an earlier call: any done call of the same owner will do for the demo.
        done_calls: dict[int, int] = {}
        for index, row in enumerate(rows):
            if row[0] == ActivityKind.CALL and row[5] == ActivityStatus.DONE:
                done_calls.setdefault(row[10], index)
        first_ids = ids_after(Activity, before)
        bulk_insert(
            Activity,
            [*columns, "follow_up_of_id"],
            ((*row, first_ids[done_calls[row[10]]] if row[10] in done_calls else None) for row in callbacks),
        )
    context.log(f"  {len(rows) + len(callbacks)} activities, {len(callbacks)} callbacks owed")

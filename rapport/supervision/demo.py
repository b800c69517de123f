"""Demo supervision: clients already in the shared pool, the team's redistribution rule with an open proposal
to approve, and orders with a buying rhythm (some clients overdue, some buying less). Each part loads its own."""

from __future__ import annotations

from django.utils import timezone

from rapport.core import demo
from rapport.supervision import pool, regularity, review
from rapport.supervision.control import deviations_snapshot


@demo.generator(order=80)
def supervision(context: demo.DemoContext) -> None:
    if not context.managers:
        return
    pool.load_demo(context)
    review.load_demo(context)
    regularity.load_demo(context)
    # This morning's count, as the morning job leaves it: the control room reads it.
    now = timezone.now()
    deviations_snapshot(now=now, today=timezone.localdate(now))

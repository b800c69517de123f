"""Activities' benchmark operations (targets from issue 5): the quick log, my day (both its requests) and the
calendar's week."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.urls import reverse

from rapport.activities.models import Outcome
from rapport.clients.models import Company
from rapport.core import bench

bench.register_table("activities.Activity")


def _quick_log_path(context: bench.BenchContext) -> str:
    return reverse("activities:quick-log")


def _quick_log_fields(context: bench.BenchContext) -> Callable[[int], Mapping[str, str]]:
    # A call with an outcome that asks nothing more, on the demo manager's first company: every request logs one.
    company = (
        context.objects(Company)
        .filter(owner__username="manager", deleted_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    outcome = (
        context.objects(Outcome)
        .filter(kind="call", asks_follow_up=False, is_active=True)
        .order_by("position")
        .values_list("pk", flat=True)
        .first()
    )
    if company is None or outcome is None:
        raise LookupError("the demo manager has no company, or calls have no outcome that asks nothing more")
    return lambda number: {"company": str(company), "outcome": str(outcome)}


bench.register(
    bench.BenchOperation(
        key="quick log",
        title="quick log: a call saved by its outcome, from the company card",
        path=_quick_log_path,
        method="POST",
        data=_quick_log_fields,
        headers={"HX-Request": "true"},
        target_ms=30,
    )
)
bench.register(
    bench.BenchOperation(
        key="my day",
        title="my day: the manager's home page",
        path=lambda context: reverse("activities:my-day"),
        target_ms=40,
    )
)
bench.register(
    bench.BenchOperation(
        key="my day side",
        title="my day, second request: birthdays and clients without a next step",
        path=lambda context: reverse("activities:my-day-side"),
        headers={"HX-Request": "true"},
        target_ms=40,
    )
)
bench.register(
    bench.BenchOperation(
        key="calendar week",
        title="calendar: the manager's week",
        path=lambda context: f"{reverse('activities:calendar')}?view=week",
        target_ms=40,
    )
)

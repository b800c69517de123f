"""Supervision's benchmark operations (targets from issue #7): the control room, and each part's own."""

from __future__ import annotations

from django.urls import reverse

from rapport.core import bench
from rapport.supervision import bench_pool, bench_regularity, bench_rules  # noqa: F401  (each part's operations)

bench.register(
    bench.BenchOperation(
        key="control room",
        title="control room: a head's team — plan, load, data quality, overdue, stale, no next step, deals off track",
        path=lambda context: reverse("supervision:control"),
        user="head",
        target_ms=150,
    )
)

"""Redistribution's benchmark operation (issue #7: a review of a rule over 200k clients ≤ 10 s).

An admin's dry run of a company-wide rule — no logged contact for 30 days and no open deal, to the pool —
posted from the rule form, so it needs no rule in the data set: the review's whole work (every company
and contact of data set M looked at, the 500 most neglected proposed) without storing anything, so every
request does the same. Imported by supervision's bench_ops.
"""

from __future__ import annotations

from django.urls import reverse

from rapport.core import bench

bench.register_table("supervision.ProposalLine")

STALE_TO_THE_POOL = {
    "name": "Bench: stale clients to the pool",
    "condition": "stale",
    "days": "30",
    "without_open_deal": "on",
    "action": "pool",
    "schedule": "weekly",
    "mode": "approval",
    "is_active": "on",
}

bench.register(
    bench.BenchOperation(
        key="rule review",
        title="redistribution: an admin's dry run of a rule over every client (stale 30 days, no open deal, pool)",
        path=lambda context: reverse("supervision:rule-dry-run"),
        user="admin",
        method="POST",
        data=lambda context: lambda number: STALE_TO_THE_POOL,
        headers={"HX-Request": "true"},
        target_ms=10_000,
        requests=5,
    )
)

"""Purchase regularity's benchmark operations (imported by bench_ops): the team page and the alerts API."""

from __future__ import annotations

from django.urls import reverse

from rapport.core import bench

bench.register_table("sales.Order")
bench.register_table("supervision.Regularity")

bench.register(
    bench.BenchOperation(
        key="regularity team page",
        title="purchase regularity: a head's team, overdue clients and last month's falling volumes",
        path=lambda context: reverse("supervision:regularity"),
        user="head",
        target_ms=150,
    )
)
bench.register(
    bench.BenchOperation(
        key="regularity alerts API",
        title="purchase regularity: a page of the overdue clients a head sees, over the API",
        path=lambda context: "/api/v1/regularity/alerts",
        user="head",
        target_ms=30,
    )
)

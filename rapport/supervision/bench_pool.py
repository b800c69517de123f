"""The shared pool's benchmark operations (issue #7: pool list ≤ 30 ms p95, a claim ≤ 30 ms p95). Imported by
supervision's bench_ops.

The list: the demo manager opens the pool's page (data set M holds some 62,000 clients in the pool:
the clients demo enters 7 % without an owner, ``pool.load_demo`` moves 2 % there by a rule).

A claim moves its client out of the pool, so each request claims another one: the request's number
picks it from the pool's clients entered without an owner, the oldest first (they sit at the end of
the list, so the list's timing is not disturbed), read once before the run — CLAIMABLE of them, for
runs of up to about 2,400 requests per operation (20 warm-up + --requests + 8 × 3 + --requests).
The claims count against the manager's weekly limit, so the run first raises the benchmark
database's limit to the most allowed, 10,000 a week: about fifteen runs of 300 requests fit in one
week (``rapport bench --fresh`` starts over). A claim is posted as the page's htmx button does,
and answers its row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.db.models import Exists, OuterRef
from django.urls import reverse

from rapport.clients.models import ClientStatus, ClientTransfer, Company
from rapport.core import bench
from rapport.supervision.models import PoolPolicy

CLAIMABLE = 5_000
BENCH_CLAIMS_PER_WEEK = 10_000


def _claims(context: bench.BenchContext) -> Callable[[int], Mapping[str, str]]:
    context.objects(PoolPolicy).update_or_create(pk=1, defaults={"claims_per_week": BENCH_CLAIMS_PER_WEEK})
    moved_in = context.objects(ClientTransfer).filter(to_user__isnull=True, company=OuterRef("pk"))
    ids = list(
        context.objects(Company)
        .filter(status=ClientStatus.POOL, deleted_at__isnull=True)
        .exclude(Exists(moved_in))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:CLAIMABLE]
    )
    if not ids:
        raise RuntimeError("the benchmark database has no company in the shared pool to claim")
    return lambda number: {"claim": f"company-{ids[number % len(ids)]}"}


bench.register(
    bench.BenchOperation(
        key="pool list",
        title="shared pool: its first page, the latest to enter first, for a manager",
        path=lambda context: reverse("supervision:pool"),
        target_ms=30,
    )
)
bench.register(
    bench.BenchOperation(
        key="pool claim",
        title="shared pool: a manager claims a client (each request another one), the row swapped by htmx",
        path=lambda context: reverse("supervision:pool-claim"),
        method="POST",
        data=_claims,
        headers={"HX-Request": "true"},
        target_ms=30,
    )
)

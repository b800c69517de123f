"""The deal list's benchmark operation (imported by bench_ops.py), signed in as the demo manager."""

from __future__ import annotations

from rapport.core import bench

bench.register(
    bench.BenchOperation(
        key="deal list",
        title="deal list: mine, open, closing soonest first",
        path=lambda context: "/sales/deals/?owner=me&sort=expected_close",
        target_ms=30,
    )
)

"""Motivation's benchmark operations (targets from shared/DESIGN.md and issue #6): plans, boards, bonuses."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import User
from rapport.core import bench

bench.register_table("motivation.Target")

bench.register(
    bench.BenchOperation(
        key="team plan/fact",
        title="plans: a head's team this month, each target with its live fact",
        path=lambda context: reverse("motivation:plans"),
        user="head",
        target_ms=150,
    )
)
bench.register(
    bench.BenchOperation(
        key="leaderboard",
        title="leaderboard: the manager's team ranked by calls this month",
        path=lambda context: reverse("motivation:leaderboard"),
        target_ms=150,
    )
)
bench.register(
    bench.BenchOperation(
        key="bonus so far",
        title="bonus so far: the engine run live for a head's team this month (fetched after the control room)",
        path=lambda context: (
            reverse("motivation:bonus-so-far") + f"?team={context.objects(User).get(username='head').team_id}"
        ),
        user="head",
    )
)


def _month_query(context: bench.BenchContext) -> str:
    return reverse("motivation:statements-compute") + f"?month={timezone.localdate():%Y-%m}"


bench.register(
    bench.BenchOperation(
        key="statements",
        title="bonus statements: everyone's for this month recomputed by an admin (100 managers)",
        path=_month_query,
        user="admin",
        method="POST",
        data=lambda context: lambda number: {},
        headers={"HX-Request": "true"},
        target_ms=5000,
        requests=5,
    )
)

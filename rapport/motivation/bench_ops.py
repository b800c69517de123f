"""Motivation's benchmark operations (targets from shared/DESIGN.md): the team's plan/fact and the leaderboard."""

from __future__ import annotations

from django.urls import reverse

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

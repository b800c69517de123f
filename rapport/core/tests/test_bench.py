"""The pure parts of `rapport bench`: statistics, the report, the registry. Timing is not tested."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management.base import CommandError

from rapport.accounts.models import Team, User
from rapport.core import bench
from rapport.core.management.commands.bench import (
    Measurement,
    backend_section,
    bench_database_url,
    percentile,
    replace_section,
    results_table,
    select_operations,
    shares,
)


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(number) for number in range(1, 101)]  # 1 … 100, shuffled order must not matter
    assert percentile(list(reversed(values)), 0.50) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.95) == 7.0


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_shares_split_requests_evenly() -> None:
    assert shares(300, 8) == [38, 38, 38, 38, 37, 37, 37, 37]
    assert sum(shares(5, 8)) == 5


DOCUMENT = """# Benchmarks

How it is measured.

<!-- bench:sqlite:start -->
## SQLite

old SQLite figures
<!-- bench:sqlite:end -->

<!-- bench:postgresql:start -->
## PostgreSQL

PostgreSQL figures
<!-- bench:postgresql:end -->
"""


def test_a_run_replaces_its_backend_section_only() -> None:
    updated = replace_section(DOCUMENT, "sqlite", backend_section("sqlite", "new SQLite figures"))
    assert "new SQLite figures" in updated
    assert "old SQLite figures" not in updated
    assert updated.count("<!-- bench:sqlite:start -->") == 1
    assert updated.count("<!-- bench:sqlite:end -->") == 1
    assert updated.startswith("# Benchmarks\n\nHow it is measured.\n")
    assert updated.endswith("## PostgreSQL\n\nPostgreSQL figures\n<!-- bench:postgresql:end -->\n")


def test_a_backend_without_a_section_is_appended() -> None:
    updated = replace_section("# Benchmarks\n", "postgresql", backend_section("postgresql", "figures"))
    assert (
        updated
        == "# Benchmarks\n\n<!-- bench:postgresql:start -->\n## PostgreSQL\n\nfigures\n<!-- bench:postgresql:end -->\n"
    )
    assert replace_section(updated, "postgresql", backend_section("postgresql", "again")).count("## PostgreSQL") == 1


def operation(key: str, target_ms: float | None = None) -> bench.BenchOperation:
    return bench.BenchOperation(key=key, title=key, path=lambda _: "/", target_ms=target_ms)


def test_table_gives_ratios_to_the_trivial_view_and_marks_targets() -> None:
    rows = results_table(
        [
            Measurement(operation("trivial"), p50_ms=0.4, p95_ms=0.5, per_second_c1=900, per_second_c8=1500),
            Measurement(operation("fast", 30), p50_ms=8, p95_ms=12, per_second_c1=80, per_second_c8=150),
            Measurement(operation("slow", 30), p50_ms=25, p95_ms=45, per_second_c1=30, per_second_c8=60),
        ]
    ).splitlines()
    assert rows[0] == "| operation | target | p50 ms | p95 ms | ×trivial | req/s c1 | req/s c8 |"
    assert rows[2] == "| trivial | — | 0.40 | 0.50 | 1.0 | 900 | 1500 |"
    assert rows[3] == "| fast | ≤ 30 | 8.00 | 12.0 ✓ | 24.0 | 80 | 150 |"
    assert rows[4] == "| slow | ≤ 30 | 25.0 | 45.0 ✗ | 90.0 | 30 | 60 |"


def test_bench_database_sits_beside_the_working_one() -> None:
    var = Path("/srv/rapport/var/bench")
    assert bench_database_url(override="", environment_url="", var_dir=var) == (
        "sqlite:////srv/rapport/var/bench/bench.sqlite3"
    )
    assert bench_database_url(override="", environment_url="sqlite:///x.sqlite3", var_dir=var).endswith(
        "/bench/bench.sqlite3"
    )
    assert (
        bench_database_url(
            override="", environment_url="postgres://app:pw@db:5432/rapport?sslmode=require", var_dir=var
        )
        == "postgres://app:pw@db:5432/rapport_bench?sslmode=require"
    )
    assert bench_database_url(override="sqlite:///b.db", environment_url="postgres://db/x", var_dir=var) == (
        "sqlite:///b.db"
    )


def test_registry_finds_core_operations_with_the_trivial_one_first() -> None:
    operations = bench.operations()
    keys = [operation.key for operation in operations]
    assert keys[0] == bench.TRIVIAL
    assert {"trivial", "login page", "home page"} <= set(keys)
    by_key = {operation.key: operation for operation in operations}
    context = bench.BenchContext(database="default")
    assert by_key["trivial"].path(context) == "/ping"
    assert by_key["trivial"].user == ""
    assert by_key["home page"].user == "manager"
    assert {User, Team} <= set(bench.tables())


def test_only_runs_one_operation_beside_the_baseline() -> None:
    operations = bench.operations()
    assert [operation.key for operation in select_operations(operations, "home page")] == ["trivial", "home page"]
    assert [operation.key for operation in select_operations(operations, "trivial")] == ["trivial"]
    with pytest.raises(CommandError, match="no operation keyed 'nope'"):
        select_operations(operations, "nope")

"""Sales' benchmark operations (targets from shared/DESIGN.md): the board, and a deal moved on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rapport.core import bench
from rapport.sales.models import Deal, Pipeline, Stage

NEW_SALES = "New sales"
# Two stages without gates, so the move is accepted every time.
MOVE_BETWEEN = ("Qualification", "Presentation")

bench.register_table("sales.Deal")


def _new_sales(context: bench.BenchContext) -> Pipeline:
    pipeline = context.objects(Pipeline).filter(name=NEW_SALES).first()
    if pipeline is None:
        raise LookupError(f"no “{NEW_SALES}” pipeline: load the demo data first")
    return pipeline


def _board(context: bench.BenchContext) -> str:
    return f"/sales/boards/{_new_sales(context).pk}/"


bench.register(
    bench.BenchOperation(
        key="board",
        title="board of a pipeline: a head's whole team",
        path=_board,
        user="head",
        target_ms=60,
    )
)
bench.register(
    bench.BenchOperation(
        key="board: closed columns",
        title="board: the won and lost columns, fetched once the page is shown (head)",
        path=lambda context: f"{_board(context)}closed/",
        user="head",
        headers={"HX-Request": "true"},
    )
)
bench.register(
    bench.BenchOperation(
        key="board (manager)",
        title="board of a pipeline: a manager's deals",
        path=_board,
        target_ms=60,
    )
)


def _move_plan(context: bench.BenchContext) -> tuple[int, int, int]:
    """A deal of the demo manager in one of the two stages: (deal, the other stage, its own stage)."""
    stages = dict(
        context.objects(Stage).filter(pipeline=_new_sales(context), name__in=MOVE_BETWEEN).values_list("name", "pk")
    )
    first, second = stages[MOVE_BETWEEN[0]], stages[MOVE_BETWEEN[1]]
    deal = (
        context.objects(Deal)
        .filter(
            owner__username="manager", stage_id__in=[first, second], closed_at__isnull=True, deleted_at__isnull=True
        )
        .order_by("pk")
        .values_list("pk", "stage_id")
        .first()
    )
    if deal is None:
        raise LookupError(f"the demo manager has no open deal in {' or '.join(MOVE_BETWEEN)}")
    pk, now_in = deal
    return pk, (second if now_in == first else first), now_in


def _move_path(context: bench.BenchContext) -> str:
    return f"/sales/deals/{_move_plan(context)[0]}/move/"


def _move_fields(context: bench.BenchContext) -> Callable[[int], Mapping[str, str]]:
    # There on even requests, back on odd ones: every request moves the deal (at concurrency 8
    # two requests may cross, and one then finds the deal already where it asks).
    _deal, there, back = _move_plan(context)
    return lambda number: {"stage": str(there if number % 2 == 0 else back)}


bench.register(
    bench.BenchOperation(
        key="stage move",
        title="stage move: a deal dropped on the next column",
        path=_move_path,
        method="POST",
        data=_move_fields,
        target_ms=30,
    )
)

from rapport.sales import bench_list  # noqa: E402, F401  (the deal list's operation)

"""Benchmark operations for `make bench` (`rapport bench`).

Each app registers the requests worth timing in its own ``bench_ops.py`` with
``bench.register(BenchOperation(...))``; the command finds those modules the way
`rapport demo` finds ``demo.py``. An app also names its big tables with
``bench.register_table("app.Model")`` so the report can say how large the data set was.

The operation keyed ``trivial`` is the baseline: every other operation is reported as a
ratio to its server time, which stays comparable on a noisy machine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Model, QuerySet
from django.utils.module_loading import module_has_submodule

TRIVIAL = "trivial"


@dataclass(frozen=True)
class BenchContext:
    """What an operation may consult to build its path, e.g. the id of a real record.

    ``database`` is the alias of the benchmark database in the harness process; query
    it through ``objects()``, never through the default manager, which points elsewhere.
    """

    database: str

    def objects[M: Model](self, model: type[M]) -> QuerySet[M]:
        return model._default_manager.using(self.database)


RawBody = tuple[bytes, Mapping[str, str]]


@dataclass(frozen=True)
class BenchOperation:
    key: str
    title: str
    path: Callable[[BenchContext], str]
    user: str = "manager"  # username to sign in as (password: the demo one), or "" for anonymous
    target_ms: float | None = None  # p95 server time the design promises, if any
    # Extra request headers, e.g. those htmx sends, to time the partial a page swaps in.
    headers: Mapping[str, str] = field(default_factory=dict)
    # A write is timed like a read: "POST" sends a form with the signed-in user's CSRF token.
    method: str = "GET"
    # The form fields of a POST: given the context once (before the server starts), it returns a
    # function of the request's number (from 0, across the run) giving that request's fields, so a
    # write can alternate between two states and every request really changes something.
    data: Callable[[BenchContext], Callable[[int], Mapping[str, str]]] | None = None
    # A machine's POST (a PBX's signed webhook): given the context once, a function of the request's number giving
    # its raw body and headers. Sent as is, without a session or a CSRF token.
    body: Callable[[BenchContext], Callable[[int], RawBody]] | None = None
    # A batch that takes seconds (statements for everyone) is timed over at most this many requests,
    # with as few warm-ups, whatever --requests says.
    requests: int | None = None


_operations: dict[str, BenchOperation] = {}
_tables: list[str] = []


def register(operation: BenchOperation) -> None:
    _operations[operation.key] = operation


def register_table(model_label: str) -> None:
    """Count this model's rows in the report ("app_label.ModelName")."""
    if model_label not in _tables:
        _tables.append(model_label)


def _discover() -> None:
    for app_config in apps.get_app_configs():
        if app_config.name.startswith("rapport.") and module_has_submodule(app_config.module, "bench_ops"):
            importlib.import_module(f"{app_config.name}.bench_ops")


def operations() -> list[BenchOperation]:
    """Every registered operation, the trivial baseline first, then in registration order."""
    _discover()
    return sorted(_operations.values(), key=lambda operation: operation.key != TRIVIAL)


def tables() -> list[type[Model]]:
    _discover()
    return [apps.get_model(label) for label in _tables]

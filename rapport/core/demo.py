"""Demo data: `rapport demo --scale S|M|L`.

Each app that has records to show adds a generator in its own ``demo.py`` with
``@demo.generator(order=…)``; they run in order inside one DemoContext, so later apps
build on the users, clients and deals earlier ones made. Generators insert in bulk
(never one save per row): scale M is data set "M" of shared/DESIGN.md and must load
in a few minutes on two cores.
"""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import connection
from django.utils.module_loading import module_has_submodule
from faker import Faker

if TYPE_CHECKING:
    from rapport.accounts.models import Team, User

# Faker locales of the four languages Rapport speaks; each demo team works in one of them.
LOCALES = ["ru_RU", "vi_VN", "bg_BG", "en_US"]
DEMO_PASSWORD = "demo"  # noqa: S105  (the demo users' published password)


@dataclass(frozen=True)
class Scale:
    name: str
    teams: int
    managers_per_team: int
    companies: int
    contacts: int
    deals: int
    activities: int


SCALES = {
    "S": Scale("S", teams=3, managers_per_team=5, companies=2_000, contacts=5_000, deals=3_000, activities=30_000),
    "M": Scale(
        "M", teams=10, managers_per_team=10, companies=200_000, contacts=500_000, deals=300_000, activities=3_000_000
    ),
    "L": Scale(
        "L",
        teams=30,
        managers_per_team=20,
        companies=1_000_000,
        contacts=2_500_000,
        deals=1_500_000,
        activities=15_000_000,
    ),
}


@dataclass
class DemoContext:
    scale: Scale
    log: Callable[[str], Any]
    rng: random.Random = field(default_factory=lambda: random.Random(2026))
    teams: list[Team] = field(default_factory=list)
    team_locale: dict[int, str] = field(default_factory=dict)  # team id -> Faker locale
    managers: list[User] = field(default_factory=list)
    users_by_role: dict[str, list[User]] = field(default_factory=dict)
    _fakers: dict[str, Faker] = field(default_factory=dict)

    def faker(self, locale: str) -> Faker:
        if locale not in self._fakers:
            fake = Faker(locale)
            fake.seed_instance(self.rng.randrange(1 << 30))
            self._fakers[locale] = fake
        return self._fakers[locale]


Generator = Callable[[DemoContext], None]
_generators: list[tuple[int, str, Generator]] = []


def generator(*, order: int) -> Callable[[Generator], Generator]:
    def register(function: Generator) -> Generator:
        name = f"{function.__module__}.{function.__name__}"
        if all(existing != name for _, existing, _ in _generators):
            _generators.append((order, name, function))
        return function

    return register


def _discover() -> None:
    for app_config in apps.get_app_configs():
        if app_config.name.startswith("rapport.") and module_has_submodule(app_config.module, "demo"):
            importlib.import_module(f"{app_config.name}.demo")


def is_loaded() -> bool:
    from rapport.accounts.demo import demo_users_exist

    return demo_users_exist()


def vacuum() -> None:
    """After a load has committed, on PostgreSQL: mark the new pages all-visible, so counts over millions of rows
    are answered from indexes alone (index-only scans), as they are once autovacuum has been by. VACUUM cannot
    run inside a transaction, and a load runs in one (all or nothing), so its command calls this after it."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def load(scale_name: str, *, log: Callable[[str], Any] = print) -> DemoContext:
    _discover()
    context = DemoContext(scale=SCALES[scale_name], log=log)
    started = time.monotonic()
    for _, name, function in sorted(_generators, key=lambda entry: entry[0]):
        step_started = time.monotonic()
        function(context)
        app, step = name.split(".")[1], name.rsplit(".", 1)[-1]
        log(f"  {app} · {step}: {time.monotonic() - step_started:.1f} s")
    # Fresh planner statistics: without them the first queries on millions of new rows
    # pick plans for empty tables (PostgreSQL's autovacuum would only catch up later).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"Demo data, scale {scale_name}, loaded in {time.monotonic() - started:.1f} s.")
    log(f"Sign in as manager, head, operator, marketer, analyst or agent with the password “{DEMO_PASSWORD}”.")
    return context

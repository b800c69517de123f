"""Simultaneous claims, each in a thread with a database connection of its own: the first claim wins.

On PostgreSQL the threads use the test database itself. SQLite's test database lives in memory,
shared between connections in a way that fails a second writer at once instead of making it
wait; production runs SQLite from a file (WAL, a busy timeout, IMMEDIATE transactions: see
config/env.py), so here the threads race on a file copy of the test database with those settings.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.utils import load_backend

from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import ClientStatus, ClientTransfer, Company, TransferKind
from rapport.supervision.models import PoolPolicy
from rapport.supervision.pool import pool_claim

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 3
# How long the first claim holds its locks before it writes: long enough for the other to arrive meanwhile.
HOLD_SECONDS = 0.2


class Race:
    """Runs calls at the same moment, each in its own thread and connection, and reads what they left behind."""

    def __init__(self, copy_to: Path) -> None:
        self.settings: dict[str, Any] | None = None
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(copy_to) as file:
                connection.connection.backup(file)
            self.settings = {**connection.settings_dict, "NAME": str(copy_to)}

    @contextmanager
    def own_connection(self) -> Iterator[None]:
        """This thread's default connection: to the file copy on SQLite, a new one to the test database otherwise."""
        previous = connections["default"]
        if self.settings is not None:
            connections["default"] = load_backend(self.settings["ENGINE"]).DatabaseWrapper(self.settings, "default")
        try:
            yield
        finally:
            connections["default"].close()
            connections["default"] = previous

    def run(self, *calls: Callable[[], object]) -> list[object]:
        """Each call's result, or the exception it raised, in the order given."""
        start = threading.Barrier(len(calls))
        results: list[object] = [None] * len(calls)

        def racer(number: int, call: Callable[[], object]) -> None:
            with self.own_connection():
                start.wait()
                try:
                    results[number] = call()
                except Exception as error:  # the assertions look at it
                    results[number] = error

        threads = [threading.Thread(target=racer, args=(number, call)) for number, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads), "a claim never finished"
        return results

    @contextmanager
    def afterwards(self) -> Iterator[None]:
        """Read the database the racers wrote to (the file copy on SQLite)."""
        if self.settings is None:
            yield
            return
        with self.own_connection():
            yield


@pytest.fixture
def race(tmp_path: Path) -> Callable[[], Race]:
    return lambda: Race(tmp_path / f"race-{len(list(tmp_path.iterdir()))}.sqlite3")


@pytest.fixture(autouse=True)
def slow_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each claim pauses after it has locked the client (and counted the claimer's week), so that claims sent
    together really overlap: without the locks, both would pass the checks before either wrote."""
    move = services._move_owner

    def slowly(**kwargs: Any) -> ClientTransfer:
        time.sleep(HOLD_SECONDS)
        return move(**kwargs)

    monkeypatch.setattr(services, "_move_owner", slowly)


def pooled(by: User, name: str) -> Company:
    return services.company_create(by=by, name=name)


def refusal_code(result: object) -> str | None:
    return getattr(result, "code", None) if isinstance(result, ValidationError) else None


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_two_managers_claim_one_client_at_once_and_the_first_wins(
    race: Callable[[], Race], manager: User, outsider: User, operator: User, round_number: int
) -> None:
    company = pooled(operator, f"Contested {round_number}")
    contest = race()

    results = contest.run(
        lambda: pool_claim(by=manager, client=company), lambda: pool_claim(by=outsider, client=company)
    )

    won = [result for result in results if isinstance(result, ClientTransfer)]
    lost = [result for result in results if not isinstance(result, ClientTransfer)]
    assert len(won) == 1, results
    assert [refusal_code(result) for result in lost] == ["taken"], results
    winner = manager if won[0].to_user_id == manager.pk else outsider
    message = str(lost[0].messages[0])  # type: ignore[attr-defined]
    assert message.startswith(f"Contested {round_number} is no longer in the pool: "), message
    with contest.afterwards():
        fresh = Company.objects.get(pk=company.pk)
        assert (fresh.owner_id, fresh.status) == (winner.pk, ClientStatus.ACTIVE)
        claims = ClientTransfer.objects.filter(company=company)
        assert list(claims.values_list("kind", "to_user", "by")) == [(TransferKind.POOL_CLAIM, winner.pk, winner.pk)]


def test_one_person_claiming_twice_at_once_with_one_claim_left_gets_one(
    race: Callable[[], Race], manager: User, operator: User
) -> None:
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claims_per_week": 1})
    first, second = pooled(operator, "First"), pooled(operator, "Second")
    contest = race()

    results = contest.run(lambda: pool_claim(by=manager, client=first), lambda: pool_claim(by=manager, client=second))

    assert sorted(type(result).__name__ for result in results) == ["ClientTransfer", "ValidationError"], results
    assert [refusal_code(result) for result in results if isinstance(result, ValidationError)] == ["limit"]
    with contest.afterwards():
        assert ClientTransfer.objects.filter(by=manager, kind=TransferKind.POOL_CLAIM).count() == 1
        assert Company.objects.filter(owner=manager).count() == 1
        assert Company.objects.filter(status=ClientStatus.POOL).count() == 1

"""Two people move the same deal at once: the second waits for the first, then moves it on."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from rapport.accounts.models import User
from rapport.sales import services
from rapport.sales.models import Deal, Pipeline
from rapport.sales.tests.factories import stage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
def test_a_move_waiting_on_another_one_still_finds_the_deal(manager: User, deal: Deal, pipeline: Pipeline) -> None:
    moved: list[object] = []

    def second_move() -> None:
        try:
            moved.append(services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Qualification")))
        except Exception as error:  # reported by the assertions below
            moved.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Presentation"))
        waiting = threading.Thread(target=second_move)
        waiting.start()
        waiting.join(timeout=1)  # it blocks on the row lock this transaction holds
        assert waiting.is_alive()
    waiting.join(timeout=10)
    assert len(moved) == 1
    assert isinstance(moved[0], Deal), moved[0]
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"
    assert deal.stage_changes.count() == 3

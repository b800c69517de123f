from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rapport.core.models import JobRun
from rapport.core.tasks import HEARTBEAT, heartbeat


def test_healthz_is_unhealthy_until_the_heartbeat_has_run(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is True
    assert response.json()["queue"]["ok"] is False

    heartbeat.enqueue()  # the immediate backend runs it now, as the worker would

    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert JobRun.objects.get(name=HEARTBEAT).runs == 1


def test_a_stale_heartbeat_makes_healthz_fail(db: None) -> None:
    JobRun.objects.create(name=HEARTBEAT, last_run_at=timezone.now() - timedelta(minutes=30), runs=5)
    assert Client().get("/healthz").status_code == 503


def test_heartbeat_counts_runs(db: None) -> None:
    heartbeat.call()
    heartbeat.call()
    assert JobRun.objects.get(name=HEARTBEAT).runs == 2


def test_ping_is_trivial(db: None, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(0):
        response = Client().get("/ping")
    assert response.content == b"pong"


@pytest.mark.usefixtures("personas")
def test_system_status_for_admins(as_admin: Client) -> None:
    heartbeat.enqueue()
    page = as_admin.get("/system/").content.decode()
    assert "heartbeat" in page
    assert "status-green" in page

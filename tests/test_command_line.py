"""The `rapport` command as an operator meets it: a real process, a real database file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def rapport(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "rapport", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    return {
        **clean,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rapport.sqlite3'}",
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        "RAPPORT_ADMIN_PASSWORD": "",
    }


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres://nobody@127.0.0.1:1/rapport", "cannot use the database in DATABASE_URL (postgresql)"),
        ("mysql://root@127.0.0.1/rapport", "DATABASE_URL must start with sqlite:/// or postgres://"),
    ],
)
def test_broken_database_url_stops_with_one_line(env: dict[str, str], url: str, says: str) -> None:
    result = rapport("up", "--no-serve", env={**env, "DATABASE_URL": url})
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_up_prepares_the_database_and_shows_the_admin_password_once(env: dict[str, str]) -> None:
    first = rapport("up", "--no-serve", env=env)
    assert first.returncode == 0, first.stderr
    assert "username: admin" in first.stdout
    password = first.stdout.split("password: ", 1)[1].split()[0]
    assert len(password) >= 12

    second = rapport("up", "--no-serve", env=env)
    assert second.returncode == 0, second.stderr
    assert "password:" not in second.stdout


def test_demo_loads_once(env: dict[str, str]) -> None:
    assert rapport("up", "--no-serve", env=env).returncode == 0
    loaded = rapport("demo", "--scale", "S", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "Demo data, scale S, loaded" in loaded.stdout
    again = rapport("demo", "--scale", "S", env=env)
    assert again.returncode != 0
    assert "already loaded" in again.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_up_serves_with_worker_and_scheduler_and_stops_cleanly(env: dict[str, str]) -> None:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "rapport", "up", "--port", str(port), "--web-workers", "1"],
        env={**env, "RAPPORT_ADMIN_PASSWORD": "first-admin-pass"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        health = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                # Healthy means the heartbeat went scheduler/queue → worker → database.
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert health is not None
        assert health.status_code == 200, health.text
        assert health.json()["queue"]["heartbeat"]
        login = httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
        assert login.status_code == 200
        assert "Sign in to Rapport" in login.text
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Stopped." in output
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2)

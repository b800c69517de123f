from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.env import database_from_url, env_bool, mailer_from_url, persisted_secret_key


def test_sqlite_url_is_made_absolute_and_uses_wal(tmp_path: Path) -> None:
    config = database_from_url("sqlite:///var/x.sqlite3", base_dir=tmp_path)
    assert config["NAME"] == str(tmp_path / "var/x.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_postgres_url() -> None:
    config = database_from_url("postgres://crm:pw@db.internal:5433/rapport", base_dir=Path("/"))
    assert (config["ENGINE"], config["HOST"], config["PORT"], config["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        5433,
        "rapport",
    )
    # Short queries never gain from PostgreSQL compiling them; a costly-looking one lost 0.9 s to it.
    assert config["OPTIONS"]["options"] == "-c jit=off"


# The suite runs on both databases (make test); SQLite has no JIT to switch off, so this runs in the PostgreSQL pass.
@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is a PostgreSQL setting")
@pytest.mark.django_db
def test_our_postgresql_sessions_run_without_jit() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


@pytest.mark.parametrize("url", ["mysql://x@y/z", "nonsense", "redis://127.0.0.1"])
def test_unsupported_database_url_says_what_is_wrong(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must start with sqlite:/// or postgres://"):
        database_from_url(url, base_dir=Path("/"))


def test_mail_urls() -> None:
    assert mailer_from_url("")["BACKEND"].endswith("console.EmailBackend")
    tls = mailer_from_url("smtp+tls://me%40corp.com:p%40ss@mail.corp.com")
    assert tls["OPTIONS"] == {
        "host": "mail.corp.com",
        "port": 587,
        "username": "me@corp.com",
        "password": "p@ss",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
    }
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL must start with"):
        mailer_from_url("http://mail")


def test_booleans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false"):
        env_bool("FLAG")


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = persisted_secret_key(path)
    assert len(first) >= 50
    assert persisted_secret_key(path) == first
    assert path.stat().st_mode & 0o777 == 0o600


def test_key_value_maps_and_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.env import env_choice, env_map

    monkeypatch.setenv("SCOPES", "manager:team, head:all")
    assert env_map("SCOPES") == {"manager": "team", "head": "all"}
    monkeypatch.setenv("SCOPES", "manager")
    with pytest.raises(ImproperlyConfigured, match="key:value"):
        env_map("SCOPES")
    monkeypatch.setenv("EDITORS", "everyone")
    with pytest.raises(ImproperlyConfigured, match="EDITORS must be one of owners, operators"):
        env_choice("EDITORS", ["owners", "operators"], default="owners")

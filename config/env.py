"""Reading Rapport's settings from the environment.

Every setting has a safe default so that a fresh clone runs with no configuration;
anything wrong in the environment raises ``ImproperlyConfigured`` with one sentence
that `rapport` prints instead of a traceback.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, choices: list[str], *, default: str) -> str:
    value = env_str(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def env_map(name: str) -> dict[str, str]:
    """Read "key:value,key:value" (e.g. RAPPORT_CLIENT_SCOPES=manager:team,head:all)."""
    result = {}
    for item in env_list(name, []):
        key, sep, value = item.partition(":")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name} must look like key:value,key:value; {item!r} does not.")
        result[key.strip()] = value.strip()
    return result


def database_from_url(url: str, *, base_dir: Path) -> dict[str, Any]:
    """Turn DATABASE_URL into a Django DATABASES entry (SQLite or PostgreSQL)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with sqlite:/// or postgres://, not {url.split(':', 1)[0]!r}."
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {error}") from error
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = str(config.get("NAME") or "")
        if not name:
            raise ImproperlyConfigured("DATABASE_URL for SQLite needs a file path, e.g. sqlite:///var/rapport.sqlite3.")
        if name != ":memory:" and not Path(name).is_absolute():
            name = str(base_dir / name)
        config["NAME"] = name
        # Connections are kept across requests: opening one runs six PRAGMAs and starts with a
        # cold page cache (3–5 ms a page). Between requests a connection holds no transaction,
        # so it pins no WAL snapshot.
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = False
        config["OPTIONS"] = {
            # WAL lets readers work while one writer commits; IMMEDIATE makes a writer
            # take the lock up front instead of failing half-way with "database is locked".
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=10000; PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    else:
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("connect_timeout", 5)
        # PostgreSQL compiles a query to machine code when its estimated cost is high; a page's
        # query over a million-row table crosses that line and then spends ~0.9 s compiling what
        # runs in a tenth of that. Short queries never gain from it: JIT is off for our sessions.
        config["OPTIONS"].setdefault("options", "-c jit=off")
    return config


def mailer_from_url(url: str) -> dict[str, Any]:
    """Read EMAIL_URL into a MAILERS entry.

    smtp://user:pass@host:25, smtp+tls://…:587 (STARTTLS), smtp+ssl://…:465, or console://
    (the default: mail is printed, handy on a laptop).
    """
    if not url or url.startswith("console:"):
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"smtp", "smtp+tls", "smtp+ssl"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with smtp://, smtp+tls://, smtp+ssl:// or console://, not {parts.scheme!r}."
        )
    try:
        port = parts.port
    except ValueError as error:
        raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {error}") from error
    query = parse_qs(parts.query)
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname or "127.0.0.1",
            "port": port or {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}[scheme],
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": scheme == "smtp+tls",
            "use_ssl": scheme == "smtp+ssl",
            "timeout": int(query.get("timeout", ["10"])[0]),
        },
    }


def persisted_secret_key(path: Path) -> str:
    """Return SECRET_KEY, generating it once into ``path`` so sessions survive restarts."""
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Create the file readable by its owner only, before writing the secret into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key

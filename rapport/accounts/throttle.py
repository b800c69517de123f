"""Login rate limiting: after a few failures the username and the address pause.

Counts live in the shared cache (the database or Redis), so every web process sees
the same numbers; a success clears the username's count.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _keys(username: str, address: str) -> list[str]:
    return [_key("user", username), _key("addr", address)]


def login_is_paused(*, username: str, address: str) -> bool:
    counts = cache.get_many(_keys(username, address))
    return any(count >= settings.LOGIN_FAILURE_LIMIT for count in counts.values())


def login_failed(*, username: str, address: str) -> None:
    for key in _keys(username, address):
        # add() starts the window; incr() keeps its expiry, so the pause ends on time.
        if not cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_succeeded(*, username: str) -> None:
    cache.delete(_key("user", username))

"""Personas shared by every test: who is who in a small company.

Team A: ``head`` heads it; ``manager``, ``teammate`` and ``agent`` work in it.
Team B: ``outsider`` works there. ``operator`` and ``admin`` belong to no team.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import TeamFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the live server is fine with that.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # The login throttle lives in the cache; a test must not inherit another's failures.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # Each test starts in English, whatever language a request of the test before left active
    # (the locale middleware activates the user's language for the thread).
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def team_a(db: None) -> Team:
    return TeamFactory(name="Team A")


@pytest.fixture
def team_b(db: None) -> Team:
    return TeamFactory(name="Team B")


@pytest.fixture
def head(team_a: Team) -> User:
    user = UserFactory(username="head", role=Role.HEAD, team=team_a, first_name="Hanna", last_name="Head")
    team_a.head = user
    team_a.save(update_fields=["head"])
    return user


@pytest.fixture
def manager(team_a: Team, head: User) -> User:
    return UserFactory(username="manager", role=Role.MANAGER, team=team_a, first_name="Mark", last_name="Manager")


@pytest.fixture
def teammate(team_a: Team, head: User) -> User:
    return UserFactory(username="teammate", role=Role.MANAGER, team=team_a, first_name="Tina", last_name="Teammate")


@pytest.fixture
def outsider(team_b: Team) -> User:
    return UserFactory(username="outsider", role=Role.MANAGER, team=team_b, first_name="Oscar", last_name="Outsider")


@pytest.fixture
def operator(db: None) -> User:
    return UserFactory(username="operator", role=Role.OPERATOR, first_name="Olga", last_name="Operator")


@pytest.fixture
def agent(team_a: Team) -> User:
    return UserFactory(username="agent", role=Role.AGENT, team=team_a, first_name="Anton", last_name="Agent")


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(username="boss", role=Role.ADMIN, is_staff=True, first_name="Ada", last_name="Admin")


@pytest.fixture
def personas(
    manager: User, teammate: User, head: User, operator: User, outsider: User, agent: User, admin_user: User
) -> dict[str, User]:
    return {
        "manager": manager,
        "teammate": teammate,
        "head": head,
        "operator": operator,
        "outsider": outsider,
        "agent": agent,
        "admin": admin_user,
    }


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_manager(manager: User) -> Client:
    return client_for(manager)


@pytest.fixture
def as_admin(admin_user: User) -> Client:
    return client_for(admin_user)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802  (aiosmtpd's hook name)
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings: object) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port: aiosmtpd checks it can connect before serving
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.MAILERS = {  # type: ignore[attr-defined]
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
            }
        }
        yield mailbox
    finally:
        controller.stop()


def load_tiny_demo(**sizes: int) -> None:
    """The demo at a scale of a few hundred rows (``sizes`` override the defaults), for the demo's tests."""
    from rapport.core import demo

    scale = {"teams": 2, "managers_per_team": 3, "companies": 300, "contacts": 400, "deals": 200, "activities": 3000}
    demo.SCALES["T"] = demo.Scale("T", **{**scale, **sizes})
    try:
        demo.load("T", log=lambda line: None)
    finally:
        del demo.SCALES["T"]

"""How the API tests call: as a program with a key, or as a browser with the session."""

from __future__ import annotations

from typing import Any

from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.api.services import api_token_create, api_tokens_allowed

API = "/api/v1"


def bearer(user: User) -> Client:
    _, key = api_token_create(by=user, user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {key}"})


def caller(user: User) -> Client:
    """A program acting as this person; outside agents hold no keys, so theirs is the browser session."""
    return bearer(user) if api_tokens_allowed(user) else client_for(user)


def send(client: Client, method: str, url: str, data: Any = None) -> Any:
    return getattr(client, method)(url, data, content_type="application/json")

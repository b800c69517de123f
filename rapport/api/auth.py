"""Who is calling: a Bearer token, or the browser's session (with CSRF for unsafe methods)."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone, translation
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from rapport.accounts.models import User
from rapport.api.models import ApiToken, hash_key
from rapport.api.services import api_tokens_allowed

# last_used_at is a hint for people reviewing their tokens, not an audit log: one write a minute is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User:
        found = ApiToken.objects.active().select_related("user").filter(key_hash=hash_key(token)).first()
        # The holder's standing is checked on every call: a deactivated account, or one that became
        # an outside agent, loses its keys at once (see api_tokens_allowed).
        if found is None or not api_tokens_allowed(found.user):
            # A presented key that does not work is refused outright, not retried as a session:
            # the caller learns their key is wrong (401) instead of meeting a CSRF failure.
            raise AuthenticationError
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        user = found.user
        # The handlers, the services' messages and history rows all read request.user, as in the web views;
        # the preferences middleware ran before the token was known, so apply the user's own settings here.
        request.user = user
        _use_preferences(user)
        return user


def _use_preferences(user: User) -> None:
    if user.language:
        translation.activate(user.language)
    if user.time_zone:
        try:
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()

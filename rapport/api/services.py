"""Making and revoking API tokens."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.api.models import ApiToken, hash_key

# The prefix lets secret scanners (and people) recognise a leaked Rapport key.
KEY_PREFIX = "rpt_"


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its plain key; only the key's hash is kept, so show the key now or never."""
    if not user.is_active:
        raise PermissionDenied
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Fill this in.")})
    plain_key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, key_hash=hash_key(plain_key))
    token.full_clean()
    token.save()
    return token, plain_key


@transaction.atomic
def api_token_revoke(*, by: User, token: ApiToken) -> None:
    """Its owner or an admin switches a token off for good; the row stays as a record of its use."""
    if token.user_id != by.pk and not by.is_admin:
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])

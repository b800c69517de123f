"""Making and revoking API tokens: the token screen, the `rapport api_token` command and the tests all come here."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.api.models import ApiToken, hash_key

# The prefix lets secret scanners (and people) recognise a leaked Rapport key.
KEY_PREFIX = "rpt_"
# How much of a key the token list shows: the marker and six random characters (36 of its 256 bits).
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 6


def api_tokens_allowed(user: User) -> bool:
    """Who may hold API tokens: every active member of the company, but not outside agents.

    An agent's key would keep working unattended on a partner's machines, where the company
    cannot see it; agents use Rapport (and the API from their browser) through their session.
    """
    return user.is_active and (user.role != Role.AGENT or user.is_admin)


@transaction.atomic
def api_token_create(*, by: User, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its plain key; only the key's hash is kept, so show the key now or never.

    People make their own tokens; an admin may make one for a colleague (an integration's user).
    """
    if by.pk != user.pk and not access.can_manage_users(by):
        raise PermissionDenied
    if not api_tokens_allowed(user):
        raise PermissionDenied(_("Outside agents cannot have API tokens."))
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Fill this in.")})
    plain_key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, key_hash=hash_key(plain_key), prefix=plain_key[:SHOWN_PREFIX_LENGTH])
    token.full_clean()
    token.save()
    return token, plain_key


@transaction.atomic
def api_token_revoke(*, by: User, token: ApiToken) -> None:
    """Its owner or an admin switches a token off for good; the row stays as a record of its use."""
    if token.user_id != by.pk and not access.can_manage_users(by):
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])

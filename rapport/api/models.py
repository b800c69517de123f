"""Personal API tokens: a program acts as the user who made the token, with that user's rights."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import User


def hash_key(plain_key: str) -> str:
    """Tokens are stored as SHA-256 digests: a leaked database holds no usable key.

    A plain hash (not a slow password hash) is enough because the key is 256 random bits,
    and it lets a request find its token by an indexed lookup.
    """
    return hashlib.sha256(plain_key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)

    def visible_to(self, user: User) -> ApiTokenQuerySet:
        """A person's own tokens; admins, who manage the people, see everyone's."""
        if access.can_manage_users(user):
            return self.all()
        return self.filter(user=user)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The key's first characters, so people can tell their keys apart; far too few to be used as one.
    # Tokens made before it was kept have none.
    prefix = models.CharField(_("prefix"), max_length=12, blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

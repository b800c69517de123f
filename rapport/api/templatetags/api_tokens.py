"""A way to the token screen from other apps' pages (the profile), shown only to those who may hold keys."""

from __future__ import annotations

from typing import Any

from django import template

from rapport.accounts.models import User
from rapport.api.services import api_tokens_allowed

register = template.Library()


@register.inclusion_tag("api/_tokens_link.html")
def api_tokens_link(user: User) -> dict[str, Any]:
    return {"show": api_tokens_allowed(user)}

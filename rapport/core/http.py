"""The typed request every Rapport view receives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from rapport.accounts.models import User


class RapportRequest(HttpRequest):
    """An HttpRequest after authentication and django-htmx: for type checking only."""

    user: User
    htmx: HtmxDetails

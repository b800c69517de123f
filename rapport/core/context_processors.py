from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from rapport.core import navigation
from rapport.core.notifications import unread_count


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the layout needs on every page; lazy, so pages that do not draw the shell pay nothing.

    The bell costs one indexed count: its list is fetched when it is opened.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"languages": settings.LANGUAGES}
    return {
        "languages": settings.LANGUAGES,
        "nav_items": SimpleLazyObject(lambda: navigation.items_for(user)),
        "settings_items": SimpleLazyObject(lambda: navigation.items_for(user, group="settings")),
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }

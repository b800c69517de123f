"""The typed request every Rapport view receives, and the door of views for some people only."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from rapport.accounts.models import User


class RapportRequest(HttpRequest):
    """An HttpRequest after authentication and django-htmx: for type checking only."""

    user: User
    htmx: HtmxDetails


View = Callable[..., HttpResponse]


def allowed_by(check: Callable[[User], bool]) -> Callable[[View], View]:
    """A view for the signed-in people ``check`` lets in (a settings screen's door): others get 403, visitors the
    sign-in page."""

    def decorate(view: View) -> View:
        @login_required
        @functools.wraps(view)
        def wrapped(request: RapportRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate

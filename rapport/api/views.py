"""The API token screen: people make, see and revoke their own keys; admins also everyone else's.

Outside agents hold no keys (see ``services.api_tokens_allowed``), so the screen refuses them.
A new key is shown in the response to the POST that made it and never again: it is not put in
the session or a URL, and the response is marked not to be cached.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rapport.accounts import access
from rapport.api.forms import ApiTokenForm
from rapport.api.models import ApiToken
from rapport.api.services import api_token_create, api_token_revoke, api_tokens_allowed
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest

OTHERS_PER_PAGE = 50


def _require_tokens(request: RapportRequest) -> None:
    if not api_tokens_allowed(request.user):
        raise PermissionDenied


def _others(request: RapportRequest) -> Page[ApiToken] | None:
    """For admins: everybody else's tokens, the working ones first, then the latest revoked."""
    if not access.can_manage_users(request.user):
        return None
    rows = (
        ApiToken.objects.visible_to(request.user)
        .exclude(user=request.user)
        .select_related("user")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
    )
    return Paginator(rows, OTHERS_PER_PAGE).get_page(request.GET.get("page"))


def _render(request: RapportRequest, form: ApiTokenForm, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user),
        "others": _others(request),
        **extra,
    }
    # htmx swaps the whole region (the new key, the form and the lists change together).
    template = "api/token_list.html#api-tokens" if request.htmx else "api/token_list.html"
    return render(request, template, context, status=status)


@login_required
def token_list(request: RapportRequest) -> HttpResponse:
    _require_tokens(request)
    return _render(request, ApiTokenForm())


@require_POST
@never_cache
@login_required
def token_create(request: RapportRequest) -> HttpResponse:
    _require_tokens(request)
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, key = api_token_create(by=request.user, user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return _render(request, ApiTokenForm(), status=201, new_token=token, new_key=key)
    return _render(request, form, status=422)


@require_POST
@login_required
def token_revoke(request: RapportRequest, token_id: int) -> HttpResponse:
    _require_tokens(request)
    # Another person's token is not found, unless an admin asks.
    token = get_object_or_404(ApiToken.objects.visible_to(request.user).select_related("user"), pk=token_id)
    api_token_revoke(by=request.user, token=token)
    if token.user_id == request.user.pk:
        notice = _("“%(name)s” is revoked: programs using it are refused from now on.") % {"name": token.name}
    else:
        notice = _("%(person)s's token “%(name)s” is revoked: programs using it are refused from now on.") % {
            "person": token.user.display_name,
            "name": token.name,
        }
    if request.htmx:
        return _render(request, ApiTokenForm(), notice=notice)
    messages.success(request, notice)
    return redirect("tokens:token-list")

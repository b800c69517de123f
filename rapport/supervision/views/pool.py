"""The shared pool on screen: its clients, the latest to enter first, a claim per row; the limit for admins.

Everyone who sees the pool's clients opens the page (``access.sees_pool``); managers and heads
claim (``pool.pool_claim``, which the client's card and the API call too). A claim answers htmx
with its row drawn again — "Yours now" with a link to the card, or the refusal beside the row
(422) — and the viewer's claims this week out of band; without JS it goes back to the list with a
message. The weekly limit is the admins' (``pool_policy``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts import access
from rapport.clients.models import CLIENT_MODELS
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest
from rapport.core.paging import page_number
from rapport.supervision import pool
from rapport.supervision.models import PoolPolicy

PAGE = "supervision/pool.html"
ROW = "supervision/pool_claimed.html"
POLICY = "supervision/pool_policy.html"
KIND_CHOICES = [
    ("", gettext_lazy("Companies and contacts")),
    ("company", gettext_lazy("Companies")),
    ("contact", gettext_lazy("Contacts")),
]


class PoolFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name, tax id, phone or e-mail"), required=False, max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Show"), required=False, choices=KIND_CHOICES)


class ClaimForm(forms.Form):
    """What a row's Claim button sends: which client, as "company-12" (and, without JS, the list to go back to)."""

    claim = forms.RegexField(regex=r"^(company|contact)-[1-9][0-9]{0,17}$")
    back = forms.CharField(required=False, max_length=500)

    def client_key(self) -> tuple[str, int]:
        kind, pk = self.cleaned_data["claim"].split("-")
        return kind, int(pk)


class PoolPolicyForm(forms.Form):
    claims_per_week = forms.IntegerField(
        label=gettext_lazy("Claims per manager and week"),
        min_value=0,
        max_value=10_000,
        help_text=gettext_lazy(
            "How many clients each manager or head may take from the pool from Monday to Sunday; "
            "0 closes the pool to claims."
        ),
    )


def _list_query(data: dict[str, Any]) -> str:
    return urlencode({name: data[name] for name in ("q", "kind") if data.get(name)})


def _back_to_list(query: str) -> str:
    """The list as it was (its filters and page, nothing else), after a claim without JS."""
    sent = QueryDict(query)
    kept = urlencode({name: sent[name] for name in ("q", "kind", "page") if sent.get(name)})
    return f"{reverse('supervision:pool')}?{kept}" if kept else reverse("supervision:pool")


@require_safe
@login_required
def pool_page(request: RapportRequest) -> HttpResponse:
    user = request.user
    if not access.sees_pool(user):
        raise PermissionDenied
    form = PoolFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    page = pool.pool_list(
        user, query=filters.get("q", ""), kind=filters.get("kind", ""), number=page_number(request.GET)
    )
    context = {
        "form": form,
        "page": page,
        "list_query": _list_query(filters),
        "usage": pool.pool_usage(user),
        "can_claim": access.can_claim_from_pool(user),
        "can_configure": access.can_configure_pool(user),
    }
    if request.htmx and request.htmx.target == "pool-table":
        return render(request, f"{PAGE}#pool-table", context)
    return render(request, PAGE, context)


@require_POST
@login_required
def pool_claim(request: RapportRequest) -> HttpResponse:
    user = request.user
    if not access.can_claim_from_pool(user):
        raise PermissionDenied
    form = ClaimForm(request.POST)
    if not form.is_valid():
        raise Http404
    kind, client_id = form.client_key()
    client = access.client_for_pool_claim(user, CLIENT_MODELS[kind], client_id)
    refusal = ""
    try:
        pool.pool_claim(by=user, client=client)
    except ValidationError as error:
        refusal = " ".join(error.messages)
    if request.htmx:
        context = {
            "row": pool.pool_row(client),
            "claimed": not refusal,
            "refusal": refusal,
            "usage": pool.pool_usage(user),
        }
        return render(request, ROW, context, status=422 if refusal else 200)
    if refusal:
        messages.error(request, refusal)
    else:
        messages.success(request, _("%(client)s is yours now.") % {"client": client.display_name})
    return redirect(_back_to_list(form.cleaned_data["back"]))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def pool_policy(request: RapportRequest) -> HttpResponse:
    if not access.can_configure_pool(request.user):
        raise PermissionDenied
    policy = PoolPolicy.current()
    if request.method != "POST":
        form = PoolPolicyForm(initial={"claims_per_week": policy.claims_per_week})
        return render(request, POLICY, {"form": form, "policy": policy})
    form = PoolPolicyForm(request.POST)
    if form.is_valid():
        try:
            pool.pool_policy_save(by=request.user, claims_per_week=form.cleaned_data["claims_per_week"])
        except ValidationError as error:
            apply_validation_error(form, error)
    if form.errors:
        return render(request, POLICY, {"form": form, "policy": policy}, status=422)
    messages.success(request, _("The pool's limit is saved: it applies to the claims from now on."))
    return redirect("supervision:pool")


urlpatterns: list[URLPattern] = [
    path("pool/", pool_page, name="pool"),
    path("pool/claim/", pool_claim, name="pool-claim"),
    path("pool/policy/", pool_policy, name="pool-policy"),
]

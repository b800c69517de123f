"""Orders on screen: the client card's orders panel (list, add, correct, delete), "Record the order" on a won deal's
card, and the CSV import (see sales.order_imports).

The panel is one region (``#client-orders``): htmx requests answer with it redrawn, and an
``orders-changed`` event on which the regularity panel reloads itself; a plain form post gets a
redirect back to the card, so it works without JavaScript. Every write is a service of
``sales.orders``, whose refusals are shown next to the fields they name.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import trigger_client_event

from rapport.accounts import access
from rapport.core import imports
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest
from rapport.core.imports import ImportForm
from rapport.sales import orders
from rapport.sales.models import Order
from rapport.sales.order_imports import MAX_ROWS, import_orders
from rapport.sales.orders import AnyClient, client_of

PANEL = "sales/order_panel.html"
IMPORT = "sales/order_import.html"
CHANGED = "orders-changed"
# The card shows the latest orders; "show all" the latest this many.
ORDERS_SHOWN = 10
ORDERS_ALL = 200


class OrderForm(forms.Form):
    # No bounds here: the service says what is wrong with a negative amount or an absurd date, in its words.
    on = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=gettext_lazy("Amount"))
    currency = forms.ChoiceField(label=gettext_lazy("Currency"))
    volume = forms.DecimalField(
        label=gettext_lazy("Volume"), required=False, help_text=gettext_lazy("In the client's unit: pallets, tonnes…")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = cast(forms.ChoiceField, self.fields["currency"])
        currency.choices = [(code, code) for code in settings.RAPPORT_CURRENCIES]
        currency.initial = settings.RAPPORT_DEFAULT_CURRENCY


def _client_for(request: RapportRequest, kind: str, client_id: int) -> AnyClient:
    if kind == "company":
        return access.company_for_user(request.user, client_id)
    if kind == "contact":
        return access.contact_for_user(request.user, client_id)
    raise Http404


def _recordable(request: RapportRequest, client: AnyClient) -> AnyClient:
    if not access.can_record_orders(request.user, client):
        raise PermissionDenied
    return client


def _panel_context(
    request: RapportRequest, client: AnyClient, *, show_all: bool = False, **extra: Any
) -> dict[str, Any]:
    """The client's latest orders (one query) and what the person may do with them."""
    shown = ORDERS_ALL if show_all else ORDERS_SHOWN
    rows = list(
        Order.objects.filter(**{client.kind: client}).select_related("deal").order_by("-on", "-id")[: shown + 1]
    )
    can_record = access.can_record_orders(request.user, client)
    return {
        "client": client,
        "orders": rows[:shown],
        "more": len(rows) > shown,
        "can_record": can_record,
        "add_form": None,
        "editing": None,
        "edit_form": None,
        **extra,
    }


def orders_panel(request: HttpRequest, client: AnyClient) -> str:
    """The client card's orders panel (registered with clients.card_panels): nothing for who may neither read any
    order of the client nor record one."""
    context = _panel_context(cast(RapportRequest, request), client)
    if not context["orders"] and not context["can_record"]:
        return ""
    return render_to_string(PANEL, context, request=request)


def _answer(request: RapportRequest, client: AnyClient, context: dict[str, Any], *, changed: bool) -> HttpResponse:
    """The panel for htmx (telling the card that orders changed); for a plain post, back to the card."""
    failed = any(getattr(context.get(name), "errors", None) for name in ("add_form", "edit_form"))
    if not request.htmx and not failed:
        return redirect(f"{client.get_absolute_url()}#client-orders")
    response = render(request, PANEL, context, status=422 if failed else 200)
    if changed and not failed:
        trigger_client_event(response, CHANGED)
    return response


@require_safe
@login_required
def order_panel(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    """The panel as it stands: what "Cancel" goes back to, and "all orders"."""
    client = _client_for(request, kind, client_id)
    return render(request, PANEL, _panel_context(request, client, show_all="all" in request.GET))


@require_http_methods(["GET", "POST"])
@login_required
def order_add(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = _recordable(request, _client_for(request, kind, client_id))
    if request.method != "POST":
        return render(request, PANEL, _panel_context(request, client, add_form=OrderForm()))
    form = OrderForm(request.POST)
    if form.is_valid():
        try:
            orders.order_create(by=request.user, client=client, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
    if form.errors:
        return _answer(request, client, _panel_context(request, client, add_form=form), changed=False)
    if not request.htmx:
        messages.success(request, _("The order is recorded."))
    return _answer(request, client, _panel_context(request, client), changed=True)


def _order_of(request: RapportRequest, order_id: int) -> tuple[Order, AnyClient]:
    order = access.order_for_user(request.user, order_id)
    return order, _recordable(request, client_of(order))


@require_http_methods(["GET", "POST"])
@login_required
def order_edit(request: RapportRequest, order_id: int) -> HttpResponse:
    order, client = _order_of(request, order_id)
    if request.method != "POST":
        initial = {"on": order.on, "amount": order.amount, "currency": order.currency, "volume": order.volume}
        form = OrderForm(initial=initial)
        return render(request, PANEL, _panel_context(request, client, editing=order.pk, edit_form=form))
    form = OrderForm(request.POST)
    if form.is_valid():
        try:
            orders.order_update(by=request.user, order=order, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
    if form.errors:
        context = _panel_context(request, client, editing=order.pk, edit_form=form)
        return _answer(request, client, context, changed=False)
    return _answer(request, client, _panel_context(request, client), changed=True)


@require_POST
@login_required
def order_delete(request: RapportRequest, order_id: int) -> HttpResponse:
    order, client = _order_of(request, order_id)
    orders.order_delete(by=request.user, order=order)
    return _answer(request, client, _panel_context(request, client), changed=True)


@require_POST
@login_required
def order_from_deal(request: RapportRequest, deal_id: int) -> HttpResponse:
    """ "Record the order" on a won deal's card: a plain post, answered with the card and a message."""
    deal = access.deal_for_user(request.user, deal_id)
    volume = forms.DecimalField(required=False)
    try:
        order = orders.order_from_deal(by=request.user, deal=deal, volume=volume.clean(request.POST.get("volume", "")))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The order of %(amount)s %(currency)s is recorded for %(client)s.")
            % {"amount": order.amount, "currency": order.currency, "client": client_of(order).display_name},
        )
    return redirect(deal.get_absolute_url())


@require_http_methods(["GET", "POST"])
@login_required
def order_import(request: RapportRequest) -> HttpResponse:
    if not access.can_import_orders(request.user):
        raise PermissionDenied
    context: dict[str, object] = {"max_rows": MAX_ROWS, "currencies": settings.RAPPORT_CURRENCIES}
    if request.method != "POST":
        return render(request, IMPORT, {**context, "form": ImportForm()})
    form = ImportForm(request.POST, request.FILES)
    try:
        data, token = imports.chosen_file(request, form, "orders")
    except imports.ExpiredError:
        messages.error(request, _("The checked file has expired: choose it again."))
        return redirect(request.path)
    if data is None:
        return render(request, IMPORT, {**context, "form": form}, status=422)
    result = import_orders(by=request.user, data=data, apply=request.POST.get("action") == "apply")
    if result.applied:
        imports.forget(request, "orders", token)
        text = ngettext("Imported %(count)s order.", "Imported %(count)s orders.", result.created) % {
            "count": result.created
        }
        if result.skipped:
            text += " " + ngettext(
                "%(count)s row was recorded before and skipped.",
                "%(count)s rows were recorded before and skipped.",
                result.skipped,
            ) % {"count": result.skipped}
        messages.success(request, text)
        return redirect(request.path)
    if result.can_apply:
        token = imports.keep(request, "orders", data, token)
    context.update({"form": ImportForm(), "result": result, "token": token if result.can_apply else ""})
    return render(request, IMPORT, context, status=422 if result.errors else 200)


urlpatterns: list[URLPattern] = [
    path("orders/import/", order_import, name="order-import"),
    path("orders/<str:kind>/<int:client_id>/", order_panel, name="order-panel"),
    path("orders/<str:kind>/<int:client_id>/new/", order_add, name="order-add"),
    path("orders/<int:order_id>/edit/", order_edit, name="order-edit"),
    path("orders/<int:order_id>/delete/", order_delete, name="order-delete"),
    path("deals/<int:deal_id>/order/", order_from_deal, name="order-from-deal"),
]

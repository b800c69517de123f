"""The product catalogue: everyone who sells browses prices and stock; admins change them and import CSV files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from rapport.accounts import access
from rapport.core import imports
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest
from rapport.core.imports import ImportForm
from rapport.core.paging import page_number
from rapport.sales import catalogue
from rapport.sales.models import PriceList, Product, Warehouse
from rapport.sales.settings_forms import PricesAndStockForm, ProductForm

# A checked file waits this long for "Apply" (in the shared cache: any web process may get the click).


def _check_reader(request: RapportRequest) -> None:
    if not access.can_see_catalogue(request.user):
        raise PermissionDenied


def _check_admin(request: RapportRequest) -> None:
    if not access.can_configure_sales(request.user):
        raise PermissionDenied


@require_safe
@login_required
def product_list(request: RapportRequest) -> HttpResponse:
    _check_reader(request)
    query = request.GET.get("q", "").strip()[:100]
    page = catalogue.product_page(catalogue.product_search(query), page_number(request.GET))
    context = {
        "page": page,
        "query": query,
        "can_edit": access.can_configure_sales(request.user),
        # Rows link to their pages by id: one reverse() for the page instead of one per row.
        "detail_prefix": reverse("sales:product-detail", args=[0])[:-2],
    }
    if request.htmx and request.htmx.target == "product-table":
        return render(request, "sales/products/product_list.html#product-table", context)
    return render(request, "sales/products/product_list.html", context)


@require_safe
@login_required
def product_detail(request: RapportRequest, product_id: int) -> HttpResponse:
    _check_reader(request)
    product = get_object_or_404(Product, pk=product_id)
    price_lists, warehouses = list(PriceList.objects.all()), list(Warehouse.objects.all())
    [row] = catalogue.product_rows([product], price_lists, warehouses)
    return render(
        request,
        "sales/products/product_detail.html",
        {
            "product": product,
            "prices": list(zip(price_lists, row.prices, strict=True)),
            "stock": list(zip(warehouses, row.stock, strict=True)),
            "can_edit": access.can_configure_sales(request.user),
        },
    )


@login_required
def product_create(request: RapportRequest) -> HttpResponse:
    _check_admin(request)
    form = ProductForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            product = catalogue.product_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The product is in the catalogue: now set its prices and stock."))
            return redirect("sales:product-prices", product.pk)
    return render(
        request,
        "sales/products/product_form.html",
        {"form": form, "product": None},
        status=422 if form.errors else 200,
    )


@login_required
def product_edit(request: RapportRequest, product_id: int) -> HttpResponse:
    _check_admin(request)
    product = get_object_or_404(Product, pk=product_id)
    form = ProductForm.for_product(product, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.product_update(by=request.user, product=product, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:product-detail", product.pk)
    return render(
        request,
        "sales/products/product_form.html",
        {"form": form, "product": product},
        status=422 if form.errors else 200,
    )


@login_required
def product_prices(request: RapportRequest, product_id: int) -> HttpResponse:
    _check_admin(request)
    product = get_object_or_404(Product, pk=product_id)
    form = PricesAndStockForm(
        request.POST if request.method == "POST" else None,
        product=product,
        price_lists=list(PriceList.objects.all()),
        warehouses=list(Warehouse.objects.all()),
    )
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.product_prices_set(by=request.user, product=product, prices=form.prices(), stock=form.stock())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Prices and stock saved."))
            return redirect("sales:product-detail", product.pk)
    return render(
        request,
        "sales/products/product_prices.html",
        {"form": form, "product": product},
        status=422 if form.errors else 200,
    )


# ---- Import ------------------------------------------------------------------------------------


def _catalogue_import(request: RapportRequest, kind: catalogue.ImportKind) -> HttpResponse:
    _check_admin(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {
        "kind": kind,
        "price_lists": PriceList.objects.all(),
        "warehouses": Warehouse.objects.all(),
    }
    if request.method != "POST":
        return render(request, "sales/products/import.html", {**context, "form": ImportForm()})
    try:
        data, token = imports.chosen_file(request, form, "sales")
    except imports.ExpiredError:
        messages.error(request, _("The checked file has expired: choose it again."))
        return redirect(request.path)
    if data is None:
        return render(request, "sales/products/import.html", {**context, "form": form}, status=422)

    if request.POST.get("action") == "apply":
        plan = catalogue.import_apply(by=request.user, data=data, kind=kind)
        if plan.can_apply:
            imports.forget(request, "sales", token)
            messages.success(
                request,
                _("Imported. New products: %(created)s, updated: %(updated)s, unchanged: %(unchanged)s.")
                % {"created": plan.created, "updated": plan.updated, "unchanged": plan.unchanged},
            )
            return redirect("sales:product-list")
    else:
        plan = catalogue.import_plan(data, kind=kind)
    if plan.can_apply:
        token = imports.keep(request, "sales", data, token)
    context.update({"form": ImportForm(), "plan": plan, "token": token if plan.can_apply else ""})
    return render(request, "sales/products/import.html", context, status=200 if plan.can_apply else 422)


@login_required
def product_import(request: RapportRequest) -> HttpResponse:
    """Products with prices and stock: check the file (a dry run), then apply it whole."""
    return _catalogue_import(request, "catalogue")


@login_required
def stock_import(request: RapportRequest) -> HttpResponse:
    """Stock levels only: the SKU and stock columns of products already in the catalogue."""
    return _catalogue_import(request, "stock")

"""The catalogue over HTTP (/api/v1/products): everyone who sells reads it, admins change it.

Writes go through ``sales.catalogue``, so the API refuses a negative stock or an unknown
price list exactly as the screens and the CSV import do.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.api.schemas import READ_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, RowId
from rapport.core.http import RapportRequest
from rapport.sales import catalogue
from rapport.sales.api import Money, Quantity, invalid_choice
from rapport.sales.models import PriceList, Product, ProductPrice, StockLevel, Warehouse

router = Router()


class PriceOut(Schema):
    price_list: int = Field(validation_alias="price_list_id")
    name: str = Field(validation_alias="price_list.name")
    currency: str = Field(validation_alias="price_list.currency")
    price: Decimal


class StockOut(Schema):
    warehouse: int = Field(validation_alias="warehouse_id")
    name: str = Field(validation_alias="warehouse.name")
    quantity: Decimal
    reserved: Decimal
    available: Decimal = Field(description="quantity less reserved.")


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    unit: str
    description: str
    is_active: bool = Field(description="On sale: only these can be added to deals.")
    prices: list[PriceOut]
    stock: list[StockOut]
    created_at: datetime
    updated_at: datetime


class ProductPage(Schema):
    items: list[ProductOut]
    has_more: bool


class ProductFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0)
    q: str = Field("", max_length=100, description="The start of a SKU or a part of the name.")
    include_inactive: bool = Field(False, description="Also the products no longer on sale.")


class ProductFields(Input):
    sku: str = Field("", min_length=1, max_length=64)
    name: str = Field("", min_length=1, max_length=200)
    unit: str = Field("pcs", min_length=1, max_length=20)
    description: str = Field("", max_length=10_000)
    is_active: bool = True


class ProductIn(ProductFields):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class PriceIn(Input):
    price_list: RowId
    price: Money | None = Field(description="null removes the price from this list.")


class PricesIn(Input):
    prices: list[PriceIn] = Field(max_length=100)


class StockIn(Input):
    warehouse: RowId
    quantity: Quantity
    reserved: Quantity = Decimal(0)


class StocksIn(Input):
    stock: list[StockIn] = Field(max_length=100)


def _products() -> QuerySet[Product]:
    return Product.objects.prefetch_related(
        Prefetch(
            "prices",
            ProductPrice.objects.select_related("price_list").order_by("-price_list__is_default", "price_list__name"),
        ),
        Prefetch("stock", StockLevel.objects.select_related("warehouse").order_by("warehouse__name")),
    )


def _configurable(by: User) -> None:
    if not access.can_configure_sales(by):
        raise PermissionDenied(_("Only admins change the catalogue."))


def _each_once[M: Model](rows: QuerySet[M], ids: list[int], field: str) -> list[M]:
    """The records for these ids, in their order; an unknown or repeated id is refused."""
    if len(set(ids)) != len(ids):
        raise ValidationError({field: _("Name each one once.")})
    found = rows.in_bulk(ids)
    if len(found) != len(ids):
        raise ValidationError({field: invalid_choice()})
    return [found[pk] for pk in ids]


@router.get("/products", response={200: ProductPage, 401: Message, 422: Invalid}, tags=["products"])
def product_list(request: RapportRequest, filters: Query[ProductFilters]) -> dict[str, Any]:
    """A page of the catalogue by name, with each product's prices and stock: three queries a page."""
    rows = _products().filter(pk__in=catalogue.product_search(filters.q).values("pk")).order_by("name", "id")
    if not filters.include_inactive:
        rows = rows.filter(is_active=True)
    found = list(rows[filters.offset : filters.offset + filters.limit + 1])
    return {"items": found[: filters.limit], "has_more": len(found) > filters.limit}


@router.get("/products/{product_id}", response={200: ProductOut, **READ_ERRORS}, tags=["products"])
def product_detail(request: RapportRequest, product_id: int) -> Product:
    return get_object_or_404(_products(), pk=product_id)


@router.post("/products", response={201: ProductOut, **WRITE_ERRORS}, tags=["products"])
def product_create(request: RapportRequest, payload: ProductIn) -> Status[Product]:
    """Add a product to the catalogue (admins); its prices and stock are set with the PUTs below."""
    _configurable(request.user)
    product = catalogue.product_create(by=request.user, **payload.model_dump())
    return Status(201, get_object_or_404(_products(), pk=product.pk))


@router.patch("/products/{product_id}", response={200: ProductOut, **WRITE_ERRORS}, tags=["products"])
def product_update(request: RapportRequest, product_id: int, payload: ProductFields) -> Product:
    """Change the fields sent (admins); ``is_active: false`` takes a product off sale."""
    _configurable(request.user)
    product = get_object_or_404(Product, pk=product_id)
    catalogue.product_update(by=request.user, product=product, **payload.model_dump(exclude_unset=True))
    return get_object_or_404(_products(), pk=product_id)


@router.put("/products/{product_id}/prices", response={200: ProductOut, **WRITE_ERRORS}, tags=["products"])
def product_prices_set(request: RapportRequest, product_id: int, payload: PricesIn) -> Product:
    """Make the product's prices exactly these (admins): a price list not named loses its price."""
    _configurable(request.user)
    product = get_object_or_404(Product, pk=product_id)
    _each_once(PriceList.objects.all(), [row.price_list for row in payload.prices], "prices")
    given = {row.price_list: row.price for row in payload.prices}
    prices: dict[PriceList, Decimal | None] = {
        price_list: given.get(price_list.pk) for price_list in PriceList.objects.all()
    }
    catalogue.product_prices_set(by=request.user, product=product, prices=prices, stock={})
    return get_object_or_404(_products(), pk=product_id)


@router.put("/products/{product_id}/stock", response={200: ProductOut, **WRITE_ERRORS}, tags=["products"])
def product_stock_set(request: RapportRequest, product_id: int, payload: StocksIn) -> Product:
    """Make the product's stock exactly this (admins): a warehouse not named no longer holds it."""
    _configurable(request.user)
    product = get_object_or_404(Product, pk=product_id)
    _each_once(Warehouse.objects.all(), [row.warehouse for row in payload.stock], "stock")
    given = {row.warehouse: (row.quantity, row.reserved) for row in payload.stock}
    stock: dict[Warehouse, tuple[Decimal, Decimal] | None] = {
        warehouse: given.get(warehouse.pk) for warehouse in Warehouse.objects.all()
    }
    catalogue.product_prices_set(by=request.user, product=product, prices={}, stock=stock)
    return get_object_or_404(_products(), pk=product_id)

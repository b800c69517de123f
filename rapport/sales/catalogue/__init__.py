"""The product catalogue: products, their prices in each price list, stock in each warehouse, and the CSV import.

Managers read the catalogue while building deals; only admins (``access.can_configure_sales``)
change it. Every change goes through a function here, the import included: the import
plans the whole file first (a dry run is that plan shown), then applies it in one
transaction with set-based statements, so a file is either taken whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import User

# The CSV import lives beside; its entry points are part of the catalogue's interface.
from rapport.core.csv_files import RowError
from rapport.core.paging import PAGE_SIZE, PageNumbering
from rapport.sales.catalogue.csv_import import ImportKind, ImportPlan, import_apply, import_plan
from rapport.sales.models import PriceList, Product, ProductPrice, StockLevel, Warehouse

COUNT_CAP = 10_000


def _check_admin(by: User) -> None:
    if not access.can_configure_sales(by):
        raise PermissionDenied


# ---- Reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockCell:
    quantity: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.quantity - self.reserved


@dataclass
class ProductRow:
    product: Product
    prices: list[Decimal | None]  # in the order of the page's price lists
    stock: list[StockCell | None]  # in the order of the page's warehouses


@dataclass
class ProductPage(PageNumbering):
    rows: list[ProductRow]
    price_lists: list[PriceList]
    warehouses: list[Warehouse]
    number: int
    has_next: bool
    total: int
    total_capped: bool


def product_search(query: str) -> QuerySet[Product]:
    """Products whose SKU starts with, or whose name contains, the fragment."""
    products = Product.objects.all()
    query = query.strip()
    if query:
        products = products.filter(Q(sku__istartswith=query) | Q(name__icontains=query))
    # Lower(name) is what the product_name_idx index holds: a page comes off the index, not a sort.
    return products.order_by(Lower("name"), "id")


def product_page(products: QuerySet[Product], number: int) -> ProductPage:
    """One page of products with their prices and stock: five queries whatever the page holds."""
    number = max(1, number)
    start = (number - 1) * PAGE_SIZE
    found = list(products[start : start + PAGE_SIZE + 1])
    total = len(found) if number == 1 and len(found) <= PAGE_SIZE else products.order_by()[: COUNT_CAP + 1].count()
    shown = found[:PAGE_SIZE]
    price_lists = list(PriceList.objects.all())
    warehouses = list(Warehouse.objects.all())
    return ProductPage(
        rows=product_rows(shown, price_lists, warehouses),
        price_lists=price_lists,
        warehouses=warehouses,
        number=number,
        has_next=len(found) > PAGE_SIZE,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
    )


def product_rows(
    products: Sequence[Product], price_lists: list[PriceList], warehouses: list[Warehouse]
) -> list[ProductRow]:
    ids = [product.pk for product in products]
    prices = {
        (product_id, list_id): price
        for product_id, list_id, price in ProductPrice.objects.filter(product_id__in=ids).values_list(
            "product_id", "price_list_id", "price"
        )
    }
    stock = {
        (product_id, warehouse_id): StockCell(quantity, reserved)
        for product_id, warehouse_id, quantity, reserved in StockLevel.objects.filter(product_id__in=ids).values_list(
            "product_id", "warehouse_id", "quantity", "reserved"
        )
    }
    return [
        ProductRow(
            product=product,
            prices=[prices.get((product.pk, price_list.pk)) for price_list in price_lists],
            stock=[stock.get((product.pk, warehouse.pk)) for warehouse in warehouses],
        )
        for product in products
    ]


# ---- Changing one product ------------------------------------------------------------------


def _check_sku(sku: str, *, exclude: int | None = None) -> str:
    sku = sku.strip()
    if not sku:
        raise ValidationError({"sku": _("Enter the SKU.")})
    taken = Product.objects.filter(sku=sku)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationError({"sku": _("Another product already has the SKU “%(sku)s”.") % {"sku": sku}})
    return sku


@transaction.atomic
def product_create(
    *, by: User, sku: str, name: str, unit: str = "pcs", description: str = "", is_active: bool = True
) -> Product:
    _check_admin(by)
    product = Product(
        sku=_check_sku(sku), name=name.strip(), unit=unit.strip() or "pcs", description=description, is_active=is_active
    )
    product._history_user = by  # type: ignore[attr-defined]
    product.save()
    return product


PRODUCT_FIELDS = {"sku", "name", "unit", "description", "is_active"}


@transaction.atomic
def product_update(*, by: User, product: Product, **changes: Any) -> Product:
    _check_admin(by)
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise ValueError(f"not product fields: {sorted(unknown)}")
    if "sku" in changes:
        changes["sku"] = _check_sku(changes["sku"], exclude=product.pk)
    changed = [name for name, value in changes.items() if getattr(product, name) != value]
    if not changed:
        return product
    for name in changed:
        setattr(product, name, changes[name])
    product._history_user = by  # type: ignore[attr-defined]
    product.save(update_fields=[*changed, "updated_at"])
    return product


@transaction.atomic
def product_prices_set(
    *,
    by: User,
    product: Product,
    prices: dict[PriceList, Decimal | None],
    stock: dict[Warehouse, tuple[Decimal, Decimal] | None],
) -> None:
    """Set the product's price in each given list and its stock (quantity, reserved) in each given warehouse.

    None removes the price or the stock row. Negative values are refused next to their field.
    """
    _check_admin(by)
    errors: dict[str, list[str]] = {}
    for price_list, price in prices.items():
        if price is not None and price < 0:
            errors[f"price_{price_list.pk}"] = [_("A price cannot be negative.")]
    for warehouse, levels in stock.items():
        if levels is not None:
            for name, value in zip(("stock", "reserved"), levels, strict=True):
                if value < 0:
                    errors[f"{name}_{warehouse.pk}"] = [_("A quantity cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    for price_list, price in prices.items():
        if price is None:
            ProductPrice.objects.filter(product=product, price_list=price_list).delete()
        else:
            ProductPrice.objects.update_or_create(product=product, price_list=price_list, defaults={"price": price})
    for warehouse, levels in stock.items():
        if levels is None:
            StockLevel.objects.filter(product=product, warehouse=warehouse).delete()
        else:
            quantity, reserved = levels
            StockLevel.objects.update_or_create(
                product=product, warehouse=warehouse, defaults={"quantity": quantity, "reserved": reserved}
            )


__all__ = [
    "ImportKind",
    "ImportPlan",
    "ProductPage",
    "ProductRow",
    "RowError",
    "StockCell",
    "import_apply",
    "import_plan",
    "product_create",
    "product_page",
    "product_prices_set",
    "product_rows",
    "product_search",
    "product_update",
]

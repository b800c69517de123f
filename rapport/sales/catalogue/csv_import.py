"""The catalogue's CSV import: products with prices and stock, or stock levels alone.

``import_plan`` reads the whole file and works out what it would change (the dry run shows
that plan); ``import_apply`` plans again and writes it all in one transaction, or nothing.
Reads and writes go through raw SQL and core.bulk: Django's per-row model and converter
work costs more than the import itself at tens of thousands of rows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.core.bulk import bulk_insert, update_rows
from rapport.core.csv_files import CsvFileError, RowError, read_csv
from rapport.sales.models import PriceList, Product, ProductPrice, StockLevel, Warehouse

# Statement sizes: well under SQLite's bound-parameter limit.
CHUNK = 2_000
PRICE_LIMIT = Decimal(10) ** 12  # money_field: 14 digits, 2 after the point
QUANTITY_LIMIT = Decimal(10) ** 9  # quantity_field: 12 digits, 3 after the point


def _check_admin(by: User) -> None:
    if not access.can_configure_sales(by):
        raise PermissionDenied


# ---- The CSV import --------------------------------------------------------------------------

ImportKind = Literal["catalogue", "stock"]


@dataclass
class ImportPlan:
    """What a file would change. ``errors`` empty means it can be applied."""

    kind: ImportKind
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    # What applying writes (filled only by a plan without errors).
    new_products: list[tuple[str, str, str]] = field(default_factory=list)  # sku, name, unit
    changed_products: list[tuple[str, str, int]] = field(default_factory=list)  # name, unit, id
    prices: dict[tuple[str, int], Decimal] = field(default_factory=dict)  # (sku, price list) → price
    price_updates: list[tuple[Decimal, int]] = field(default_factory=list)  # price, ProductPrice id
    stock: dict[tuple[str, int], tuple[Decimal, Decimal]] = field(default_factory=dict)  # new rows
    stock_updates: list[tuple[Decimal, Decimal, int]] = field(default_factory=list)  # quantity, reserved, id

    @property
    def can_apply(self) -> bool:
        return not self.errors and self.rows > 0

    @property
    def changes_anything(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def errors_shown(self) -> list[RowError]:
        return self.errors[:ERRORS_SHOWN]


ERRORS_SHOWN = 200


@dataclass
class _Columns:
    sku: int
    name: int | None = None
    unit: int | None = None
    prices: list[tuple[int, PriceList]] = field(default_factory=list)
    stock: list[tuple[int, Warehouse]] = field(default_factory=list)
    reserved: list[tuple[int, Warehouse]] = field(default_factory=list)


# A line read without errors: line number, SKU, name, unit, prices, quantities and reserved by target id.
_Parsed = tuple[int, str, str, str, dict[int, Decimal], dict[int, Decimal], dict[int, Decimal]]


def _header_columns(header: list[str], kind: ImportKind) -> _Columns:
    by_name = {price_list.name.casefold(): price_list for price_list in PriceList.objects.all()}
    warehouses = {warehouse.name.casefold(): warehouse for warehouse in Warehouse.objects.all()}
    names = [cell.strip() for cell in header]
    lowered = [name.casefold() for name in names]
    if "sku" not in lowered:
        raise CsvFileError(_("The first line must name the columns, one of them “sku”."))
    columns = _Columns(sku=lowered.index("sku"))
    problems: list[str] = []
    for index, (name, low) in enumerate(zip(names, lowered, strict=True)):
        prefix, _colon, rest = name.partition(":")
        target = rest.strip().casefold()
        if low in {"name", "unit"} and kind == "catalogue":
            setattr(columns, low, index)
        elif prefix.strip().casefold() == "price" and _colon and kind == "catalogue":
            if target not in by_name:
                problems.append(_("unknown price list “%(name)s”") % {"name": rest.strip()})
            else:
                columns.prices.append((index, by_name[target]))
        elif prefix.strip().casefold() in {"stock", "reserved"} and _colon:
            if target not in warehouses:
                problems.append(_("unknown warehouse “%(name)s”") % {"name": rest.strip()})
            elif prefix.strip().casefold() == "stock":
                columns.stock.append((index, warehouses[target]))
            else:
                columns.reserved.append((index, warehouses[target]))
        elif low != "sku" and low:
            problems.append(_("unexpected column “%(name)s”") % {"name": name})
    if kind == "catalogue" and columns.name is None:
        problems.append(_("the column “name” is missing"))
    if kind == "stock" and not (columns.stock or columns.reserved):
        problems.append(_("no “stock:<warehouse>” column"))
    if problems:
        raise CsvFileError("; ".join(problems))
    return columns


# Plain numbers within the limits, the usual case, are taken without further checks (per column kind).
PLAIN_PRICE = re.compile(r"\d{1,12}(?:[.,]\d{0,2})?").fullmatch
PLAIN_QUANTITY = re.compile(r"\d{1,9}(?:[.,]\d{0,3})?").fullmatch


def _number(text: str, *, limit: Decimal, places: int, comma_decimal: bool) -> Decimal:
    """A non-negative number as written in a spreadsheet ("1 234,50" in a semicolon file); ValueError otherwise."""
    if (PLAIN_PRICE if places == 2 else PLAIN_QUANTITY)(text) and (comma_decimal or "," not in text):
        return Decimal(text.replace(",", ".")) if comma_decimal else Decimal(text)
    cleaned = text
    if " " in cleaned or "\u00a0" in cleaned:
        cleaned = cleaned.replace("\u00a0", "").replace(" ", "")
    if comma_decimal and "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(_("“%(text)s” is not a number") % {"text": text}) from None
    if not value.is_finite():
        raise ValueError(_("“%(text)s” is not a number") % {"text": text})
    if value < 0:
        raise ValueError(_("%(text)s is negative") % {"text": text})
    if value >= limit:
        raise ValueError(_("%(text)s is too large") % {"text": text})
    dot = cleaned.find(".")
    # Decimals written, trailing zeros aside ("1.500" is fine for a price); exponent notation is checked exactly.
    if (dot >= 0 and len(cleaned[dot + 1 :].rstrip("0")) > places) or (
        ("e" in cleaned or "E" in cleaned) and value != value.quantize(Decimal(1).scaleb(-places))
    ):
        raise ValueError(_("%(text)s has more than %(places)s decimals") % {"text": text, "places": places})
    return value


def _decimal(value: object) -> Decimal:
    # PostgreSQL returns Decimal; SQLite a number with the same digits (at most 14 significant: exact in a float).
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _rows(sql: str, keys: Sequence[int | str], *, scan: bool) -> Iterable[tuple[Any, ...]]:
    """Rows of ``sql`` (a SELECT ending in ``WHERE <key column>``) for ``keys``.

    Raw SQL without Django's per-value converters, which cost more than the import itself.
    With ``scan`` the whole table is read once instead: cheaper than index look-ups when the
    file holds a good part of the catalogue. The caller filters what it does not need.
    """
    with connection.cursor() as cursor:
        if scan:
            cursor.execute(sql.rsplit(" WHERE ", 1)[0])
            yield from cursor.fetchall()
            return
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            cursor.execute(f"{sql} IN ({', '.join(['%s'] * len(chunk))})", list(chunk))
            yield from cursor.fetchall()


def _scan_catalogue(rows: int) -> bool:
    return rows >= 1000 and rows * 4 >= Product.objects.count()


def _existing(skus: list[str], *, scan: bool = False) -> dict[str, tuple[int, str, str]]:
    """Products with these SKUs: SKU → (id, name, unit)."""
    wanted = set(skus)
    table = connection.ops.quote_name(Product._meta.db_table)
    sql = f"SELECT id, sku, name, unit FROM {table} WHERE sku"  # noqa: S608  (a quoted name)
    return {sku: (pk, name, unit) for pk, sku, name, unit in _rows(sql, skus, scan=scan) if sku in wanted}


def _chunked_ids(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def import_plan(data: bytes, *, kind: ImportKind = "catalogue") -> ImportPlan:
    """Read a CSV file and work out what importing it would change, without writing anything."""
    plan = ImportPlan(kind=kind)
    try:
        file = read_csv(data)
        header, reader = file.header, file.rows
        columns = _header_columns(header, kind)
    except CsvFileError as error:
        plan.errors.append(RowError(1, str(error)))
        return plan

    comma_decimal = file.comma_decimal
    # Each number column once: (its index, its heading, the price list or warehouse id, which dict, limit, decimals).
    numbers = [
        *((index, header[index].strip(), target.pk, 0, PRICE_LIMIT, 2) for index, target in columns.prices),
        *((index, header[index].strip(), target.pk, 1, QUANTITY_LIMIT, 3) for index, target in columns.stock),
        *((index, header[index].strip(), target.pk, 2, QUANTITY_LIMIT, 3) for index, target in columns.reserved),
    ]
    sku_at, name_at, unit_at = columns.sku, columns.name, columns.unit
    width = 1 + max(index for index in [sku_at, name_at or 0, unit_at or 0, *(spec[0] for spec in numbers)])
    sku_length = Product._meta.get_field("sku").max_length or 64
    parsed: list[_Parsed] = []
    first_row_of: dict[str, int] = {}
    try:
        for line_number, cells in enumerate(reader, start=2):
            if len(cells) < width:
                if not any(cell.strip() for cell in cells):
                    continue
                cells = cells + [""] * (width - len(cells))
            plan.rows += 1
            sku = cells[sku_at].strip()
            problems: list[str] = []
            if not sku:
                problems.append(_("the SKU is missing"))
            elif len(sku) > sku_length:
                problems.append(_("the SKU is longer than %(length)s characters") % {"length": sku_length})
            elif sku in first_row_of:
                problems.append(
                    _("the SKU %(sku)s is already on line %(row)s") % {"sku": sku, "row": first_row_of[sku]}
                )
            else:
                first_row_of[sku] = line_number
            name = cells[name_at].strip()[:200] if name_at is not None else ""
            unit = cells[unit_at].strip()[:20] if unit_at is not None else ""
            values: tuple[dict[int, Decimal], dict[int, Decimal], dict[int, Decimal]] = ({}, {}, {})
            for index, heading, target, into, limit, places in numbers:
                raw = cells[index].strip()
                if raw:
                    try:
                        values[into][target] = _number(raw, limit=limit, places=places, comma_decimal=comma_decimal)
                    except ValueError as error:
                        problems.append(f"{heading}: {error}")
            if problems:
                plan.errors.append(RowError(line_number, "; ".join(problems)))
            else:
                parsed.append((line_number, sku, name, unit, *values))
    except csv.Error as error:
        plan.errors.append(RowError(plan.rows + 1, _("The file cannot be read as CSV: %(error)s") % {"error": error}))
    if plan.rows == 0 and not plan.errors:
        plan.errors.append(RowError(2, _("The file has no rows under its header.")))

    scan = _scan_catalogue(len(parsed))
    existing = _existing([row[1] for row in parsed], scan=scan)
    ids = [existing[row[1]][0] for row in parsed if row[1] in existing]
    known = set(ids)
    old_prices: dict[tuple[int, int], tuple[int, Decimal]] = {}
    old_stock: dict[tuple[int, int], tuple[int, Decimal, Decimal]] = {}
    quote = connection.ops.quote_name
    if columns.prices and ids:
        sql = f"SELECT id, product_id, price_list_id, price FROM {quote(ProductPrice._meta.db_table)} WHERE product_id"  # noqa: S608
        for pk, product_id, list_id, price in _rows(sql, ids, scan=scan):
            if product_id in known:
                old_prices[product_id, list_id] = (pk, _decimal(price))
    if (columns.stock or columns.reserved) and ids:
        table = quote(StockLevel._meta.db_table)
        sql = f"SELECT id, product_id, warehouse_id, quantity, reserved FROM {table} WHERE product_id"  # noqa: S608
        for pk, product_id, warehouse_id, quantity, reserved in _rows(sql, ids, scan=scan):
            if product_id in known:
                old_stock[product_id, warehouse_id] = (pk, _decimal(quantity), _decimal(reserved))

    for line_number, sku, name, unit, prices, quantities, reserved in parsed:
        old = existing.get(sku)
        if old is None:
            if kind == "stock":
                plan.errors.append(RowError(line_number, _("no product has the SKU %(sku)s") % {"sku": sku}))
                continue
            if not name:
                plan.errors.append(RowError(line_number, _("a new product needs a name")))
                continue
            plan.created += 1
            plan.new_products.append((sku, name, unit or "pcs"))
            plan.prices.update({(sku, list_id): price for list_id, price in prices.items()})
            for warehouse_id in quantities.keys() | reserved.keys():
                levels = (quantities.get(warehouse_id, Decimal(0)), reserved.get(warehouse_id, Decimal(0)))
                plan.stock[sku, warehouse_id] = levels
            continue
        product_id, old_name, old_unit = old
        changed = False
        new_name, new_unit = name or old_name, unit or old_unit
        if (new_name, new_unit) != (old_name, old_unit):
            plan.changed_products.append((new_name, new_unit, product_id))
            changed = True
        for list_id, price in prices.items():
            current = old_prices.get((product_id, list_id))
            if current is None:
                plan.prices[sku, list_id] = price
                changed = True
            elif current[1] != price:
                plan.price_updates.append((price, current[0]))
                changed = True
        for warehouse_id in quantities.keys() | reserved.keys():
            stock_row = old_stock.get((product_id, warehouse_id))
            old_levels = (stock_row[1], stock_row[2]) if stock_row else (Decimal(0), Decimal(0))
            levels = (quantities.get(warehouse_id, old_levels[0]), reserved.get(warehouse_id, old_levels[1]))
            if stock_row is None:
                plan.stock[sku, warehouse_id] = levels
                changed = True
            elif levels != old_levels:
                plan.stock_updates.append((*levels, stock_row[0]))
                changed = True
        if changed:
            plan.updated += 1
        else:
            plan.unchanged += 1
    if plan.errors:
        plan.errors.sort(key=lambda error: error.row)
    return plan


def import_apply(*, by: User, data: bytes, kind: ImportKind = "catalogue") -> ImportPlan:
    """Plan the file again (the catalogue may have changed since the dry run) and, if it has no errors, write it all.

    One transaction; new rows go in through core.bulk (COPY on PostgreSQL), changed rows
    through one prepared UPDATE run for many rows. Products get their history rows too.
    """
    _check_admin(by)
    try:
        return _import_apply(by=by, data=data, kind=kind)
    except IntegrityError:
        # Someone changed the catalogue between the plan and the writes (a product added by hand, say).
        plan = ImportPlan(kind=kind)
        plan.errors.append(
            RowError(1, _("The catalogue changed while the file was being imported: nothing was written, try again."))
        )
        return plan


@transaction.atomic
def _import_apply(*, by: User, data: bytes, kind: ImportKind) -> ImportPlan:
    plan = import_plan(data, kind=kind)
    if not plan.can_apply:
        return plan
    now = timezone.now()
    if plan.new_products:
        bulk_insert(
            Product,
            ["sku", "name", "unit", "created_at", "updated_at"],
            ((sku, name, unit, now, now) for sku, name, unit in plan.new_products),
        )
    if plan.changed_products:
        update_rows(Product, ["name", "unit"], plan.changed_products, also={"updated_at": now})
    if plan.price_updates:
        update_rows(ProductPrice, ["price"], plan.price_updates)
    if plan.stock_updates:
        update_rows(StockLevel, ["quantity", "reserved"], plan.stock_updates)
    touched = [sku for sku, _name, _unit in plan.new_products]
    needed = list(dict.fromkeys([*touched, *(sku for sku, _ in plan.prices), *(sku for sku, _ in plan.stock)]))
    ids = {sku: pk for sku, (pk, _name, _unit) in _existing(needed, scan=_scan_catalogue(len(needed))).items()}
    if plan.prices:
        bulk_insert(
            ProductPrice,
            ["product_id", "price_list_id", "price"],
            ((ids[sku], list_id, price) for (sku, list_id), price in plan.prices.items()),
        )
    if plan.stock:
        bulk_insert(
            StockLevel,
            ["product_id", "warehouse_id", "quantity", "reserved"],
            ((ids[sku], warehouse_id, *levels) for (sku, warehouse_id), levels in plan.stock.items()),
        )
    _write_history(by=by, created=[ids[sku] for sku in touched], changed=[pk for *_rest, pk in plan.changed_products])
    return plan


def _write_history(*, by: User, created: list[int], changed: list[int]) -> None:
    """simple-history rows for imported products, copied inside the database (no rows through Python)."""
    quote = connection.ops.quote_name
    history = Product.history.model
    columns = ", ".join(
        quote(name) for name in ["id", "created_at", "updated_at", "sku", "name", "unit", "description", "is_active"]
    )
    extra = ", ".join(
        quote(name) for name in ["history_date", "history_type", "history_user_id", "history_change_reason"]
    )
    when = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for kind, ids in (("+", created), ("~", changed)):
            for chunk in _chunked_ids(ids):
                cursor.execute(
                    f"INSERT INTO {quote(history._meta.db_table)} ({columns}, {extra}) "  # noqa: S608  (quoted names)
                    f"SELECT {columns}, %s, %s, %s, %s FROM {quote(Product._meta.db_table)} "
                    f"WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                    [when, kind, by.pk, "CSV import", *chunk],
                )

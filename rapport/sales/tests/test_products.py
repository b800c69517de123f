"""The product catalogue: browsing prices and stock, admin editing, and the CSV import."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.sales import catalogue
from rapport.sales.models import PriceList, Product, ProductPrice, StockLevel, Warehouse
from rapport.sales.tests.factories import ProductFactory, product_with_price


@pytest.fixture
def chair(db: None) -> Product:
    return product_with_price(sku="CH-1", name="Office chair", price="100.00", stock=10)


@pytest.fixture
def lists(chair: Product) -> tuple[PriceList, Warehouse]:
    return PriceList.objects.get(name="Base USD"), Warehouse.objects.get(name="Main warehouse")


# ---- Browsing --------------------------------------------------------------------------------


def test_managers_see_prices_and_stock_and_find_by_sku_or_name(chair: Product, as_manager: Client) -> None:
    StockLevel.objects.filter(product=chair).update(reserved=Decimal(3))
    ProductFactory.create(sku="DS-9", name="Standing desk")

    page = as_manager.get("/sales/products/").content.decode()
    assert "Office chair" in page
    assert "Standing desk" in page
    assert "Base USD" in page
    assert "Main warehouse" in page
    row = re.search(r'data-sku="CH-1">(.*?)</tr>', page, re.S)
    assert row
    assert "100.00" in row.group(1)
    assert "<strong>7</strong>" in row.group(1)  # available = 10 in stock - 3 reserved
    assert 'id="add-product"' not in page  # managers read, they do not edit

    by_sku = as_manager.get("/sales/products/", {"q": "ch-"}).content.decode()
    assert "Office chair" in by_sku
    assert "Standing desk" not in by_sku
    by_name = as_manager.get("/sales/products/", {"q": "desk"}).content.decode()
    assert "Standing desk" in by_name
    assert "Office chair" not in by_name
    nothing = as_manager.get("/sales/products/", {"q": "zzz"}).content.decode()
    assert "No product matches this search." in nothing


def test_search_through_htmx_returns_the_table_only(chair: Product, as_manager: Client) -> None:
    response = as_manager.get(
        "/sales/products/", {"q": "chair"}, headers={"HX-Request": "true", "HX-Target": "product-table"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="product-table">')
    assert "Office chair" in body


def test_the_list_pages_with_a_fixed_number_of_queries(
    chair: Product, as_manager: Client, django_assert_max_num_queries: object
) -> None:
    for number in range(30):
        product_with_price(sku=f"P-{number:03d}", name=f"Paper {number}", stock=number)
    with django_assert_max_num_queries(10):  # type: ignore[operator]
        first = as_manager.get("/sales/products/")
    assert first.status_code == 200
    assert 'rel="next"' in first.content.decode()
    with django_assert_max_num_queries(10):  # type: ignore[operator]
        second = as_manager.get("/sales/products/", {"page": "2"}).content.decode()
    assert "26–31 of 31" in second


def test_product_page_shows_prices_and_stock(chair: Product, as_manager: Client) -> None:
    page = as_manager.get(f"/sales/products/{chair.pk}/").content.decode()
    assert "Office chair" in page
    assert "100.00 USD" in page
    assert 'id="edit-prices"' not in page
    assert as_manager.get("/sales/products/999999/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(chair: Product) -> None:
    response = Client().get("/sales/products/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["manager", "head", "operator", "agent", "outsider"])
def test_only_admins_change_the_catalogue(persona: str, personas: dict[str, User], chair: Product) -> None:
    client = client_for(personas[persona])
    assert client.get("/sales/products/").status_code == 200
    for url in [
        "/sales/products/new/",
        f"/sales/products/{chair.pk}/edit/",
        f"/sales/products/{chair.pk}/prices/",
        "/sales/products/import/",
        "/sales/products/import/stock/",
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"sku": "X", "name": "X"}).status_code == 403, url
    assert Product.objects.count() == 1


# ---- Editing (admins) --------------------------------------------------------------------------


def test_admin_adds_a_product_then_its_prices_and_stock(lists: tuple[PriceList, Warehouse], as_admin: Client) -> None:
    price_list, warehouse = lists
    response = as_admin.post(
        "/sales/products/new/", {"sku": "LT-1", "name": "Laptop", "unit": "pcs", "is_active": "on"}
    )
    product = Product.objects.get(sku="LT-1")
    assert response["Location"] == f"/sales/products/{product.pk}/prices/"
    assert product.history.count() == 1

    response = as_admin.post(
        f"/sales/products/{product.pk}/prices/",
        {f"price_{price_list.pk}": "1100.50", f"stock_{warehouse.pk}": "4", f"reserved_{warehouse.pk}": "1"},
    )
    assert response.status_code == 302
    assert ProductPrice.objects.get(product=product).price == Decimal("1100.50")
    level = StockLevel.objects.get(product=product)
    assert (level.quantity, level.reserved) == (Decimal(4), Decimal(1))

    # Emptying a price removes it.
    as_admin.post(f"/sales/products/{product.pk}/prices/", {f"stock_{warehouse.pk}": "4"})
    assert not ProductPrice.objects.filter(product=product).exists()


def test_negative_price_or_stock_is_refused_next_to_its_field(
    chair: Product, lists: tuple[PriceList, Warehouse], as_admin: Client
) -> None:
    price_list, warehouse = lists
    response = as_admin.post(
        f"/sales/products/{chair.pk}/prices/",
        {f"price_{price_list.pk}": "-5", f"stock_{warehouse.pk}": "-1", f"reserved_{warehouse.pk}": "abc"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert re.search(rf'id="id_price_{price_list.pk}-error">A price cannot be negative', page)
    assert re.search(rf'id="id_stock_{warehouse.pk}-error">A quantity cannot be negative', page)
    assert re.search(rf'id="id_reserved_{warehouse.pk}-error">Enter a number', page)
    assert ProductPrice.objects.get(product=chair).price == Decimal("100.00")


def test_sku_must_be_unique(chair: Product, as_admin: Client) -> None:
    response = as_admin.post("/sales/products/new/", {"sku": "CH-1", "name": "Another chair", "unit": "pcs"})
    assert response.status_code == 422
    assert "Another product already has the SKU “CH-1”." in response.content.decode()
    other = ProductFactory.create(sku="DS-1", name="Desk")
    response = as_admin.post(f"/sales/products/{other.pk}/edit/", {"sku": "CH-1", "name": "Desk", "unit": "pcs"})
    assert response.status_code == 422
    assert Product.objects.filter(sku="CH-1").count() == 1

    response = as_admin.post(
        f"/sales/products/{chair.pk}/edit/", {"sku": "CH-1", "name": "Chair, black", "unit": "pcs"}
    )
    assert response.status_code == 302
    chair.refresh_from_db()
    assert chair.name == "Chair, black"
    assert not chair.is_active


# ---- Import ------------------------------------------------------------------------------------


def upload(text: str, name: str = "products.csv", *, bom: bool = False) -> SimpleUploadedFile:
    data = text.encode()
    return SimpleUploadedFile(name, (b"\xef\xbb\xbf" + data) if bom else data, content_type="text/csv")


CATALOGUE = """sku;name;unit;price:Base USD;stock:Main warehouse;reserved:Main warehouse
CH-1;Office chair;pcs;120,00;10;
DS-1;Desk;pcs;260;5;1
CH-1-DUP;Office chair;pcs;100;10;0
"""


def test_dry_run_shows_what_would_change_and_writes_nothing(
    lists: tuple[PriceList, Warehouse], as_admin: Client
) -> None:
    # CH-1 exists with price 100 and stock 10: its price changes. CH-1-DUP is new, as is DS-1.
    response = as_admin.post("/sales/products/import/", {"file": upload(CATALOGUE, bom=True), "action": "check"})
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'id="count-created">2<', page)
    assert re.search(r'id="count-updated">1<', page)
    assert re.search(r'id="count-unchanged">0<', page)
    assert 'id="apply-import"' in page
    assert Product.objects.count() == 1

    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token
    response = as_admin.post("/sales/products/import/", {"token": token.group(1), "action": "apply"})
    assert response.status_code == 302
    assert Product.objects.count() == 3
    desk = Product.objects.get(sku="DS-1")
    assert desk.prices.get().price == Decimal(260)
    level = desk.stock.get()
    assert (level.quantity, level.reserved) == (Decimal(5), Decimal(1))
    assert Product.objects.get(sku="CH-1").prices.get().price == Decimal(120)
    assert desk.history.get().history_type == "+"
    message = as_admin.get("/sales/products/").content.decode()
    assert "Imported. New products: 2, updated: 1, unchanged: 0." in message

    # The same file again changes nothing (and the token is used up).
    plan = catalogue.import_plan(CATALOGUE.encode())
    assert (plan.created, plan.updated, plan.unchanged) == (0, 0, 3)
    again = as_admin.post("/sales/products/import/", {"file": upload(CATALOGUE), "action": "check"}).content.decode()
    assert "The catalogue already matches this file" in again
    assert 'id="apply-import"' not in again
    response = as_admin.post("/sales/products/import/", {"token": token.group(1), "action": "apply"}, follow=True)
    assert "The checked file has expired" in response.content.decode()


def test_comma_separated_upsert_keeps_what_the_file_leaves_empty(
    chair: Product, lists: tuple[PriceList, Warehouse], admin_user: User
) -> None:
    data = b"sku,name,unit,price:base usd,stock:Main warehouse\nCH-1,,box,,3\n"
    plan = catalogue.import_plan(data)
    assert (plan.created, plan.updated, plan.errors) == (0, 1, [])
    catalogue.import_apply(by=admin_user, data=data)
    chair.refresh_from_db()
    assert (chair.name, chair.unit) == ("Office chair", "box")
    assert chair.prices.get().price == Decimal(100)
    assert chair.stock.get().quantity == Decimal(3)
    assert chair.history.first().history_type == "~"  # type: ignore[union-attr]


def test_row_errors_name_the_line_and_the_reason(lists: tuple[PriceList, Warehouse]) -> None:
    data = (
        b"sku;name;unit;price:Base USD;stock:Main warehouse\n"
        b";No SKU;pcs;1;1\n"
        b"A-1;Bad number;pcs;twelve;1\n"
        b"A-2;Negative;pcs;5;-3\n"
        b"A-3;Fine;pcs;5;3\n"
        b"A-3;Twice;pcs;5;3\n"
        b"A-4;;pcs;5;3\n"
    )
    plan = catalogue.import_plan(data)
    errors = {error.row: error.message for error in plan.errors}
    assert errors[2] == "the SKU is missing"
    assert errors[3] == "price:Base USD: “twelve” is not a number"
    assert errors[4] == "stock:Main warehouse: -3 is negative"
    assert errors[6] == "the SKU A-3 is already on line 5"
    assert errors[7] == "a new product needs a name"
    assert 5 not in errors
    assert not plan.can_apply


def test_unknown_price_list_or_warehouse_is_reported_on_the_header(lists: tuple[PriceList, Warehouse]) -> None:
    plan = catalogue.import_plan(b"sku,name,price:Wholesale,stock:Back room\nA-1,Thing,1,1\n")
    assert [(error.row, error.message) for error in plan.errors] == [
        (1, "unknown price list “Wholesale”; unknown warehouse “Back room”")
    ]
    assert (
        catalogue.import_plan(b"name,unit\nThing,pcs\n")
        .errors[0]
        .message.startswith("The first line must name the columns")
    )
    assert "not UTF-8" in catalogue.import_plan("sku,name\nA,Caf\xe9\n".encode("latin-1")).errors[0].message


def test_a_file_with_one_bad_line_is_not_imported_at_all(
    chair: Product, lists: tuple[PriceList, Warehouse], as_admin: Client
) -> None:
    text = "sku;name;unit;price:Base USD\nN-1;New one;pcs;10\nCH-1;Office chair;pcs;-1\n"
    response = as_admin.post("/sales/products/import/", {"file": upload(text), "action": "apply"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "nothing was imported" in page
    assert re.search(r"<td>3</td><td>price:Base USD: -1 is negative</td>", page)
    assert not Product.objects.filter(sku="N-1").exists()
    assert ProductPrice.objects.get(product=chair).price == Decimal(100)


def test_a_broken_upload_is_refused_next_to_the_file_field(as_admin: Client) -> None:
    response = as_admin.post("/sales/products/import/", {"action": "check"})
    assert response.status_code == 422
    assert 'id="id_file-error"' in response.content.decode()


def test_stock_import_updates_stock_of_known_products_only(
    chair: Product, lists: tuple[PriceList, Warehouse], as_admin: Client
) -> None:
    good = "sku,stock:Main warehouse,reserved:Main warehouse\nCH-1,25,5\n"
    response = as_admin.post("/sales/products/import/stock/", {"file": upload(good), "action": "apply"})
    assert response.status_code == 302
    level = chair.stock.get()
    assert (level.quantity, level.reserved) == (Decimal(25), Decimal(5))

    unknown = catalogue.import_plan(b"sku,stock:Main warehouse\nNOPE,1\n", kind="stock")
    assert [(error.row, error.message) for error in unknown.errors] == [(2, "no product has the SKU NOPE")]
    with_name = catalogue.import_plan(b"sku,name,stock:Main warehouse\nCH-1,x,1\n", kind="stock")
    assert with_name.errors[0].message == "unexpected column “name”"

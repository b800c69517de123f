"""The orders' CSV import: a dry run writes nothing, an import writes all rows or none, a re-import creates nothing
new, and each refusal names its line and column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.clients.services import PointInput
from rapport.core.csv_files import RowError
from rapport.sales.models import Order
from rapport.sales.order_imports import import_orders

PAGE = "/sales/orders/import/"
FILE = (
    "date,amount,currency,volume,external_id,company\n"
    "2026-01-10,100.00,EUR,5,INV-1,Acme Trading\n"
    "2026-02-10,120.50,,6.5,INV-2,Acme Trading\n"
    "2026-03-10,0,USD,,,Acme Trading\n"
)


def run(by: User, text: str, *, apply: bool = True) -> object:
    return import_orders(by=by, data=text.encode(), apply=apply)


@pytest.fixture
def anna(manager: User, acme: Company) -> Contact:
    return client_services.contact_create(
        by=manager,
        last_name="Petrova",
        first_name="Anna",
        company=acme,
        points=[PointInput(kind="email", value="anna@acme.test"), PointInput(kind="phone", value="+7 912 345-67-89")],
    )


def test_a_dry_run_counts_and_writes_nothing(manager: User, acme: Company) -> None:
    result = run(manager, FILE, apply=False)

    assert (result.rows, result.created, result.skipped, result.errors, result.applied) == (3, 3, 0, [], False)  # type: ignore[attr-defined]
    assert not Order.objects.exists()


def test_an_import_writes_every_row(manager: User, acme: Company) -> None:
    result = run(manager, FILE)

    assert result.applied  # type: ignore[attr-defined]
    rows = list(
        Order.objects.order_by("on").values_list("company_id", "on", "amount", "currency", "volume", "external_id")
    )
    assert rows == [
        (acme.pk, date(2026, 1, 10), Decimal("100.00"), "EUR", Decimal(5), "INV-1"),
        (acme.pk, date(2026, 2, 10), Decimal("120.50"), "USD", Decimal("6.5"), "INV-2"),
        (acme.pk, date(2026, 3, 10), Decimal(0), "USD", None, ""),
    ]
    assert set(Order.objects.values_list("created_by", flat=True)) == {manager.pk}
    # Each order's history starts with the import, by whoever imported it.
    assert set(Order.history.values_list("history_type", "history_user")) == {("+", manager.pk)}


def test_importing_the_same_file_again_creates_nothing_new(manager: User, acme: Company) -> None:
    with_ids = "".join(line + "\n" for line in FILE.splitlines()[:3])
    run(manager, with_ids)

    again = run(manager, with_ids, apply=False)
    assert (again.created, again.skipped, again.errors, again.can_apply) == (0, 2, [], False)  # type: ignore[attr-defined]
    applied = run(manager, with_ids)
    assert (applied.created, applied.skipped, applied.applied) == (0, 2, False)  # type: ignore[attr-defined]
    assert Order.objects.count() == 2

    grown = run(manager, with_ids + "2026-04-10,1,USD,1,INV-3,Acme Trading\n")
    assert (grown.created, grown.skipped, grown.applied) == (1, 2, True)  # type: ignore[attr-defined]
    assert Order.objects.count() == 3


def test_each_refusal_names_its_line_and_column_and_nothing_is_written(
    manager: User, acme: Company, outsider: User
) -> None:
    client_services.company_create(by=outsider, name="Far Away Ltd")
    text = (
        "date,amount,currency,volume,external_id,company,company_id\n"
        "2026-01-10,100,,,A-1,Acme Trading,\n"
        "2026-01-11,-5,,,A-2,Acme Trading,\n"
        "31.31.2026,5,,,A-3,Acme Trading,\n"
        "2026-01-12,5,,,A-4,Far Away Ltd,\n"
        "2026-01-13,5,XYZ,-1,A-5,Acme Trading,\n"
        "2026-01-14,five,,,A-6,Acme Trading,\n"
        "2026-01-15,5,,,A-1,Acme Trading,\n"
        "2026-01-16,5,,,A-8,,99999\n"
        "2026-01-17,5,,,A-9,,\n"
        "1999-01-01,5,,,A-10,Acme Trading,\n"
    )

    result = run(manager, text)

    assert result.errors == [  # type: ignore[attr-defined]
        RowError(3, "amount: The amount cannot be negative."),
        RowError(4, "date: “31.31.2026” is not a date (write 2026-03-31)."),
        RowError(5, "company: no company you can see is named “Far Away Ltd”."),
        RowError(6, "volume: The volume cannot be negative.; currency: Choose one of: USD, EUR, RUB, VND, BGN."),
        RowError(7, "amount: “five” is not a number."),
        RowError(8, "external_id: “A-1” is on line 2 already."),
        RowError(9, "company_id: no company you can see has the id 99999."),
        RowError(10, "company: name the client in company, company_id, contact or contact_id."),
        RowError(11, "date: Give a date from 2000 on."),
    ]
    assert not result.applied  # type: ignore[attr-defined]
    assert not Order.objects.exists()


def test_a_wrong_header_is_refused_on_line_one(manager: User) -> None:
    result = run(manager, "when,amount,colour\n2026-01-01,5,red\n")

    assert result.errors == [  # type: ignore[attr-defined]
        RowError(
            1,
            "the column “date” is missing; no column names the client (company, company_id, contact or contact_id); "
            "unexpected column “when”; unexpected column “colour”",
        )
    ]
    assert run(manager, "").errors == [RowError(1, "The file is empty.")]  # type: ignore[attr-defined]
    assert run(manager, "date,amount,company\n").errors == [RowError(2, "The file has no rows under its header.")]  # type: ignore[attr-defined]


def test_people_are_found_by_email_phone_or_id_and_decimal_commas_read(
    manager: User, acme: Company, anna: Contact
) -> None:
    text = (
        "date;amount;volume;contact;contact_id;company_id\n"
        "2026-01-10;1 234,50;2,5;ANNA@acme.test;;\n"
        "2026-01-11;10;;+7 (912) 345-67-89;;\n"
        f"2026-01-12;10;;;{anna.pk};\n"
        f"2026-01-13;10;;;;{acme.pk}\n"
        "2026-01-14;10;;nobody@acme.test;;\n"
    )

    result = run(manager, text)

    assert result.errors == [  # type: ignore[attr-defined]
        RowError(6, "contact: no person you can see has the e-mail or phone “nobody@acme.test”.")
    ]
    result = run(manager, "\n".join(text.splitlines()[:-1]) + "\n")
    assert result.applied  # type: ignore[attr-defined]
    assert Order.objects.filter(contact=anna).count() == 3
    first = Order.objects.get(on=date(2026, 1, 10))
    assert (first.amount, first.volume) == (Decimal("1234.50"), Decimal("2.5"))
    assert Order.objects.get(on=date(2026, 1, 13)).company_id == acme.pk


def test_a_client_the_person_sees_but_may_not_edit_is_refused_by_row(manager: User, operator: User) -> None:
    pool = client_services.company_create(by=operator, name="Pool Ltd", owner=None)

    result = run(manager, "date,amount,company_id\n2026-01-10,5," + str(pool.pk) + "\n")

    assert result.errors == [RowError(2, "company_id: you may not record orders for “Pool Ltd”.")]  # type: ignore[attr-defined]


def test_two_companies_of_one_name_ask_for_the_id(manager: User, acme: Company) -> None:
    client_services.company_create(by=manager, name="Acme Trading", tax_id="77")
    result = run(manager, "date,amount,company\n2026-01-10,5,Acme Trading\n")
    assert result.errors == [  # type: ignore[attr-defined]
        RowError(2, "company: several companies are named “Acme Trading”: give company_id instead.")
    ]


def test_readers_may_not_import(db: None) -> None:
    with pytest.raises(PermissionDenied):
        run(UserFactory.create(username="analyst", role=Role.ANALYST), FILE)


def test_a_large_file_is_checked_in_a_few_queries(manager: User, acme: Company, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    lines = [f"2026-01-{1 + number % 28:02d},{number}.50,,1,X-{number},Acme Trading" for number in range(3000)]
    text = "date,amount,currency,volume,external_id,company\n" + "\n".join(lines) + "\n"
    # The companies by name, the external ids recorded (two statements of 2,000): none per row.
    with django_assert_num_queries(3):
        result = run(manager, text, apply=False)
    assert (result.created, result.errors) == (3000, [])  # type: ignore[attr-defined]
    result = run(manager, text)
    assert Order.objects.count() == 3000


# ---- The page -------------------------------------------------------------------------------------


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("orders.csv", text.encode(), content_type="text/csv")


def test_the_page_checks_then_imports_the_same_file(as_manager: Client, acme: Company) -> None:
    assert as_manager.get(PAGE).status_code == 200

    checked = as_manager.post(PAGE, {"action": "check", "file": upload(FILE)})
    assert checked.status_code == 200
    page = checked.content.decode()
    assert 'id="apply-import"' in page
    assert not Order.objects.exists()
    token = checked.context["token"]

    done = as_manager.post(PAGE, {"action": "apply", "token": token}, follow=True)
    assert "Imported 3 orders." in done.content.decode()
    assert Order.objects.count() == 3

    numbered = "".join(line + "\n" for line in FILE.splitlines()[:3])
    again = as_manager.post(PAGE, {"action": "check", "file": upload(numbered)})
    assert again.status_code == 200
    page = again.content.decode()
    assert "Nothing new in this file" in page
    assert 'id="apply-import"' not in page


def test_the_page_lists_the_lines_with_problems(as_manager: Client, acme: Company) -> None:
    response = as_manager.post(
        PAGE, {"action": "check", "file": upload("date,amount,company\n2026-01-10,-1,Acme Trading\n")}
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'class="import-error"' in page
    assert "amount: The amount cannot be negative." in page


def test_an_expired_check_asks_for_the_file_again(as_manager: Client) -> None:
    response = as_manager.post(PAGE, {"action": "apply", "token": "gone"}, follow=True)
    assert "The checked file has expired" in response.content.decode()


@pytest.mark.parametrize(("persona", "status"), [("operator", 200), ("agent", 200), ("head", 200), ("admin", 200)])
def test_who_opens_the_import(personas: dict[str, User], persona: str, status: int) -> None:
    assert client_for(personas[persona]).get(PAGE).status_code == status


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MARKETER])
def test_readers_are_refused_the_page(db: None, role: str) -> None:
    assert client_for(UserFactory.create(username=str(role), role=role)).get(PAGE).status_code == 403

"""The activity export: every activity the list matches that the user sees, as CSV or XLSX."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from conftest import client_for
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Outcome
from rapport.clients.models import Company, Contact
from rapport.sales.models import Deal

URL = "/activities/list/export/"
HEADER = [
    "When",
    "Kind",
    "Status",
    "Direction",
    "Subject",
    "Outcome",
    "Result",
    "Due",
    "Done",
    "Duration, minutes",
    "Company",
    "Contact person",
    "Deal",
    "Owner",
]


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


@pytest.fixture
def logged(personas: dict[str, User], acme: Company, ivanov: Contact, deal: Deal) -> None:
    manager = personas["manager"]
    services.activity_create(
        by=manager,
        kind="call",
        status="done",
        direction="out",
        subject='=HYPERLINK("http://evil.example")',
        result="Asked to call back",
        outcome=Outcome.objects.get(kind="call", name="No answer"),
        contact=ivanov,
        deal=deal,
        duration=4,
        done_at=timezone.now() - timedelta(days=1),
    )
    services.activity_create(by=manager, kind="task", subject="Send the price list", due_at=timezone.now())
    services.activity_create(by=personas["outsider"], kind="call", subject="Initech call", due_at=timezone.now())


def test_the_url_has_a_name(db: None) -> None:
    assert reverse("activities:activity-export") == URL


def test_csv_holds_what_the_list_matches_with_words_not_codes(logged: None, as_manager: Client) -> None:
    response = as_manager.get(URL, {"format": "csv", "kind": "call"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="activities-')
    header, *rows = csv_rows(response)
    assert header == HEADER
    [row] = rows
    record = dict(zip(header, row, strict=True))
    # A cell a spreadsheet would run as a formula is kept as text.
    assert record["Subject"] == '\'=HYPERLINK("http://evil.example")'
    assert (record["Kind"], record["Status"], record["Direction"]) == ("Call", "Done", "Outgoing")
    assert (record["Outcome"], record["Result"], record["Duration, minutes"]) == (
        "No answer",
        "Asked to call back",
        "4",
    )
    assert (record["Company"], record["Contact person"], record["Deal"]) == (
        "Acme Trading",
        "Ivanov Fedor",
        "Chairs for the office",
    )
    assert record["Owner"] == "Mark Manager"
    assert record["When"] == record["Done"]
    assert record["Due"] == ""


def test_csv_is_the_default_format_and_holds_only_what_the_user_sees(logged: None, as_manager: Client) -> None:
    _header, *rows = csv_rows(as_manager.get(URL))
    assert sorted(row[4] for row in rows) == ['\'=HYPERLINK("http://evil.example")', "Send the price list"]


def test_an_outsider_exports_only_their_own(logged: None, outsider: User) -> None:
    _header, *rows = csv_rows(client_for(outsider).get(URL, {"format": "csv"}))
    assert [row[4] for row in rows] == ["Initech call"]


def test_a_bad_filter_is_left_out_of_the_export(logged: None, as_manager: Client) -> None:
    _header, *rows = csv_rows(as_manager.get(URL, {"format": "csv", "kind": "visit", "status": "planned"}))
    assert [row[4] for row in rows] == ["Send the price list"]


def test_xlsx_holds_the_same_rows_typed(logged: None, as_manager: Client) -> None:
    response = as_manager.get(URL, {"format": "xlsx", "status": "done"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active  # type: ignore[attr-defined]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert list(header) == HEADER
    [row] = rows
    record = dict(zip(header, row, strict=True))
    assert record["Subject"] == '=HYPERLINK("http://evil.example")'  # text, not a formula
    assert record["Duration, minutes"] == 4
    assert record["Done"] is not None
    assert record["Done"].date() == timezone.localdate() - timedelta(days=1)
    assert record["Owner"] == "Mark Manager"


def test_an_unknown_format_answers_400_with_the_reason(logged: None, as_manager: Client) -> None:
    response = as_manager.get(URL, {"format": "pdf"})
    assert response.status_code == 400
    assert "choose csv or xlsx" in response.content.decode()


def test_signing_in_is_required(db: None) -> None:
    response = Client().get(URL, {"format": "csv"})
    assert response.status_code == 302


def test_the_lists_export_links_carry_its_filters(logged: None, as_manager: Client) -> None:
    page = as_manager.get("/activities/list/", {"kind": "call", "status": "done"}).content.decode()
    assert f'href="{URL}?format=csv&amp;kind=call&amp;status=done"' in page
    assert f'href="{URL}?format=xlsx&amp;kind=call&amp;status=done"' in page


def test_export_reads_in_a_fixed_number_of_queries(
    manager: User, acme: Company, django_assert_max_num_queries: Any
) -> None:
    for number in range(40):
        services.activity_create(by=manager, kind="task", subject=f"Task {number}", company=acme)
    client = client_for(manager)
    with django_assert_max_num_queries(6):
        _header, *rows = csv_rows(client.get(URL, {"format": "csv"}))
    assert len(rows) == 40

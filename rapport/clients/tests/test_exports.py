"""Exports of the filtered lists (CSV for Excel, XLSX, vCard 3.0): all that matches, nothing beyond scope."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from openpyxl import load_workbook  # type: ignore[import-untyped]

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import exports, services
from rapport.clients.models import ClientStatus, Company, LeadSource
from rapport.clients.services import PointInput
from rapport.core.paging import PAGE_SIZE


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def book(personas: dict[str, User]) -> dict[str, object]:
    manager = personas["manager"]
    fair = LeadSource.objects.create(name="Fair")
    acme = services.company_create(
        by=manager,
        name="Acme, Ltd; «Ёлка»",
        lead_source=fair,
        address="1 Main St, Springfield",
        website="https://acme.test",
        points=[PointInput("phone", "+1 201 555 0100"), PointInput("email", "info@acme.test")],
    )
    services.client_tag_add(by=manager, client=acme, name="VIP")
    services.client_tag_add(by=manager, client=acme, name="Wholesale")
    services.company_create(by=manager, name='=HYPERLINK("http://evil.test")', status=ClientStatus.FROZEN)
    services.company_create(by=personas["teammate"], name="Teammate Co")
    services.company_create(by=personas["outsider"], name="Outsider Co")
    services.contact_create(
        by=manager,
        last_name="Petrova",
        first_name="Anna",
        middle_name="S.",
        position="Chief buyer",
        company=acme,
        birthday=date(1985, 5, 1),
        points=[PointInput("phone", "+7 912 345-67-89"), PointInput("email", "anna@acme.test")],
    )
    services.contact_create(by=personas["outsider"], last_name="Hidden")
    return {"acme": acme}


def test_csv_follows_filters_and_columns(book: dict[str, object], as_manager: Client) -> None:
    response = as_manager.get("/clients/companies/export.csv", {"cols": "phone,email,tags,lead_source"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="companies-')
    rows = csv_rows(response)
    assert rows[0] == ["Name", "Phone", "E-mail", "Lead source", "Tags"]  # in the list's order
    assert ["Acme, Ltd; «Ёлка»", "'+1 201 555 0100", "info@acme.test", "Fair", "VIP, Wholesale"] in rows
    # Only the manager's own clients (and the pool): never a colleague's.
    assert {row[0] for row in rows[1:]} == {"Acme, Ltd; «Ёлка»", '\'=HYPERLINK("http://evil.test")'}
    frozen = csv_rows(as_manager.get("/clients/companies/export.csv", {"status": "frozen", "cols": "status"}))
    assert frozen == [["Name", "Status"], ['\'=HYPERLINK("http://evil.test")', "Frozen"]]


def test_csv_defaults_to_the_lists_columns(book: dict[str, object], as_manager: Client) -> None:
    rows = csv_rows(as_manager.get("/clients/contacts/export.csv"))
    assert rows[0] == [
        "Name",
        "Company",
        "Position",
        "Phone",
        "Owner",
        "Status",
        "Last contact",
        "Next step",
        "Lead source",
    ]
    assert rows[1] == [
        "Petrova Anna S.",
        "Acme, Ltd; «Ёлка»",
        "Chief buyer",
        "'+7 912 345-67-89",
        "Mark Manager",
        "Active",
        "",
        "",
        "",
    ]


def test_formula_injection_is_defused() -> None:
    assert [exports.csv_safe(value) for value in ["=1+2", "+7 912", "-5", "@SUM(A1)", "\tx", "plain", None]] == [
        "'=1+2",
        "'+7 912",
        "'-5",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "",
    ]
    assert exports.csv_safe(date(2026, 1, 2)) == "2026-01-02"


def test_every_matching_row_not_just_the_page(manager: User, as_manager: Client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    companies = Company.objects.bulk_create(Company(name=f"C{n:03}", owner=manager) for n in range(PAGE_SIZE * 2))
    rows = csv_rows(as_manager.get("/clients/companies/export.csv", {"cols": "name"}))
    assert len(rows) == 1 + PAGE_SIZE * 2
    # Reading is per chunk, not per row: the queries do not grow with the rows.
    for company in companies[:10]:
        services.client_tag_add(by=manager, client=company, name="T")
    columns = {"cols": "phone,email,owner,status,last_contact,lead_source,tags,industry,tax_id,created"}
    with django_assert_max_num_queries(8):
        response = as_manager.get("/clients/companies/export.csv", columns)
        content = body(response)
    assert content.count(b"\r\n") == 1 + PAGE_SIZE * 2


def test_streams_in_chunks(manager: User, monkeypatch: pytest.MonkeyPatch, as_manager: Client) -> None:
    monkeypatch.setattr(exports, "CHUNK_SIZE", 3)
    for number in range(7):
        company = services.company_create(
            by=manager, name=f"C{number}", points=[PointInput("phone", f"+1 201 555 01{number:02}")]
        )
        services.client_tag_add(by=manager, client=company, name=f"T{number}")
    response = as_manager.get("/clients/companies/export.csv", {"cols": "phone,tags", "sort": "name"})
    pieces = list(response.streaming_content)  # type: ignore[attr-defined]
    assert len(pieces) == 1 + 3  # the header, then 3 + 3 + 1 rows
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode()[1:])))
    # Each chunk's phones and tags belong to its own rows.
    assert rows[1:] == [[f"C{n}", f"'+1 201 555 01{n:02}", f"T{n}"] for n in range(7)]


def test_scope_of_each_persona(personas: dict[str, User], book: dict[str, object]) -> None:
    def exported(persona: str) -> set[str]:
        response = client_for(personas[persona]).get("/clients/companies/export.csv", {"cols": "name"})
        return {row[0] for row in csv_rows(response)[1:]}

    assert exported("head") == {"Acme, Ltd; «Ёлка»", '\'=HYPERLINK("http://evil.test")', "Teammate Co"}
    assert exported("outsider") == {"Outsider Co"}
    assert exported("agent") == set()
    assert "Outsider Co" in exported("operator")
    # A filter for someone out of scope exports nothing of theirs.
    response = client_for(personas["manager"]).get(
        "/clients/companies/export.csv", {"owner": str(personas["outsider"].pk), "cols": "name"}
    )
    assert "Outsider Co" not in {row[0] for row in csv_rows(response)}


def test_xlsx(book: dict[str, object], as_manager: Client) -> None:
    response = as_manager.get("/clients/companies/export.xlsx", {"cols": "phone,tags,created"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(body(response))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Name", "Phone", "Tags", "Created"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Acme, Ltd; «Ёлка»"][1:3] == ["+1 201 555 0100", "VIP, Wholesale"]
    assert by_name["Acme, Ltd; «Ёлка»"][3].year >= 2026  # a real date cell
    # A name that looks like a formula is stored as text, never run.
    cell = next(row for row in sheet.iter_rows() if str(row[0].value).startswith("=HYPERLINK"))[0]
    assert cell.data_type == "s"


def test_xlsx_is_capped_and_says_so(manager: User, monkeypatch: pytest.MonkeyPatch, as_manager: Client) -> None:
    monkeypatch.setattr(exports, "XLSX_LIMIT", 3)
    Company.objects.bulk_create(Company(name=f"C{n}", owner=manager) for n in range(5))
    sheet = load_workbook(io.BytesIO(body(as_manager.get("/clients/companies/export.xlsx")))).active
    values = [row[0].value for row in sheet.iter_rows()]
    assert len(values) == 1 + 3 + 1
    assert values[-1] == "Only the first 3 rows are in this file. Narrow the filters, or export CSV for all of them."


def test_vcard_of_contacts(book: dict[str, object], as_manager: Client) -> None:
    response = as_manager.get("/clients/contacts/export.vcf")
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    text = body(response).decode()
    assert text.count("BEGIN:VCARD\r\n") == 1  # the outsider's contact is not there
    assert "VERSION:3.0\r\n" in text
    assert "N:Petrova;Anna;S.;;\r\n" in text
    assert "FN:Petrova Anna S.\r\n" in text
    assert "ORG:Acme\\, Ltd\\; «Ёлка»\r\n" in text
    assert "TITLE:Chief buyer\r\n" in text
    assert "TEL;TYPE=WORK,VOICE:+79123456789\r\n" in text
    assert "EMAIL;TYPE=INTERNET:anna@acme.test\r\n" in text
    assert "BDAY:1985-05-01\r\n" in text
    assert text.endswith("END:VCARD\r\n")


def test_vcard_of_companies(book: dict[str, object], as_manager: Client) -> None:
    text = body(as_manager.get("/clients/companies/export.vcf", {"status": "active"})).decode()
    assert text.count("BEGIN:VCARD") == 1
    for line in [
        "FN:Acme\\, Ltd\\; «Ёлка»",
        "ORG:Acme\\, Ltd\\; «Ёлка»",
        "TEL;TYPE=WORK,VOICE:+12015550100",
        "EMAIL;TYPE=INTERNET:info@acme.test",
        "ADR;TYPE=WORK:;;1 Main St\\, Springfield;;;;",
        "URL:https://acme.test",
    ]:
        assert line + "\r\n" in text


def test_vcard_lines_are_folded_at_75_octets() -> None:
    folded = exports.vcard_fold("NOTE:" + "ё" * 60)
    lines = folded.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert lines[1].startswith(" ")
    assert "".join(line[1:] if index else line for index, line in enumerate(lines)) == "NOTE:" + "ё" * 60


def test_bad_format_and_bad_columns(book: dict[str, object], as_manager: Client) -> None:
    response = as_manager.get("/clients/companies/export.pdf")
    assert response.status_code == 400
    assert "Unknown export format “pdf”: choose csv, xlsx or vcf." in response.content.decode()
    rows = csv_rows(as_manager.get("/clients/companies/export.csv", {"cols": "phone,salary", "page": "x"}))
    assert rows[0] == ["Name", "Phone"]


def test_signed_out_users_export_nothing(book: dict[str, object], client: Client) -> None:
    response = client.get("/clients/companies/export.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_csv_times_are_in_the_users_time_zone(manager: User, as_manager: Client) -> None:
    from datetime import UTC, datetime

    company = services.company_create(by=manager, name="Timed")
    Company.objects.filter(pk=company.pk).update(last_contact_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    manager.time_zone = "Asia/Tokyo"
    manager.save(update_fields=["time_zone"])
    rows = csv_rows(as_manager.get("/clients/companies/export.csv", {"cols": "last_contact"}))
    assert rows[1] == ["Timed", "2026-03-02 08:30"]

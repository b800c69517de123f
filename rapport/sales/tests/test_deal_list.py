"""The deal list: who sees which deals, the filters other screens link with, sorting, columns,
pages, saved views, and the CSV/XLSX export of what the list matches."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.clients.models import Company, LeadSource, SavedView
from rapport.core.paging import PAGE_SIZE
from rapport.sales import services
from rapport.sales.models import Deal, Pipeline
from rapport.sales.tests.factories import lost_reason, sales_pipeline, stage

URL = "/sales/deals/"


def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:500]
    return [html.unescape(title) for title in re.findall(r'class="deal-link">(.*?)</a>', response.content.decode())]


def headers(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<th data-column="([a-z_]+)"', response.content.decode())


def _win(deal: Deal, by: User) -> Deal:
    for checkpoint in deal.checkpoints.select_related("deal"):
        services.deal_checkpoint_set(by=by, checkpoint=checkpoint, done=True)
    return services.deal_move_to_stage(by=by, deal=deal, stage=stage(deal.pipeline, "Won"))


class Book:
    """Deals of team A (manager, teammate) and team B (outsider), in two pipelines."""

    def __init__(self, personas: dict[str, User], pipeline: Pipeline) -> None:
        manager, teammate, outsider, head = (personas[name] for name in ("manager", "teammate", "outsider", "head"))
        self.people = personas
        self.pipeline = pipeline
        self.distribution = sales_pipeline("Distribution")
        self.web = LeadSource.objects.create(name="Website")
        self.acme = client_services.company_create(by=manager, name="Acme Trading")
        self.ivanov = client_services.contact_create(by=manager, last_name="Ivanov", first_name="Fedor")
        globex = client_services.company_create(by=teammate, name="Globex")
        initech = client_services.company_create(by=outsider, name="Initech")
        today = timezone.localdate()
        self.this_month = today.replace(day=1)
        create = services.deal_create
        self.chairs = create(
            by=manager,
            title="Chairs for the office",
            company=self.acme,
            pipeline=pipeline,
            amount=Decimal("1200.00"),
            expected_close=self.this_month + timedelta(days=3),
            lead_source=self.web,
        )
        self.desks = create(
            by=manager,
            title="Desks",
            company=self.acme,
            pipeline=pipeline,
            amount=Decimal(300),
            currency="EUR",
            expected_close=self.this_month + timedelta(days=40),
        )
        self.samples = create(by=manager, title="Paper samples", contact=self.ivanov, pipeline=self.distribution)
        won = create(
            by=manager, title="Won printers", company=self.acme, contact=self.ivanov, pipeline=pipeline, amount=900
        )
        self.won = _win(won, manager)
        self.lost = services.deal_move_to_stage(
            by=manager,
            deal=create(by=manager, title="Lost toner", company=self.acme, pipeline=pipeline),
            stage=stage(pipeline, "Lost"),
            lost_reason=lost_reason(),
        )
        # Registered by the manager, now the teammate's: the manager still sees it (and is credited for it).
        handed = create(by=head, title="Handed over", company=self.acme, pipeline=pipeline, owner=manager)
        self.handed = services.deal_update(by=head, deal=handed, version=None, owner=teammate)
        Deal.objects.filter(pk=handed.pk).update(registrant=manager)
        self.teammates = create(by=teammate, title="Globex laptops", company=globex, pipeline=pipeline)
        self.outsiders = create(by=outsider, title="Initech monitors", company=initech, pipeline=pipeline)


@pytest.fixture
def book(personas: dict[str, User], pipeline: Pipeline) -> Book:
    return Book(personas, pipeline)


OPEN_OF_TEAM_A = {"Chairs for the office", "Desks", "Paper samples", "Handed over", "Globex laptops"}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("manager", {"Chairs for the office", "Desks", "Paper samples", "Handed over"}),
        ("teammate", {"Handed over", "Globex laptops"}),
        ("head", OPEN_OF_TEAM_A),
        ("outsider", {"Initech monitors"}),
        ("agent", set()),
        ("admin", {*OPEN_OF_TEAM_A, "Initech monitors"}),
        ("operator", {*OPEN_OF_TEAM_A, "Initech monitors"}),
    ],
)
def test_each_person_sees_the_open_deals_of_their_scope(book: Book, persona: str, expected: set[str]) -> None:
    assert set(titles(client_for(book.people[persona]).get(URL))) == expected


def test_anonymous_visitors_are_sent_to_sign_in(book: Book) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]


def test_status_filter(book: Book, as_manager: Client) -> None:
    assert titles(as_manager.get(URL, {"status": "won"})) == ["Won printers"]
    assert titles(as_manager.get(URL, {"status": "lost"})) == ["Lost toner"]
    assert set(titles(as_manager.get(URL, {"status": "all"}))) == {
        "Chairs for the office",
        "Desks",
        "Paper samples",
        "Handed over",
        "Won printers",
        "Lost toner",
    }


def test_filters(book: Book, as_manager: Client) -> None:
    assert set(titles(as_manager.get(URL, {"pipeline": book.distribution.pk}))) == {"Paper samples"}
    negotiation = stage(book.pipeline, "Qualification")
    assert set(titles(as_manager.get(URL, {"stage": negotiation.pk}))) == {
        "Chairs for the office",
        "Desks",
        "Handed over",
    }
    assert set(titles(as_manager.get(URL, {"owner": "me"}))) == {"Chairs for the office", "Desks", "Paper samples"}
    assert titles(as_manager.get(URL, {"source": book.web.pk})) == ["Chairs for the office"]
    assert titles(as_manager.get(URL, {"close_month": f"{book.this_month:%Y-%m}"})) == ["Chairs for the office"]
    assert titles(as_manager.get(URL, {"q": "DESK"})) == ["Desks"]
    assert titles(as_manager.get(URL, {"contact": book.ivanov.pk})) == ["Paper samples"]
    # Filters combine, and a client's deals say whose they are.
    response = as_manager.get(URL, {"company": str(book.acme.pk), "status": "all", "q": "o"})
    assert set(titles(response)) == {"Chairs for the office", "Won printers", "Lost toner", "Handed over"}
    assert "Deals with Acme Trading" in response.content.decode()


def test_head_and_admin_narrow_by_person_and_team(book: Book) -> None:
    head = client_for(book.people["head"])
    teammate = book.people["teammate"]
    assert set(titles(head.get(URL, {"owner": teammate.pk}))) == {"Handed over", "Globex laptops"}
    admin = client_for(book.people["admin"])
    assert titles(admin.get(URL, {"team": str(book.people["outsider"].team_id)})) == ["Initech monitors"]
    assert set(titles(admin.get(URL, {"team": str(teammate.team_id)}))) == OPEN_OF_TEAM_A
    page = admin.get(URL).content.decode()
    assert 'name="team"' in page
    # Owners to choose from are those who can own deals.
    assert ">Tina Teammate</option>" in page
    assert ">Olga Operator</option>" not in page


def test_a_filter_outside_the_scope_is_refused_and_the_others_still_apply(book: Book, as_manager: Client) -> None:
    response = as_manager.get(URL, {"owner": str(book.people["outsider"].pk), "q": "desk"})
    assert "Select a valid choice" in response.content.decode()
    assert titles(response) == ["Desks"]
    # Another team's client is not named, and filters nothing in.
    response = as_manager.get(URL, {"company": Company.objects.get(name="Initech").pk})
    assert "There is no such client among those you can see." in response.content.decode()
    assert "Initech" not in response.content.decode()
    response = as_manager.get(URL, {"close_month": "March"})
    assert "Give a month as YYYY-MM" in response.content.decode()
    assert len(titles(response)) == 4


def test_sorting(book: Book, as_manager: Client) -> None:
    # Without an amount or a date, last whichever way.
    by_amount = titles(as_manager.get(URL, {"sort": "-amount"}))
    assert by_amount[:2] == ["Chairs for the office", "Desks"]
    assert titles(as_manager.get(URL, {"sort": "amount"}))[:2] == ["Desks", "Chairs for the office"]
    assert titles(as_manager.get(URL, {"sort": "expected_close"}))[:2] == ["Chairs for the office", "Desks"]
    assert titles(as_manager.get(URL, {"sort": "-expected_close"}))[:2] == ["Desks", "Chairs for the office"]
    assert titles(as_manager.get(URL, {"sort": "title"})) == [
        "Chairs for the office",
        "Desks",
        "Handed over",
        "Paper samples",
    ]
    assert titles(as_manager.get(URL, {"sort": "-title"}))[0] == "Paper samples"
    assert titles(as_manager.get(URL, {"sort": "created"}))[0] == "Chairs for the office"
    assert titles(as_manager.get(URL))[0] == "Handed over"  # newest first


def test_rows_show_their_columns(book: Book, as_manager: Client) -> None:
    response = as_manager.get(URL, {"q": "chairs"})
    page = response.content.decode()
    assert headers(response) == ["client", "stage", "amount", "owner", "expected_close", "created"]
    assert f'href="/sales/deals/{book.chairs.pk}/"' in page
    assert '<span class="badge bg-blue-lt">Qualification</span>' in page
    assert "1,200" in page
    assert "USD" in page
    assert "Acme Trading" in page
    assert "Mark Manager" in page
    # The totals line adds up the amounts per currency.
    assert re.search(r'id="deal-sums">Total: <strong[^>]*>1,200 USD</strong>', page)


def test_column_chooser(book: Book, as_manager: Client) -> None:
    response = as_manager.get(URL, {"cols": "registrant,closed,pipeline", "status": "won"})
    assert headers(response) == ["pipeline", "registrant", "closed"]
    assert "New sales" in response.content.decode()
    response = as_manager.get(URL, {"cols": "title"})
    assert headers(response) == []
    assert len(titles(response)) == 4
    response = as_manager.get(URL, {"cols": "nonsense,owner"})
    assert headers(response) == ["owner"]
    assert "No such column: nonsense" in response.content.decode()


def test_pages_and_query_count(  # type: ignore[no-untyped-def]
    personas: dict[str, User], pipeline: Pipeline, acme: Company, django_assert_max_num_queries
) -> None:
    manager = personas["manager"]
    for number in range(PAGE_SIZE + 5):
        services.deal_create(by=manager, title=f"Deal {number:02}", company=acme, pipeline=pipeline, amount=number)
    as_manager = client_for(manager)
    everything = "client,pipeline,stage,amount,owner,registrant,lead_source,next_step,expected_close,created,closed"
    with django_assert_max_num_queries(10):
        first = as_manager.get(URL, {"sort": "title", "cols": everything})
    assert titles(first) == [f"Deal {number:02}" for number in range(PAGE_SIZE)]
    assert "1–25 of 30" in first.content.decode()
    assert re.search(r'id="deal-sums">Total: <strong[^>]*>435 USD</strong>', first.content.decode())  # 0 + 1 + … + 29
    second = as_manager.get(URL, {"sort": "title", "page": "2"})
    assert titles(second) == [f"Deal {number:02}" for number in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert "26–30 of 30" in second.content.decode()
    head = client_for(personas["head"])
    with django_assert_max_num_queries(10):
        assert len(titles(head.get(URL, {"cols": everything}))) == PAGE_SIZE
    admin = client_for(personas["admin"])
    with django_assert_max_num_queries(10):
        assert len(titles(admin.get(URL, {"cols": everything}))) == PAGE_SIZE


def test_htmx_swaps_the_table_and_shows_the_short_query(book: Book, as_manager: Client) -> None:
    response = as_manager.get(
        URL,
        {"status": "open", "sort": "-created", "q": "desk"},
        headers={"HX-Request": "true", "HX-Target": "deal-table"},
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="deal-table">')
    assert 'id="list-tools" hx-swap-oob="true"' in page
    assert response["HX-Push-Url"] == "/sales/deals/?q=desk"


def test_the_search_box_does_not_repeat_the_list_filters(book: Book, as_manager: Client) -> None:
    page = as_manager.get(URL, {"q": "desk", "status": "all"}).content.decode()
    assert re.search(r'id="global-search-input"\s+value=""', page)
    assert 'href="/sales/deals/export.csv?q=desk&amp;status=all"' in page


# ---- Saved views ----------------------------------------------------------------------------


def test_save_open_and_delete_a_view(book: Book, as_manager: Client) -> None:
    response = as_manager.post(f"{URL}views/", {"name": "Closing soon", "query": "sort=expected_close&page=2"})
    assert response.status_code == 302
    assert response["Location"] == "/sales/deals/?sort=expected_close"
    view = SavedView.objects.get()
    assert (view.kind, view.is_shared) == ("deal", False)
    menu = as_manager.get(f"{URL}views/menu/", {"sort": "expected_close"}).content.decode()
    assert 'href="?sort=expected_close">Closing soon</a>' in menu
    assert 'class="saved-view active"' in menu
    # The client lists keep their own views.
    assert "Closing soon" not in as_manager.get("/clients/companies/views/menu/").content.decode()
    # Another manager neither sees nor deletes it.
    outsider = client_for(book.people["outsider"])
    assert "Closing soon" not in outsider.get(f"{URL}views/menu/").content.decode()
    assert outsider.post(f"{URL}views/{view.pk}/delete/").status_code == 404
    response = as_manager.post(f"{URL}views/{view.pk}/delete/", {"query": "q=desk"})
    assert response["Location"] == "/sales/deals/?q=desk"
    assert not SavedView.objects.exists()


def test_only_heads_operators_and_admins_share_views(book: Book, as_manager: Client) -> None:
    assert as_manager.post(f"{URL}views/", {"name": "For all", "is_shared": "on"}).status_code == 403
    head = client_for(book.people["head"])
    assert head.post(f"{URL}views/", {"name": "For all", "is_shared": "on", "query": "status=won"}).status_code == 302
    assert 'href="?status=won">For all</a>' in as_manager.get(f"{URL}views/menu/").content.decode()


def test_a_view_without_a_name_is_explained(book: Book, as_manager: Client) -> None:
    response = as_manager.post(f"{URL}views/", {"name": " "}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Give the view a name." in response.content.decode()


def test_views_are_deleted_from_their_own_list(book: Book, as_manager: Client) -> None:
    companies = SavedView.objects.create(user=book.people["manager"], kind="company", name="Mine")
    deals = SavedView.objects.create(user=book.people["manager"], kind="deal", name="Mine")
    assert as_manager.post(f"{URL}views/{companies.pk}/delete/").status_code == 404
    assert as_manager.post(f"/clients/views/{deals.pk}/delete/").status_code == 404
    assert SavedView.objects.count() == 2


# ---- Export ---------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_csv_export_holds_the_visible_deals_as_filtered(book: Book, as_manager: Client) -> None:
    response = as_manager.get(f"{URL}export.csv", {"status": "all", "sort": "title", "cols": "client,amount,owner"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="deals-' in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["Title", "Client", "Amount", "Currency", "Owner"]
    assert [row[0] for row in rows[1:]] == [
        "Chairs for the office",
        "Desks",
        "Handed over",
        "Lost toner",
        "Paper samples",
        "Won printers",
    ]
    assert rows[1] == ["Chairs for the office", "Acme Trading", "1200.00", "USD", "Mark Manager"]
    assert rows[5][1] == "Ivanov Fedor"
    # Filters apply; another team's deals never come out.
    assert [row[0] for row in _csv(as_manager.get(f"{URL}export.csv", {"q": "desk"}))[1:]] == ["Desks"]
    assert _csv(as_manager.get(f"{URL}export.csv", {"q": "Initech"}))[1:] == []


def test_export_cells_cannot_run_as_formulas(book: Book, as_manager: Client) -> None:
    services.deal_create(by=book.people["manager"], title="=HYPERLINK(1)", company=book.acme, pipeline=book.pipeline)
    rows = _csv(as_manager.get(f"{URL}export.csv", {"q": "HYPERLINK", "cols": "title"}))
    assert rows == [["Title"], ["'=HYPERLINK(1)"]]
    response = as_manager.get(f"{URL}export.xlsx", {"q": "HYPERLINK", "cols": "title"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active  # type: ignore[attr-defined]
    assert sheet["A2"].value == "=HYPERLINK(1)"
    assert sheet["A2"].data_type == "s"


def test_xlsx_export(book: Book, as_manager: Client) -> None:
    response = as_manager.get(f"{URL}export.xlsx", {"cols": "stage,amount,expected_close", "sort": "expected_close"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active  # type: ignore[attr-defined]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Title", "Stage", "Amount", "Currency", "Expected close"]
    assert rows[1][:4] == ["Chairs for the office", "Qualification", 1200, "USD"]
    assert rows[1][4].date() == book.this_month + timedelta(days=3)
    assert {row[0] for row in rows[1:]} == {"Chairs for the office", "Desks", "Paper samples", "Handed over"}


def test_unknown_export_format(book: Book, as_manager: Client) -> None:
    response = as_manager.get(f"{URL}export.pdf")
    assert response.status_code == 400
    assert "choose csv or xlsx" in response.content.decode()


# ---- Shell: navigation ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "operator", "admin", "agent"])
def test_navigation_leads_to_deals_and_the_board(book: Book, persona: str) -> None:
    page = client_for(book.people[persona]).get("/clients/companies/").content.decode()
    assert 'href="/sales/deals/"' in page
    assert 'href="/sales/boards/"' in page

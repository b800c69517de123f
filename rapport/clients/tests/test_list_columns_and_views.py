"""The list screens: chosen columns in the query string, saved views (personal and shared), query counts."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import saved_views, services
from rapport.clients.models import ClientStatus, LeadSource, SavedView
from rapport.clients.services import PointInput
from rapport.clients.tests.factories import CompanyFactory

HTMX = {"HX-Request": "true", "HX-Target": "client-table"}


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [html.unescape(name) for name in re.findall(r'class="client-link">(.*?)</a>', response.content.decode())]


def headers(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<th data-column="([a-z_]+)">', response.content.decode())


def saved_view_links(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Name → query of each view in the Views dropdown."""
    found = re.findall(r'class="dropdown-item saved-view-link" href="\?([^"]*)">(.*?)</a>', response.content.decode())
    return {html.unescape(name): html.unescape(query) for query, name in found}


@pytest.fixture
def book(personas: dict[str, User]) -> dict[str, object]:
    manager = personas["manager"]
    web = LeadSource.objects.create(name="Website")
    acme = services.company_create(
        by=manager,
        name="Acme",
        lead_source=web,
        industry="Retail",
        tax_id="7701",
        points=[PointInput("phone", "+1 201 555 0100"), PointInput("email", "info@acme.test")],
    )
    services.client_tag_add(by=manager, client=acme, name="VIP")
    services.company_create(by=manager, name="Frozen Co", status=ClientStatus.FROZEN)
    services.company_create(by=personas["teammate"], name="Teammate Co")
    services.company_create(by=personas["outsider"], name="Outsider Co")
    services.contact_create(
        by=manager, last_name="Petrova", first_name="Anna", company=acme, position="Buyer", lead_source=web
    )
    return {"acme": acme, "web": web}


# ---- Columns --------------------------------------------------------------------------------


def test_default_columns_are_the_usual_ones(book: dict[str, object], as_manager: Client) -> None:
    companies = as_manager.get("/clients/companies/")
    assert headers(companies) == ["phone", "owner", "status", "last_contact", "next_step", "lead_source"]
    page = companies.content.decode()
    assert "+1 201 555 0100" in page
    assert "info@acme.test" not in page  # the e-mail column is not shown by default
    contacts = as_manager.get("/clients/contacts/")
    assert headers(contacts) == ["company", "phone", "owner", "status", "last_contact", "next_step", "lead_source"]
    assert "Buyer" in contacts.content.decode()  # the position, under the name


def test_chosen_columns_are_shown_and_travel_in_links(book: dict[str, object], as_manager: Client) -> None:
    response = as_manager.get("/clients/companies/", {"cols": "email,tags,tax_id", "status": "active"})
    assert headers(response) == ["email", "tags", "tax_id"]
    page = response.content.decode()
    assert "info@acme.test" in page
    assert ">VIP<" in page
    assert "7701" in page
    assert "+1 201 555 0100" not in page
    # The export links carry the same filters and columns, ready to bookmark.
    export = re.search(r'data-export="csv" href="([^"]+)"', page)
    assert export is not None
    assert parse_qs(urlsplit(html.unescape(export.group(1))).query) == {
        "status": ["active"],
        "cols": ["email,tags,tax_id"],
    }


def test_columns_from_the_form_come_back_in_the_short_form(book: dict[str, object], as_manager: Client) -> None:
    # The chooser's checkboxes send cols= once each, plus cols=name so that "none" can be said.
    response = as_manager.get(
        "/clients/companies/", {"cols": ["name", "owner", "email"], "owner": "", "sort": "last_contact"}, headers=HTMX
    )
    assert headers(response) == ["email", "owner"]  # in the list's own order
    assert response["HX-Push-Url"] == "/clients/companies/?cols=email,owner"
    # The defaults and the default sort need nothing in the address at all.
    defaults = ["name", "phone", "owner", "status", "last_contact", "next_step", "lead_source"]
    response = as_manager.get("/clients/companies/", {"cols": defaults, "sort": "last_contact"}, headers=HTMX)
    assert response["HX-Push-Url"] == "/clients/companies/"


def test_the_name_alone(book: dict[str, object], as_manager: Client) -> None:
    response = as_manager.get("/clients/companies/", {"cols": "name"})
    assert headers(response) == []
    assert "Acme" in names(response)


def test_unknown_column_is_reported_not_fatal(book: dict[str, object], as_manager: Client) -> None:
    response = as_manager.get("/clients/companies/", {"cols": "phone,salary,<b>"})
    assert response.status_code == 200
    assert headers(response) == ["phone"]
    assert "No such column: &lt;b&gt;, salary. It is left out." in response.content.decode()
    # A contacts-only column asked of companies is unknown there too.
    assert headers(as_manager.get("/clients/companies/", {"cols": "birthday,phone"})) == ["phone"]


def test_chosen_columns_filter_like_any_other_page(book: dict[str, object], as_manager: Client) -> None:
    # Columns do not widen what is seen: the manager still sees only their clients and the pool.
    response = as_manager.get("/clients/companies/", {"cols": "owner,tags,industry,tax_id,created,email"})
    assert set(names(response)) == {"Acme", "Frozen Co"}


# ---- Query counts ---------------------------------------------------------------------------
# Per page: the session and the user; the rows, their primary points (when a phone or e-mail
# column is shown), the capped count (when the page is full); the bell; lead sources and tags
# for the filters (one query); the people of the owner filter (heads and wider); the rows' tags
# (when shown).
# The saved views are read when their menu is opened.


def _many(manager: User) -> None:
    for number in range(30):
        company = services.company_create(
            by=manager,
            name=f"Client {number:02}",
            points=[PointInput("phone", f"+1 201 555 01{number:02}"), PointInput("email", f"c{number}@x.test")],
        )
        services.client_tag_add(by=manager, client=company, name=f"Tag {number % 3}")
        services.contact_create(by=manager, last_name=f"Person {number:02}", company=company)


ALL_COMPANY_COLUMNS = "phone,email,owner,status,last_contact,next_step,lead_source,tags,industry,tax_id,created"
ALL_CONTACT_COLUMNS = "company,position,phone,email,owner,status,last_contact,next_step,birthday,lead_source,tags"


@pytest.mark.parametrize(
    ("path", "cols", "queries"),
    [
        ("/clients/companies/", None, 8),
        ("/clients/companies/", ALL_COMPANY_COLUMNS, 9),
        ("/clients/companies/", "name", 6),
        ("/clients/contacts/", None, 8),
        ("/clients/contacts/", ALL_CONTACT_COLUMNS, 9),
    ],
)
def test_query_count_does_not_grow_with_rows(  # type: ignore[no-untyped-def]
    manager: User, as_manager: Client, django_assert_num_queries, path: str, cols: str | None, queries: int
) -> None:
    _many(manager)
    data = {"cols": cols} if cols else {}
    with django_assert_num_queries(queries):
        response = as_manager.get(path, data)
    assert len(names(response)) == 25


def test_query_count_of_a_head(personas: dict[str, User], django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    _many(personas["manager"])
    head = client_for(personas["head"])
    # One more than a manager: the team's people, for the owner filter and the "assign owner" choices alike.
    with django_assert_num_queries(9):
        response = head.get("/clients/companies/")
    assert len(names(response)) == 25
    assert 'id="bulk-owner"' in response.content.decode()


# ---- Saved views ----------------------------------------------------------------------------


def test_save_a_view_and_open_it(book: dict[str, object], as_manager: Client) -> None:
    query = "status=frozen&cols=email%2Ctags&page=3"
    response = as_manager.post("/clients/companies/views/", {"name": "  Frozen   ones ", "query": query})
    assert response.status_code == 302
    assert response["Location"] == "/clients/companies/?status=frozen&cols=email,tags"
    view = SavedView.objects.get()
    assert (view.name, view.kind, view.is_shared) == ("Frozen ones", "company", False)
    page = as_manager.get(response["Location"])
    assert "View “Frozen ones” saved." in page.content.decode()
    assert names(page) == ["Frozen Co"]
    assert headers(page) == ["email", "tags"]
    # The Views menu is read when opened, with the list's current query.
    assert 'hx-get="/clients/companies/views/menu/?status=frozen&amp;cols=email,tags"' in page.content.decode()
    menu = as_manager.get("/clients/companies/views/menu/", {"status": "frozen", "cols": "email,tags"})
    assert saved_view_links(menu) == {"Frozen ones": "status=frozen&cols=email,tags"}
    assert 'class="saved-view active"' in menu.content.decode()
    assert 'class="saved-view active"' not in as_manager.get("/clients/companies/views/menu/").content.decode()
    # Contacts have views of their own.
    assert saved_view_links(as_manager.get("/clients/contacts/views/menu/")) == {}


def test_duplicate_name_is_said_next_to_the_name(book: dict[str, object], as_manager: Client) -> None:
    as_manager.post("/clients/companies/views/", {"name": "Mine", "query": "status=active"})
    response = as_manager.post(
        "/clients/companies/views/", {"name": "MINE", "query": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_view_name-error"' in page
    assert "You already have a view called “MINE”." in page
    assert "<html" not in page
    # Without htmx the message comes back on the list.
    response = as_manager.post("/clients/companies/views/", {"name": "mine", "query": ""}, follow=True)
    assert "You already have a view called “mine”." in response.content.decode()
    assert SavedView.objects.count() == 1
    # Another list, or another person, may use the same name.
    as_manager.post("/clients/contacts/views/", {"name": "Mine", "query": ""})
    client_for(SavedView.objects.get(kind="company").user).post(
        "/clients/companies/views/", {"name": "Mine", "query": ""}
    )
    assert SavedView.objects.count() == 2


def test_bad_names_are_explained(book: dict[str, object], as_manager: Client) -> None:
    response = as_manager.post(
        "/clients/companies/views/", {"name": "   ", "query": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Give the view a name." in response.content.decode()
    response = as_manager.post(
        "/clients/companies/views/", {"name": "x" * 81, "query": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "at most 80 characters" in response.content.decode()
    assert not SavedView.objects.exists()
    assert as_manager.post("/clients/people/views/", {"name": "x"}).status_code == 404


def test_only_heads_operators_and_admins_share(personas: dict[str, User], book: dict[str, object]) -> None:
    manager = client_for(personas["manager"])
    assert "Share with everyone" not in manager.get("/clients/companies/views/menu/").content.decode()
    assert manager.post("/clients/companies/views/", {"name": "All", "is_shared": "on"}).status_code == 403
    assert not SavedView.objects.exists()
    for persona in ("head", "operator", "admin"):
        client = client_for(personas[persona])
        assert "Share with everyone" in client.get("/clients/companies/views/menu/").content.decode()
        client.post("/clients/companies/views/", {"name": f"By {persona}", "is_shared": "on", "query": ""})
    assert SavedView.objects.filter(is_shared=True).count() == 3
    # Everyone sees the shared views; personal ones stay personal.
    personas_views = saved_view_links(client_for(personas["outsider"]).get("/clients/companies/views/menu/"))
    assert set(personas_views) == {"By head", "By operator", "By admin"}


def test_a_shared_view_applies_the_viewers_own_scope(personas: dict[str, User], book: dict[str, object]) -> None:
    head, teammate = personas["head"], personas["teammate"]
    view = saved_views.saved_view_create(
        by=head, kind="company", name="Tina's", query=f"owner={teammate.pk}&cols=owner", is_shared=True
    )
    assert names(client_for(head).get(f"/clients/companies/?{view.query}")) == ["Teammate Co"]
    # The outsider may not filter by another team's manager: the filter is reported and left
    # out, their own scope applies, and nothing of Team A shows.
    outsider = client_for(personas["outsider"])
    response = outsider.get(f"/clients/companies/?{view.query}")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert names(response) == ["Outsider Co"]
    assert headers(response) == ["owner"]
    # The agent sees only their own, whatever the view says.
    assert names(client_for(personas["agent"]).get(f"/clients/companies/?{view.query}")) == []


def test_deleting_views(personas: dict[str, User], book: dict[str, object]) -> None:
    mine = saved_views.saved_view_create(by=personas["manager"], kind="company", name="Mine", query="", is_shared=False)
    shared = saved_views.saved_view_create(by=personas["head"], kind="company", name="Team", query="", is_shared=True)
    manager, teammate = client_for(personas["manager"]), client_for(personas["teammate"])
    # Someone else's personal view does not exist for them; a shared one is not theirs to delete.
    assert teammate.post(f"/clients/views/{mine.pk}/delete/").status_code == 404
    assert manager.post(f"/clients/views/{shared.pk}/delete/").status_code == 403
    assert manager.post("/clients/views/999999/delete/").status_code == 404
    assert manager.get(f"/clients/views/{mine.pk}/delete/").status_code == 405
    page = manager.get("/clients/companies/views/menu/").content.decode()
    assert f'action="/clients/views/{mine.pk}/delete/"' in page
    assert f'action="/clients/views/{shared.pk}/delete/"' not in page
    response = manager.post(
        f"/clients/views/{mine.pk}/delete/", {"query": "status=active&x=\r\nSet-Cookie"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/clients/companies/?status=active"
    assert "View “Mine” deleted." in response.content.decode()
    # Admins may delete a shared view of anyone's.
    assert client_for(personas["admin"]).post(f"/clients/views/{shared.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


def test_saved_view_service_rules(personas: dict[str, User]) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    manager = personas["manager"]
    with pytest.raises(ValidationError):
        saved_views.saved_view_create(by=manager, kind="invoice", name="x", query="", is_shared=False)
    with pytest.raises(PermissionDenied):
        saved_views.saved_view_create(by=manager, kind="company", name="x", query="", is_shared=True)
    with pytest.raises(ValidationError):
        saved_views.saved_view_create(by=manager, kind="company", name="x", query="a=" + "b" * 2000, is_shared=False)
    view = saved_views.saved_view_create(
        by=manager, kind="company", name="x", query="?page=2&status=frozen&owner=", is_shared=False
    )
    assert view.query == "status=frozen"
    analyst = UserFactory.create(role=Role.ANALYST)
    with pytest.raises(PermissionDenied):
        saved_views.saved_view_delete(by=analyst, view=view)


def test_pool_clients_are_listed_for_everyone_but_agents(personas: dict[str, User]) -> None:
    CompanyFactory.create(name="Pooled", owner=None, status=ClientStatus.POOL)
    assert "Pooled" in names(client_for(personas["manager"]).get("/clients/companies/", {"cols": "owner"}))
    assert "Pooled" not in names(client_for(personas["agent"]).get("/clients/companies/"))


def test_views_menu_bad_input(as_manager: Client) -> None:
    assert as_manager.get("/clients/companies/views/menu/", {"owner": "999999", "cols": "x"}).status_code == 200
    assert as_manager.post("/clients/companies/views/menu/").status_code == 405


def test_tag_and_source_filters_offer_what_exists(book: dict[str, object], as_manager: Client) -> None:
    from rapport.clients.models import Tag

    vip = Tag.objects.get(name="VIP")
    page = as_manager.get("/clients/companies/", {"tag": vip.pk})
    assert names(page) == ["Acme"]
    assert f'<option value="{vip.pk}" selected>VIP</option>' in page.content.decode()
    assert '<option value="" selected>Any source</option>' in page.content.decode()
    response = as_manager.get("/clients/companies/", {"tag": "999999", "source": "x"})
    assert response.status_code == 200
    assert response.content.decode().count("Select a valid choice") == 2
    assert set(names(response)) == {"Acme", "Frozen Co"}

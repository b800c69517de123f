from __future__ import annotations

import re

import pytest
from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import ClientStatus, Company, Contact
from rapport.clients.services import PointInput


@pytest.fixture
def acme(manager: User) -> Company:
    return services.company_create(
        by=manager, name="Acme Trading", tax_id="7701234567", points=[PointInput("phone", "+7 (912) 345-67-89")]
    )


@pytest.fixture
def ivanov(manager: User, acme: Company) -> Contact:
    return services.contact_create(
        by=manager,
        last_name="Иванов",
        first_name="Фёдор",
        company=acme,
        points=[PointInput("phone", "+7 916 111-22-33"), PointInput("email", "F.Ivanov@Acme.example")],
    )


@pytest.fixture
def hoang(outsider: User) -> Contact:
    return services.contact_create(
        by=outsider, last_name="Hoàng", first_name="Minh", points=[PointInput("phone", "+84 90 123 4567")]
    )


def titles(client: Client, query: str) -> set[str]:
    page = client.get("/search/", {"q": query}, headers={"HX-Request": "true"}).content.decode()
    return set(re.findall(r'<div class="search-hit-title">(.*?)</div>', page))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("+7 (912) 345-67-89", {"Acme Trading"}),
        ("89123456789", {"Acme Trading"}),
        ("345-67-89", {"Acme Trading"}),
        ("1112233", {"Иванов Фёдор"}),
        ("+7916", {"Иванов Фёдор"}),
        ("f.ivanov@acme", {"Иванов Фёдор"}),
        ("ИВАН", {"Иванов Фёдор"}),
        ("федор", {"Иванов Фёдор"}),
        ("trad", {"Acme Trading"}),
        ("7701234567", {"Acme Trading"}),
        ("770123", {"Acme Trading"}),
        ("acme fed", set()),
    ],
)
def test_manager_finds_own_clients_any_way(
    as_manager: Client, acme: Company, ivanov: Contact, hoang: Contact, query: str, expected: set[str]
) -> None:
    assert titles(as_manager, query) == expected


def test_accents_do_not_matter_and_scope_does(personas: dict[str, User], hoang: Contact) -> None:
    assert titles(client_for(personas["outsider"]), "hoang") == {"Hoàng Minh"}
    assert titles(client_for(personas["operator"]), "HOÀNG") == {"Hoàng Minh"}
    # A colleague from another team neither finds it by name nor by phone.
    assert titles(client_for(personas["manager"]), "hoang") == set()
    assert titles(client_for(personas["manager"]), "123 4567") == set()


@pytest.mark.parametrize(
    "query",
    ['"', 'ac"me', "%%", "__", "acme*", "(acme", "NOT acme", "acme OR", "ac\x00me", "--", "'; --", "a b", "+", "@"],
)
def test_odd_queries_find_nothing_or_something_but_never_fail(as_manager: Client, acme: Company, query: str) -> None:
    response = as_manager.get("/search/", {"q": query}, headers={"HX-Request": "true"})
    assert response.status_code == 200


def test_two_letter_surname_is_found_as_a_word(manager: User, as_manager: Client, acme: Company) -> None:
    services.contact_create(
        by=manager, last_name="Lê", first_name="Văn An", points=[PointInput("phone", "+84 90 555 1234")]
    )
    assert "Lê Văn An" in titles(as_manager, "le")  # (colleagues named "…le…" may join it)
    assert titles(as_manager, "LÊ VĂN") == {"Lê Văn An"}


def test_a_common_name_finds_the_visible_client_behind_many_hidden_ones(
    manager: User, outsider: User, as_manager: Client
) -> None:
    for number in range(30):
        services.contact_create(by=outsider, last_name="Smirnov", first_name=f"Ivan {number}")
    services.contact_create(by=manager, last_name="Smirnov", first_name="Pavel")
    assert titles(as_manager, "smirn") == {"Smirnov Pavel"}
    assert titles(client_for(outsider), "smirnov pav") == set()


def test_search_shows_each_client_once_with_its_phone_and_company(
    manager: User, as_manager: Client, acme: Company, ivanov: Contact
) -> None:
    # Found by the phone's digits and by the tax id's: one hit.
    page = as_manager.get("/search/", {"q": "7701234567"}, headers={"HX-Request": "true"}).content.decode()
    assert page.count("Acme Trading") == 1
    page = as_manager.get("/search/", {"q": "иванов"}, headers={"HX-Request": "true"}).content.decode()
    assert "Acme Trading · +7 916 111-22-33" in page
    assert f'href="{ivanov.get_absolute_url()}"' in page


# A search costs the session and the user, then per kind of client one query listing the
# matches the user may see and one loading them (none when nothing matched), then the colleagues.


def test_search_dropdown_query_count(  # type: ignore[no-untyped-def]
    manager: User, as_manager: Client, acme: Company, ivanov: Contact, django_assert_num_queries
) -> None:
    services.contact_create(by=manager, last_name="Acmeev", first_name="Pyotr")
    with django_assert_num_queries(2 + 2 + 2 + 1):
        page = as_manager.get("/search/", {"q": "acme"}, headers={"HX-Request": "true"}).content.decode()
    assert "Acme Trading" in page
    assert "Acmeev Pyotr" in page
    with django_assert_num_queries(2 + 1 + 1 + 1):
        page = as_manager.get("/search/", {"q": "zzzz"}, headers={"HX-Request": "true"}).content.decode()
    assert "Nothing found" in page


def test_search_page_query_count(  # type: ignore[no-untyped-def]
    as_manager: Client, acme: Company, ivanov: Contact, django_assert_num_queries
) -> None:
    # The shell adds one: the bell's unread count.
    with django_assert_num_queries(2 + 1 + 2 + 1 + 1):
        page = as_manager.get("/search/", {"q": "acme"}).content.decode()
    assert "Acme Trading" in page


def test_card_shows_details_points_timeline_and_history(
    manager: User, head: User, teammate: User, acme: Company, ivanov: Contact, as_manager: Client
) -> None:
    services.client_update(by=manager, client=acme, version=1, industry="Wholesale")
    services.client_transfer(by=head, client=acme, to_user=teammate, reason="Holiday cover")
    browser = client_for(teammate)
    page = browser.get(acme.get_absolute_url()).content.decode()
    assert "Acme Trading" in page
    assert 'href="tel:+79123456789"' in page
    assert "Moved from Mark Manager to Tina Teammate" in page
    assert "Holiday cover" in page
    # The transfer log and the change history load when their tab is opened.
    transfers = browser.get(f"/clients/company/{acme.pk}/transfers/", headers={"HX-Request": "true"})
    assert "Holiday cover" in transfers.content.decode()
    changes = browser.get(f"/clients/company/{acme.pk}/changes/", headers={"HX-Request": "true"}).content.decode()
    assert "Wholesale" in changes
    assert "Mark Manager" in changes
    assert "Иванов Фёдор" not in page  # the contact still belongs to the manager, outside the teammate's scope
    # The manager lost the company but keeps the contact, which names the company without a link.
    contact_page = as_manager.get(ivanov.get_absolute_url()).content.decode()
    assert 'href="mailto:f.ivanov@acme.example"' in contact_page
    assert "Acme Trading" in contact_page
    assert acme.get_absolute_url() not in contact_page


@pytest.mark.parametrize("persona", ["outsider", "agent"])
def test_card_outside_scope_is_404(personas: dict[str, User], acme: Company, ivanov: Contact, persona: str) -> None:
    client = client_for(personas[persona])
    assert client.get(acme.get_absolute_url()).status_code == 404
    assert client.get(ivanov.get_absolute_url()).status_code == 404


def test_pool_clients_are_open_to_managers(personas: dict[str, User], acme: Company, head: User) -> None:
    services.client_transfer(by=head, client=acme, to_user=None, reason="Neglected")
    acme.refresh_from_db()
    assert acme.status == ClientStatus.POOL
    assert client_for(personas["outsider"]).get(acme.get_absolute_url()).status_code == 200
    assert client_for(personas["agent"]).get(acme.get_absolute_url()).status_code == 404


def test_card_query_count(
    manager: User, acme: Company, ivanov: Contact, as_manager: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for number in range(5):
        services.client_update(by=manager, client=acme, version=number + 1, industry=f"Industry {number}")
    # 15 of its own, and other apps' panels: orders, purchase regularity, redistribution rules (one or two each).
    with django_assert_max_num_queries(19):
        response = as_manager.get(acme.get_absolute_url())
    assert response.status_code == 200


def test_the_timeline_escapes_what_people_typed(
    manager: User, head: User, teammate: User, acme: Company, as_manager: Client
) -> None:
    services.client_transfer(by=head, client=acme, to_user=manager, reason="<b>Back</b> & forth")
    page = as_manager.get(acme.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Back&lt;/b&gt; &amp; forth" in page
    assert "<b>Back</b>" not in page

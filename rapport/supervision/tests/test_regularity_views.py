"""Purchase regularity on screen: the card's panel (interval, last order, overdue, the chart's data, editing in
place), the team's overdue and falling clients, and the admins' policy — with who may open what."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import services as client_services
from rapport.clients.models import Company
from rapport.sales.models import Order
from rapport.supervision import regularity
from rapport.supervision.models import Regularity, RegularityPolicy
from rapport.supervision.views.regularity import regularity_panel

HTMX = {"HX-Request": "true"}
TEAM_PAGE = "/supervision/regularity/"
POLICY_PAGE = "/supervision/regularity/policy/"


def ship(client: Company, day: date, volume: str = "10") -> None:
    Order.objects.create(company=client, on=day, amount=Decimal(100), volume=Decimal(volume))


def overdue(client: Company, *, every: int = 10) -> None:
    """Four orders every ``every`` days, the last long enough ago to be overdue today; the job has run."""
    last = timezone.localdate() - timedelta(days=every * 3)
    for number in range(4):
        ship(client, last - timedelta(days=every * number))
    regularity.regularity_refresh()


@pytest.fixture
def acme(manager: User) -> Company:
    return client_services.company_create(by=manager, name="Acme Trading")


@pytest.fixture
def far(outsider: User) -> Company:
    return client_services.company_create(by=outsider, name="Far Away Ltd")


@pytest.fixture
def analyst(db: None) -> User:
    return UserFactory.create(username="analyst", role=Role.ANALYST)


def panel_url(company: Company, edit: bool = False) -> str:
    return f"/supervision/regularity/company/{company.pk}/{'edit/' if edit else ''}"


# ---- The card's panel -----------------------------------------------------------------------------


def test_the_card_shows_the_rhythm_the_overdue_flag_and_the_months(
    manager: User, as_manager: Client, acme: Company
) -> None:
    overdue(acme)
    regularity.regularity_set(by=manager, client=acme, set_days=None, monthly_volume_target=Decimal(25))

    page = as_manager.get(acme.get_absolute_url()).content.decode()

    assert 'id="client-regularity"' in page
    assert 'id="regularity-overdue"' in page
    assert "10 days" in page
    assert "learned from the orders" in page
    assert "30 days ago" in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    start = page.index('id="regularity-chart-data"')
    data = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert len(data["labels"]) == 12
    assert data["target"] == 25.0
    assert sum(data["volumes"]) == 40.0
    assert page.count('class="regularity-month"') == 12


def test_no_panel_for_a_client_without_a_rhythm(as_manager: Client, acme: Company) -> None:
    assert 'id="client-regularity"' not in as_manager.get(acme.get_absolute_url()).content.decode()


def test_an_order_since_the_last_run_clears_the_flag_at_once(as_manager: Client, acme: Company) -> None:
    overdue(acme)
    ship(acme, timezone.localdate())

    page = as_manager.get(panel_url(acme), headers=HTMX).content.decode()

    assert 'id="regularity-overdue"' not in page
    assert "0 days ago" in page


def test_the_panel_costs_two_queries_and_one_without_a_rhythm(
    manager: User, acme: Company, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/")
    request.user = manager
    with django_assert_num_queries(1):
        assert regularity_panel(request, acme) == ""
    overdue(acme)
    with django_assert_num_queries(2):
        assert 'id="client-regularity"' in regularity_panel(request, acme)


def test_the_owner_sets_the_interval_and_target_in_place(manager: User, as_manager: Client, acme: Company) -> None:
    overdue(acme)
    form = as_manager.get(panel_url(acme, edit=True), headers=HTMX).content.decode()
    assert 'id="regularity-form"' in form

    refused = as_manager.post(
        panel_url(acme, edit=True), {"set_days": "0", "monthly_volume_target": "-1"}, headers=HTMX
    )
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "Give a number of days from 1 to 3650" in page
    assert "The target cannot be negative." in page
    assert Regularity.objects.get().set_days is None

    saved = as_manager.post(
        panel_url(acme, edit=True), {"set_days": "60", "monthly_volume_target": "12.5"}, headers=HTMX
    )
    assert saved.status_code == 200
    page = saved.content.decode()
    assert "set by hand" in page
    assert 'id="regularity-overdue"' not in page  # 30 days since the last order, every 60 now
    row = Regularity.objects.get()
    assert (row.set_days, row.monthly_volume_target, row.overdue_since) == (60, Decimal("12.5"), None)


def test_without_javascript_saving_goes_back_to_the_card(as_manager: Client, acme: Company) -> None:
    response = as_manager.post(panel_url(acme, edit=True), {"set_days": "14", "monthly_volume_target": ""})
    assert response.status_code == 302
    assert response["Location"] == f"{acme.get_absolute_url()}#client-regularity"


@pytest.mark.parametrize(
    ("persona", "read", "edit"),
    [
        ("manager", 200, 200),
        ("head", 200, 200),
        ("operator", 200, 200),
        ("admin", 200, 200),
        ("teammate", 404, 404),
        ("outsider", 404, 404),
        ("agent", 404, 404),
    ],
)
def test_who_reads_and_edits_a_clients_rhythm(
    personas: dict[str, User], acme: Company, persona: str, read: int, edit: int
) -> None:
    client = client_for(personas[persona])
    assert client.get(panel_url(acme), headers=HTMX).status_code == read
    assert client.get(panel_url(acme, edit=True), headers=HTMX).status_code == edit
    response = client.post(panel_url(acme, edit=True), {"set_days": "5"}, headers=HTMX)
    assert response.status_code == edit
    assert Regularity.objects.filter(set_days=5).exists() == (edit == 200)


def test_an_analyst_reads_but_does_not_edit(analyst: User, acme: Company) -> None:
    client = client_for(analyst)
    assert client.get(panel_url(acme), headers=HTMX).status_code == 200
    assert client.get(panel_url(acme, edit=True), headers=HTMX).status_code == 403
    assert client.post(panel_url(acme, edit=True), {"set_days": "5"}, headers=HTMX).status_code == 403
    assert not Regularity.objects.exists()


def test_an_unknown_kind_is_a_page_that_does_not_exist(as_manager: Client, acme: Company) -> None:
    assert as_manager.get(f"/supervision/regularity/deal/{acme.pk}/", headers=HTMX).status_code == 404


# ---- The team page ---------------------------------------------------------------------------------


def falling(client: Company) -> None:
    today = timezone.localdate()
    for back in range(2, 8):
        ship(client, regularity._month_start(today, back) + timedelta(days=3), "10")
    ship(client, regularity._month_start(today, 1) + timedelta(days=3), "2")
    regularity.regularity_refresh()  # the morning's job counts the months


def test_a_head_sees_the_teams_overdue_and_falling_clients_only(
    head: User, teammate: User, acme: Company, far: Company
) -> None:
    overdue(acme)
    overdue(far)
    dropping = client_services.company_create(by=teammate, name="Dropping Ltd")
    falling(dropping)

    page = client_for(head).get(TEAM_PAGE).content.decode()

    # Dropping Ltd's last order, early last month, is late for its monthly rhythm too.
    overdue_rows = set(re.findall(r'class="overdue-client" data-client="([\w-]+)"', page))
    assert overdue_rows == {f"company-{acme.pk}", f"company-{dropping.pk}"}
    assert "Far Away Ltd" not in page
    assert page.count('class="falling-client"') == 1
    assert 'data-fall="80"' in page
    assert 'id="regularity-policy-link"' not in page


def test_another_teams_head_sees_their_own_team_only(acme: Company, far: Company, team_b: Team) -> None:
    overdue(acme)
    overdue(far)
    other_head = UserFactory.create(username="head_b", role=Role.HEAD, team=team_b)

    page = client_for(other_head).get(TEAM_PAGE, {"team": acme.owner.team_id}).content.decode()  # type: ignore[union-attr]

    assert "Far Away Ltd" in page
    assert "Acme Trading" not in page
    assert client_for(other_head).get(panel_url(acme), headers=HTMX).status_code == 404


def test_an_admin_chooses_the_team(admin_user: User, acme: Company, far: Company, team_b: Team) -> None:
    overdue(acme)
    overdue(far)
    client = client_for(admin_user)

    first = client.get(TEAM_PAGE).content.decode()  # the first team by name: Team A
    chosen = client.get(TEAM_PAGE, {"team": team_b.pk}).content.decode()

    assert "Acme Trading" in first
    assert "Far Away Ltd" not in first
    assert "Far Away Ltd" in chosen
    assert 'id="regularity-policy-link"' in chosen
    assert client.get(TEAM_PAGE, {"team": "nonsense"}).status_code == 200


@pytest.mark.parametrize("persona", ["manager", "teammate", "agent", "operator", "outsider"])
def test_the_team_page_is_for_heads_and_admins(personas: dict[str, User], persona: str) -> None:
    assert client_for(personas[persona]).get(TEAM_PAGE).status_code == 403


def test_analysts_are_refused_the_team_page(analyst: User) -> None:
    assert client_for(analyst).get(TEAM_PAGE).status_code == 403


def test_the_team_page_lists_the_first_ones_and_shows_all_on_request(
    head: User, manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(regularity, "LISTED", 2)
    for number in range(3):
        overdue(client_services.company_create(by=manager, name=f"Late {number}"))
    client = client_for(head)

    first = client.get(TEAM_PAGE).content.decode()
    everything = client.get(TEAM_PAGE, {"all": "1"}).content.decode()

    assert first.count('class="overdue-client"') == 2
    assert "The first 2 are shown." in first
    assert 'href="?all=1#regularity-overdue-clients"' in first
    assert everything.count('class="overdue-client"') == 3
    assert "regularity-show-all" not in everything


def test_the_team_page_costs_the_same_queries_whatever_the_clients(
    head: User, manager: User, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(head)
    RegularityPolicy.current()

    def count(clients: int) -> None:
        for number in range(clients):
            company = client_services.company_create(by=manager, name=f"Client {clients}-{number}")
            overdue(company)
            falling(company)
        # Session and user, the people, the policy, overdue clients, falling clients, the bell.
        with django_assert_num_queries(QUERIES):
            assert client.get(TEAM_PAGE).status_code == 200

    count(1)
    count(5)


QUERIES = 7


# ---- The policy -----------------------------------------------------------------------------------


def test_an_admin_sets_the_policy(admin_user: User) -> None:
    client = client_for(admin_user)
    assert 'id="regularity-policy-form"' in client.get(POLICY_PAGE).content.decode()

    refused = client.post(POLICY_PAGE, {"margin_percent": "-1", "fall_percent": "150"})
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "Give a share from 0 to 500 %." in page
    assert "Give a share from 1 to 100 %." in page

    saved = client.post(POLICY_PAGE, {"margin_percent": "35", "fall_percent": "40"}, follow=True)
    assert "The regularity policy is saved" in saved.content.decode()
    policy = RegularityPolicy.current()
    assert (policy.margin_percent, policy.fall_percent) == (35, 40)


@pytest.mark.parametrize("persona", ["manager", "head", "operator", "agent"])
def test_only_admins_open_the_policy(personas: dict[str, User], persona: str) -> None:
    client = client_for(personas[persona])
    assert client.get(POLICY_PAGE).status_code == 403
    assert client.post(POLICY_PAGE, {"margin_percent": "1", "fall_percent": "1"}).status_code == 403
    assert RegularityPolicy.current().margin_percent == 20


def test_the_navigation_shows_the_team_page_to_heads_only(head: User, manager: User) -> None:
    assert TEAM_PAGE in client_for(head).get("/").content.decode()
    assert TEAM_PAGE not in client_for(manager).get("/").content.decode()

"""Data-quality screens: who sees whose scores, what the pages show, what they cost, and the card's badge."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import services as client_services
from rapport.clients.models import Company
from rapport.motivation import quality
from rapport.motivation.models import QualitySnapshot

MINE = reverse("motivation:quality")
TEAM = reverse("motivation:quality-team")


def person_url(person: User) -> str:
    return reverse("motivation:quality-person", args=[person.pk])


def scores_shown(page: str, attribute: str = "data-client") -> list[str]:
    return re.findall(rf'{attribute}="([^"]+)"', page)


@pytest.fixture
def bare(manager: User) -> Company:
    return client_services.company_create(by=manager, name="Bare Ltd")


@pytest.fixture
def analyst(db: None) -> User:
    return UserFactory.create(username="analyst", role=Role.ANALYST)


# ---- Who sees whose ------------------------------------------------------------------------------------------


def test_everyone_sees_their_own_page(personas: dict[str, User], analyst: User) -> None:
    for person in [*personas.values(), analyst]:
        assert client_for(person).get(MINE).status_code == 200, person
        assert client_for(person).get(person_url(person)).status_code == 200, person


def test_a_manager_sees_only_their_own_list(personas: dict[str, User]) -> None:
    as_manager = client_for(personas["manager"])
    for other in ["teammate", "head", "outsider", "agent", "admin"]:
        assert as_manager.get(person_url(personas[other])).status_code == 404, other
    assert as_manager.get(reverse("motivation:quality-person", args=[987654])).status_code == 404


def test_a_head_sees_their_teams_lists_only(personas: dict[str, User]) -> None:
    as_head = client_for(personas["head"])
    for member in ["manager", "teammate", "agent"]:
        assert as_head.get(person_url(personas[member])).status_code == 200, member
    for outside in ["outsider", "operator", "admin"]:
        assert as_head.get(person_url(personas[outside])).status_code == 404, outside


def test_an_admin_sees_everyones_lists(personas: dict[str, User]) -> None:
    as_admin = client_for(personas["admin"])
    for person in personas.values():
        assert as_admin.get(person_url(person)).status_code == 200, person


def test_the_team_view_is_for_heads_and_admins(personas: dict[str, User], analyst: User) -> None:
    for name in ["manager", "teammate", "outsider", "agent", "operator"]:
        assert client_for(personas[name]).get(TEAM).status_code == 403, name
    assert client_for(analyst).get(TEAM).status_code == 403
    assert client_for(personas["head"]).get(TEAM).status_code == 200
    assert client_for(personas["admin"]).get(TEAM).status_code == 200


def test_an_inactive_person_is_refused(manager: User) -> None:
    as_manager = client_for(manager)
    User.objects.filter(pk=manager.pk).update(is_active=False)
    assert as_manager.get(MINE).status_code == 302  # logged out: to the login page


def test_the_nav_shows_data_quality_to_those_who_own_clients(manager: User, analyst: User) -> None:
    assert f'href="{MINE}"' in client_for(manager).get(reverse("core:home")).content.decode()
    assert f'href="{MINE}"' not in client_for(analyst).get(reverse("core:home")).content.decode()


# ---- What the pages show ---------------------------------------------------------------------------------------


def test_my_page_shows_the_score_and_what_to_fix(manager: User, bare: Company, as_manager: Client) -> None:
    client_services.company_create(by=manager, name="Better Ltd", industry="Retail", tax_id="7701")
    page = as_manager.get(MINE).content.decode()
    assert 'id="quality-total" data-score="25"' in page  # (15 + 35) / 2, no activities
    assert scores_shown(page) == [f"company-{bare.pk}", f"company-{bare.pk + 1}"]
    assert f'href="/clients/company/{bare.pk}/edit/#id_industry"' in page
    assert f'href="/clients/company/{bare.pk + 1}/edit/#id_industry"' not in page


def test_the_page_turns_through_htmx(manager: User, as_manager: Client) -> None:
    for number in range(27):
        client_services.company_create(by=manager, name=f"Company {number:02d}")
    response = as_manager.get(MINE, {"page": 2}, headers={"HX-Request": "true", "HX-Target": "quality-table"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="quality-table">')
    assert len(scores_shown(page)) == 2
    assert "26–27 of 27" in page


def test_a_head_opens_a_members_list(head: User, manager: User, bare: Company) -> None:
    page = client_for(head).get(person_url(manager)).content.decode()
    assert manager.display_name in page
    assert scores_shown(page) == [f"company-{bare.pk}"]


def test_the_head_sees_the_team_over_eight_weeks(
    head: User, manager: User, teammate: User, outsider: User, bare: Company
) -> None:
    today = timezone.localdate()
    for weeks_ago, score in [(0, 15), (2, 40), (9, 90)]:
        QualitySnapshot.objects.create(
            user=manager,
            on=today - timedelta(weeks=weeks_ago),
            score=score,
            clients_score=score,
            activities_share=100,
            clients=1,
        )
    page = client_for(head).get(TEAM).content.decode()
    people = scores_shown(page, "data-person")
    assert set(people) == {str(person.pk) for person in [head, manager, teammate]}
    row = page[page.index(f'data-person="{manager.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-score="15"' in row  # now
    assert re.findall(r'quality-week" title="[^"]*" data-score="(\d*)"', row) == ["", "", "", "", "", "40", "", "15"]
    assert f'href="{person_url(manager)}"' in page
    assert f'data-person="{outsider.pk}"' not in page


def test_an_admin_chooses_the_team(admin_user: User, manager: User, outsider: User, team_b: Team) -> None:
    as_admin = client_for(admin_user)
    first = as_admin.get(TEAM).content.decode()  # the first team by name: Team A
    assert f'data-person="{manager.pk}"' in first
    assert f'data-person="{outsider.pk}"' not in first
    other = as_admin.get(TEAM, {"team": team_b.pk}).content.decode()
    assert scores_shown(other, "data-person") == [str(outsider.pk)]
    assert as_admin.get(TEAM, {"team": "nonsense"}).status_code == 200


# ---- What they cost ----------------------------------------------------------------------------------------------


def test_my_page_costs_the_same_whatever_the_clients(
    manager: User, as_manager: Client, django_assert_num_queries: object
) -> None:
    for number in range(30):
        client_services.company_create(by=manager, name=f"Company {number:02d}")
    # Session and user 2, the rows 1, the count 1, the score 4 (companies, contacts, rules, activities),
    # the unread notifications of the layout 1.
    with django_assert_num_queries(9):  # type: ignore[operator]
        assert as_manager.get(MINE).status_code == 200
    with django_assert_num_queries(9):  # type: ignore[operator]
        assert as_manager.get(MINE, {"page": 2}).status_code == 200
    with django_assert_num_queries(4):  # type: ignore[operator]
        as_manager.get(MINE, {"page": 2}, headers={"HX-Request": "true", "HX-Target": "quality-table"})


def test_the_team_page_costs_the_same_whatever_the_team(
    head: User, manager: User, teammate: User, django_assert_num_queries: object
) -> None:
    as_head = client_for(head)
    for person in [head, manager, teammate]:
        client_services.company_create(by=person, name=f"{person.username} Ltd")
    # Session and user 2, the people 1, the scores 4, the snapshots 1, the layout's notifications 1.
    with django_assert_num_queries(9):  # type: ignore[operator]
        as_head.get(TEAM)
    for number in range(5):
        UserFactory.create(username=f"more{number}", role=Role.MANAGER, team=head.team)
    with django_assert_num_queries(9):  # type: ignore[operator]
        as_head.get(TEAM)


# ---- The client card's badge -----------------------------------------------------------------------------------


def test_the_card_shows_the_score_and_links_to_the_fields(bare: Company, as_manager: Client) -> None:
    page = as_manager.get(bare.get_absolute_url()).content.decode()
    assert 'id="client-quality" data-score="15"' in page
    assert "Data quality 15%" in page
    assert f'href="/clients/company/{bare.pk}/edit/#id_tax_id"' in page
    assert f'href="/clients/company/{bare.pk}/points/#point-add-form"' in page


def test_the_badge_follows_an_edit(manager: User, bare: Company, as_manager: Client) -> None:
    edit = reverse("clients:client-edit", args=["company", bare.pk])
    data = {"version": bare.version, "name": bare.name, "status": "active", "industry": "Retail", "tax_id": "7701"}
    page = as_manager.post(edit, data, headers={"HX-Request": "true"}).content.decode()
    assert 'id="client-quality" data-score="35"' in page


def test_the_badge_lists_without_links_for_those_who_only_read(bare: Company, analyst: User) -> None:
    page = client_for(analyst).get(bare.get_absolute_url()).content.decode()
    assert 'id="client-quality" data-score="15"' in page
    assert 'data-check="industry"' in page
    assert f"/clients/company/{bare.pk}/edit/#id_industry" not in page


def test_the_fix_link_opens_the_editor_on_the_field(bare: Company, as_manager: Client) -> None:
    page = as_manager.get(reverse("clients:client-edit", args=["company", bare.pk])).content.decode()
    assert 'id="id_industry"' in page
    page = as_manager.get(reverse("clients:point-add", args=["company", bare.pk])).content.decode()
    assert 'id="point-add-form"' in page


def test_the_card_counts_the_same_as_the_list(manager: User, bare: Company) -> None:
    assert quality.client_quality(bare).score == quality.lowest_scores(manager, 1).rows[0].score


def test_the_team_page_shows_this_mornings_score_where_the_job_took_one(
    head: User, manager: User, teammate: User, bare: Company
) -> None:
    # Scoring a team's clients live takes seconds on a big base: this morning's snapshot stands for "now".
    QualitySnapshot.objects.create(
        user=manager, on=timezone.localdate(), score=77, clients_score=70, activities_share=93, clients=4
    )
    page = client_for(head).get(TEAM).content.decode()
    row = page[page.index(f'data-person="{manager.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-score="77"' in row
    assert "this morning" in row
    assert "70%" in row
    # A teammate without a snapshot today is scored live.
    other = page[page.index(f'data-person="{teammate.pk}"') :]
    assert "this morning" not in other[: other.index("</tr>")]

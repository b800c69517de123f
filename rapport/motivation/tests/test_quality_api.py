"""Data quality over the API: a person's score for who may see it, a client's checks for who sees the client."""

from __future__ import annotations

import pytest

from rapport.accounts.models import User
from rapport.api.tests.helpers import API, caller
from rapport.clients import services as client_services
from rapport.clients.models import Company


@pytest.fixture
def acme(manager: User) -> Company:
    return client_services.company_create(by=manager, name="Acme Trading", industry="Furniture")


def test_a_person_reads_their_own_score_and_a_head_their_teams(personas: dict[str, User], acme: Company) -> None:
    manager = personas["manager"]
    url = f"{API}/quality/people/{manager.pk}"
    mine = caller(manager).get(url)
    assert mine.status_code == 200
    body = mine.json()
    # Owner 15 + industry 10 + next step 0 + phone 0 + tax id 0 + source 0 + recent contact 0, of 100.
    assert (body["person"], body["clients"], body["clients_score"], body["activities"]) == (manager.pk, 1, 25, 0)
    assert body["score"] == 25  # no activities: the clients' average alone
    answers = {persona: caller(personas[persona]).get(url).status_code for persona in personas}
    assert answers["head"] == 200
    assert answers["admin"] == 200
    assert answers["teammate"] == 404
    assert answers["outsider"] == 404


def test_a_clients_checks_say_where_to_fix(personas: dict[str, User], acme: Company) -> None:
    response = caller(personas["manager"]).get(f"{API}/quality/companies/{acme.pk}")
    assert response.status_code == 200
    body = response.json()
    checks = {check["key"]: check for check in body["checks"]}
    assert body["score"] == 25
    assert checks["industry"]["ok"] is True
    assert checks["industry"]["fix_url"] == ""
    assert checks["tax_id"]["ok"] is False
    assert checks["tax_id"]["fix_url"].endswith("#id_tax_id")
    assert caller(personas["outsider"]).get(f"{API}/quality/companies/{acme.pk}").status_code == 404

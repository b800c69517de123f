from __future__ import annotations

import re

from django.test import Client

from rapport.accounts.models import User


def time_zone_select(page: str) -> str:
    found = re.search(r'<select[^>]*name="time_zone".*?</select>', page, re.DOTALL)
    assert found is not None
    return found.group(0)


def test_profile_offers_every_time_zone_and_marks_mine(manager: User, as_manager: Client) -> None:
    manager.time_zone = "America/Argentina/Buenos_Aires"
    manager.save()
    select = time_zone_select(as_manager.get("/accounts/profile/").content.decode())
    opening = select.split(">", 1)[0]
    assert all(attribute in opening for attribute in ['name="time_zone"', 'class="form-select"', 'id="id_time_zone"'])
    assert select.count("<option") > 300
    assert '<option value="Europe/Sofia">Europe/Sofia</option>' in select
    chosen = '<option value="America/Argentina/Buenos_Aires" selected>America/Argentina/Buenos Aires</option>'
    assert chosen in select
    assert select.count(" selected") == 1


def test_profile_without_a_zone_of_ones_own_shows_the_company_one(manager: User, as_manager: Client) -> None:
    select = time_zone_select(as_manager.get("/accounts/profile/").content.decode())
    assert '<option value="" selected>The company&#x27;s time zone</option>' in select
    assert select.count(" selected") == 1


def test_a_refused_zone_is_shown_again_with_the_error(manager: User, as_manager: Client) -> None:
    response = as_manager.post("/accounts/profile/", {"language": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    page = response.content.decode()
    select = time_zone_select(page)
    assert 'aria-invalid="true"' in select
    assert select.count(" selected") == 0  # nothing known is chosen
    assert "Mars/Olympus" in page  # the message names what was refused

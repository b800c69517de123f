"""Bonus so far, as managers and heads meet it: the person's own card on my day and each person's figure on
the head's control room, computed live; who reads whose."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Team, User
from rapport.motivation.periods import month_of
from rapport.motivation.tests.bonus_world import Board, board, contact_logged, share_rules, won_deal

SO_FAR = reverse("motivation:bonus-so-far")
MY_DAY = reverse("activities:my-day")


# ---- Bonus so far --------------------------------------------------------------------------------


@pytest.fixture
def paying(manager: User, teammate: User) -> Board:
    """This month: a deal registered by the manager and won by the teammate, with contact history."""
    share_rules(registrant=2, closer=3, since=month_of(timezone.localdate()).start - timedelta(days=40))
    where = board()
    deal = won_deal(where, registrant=manager, closer=teammate, amount=1000, closed=timezone.now())
    contact_logged(timezone.now() - timedelta(minutes=5), company=deal.company, owner=teammate)
    return where


def figure(html: str, person: User) -> str:
    found = re.search(
        rf'<span id="bonus-so-far-{person.pk}" hx-swap-oob="true"[^>]*>(.*?)</span>\s*(?=<span|$)', html, re.S
    )
    assert found is not None, html
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_my_day_fetches_my_bonus_so_far_and_it_is_mine(manager: User, paying: Board) -> None:
    as_manager = client_for(manager)
    assert 'id="bonus-so-far-loader"' in as_manager.get(MY_DAY).content.decode()
    card = as_manager.get(SO_FAR).content.decode()
    assert 'id="bonus-so-far"' in card
    assert "20.00 USD" in card  # 2 % of 1,000 as the registrant


def test_without_rules_my_day_shows_no_bonus_card(manager: User) -> None:
    assert 'id="bonus-so-far"' not in client_for(manager).get(SO_FAR).content.decode()


def test_the_dashboard_fills_each_persons_bonus_so_far(
    head: User, manager: User, teammate: User, team_a: Team, paying: Board
) -> None:
    answer = client_for(head).get(SO_FAR, {"team": team_a.pk}).content.decode()
    assert figure(answer, manager) == "20.00 USD"
    assert figure(answer, teammate) == "30.00 USD"
    assert figure(answer, head) == "0"


def test_only_those_who_manage_a_team_read_its_bonus_so_far(
    head: User, manager: User, outsider: User, team_a: Team, team_b: Team, paying: Board
) -> None:
    assert client_for(manager).get(SO_FAR, {"team": team_a.pk}).status_code == 403
    assert client_for(head).get(SO_FAR, {"team": team_b.pk}).status_code == 404
    assert client_for(outsider).get(SO_FAR).content.decode().count("USD") == 0


def test_the_amounts_are_live(head: User, manager: User, teammate: User, team_a: Team, paying: Board) -> None:
    deal = won_deal(paying, registrant=manager, closer=manager, amount=500, closed=timezone.now())
    contact_logged(timezone.now() - timedelta(minutes=1), company=deal.company, owner=manager)
    card = client_for(manager).get(SO_FAR).content.decode()
    assert "45.00 USD" in card  # 20, then 2 % and 3 % of 500

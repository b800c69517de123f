"""The shared pool's rules: who claims, the first claim wins, the weekly limit and its renewal, the admins' limit,
and the list every manager reads — the latest to enter first, with the reason it entered."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from conftest import load_tiny_demo
from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import queries, services
from rapport.clients.models import ClientStatus, ClientTransfer, Company, Contact, TransferKind
from rapport.supervision import pool
from rapport.supervision.models import PoolPolicy

CLAIMERS = ["manager", "teammate", "head", "outsider"]
NOT_CLAIMERS = ["operator", "admin", "agent", "analyst", "marketer"]


@pytest.fixture
def people(personas: dict[str, User]) -> dict[str, User]:
    return personas | {
        "analyst": UserFactory.create(username="analyst", role=Role.ANALYST),
        "marketer": UserFactory.create(username="marketer", role=Role.MARKETER),
    }


def entered_without_owner(by: User, name: str, *, created: datetime | None = None) -> Company:
    company = services.company_create(by=by, name=name)
    if created is not None:
        Company.objects.filter(pk=company.pk).update(created_at=created)
        company.refresh_from_db()
    return company


def moved_to_pool(
    head: User, client: Company | Contact, *, at: datetime | None = None, reason: str = "", rule: str = ""
) -> ClientTransfer:
    move = services.client_transfer(by=head, client=client, to_user=None, reason=reason)
    ClientTransfer.objects.filter(pk=move.pk).update(
        at=at or move.at, rule=rule, kind=TransferKind.RULE if rule else TransferKind.HAND_OVER
    )
    move.refresh_from_db()
    return move


def names(page: pool.PoolPage | pool.PoolSlice) -> list[str]:
    return [row.name for row in page.rows]


def limit_of(claims: int) -> None:
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claims_per_week": claims})


# ---- Claims -------------------------------------------------------------------------------------


def test_a_claimed_client_becomes_the_managers_and_the_transfer_log_says_so(
    manager: User, head: User, teammate: User
) -> None:
    acme = services.company_create(by=teammate, name="Acme")
    moved_to_pool(head, acme, reason="No logged contact for 45 days", rule="Stale clients to the pool")

    transfer = pool.pool_claim(by=manager, client=acme)

    acme.refresh_from_db()
    assert (acme.owner, acme.status) == (manager, ClientStatus.ACTIVE)
    assert (transfer.kind, transfer.from_user, transfer.to_user, transfer.by) == (
        TransferKind.POOL_CLAIM,
        None,
        manager,
        manager,
    )
    log = queries.transfers_of(acme)
    assert [(row.from_user, row.to_user, row.reason) for row in log] == [
        (None, manager, "Taken from the pool"),
        (teammate, None, "No logged contact for 45 days"),
    ]


@pytest.mark.parametrize("persona", CLAIMERS)
def test_managers_and_heads_claim(people: dict[str, User], persona: str) -> None:
    company = entered_without_owner(people["operator"], "Open Ltd")
    pool.pool_claim(by=people[persona], client=company)
    assert Company.objects.get(pk=company.pk).owner == people[persona]


@pytest.mark.parametrize("persona", NOT_CLAIMERS)
def test_the_other_roles_do_not_claim_and_nothing_changes(people: dict[str, User], persona: str) -> None:
    company = entered_without_owner(people["operator"], "Open Ltd")
    with pytest.raises(PermissionDenied):
        pool.pool_claim(by=people[persona], client=company)
    assert Company.objects.get(pk=company.pk).status == ClientStatus.POOL
    assert not ClientTransfer.objects.exists()


def test_a_client_taken_already_is_refused_saying_who_has_it_since_when(
    manager: User, teammate: User, head: User, outsider: User, operator: User
) -> None:
    company = entered_without_owner(operator, "Contested Ltd")
    pool.pool_claim(by=teammate, client=company)
    when = timezone.localtime(ClientTransfer.objects.get().at).strftime("%m/%d/%Y")

    # The head still sees the teammate's client: told who has it.
    with pytest.raises(ValidationError) as refused:
        pool.pool_claim(by=head, client=company)
    assert refused.value.code == "taken"
    message = refused.value.messages[0]
    assert message.startswith("Contested Ltd is no longer in the pool: Tina Teammate has had it since ")
    assert when in message
    # A manager of another team no longer sees it: told a colleague has it.
    with pytest.raises(ValidationError) as refused:
        pool.pool_claim(by=outsider, client=company)
    assert refused.value.messages[0].startswith("Contested Ltd is no longer in the pool: a colleague has had it since ")
    # The teammate, claiming again (a second click): it is theirs already.
    with pytest.raises(ValidationError) as refused:
        pool.pool_claim(by=teammate, client=company)
    assert refused.value.messages[0].startswith("Contested Ltd is already yours, since ")
    assert ClientTransfer.objects.count() == 1
    assert Company.objects.get(pk=company.pk).owner == teammate


def test_a_client_in_the_trash_is_no_longer_in_the_pool(manager: User, operator: User) -> None:
    company = entered_without_owner(operator, "Gone Ltd")
    services.client_delete(by=operator, client=company)
    with pytest.raises(ValidationError, match=r"Gone Ltd is no longer in the pool\."):
        pool.pool_claim(by=manager, client=company)


def test_the_weekly_limit_refuses_the_next_claim_and_renews_on_monday(manager: User, operator: User) -> None:
    limit_of(2)
    clients = [entered_without_owner(operator, f"Client {number}") for number in range(3)]
    pool.pool_claim(by=manager, client=clients[0])
    pool.pool_claim(by=manager, client=clients[1])

    with pytest.raises(ValidationError) as refused:
        pool.pool_claim(by=manager, client=clients[2])
    assert refused.value.code == "limit"
    assert refused.value.messages == [
        "You have taken 2 clients from the pool this week; 2 a week is the most allowed. The limit renews on Monday."
    ]
    assert Company.objects.get(pk=clients[2].pk).status == ClientStatus.POOL
    assert pool.pool_usage(manager) == pool.PoolUsage(used=2, limit=2)

    # The week turns: the claims made before Monday no longer count.
    ClientTransfer.objects.update(at=pool.week_start() - timedelta(seconds=1))
    assert pool.pool_usage(manager) == pool.PoolUsage(used=0, limit=2)
    pool.pool_claim(by=manager, client=clients[2])
    assert Company.objects.get(pk=clients[2].pk).owner == manager


def test_the_week_runs_from_monday_midnight_in_the_persons_time_zone(manager: User, operator: User) -> None:
    company = entered_without_owner(operator, "Weekly Ltd")
    pool.pool_claim(by=manager, client=company)
    with timezone.override("Asia/Ho_Chi_Minh"):
        wednesday = timezone.make_aware(datetime(2026, 3, 4, 12, 0))
        monday = timezone.make_aware(datetime(2026, 3, 2, 0, 0))
        assert pool.week_start(wednesday) == monday
        ClientTransfer.objects.update(at=monday)
        assert pool.claims_this_week(manager, now=wednesday) == 1
        ClientTransfer.objects.update(at=monday - timedelta(microseconds=1))
        assert pool.claims_this_week(manager, now=wednesday) == 0


def test_each_persons_claims_count_against_their_own_limit(manager: User, teammate: User, operator: User) -> None:
    limit_of(1)
    pool.pool_claim(by=manager, client=entered_without_owner(operator, "Mine"))
    pool.pool_claim(by=teammate, client=entered_without_owner(operator, "Hers"))
    assert ClientTransfer.objects.filter(kind=TransferKind.POOL_CLAIM).count() == 2


def test_a_limit_of_zero_closes_the_pool(manager: User, operator: User) -> None:
    limit_of(0)
    with pytest.raises(ValidationError, match="Admins have closed the pool to claims for now"):
        pool.pool_claim(by=manager, client=entered_without_owner(operator, "Closed Ltd"))


# ---- The limit ------------------------------------------------------------------------------------


def test_admins_set_the_limit(admin_user: User) -> None:
    policy = pool.pool_policy_save(by=admin_user, claims_per_week=35)
    assert (PoolPolicy.current().claims_per_week, policy.updated_by) == (35, admin_user)


@pytest.mark.parametrize("persona", ["manager", "head", "operator", "analyst"])
def test_nobody_else_sets_the_limit(people: dict[str, User], persona: str) -> None:
    with pytest.raises(PermissionDenied):
        pool.pool_policy_save(by=people[persona], claims_per_week=99)
    assert PoolPolicy.current().claims_per_week == 20


@pytest.mark.parametrize(
    ("claims", "message"),
    [(-1, "greater than or equal to 0"), (10_001, "less than or equal to 10000"), (2**70, "less than or equal")],
)
def test_a_limit_out_of_bounds_is_refused_by_field(admin_user: User, claims: int, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        pool.pool_policy_save(by=admin_user, claims_per_week=claims)
    assert message in " ".join(refused.value.message_dict["claims_per_week"])
    assert PoolPolicy.current().claims_per_week == 20


# ---- The list -------------------------------------------------------------------------------------


def test_the_pool_lists_the_latest_to_enter_first_with_why_and_since_when(
    manager: User, teammate: User, head: User, operator: User
) -> None:
    now = timezone.now()
    old = entered_without_owner(operator, "Old Entry Ltd", created=now - timedelta(days=30))
    stale = services.company_create(by=teammate, name="Stale Ltd")
    Company.objects.filter(pk=stale.pk).update(last_contact_at=now - timedelta(days=50))
    moved_to_pool(head, stale, at=now - timedelta(days=3), reason="No logged contact for 45 days", rule="Stale")
    person = services.contact_create(by=teammate, last_name="Lee", first_name="Ann", company=stale)
    moved_to_pool(head, person, at=now - timedelta(days=1), reason="Left the company")
    services.company_create(by=teammate, name="Owned Ltd")  # not in the pool

    page = pool.pool_list(manager)

    assert names(page) == ["Lee Ann", "Stale Ltd", "Old Entry Ltd"]
    lee, stale_row, old_row = page.rows
    assert (lee.kind, lee.company_name, lee.reason, lee.rule, lee.days_in_pool) == (
        "contact",
        "Stale Ltd",
        "Left the company",
        "",
        1,
    )
    assert (stale_row.moved, stale_row.reason, stale_row.rule, stale_row.days_in_pool) == (
        True,
        "No logged contact for 45 days",
        "Stale",
        3,
    )
    assert stale_row.last_contact_at is not None
    assert (stale_row.last_contact_at - (now - timedelta(days=50))).total_seconds() < 1
    assert (old_row.moved, old_row.reason, old_row.days_in_pool, old_row.url) == (
        False,
        "",
        30,
        old.get_absolute_url(),
    )
    assert not page.has_next


def test_a_client_in_the_pool_twice_is_listed_once_by_its_latest_entry(
    manager: User, teammate: User, head: User, operator: User
) -> None:
    now = timezone.now()
    company = services.company_create(by=teammate, name="Twice Ltd")
    moved_to_pool(head, company, at=now - timedelta(days=20), reason="First time")
    pool.pool_claim(by=teammate, client=company)
    ClientTransfer.objects.filter(kind=TransferKind.POOL_CLAIM).update(at=now - timedelta(days=10))
    moved_to_pool(head, company, at=now - timedelta(days=2), reason="Second time")
    entered_without_owner(operator, "Between Ltd", created=now - timedelta(days=5))

    page = pool.pool_list(manager)

    assert [(row.name, row.reason) for row in page.rows] == [("Twice Ltd", "Second time"), ("Between Ltd", "")]


def test_claimed_and_deleted_clients_leave_the_list(manager: User, teammate: User, head: User, operator: User) -> None:
    claimed, deleted, waiting = (entered_without_owner(operator, name) for name in ("Claimed", "Deleted", "Waiting"))
    moved = services.company_create(by=teammate, name="Moved then claimed")
    moved_to_pool(head, moved)
    pool.pool_claim(by=teammate, client=claimed)
    pool.pool_claim(by=teammate, client=moved)
    services.client_delete(by=operator, client=deleted)
    assert names(pool.pool_list(manager)) == [waiting.name]


def test_pages_follow_one_another_without_gaps_or_repeats_even_when_entries_tie(
    manager: User, teammate: User, head: User, operator: User
) -> None:
    moment = timezone.now() - timedelta(days=1)
    for number in range(20):
        moved_to_pool(head, services.company_create(by=teammate, name=f"Moved {number:02}"), at=moment)
        entered_without_owner(operator, f"Entered {number:02}", created=moment)
    first, second = pool.pool_list(manager, number=1), pool.pool_list(manager, number=2)
    assert (len(first.rows), first.has_next, len(second.rows), second.has_next) == (25, True, 15, False)
    listed = names(first) + names(second)
    assert sorted(listed) == sorted({*listed})
    assert len(listed) == 40
    assert names(pool.pool_slice(manager, offset=20, limit=10)) == listed[20:30]


def test_the_list_shows_one_kind_or_matches_a_search(manager: User, teammate: User, head: User, operator: User) -> None:
    acme = services.company_create(by=teammate, name="Acme Trading")
    moved_to_pool(head, acme)
    services.contact_create(by=operator, last_name="Acmeson", first_name="Bo")
    services.contact_create(by=operator, last_name="Other", first_name="Al")

    assert names(pool.pool_list(manager, kind="company")) == ["Acme Trading"]
    assert sorted(names(pool.pool_list(manager, kind="contact"))) == ["Acmeson Bo", "Other Al"]
    assert sorted(names(pool.pool_list(manager, query="acme"))) == ["Acme Trading", "Acmeson Bo"]
    assert names(pool.pool_list(manager, query="acme", kind="contact")) == ["Acmeson Bo"]
    assert pool.pool_list(manager, query="zzz").rows == []


def test_everyone_but_outside_agents_sees_the_pool(people: dict[str, User]) -> None:
    entered_without_owner(people["operator"], "Open Ltd")
    for persona, user in people.items():
        if persona == "agent":
            with pytest.raises(PermissionDenied):
                pool.pool_list(user)
            assert not access.sees_pool(user)
        else:
            assert names(pool.pool_list(user)) == ["Open Ltd"], persona


@pytest.mark.parametrize("size", [2, 30])
def test_a_page_costs_the_same_queries_however_large_the_pool(
    manager: User, teammate: User, head: User, operator: User, django_assert_num_queries: Any, size: int
) -> None:
    for number in range(size):
        moved_to_pool(head, services.company_create(by=teammate, name=f"Moved {number}"))
        entered_without_owner(operator, f"Entered {number}")
        services.contact_create(by=operator, last_name=f"Person {number}")
    # The moves into the pool (with their clients), the companies and the contacts entered without an owner.
    with django_assert_num_queries(3):
        page = pool.pool_list(manager)
    assert len(page.rows) == min(3 * size, 25)


# ---- Demo ----------------------------------------------------------------------------------------


def test_the_demo_moves_a_share_of_clients_to_the_pool_by_a_rule_and_sets_the_limit(db: None) -> None:
    load_tiny_demo()  # supervision's demo runs pool.load_demo

    moves = ClientTransfer.objects.filter(rule=pool.demo_rule(), kind=TransferKind.RULE, to_user__isnull=True)
    assert moves.filter(company__isnull=False).count() >= pool.DEMO_MINIMUM
    assert moves.filter(contact__isnull=False).count() >= pool.DEMO_MINIMUM
    for move in moves.select_related("company", "contact", "from_user", "approved_by"):
        client = move.company or move.contact
        assert client is not None
        assert (client.owner_id, client.status) == (None, ClientStatus.POOL)
        assert move.from_user is not None
        assert move.approved_by is not None
        assert move.approved_by.role == Role.HEAD
        assert move.approved_by.team_id == move.from_user.team_id
        if isinstance(client, Contact) and client.company is not None:
            # A company's people went with it, when it did.
            assert move.reason == f"Rule “Stale clients to the pool”: went to the pool with {client.company.name}"
            assert ClientTransfer.objects.filter(company=client.company, at=move.at, rule=move.rule).exists()
            continue
        since = client.last_contact_at or client.created_at
        assert since < move.at - timedelta(days=pool.DEMO_STALE_DAYS)
        assert move.reason.startswith("Rule “Stale clients to the pool”: No logged contact ")
    assert PoolPolicy.current().claims_per_week == pool.DEMO_CLAIMS_PER_WEEK
    first = pool.pool_list(User.objects.get(username="manager")).rows[0]
    assert (first.rule, first.moved) == ("Stale clients to the pool", True)

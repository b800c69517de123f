"""Purchase regularity: the learned interval (hand-computed medians), the periodic job flagging overdue clients
and telling the owner and head once a spell, a new order ending it, falling volumes, and who sets what."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.core.demo import SCALES, DemoContext
from rapport.core.models import Notification
from rapport.sales.models import Order
from rapport.supervision import regularity
from rapport.supervision.models import Regularity, RegularityPolicy
from rapport.supervision.regularity import learned_interval, overdue_from, regularity_refresh


def at(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12))


def ship(client: Company | Contact, day: date, volume: str | None = "10", amount: str = "100") -> Order:
    return Order.objects.create(
        **{client.kind: client},
        on=day,
        amount=Decimal(amount),
        volume=None if volume is None else Decimal(volume),
    )


def rhythm(client: Company | Contact, last: date, *, every: int = 10, count: int = 4) -> None:
    for number in range(count):
        ship(client, last - timedelta(days=every * number))


@pytest.fixture
def acme(manager: User) -> Company:
    return client_services.company_create(by=manager, name="Acme Trading")


@pytest.fixture
def far(outsider: User) -> Company:
    return client_services.company_create(by=outsider, name="Far Away Ltd")


def row_of(client: Company | Contact) -> Regularity:
    return Regularity.objects.get(**{client.kind: client})


# ---- The learned interval ---------------------------------------------------------------------------


def test_the_interval_is_the_median_gap() -> None:
    # Gaps of 10, 20 and 10 days: sorted 10, 10, 20, the median is 10.
    assert learned_interval([date(2026, 1, 1), date(2026, 1, 11), date(2026, 1, 31), date(2026, 2, 10)]) == 10
    # Gaps of 10 and 15: the median is 12.5, rounded up to 13.
    assert learned_interval([date(2026, 1, 26), date(2026, 1, 1), date(2026, 1, 11)]) == 13


def test_it_needs_three_order_days_and_counts_one_day_once() -> None:
    assert learned_interval([]) is None
    assert learned_interval([date(2026, 1, 1), date(2026, 1, 11)]) is None
    assert learned_interval([date(2026, 1, 1), date(2026, 1, 11), date(2026, 1, 11)]) is None
    # A split shipment is no rhythm: gaps of 14 and 14, not 14, 0 and 14.
    assert learned_interval([date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 15), date(2026, 1, 29)]) == 14


def test_only_the_latest_twelve_order_days_count() -> None:
    # 13 gaps, oldest first: 100, 100, then six of 7 and five of 50. All of them: median 50.
    # The latest 12 days give the last 11 gaps (six of 7, five of 50): median 7.
    gaps = [100, 100, 7, 50, 7, 50, 7, 50, 7, 50, 7, 50, 7]
    days = [date(2025, 1, 1)]
    for gap in gaps:
        days.append(days[-1] + timedelta(days=gap))
    assert len(days) == 14
    assert learned_interval(days) == 7


def test_overdue_from_the_interval_plus_the_margin() -> None:
    # Every 10 days, 20 %: 12 days may pass; the 13th without an order is overdue.
    assert overdue_from(date(2026, 3, 1), 10, 20) == date(2026, 3, 14)
    # Every 7 days, 20 %: 8.4 days may pass; the 9th is overdue.
    assert overdue_from(date(2026, 3, 1), 7, 20) == date(2026, 3, 10)
    assert overdue_from(date(2026, 3, 1), 30, 0) == date(2026, 4, 1)


# ---- The periodic job -------------------------------------------------------------------------------


def test_the_job_learns_and_flags_the_overdue_and_tells_owner_and_head_once(
    manager: User, head: User, acme: Company
) -> None:
    last = date(2026, 3, 1)
    rhythm(acme, last)  # every 10 days: overdue from March 14 with the default 20 %

    report = regularity_refresh(at(date(2026, 3, 13)))
    row = row_of(acme)
    assert (row.learned_days, row.last_order_on, row.overdue_since, row.notified_on) == (10, last, None, None)
    assert (report.clients, report.created, report.overdue, report.notifications) == (1, 1, 0, 0)
    assert not Notification.objects.exists()

    report = regularity_refresh(at(date(2026, 3, 14)))
    row.refresh_from_db()
    assert (row.overdue_since, row.notified_on) == (date(2026, 3, 14), date(2026, 3, 14))
    assert (report.overdue, report.told, report.notifications) == (1, 1, 2)
    told = {note.recipient: note for note in Notification.objects.all()}
    assert set(told) == {manager, head}
    assert told[manager].title == "Overdue order: Acme Trading"
    assert "Usually orders every 10 days; the last order was on" in told[manager].body
    assert "13 days ago" in told[manager].body
    assert told[head].url == acme.get_absolute_url()

    # The spell goes on: nobody is told again.
    report = regularity_refresh(at(date(2026, 3, 20)))
    assert (report.told, report.notifications) == (0, 0)
    assert Notification.objects.count() == 2
    row.refresh_from_db()
    assert row.overdue_since == date(2026, 3, 14)


def test_a_new_order_ends_the_spell_and_the_next_is_told_again(manager: User, head: User, acme: Company) -> None:
    rhythm(acme, date(2026, 3, 1))
    regularity_refresh(at(date(2026, 3, 20)))
    assert Notification.objects.count() == 2

    ship(acme, date(2026, 3, 21))
    regularity_refresh(at(date(2026, 3, 21)))
    row = row_of(acme)
    assert (row.last_order_on, row.overdue_since, row.notified_on) == (date(2026, 3, 21), None, None)

    regularity_refresh(at(date(2026, 4, 30)))
    row.refresh_from_db()
    assert row.overdue_since is not None
    assert row.notified_on == date(2026, 4, 30)
    assert Notification.objects.count() == 4


def test_an_interval_set_by_hand_wins_over_the_learned_one(manager: User, acme: Company) -> None:
    rhythm(acme, date(2026, 3, 1))
    regularity.regularity_set(by=manager, client=acme, set_days=30, monthly_volume_target=None)

    regularity_refresh(at(date(2026, 3, 20)))

    row = row_of(acme)
    assert (row.learned_days, row.set_days, row.interval_days, row.overdue_since) == (10, 30, 30, None)
    assert not Notification.objects.exists()


def test_too_few_orders_and_future_orders_flag_nobody(manager: User, acme: Company) -> None:
    ship(acme, date(2026, 1, 1))
    ship(acme, date(2026, 1, 11))
    ship(acme, date(2026, 6, 1))  # planned, not shipped yet on the day of the run

    regularity_refresh(at(date(2026, 3, 1)))

    row = row_of(acme)
    assert (row.learned_days, row.last_order_on, row.overdue_since) == (None, date(2026, 1, 11), None)


def test_the_margin_comes_from_the_policy(manager: User, acme: Company) -> None:
    rhythm(acme, date(2026, 3, 1))
    RegularityPolicy.objects.update_or_create(pk=1, defaults={"margin_percent": 100})

    regularity_refresh(at(date(2026, 3, 21)))
    assert row_of(acme).overdue_since is None
    regularity_refresh(at(date(2026, 3, 22)))
    assert row_of(acme).overdue_since == date(2026, 3, 22)


def test_a_pool_client_is_flagged_but_nobody_is_told(manager: User, admin_user: User, acme: Company) -> None:
    rhythm(acme, date(2026, 3, 1))
    client_services.client_transfer(by=admin_user, client=acme, to_user=None, reason="")

    report = regularity_refresh(at(date(2026, 3, 20)))

    assert (report.overdue, report.told, report.notifications) == (1, 1, 0)
    assert row_of(acme).notified_on == date(2026, 3, 20)


def test_a_head_is_told_once_about_their_own_client(head: User) -> None:
    mine = client_services.company_create(by=head, name="Head's Own")
    rhythm(mine, date(2026, 3, 1))
    regularity_refresh(at(date(2026, 3, 20)))
    assert list(Notification.objects.values_list("recipient", flat=True)) == [head.pk]


def test_deleted_orders_and_clients_in_the_trash_leave_nothing_behind(manager: User, acme: Company) -> None:
    rhythm(acme, date(2026, 3, 1))
    regularity_refresh(at(date(2026, 3, 20)))
    Order.objects.all().delete()

    regularity_refresh(at(date(2026, 3, 21)))

    row = row_of(acme)
    assert (row.learned_days, row.last_order_on, row.overdue_since, row.notified_on) == (None, None, None, None)

    other = client_services.company_create(by=manager, name="Binned Ltd")
    rhythm(other, date(2026, 3, 1))
    client_services.client_delete(by=manager, client=other)
    regularity_refresh(at(date(2026, 3, 21)))
    assert not Regularity.objects.filter(company=other).exists()


def test_two_runs_at_once_tell_a_spell_once(manager: User, acme: Company) -> None:
    rhythm(acme, date(2026, 3, 1))
    regularity_refresh(at(date(2026, 3, 13)))
    Regularity.objects.filter(company=acme).update(overdue_since=date(2026, 3, 14))
    row = row_of(acme)

    first = regularity._claim([row.pk], date(2026, 3, 14))
    second = regularity._claim([row.pk], date(2026, 3, 14))

    assert (first, second) == ({row.pk}, set())


def test_the_job_costs_the_same_few_queries_whatever_the_number_of_clients(
    manager: User, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    def run(clients: int, name: str, queries: int) -> None:
        for number in range(clients):
            rhythm(client_services.company_create(by=manager, name=f"{name} {number}"), date(2026, 3, 1))
        Regularity.objects.all().delete()
        Notification.objects.all().delete()
        RegularityPolicy.current()
        # The policy, the orders, the volumes, the rows, the new rows (a savepoint pair around them), then telling:
        # the waiting rows, the claim and the notifications (a savepoint pair around them), one empty page.
        with django_assert_num_queries(queries):
            report = regularity_refresh(at(date(2026, 3, 20)))
        assert report.told == report.overdue

    run(3, "Small", 13)
    run(30, "More", 13)


# ---- Falling clients and the volume chart -------------------------------------------------------------


TODAY = date(2026, 8, 15)  # the last full month is July; the six before it January to June


def months_of(client: Company | Contact, volumes: dict[int, str]) -> None:
    for month, volume in volumes.items():
        ship(client, date(2026, month, 10), volume)


def test_a_client_whose_last_month_fell_by_more_than_the_policy_is_listed(
    manager: User, teammate: User, outsider: User, acme: Company, far: Company
) -> None:
    six_of_ten = dict.fromkeys(range(1, 7), "10")
    months_of(acme, {**six_of_ten, 7: "5"})  # −50 %
    steady = client_services.company_create(by=teammate, name="Steady")
    months_of(steady, {**six_of_ten, 7: "8"})  # −20 %: within the default 30 %
    sparse = client_services.contact_create(by=manager, last_name="Sparse", first_name="Sam")
    months_of(sparse, {3: "60", 7: "5"})  # an average of 10 over six months (empty ones count): −50 %
    months_of(far, {**six_of_ten, 7: "0"})  # another team's
    ship(acme, date(2026, 8, 1), "100")  # this month's orders do not count

    regularity_refresh(at(TODAY))
    found = regularity.falling_clients([manager, teammate], RegularityPolicy.current(), TODAY)

    assert [(item.kind, item.name, item.fall_percent) for item in found] == [
        ("company", "Acme Trading", 50),
        ("contact", "Sparse Sam", 50),
    ]
    assert found[0].average == Decimal(10)
    assert found[0].last_month == Decimal(5)
    assert found[0].owner == manager
    assert found[0].url == acme.get_absolute_url()


def test_no_volume_before_is_no_fall_and_the_policy_decides(manager: User, acme: Company) -> None:
    months_of(acme, {7: "5"})
    regularity_refresh(at(TODAY))
    assert regularity.falling_clients([manager], RegularityPolicy.current(), TODAY) == []
    months_of(acme, dict.fromkeys(range(1, 7), "10"))
    regularity_refresh(at(TODAY))
    policy = RegularityPolicy.current()
    policy.fall_percent = 60
    assert regularity.falling_clients([manager], policy, TODAY) == []


def test_a_fall_of_exactly_the_policys_share_is_not_listed_and_no_order_at_all_last_month_is_a_full_fall(
    manager: User, acme: Company
) -> None:
    six_of_ten = dict.fromkeys(range(1, 7), "10")
    months_of(acme, {**six_of_ten, 7: "7"})  # exactly −30 %: "more than" 30 % it is not
    silent = client_services.company_create(by=manager, name="Silent")
    months_of(silent, dict.fromkeys(range(1, 7), "3"))  # nothing in July

    regularity_refresh(at(TODAY))
    found = regularity.falling_clients([manager], RegularityPolicy.current(), TODAY)

    assert [(item.name, item.fall_percent, item.last_month) for item in found] == [("Silent", 100, Decimal(0))]


def test_falling_clients_are_read_from_the_jobs_count_in_one_query(  # type: ignore[no-untyped-def]
    manager: User, acme: Company, django_assert_num_queries
) -> None:
    months_of(acme, {1: "10", 2: "10", 7: "1"})
    policy = RegularityPolicy.current()
    regularity_refresh(at(TODAY))
    with django_assert_num_queries(1):
        assert len(regularity.falling_clients([manager], policy, TODAY)) == 1
    # Counted for July; once September begins, July's fall is no news until the job counts August.
    assert regularity.falling_clients([manager], policy, date(2026, 9, 2)) == []
    # A new order does not change the list before the job runs again: it reads the morning's count.
    ship(acme, date(2026, 7, 20), "100")
    assert len(regularity.falling_clients([manager], policy, TODAY)) == 1
    regularity_refresh(at(TODAY))
    assert regularity.falling_clients([manager], policy, TODAY) == []


def test_the_months_volume_in_one_query(acme: Company, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    ship(acme, date(2026, 8, 2), "1.5")
    ship(acme, date(2026, 8, 10), "2")
    ship(acme, date(2026, 8, 11), None)
    ship(acme, date(2025, 9, 30), "7")
    ship(acme, date(2025, 8, 31), "99")  # before the twelve months

    with django_assert_num_queries(1):
        history = regularity.volume_by_month(acme, today=TODAY)

    assert [month.month for month in history.months][:2] == [date(2025, 9, 1), date(2025, 10, 1)]
    assert history.months[-1] == regularity.MonthVolume(month=date(2026, 8, 1), volume=Decimal("3.5"), orders=3)
    assert history.months[0].volume == Decimal(7)
    assert sum(month.orders for month in history.months) == 4
    assert history.last_order_on == date(2026, 8, 11)


# ---- Setting a rhythm and the policy ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("manager", True), ("head", True), ("operator", True), ("admin", True), ("teammate", False), ("agent", False)],
)
def test_whoever_may_edit_the_client_sets_its_rhythm(
    personas: dict[str, User], acme: Company, persona: str, allowed: bool
) -> None:
    def set_it() -> Regularity:
        return regularity.regularity_set(
            by=personas[persona], client=acme, set_days=21, monthly_volume_target=Decimal("40.5")
        )

    if allowed:
        row = set_it()
        assert (row.set_days, row.monthly_volume_target) == (21, Decimal("40.5"))
    else:
        with pytest.raises(PermissionDenied):
            set_it()
        assert not Regularity.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"set_days": 0}, "set_days", "Give a number of days from 1 to 3650, or leave it empty to learn it."),
        ({"set_days": 4000}, "set_days", "Give a number of days from 1 to 3650, or leave it empty to learn it."),
        ({"monthly_volume_target": Decimal(-1)}, "monthly_volume_target", "The target cannot be negative."),
        ({"monthly_volume_target": Decimal("1.0001")}, "monthly_volume_target", "Give at most 3 decimals."),
    ],
)
def test_a_bad_rhythm_is_refused_by_field(
    manager: User, acme: Company, fields: dict[str, object], field: str, message: str
) -> None:
    values: dict[str, object] = {"set_days": None, "monthly_volume_target": None} | fields
    with pytest.raises(ValidationError) as refused:
        regularity.regularity_set(by=manager, client=acme, **values)  # type: ignore[arg-type]
    assert refused.value.message_dict == {field: [message]}
    assert not Regularity.objects.exists()


def test_a_shorter_interval_flags_the_client_at_once_and_the_job_tells(manager: User, acme: Company) -> None:
    last = timezone.localdate() - timedelta(days=20)
    rhythm(acme, last, every=30)
    regularity_refresh()
    assert row_of(acme).overdue_since is None

    row = regularity.regularity_set(by=manager, client=acme, set_days=7, monthly_volume_target=None)

    assert row.overdue_since == overdue_from(last, 7, 20)
    assert row.notified_on is None
    regularity_refresh()
    assert Notification.objects.filter(recipient=manager).count() == 1
    # Back to the learned 30 days: no longer overdue.
    row = regularity.regularity_set(by=manager, client=acme, set_days=None, monthly_volume_target=None)
    assert (row.overdue_since, row.notified_on) == (None, None)


def test_only_admins_set_the_policy_and_within_bounds(admin_user: User, head: User) -> None:
    with pytest.raises(PermissionDenied):
        regularity.regularity_policy_set(by=head, margin_percent=10, fall_percent=20)
    with pytest.raises(ValidationError) as refused:
        regularity.regularity_policy_set(by=admin_user, margin_percent=501, fall_percent=0)
    assert set(refused.value.message_dict) == {"margin_percent", "fall_percent"}
    assert RegularityPolicy.current().margin_percent == 20

    policy = regularity.regularity_policy_set(by=admin_user, margin_percent=50, fall_percent=25)
    assert (policy.margin_percent, policy.fall_percent, policy.updated_by) == (50, 25, admin_user)


# ---- Demo data ------------------------------------------------------------------------------------


def test_the_demo_orders_a_tenth_of_the_teams_companies_with_some_overdue_and_some_falling(
    manager: User, teammate: User, head: User, outsider: User
) -> None:
    for number in range(40):
        client_services.company_create(by=manager if number % 2 else teammate, name=f"Demo {number}")
    far = client_services.company_create(by=outsider, name="Far")
    context = DemoContext(scale=SCALES["S"], log=lambda line: None)
    context.managers = [manager, teammate, outsider]
    context.users_by_role = {Role.MANAGER: [manager, teammate, outsider], Role.HEAD: [head]}

    regularity.load_demo(context)

    ordering = set(Order.objects.values_list("company_id", flat=True))
    assert len(ordering) == 30  # at least 30, though a tenth of 40 is 4
    assert far.pk not in ordering
    rows = Regularity.objects.filter(company_id__in=ordering)
    assert rows.count() == 30
    assert rows.filter(learned_days__isnull=False).count() == 30
    assert all(14 * 3 // 4 <= row.learned_days <= 45 * 5 // 4 for row in rows if row.learned_days)
    assert rows.filter(overdue_since__isnull=False).exists()
    assert rows.filter(monthly_volume_target__isnull=False).exists()
    assert regularity.falling_clients([manager, teammate], RegularityPolicy.current())
    assert Notification.objects.filter(recipient=head).exists()
    assert not Order.objects.filter(volume__lt=0).exists()


def test_the_demo_needs_the_demo_manager(db: None) -> None:
    context = DemoContext(scale=SCALES["S"], log=lambda line: None)
    context.managers = [UserFactory.create(username="someone", role=Role.MANAGER)]
    regularity.load_demo(context)
    assert not Order.objects.exists()

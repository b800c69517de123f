"""Setting targets: who may, what is refused (and that a refusal writes nothing), bulk entry, copying a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.accounts.models import Role, Team, User
from rapport.accounts.tests.factories import UserFactory
from rapport.motivation import services
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.services import TEAM_ROW, cell_key

MARCH: dict[str, Any] = {"period_kind": PeriodKind.MONTH, "starts_on": date(2026, 3, 1), "ends_on": None}
APRIL: dict[str, Any] = {"period_kind": PeriodKind.MONTH, "starts_on": date(2026, 4, 1), "ends_on": date(2026, 4, 30)}


def set_target(by: User, metric: str = Metric.CALLS, value: Any = 50, **fields: Any) -> Target:
    return services.target_save(by=by, metric=metric, value=value, **(MARCH | fields))


# ---- One target ---------------------------------------------------------------------------------


def test_a_head_sets_a_month_for_a_team_member_and_its_last_day_follows(head: User, manager: User) -> None:
    target = set_target(head, person=manager, value=Decimal(40))

    assert (target.user, target.team, target.starts_on, target.ends_on) == (
        manager,
        None,
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    assert (target.value, target.currency, target.set_by) == (Decimal(40), "", head)


def test_a_quarter_runs_over_its_three_months(head: User, team_a: Team) -> None:
    target = set_target(head, team=team_a, period_kind=PeriodKind.QUARTER, starts_on=date(2026, 4, 1))

    assert (target.starts_on, target.ends_on, target.team) == (date(2026, 4, 1), date(2026, 6, 30), team_a)


def test_revenue_is_counted_in_the_company_currency_unless_another_is_given(head: User, manager: User) -> None:
    usual = set_target(head, Metric.REVENUE_WON, "125000.50", person=manager)
    euros = set_target(head, Metric.REVENUE_WON, 900, person=manager, currency="eur", **APRIL)

    assert (usual.currency, usual.value) == (settings.RAPPORT_DEFAULT_CURRENCY, Decimal("125000.50"))
    assert euros.currency == "EUR"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"value": -1}, "value", "below zero"),
        ({"value": 10**12}, "value", "below 1,000,000,000,000"),
        ({"value": "many"}, "value", "Give a number"),
        ({"value": None}, "value", "Give the target"),
        ({"value": "2.5"}, "value", "whole numbers"),
        ({"metric": Metric.DATA_QUALITY, "value": 101}, "value", "0 to 100"),
        ({"metric": Metric.REVENUE_WON, "value": "10.005"}, "value", "two decimals"),
        ({"metric": "smiles"}, "metric", "Choose one of the metrics"),
        ({"currency": "USD"}, "currency", "Only a revenue target"),
        # ISO 4217's "no currency", never one of RAPPORT_CURRENCIES: refused.
        ({"metric": Metric.REVENUE_WON, "currency": "JPY"}, "currency", "Choose one of the currencies"),
        ({"period_kind": "week"}, "period_kind", "a month, a quarter or custom dates"),
        ({"starts_on": date(2026, 3, 2)}, "starts_on", "first of the month"),
        ({"ends_on": date(2026, 3, 30)}, "ends_on", "last day"),
        ({"period_kind": PeriodKind.QUARTER, "starts_on": date(2026, 2, 1)}, "starts_on", "1 April"),
        ({"period_kind": PeriodKind.CUSTOM, "ends_on": None}, "ends_on", "Give the last day"),
        ({"period_kind": PeriodKind.CUSTOM, "ends_on": date(2026, 2, 1)}, "ends_on", "before the first"),
        ({"starts_on": None}, "starts_on", "Give the first day"),
        ({"starts_on": date(2226, 3, 1)}, "starts_on", "Choose a date between"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_written(
    head: User, manager: User, fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        set_target(head, person=manager, **fields)

    assert words in " ".join(refused.value.message_dict[field])
    assert not Target.objects.exists()


@pytest.mark.parametrize("whose", ["both", "neither"])
def test_a_target_is_a_persons_or_a_teams(head: User, manager: User, team_a: Team, whose: str) -> None:
    owners: dict[str, Any] = {"person": manager, "team": team_a} if whose == "both" else {}
    with pytest.raises(ValidationError) as refused:
        set_target(head, **owners)

    assert refused.value.message_dict == {"person": ["Give either a person or a team."]}


def test_overlapping_dates_for_the_same_metric_and_person_are_refused_naming_the_other(
    head: User, manager: User
) -> None:
    set_target(head, person=manager)
    fortnight: dict[str, Any] = {
        "period_kind": PeriodKind.CUSTOM,
        "starts_on": date(2026, 3, 20),
        "ends_on": date(2026, 4, 5),
    }

    with pytest.raises(ValidationError) as refused:
        set_target(head, person=manager, value=10, **fortnight)

    message = refused.value.message_dict["starts_on"][0]
    assert "Mark Manager already has a “Calls made” target from March 1, 2026 to March 31, 2026" in message
    assert Target.objects.count() == 1


def test_overlap_is_per_metric_and_per_owner(head: User, manager: User, teammate: User, team_a: Team) -> None:
    first = set_target(head, person=manager)
    set_target(head, Metric.MEETINGS, person=manager)
    set_target(head, person=teammate)
    set_target(head, team=team_a)
    set_target(head, person=manager, **APRIL)
    changed = services.target_save(by=head, target=first, metric=Metric.CALLS, value=60, person=manager, **MARCH)

    assert changed.value == 60
    assert Target.objects.count() == 5
    with pytest.raises(ValidationError, match="Team A already has"):
        set_target(head, team=team_a, period_kind=PeriodKind.QUARTER, starts_on=date(2026, 1, 1))


def test_a_change_into_another_targets_dates_is_refused(head: User, manager: User) -> None:
    set_target(head, person=manager)
    april = set_target(head, person=manager, **APRIL)

    with pytest.raises(ValidationError, match="from March 1, 2026"):
        services.target_save(by=head, target=april, metric=Metric.CALLS, value=50, person=manager, **MARCH)
    april.refresh_from_db()
    assert april.starts_on == date(2026, 4, 1)


# ---- Who sets whose ------------------------------------------------------------------------------


def test_a_head_sets_only_their_teams_and_its_peoples_targets(
    head: User, manager: User, agent: User, outsider: User, team_a: Team, team_b: Team
) -> None:
    set_target(head, person=manager)
    set_target(head, person=agent)
    set_target(head, person=head)
    set_target(head, team=team_a)
    others: list[dict[str, Any]] = [{"person": outsider}, {"team": team_b}]
    for other in others:
        with pytest.raises(PermissionDenied):
            set_target(head, **other)
    assert Target.objects.count() == 4


def test_admins_set_anyones_and_managers_nobodys(
    admin_user: User, manager: User, outsider: User, operator: User, team_b: Team
) -> None:
    set_target(admin_user, person=outsider)
    set_target(admin_user, team=team_b)
    for by in [manager, operator]:
        with pytest.raises(PermissionDenied):
            set_target(by, person=manager, **APRIL)
    with pytest.raises(PermissionDenied):
        set_target(manager, person=manager, **APRIL)


def test_only_people_who_sell_have_targets(admin_user: User, team_a: Team) -> None:
    analyst = UserFactory.create(role=Role.ANALYST, team=team_a, first_name="Ann", last_name="Lyst")
    gone = UserFactory.create(role=Role.MANAGER, team=team_a, is_active=False, first_name="Gone", last_name="Away")

    with pytest.raises(ValidationError, match="Ann Lyst does not sell"):
        set_target(admin_user, person=analyst)
    with pytest.raises(ValidationError, match="Gone Away no longer works here"):
        set_target(admin_user, person=gone)


def test_a_head_may_not_change_or_delete_another_teams_target(
    head: User, admin_user: User, outsider: User, manager: User
) -> None:
    theirs = set_target(admin_user, person=outsider)

    with pytest.raises(PermissionDenied):
        services.target_save(by=head, target=theirs, metric=Metric.CALLS, value=1, person=manager, **MARCH)
    with pytest.raises(PermissionDenied):
        services.target_delete(by=head, target=theirs)
    theirs.refresh_from_db()
    assert (theirs.user, theirs.value) == (outsider, Decimal(50))


def test_a_head_deletes_a_team_members_target_and_a_manager_cannot(head: User, manager: User) -> None:
    target = set_target(head, person=manager)

    with pytest.raises(PermissionDenied):
        services.target_delete(by=manager, target=target)
    services.target_delete(by=head, target=target)

    assert not Target.objects.exists()


# ---- Bulk entry ----------------------------------------------------------------------------------


def bulk(by: User, team: Team, values: dict[tuple[int, str], Any], **period: Any) -> services.BulkResult:
    return services.targets_bulk_save(by=by, team=team, values=values, **(MARCH | period))


def test_bulk_entry_sets_changes_and_removes_a_teams_targets_at_once(
    head: User, manager: User, teammate: User, team_a: Team
) -> None:
    kept = set_target(head, Metric.MEETINGS, 8, person=manager)
    emptied = set_target(head, Metric.MEETINGS, 8, person=teammate)

    saved = bulk(
        head,
        team_a,
        {
            (manager.pk, Metric.CALLS): Decimal(100),
            (manager.pk, Metric.MEETINGS): Decimal(12),
            (teammate.pk, Metric.MEETINGS): None,
            (teammate.pk, Metric.DEALS_WON): "",
            (TEAM_ROW, Metric.REVENUE_WON): Decimal("50000"),
        },
    )

    assert (saved.created, saved.changed, saved.deleted) == (2, 1, 1)
    kept.refresh_from_db()
    assert kept.value == 12
    assert not Target.objects.filter(pk=emptied.pk).exists()
    team_target = Target.objects.get(team=team_a)
    assert (team_target.metric, team_target.value, team_target.currency, team_target.ends_on) == (
        Metric.REVENUE_WON,
        Decimal(50000),
        settings.RAPPORT_DEFAULT_CURRENCY,
        date(2026, 3, 31),
    )


def test_bulk_entry_saves_all_cells_or_none_with_each_refusal_under_its_cell(
    head: User, manager: User, teammate: User, outsider: User, team_a: Team
) -> None:
    set_target(
        head, person=teammate, period_kind=PeriodKind.CUSTOM, starts_on=date(2026, 3, 15), ends_on=date(2026, 4, 14)
    )
    existing = set_target(head, Metric.MEETINGS, 5, person=manager)

    with pytest.raises(ValidationError) as refused:
        bulk(
            head,
            team_a,
            {
                (manager.pk, Metric.CALLS): Decimal(100),  # fine on its own
                (manager.pk, Metric.MEETINGS): None,  # would remove one
                (manager.pk, Metric.DEALS_WON): Decimal(-3),
                (teammate.pk, Metric.CALLS): Decimal(80),  # overlaps 15 March – 14 April
                (outsider.pk, Metric.CALLS): Decimal(10),
                (TEAM_ROW, Metric.DATA_QUALITY): Decimal(120),
            },
        )

    assert refused.value.message_dict == {
        cell_key(manager.pk, Metric.DEALS_WON): ["A target cannot be below zero."],
        cell_key(teammate.pk, Metric.CALLS): [
            "Tina Teammate already has a “Calls made” target from March 15, 2026 to April 14, 2026: change that one, "
            "or choose dates that do not overlap it."
        ],
        cell_key(outsider.pk, Metric.CALLS): ["This person is not among the team's sellers."],
        "cell-team-data_quality": ["Data quality is a whole score from 0 to 100."],
    }
    assert Target.objects.count() == 2
    assert Target.objects.filter(pk=existing.pk).exists()


def test_bulk_entry_is_a_heads_for_their_own_team_only(
    head: User, manager: User, outsider: User, admin_user: User, team_a: Team, team_b: Team
) -> None:
    with pytest.raises(PermissionDenied):
        bulk(head, team_b, {(outsider.pk, Metric.CALLS): Decimal(10)})
    with pytest.raises(PermissionDenied):
        bulk(manager, team_a, {(manager.pk, Metric.CALLS): Decimal(10)})
    bulk(admin_user, team_b, {(outsider.pk, Metric.CALLS): Decimal(10)})

    assert list(Target.objects.values_list("user__username", flat=True)) == ["outsider"]


def test_bulk_entry_refuses_a_period_that_is_not_whole(head: User, manager: User, team_a: Team) -> None:
    with pytest.raises(ValidationError) as refused:
        bulk(head, team_a, {(manager.pk, Metric.CALLS): Decimal(10)}, starts_on=date(2026, 3, 5))

    assert list(refused.value.message_dict) == ["starts_on"]
    assert not Target.objects.exists()


# ---- Copy to the next period -------------------------------------------------------------------


def test_a_head_copies_their_teams_month_to_the_next_skipping_what_is_already_set(
    head: User, manager: User, teammate: User, team_a: Team, admin_user: User, outsider: User
) -> None:
    set_target(head, Metric.CALLS, 100, person=manager)
    set_target(head, Metric.MEETINGS, 10, person=manager)
    set_target(head, Metric.CALLS, 90, person=teammate)
    set_target(head, Metric.REVENUE_WON, 5000, team=team_a)
    set_target(head, Metric.CALLS, 70, person=teammate, **APRIL)  # April already has it
    set_target(admin_user, Metric.CALLS, 30, person=outsider)  # another team's

    copied = services.targets_copy_to_next(by=head, **MARCH)

    assert (copied.copied, copied.skipped) == (3, 1)
    assert (copied.period.start, copied.period.end) == (date(2026, 4, 1), date(2026, 4, 30))
    april = Target.objects.filter(starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 30))
    assert {(t.user_id, t.team_id, t.metric, t.value) for t in april} == {
        (manager.pk, None, "calls", Decimal(100)),
        (manager.pk, None, "meetings", Decimal(10)),
        (teammate.pk, None, "calls", Decimal(70)),
        (None, team_a.pk, "revenue_won", Decimal(5000)),
    }
    assert april.get(team=team_a).currency == settings.RAPPORT_DEFAULT_CURRENCY


def test_copying_again_copies_nothing(head: User, manager: User) -> None:
    set_target(head, person=manager)
    services.targets_copy_to_next(by=head, **MARCH)

    again = services.targets_copy_to_next(by=head, **MARCH)

    assert (again.copied, again.skipped) == (0, 1)


def test_an_admin_copies_everyones_or_one_teams(admin_user: User, manager: User, outsider: User, team_b: Team) -> None:
    set_target(admin_user, person=manager)
    set_target(admin_user, person=outsider)

    one_team = services.targets_copy_to_next(by=admin_user, team=team_b, **MARCH)
    everyone = services.targets_copy_to_next(by=admin_user, **MARCH)

    assert (one_team.copied, everyone.copied, everyone.skipped) == (1, 1, 1)
    assert Target.objects.filter(starts_on=date(2026, 4, 1)).count() == 2


def test_custom_dates_are_copied_to_as_many_days_right_after(head: User, manager: User) -> None:
    fortnight: dict[str, Any] = {
        "period_kind": PeriodKind.CUSTOM,
        "starts_on": date(2026, 3, 2),
        "ends_on": date(2026, 3, 15),
    }
    set_target(head, person=manager, **fortnight)

    copied = services.targets_copy_to_next(by=head, **fortnight)

    assert (copied.period.start, copied.period.end) == (date(2026, 3, 16), date(2026, 3, 29))
    assert Target.objects.filter(starts_on=date(2026, 3, 16), ends_on=date(2026, 3, 29)).count() == 1


def test_only_heads_and_admins_copy_and_a_head_only_their_team(
    head: User, manager: User, admin_user: User, outsider: User, team_b: Team
) -> None:
    set_target(admin_user, person=outsider)
    with pytest.raises(PermissionDenied):
        services.targets_copy_to_next(by=head, team=team_b, **MARCH)
    with pytest.raises(PermissionDenied):
        services.targets_copy_to_next(by=manager, **MARCH)

    assert Target.objects.count() == 1


def test_people_who_left_are_not_copied(head: User, manager: User) -> None:
    set_target(head, person=manager)
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    copied = services.targets_copy_to_next(by=head, **MARCH)

    assert (copied.copied, copied.skipped) == (0, 0)

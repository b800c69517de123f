"""Every change to plans goes through these functions: the plans screens, the API and anything later alike.

Each runs in one transaction and checks everything before it writes: the right to set the
target (``accounts.access.can_set_targets``: heads their team and its people, admins
everyone), whose target it is, the metric, the figure, the period, the currency, and that
no other target of the same metric and the same person (or team) overlaps it — two
targets counting the same meetings would make "5 of 10" meaningless. A refusal is a
ValidationError keyed by field (by cell for bulk entry), so a form shows each message
next to its input and the API answers 422 with them; nothing is half-written.

Targets of one person (or team) are written one writer at a time: each writer first locks
that person's (or team's) row, so two saves cannot both pass the overlap check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.motivation.models import Metric, PeriodKind, Target
from rapport.motivation.periods import Period, next_period, period_of

# Bulk entry gives the team's own targets under this person id (no person has it).
TEAM_ROW = 0
# Below this, so the figure fits the column (14 digits, 2 of them decimals).
VALUE_LIMIT = Decimal(10) ** 12
# A plan's dates stay within these: a year 2205 is a typing mistake, not a plan.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
CENT = Decimal("0.01")
SCORE_LIMIT = 100


# ---- Checks ------------------------------------------------------------------------------------


def _day(value: date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def plan_period(kind: str, starts_on: date | None, ends_on: date | None) -> Period:
    """The period a target runs over, or a ValidationError keyed by ``period_kind``, ``starts_on``, ``ends_on``.

    A month or a quarter is a whole one: its last day may be left out (it follows from the first).
    """
    if kind not in PeriodKind.values:
        raise ValidationError({"period_kind": _("Choose a month, a quarter or custom dates.")})
    if starts_on is None:
        raise ValidationError({"starts_on": _("Give the first day.")})
    if not FIRST_DAY <= starts_on <= LAST_DAY:
        raise ValidationError({"starts_on": _out_of_range()})
    if kind == PeriodKind.CUSTOM:
        if ends_on is None:
            raise ValidationError({"ends_on": _("Give the last day.")})
        if ends_on < starts_on:
            raise ValidationError({"ends_on": _("The last day cannot be before the first.")})
        if ends_on > LAST_DAY:
            raise ValidationError({"ends_on": _out_of_range()})
        return Period(starts_on, ends_on)
    whole = period_of(kind, starts_on)
    if starts_on != whole.start:
        if kind == PeriodKind.MONTH:
            message = _("A month's target starts on the first of the month.")
        else:
            message = _(
                "A quarter's target starts on the first day of a quarter: 1 January, 1 April, 1 July or 1 October."
            )
        raise ValidationError({"starts_on": message})
    if ends_on is not None and ends_on != whole.end:
        if kind == PeriodKind.MONTH:
            message = _("A month's target ends on the month's last day, %(day)s.")
        else:
            message = _("A quarter's target ends on the quarter's last day, %(day)s.")
        raise ValidationError({"ends_on": message % {"day": _day(whole.end)}})
    return whole


def _out_of_range() -> str:
    return _("Choose a date between %(first)s and %(last)s.") % {"first": _day(FIRST_DAY), "last": _day(LAST_DAY)}


def _as_number(value: Any) -> Decimal | None:
    """The figure as a Decimal; None when it is not a number at all."""
    if isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def checked_value(metric: str, value: Any) -> tuple[Decimal, str | None]:
    """The target figure as a Decimal, and what is wrong with it in words (None when it is fine)."""
    if value is None or value == "":
        return Decimal(0), _("Give the target.")
    number = _as_number(value)
    if number is None:
        return Decimal(0), _("Give a number.")
    if number < 0:
        return number, _("A target cannot be below zero.")
    if number >= VALUE_LIMIT:
        return number, _("A target must be below 1,000,000,000,000.")
    whole = number == number.to_integral_value()
    if metric == Metric.REVENUE_WON:
        return number, None if number == number.quantize(CENT) else _("Give at most two decimals (cents).")
    if metric == Metric.DATA_QUALITY:
        return number, None if whole and number <= SCORE_LIMIT else _("Data quality is a whole score from 0 to 100.")
    if not whole:
        label = Metric(metric).label if metric in Metric.values else metric
        return number, _("“%(metric)s” is counted in whole numbers.") % {"metric": label}
    return number, None


def _currency(metric: str, currency: str) -> tuple[str, str | None]:
    """The currency to store, and what is wrong with the one given."""
    code = (currency or "").strip().upper()
    if metric != Metric.REVENUE_WON:
        return "", (_("Only a revenue target has a currency.") if code else None)
    code = code or settings.RAPPORT_DEFAULT_CURRENCY
    if code not in settings.RAPPORT_CURRENCIES:
        return code, _("Choose one of the currencies: %(codes)s.") % {"codes": ", ".join(settings.RAPPORT_CURRENCIES)}
    return code, None


def _metric_error(metric: str) -> str | None:
    if metric in Metric.values:
        return None
    return _("Choose one of the metrics: %(names)s.") % {"names": ", ".join(Metric.values)}


def _person_error(person: User) -> str | None:
    if not person.is_active:
        return _("%(name)s no longer works here.") % {"name": person.display_name}
    if person.role not in access.PLANNED_ROLES:
        return _("%(name)s does not sell (only managers, heads of sales and agents have targets).") % {
            "name": person.display_name
        }
    return None


def _owner_name(target: Target) -> str:
    if target.user_id is not None:
        return target.user.display_name  # type: ignore[union-attr]
    return str(target.team)


def overlap_error(clash: Target) -> str:
    return _(
        "%(owner)s already has a “%(metric)s” target from %(start)s to %(end)s: change that one, "
        "or choose dates that do not overlap it."
    ) % {
        "owner": _owner_name(clash),
        "metric": clash.get_metric_display(),
        "start": _day(clash.starts_on),
        "end": _day(clash.ends_on),
    }


def _may_change(by: User, target: Target) -> bool:
    if target.team_id is not None:
        return access.can_set_targets(by, team=target.team)
    return access.can_set_targets(by, person=target.user)


def _lock_owners(*, people: Iterable[int | None] = (), teams: Iterable[int | None] = ()) -> None:
    """Serialise the writers of these people's and teams' targets (see the module's docstring).

    Always teams first, then people, each by id: writers that lock in one order cannot deadlock.
    """
    team_ids = sorted({pk for pk in teams if pk is not None})
    person_ids = sorted({pk for pk in people if pk is not None})
    if team_ids:
        list(Team.objects.select_for_update().filter(pk__in=team_ids).order_by("pk").values_list("pk"))
    if person_ids:
        list(User.objects.select_for_update().filter(pk__in=person_ids).order_by("pk").values_list("pk"))


def _pk(record: User | Team | None) -> int | None:
    return record.pk if record is not None else None


def _current(target: Target) -> Target:
    """The target as it is now (``target`` may have been read before someone changed or deleted it)."""
    found = Target.objects.select_related("user", "team").filter(pk=target.pk).first()
    if found is None:
        raise ValidationError(_("This target was deleted meanwhile."))
    return found


def _overlapping(period: Period) -> Q:
    return Q(starts_on__lte=period.end, ends_on__gte=period.start)


# ---- One target --------------------------------------------------------------------------------


@transaction.atomic
def target_save(
    *,
    by: User,
    metric: str,
    value: Decimal | int | str | None,
    period_kind: str,
    starts_on: date | None,
    ends_on: date | None,
    person: User | None = None,
    team: Team | None = None,
    currency: str = "",
    target: Target | None = None,
) -> Target:
    """Set a target (``target``: change that one) for a person or for a team: exactly one of them."""
    if target is not None:
        target = _current(target)
        if not _may_change(by, target):
            raise PermissionDenied
    if (person is None) == (team is None):
        raise ValidationError({"person": _("Give either a person or a team.")})
    if not access.can_set_targets(by, person=person, team=team):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if person is not None and (problem := _person_error(person)):
        errors["person"] = problem
    number, problem = checked_value(metric, value)
    if metric_problem := _metric_error(metric):
        errors["metric"] = metric_problem
    elif problem:
        errors["value"] = problem
    code, problem = _currency(metric, currency)
    if problem and "metric" not in errors:
        errors["currency"] = problem
    period: Period | None = None
    try:
        period = plan_period(period_kind, starts_on, ends_on)
    except ValidationError as error:
        errors.update({field: " ".join(messages) for field, messages in error.message_dict.items()})
    if errors or period is None:
        raise ValidationError(errors)
    if target is not None:
        # Its owner's writers too: it may be moving to another person or team.
        _lock_owners(people=[_pk(person), target.user_id], teams=[_pk(team), target.team_id])
        locked = _current(target)
        if (locked.user_id, locked.team_id) != (target.user_id, target.team_id):
            # Moved to someone else meanwhile: the locks held are not theirs.
            raise ValidationError(_("This target was given to someone else meanwhile: reload, then change it."))
        target = locked
    else:
        _lock_owners(people=[_pk(person)], teams=[_pk(team)])
    others = Target.objects.filter(_overlapping(period), metric=metric, user=person, team=team)
    if target is not None:
        others = others.exclude(pk=target.pk)
    clash = others.select_related("user", "team").order_by("starts_on").first()
    if clash is not None:
        raise ValidationError({"starts_on": overlap_error(clash)})
    fields = {
        "metric": metric,
        "user": person,
        "team": team,
        "period_kind": period_kind,
        "starts_on": period.start,
        "ends_on": period.end,
        "value": number,
        "currency": code,
        "set_by": by,
    }
    if target is None:
        return Target.objects.create(**fields)
    for name, field_value in fields.items():
        setattr(target, name, field_value)
    target.save(update_fields=[*fields, "updated_at"])
    return target


@transaction.atomic
def target_delete(*, by: User, target: Target) -> None:
    current = Target.objects.select_related("user", "team").filter(pk=target.pk).first()
    if current is None:
        return  # deleted meanwhile: what was asked is done
    if not _may_change(by, current):
        raise PermissionDenied
    _lock_owners(people=[current.user_id], teams=[current.team_id])
    # Only as it was checked: one given to someone else meanwhile stays.
    Target.objects.filter(Q(pk=current.pk), Q(user_id=current.user_id), Q(team_id=current.team_id)).delete()


# ---- A whole team at once -----------------------------------------------------------------------


def cell_key(person_id: int, metric: str) -> str:
    """The name a bulk-entry cell's input and its error go by: ``cell-12-calls``, ``cell-team-calls``."""
    return f"cell-{'team' if person_id == TEAM_ROW else person_id}-{metric}"


@dataclass(frozen=True)
class BulkResult:
    created: int
    changed: int
    deleted: int


def _plannable_members(team: Team) -> dict[int, User]:
    """The team's people who have targets, locked for the rest of the transaction (after the team: see _lock_owners)."""
    members = User.objects.select_for_update().filter(team=team, is_active=True, role__in=access.PLANNED_ROLES)
    return {member.pk: member for member in members.order_by("pk")}


@transaction.atomic
def targets_bulk_save(
    *,
    by: User,
    team: Team,
    period_kind: str,
    starts_on: date | None,
    ends_on: date | None,
    values: Mapping[tuple[int, str], Decimal | int | str | None],
) -> BulkResult:
    """Set a team's targets for a period in one go: (person id, metric) → figure; the team's own under TEAM_ROW.

    A figure left empty (None or "") removes that cell's target for the period. All cells are
    saved or none: each refusal is keyed by ``cell_key``, the period's by its field.
    """
    if not access.can_set_targets(by, team=team):
        raise PermissionDenied
    period = plan_period(period_kind, starts_on, ends_on)
    _lock_owners(teams=[team.pk])
    members = _plannable_members(team)
    running = Target.objects.filter(Q(user_id__in=list(members)) | Q(team=team), _overlapping(period))
    exact: dict[tuple[int, str], Target] = {}
    clashes: dict[tuple[int, str], Target] = {}
    for found in running.select_related("user", "team"):
        cell = (found.user_id or TEAM_ROW, found.metric)
        if (found.starts_on, found.ends_on) == (period.start, period.end):
            exact[cell] = found
        else:
            clashes.setdefault(cell, found)

    errors: dict[str, str] = {}
    to_create: list[Target] = []
    to_change: list[Target] = []
    to_delete: list[int] = []
    for (person_id, metric), raw in values.items():
        key = cell_key(person_id, metric)
        person = members.get(person_id)
        if problem := _metric_error(metric):
            errors[key] = problem
            continue
        if person_id != TEAM_ROW and (person is None or not access.can_set_targets(by, person=person)):
            errors[key] = _("This person is not among the team's sellers.")
            continue
        current = exact.get((person_id, metric))
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if current is not None:
                to_delete.append(current.pk)
            continue
        value, problem = checked_value(metric, raw)
        if problem:
            errors[key] = problem
            continue
        if (clash := clashes.get((person_id, metric))) is not None:
            errors[key] = overlap_error(clash)
            continue
        if current is None:
            currency, _problem = _currency(metric, "")
            to_create.append(
                Target(
                    metric=metric,
                    user=person,
                    team=None if person else team,
                    period_kind=period_kind,
                    starts_on=period.start,
                    ends_on=period.end,
                    value=value,
                    currency=currency,
                    set_by=by,
                )
            )
        elif current.value != value or current.period_kind != period_kind:
            current.value, current.period_kind, current.set_by = value, period_kind, by
            to_change.append(current)
    if errors:
        raise ValidationError(errors)
    Target.objects.bulk_create(to_create)
    for changed in to_change:
        changed.save(update_fields=["value", "period_kind", "set_by", "updated_at"])
    Target.objects.filter(pk__in=to_delete).delete()
    return BulkResult(created=len(to_create), changed=len(to_change), deleted=len(to_delete))


# ---- Copy to the next period ----------------------------------------------------------------------


@dataclass(frozen=True)
class CopyResult:
    copied: int
    skipped: int  # the next period already had a target of that metric for that person or team
    period: Period  # the next one


@transaction.atomic
def targets_copy_to_next(
    *, by: User, period_kind: str, starts_on: date | None, ends_on: date | None, team: Team | None = None
) -> CopyResult:
    """Copy the targets of a period to the next one, within the caller's scope.

    A head copies their team's and its people's; an admin everyone's, or one team's. Only the
    targets of exactly this period are copied, and only for people who still sell; a target
    whose metric already has one in the next period (for the same person or team) is skipped.
    """
    if team is None and not access.can_set_targets(by):  # everyone's is for admins: a head's is their team's
        team = by.team
        if team is None:
            raise PermissionDenied
    if team is not None and not access.can_set_targets(by, team=team):
        raise PermissionDenied
    period = plan_period(period_kind, starts_on, ends_on)
    following = next_period(period_kind, period)
    if following.end > LAST_DAY:
        raise ValidationError({"starts_on": _out_of_range()})
    sellers = Q(user__is_active=True, user__role__in=access.PLANNED_ROLES)
    scope = (Q(team=team) | Q(sellers, user__team=team)) if team is not None else (Q(team__isnull=False) | sellers)
    sources = list(
        Target.objects.filter(scope, starts_on=period.start, ends_on=period.end).order_by(
            "user_id", "team_id", "metric"
        )
    )
    people = {source.user_id for source in sources if source.user_id is not None}
    teams = {source.team_id for source in sources if source.team_id is not None}
    _lock_owners(people=people, teams=teams)
    taken = set(
        Target.objects.filter(Q(user_id__in=people) | Q(team_id__in=teams), _overlapping(following)).values_list(
            "user_id", "team_id", "metric"
        )
    )
    copies = [
        Target(
            metric=source.metric,
            user_id=source.user_id,
            team_id=source.team_id,
            period_kind=period_kind,
            starts_on=following.start,
            ends_on=following.end,
            value=source.value,
            currency=source.currency,
            set_by=by,
        )
        for source in sources
        if (source.user_id, source.team_id, source.metric) not in taken
    ]
    Target.objects.bulk_create(copies)
    return CopyResult(copied=len(copies), skipped=len(sources) - len(copies), period=following)

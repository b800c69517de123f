"""Activity settings: the order of an outcome picklist, the whole minimum-data matrix at once, a person's reminders.

Outcomes and single rules are saved by ``services.outcome_save`` and
``services.minimum_data_rule_save``; what is here builds on them.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import ActivitySettings, MinimumDataRule, Outcome
from rapport.activities.reminders import LONGEST_OFFSET

# What a new installation starts with (migration 0002): a meeting marked done must say this much.
DEFAULT_RULES: dict[tuple[str, str], list[str]] = {
    ("meeting", "done"): ["date", "client_name", "contact_point", "subject", "result"],
}
# More reminders than this per activity would be noise, and each is a row per activity.
MOST_OFFSETS = 10


@transaction.atomic
def outcome_move(*, by: User, outcome: Outcome, step: int) -> None:
    """Swap the outcome with its neighbour above (-1) or below (+1) in its kind's list, renumbering it 1, 2, 3 …"""
    services.check_configurer(by)
    ordered = list(Outcome.objects.filter(kind=outcome.kind).order_by("position", "id").select_for_update())
    index = next((number for number, sibling in enumerate(ordered) if sibling.pk == outcome.pk), None)
    if index is None:
        return
    target = index + step
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    changed = []
    for position, sibling in enumerate(ordered, start=1):
        if sibling.position != position:
            sibling.position = position
            changed.append(sibling)
    Outcome.objects.bulk_update(changed, ["position"])


@transaction.atomic
def minimum_data_rules_save(*, by: User, rules: dict[tuple[str, str], list[str]]) -> int:
    """Save several cells of the kind × status matrix together: all of them or, on a refusal, none.

    Only cells that differ from what is stored are written; returns how many changed.
    """
    services.check_configurer(by)
    stored = {(rule.kind, rule.status): list(rule.required) for rule in MinimumDataRule.objects.all()}
    changed = 0
    for (kind, status), required in rules.items():
        if sorted(stored.get((kind, status), [])) == sorted(required):
            continue
        services.minimum_data_rule_save(by=by, kind=kind, status=status, required=required)
        changed += 1
    return changed


@transaction.atomic
def reminder_offsets_save(*, by: User, offsets: list[int]) -> ActivitySettings:
    """A person's own reminders, in minutes before the due time: none or several, each from 0 to a week, no repeats."""
    if not by.is_active:
        raise PermissionDenied
    errors = []
    if any(not isinstance(offset, int) or isinstance(offset, bool) for offset in offsets):
        errors.append(_("Give each reminder in whole minutes."))
    elif any(offset < 0 for offset in offsets):
        errors.append(_("A reminder comes before the due time: minutes cannot be below zero."))
    elif any(offset > LONGEST_OFFSET for offset in offsets):
        errors.append(_("A reminder can come at most a week before the due time."))
    elif len(set(offsets)) != len(offsets):
        errors.append(_("Each reminder time can be chosen once."))
    if len(offsets) > MOST_OFFSETS:
        errors.append(_("Choose at most %(count)s reminders.") % {"count": MOST_OFFSETS})
    if errors:
        raise ValidationError({"offsets": errors})
    row, created = ActivitySettings.objects.select_for_update().get_or_create(
        user=by, defaults={"reminder_offsets": sorted(offsets)}
    )
    if not created:
        row.reminder_offsets = sorted(offsets)
        row.save(update_fields=["reminder_offsets"])
    return row

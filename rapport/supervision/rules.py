"""Redistribution rules: admins write them here — the screens, the API and the demo alike — and everyone reads
them in plain words.

``rule_save`` checks the right (``access.can_configure_redistribution``) and every field before it
writes; a refusal is a ValidationError keyed by field, so the form shows each next to its field
and the API answers 422 with the same words. A rule that has made proposals is never deleted (its
proposals and their lines say what it did): it is taken out of use instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.clients.models import ClientStatus, Company, Contact, Tag
from rapport.sales.models import Deal, Pipeline
from rapport.supervision.models import (
    Proposal,
    ProposalLine,
    ProposalStatus,
    RedistributionRule,
    RuleAction,
    RuleCondition,
    RuleMode,
    RuleSchedule,
)

NAME_LENGTH = 120
MAX_DAYS = 3650
MAX_CALLBACKS = 100
# The statuses a rule may narrow to: a client in the pool has nobody to take it from.
STATUSES = [value for value in ClientStatus.values if value != ClientStatus.POOL]
# How often each schedule reviews.
INTERVALS = {
    RuleSchedule.DAILY: timedelta(days=1),
    RuleSchedule.WEEKLY: timedelta(days=7),
    RuleSchedule.BIWEEKLY: timedelta(days=14),
}
# What a rule's fields are called where they are refused (the form's fields and the API's alike).
FIELDS = (
    "name",
    "condition",
    "days",
    "without_open_deal",
    "missed_callbacks",
    "action",
    "team",
    "pipeline",
    "client_status",
    "tag",
    "schedule",
    "mode",
    "is_active",
)


# ---- Reading a rule ----------------------------------------------------------------------------------


def condition_words(rule: RedistributionRule) -> str:
    """When a client counts as neglected, e.g. "no logged contact for 30 days and no open deal"."""
    if rule.condition == RuleCondition.MISSED_CALLBACKS:
        count = rule.missed_callbacks or 0
        words = ngettext(
            "%(count)d callback missed (planned and not done by its day)",
            "%(count)d callbacks missed (planned and not done by their day)",
            count,
        ) % {"count": count}
    else:
        days = rule.days or 0
        words = ngettext("no logged contact for %(count)d day", "no logged contact for %(count)d days", days) % {
            "count": days
        }
    if rule.without_open_deal:
        return _("%(condition)s and no open deal") % {"condition": words}
    return words


def scope_words(rule: RedistributionRule) -> str:
    """Whose clients it looks at, e.g. "clients of Team A with the tag “VIP”"."""
    parts = []
    if rule.client_status:
        parts.append(_("status “%(status)s”") % {"status": ClientStatus(rule.client_status).label})
    if rule.tag_id is not None:
        parts.append(_("the tag “%(tag)s”") % {"tag": rule.tag})
    if rule.pipeline_id is not None:
        parts.append(_("an open deal in “%(pipeline)s”") % {"pipeline": rule.pipeline})
    owners = _("of %(team)s") % {"team": rule.team} if rule.team_id is not None else _("of every team")
    if not parts:
        return _("clients %(owners)s") % {"owners": owners}
    return _("clients %(owners)s with %(conditions)s") % {"owners": owners, "conditions": _(", ").join(parts)}


def action_words(rule: RedistributionRule) -> str:
    if rule.action == RuleAction.POOL:
        return _("they go to the shared pool")
    if rule.action == RuleAction.ROUND_ROBIN:
        return _("they go in turn to the other managers of the owner's team")
    return _("each goes to the least-loaded manager of the owner's team (fewest open activities per client)")


def rule_sentence(rule: RedistributionRule) -> str:
    """The whole rule as one sentence."""
    return _("When %(scope)s have %(condition)s, %(action)s.") % {
        "scope": scope_words(rule),
        "condition": condition_words(rule),
        "action": action_words(rule),
    }


def next_review_at(rule: RedistributionRule) -> datetime | None:
    """When the periodic job reviews it next (None: at its next run, the rule has never been reviewed)."""
    if rule.last_review_at is None:
        return None
    return rule.last_review_at + INTERVALS[RuleSchedule(rule.schedule)]


def rules_applying_to(user: User) -> list[RedistributionRule]:
    """The rules in use that apply to the user's clients (company-wide or of their team), by name; one query."""
    return list(
        access.redistribution_rules_visible_to(user).filter(is_active=True).select_related("team", "pipeline", "tag")
    )


# ---- Transparency: how long before a rule would move a client -----------------------------------


@dataclass(frozen=True)
class Countdown:
    rule: RedistributionRule
    days: int  # before the rule would move the client; 0: its next review would
    since: datetime  # the last logged contact, or when the client was entered


def days_before_move(
    clients: Sequence[Company | Contact],
    *,
    now: datetime | None = None,
    rules: Sequence[RedistributionRule] | None = None,
) -> dict[tuple[str, int], list[Countdown]]:
    """For each client, keyed (kind, id), the rules in use on staleness whose scope holds it, with the days left
    before a review would move it: the rule's days less the days since its last logged contact, 0 when due;
    nearest first. A client a rule could not move (with an open deal, for a rule that wants none) has no entry
    for it.

    At most six queries whatever the number of clients: the rules (none when the caller has read them:
    ``rules``, of which the stale ones in use count) and — only when a rule asks — the owners' teams (none
    when the clients came with their owners), the clients' tags and open deals per kind.
    """
    now = now or timezone.now()
    owned = [client for client in clients if client.owner_id and client.status != ClientStatus.POOL]
    if not owned:
        return {}
    if rules is None:
        rules = list(RedistributionRule.objects.filter(is_active=True, condition=RuleCondition.STALE))
    rules = [rule for rule in rules if rule.is_active and rule.condition == RuleCondition.STALE]
    if not rules:
        return {}
    teams = _owner_teams(owned, rules)
    ids: dict[str, list[int]] = defaultdict(list)
    for client in owned:
        ids[client.kind].append(client.pk)
    tags: dict[tuple[str, int], set[int]] = defaultdict(set)
    pipelines: dict[tuple[str, int], set[int]] = defaultdict(set)
    wanted_tags = {rule.tag_id for rule in rules if rule.tag_id is not None}
    asks_deals = any(rule.without_open_deal or rule.pipeline_id is not None for rule in rules)
    for kind, pks in ids.items():
        model = Company if kind == "company" else Contact
        if wanted_tags:
            through = model.tags.through.objects.filter(**{f"{kind}_id__in": pks}, tag_id__in=wanted_tags)
            for pk, tag_id in through.values_list(f"{kind}_id", "tag_id"):
                tags[kind, pk].add(tag_id)
        if asks_deals:
            for pk, pipeline_id in (
                Deal.objects.open().filter(**{f"{kind}_id__in": pks}).values_list(f"{kind}_id", "pipeline_id")
            ):
                pipelines[kind, pk].add(pipeline_id)
    found: dict[tuple[str, int], list[Countdown]] = {}
    for client in owned:
        key = (client.kind, client.pk)
        since = client.last_contact_at or client.created_at
        elapsed = (now - since).days
        countdowns = [
            Countdown(rule, max(0, (rule.days or 0) - elapsed), since)
            for rule in rules
            if _holds(rule, client, teams.get(client.owner_id or 0), tags[key], pipelines[key])
        ]
        if countdowns:
            found[key] = sorted(countdowns, key=lambda countdown: (countdown.days, countdown.rule.name))
    return found


def _owner_teams(owned: Sequence[Company | Contact], rules: Sequence[RedistributionRule]) -> dict[int, int | None]:
    """The owners' teams, when a rule is of one team: from the owners read with the clients, else one query."""
    if all(rule.team_id is None for rule in rules):
        return {}
    teams = {
        client.owner.pk: client.owner.team_id
        for client in owned
        if "owner" in client._state.fields_cache and client.owner is not None
    }
    missing = {client.owner_id for client in owned if client.owner_id is not None} - set(teams)
    if missing:
        teams.update(User.objects.filter(pk__in=missing).values_list("pk", "team_id"))
    return teams


def _holds(
    rule: RedistributionRule, client: Company | Contact, team_id: int | None, tags: set[int], pipelines: set[int]
) -> bool:
    """Whether the rule's scope holds the client and nothing but time keeps the rule from moving it."""
    return (
        (rule.team_id is None or rule.team_id == team_id)
        and (not rule.client_status or rule.client_status == client.status)
        and (rule.tag_id is None or rule.tag_id in tags)
        and (rule.pipeline_id is None or rule.pipeline_id in pipelines)
        and not (rule.without_open_deal and pipelines)
    )


def pending_moves(client: Company | Contact) -> list[ProposalLine]:
    """The client's lines on proposals awaiting a decision, with their rule and recipient; one query."""
    return list(
        ProposalLine.objects.filter(**{client.kind: client}, proposal__status=ProposalStatus.OPEN)
        .select_related("proposal__rule", "to_user")
        .order_by("pk")
    )


# ---- Checking and saving ---------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value: Any, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high`` given as a number or as text; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            return None
    return number if low <= number <= high else None


def _choice(value: Any, model: type[Team] | type[Pipeline] | type[Tag]) -> tuple[int | None, bool]:
    """(id, found) of a team, pipeline or tag given by its id; (None, True) when none is given."""
    if _empty(value):
        return None, True
    pk = _whole(value, 1, 2**63 - 1)
    if pk is None or not model.objects.filter(pk=pk).exists():
        return None, False
    return pk, True


def _checked(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The rule's fields as stored, and what is wrong with them by field."""
    errors: dict[str, str] = {}
    terms: dict[str, Any] = {}

    name = " ".join(str(fields["name"] or "").split())
    if not name:
        errors["name"] = _("Give the rule a name.")
    elif len(name) > NAME_LENGTH:
        errors["name"] = _("A name has at most %(count)d characters.") % {"count": NAME_LENGTH}
    terms["name"] = name

    condition = fields["condition"] or ""
    terms["condition"], terms["days"], terms["missed_callbacks"] = condition, None, None
    if condition not in RuleCondition.values:
        errors["condition"] = _(
            "A rule needs a condition: choose when a client counts as neglected (no logged contact for a number "
            "of days, or callbacks missed)."
        )
    elif condition == RuleCondition.STALE:
        # The other condition's figure is dropped, not refused: the form shows both.
        terms["days"] = _whole(fields["days"], 1, MAX_DAYS)
        if _empty(fields["days"]):
            errors["days"] = _("Give the number of days without a logged contact.")
        elif terms["days"] is None:
            errors["days"] = _("Give a whole number of days from 1 to %(max)s.") % {"max": f"{MAX_DAYS:,}"}
    else:
        terms["missed_callbacks"] = _whole(fields["missed_callbacks"], 1, MAX_CALLBACKS)
        if _empty(fields["missed_callbacks"]):
            errors["missed_callbacks"] = _("Give how many missed callbacks move a client.")
        elif terms["missed_callbacks"] is None:
            errors["missed_callbacks"] = _("Give a whole number from 1 to %(max)d.") % {"max": MAX_CALLBACKS}
    terms["without_open_deal"] = bool(fields["without_open_deal"])

    action = fields["action"] or ""
    if action not in RuleAction.values:
        errors["action"] = _("Choose where the clients go: the pool, in turn within the team, or the least loaded.")
    terms["action"] = action

    for field, model, refusal in (
        ("team", Team, _("Choose one of the teams, or none for every team.")),
        ("pipeline", Pipeline, _("Choose one of the pipelines, or none.")),
        ("tag", Tag, _("Choose one of the tags, or none.")),
    ):
        pk, found = _choice(fields[field], model)
        if not found:
            errors[field] = refusal
        terms[f"{field}_id"] = pk
    if terms["pipeline_id"] is not None and terms["without_open_deal"] and "pipeline" not in errors:
        errors["without_open_deal"] = _(
            "This rule looks only at clients with an open deal in the pipeline, so “and no open deal” would never "
            "find one: uncheck it, or choose no pipeline."
        )

    status = fields["client_status"] or ""
    if status and status not in STATUSES:
        errors["client_status"] = _("Choose active, frozen, or any status.")
    terms["client_status"] = status

    schedule = fields["schedule"] or ""
    if schedule not in RuleSchedule.values:
        errors["schedule"] = _("Choose how often the rule reviews: every day, every week or every two weeks.")
    terms["schedule"] = schedule
    mode = fields["mode"] or ""
    if mode not in RuleMode.values:
        errors["mode"] = _("Choose whether a head approves the moves or they are applied at once.")
    terms["mode"] = mode
    terms["is_active"] = bool(fields["is_active"])
    return terms, errors


@transaction.atomic
def rule_save(
    *,
    by: User,
    name: str,
    condition: str,
    action: str,
    days: int | str | None = None,
    without_open_deal: bool = True,
    missed_callbacks: int | str | None = None,
    team: int | str | None = None,
    pipeline: int | str | None = None,
    client_status: str = "",
    tag: int | str | None = None,
    schedule: str = RuleSchedule.WEEKLY,
    mode: str = RuleMode.APPROVAL,
    is_active: bool = True,
    rule: RedistributionRule | None = None,
    seen: datetime | None = None,
) -> RedistributionRule:
    """Create a rule (``rule``: change that one) — admins only. ``team``, ``pipeline`` and ``tag`` are ids.

    Refused by field: no name; no condition, or a condition without its figure (days from 1 to
    3,650, callbacks from 1 to 100); no action, schedule or mode among the choices; a team,
    pipeline or tag that does not exist; a pipeline with "and no open deal" (it could never
    match). A change to a rule saved by someone else since ``seen`` (its ``updated_at`` when the
    form was drawn) is refused as stale.
    """
    if not access.can_configure_redistribution(by):
        raise PermissionDenied
    current: RedistributionRule | None = None
    if rule is not None:
        current = RedistributionRule.objects.select_for_update().filter(pk=rule.pk).first()
        if current is None:
            raise ValidationError(_("This rule was deleted meanwhile."), code="gone")
        if seen is not None and current.updated_at != seen:
            raise ValidationError(
                _("Someone changed this rule since you opened it: reload it to see their change, then make yours."),
                code="stale",
            )
    terms, errors = _checked(
        {
            "name": name,
            "condition": condition,
            "days": days,
            "without_open_deal": without_open_deal,
            "missed_callbacks": missed_callbacks,
            "action": action,
            "team": team,
            "pipeline": pipeline,
            "client_status": client_status,
            "tag": tag,
            "schedule": schedule,
            "mode": mode,
            "is_active": is_active,
        }
    )
    if errors:
        raise ValidationError(errors)
    if current is None:
        return RedistributionRule.objects.create(**terms, created_by=by)
    for field, value in terms.items():
        setattr(current, field, value)
    current.save(update_fields=[*terms, "updated_at"])
    return current


def rule_draft(**fields: Any) -> RedistributionRule:
    """An unsaved rule from a form's or a request's fields, checked as ``rule_save`` checks them: what a dry run
    of a rule being written reviews. Refused by field like ``rule_save``."""
    terms, errors = _checked({field: fields.get(field) for field in FIELDS})
    if errors:
        raise ValidationError(errors)
    return RedistributionRule(**terms)


@transaction.atomic
def rule_delete(*, by: User, rule: RedistributionRule) -> None:
    """Delete a rule that never made a proposal — admins only; one that did is taken out of use instead."""
    if not access.can_configure_redistribution(by):
        raise PermissionDenied
    current = RedistributionRule.objects.select_for_update().filter(pk=rule.pk).first()
    if current is None:
        return
    if Proposal.objects.filter(rule=current).exists():
        raise ValidationError(
            _("“%(name)s” has made proposals, which say what it did: take it out of use instead of deleting it.")
            % {"name": current.name},
            code="used",
        )
    current.delete()

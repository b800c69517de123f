"""Reviews of redistribution rules: which clients a rule would move, where and why — and applying that.

A review is set-based, so a rule over 200k clients takes a handful of queries, never one per
client: the candidates of each client kind in one query (scope and condition in SQL, the most
neglected first, at most ``LINES_PER_REVIEW``, with the count of all as a window); the owners and
their teammates in two; for the least-loaded action each teammate's load in three grouped queries; for the turn
(round-robin) where the rule's last review stopped, in one.

- Stale: no logged contact (``last_contact_at``) for the rule's days — a client never contacted
  counts from when it was entered.
- Missed callbacks: the owner's callbacks on the client (planned calls that follow up an earlier
  call, as "my day" lists them) still planned after the day they were due — the ones "my day"
  shows as overdue. A cancelled callback is a decision someone logged, not a missed one.
- "And no open deal": no deal of the client that is neither closed nor deleted.

Destinations: the pool; in turn, the other managers of the owner's team by id, continuing after the
last person this rule proposed in that team (its latest stored line — a dry run stores none, so it
shows what the real review would do); or the least loaded of them, by planned activities per client
owned — each client given counting as the busiest teammate's work per client plus the call it is owed,
so the receiver's load rises and one review does not pile every client on one person. A client whose
owner has no teammate to receive it is left (counted).

A client already on an open proposal is never proposed again until that one is decided. A real
review stores one proposal per team of the owners (its head decides it) in one transaction; in
automatic mode it applies them at once. Applying re-checks each line under lock: a client whose
owner changed, or that no longer meets the rule (contacted since), stays where it is.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.accounts import access
from rapport.accounts.models import Role, Team, User
from rapport.activities.models import Activity, ActivityKind
from rapport.clients import services as client_services
from rapport.clients.models import ClientStatus, Company, Contact
from rapport.core import demo
from rapport.core.notifications import Draft, notify_each
from rapport.sales.models import Deal
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
from rapport.supervision.rules import next_review_at

logger = logging.getLogger(__name__)

# A review proposes at most this many moves, the most neglected first; the rest come up at the next one.
# A head reads and approves a proposal on one page, and a first review can find thousands.
LINES_PER_REVIEW = 500
# The periodic job reviews a rule a little early rather than a whole interval late.
SCHEDULE_SLACK = timedelta(hours=1)
# The clients named in one notification; the rest are counted.
NOTIFIED_NAMES = 10
# Who receives clients a rule reassigns.
RECIPIENTS = Role.MANAGER
KINDS: dict[str, type[Company] | type[Contact]] = {"company": Company, "contact": Contact}
NAME_FIELDS = {"company": ("name",), "contact": ("last_name", "first_name", "middle_name")}


@dataclass(frozen=True)
class Candidate:
    kind: str
    client_id: int
    name: str
    owner_id: int
    reason: str
    rank: tuple[Any, ...]  # most neglected first


@dataclass(frozen=True)
class LineDraft:
    """A move a review proposes, before (or without) being stored."""

    kind: str
    client_id: int
    client_name: str
    from_user: User
    to_user: User | None  # None: the pool
    reason: str


@dataclass
class Review:
    rule: RedistributionRule
    at: datetime
    lines: list[LineDraft]
    matched: int  # clients meeting the rule now (not on an open proposal)
    left: int  # of the proposed ones, with nobody in the owner's team to receive them
    proposals: list[Proposal] = field(default_factory=list)  # stored (none on a dry run)
    moved: int = 0  # applied at once (automatic mode)

    @property
    def later(self) -> int:
        """Clients meeting the rule beyond this review's cap: the next review takes them up."""
        return max(0, self.matched - LINES_PER_REVIEW)


# ---- Candidates ------------------------------------------------------------------------------------


def _days(count: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def _scope(kind: str, rule: RedistributionRule, *, on_open_proposals: bool = False) -> QuerySet[Any]:
    """The clients of a kind the rule looks at: owned, not in the pool or the trash, within its scope, and (unless
    ``on_open_proposals``) not already on an open proposal."""
    model = KINDS[kind]
    clients = model.objects.alive().filter(owner__isnull=False).exclude(status=ClientStatus.POOL)
    if rule.team_id is not None:
        clients = clients.filter(owner_id__in=User.objects.filter(team_id=rule.team_id).values("pk"))
    if rule.client_status:
        clients = clients.filter(status=rule.client_status)
    if rule.tag_id is not None:
        tagged = model.tags.through.objects.filter(**{f"{kind}_id": OuterRef("pk")}, tag_id=rule.tag_id)
        clients = clients.filter(Exists(tagged))
    if rule.pipeline_id is not None:
        clients = clients.filter(
            Exists(Deal.objects.open().filter(**{kind: OuterRef("pk")}, pipeline_id=rule.pipeline_id))
        )
    if rule.without_open_deal:
        clients = clients.exclude(Exists(Deal.objects.open().filter(**{kind: OuterRef("pk")})))
    if not on_open_proposals:
        proposed = ProposalLine.objects.filter(**{kind: OuterRef("pk")}, proposal__status=ProposalStatus.OPEN)
        clients = clients.exclude(Exists(proposed))
    return clients


def _stale_since(rule: RedistributionRule, now: datetime) -> Q:
    cutoff = now - timedelta(days=rule.days or 0)
    return Q(last_contact_at__lt=cutoff) | Q(last_contact_at__isnull=True, created_at__lt=cutoff)


def _name(kind: str, parts: Sequence[str]) -> str:
    return " ".join(part for part in parts if part)


def _no_deal(rule: RedistributionRule, words: str) -> str:
    return _("%(reason)s, no open deal") % {"reason": words} if rule.without_open_deal else words


def _stale(kind: str, rule: RedistributionRule, now: datetime) -> tuple[list[Candidate], int]:
    """The most neglected stale clients of a kind (at most LINES_PER_REVIEW) and how many there are, in one query:
    the count is a window over every match, so the clients are read once (the sort needs them all anyway)."""
    rows = (
        _scope(kind, rule)
        .filter(_stale_since(rule, now))
        .annotate(since=Coalesce("last_contact_at", "created_at"), matched=Window(Count("pk")))
        .order_by("since", "pk")
        .values_list("pk", "owner_id", "since", "last_contact_at", "matched", *NAME_FIELDS[kind])[:LINES_PER_REVIEW]
    )
    found, count = [], 0
    for pk, owner_id, since, last_contact, matched, *name in rows:
        count = matched
        days = (now - since).days
        if last_contact is None:
            words = _("No logged contact since it was entered %(days)s ago") % {"days": _days(days)}
        else:
            words = _("No logged contact for %(days)s") % {"days": _days(days)}
        found.append(Candidate(kind, pk, _name(kind, name), owner_id, _no_deal(rule, words), (since, kind, pk)))
    return found, count


def _missed_callbacks(kind: str, now: datetime) -> QuerySet[Activity]:
    """The overdue callbacks of clients of a kind: a company's own (no contact person named), a contact's."""
    start_of_today = datetime.combine(timezone.localtime(now).date(), time.min, timezone.get_current_timezone())
    own = {"contact__isnull": False} if kind == "contact" else {"company__isnull": False, "contact__isnull": True}
    return Activity.objects.planned().filter(
        kind=ActivityKind.CALL, follow_up_of__isnull=False, due_at__lt=start_of_today, **own
    )


def _missing(kind: str, rule: RedistributionRule, now: datetime, *, on_open_proposals: bool = False) -> list[Candidate]:
    """Clients of a kind whose owner missed at least the rule's number of callbacks on them, most missed first.

    Two queries: the missed callbacks grouped by client and owner (planned ones are a few percent of all
    activities, served by their partial indexes), then the clients in scope among them.
    """
    least = rule.missed_callbacks or 1
    column = f"{kind}_id"
    missed = _missed_callbacks(kind, now).order_by()
    counts = {
        (client_id, owner_id): number
        for client_id, owner_id, number in missed.values(column, "owner_id")
        .annotate(number=Count("pk"))
        .filter(number__gte=least)
        .values_list(column, "owner_id", "number")
    }
    if not counts:
        return []
    ids = missed.values(column).annotate(number=Count("pk")).filter(number__gte=least).values(column)
    rows = (
        _scope(kind, rule, on_open_proposals=on_open_proposals)
        .filter(pk__in=Subquery(ids))
        .values_list("pk", "owner_id", *NAME_FIELDS[kind])
    )
    found = []
    for pk, owner_id, *name in rows:
        number = counts.get((pk, owner_id))
        if number is None:  # callbacks of someone else than the owner
            continue
        words = ngettext("%(count)d callback missed", "%(count)d callbacks missed", number) % {"count": number}
        found.append(Candidate(kind, pk, _name(kind, name), owner_id, _no_deal(rule, words), (-number, kind, pk)))
    return found


def candidates(rule: RedistributionRule, now: datetime) -> tuple[list[Candidate], int]:
    """The clients the rule would move now, the most neglected first (at most LINES_PER_REVIEW), and how many
    meet it in all."""
    found: list[Candidate] = []
    matched = 0
    for kind in KINDS:
        if rule.condition == RuleCondition.STALE:
            some, count = _stale(kind, rule, now)
        else:
            some = _missing(kind, rule, now)
            count = len(some)
        found += some
        matched += count
    found.sort(key=lambda candidate: candidate.rank)
    return found[:LINES_PER_REVIEW], matched


# ---- Destinations ----------------------------------------------------------------------------------


def _number(value: float) -> str:
    return formats.number_format(round(value, 2), decimal_pos=2, use_l10n=True)


def _last_turns(rule: RedistributionRule) -> dict[int, int]:
    """Team id → the person this rule last proposed in that team (its latest stored line there); one query."""
    if rule.pk is None:
        return {}
    latest = (
        ProposalLine.objects.filter(proposal__rule_id=rule.pk, to_user__isnull=False)
        .order_by()
        .values("to_user__team_id")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return {
        team_id: user_id
        for team_id, user_id in ProposalLine.objects.filter(pk__in=Subquery(latest)).values_list(
            "to_user__team_id", "to_user_id"
        )
        if team_id is not None
    }


@dataclass
class Load:
    planned: float
    clients: int

    @property
    def per_client(self) -> float:
        return self.planned / max(self.clients, 1)


def _loads(members: Iterable[User]) -> dict[int, Load]:
    """Each person's planned activities and clients owned: three grouped queries."""
    ids = [member.pk for member in members]
    planned = dict(
        Activity.objects.planned()
        .filter(owner_id__in=ids)
        .order_by()
        .values("owner_id")
        .annotate(number=Count("pk"))
        .values_list("owner_id", "number")
    )
    owned: dict[int, int] = defaultdict(int)
    for model in KINDS.values():
        for owner_id, number in (
            model.objects.alive()
            .filter(owner_id__in=ids)
            .order_by()
            .values("owner_id")
            .annotate(number=Count("pk"))
            .values_list("owner_id", "number")
        ):
            owned[owner_id] += number
    return {pk: Load(float(planned.get(pk, 0)), owned[pk]) for pk in ids}


def _destinations(rule: RedistributionRule, found: list[Candidate]) -> tuple[list[LineDraft], int]:
    """Where each candidate goes; the lines and how many were left with nobody to receive them."""
    owners = User.objects.in_bulk({candidate.owner_id for candidate in found})
    if rule.action == RuleAction.POOL:
        lines = [LineDraft(c.kind, c.client_id, c.name, owners[c.owner_id], None, c.reason) for c in found]
        return lines, 0
    teams = {owner.team_id for owner in owners.values() if owner.team_id is not None}
    members: dict[int, list[User]] = defaultdict(list)
    for member in User.objects.filter(team_id__in=teams, is_active=True, role=RECIPIENTS).order_by("pk"):
        members[member.team_id or 0].append(member)
    if rule.action == RuleAction.ROUND_ROBIN:
        return _in_turn(rule, found, owners, members)
    return _least_loaded(found, owners, members)


def _in_turn(
    rule: RedistributionRule, found: list[Candidate], owners: dict[int, User], members: dict[int, list[User]]
) -> tuple[list[LineDraft], int]:
    last = _last_turns(rule)
    lines, left = [], 0
    for candidate in found:
        owner = owners[candidate.owner_id]
        team = members.get(owner.team_id or 0, []) if owner.team_id is not None else []
        others = [member for member in team if member.pk != owner.pk]
        if not others:
            left += 1
            continue
        after = last.get(owner.team_id or 0, 0)
        chosen = next((member for member in others if member.pk > after), others[0])
        last[owner.team_id or 0] = chosen.pk
        reason = _("%(reason)s; next in turn in the team") % {"reason": candidate.reason}
        lines.append(LineDraft(candidate.kind, candidate.client_id, candidate.name, owner, chosen, reason))
    return lines, left


def _least_loaded(
    found: list[Candidate], owners: dict[int, User], members: dict[int, list[User]]
) -> tuple[list[LineDraft], int]:
    loads = _loads(member for team in members.values() for member in team)
    # What a client given adds to its receiver's load: the busiest teammate's work per client plus the call
    # it is owed — more than anyone's load, so the receiver's load rises with each and a big review spreads.
    weight = {team: 1 + max(loads[member.pk].per_client for member in people) for team, people in members.items()}
    lines, left = [], 0
    for candidate in found:
        owner = owners[candidate.owner_id]
        team_id = owner.team_id
        others = [member for member in members.get(team_id or 0, []) if member.pk != owner.pk] if team_id else []
        if not others:
            left += 1
            continue
        chosen = min(others, key=lambda member: (loads[member.pk].per_client, member.pk))
        load = loads[chosen.pk]
        reason = _("%(reason)s; least loaded in the team (%(load)s open activities per client)") % {
            "reason": candidate.reason,
            "load": _number(load.per_client),
        }
        load.planned += weight[team_id or 0]
        load.clients += 1
        lines.append(LineDraft(candidate.kind, candidate.client_id, candidate.name, owner, chosen, reason))
    return lines, left


# ---- Reviewing ---------------------------------------------------------------------------------------


def review(rule: RedistributionRule, *, now: datetime | None = None, dry_run: bool = True) -> Review:
    """Review a rule: the moves it proposes now. A dry run stores nothing; a real one stores a proposal per team
    (in approval mode their heads are told; in automatic mode they are applied at once), all or nothing."""
    now = now or timezone.now()
    if dry_run:
        return _reviewed(rule, now)
    with transaction.atomic():
        # One review of a rule at a time: a second waits, then finds the first one's clients on its proposals.
        locked = RedistributionRule.objects.select_for_update().get(pk=rule.pk)
        result = _reviewed(locked, now)
        stored = _stored(locked, result.lines)
        result.proposals = [one.proposal for one in stored]
        locked.last_review_at = now
        locked.save(update_fields=["last_review_at", "updated_at"])
        if locked.mode == RuleMode.AUTOMATIC:
            for proposal in result.proposals:
                result.moved += _apply(proposal, locked, by=None, excluded=set(), now=now)
        else:
            _tell_heads(locked, stored)
    return result


def _reviewed(rule: RedistributionRule, now: datetime) -> Review:
    found, matched = candidates(rule, now)
    lines, left = _destinations(rule, found)
    return Review(rule=rule, at=now, lines=lines, matched=matched, left=left)


@dataclass(frozen=True)
class Stored:
    proposal: Proposal
    team_id: int | None  # of the owners of its clients
    lines: int


def _stored(rule: RedistributionRule, lines: list[LineDraft]) -> list[Stored]:
    """One proposal per team of the owners, with its lines."""
    by_team: dict[int | None, list[LineDraft]] = defaultdict(list)
    for line in lines:
        by_team[line.from_user.team_id].append(line)
    stored = []
    for team_id, team_lines in by_team.items():
        proposal = Proposal.objects.create(rule=rule)
        ProposalLine.objects.bulk_create(
            ProposalLine(
                proposal=proposal,
                **{f"{line.kind}_id": line.client_id},
                from_user=line.from_user,
                to_user=line.to_user,
                reason=line.reason[:300],
            )
            for line in team_lines
        )
        stored.append(Stored(proposal, team_id, len(team_lines)))
    return stored


def _tell_heads(rule: RedistributionRule, stored: list[Stored]) -> None:
    """Each team's head learns that a proposal awaits them (a team without a head: admins find it in the list)."""
    heads = {
        team.pk: team.head for team in Team.objects.filter(pk__in=[s.team_id for s in stored]).select_related("head")
    }
    drafts = []
    for one in stored:
        head = heads.get(one.team_id or 0)
        if head is None:
            continue
        with translation.override(head.language_or_default):
            drafts.append(
                Draft(
                    recipient=head,
                    title=ngettext(
                        "%(count)d client proposed for a move by “%(rule)s”",
                        "%(count)d clients proposed for a move by “%(rule)s”",
                        one.lines,
                    )
                    % {"count": one.lines, "rule": rule.name},
                    body=_("Approve the moves, or exclude the clients that should stay."),
                    url=reverse("supervision:proposal", args=[one.proposal.pk]),
                )
            )
    notify_each(drafts)


def due_reviews(now: datetime | None = None) -> list[Review]:
    """The periodic job: review every rule in use whose schedule is due (never reviewed, or its interval passed).

    Each rule is reviewed in its own transaction: one that fails is logged and the others go on.
    """
    now = now or timezone.now()
    done = []
    for rule in RedistributionRule.objects.filter(is_active=True).order_by("pk"):
        due = next_review_at(rule)
        if due is not None and due - SCHEDULE_SLACK > now:
            continue
        try:
            done.append(review(rule, now=now, dry_run=False))
        except Exception:
            logger.exception("The review of redistribution rule %s failed; nothing of it was applied", rule.pk)
    return done


# ---- Deciding and applying -------------------------------------------------------------------------


def _client_key(line: ProposalLine) -> tuple[str, int]:
    return ("company", line.company_id) if line.company_id else ("contact", line.contact_id or 0)


def _still_meeting(rule: RedistributionRule, lines: list[ProposalLine], now: datetime) -> set[tuple[str, int, int]]:
    """(kind, client, owner) of the lines' clients that still meet the rule now, locked until the end of the
    transaction; a query or two per kind."""
    ids: dict[str, list[int]] = defaultdict(list)
    for line in lines:
        kind, pk = _client_key(line)
        ids[kind].append(pk)
    meeting = set()
    for kind, pks in ids.items():
        list(KINDS[kind].objects.select_for_update().filter(pk__in=sorted(pks)).order_by("pk").values_list("pk"))
        if rule.condition == RuleCondition.STALE:
            rows = (
                _scope(kind, rule, on_open_proposals=True)
                .filter(_stale_since(rule, now), pk__in=pks)
                .values_list("pk", "owner_id")
            )
            meeting |= {(kind, pk, owner_id) for pk, owner_id in rows}
        else:
            wanted = set(pks)
            meeting |= {
                (kind, c.client_id, c.owner_id)
                for c in _missing(kind, rule, now, on_open_proposals=True)
                if c.client_id in wanted
            }
    return meeting


def _apply(proposal: Proposal, rule: RedistributionRule, *, by: User | None, excluded: set[int], now: datetime) -> int:
    """Move the clients of the proposal's lines but the excluded ones, tell their old and new owners, close the
    proposal; how many moved. Inside the caller's transaction."""
    lines = list(
        proposal.lines.select_related("from_user", "to_user", "company__owner", "contact__owner").order_by("pk")
    )
    meeting = _still_meeting(rule, [line for line in lines if line.pk not in excluded], now)
    moved = []
    for line in lines:
        line.excluded = line.pk in excluded
        kind, pk = _client_key(line)
        if line.excluded or (kind, pk, line.from_user_id) not in meeting:
            continue
        client = line.company or line.contact
        assert client is not None
        line.transfer = client_services.client_move_by_rule(
            by=by,
            client=client,
            to_user=line.to_user,
            reason=_("Rule “%(rule)s”: %(reason)s") % {"rule": rule.name, "reason": line.reason},
            rule=rule.name,
            approved_by=by,
            team_id=rule.team_id,
        )
        moved.append(line)
    ProposalLine.objects.bulk_update(lines, ["excluded", "transfer"])
    proposal.status = ProposalStatus.APPLIED if len(excluded) < len(lines) else ProposalStatus.DISMISSED
    proposal.decided_by, proposal.decided_at = by, now
    proposal.version += 1
    proposal.save(update_fields=["status", "decided_by", "decided_at", "version"])
    _tell_owners(rule, moved, by)
    return len(moved)


def proposal_decide(*, by: User, proposal: Proposal, excluded_line_ids: Iterable[int], seen_version: int) -> Proposal:
    """Approve a proposal as the head saw it (``seen_version``), but the lines excluded: those clients stay.

    Heads decide their team's proposals, admins any (PermissionDenied otherwise). Refused: a proposal
    already decided ("already approved by …", code "approved"), one changed since it was read (code
    "stale"), a line that is not the proposal's, a move to someone no longer in the team. All or nothing.
    Excluding every line dismisses the proposal.
    """
    if not access.can_decide_proposal(by, proposal):
        raise PermissionDenied
    excluded = set(excluded_line_ids)
    now = timezone.now()
    with transaction.atomic():
        current = Proposal.objects.select_for_update().filter(pk=proposal.pk).first()
        if current is None:
            raise ValidationError(_("This proposal was deleted with its rule."), code="gone")
        if current.status != ProposalStatus.OPEN:
            raise ValidationError(_decided_already(current), code="approved")
        if current.version != seen_version:
            raise ValidationError(
                _("This proposal changed since you opened it: reload it and decide again."), code="stale"
            )
        strangers = excluded - set(current.lines.values_list("pk", flat=True))
        if strangers:
            raise ValidationError(
                {
                    "excluded": _("These lines are not in this proposal: %(ids)s.")
                    % {"ids": ", ".join(str(pk) for pk in sorted(strangers))}
                }
            )
        rule = RedistributionRule.objects.get(pk=current.rule_id)
        _apply(current, rule, by=by, excluded=excluded, now=now)
    return current


def _decided_already(proposal: Proposal) -> str:
    who = proposal.decided_by.display_name if proposal.decided_by else _("Rapport (automatic mode)")
    when = (
        formats.date_format(timezone.localtime(proposal.decided_at), "SHORT_DATETIME_FORMAT")
        if proposal.decided_at
        else ""
    )
    if proposal.status == ProposalStatus.DISMISSED:
        return _("This proposal was already dismissed by %(who)s at %(when)s.") % {"who": who, "when": when}
    return _("This proposal was already approved by %(who)s at %(when)s.") % {"who": who, "when": when}


# ---- Telling the owners ----------------------------------------------------------------------------


def _where(line: ProposalLine) -> str:
    if line.to_user is None:
        return _("to the shared pool")
    return _("to %(name)s") % {"name": line.to_user.display_name}


def _line_words(line: ProposalLine, *, leaving: bool) -> str:
    client = line.company or line.contact
    name = client.display_name if client else ""
    if leaving:
        return _("%(client)s, %(where)s: %(reason)s") % {"client": name, "where": _where(line), "reason": line.reason}
    owner = line.from_user.display_name if line.from_user else ""
    return _("%(client)s, from %(owner)s: %(reason)s") % {"client": name, "owner": owner, "reason": line.reason}


def _approval(by: User | None) -> str:
    if by is None:
        return _("Applied automatically.")
    return _("Approved by %(name)s.") % {"name": by.display_name}


def _told(
    person: User, rule: RedistributionRule, lines: list[ProposalLine], by: User | None, *, leaving: bool
) -> Draft:
    """One notification to one person about the clients that left them (``leaving``) or came to them."""
    first = lines[0]
    client = first.company or first.contact
    assert client is not None
    with translation.override(person.language_or_default):
        if len(lines) == 1:
            if leaving:
                title = _("“%(client)s” moved %(where)s") % {"client": client.display_name, "where": _where(first)}
            else:
                title = _("“%(client)s” is now yours") % {"client": client.display_name}
            body = _("By the rule “%(rule)s”: %(reason)s. %(approval)s") % {
                "rule": rule.name,
                "reason": first.reason,
                "approval": _approval(by),
            }
            if not leaving and first.from_user:
                body = _("From %(owner)s. %(rest)s") % {"owner": first.from_user.display_name, "rest": body}
        else:
            count = len(lines)
            title = (
                ngettext(
                    "%(count)d client moved away from you by “%(rule)s”",
                    "%(count)d clients moved away from you by “%(rule)s”",
                    count,
                )
                if leaving
                else ngettext(
                    "%(count)d client came to you by “%(rule)s”", "%(count)d clients came to you by “%(rule)s”", count
                )
            ) % {"count": count, "rule": rule.name}
            named = [_line_words(line, leaving=leaving) for line in lines[:NOTIFIED_NAMES]]
            if count > NOTIFIED_NAMES:
                named.append(_("and %(count)d more.") % {"count": count - NOTIFIED_NAMES})
            body = "\n".join([*named, _approval(by)])
    # Who sees the client now: its new owner, and everyone when it went to the pool.
    if len(lines) == 1 and (not leaving or first.to_user is None):
        url = client.get_absolute_url()
    elif leaving:
        url = reverse("supervision:my-rules")
    else:
        url = reverse("clients:company-list" if first.company_id else "clients:contact-list") + "?owner=me"
    return Draft(recipient=person, title=title, body=body, url=url)


def _tell_owners(rule: RedistributionRule, moved: list[ProposalLine], by: User | None) -> None:
    """The old owners learn why their clients left, the new ones what came to them: one notification each."""
    left: dict[int, list[ProposalLine]] = defaultdict(list)
    came: dict[int, list[ProposalLine]] = defaultdict(list)
    people: dict[int, User] = {}
    for line in moved:
        if line.from_user is not None:
            left[line.from_user.pk].append(line)
            people[line.from_user.pk] = line.from_user
        if line.to_user is not None:
            came[line.to_user.pk].append(line)
            people[line.to_user.pk] = line.to_user
    drafts = [_told(people[pk], rule, lines, by, leaving=True) for pk, lines in left.items()]
    drafts += [_told(people[pk], rule, lines, by, leaving=False) for pk, lines in came.items()]
    notify_each(drafts)


# ---- Demo ------------------------------------------------------------------------------------------


def load_demo(context: demo.DemoContext) -> None:
    """One rule, "Stale clients to the pool" (30 days, no open deal, weekly, approval), for the demo manager's
    team, and the open proposal of a real review of it — with at least one of the manager's own clients:
    their most neglected company (no open deal) is made 400 days stale first."""
    manager = next((user for user in context.managers if user.username == "manager"), None)
    if manager is None or manager.team_id is None:
        return
    now = timezone.now()
    company = (
        Company.objects.alive()
        .filter(owner=manager)
        .exclude(status=ClientStatus.POOL)
        .exclude(Exists(Deal.objects.open().filter(company=OuterRef("pk"))))
        .order_by(Coalesce("last_contact_at", "created_at"), "pk")
        .first()
    )
    if company is not None:
        Company.objects.filter(pk=company.pk).update(last_contact_at=now - timedelta(days=400))
    rule = RedistributionRule.objects.create(
        name=_("Stale clients to the pool"),
        team_id=manager.team_id,
        condition=RuleCondition.STALE,
        days=30,
        without_open_deal=True,
        action=RuleAction.POOL,
        schedule=RuleSchedule.WEEKLY,
        mode=RuleMode.APPROVAL,
        created_by=User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True)).order_by("pk").first(),
    )
    result = review(rule, now=now, dry_run=False)
    context.log(f"  redistribution: rule “{rule.name}”, {len(result.lines)} clients proposed for the pool")

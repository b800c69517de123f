"""The shared pool: the list every manager reads, claims within the weekly limit admins set, and the demo's pool.

``pool_claim`` is the one way a client leaves the pool for a manager (the pool page, the client's
card and the API all call it). The first claim wins, however many arrive at once: each claim
locks the claimer's row (so one person's claims count one after another against the limit), then
the client's (``client_take_from_pool``), and a claim that finds the client gone is refused,
saying who has it since when. On SQLite every write transaction starts IMMEDIATE, which
serializes claims the same way.

The list (``pool_slice``, ``pool_list``) orders the pool by when each client entered it, newest
first: its latest move to nobody in the transfer log or, for a client entered without an owner,
its creation. Each source is read along an index in that order (``_moved_in``,
``_entered_without_owner``) and a page merges their heads, so its cost follows the page number,
not the pool's size. The pool is not counted: that would cost more than the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import CLIENT_MODELS, ClientStatus, ClientTransfer, Company, Contact, TransferKind
from rapport.clients.search import find_clients
from rapport.clients.services import AnyClient, client_take_from_pool
from rapport.core.bulk import bulk_insert
from rapport.core.paging import PAGE_SIZE, PageNumbering
from rapport.supervision.models import PoolPolicy

if TYPE_CHECKING:
    from rapport.core import demo

type Kind = Literal["company", "contact"]
KINDS: tuple[Kind, ...] = ("company", "contact")
# A name search sorts at most this many matches of each kind by entry date (a longer word narrows them).
SEARCH_LIMIT = 500

# ---- Claims ---------------------------------------------------------------------------------


def week_start(now: datetime | None = None) -> datetime:
    """Monday 00:00 of the current ISO week in the current time zone (the person's): the limit renews then."""
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday, time.min, tzinfo=timezone.get_current_timezone())


def claims_this_week(user: User, *, now: datetime | None = None) -> int:
    """How many clients the user took from the pool since Monday (the transfer log's index by, kind, at)."""
    return ClientTransfer.objects.filter(by=user, kind=TransferKind.POOL_CLAIM, at__gte=week_start(now)).count()


@dataclass(frozen=True)
class PoolUsage:
    """A claimer's week: ``used`` of ``limit`` claims."""

    used: int
    limit: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def pool_usage(user: User) -> PoolUsage | None:
    """The user's claims this week against the limit; None for those who do not claim. Two queries."""
    if not access.can_claim_from_pool(user):
        return None
    return PoolUsage(used=claims_this_week(user), limit=PoolPolicy.current().claims_per_week)


def _over_the_limit(used: int, limit: int) -> ValidationError:
    if limit == 0:
        message = _("Admins have closed the pool to claims for now: the limit is 0 clients a week.")
    else:
        message = ngettext(
            "You have taken %(used)d client from the pool this week; %(limit)d a week is the most allowed. "
            "The limit renews on Monday.",
            "You have taken %(used)d clients from the pool this week; %(limit)d a week is the most allowed. "
            "The limit renews on Monday.",
            used,
        ) % {"used": used, "limit": limit}
    return ValidationError(message, code="limit")


def _no_longer_in_pool(by: User, client: AnyClient) -> ValidationError:
    """Why a claim found the client gone: who has it since when (a colleague's name only while the claimer still
    sees the client, as ``access`` would show it)."""
    latest = ClientTransfer.objects.filter(**{client.kind: client}).select_related("to_user").first()
    name = client.display_name
    if latest is None or latest.to_user is None:
        return ValidationError(_("%(client)s is no longer in the pool.") % {"client": name}, code="taken")
    when = formats.date_format(timezone.localtime(latest.at), "SHORT_DATETIME_FORMAT")
    if latest.to_user_id == by.pk:
        message = _("%(client)s is already yours, since %(when)s") % {"client": name, "when": when}
    elif access.clients_visible_to(by, type(client)).filter(pk=client.pk).exists():
        message = _("%(client)s is no longer in the pool: %(who)s has had it since %(when)s") % {
            "client": name,
            "who": latest.to_user.display_name,
            "when": when,
        }
    else:
        message = _("%(client)s is no longer in the pool: a colleague has had it since %(when)s") % {
            "client": name,
            "when": when,
        }
    return ValidationError(message, code="taken")


@transaction.atomic
def pool_claim(*, by: User, client: AnyClient) -> ClientTransfer:
    """Take a client from the pool: it becomes the claimer's, within their weekly limit; logged as a pool claim.

    Refusals are ValidationErrors with a code: ``limit`` (over this week's limit) or ``taken`` (no
    longer in the pool: someone was first). PermissionDenied for those who do not claim.
    """
    if not access.can_claim_from_pool(by):
        raise PermissionDenied
    # One person's claims one after another: a second waits here until the first commits, then counts it.
    # NO KEY: rows that merely point at the user (a transfer to them, an activity) are not held up meanwhile.
    list(User.objects.select_for_update(no_key=True).filter(pk=by.pk).values_list("pk", flat=True))
    limit = PoolPolicy.current().claims_per_week
    used = claims_this_week(by)
    if used >= limit:
        raise _over_the_limit(used, limit)
    try:
        return client_take_from_pool(by=by, client=client)
    except ValidationError:
        # Its savepoint rolled back; the client's row is read as the first claimer left it.
        raise _no_longer_in_pool(by, client) from None


@transaction.atomic
def pool_policy_save(*, by: User, claims_per_week: int) -> PoolPolicy:
    """Set how many clients each manager may take from the pool a week (admins); refusals keyed by field."""
    if not access.can_configure_pool(by):
        raise PermissionDenied
    policy = PoolPolicy.current()
    policy.claims_per_week = claims_per_week
    policy.updated_by = by
    policy.full_clean()
    policy.save(update_fields=["claims_per_week", "updated_by", "updated_at"])
    return policy


# ---- The list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolRow:
    """A client in the pool as the list shows it: name (a contact's company too), last contact, when it entered
    the pool and why (the move's reason and rule; none when it was entered without an owner)."""

    kind: Kind
    client_id: int
    name: str
    company_name: str  # a contact's company, shown whether or not the reader may open it (as on the card)
    last_contact_at: datetime | None
    entered_at: datetime
    moved: bool  # entered through a move in the transfer log (else: created without an owner)
    reason: str = ""
    rule: str = ""

    @classmethod
    def of(cls, client: AnyClient, entered_at: datetime, move: ClientTransfer | None = None) -> PoolRow:
        company = client.company if isinstance(client, Contact) else None
        return cls(
            kind=cast(Kind, client.kind),
            client_id=client.pk,
            name=client.display_name,
            company_name=company.name if company is not None else "",
            last_contact_at=client.last_contact_at,
            entered_at=entered_at,
            moved=move is not None,
            reason=move.reason if move is not None else "",
            rule=move.rule if move is not None else "",
        )

    @property
    def key(self) -> str:
        """The row's name in the page and in a claim: "company-12"."""
        return f"{self.kind}-{self.client_id}"

    @cached_property
    def url(self) -> str:
        return reverse(f"clients:{self.kind}-detail", args=[self.client_id])

    @cached_property
    def days_in_pool(self) -> int:
        return max(0, (timezone.localdate() - timezone.localdate(self.entered_at)).days)

    # Worded here rather than in the row's template: a page draws 25 rows, and a template's translation tag
    # costs several times a call.
    @property
    def days_label(self) -> str:
        days = self.days_in_pool
        return ngettext("%(days)d day in the pool", "%(days)d days in the pool", days) % {"days": days}

    @property
    def rule_label(self) -> str:
        """The rule that moved it, unless the reason names it already (a rule's own moves do)."""
        if not self.rule or self.rule in self.reason:
            return ""
        return _("Rule: %(rule)s") % {"rule": self.rule}


@dataclass(frozen=True)
class PoolPage(PageNumbering):
    rows: list[PoolRow]
    number: int
    has_next: bool
    # A search sorts its first SEARCH_LIMIT matches of each kind only: more would be found.
    capped: bool = False


# What a row shows of its client, read as plain values (a deep page reads a thousand rows per source).
SHOWN: dict[Kind, tuple[str, ...]] = {
    "company": ("name", "last_contact_at"),
    "contact": ("last_name", "first_name", "middle_name", "company__name", "last_contact_at"),
}
# A row's place in the list: its entry, then its source (moved in; entered without an owner, per kind), then its
# order within the source — all descending. Each source is read in exactly this order.
type Placed = tuple[datetime, int, int, PoolRow]
MOVED, NEVER_MOVED = 0, 1


def _model(kind: Kind) -> type[Company] | type[Contact]:
    return CLIENT_MODELS[kind]


def _moves_into_pool(kind: Kind) -> QuerySet[ClientTransfer]:
    """The transfer log's moves of a kind to nobody (read along the index transfer_to_user_at_idx: to_user, at, id)."""
    return ClientTransfer.objects.filter(to_user__isnull=True, **{f"{kind}__isnull": False})


def _row(kind: Kind, values: dict[str, Any], *, prefix: str, entered_at: datetime, moved: bool) -> PoolRow:
    """A row from a source's values (``prefix``: the way to the client's, e.g. "company__")."""
    if kind == "company":
        name = values[f"{prefix}name"]
    else:
        parts = (values[f"{prefix}{part}_name"] for part in ("last", "first", "middle"))
        name = " ".join(part for part in parts if part)
    return PoolRow(
        kind=kind,
        client_id=values[f"{prefix}id"],
        name=name,
        company_name=values.get(f"{prefix}company__name") or "",
        last_contact_at=values[f"{prefix}last_contact_at"],
        entered_at=entered_at,
        moved=moved,
        reason=values.get("reason", ""),
        rule=values.get("rule", ""),
    )


def _moved_in(user: User, kinds: tuple[Kind, ...], count: int) -> list[Placed]:
    """The first ``count`` clients a move brought to the pool, newest move first: one query, read backwards along
    the log's moves to nobody, each checked by its client's primary key to be in the pool still and moved there
    last. The checks are scalar subqueries on purpose: an EXISTS would be planned as a join, or hashed over the
    whole pool, whenever the planner (blind to every move to nobody leading into the pool) expects few rows."""
    still_there = Q()
    checks = {}
    for kind in kinds:
        pool = access.pool_clients_visible_to(user, _model(kind)).filter(pk=OuterRef(kind)).order_by()
        checks[f"pooled_{kind}"] = Subquery(pool.values("pk")[:1])
        later = _moves_into_pool(kind).filter(
            Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk")), **{kind: OuterRef(kind)}
        )
        still_there |= Q(~Exists(later), **{f"pooled_{kind}__isnull": False})
    fields = [f"{kind}__{name}" for kind in kinds for name in ("id", *SHOWN[kind])]
    moves = (
        ClientTransfer.objects.filter(to_user__isnull=True)
        .alias(**checks)
        .filter(still_there)
        # to_user_id first (nobody, all of them): the planner then walks (to_user, at, id) backwards, no sort.
        .order_by("-to_user_id", "-at", "-pk")
        .values("at", "pk", "reason", "rule", *fields)[:count]
    )
    placed: list[Placed] = []
    for move in moves:
        kind = next(kind for kind in kinds if move[f"{kind}__id"] is not None)
        row = _row(kind, move, prefix=f"{kind}__", entered_at=move["at"], moved=True)
        placed.append((move["at"], MOVED, move["pk"], row))
    return placed


def _entered_without_owner(user: User, kind: Kind, count: int) -> list[Placed]:
    """The first ``count`` pool clients of a kind no move brought there, the latest created first: one query,
    read backwards along (status, created_at, id)."""
    rows = access.pool_clients_visible_to(user, _model(kind)).filter(
        ~Exists(_moves_into_pool(kind).filter(**{kind: OuterRef("pk")}))
    )
    source = NEVER_MOVED + KINDS.index(kind)
    return [
        (
            values["created_at"],
            source,
            values["id"],
            _row(kind, values, prefix="", entered_at=values["created_at"], moved=False),
        )
        for values in rows.order_by("-created_at", "-pk").values("id", "created_at", *SHOWN[kind])[:count]
    ]


def _searched(user: User, kinds: tuple[Kind, ...], query: str) -> tuple[list[Placed], bool]:
    """Pool clients whose name, tax id, phone or e-mail matches (at most SEARCH_LIMIT of each kind), by entry: per
    kind, the search's two queries and one for their moves into the pool."""
    found: list[Placed] = []
    capped = False
    for kind in kinds:
        pool = access.pool_clients_visible_to(user, _model(kind))
        matches = find_clients(pool.select_related("company") if kind == "contact" else pool, query, limit=SEARCH_LIMIT)
        capped = capped or len(matches) >= SEARCH_LIMIT
        moves = _moves_into_pool(kind).filter(**{f"{kind}_id__in": [client.pk for client in matches]})
        # Read oldest first: the last one kept for a client is its latest.
        latest = {
            getattr(move, f"{kind}_id"): move
            for move in moves.order_by("at", "pk").only("at", "reason", "rule", f"{kind}_id")
        }
        for client in matches:
            move = latest.get(client.pk)
            if move is None:
                found.append(
                    (
                        client.created_at,
                        NEVER_MOVED + KINDS.index(kind),
                        client.pk,
                        PoolRow.of(client, client.created_at),
                    )
                )
            else:
                found.append((move.at, MOVED, move.pk, PoolRow.of(client, move.at, move)))
    return _in_order(found), capped


def _in_order(placed: list[Placed]) -> list[Placed]:
    return sorted(placed, key=lambda entry: entry[:3], reverse=True)


@dataclass(frozen=True)
class PoolSlice:
    rows: list[PoolRow]
    has_more: bool
    # A search sorts its first SEARCH_LIMIT matches of each kind only: more would be found.
    capped: bool = False


def pool_slice(user: User, *, query: str = "", kind: str = "", offset: int = 0, limit: int = PAGE_SIZE) -> PoolSlice:
    """``limit`` clients of the pool from ``offset`` on, the latest to enter it first; ``kind`` "company" or
    "contact" (else both), ``query`` a name fragment, tax id, phone or e-mail. PermissionDenied for those who do
    not see the pool.

    Queries: one for the moves into the pool, one per kind for the clients entered without an
    owner, each read as far as the slice's end — or, with a query, the search's (``_searched``).
    """
    if not access.sees_pool(user):
        raise PermissionDenied
    kinds: tuple[Kind, ...] = (kind,) if kind in KINDS else KINDS
    end = offset + limit + 1  # one more than asked: whether there are more
    capped = False
    if query.strip():
        found, capped = _searched(user, kinds, query)
        placed = found[offset:end]
    else:
        heads = _moved_in(user, kinds, end)
        for each in kinds:
            heads += _entered_without_owner(user, each, end)
        placed = _in_order(heads)[offset:end]
    return PoolSlice(rows=[row for *_place, row in placed[:limit]], has_more=len(placed) > limit, capped=capped)


def pool_list(user: User, *, query: str = "", kind: str = "", number: int = 1) -> PoolPage:
    """A numbered page of the pool (see ``pool_slice``)."""
    number = max(1, number)
    found = pool_slice(user, query=query, kind=kind, offset=(number - 1) * PAGE_SIZE)
    return PoolPage(rows=found.rows, number=number, has_next=found.has_more, capped=found.capped)


def pool_row(client: AnyClient) -> PoolRow:
    """One client's row as the list draws it (after a claim, or a refused one): its latest move into the pool."""
    move = _moves_into_pool(cast(Kind, client.kind)).filter(**{client.kind: client}).order_by("-at", "-pk").first()
    return PoolRow.of(client, move.at if move is not None else client.created_at, move)


# ---- Demo ---------------------------------------------------------------------------------------

# A share of the demo's clients moved to the pool during the last month by the redistribution demo's rule
# (review.load_demo: no logged contact for 30 days); the clients demo adds others, entered without an owner.
DEMO_SHARE = 0.02
DEMO_MINIMUM = 20
DEMO_STALE_DAYS = 30
DEMO_CLAIMS_PER_WEEK = 20
DEMO_CHUNK = 1_000


def demo_rule() -> str:
    return _("Stale clients to the pool")


def _demo_reason(rule: str, at: datetime, last_contact: datetime | None, created: datetime) -> str:
    """As the rule's review words it (``review._stale``)."""
    if last_contact is None:
        days = (at - created).days
        words = ngettext(
            "No logged contact since it was entered %(days)d day ago",
            "No logged contact since it was entered %(days)d days ago",
            days,
        ) % {"days": days}
    else:
        days = (at - last_contact).days
        words = ngettext("No logged contact for %(days)d day", "No logged contact for %(days)d days", days) % {
            "days": days
        }
    return _("Rule “%(rule)s”: %(reason)s") % {"rule": rule, "reason": words}


# A move in the demo: the client, its owner and the owner's team, when it moved and why.
type DemoMove = tuple[int, int, int | None, datetime, str]


def _demo_stale(kind: Kind, share_of: int, rng: Any, cutoff: datetime) -> list[tuple[int, int, int | None, Any, Any]]:
    """About DEMO_SHARE of ``share_of`` owned clients of a kind, stale since before ``cutoff`` (a contact: only
    one of no company, since a company's people follow their company)."""
    stale = Q(last_contact_at__lt=cutoff) | Q(last_contact_at__isnull=True, created_at__lt=cutoff)
    owned = _model(kind).objects.alive().filter(stale, owner__isnull=False).exclude(status=ClientStatus.POOL)
    if kind == "contact":
        owned = owned.filter(**{"company__isnull": True})
    candidates = list(
        owned.order_by("pk").values_list("pk", "owner_id", "owner__team_id", "last_contact_at", "created_at")
    )
    wanted = max(DEMO_MINIMUM, round(share_of * DEMO_SHARE))
    return sorted(rng.sample(candidates, min(wanted, len(candidates))))


def _demo_move(kind: Kind, moves: list[DemoMove], *, rule: str, heads: dict[int, int], now: datetime) -> None:
    """Into the pool, in bulk, each with the rule's move approved by the owner's head."""
    for first in range(0, len(moves), DEMO_CHUNK):
        ids = [move[0] for move in moves[first : first + DEMO_CHUNK]]
        _model(kind).objects.filter(pk__in=ids).update(owner=None, status=ClientStatus.POOL, updated_at=now)
    bulk_insert(
        ClientTransfer,
        [f"{kind}_id", "from_user_id", "to_user_id", "by_id", "at", "reason", "kind", "rule", "approved_by_id"],
        (
            (
                pk,
                owner_id,
                None,
                heads.get(team_id or 0),
                at,
                reason[:300],
                TransferKind.RULE,
                rule,
                heads.get(team_id or 0),
            )
            for pk, owner_id, team_id, at, reason in moves
        ),
    )


def load_demo(context: demo.DemoContext) -> None:
    """Put about 2 % of the demo's companies (with their people) and stand-alone contacts into the pool, each with
    the rule's move in its transfer log, and set the pool's limit. Set-based: a few queries per thousand clients."""
    rng, now, rule = context.rng, timezone.now(), demo_rule()
    heads = {user.team_id: user.pk for user in context.users_by_role.get("head", []) if user.team_id}
    admins = context.users_by_role.get("admin", [])
    # Stale enough that the rule's condition held on any day of the last month.
    cutoff = now - timedelta(days=DEMO_STALE_DAYS + 31)

    def moved_now(row: tuple[int, int, int | None, Any, Any]) -> DemoMove:
        pk, owner_id, team_id, last_contact, created = row
        at = now - timedelta(minutes=rng.randrange(30 * 24 * 60))
        return pk, owner_id, team_id, at, _demo_reason(rule, at, last_contact, created)

    companies = [moved_now(row) for row in _demo_stale("company", Company.objects.count(), rng, cutoff)]
    people = [moved_now(row) for row in _demo_stale("contact", Contact.objects.count(), rng, cutoff)]
    # A company's people go with it (the clients demo keeps them with its owner).
    moved_at = {move[0]: move[3] for move in companies}
    for first in range(0, len(companies), DEMO_CHUNK):
        chunk = [move[0] for move in companies[first : first + DEMO_CHUNK]]
        staff = Contact.objects.alive().filter(company_id__in=chunk).exclude(status=ClientStatus.POOL)
        for pk, owner_id, team_id, company_id, company in staff.values_list(
            "pk", "owner_id", "owner__team_id", "company_id", "company__name"
        ):
            reason = _("Rule “%(rule)s”: went to the pool with %(company)s") % {"rule": rule, "company": company}
            people.append((pk, owner_id, team_id, moved_at[company_id], reason))
    _demo_move("company", companies, rule=rule, heads=heads, now=now)
    _demo_move("contact", people, rule=rule, heads=heads, now=now)
    PoolPolicy.objects.update_or_create(
        pk=1, defaults={"claims_per_week": DEMO_CLAIMS_PER_WEEK, "updated_by": admins[0] if admins else None}
    )
    context.log(f"  {len(companies) + len(people)} clients moved to the shared pool by “{rule}”")

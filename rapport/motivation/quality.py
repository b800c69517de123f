"""Data quality: a score per client and per manager, and the daily snapshots heads follow over time.

A client's score is the weighted share of its checks that pass (an owner, a name, a valid
phone or e-mail, the expected fields, a recent contact, a planned next step), 0–100. Each
check is written twice, side by side: as a test of one loaded client (``holds``: the card,
which already has the client's phones and next step, so its badge costs no query) and as a
SQL condition (``condition``: the lists and a manager's average, over thousands of clients
in one query). The tests hold the two to the same answers.

Scores round halves up in whole-number arithmetic, identically in Python and in SQL, so a
list sorted by the database shows the numbers the card shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.accounts.models import User
from rapport.activities.models import REQUIREMENTS, Activity, ActivityStatus, MinimumDataRule
from rapport.activities.next_steps import has_next_step, next_step_of
from rapport.clients.models import ClientStatus, Company, Contact, ContactPoint, ContactPointKind
from rapport.core.paging import PAGE_SIZE, PageNumbering
from rapport.motivation.models import QualitySnapshot

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

    from rapport.clients.services import AnyClient

# A manager's score: this much of their clients' average, the rest their activities' share.
CLIENTS_PART = 7  # tenths
# Done activities of this many last days count towards the share.
ACTIVITY_DAYS = 90
# Points that reach the client: a messenger handle alone is not a way to call or write.
REACHING_KINDS = (ContactPointKind.PHONE, ContactPointKind.EMAIL)
# Keeping in touch is not asked of a frozen client (it waits on purpose) nor of the pool (it has
# nobody to keep in touch); the pool has no owner by definition.
WAITING = frozenset({ClientStatus.FROZEN, ClientStatus.POOL})
POOL = frozenset({ClientStatus.POOL})
# Where a score turns from red to yellow to green on the screens.
FAIR, GOOD = 50, 80


def percent(part: int, whole: int) -> int:
    """``100 * part / whole`` rounded half up, in whole numbers (as ``_percent_sql`` does in the database)."""
    return (200 * part + whole) // (2 * whole)


def _filled(field: str) -> Q:
    """The text field holds more than spaces (SQL's TRIM removes only spaces; ``_has_text`` matches it)."""
    return Q(GreaterThan(Length(Trim(field)), 0))


def _has_text(value: str) -> bool:
    return bool(value.strip(" "))


@dataclass(frozen=True)
class Facts:
    """What checking one client needs beyond its own row."""

    points: list[ContactPoint]
    has_next_step: bool
    since: datetime  # a contact after this is recent


def _card(kind: str, pk: int, anchor: str) -> str:
    return f"{reverse(f'clients:{kind}-detail', args=[pk])}#{anchor}"


def _edit(field: str) -> Callable[[str, int], str]:
    """The card's editor opened on its own page, scrolled to the field (``field_row`` gives inputs ``id_<name>``)."""
    return lambda kind, pk: f"{reverse('clients:client-edit', args=[kind, pk])}#id_{field}"


def _plan_next_step(kind: str, pk: int) -> str:
    card = reverse(f"clients:{kind}-detail", args=[pk])
    return f"{reverse('activities:activity-create')}?{urlencode({kind: pk, 'next': card})}"


def _point_add(kind: str, pk: int) -> str:
    return f"{reverse('clients:point-add', args=[kind, pk])}#point-add-form"


def _reaching_points(kind: str) -> Exists:
    return Exists(
        ContactPoint.objects.filter(**{f"{kind}_id": OuterRef("pk")}, kind__in=REACHING_KINDS).exclude(normalized="")
    )


@dataclass(frozen=True)
class Check:
    key: str
    label: _StrOrPromise  # what is checked
    todo: _StrOrPromise  # what a "what to fix" link says
    weight: int
    kinds: frozenset[str]  # "company", "contact"
    skipped_for: frozenset[str]  # statuses the check is not asked of
    holds: Callable[[AnyClient, Facts], bool]
    condition: Callable[[str, datetime], Q]  # (kind, since) → the same test in SQL
    fix: Callable[[str, int], str]  # (kind, pk) → where to fix it

    def applies(self, kind: str, status: str) -> bool:
        return kind in self.kinds and status not in self.skipped_for


BOTH = frozenset({"company", "contact"})
COMPANIES = frozenset({"company"})
CONTACTS = frozenset({"contact"})
# Weights add up to 100 for an active company and for an active contact alike.
CHECKS: tuple[Check, ...] = (
    Check(
        key="owner",
        label=_("An owner"),
        todo=_("Give it an owner"),
        weight=15,
        kinds=BOTH,
        skipped_for=POOL,
        holds=lambda client, facts: client.owner_id is not None,
        condition=lambda kind, since: Q(owner__isnull=False),
        fix=lambda kind, pk: _card(kind, pk, "client-transfer"),
    ),
    Check(
        key="name",
        label=_("Last and first name"),
        todo=_("Add the last and first name"),
        weight=20,
        kinds=CONTACTS,
        skipped_for=frozenset(),
        holds=lambda client, facts: _has_text(client.last_name) and _has_text(client.first_name),  # type: ignore[union-attr]
        condition=lambda kind, since: _filled("last_name") & _filled("first_name"),
        fix=_edit("last_name"),
    ),
    Check(
        key="industry",
        label=_("Industry"),
        todo=_("Add the industry"),
        weight=10,
        kinds=COMPANIES,
        skipped_for=frozenset(),
        holds=lambda client, facts: _has_text(client.industry),
        condition=lambda kind, since: _filled("industry"),
        fix=_edit("industry"),
    ),
    Check(
        key="tax_id",
        label=_("Tax id"),
        todo=_("Add the tax id"),
        weight=10,
        kinds=COMPANIES,
        skipped_for=frozenset(),
        holds=lambda client, facts: _has_text(client.tax_id),
        condition=lambda kind, since: _filled("tax_id"),
        fix=_edit("tax_id"),
    ),
    Check(
        key="contact_point",
        label=_("A valid phone or e-mail"),
        todo=_("Add a phone or e-mail"),
        weight=20,
        kinds=BOTH,
        skipped_for=frozenset(),
        # A point whose normalised form is empty could not be read as a number or an address.
        holds=lambda client, facts: any(
            point.kind in REACHING_KINDS and point.normalized != "" for point in facts.points
        ),
        condition=lambda kind, since: Q(_reaching_points(kind)),
        fix=_point_add,
    ),
    Check(
        key="lead_source",
        label=_("Lead source"),
        todo=_("Choose the lead source"),
        weight=10,
        kinds=BOTH,
        skipped_for=frozenset(),
        holds=lambda client, facts: client.lead_source_id is not None,
        condition=lambda kind, since: Q(lead_source__isnull=False),
        fix=_edit("lead_source"),
    ),
    Check(
        key="recent_contact",
        label=_("A recent contact"),
        todo=_("Get in touch"),
        weight=20,
        kinds=BOTH,
        skipped_for=WAITING,
        holds=lambda client, facts: client.last_contact_at is not None and client.last_contact_at >= facts.since,
        condition=lambda kind, since: Q(last_contact_at__gte=since),
        fix=lambda kind, pk: _card(kind, pk, "quick-log"),
    ),
    Check(
        key="next_step",
        label=_("A next step planned"),
        todo=_("Plan the next step"),
        weight=15,
        kinds=BOTH,
        skipped_for=WAITING,
        holds=lambda client, facts: facts.has_next_step,
        condition=lambda kind, since: Q(has_next_step(kind)),
        fix=_plan_next_step,
    ),
)


def possible_weight(kind: str, status: str) -> int:
    return sum(check.weight for check in CHECKS if check.applies(kind, status))


def recent_days() -> int:
    """A client contacted within this many days counts as recently contacted."""
    return int(settings.RAPPORT_QUALITY_RECENT_DAYS)


def recent_since(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=recent_days())


def score_band(score: int | None) -> str:
    """The colour a screen draws a score in (Tabler's): good, to look at, poor."""
    if score is None:
        return "secondary"
    return "green" if score >= GOOD else "yellow" if score >= FAIR else "red"


# ---- One client ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    check: Check
    ok: bool
    fix_url: str

    @property
    def key(self) -> str:
        return self.check.key

    @property
    def label(self) -> _StrOrPromise:
        return self.check.label

    @property
    def todo(self) -> _StrOrPromise:
        return self.check.todo


@dataclass(frozen=True)
class ClientQuality:
    kind: str
    pk: int
    name: str
    score: int
    results: list[CheckResult]

    @property
    def failing(self) -> list[CheckResult]:
        return [result for result in self.results if not result.ok]

    @property
    def url(self) -> str:
        return reverse(f"clients:{self.kind}-detail", args=[self.pk])

    @property
    def band(self) -> str:
        return score_band(self.score)


def _quality(kind: str, pk: int, name: str, status: str, passed: Callable[[Check], bool]) -> ClientQuality:
    results = [
        CheckResult(check=check, ok=passed(check), fix_url=check.fix(kind, pk))
        for check in CHECKS
        if check.applies(kind, status)
    ]
    earned = sum(result.check.weight for result in results if result.ok)
    return ClientQuality(
        kind=kind, pk=pk, name=name, score=percent(earned, possible_weight(kind, status)), results=results
    )


_UNKNOWN: Any = object()


def client_quality(
    client: AnyClient,
    *,
    points: list[ContactPoint] | None = None,
    next_step: Activity | None = _UNKNOWN,
    now: datetime | None = None,
) -> ClientQuality:
    """One client's score and checks. The card passes the ``points`` and ``next_step`` it has read (no query);
    without them each costs a query."""
    if points is None:
        points = list(ContactPoint.objects.filter(**{client.kind: client}))
    if next_step is _UNKNOWN:
        next_step = next_step_of(client)
    facts = Facts(points=points, has_next_step=next_step is not None, since=recent_since(now))
    return _quality(
        client.kind, client.pk, client.display_name, client.status, lambda check: check.holds(client, facts)
    )


# ---- Many clients, in SQL -------------------------------------------------------------------------


def _percent_sql(part: Expression, whole: Expression) -> Expression:
    # Whole numbers on both sides: PostgreSQL and SQLite divide them as integers (rounding down).
    return ExpressionWrapper((part * 200 + whole) / (whole * 2), output_field=IntegerField())


def score_expression(kind: str, since: datetime) -> Expression:
    """A client's score as one SQL expression: the passing checks' weights summed by Case/When, out of those asked."""
    earned: Expression = Value(0)
    for check in CHECKS:
        if kind not in check.kinds:
            continue
        passed = check.condition(kind, since)
        if check.skipped_for:
            passed &= ~Q(status__in=check.skipped_for)
        earned = earned + Case(When(passed, then=Value(check.weight)), default=Value(0))
    possible = Case(
        *[When(status=status, then=Value(possible_weight(kind, status))) for status in WAITING],
        default=Value(possible_weight(kind, ClientStatus.ACTIVE)),
    )
    return _percent_sql(earned, possible)


def _ok_columns(kind: str, since: datetime) -> dict[str, Expression]:
    """``ok_<key>`` per check, for both kinds alike (NULL where the kind is not checked), so two kinds unite."""
    return {
        f"ok_{check.key}": ExpressionWrapper(check.condition(kind, since), output_field=BooleanField())
        if kind in check.kinds
        else Value(None, output_field=BooleanField())
        for check in CHECKS
    }


def scored_clients(user: User, *, now: datetime | None = None) -> QuerySet[Any]:
    """The person's companies and contacts with their scores and checks: one UNION ALL query (order and slice it).

    Rows are dicts of ``row_kind``, ``row_id``, ``row_status``, ``name_1..3`` (a contact's last, first and
    middle name; a company's name and two blanks), ``score`` and ``ok_<key>`` per check.
    """
    since = recent_since(now)
    parts: list[QuerySet[Any]] = []
    for model, kind in ((Company, "company"), (Contact, "contact")):
        names = ("name", None, None) if kind == "company" else ("last_name", "first_name", "middle_name")
        columns: dict[str, Expression | F] = {
            "row_kind": Value(kind),
            "row_id": F("pk"),
            "row_status": F("status"),
            **{f"name_{number}": F(field) if field else Value("") for number, field in enumerate(names, start=1)},
            "score": score_expression(kind, since),
            **_ok_columns(kind, since),
        }
        rows = model.objects.alive().filter(owner=user).order_by().annotate(**columns)
        parts.append(rows.values(*columns))
    # No order of its own (the models' default orders cannot apply to a union): the caller sorts.
    return parts[0].union(parts[1], all=True).order_by()


def quality_of_row(row: dict[str, Any]) -> ClientQuality:
    """A row of ``scored_clients`` as the checks a screen lists (no query)."""
    name = " ".join(part for part in (row["name_1"], row["name_2"], row["name_3"]) if part)
    return _quality(row["row_kind"], row["row_id"], name, row["row_status"], lambda check: bool(row[f"ok_{check.key}"]))


@dataclass(frozen=True)
class QualityPage(PageNumbering):
    rows: list[ClientQuality]
    number: int
    has_next: bool
    total: int
    total_capped: bool = False


def lowest_scores(user: User, number: int, *, now: datetime | None = None) -> QualityPage:
    """A page of the person's clients, lowest score first: one query for the rows, one for the count (none when
    a first page is not full)."""
    number = max(1, number)
    start = (number - 1) * PAGE_SIZE
    scored = scored_clients(user, now=now)
    rows = list(scored.order_by("score", "row_kind", "row_id")[start : start + PAGE_SIZE + 1])
    # A first page that is not full has counted itself.
    total = len(rows) if number == 1 and len(rows) <= PAGE_SIZE else scored.count()
    return QualityPage(
        rows=[quality_of_row(row) for row in rows[:PAGE_SIZE]],
        number=number,
        has_next=len(rows) > PAGE_SIZE,
        total=total,
    )


# ---- Managers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagerQuality:
    """A person's data quality.

    ``score`` = round(0.7 × the clients' average + 0.3 × the share of activities with their minimum
    data), halves up; with no done activities in the last 90 days the clients' average alone (and with
    no clients the share alone). None when there is nothing to score.
    """

    user_id: int
    clients: int
    clients_total: int  # the clients' scores added up
    activities: int  # done in the last ACTIVITY_DAYS days
    activities_complete: int

    @property
    def clients_score(self) -> int | None:
        return percent(self.clients_total, 100 * self.clients) if self.clients else None

    @property
    def activities_share(self) -> int | None:
        return percent(self.activities_complete, self.activities) if self.activities else None

    @property
    def score(self) -> int | None:
        clients, activities = self.clients_score, self.activities_share
        if clients is None or activities is None:
            return activities if clients is None else clients
        return (CLIENTS_PART * clients + (10 - CLIENTS_PART) * activities + 5) // 10

    @property
    def band(self) -> str:
        return score_band(self.score)


# What each minimum-data requirement is for a done activity, in SQL (services._meets says it of one).
def _points_of(field: str) -> Exists:
    return Exists(ContactPoint.objects.filter(**{field: OuterRef(field)}))


REQUIREMENT_CONDITIONS: dict[str, Callable[[], Q]] = {
    "date": lambda: Q(done_at__isnull=False),
    "client_name": lambda: Q(contact__isnull=False) & _filled("contact__last_name") & _filled("contact__first_name"),
    "contact_point": lambda: Q(_points_of("contact_id")) | Q(_points_of("company_id")),
    "subject": lambda: _filled("subject"),
    "result": lambda: _filled("result"),
    "outcome": lambda: Q(outcome__isnull=False),
    "duration": lambda: Q(duration__isnull=False),
    "deal": lambda: Q(deal__isnull=False),
}


def meets_minimum_data() -> Q | None:
    """A done activity meets the admin's current rules: its kind has no rule, or it gives what its rule asks.

    One query reads the rules; None when there are none (every activity meets them).
    """
    rules = list(MinimumDataRule.objects.filter(status=ActivityStatus.DONE).only("kind", "required"))
    if not rules:
        return None
    meets = ~Q(kind__in=[rule.kind for rule in rules])
    for rule in rules:
        given = Q(kind=rule.kind)
        for key in rule.required:
            if key in REQUIREMENTS:
                given &= REQUIREMENT_CONDITIONS[key]()
        meets |= given
    return meets


def managers_quality(users: Iterable[User], *, now: datetime | None = None) -> dict[int, ManagerQuality]:
    """Each person's data quality, set-based: four queries however many people and clients.

    Per kind of client, the owners' scores are summed in the database (``score_expression`` per row,
    then Sum and Count by owner): the average is taken from the sum and count, so it rounds exactly
    as ``percent`` does. The activities are counted by owner, complete or not, in one more query.
    """
    now = now or timezone.now()
    ids = [user.pk for user in users]
    since = recent_since(now)
    clients: dict[int, list[int]] = {pk: [0, 0] for pk in ids}
    for model, kind in ((Company, "company"), (Contact, "contact")):
        sums = (
            model.objects.alive()
            .filter(owner_id__in=ids)
            .order_by()
            .values("owner_id")
            .annotate(total=Sum(score_expression(kind, since)), count=Count("pk"))
        )
        for row in sums:
            clients[row["owner_id"]][0] += row["count"]
            clients[row["owner_id"]][1] += row["total"] or 0
    meets = meets_minimum_data()
    done = (
        Activity.objects.alive()
        .filter(owner_id__in=ids, status=ActivityStatus.DONE, at__gte=now - timedelta(days=ACTIVITY_DAYS))
        .order_by()
        .values("owner_id")
        .annotate(done=Count("pk"), complete=Count("pk", filter=meets) if meets is not None else Count("pk"))
    )
    activities = {row["owner_id"]: (row["done"], row["complete"]) for row in done}
    return {
        pk: ManagerQuality(
            user_id=pk,
            clients=clients[pk][0],
            clients_total=clients[pk][1],
            activities=activities.get(pk, (0, 0))[0],
            activities_complete=activities.get(pk, (0, 0))[1],
        )
        for pk in ids
    }


def manager_quality(user: User, *, now: datetime | None = None) -> ManagerQuality:
    """One person's data quality (``managers_quality`` for one)."""
    return managers_quality([user], now=now)[user.pk]


# ---- Snapshots -----------------------------------------------------------------------------------------


def owners_of_clients() -> QuerySet[User]:
    """Active people who own at least one client not in the trash."""
    owns = Q(Exists(Company.objects.alive().filter(owner=OuterRef("pk")))) | Q(
        Exists(Contact.objects.alive().filter(owner=OuterRef("pk")))
    )
    return User.objects.filter(owns, is_active=True)


def snapshot_all(*, on: date, now: datetime | None = None) -> int:
    """Store today's score of everyone who owns clients as the snapshot of ``on``; a second run that day updates it.

    The score is of the data as it stands when this runs. A person with no done activities in the
    window is stored with a share of 100 (nothing of theirs lacked its minimum data) and a score
    of their clients' average alone. Returns how many snapshots were written.
    """
    people = list(owners_of_clients().only("pk"))
    qualities = managers_quality(people, now=now)
    snapshots = [
        QualitySnapshot(
            user_id=quality.user_id,
            on=on,
            score=quality.score or 0,
            clients_score=quality.clients_score or 0,
            activities_share=100 if quality.activities_share is None else quality.activities_share,
            clients=quality.clients,
        )
        for quality in qualities.values()
    ]
    QualitySnapshot.objects.bulk_create(
        snapshots,
        update_conflicts=True,
        unique_fields=["user", "on"],
        update_fields=["score", "clients_score", "activities_share", "clients"],
    )
    return len(snapshots)


def quality_trend(users: Iterable[User], *, days: int, today: date | None = None) -> dict[int, list[QualitySnapshot]]:
    """Each person's snapshots of the last ``days`` days (today included), oldest first (one query)."""
    today = today or timezone.localdate()
    ids = [user.pk for user in users]
    trend: dict[int, list[QualitySnapshot]] = {pk: [] for pk in ids}
    snapshots = QualitySnapshot.objects.filter(user_id__in=ids, on__gt=today - timedelta(days=days)).order_by("on")
    for snapshot in snapshots:
        trend[snapshot.user_id].append(snapshot)
    return trend


@dataclass(frozen=True)
class WeekScore:
    starts_on: date
    ends_on: date
    score: int | None  # the week's last snapshot; None when the job did not run that week

    @property
    def band(self) -> str:
        return score_band(self.score)


def weekly(snapshots: list[QualitySnapshot], *, weeks: int, today: date) -> list[WeekScore]:
    """The last snapshot of each of the ``weeks`` seven-day spans ending today, oldest first."""
    spans = []
    for back in reversed(range(weeks)):
        ends_on = today - timedelta(days=7 * back)
        starts_on = ends_on - timedelta(days=6)
        within = [snapshot.score for snapshot in snapshots if starts_on <= snapshot.on <= ends_on]
        spans.append(WeekScore(starts_on=starts_on, ends_on=ends_on, score=within[-1] if within else None))
    return spans

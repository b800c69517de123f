"""Purchase regularity: how often each client orders, who is overdue, whose monthly volume fell.

A client's interval is set by hand (``Regularity.set_days``) or learned from its orders: the
median gap between its last ``LEARN_ORDERS`` order days, once it has ``MIN_ORDERS`` of them.
A client is overdue when the days since its last order pass the interval plus the policy's
margin (``RegularityPolicy.margin_percent``). The periodic job (``regularity_refresh``) keeps
each client's row — its learned interval, last order and since when it is overdue — and tells
the owner and the owner's head once per overdue spell; a new order ends the spell. It also
counts each client's last full month's volume and the average month of the six before; the team
page lists as falling the clients whose month fell below that average by more than the policy's
``fall_percent``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, DecimalField, Exists, F, FloatField, Max, OuterRef, Q, Sum, Value, Window
from django.db.models.functions import Cast, Coalesce, DenseRank, TruncMonth
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.clients.models import Company, Contact
from rapport.core import demo
from rapport.core.bulk import bulk_insert
from rapport.core.models import NotificationLevel
from rapport.core.notifications import Draft, notify_each
from rapport.sales.models import Order
from rapport.supervision.models import Regularity, RegularityPolicy

type AnyClient = Company | Contact
type ClientKey = tuple[str, int]  # ("company", id) or ("contact", id)

# The interval is learned from the gaps between this many latest order days, once there are at least MIN_ORDERS.
LEARN_ORDERS = 12
MIN_ORDERS = 3
# The chart on the card: this many months, the current one last.
CHART_MONTHS = 12
# A fall is the last full month against the average of the months before it.
FALL_MONTHS = 6
# Rows written per statement, and overdue clients told per run (the next run goes on).
BATCH = 500
MAX_TOLD_PER_RUN = 5_000
# The team page lists this many of each, and up to LISTED_ALL when asked for the rest.
LISTED = 50
LISTED_ALL = 1_000
# Bounds of a hand-set rhythm (as the model's validators) and of a volume target (quantity_field).
MAX_DAYS = 3650
VOLUME_LIMIT = Decimal(10) ** 9


# ---- The rules ------------------------------------------------------------------------------------


def learned_interval(days: Iterable[date]) -> int | None:
    """The median gap, in whole days (halves rounded up), between the latest LEARN_ORDERS distinct order days;
    None below MIN_ORDERS of them. Two orders on one day count as one: a split shipment is not a rhythm."""
    latest = sorted(set(days), reverse=True)[:LEARN_ORDERS]
    if len(latest) < MIN_ORDERS:
        return None
    gaps = [(later - earlier).days for later, earlier in itertools.pairwise(latest)]
    return max(1, math.floor(statistics.median(gaps) + 0.5))


def overdue_from(last_order_on: date, interval: int, margin_percent: int) -> date:
    """The first day a client is overdue: when the days since its last order pass the interval plus the margin."""
    return last_order_on + timedelta(days=interval * (100 + margin_percent) // 100 + 1)


def _overdue_since(row: Regularity, margin_percent: int, today: date) -> date | None:
    interval = row.interval_days
    if interval is None or row.last_order_on is None:
        return None
    since = overdue_from(row.last_order_on, interval, margin_percent)
    return since if since <= today else None


def client_of(row: Regularity | Order) -> AnyClient:
    client = row.company if row.company_id else row.contact
    assert client is not None
    return client


def _key(client: AnyClient) -> ClientKey:
    return (client.kind, client.pk)


# ---- The periodic job -----------------------------------------------------------------------------


@dataclass
class RefreshReport:
    clients: int = 0  # with orders
    created: int = 0
    updated: int = 0
    overdue: int = 0
    told: int = 0  # overdue clients whose owner and head were told in this run
    notifications: int = 0


def _alive() -> Q:
    """Of a client not in the trash (an order's or a regularity row's)."""
    return Q(company__isnull=False, company__deleted_at__isnull=True) | Q(
        contact__isnull=False, contact__deleted_at__isnull=True
    )


def _order_days(today: date) -> dict[ClientKey, list[date]]:
    """Each living client's latest LEARN_ORDERS distinct order days up to today, in one pass over the orders."""
    rows = (
        Order.objects.filter(_alive(), on__lte=today)
        .annotate(rank=Window(DenseRank(), partition_by=[F("company_id"), F("contact_id")], order_by=F("on").desc()))
        .filter(rank__lte=LEARN_ORDERS)
        .order_by()
        .values_list("company_id", "contact_id", "on")
    )
    days: dict[ClientKey, list[date]] = {}
    for company_id, contact_id, on in rows.iterator(chunk_size=10_000):
        key = ("company", company_id) if company_id else ("contact", contact_id)
        days.setdefault(key, []).append(on)
    return days


@dataclass(frozen=True)
class Volumes:
    of: date  # the first day of the last full month
    month: Decimal  # shipped in it
    average: Decimal  # a month of the FALL_MONTHS before it (empty months count as 0)


def _volumes(today: date) -> dict[ClientKey, Volumes]:
    """Each living client's last full month's volume and its average month before, in one grouped query."""
    last_month = _month_start(today, 1)
    zero = Value(Decimal(0), output_field=DecimalField())
    rows = (
        Order.objects.filter(
            _alive(), on__gte=_month_start(today, 1 + FALL_MONTHS), on__lt=_month_start(today), volume__isnull=False
        )
        .values("company_id", "contact_id")
        .annotate(
            month=Coalesce(Sum("volume", filter=Q(on__gte=last_month)), zero),
            before=Coalesce(Sum("volume", filter=Q(on__lt=last_month)), zero),
        )
        .order_by()
    )
    volumes: dict[ClientKey, Volumes] = {}
    for row in rows.iterator(chunk_size=10_000):
        key: ClientKey = ("company", row["company_id"]) if row["company_id"] else ("contact", row["contact_id"])
        average = (Decimal(row["before"]) / FALL_MONTHS).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        volumes[key] = Volumes(of=last_month, month=Decimal(row["month"]), average=average)
    return volumes


CHANGING = (
    "learned_days",
    "last_order_on",
    "overdue_since",
    "notified_on",
    "volumes_of",
    "month_volume",
    "average_volume",
)


def _rows() -> dict[ClientKey, Regularity]:
    rows = Regularity.objects.only("company_id", "contact_id", "set_days", *CHANGING)
    return {
        (("company", row.company_id) if row.company_id else ("contact", row.contact_id)): row  # type: ignore[misc]
        for row in rows.iterator(chunk_size=10_000)
    }


def _assess(
    row: Regularity, days: list[date] | None, volumes: Volumes | None, margin_percent: int, today: date
) -> bool:
    """Bring a row up to date with its client's orders; True when anything changed."""
    before = tuple(getattr(row, name) for name in CHANGING)
    row.volumes_of = volumes.of if volumes else None
    row.month_volume = volumes.month if volumes else None
    row.average_volume = volumes.average if volumes else None
    last = max(days) if days else None
    if last != row.last_order_on:
        row.notified_on = None  # a new order (or one deleted) ends the spell: the next is told again
    row.last_order_on = last
    row.learned_days = learned_interval(days) if days else None
    row.overdue_since = _overdue_since(row, margin_percent, today)
    if row.overdue_since is None:
        row.notified_on = None
    return tuple(getattr(row, name) for name in CHANGING) != before


def regularity_refresh(now: datetime | None = None) -> RefreshReport:
    """The periodic job: learn every client's interval and monthly volumes, flag who is overdue, tell owners and
    heads once a spell.

    Set-based: one pass over the orders (the latest order days of each client, by a window
    function), one grouped query for the monthly volumes, one over the regularity rows, the
    changed rows written in batches. Telling is claimed row by row (``notified_on`` set where
    it was empty), so two runs at once tell each spell once.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    margin = RegularityPolicy.current().margin_percent
    report = RefreshReport()
    history = _order_days(today)
    volumes = _volumes(today)
    rows = _rows()
    report.clients = len(history)
    new: list[Regularity] = []
    changed: list[Regularity] = []
    for key, days in history.items():
        row = rows.get(key)
        if row is None:
            row = Regularity(**{f"{key[0]}_id": key[1]})
            _assess(row, days, volumes.get(key), margin, today)
            new.append(row)
        elif _assess(row, days, volumes.get(key), margin, today):
            changed.append(row)
    for key, row in rows.items():
        if key not in history and _assess(row, None, None, margin, today):
            changed.append(row)
    written = timezone.now()
    for row in changed:
        row.updated_at = written  # bulk_update writes what it is given: auto_now does not apply
    with transaction.atomic():
        Regularity.objects.bulk_create(new, batch_size=BATCH)
        Regularity.objects.bulk_update(changed, [*CHANGING, "updated_at"], batch_size=BATCH)
    report.created, report.updated = len(new), len(changed)
    report.overdue = sum(1 for row in [*rows.values(), *new] if row.overdue_since is not None)
    report.told, report.notifications = _tell(today)
    return report


def _claim(ids: list[int], today: date) -> set[int]:
    """Mark these rows told today where nobody has yet; the ids this call marked."""
    if not ids:
        return set()
    table = connection.ops.quote_name(Regularity._meta.db_table)
    placeholders = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET notified_on = %s WHERE id IN ({placeholders}) "  # noqa: S608  (a quoted name, values bound)
        "AND notified_on IS NULL AND overdue_since IS NOT NULL RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datefield_value(today), *ids])
        return {row[0] for row in cursor.fetchall()}


def _recipients(client: AnyClient) -> list[User]:
    owner = client.owner
    if owner is None:
        return []
    people = [owner]
    head = owner.team.head if owner.team is not None else None
    if head is not None and head.pk != owner.pk:
        people.append(head)
    return people


def _text(row: Regularity, client: AnyClient, user: User, today: date) -> tuple[str, str]:
    with translation.override(user.language_or_default):
        assert row.last_order_on is not None
        title = _("Overdue order: %(client)s") % {"client": client.display_name}
        body = ngettext(
            "Usually orders every %(interval)s day; the last order was on %(date)s, %(days)s days ago. "
            "Owner: %(owner)s.",
            "Usually orders every %(interval)s days; the last order was on %(date)s, %(days)s days ago. "
            "Owner: %(owner)s.",
            row.interval_days or 0,
        ) % {
            "interval": row.interval_days,
            "date": formats.date_format(row.last_order_on, "SHORT_DATE_FORMAT"),
            "days": (today - row.last_order_on).days,
            "owner": client.owner.display_name if client.owner else "",
        }
    return title, body


CLIENT_RELATED = ("company__owner__team__head", "contact__owner__team__head")


def _tell(today: date) -> tuple[int, int]:
    """Tell the owners and heads of the overdue clients not told yet this spell; (clients told, notifications)."""
    waiting = (
        Regularity.objects.filter(overdue_since__isnull=False, notified_on__isnull=True).filter(_alive()).order_by("pk")
    )
    told = sent = 0
    last = 0
    while told < MAX_TOLD_PER_RUN:
        page = list(waiting.filter(pk__gt=last).select_related(*CLIENT_RELATED)[: min(BATCH, MAX_TOLD_PER_RUN - told)])
        if not page:
            break
        last = page[-1].pk
        with transaction.atomic():
            claimed = _claim([row.pk for row in page], today)
            drafts = []
            for row in page:
                if row.pk not in claimed:
                    continue
                client = client_of(row)
                for user in _recipients(client):
                    title, body = _text(row, client, user, today)
                    drafts.append(
                        Draft(
                            recipient=user,
                            title=title,
                            body=body,
                            url=client.get_absolute_url(),
                            level=NotificationLevel.WARNING,
                        )
                    )
            sent += len(notify_each(drafts))
        told += len(claimed)
    return told, sent


# ---- Setting a client's rhythm and the policy -------------------------------------------------------


def regularity_of(client: AnyClient) -> Regularity | None:
    return Regularity.objects.filter(**{client.kind: client}).first()


def _check_target(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if not value.is_finite():
        return _("Enter a number.")
    if value < 0:
        return _("The target cannot be negative.")
    if value >= VOLUME_LIMIT:
        return _("The target is too large.")
    if value != value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP):
        return _("Give at most 3 decimals.")
    return None


@transaction.atomic
def regularity_set(
    *, by: User, client: AnyClient, set_days: int | None, monthly_volume_target: Decimal | None
) -> Regularity:
    """Set a client's interval by hand (None: learn it from the orders) and its monthly volume target (None: none).

    Whether the client is overdue follows at once from its last order; the owner and head are
    told by the next run of the job.
    """
    if not access.can_set_regularity(by, client):
        raise PermissionDenied
    problems: dict[str, str] = {}
    if set_days is not None and not 1 <= set_days <= MAX_DAYS:
        problems["set_days"] = _("Give a number of days from 1 to %(max)s, or leave it empty to learn it.") % {
            "max": MAX_DAYS
        }
    if target_problem := _check_target(monthly_volume_target):
        problems["monthly_volume_target"] = target_problem
    if problems:
        raise ValidationError(problems)
    lookup: dict[str, Any] = {client.kind: client}
    row, _created = Regularity.objects.select_for_update().get_or_create(**lookup)
    row.set_days, row.monthly_volume_target = set_days, monthly_volume_target
    was_overdue = row.overdue_since is not None
    row.overdue_since = _overdue_since(row, RegularityPolicy.current().margin_percent, timezone.localdate())
    if row.overdue_since is None or not was_overdue:
        row.notified_on = None
    row.save(update_fields=["set_days", "monthly_volume_target", "overdue_since", "notified_on", "updated_at"])
    return row


@transaction.atomic
def regularity_policy_set(*, by: User, margin_percent: int, fall_percent: int) -> RegularityPolicy:
    """How late is overdue, how big a fall is worth a look (admins). The next run of the job applies the margin."""
    if not access.can_configure_regularity(by):
        raise PermissionDenied
    problems: dict[str, str] = {}
    if not 0 <= margin_percent <= 500:
        problems["margin_percent"] = _("Give a share from 0 to 500 %.")
    if not 1 <= fall_percent <= 100:
        problems["fall_percent"] = _("Give a share from 1 to 100 %.")
    if problems:
        raise ValidationError(problems)
    policy = RegularityPolicy.current()
    policy.margin_percent, policy.fall_percent, policy.updated_by = margin_percent, fall_percent, by
    policy.save(update_fields=["margin_percent", "fall_percent", "updated_by", "updated_at"])
    return policy


# ---- Reading: the card's chart, the team's overdue and falling clients --------------------------------


def _month_start(day: date, back: int = 0) -> date:
    """The first day of the month ``back`` months before ``day``'s."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class MonthVolume:
    month: date  # its first day
    volume: Decimal
    orders: int


@dataclass(frozen=True)
class VolumeHistory:
    months: list[MonthVolume]
    last_order_on: date | None  # within those months


def volume_by_month(client: AnyClient, months: int = CHART_MONTHS, today: date | None = None) -> VolumeHistory:
    """The client's shipped volume per month over the last ``months`` (the current one last, empty months at 0),
    in one grouped query along the client's orders index."""
    today = today or timezone.localdate()
    start = _month_start(today, months - 1)
    rows = (
        Order.objects.filter(**{client.kind: client}, on__gte=start, on__lte=today)
        .annotate(month=TruncMonth("on"))
        .values("month")
        .annotate(volume=Sum("volume"), orders=Count("pk"), last=Max("on"))
        .order_by("month")
    )
    found = {row["month"]: row for row in rows}
    series = []
    for back in range(months - 1, -1, -1):
        month = _month_start(today, back)
        row = found.get(month)
        series.append(
            MonthVolume(
                month=month,
                volume=Decimal(row["volume"] or 0) if row else Decimal(0),
                orders=row["orders"] if row else 0,
            )
        )
    return VolumeHistory(months=series, last_order_on=max((row["last"] for row in found.values()), default=None))


@dataclass(frozen=True)
class OverdueClient:
    row: Regularity
    client: AnyClient
    days_since: int  # since the last order


def _no_later_order(today: date) -> Q:
    """No order after the one the job last saw (a new one ends the spell even before the job runs again)."""
    later = Order.objects.filter(on__gt=OuterRef("last_order_on"), on__lte=today)
    return ~Q(Exists(later.filter(company_id=OuterRef("company_id")))) & ~Q(
        Exists(later.filter(contact_id=OuterRef("contact_id")))
    )


def overdue_rows(today: date | None = None) -> Any:
    """Regularity rows flagged overdue, of living clients with no order since: filter them by scope or people."""
    today = today or timezone.localdate()
    return Regularity.objects.filter(overdue_since__isnull=False).filter(_alive()).filter(_no_later_order(today))


def overdue_clients(people: Sequence[User], today: date | None = None, *, limit: int = LISTED) -> list[OverdueClient]:
    """The overdue clients these people own, the longest overdue first (one query)."""
    today = today or timezone.localdate()
    ids = [person.pk for person in people]
    rows = (
        overdue_rows(today)
        .filter(Q(company__owner_id__in=ids) | Q(contact__owner_id__in=ids))
        .select_related("company__owner", "contact__owner")
        .order_by("overdue_since", "pk")[:limit]
    )
    return [
        OverdueClient(row=row, client=client_of(row), days_since=(today - row.last_order_on).days)
        for row in rows
        if row.last_order_on is not None
    ]


@dataclass(frozen=True)
class FallingClient:
    kind: str
    pk: int
    name: str
    owner: User | None
    last_month: Decimal
    average: Decimal  # over the FALL_MONTHS before
    fall_percent: int

    @property
    def url(self) -> str:
        model = Company if self.kind == "company" else Contact
        return model(pk=self.pk).get_absolute_url()


def falling_clients(
    people: Sequence[User], policy: RegularityPolicy, today: date | None = None, *, limit: int = LISTED
) -> list[FallingClient]:
    """Clients of these people whose last full month's volume fell by more than the policy's share against their
    average month of the FALL_MONTHS before, as this morning's job counted them: one query over their rows."""
    today = today or timezone.localdate()
    owners = {person.pk: person for person in people}
    ids = list(owners)
    names = {
        "company": ("company__name",),
        "contact": ("contact__last_name", "contact__first_name", "contact__middle_name"),
    }
    rows = (
        Regularity.objects.filter(volumes_of=_month_start(today, 1), average_volume__gt=0)
        .filter(_alive())
        .filter(Q(company__owner_id__in=ids) | Q(contact__owner_id__in=ids))
        # month < average × (100 − fall) %, multiplied out: no division.
        .alias(month_scaled=F("month_volume") * 100)
        .filter(month_scaled__lt=F("average_volume") * (100 - policy.fall_percent))
        # The largest fall first (the smallest share of the average kept), the first ``limit`` only.
        .order_by(Cast("month_volume", FloatField()) / Cast("average_volume", FloatField()), "pk")
        .values(
            "company_id",
            "contact_id",
            "company__owner_id",
            "contact__owner_id",
            "month_volume",
            "average_volume",
            *names["company"],
            *names["contact"],
        )[:limit]
    )
    found: list[FallingClient] = []
    for row in rows:
        kind = "company" if row["company_id"] else "contact"
        month, average = Decimal(row["month_volume"]), Decimal(row["average_volume"])
        found.append(
            FallingClient(
                kind=kind,
                pk=row[f"{kind}_id"],
                name=" ".join(str(row[name]) for name in names[kind] if row[name]),
                owner=owners.get(row[f"{kind}__owner_id"]),
                last_month=month,
                average=average,
                fall_percent=int(((average - month) * 100 / average).to_integral_value(rounding=ROUND_HALF_UP)),
            )
        )
    return sorted(found, key=lambda item: (-item.fall_percent, item.name))


# ---- Demo data ------------------------------------------------------------------------------------

# Share of the demo manager's team's companies that order, at least / at most this many.
DEMO_SHARE = 10
DEMO_MIN = 30
DEMO_MAX = 2_000
DEMO_HISTORY_DAYS = 400


def _demo_orders(
    context: demo.DemoContext, companies: list[int], today: date
) -> tuple[list[tuple[Any, ...]], list[tuple[int, Decimal]]]:
    """Orders (company, day, amount, volume) on a rhythm with noise; a sixth stopped ordering (overdue), a sixth
    shipped a third of its usual volume last month (falling). And the monthly targets of half the clients."""
    rng = context.rng
    last_month = _month_start(today, 1)
    this_month = _month_start(today)
    rows: list[tuple[Any, ...]] = []
    targets: list[tuple[int, Decimal]] = []
    for company_id in companies:
        interval = rng.randint(14, 45)
        volume = Decimal(rng.randint(20, 400)) / 10
        price = Decimal(rng.randint(80, 400))
        fate = rng.random()
        stops = today - timedelta(days=int(interval * rng.uniform(2, 4))) if fate < 1 / 6 else today
        day = today - timedelta(days=DEMO_HISTORY_DAYS - rng.randint(0, interval))
        while day <= stops:
            shipped = volume * Decimal(rng.randint(80, 120)) / 100
            if 1 / 6 <= fate < 2 / 6 and last_month <= day < this_month:
                shipped = shipped / 3
            shipped = shipped.quantize(Decimal("0.001"))
            rows.append((company_id, day, (shipped * price).quantize(Decimal("0.01")), shipped))
            day += timedelta(days=max(1, interval + rng.randint(-interval // 4, interval // 4)))
        if rng.random() < 0.5:
            targets.append((company_id, (volume * 30 / interval).quantize(Decimal(1))))
    return rows, targets


def load_demo(context: demo.DemoContext) -> None:
    """Orders for a tenth of the demo manager's team's companies (at least 30, at most 2,000), some overdue and some
    falling, monthly targets for half of them; then the periodic job's first run."""
    manager = next((user for user in context.managers if user.username == "manager"), None)
    if manager is None or manager.team_id is None:
        return
    team = [
        user.pk
        for users in context.users_by_role.values()
        for user in users
        if user.team_id == manager.team_id and user.role in {Role.MANAGER, Role.HEAD}
    ]
    owned = list(
        Company.objects.filter(owner_id__in=team, deleted_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    count = min(len(owned), DEMO_MAX, max(DEMO_MIN, len(owned) * DEMO_SHARE // 100))
    companies = sorted(context.rng.sample(owned, count))
    now = timezone.now()
    rows, targets = _demo_orders(context, companies, timezone.localdate(now))
    currency = settings.RAPPORT_DEFAULT_CURRENCY
    bulk_insert(
        Order,
        ["company_id", "on", "amount", "currency", "volume", "created_at", "updated_at"],
        ((company_id, day, amount, currency, volume, now, now) for company_id, day, amount, volume in rows),
    )
    bulk_insert(Regularity, ["company_id", "monthly_volume_target"], targets)
    report = regularity_refresh(now)
    context.log(
        f"  {len(rows)} orders of {len(companies)} companies; {report.overdue} overdue, {report.notifications} told"
    )

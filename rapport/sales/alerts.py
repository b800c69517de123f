"""Deviation alerts: deals off their checkpoints or stuck in a stage, reported once to the owner and their head.

A DealAlert row per deviation, unique on (deal, kind, subject), is both the memory of what
was reported and the lock that makes it happen once: rows go in with
``INSERT … ON CONFLICT DO NOTHING RETURNING``, and only the deviations whose rows this run
inserted are notified, in the same transaction. Two runs at once therefore never report
one deviation twice. The subject of a stuck deal names the stage and when the deal entered
it, so a deal that moves on and later gets stuck again is reported again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.accounts.models import User
from rapport.core.models import NotificationLevel
from rapport.core.notifications import Draft, notify_each
from rapport.sales.models import Deal, DealAlert, DealCheckpoint, Stage

BATCH = 500
# A run reports at most this many deviations of each kind; the next run (30 minutes later) goes on.
MAX_PER_RUN = 5_000


@dataclass
class DeviationReport:
    checkpoints: int = 0
    stuck: int = 0
    notifications: int = 0


@dataclass(frozen=True)
class _Deviation:
    deal: Deal
    kind: str
    subject: str
    checkpoint: DealCheckpoint | None = None
    days: int = 0


def _recipients(deal: Deal) -> list[User]:
    owner = deal.owner
    if owner is None:
        return []
    people = [owner]
    head = owner.team.head if owner.team is not None else None
    if head is not None and head.pk != owner.pk:
        people.append(head)
    return people


def _text(deviation: _Deviation, user: User) -> tuple[str, str]:
    deal = deviation.deal
    with translation.override(user.language_or_default):
        owner = deal.owner.display_name if deal.owner else ""
        client = deal.client_name
        if deviation.checkpoint is not None:
            title = _("Checkpoint overdue: “%(checkpoint)s” for “%(deal)s”") % {
                "checkpoint": deviation.checkpoint.type.name,
                "deal": deal.title,
            }
            body = _("It was due on %(date)s. Client: %(client)s. Owner: %(owner)s.") % {
                "date": formats.date_format(deviation.checkpoint.due_date, "SHORT_DATE_FORMAT"),
                "client": client,
                "owner": owner,
            }
        else:
            title = ngettext(
                "Deal stuck: “%(deal)s” has been in “%(stage)s” for %(days)s day",
                "Deal stuck: “%(deal)s” has been in “%(stage)s” for %(days)s days",
                deviation.days,
            ) % {"deal": deal.title, "stage": deal.stage.name, "days": deviation.days}
            body = ngettext(
                "The norm for this stage is %(norm)s day. Client: %(client)s. Owner: %(owner)s.",
                "The norm for this stage is %(norm)s days. Client: %(client)s. Owner: %(owner)s.",
                deal.stage.stale_after_days or 0,
            ) % {"norm": deal.stage.stale_after_days, "client": client, "owner": owner}
    return title, body


def _claim(deviations: list[_Deviation], at: datetime) -> set[tuple[int, str, str]]:
    """Insert the alert rows; return the keys this call inserted (not those another run already holds)."""
    if not deviations:
        return set()
    table = connection.ops.quote_name(DealAlert._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(deviations))
    params: list[int | str | datetime] = []
    for deviation in deviations:
        params += [deviation.deal.pk, deviation.kind, deviation.subject, at]
    sql = (
        f"INSERT INTO {table} (deal_id, kind, subject, at) VALUES {values} "  # noqa: S608  (names quoted, values bound)
        "ON CONFLICT (deal_id, kind, subject) DO NOTHING RETURNING deal_id, kind, subject"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(deal_id, kind, subject) for deal_id, kind, subject in cursor.fetchall()}


def _report(deviations: list[_Deviation], at: datetime) -> tuple[int, int]:
    """Record and notify one batch in one transaction; returns the notifications sent and deviations reported."""
    with transaction.atomic():
        claimed = _claim(deviations, at)
        drafts: list[Draft] = []
        for deviation in deviations:
            if (deviation.deal.pk, deviation.kind, deviation.subject) not in claimed:
                continue
            for user in _recipients(deviation.deal):
                title, body = _text(deviation, user)
                drafts.append(
                    Draft(
                        recipient=user,
                        title=title,
                        body=body,
                        url=deviation.deal.get_absolute_url(),
                        level=NotificationLevel.WARNING,
                    )
                )
        return len(notify_each(drafts)), len(claimed)


DEAL_RELATED = ("deal__owner__team__head", "deal__company", "deal__contact", "deal__stage")


def _overdue_checkpoints(today: date) -> QuerySet[DealCheckpoint]:
    reported = DealAlert.objects.filter(
        deal=OuterRef("deal_id"),
        kind=DealAlert.Kind.CHECKPOINT_OVERDUE,
        subject=Cast(OuterRef("pk"), output_field=CharField()),
    )
    return (
        DealCheckpoint.objects.filter(
            done_at__isnull=True,
            due_date__lt=today,
            deal__closed_at__isnull=True,
            deal__deleted_at__isnull=True,
        )
        .exclude(Exists(reported))
        .select_related("type", *DEAL_RELATED)
        .order_by("pk")
    )


def _stuck_in(stage: Stage, now: datetime) -> QuerySet[Deal]:
    assert stage.stale_after_days is not None
    # Reported during this stay in the stage: an alert for the stage written after the deal entered it.
    reported = DealAlert.objects.filter(
        deal=OuterRef("pk"),
        kind=DealAlert.Kind.STUCK,
        subject__startswith=f"{stage.pk}@",
        at__gte=OuterRef("stage_entered_at"),
    )
    return (
        Deal.objects.open()
        .filter(stage=stage, stage_entered_at__lt=now - timedelta(days=stage.stale_after_days))
        .exclude(Exists(reported))
        .select_related("owner__team__head", "company", "contact", "stage")
        .order_by("pk")
    )


def _batches[Row: (DealCheckpoint, Deal)](rows: QuerySet[Row], limit: int) -> Iterable[list[Row]]:
    """Keyset pages of ``rows`` (ordered by pk), at most ``limit`` rows in all."""
    last = 0
    taken = 0
    while taken < limit:
        page = list(rows.filter(pk__gt=last)[: min(BATCH, limit - taken)])
        if not page:
            return
        yield page
        taken += len(page)
        last = page[-1].pk


def deviations_report(now: datetime | None = None) -> DeviationReport:
    """Find overdue checkpoints and stuck deals not reported yet, notify the owners and their heads, record them."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    report = DeviationReport()
    # The real time, not ``now``: "reported during this stay in the stage" compares it with when the deal entered.
    reported_at = timezone.now()

    for checkpoints in _batches(_overdue_checkpoints(today), MAX_PER_RUN):
        deviations = [
            _Deviation(
                deal=checkpoint.deal,
                kind=DealAlert.Kind.CHECKPOINT_OVERDUE,
                subject=str(checkpoint.pk),
                checkpoint=checkpoint,
            )
            for checkpoint in checkpoints
        ]
        sent, claimed = _report(deviations, reported_at)
        report.notifications += sent
        report.checkpoints += claimed

    budget = MAX_PER_RUN
    for stage in Stage.objects.filter(stale_after_days__isnull=False, stale_after_days__gt=0).order_by("pk"):
        for deals in _batches(_stuck_in(stage, now), budget):
            deviations = [
                _Deviation(
                    deal=deal,
                    kind=DealAlert.Kind.STUCK,
                    subject=f"{stage.pk}@{deal.stage_entered_at.isoformat()}",
                    days=deal.days_in_stage(today),
                )
                for deal in deals
            ]
            sent, claimed = _report(deviations, reported_at)
            report.notifications += sent
            report.stuck += claimed
            budget -= len(deals)
        if budget <= 0:
            break
    return report

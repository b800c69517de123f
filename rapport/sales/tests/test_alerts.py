"""Deviation alerts: overdue checkpoints and stuck deals reach the owner and their head, once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from rapport.accounts.models import User
from rapport.core.models import JobRun, Notification
from rapport.sales import services
from rapport.sales.alerts import deviations_report
from rapport.sales.models import Deal, DealAlert, DealCheckpoint, Pipeline, Stage
from rapport.sales.tasks import DEVIATION_ALERTS, deal_deviation_alerts
from rapport.sales.tests.factories import lost_reason, stage


def in_days(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def no_norms(pipeline: Pipeline) -> None:
    Stage.objects.filter(pipeline=pipeline).update(stale_after_days=None)


def titles_for(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("title", flat=True))


def test_an_overdue_proposal_is_reported_to_owner_and_head_once(
    deal: Deal, manager: User, head: User, teammate: User, no_norms: None
) -> None:
    presentation = deal.checkpoints.get(type__name="Presentation")
    services.deal_checkpoint_set(by=manager, checkpoint=presentation, done=True)
    # Fifteen days on, the proposal (due in 14 days) is late; the contract (30 days) is not yet.
    report = deviations_report(now=in_days(15))
    assert (report.checkpoints, report.stuck, report.notifications) == (1, 0, 2)

    expected = "Checkpoint overdue: “Commercial proposal” for “Chairs for the office”"
    assert titles_for(manager) == [expected]
    assert titles_for(head) == [expected]
    assert titles_for(teammate) == []
    note = Notification.objects.get(recipient=manager)
    assert note.url == f"/sales/deals/{deal.pk}/"
    assert note.level == "warning"
    assert "Client: Acme Trading. Owner: Mark Manager." in note.body
    proposal = deal.checkpoints.get(type__name="Commercial proposal")
    assert DealAlert.objects.get().subject == str(proposal.pk)

    # The next runs add nothing.
    again = deviations_report(now=in_days(16))
    assert (again.checkpoints, again.notifications) == (0, 0)
    assert Notification.objects.count() == 2


def test_done_checkpoints_and_closed_deals_are_not_reported(deal: Deal, manager: User, no_norms: None) -> None:
    DealCheckpoint.objects.filter(deal=deal).update(due_date=timezone.localdate() - timedelta(days=3))
    lost = Stage.objects.get(pipeline=deal.pipeline, name="Lost")
    services.deal_move_to_stage(by=manager, deal=deal, stage=lost, lost_reason=lost_reason())
    assert deviations_report().checkpoints == 0
    assert not Notification.objects.exists()


def test_a_deviation_another_run_already_claimed_is_not_notified_again(
    deal: Deal, manager: User, no_norms: None
) -> None:
    overdue = deal.checkpoints.get(type__name="Presentation")
    DealCheckpoint.objects.filter(pk=overdue.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    # As if a run overlapping this one had just recorded it.
    DealAlert.objects.create(deal=deal, kind=DealAlert.Kind.CHECKPOINT_OVERDUE, subject=str(overdue.pk))
    assert deviations_report().notifications == 0
    assert not Notification.objects.exists()


def test_a_stuck_deal_is_reported_and_again_after_it_moves_and_gets_stuck_again(
    deal: Deal, manager: User, head: User
) -> None:
    DealCheckpoint.objects.filter(deal=deal).update(due_date=timezone.localdate() + timedelta(days=365))
    qualification = deal.stage  # norm: 14 days
    report = deviations_report(now=in_days(20))
    assert (report.stuck, report.checkpoints) == (1, 0)
    title = "Deal stuck: “Chairs for the office” has been in “Qualification” for 20 days"
    assert titles_for(manager) == [title]
    assert titles_for(head) == [title]
    alert = DealAlert.objects.get()
    assert alert.subject == f"{qualification.pk}@{deal.stage_entered_at.isoformat()}"
    assert deviations_report(now=in_days(21)).stuck == 0

    services.deal_move_to_stage(by=manager, deal=deal, stage=stage(deal.pipeline, "Presentation"))
    deal = services.deal_move_to_stage(by=manager, deal=Deal.objects.get(pk=deal.pk), stage=qualification)
    assert deviations_report(now=in_days(1)).stuck == 0  # back, but within the norm
    assert deviations_report(now=in_days(15)).stuck == 1
    assert DealAlert.objects.count() == 2
    assert len(titles_for(manager)) == 2


def test_a_deal_without_a_team_head_notifies_its_owner(deal: Deal, manager: User, head: User) -> None:
    manager.team = None
    manager.save(update_fields=["team"])
    DealCheckpoint.objects.filter(deal=deal).update(due_date=timezone.localdate() + timedelta(days=365))
    deviations_report(now=in_days(20))
    assert len(titles_for(manager)) == 1
    assert titles_for(head) == []


def test_the_periodic_job_reports_and_records_its_run(deal: Deal, manager: User, no_norms: None) -> None:
    DealCheckpoint.objects.filter(deal=deal).update(due_date=timezone.localdate() - timedelta(days=1))
    deal_deviation_alerts.enqueue()
    assert DealAlert.objects.count() == 3  # presentation, proposal and contract are all late now
    assert JobRun.objects.get(name=DEVIATION_ALERTS).runs == 1

"""Quiet hours (default 21:00–08:00): nothing is pushed inside them; jobs wait in the outbox until they end."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from branches.models import Channel, Delivery, DeliveryStatus, Message, Outbox, OutboxStatus
from branches.notify import Defer, outbox_relay, outbox_run, quiet_until
from campaigns.models import DispatchBatch, DispatchRun, DispatchStatus, NoticeKind, Reminder, ReminderStatus
from campaigns.reminders.dispatch import dispatch_batch, dispatch_day, dispatch_finish, remind_now
from campaigns.services import notices
from tests.reminders.support import at, entry_due, inbox

DAY = date(2026, 6, 13)
NIGHT = at(DAY, 22)
MORNING = at(DAY + timedelta(days=1), 8)

# --- quiet_until --------------------------------------------------------------------------------------

START, END = time(21, 0), time(8, 0)


@pytest.mark.parametrize(
    ("clock", "until"),
    [
        (time(21, 0), at(DAY + timedelta(days=1), 8)),
        (time(23, 59, 59), at(DAY + timedelta(days=1), 8)),
        (time(0, 0), at(DAY, 8)),
        (time(7, 59, 59), at(DAY, 8)),
    ],
)
def test_inside_quiet_hours_spanning_midnight_the_wait_ends_at_the_next_quiet_end(clock, until):
    now = timezone.make_aware(datetime.combine(DAY, clock))
    assert quiet_until(now, START, END) == until


@pytest.mark.parametrize("clock", [time(8, 0), time(12, 0), time(20, 59, 59)])
def test_outside_quiet_hours_there_is_no_wait(clock):
    assert quiet_until(timezone.make_aware(datetime.combine(DAY, clock)), START, END) is None


def test_quiet_hours_are_read_in_the_local_time_zone():
    utc = datetime.fromisoformat("2026-06-13T13:30:00+00:00")  # 21:30 in Asia/Shanghai
    assert quiet_until(utc, START, END) == at(DAY + timedelta(days=1), 8)


def test_quiet_hours_within_one_day_end_the_same_day():
    lunch = (time(12, 0), time(14, 0))
    assert quiet_until(at(DAY, 13), *lunch) == at(DAY, 14)
    assert quiet_until(at(DAY, 14), *lunch) is None
    assert quiet_until(at(DAY, 11), *lunch) is None


def test_quiet_hours_ending_at_midnight_end_on_the_next_day():
    assert quiet_until(at(DAY, 23), time(22, 0), time(0, 0)) == at(DAY + timedelta(days=1), 0)


@pytest.mark.parametrize(("start", "end"), [(None, END), (START, None), (None, None), (START, START)])
def test_no_quiet_hours_when_not_set_or_empty(start, end):
    assert quiet_until(at(DAY, 23), start, end) is None


# --- the dispatcher -------------------------------------------------------------------------------------


@pytest.fixture
def overdue(tree, campaign, without_obligations, branch_secretary):
    branch_secretary.email = "a1@example.com"
    branch_secretary.save()
    return entry_due(campaign, tree.a1, DAY - timedelta(days=3))


def _run(tree) -> DispatchRun:
    """A run with its batches, started without running anything."""
    with time_machine.travel(at(DAY, 6), tick=False):
        return dispatch_day(committee=tree.gw, day=DAY)  # outbox jobs stay pending: on_commit never fires


@pytest.mark.django_db
def test_a_batch_inside_quiet_hours_writes_the_log_and_defers_to_the_end_of_quiet_hours(
    tree, overdue, branch_secretary
):
    run = _run(tree)
    batch = DispatchBatch.objects.get(run=run, org_ids=[tree.a.pk])
    with pytest.raises(Defer) as deferred:
        dispatch_batch(batch.pk, now=NIGHT)
    assert deferred.value.until == MORNING
    assert Reminder.objects.get(recipient=branch_secretary).status == ReminderStatus.PENDING
    assert inbox(branch_secretary) == []


@pytest.mark.django_db
def test_a_batch_just_before_quiet_hours_end_defers_to_the_same_morning(tree, overdue):
    run = _run(tree)
    batch = DispatchBatch.objects.get(run=run, org_ids=[tree.a.pk])
    with pytest.raises(Defer) as deferred:
        dispatch_batch(batch.pk, now=at(DAY, 7, 59))
    assert deferred.value.until == at(DAY, 8)


@pytest.mark.django_db
def test_a_batch_at_the_end_of_quiet_hours_sends(
    tree, overdue, branch_secretary, django_capture_on_commit_callbacks
):
    run = _run(tree)
    batch = DispatchBatch.objects.get(run=run, org_ids=[tree.a.pk])
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_batch(batch.pk, now=at(DAY, 8))
    assert len(inbox(branch_secretary)) == 1


@pytest.mark.django_db
def test_the_finish_of_a_run_inside_quiet_hours_defers(tree, overdue, committee_staff):
    run = _run(tree)
    with pytest.raises(Defer) as deferred:
        dispatch_finish(run.pk, now=at(DAY, 23, 30))
    assert deferred.value.until == MORNING
    assert DispatchRun.objects.get(pk=run.pk).status == DispatchStatus.RUNNING


@pytest.mark.django_db
def test_without_quiet_hours_a_batch_sends_at_night(tree, policy, overdue, branch_secretary):
    policy.quiet_start = policy.quiet_end = None
    policy.save()
    run = _run(tree)
    batch = DispatchBatch.objects.get(run=run, org_ids=[tree.a.pk])
    dispatch_batch(batch.pk, now=NIGHT)
    assert len(inbox(branch_secretary)) == 1


@pytest.mark.django_db
def test_a_run_started_at_night_waits_in_the_outbox_and_goes_out_at_quiet_end(
    tree, overdue, branch_secretary, django_capture_on_commit_callbacks
):
    with time_machine.travel(NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        run = dispatch_day(committee=tree.gw, day=DAY)
    jobs = Outbox.objects.filter(task="campaigns.tasks.dispatch_reminder_batch")
    assert jobs.count() == run.batches_total
    assert {(j.status, j.available_at, j.attempts) for j in jobs} == {(OutboxStatus.PENDING, MORNING, 0)}
    assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 1  # logged, not sent
    assert inbox(branch_secretary) == [] and mail.outbox == []

    with time_machine.travel(MORNING - timedelta(minutes=1), tick=False):
        assert outbox_relay() == 0  # not yet due

    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        outbox_relay()
    run.refresh_from_db()
    assert run.status == DispatchStatus.DONE
    assert len(inbox(branch_secretary)) == 1
    assert [m.to for m in mail.outbox] == [["a1@example.com"]]
    assert set(Outbox.objects.values_list("status", flat=True)) == {OutboxStatus.DONE}


@pytest.mark.django_db
def test_a_deferred_job_is_run_again_by_outbox_run_without_spending_an_attempt(
    tree, overdue, django_capture_on_commit_callbacks
):
    with time_machine.travel(NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        dispatch_day(committee=tree.gw, day=DAY)
    job = Outbox.objects.filter(task="campaigns.tasks.dispatch_reminder_batch").first()
    with time_machine.travel(NIGHT + timedelta(hours=1), tick=False):
        assert outbox_run(job.pk) == "deferred"
    job.refresh_from_db()
    assert (job.status, job.available_at, job.attempts) == (OutboxStatus.PENDING, MORNING, 0)


# --- pushes outside the daily run -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_notice_published_at_23_reaches_the_inbox_at_once_and_e_mail_at_8(
    tree, campaign, agency_staff, branch_secretary, django_capture_on_commit_callbacks
):
    branch_secretary.email = "a1@example.com"
    branch_secretary.save()
    notice = notices.notice_draft(campaign=campaign, actor=agency_staff, scope=tree.a, kind=NoticeKind.WORK)
    with time_machine.travel(at(DAY, 23), tick=False), django_capture_on_commit_callbacks(execute=True):
        notices.notice_publish(notice=notice, actor=agency_staff)
    assert Message.objects.filter(recipient=branch_secretary, source_key=f"notice:{notice.pk}").exists()
    delivery = Delivery.objects.get(channel=Channel.EMAIL, recipient=branch_secretary)
    assert delivery.not_before == MORNING
    assert delivery.status == DeliveryStatus.PENDING
    assert mail.outbox == []

    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        outbox_relay()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert [m.to for m in mail.outbox] == [["a1@example.com"]]


@pytest.mark.django_db
def test_a_notice_published_in_the_day_is_e_mailed_at_once(
    tree, campaign, agency_staff, branch_secretary, django_capture_on_commit_callbacks
):
    branch_secretary.email = "a1@example.com"
    branch_secretary.save()
    notice = notices.notice_draft(campaign=campaign, actor=agency_staff, scope=tree.a, kind=NoticeKind.WORK)
    with time_machine.travel(at(DAY, 15), tick=False), django_capture_on_commit_callbacks(execute=True):
        notices.notice_publish(notice=notice, actor=agency_staff)
    assert [m.to for m in mail.outbox] == [["a1@example.com"]]


@pytest.mark.django_db
def test_a_reminder_sent_at_once_at_night_reaches_the_inbox_now_and_e_mail_after_quiet_hours(
    tree, campaign, without_obligations, branch_secretary, django_capture_on_commit_callbacks
):
    branch_secretary.email = "a1@example.com"
    branch_secretary.save()
    entry_due(campaign, tree.a1, DAY - timedelta(days=3))
    with time_machine.travel(NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        remind_now(committee=tree.gw, source="entry")
    assert len(inbox(branch_secretary)) == 1
    assert Delivery.objects.get(channel=Channel.EMAIL).not_before == MORNING
    assert mail.outbox == []

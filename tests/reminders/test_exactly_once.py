"""Exactly once (R12): a day dispatched twice, a batch re-run, a digest composed twice send nothing twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail

from branches.models import Delivery, Message, Outbox
from campaigns.models import DispatchBatch, DispatchRun, DispatchStatus, Reminder, ReminderStatus
from campaigns.reminders.dispatch import compose, dispatch_batch, dispatch_day, dispatch_finish, write_log
from campaigns.reminders.planner import plan
from tests.reminders.support import at, entry_due, inbox, rectification_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_obligations")]

DUE = date(2026, 6, 10)
DAY = DUE + timedelta(days=7)


@pytest.fixture
def items(tree, campaign, branch_secretary, outsider_secretary, agency_staff):
    """Overdue work in A1, A2 and B1; the A1 secretary and the A staff read e-mail."""
    for user, address in ((branch_secretary, "a1@example.com"), (agency_staff, "a@example.com")):
        user.email = address
        user.save()
    entry_due(campaign, tree.a1, DUE)
    entry_due(campaign, tree.a2, DUE)
    entry_due(campaign, tree.b1, DUE)
    entry_due(campaign, tree.a1, DUE + timedelta(days=4))  # 3 days overdue on DAY
    rectification_due(campaign, tree.a1, DAY)


def counts() -> tuple[int, int, int, int]:
    return Reminder.objects.count(), Message.objects.count(), Delivery.objects.count(), len(mail.outbox)


def test_dispatching_the_same_day_twice_sends_nothing_twice(items, run_day):
    run_day(DAY)
    first = counts()
    assert first[0] > 0 and first[3] > 0
    again = run_day(DAY)
    assert counts() == first
    assert again.status == DispatchStatus.DONE
    assert DispatchRun.objects.count() == 1


def test_each_key_is_logged_once_and_carried_by_one_message(items, run_day):
    run_day(DAY)
    keys = list(Reminder.objects.values_list("recipient_id", "item_key", "kind", "period"))
    assert len(keys) == len(set(keys))
    assert not Reminder.objects.filter(status=ReminderStatus.PENDING).exists()
    assert not Reminder.objects.filter(message__isnull=True).exists()


def test_re_running_a_batch_and_the_finish_after_a_crash_sends_nothing_twice(items, run_day, tree):
    run = run_day(DAY)
    first = counts()
    # As if the worker died after sending but before marking the batch and the run done.
    DispatchBatch.objects.filter(run=run).update(status=DispatchStatus.RUNNING)
    DispatchRun.objects.filter(pk=run.pk).update(status=DispatchStatus.RUNNING)
    for batch in DispatchBatch.objects.filter(run=run):
        dispatch_batch(batch.pk, now=at(DAY, 10), respect_quiet=False, finish=False)
    dispatch_finish(run.pk, now=at(DAY, 10), respect_quiet=False)
    assert counts() == first


def test_a_batch_already_done_is_skipped(items, run_day):
    run = run_day(DAY)
    batch = DispatchBatch.objects.filter(run=run).first()
    assert dispatch_batch(batch.pk, now=at(DAY, 10)) == 0


def test_composing_twice_sends_one_message(
    tree, policy, items, branch_secretary, django_capture_on_commit_callbacks
):
    write_log(plan(committee=tree.gw, day=DAY), committee=tree.gw, run=None, day=DAY)
    with django_capture_on_commit_callbacks(execute=True):
        sent = compose(committee=tree.gw, day=DAY, recipient_ids=[branch_secretary.pk], now=at(DAY, 10))
        again = compose(committee=tree.gw, day=DAY, recipient_ids=[branch_secretary.pk], now=at(DAY, 10))
    assert sent == 2 and again == 0  # the entry three days overdue and the rectification due today
    assert len(inbox(branch_secretary)) == 1
    assert len(mail.outbox) == 1


def test_writing_the_log_twice_keeps_one_row_per_key(tree, policy, items):
    planned = plan(committee=tree.gw, day=DAY)
    write_log(planned, committee=tree.gw, run=None, day=DAY)
    write_log(planned, committee=tree.gw, run=None, day=DAY)
    assert Reminder.objects.count() == len(planned)


def test_a_later_day_does_not_resend_the_same_rung(items, run_day, branch_secretary):
    run_day(DAY)
    before = set(Reminder.objects.filter(recipient=branch_secretary).values_list("item_key", "kind"))
    run_day(DAY + timedelta(days=1))  # still inside the catch-up window of every rung of DAY
    after = set(Reminder.objects.filter(recipient=branch_secretary).values_list("item_key", "kind"))
    assert after == before
    assert len(inbox(branch_secretary)) == 1


def test_the_dispatch_through_the_outbox_writes_each_batch_job_once(
    tree, policy, items, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(DAY, 9), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            run = dispatch_day(committee=tree.gw, day=DAY)
            dispatch_day(committee=tree.gw, day=DAY)
        first = counts()
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_day(committee=tree.gw, day=DAY)
    run.refresh_from_db()
    assert run.status == DispatchStatus.DONE
    assert Outbox.objects.filter(task="campaigns.tasks.dispatch_reminder_batch").count() == run.batches_total
    assert Outbox.objects.filter(task="campaigns.tasks.finish_reminder_run").count() == 1
    assert counts() == first


def test_the_outbox_dispatch_sends_the_same_as_the_inline_one(
    tree, policy, items, branch_secretary, agency_staff, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(DAY, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        dispatch_day(committee=tree.gw, day=DAY)
    assert len(inbox(branch_secretary)) == len(inbox(agency_staff)) == 1
    assert not Reminder.objects.filter(status=ReminderStatus.PENDING).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["a1@example.com", "a@example.com"]

"""A reminder whose item is done after it was logged but before it goes out is cancelled, not sent."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from branches.models import DigestMode
from campaigns.models import (
    CampaignStatus,
    DispatchBatch,
    EntryStatus,
    Obligation,
    ObligationRecord,
    RectificationStatus,
    Reminder,
    ReminderStatus,
)
from campaigns.reminders.dispatch import dispatch_batch, dispatch_day, dispatch_finish
from campaigns.reminders.sources import obligation_key
from tests.reminders.support import at, entry_due, inbox, rectification_due

pytestmark = pytest.mark.django_db

SATURDAY = date(2026, 6, 13)
MONDAY = date(2026, 6, 15)


@pytest.fixture
def weekly(tree, policy, without_obligations):
    policy.digest = DigestMode.WEEKLY
    policy.digest_weekday = 0
    policy.save()
    return policy


def status_of(user, key):
    return Reminder.objects.get(recipient=user, item_key=key).status


def test_an_entry_approved_while_its_reminder_waits_for_the_weekly_digest_is_cancelled(
    tree, campaign, weekly, run_day, branch_secretary
):
    entry = entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3))
    run_day(SATURDAY)
    assert status_of(branch_secretary, f"entry:{entry.pk}") == ReminderStatus.PENDING
    entry.status = EntryStatus.APPROVED
    entry.save()
    run_day(MONDAY)
    reminder = Reminder.objects.get(recipient=branch_secretary)
    assert reminder.status == ReminderStatus.CANCELLED and reminder.cancelled_at is not None
    assert inbox(branch_secretary) == []


def test_only_the_done_item_is_dropped_from_the_weekly_digest(
    tree, campaign, weekly, run_day, branch_secretary
):
    done = entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3), title="已完成事项")
    open_ = entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3), title="未完成事项")
    run_day(SATURDAY)
    done.status = EntryStatus.SUBMITTED  # submitted for review: no longer the branch's to do
    done.save()
    run_day(MONDAY)
    [message] = inbox(branch_secretary)
    assert "未完成事项" in message.body and "已完成事项" not in message.body
    assert status_of(branch_secretary, f"entry:{done.pk}") == ReminderStatus.CANCELLED
    assert status_of(branch_secretary, f"entry:{open_.pk}") == ReminderStatus.SENT


def _night_batch(tree):
    """Start the day's run and run A's batch at 22:00: the log is written, the sending deferred."""
    from branches.notify import Defer

    run = dispatch_day(committee=tree.gw, day=SATURDAY)  # its outbox jobs never fire in this test
    batch = DispatchBatch.objects.get(run=run, org_ids=[tree.a.pk])
    with pytest.raises(Defer):
        dispatch_batch(batch.pk, now=at(SATURDAY, 22))
    return run, batch


def _morning(run, batch, capture):
    with capture(execute=True):
        dispatch_batch(batch.pk, now=at(SATURDAY + timedelta(days=1), 8))
        dispatch_finish(run.pk, now=at(SATURDAY + timedelta(days=1), 8))


def test_a_rectification_closed_during_quiet_hours_is_not_reminded_in_the_morning(
    tree, campaign, without_obligations, branch_secretary, django_capture_on_commit_callbacks
):
    rect = rectification_due(campaign, tree.a1, SATURDAY)
    run, batch = _night_batch(tree)
    assert status_of(branch_secretary, f"rect:{rect.pk}") == ReminderStatus.PENDING
    rect.status = RectificationStatus.CLOSED
    rect.save()
    _morning(run, batch, django_capture_on_commit_callbacks)
    assert status_of(branch_secretary, f"rect:{rect.pk}") == ReminderStatus.CANCELLED
    assert inbox(branch_secretary) == []


def test_an_entry_approved_during_quiet_hours_is_not_reminded_in_the_morning(
    tree, campaign, without_obligations, branch_secretary, django_capture_on_commit_callbacks
):
    entry = entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3))
    run, batch = _night_batch(tree)
    entry.status = EntryStatus.APPROVED
    entry.save()
    _morning(run, batch, django_capture_on_commit_callbacks)
    assert status_of(branch_secretary, f"entry:{entry.pk}") == ReminderStatus.CANCELLED
    assert inbox(branch_secretary) == []


def test_an_obligation_recorded_before_its_reminder_goes_out_is_cancelled(
    tree, policy, weekly, run_day, branch_secretary
):
    Obligation.objects.filter(committee=tree.gw, name="支部党员大会").update(is_active=True)
    ob = Obligation.objects.get(committee=tree.gw, name="支部党员大会")
    run_day(date(2026, 3, 26))  # Thursday, five days before the quarter ends on Tuesday 31 March
    key = obligation_key(ob.pk, tree.a1.pk, "2026-Q1")
    assert status_of(branch_secretary, key) == ReminderStatus.PENDING
    ObligationRecord.objects.create(
        obligation=ob, org=tree.a1, period_key="2026-Q1", held_on=date(2026, 3, 27)
    )
    run_day(date(2026, 3, 30))  # Monday: the weekly digest
    assert status_of(branch_secretary, key) == ReminderStatus.CANCELLED
    assert inbox(branch_secretary) == []


def test_a_phase_of_a_campaign_taken_back_to_draft_is_not_announced(
    tree, campaign, weekly, run_day, branch_secretary
):
    weekly.digest_weekday = 2  # Wednesday
    weekly.save()
    run_day(date(2026, 6, 1))  # Monday: 年中督责 opens; the weekly digest holds the announcement
    campaign.status = CampaignStatus.DRAFT
    campaign.save()
    run_day(date(2026, 6, 3))
    assert (
        status_of(branch_secretary, f"phase:{campaign.pk}:supervision:start:2026-06-01")
        == ReminderStatus.CANCELLED
    )


def test_a_cancelled_reminder_is_not_sent_when_the_item_reopens(
    tree, campaign, weekly, run_day, branch_secretary
):
    entry = entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3))
    run_day(SATURDAY)
    entry.status = EntryStatus.APPROVED
    entry.save()
    run_day(MONDAY)
    entry.status = EntryStatus.RETURNED
    entry.save()
    run_day(MONDAY + timedelta(days=7))
    assert status_of(branch_secretary, f"entry:{entry.pk}") == ReminderStatus.CANCELLED
    assert inbox(branch_secretary) == []


def test_a_phase_announcement_held_for_the_weekly_digest_is_cancelled_when_the_phase_date_moves(
    tree, campaign, weekly, run_day, branch_secretary
):
    weekly.digest_weekday = 2  # Wednesday
    weekly.save()
    run_day(date(2026, 6, 1))  # Monday: 年中督责 opens on 1 June; held for Wednesday
    campaign.supervision_starts_on = date(2026, 6, 15)
    campaign.save()
    run_day(date(2026, 6, 3))
    [old] = Reminder.objects.filter(recipient=branch_secretary)
    assert old.status == ReminderStatus.CANCELLED
    assert inbox(branch_secretary) == []


def test_a_held_reminder_of_an_entry_whose_date_moved_is_cancelled_not_sent_with_the_old_date(
    tree, campaign, weekly, run_day, branch_secretary
):
    entry = entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3))
    run_day(SATURDAY)
    entry.due_date = MONDAY + timedelta(days=20)  # an extension granted before the digest goes out
    entry.save()
    run_day(MONDAY)
    assert status_of(branch_secretary, f"entry:{entry.pk}") == ReminderStatus.CANCELLED
    assert inbox(branch_secretary) == []

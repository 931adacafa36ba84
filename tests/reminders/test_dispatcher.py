"""The daily dispatcher: the beat tick starts each run once at its time, fans out per 机关党委, finishes."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import time_machine

from branches.models import Outbox
from campaigns.models import DispatchBatch, DispatchRun, DispatchStatus, ReminderRule
from campaigns.reminders.dispatch import batches_for, dispatch_batch, dispatch_day, dispatch_due, policy_for
from tests.reminders.support import at, entry_due, inbox

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 13)


@pytest.fixture
def overdue(tree, campaign, without_obligations, branch_secretary):
    return entry_due(campaign, tree.a1, DAY - timedelta(days=3))


def test_the_first_look_at_a_committee_installs_the_default_rules_once(tree):
    policy_for(tree.gw)
    count = ReminderRule.objects.filter(committee=tree.gw).count()
    policy_for(tree.gw)
    assert count == ReminderRule.objects.filter(committee=tree.gw).count() > 10


def test_an_edited_default_rule_is_left_as_edited(tree):
    policy_for(tree.gw)
    ReminderRule.objects.filter(committee=tree.gw, source="entry", offset_days=3).update(via_email=False)
    from campaigns.reminders.defaults import install_defaults

    install_defaults(tree.gw)
    assert not ReminderRule.objects.get(committee=tree.gw, source="entry", offset_days=3).via_email


def test_each_agency_committee_is_its_own_batch_when_batches_hold_one_organisation(tree, settings):
    settings.REMINDER_BATCH_ORGS = 1
    assert batches_for(tree.gw) == [
        (tree.a.name, [tree.a.pk]),
        (tree.b.name, [tree.b.pk]),
        (tree.d1.name, [tree.d1.pk]),
    ]


def test_small_agency_committees_are_grouped_whole_into_batches_of_about_the_set_size(tree, settings):
    settings.REMINDER_BATCH_ORGS = 6  # A has 5 organisations, B 2, D1 1
    assert batches_for(tree.gw) == [
        (f"{tree.a.name}等2个党组织", [tree.a.pk, tree.b.pk]),
        (tree.d1.name, [tree.d1.pk]),
    ]


def test_the_tick_before_the_dispatch_time_starts_nothing(
    tree, policy, overdue, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(DAY, 8, 29), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due() == []
    assert not DispatchRun.objects.exists()


def test_the_tick_after_the_dispatch_time_starts_the_run_of_the_day_once(
    tree, policy, overdue, branch_secretary, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(DAY, 8, 30), tick=False), django_capture_on_commit_callbacks(execute=True):
        [run] = dispatch_due()
    with time_machine.travel(at(DAY, 8, 35), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due() == []
    run.refresh_from_db()
    assert (run.date, run.status) == (DAY, DispatchStatus.DONE)
    assert len(inbox(branch_secretary)) == 1


def test_the_dispatch_time_is_set_per_committee(tree, policy, overdue, django_capture_on_commit_callbacks):
    policy.dispatch_time = time(14, 0)
    policy.save()
    with time_machine.travel(at(DAY, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due() == []
    with time_machine.travel(at(DAY, 14, 1), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert len(dispatch_due()) == 1


def test_a_dispatch_time_inside_quiet_hours_sends_at_quiet_end(
    tree, policy, overdue, branch_secretary, django_capture_on_commit_callbacks
):
    policy.dispatch_time = time(6, 0)
    policy.save()
    with time_machine.travel(at(DAY, 6, 5), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert len(dispatch_due()) == 1
    assert inbox(branch_secretary) == []
    assert {row.available_at for row in Outbox.objects.filter(task__endswith="dispatch_reminder_batch")} == {
        at(DAY, 8)
    }


def test_the_tick_finishes_a_run_whose_finish_job_was_lost(
    tree, policy, overdue, branch_secretary, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(DAY, 9), tick=False):
        run = dispatch_day(committee=tree.gw, day=DAY)  # outbox jobs not run
        for batch in DispatchBatch.objects.filter(run=run):
            dispatch_batch(batch.pk, finish=False)  # as if the finish job was never written
    assert DispatchRun.objects.get(pk=run.pk).status == DispatchStatus.RUNNING
    with time_machine.travel(at(DAY, 9, 5), tick=False), django_capture_on_commit_callbacks(execute=True):
        dispatch_due()
    assert DispatchRun.objects.get(pk=run.pk).status == DispatchStatus.DONE
    assert len(inbox(branch_secretary)) == 1

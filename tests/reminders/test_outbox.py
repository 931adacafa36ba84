"""The transactional outbox (R13): written once, relayed when due, re-published after a lost lease, run once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from celery import shared_task
from django.utils import timezone

from branches.models import Outbox, OutboxStatus
from branches.notify import Defer, backoff, outbox_enqueue, outbox_relay, outbox_run

pytestmark = pytest.mark.django_db

CALLS: list[str] = []
RECORD = "tests.reminders.test_outbox.record_call"
FAIL = "tests.reminders.test_outbox.always_fail"
WAIT = "tests.reminders.test_outbox.wait_an_hour"


@shared_task(name=RECORD)
def record_call(tag: str) -> None:
    CALLS.append(tag)


@shared_task(name=FAIL)
def always_fail() -> None:
    raise RuntimeError("SMTP 服务器无响应")


@shared_task(name=WAIT)
def wait_an_hour() -> None:
    raise Defer(timezone.now() + timedelta(hours=1))


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


# --- writing -------------------------------------------------------------------------------------------


def test_a_job_with_a_dedupe_key_is_written_once():
    first = outbox_enqueue(RECORD, dedupe_key="remind-batch:1", tag="a")
    outbox_enqueue(RECORD, dedupe_key="remind-batch:1", tag="a")
    assert first is not None
    assert Outbox.objects.filter(dedupe_key="remind-batch:1").count() == 1


def test_a_key_whose_job_already_ran_is_not_written_again(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox_enqueue(RECORD, dedupe_key="k", tag="a")
    assert outbox_enqueue(RECORD, dedupe_key="k", tag="a") is None
    assert CALLS == ["a"]


def test_jobs_without_a_key_are_each_written():
    outbox_enqueue(RECORD, tag="a")
    outbox_enqueue(RECORD, tag="a")
    assert Outbox.objects.count() == 2


def test_a_job_runs_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = outbox_enqueue(RECORD, tag="a")
    assert CALLS == [] and len(callbacks) == 1
    assert Outbox.objects.get(pk=row.pk).status == OutboxStatus.PENDING


def test_in_eager_mode_a_due_job_runs_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = outbox_enqueue(RECORD, tag="a")
    row.refresh_from_db()
    assert CALLS == ["a"]
    assert (row.status, row.attempts) == (OutboxStatus.DONE, 1)
    assert row.done_at is not None


def test_a_job_for_later_does_not_run_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox_enqueue(RECORD, available_at=timezone.now() + timedelta(minutes=5), tag="a")
    assert CALLS == []


# --- relaying ------------------------------------------------------------------------------------------


def test_the_relay_publishes_due_jobs_and_leaves_later_ones():
    due = outbox_enqueue(RECORD, tag="due")
    later = outbox_enqueue(RECORD, available_at=timezone.now() + timedelta(minutes=5), tag="later")
    assert outbox_relay() == 1
    assert CALLS == ["due"]
    assert Outbox.objects.get(pk=due.pk).status == OutboxStatus.DONE
    assert Outbox.objects.get(pk=later.pk).status == OutboxStatus.PENDING


def test_the_relay_publishes_a_later_job_once_it_is_due():
    outbox_enqueue(RECORD, available_at=timezone.now() + timedelta(minutes=5), tag="later")
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert outbox_relay() == 1
    assert CALLS == ["later"]


def test_the_relay_republishes_a_job_whose_lease_expired(settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    row = outbox_enqueue(RECORD, tag="lost")
    # Published, but the broker lost the message: nobody ever ran it.
    Outbox.objects.filter(pk=row.pk).update(
        status=OutboxStatus.PUBLISHED, published_at=timezone.now() - timedelta(seconds=61)
    )
    assert outbox_relay() == 1
    assert CALLS == ["lost"]
    assert Outbox.objects.get(pk=row.pk).status == OutboxStatus.DONE


def test_the_relay_leaves_a_recently_published_job_alone(settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    row = outbox_enqueue(RECORD, tag="in flight")
    Outbox.objects.filter(pk=row.pk).update(status=OutboxStatus.PUBLISHED, published_at=timezone.now())
    assert outbox_relay() == 0
    assert CALLS == []


def test_the_relay_takes_back_a_job_whose_worker_died(settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    row = outbox_enqueue(RECORD, tag="orphan")
    Outbox.objects.filter(pk=row.pk).update(
        status=OutboxStatus.RUNNING, claimed_at=timezone.now() - timedelta(seconds=61)
    )
    assert outbox_relay() == 1
    assert CALLS == ["orphan"]
    assert Outbox.objects.get(pk=row.pk).status == OutboxStatus.DONE


def test_the_relay_publishes_nothing_done_or_failed():
    outbox_enqueue(RECORD, tag="a")
    outbox_enqueue(RECORD, tag="b")
    Outbox.objects.update(status=OutboxStatus.DONE)
    outbox_enqueue(RECORD, tag="c")
    Outbox.objects.filter(kwargs__tag="c").update(status=OutboxStatus.FAILED)
    assert outbox_relay() == 0
    assert CALLS == []


# --- running -------------------------------------------------------------------------------------------


def test_running_a_job_twice_runs_it_once():
    row = outbox_enqueue(RECORD, tag="a")
    assert outbox_run(row.pk) == "done"
    assert outbox_run(row.pk) == "skipped"
    assert CALLS == ["a"]


def test_a_job_claimed_by_a_live_worker_is_not_run_again():
    row = outbox_enqueue(RECORD, tag="a")
    Outbox.objects.filter(pk=row.pk).update(status=OutboxStatus.RUNNING, claimed_at=timezone.now())
    assert outbox_run(row.pk) == "skipped"
    assert CALLS == []


def test_a_failing_job_is_retried_with_backoff(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 30
    row = outbox_enqueue(FAIL)
    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now, tick=False):
        assert outbox_run(row.pk) == "retry"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.available_at) == (
        OutboxStatus.PENDING,
        1,
        now + timedelta(seconds=30),
    )
    assert row.last_error == "RuntimeError: SMTP 服务器无响应"
    assert row.claimed_at is None


def test_each_retry_of_a_failing_job_waits_longer(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 30
    settings.OUTBOX_MAX_ATTEMPTS = 5
    row = outbox_enqueue(FAIL)
    waits = []
    now = timezone.now().replace(microsecond=0)
    for _ in range(4):
        with time_machine.travel(now, tick=False):
            outbox_run(row.pk)
        row.refresh_from_db()
        waits.append(row.available_at - now)
        now = row.available_at
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240)]


def test_a_failing_job_is_marked_failed_after_the_last_attempt(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    row = outbox_enqueue(FAIL)
    assert [outbox_run(row.pk) for _ in range(3)] == ["retry", "retry", "failed"]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert outbox_run(row.pk) == "skipped"


def test_a_failed_job_is_never_relayed_again(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    row = outbox_enqueue(FAIL)
    outbox_run(row.pk)
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert outbox_relay() == 0


def test_the_relay_runs_a_retry_once_its_backoff_has_passed(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 30
    row = outbox_enqueue(FAIL)
    outbox_run(row.pk)
    assert outbox_relay() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert outbox_relay() == 1
    assert Outbox.objects.get(pk=row.pk).attempts == 2


def test_a_deferred_job_goes_back_to_pending_without_spending_an_attempt():
    row = outbox_enqueue(WAIT)
    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now, tick=False):
        assert outbox_run(row.pk) == "deferred"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.available_at) == (OutboxStatus.PENDING, 0, now + timedelta(hours=1))


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)])
def test_backoff_doubles_from_thirty_seconds_up_to_one_hour(settings, attempts, seconds):
    settings.OUTBOX_BACKOFF_SECONDS = 30
    assert backoff(attempts) == timedelta(seconds=seconds)

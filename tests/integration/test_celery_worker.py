"""A real Celery worker consuming from real brokers: no mocks, no eager mode.

How the worker runs, and why: `celery.contrib.testing.worker.start_worker` starts a real
WorkController (consumer, solo pool, acks, Django fixup) in a thread of the test process,
against the project's own Celery app. A `celery -A config worker` subprocess runs the same code
(tests/integration/test_reminder_worker.py starts one, to kill it); a thread is quicker to start
and stop. `transactional_db` makes the rows really committed, so the worker's own connection
sees them, and what the worker deleted is seen here through the test's connection.

Since the outbox (R13), services no longer publish: they write `Outbox` rows, and the relay
(`branches.notify.outbox_relay`, the beat entry `branches-relay-outbox`) publishes them. Tests
that go through a service call the relay themselves, with eager mode off.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery import app as celery_app
from tests.integration.conftest import filesystem_broker, redis_broker

TASK_NAME = "branches.tasks.clear_expired_sessions"
WAIT_SECONDS = 30


def _make_sessions() -> tuple[list[str], list[str]]:
    """Two expired sessions and one live one; returns (expired keys, live keys)."""
    keys: dict[bool, list[str]] = {True: [], False: []}
    now = timezone.now()
    for expired, expire_date in (
        (True, now - timedelta(days=1)),
        (True, now - timedelta(seconds=5)),
        (False, now + timedelta(hours=1)),
    ):
        store = SessionStore()
        store["probe"] = "integration"
        store.create()
        Session.objects.filter(session_key=store.session_key).update(expire_date=expire_date)
        keys[expired].append(store.session_key)
    return keys[True], keys[False]


def _wait_until(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@contextmanager
def _worker(celery_conf: Callable[..., Any], **broker: Any) -> Iterator[None]:
    # Eager mode off (the test settings turn it on for unit tests): `.delay()` must go through
    # the broker. The worker must not take over the root logger that pytest captures.
    with (
        celery_conf(task_always_eager=False, worker_hijack_root_logger=False, **broker),
        start_worker(celery_app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=20),
    ):
        yield
    # start_worker made the app current and default; that is what it already was, say so again.
    celery_app.set_current()
    celery_app.set_default()


def _assert_worker_clears_expired_sessions(celery_conf: Callable[..., Any], **broker: Any) -> None:
    expired, live = _make_sessions()
    with _worker(celery_conf, **broker):
        # Messages left in the queue by an earlier, interrupted run must not be what we observe.
        celery_app.control.purge()
        with celery_app.connection_for_write() as connection:
            # The broker really is the one under test, not one named in the environment.
            assert connection.transport_cls == broker["broker_url"].split("://")[0]
            celery_app.tasks[TASK_NAME].apply_async(connection=connection)
        gone = _wait_until(lambda: not Session.objects.filter(session_key__in=expired).exists(), WAIT_SECONDS)
    assert gone, f"the worker did not run {TASK_NAME} within {WAIT_SECONDS}s"
    assert list(Session.objects.filter(session_key__in=live).values_list("session_key", flat=True)) == live


@pytest.mark.redis
def test_worker_on_redis_clears_expired_sessions(transactional_db: None, celery_conf, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    _assert_worker_clears_expired_sessions(celery_conf, **redis_broker(redis_url))


def test_worker_on_file_system_broker_clears_expired_sessions(  # type: ignore[no-untyped-def]
    transactional_db: None, celery_conf, tmp_path: Path
) -> None:
    _assert_worker_clears_expired_sessions(celery_conf, **filesystem_broker(tmp_path / "celery"))


def test_beat_schedule_names_only_registered_tasks() -> None:
    # Import the tasks modules the way the worker does at start-up, then compare names: a typo in
    # CELERY_BEAT_SCHEDULE would otherwise only show as "unregistered task" in the worker log.
    celery_app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled, "CELERY_BEAT_SCHEDULE is empty"
    assert scheduled <= set(celery_app.tasks), f"unregistered: {sorted(scheduled - set(celery_app.tasks))}"

"""A rating compile requested like the web request does it, executed by a real Celery worker.

The request writes an outbox row (R13); the relay -- the beat entry `branches-relay-outbox`,
played here by the test calling `outbox_relay()` -- publishes it to the broker under test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kombu import pools

from branches.models import Outbox, OutboxStatus
from branches.notify import outbox_relay
from config.celery import app as celery_app
from scoring.models import CompileRun, Rating, RunStatus
from scoring.services import compile_request
from tests.campaigns.factories import make_campaign
from tests.integration.conftest import filesystem_broker, redis_broker
from tests.integration.test_celery_worker import WAIT_SECONDS, _wait_until, _worker
from tests.scoring.factories import make_round, score


def _forget_connections() -> None:
    """Drop pooled broker connections: a publish (the relay's) must reach this test's broker.

    The app caches its connection and producer pools on first use; an earlier test in the same
    process may have used another broker. Behind them kombu keeps one pool per broker URL for the
    whole process, and a pool closed by an earlier call would be handed out again for the same
    URL ("Acquire on closed pool"): close and forget them all.
    """
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()


def _relay_until(predicate: Callable[[], bool], seconds: float) -> bool:
    """Relay the outbox, as the beat would, until ``predicate`` holds."""

    def relayed() -> bool:
        outbox_relay()
        return predicate()

    return _wait_until(relayed, seconds)


def _compile_through_worker(
    celery_conf: Callable[..., Any], settings: Any, tree: Any, staff: Any, **broker: Any
) -> None:
    # The outbox must not run the job inline on commit (the test settings' eager mode).
    settings.CELERY_TASK_ALWAYS_EAGER = False
    campaign = make_campaign(tree.gw)
    for org, points in ((tree.a1, "95"), (tree.a2, "85"), (tree.b1, "70")):
        score(campaign, org, points)
    rnd = make_round(campaign, staff, quotas={})
    with _worker(celery_conf, **broker):
        _forget_connections()
        run = compile_request(rnd=rnd, actor=staff)
        (job,) = Outbox.objects.filter(task="scoring.tasks.compile_rating")
        assert job.status == OutboxStatus.PENDING  # written, not run: the worker must do it
        done = _relay_until(
            lambda: CompileRun.objects.filter(pk=run.pk, status=RunStatus.DONE).exists(), WAIT_SECONDS
        )
    assert done, f"the worker did not finish the compile within {WAIT_SECONDS}s"
    assert Outbox.objects.get(pk=job.pk).status == OutboxStatus.DONE
    assert dict(Rating.objects.filter(round=rnd).values_list("org__code", "computed_level")) == {
        "A1": 5,
        "A2": 4,
        "B1": 3,
        "AG1": None,
        "D1": None,
    }


def test_worker_on_file_system_broker_compiles_a_rating(  # type: ignore[no-untyped-def]
    transactional_db: None, celery_conf, settings, tmp_path: Path, tree, committee_staff
) -> None:
    _compile_through_worker(
        celery_conf, settings, tree, committee_staff, **filesystem_broker(tmp_path / "celery")
    )


@pytest.mark.redis
def test_worker_on_redis_compiles_a_rating(  # type: ignore[no-untyped-def]
    transactional_db: None, celery_conf, settings, redis_url: str, tree, committee_staff
) -> None:
    _compile_through_worker(celery_conf, settings, tree, committee_staff, **redis_broker(redis_url))

"""A rating compile requested like the web request does it, executed by a real Celery worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config.celery import app as celery_app
from scoring.models import CompileRun, Rating, RunStatus
from scoring.services import compile_request
from tests.campaigns.factories import make_campaign
from tests.integration.conftest import filesystem_broker, redis_broker
from tests.integration.test_celery_worker import WAIT_SECONDS, _wait_until, _worker
from tests.scoring.factories import make_round, score


def _forget_connections() -> None:
    """Drop pooled broker connections: `.delay()` must reach the broker configured for this test.

    The app caches its connection and producer pools on first use; an earlier test in the same
    process may have used another broker.
    """
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _compile_through_worker(celery_conf: Callable[..., Any], tree: Any, staff: Any, **broker: Any) -> None:
    campaign = make_campaign(tree.gw)
    for org, points in ((tree.a1, "95"), (tree.a2, "85"), (tree.b1, "70")):
        score(campaign, org, points)
    rnd = make_round(campaign, staff, quotas={})
    with _worker(celery_conf, **broker):
        _forget_connections()
        run = compile_request(rnd=rnd, actor=staff)  # autocommit: on_commit sends at once
        done = _wait_until(
            lambda: CompileRun.objects.filter(pk=run.pk, status=RunStatus.DONE).exists(), WAIT_SECONDS
        )
    assert done, f"the worker did not finish the compile within {WAIT_SECONDS}s"
    assert dict(Rating.objects.filter(round=rnd).values_list("org__code", "computed_level")) == {
        "A1": 5,
        "A2": 4,
        "B1": 3,
        "AG1": None,
        "D1": None,
    }


def test_worker_on_file_system_broker_compiles_a_rating(  # type: ignore[no-untyped-def]
    transactional_db: None, celery_conf, tmp_path: Path, tree, committee_staff
) -> None:
    _compile_through_worker(celery_conf, tree, committee_staff, **filesystem_broker(tmp_path / "celery"))


@pytest.mark.redis
def test_worker_on_redis_compiles_a_rating(  # type: ignore[no-untyped-def]
    transactional_db: None, celery_conf, redis_url: str, tree, committee_staff
) -> None:
    _compile_through_worker(celery_conf, tree, committee_staff, **redis_broker(redis_url))

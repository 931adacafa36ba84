"""A year-end workbook requested like the web request does it, built by a real Celery worker.

The request writes an ``ExportJob`` and an outbox row in one transaction (R13); the relay (the
beat entry `branches-relay-outbox`, played here by the test) publishes it; the worker builds the
workbook with progress, and the finished file is the subtree's workbook and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from branches.models import Outbox, OutboxStatus
from campaigns.models import EntryStatus
from scoring.export_jobs import export_path, export_request
from scoring.models import ExportJob, ExportStatus
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.integration.conftest import filesystem_broker, redis_broker
from tests.integration.test_celery_worker import WAIT_SECONDS, _worker
from tests.integration.test_rating_compile_worker import _forget_connections, _relay_until


def _export_through_worker(
    celery_conf: Callable[..., Any], settings: Any, tree: Any, staff: Any, **broker: Any
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the outbox must not run the job inline on commit
    campaign = make_campaign(tree.gw)
    items = [make_item(campaign, code=f"ZZ-{n:02d}", title=f"任务{n}") for n in range(1, 6)]
    for org in (tree.a1, tree.a2, tree.ag1, tree.b1, tree.d1):
        for item in items:
            make_entry(campaign, org, item, status=EntryStatus.APPROVED, self_score="4")
    with _worker(celery_conf, **broker):
        _forget_connections()
        job = export_request(campaign=campaign, org=tree.a, actor=staff)
        (row,) = Outbox.objects.filter(task="scoring.tasks.build_assessment_export")
        assert row.status == OutboxStatus.PENDING  # written, not run: the worker must do it
        done = _relay_until(
            lambda: ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE).exists(), WAIT_SECONDS
        )
    assert done, f"the worker did not finish the export within {WAIT_SECONDS}s"
    job.refresh_from_db()
    assert job.percent == 100 and job.done == job.total > 0 and job.size > 0
    book = openpyxl.load_workbook(export_path(job), read_only=True)
    names = {row[2] for row in book["汇总表"].iter_rows(min_row=2, values_only=True) if row[2]}
    assert names == {tree.a1.name, tree.a2.name, tree.ag1.name}  # A's organisations with a checklist
    assert tree.b1.name not in names and tree.d1.name not in names


def test_worker_on_file_system_broker_builds_an_assessment_workbook(  # type: ignore[no-untyped-def]
    transactional_db: None, celery_conf, settings, tmp_path: Path, tree, committee_staff
) -> None:
    _export_through_worker(
        celery_conf, settings, tree, committee_staff, **filesystem_broker(tmp_path / "celery")
    )


@pytest.mark.redis
def test_worker_on_redis_builds_an_assessment_workbook(  # type: ignore[no-untyped-def]
    transactional_db: None, celery_conf, settings, redis_url: str, tree, committee_staff
) -> None:
    _export_through_worker(celery_conf, settings, tree, committee_staff, **redis_broker(redis_url))

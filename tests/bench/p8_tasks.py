"""P8's reference task, imported only by the benchmark's worker (`celery worker -I tests.bench.p8_tasks`).

It does nothing but leave one byte in a tally file, so the harness can tell when all of them ran
(no result backend is configured): an append of one byte is the cheapest trace there is.
"""

from __future__ import annotations

import os

from celery import shared_task

NOOP_TASK = "tests.bench.p8_tasks.noop"


@shared_task(name=NOOP_TASK, ignore_result=True)
def noop(tally: str) -> None:
    fd = os.open(tally, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)

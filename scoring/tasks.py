"""Celery tasks of the rating workflow: thin adapters (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from scoring.services import compile_for_task


@shared_task(name="scoring.tasks.compile_rating", ignore_result=True, acks_late=True)
def compile_rating(run_id: int) -> None:
    """Execute one CompileRun; a run that is not queued any more is skipped (redelivery is harmless)."""
    compile_for_task(run_id)

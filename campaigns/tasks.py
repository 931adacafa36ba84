"""Celery tasks of the campaign workflow: thin adapters (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from campaigns.services.publishing import publish_run_for_task


@shared_task(name="campaigns.tasks.publish_campaign", ignore_result=True, acks_late=True)
def publish_campaign(run_id: int) -> None:
    """Fan out one PublishRun; idempotent (a finished run is skipped, missing rows only)."""
    publish_run_for_task(run_id)

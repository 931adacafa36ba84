"""Celery tasks of the rating workflow: thin adapters (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from scoring.services import compile_for_task


@shared_task(name="scoring.tasks.compile_rating", ignore_result=True, acks_late=True)
def compile_rating(run_id: int) -> None:
    """Execute one CompileRun; a run that is not queued any more is skipped (redelivery is harmless)."""
    compile_for_task(run_id)


@shared_task(name="scoring.tasks.refresh_rollup", ignore_result=True, acks_late=True)
def refresh_rollup(campaign_id: int) -> None:
    """Rebuild one campaign's dashboard rollups (queued by a dashboard that found them behind)."""
    from campaigns.models import Campaign
    from scoring.rollups import rollup_refresh

    campaign = Campaign.objects.select_related("committee").filter(pk=campaign_id).first()
    if campaign is not None:
        rollup_refresh(campaign)


@shared_task(name="scoring.tasks.refresh_rollups", ignore_result=True)
def refresh_rollups() -> None:
    """Beat: rebuild the rollups of every campaign whose data changed since the last rebuild."""
    from scoring.rollups import refresh_changed

    refresh_changed()


@shared_task(name="scoring.tasks.build_assessment_export", ignore_result=True, acks_late=True)
def build_assessment_export(job_id: int) -> None:
    """Build one queued year-end assessment workbook; a job that is not queued any more is skipped."""
    from scoring.export_jobs import export_run

    export_run(job_id)

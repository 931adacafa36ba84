"""Celery tasks of the campaign workflow: thin adapters (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from campaigns.services.publishing import publish_run_for_task


@shared_task(name="campaigns.tasks.publish_campaign", ignore_result=True, acks_late=True)
def publish_campaign(run_id: int) -> None:
    """Fan out one PublishRun; idempotent (a finished run is skipped, missing rows only)."""
    publish_run_for_task(run_id)


@shared_task(name="campaigns.tasks.dispatch_due_reminders", ignore_result=True)
def dispatch_due_reminders() -> None:
    """Beat, every few minutes: start each 工委's daily reminder run once its time has come."""
    from campaigns.reminders.dispatch import dispatch_due

    dispatch_due()


@shared_task(name="campaigns.tasks.dispatch_reminder_batch", ignore_result=True)
def dispatch_reminder_batch(batch_id: int) -> None:
    """One 机关党委's part of a run; written to the outbox by ``dispatch_day``."""
    from campaigns.reminders.dispatch import dispatch_batch

    dispatch_batch(batch_id)


@shared_task(name="campaigns.tasks.finish_reminder_run", ignore_result=True)
def finish_reminder_run(run_id: int) -> None:
    from campaigns.reminders.dispatch import dispatch_finish

    dispatch_finish(run_id)


@shared_task(name="campaigns.tasks.remind_now", ignore_result=True)
def remind_now(committee_id: int, source: str) -> None:
    """Today's reminders of one source at once (e.g. 公示 opened); written to the outbox."""
    from branches.models import OrgUnit
    from campaigns.reminders.dispatch import remind_now as run

    run(committee=OrgUnit.objects.get(pk=committee_id), source=source)

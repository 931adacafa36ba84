"""Celery tasks of `branches`: thin adapters (ids in, one service call)."""

from celery import shared_task

from branches import notify
from branches.services import sessions_clear_expired


@shared_task(name="branches.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> int:
    return sessions_clear_expired()


@shared_task(name="branches.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Beat, every few seconds: publish the outbox jobs that are due (R13)."""
    return notify.outbox_relay()


@shared_task(name="branches.tasks.run_outbox", ignore_result=True, acks_late=True)
def run_outbox(outbox_id: int) -> str:
    """Run one outbox job; a second delivery of the same message finds it claimed or done."""
    return notify.outbox_run(outbox_id)


@shared_task(name="branches.tasks.send_deliveries", ignore_result=True)
def send_deliveries(ids: list[int]) -> None:
    """Send e-mails or group-robot messages; run through the outbox, which retries with backoff."""
    notify.deliveries_send(ids)

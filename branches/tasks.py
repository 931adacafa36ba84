from celery import shared_task

from branches.services import sessions_clear_expired


@shared_task(name="branches.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> int:
    return sessions_clear_expired()

"""The in-app inbox (站内消息): delivery services and the reads that decide visibility."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, QuerySet
from django.utils import timezone

from branches.models import Message, User


def message_send_many(
    *, recipients: Iterable[User] | Iterable[int], kind: str, title: str, body: str, url: str, source_key: str
) -> int:
    """Deliver one message per recipient; a recipient who already has `source_key` gets nothing new.

    Idempotent through the unique (recipient, source_key) constraint. Returns the number of
    recipients attempted (conflicts are skipped by the database).
    """
    ids = {r if isinstance(r, int) else r.pk for r in recipients}
    return messages_deliver(
        Message(recipient_id=pk, kind=kind, title=title, body=body, url=url, source_key=source_key)
        for pk in sorted(ids)
    )


def messages_deliver(messages: Iterable[Message]) -> int:
    """Deliver prepared (unsaved) messages, each to its own recipient and link, in batched INSERTs.

    Idempotent like ``message_send_many``: a (recipient, source_key) already delivered is skipped.
    """
    rows = list(messages)
    Message.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


def messages_for(user: User) -> QuerySet[Message]:
    """The user's own messages, unread first, newest first."""
    return Message.objects.filter(recipient=user).order_by(
        F("read_at").desc(nulls_first=True), "-created_at", "-id"
    )


def unread_count(user: User) -> int:
    return Message.objects.filter(recipient=user, read_at__isnull=True).count()


def message_mark_read(*, message: Message) -> Message:
    if message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])
    return message


def messages_mark_all_read(*, user: User) -> int:
    return Message.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())

"""Notifications over every channel, and the transactional outbox that carries jobs to Celery.

* ``outbox_enqueue`` writes a job row in the caller's transaction: a web request never talks to
  the broker (R13). ``outbox_relay`` (beat, every few seconds) publishes due rows; the worker runs
  ``outbox_run``, which claims the row, runs the task's body and marks it done. A row published or
  claimed and not finished within the lease is published again; a job that raises is retried with
  exponential backoff up to ``OUTBOX_MAX_ATTEMPTS`` times.
* ``notify`` delivers one message to many people: the inbox row at once (same transaction), and
  an e-mail per person who wants one, as a ``Delivery`` written before it is sent.
* ``deliveries_send`` sends deliveries, each claimed, sent and marked on its own; a failure is
  retried later with backoff and never holds up the other deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import logging
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from branches.inbox import messages_deliver
from branches.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Message,
    NotificationPreference,
    OrgWebhook,
    Outbox,
    OutboxStatus,
    User,
    WebhookPlatform,
)

log = logging.getLogger(__name__)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def backoff(attempts: int) -> timedelta:
    """Delay before attempt ``attempts + 1``: 30 s, 1 min, 2 min ... capped at one hour."""
    base = _setting("OUTBOX_BACKOFF_SECONDS", 30)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


# --- outbox ---------------------------------------------------------------------------------------


class Defer(Exception):
    """Raised by a job that must wait (e.g. quiet hours): run again at ``until``, no attempt spent."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"deferred until {until.isoformat()}")
        self.until = until


def outbox_enqueue(
    task: str, *, dedupe_key: str = "", available_at: datetime | None = None, **kwargs: Any
) -> Outbox | None:
    """Write a job for ``task`` (a registered Celery task name) in the current transaction.

    With a ``dedupe_key`` the job is written at most once. Returns the row, or None when the key
    already exists. In eager mode (tests, shell) the job runs as soon as the transaction commits.
    """
    row = Outbox(task=task, kwargs=kwargs, dedupe_key=dedupe_key, available_at=available_at or timezone.now())
    if dedupe_key:
        created = Outbox.objects.bulk_create([row], ignore_conflicts=True)
        row = Outbox.objects.filter(dedupe_key=dedupe_key).first() or created[0]
        if row.status != OutboxStatus.PENDING or row.attempts:
            return None
    else:
        row.save()
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) and row.available_at <= timezone.now():
        pk = row.pk
        transaction.on_commit(lambda: outbox_run(pk))
    return row


def _lease() -> timedelta:
    return timedelta(seconds=_setting("OUTBOX_LEASE_SECONDS", 35 * 60))


def outbox_due(now: datetime | None = None, limit: int = 500) -> list[Outbox]:
    """Rows to publish now: pending and available, or published/claimed and past their lease."""
    now = now or timezone.now()
    stale = now - _lease()
    return list(
        Outbox.objects.filter(
            Q(status=OutboxStatus.PENDING, available_at__lte=now)
            | Q(status=OutboxStatus.PUBLISHED, published_at__lt=stale)
            | Q(status=OutboxStatus.RUNNING, claimed_at__lt=stale)
        ).order_by("available_at", "id")[:limit]
    )


def outbox_relay(*, limit: int = 500) -> int:
    """Publish due jobs to the broker; a publish failure leaves the row for the next relay."""
    from branches.tasks import run_outbox

    published = 0
    for row in outbox_due(limit=limit):
        try:
            run_outbox.apply_async(args=(row.pk,), retry=False)
        except Exception as exc:  # broker down or frozen: keep the row, try on the next tick
            log.warning("outbox relay: publish failed (%s); will retry", exc)
            break
        Outbox.objects.filter(pk=row.pk, status=row.status).update(
            status=OutboxStatus.PUBLISHED, published_at=timezone.now()
        )
        published += 1
    return published


def outbox_run(outbox_id: int) -> str:
    """Claim one job, run the body of its task, and record the outcome. Safe to call twice."""
    from config.celery import app

    now = timezone.now()
    stale = now - _lease()
    claimed = Outbox.objects.filter(
        Q(pk=outbox_id)
        & (
            Q(status__in=[OutboxStatus.PENDING, OutboxStatus.PUBLISHED])
            | Q(status=OutboxStatus.RUNNING, claimed_at__lt=stale)
        )
    ).update(status=OutboxStatus.RUNNING, claimed_at=now)
    if not claimed:
        return "skipped"
    row = Outbox.objects.get(pk=outbox_id)
    try:
        if row.task not in app.tasks:  # the web process imports task modules only when needed
            importlib.import_module(row.task.rsplit(".", 1)[0])
        app.tasks[row.task].run(**row.kwargs)
    except Defer as d:
        Outbox.objects.filter(pk=row.pk).update(
            status=OutboxStatus.PENDING, available_at=d.until, claimed_at=None
        )
        return "deferred"
    except Exception as exc:
        attempts = row.attempts + 1
        failed = attempts >= _setting("OUTBOX_MAX_ATTEMPTS", 8)
        Outbox.objects.filter(pk=row.pk).update(
            status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
            attempts=attempts,
            available_at=timezone.now() + backoff(attempts),
            claimed_at=None,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        log.exception("outbox job %s (%s) failed, attempt %s", row.pk, row.task, attempts)
        return "failed" if failed else "retry"
    Outbox.objects.filter(pk=row.pk).update(
        status=OutboxStatus.DONE, done_at=timezone.now(), attempts=row.attempts + 1
    )
    return "done"


# --- quiet hours ----------------------------------------------------------------------------------


def quiet_until(now: datetime, start: Any, end: Any) -> datetime | None:
    """The end of quiet hours if ``now`` (aware) falls in them, else None. Spans midnight."""
    if start is None or end is None or start == end:
        return None
    local = timezone.localtime(now)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, end), timezone.get_current_timezone())


# --- inbox + e-mail for one message -------------------------------------------------------------


def email_wanted(user_ids: Iterable[int]) -> dict[int, str]:
    """Addresses of the given people who have an e-mail address and have not turned e-mail off."""
    off = set(
        NotificationPreference.objects.filter(user_id__in=list(user_ids), email_enabled=False).values_list(
            "user_id", flat=True
        )
    )
    return {
        pk: email
        for pk, email in User.objects.filter(pk__in=list(user_ids), is_active=True)
        .exclude(email="")
        .values_list("pk", "email")
        if pk not in off
    }


def notify(
    *,
    recipients: Iterable[User] | Iterable[int],
    kind: str,
    title: str,
    body: str,
    url: str,
    source_key: str,
    email: bool = True,
    not_before: datetime | None = None,
) -> int:
    """Inbox message to each recipient now, and e-mail to those who want it, once per source_key."""
    ids = sorted({r if isinstance(r, int) else r.pk for r in recipients})
    messages_deliver(
        Message(recipient_id=pk, kind=kind, title=title, body=body, url=url, source_key=source_key)
        for pk in ids
    )
    if email and ids:
        msgs = dict(
            Message.objects.filter(recipient_id__in=ids, source_key=source_key).values_list(
                "recipient_id", "pk"
            )
        )
        emails = email_wanted(ids)
        deliveries_create(
            [
                Delivery(
                    channel=Channel.EMAIL,
                    key=f"{source_key}:{pk}",
                    recipient_id=pk,
                    message_id=msgs.get(pk),
                    address=addr,
                    subject=title,
                    body=body,
                    url=url,
                )
                for pk, addr in emails.items()
            ],
            not_before=not_before,
        )
    return len(ids)


def deliveries_create(rows: Sequence[Delivery], *, not_before: datetime | None = None) -> int:
    """Write deliveries (a key already written is skipped) and an outbox job per channel to send them."""
    if not rows:
        return 0
    when = not_before or timezone.now()
    for d in rows:
        d.not_before = when
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    by_channel: dict[str, list[str]] = {}
    for d in rows:
        by_channel.setdefault(d.channel, []).append(d.key)
    for channel, keys in by_channel.items():
        ids = list(
            Delivery.objects.filter(channel=channel, key__in=keys, status=DeliveryStatus.PENDING).values_list(
                "pk", flat=True
            )
        )
        for i in range(0, len(ids), 200):
            outbox_enqueue("branches.tasks.send_deliveries", ids=ids[i : i + 200], available_at=when)
    return len(rows)


# --- sending --------------------------------------------------------------------------------------


class DeliveryError(Exception):
    pass


def site_url(path: str) -> str:
    if not path or path.startswith("http"):
        return path
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def _send_email(d: Delivery, connection: Any) -> None:
    body = d.body
    if d.url:
        body = f"{body}\n\n查看详情：{site_url(d.url)}"
    body += "\n\n—— 模范机关创建（系统自动发送，请勿直接回复）"
    EmailMessage(
        subject=f"【模范机关创建】{d.subject}", body=body, to=[d.address], connection=connection
    ).send()


def webhook_request(hook: OrgWebhook, title: str, text: str, url: str) -> urllib.request.Request:
    """The HTTP request for one group-robot message, signed as the platform expects."""
    link = site_url(url)
    target = hook.url
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if hook.platform == WebhookPlatform.WECOM:
        content = f"**{title}**\n{text}" + (f"\n[查看详情]({link})" if link else "")
        payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": content}}
    elif hook.platform == WebhookPlatform.DINGTALK:
        md = f"#### {title}\n{text}" + (f"\n\n[查看详情]({link})" if link else "")
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": md}}
        if hook.secret:
            ts = str(int(time.time() * 1000))
            digest = hmac.new(hook.secret.encode(), f"{ts}\n{hook.secret}".encode(), hashlib.sha256).digest()
            sign = urllib.parse.quote_plus(base64.b64encode(digest))
            target += ("&" if "?" in target else "?") + f"timestamp={ts}&sign={sign}"
    else:
        payload = {"title": title, "text": text, "url": link}
    data = json.dumps(payload, ensure_ascii=False).encode()
    if hook.platform == WebhookPlatform.GENERIC and hook.secret:
        headers["X-Mofan-Signature"] = hmac.new(hook.secret.encode(), data, hashlib.sha256).hexdigest()
    return urllib.request.Request(target, data=data, headers=headers, method="POST")


class RobotRefused(DeliveryError):
    """The group robot answered with a non-zero ``errcode`` (e.g. 310000: the signature)."""

    def __init__(self, code: Any, errmsg: str) -> None:
        self.code, self.errmsg = code, errmsg
        super().__init__(f"群机器人拒绝了消息：错误码 {code}" + (f"（{errmsg}）" if errmsg else ""))


def webhook_post(hook: OrgWebhook, title: str, text: str, url: str) -> int:
    """Post one message to a group robot and check its answer; returns the HTTP status.

    Raises ``DeliveryError`` (``RobotRefused``) when the robot refuses, and the urllib/socket
    errors of the transport as they are.
    """
    req = webhook_request(hook, title, text, url)
    with urllib.request.urlopen(req, timeout=_setting("WEBHOOK_TIMEOUT_SECONDS", 5)) as resp:
        status = resp.status
        raw = resp.read(65536)
    if hook.platform in (WebhookPlatform.WECOM, WebhookPlatform.DINGTALK):
        try:
            answer = json.loads(raw or b"{}")
        except ValueError as exc:
            raise DeliveryError("群机器人返回了无法识别的内容") from exc
        if not isinstance(answer, dict):
            raise DeliveryError("群机器人返回了无法识别的内容")
        code = answer.get("errcode", 0)
        if code not in (0, "0"):
            raise RobotRefused(code, str(answer.get("errmsg", ""))[:200])
    return status


def _send_webhook(d: Delivery) -> None:
    hook = d.webhook
    if hook is None or not hook.is_active:
        raise DeliveryError("群机器人已停用或已删除")
    webhook_post(hook, d.subject, d.body, d.url)


@dataclass
class SendResult:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0


def deliveries_send(ids: Iterable[int]) -> SendResult:
    """Send the given deliveries that are due; each is claimed, sent and marked on its own.

    A delivery whose send raises is put back with backoff (``not_before``), and after
    ``DELIVERY_MAX_ATTEMPTS`` marked failed. Raises ``Defer`` when some wait for a retry so the
    outbox runs this job again then; the others are not held up.
    """
    result = SendResult()
    now = timezone.now()
    stale = now - _lease()
    max_attempts = _setting("DELIVERY_MAX_ATTEMPTS", 5)
    connection = None
    next_retry: datetime | None = None
    for pk in sorted(set(ids)):
        claimed = Delivery.objects.filter(
            Q(pk=pk)
            & (
                Q(status=DeliveryStatus.PENDING, not_before__lte=now)
                | Q(status=DeliveryStatus.SENDING, claimed_at__lt=stale)
            )
        ).update(status=DeliveryStatus.SENDING, claimed_at=now)
        if not claimed:
            d0 = Delivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).only("not_before").first()
            if d0 is not None:  # waiting for its retry time
                next_retry = min(next_retry or d0.not_before, d0.not_before)
            result.skipped += 1
            continue
        d = Delivery.objects.select_related("webhook").get(pk=pk)
        try:
            if d.channel == Channel.EMAIL:
                if connection is None:
                    connection = get_connection(timeout=_setting("EMAIL_TIMEOUT", 10))
                _send_email(d, connection)
            elif d.channel == Channel.WEBHOOK:
                _send_webhook(d)
            else:
                raise DeliveryError(f"未知渠道 {d.channel}")
        except Exception as exc:
            attempts = d.attempts + 1
            failed = attempts >= max_attempts
            when = timezone.now() + backoff(attempts)
            Delivery.objects.filter(pk=pk).update(
                status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
                attempts=attempts,
                not_before=when,
                claimed_at=None,
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            if failed:
                result.failed += 1
            else:
                result.retry += 1
                next_retry = min(next_retry or when, when)
            log.warning("delivery %s (%s) failed, attempt %s: %s", pk, d.channel, attempts, exc)
            continue
        Delivery.objects.filter(pk=pk).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), attempts=d.attempts + 1, last_error=""
        )
        result.sent += 1
    if next_retry is not None:
        raise Defer(next_retry)
    return result


def webhooks_covering(paths: Iterable[str]) -> dict[str, list[OrgWebhook]]:
    """For each org path, the active group robots of it and its ancestors."""
    wanted = set(paths)
    hooks = list(OrgWebhook.objects.filter(is_active=True).select_related("org"))
    out: dict[str, list[OrgWebhook]] = {}
    for p in wanted:
        out[p] = [h for h in hooks if p.startswith(h.org.path)]
    return out

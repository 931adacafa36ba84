"""The daily dispatcher: one run per (工委, day), fanned out in batches per 机关党委.

Each batch plans its part of the tree and writes the log (``Reminder``, unique per
(recipient, item, kind, period)) before anything is sent, then composes the digests of the people
who work only inside that part. When the last batch is done, the run's finish composes everyone
else (工委 staff, people with grants in several places), the weekly digests, and one message per
group robot. Composing re-checks every item: a reminder whose item is done is cancelled.
Every step is idempotent, so a job run twice, or re-run after its worker was killed, sends
nothing twice (R12).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from branches.inbox import messages_deliver
from branches.models import (
    PATH_SEPARATOR,
    Channel,
    Delivery,
    DigestMode,
    Message,
    MessageKind,
    NotificationPreference,
    OrgKind,
    OrgUnit,
    RoleGrant,
    User,
    subtree_q,
)
from branches.notify import (
    Defer,
    deliveries_create,
    email_wanted,
    outbox_enqueue,
    quiet_until,
    webhooks_covering,
)
from campaigns.models import (
    DispatchBatch,
    DispatchRun,
    DispatchStatus,
    Reminder,
    ReminderPolicy,
    ReminderStatus,
)
from campaigns.reminders.planner import AUDIENCE_RANK, Planned, active_rules, describe, load_people, plan
from campaigns.reminders.sources import REGISTRY

DIGEST_LINES = 60  # lines listed in one message; the rest are counted


def policy_for(committee: OrgUnit) -> ReminderPolicy:
    """The 工委's reminder settings; the first call installs the default rules and obligations."""
    policy = ReminderPolicy.objects.filter(committee=committee).first()
    if policy is not None:
        return policy
    from campaigns.reminders.defaults import install_defaults

    with transaction.atomic():
        policy, created = ReminderPolicy.objects.get_or_create(committee=committee)
        if created:
            install_defaults(committee)
    return policy


def batches_for(committee: OrgUnit) -> list[tuple[str, list[int]]]:
    """Fan-out units: whole 机关党委/总支 subtrees, small ones grouped to about
    ``REMINDER_BATCH_ORGS`` organisations each (one per 机关党委 when it is 1).

    Organisations directly under the 工委 are grouped the same way. A 机关党委 is never split, so
    its staff's digest is composed in one batch.
    """
    children = list(
        OrgUnit.objects.filter(parent=committee, is_active=True)
        .order_by("path")
        .values_list("pk", "name", "path")
    )
    sizes: dict[str, int] = defaultdict(int)
    prefix = len(committee.path)
    for path in OrgUnit.objects.filter(subtree_q(committee.path), is_active=True).values_list(
        "path", flat=True
    ):
        head = path[prefix:].split(PATH_SEPARATOR, 1)[0]
        sizes[head] += 1
    batch_orgs = max(int(getattr(settings, "REMINDER_BATCH_ORGS", 200)), 1)
    out: list[tuple[str, list[int]]] = []
    names: list[str] = []
    ids: list[int] = []
    count = 0
    for pk, name, _path in children:
        ids.append(pk)
        names.append(name)
        count += sizes.get(str(pk), 1)
        if count >= batch_orgs:
            out.append((_batch_label(names), ids))
            names, ids, count = [], [], 0
    if ids:
        out.append((_batch_label(names), ids))
    return out


def _batch_label(names: list[str]) -> str:
    label = names[0] if len(names) == 1 else f"{names[0]}等{len(names)}个党组织"
    return label[:200]


def dispatch_day(
    *,
    committee: OrgUnit,
    day: date,
    user: User | None = None,
    inline: bool = False,
    now: datetime | None = None,
) -> DispatchRun:
    """Start (once) the run of ``day``: batches go to the outbox, or run here when ``inline``."""
    policy_for(committee)
    with transaction.atomic():
        run, created = DispatchRun.objects.get_or_create(
            committee=committee, date=day, defaults={"requested_by": user}
        )
        if created:
            batches = DispatchBatch.objects.bulk_create(
                [DispatchBatch(run=run, label=label, org_ids=ids) for label, ids in batches_for(committee)]
            )
            run.batches_total = len(batches)
            run.save(update_fields=["batches_total"])
            if not batches:
                _enqueue_finish(run)
            elif not inline:
                for b in batches:
                    outbox_enqueue(
                        "campaigns.tasks.dispatch_reminder_batch",
                        dedupe_key=f"remind-batch:{b.pk}",
                        batch_id=b.pk,
                    )
    if inline:
        for batch_id in run.batches.filter(status=DispatchStatus.RUNNING).values_list("pk", flat=True):
            dispatch_batch(batch_id, now=now, respect_quiet=False, finish=False)
        dispatch_finish(run.pk, now=now, respect_quiet=False)
        run.refresh_from_db()
    return run


def _enqueue_finish(run: DispatchRun) -> None:
    outbox_enqueue("campaigns.tasks.finish_reminder_run", dedupe_key=f"remind-finish:{run.pk}", run_id=run.pk)


def _paths_of(org_ids: Sequence[int]) -> list[str]:
    return list(OrgUnit.objects.filter(pk__in=list(org_ids)).values_list("path", flat=True))


def _in(path: str, roots: Sequence[str]) -> bool:
    return any(path.startswith(r) for r in roots)


def write_log(planned: Iterable[Planned], *, committee: OrgUnit, run: DispatchRun | None, day: date) -> int:
    """Insert the log rows; a key already logged (by this run or any earlier one) is skipped."""
    rows = [
        Reminder(
            recipient_id=p.recipient_id,
            item_key=p.item.key,
            kind=p.kind,
            period=p.period,
            committee=committee,
            org_id=p.item.org_id,
            org_path=p.item.org_path,
            source=p.item.source,
            audience=p.audience,
            rule_id=p.rule_id,
            title=describe(p.item, day)[:300],
            url=p.item.url,
            due_date=p.item.due_date,
            via_inbox=p.via_inbox,
            via_email=p.via_email,
            via_webhook=p.via_webhook,
            run=run,
            scheduled_on=day,
        )
        for p in planned
    ]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def dispatch_batch(
    batch_id: int, *, now: datetime | None = None, respect_quiet: bool = True, finish: bool = True
) -> int:
    """Plan, log and compose one batch; idempotent. Raises ``Defer`` inside quiet hours."""
    now = now or timezone.now()
    batch = DispatchBatch.objects.select_related("run__committee").get(pk=batch_id)
    if batch.status == DispatchStatus.DONE:
        return 0
    run, committee = batch.run, batch.run.committee
    paths = _paths_of(batch.org_ids)
    planned = plan(committee=committee, day=run.date, paths=paths, people=load_people(committee, paths))
    with transaction.atomic():
        write_log(planned, committee=committee, run=run, day=run.date)
    if respect_quiet:
        until = _quiet(committee, now)
        if until is not None:
            raise Defer(until)
    compose(committee=committee, day=run.date, recipient_ids=_local_recipients(committee, paths), now=now)
    with transaction.atomic():
        DispatchRun.objects.select_for_update().filter(pk=run.pk).first()  # serialise the last-batch check
        done = DispatchBatch.objects.filter(pk=batch.pk, status=DispatchStatus.RUNNING).update(
            status=DispatchStatus.DONE, planned=len(planned), finished_at=timezone.now()
        )
        if (
            done
            and finish
            and not DispatchBatch.objects.filter(run=run, status=DispatchStatus.RUNNING).exists()
        ):
            _enqueue_finish(run)
    return len(planned)


def _quiet(committee: OrgUnit, now: datetime) -> datetime | None:
    policy = policy_for(committee)
    return quiet_until(now, policy.quiet_start, policy.quiet_end)


def _local_recipients(committee: OrgUnit, paths: Sequence[str]) -> list[int]:
    """People with pending reminders here whose every grant lies inside these subtrees."""
    scope = Q(pk__in=[])
    for p in paths:
        scope |= subtree_q(p, "org_path")
    ids = set(
        Reminder.objects.filter(scope, committee=committee, status=ReminderStatus.PENDING).values_list(
            "recipient_id", flat=True
        )
    )
    if not ids:
        return []
    grants: dict[int, list[str]] = defaultdict(list)
    for uid, path in RoleGrant.objects.filter(user_id__in=ids).values_list("user_id", "org__path"):
        grants[uid].append(path)
    return sorted(uid for uid in ids if grants.get(uid) and all(_in(p, paths) for p in grants[uid]))


def dispatch_finish(run_id: int, *, now: datetime | None = None, respect_quiet: bool = True) -> int:
    """Compose everyone not composed by a batch, then the group robots; mark the run done."""
    now = now or timezone.now()
    run = DispatchRun.objects.select_related("committee").get(pk=run_id)
    if run.status == DispatchStatus.DONE:
        return 0
    committee = run.committee
    if respect_quiet:
        until = _quiet(committee, now)
        if until is not None:
            raise Defer(until)
    ids = sorted(
        set(
            Reminder.objects.filter(
                committee=committee, status=ReminderStatus.PENDING, scheduled_on__lte=run.date
            ).values_list("recipient_id", flat=True)
        )
    )
    sent = compose(committee=committee, day=run.date, recipient_ids=ids, now=now)
    with transaction.atomic():
        _webhooks(Reminder.objects.filter(run=run), key=f"remind-run:{run.pk}", day=run.date)
        DispatchRun.objects.filter(pk=run.pk, status=DispatchStatus.RUNNING).update(
            status=DispatchStatus.DONE, finished_at=timezone.now()
        )
    return sent


@dataclass
class Composed:
    recipient_id: int
    reminders: list[Reminder]
    message: Message


def _cancel_done(rows: list[Reminder], now: datetime) -> list[Reminder]:
    """Cancel the reminders whose item is done; return the rest."""
    by_source: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        by_source[r.source].add(r.item_key)
    still: set[str] = set()
    current: dict[str, date] = {}
    for source, keys in by_source.items():
        src = REGISTRY.get(source)
        still |= src.still_open(sorted(keys)) if src else set(keys)
        if src is not None and src.due_dates is not None:
            current.update(src.due_dates(sorted(keys)))

    def live(r: Reminder) -> bool:
        moved = r.item_key in current and current[r.item_key] != r.due_date
        return r.item_key in still and not moved

    done = [r.pk for r in rows if not live(r)]
    if done:
        Reminder.objects.filter(pk__in=done, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.CANCELLED, cancelled_at=now
        )
    return [r for r in rows if live(r)]


def digest_title(rows: Sequence[Reminder], day: date) -> str:
    if len(rows) == 1:
        return rows[0].title[:200]
    overdue = sum(1 for r in rows if r.due_date < day)
    tail = f"，其中逾期{overdue}项" if overdue else ""
    return f"待办提醒：{len(rows)}项事项需要办理{tail}（{day:%-m月%-d日}）"


def digest_body(rows: Sequence[Reminder]) -> str:
    ordered = sorted(rows, key=lambda r: (-AUDIENCE_RANK.get(r.audience, 0), r.due_date, r.item_key))
    lines = [r.title for r in ordered[:DIGEST_LINES]]
    if len(ordered) > DIGEST_LINES:
        lines.append(f"……等共{len(ordered)}项，请到“我的提醒”查看全部。")
    red = [r for r in ordered if r.audience == "committee_staff"]
    head = f"以下{len(red)}项已逾期较久，列入工委红名单：\n" if red else ""
    return head + "\n".join(lines)


def compose(
    *,
    committee: OrgUnit,
    day: date,
    recipient_ids: Sequence[int],
    now: datetime,
    item_keys: Iterable[str] | None = None,
    immediate: bool = False,
    not_before: datetime | None = None,
) -> int:
    """One message per person listing every pending reminder due by ``day``; e-mail where wanted.

    A person on a weekly digest is composed only on the 工委's digest weekday. Exactly once: the
    message key comes from the reminders it carries, and each reminder moves from pending to sent
    in the same transaction as its message is written.
    """
    if not recipient_ids:
        return 0
    policy = policy_for(committee)
    prefs = dict(
        NotificationPreference.objects.filter(user_id__in=list(recipient_ids))
        .exclude(digest=DigestMode.FOLLOW)
        .values_list("user_id", "digest")
    )
    with transaction.atomic():
        pending = Reminder.objects.filter(
            committee=committee,
            status=ReminderStatus.PENDING,
            recipient_id__in=list(recipient_ids),
            scheduled_on__lte=day,
        )
        if item_keys is not None:
            pending = pending.filter(item_key__in=list(item_keys))
        # Locked: a concurrent compose of the same person (remind_now during the daily run, a
        # batch re-run after its lease) waits here and then finds these rows sent, so it writes
        # no second message for them.
        rows = list(pending.select_for_update().order_by("recipient_id", "due_date", "id"))
        rows = _cancel_done(rows, now)
        groups: dict[int, list[Reminder]] = defaultdict(list)
        for r in rows:
            mode = prefs.get(r.recipient_id) or policy.digest
            if not immediate and mode == DigestMode.WEEKLY and day.weekday() != policy.digest_weekday:
                continue
            groups[r.recipient_id].append(r)
        if not groups:
            return 0
        mine = reverse("campaigns:my_reminders")
        messages = {
            uid: Message(
                recipient_id=uid,
                kind=MessageKind.REMINDER,
                title=digest_title(rs, day),
                body=digest_body(rs),
                url=rs[0].url if len(rs) == 1 else mine,
                source_key=f"reminders:{min(r.pk for r in rs)}",
            )
            for uid, rs in groups.items()
        }
        # The inbox gets the digest when any of its rules asks for it; e-mail is keyed the same way.
        messages_deliver(m for uid, m in messages.items() if any(r.via_inbox for r in groups[uid]))
        ids = dict(
            Message.objects.filter(
                recipient_id__in=list(groups), source_key__in=[m.source_key for m in messages.values()]
            ).values_list("recipient_id", "pk")
        )
        # One UPDATE for every group: each reminder takes its recipient's digest. The rows were
        # locked when read, so every one of them moves from pending to sent here.
        sent = Reminder.objects.filter(
            pk__in=[r.pk for rs in groups.values() for r in rs], status=ReminderStatus.PENDING
        ).update(
            status=ReminderStatus.SENT,
            sent_at=now,
            message_id=Subquery(
                Message.objects.filter(
                    pk__in=list(ids.values()), recipient_id=OuterRef("recipient_id")
                ).values("pk")[:1]
            ),
        )
        emailers = [uid for uid, rs in groups.items() if any(r.via_email for r in rs)]
        addresses = email_wanted(emailers) if emailers else {}
        deliveries = [
            Delivery(
                channel=Channel.EMAIL,
                key=f"{messages[uid].source_key}:{uid}",
                recipient_id=uid,
                message_id=ids.get(uid),
                address=address,
                subject=messages[uid].title,
                body=messages[uid].body,
                url=messages[uid].url,
            )
            for uid, address in addresses.items()
        ]
        deliveries_create(deliveries, not_before=not_before)
    return sent


def _webhooks(
    reminders: QuerySet[Reminder], *, key: str, day: date, not_before: datetime | None = None
) -> int:
    """One message per group robot listing the items in its subtree (sent or waiting)."""
    rows = list(
        reminders.filter(via_webhook=True)
        .exclude(status=ReminderStatus.CANCELLED)
        .order_by("due_date", "item_key")
        .values("item_key", "org_path", "title", "audience")
    )
    if not rows:
        return 0
    items: dict[str, Any] = {}
    for r in rows:
        prev = items.get(r["item_key"])
        if prev is None or AUDIENCE_RANK.get(r["audience"], 0) > AUDIENCE_RANK.get(prev["audience"], 0):
            items[r["item_key"]] = r
    hooks = webhooks_covering({r["org_path"] for r in items.values()})
    per_hook: dict[int, list[Any]] = defaultdict(list)
    hook_obj = {}
    for r in items.values():
        for h in hooks.get(r["org_path"], []):
            per_hook[h.pk].append(r)
            hook_obj[h.pk] = h
    deliveries = []
    for pk, rs in per_hook.items():
        lines = [f"- {r['title']}" for r in rs[:30]]
        if len(rs) > 30:
            lines.append(f"……等共{len(rs)}项")
        deliveries.append(
            Delivery(
                channel=Channel.WEBHOOK,
                key=f"{key}:hook:{pk}",
                webhook=hook_obj[pk],
                address=hook_obj[pk].url[:500],
                subject=f"模范机关创建 · {day:%-m月%-d日}提醒（{len(rs)}项）",
                body="\n".join(lines),
                url=reverse("campaigns:reminder_preview"),
            )
        )
    return deliveries_create(deliveries, not_before=not_before)


def remind_now(*, committee: OrgUnit, source: str, now: datetime | None = None) -> int:
    """Send today's reminders of one source at once (e.g. when 公示 opens), through its rules.

    The daily run later that day finds the same keys logged and sends nothing again. Push
    channels wait for the end of quiet hours; the inbox does not.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    policy = policy_for(committee)
    rules = [r for r in active_rules(committee) if r.source == source]
    planned = plan(committee=committee, day=day, rules=rules)
    if not planned:
        return 0
    with transaction.atomic():
        write_log(planned, committee=committee, run=None, day=day)
    keys = {p.item.key for p in planned}
    hold = quiet_until(now, policy.quiet_start, policy.quiet_end)
    sent = compose(
        committee=committee,
        day=day,
        recipient_ids=sorted({p.recipient_id for p in planned}),
        now=now,
        item_keys=keys,
        immediate=True,
        not_before=hold,
    )
    with transaction.atomic():
        _webhooks(
            Reminder.objects.filter(committee=committee, item_key__in=keys, scheduled_on=day),
            key=f"remind-now:{source}:{day.isoformat()}:{min(keys)}",
            day=day,
            not_before=hold,
        )
    return sent


def dispatch_due(now: datetime | None = None) -> list[DispatchRun]:
    """Beat, every few minutes: start today's run of each 工委 once its dispatch time has come.

    Also finishes a run whose batches are all done but whose finish job was never written
    (a crash between the two), so a run can never stay half-sent.
    """
    now = now or timezone.now()
    local = timezone.localtime(now)
    started = []
    for committee in OrgUnit.objects.filter(kind=OrgKind.COMMITTEE, is_active=True, parent__isnull=True):
        policy = policy_for(committee)
        if (
            local.time() >= policy.dispatch_time
            and not DispatchRun.objects.filter(committee=committee, date=local.date()).exists()
        ):
            started.append(dispatch_day(committee=committee, day=local.date()))
    for run in DispatchRun.objects.filter(status=DispatchStatus.RUNNING).exclude(
        batches__status=DispatchStatus.RUNNING
    ):
        with transaction.atomic():
            _enqueue_finish(run)
    return started


def committee_of(org: OrgUnit) -> OrgUnit:
    root_id = int(org.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[0])
    return org if org.pk == root_id else OrgUnit.objects.get(pk=root_id)

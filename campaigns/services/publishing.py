"""Publishing the task list (domain.md §5 "Instantiation"): one checklist per applicable organisation,
one entry per item, one per period for recurring items.

`campaign_publish` marks the campaign 已发布 and queues a `PublishRun`; the Celery task calls
`publish_run_execute`, which fans out in batches of organisations and creates only what is
missing, so publishing again (or after adding organisations or items) never duplicates a row.

No `EntryEvent("created")` is written per entry: at 5,000 branches × 60 items that is 300,000
extra rows, doubling the cost of publishing (target P9). An entry's creation is recorded by
the `PublishRun` that created it (and the PUBLISH audit event with its counts).
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from branches.audit import audit_record
from branches.models import AuditAction, OrgUnit, User, subtree_q
from branches.notify import outbox_enqueue
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Checklist,
    ChecklistEntry,
    ChecklistItem,
    Frequency,
    PublishRun,
    PublishRunStatus,
)
from campaigns.models.checklists import PERIODS_PER_YEAR

logger = logging.getLogger(__name__)

# Organisations per batch: one transaction, a handful of queries and one progress update each.
PUBLISH_ORG_BATCH = 250
# Rows per INSERT statement (Django lowers it further to the database's parameter limit).
BULK_BATCH_SIZE = 2000

ERR_ARCHIVED = "已归档的创建活动不能发布。"
ERR_MISSING_RUN = "发布任务不存在。"


class PublishError(Exception):
    """A refusal with a Chinese message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the schedule of an item -------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def item_schedule(*, frequency: str, due_date: date | None, year: int) -> tuple[tuple[int, date | None], ...]:
    """(period, due date) of every entry of an item: period 0 for 一次/每年, else 1..n with the
    due date at the end of each month, quarter or half-year of the campaign year."""
    if frequency == Frequency.ONCE:
        return ((0, due_date),)
    if frequency == Frequency.YEARLY:
        return ((0, due_date or date(year, 12, 31)),)
    periods = PERIODS_PER_YEAR[frequency]
    months = 12 // periods
    return tuple((p, _month_end(year, p * months)) for p in range(1, periods + 1))


@dataclass(frozen=True)
class _Item:
    pk: int
    owner_id: int | None
    kinds: frozenset[str]
    schedule: tuple[tuple[int, date | None], ...]

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


def _load_items(campaign: Campaign) -> list[_Item]:
    rows = ChecklistItem.objects.filter(campaign=campaign, is_active=True).values_list(
        "pk", "owner_id", "applicable_kinds", "frequency", "due_date"
    )
    return [
        _Item(
            pk=pk,
            owner_id=owner_id,
            kinds=frozenset(kinds or ()),
            schedule=item_schedule(frequency=frequency, due_date=due, year=campaign.year),
        )
        for pk, owner_id, kinds, frequency, due in rows
    ]


@dataclass(frozen=True)
class _Org:
    pk: int
    # (item pk, period, due date) of every entry this organisation must have.
    rows: tuple[tuple[int, int, date | None], ...]


def publish_plan(campaign: Campaign) -> list[_Org]:
    """Every active organisation below the 工委 with the entries it must have (same rule as
    `campaigns.selectors.items_for_org`); organisations with no applicable item are left out."""
    items = _load_items(campaign)
    global_items = [i for i in items if i.owner_id is None]
    local_items: dict[int, list[_Item]] = {}
    for item in items:
        if item.owner_id is not None:
            local_items.setdefault(item.owner_id, []).append(item)
    by_kind: dict[str, tuple[tuple[int, int, date | None], ...]] = {}

    def rows_for(items_: Sequence[_Item], kind: str) -> tuple[tuple[int, int, date | None], ...]:
        return tuple((i.pk, p, due) for i in items_ if i.applies_to(kind) for p, due in i.schedule)

    committee = campaign.committee
    orgs = (
        OrgUnit.objects.filter(subtree_q(committee.path), is_active=True)
        .exclude(pk=committee.pk)
        .order_by("path")
        .values_list("pk", "path", "kind")
    )
    plan: list[_Org] = []
    for pk, path, kind in orgs:
        if kind not in by_kind:
            by_kind[kind] = rows_for(global_items, kind)
        rows = by_kind[kind]
        if local_items:
            owners = [int(p) for p in path.strip("/").split("/")]
            extra = [i for owner in owners for i in local_items.get(owner, ())]
            if extra:
                rows = rows + rows_for(extra, kind)
        if rows:
            plan.append(_Org(pk=pk, rows=rows))
    return plan


# --- services ----------------------------------------------------------------------------------


def _publish_start(campaign: Campaign, actor: User | None) -> PublishRun:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.ARCHIVED:
        raise PublishError(ERR_ARCHIVED)
    if campaign.status == CampaignStatus.DRAFT:
        campaign.status = CampaignStatus.PUBLISHED
        campaign.published_at = timezone.now()
        campaign.save(update_fields=["status", "published_at", "updated_at"])
    return PublishRun.objects.create(campaign=campaign, requested_by=actor)


def campaign_publish(*, campaign: Campaign, actor: User) -> PublishRun:
    """Publish (or republish) a draft or published campaign; the fan-out runs in a Celery task."""
    with transaction.atomic():
        run = _publish_start(campaign, actor)
        # Through the outbox: the request never waits on the broker (R13).
        outbox_enqueue("campaigns.tasks.publish_campaign", run_id=run.pk)
    return run


def campaign_publish_now(*, campaign: Campaign, actor: User | None) -> PublishRun:
    """The same, with the fan-out in this process (demo data, command line)."""
    with transaction.atomic():
        run = _publish_start(campaign, actor)
    return publish_run_execute(run=run)


def publish_run_execute(*, run: PublishRun, org_batch: int = PUBLISH_ORG_BATCH) -> PublishRun:
    """Create every missing checklist and entry of the run's campaign, batch by batch.

    Safe to run twice and concurrently with another run: existing rows are skipped and
    inserts ignore rows another run wrote in the meantime. A failure marks the run 失败
    with the error text; batches already committed stay (a new run completes them).
    """
    runs = PublishRun.objects.filter(pk=run.pk)
    started_at = timezone.now()
    runs.update(status=PublishRunStatus.RUNNING, started_at=started_at, error="")
    campaign = Campaign.objects.select_related("committee").get(pk=run.campaign_id)
    checklists_created = entries_created = done = 0
    try:
        if campaign.is_locked:  # archived after the run was queued
            raise PublishError(ERR_ARCHIVED)
        plan = publish_plan(campaign)
        runs.update(total=len(plan), done=0)
        for start in range(0, len(plan), org_batch):
            batch = plan[start : start + org_batch]
            with transaction.atomic():
                made_checklists, made_entries = _publish_batch(campaign, batch)
            checklists_created += made_checklists
            entries_created += made_entries
            done += len(batch)
            runs.update(done=done, checklists_created=checklists_created, entries_created=entries_created)
    except Exception as exc:
        logger.exception("publish run %s failed", run.pk)
        runs.update(status=PublishRunStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
    else:
        runs.update(status=PublishRunStatus.DONE, finished_at=timezone.now())
        audit_record(
            action=AuditAction.PUBLISH,
            actor=run.requested_by,
            target=campaign,
            detail={
                "campaign": campaign.pk,
                "run": run.pk,
                "organisations": done,
                "checklists_created": checklists_created,
                "entries_created": entries_created,
            },
        )
    run.refresh_from_db()
    return run


def _publish_batch(campaign: Campaign, batch: list[_Org]) -> tuple[int, int]:
    """Checklists and entries missing for one batch of organisations: a fixed number of queries."""
    org_ids = [o.pk for o in batch]
    existing = dict(
        Checklist.objects.filter(campaign=campaign, org_id__in=org_ids).values_list("org_id", "pk")
    )
    missing = [pk for pk in org_ids if pk not in existing]
    created: dict[int, int] = {}
    if missing:
        Checklist.objects.bulk_create(
            [Checklist(campaign=campaign, org_id=pk) for pk in missing],
            batch_size=BULK_BATCH_SIZE,
            ignore_conflicts=True,
        )
        created = dict(
            Checklist.objects.filter(campaign=campaign, org_id__in=missing).values_list("org_id", "pk")
        )
    # Only checklists that existed before this run can already hold entries.
    have: set[tuple[int, int, int]] = set()
    if existing:
        have = set(
            ChecklistEntry.objects.filter(checklist_id__in=list(existing.values())).values_list(
                "checklist_id", "item_id", "period"
            )
        )
    campaign_id = campaign.pk
    entries: list[ChecklistEntry] = []
    append = entries.append
    for org in batch:
        org_id = org.pk
        checklist_id = existing.get(org_id) or created[org_id]
        for item_id, period, due in org.rows:
            if have and (checklist_id, item_id, period) in have:
                continue
            append(
                ChecklistEntry(
                    checklist_id=checklist_id,
                    campaign_id=campaign_id,
                    org_id=org_id,
                    item_id=item_id,
                    period=period,
                    due_date=due,
                )
            )
    if entries:
        ChecklistEntry.objects.bulk_create(entries, batch_size=BULK_BATCH_SIZE, ignore_conflicts=True)
    return len(created), len(entries)


def publish_run_for_task(run_id: int) -> PublishRun | None:
    """The task's entry point: a finished run is not executed again (tasks may be delivered twice)."""
    run = PublishRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.warning("publish run %s no longer exists", run_id)
        return None
    if run.status == PublishRunStatus.DONE:
        return run
    return publish_run_execute(run=run)

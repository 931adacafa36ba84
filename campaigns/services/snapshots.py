"""Mid-year snapshot (年中晒进度): every organisation's progress frozen at a date."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from branches.models import User
from campaigns import permissions
from campaigns.models import Campaign, Checklist, ProgressSnapshot, SnapshotRow
from campaigns.models.checklists import DONE_STATUSES
from campaigns.services.entries import PermissionRefused


def progress_by_org(checklists: QuerySet[Checklist], on: date) -> dict[int, dict[str, Any]]:
    """total / due / done / overdue per organisation with a checklist, as ONE aggregate query.

    due: due_date ≤ `on`; done: approved or not applicable; overdue: due and not done.
    Counted over the checklist's entries (LEFT JOIN), so a checklist without entries gives zeros.
    """
    done = Q(entries__status__in=DONE_STATUSES)
    due = Q(entries__due_date__lte=on)
    rows = (
        checklists.order_by()
        .values("org_id")
        .annotate(
            total=Count("entries"),
            due=Count("entries", filter=due),
            done=Count("entries", filter=done),
            overdue=Count("entries", filter=due & ~done),
        )
    )
    return {r["org_id"]: r for r in rows}


def percent(done: int, total: int) -> float | None:
    return round(100.0 * done / total, 1) if total else None


@transaction.atomic
def snapshot_take(*, campaign: Campaign, actor: User, taken_on: date, title: str) -> ProgressSnapshot:
    if not permissions.is_committee_staff(actor):
        raise PermissionRefused("只有工委工作人员可以生成进度快照。")
    snapshot = ProgressSnapshot.objects.create(
        campaign=campaign, title=title, taken_on=taken_on, created_by=actor
    )
    numbers = progress_by_org(Checklist.objects.filter(campaign=campaign), taken_on)
    SnapshotRow.objects.bulk_create(
        SnapshotRow(
            snapshot=snapshot,
            org_id=org_id,
            total=r["total"],
            due=r["due"],
            done=r["done"],
            overdue=r["overdue"],
        )
        for org_id, r in numbers.items()
    )
    return snapshot

"""P9: publishing the task list to every branch of the scale tree against a bare `bulk_create`.

app = `publish_run_execute` into empty checklist tables (plan, missing-row checks, batches,
progress updates, audit event); ref = `bulk_create` of the same Checklist and ChecklistEntry
rows, computed in memory before the clock starts. Each run is its own transaction, rolled
back afterwards, so every run starts from empty tables. Both must write the same number of
rows, and publishing a second time must create none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from tests.bench.run import TimingResult, progress

P9_TARGET = 2.0
P9_ITEMS = 60
P9_YEAR = 2026
SECTIONS = ("政治建设", "思想建设", "组织建设", "作风建设", "纪律建设", "制度建设")


def p9_campaign_create(*, root_id: int) -> int:
    """A campaign of the scale tree's 工委 with 60 one-off items for every 党支部."""
    from branches.models import OrgKind
    from campaigns.models import Campaign, CampaignStatus, ChecklistItem, Frequency, Section

    campaign = Campaign.objects.create(
        committee_id=root_id, year=P9_YEAR, name=f"{P9_YEAR}年度模范机关创建", status=CampaignStatus.PUBLISHED
    )
    sections = [
        Section.objects.create(campaign=campaign, name=name, sort_order=i) for i, name in enumerate(SECTIONS)
    ]
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            campaign=campaign,
            section=sections[n % len(sections)],
            code=f"P9-{n:02d}",
            title=f"测试任务{n}",
            points=Decimal("1.5"),
            due_date=date(P9_YEAR, 1, 31) + timedelta(days=5 * n),
            frequency=Frequency.ONCE,
            applicable_kinds=[OrgKind.BRANCH],
            sort_order=n,
        )
        for n in range(1, P9_ITEMS + 1)
    )
    return campaign.pk


def p9_campaign_delete(campaign_id: int) -> None:
    from campaigns.models import Campaign, ChecklistItem, PublishRun, Section

    PublishRun.objects.filter(campaign_id=campaign_id).delete()
    ChecklistItem.objects.filter(campaign_id=campaign_id).delete()
    Section.objects.filter(campaign_id=campaign_id).delete()
    Campaign.objects.filter(pk=campaign_id).delete()


def _rolled_back(fn: Callable[[], object]) -> Callable[[], object]:
    from django.db import transaction

    def run() -> object:
        with transaction.atomic():
            result = fn()
            transaction.set_rollback(True)
        return result

    return run


def _reference_rows(campaign_id: int) -> tuple[list[object], list[object]]:
    """The rows publishing must write, computed independently of the service: one checklist
    per active 党支部 below the 工委 and one entry per item, due on the item's date."""
    from django.db.models import Max

    from branches.models import OrgKind, OrgUnit, subtree_q
    from campaigns.models import Campaign, Checklist, ChecklistEntry, ChecklistItem

    campaign = Campaign.objects.select_related("committee").get(pk=campaign_id)
    org_ids = list(
        OrgUnit.objects.filter(subtree_q(campaign.committee.path), kind=OrgKind.BRANCH, is_active=True)
        .order_by("path")
        .values_list("pk", flat=True)
    )
    items = list(ChecklistItem.objects.filter(campaign=campaign).values_list("pk", "due_date"))
    next_id = (Checklist.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    checklists: list[object] = []
    entries: list[object] = []
    for n, org_id in enumerate(org_ids):
        checklist_id = next_id + n
        checklists.append(Checklist(id=checklist_id, campaign_id=campaign_id, org_id=org_id))
        entries.extend(
            ChecklistEntry(
                checklist_id=checklist_id,
                campaign_id=campaign_id,
                org_id=org_id,
                item_id=item_id,
                period=0,
                due_date=due,
            )
            for item_id, due in items
        )
    return checklists, entries


def _row_counts(campaign_id: int) -> tuple[int, int]:
    from campaigns.models import Checklist, ChecklistEntry

    return (
        Checklist.objects.filter(campaign_id=campaign_id).count(),
        ChecklistEntry.objects.filter(campaign_id=campaign_id).count(),
    )


def bench_p9(*, root_id: int, repeat: int = 1) -> TimingResult:
    """P9: the publishing fan-out against a bare bulk insert of the same rows."""
    from campaigns.models import Checklist, ChecklistEntry, PublishRun
    from campaigns.services.publishing import BULK_BATCH_SIZE, publish_run_execute

    campaign_id = p9_campaign_create(root_id=root_id)
    problems: list[str] = []
    counts: dict[str, tuple[int, int]] = {}
    try:
        checklists, entries = _reference_rows(campaign_id)
        expected = (len(checklists), len(entries))

        def app() -> None:
            run = PublishRun.objects.create(campaign_id=campaign_id)
            publish_run_execute(run=run)

        def ref() -> None:
            for obj in checklists:
                obj._state.adding = True  # type: ignore[attr-defined]
            for obj in entries:
                obj._state.adding = True  # type: ignore[attr-defined]
                obj.pk = None  # type: ignore[attr-defined]
            Checklist.objects.bulk_create(checklists, batch_size=BULK_BATCH_SIZE)  # type: ignore[arg-type]
            ChecklistEntry.objects.bulk_create(entries, batch_size=BULK_BATCH_SIZE)  # type: ignore[arg-type]

        def app_checked() -> None:
            started = time.perf_counter()
            app()
            app_times.append(time.perf_counter() - started)
            counts["app"] = _row_counts(campaign_id)
            again = PublishRun.objects.create(campaign_id=campaign_id)
            again = publish_run_execute(run=again)
            if (again.checklists_created, again.entries_created) != (0, 0) or _row_counts(
                campaign_id
            ) != counts["app"]:
                problems.append(
                    f"re-publishing created {again.checklists_created} checklists, {again.entries_created} entries"
                )

        def ref_checked() -> None:
            started = time.perf_counter()
            ref()
            ref_times.append(time.perf_counter() - started)
            counts["ref"] = _row_counts(campaign_id)

        app_times: list[float] = []
        ref_times: list[float] = []
        for n in range(max(1, repeat)):
            progress(f"P9: publishing {expected[1]} entries, run {n + 1}")
            _rolled_back(app_checked)()
            _rolled_back(ref_checked)()
        for name in ("app", "ref"):
            if counts.get(name) != expected:
                problems.append(f"{name} wrote {counts.get(name)} (checklists, entries), expected {expected}")
    finally:
        p9_campaign_delete(campaign_id)
    app_times.sort()
    ref_times.sort()
    return TimingResult(
        name="P9_publish",
        app=app_times[len(app_times) // 2],
        ref=ref_times[len(ref_times) // 2],
        target=P9_TARGET,
        valid=not problems,
        note=f"{expected[0]} checklists, {expected[1]} entries"
        + (f"; PROBLEMS: {'; '.join(problems)}" if problems else ""),
    )

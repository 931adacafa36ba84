"""Last year's campaign for the demo, so the dashboard can set this year against last year (§11).

Cloned from this year's demo campaign (same sections and items, dates one year back), published
to the same tree, then played to a finished year: most entries approved on or before their due
date, some late, a few never done; every responsibility letter signed; archived. Deterministic:
a fixed seed drives every choice. Both campaigns' dashboard rollups are built at the end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from branches.demo import ROOT_CODE
from branches.models import User
from campaigns.demo import ADMIN_USERNAME, demo_campaign_exists
from campaigns.models import Campaign, CampaignStatus, Checklist, ChecklistEntry, EntryStatus
from campaigns.services.campaigns import campaign_archive, campaign_clone
from campaigns.services.publishing import campaign_publish_now
from scoring.rollups import rollup_refresh

SEED = 2025
BATCH = 2000


@dataclass
class HistoryResult:
    campaign: Campaign
    entries: int
    on_time: int
    late: int
    undone: int


def demo_history_exists(*, today: date) -> bool:
    return Campaign.objects.filter(committee__code=ROOT_CODE, year=today.year - 1).exists()


def _outcome(rng: random.Random, due: date | None, year: int) -> tuple[str, date | None]:
    roll = rng.random()
    anchor = due or date(year, 12, 15)
    if roll < 0.86:
        return EntryStatus.APPROVED, anchor - timedelta(days=rng.randint(0, 25))
    if roll < 0.95:
        return EntryStatus.APPROVED, min(anchor + timedelta(days=rng.randint(1, 30)), date(year, 12, 31))
    return rng.choice((EntryStatus.IN_PROGRESS, EntryStatus.RETURNED)), None


@transaction.atomic
def demo_history_load(*, today: date) -> HistoryResult:
    if not demo_campaign_exists(today=today):
        raise ValueError("this year's demo campaign is missing")
    current = Campaign.objects.select_related("committee").get(committee__code=ROOT_CODE, year=today.year)
    admin = User.objects.get(username=ADMIN_USERNAME)
    year = today.year - 1
    last = campaign_clone(source=current, year=year, actor=admin)
    campaign_publish_now(campaign=last, actor=admin)
    rng = random.Random(SEED)
    on_time = late = undone = 0
    rows = list(ChecklistEntry.objects.filter(campaign=last).order_by("pk").only("pk", "due_date"))
    for entry in rows:
        status, completed = _outcome(rng, entry.due_date, year)
        entry.status = status
        entry.completed_on = completed
        if completed is None:
            undone += 1
        elif entry.due_date is None or completed <= entry.due_date:
            on_time += 1
        else:
            late += 1
    ChecklistEntry.objects.bulk_update(rows, ["status", "completed_on"], batch_size=BATCH)
    signed_at = timezone.make_aware(datetime.combine(date(year, 1, 20), time(10)))
    Checklist.objects.filter(campaign=last).update(letter_signed_at=signed_at, letter_signed_by=admin)
    last.refresh_from_db()
    if last.status == CampaignStatus.PUBLISHED:
        campaign_archive(campaign=last, actor=admin)
    rollup_refresh(last)
    rollup_refresh(current)
    return HistoryResult(campaign=last, entries=len(rows), on_time=on_time, late=late, undone=undone)

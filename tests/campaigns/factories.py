"""Campaign test data built directly on the models (publishing has its own tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from branches.models import OrgUnit
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Checklist,
    ChecklistEntry,
    ChecklistItem,
    Frequency,
    Section,
)


def make_campaign(
    committee: OrgUnit, *, year: int = 2026, status: str = CampaignStatus.PUBLISHED
) -> Campaign:
    return Campaign.objects.create(
        committee=committee,
        year=year,
        name=f"{year}年模范机关创建",
        status=status,
        duty_starts_on=date(year, 1, 1),
        duty_ends_on=date(year, 3, 31),
        supervision_starts_on=date(year, 6, 1),
        supervision_ends_on=date(year, 7, 31),
        reporting_starts_on=date(year, 11, 1),
        reporting_ends_on=date(year + 1, 1, 31),
    )


def make_section(campaign: Campaign, name: str = "政治建设", sort_order: int = 1) -> Section:
    return Section.objects.create(campaign=campaign, name=name, sort_order=sort_order)


_item_seq = iter(range(1, 10**9))


def make_item(
    campaign: Campaign,
    section: Section | None = None,
    *,
    points: str = "5",
    due_date: date | None = date(2026, 6, 30),
    frequency: str = Frequency.ONCE,
    **fields: Any,
) -> ChecklistItem:
    n = next(_item_seq)
    section = section or Section.objects.filter(campaign=campaign).first() or make_section(campaign)
    return ChecklistItem.objects.create(
        campaign=campaign,
        section=section,
        code=fields.pop("code", f"ZZ{n:03d}"),
        title=fields.pop("title", f"落实“三会一课”制度 {n}"),
        points=Decimal(points),
        due_date=due_date,
        frequency=frequency,
        **fields,
    )


def make_entry(
    campaign: Campaign, org: OrgUnit, item: ChecklistItem, *, period: int = 0, **fields: Any
) -> ChecklistEntry:
    checklist, _ = Checklist.objects.get_or_create(campaign=campaign, org=org)
    return ChecklistEntry.objects.create(
        checklist=checklist,
        campaign=campaign,
        org=org,
        item=item,
        period=period,
        due_date=fields.pop("due_date", item.due_date),
        **fields,
    )

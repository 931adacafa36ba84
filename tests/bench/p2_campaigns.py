"""P2 for the campaign pages of issue 3: 我的任务清单 and the review queue, 1 row against 50.

Both pages are asked for two campaigns that differ only in their row counts: the same
secretary sees 1 or 50 entries of their branch, the same 工委 staff user sees 1 or 50
submitted entries waiting for 工委审核. The rows are varied (several sections, every
open/done status, a responsible person, evidence on every third entry) so that anything
a row shows is loaded once per page and not once per row. Data is written with the ORM
directly (bulk_create): P2 measures the pages, not the publishing service.

The fixture builders here are shared with P11 (tests/bench/p11.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import cycle
from typing import TYPE_CHECKING

from tests.bench.run import P2_MANY, QueryCountResult, _count_queries, _person

if TYPE_CHECKING:
    from branches.models import OrgUnit, User
    from campaigns.models import Campaign, ChecklistItem

CHECKLIST_PAGE = "campaigns:my_checklist"
REVIEW_QUEUE_PAGE = "campaigns:review_queue"

# Years no real campaign of the scale tree uses (one campaign per 工委 and year).
P2_YEAR_ONE = 2091
P2_YEAR_MANY = 2092
SECTIONS = ("政治建设", "思想建设", "组织建设", "作风建设", "纪律建设", "制度建设")
EVIDENCE_EVERY = 3


def page_url(name: str, *, campaign_id: int) -> str:
    """The URL of a campaign page for one campaign."""
    from django.urls import reverse

    return f"{reverse(name)}?campaign={campaign_id}"


def page_missing(name: str) -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(name)
    except NoReverseMatch:
        return True
    return False


# --- campaign data ----------------------------------------------------------------------------


def campaign_create(*, committee_id: int, year: int, items: int) -> tuple[Campaign, list[ChecklistItem]]:
    """A published campaign of the 工委 with `items` items spread over the sections."""
    from campaigns.models import Campaign, CampaignStatus, ChecklistItem, Frequency, Section

    campaign = Campaign.objects.create(
        committee_id=committee_id,
        year=year,
        name=f"{year}年模范机关创建（性能测试）",
        status=CampaignStatus.PUBLISHED,
        duty_starts_on=date(year, 1, 1),
        duty_ends_on=date(year, 3, 31),
        supervision_starts_on=date(year, 6, 1),
        supervision_ends_on=date(year, 7, 31),
        reporting_starts_on=date(year, 11, 1),
        reporting_ends_on=date(year + 1, 1, 31),
    )
    sections = Section.objects.bulk_create(
        Section(campaign=campaign, name=name, sort_order=i) for i, name in enumerate(SECTIONS, start=1)
    )
    created = ChecklistItem.objects.bulk_create(
        ChecklistItem(
            campaign=campaign,
            section=sections[i % len(sections)],
            code=f"P{year}-{i:03d}",
            title=f"落实“三会一课”制度第{i}项",
            requirement="按要求召开并记录。",
            evidence_guidance="会议记录、照片",
            points=Decimal("2.50"),
            due_date=date(year, 1, 1) + timedelta(days=(i * 7) % 360),
            frequency=Frequency.ONCE,
            sort_order=i,
        )
        for i in range(items)
    )
    return campaign, created


def entries_create(
    *,
    campaign: Campaign,
    org: OrgUnit,
    items: list[ChecklistItem],
    statuses: tuple[str, ...],
    review_stage: str = "",
    actor: User,
    responsible: User | None = None,
) -> int:
    """One entry per item for `org`, statuses in turn; evidence on every third entry."""
    from django.utils import timezone

    from campaigns.models import (
        Checklist,
        ChecklistEntry,
        EntryEvidence,
        EntryStatus,
        Evidence,
        EvidenceRevision,
    )

    now = timezone.now()
    checklist = Checklist.objects.create(campaign=campaign, org=org)
    entries = ChecklistEntry.objects.bulk_create(
        ChecklistEntry(
            checklist=checklist,
            campaign=campaign,
            org=org,
            item=item,
            due_date=item.due_date,
            status=status,
            review_stage=review_stage if status == EntryStatus.SUBMITTED else "",
            responsible=responsible if i % 2 else None,
            progress_note="已按计划推进。" if status != EntryStatus.NOT_STARTED else "",
            self_score=item.points if status in (EntryStatus.SUBMITTED, EntryStatus.APPROVED) else None,
            first_review_score=item.points if review_stage == "committee" else None,
            return_reason="材料不全，请补充。" if status == EntryStatus.RETURNED else "",
            submitted_at=now if status in (EntryStatus.SUBMITTED, EntryStatus.APPROVED) else None,
            updated_by=actor,
        )
        for i, (item, status) in enumerate(zip(items, cycle(statuses), strict=False))
    )
    with_evidence = entries[::EVIDENCE_EVERY]
    evidence = Evidence.objects.bulk_create(
        Evidence(org=org, title=f"佐证材料{e.item.code}", created_by=actor) for e in with_evidence
    )
    revisions = EvidenceRevision.objects.bulk_create(
        EvidenceRevision(
            evidence=ev,
            number=1,
            original_name=f"{ev.title}.pdf",
            stored_name=f"bench/{campaign.pk}/{org.pk}/{ev.pk}.pdf",
            size=1024,
            sha256=f"{ev.pk:064x}",
            content_type="application/pdf",
            uploaded_by=actor,
        )
        for ev in evidence
    )
    for ev, rev in zip(evidence, revisions, strict=True):
        ev.current = rev
    Evidence.objects.bulk_update(evidence, ["current"])
    EntryEvidence.objects.bulk_create(
        EntryEvidence(entry=e, evidence=ev) for e, ev in zip(with_evidence, evidence, strict=True)
    )
    return len(entries)


# Statuses of a branch's own checklist: everything but 待审核, so the review queue of the
# 工委 (which sees every submitted entry in its scope) holds only the review branch's rows.
CHECKLIST_STATUSES = ("not_started", "in_progress", "returned", "approved", "not_applicable")


def campaign_data_reset() -> None:
    """Delete every campaign row (before the organisation tree is reset: entries reference it).

    Plain DELETE statements in one transaction; the foreign keys are deferred to commit.
    """
    from django.apps import apps
    from django.db import connection, transaction

    tables = [
        m._meta.db_table for m in apps.get_app_config("campaigns").get_models(include_auto_created=True)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


# --- P2 -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingPage:
    """The figure of a page that does not exist (yet): always a FAIL."""

    name: str
    page: str

    @property
    def passed(self) -> bool:
        return False

    @property
    def note(self) -> str:
        return f"{self.page} does not resolve"

    def line(self) -> str:
        return f"BENCH {self.name}_queries rows1=- rows50=- FAIL"


@dataclass(frozen=True)
class P2CampaignFixture:
    secretary_id: int
    staff_id: int
    checklist_org_id: int
    review_org_id: int
    campaign_one_id: int
    campaign_many_id: int


def p2_campaign_fixture_create(*, root_id: int, many: int = P2_MANY) -> P2CampaignFixture:
    """Two campaigns of the root 工委 with 1 and `many` items, entries for two branches.

    The checklist branch has one entry per item in open and done statuses; the review
    branch has one per item submitted and waiting for 工委审核.
    """
    from branches import services
    from branches.models import OrgKind, OrgUnit, Role, User
    from campaigns.models import EntryStatus, ReviewStage

    root = OrgUnit.objects.get(pk=root_id)
    committee = services.org_unit_create(
        code="P2C",
        name="中共P2清单测试机关委员会",
        kind=OrgKind.AGENCY_COMMITTEE,
        parent=root,
        sort_order=998_000,
        agency_name="P2清单测试单位",
    )
    orgs = {
        key: services.org_unit_create(
            code=f"P2C-{key}",
            name=f"P2清单测试{label}党支部",
            kind=OrgKind.BRANCH,
            parent=committee,
            sort_order=n * 10,
            agency_name=committee.agency_name,
        )
        for n, (key, label) in enumerate((("checklist", "填报"), ("review", "审核")), start=1)
    }
    secretary = _person("p2c_secretary", orgs["checklist"].pk, Role.SECRETARY)
    member = _person("p2c_member", orgs["checklist"].pk, Role.COMMITTEE_MEMBER)
    review_secretary = _person("p2c_review_secretary", orgs["review"].pk, Role.SECRETARY)
    staff = _person("p2c_committee_staff", root_id, Role.COMMITTEE_STAFF)
    campaign_ids: dict[int, int] = {}
    for n, year in ((1, P2_YEAR_ONE), (many, P2_YEAR_MANY)):
        campaign, items = campaign_create(committee_id=root_id, year=year, items=n)
        campaign_ids[n] = campaign.pk
        entries_create(
            campaign=campaign,
            org=orgs["checklist"],
            items=items,
            statuses=CHECKLIST_STATUSES,
            actor=secretary,
            responsible=member,
        )
        entries_create(
            campaign=campaign,
            org=orgs["review"],
            items=items,
            statuses=(EntryStatus.SUBMITTED,),
            review_stage=ReviewStage.COMMITTEE,
            actor=review_secretary,
        )
    fx = P2CampaignFixture(
        secretary_id=secretary.pk,
        staff_id=staff.pk,
        checklist_org_id=orgs["checklist"].pk,
        review_org_id=orgs["review"].pk,
        campaign_one_id=campaign_ids[1],
        campaign_many_id=campaign_ids[many],
    )
    _check_rows(fx, User.objects.get(pk=fx.secretary_id), User.objects.get(pk=fx.staff_id), many)
    return fx


def _check_rows(fx: P2CampaignFixture, secretary: User, staff: User, many: int) -> None:
    """The pages' own selectors must see exactly 1 and `many` rows, or the comparison is void."""
    from campaigns import selectors
    from campaigns.models import Campaign

    for campaign_id, n in ((fx.campaign_one_id, 1), (fx.campaign_many_id, many)):
        campaign = Campaign.objects.get(pk=campaign_id)
        seen = (
            selectors.my_entries(secretary, campaign).count(),
            selectors.review_queue_for(staff, campaign).count(),
        )
        if seen != (n, n):
            raise AssertionError(f"P2 campaign fixture: expected {n} rows per page, selectors see {seen}")


def bench_p2_campaigns(*, root_id: int, many: int = P2_MANY) -> list[QueryCountResult | MissingPage]:
    """P2 for 我的任务清单 and the review queue: the same query count for 1 and `many` rows."""
    from django.test import Client

    from branches.models import User

    fx = p2_campaign_fixture_create(root_id=root_id, many=many)
    pages = (
        ("P2_my_checklist", CHECKLIST_PAGE, fx.secretary_id),
        ("P2_review_queue", REVIEW_QUEUE_PAGE, fx.staff_id),
    )
    results: list[QueryCountResult | MissingPage] = []
    for name, page, user_id in pages:
        if page_missing(page):
            # No page, no figure: a FAIL line rather than a figure for some other page.
            results.append(MissingPage(name=name, page=page))
            continue
        client = Client()
        client.force_login(User.objects.get(pk=user_id))
        one = page_url(page, campaign_id=fx.campaign_one_id)
        many_url = page_url(page, campaign_id=fx.campaign_many_id)
        # One unmeasured request each: first-use caches (content types, templates) are not per-row cost.
        _count_queries(client, one)
        _count_queries(client, many_url)
        results.append(
            QueryCountResult(
                name=name, rows1=_count_queries(client, one), rows50=_count_queries(client, many_url)
            )
        )
    return results

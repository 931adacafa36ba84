"""The demo campaign (domain.md §14): a realistic list, published everywhere, mid-year progress."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from branches import demo as tree_demo
from branches.models import OrgKind, OrgUnit
from campaigns import demo
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Checklist,
    ChecklistEntry,
    ChecklistItem,
    EntryEvidence,
    EntryStatus,
    MilestoneKind,
    ReviewStage,
    Section,
)
from campaigns.services.publishing import publish_run_execute

# Mid-September of this year: the demo's calendar is this year's, and by then entries are overdue.
TODAY = date(timezone.localdate().year, 9, 15)


def test_the_command_refuses_without_the_demo_tree(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="load_demo"):
        call_command("load_demo_campaign", stdout=StringIO())


def test_the_command_loads_and_publishes_this_years_campaign(db) -> None:  # type: ignore[no-untyped-def]
    tree_demo.demo_load(today=timezone.localdate())
    out = StringIO()
    call_command("load_demo_campaign", stdout=out)
    campaign = Campaign.objects.get()
    assert campaign.year == timezone.localdate().year
    assert "已加载" in out.getvalue()
    assert Checklist.objects.filter(campaign=campaign, org__kind=OrgKind.BRANCH).count() == 104


def test_the_list_has_40_items_worth_100_points_in_six_sections() -> None:
    assert len(demo.DEMO_ITEMS) == 40
    assert sum(Decimal(i.points) for i in demo.DEMO_ITEMS) == Decimal("100")
    assert {i.section for i in demo.DEMO_ITEMS} == set(demo.SECTIONS) and len(demo.SECTIONS) == 6


def test_the_generated_files_are_a_pdf_and_a_png() -> None:
    pdf = demo.demo_pdf("ZJ01 record")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert demo.demo_png((1, 2, 3)).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker) -> Iterator[tuple[Campaign, demo.ProgressResult]]:  # type: ignore[no-untyped-def]
    """One load for the whole module (about 12 s), rolled back at its end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            tree_demo.demo_load(today=TODAY)
            yield demo.demo_campaign_load(today=TODAY)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def campaign(loaded, db) -> Campaign:  # type: ignore[no-untyped-def]
    return loaded[0]


def test_the_campaign_is_this_years_and_published(campaign: Campaign) -> None:
    assert (campaign.year, campaign.name) == (TODAY.year, f"{TODAY.year}年度模范机关创建")
    assert campaign.status == CampaignStatus.PUBLISHED


def test_the_committees_list_has_40_items_in_six_sections_totalling_100_points(campaign: Campaign) -> None:
    items = ChecklistItem.objects.filter(campaign=campaign, owner__isnull=True)
    assert items.count() == 40
    assert sum(i.points for i in items) == Decimal("100")
    assert list(Section.objects.filter(campaign=campaign).values_list("name", flat=True)) == list(
        demo.SECTIONS
    )


def test_the_calendar_holds_the_milestones_of_the_year(campaign: Campaign) -> None:
    months = {e.kind: e.starts_on.month for e in campaign.events.all()}
    assert months[MilestoneKind.PROGRESS] == 7
    assert months[MilestoneKind.SYMPOSIUM] == 8
    assert months[MilestoneKind.SITE_VISIT] == 9
    assert months[MilestoneKind.SURVEY] == 11


def test_it_is_published_to_all_104_branches(campaign: Campaign) -> None:
    assert Checklist.objects.filter(campaign=campaign, org__kind=OrgKind.BRANCH).count() == 104


def test_the_finance_committees_local_items_reach_only_its_branches(campaign: Campaign) -> None:
    owner = OrgUnit.objects.get(code=demo.LOCAL_OWNER_CODE)
    local = ChecklistItem.objects.filter(campaign=campaign, owner=owner)
    assert local.count() == 2
    paths = set(ChecklistEntry.objects.filter(item__in=local).values_list("org__path", flat=True))
    assert paths and all(p.startswith(owner.path) and p != owner.path for p in paths)


def test_publishing_the_demo_again_creates_nothing(campaign: Campaign) -> None:
    run = publish_run_execute(run=campaign.publish_runs.create())
    assert (run.checklists_created, run.entries_created) == (0, 0)


def test_every_entry_state_is_present(campaign: Campaign) -> None:
    statuses = set(ChecklistEntry.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == set(EntryStatus.values)


def test_submissions_wait_at_both_review_stages(campaign: Campaign) -> None:
    stages = set(
        ChecklistEntry.objects.filter(campaign=campaign, status=EntryStatus.SUBMITTED).values_list(
            "review_stage", flat=True
        )
    )
    assert stages == {ReviewStage.PARENT, ReviewStage.COMMITTEE}


def test_some_entries_are_overdue(campaign: Campaign) -> None:
    overdue = [e for e in ChecklistEntry.objects.filter(campaign=campaign) if e.is_overdue(TODAY)]
    assert len(overdue) > 0


def test_returned_entries_carry_a_reason(campaign: Campaign) -> None:
    returned = ChecklistEntry.objects.filter(campaign=campaign, status=EntryStatus.RETURNED)
    assert returned.exists()
    assert not returned.filter(return_reason="").exists()


def test_approved_entries_carry_the_committees_score(campaign: Campaign) -> None:
    approved = ChecklistEntry.objects.filter(campaign=campaign, status=EntryStatus.APPROVED)
    assert not approved.filter(review_score__isnull=True).exists()


def test_most_but_not_all_secretaries_signed_their_letter(campaign: Campaign) -> None:
    branches = Checklist.objects.filter(campaign=campaign, org__kind=OrgKind.BRANCH)
    signed = branches.filter(letter_signed_at__isnull=False).count()
    assert 0.75 * 104 <= signed < 104


def test_committee_members_are_responsible_for_some_of_the_budget_branchs_entries(campaign: Campaign) -> None:
    entries = ChecklistEntry.objects.filter(
        campaign=campaign, org__code=tree_demo.BUDGET_BRANCH_CODE, responsible__username="ysg_member"
    )
    assert entries.exists()
    assert set(entries.values_list("item__code", flat=True)) == {"ZJ04"}


def test_some_approved_entries_of_the_featured_branches_have_evidence(campaign: Campaign) -> None:
    linked = EntryEvidence.objects.filter(entry__campaign=campaign)
    assert linked.exists()
    assert set(linked.values_list("entry__org__code", flat=True)) <= set(demo.FEATURED_BRANCHES)


def test_the_command_skips_an_existing_campaign_with_if_empty(campaign: Campaign) -> None:
    out = StringIO()
    call_command("load_demo_campaign", "--if-empty", stdout=out)
    assert "已存在" in out.getvalue()
    assert Campaign.objects.count() == 1


def test_the_command_refuses_an_existing_campaign_without_if_empty(campaign: Campaign) -> None:
    with pytest.raises(CommandError, match="已存在"):
        call_command("load_demo_campaign", stdout=StringIO())

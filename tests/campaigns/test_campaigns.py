"""Campaigns (domain.md §4): create, edit, clone last year's, archive, milestones, and their pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import (
    Campaign,
    CampaignEvent,
    CampaignStatus,
    ChecklistItem,
    EntryStatus,
    Frequency,
    Section,
)
from campaigns.services.campaigns import (
    campaign_archive,
    campaign_clone,
    campaign_create,
    campaign_event_add,
    campaign_event_delete,
    campaign_update,
    shift_years,
)
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section

pytestmark = pytest.mark.django_db


# --- services ---------------------------------------------------------------------------------


def test_campaign_create_makes_a_draft_with_its_calendar(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = campaign_create(
        committee=tree.gw,
        year=2027,
        name="2027年模范机关创建",
        actor=committee_admin,
        duty_starts_on=date(2027, 1, 5),
        duty_ends_on=date(2027, 3, 31),
    )
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.duty_ends_on == date(2027, 3, 31)


def test_campaign_create_refuses_a_year_that_exists(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    make_campaign(tree.gw, year=2027)
    with pytest.raises(ValidationError, match="已经存在"):
        campaign_create(committee=tree.gw, year=2027, name="重复", actor=committee_admin)


def test_campaign_create_refuses_a_phase_ending_before_it_starts(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="结束日期不能早于开始日期"):
        campaign_create(
            committee=tree.gw,
            year=2027,
            name="x",
            actor=committee_admin,
            supervision_starts_on=date(2027, 7, 1),
            supervision_ends_on=date(2027, 6, 1),
        )
    assert not Campaign.objects.exists()


def test_campaign_create_refuses_a_committee_staff_member(tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        campaign_create(committee=tree.gw, year=2027, name="x", actor=committee_staff)


def test_campaign_create_refuses_an_organisation_that_is_not_the_committee(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="只能属于工委"):
        campaign_create(committee=tree.a, year=2027, name="x", actor=committee_admin)


def test_campaign_update_changes_the_calendar(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw, year=2026, status=CampaignStatus.DRAFT)
    campaign_update(
        campaign=campaign, actor=committee_admin, name="新名称", rating_starts_on=date(2026, 12, 1)
    )
    campaign.refresh_from_db()
    assert (campaign.name, campaign.rating_starts_on) == ("新名称", date(2026, 12, 1))


def test_campaign_update_refuses_an_archived_campaign(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw, status=CampaignStatus.ARCHIVED)
    with pytest.raises(ValidationError, match="已归档"):
        campaign_update(campaign=campaign, actor=committee_admin, name="改名")
    campaign.refresh_from_db()
    assert campaign.name == "2026年模范机关创建"


@pytest.fixture
def last_year(tree):  # type: ignore[no-untyped-def]
    """A published 2024 campaign (a leap year) with items, a local item, a milestone and progress."""
    campaign = make_campaign(tree.gw, year=2024)
    politics = make_section(campaign, "政治建设", 1)
    organisation = make_section(campaign, "组织建设", 2)
    make_item(campaign, politics, code="ZZ01", due_date=date(2024, 2, 29), points="10")
    monthly = make_item(campaign, organisation, code="ZZ02", due_date=None, frequency=Frequency.MONTHLY)
    make_item(campaign, organisation, code="A-01", owner=tree.a, due_date=date(2024, 9, 30))
    make_item(campaign, organisation, code="OLD", is_active=False)
    CampaignEvent.objects.create(campaign=campaign, title="推进会", starts_on=date(2024, 7, 15))
    make_entry(campaign, tree.a1, monthly, period=1, status=EntryStatus.APPROVED, review_score=Decimal("5"))
    return campaign


def test_clone_copies_sections_and_active_items_into_a_draft(last_year, committee_admin) -> None:  # type: ignore[no-untyped-def]
    clone = campaign_clone(source=last_year, year=2025, actor=committee_admin)
    assert clone.status == CampaignStatus.DRAFT
    assert clone.cloned_from == last_year
    assert list(Section.objects.filter(campaign=clone).values_list("name", flat=True)) == [
        "政治建设",
        "组织建设",
    ]
    assert sorted(ChecklistItem.objects.filter(campaign=clone).values_list("code", flat=True)) == [
        "A-01",
        "ZZ01",
        "ZZ02",
    ]


def test_clone_keeps_the_owner_of_local_items(last_year, committee_admin, tree) -> None:  # type: ignore[no-untyped-def]
    clone = campaign_clone(source=last_year, year=2025, actor=committee_admin)
    assert ChecklistItem.objects.get(campaign=clone, code="A-01").owner == tree.a


def test_clone_shifts_calendar_item_and_milestone_dates_by_the_year_difference(
    last_year, committee_admin
) -> None:  # type: ignore[no-untyped-def]
    clone = campaign_clone(source=last_year, year=2025, actor=committee_admin)
    assert clone.duty_ends_on == date(2025, 3, 31)
    assert clone.reporting_ends_on == date(2026, 1, 31)
    assert ChecklistItem.objects.get(campaign=clone, code="ZZ01").due_date == date(2025, 2, 28)
    assert CampaignEvent.objects.get(campaign=clone).starts_on == date(2025, 7, 15)
    assert clone.name == "2025年模范机关创建"


def test_clone_carries_over_no_checklists_entries_or_scores(last_year, committee_admin) -> None:  # type: ignore[no-untyped-def]
    clone = campaign_clone(source=last_year, year=2025, actor=committee_admin)
    assert not clone.checklists.exists()
    assert not ChecklistItem.objects.filter(campaign=clone, entries__isnull=False).exists()


def test_clone_refuses_a_year_that_exists(last_year, committee_admin, tree) -> None:  # type: ignore[no-untyped-def]
    make_campaign(tree.gw, year=2025)
    with pytest.raises(ValidationError, match="已经存在"):
        campaign_clone(source=last_year, year=2025, actor=committee_admin)
    assert Campaign.objects.count() == 2


def test_shift_years_moves_29_february_to_28_february() -> None:
    assert shift_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert shift_years(None, 1) is None


def test_archive_locks_a_published_campaign(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw)
    campaign_archive(campaign=campaign, actor=committee_admin)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ARCHIVED
    assert campaign.archived_at is not None
    assert campaign.is_locked


def test_archive_refuses_a_draft(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw, status=CampaignStatus.DRAFT)
    with pytest.raises(ValidationError, match="只有已发布"):
        campaign_archive(campaign=campaign, actor=committee_admin)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_archive_refuses_an_already_archived_campaign(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw, status=CampaignStatus.ARCHIVED)
    with pytest.raises(ValidationError, match="已归档"):
        campaign_archive(campaign=campaign, actor=committee_admin)


def test_milestone_add_and_delete(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw)
    event = campaign_event_add(
        campaign=campaign,
        actor=committee_admin,
        kind="symposium",
        title="座谈会",
        starts_on=date(2026, 8, 20),
    )
    assert list(campaign.events.all()) == [event]
    campaign_event_delete(event=event, actor=committee_admin)
    assert not campaign.events.exists()


def test_milestone_add_refuses_an_end_before_the_start(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw)
    with pytest.raises(ValidationError):
        campaign_event_add(
            campaign=campaign,
            actor=committee_admin,
            title="调研",
            starts_on=date(2026, 11, 10),
            ends_on=date(2026, 11, 1),
        )


def test_milestones_of_an_archived_campaign_cannot_change(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw, status=CampaignStatus.ARCHIVED)
    event = CampaignEvent.objects.create(campaign=campaign, title="推进会", starts_on=date(2026, 7, 1))
    with pytest.raises(ValidationError, match="已归档"):
        campaign_event_delete(event=event, actor=committee_admin)
    with pytest.raises(ValidationError, match="已归档"):
        campaign_event_add(campaign=campaign, actor=committee_admin, title="x", starts_on=date(2026, 8, 1))
    assert campaign.events.count() == 1


# --- pages --------------------------------------------------------------------------------------


@pytest.fixture
def campaigns(tree):  # type: ignore[no-untyped-def]
    return {
        "published": make_campaign(tree.gw, year=2026),
        "archived": make_campaign(tree.gw, year=2025, status=CampaignStatus.ARCHIVED),
        "draft": make_campaign(tree.gw, year=2027, status=CampaignStatus.DRAFT),
    }


def _listed(client) -> set[int]:  # type: ignore[no-untyped-def]
    response = client.get(reverse("campaigns:campaign_list"))
    assert response.status_code == 200
    return {c.year for c in response.context["campaigns"]}


def test_list_shows_a_secretary_published_and_archived_campaigns_only(
    campaigns, branch_secretary, login
) -> None:  # type: ignore[no-untyped-def]
    assert _listed(login(branch_secretary)) == {2025, 2026}


def test_list_shows_committee_staff_the_drafts_too(campaigns, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    assert _listed(login(committee_staff)) == {2025, 2026, 2027}


def test_list_offers_new_and_clone_to_committee_admins_only(
    campaigns, committee_admin, committee_staff, login
) -> None:  # type: ignore[no-untyped-def]
    admin_page = login(committee_admin).get(reverse("campaigns:campaign_list")).content.decode()
    assert "新建" in admin_page and "复制上年" in admin_page
    staff_page = login(committee_staff).get(reverse("campaigns:campaign_list")).content.decode()
    assert "复制上年" not in staff_page


def test_a_draft_is_404_for_a_secretary(campaigns, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("campaigns:campaign_detail", args=[campaigns["draft"].pk])
    assert login(branch_secretary).get(url).status_code == 404


def test_detail_shows_everyone_the_calendar_and_milestones(campaigns, branch_member, login) -> None:  # type: ignore[no-untyped-def]
    campaign = campaigns["published"]
    CampaignEvent.objects.create(campaign=campaign, title="现场观摩会", starts_on=date(2026, 9, 18))
    page = login(branch_member).get(reverse("campaigns:campaign_detail", args=[campaign.pk])).content.decode()
    assert "年中督责" in page and "2026-06-01" in page
    assert "现场观摩会" in page
    assert "归档" not in page


def test_detail_shows_section_and_overall_point_totals(campaigns, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    campaign = campaigns["published"]
    politics = make_section(campaign, "政治建设", 1)
    make_item(campaign, politics, points="10")
    make_item(campaign, politics, points="2.5")
    response = login(branch_secretary).get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    assert response.context["sections"][0]["total"] == Decimal("12.5")
    assert response.context["total_points"] == Decimal("12.5")


def test_detail_shows_unit_staff_local_items_apart_from_the_committee_list(
    campaigns, agency_staff, tree, login
) -> None:  # type: ignore[no-untyped-def]
    campaign = campaigns["published"]
    section = make_section(campaign)
    make_item(campaign, section, code="GW-1")
    make_item(campaign, section, code="A-1", owner=tree.a)
    make_item(campaign, section, code="B-1", owner=tree.b)
    response = login(agency_staff).get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    committee_codes = [i.code for g in response.context["sections"] for i in g["items"]]
    local = {g["owner"].code: [i.code for i in g["items"]] for g in response.context["local_groups"]}
    assert committee_codes == ["GW-1"]
    assert local == {"A": ["A-1"]}
    assert response.context["local_groups"][0]["editable"] is True


def test_detail_shows_a_branch_secretary_the_local_items_of_the_units_above(
    campaigns, branch_secretary, tree, login
) -> None:  # type: ignore[no-untyped-def]
    campaign = campaigns["published"]
    make_item(campaign, code="A-1", owner=tree.a)
    make_item(campaign, code="B-1", owner=tree.b)
    response = login(branch_secretary).get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    groups = response.context["local_groups"]
    assert [(g["owner"].code, g["editable"]) for g in groups] == [("A", False)]


def test_detail_shows_the_admin_the_manage_actions(campaigns, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    page = login(committee_admin).get(reverse("campaigns:campaign_detail", args=[campaigns["published"].pk]))
    text = page.content.decode()
    assert 'data-testid="manage-actions"' in text and "归档" in text and 'data-testid="publish-panel"' in text


def _detail_queries(client, campaign) -> int:  # type: ignore[no-untyped-def]
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_detail_query_count_does_not_grow_with_items(campaigns, committee_admin, tree, login) -> None:  # type: ignore[no-untyped-def]
    campaign = campaigns["published"]
    client = login(committee_admin)
    make_item(campaign, make_section(campaign, "政治建设", 1))
    make_item(campaign, code="L-0", owner=tree.a)
    CampaignEvent.objects.create(campaign=campaign, title="推进会", starts_on=date(2026, 7, 1))
    one = _detail_queries(client, campaign)
    for n in range(2, 7):
        section = make_section(campaign, f"类别{n}", n)
        for _ in range(8):
            make_item(campaign, section)
        make_item(campaign, section, code=f"L-{n}", owner=tree.ag if n % 2 else tree.b)
        CampaignEvent.objects.create(campaign=campaign, title=f"会{n}", starts_on=date(2026, 7, n))
    many = _detail_queries(client, campaign)
    assert one == many
    assert many <= 20


def test_list_query_count_does_not_grow_with_campaigns(tree, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_admin)
    make_campaign(tree.gw, year=2020)
    url = reverse("campaigns:campaign_list")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for year in range(2010, 2020):
        make_item(make_campaign(tree.gw, year=year), due_date=None)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(one.captured_queries) == len(many.captured_queries) <= 20


def test_create_page_creates_a_draft(tree, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).post(
        reverse("campaigns:campaign_create"),
        {"year": "2028", "name": "2028年模范机关创建", "publicity_days": "7", "letter_text": "承诺"},
    )
    campaign = Campaign.objects.get(year=2028)
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:campaign_detail", args=[campaign.pk])
    assert (campaign.status, campaign.publicity_days) == (CampaignStatus.DRAFT, 7)


def test_create_page_shows_the_duplicate_year_error(campaigns, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).post(
        reverse("campaigns:campaign_create"),
        {"year": "2026", "name": "重复", "publicity_days": "5", "letter_text": "承诺"},
    )
    assert response.status_code == 200
    assert "2026 年度的创建活动已经存在" in response.content.decode()


def test_edit_page_ignores_a_posted_status(campaigns, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    draft = campaigns["draft"]
    login(committee_admin).post(
        reverse("campaigns:campaign_edit", args=[draft.pk]),
        {"name": "改名", "publicity_days": "5", "letter_text": "承诺", "status": "archived", "year": "2099"},
    )
    draft.refresh_from_db()
    assert (draft.name, draft.status, draft.year) == ("改名", CampaignStatus.DRAFT, 2027)


def test_clone_page_creates_next_year_and_opens_it(campaigns, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).post(
        reverse("campaigns:campaign_clone", args=[campaigns["draft"].pk]), {"year": "2028"}
    )
    clone = Campaign.objects.get(year=2028)
    assert response["Location"] == reverse("campaigns:campaign_detail", args=[clone.pk])


def test_clone_page_reports_an_existing_year(campaigns, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_admin)
    response = client.post(
        reverse("campaigns:campaign_clone", args=[campaigns["archived"].pk]), {"year": "2026"}, follow=True
    )
    assert "2026 年度的创建活动已经存在" in response.content.decode()
    assert Campaign.objects.count() == 3


def test_archive_page_archives_a_published_campaign(campaigns, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    campaign = campaigns["published"]
    login(committee_admin).post(reverse("campaigns:campaign_archive", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ARCHIVED


def test_milestone_pages_add_and_delete(campaigns, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    campaign = campaigns["published"]
    client = login(committee_admin)
    client.post(
        reverse("campaigns:milestone_create", args=[campaign.pk]),
        {"kind": "progress", "title": "推进会", "starts_on": "2026-07-10", "location": "市委党校"},
    )
    event = CampaignEvent.objects.get(campaign=campaign)
    assert (event.title, event.created_by) == ("推进会", committee_admin)
    client.post(reverse("campaigns:milestone_delete", args=[event.pk]))
    assert not CampaignEvent.objects.exists()

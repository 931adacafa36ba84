"""Publishing the task list (domain.md §5 Instantiation): fan-out, idempotence, progress, views."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import AuditAction, AuditEvent, OrgKind, OrgUnit
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Checklist,
    ChecklistEntry,
    Frequency,
    PublishRun,
    PublishRunStatus,
)
from campaigns.selectors import items_for_org
from campaigns.services import publishing
from campaigns.services.publishing import (
    PublishError,
    campaign_publish,
    item_schedule,
    publish_run_execute,
)
from campaigns.tasks import publish_campaign
from tests.campaigns.factories import make_campaign, make_item
from tests.conftest import Tree
from tests.factories import make_org

pytestmark = pytest.mark.django_db

BRANCH = [OrgKind.BRANCH]


def publish(campaign: Campaign, **kwargs: object) -> PublishRun:
    run = PublishRun.objects.create(campaign=campaign)
    return publish_run_execute(run=run, **kwargs)  # type: ignore[arg-type]


def codes_with_checklists(campaign: Campaign) -> set[str]:
    return set(Checklist.objects.filter(campaign=campaign).values_list("org__code", flat=True))


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(tree.gw, status=CampaignStatus.DRAFT)


# --- who gets what -------------------------------------------------------------------------------


def test_branch_items_give_a_checklist_to_every_branch_and_to_nobody_else(campaign: Campaign) -> None:
    make_item(campaign, applicable_kinds=BRANCH)
    publish(campaign)
    assert codes_with_checklists(campaign) == {"A1", "A2", "AG1", "B1", "D1"}


def test_an_item_without_kinds_applies_to_every_organisation_except_the_committee(campaign: Campaign) -> None:
    make_item(campaign, applicable_kinds=[])
    publish(campaign)
    assert codes_with_checklists(campaign) == {"A", "AG", "AG1", "A1", "A2", "B", "B1", "D1"}


def test_a_local_item_reaches_only_the_owners_subtree(campaign: Campaign, tree: Tree) -> None:
    make_item(campaign, applicable_kinds=BRANCH)
    local = make_item(campaign, applicable_kinds=BRANCH, owner=tree.a)
    publish(campaign)
    orgs = set(ChecklistEntry.objects.filter(item=local).values_list("org__code", flat=True))
    assert orgs == {"A1", "A2", "AG1"}


def test_entries_match_items_for_org_for_every_organisation(campaign: Campaign, tree: Tree) -> None:
    make_item(campaign, applicable_kinds=BRANCH)
    make_item(campaign, applicable_kinds=[OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH])
    make_item(campaign, applicable_kinds=[], owner=tree.ag)
    make_item(campaign, applicable_kinds=BRANCH, owner=tree.b)
    publish(campaign)
    for org in OrgUnit.objects.exclude(pk=tree.gw.pk):
        expected = {i.pk for i in items_for_org(campaign, org.path, org.kind)}
        got = set(ChecklistEntry.objects.filter(campaign=campaign, org=org).values_list("item_id", flat=True))
        assert got == expected, org.code


def test_inactive_organisations_and_items_are_left_out(campaign: Campaign, tree: Tree) -> None:
    make_item(campaign, applicable_kinds=BRANCH)
    hidden = make_item(campaign, applicable_kinds=BRANCH, is_active=False)
    OrgUnit.objects.filter(pk=tree.d1.pk).update(is_active=False)
    publish(campaign)
    assert "D1" not in codes_with_checklists(campaign)
    assert not ChecklistEntry.objects.filter(item=hidden).exists()


# --- periods and due dates ----------------------------------------------------------------------


def due_dates(campaign: Campaign, org: OrgUnit, frequency: str) -> list[tuple[int, date | None]]:
    item = make_item(campaign, applicable_kinds=BRANCH, frequency=frequency, due_date=None)
    publish(campaign)
    return list(
        ChecklistEntry.objects.filter(item=item, org=org).order_by("period").values_list("period", "due_date")
    )


def test_a_monthly_item_has_twelve_periods_due_at_each_month_end(campaign: Campaign, tree: Tree) -> None:
    rows = due_dates(campaign, tree.a1, Frequency.MONTHLY)
    assert [p for p, _ in rows] == list(range(1, 13))
    assert rows[0][1] == date(2026, 1, 31)
    assert rows[1][1] == date(2026, 2, 28)
    assert rows[11][1] == date(2026, 12, 31)


def test_a_quarterly_item_has_four_periods_due_at_each_quarter_end(campaign: Campaign, tree: Tree) -> None:
    assert due_dates(campaign, tree.a1, Frequency.QUARTERLY) == [
        (1, date(2026, 3, 31)),
        (2, date(2026, 6, 30)),
        (3, date(2026, 9, 30)),
        (4, date(2026, 12, 31)),
    ]


def test_a_half_yearly_item_has_two_periods_due_at_each_half_year_end(campaign: Campaign, tree: Tree) -> None:
    assert due_dates(campaign, tree.a1, Frequency.HALF_YEARLY) == [
        (1, date(2026, 6, 30)),
        (2, date(2026, 12, 31)),
    ]


def test_a_one_off_item_has_one_entry_due_on_the_items_date(campaign: Campaign, tree: Tree) -> None:
    item = make_item(campaign, applicable_kinds=BRANCH, due_date=date(2026, 4, 15))
    publish(campaign)
    assert list(ChecklistEntry.objects.filter(item=item, org=tree.a1).values_list("period", "due_date")) == [
        (0, date(2026, 4, 15))
    ]


def test_a_yearly_item_without_a_date_is_due_at_year_end() -> None:
    assert item_schedule(frequency=Frequency.YEARLY, due_date=None, year=2026) == ((0, date(2026, 12, 31)),)


def test_a_leap_year_february_period_ends_on_the_29th() -> None:
    schedule = item_schedule(frequency=Frequency.MONTHLY, due_date=None, year=2028)
    assert schedule[1] == (2, date(2028, 2, 29))


# --- idempotence --------------------------------------------------------------------------------


def test_publishing_again_creates_nothing(campaign: Campaign) -> None:
    make_item(campaign, applicable_kinds=BRANCH, frequency=Frequency.QUARTERLY)
    publish(campaign)
    before = ChecklistEntry.objects.count(), Checklist.objects.count()
    run = publish(campaign)
    assert (ChecklistEntry.objects.count(), Checklist.objects.count()) == before
    assert (run.checklists_created, run.entries_created) == (0, 0)


def test_publishing_after_adding_an_organisation_creates_only_its_checklist(
    campaign: Campaign, tree: Tree
) -> None:
    make_item(campaign, applicable_kinds=BRANCH)
    make_item(campaign, applicable_kinds=BRANCH, frequency=Frequency.HALF_YEARLY)
    publish(campaign)
    new = make_org(OrgKind.BRANCH, tree.b, code="B2")
    run = publish(campaign)
    assert (run.checklists_created, run.entries_created) == (1, 3)
    assert Counter(ChecklistEntry.objects.values_list("org__code", flat=True))["B2"] == 3
    assert Checklist.objects.filter(org=new).count() == 1


def test_publishing_after_adding_an_item_creates_only_its_entries_and_keeps_the_others(
    campaign: Campaign, tree: Tree
) -> None:
    make_item(campaign, applicable_kinds=BRANCH)
    publish(campaign)
    worked = ChecklistEntry.objects.get(org=tree.a1)
    ChecklistEntry.objects.filter(pk=worked.pk).update(status="in_progress", progress_note="已召开")
    added = make_item(campaign, applicable_kinds=BRANCH, frequency=Frequency.QUARTERLY)
    run = publish(campaign)
    assert (run.checklists_created, run.entries_created) == (0, 5 * 4)
    assert ChecklistEntry.objects.filter(item=added).count() == 20
    worked.refresh_from_db()
    assert (worked.status, worked.progress_note) == ("in_progress", "已召开")


# --- the campaign and the run -------------------------------------------------------------------


def test_publishing_a_draft_marks_it_published(
    campaign: Campaign, committee_admin, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        campaign_publish(campaign=campaign, actor=committee_admin)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PUBLISHED
    assert campaign.published_at is not None


def test_an_archived_campaign_cannot_be_published(tree: Tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    archived = make_campaign(tree.gw, status=CampaignStatus.ARCHIVED)
    with pytest.raises(PublishError) as exc:
        campaign_publish(campaign=archived, actor=committee_admin)
    assert exc.value.message == "已归档的创建活动不能发布。"
    assert not PublishRun.objects.exists()


def test_the_fan_out_runs_only_after_the_commit(
    campaign: Campaign, committee_admin, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    make_item(campaign, applicable_kinds=BRANCH)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = campaign_publish(campaign=campaign, actor=committee_admin)
    assert len(callbacks) == 1
    assert not Checklist.objects.exists()
    callbacks[0]()
    run.refresh_from_db()
    assert run.status == PublishRunStatus.DONE
    assert Checklist.objects.count() == 5


def test_a_finished_run_records_its_progress_and_counts(campaign: Campaign) -> None:
    make_item(campaign, applicable_kinds=BRANCH, frequency=Frequency.MONTHLY)
    make_item(campaign, applicable_kinds=BRANCH)
    run = publish(campaign, org_batch=2)
    assert run.status == PublishRunStatus.DONE
    assert (run.total, run.done, run.percent) == (5, 5, 100)
    assert (run.checklists_created, run.entries_created) == (5, 5 * 13)
    assert run.started_at is not None and run.finished_at is not None
    assert run.finished_at >= run.started_at


def test_a_finished_run_is_audited_with_its_counts(campaign: Campaign, committee_admin) -> None:  # type: ignore[no-untyped-def]
    make_item(campaign, applicable_kinds=BRANCH)
    run = PublishRun.objects.create(campaign=campaign, requested_by=committee_admin)
    publish_run_execute(run=run)
    event = AuditEvent.objects.get(action=AuditAction.PUBLISH)
    assert event.actor == committee_admin
    assert event.detail["entries_created"] == 5
    assert event.detail["checklists_created"] == 5


def test_a_failing_run_is_marked_failed_with_the_error(campaign: Campaign, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_item(campaign, applicable_kinds=BRANCH)

    def broken(*args: object) -> tuple[int, int]:
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(publishing, "_publish_batch", broken)
    run = publish(campaign)
    assert run.status == PublishRunStatus.FAILED
    assert "数据库连接中断" in run.error
    assert run.finished_at is not None


def test_a_run_queued_before_archiving_creates_nothing(campaign: Campaign) -> None:
    make_item(campaign, applicable_kinds=BRANCH)
    run = PublishRun.objects.create(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)
    run = publish_run_execute(run=run)
    assert (run.status, run.error) == (PublishRunStatus.FAILED, "已归档的创建活动不能发布。")
    assert not Checklist.objects.exists()


def test_the_task_does_not_run_a_finished_run_again(campaign: Campaign) -> None:
    make_item(campaign, applicable_kinds=BRANCH)
    run = publish(campaign)
    Checklist.objects.all().delete()
    publish_campaign.delay(run.pk)
    assert not Checklist.objects.exists()


def test_the_task_ignores_a_run_that_no_longer_exists() -> None:
    publish_campaign.delay(987654)
    assert not PublishRun.objects.exists()


def _queries_to_publish(campaign: Campaign) -> int:
    run = PublishRun.objects.create(campaign=campaign)
    with CaptureQueriesContext(connection) as ctx:
        publish_run_execute(run=run, org_batch=100)
    return len(ctx.captured_queries)


def _add_branches(parent: OrgUnit, n: int) -> None:
    for _ in range(n):
        make_org(OrgKind.BRANCH, parent)


def test_the_number_of_queries_does_not_grow_with_the_number_of_organisations(tree: Tree) -> None:
    _add_branches(tree.b, 5)  # 10 branches
    small = make_campaign(tree.gw, year=2030)
    make_item(small, applicable_kinds=BRANCH, due_date=None)
    small_queries = _queries_to_publish(small)
    _add_branches(tree.b, 30)  # 40 branches
    big = make_campaign(tree.gw, year=2031)
    make_item(big, applicable_kinds=BRANCH, due_date=None)
    big_queries = _queries_to_publish(big)
    assert (
        Checklist.objects.filter(campaign=small).count(),
        Checklist.objects.filter(campaign=big).count(),
    ) == (
        10,
        40,
    )
    assert small_queries == big_queries


def test_republishing_queries_do_not_grow_with_the_number_of_organisations(tree: Tree) -> None:
    _add_branches(tree.b, 5)
    small = make_campaign(tree.gw, year=2030)
    make_item(small, applicable_kinds=BRANCH, due_date=None)
    publish(small)
    small_queries = _queries_to_publish(small)
    _add_branches(tree.b, 30)
    big = make_campaign(tree.gw, year=2031)
    make_item(big, applicable_kinds=BRANCH, due_date=None)
    publish(big)
    big_queries = _queries_to_publish(big)
    assert small_queries == big_queries


# --- views --------------------------------------------------------------------------------------


def test_admin_publishes_and_lands_on_the_finished_run_page(
    campaign: Campaign, committee_admin, login, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    make_item(campaign, applicable_kinds=BRANCH)
    client = login(committee_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:campaign_publish", args=[campaign.pk]))
    run = PublishRun.objects.get()
    assert response["Location"] == reverse("campaigns:publish_run", args=[run.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "已完成" in page.content.decode()
    assert 'hx-trigger="every 1s"' not in page.content.decode()
    assert Checklist.objects.count() == 5


def test_the_run_page_polls_itself_while_the_run_is_running(
    campaign: Campaign, committee_admin, login
) -> None:  # type: ignore[no-untyped-def]
    run = PublishRun.objects.create(campaign=campaign, status=PublishRunStatus.RUNNING, total=10, done=4)
    page = login(committee_admin).get(reverse("campaigns:publish_run", args=[run.pk]))
    body = page.content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert "40%" in body


def test_an_htmx_poll_gets_only_the_progress_fragment(campaign: Campaign, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    run = PublishRun.objects.create(campaign=campaign, status=PublishRunStatus.RUNNING, total=4, done=1)
    body = (
        login(committee_admin)
        .get(reverse("campaigns:publish_run", args=[run.pk]), headers={"HX-Request": "true"})
        .content.decode()
    )
    assert body.lstrip().startswith('<div id="publish-progress"')
    assert "<html" not in body
    assert "已处理 1 / 4 个组织" in body


def test_publishing_an_archived_campaign_through_the_page_shows_the_refusal(
    tree: Tree, committee_admin, login
) -> None:  # type: ignore[no-untyped-def]
    archived = make_campaign(tree.gw, status=CampaignStatus.ARCHIVED)
    client = login(committee_admin)
    response = client.post(reverse("campaigns:campaign_publish", args=[archived.pk]), follow=True)
    assert "已归档的创建活动不能发布。" in response.content.decode()
    assert not PublishRun.objects.exists()


def test_the_campaign_page_offers_publishing_and_links_the_last_run(
    campaign: Campaign, committee_admin, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_admin)
    page = client.get(reverse("campaigns:campaign_detail", args=[campaign.pk])).content.decode()
    assert reverse("campaigns:campaign_publish", args=[campaign.pk]) in page
    assert "发布任务清单" in page
    run = PublishRun.objects.create(campaign=campaign, status=PublishRunStatus.DONE)
    page = client.get(reverse("campaigns:campaign_detail", args=[campaign.pk])).content.decode()
    assert reverse("campaigns:publish_run", args=[run.pk]) in page
    assert "重新发布" in page


# --- the P9 harness -----------------------------------------------------------------------------


def test_the_p9_benchmark_runs_at_a_tiny_size_with_app_and_reference_agreeing() -> None:
    from tests.bench.p9 import bench_p9
    from tests.bench.scale import ScaleSpec, scale_tree_create

    tree = scale_tree_create(spec=ScaleSpec.for_branches(12), with_members=False)
    result = bench_p9(root_id=tree.root_id)
    assert result.valid, result.note
    assert result.note.startswith("12 checklists, 720 entries")
    assert result.line().startswith("BENCH P9_publish app=")
    assert not Campaign.objects.exists()

"""年终述责 · 述职报告: the factual draft, the transitions and the pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import (
    DutyReport,
    EntryEvidence,
    EntryStatus,
    Evidence,
    FindingSource,
    Rectification,
    RectificationStatus,
    ReportStatus,
)
from campaigns.services import reports as svc
from campaigns.services.entries import InvalidTransition, PermissionRefused
from campaigns.services.rectification import finding_create
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section

TODAY = date(2026, 7, 1)


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw)


@pytest.fixture
def year_of_a1(campaign, tree, agency_staff):  # type: ignore[no-untyped-def]
    """A1: 4 entries (approved, N/A, overdue, not yet due), 2 evidence, 3 findings (1 closed)."""
    section = make_section(campaign)
    items = [make_item(campaign, section) for _ in range(4)]
    done = make_entry(
        campaign,
        tree.a1,
        items[0],
        status=EntryStatus.APPROVED,
        self_score=Decimal("4"),
        first_review_score=Decimal("3.5"),
        review_score=Decimal("3"),
    )
    na = make_entry(campaign, tree.a1, items[1], status=EntryStatus.NOT_APPLICABLE, self_score=Decimal("2"))
    late = make_entry(campaign, tree.a1, items[2], status=EntryStatus.IN_PROGRESS, due_date=date(2026, 3, 1))
    make_entry(campaign, tree.a1, items[3], status=EntryStatus.NOT_STARTED, due_date=date(2026, 12, 31))
    # Another organisation's numbers must not leak in.
    make_entry(campaign, tree.a2, items[0], status=EntryStatus.APPROVED, self_score=Decimal("5"))
    shared = Evidence.objects.create(org=tree.a1, title="会议记录")
    other = Evidence.objects.create(org=tree.a1, title="照片")
    for entry, ev in ((done, shared), (na, shared), (late, other)):
        EntryEvidence.objects.create(entry=entry, evidence=ev)
    Evidence.objects.create(org=tree.a1, title="未关联")
    for i in range(3):
        finding_create(
            campaign=campaign,
            org=tree.a1,
            source=FindingSource.INSPECTION,
            description=f"问题{i}",
            actor=agency_staff,
        )
    first = Rectification.objects.filter(org=tree.a1).order_by("pk").first()
    Rectification.objects.filter(pk=first.pk).update(status=RectificationStatus.CLOSED)
    return tree.a1


def test_report_facts_count_the_years_entries_evidence_findings_and_points(campaign, year_of_a1) -> None:  # type: ignore[no-untyped-def]
    facts = svc.report_facts(campaign=campaign, org=year_of_a1, today=TODAY)
    assert (facts.entries_total, facts.entries_done, facts.entries_overdue) == (4, 2, 1)
    assert facts.evidence_count == 2
    assert facts.findings_total == 3
    assert facts.rectification_counts == {RectificationStatus.CLOSED: 1, RectificationStatus.PLAN_PENDING: 2}
    assert (facts.self_points, facts.first_review_points, facts.review_points) == (
        Decimal("6"),
        Decimal("3.5"),
        Decimal("3"),
    )


def test_report_facts_use_one_query_per_aggregate(campaign, year_of_a1) -> None:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        svc.report_facts(campaign=campaign, org=year_of_a1, today=TODAY)
    assert len(ctx.captured_queries) == 3


def test_draft_text_states_the_numbers_in_chinese_sections(campaign, year_of_a1) -> None:  # type: ignore[no-untyped-def]
    text = svc.draft_text(year_of_a1, svc.report_facts(campaign=campaign, org=year_of_a1, today=TODAY))
    assert "责任清单共4项，已完成2项，逾期未完成1项；累计提交佐证材料2份" in text
    assert "共发现问题3个，已销号1个，其余待制定方案2个" in text
    assert "自评得分6分，初审得分3.5分，审核得分3分" in text
    assert text.startswith("一、履行责任清单情况")


def test_report_draft_creates_the_report_for_the_secretary(campaign, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    report = svc.report_draft(campaign=campaign, org=tree.a1, actor=branch_secretary)
    assert report.status == ReportStatus.DRAFT
    assert report.author == branch_secretary
    assert "本年度责任清单共0项" in report.body


def test_report_draft_refused_to_staff_and_to_committee_members(  # type: ignore[no-untyped-def]
    campaign, tree, agency_staff, branch_member
) -> None:
    for user in (agency_staff, branch_member):
        with pytest.raises(PermissionRefused):
            svc.report_draft(campaign=campaign, org=tree.a1, actor=user)
    assert not DutyReport.objects.exists()


def test_report_draft_again_refreshes_an_unsubmitted_body(campaign, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    report = svc.report_draft(campaign=campaign, org=tree.a1, actor=branch_secretary)
    svc.report_save(report=report, actor=branch_secretary, expected_version=1, title="标题", body="手写")
    again = svc.report_draft(campaign=campaign, org=tree.a1, actor=branch_secretary)
    assert again.pk == report.pk
    assert again.version == 3
    assert again.body.startswith("一、")


@pytest.fixture
def draft(campaign, tree, branch_secretary):  # type: ignore[no-untyped-def]
    return svc.report_draft(campaign=campaign, org=tree.a1, actor=branch_secretary)


@pytest.fixture
def submitted(draft, branch_secretary):  # type: ignore[no-untyped-def]
    return svc.report_submit(report=draft, actor=branch_secretary, expected_version=draft.version)


def test_report_save_with_a_stale_version_is_refused(draft, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    svc.report_save(report=draft, actor=branch_secretary, expected_version=1, title="甲", body="一")
    with pytest.raises(svc.StaleReport):
        svc.report_save(report=draft, actor=branch_secretary, expected_version=1, title="乙", body="二")
    draft.refresh_from_db()
    assert (draft.title, draft.body) == ("甲", "一")


def test_report_submit_records_the_time(submitted) -> None:  # type: ignore[no-untyped-def]
    assert submitted.status == ReportStatus.SUBMITTED
    assert submitted.submitted_at is not None


def test_report_submit_refuses_an_empty_body(draft, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    svc.report_save(report=draft, actor=branch_secretary, expected_version=1, title="标题", body="  ")
    with pytest.raises(svc.ReportError):
        svc.report_submit(report=draft, actor=branch_secretary, expected_version=2)


def test_submitted_report_can_no_longer_be_edited(submitted, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition):
        svc.report_save(
            report=submitted,
            actor=branch_secretary,
            expected_version=submitted.version,
            title="改",
            body="改",
        )


def test_parent_staff_return_with_reason_and_the_secretary_resubmits(  # type: ignore[no-untyped-def]
    submitted, agency_staff, branch_secretary
) -> None:
    returned = svc.report_return(
        report=submitted, actor=agency_staff, expected_version=submitted.version, reason="数据不全"
    )
    assert (returned.status, returned.return_reason) == (ReportStatus.RETURNED, "数据不全")
    again = svc.report_submit(report=returned, actor=branch_secretary, expected_version=returned.version)
    assert again.status == ReportStatus.SUBMITTED


def test_report_return_requires_a_reason(submitted, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.ReportError):
        svc.report_return(
            report=submitted, actor=agency_staff, expected_version=submitted.version, reason=" "
        )


def test_committee_staff_mark_reviewed(submitted, committee_staff) -> None:  # type: ignore[no-untyped-def]
    done = svc.report_mark_reviewed(
        report=submitted, actor=committee_staff, expected_version=submitted.version
    )
    assert (done.status, done.reviewed_by) == (ReportStatus.REVIEWED, committee_staff)


def test_the_secretary_cannot_review_their_own_report(submitted, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        svc.report_mark_reviewed(report=submitted, actor=branch_secretary, expected_version=submitted.version)


def test_staff_of_another_subtree_cannot_return(submitted, leader, outsider_secretary) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        svc.report_return(
            report=submitted, actor=outsider_secretary, expected_version=submitted.version, reason="x"
        )


def test_a_draft_cannot_be_marked_reviewed(draft, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition):
        svc.report_mark_reviewed(report=draft, actor=agency_staff, expected_version=draft.version)


def test_mark_reviewed_with_a_stale_version_is_refused(submitted, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.StaleReport):
        svc.report_mark_reviewed(report=submitted, actor=agency_staff, expected_version=submitted.version - 1)


# --- pages -----------------------------------------------------------------------------------


def test_my_reports_page_offers_a_draft_then_the_detail_shows_it(
    campaign, tree, branch_secretary, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(branch_secretary)
    page = client.get(reverse("campaigns:report_mine"))
    assert "生成报告草稿" in page.content.decode()
    response = client.post(reverse("campaigns:report_generate", args=[tree.a1.pk]), {"campaign": campaign.pk})
    report = DutyReport.objects.get(org=tree.a1)
    assert response.url == reverse("campaigns:report_detail", args=[report.pk])
    detail = client.get(response.url).content.decode()
    assert "提交述职报告" in detail and "本年度责任清单共0项" in detail


def test_save_then_submit_through_the_pages(draft, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    client = login(branch_secretary)
    client.post(
        reverse("campaigns:report_save", args=[draft.pk]), {"version": 1, "title": "述职", "body": "正文内容"}
    )
    client.post(reverse("campaigns:report_submit", args=[draft.pk]), {"version": 2})
    draft.refresh_from_db()
    assert (draft.title, draft.body, draft.status) == ("述职", "正文内容", ReportStatus.SUBMITTED)


def test_stale_save_on_the_page_keeps_the_newer_text(draft, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    client = login(branch_secretary)
    url = reverse("campaigns:report_save", args=[draft.pk])
    client.post(url, {"version": 1, "title": "新", "body": "新"})
    response = client.post(url, {"version": 1, "title": "旧", "body": "旧"}, follow=True)
    assert "已被他人修改" in response.content.decode()
    draft.refresh_from_db()
    assert draft.body == "新"


def test_upload_attaches_a_file_as_evidence_of_the_org(
    draft, branch_secretary, login, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_ROOT = tmp_path
    client = login(branch_secretary)
    upload = SimpleUploadedFile("述职.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    client.post(reverse("campaigns:report_upload", args=[draft.pk]), {"file": upload, "title": "述职附件"})
    assert list(draft.files.values_list("title", "org")) == [("述职附件", draft.org_id)]


def test_reviewer_returns_through_the_page(submitted, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    client = login(agency_staff)
    assert "退回修改" in client.get(reverse("campaigns:report_detail", args=[submitted.pk])).content.decode()
    client.post(
        reverse("campaigns:report_return", args=[submitted.pk]),
        {"version": submitted.version, "reason": "补充"},
    )
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.RETURNED


def test_report_list_shows_who_has_not_submitted(submitted, tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    client = login(agency_staff)
    page = client.get(reverse("campaigns:report_list"), {"missing": 1})
    names = [r["org"].name for r in page.context["rows"]]
    assert tree.a2.name in names and tree.a1.name not in names and tree.b1.name not in names


def _list_queries(client) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("campaigns:report_list")).status_code == 200
    return len(ctx.captured_queries)


def test_report_list_query_count_does_not_grow_with_reports(campaign, tree, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    from branches.models import OrgKind
    from tests.factories import make_org

    client = login(committee_staff)
    DutyReport.objects.create(campaign=campaign, org=tree.a1, title="一")
    few = _list_queries(client)
    for i in range(5):
        org = make_org(OrgKind.BRANCH, tree.a, code=f"AX{i}", name=f"支部{i}")
        DutyReport.objects.create(campaign=campaign, org=org, title=f"报告{i}")
    many = _list_queries(client)
    assert few == many
    assert many <= 20


def test_report_list_counts_only_this_campaigns_reports_as_handed_in(  # type: ignore[no-untyped-def]
    campaign, tree, agency_staff, branch_secretary, login
) -> None:
    old = make_campaign(tree.gw, year=2025)
    last_year = svc.report_draft(campaign=old, org=tree.a1, actor=branch_secretary)
    svc.report_submit(report=last_year, actor=branch_secretary, expected_version=1)
    svc.report_draft(campaign=campaign, org=tree.a1, actor=branch_secretary)
    page = login(agency_staff).get(reverse("campaigns:report_list"), {"campaign": campaign.pk, "missing": 1})
    assert tree.a1.name in [r["org"].name for r in page.context["rows"]]

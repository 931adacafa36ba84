"""Pages of findings and rectification: the browser-level loop, scope, refusals and query counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

# The matrix loads every access_* module; importing it first avoids a circular import.
import tests.access_matrix  # noqa: F401
from branches.models import AuditAction, AuditEvent, User
from campaigns.models import (
    Evidence,
    Finding,
    FindingSource,
    Rectification,
    RectificationStatus,
)
from campaigns.services import rectification as svc
from tests.campaigns.access_evidence import PDF, upload
from tests.campaigns.factories import make_campaign, make_item

pytestmark = pytest.mark.django_db

S = RectificationStatus
DETAIL = "campaigns:rectification_detail"


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw, year=2026)


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rect(campaign, org, actor, **kw: Any) -> Rectification:  # type: ignore[no-untyped-def]
    kw.setdefault("source", FindingSource.INSPECTION)
    kw.setdefault("description", "组织生活会记录不全")
    return svc.finding_create(campaign=campaign, org=org, actor=actor, **kw).rectification


@pytest.fixture
def rect(campaign, tree, agency_staff) -> Rectification:  # type: ignore[no-untyped-def]
    return _rect(campaign, tree.a1, agency_staff)


def _post(user: User, name: str, pk: int, data: dict[str, Any]) -> Any:
    return _as(user).post(reverse(name, args=[pk]), data)


def _plan_data(version: int, deadline: str = "2026-09-30") -> dict[str, Any]:
    return {
        "version": version,
        "measures": "补齐记录",
        "responsible_name": "张三",
        "leader_name": "李四",
        "deadline": deadline,
    }


def _status(rect: Rectification) -> str:
    return Rectification.objects.get(pk=rect.pk).status


def _version(rect: Rectification) -> int:
    return Rectification.objects.get(pk=rect.pk).version


# --- the loop through the pages -------------------------------------------------------------------


def test_full_loop_plan_approve_close_request_reject_close(  # type: ignore[no-untyped-def]
    rect, branch_secretary, agency_staff, committee_staff, settings, tmp_path
) -> None:
    settings.PRIVATE_ROOT = str(tmp_path)
    r = _post(branch_secretary, "campaigns:rectification_plan", rect.pk, _plan_data(1))
    assert (r.status_code, _status(rect)) == (302, S.PLAN_SUBMITTED)
    data = {"version": 2, "decision": "approve", "comment": ""}
    _post(agency_staff, "campaigns:rectification_plan_decide", rect.pk, data)
    assert _status(rect) == S.IN_PROGRESS
    r = _as(branch_secretary).post(
        reverse("campaigns:rectification_close_request", args=[rect.pk]),
        {"version": 3, "progress": "已完成", "files": upload("整改照片.pdf", PDF)},
    )
    assert (r.status_code, _status(rect)) == (302, S.CLOSE_REQUESTED)
    uploaded = Rectification.objects.get(pk=rect.pk).evidence.get()
    assert uploaded.org == rect.org
    reject = {"version": 4, "decision": "reject", "comment": "照片不清晰"}
    _post(agency_staff, "campaigns:rectification_close_decide", rect.pk, reject)
    assert _status(rect) == S.REOPENED
    again = {"version": 5, "progress": "重新拍照", "evidence": [uploaded.pk]}
    _post(branch_secretary, "campaigns:rectification_close_request", rect.pk, again)
    close = {"version": 6, "decision": "close", "comment": "同意"}
    r = _post(committee_staff, "campaigns:rectification_close_decide", rect.pk, close)
    done = Rectification.objects.get(pk=rect.pk)
    assert (r.status_code, done.status, done.closed_by) == (302, S.CLOSED, committee_staff)


def test_detail_page_shows_the_plan_form_to_the_secretary_only(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    mine = _as(branch_secretary).get(reverse(DETAIL, args=[rect.pk]))
    theirs = _as(agency_staff).get(reverse(DETAIL, args=[rect.pk]))
    assert b'data-testid="plan-form"' in mine.content
    assert b'data-testid="plan-form"' not in theirs.content


def test_stale_plan_answers_409_and_changes_nothing(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _post(branch_secretary, "campaigns:rectification_plan", rect.pk, _plan_data(1))
    r = _post(branch_secretary, "campaigns:rectification_plan", rect.pk, _plan_data(1, "2026-12-31"))
    assert r.status_code == 409
    assert Rectification.objects.get(pk=rect.pk).deadline == date(2026, 9, 30)


def test_unit_staff_at_the_same_org_cannot_close_out_through_the_page(  # type: ignore[no-untyped-def]
    campaign, tree, agency_staff, committee_staff
) -> None:
    rect = _rect(campaign, tree.a, committee_staff)
    Rectification.objects.filter(pk=rect.pk).update(status=S.CLOSE_REQUESTED)
    rect.evidence.add(Evidence.objects.create(org=tree.a, title="材料"))
    close = {"version": 1, "decision": "close", "comment": ""}
    r = _post(agency_staff, "campaigns:rectification_close_decide", rect.pk, close)
    assert (r.status_code, _status(rect)) == (403, S.CLOSE_REQUESTED)


def test_close_request_without_evidence_is_refused_with_a_message(  # type: ignore[no-untyped-def]
    rect, branch_secretary, agency_staff
) -> None:
    _post(branch_secretary, "campaigns:rectification_plan", rect.pk, _plan_data(1))
    _post(agency_staff, "campaigns:rectification_plan_decide", rect.pk, {"version": 2, "decision": "approve"})
    r = _as(branch_secretary).post(
        reverse("campaigns:rectification_close_request", args=[rect.pk]),
        {"version": 3, "progress": "完成"},
        follow=True,
    )
    assert "须提供整改佐证材料" in r.content.decode()
    assert _status(rect) == S.IN_PROGRESS


def test_extension_is_requested_and_approved_through_the_pages(  # type: ignore[no-untyped-def]
    rect, branch_secretary, agency_staff
) -> None:
    _post(branch_secretary, "campaigns:rectification_plan", rect.pk, _plan_data(1))
    _post(agency_staff, "campaigns:rectification_plan_decide", rect.pk, {"version": 2, "decision": "approve"})
    _post(
        branch_secretary,
        "campaigns:rectification_extension",
        rect.pk,
        {"until": "2026-10-31", "reason": "协调"},
    )
    ext = rect.extensions.get()
    _post(agency_staff, "campaigns:extension_decide", ext.pk, {"decision": "approve", "note": "同意"})
    assert Rectification.objects.get(pk=rect.pk).deadline == date(2026, 10, 31)


def test_progress_is_reported_through_the_page(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _post(branch_secretary, "campaigns:rectification_plan", rect.pk, _plan_data(1))
    _post(agency_staff, "campaigns:rectification_plan_decide", rect.pk, {"version": 2, "decision": "approve"})
    _post(
        branch_secretary,
        "campaigns:rectification_progress",
        rect.pk,
        {"version": 3, "progress": "已完成一半"},
    )
    assert Rectification.objects.get(pk=rect.pk).progress == "已完成一半"


def test_plan_rejected_through_the_page_needs_a_reason(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _post(branch_secretary, "campaigns:rectification_plan", rect.pk, _plan_data(1))
    _post(agency_staff, "campaigns:rectification_plan_decide", rect.pk, {"version": 2, "decision": "reject"})
    assert _status(rect) == S.PLAN_SUBMITTED
    data = {"version": 2, "decision": "reject", "comment": "不具体"}
    _post(agency_staff, "campaigns:rectification_plan_decide", rect.pk, data)
    assert _status(rect) == S.PLAN_PENDING


# --- scope -------------------------------------------------------------------------------------------


def test_out_of_scope_rectification_answers_404_and_is_audited(
    campaign, tree, committee_staff, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    foreign = _rect(campaign, tree.b1, committee_staff)
    r = _as(agency_staff).get(reverse(DETAIL, args=[foreign.pk]))
    assert r.status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, actor=agency_staff).exists()


def test_out_of_scope_extension_decision_answers_404(
    campaign, tree, committee_staff, agency_staff, outsider_secretary
) -> None:  # type: ignore[no-untyped-def]
    foreign = _rect(campaign, tree.b1, committee_staff, deadline=date(2026, 9, 30))
    Rectification.objects.filter(pk=foreign.pk).update(status=S.IN_PROGRESS)
    ext = svc.rectification_request_extension(
        rect=Rectification.objects.get(pk=foreign.pk),
        actor=outsider_secretary,
        until=date(2026, 10, 31),
        reason="r",
    )
    r = _post(agency_staff, "campaigns:extension_decide", ext.pk, {"decision": "approve"})
    assert r.status_code == 404


def test_secretary_sees_only_its_own_orgs_findings(campaign, tree, agency_staff, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _rect(campaign, tree.a1, agency_staff, description="预算股的问题")
    _rect(campaign, tree.a2, agency_staff, description="综合股的问题")
    page = _as(branch_secretary).get(reverse("campaigns:finding_list")).content.decode()
    assert "预算股的问题" in page
    assert "综合股的问题" not in page


def test_staff_see_findings_of_their_subtree(campaign, tree, agency_staff, committee_staff) -> None:  # type: ignore[no-untyped-def]
    _rect(campaign, tree.ag1, agency_staff, description="总支下支部的问题")
    _rect(campaign, tree.b1, committee_staff, description="外单位的问题")
    page = _as(agency_staff).get(reverse("campaigns:finding_list")).content.decode()
    assert "总支下支部的问题" in page
    assert "外单位的问题" not in page


# --- list filters ---------------------------------------------------------------------------------


def test_finding_list_filters_repeated_findings(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    last_year = make_campaign(tree.gw, year=2025)
    _rect(last_year, tree.a1, agency_staff, item=make_item(last_year, code="DJ-01"))
    _rect(campaign, tree.a1, agency_staff, item=make_item(campaign, code="DJ-01"), description="又一次的问题")
    _rect(campaign, tree.a1, agency_staff, description="第一次的问题")
    url = reverse("campaigns:finding_list") + f"?campaign={campaign.pk}&repeat=1"
    page = _as(agency_staff).get(url).content.decode()
    assert "又一次的问题" in page
    assert "第一次的问题" not in page
    assert 'data-testid="flag-repeat"' in page


def test_finding_list_filters_overdue_and_marks_them_red(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    _rect(campaign, tree.a1, agency_staff, description="逾期的问题", deadline=today - timedelta(days=1))
    _rect(campaign, tree.a1, agency_staff, description="未到期的问题", deadline=today + timedelta(days=1))
    url = reverse("campaigns:finding_list") + f"?campaign={campaign.pk}&overdue=1"
    page = _as(agency_staff).get(url).content.decode()
    assert "逾期的问题" in page
    assert "未到期的问题" not in page
    assert 'data-testid="flag-overdue"' in page


def test_finding_list_filters_by_source_and_org(campaign, tree, agency_staff, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _rect(campaign, tree.a1, branch_secretary, source=FindingSource.SELF_CHECK, description="自查的问题")
    _rect(campaign, tree.a2, agency_staff, description="督查的问题")
    url = reverse("campaigns:finding_list") + f"?campaign={campaign.pk}&source=self_check&org=A1"
    page = _as(agency_staff).get(url).content.decode()
    assert "自查的问题" in page
    assert "督查的问题" not in page


def test_overdue_page_lists_only_overdue_rectifications(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    _rect(campaign, tree.a1, agency_staff, description="逾期的问题", deadline=today - timedelta(days=1))
    closed = _rect(
        campaign, tree.a2, agency_staff, description="已销号的问题", deadline=today - timedelta(days=1)
    )
    Rectification.objects.filter(pk=closed.pk).update(status=S.CLOSED)
    page = _as(agency_staff).get(reverse("campaigns:rectification_overdue")).content.decode()
    assert "逾期的问题" in page
    assert "已销号的问题" not in page


# --- creating findings ------------------------------------------------------------------------------


def test_staff_create_a_finding_by_org_code(campaign, tree, agency_staff, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    make_item(campaign, code="DJ-09")
    data = {
        "org_code": "A1",
        "source": "inspection",
        "severity": "major",
        "description": "台账缺失",
        "item_code": "DJ-09",
    }
    r = _as(agency_staff).post(reverse("campaigns:finding_create") + f"?campaign={campaign.pk}", data)
    finding = Finding.objects.get()
    assert r.status_code == 302
    assert (finding.org, finding.item.code, finding.severity) == (tree.a1, "DJ-09", "major")
    assert branch_secretary.messages.count() == 1


def test_finding_create_refuses_an_org_outside_the_subtree(campaign, agency_staff) -> None:  # type: ignore[no-untyped-def]
    data = {"org_code": "B1", "source": "inspection", "severity": "minor", "description": "x"}
    r = _as(agency_staff).post(reverse("campaigns:finding_create") + f"?campaign={campaign.pk}", data)
    assert r.status_code == 200
    assert not Finding.objects.exists()


# --- query counts (P2) -----------------------------------------------------------------------------


def _queries(user: User, url: str) -> int:
    client = _as(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url_name", ["campaigns:finding_list", "campaigns:rectification_overdue"])
def test_list_query_count_does_not_grow_with_rows(campaign, tree, agency_staff, url_name) -> None:  # type: ignore[no-untyped-def]
    late = timezone.localdate() - timedelta(days=3)
    url = reverse(url_name) + f"?campaign={campaign.pk}"
    _rect(campaign, tree.a1, agency_staff, deadline=late)
    one = _queries(agency_staff, url)
    for org in [tree.a1, tree.a2, tree.ag1] * 17:
        _rect(campaign, org, agency_staff, deadline=late)
    many = _queries(agency_staff, url)
    assert one == many
    assert many <= 20


# --- the ledger download ----------------------------------------------------------------------------


def test_ledger_download_is_an_xlsx_and_audited(rect, agency_staff, campaign) -> None:  # type: ignore[no-untyped-def]
    r = _as(agency_staff).get(reverse("campaigns:rectification_ledger") + f"?campaign={campaign.pk}")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert r.content[:2] == b"PK"
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=agency_staff).exists()


def test_ledger_for_a_unit_outside_scope_answers_404(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    url = reverse("campaigns:rectification_ledger") + f"?campaign={campaign.pk}&unit={tree.b.pk}"
    assert _as(agency_staff).get(url).status_code == 404


def test_detail_page_offers_close_out_to_the_issuing_side_with_history(  # type: ignore[no-untyped-def]
    rect, tree, branch_secretary, agency_staff
) -> None:
    _post(branch_secretary, "campaigns:rectification_plan", rect.pk, _plan_data(1))
    _post(agency_staff, "campaigns:rectification_plan_decide", rect.pk, {"version": 2, "decision": "approve"})
    _post(
        branch_secretary,
        "campaigns:rectification_extension",
        rect.pk,
        {"until": "2026-10-31", "reason": "协调"},
    )
    evidence = Evidence.objects.create(org=tree.a1, title="整改台账照片")
    close = {"version": 3, "progress": "完成", "evidence": [evidence.pk]}
    _post(branch_secretary, "campaigns:rectification_close_request", rect.pk, close)
    page = _as(agency_staff).get(reverse(DETAIL, args=[rect.pk])).content.decode()
    assert reverse("campaigns:rectification_close_decide", args=[rect.pk]) in page
    assert reverse("campaigns:extension_decide", args=[rect.extensions.get().pk]) in page
    assert "整改台账照片" in page
    assert "提交整改方案" in page and "申请销号" in page


def test_detail_page_offers_the_secretary_no_close_out(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    Rectification.objects.filter(pk=rect.pk).update(status=S.CLOSE_REQUESTED)
    page = _as(branch_secretary).get(reverse(DETAIL, args=[rect.pk])).content.decode()
    assert reverse("campaigns:rectification_close_decide", args=[rect.pk]) not in page


def test_finding_create_page_renders_the_form(campaign, agency_staff) -> None:  # type: ignore[no-untyped-def]
    r = _as(agency_staff).get(reverse("campaigns:finding_create") + f"?campaign={campaign.pk}")
    assert r.status_code == 200
    assert 'name="org_code"' in r.content.decode()

"""Findings and the rectification state machine (domain.md §7): every transition allowed and refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

# The matrix loads every access_* module; importing it first avoids a circular import.
import tests.access_matrix  # noqa: F401
from branches import services as branch_services
from branches.models import Message, MessageKind, Role
from campaigns.models import (
    CampaignStatus,
    DecisionStatus,
    Evidence,
    Finding,
    FindingSource,
    Inspection,
    InspectionTarget,
    Rectification,
    RectificationEvent,
    RectificationStatus,
)
from campaigns.services import rectification as svc
from campaigns.services.entries import InvalidTransition, PermissionRefused
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

S = RectificationStatus


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw, year=2026)


def _finding(campaign, org, actor, **kw) -> Finding:  # type: ignore[no-untyped-def]
    kw.setdefault("source", FindingSource.INSPECTION)
    kw.setdefault("description", "“三会一课”记录不全")
    return svc.finding_create(campaign=campaign, org=org, actor=actor, **kw)


@pytest.fixture
def rect(campaign, tree, agency_staff) -> Rectification:  # type: ignore[no-untyped-def]
    return _finding(campaign, tree.a1, agency_staff).rectification


def _evidence(org, title: str = "整改照片") -> Evidence:  # type: ignore[no-untyped-def]
    return Evidence.objects.create(org=org, title=title)


def _plan(rect: Rectification, actor, deadline: date = date(2026, 9, 30)) -> Rectification:  # type: ignore[no-untyped-def]
    return svc.rectification_submit_plan(
        rect=rect,
        actor=actor,
        expected_version=rect.version,
        measures="补齐会议记录",
        responsible_name="张三",
        leader_name="李四",
        deadline=deadline,
    )


def _in_progress(rect: Rectification, secretary, issuer) -> Rectification:  # type: ignore[no-untyped-def]
    _plan(rect, secretary)
    return svc.rectification_approve_plan(rect=rect, actor=issuer, expected_version=rect.version)


def _close_requested(rect: Rectification, secretary, issuer) -> Rectification:  # type: ignore[no-untyped-def]
    _in_progress(rect, secretary, issuer)
    return svc.rectification_request_close(
        rect=rect,
        actor=secretary,
        expected_version=rect.version,
        progress="已整改完毕",
        evidence=[_evidence(rect.org)],
    )


# --- creating findings ----------------------------------------------------------------------------


def test_finding_create_sends_a_rectification_waiting_for_a_plan(rect, agency_staff) -> None:  # type: ignore[no-untyped-def]
    assert rect.status == S.PLAN_PENDING
    assert rect.deadline is None
    event = RectificationEvent.objects.get(rectification=rect)
    assert (event.actor, event.to_status) == (agency_staff, S.PLAN_PENDING)


def test_finding_create_messages_the_org_secretary_once(
    campaign, tree, agency_staff, branch_secretary, branch_member
) -> None:  # type: ignore[no-untyped-def]
    finding = _finding(campaign, tree.a1, agency_staff)
    svc._notify(finding, finding.rectification)  # delivering again must not duplicate
    messages = Message.objects.filter(source_key=f"finding:{finding.pk}")
    assert [(m.recipient, m.kind) for m in messages] == [(branch_secretary, MessageKind.RECTIFICATION)]
    assert messages[0].url == f"/campaigns/rectifications/{finding.rectification.pk}/"


def test_finding_create_refused_for_the_orgs_own_secretary_as_inspection(
    campaign, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        _finding(campaign, tree.a1, branch_secretary)
    assert not Finding.objects.exists()


def test_finding_create_refused_for_unit_staff_at_the_same_org(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        _finding(campaign, tree.a, agency_staff)


def test_finding_create_refused_outside_the_staff_subtree(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        _finding(campaign, tree.b1, agency_staff)


def test_self_check_finding_may_be_created_by_the_orgs_secretary(campaign, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    finding = _finding(campaign, tree.a1, branch_secretary, source=FindingSource.SELF_CHECK)
    assert finding.rectification.status == S.PLAN_PENDING


def test_finding_item_defaults_to_the_entrys_item(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, make_item(campaign, code="ZZ-E1"))
    finding = _finding(campaign, tree.a1, agency_staff, entry=entry)
    assert finding.item == entry.item


def test_immediate_finding_is_due_at_the_end_of_the_inspection(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = Inspection.objects.create(
        campaign=campaign,
        title="6月督查",
        scope=tree.a,
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 15),
    )
    target = InspectionTarget.objects.create(inspection=inspection, org=tree.a1)
    finding = _finding(campaign, tree.a1, agency_staff, is_immediate=True, target=target)
    assert finding.rectification.deadline == date(2026, 6, 15)


def test_finding_on_last_years_item_code_is_flagged_repeat(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    last_year = make_campaign(tree.gw, year=2025)
    old = _finding(last_year, tree.a1, agency_staff, item=make_item(last_year, code="DJ-01"))
    finding = _finding(campaign, tree.a1, agency_staff, item=make_item(campaign, code="DJ-01"))
    assert (finding.is_repeat, finding.repeat_of) == (True, old)


def test_finding_is_not_repeat_for_another_item_code_or_org(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    last_year = make_campaign(tree.gw, year=2025)
    _finding(last_year, tree.a1, agency_staff, item=make_item(last_year, code="DJ-01"))
    other_code = _finding(campaign, tree.a1, agency_staff, item=make_item(campaign, code="DJ-02"))
    other_org = _finding(campaign, tree.a2, agency_staff, item=campaign.items.get(code="DJ-02"))
    assert (other_code.is_repeat, other_org.is_repeat) == (False, False)


def test_finding_is_not_repeat_for_an_earlier_finding_in_the_same_year(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, code="DJ-01")
    _finding(campaign, tree.a1, agency_staff, item=item)
    assert _finding(campaign, tree.a1, agency_staff, item=item).is_repeat is False


def test_archived_campaign_refuses_new_findings(tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    archived = make_campaign(tree.gw, year=2024, status=CampaignStatus.ARCHIVED)
    with pytest.raises(InvalidTransition):
        _finding(archived, tree.a1, agency_staff)


# --- the plan ---------------------------------------------------------------------------------------


def test_secretary_submits_the_plan(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _plan(rect, branch_secretary)
    rect.refresh_from_db()
    assert (rect.status, rect.measures, rect.deadline, rect.version) == (
        S.PLAN_SUBMITTED,
        "补齐会议记录",
        date(2026, 9, 30),
        2,
    )
    assert rect.events.last().action == "提交整改方案"


@pytest.mark.parametrize("persona", ["branch_member", "agency_staff", "outsider_secretary"])
def test_plan_refused_for_anyone_but_the_orgs_officers(rect, persona, request) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        _plan(rect, request.getfixturevalue(persona))


def test_plan_refused_without_a_responsible_person(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.RectificationError, match="责任人"):
        svc.rectification_submit_plan(
            rect=rect,
            actor=branch_secretary,
            expected_version=1,
            measures="措施",
            responsible_name=" ",
            leader_name="李四",
            deadline=date(2026, 9, 30),
        )


def test_plan_refused_when_already_submitted(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _plan(rect, branch_secretary)
    with pytest.raises(InvalidTransition):
        _plan(rect, branch_secretary)


def test_plan_with_a_stale_version_is_refused(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    seen = Rectification.objects.get(pk=rect.pk)
    _plan(rect, branch_secretary)
    seen.status = S.PLAN_PENDING
    with pytest.raises(svc.StaleRectification) as exc:
        _plan(seen, branch_secretary)
    assert exc.value.current.status == S.PLAN_SUBMITTED
    assert Rectification.objects.get(pk=rect.pk).version == 2


def test_immediate_plan_cannot_move_the_deadline_later(
    campaign, tree, agency_staff, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    inspection = Inspection.objects.create(
        campaign=campaign, title="督查", scope=tree.a, starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 15)
    )
    target = InspectionTarget.objects.create(inspection=inspection, org=tree.a1)
    rect = _finding(campaign, tree.a1, agency_staff, is_immediate=True, target=target).rectification
    with pytest.raises(svc.RectificationError, match="立行立改"):
        _plan(rect, branch_secretary, deadline=date(2026, 6, 16))
    _plan(rect, branch_secretary, deadline=date(2026, 6, 10))
    assert rect.deadline == date(2026, 6, 10)


def test_issuing_side_approves_the_plan(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    assert Rectification.objects.get(pk=rect.pk).status == S.IN_PROGRESS


def test_secretary_cannot_approve_its_own_plan(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _plan(rect, branch_secretary)
    with pytest.raises(PermissionRefused):
        svc.rectification_approve_plan(rect=rect, actor=branch_secretary, expected_version=rect.version)


def test_approve_refused_before_a_plan_is_submitted(rect, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition):
        svc.rectification_approve_plan(rect=rect, actor=agency_staff, expected_version=rect.version)


def test_rejected_plan_goes_back_to_planning_with_the_reason(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _plan(rect, branch_secretary)
    svc.rectification_reject_plan(
        rect=rect, actor=agency_staff, expected_version=rect.version, reason="措施不具体"
    )
    assert Rectification.objects.get(pk=rect.pk).status == S.PLAN_PENDING
    assert rect.events.last().comment == "措施不具体"


def test_plan_rejection_needs_a_reason(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _plan(rect, branch_secretary)
    with pytest.raises(svc.RectificationError):
        svc.rectification_reject_plan(rect=rect, actor=agency_staff, expected_version=rect.version, reason="")


# --- progress and extensions ---------------------------------------------------------------------------


def test_progress_reported_while_in_progress(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    svc.rectification_report_progress(
        rect=rect, actor=branch_secretary, expected_version=rect.version, progress="已补齐3月记录"
    )
    assert Rectification.objects.get(pk=rect.pk).progress == "已补齐3月记录"


def test_progress_refused_before_the_plan_is_approved(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition):
        svc.rectification_report_progress(rect=rect, actor=branch_secretary, expected_version=1, progress="x")


def test_extension_approved_moves_the_deadline(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    ext = svc.rectification_request_extension(
        rect=rect, actor=branch_secretary, until=date(2026, 10, 31), reason="需协调"
    )
    svc.extension_decide(request=ext, actor=agency_staff, approve=True, note="同意")
    assert Rectification.objects.get(pk=rect.pk).deadline == date(2026, 10, 31)
    assert ext.status == DecisionStatus.APPROVED


def test_extension_refused_keeps_the_deadline(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    ext = svc.rectification_request_extension(
        rect=rect, actor=branch_secretary, until=date(2026, 10, 31), reason="r"
    )
    svc.extension_decide(request=ext, actor=agency_staff, approve=False, note="理由不充分")
    assert Rectification.objects.get(pk=rect.pk).deadline == date(2026, 9, 30)
    assert ext.status == DecisionStatus.REFUSED


def test_secretary_cannot_decide_its_own_extension(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    ext = svc.rectification_request_extension(
        rect=rect, actor=branch_secretary, until=date(2026, 10, 31), reason="r"
    )
    with pytest.raises(PermissionRefused):
        svc.extension_decide(request=ext, actor=branch_secretary, approve=True)


def test_only_one_pending_extension_at_a_time(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    svc.rectification_request_extension(
        rect=rect, actor=branch_secretary, until=date(2026, 10, 31), reason="r"
    )
    with pytest.raises(svc.RectificationError, match="待审批"):
        svc.rectification_request_extension(
            rect=rect, actor=branch_secretary, until=date(2026, 11, 30), reason="r"
        )


def test_extension_must_be_later_than_the_deadline(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    with pytest.raises(svc.RectificationError, match="晚于"):
        svc.rectification_request_extension(
            rect=rect, actor=branch_secretary, until=date(2026, 9, 30), reason="r"
        )


def test_immediate_rectification_cannot_be_extended(campaign, tree, agency_staff, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    rect = _finding(
        campaign, tree.a1, agency_staff, is_immediate=True, deadline=date(2026, 9, 30)
    ).rectification
    _in_progress(rect, branch_secretary, agency_staff)
    with pytest.raises(svc.RectificationError, match="立行立改"):
        svc.rectification_request_extension(
            rect=rect, actor=branch_secretary, until=date(2026, 10, 31), reason="r"
        )


# --- close-out ---------------------------------------------------------------------------------------------


def test_close_request_attaches_the_evidence(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    rect.refresh_from_db()
    assert rect.status == S.CLOSE_REQUESTED
    assert [e.title for e in rect.evidence.all()] == ["整改照片"]


def test_close_request_refused_without_evidence(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    with pytest.raises(svc.RectificationError, match="佐证"):
        svc.rectification_request_close(
            rect=rect, actor=branch_secretary, expected_version=rect.version, progress="完成", evidence=[]
        )


def test_close_request_refused_with_another_orgs_evidence(rect, tree, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    with pytest.raises(PermissionRefused):
        svc.rectification_request_close(
            rect=rect,
            actor=branch_secretary,
            expected_version=rect.version,
            progress="完成",
            evidence=[_evidence(tree.a2)],
        )


def test_close_request_refused_before_the_plan_is_approved(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition):
        svc.rectification_request_close(
            rect=rect,
            actor=branch_secretary,
            expected_version=1,
            progress="完成",
            evidence=[_evidence(rect.org)],
        )


def test_committee_staff_closes_out(rect, branch_secretary, agency_staff, committee_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    svc.rectification_close(
        rect=rect, actor=committee_staff, expected_version=rect.version, comment="同意销号"
    )
    rect.refresh_from_db()
    assert (rect.status, rect.closed_by, rect.closed_on) == (S.CLOSED, committee_staff, timezone.localdate())


def test_branch_secretary_cannot_close_out_its_own_finding(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    with pytest.raises(PermissionRefused):
        svc.rectification_close(rect=rect, actor=branch_secretary, expected_version=rect.version)


def test_unit_staff_at_the_same_org_cannot_close_out(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    # A user who is both the secretary of A and unit staff at A: the org itself, never the issuer.
    both = UserFactory(username="a_both")
    branch_services.role_grant(user=both, org=tree.a, role=Role.SECRETARY)
    branch_services.role_grant(user=both, org=tree.a, role=Role.UNIT_STAFF)
    rect = _finding(campaign, tree.a, committee_staff).rectification
    _close_requested(rect, both, committee_staff)
    with pytest.raises(PermissionRefused):
        svc.rectification_close(rect=rect, actor=both, expected_version=rect.version)


def test_close_refused_without_evidence(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    rect.evidence.clear()
    with pytest.raises(svc.RectificationError, match="佐证"):
        svc.rectification_close(rect=rect, actor=agency_staff, expected_version=rect.version)
    assert Rectification.objects.get(pk=rect.pk).status == S.CLOSE_REQUESTED


def test_close_refused_while_in_progress(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _in_progress(rect, branch_secretary, agency_staff)
    with pytest.raises(InvalidTransition):
        svc.rectification_close(rect=rect, actor=agency_staff, expected_version=rect.version)


def test_close_with_a_stale_version_is_refused(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    with pytest.raises(svc.StaleRectification):
        svc.rectification_close(rect=rect, actor=agency_staff, expected_version=rect.version - 1)


def test_rejected_close_out_is_reopened_and_can_be_requested_again(
    rect, branch_secretary, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    svc.rectification_reject_close(
        rect=rect, actor=agency_staff, expected_version=rect.version, reason="照片不清晰"
    )
    assert Rectification.objects.get(pk=rect.pk).status == S.REOPENED
    svc.rectification_request_close(
        rect=rect,
        actor=branch_secretary,
        expected_version=rect.version,
        progress="重新拍照",
        evidence=[_evidence(rect.org)],
    )
    assert Rectification.objects.get(pk=rect.pk).status == S.CLOSE_REQUESTED


def test_close_out_rejection_needs_a_reason(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    with pytest.raises(svc.RectificationError):
        svc.rectification_reject_close(
            rect=rect, actor=agency_staff, expected_version=rect.version, reason=" "
        )


def test_secretary_cannot_reject_a_close_out(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    with pytest.raises(PermissionRefused):
        svc.rectification_reject_close(
            rect=rect, actor=branch_secretary, expected_version=rect.version, reason="x"
        )


def test_every_transition_writes_an_event(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    svc.rectification_close(rect=rect, actor=agency_staff, expected_version=rect.version)
    assert [(e.from_status, e.to_status) for e in rect.events.all()] == [
        ("", S.PLAN_PENDING),
        (S.PLAN_PENDING, S.PLAN_SUBMITTED),
        (S.PLAN_SUBMITTED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.CLOSE_REQUESTED),
        (S.CLOSE_REQUESTED, S.CLOSED),
    ]


def test_archived_campaign_refuses_every_transition(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    rect.campaign.status = CampaignStatus.ARCHIVED
    rect.campaign.save()
    with pytest.raises(InvalidTransition, match="归档"):
        svc.rectification_close(rect=rect, actor=agency_staff, expected_version=rect.version)


# --- overdue -----------------------------------------------------------------------------------------------


def test_open_rectification_past_its_deadline_is_overdue(rect, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _plan(rect, branch_secretary, deadline=date(2026, 9, 30))
    assert rect.is_overdue(date(2026, 10, 1)) is True
    assert rect.is_overdue(date(2026, 9, 30)) is False


def test_closed_rectification_is_never_overdue(rect, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _close_requested(rect, branch_secretary, agency_staff)
    svc.rectification_close(rect=rect, actor=agency_staff, expected_version=rect.version)
    assert rect.is_overdue(rect.deadline + timedelta(days=1)) is False

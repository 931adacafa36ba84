"""The entry state machine (campaigns/services/entries.py): every transition allowed and refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from branches.models import AuditAction, AuditEvent, Member, User
from campaigns.models import (
    Campaign,
    CampaignStatus,
    ChecklistEntry,
    ChecklistItem,
    EntryEvent,
    EntryStatus,
    EventAction,
    ReviewStage,
)
from campaigns.services import entries as svc
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.conftest import Tree

pytestmark = pytest.mark.django_db

ALL_STATUSES = list(EntryStatus.values)
OPEN = [EntryStatus.NOT_STARTED, EntryStatus.IN_PROGRESS, EntryStatus.RETURNED]
NOT_OPEN = [s for s in ALL_STATUSES if s not in OPEN]


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(tree.gw)


@pytest.fixture
def item(campaign: Campaign) -> ChecklistItem:
    return make_item(campaign, points="5")


def entry_at(campaign: Campaign, org: Any, item: ChecklistItem, **fields: Any) -> ChecklistEntry:
    e = make_entry(campaign, org, item, **fields)
    return ChecklistEntry.objects.select_related("item", "org__parent", "campaign", "checklist").get(pk=e.pk)


def fresh(entry: ChecklistEntry) -> ChecklistEntry:
    return ChecklistEntry.objects.select_related("item", "org__parent", "campaign", "checklist").get(
        pk=entry.pk
    )


def save(entry: ChecklistEntry, actor: User, **kw: Any) -> ChecklistEntry:
    args: dict[str, Any] = {"progress_note": "已召开支委会", "completed_on": None, "self_score": None}
    args.update(kw)
    return svc.entry_save_progress(entry=entry, actor=actor, expected_version=entry.version, **args)


def submitted(campaign: Campaign, org: Any, item: ChecklistItem, stage: str, **fields: Any) -> ChecklistEntry:
    return entry_at(campaign, org, item, status=EntryStatus.SUBMITTED, review_stage=stage, **fields)


# --- save progress ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", OPEN)
def test_save_progress_from_an_open_status_moves_to_in_progress(
    campaign, item, tree, branch_secretary, status
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    save(entry, branch_secretary, self_score=Decimal("4"))
    entry = fresh(entry)
    assert (entry.status, entry.self_score, entry.progress_note) == (
        EntryStatus.IN_PROGRESS,
        Decimal("4"),
        "已召开支委会",
    )


@pytest.mark.parametrize("status", NOT_OPEN)
def test_save_progress_is_refused_once_submitted_or_finished(
    campaign, item, tree, branch_secretary, status
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    with pytest.raises(svc.InvalidTransition):
        save(entry, branch_secretary)
    assert fresh(entry).version == 1


def test_save_progress_writes_an_event_and_bumps_the_version(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    save(entry, branch_secretary)
    event = EntryEvent.objects.get(entry=entry)
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        EventAction.SAVED,
        branch_secretary,
        EntryStatus.NOT_STARTED,
        EntryStatus.IN_PROGRESS,
    )
    assert fresh(entry).version == 2


@pytest.mark.parametrize("score", ["5.01", "-1"])
def test_self_score_outside_zero_to_points_is_refused(campaign, item, tree, branch_secretary, score) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    with pytest.raises(svc.EntryError, match="0 到 5"):
        save(entry, branch_secretary, self_score=Decimal(score))


def test_self_score_equal_to_the_points_is_accepted(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    save(entry, branch_secretary, self_score=Decimal("5"))
    assert fresh(entry).self_score == Decimal("5")


def test_committee_member_fills_an_entry_assigned_to_them(campaign, item, tree, branch_member) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, responsible=branch_member)
    save(entry, branch_member)
    assert fresh(entry).status == EntryStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "persona", ["branch_member", "agency_staff", "outsider_secretary", "committee_staff", "leader"]
)
def test_save_progress_is_refused_to_whoever_is_not_the_secretary_or_the_assignee(  # type: ignore[no-untyped-def]
    request, campaign, item, tree, persona
) -> None:
    entry = entry_at(campaign, tree.a1, item)
    with pytest.raises(svc.PermissionRefused):
        save(entry, request.getfixturevalue(persona))
    assert fresh(entry).version == 1


def test_save_progress_is_refused_in_an_archived_campaign(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)
    with pytest.raises(svc.InvalidTransition, match="已归档"):
        save(fresh(entry), branch_secretary)


# --- submit ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", OPEN)
def test_submit_from_an_open_status_waits_for_the_parent_review(
    campaign, item, tree, branch_secretary, status
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    svc.entry_submit(entry=entry, actor=branch_secretary, expected_version=1)
    entry = fresh(entry)
    assert (entry.status, entry.review_stage) == (EntryStatus.SUBMITTED, ReviewStage.PARENT)
    assert entry.submitted_at is not None


def test_submit_of_a_branch_directly_under_the_committee_skips_the_parent_review(  # type: ignore[no-untyped-def]
    campaign, item, tree
) -> None:
    from branches import services

    secretary = User.objects.create(username="d1_secretary")
    services.role_grant(user=secretary, org=tree.d1, role="secretary")
    entry = entry_at(campaign, tree.d1, item)
    svc.entry_submit(entry=entry, actor=secretary, expected_version=1)
    assert fresh(entry).review_stage == ReviewStage.COMMITTEE


@pytest.mark.parametrize("status", NOT_OPEN)
def test_submit_is_refused_unless_the_entry_is_open(campaign, item, tree, branch_secretary, status) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    with pytest.raises(svc.InvalidTransition):
        svc.entry_submit(entry=entry, actor=branch_secretary, expected_version=1)


def test_submit_is_refused_to_an_unassigned_committee_member(campaign, item, tree, branch_member) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    with pytest.raises(svc.PermissionRefused):
        svc.entry_submit(entry=entry, actor=branch_member, expected_version=1)


# --- request not applicable ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", OPEN)
def test_not_applicable_request_goes_to_review_with_its_reason(
    campaign, item, tree, branch_secretary, status
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    svc.entry_request_not_applicable(
        entry=entry, actor=branch_secretary, expected_version=1, reason="本支部无此业务"
    )
    entry = fresh(entry)
    assert (entry.status, entry.not_applicable_requested) == (EntryStatus.SUBMITTED, True)
    assert EntryEvent.objects.get(entry=entry).comment == "本支部无此业务"


def test_not_applicable_request_needs_a_reason(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    with pytest.raises(svc.EntryError, match="不适用的理由"):
        svc.entry_request_not_applicable(entry=entry, actor=branch_secretary, expected_version=1, reason="  ")


@pytest.mark.parametrize("status", NOT_OPEN)
def test_not_applicable_request_is_refused_unless_open(
    campaign, item, tree, branch_secretary, status
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    with pytest.raises(svc.InvalidTransition):
        svc.entry_request_not_applicable(entry=entry, actor=branch_secretary, expected_version=1, reason="x")


# --- withdraw --------------------------------------------------------------------------------------------


def test_withdraw_before_any_review_goes_back_to_in_progress(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.PARENT, not_applicable_requested=True)
    svc.entry_withdraw(entry=entry, actor=branch_secretary, expected_version=1)
    entry = fresh(entry)
    assert (entry.status, entry.review_stage, entry.not_applicable_requested) == (
        EntryStatus.IN_PROGRESS,
        ReviewStage.NONE,
        False,
    )


def test_withdraw_after_the_parent_review_is_refused(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.COMMITTEE, first_review_score=Decimal("4"))
    with pytest.raises(svc.InvalidTransition, match="不能撤回"):
        svc.entry_withdraw(entry=entry, actor=branch_secretary, expected_version=1)


@pytest.mark.parametrize("status", [s for s in ALL_STATUSES if s != EntryStatus.SUBMITTED])
def test_withdraw_is_refused_unless_submitted(campaign, item, tree, branch_secretary, status) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    with pytest.raises(svc.InvalidTransition):
        svc.entry_withdraw(entry=entry, actor=branch_secretary, expected_version=1)


def test_withdraw_is_refused_to_someone_who_may_not_fill_in(campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.PARENT)
    with pytest.raises(svc.PermissionRefused):
        svc.entry_withdraw(entry=entry, actor=agency_staff, expected_version=1)


# --- assign duties ---------------------------------------------------------------------------------------


def test_secretary_assigns_an_officer_of_the_branch_and_a_due_date(
    campaign, item, tree, branch_secretary, branch_member
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    svc.entry_assign(
        entry=entry,
        actor=branch_secretary,
        expected_version=1,
        responsible=branch_member,
        due_date=date(2026, 5, 1),
    )
    entry = fresh(entry)
    assert (entry.responsible, entry.due_date) == (branch_member, date(2026, 5, 1))
    assert EntryEvent.objects.get(entry=entry).action == EventAction.ASSIGNED


def test_a_rostered_member_with_an_account_may_be_the_responsible_person(
    campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    member = Member.objects.filter(org=tree.a1).first()
    user = User.objects.create(username="roster_user")
    Member.objects.filter(pk=member.pk).update(user=user)
    entry = entry_at(campaign, tree.a1, item)
    svc.entry_assign(entry=entry, actor=branch_secretary, expected_version=1, responsible=user, due_date=None)
    assert fresh(entry).responsible == user


def test_assign_without_a_due_date_keeps_the_current_one(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    svc.entry_assign(entry=entry, actor=branch_secretary, expected_version=1, responsible=None, due_date=None)
    assert fresh(entry).due_date == item.due_date


def test_assigning_a_person_of_another_organisation_is_refused(
    campaign, item, tree, branch_secretary, outsider_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    with pytest.raises(svc.EntryError, match="本组织的人员"):
        svc.entry_assign(
            entry=entry,
            actor=branch_secretary,
            expected_version=1,
            responsible=outsider_secretary,
            due_date=None,
        )


@pytest.mark.parametrize("persona", ["branch_member", "agency_staff", "outsider_secretary"])
def test_assign_is_refused_to_non_officers_of_the_organisation(
    request, campaign, item, tree, persona
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    with pytest.raises(svc.PermissionRefused):
        svc.entry_assign(
            entry=entry,
            actor=request.getfixturevalue(persona),
            expected_version=1,
            responsible=None,
            due_date=None,
        )


# --- approve --------------------------------------------------------------------------------------------


def test_parent_approval_moves_the_entry_to_committee_review_with_the_first_score(
    campaign, item, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.PARENT)
    svc.entry_approve(entry=entry, actor=agency_staff, expected_version=1, score=Decimal("4"))
    entry = fresh(entry)
    assert (entry.status, entry.review_stage, entry.first_review_score, entry.review_score) == (
        EntryStatus.SUBMITTED,
        ReviewStage.COMMITTEE,
        Decimal("4"),
        None,
    )
    assert EntryEvent.objects.get(entry=entry).action == EventAction.FIRST_APPROVED


def test_committee_approval_finishes_the_entry_with_the_review_score(
    campaign, item, tree, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.COMMITTEE, first_review_score=Decimal("4"))
    svc.entry_approve(entry=entry, actor=committee_staff, expected_version=1, score=Decimal("4.5"))
    entry = fresh(entry)
    assert (entry.status, entry.review_stage, entry.review_score) == (
        EntryStatus.APPROVED,
        ReviewStage.NONE,
        Decimal("4.5"),
    )
    assert AuditEvent.objects.filter(action=AuditAction.REVIEW, target_id=str(entry.pk)).exists()


def test_committee_approval_of_a_not_applicable_request_makes_it_not_applicable(
    campaign, item, tree, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.COMMITTEE, not_applicable_requested=True)
    svc.entry_approve(entry=entry, actor=committee_staff, expected_version=1, score=None)
    assert fresh(entry).status == EntryStatus.NOT_APPLICABLE


def test_unit_staff_may_not_approve_the_committee_stage(campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.COMMITTEE)
    with pytest.raises(svc.PermissionRefused):
        svc.entry_approve(entry=entry, actor=agency_staff, expected_version=1, score=Decimal("4"))


def test_unit_staff_may_not_review_outside_their_subtree(campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.b1, item, ReviewStage.PARENT)
    with pytest.raises(svc.PermissionRefused):
        svc.entry_approve(entry=entry, actor=agency_staff, expected_version=1, score=Decimal("4"))


@pytest.mark.parametrize("persona", ["branch_secretary", "leader", "outsider_secretary"])
def test_approval_is_refused_to_non_reviewers(request, campaign, item, tree, persona) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.PARENT)
    with pytest.raises(svc.PermissionRefused):
        svc.entry_approve(entry=entry, actor=request.getfixturevalue(persona), expected_version=1, score=None)


@pytest.mark.parametrize("status", [s for s in ALL_STATUSES if s != EntryStatus.SUBMITTED])
def test_approval_is_refused_unless_submitted(campaign, item, tree, committee_staff, status) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status, review_stage=ReviewStage.COMMITTEE)
    with pytest.raises(svc.InvalidTransition):
        svc.entry_approve(entry=entry, actor=committee_staff, expected_version=1, score=None)


@pytest.mark.parametrize("score", ["5.5", "-0.5"])
def test_review_score_outside_zero_to_points_is_refused(campaign, item, tree, agency_staff, score) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.PARENT)
    with pytest.raises(svc.EntryError, match="0 到 5"):
        svc.entry_approve(entry=entry, actor=agency_staff, expected_version=1, score=Decimal(score))
    assert fresh(entry).version == 1


def test_approval_is_refused_in_an_archived_campaign(campaign, item, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.COMMITTEE)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)
    with pytest.raises(svc.InvalidTransition, match="已归档"):
        svc.entry_approve(entry=fresh(entry), actor=committee_staff, expected_version=1, score=None)


# --- return ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "persona"), [(ReviewStage.PARENT, "agency_staff"), (ReviewStage.COMMITTEE, "committee_staff")]
)
def test_return_at_either_stage_records_the_reason(request, campaign, item, tree, stage, persona) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, stage, not_applicable_requested=True)
    svc.entry_return(
        entry=entry, actor=request.getfixturevalue(persona), expected_version=1, reason="缺少会议记录"
    )
    entry = fresh(entry)
    assert (entry.status, entry.review_stage, entry.return_reason, entry.not_applicable_requested) == (
        EntryStatus.RETURNED,
        ReviewStage.NONE,
        "缺少会议记录",
        False,
    )


def test_return_needs_a_reason(campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.PARENT)
    with pytest.raises(svc.EntryError, match="退回理由"):
        svc.entry_return(entry=entry, actor=agency_staff, expected_version=1, reason="")


@pytest.mark.parametrize("status", [s for s in ALL_STATUSES if s != EntryStatus.SUBMITTED])
def test_return_is_refused_unless_submitted(campaign, item, tree, committee_staff, status) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status, review_stage=ReviewStage.COMMITTEE)
    with pytest.raises(svc.InvalidTransition):
        svc.entry_return(entry=entry, actor=committee_staff, expected_version=1, reason="x")


def test_return_is_refused_to_the_secretary(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.PARENT)
    with pytest.raises(svc.PermissionRefused):
        svc.entry_return(entry=entry, actor=branch_secretary, expected_version=1, reason="x")


# --- bulk approve ----------------------------------------------------------------------------------------


def test_bulk_approve_awards_full_points_and_reports_refusals(campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    ok = submitted(campaign, tree.a1, item, ReviewStage.PARENT)
    committee_stage = submitted(campaign, tree.a2, item, ReviewStage.COMMITTEE)
    result = svc.entries_bulk_approve(entries=[ok, committee_stage], actor=agency_staff)
    assert [e.pk for e in result.approved] == [ok.pk]
    assert [e.pk for e, _ in result.skipped] == [committee_stage.pk]
    assert fresh(ok).first_review_score == Decimal("5")
    assert fresh(committee_stage).version == 1


# --- reopen ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [s for s in ALL_STATUSES if s != EntryStatus.NOT_STARTED])
def test_admin_reopens_any_started_entry_to_in_progress(
    campaign, item, tree, committee_admin, status
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    svc.entry_reopen(entry=entry, actor=committee_admin, reason="复核发现问题")
    entry = fresh(entry)
    assert (entry.status, entry.reopened) == (EntryStatus.IN_PROGRESS, False)
    assert AuditEvent.objects.filter(action=AuditAction.REOPEN, target_id=str(entry.pk)).exists()


def test_reopening_a_not_started_entry_is_refused(campaign, item, tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    with pytest.raises(svc.InvalidTransition):
        svc.entry_reopen(entry=entry, actor=committee_admin, reason="x")


def test_reopen_needs_a_reason(campaign, item, tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=EntryStatus.APPROVED)
    with pytest.raises(svc.EntryError, match="重新打开的理由"):
        svc.entry_reopen(entry=entry, actor=committee_admin, reason=" ")


@pytest.mark.parametrize("persona", ["committee_staff", "agency_staff", "branch_secretary"])
def test_reopen_is_refused_to_everyone_but_the_committee_admin(
    request, campaign, item, tree, persona
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=EntryStatus.APPROVED)
    with pytest.raises(svc.PermissionRefused):
        svc.entry_reopen(entry=entry, actor=request.getfixturevalue(persona), reason="x")


def test_reopened_entry_of_an_archived_campaign_can_be_filled_in_again(
    campaign, item, tree, committee_admin, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=EntryStatus.APPROVED)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)
    svc.entry_reopen(entry=fresh(entry), actor=committee_admin, reason="补充材料")
    assert fresh(entry).reopened is True
    save(fresh(entry), branch_secretary, progress_note="补充")
    assert fresh(entry).progress_note == "补充"


# --- compare-and-set (R11) -----------------------------------------------------------------------------


def test_stale_save_is_refused_and_lists_what_changed(
    campaign, item, tree, branch_secretary, branch_member
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, responsible=branch_member)
    mine, theirs = fresh(entry), fresh(entry)
    save(theirs, branch_member, progress_note="他人的进展", self_score=Decimal("3"))
    with pytest.raises(svc.StaleEntry) as caught:
        save(mine, branch_secretary, progress_note="我的进展")
    changes = {c.label: (c.before, c.after) for c in caught.value.changes}
    assert changes["工作进展"] == ("—", "他人的进展")
    assert changes["自评得分"] == ("—", "3.00")
    assert changes["状态"] == ("未开始", "进行中")
    assert fresh(entry).progress_note == "他人的进展"


def test_stale_refusal_carries_the_current_row(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    mine, theirs = fresh(entry), fresh(entry)
    save(theirs, branch_secretary)
    with pytest.raises(svc.StaleEntry) as caught:
        svc.entry_submit(entry=mine, actor=branch_secretary, expected_version=mine.version)
    assert caught.value.current.version == 2
    assert branch_secretary.display_name in caught.value.message


def test_two_reviewers_approving_the_same_load_only_the_first_wins(
    campaign, item, tree, agency_staff, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = submitted(campaign, tree.a1, item, ReviewStage.PARENT)
    first, second = fresh(entry), fresh(entry)
    svc.entry_approve(entry=first, actor=agency_staff, expected_version=1, score=Decimal("4"))
    with pytest.raises(svc.StaleEntry):
        svc.entry_approve(entry=second, actor=committee_staff, expected_version=1, score=Decimal("1"))
    entry = fresh(entry)
    assert (entry.first_review_score, entry.version) == (Decimal("4"), 2)
    assert EntryEvent.objects.filter(entry=entry).count() == 1


def test_an_explicitly_old_version_is_refused_even_on_a_fresh_object(
    campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item)
    save(entry, branch_secretary)
    with pytest.raises(svc.StaleEntry):
        svc.entry_save_progress(
            entry=fresh(entry),
            actor=branch_secretary,
            expected_version=1,
            progress_note="旧版本",
            completed_on=None,
            self_score=None,
        )


@pytest.mark.parametrize("status", [EntryStatus.APPROVED, EntryStatus.NOT_APPLICABLE])
def test_assign_is_refused_once_the_entry_is_finished(campaign, item, tree, branch_secretary, status) -> None:  # type: ignore[no-untyped-def]
    entry = entry_at(campaign, tree.a1, item, status=status)
    with pytest.raises(svc.InvalidTransition):
        svc.entry_assign(
            entry=entry,
            actor=branch_secretary,
            expected_version=1,
            responsible=None,
            due_date=date(2026, 5, 1),
        )
    assert fresh(entry).due_date == item.due_date

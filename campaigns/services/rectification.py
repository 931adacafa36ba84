"""Findings and the rectification loop (domain.md §7): one service per transition.

    待制定方案/重新整改 --submit plan (org officers)--> 方案待审
    方案待审 --approve plan (issuing side)--> 整改中
    方案待审 --reject plan (issuing side, reason)--> 待制定方案
    整改中/重新整改 --request close-out (org officers, evidence)--> 申请销号
    申请销号 --close (issuing side, evidence required)--> 已销号
    申请销号 --reject close-out (issuing side, reason)--> 重新整改
Progress reports and extension requests do not change the status. Every write is a
compare-and-set on Rectification.version plus a RectificationEvent; an archived campaign
refuses everything. The issuing side is `permissions.can_issue_for` (strictly above the org).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from branches.models import Message, MessageKind, OrgUnit, RoleGrant, User
from campaigns import permissions
from campaigns.models import (
    Campaign,
    ChecklistEntry,
    ChecklistItem,
    DecisionStatus,
    Evidence,
    ExtensionRequest,
    Finding,
    FindingSource,
    InspectionTarget,
    Rectification,
    RectificationEvent,
    RectificationStatus,
)
from campaigns.services.entries import EntryError, InvalidTransition, PermissionRefused

S = RectificationStatus

ERR_TRANSITION = "整改当前状态为“{status}”，不能{action}。"
ERR_LOCKED = "本年度创建活动已归档，整改记录已锁定。"
ERR_NOT_ALLOWED = "您没有权限{action}。"
ERR_REQUIRED = "请填写{what}。"
ERR_STALE = "该整改已被他人修改，您的操作未保存。请查看最新内容后重试。"
ERR_IMMEDIATE_LATER = "立行立改问题的整改时限不能晚于 {deadline}。"
ERR_IMMEDIATE_EXTEND = "立行立改问题不能申请延期。"
ERR_EXTENSION_PENDING = "已有一项延期申请待审批，请等待审批结果。"
ERR_EXTENSION_DATE = "延期日期须晚于当前整改时限（{deadline}）。"
ERR_EXTENSION_DECIDED = "该延期申请已审批。"
ERR_NO_EVIDENCE = "申请销号须提供整改佐证材料。"
ERR_OTHER_ORG = "只能使用本组织的佐证材料。"
ERR_ENTRY_ORG = "关联的清单条目不属于该党组织。"
ERR_CAMPAIGN = "该党组织不在本创建活动范围内。"

ISSUER_SOURCES = (FindingSource.INSPECTION, FindingSource.REVIEW, FindingSource.DUTY_REPORT)


class RectificationError(EntryError):
    """A business-rule refusal with a Chinese `.message`."""


class StaleRectification(RectificationError):
    def __init__(self, current: Rectification) -> None:
        super().__init__(ERR_STALE)
        self.current = current


def _require(allowed: bool, action: str) -> None:
    if not allowed:
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action=action))


def _require_status(rect: Rectification, allowed: Iterable[str], action: str) -> None:
    if rect.status not in allowed:
        raise InvalidTransition(ERR_TRANSITION.format(status=rect.get_status_display(), action=action))


def _require_fresh(rect: Rectification, expected_version: int | None) -> None:
    """A caller who loaded an older version is told so before any state rule applies (R11)."""
    if expected_version is not None and expected_version != rect.version:
        raise StaleRectification(Rectification.objects.get(pk=rect.pk))


def _require_unlocked(campaign: Campaign) -> None:
    if campaign.is_locked:
        raise InvalidTransition(ERR_LOCKED)


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise RectificationError(ERR_REQUIRED.format(what=what))
    return value


def _cas(
    rect: Rectification,
    *,
    expected_version: int,
    actor: User,
    action: str,
    comment: str = "",
    **fields: Any,
) -> Rectification:
    """Write `fields` only if the row still has `expected_version`, plus an event."""
    from_status = rect.status
    updated = Rectification.objects.filter(pk=rect.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields
    )
    if updated != 1:
        raise StaleRectification(Rectification.objects.get(pk=rect.pk))
    _event(rect, actor, action, from_status, fields.get("status", from_status), comment)
    for key, value in fields.items():
        setattr(rect, key, value)
    rect.version = expected_version + 1
    return rect


def _event(
    rect: Rectification, actor: User, action: str, from_status: str, to_status: str, comment: str
) -> None:
    RectificationEvent.objects.create(
        rectification=rect,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
    )


def _immediate_deadline(finding: Finding) -> date | None:
    if finding.is_immediate and finding.target_id is not None and finding.target is not None:
        return finding.target.inspection.ends_on
    return None


# --- findings --------------------------------------------------------------------------------


def find_repeat(*, campaign: Campaign, org: OrgUnit, item: ChecklistItem | None) -> Finding | None:
    """Last year's finding for the same organisation on the same item code, if any (重复问题)."""
    if item is None:
        return None
    return (
        Finding.objects.filter(
            org=org,
            campaign__committee_id=campaign.committee_id,
            campaign__year=campaign.year - 1,
            item__code=item.code,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _recipients(org: OrgUnit) -> list[User]:
    user_ids = RoleGrant.objects.filter(org=org, role__in=permissions.FILL_ROLES).values("user_id")
    return list(User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"))


def _notify(finding: Finding, rect: Rectification) -> None:
    url = reverse("campaigns:rectification_detail", args=[rect.pk])
    key = f"finding:{finding.pk}"
    for user in _recipients(finding.org):
        Message.objects.get_or_create(
            recipient=user,
            source_key=key,
            defaults={
                "kind": MessageKind.RECTIFICATION,
                "title": f"整改通知：{finding.get_source_display()}发现问题",
                "body": finding.description,
                "url": url,
            },
        )


@transaction.atomic
def finding_create(
    *,
    campaign: Campaign,
    org: OrgUnit,
    source: str,
    description: str,
    actor: User,
    category: str = "",
    severity: str = "minor",
    is_immediate: bool = False,
    item: ChecklistItem | None = None,
    entry: ChecklistEntry | None = None,
    target: InspectionTarget | None = None,
    deadline: date | None = None,
) -> Finding:
    """Record a finding and send its rectification (待制定方案) to the organisation's officers."""
    action = "登记问题"
    _require_unlocked(campaign)
    if source == FindingSource.SELF_CHECK:
        _require(permissions.can_issue_for(actor, org) or permissions.can_rectify(actor, org), action)
    else:
        _require(source in ISSUER_SOURCES and permissions.can_issue_for(actor, org), action)
    if not org.path.startswith(campaign.committee.path):
        raise RectificationError(ERR_CAMPAIGN)
    description = _text(description, "问题描述")
    if entry is not None:
        if entry.org_id != org.pk:
            raise RectificationError(ERR_ENTRY_ORG)
        item = item or entry.item
    repeat_of = find_repeat(campaign=campaign, org=org, item=item)
    finding = Finding.objects.create(
        campaign=campaign,
        org=org,
        source=source,
        target=target,
        entry=entry,
        item=item,
        category=(category or "").strip(),
        severity=severity,
        description=description,
        is_immediate=is_immediate,
        is_repeat=repeat_of is not None,
        repeat_of=repeat_of,
        created_by=actor,
    )
    rect = Rectification.objects.create(
        finding=finding,
        campaign=campaign,
        org=org,
        status=S.PLAN_PENDING,
        deadline=deadline or _immediate_deadline(finding),
    )
    _event(rect, actor, "下发整改", "", S.PLAN_PENDING, description)
    _notify(finding, rect)
    return finding


# --- the organisation's side --------------------------------------------------------------------


@transaction.atomic
def rectification_submit_plan(
    *,
    rect: Rectification,
    actor: User,
    expected_version: int,
    measures: str,
    responsible_name: str,
    leader_name: str,
    deadline: date | None,
) -> Rectification:
    action = "提交整改方案"
    _require_unlocked(rect.campaign)
    _require(permissions.can_rectify(actor, rect.org), action)
    _require_fresh(rect, expected_version)
    _require_status(rect, (S.PLAN_PENDING, S.REOPENED), action)
    measures = _text(measures, "整改措施")
    responsible_name = _text(responsible_name, "责任人")
    leader_name = _text(leader_name, "责任领导")
    if deadline is None:
        raise RectificationError(ERR_REQUIRED.format(what="整改时限"))
    fixed = _immediate_deadline(rect.finding) if rect.finding.is_immediate else None
    if fixed is not None and deadline > fixed:
        raise RectificationError(ERR_IMMEDIATE_LATER.format(deadline=fixed.isoformat()))
    return _cas(
        rect,
        expected_version=expected_version,
        actor=actor,
        action=action,
        status=S.PLAN_SUBMITTED,
        measures=measures,
        responsible_name=responsible_name,
        leader_name=leader_name,
        deadline=deadline,
    )


@transaction.atomic
def rectification_report_progress(
    *, rect: Rectification, actor: User, expected_version: int, progress: str
) -> Rectification:
    action = "报告整改进展"
    _require_unlocked(rect.campaign)
    _require(permissions.can_rectify(actor, rect.org), action)
    _require_fresh(rect, expected_version)
    _require_status(rect, (S.IN_PROGRESS, S.REOPENED), action)
    progress = _text(progress, "整改进展")
    return _cas(
        rect,
        expected_version=expected_version,
        actor=actor,
        action=action,
        comment=progress,
        progress=progress,
    )


@transaction.atomic
def rectification_request_extension(
    *, rect: Rectification, actor: User, until: date, reason: str
) -> ExtensionRequest:
    action = "申请延期"
    _require_unlocked(rect.campaign)
    _require(permissions.can_rectify(actor, rect.org), action)
    _require_status(rect, (S.IN_PROGRESS,), action)
    if rect.finding.is_immediate:
        raise RectificationError(ERR_IMMEDIATE_EXTEND)
    reason = _text(reason, "延期理由")
    if rect.deadline is not None and until <= rect.deadline:
        raise RectificationError(ERR_EXTENSION_DATE.format(deadline=rect.deadline.isoformat()))
    # Lock the row so two concurrent requests cannot both pass the "one pending" check.
    Rectification.objects.select_for_update().filter(pk=rect.pk).first()
    if rect.extensions.filter(status=DecisionStatus.PENDING).exists():
        raise RectificationError(ERR_EXTENSION_PENDING)
    request = ExtensionRequest.objects.create(
        rectification=rect, requested_by=actor, requested_until=until, reason=reason
    )
    _event(rect, actor, f"{action}至 {until.isoformat()}", rect.status, rect.status, reason)
    return request


def check_can_request_close(*, rect: Rectification, actor: User, expected_version: int | None = None) -> None:
    """The checks of a close-out request, run by the view before it stores uploaded files."""
    _require_unlocked(rect.campaign)
    _require(permissions.can_rectify(actor, rect.org), "申请销号")
    _require_fresh(rect, expected_version)
    _require_status(rect, (S.IN_PROGRESS, S.REOPENED), "申请销号")


@transaction.atomic
def rectification_request_close(
    *,
    rect: Rectification,
    actor: User,
    expected_version: int,
    progress: str,
    evidence: list[Evidence],
) -> Rectification:
    action = "申请销号"
    check_can_request_close(rect=rect, actor=actor, expected_version=expected_version)
    progress = _text(progress, "整改情况")
    if not evidence:
        raise RectificationError(ERR_NO_EVIDENCE)
    if any(e.org_id != rect.org_id for e in evidence):
        raise PermissionRefused(ERR_OTHER_ORG)
    rect = _cas(
        rect,
        expected_version=expected_version,
        actor=actor,
        action=action,
        comment=progress,
        status=S.CLOSE_REQUESTED,
        progress=progress,
    )
    rect.evidence.add(*evidence)
    return rect


# --- the issuing side ------------------------------------------------------------------------------


@transaction.atomic
def rectification_approve_plan(
    *, rect: Rectification, actor: User, expected_version: int, comment: str = ""
) -> Rectification:
    action = "审核通过整改方案"
    _require_unlocked(rect.campaign)
    _require(permissions.can_issue_for(actor, rect.org), action)
    _require_fresh(rect, expected_version)
    _require_status(rect, (S.PLAN_SUBMITTED,), action)
    return _cas(
        rect,
        expected_version=expected_version,
        actor=actor,
        action=action,
        comment=(comment or "").strip(),
        status=S.IN_PROGRESS,
    )


@transaction.atomic
def rectification_reject_plan(
    *, rect: Rectification, actor: User, expected_version: int, reason: str
) -> Rectification:
    action = "退回整改方案"
    _require_unlocked(rect.campaign)
    _require(permissions.can_issue_for(actor, rect.org), action)
    _require_fresh(rect, expected_version)
    _require_status(rect, (S.PLAN_SUBMITTED,), action)
    reason = _text(reason, "退回理由")
    return _cas(
        rect,
        expected_version=expected_version,
        actor=actor,
        action=action,
        comment=reason,
        status=S.PLAN_PENDING,
    )


@transaction.atomic
def extension_decide(
    *, request: ExtensionRequest, actor: User, approve: bool, note: str = ""
) -> ExtensionRequest:
    rect = request.rectification
    action = "审批延期申请"
    _require_unlocked(rect.campaign)
    _require(permissions.can_issue_for(actor, rect.org), action)
    locked = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != DecisionStatus.PENDING:
        raise InvalidTransition(ERR_EXTENSION_DECIDED)
    if approve and rect.finding.is_immediate:
        raise RectificationError(ERR_IMMEDIATE_EXTEND)
    request.status = DecisionStatus.APPROVED if approve else DecisionStatus.REFUSED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = (note or "").strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    label = "批准延期" if approve else "不批准延期"
    if approve:
        Rectification.objects.filter(pk=rect.pk).update(
            deadline=request.requested_until, version=F("version") + 1, updated_at=timezone.now()
        )
        rect.deadline = request.requested_until
        rect.version += 1
        label = f"{label}至 {request.requested_until.isoformat()}"
    _event(rect, actor, label, rect.status, rect.status, request.decision_note)
    return request


@transaction.atomic
def rectification_close(
    *, rect: Rectification, actor: User, expected_version: int, comment: str = ""
) -> Rectification:
    action = "销号"
    _require_unlocked(rect.campaign)
    _require(permissions.can_issue_for(actor, rect.org), action)
    _require_fresh(rect, expected_version)
    _require_status(rect, (S.CLOSE_REQUESTED,), action)
    if not rect.evidence.exists():
        raise RectificationError(ERR_NO_EVIDENCE)
    return _cas(
        rect,
        expected_version=expected_version,
        actor=actor,
        action=action,
        comment=(comment or "").strip(),
        status=S.CLOSED,
        closed_on=timezone.localdate(),
        closed_by=actor,
    )


@transaction.atomic
def rectification_reject_close(
    *, rect: Rectification, actor: User, expected_version: int, reason: str
) -> Rectification:
    action = "退回销号申请"
    _require_unlocked(rect.campaign)
    _require(permissions.can_issue_for(actor, rect.org), action)
    _require_fresh(rect, expected_version)
    _require_status(rect, (S.CLOSE_REQUESTED,), action)
    reason = _text(reason, "退回理由")
    return _cas(
        rect, expected_version=expected_version, actor=actor, action=action, comment=reason, status=S.REOPENED
    )

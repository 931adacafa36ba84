"""Entry state machine (domain.md §6): one service per transition, compare-and-set on `version`.

Allowed transitions:
    未开始/进行中/已退回 --save--> 进行中
    未开始/进行中/已退回 --submit--> 待审核 (stage: 上级初审, or 工委审核 for branches under the 工委)
    未开始/进行中/已退回 --request N/A--> 待审核 (not_applicable_requested)
    待审核 (before any review) --withdraw--> 进行中
    待审核/上级初审 --approve--> 待审核/工委审核 (初审得分)
    待审核/工委审核 --approve--> 已通过 (审核得分), or 不适用 when N/A was requested
    待审核 --return--> 已退回 (reason)
    any but 未开始 --reopen (工委管理员, reason)--> 进行中, also in an archived campaign
Every transition writes an EntryEvent. A write whose expected version is stale raises StaleEntry
listing what changed since the caller loaded the entry (R11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from branches.audit import audit_record
from branches.models import AuditAction, OrgKind, User
from campaigns import permissions
from campaigns.models import (
    ChecklistEntry,
    EntryEvent,
    EntryStatus,
    EventAction,
    ReviewStage,
)
from campaigns.models.checklists import OPEN_STATUSES

ERR_TRANSITION = "当前状态为“{status}”，不能{action}。"
ERR_LOCKED = "本年度创建活动已归档，清单已锁定；如需修改请联系工委管理员重新打开。"
ERR_NOT_ALLOWED = "您没有权限{action}。"
ERR_SCORE_RANGE = "得分须在 0 到 {max} 之间。"
ERR_REASON_REQUIRED = "请填写{what}。"
ERR_STALE = "该条目已被他人修改（{who}，{when}），您的修改未保存。请查看最新内容后重试。"


class EntryError(Exception):
    """A business-rule refusal with a Chinese message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(EntryError):
    pass


class PermissionRefused(EntryError):
    pass


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


class StaleEntry(EntryError):
    """Raised when the entry changed since the caller loaded it; `changes` says what changed."""

    def __init__(self, current: ChecklistEntry, changes: list[Change]) -> None:
        who = current.updated_by.display_name if current.updated_by else "他人"
        when = timezone.localtime(current.updated_at).strftime("%Y-%m-%d %H:%M")
        super().__init__(ERR_STALE.format(who=who, when=when))
        self.current = current
        self.changes = changes


# Fields compared for the conflict message, with their Chinese labels.
_COMPARED = (
    ("status", "状态"),
    ("review_stage", "审核环节"),
    ("progress_note", "工作进展"),
    ("completed_on", "完成日期"),
    ("self_score", "自评得分"),
    ("first_review_score", "初审得分"),
    ("review_score", "审核得分"),
    ("responsible_id", "责任人"),
    ("due_date", "完成时限"),
    ("return_reason", "退回理由"),
)


def _display(entry: ChecklistEntry, field: str) -> str:
    value = getattr(entry, field)
    if field == "status":
        return EntryStatus(value).label
    if field == "review_stage":
        return ReviewStage(value).label if value else "—"
    if field == "responsible_id":
        return entry.responsible.display_name if entry.responsible else "—"
    return "—" if value in (None, "") else str(value)


def diff_entries(seen: ChecklistEntry, current: ChecklistEntry) -> list[Change]:
    return [
        Change(label, _display(seen, f), _display(current, f))
        for f, label in _COMPARED
        if getattr(seen, f) != getattr(current, f)
    ]


def _reload(entry: ChecklistEntry) -> ChecklistEntry:
    return ChecklistEntry.objects.select_related("item", "org", "campaign", "responsible", "updated_by").get(
        pk=entry.pk
    )


def _cas(
    entry: ChecklistEntry,
    *,
    expected_version: int,
    actor: User | None,
    action: EventAction,
    comment: str = "",
    score: Decimal | None = None,
    **fields: Any,
) -> ChecklistEntry:
    """Compare-and-set: write `fields` only if the row still has `expected_version`, plus an event."""
    from_status = entry.status
    now = timezone.now()
    updated = ChecklistEntry.objects.filter(pk=entry.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=now, updated_by=actor, **fields
    )
    if updated != 1:
        current = _reload(entry)
        raise StaleEntry(current, diff_entries(entry, current))
    EntryEvent.objects.create(
        entry=entry,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=fields.get("status", from_status),
        comment=comment,
        score=score,
    )
    for key, value in fields.items():
        setattr(entry, key, value)
    entry.version = expected_version + 1
    entry.updated_at = now
    entry.updated_by = actor
    return entry


def _require_status(entry: ChecklistEntry, allowed: Iterable[str], action: str) -> None:
    if entry.status not in allowed:
        raise InvalidTransition(ERR_TRANSITION.format(status=entry.get_status_display(), action=action))


def _require_unlocked(entry: ChecklistEntry) -> None:
    if entry.campaign.is_locked and not entry.reopened:
        raise InvalidTransition(ERR_LOCKED)


def _require(allowed: bool, action: str) -> None:
    if not allowed:
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action=action))


def _check_score(entry: ChecklistEntry, score: Decimal | None) -> None:
    if score is None:
        return
    if score < 0 or score > entry.item.points:
        raise EntryError(ERR_SCORE_RANGE.format(max=entry.item.points.normalize()))


def first_stage_for(entry: ChecklistEntry) -> ReviewStage:
    """Branches directly under the 工委 skip the parent review (domain.md §6)."""
    parent = entry.org.parent
    if parent is None or parent.kind == OrgKind.COMMITTEE:
        return ReviewStage.COMMITTEE
    return ReviewStage.PARENT


# --- filling in -------------------------------------------------------------------------------


@transaction.atomic
def entry_save_progress(
    *,
    entry: ChecklistEntry,
    actor: User,
    expected_version: int,
    progress_note: str,
    completed_on: date | None,
    self_score: Decimal | None,
) -> ChecklistEntry:
    """Record progress notes, completion date and self score; a returned entry goes back to 进行中."""
    _require(permissions.can_fill_entry(actor, entry), "填报此条目")
    _require_unlocked(entry)
    _require_status(entry, OPEN_STATUSES, "填报")
    _check_score(entry, self_score)
    return _cas(
        entry,
        expected_version=expected_version,
        actor=actor,
        action=EventAction.SAVED,
        status=EntryStatus.IN_PROGRESS,
        progress_note=progress_note,
        completed_on=completed_on,
        self_score=self_score,
    )


@transaction.atomic
def entry_submit(*, entry: ChecklistEntry, actor: User, expected_version: int) -> ChecklistEntry:
    _require(permissions.can_fill_entry(actor, entry), "提交此条目")
    _require_unlocked(entry)
    _require_status(entry, OPEN_STATUSES, "提交审核")
    return _cas(
        entry,
        expected_version=expected_version,
        actor=actor,
        action=EventAction.SUBMITTED,
        status=EntryStatus.SUBMITTED,
        review_stage=first_stage_for(entry),
        not_applicable_requested=False,
        submitted_at=timezone.now(),
    )


@transaction.atomic
def entry_request_not_applicable(
    *, entry: ChecklistEntry, actor: User, expected_version: int, reason: str
) -> ChecklistEntry:
    """不适用 needs a reviewer's approval: the request goes through the normal review stages."""
    _require(permissions.can_fill_entry(actor, entry), "申请不适用")
    _require_unlocked(entry)
    _require_status(entry, OPEN_STATUSES, "申请不适用")
    if not reason.strip():
        raise EntryError(ERR_REASON_REQUIRED.format(what="不适用的理由"))
    return _cas(
        entry,
        expected_version=expected_version,
        actor=actor,
        action=EventAction.NA_REQUESTED,
        comment=reason.strip(),
        status=EntryStatus.SUBMITTED,
        review_stage=first_stage_for(entry),
        not_applicable_requested=True,
        submitted_at=timezone.now(),
    )


@transaction.atomic
def entry_withdraw(*, entry: ChecklistEntry, actor: User, expected_version: int) -> ChecklistEntry:
    """Take back a submission before anybody reviewed it."""
    _require(permissions.can_fill_entry(actor, entry), "撤回此条目")
    _require_unlocked(entry)
    _require_status(entry, (EntryStatus.SUBMITTED,), "撤回")
    if entry.review_stage != first_stage_for(entry) or entry.first_review_score is not None:
        raise InvalidTransition("已进入审核环节，不能撤回。")
    return _cas(
        entry,
        expected_version=expected_version,
        actor=actor,
        action=EventAction.WITHDRAWN,
        status=EntryStatus.IN_PROGRESS,
        review_stage=ReviewStage.NONE,
        not_applicable_requested=False,
    )


@transaction.atomic
def entry_assign(
    *,
    entry: ChecklistEntry,
    actor: User,
    expected_version: int,
    responsible: User | None,
    due_date: date | None,
) -> ChecklistEntry:
    """明责: the 责任人 must be a person of the entry's organisation (an officer or a rostered member)."""
    _require(permissions.can_assign_duties(actor, entry.checklist), "明确责任人")
    _require_unlocked(entry)
    # Duties belong to work still to be done; a finished entry keeps the 责任人 it was done by.
    _require_status(entry, (*OPEN_STATUSES, EntryStatus.SUBMITTED), "明确责任人")
    if responsible is not None and not _belongs_to(responsible, entry):
        raise EntryError("责任人必须是本组织的人员。")
    name = responsible.display_name if responsible else "—"
    return _cas(
        entry,
        expected_version=expected_version,
        actor=actor,
        action=EventAction.ASSIGNED,
        comment=f"责任人：{name}；完成时限：{due_date or '—'}",
        responsible=responsible,
        due_date=due_date if due_date is not None else entry.due_date,
    )


def _belongs_to(user: User, entry: ChecklistEntry) -> bool:
    from branches.models import Member, RoleGrant

    return (
        RoleGrant.objects.filter(user=user, org=entry.org).exists()
        or Member.objects.filter(user=user, org=entry.org, is_active=True).exists()
    )


# --- review ----------------------------------------------------------------------------------


@transaction.atomic
def entry_approve(
    *, entry: ChecklistEntry, actor: User, expected_version: int, score: Decimal | None, comment: str = ""
) -> ChecklistEntry:
    """初审 moves the entry on to 工委审核; 工委审核 finishes it (已通过, or 不适用 if requested)."""
    _require(permissions.can_review_entry(actor, entry), "审核此条目")
    _require_unlocked(entry)
    _require_status(entry, (EntryStatus.SUBMITTED,), "审核通过")
    _check_score(entry, score)
    if entry.review_stage == ReviewStage.PARENT:
        result = _cas(
            entry,
            expected_version=expected_version,
            actor=actor,
            action=EventAction.FIRST_APPROVED,
            comment=comment,
            score=score,
            review_stage=ReviewStage.COMMITTEE,
            first_review_score=score,
        )
    else:
        final = EntryStatus.NOT_APPLICABLE if entry.not_applicable_requested else EntryStatus.APPROVED
        result = _cas(
            entry,
            expected_version=expected_version,
            actor=actor,
            action=EventAction.APPROVED,
            comment=comment,
            score=score,
            status=final,
            review_stage=ReviewStage.NONE,
            review_score=score,
            return_reason="",
            reopened=False,
        )
    audit_record(
        action=AuditAction.REVIEW,
        actor=actor,
        target=entry,
        detail={
            "entry": entry.pk,
            "result": "approved",
            "stage": str(entry.review_stage),
            "score": str(score),
        },
    )
    return result


@transaction.atomic
def entry_return(*, entry: ChecklistEntry, actor: User, expected_version: int, reason: str) -> ChecklistEntry:
    _require(permissions.can_review_entry(actor, entry), "退回此条目")
    _require_unlocked(entry)
    _require_status(entry, (EntryStatus.SUBMITTED,), "退回")
    if not reason.strip():
        raise EntryError(ERR_REASON_REQUIRED.format(what="退回理由"))
    result = _cas(
        entry,
        expected_version=expected_version,
        actor=actor,
        action=EventAction.RETURNED,
        comment=reason.strip(),
        status=EntryStatus.RETURNED,
        review_stage=ReviewStage.NONE,
        return_reason=reason.strip(),
        not_applicable_requested=False,
    )
    audit_record(
        action=AuditAction.REVIEW, actor=actor, target=entry, detail={"entry": entry.pk, "result": "returned"}
    )
    return result


@dataclass
class BulkResult:
    approved: list[ChecklistEntry]
    skipped: list[tuple[ChecklistEntry, str]]


def entries_bulk_approve(*, entries: Iterable[ChecklistEntry], actor: User) -> BulkResult:
    """Approve each entry at its own version with its full points; refusals are reported, not fatal."""
    result = BulkResult(approved=[], skipped=[])
    for entry in entries:
        try:
            result.approved.append(
                entry_approve(
                    entry=entry, actor=actor, expected_version=entry.version, score=entry.item.points
                )
            )
        except EntryError as exc:
            result.skipped.append((entry, exc.message))
    return result


@transaction.atomic
def entry_reopen(*, entry: ChecklistEntry, actor: User, reason: str) -> ChecklistEntry:
    """工委管理员 reopens a finished (or archived) entry; the reason is recorded."""
    _require(permissions.can_reopen_entry(actor, entry), "重新打开条目")
    _require_status(
        entry,
        (
            EntryStatus.APPROVED,
            EntryStatus.NOT_APPLICABLE,
            EntryStatus.SUBMITTED,
            EntryStatus.RETURNED,
            EntryStatus.IN_PROGRESS,
        ),
        "重新打开",
    )
    if not reason.strip():
        raise EntryError(ERR_REASON_REQUIRED.format(what="重新打开的理由"))
    result = _cas(
        entry,
        expected_version=entry.version,
        actor=actor,
        action=EventAction.REOPENED,
        comment=reason.strip(),
        status=EntryStatus.IN_PROGRESS,
        review_stage=ReviewStage.NONE,
        not_applicable_requested=False,
        reopened=entry.campaign.is_locked,
    )
    audit_record(
        action=AuditAction.REOPEN,
        actor=actor,
        target=entry,
        detail={"entry": entry.pk, "reason": reason.strip()},
    )
    return result

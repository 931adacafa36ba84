"""Inspection rounds (督查 / 随机调研 / 专项检查, domain.md §7): plan, draw the sample, record results.

The draw is reproducible and auditable: the candidates are ordered by tree path, the seed is
stored on the round before the sample is taken, and `draw_sample` is a pure function of
(candidates, mode, size, seed). A round is drawn once; its sample never changes afterwards.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from branches.models import STAFF_ROLES, OrgUnit, RoleGrant, User, subtree_q
from campaigns import permissions
from campaigns.models import Campaign, ChecklistEntry, ChecklistItem, Evidence
from campaigns.models.supervision import (
    CheckOutcome,
    Finding,
    FindingSource,
    Inspection,
    InspectionCheckItem,
    InspectionKind,
    InspectionResult,
    InspectionStatus,
    InspectionTarget,
    SampleMode,
    Severity,
    TargetStatus,
)
from campaigns.services import evidence as ev
from campaigns.services.entries import EntryError, InvalidTransition, PermissionRefused
from campaigns.services.rectification import finding_create

ERR_NOT_ALLOWED = "您没有权限{action}。"
ERR_DATES = "结束日期不能早于开始日期。"
ERR_PERCENT = "抽取比例应在 1% 到 100% 之间。"
ERR_COUNT = "抽取数量至少为 1。"
ERR_NO_ITEMS = "请至少选择或填写一项检查内容。"
ERR_FOREIGN_ITEM = "所选检查内容不属于本次创建活动。"
ERR_TEAM = "检查组成员“{name}”不是能查看该检查范围的工作人员。"
ERR_TITLE = "请填写检查名称。"
ERR_ALREADY_DRAWN = "本次检查已经抽样，样本固定后不能重新抽取。"
ERR_NO_CANDIDATES = "检查范围内没有符合条件的组织可供抽取。"
ERR_NOT_SAMPLED = "本次检查尚未抽样。"
ERR_DONE = "本次检查已完成，不能再修改检查记录。"
ERR_BAD_OUTCOME = "检查结论无效。"
ERR_BAD_CHECK_ITEM = "检查内容不属于本次检查。"
ERR_FINDING_TEXT = "请填写问题描述。"
ERR_BAD_SEVERITY = "严重程度无效。"

OWN_ITEM_MAX = 200


class InspectionInvalid(EntryError):
    """Invalid input for a round; `message` is Chinese."""


# --- the draw (pure) -------------------------------------------------------------------------


def sample_count(n: int, mode: str, size: int) -> int:
    """How many of `n` candidates a mode draws: all, N (capped at n), or ceil(percent × n / 100)."""
    if mode == SampleMode.ALL:
        return n
    if mode == SampleMode.COUNT:
        return min(size, n)
    return min(n, math.ceil(size * n / 100))


def draw_sample(candidate_ids: list[int], mode: str, size: int, seed: int) -> list[int]:
    """The sampled ids, in draw order; same candidates (same order) + same seed → same sample."""
    k = sample_count(len(candidate_ids), mode, size)
    return random.Random(seed).sample(candidate_ids, k)


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to the month's end (3-31 minus 1 month = 2-28/29)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def candidates_for(inspection: Inspection) -> list[int]:
    """Active organisations of the target kind in the scope, minus those recently inspected.

    Recently = a target of another round (any campaign) starting within `exclude_months`
    months before this round's start. Ordered by path so the list is stable for the seed.
    """
    qs = OrgUnit.objects.filter(subtree_q(inspection.scope.path), kind=inspection.target_kind, is_active=True)
    if inspection.exclude_months > 0:
        since = months_before(inspection.starts_on, inspection.exclude_months)
        recent = InspectionTarget.objects.filter(
            inspection__starts_on__gte=since, inspection__starts_on__lte=inspection.starts_on
        ).exclude(inspection=inspection)
        qs = qs.exclude(pk__in=recent.values("org_id"))
    return list(qs.order_by("path").values_list("pk", flat=True))


# --- plan ------------------------------------------------------------------------------------


def staff_who_may_inspect(scope: OrgUnit) -> Q:
    """Q on User: active accounts holding a staff role at the scope or above it."""
    ancestors = [int(p) for p in scope.path.strip("/").split("/") if p]
    grants = RoleGrant.objects.filter(role__in=STAFF_ROLES, org_id__in=ancestors)
    return Q(is_active=True, pk__in=grants.values("user_id"))


def _validate_plan(
    *, title: str, sample_mode: str, sample_size: int, starts_on: date, ends_on: date, scope: OrgUnit
) -> None:
    if not title.strip():
        raise InspectionInvalid(ERR_TITLE)
    if ends_on < starts_on:
        raise InspectionInvalid(ERR_DATES)
    if sample_mode == SampleMode.PERCENT and not 1 <= sample_size <= 100:
        raise InspectionInvalid(ERR_PERCENT)
    if sample_mode == SampleMode.COUNT and sample_size < 1:
        raise InspectionInvalid(ERR_COUNT)


@transaction.atomic
def inspection_create(
    *,
    campaign: Campaign,
    actor: User,
    kind: str,
    title: str,
    scope: OrgUnit,
    target_kind: str,
    sample_mode: str,
    sample_size: int,
    exclude_months: int,
    starts_on: date,
    ends_on: date,
    team: list[User],
    item_ids: list[int],
    own_items: list[str],
    seed: int | None = None,
) -> Inspection:
    if not permissions.can_inspect(actor, scope):
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action="在该范围组织检查"))
    _validate_plan(
        title=title,
        sample_mode=sample_mode,
        sample_size=sample_size,
        starts_on=starts_on,
        ends_on=ends_on,
        scope=scope,
    )
    for member in team:
        if not (member.is_active and permissions.can_inspect(member, scope)):
            raise InspectionInvalid(ERR_TEAM.format(name=member.display_name))
    wanted = list(dict.fromkeys(item_ids))
    items = {i.pk: i for i in ChecklistItem.objects.filter(campaign=campaign, pk__in=wanted)}
    if len(items) != len(wanted):
        raise InspectionInvalid(ERR_FOREIGN_ITEM)
    own = [t.strip()[:OWN_ITEM_MAX] for t in own_items if t.strip()]
    if not items and not own:
        raise InspectionInvalid(ERR_NO_ITEMS)
    inspection = Inspection.objects.create(
        campaign=campaign,
        kind=kind or InspectionKind.SUPERVISION,
        title=title.strip(),
        scope=scope,
        target_kind=target_kind,
        sample_mode=sample_mode,
        sample_size=0 if sample_mode == SampleMode.ALL else sample_size,
        exclude_months=exclude_months,
        starts_on=starts_on,
        ends_on=ends_on,
        seed=seed,
        created_by=actor,
    )
    inspection.team.set(team)
    order = 0
    rows = []
    for pk in wanted:
        order += 1
        rows.append(
            InspectionCheckItem(
                inspection=inspection, item=items[pk], title=items[pk].title[:200], sort_order=order
            )
        )
    for text in own:
        order += 1
        rows.append(InspectionCheckItem(inspection=inspection, item=None, title=text, sort_order=order))
    InspectionCheckItem.objects.bulk_create(rows)
    return inspection


# --- draw --------------------------------------------------------------------------------------


@transaction.atomic
def inspection_draw(*, inspection: Inspection, actor: User, today: date) -> list[InspectionTarget]:
    """Draw the sample once; the seed (given or generated) is stored with the round.

    The draw is its own record (seed, sampled_at, targets); `today` is part of the call
    contract for callers that schedule draws and is not needed by the draw itself.
    """
    inspection = Inspection.objects.select_for_update().select_related("scope").get(pk=inspection.pk)
    if not permissions.can_inspect(actor, inspection.scope):
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action="为本次检查抽样"))
    if inspection.status != InspectionStatus.PLANNED or inspection.targets.exists():
        raise InvalidTransition(ERR_ALREADY_DRAWN)
    candidates = candidates_for(inspection)
    if not candidates:
        raise InspectionInvalid(ERR_NO_CANDIDATES)
    if inspection.seed is None:
        inspection.seed = secrets.randbits(48)
    sample = draw_sample(candidates, inspection.sample_mode, inspection.sample_size, inspection.seed)
    targets = InspectionTarget.objects.bulk_create(
        [InspectionTarget(inspection=inspection, org_id=pk) for pk in sorted(sample)]
    )
    inspection.status = InspectionStatus.SAMPLED
    inspection.sampled_at = timezone.now()
    inspection.save(update_fields=["seed", "status", "sampled_at"])
    return targets


# --- record ------------------------------------------------------------------------------------


def can_record(user: User, target: InspectionTarget) -> bool:
    """Team members of the round, or staff whose subtree covers the organisation."""
    return permissions.can_inspect(user, target.org) or target.inspection.team.filter(pk=user.pk).exists()


def _require_recordable(target: InspectionTarget, actor: User, action: str) -> None:
    if not can_record(actor, target):
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action=action))
    status = target.inspection.status
    if status == InspectionStatus.PLANNED:
        raise InvalidTransition(ERR_NOT_SAMPLED)
    if status == InspectionStatus.DONE:
        raise InvalidTransition(ERR_DONE)


@dataclass(frozen=True)
class FindingInput:
    description: str
    category: str = ""
    severity: str = Severity.MINOR
    is_immediate: bool = False
    check_item: InspectionCheckItem | None = None


def _finding_inputs(
    findings: list[dict[str, Any]], check_items: dict[int, InspectionCheckItem]
) -> list[FindingInput]:
    out = []
    for f in findings:
        text = (f.get("description") or "").strip()
        if not text:
            raise InspectionInvalid(ERR_FINDING_TEXT)
        severity = f.get("severity") or Severity.MINOR
        if severity not in Severity.values:
            raise InspectionInvalid(ERR_BAD_SEVERITY)
        item_id = f.get("item_id")
        if item_id is not None and item_id not in check_items:
            raise InspectionInvalid(ERR_BAD_CHECK_ITEM)
        out.append(
            FindingInput(
                description=text,
                category=(f.get("category") or "").strip()[:50],
                severity=severity,
                is_immediate=bool(f.get("is_immediate")),
                check_item=check_items.get(item_id) if item_id is not None else None,
            )
        )
    return out


def _entry_for(target: InspectionTarget, item: ChecklistItem | None) -> ChecklistEntry | None:
    """The organisation's entry for the item (its latest period), when it has one."""
    if item is None:
        return None
    return ChecklistEntry.objects.filter(org=target.org, item=item).order_by("-period").first()


@transaction.atomic
def inspection_record(
    *,
    target: InspectionTarget,
    actor: User,
    summary: str,
    results: dict[int, tuple[str, str]],
    findings: list[dict[str, Any]],
) -> list[Finding]:
    """Store the results per check item (upsert), mark the organisation checked, create findings."""
    _require_recordable(target, actor, "记录检查结果")
    inspection = target.inspection
    check_items = {
        c.pk: c for c in InspectionCheckItem.objects.filter(inspection=inspection).select_related("item")
    }
    for pk, (outcome, _note) in results.items():
        if pk not in check_items:
            raise InspectionInvalid(ERR_BAD_CHECK_ITEM)
        if outcome not in CheckOutcome.values:
            raise InspectionInvalid(ERR_BAD_OUTCOME)
    inputs = _finding_inputs(findings, check_items)
    for pk, (outcome, note) in results.items():
        InspectionResult.objects.update_or_create(
            target=target, check_item_id=pk, defaults={"outcome": outcome, "note": note.strip()}
        )
    target.summary = summary.strip()
    target.status = TargetStatus.CHECKED
    target.checked_by = actor
    target.checked_at = timezone.now()
    target.save(update_fields=["summary", "status", "checked_by", "checked_at"])
    created = []
    for f in inputs:
        item = f.check_item.item if f.check_item is not None else None
        created.append(
            finding_create(
                campaign=inspection.campaign,
                org=target.org,
                source=FindingSource.INSPECTION,
                description=f.description,
                actor=actor,
                category=f.category,
                severity=f.severity,
                is_immediate=f.is_immediate,
                item=item,
                entry=_entry_for(target, item),
                target=target,
            )
        )
    return created


def inspection_attach(
    *, target: InspectionTarget, file: UploadedFile | None, title: str, actor: User
) -> Evidence:
    """A photo or file taken during the visit, stored as the organisation's evidence."""
    _require_recordable(target, actor, "上传检查材料")
    return ev.evidence_store(
        org=target.org, file=file, title=title, actor=actor, attach=lambda e: target.evidence.add(e)
    )


@transaction.atomic
def inspection_complete(*, inspection: Inspection, actor: User) -> Inspection:
    inspection = Inspection.objects.select_for_update().select_related("scope").get(pk=inspection.pk)
    if not permissions.can_inspect(actor, inspection.scope):
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action="完成本次检查"))
    if inspection.status != InspectionStatus.SAMPLED:
        raise InvalidTransition(
            ERR_NOT_SAMPLED if inspection.status == InspectionStatus.PLANNED else ERR_DONE
        )
    inspection.status = InspectionStatus.DONE
    inspection.save(update_fields=["status"])
    return inspection

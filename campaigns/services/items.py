"""Writes of the task list (domain.md §5): sections and items, the 工委's and 本级增加.

The 工委管理员 edits the 工委's list (owner = None). Staff of a 机关党委/党总支 add and edit
local items (owner = their unit, or a unit below it) for that unit's subtree; they never touch
the 工委's items or other units' items. Items of a published campaign may still change
(publishing again adds what is missing); of an archived campaign, nothing changes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from branches.models import OrgKind, OrgUnit, Role, User
from campaigns import permissions
from campaigns.models import CHECK_METHODS, Campaign, ChecklistItem, Frequency, Section
from campaigns.services.campaigns import require_unlocked

CHECK_METHOD_SEPARATOR = "、"
LOCAL_OWNER_KINDS = (OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH)
MAX_CODE, MAX_TITLE, MAX_SECTION, MAX_CHECK_METHOD, MAX_ROLE = 30, 200, 50, 50, 30
MAX_POINTS = Decimal("9999.99")  # DecimalField(max_digits=6, decimal_places=2)

ERR_NOT_ALLOWED_LIST = "只有工委管理员可以修改工委下发的任务清单。"
ERR_NOT_ALLOWED_LOCAL = "您不能修改该单位的本级增加任务。"
ERR_OWNER_KIND = "本级增加任务只能由机关党委或党总支添加。"
ERR_REQUIRED = "必须填写。"
ERR_TOO_LONG = "不能超过 {limit} 个字符。"
ERR_CODE_TAKEN = "任务编码“{code}”在本年度已被使用。"
ERR_POINTS = "分值须为 0 到 9999.99 之间的数字，最多两位小数。"
ERR_DUE_YEAR = "完成时限须在 {year} 年内。"
ERR_FREQUENCY = "频次只能是：一次、每月、每季度、每半年、每年。"
ERR_KINDS = "适用组织类型只能是：工委、机关党委、党总支、党支部、党小组。"
ERR_CHECK_METHOD = (
    "考评方式只能是：" + CHECK_METHOD_SEPARATOR.join(CHECK_METHODS) + "（可多选，用“、”分隔）。"
)
ERR_ROLE = "责任人角色无效。"
ERR_SECTION_CAMPAIGN = "类别不属于本年度的创建活动。"
ERR_SECTION_TAKEN = "类别“{name}”已经存在。"

ITEM_FIELDS = (
    "section",
    "code",
    "title",
    "requirement",
    "evidence_guidance",
    "points",
    "scoring_rule",
    "check_method",
    "due_date",
    "frequency",
    "applicable_kinds",
    "responsible_role",
    "sort_order",
)


def can_edit_item(user: User, item: ChecklistItem) -> bool:
    """The 工委's items: the 工委管理员; a local item: staff covering its owner (本级增加)."""
    if item.owner is None:
        return permissions.can_manage_campaign(user, item.campaign)
    return permissions.can_add_local_items(user, item.owner)


# --- field rules, shared with the task-list import ---------------------------------------------


def points_error(value: Decimal) -> str | None:
    try:
        exponent = value.as_tuple().exponent
    except (AttributeError, InvalidOperation):
        return ERR_POINTS
    if (
        not value.is_finite()
        or value < 0
        or value > MAX_POINTS
        or (isinstance(exponent, int) and exponent < -2)
    ):
        return ERR_POINTS
    return None


def due_date_error(campaign: Campaign, due: date | None) -> str | None:
    if due is not None and due.year != campaign.year:
        return ERR_DUE_YEAR.format(year=campaign.year)
    return None


def check_method_error(text: str) -> str | None:
    parts = split_check_methods(text)
    if len(text) > MAX_CHECK_METHOD:
        return ERR_TOO_LONG.format(limit=MAX_CHECK_METHOD)
    return None if all(p in CHECK_METHODS for p in parts) else ERR_CHECK_METHOD


def split_check_methods(text: str) -> list[str]:
    normalised = text.replace(",", CHECK_METHOD_SEPARATOR).replace("，", CHECK_METHOD_SEPARATOR)
    return [p.strip() for p in normalised.split(CHECK_METHOD_SEPARATOR) if p.strip()]


def normalise_check_method(text: str) -> str:
    parts = split_check_methods(text)
    return CHECK_METHOD_SEPARATOR.join(m for m in CHECK_METHODS if m in parts)


def ordered_kinds(kinds: list[str]) -> list[str]:
    """Applicable kinds in tree order, without repeats; every kind listed means "all" (empty)."""
    ordered = [k for k in OrgKind.values if k in kinds]
    return [] if len(ordered) == len(OrgKind.values) else ordered


def _item_errors(campaign: Campaign, values: dict[str, Any], *, exclude_pk: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field, limit in (("code", MAX_CODE), ("title", MAX_TITLE)):
        text = values.get(field) or ""
        if not text:
            errors[field] = ERR_REQUIRED
        elif len(text) > limit:
            errors[field] = ERR_TOO_LONG.format(limit=limit)
    section = values.get("section")
    if section is None:
        errors["section"] = ERR_REQUIRED
    elif section.campaign_id != campaign.pk:
        errors["section"] = ERR_SECTION_CAMPAIGN
    points = values.get("points")
    if points is None:
        errors["points"] = ERR_REQUIRED
    elif problem := points_error(points):
        errors["points"] = problem
    if problem := due_date_error(campaign, values.get("due_date")):
        errors["due_date"] = problem
    if values.get("frequency") not in Frequency.values:
        errors["frequency"] = ERR_FREQUENCY
    if any(k not in OrgKind.values for k in values.get("applicable_kinds") or []):
        errors["applicable_kinds"] = ERR_KINDS
    if problem := check_method_error(values.get("check_method") or ""):
        errors["check_method"] = problem
    if (values.get("responsible_role") or "") not in ("", *Role.values):
        errors["responsible_role"] = ERR_ROLE
    code = values.get("code") or ""
    if "code" not in errors:
        taken = ChecklistItem.objects.filter(campaign=campaign, code=code)
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        if taken.exists():
            errors["code"] = ERR_CODE_TAKEN.format(code=code)
    return errors


def _clean_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(ITEM_FIELDS)
    if unknown:
        raise ValidationError(f"未知字段：{'、'.join(sorted(unknown))}")
    cleaned = dict(values)
    for field in ("code", "title", "requirement", "evidence_guidance", "scoring_rule", "responsible_role"):
        if field in cleaned:
            cleaned[field] = (cleaned[field] or "").strip()
    if "check_method" in cleaned:
        text = (cleaned["check_method"] or "").strip()
        cleaned["check_method"] = text if check_method_error(text) else normalise_check_method(text)
    if "applicable_kinds" in cleaned:
        kinds = list(cleaned["applicable_kinds"] or [])
        cleaned["applicable_kinds"] = (
            kinds if any(k not in OrgKind.values for k in kinds) else ordered_kinds(kinds)
        )
    return cleaned


def _require_can_edit(actor: User | None, campaign: Campaign, owner: OrgUnit | None) -> None:
    if actor is None:
        return  # the command line
    if owner is None:
        if not permissions.can_manage_campaign(actor, campaign):
            raise ValidationError(ERR_NOT_ALLOWED_LIST)
    elif not permissions.can_add_local_items(actor, owner):
        raise ValidationError(ERR_NOT_ALLOWED_LOCAL)


# --- sections ------------------------------------------------------------------------------------


def _section_name_errors(campaign: Campaign, name: str, exclude_pk: int | None) -> None:
    if not name:
        raise ValidationError({"name": ERR_REQUIRED})
    if len(name) > MAX_SECTION:
        raise ValidationError({"name": ERR_TOO_LONG.format(limit=MAX_SECTION)})
    taken = Section.objects.filter(campaign=campaign, name=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"name": ERR_SECTION_TAKEN.format(name=name)})


def section_create(
    *, campaign: Campaign, name: str, actor: User | None, sort_order: int | None = None
) -> Section:
    """A new 类别 at the end of the list (sections belong to the 工委's list)."""
    _require_can_edit(actor, campaign, None)
    require_unlocked(campaign)
    name = name.strip()
    _section_name_errors(campaign, name, None)
    if sort_order is None:
        last = Section.objects.filter(campaign=campaign).aggregate(m=Max("sort_order"))["m"]
        sort_order = (last or 0) + 1
    return Section.objects.create(campaign=campaign, name=name, sort_order=sort_order)


def section_update(*, section: Section, name: str, sort_order: int, actor: User | None) -> Section:
    _require_can_edit(actor, section.campaign, None)
    require_unlocked(section.campaign)
    name = name.strip()
    _section_name_errors(section.campaign, name, section.pk)
    section.name, section.sort_order = name, sort_order
    section.save(update_fields=["name", "sort_order"])
    return section


# --- items ---------------------------------------------------------------------------------------


@transaction.atomic
def item_create(
    *, campaign: Campaign, actor: User | None, owner: OrgUnit | None = None, **values: Any
) -> ChecklistItem:
    """Add an item: to the 工委's list (owner None) or as 本级增加 of a 机关党委/党总支."""
    if owner is not None and owner.kind not in LOCAL_OWNER_KINDS:
        raise ValidationError(ERR_OWNER_KIND)
    _require_can_edit(actor, campaign, owner)
    require_unlocked(campaign)
    cleaned = {"frequency": Frequency.ONCE, "applicable_kinds": [], **_clean_values(values)}
    errors = _item_errors(campaign, cleaned, exclude_pk=None)
    if errors:
        raise ValidationError(errors)
    if "sort_order" not in cleaned or cleaned["sort_order"] is None:
        last = ChecklistItem.objects.filter(campaign=campaign, section=cleaned["section"]).aggregate(
            m=Max("sort_order")
        )["m"]
        cleaned["sort_order"] = (last or 0) + 1
    return ChecklistItem.objects.create(campaign=campaign, owner=owner, **cleaned)


@transaction.atomic
def item_update(*, item: ChecklistItem, actor: User | None, **values: Any) -> ChecklistItem:
    """Edit an item; allowed while published (entries keep their own due dates), refused once archived."""
    campaign = item.campaign
    _require_can_edit(actor, campaign, item.owner)
    require_unlocked(campaign)
    cleaned = _clean_values(values)
    merged = {f: getattr(item, f) for f in ITEM_FIELDS} | cleaned
    errors = _item_errors(campaign, merged, exclude_pk=item.pk)
    if errors:
        raise ValidationError(errors)
    if cleaned.get("sort_order", 0) is None:
        del cleaned["sort_order"]  # no new position given: the item keeps its place
    for key, value in cleaned.items():
        setattr(item, key, value)
    if cleaned:
        item.save(update_fields=[*cleaned, "updated_at"])
    return item


def item_deactivate(*, item: ChecklistItem, actor: User | None) -> ChecklistItem:
    """Take an item off the list; entries already created stay for the record."""
    _require_can_edit(actor, item.campaign, item.owner)
    require_unlocked(item.campaign)
    if item.is_active:
        item.is_active = False
        item.save(update_fields=["is_active", "updated_at"])
    return item

"""Task-list import from Excel (domain.md §12 sheet 任务清单, R9).

The package is vetted by the organisation import's checks (zip bombs, macros, external links,
DTDs) before openpyxl sees it; the sheet is read with the same helpers. Every row is validated
first, with Chinese errors naming sheet, row and column; with any error nothing is written.
Otherwise the 工委's items are upserted by 任务编码 in one transaction, sections created by name
in file order. Items missing from the file are left alone; re-importing the same file changes
nothing. Text typed into the workbook is never trusted as anything but text.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

import openpyxl
from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from branches.audit import audit_record
from branches.imports.messages import (
    ERR_TOO_LARGE,
    ERR_UNREADABLE,
    SHEET_FILE,
    RowError,
    _Errors,
    column_names,
    file_error,
    human_size,
)
from branches.imports.package import package_errors
from branches.imports.reading import cell_date, cell_text, find_sheet, read_sheet
from branches.models import AuditAction, OrgKind, Role, User
from campaigns.models import Campaign, ChecklistItem, Frequency, Section
from campaigns.services import items as item_rules

logger = logging.getLogger(__name__)

SHEET_TASKS = "任务清单"
COL_SECTION = "类别"
COL_CODE = "任务编码"
COL_TITLE = "任务名称"
COL_REQUIREMENT = "工作要求"
COL_EVIDENCE = "佐证材料"
COL_POINTS = "分值"
COL_RULE = "评分细则"
COL_METHOD = "考评方式"
COL_DUE = "完成时限/频次"
COL_KINDS = "适用组织类型"
COL_ROLE = "责任人角色"
TASK_COLUMNS: tuple[str, ...] = (
    f"{COL_SECTION}*",
    f"{COL_CODE}*",
    f"{COL_TITLE}*",
    COL_REQUIREMENT,
    COL_EVIDENCE,
    f"{COL_POINTS}*",
    COL_RULE,
    COL_METHOD,
    COL_DUE,
    COL_KINDS,
    COL_ROLE,
)
COLUMN_ORDER = column_names(TASK_COLUMNS)

KIND_BY_LABEL: dict[str, str] = {str(k.label): k.value for k in OrgKind}
ROLE_BY_LABEL: dict[str, str] = {str(r.label): r.value for r in Role}
FREQUENCY_BY_LABEL: dict[str, str] = {str(f.label): f.value for f in Frequency}
_LIST_SEPARATORS = re.compile(r"[、,，;；]")
MAX_TEXT = 5000

ERR_NO_SHEET = "缺少工作表“任务清单”，请使用系统提供的导入模板。"
ERR_NO_DATA = "文件中没有可导入的任务：请从“任务清单”工作表的第 2 行开始填写。"
ERR_ARCHIVED = "该创建活动已归档，任务清单不能再修改。"
ERR_DUPLICATE_CODE = "任务编码“{code}”与第 {row} 行重复。"
ERR_LOCAL_CODE = "任务编码“{code}”已被“{owner}”的本级增加任务使用。"
ERR_POINTS_NUMBER = "分值必须是数字。"
ERR_DUE = "请填写日期（如 2026-06-30）或频次：一次、每月、每季度、每半年、每年。"
ERR_KIND_LABEL = "适用组织类型“{label}”无效，只能是：工委、机关党委、党总支、党支部、党小组，用“、”分隔。"
ERR_ROLE_LABEL = "责任人角色“{label}”无效，只能是：" + "、".join(ROLE_BY_LABEL) + "，或留空。"
ERR_WRITE_CONFLICT = "写入时发现数据已被他人修改，导入已整体取消，请重新上传：{detail}"

STATUS_FAILED, STATUS_CHECKED, STATUS_APPLIED = "failed", "checked", "applied"
STATUS_LABELS = {STATUS_FAILED: "有错误，未写入", STATUS_CHECKED: "预检通过", STATUS_APPLIED: "已导入"}
SUM_ROWS, SUM_NEW, SUM_UPDATED, SUM_UNCHANGED, SUM_SECTIONS, SUM_ERRORS = (
    "任务行数",
    "新增任务",
    "更新任务",
    "未变任务",
    "新增类别",
    "错误数",
)


@dataclass
class TaskListImportResult:
    status: str
    file_name: str
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class _Row:
    row: int
    section: str
    values: dict[str, Any]


# --- parsing one row ------------------------------------------------------------------------


def _points(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    try:
        return Decimal(cell_text(value))
    except InvalidOperation:
        raise ValueError(value) from None


def _due(value: object) -> tuple[date | None, str]:
    """完成时限 or 频次: a date means a one-off item due that day; a label is the frequency."""
    text = cell_text(value)
    if not text:
        return None, Frequency.ONCE
    if text in FREQUENCY_BY_LABEL:
        return None, FREQUENCY_BY_LABEL[text]
    return cell_date(value), Frequency.ONCE


def _parse_row(campaign: Campaign, number: int, cells: dict[str, object], errors: _Errors) -> _Row:
    def add(column: str, message: str) -> None:
        errors.add(SHEET_TASKS, number, column, message)

    text = {name: cell_text(cells.get(name)) for name in COLUMN_ORDER}
    for name, limit in (
        (COL_SECTION, item_rules.MAX_SECTION),
        (COL_CODE, item_rules.MAX_CODE),
        (COL_TITLE, item_rules.MAX_TITLE),
    ):
        if not text[name]:
            add(name, item_rules.ERR_REQUIRED)
        elif len(text[name]) > limit:
            add(name, item_rules.ERR_TOO_LONG.format(limit=limit))
    for name in (COL_REQUIREMENT, COL_EVIDENCE, COL_RULE):
        if len(text[name]) > MAX_TEXT:
            add(name, item_rules.ERR_TOO_LONG.format(limit=MAX_TEXT))
    points: Decimal | None = None
    if not text[COL_POINTS]:
        add(COL_POINTS, item_rules.ERR_REQUIRED)
    else:
        try:
            points = _points(cells.get(COL_POINTS))
        except ValueError:
            add(COL_POINTS, ERR_POINTS_NUMBER)
        else:
            if problem := item_rules.points_error(points):
                add(COL_POINTS, problem)
    due: date | None = None
    frequency: str = Frequency.ONCE
    try:
        due, frequency = _due(cells.get(COL_DUE))
    except ValueError:
        add(COL_DUE, ERR_DUE)
    else:
        if problem := item_rules.due_date_error(campaign, due):
            add(COL_DUE, problem)
    kinds: list[str] = []
    for label in (p.strip() for p in _LIST_SEPARATORS.split(text[COL_KINDS])):
        if not label:
            continue
        if label in KIND_BY_LABEL:
            kinds.append(KIND_BY_LABEL[label])
        else:
            add(COL_KINDS, ERR_KIND_LABEL.format(label=label))
    if problem := item_rules.check_method_error(text[COL_METHOD]):
        add(COL_METHOD, problem)
    role = ""
    if text[COL_ROLE]:
        if text[COL_ROLE] in ROLE_BY_LABEL:
            role = ROLE_BY_LABEL[text[COL_ROLE]]
        else:
            add(COL_ROLE, ERR_ROLE_LABEL.format(label=text[COL_ROLE]))
    return _Row(
        row=number,
        section=text[COL_SECTION],
        values={
            "code": text[COL_CODE],
            "title": text[COL_TITLE],
            "requirement": text[COL_REQUIREMENT],
            "evidence_guidance": text[COL_EVIDENCE],
            "points": points,
            "scoring_rule": text[COL_RULE],
            "check_method": item_rules.normalise_check_method(text[COL_METHOD]),
            "due_date": due,
            "frequency": frequency,
            "applicable_kinds": item_rules.ordered_kinds(kinds),
            "responsible_role": role,
        },
    )


# --- the whole file --------------------------------------------------------------------------


def _read_rows(campaign: Campaign, data: bytes, errors: _Errors) -> list[_Row]:
    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl reports malformed parts with whatever exception its parser raised.
        logger.warning("task-list import: workbook could not be opened", exc_info=True)
        errors.items = file_error(ERR_UNREADABLE)
        return []
    try:
        ws = find_sheet(workbook, SHEET_TASKS)
        if ws is None:
            errors.add(SHEET_TASKS, None, "", ERR_NO_SHEET)
            return []
        sheet = read_sheet(ws, sheet=SHEET_TASKS, columns=TASK_COLUMNS, errors=errors)
    except Exception:
        logger.warning("task-list import: workbook could not be read", exc_info=True)
        errors.items = file_error(ERR_UNREADABLE)
        return []
    finally:
        workbook.close()
    if sheet is None:
        return []
    if not sheet.rows:
        errors.add(SHEET_FILE, None, "", ERR_NO_DATA)
        return []
    return [_parse_row(campaign, number, cells, errors) for number, cells in sheet.rows]


def _check_codes(campaign: Campaign, rows: list[_Row], errors: _Errors) -> None:
    first_row: dict[str, int] = {}
    for row in rows:
        code = row.values["code"]
        if not code:
            continue
        if code in first_row:
            errors.add(
                SHEET_TASKS, row.row, COL_CODE, ERR_DUPLICATE_CODE.format(code=code, row=first_row[code])
            )
        else:
            first_row[code] = row.row
    local = ChecklistItem.objects.filter(campaign=campaign, code__in=list(first_row), owner__isnull=False)
    for item in local.select_related("owner"):
        errors.add(
            SHEET_TASKS,
            first_row[item.code],
            COL_CODE,
            ERR_LOCAL_CODE.format(code=item.code, owner=item.owner),
        )


def _sorted(errors: _Errors) -> list[RowError]:
    rank = {name: i for i, name in enumerate(COLUMN_ORDER)}
    return sorted(
        errors.items, key=lambda e: (e["sheet"] != SHEET_FILE, e["row"] or 0, rank.get(e["column"], 99))
    )


@dataclass
class _Plan:
    new_sections: list[str]
    new_items: list[_Row]
    changed: list[tuple[ChecklistItem, dict[str, Any]]]
    unchanged: int

    def summary(self, rows: int) -> dict[str, int]:
        return {
            SUM_ROWS: rows,
            SUM_SECTIONS: len(self.new_sections),
            SUM_NEW: len(self.new_items),
            SUM_UPDATED: len(self.changed),
            SUM_UNCHANGED: self.unchanged,
        }


def _plan(campaign: Campaign, rows: list[_Row]) -> _Plan:
    sections = {s.name: s for s in Section.objects.filter(campaign=campaign)}
    new_sections = list(dict.fromkeys(r.section for r in rows if r.section not in sections))
    existing = {i.code: i for i in ChecklistItem.objects.filter(campaign=campaign, owner__isnull=True)}
    plan = _Plan(new_sections=new_sections, new_items=[], changed=[], unchanged=0)
    for position, row in enumerate(rows, start=1):
        item = existing.get(row.values["code"])
        if item is None:
            plan.new_items.append(row)
            continue
        section = sections.get(row.section)
        wanted = {**row.values, "sort_order": position, "is_active": True}
        changes = {k: v for k, v in wanted.items() if getattr(item, k) != v}
        if section is None or section.pk != item.section_id:
            changes["section_name"] = row.section
        if changes:
            plan.changed.append((item, changes))
        else:
            plan.unchanged += 1
    return plan


def _apply(campaign: Campaign, rows: list[_Row], plan: _Plan) -> None:
    last = Section.objects.filter(campaign=campaign).aggregate(m=Max("sort_order"))["m"] or 0
    Section.objects.bulk_create(
        [
            Section(campaign=campaign, name=name, sort_order=last + i)
            for i, name in enumerate(plan.new_sections, 1)
        ]
    )
    sections = {s.name: s for s in Section.objects.filter(campaign=campaign)}
    position = {row.values["code"]: n for n, row in enumerate(rows, start=1)}
    ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(
                campaign=campaign,
                section=sections[row.section],
                sort_order=position[row.values["code"]],
                **row.values,
            )
            for row in plan.new_items
        ]
    )
    fields: set[str] = set()
    now = timezone.now()  # bulk_update does not apply auto_now
    for item, changes in plan.changed:
        item.updated_at = now
        section_name = changes.pop("section_name", None)
        if section_name is not None:
            item.section = sections[section_name]
            fields.add("section")
        for key, value in changes.items():
            setattr(item, key, value)
            fields.add(key)
    if plan.changed:
        ChecklistItem.objects.bulk_update([item for item, _ in plan.changed], [*sorted(fields), "updated_at"])


def task_list_import(
    *,
    campaign: Campaign,
    data: bytes,
    file_name: str,
    actor: User | None,
    dry_run: bool,
    request: HttpRequest | None = None,
) -> TaskListImportResult:
    """Validate the whole 任务清单 sheet and, with zero errors (and not a dry run), upsert it at once."""
    result = TaskListImportResult(status=STATUS_FAILED, file_name=file_name, dry_run=dry_run)
    errors = _Errors()
    if campaign.is_locked:
        errors.items = file_error(ERR_ARCHIVED)
    else:
        errors.items = package_errors(data=data, file_name=file_name)
    rows: list[_Row] = []
    if not errors:
        rows = _read_rows(campaign, data, errors)
        if rows:
            _check_codes(campaign, rows, errors)
    if errors:
        result.errors = _sorted(errors)
        result.summary = {SUM_ROWS: len(rows), SUM_ERRORS: len(result.errors)}
        return _record(result, campaign=campaign, data=data, actor=actor, request=request)
    plan = _plan(campaign, rows)
    result.summary = plan.summary(len(rows))
    if dry_run:
        result.status = STATUS_CHECKED
        return _record(result, campaign=campaign, data=data, actor=actor, request=request)
    try:
        with transaction.atomic():
            _apply(campaign, rows, plan)
            result.status = STATUS_APPLIED
            return _record(result, campaign=campaign, data=data, actor=actor, request=request)
    except IntegrityError as exc:
        # Only a concurrent edit between validation and writing can get here.
        logger.warning("task-list import: write failed after validation", exc_info=True)
        result.status = STATUS_FAILED
        result.errors = file_error(ERR_WRITE_CONFLICT.format(detail=exc))
        result.summary = {SUM_ROWS: len(rows), SUM_ERRORS: 1}
        return _record(result, campaign=campaign, data=data, actor=actor, request=request)


def task_list_import_upload(
    *, campaign: Campaign, upload: File, actor: User | None, dry_run: bool, request: HttpRequest | None = None
) -> TaskListImportResult:
    """Read an upload — refusing it unread when over the size cap — and import it."""
    file_name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "未命名.xlsx"
    limit = settings.IMPORT_MAX_BYTES
    buffer = bytearray()
    if upload.size is None or upload.size <= limit:
        for chunk in upload.chunks():
            buffer += chunk
            if len(buffer) > limit:
                break
    if len(buffer) > limit or (upload.size is not None and upload.size > limit):
        result = TaskListImportResult(
            status=STATUS_FAILED,
            file_name=file_name,
            dry_run=dry_run,
            errors=file_error(ERR_TOO_LARGE.format(limit=human_size(limit))),
            summary={SUM_ERRORS: 1},
        )
        return _record(result, campaign=campaign, data=b"", actor=actor, request=request)
    return task_list_import(
        campaign=campaign,
        data=bytes(buffer),
        file_name=file_name,
        actor=actor,
        dry_run=dry_run,
        request=request,
    )


def _record(
    result: TaskListImportResult,
    *,
    campaign: Campaign,
    data: bytes,
    actor: User | None,
    request: HttpRequest | None,
) -> TaskListImportResult:
    audit_record(
        action=AuditAction.IMPORT,
        actor=actor if actor is not None and actor.is_authenticated else None,
        request=request,
        target=campaign,
        detail={
            "kind": "task_list",
            "file_name": result.file_name,
            "sha256": hashlib.sha256(data).hexdigest() if data else "",
            "dry_run": result.dry_run,
            "status": result.status,
            "errors": len(result.errors),
            "summary": result.summary,
        },
    )
    return result

"""Task-list workbooks: the blank import template and a campaign's list as the same 任务清单 sheet.

Everything typed by people is written as a literal text cell (never a formula, R10), so an
exported list can be edited in Excel and imported again unchanged.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any, cast

import openpyxl
from django.http import HttpRequest
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from branches.audit import audit_record
from branches.imports.workbooks import drop_down, text_cell, write_header
from branches.models import AuditAction, OrgKind, Role, User
from campaigns.imports import (
    COL_CODE,
    COL_DUE,
    COL_EVIDENCE,
    COL_KINDS,
    COL_METHOD,
    COL_REQUIREMENT,
    COL_ROLE,
    COL_RULE,
    COL_SECTION,
    COL_TITLE,
    SHEET_TASKS,
    TASK_COLUMNS,
)
from campaigns.models import Campaign, ChecklistItem, Frequency

SHEET_HELP = "说明"
_WIDTHS = {
    COL_SECTION: 12,
    COL_CODE: 12,
    COL_TITLE: 36,
    COL_REQUIREMENT: 40,
    COL_EVIDENCE: 30,
    COL_RULE: 36,
    COL_METHOD: 14,
    COL_DUE: 14,
    COL_KINDS: 18,
    COL_ROLE: 14,
}
HELP_NOTES: tuple[str, ...] = (
    "任务清单导入模板说明",
    "1. 第 1 行是列名，请勿修改；从第 2 行开始每行填写一项任务。带 * 的列为必填列。",
    "2. 系统先完整校验整个文件，全部无误才一次性写入；任何一处有错都不会写入，并列出错误的行号、列和原因。",
    "3. 按任务编码更新：已有的任务按本文件更新，没有的任务新增；文件中没有的任务不会被删除。重复导入同一文件不会产生变化。",
    "4. 类别：如政治建设、思想建设、组织建设；系统中没有的类别按文件中出现的顺序新建。",
    "5. 分值：0 以上的数字，最多两位小数。",
    "6. 考评方式：查阅资料、实地查看、个别访谈、测评，可多选，用“、”分隔。",
    "7. 完成时限/频次：填日期（如 2026-06-30，须在本年度内）或频次：一次、每月、每季度、每半年、每年。",
    "8. 适用组织类型：工委、机关党委、党总支、党支部、党小组，多个用“、”分隔；留空表示全部适用。",
    "9. 责任人角色：" + "、".join(str(r.label) for r in Role) + "，可留空。",
    "10. 只接受 .xlsx 格式；含宏、外部链接的工作簿不予导入。",
)


def _new_sheet() -> tuple[openpyxl.Workbook, Worksheet]:
    workbook = openpyxl.Workbook()
    ws = cast(Worksheet, workbook.active)  # a new workbook always has one sheet
    ws.title = SHEET_TASKS
    write_header(ws, TASK_COLUMNS, _WIDTHS)
    drop_down(ws, TASK_COLUMNS, COL_ROLE, [str(r.label) for r in Role])
    return workbook, ws


def _add_help(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.create_sheet(SHEET_HELP)
    sheet.column_dimensions["A"].width = 110
    for note in HELP_NOTES:
        sheet.append([note])
    sheet["A1"].font = Font(bold=True, size=14)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _save(workbook: openpyxl.Workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def task_list_template() -> bytes:
    """The blank 任务清单 sheet with its header, the role drop-down and a 说明 sheet."""
    workbook, _ = _new_sheet()
    _add_help(workbook)
    return _save(workbook)


def _due_text(item: ChecklistItem) -> str:
    if item.frequency == Frequency.ONCE:
        return item.due_date.isoformat() if item.due_date else str(Frequency.ONCE.label)
    return str(Frequency(item.frequency).label)


def _row(item: ChecklistItem) -> list[Any]:
    return [
        item.section.name,
        item.code,
        item.title,
        item.requirement,
        item.evidence_guidance,
        None,  # 分值 is written as a number below
        item.scoring_rule,
        item.check_method,
        _due_text(item),
        "、".join(str(OrgKind(k).label) for k in item.applicable_kinds if k in OrgKind.values),
        str(Role(item.responsible_role).label) if item.responsible_role in Role.values else "",
    ]


def task_list_items(campaign: Campaign) -> list[ChecklistItem]:
    """The 工委's active list (本级增加 items are not part of the 工委's workbook)."""
    return list(
        ChecklistItem.objects.filter(campaign=campaign, owner__isnull=True, is_active=True)
        .select_related("section")
        .order_by("section__sort_order", "section_id", "sort_order", "code")
    )


def task_list_workbook(campaign: Campaign) -> bytes:
    workbook, ws = _new_sheet()
    points_column = TASK_COLUMNS.index("分值*") + 1
    for row_number, item in enumerate(task_list_items(campaign), start=2):
        for column, value in enumerate(_row(item), start=1):
            if column == points_column:
                ws.cell(row=row_number, column=column, value=float(item.points))
            else:
                text_cell(ws, row_number, column, value)
    _add_help(workbook)
    return _save(workbook)


def task_list_export(*, campaign: Campaign, actor: User | None, request: HttpRequest | None = None) -> bytes:
    """The campaign's list as the import sheet, with an EXPORT audit event."""
    data = task_list_workbook(campaign)
    audit_record(
        action=AuditAction.EXPORT,
        actor=actor,
        request=request,
        target=campaign,
        detail={"kind": "task_list", "year": campaign.year},
    )
    return data

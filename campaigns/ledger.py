"""整改台账 (domain.md §12): the rectification ledger of a subtree as an .xlsx workbook.

Written with openpyxl's write-only mode; every user text is a string cell that can never become
a formula (R10), dates are real dates. The query count does not depend on the number of rows.
"""

from __future__ import annotations

import io
from typing import Any

from django.db.models import Prefetch
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from branches.imports.workbooks import text_stream_cell
from branches.models import OrgUnit, subtree_q
from campaigns.models import Campaign, Evidence, Rectification

SHEET = "整改台账"
COLUMNS = (
    "序号",
    "党组织",
    "问题来源",
    "问题描述",
    "整改措施",
    "责任人",
    "责任领导",
    "整改时限",
    "进展",
    "销号日期",
    "佐证",
)
WIDTHS = (6, 30, 12, 40, 40, 10, 10, 12, 40, 12, 30)
DATE_FORMAT = "yyyy-mm-dd"


def ledger_rows(*, campaign: Campaign, unit: OrgUnit) -> list[Rectification]:
    """The unit's whole subtree, ordered by organisation path then deadline (no deadline last)."""
    evidence = Evidence.objects.select_related("current").order_by("pk")
    return list(
        Rectification.objects.filter(subtree_q(unit.path, "org__path"), campaign=campaign)
        .select_related("org", "finding")
        .prefetch_related(Prefetch("evidence", queryset=evidence))
        .order_by("org__path", "deadline", "pk")
    )


def _date(ws: WriteOnlyWorksheet, value: Any) -> Cell:
    if value is None:
        return text_stream_cell(ws, "")
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = DATE_FORMAT
    return cell


def _evidence_names(rect: Rectification) -> str:
    return "；".join(e.current.original_name if e.current else e.title for e in rect.evidence.all())


def rectification_ledger_workbook(*, campaign: Campaign, unit: OrgUnit) -> bytes:
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(SHEET)
    for index, width in enumerate(WIDTHS):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    ws.append([text_stream_cell(ws, title) for title in COLUMNS])
    for number, rect in enumerate(ledger_rows(campaign=campaign, unit=unit), start=1):
        finding = rect.finding
        ws.append(
            [
                number,
                text_stream_cell(ws, rect.org.name),
                text_stream_cell(ws, finding.get_source_display()),
                text_stream_cell(ws, finding.description),
                text_stream_cell(ws, rect.measures),
                text_stream_cell(ws, rect.responsible_name),
                text_stream_cell(ws, rect.leader_name),
                _date(ws, rect.deadline),
                text_stream_cell(ws, rect.progress or rect.get_status_display()),
                _date(ws, rect.closed_on),
                text_stream_cell(ws, _evidence_names(rect)),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

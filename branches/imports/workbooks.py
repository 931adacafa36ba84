"""The workbooks we hand out: the blank import template and the error list.

Both use the column names from `messages`, the same ones the reader matches, so the
template an administrator downloads is the format the import accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO
from typing import Any, cast

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from branches.imports.messages import (
    _HEADER_MARKS,
    CATEGORY_BY_LABEL,
    COL_AGENCY,
    COL_CODE,
    COL_ESTABLISHED,
    COL_KIND,
    COL_MEMBER_ACCOUNT,
    COL_MEMBER_CATEGORY,
    COL_MEMBER_JOINED,
    COL_MEMBER_ORG,
    COL_NAME,
    COL_PARENT,
    COL_PHONE,
    COL_SECRETARY_ACCOUNT,
    COL_STATUS,
    COL_TERM_ENDS,
    COLUMN_HELP,
    ERROR_COLUMNS,
    HELP_NOTES,
    KIND_BY_LABEL,
    MEMBER_COLUMN_HELP,
    MEMBER_COLUMNS,
    ORG_COLUMNS,
    REQUIRED_MARK,
    SHEET_ERRORS,
    SHEET_HELP,
    SHEET_MEMBERS,
    SHEET_ORGS,
    STATUS_ACTIVE,
    STATUS_REVOKED,
    RowError,
    column_names,
)

_HEADER_FILL = PatternFill("solid", fgColor="F2DCDB")
_HEADER_FONT = Font(bold=True)
_REQUIRED_FONT = Font(bold=True, color="C00000")
_TEMPLATE_ROWS = 5000  # how far the drop-downs reach
_TEXT_FORMAT = "@"
_DATE_FORMAT = "yyyy-mm-dd"


def write_header(ws: Any, columns: tuple[str, ...], widths: dict[str, int]) -> None:
    for position, header in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=position, value=header)
        cell.font = _REQUIRED_FONT if header.endswith(REQUIRED_MARK) else _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(position)].width = widths.get(header.rstrip(_HEADER_MARKS), 14)
    ws.freeze_panes = "A2"


def _column_letter(columns: tuple[str, ...], name: str) -> str:
    return get_column_letter(column_names(columns).index(name) + 1)


def drop_down(ws: Any, columns: tuple[str, ...], name: str, choices: Iterable[str]) -> None:
    letter = _column_letter(columns, name)
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(choices) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="输入有误",
        error=f"请从下拉列表中选择{name}。",
    )
    validation.add(f"{letter}2:{letter}{_TEMPLATE_ROWS + 1}")
    ws.add_data_validation(validation)


def _format_columns(ws: Any, columns: tuple[str, ...], names: Iterable[str], number_format: str) -> None:
    # Column-level formats apply to what the administrator types later, e.g. codes keep leading zeros.
    for name in names:
        ws.column_dimensions[_column_letter(columns, name)].number_format = number_format


def template_workbook() -> bytes:
    """The blank import template: both sheets, marked required columns, drop-downs and a 说明 sheet."""
    workbook = openpyxl.Workbook()
    orgs = cast(Worksheet, workbook.active)  # a new workbook always has one sheet
    orgs.title = SHEET_ORGS
    write_header(
        orgs,
        ORG_COLUMNS,
        {COL_NAME: 36, COL_PARENT: 16, COL_AGENCY: 28, COL_SECRETARY_ACCOUNT: 16, COL_PHONE: 16},
    )
    drop_down(orgs, ORG_COLUMNS, COL_KIND, KIND_BY_LABEL)
    drop_down(orgs, ORG_COLUMNS, COL_STATUS, (STATUS_ACTIVE, STATUS_REVOKED))
    _format_columns(orgs, ORG_COLUMNS, (COL_CODE, COL_PARENT, COL_SECRETARY_ACCOUNT, COL_PHONE), _TEXT_FORMAT)
    _format_columns(orgs, ORG_COLUMNS, (COL_ESTABLISHED, COL_TERM_ENDS), _DATE_FORMAT)

    members = workbook.create_sheet(SHEET_MEMBERS)
    write_header(members, MEMBER_COLUMNS, {COL_MEMBER_ORG: 16, COL_MEMBER_ACCOUNT: 16})
    drop_down(members, MEMBER_COLUMNS, COL_MEMBER_CATEGORY, CATEGORY_BY_LABEL)
    _format_columns(members, MEMBER_COLUMNS, (COL_MEMBER_ORG, COL_MEMBER_ACCOUNT), _TEXT_FORMAT)
    _format_columns(members, MEMBER_COLUMNS, (COL_MEMBER_JOINED,), _DATE_FORMAT)

    help_sheet = workbook.create_sheet(SHEET_HELP)
    help_sheet.column_dimensions["A"].width = 10
    help_sheet.column_dimensions["B"].width = 16
    help_sheet.column_dimensions["C"].width = 8
    help_sheet.column_dimensions["D"].width = 100
    help_sheet.append(["组织导入模板说明"])
    help_sheet["A1"].font = Font(bold=True, size=14)
    for note in HELP_NOTES:
        help_sheet.append([note])
    help_sheet.append([])
    help_sheet.append(["工作表", "列名", "必填", "填写说明"])
    for cell in help_sheet[help_sheet.max_row]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    for header in ORG_COLUMNS:
        name = header.rstrip(_HEADER_MARKS)
        help_sheet.append(
            [SHEET_ORGS, name, "是" if header.endswith(REQUIRED_MARK) else "", COLUMN_HELP[name][1]]
        )
    for header in MEMBER_COLUMNS:
        name = header.rstrip(_HEADER_MARKS)
        help_sheet.append(
            [SHEET_MEMBERS, name, "是" if header.endswith(REQUIRED_MARK) else "", MEMBER_COLUMN_HELP[name]]
        )
    for row in help_sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.active = 0
    return _save(workbook)


# Leading characters that make spreadsheet programs treat typed text as a formula (OWASP CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def text_cell(ws: Any, row: int, column: int, value: object) -> None:
    """Write `value` as a literal string: openpyxl would turn "=…" into a formula and "#N/A" into an error."""
    text = "" if value is None else str(value)
    cell = ws.cell(row=row, column=column)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(_FORMULA_PREFIXES):
        # quotePrefix keeps it text even after someone edits the cell in Excel.
        cell.quotePrefix = True


def text_stream_cell(ws: Any, value: object) -> Cell:
    """The same rule as text_cell for a write-only (streamed) worksheet row."""
    text = "" if value is None else str(value)
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    if text.startswith(_FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def errors_workbook(errors: list[RowError] | list[dict[str, Any]]) -> bytes:
    """The error list as a workbook (sheet 错误清单); every cell is text, never a formula."""
    workbook = openpyxl.Workbook()
    ws = cast(Worksheet, workbook.active)  # a new workbook always has one sheet
    ws.title = SHEET_ERRORS
    write_header(ws, ERROR_COLUMNS, {"工作表": 10, "行号": 8, "列": 16, "错误原因": 80})
    for row, error in enumerate(errors, start=2):
        values = (error.get("sheet"), error.get("row") or "", error.get("column"), error.get("message"))
        for column, value in enumerate(values, start=1):
            text_cell(ws, row, column, value)
    return _save(workbook)


def _save(workbook: openpyxl.Workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

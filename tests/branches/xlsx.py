"""Build organisation-import workbooks in memory for tests and benchmarks.

The header rows are spelled out here from domain.md §12 rather than imported from
`branches.imports`, so a wrong header in the product fails the tests.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook

ORG_HEADER: list[str] = [
    "组织编码*",
    "组织名称*",
    "组织类型*",
    "上级组织编码*",
    "所在单位",
    "书记姓名",
    "书记账号",
    "联系电话",
    "成立日期",
    "届满日期",
    "排序",
    "状态",
]
MEMBER_HEADER: list[str] = ["姓名*", "所在组织编码*", "党员类别*", "入党日期", "账号"]

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """A workbook with one sheet per key; each value is the rows, header row included.

    Write-only mode keeps a 5,000-row workbook fast to build.
    """
    workbook = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def org_workbook_bytes(org_rows: list[list], member_rows: list[list] | None = None) -> bytes:
    """The import workbook of §12: sheet 组织 (and 党员 when member rows are given) under the exact headers."""
    sheets: dict[str, list[list[Any]]] = {"组织": [ORG_HEADER, *org_rows]}
    if member_rows is not None:
        sheets["党员"] = [MEMBER_HEADER, *member_rows]
    return workbook_bytes(sheets)


def org_row(
    code: Any,
    name: str,
    kind: str,
    parent: Any = "",
    *,
    agency: str = "",
    secretary_name: str = "",
    secretary_account: str = "",
    phone: str = "",
    established: date | str | None = None,
    term_ends: date | str | None = None,
    sort: Any = None,
    status: str = "",
) -> list[Any]:
    """One 组织 row in header order; keyword names follow the Chinese columns."""
    return [
        code,
        name,
        kind,
        parent,
        agency,
        secretary_name,
        secretary_account,
        phone,
        established,
        term_ends,
        sort,
        status,
    ]


def member_row(
    name: str, org_code: Any, category: str = "正式党员", joined: date | str | None = None, account: str = ""
) -> list[Any]:
    """One 党员 row in header order."""
    return [name, org_code, category, joined, account]


def rewrite_zip(
    data: bytes,
    *,
    replace: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
    drop: Sequence[str] = (),
) -> bytes:
    """Copy an .xlsx package, swapping, adding or removing parts (to craft hostile files)."""
    replace = replace or {}
    source = zipfile.ZipFile(BytesIO(data))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return buffer.getvalue()


def zip_part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(BytesIO(data)).read(name)

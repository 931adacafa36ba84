"""Reading the 组织 and 党员 sheets, and parsing the values in their cells.

Administrators fill the template in by hand, so headers are matched by name in any
order, and cells come back as whatever Excel stored (numbers in text columns, real
dates or dates typed as text); the helpers here turn them into text, dates and integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from branches.imports.messages import (
    _HEADER_MARKS,
    ERR_DUPLICATE_COLUMN,
    ERR_MISSING_COLUMN,
    _Errors,
    _required,
    column_names,
)

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
_INT_RE = re.compile(r"^[+-]?\d+$")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1  # IntegerField range on every backend
# --- 2. reading the sheets -------------------------------------------------------------


def _header_name(value: object) -> str:
    return "" if value is None else str(value).strip().rstrip(_HEADER_MARKS).strip()


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class _Sheet:
    """The rows of one sheet as {column name: raw cell value}, with their Excel row numbers."""

    columns: set[str]
    rows: list[tuple[int, dict[str, object]]]


def read_sheet(
    ws: Any, *, sheet: str, columns: tuple[str, ...], errors: _Errors, optional: bool = False
) -> _Sheet | None:
    """Match the header row by name (any order, `*` optional) and return the non-empty rows."""
    # Some writers record a wrong <dimension>; without resetting it read-only mode
    # would silently stop at the recorded last row.
    ws.reset_dimensions()
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    index: dict[str, int] = {}
    duplicate = False
    for position, value in enumerate(header):
        name = _header_name(value)
        if not name:
            continue
        if name in index:
            errors.add(sheet, 1, name, ERR_DUPLICATE_COLUMN.format(column=name))
            duplicate = True
        else:
            index[name] = position
    if optional and not index:
        return None  # an optional sheet left completely empty is simply not used
    missing = [c for c in _required(columns) if c not in index]
    for column in missing:
        errors.add(sheet, 1, column, ERR_MISSING_COLUMN.format(column=column))
    if missing or duplicate:
        return None
    positions = [(name, index[name]) for name in column_names(columns) if name in index]
    data: list[tuple[int, dict[str, object]]] = []
    for row_number, values in enumerate(rows, start=2):
        cells = {name: values[i] if i < len(values) else None for name, i in positions}
        if all(_is_blank(v) for v in cells.values()):
            continue
        data.append((row_number, cells))
    return _Sheet(columns={name for name, _ in positions}, rows=data)


def find_sheet(workbook: Any, name: str) -> Any | None:
    for title in workbook.sheetnames:
        if title.strip() == name:
            return workbook[title]
    return None


# --- 3. cell values ----------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as trimmed text; numbers typed into text columns (1001 → 1001.0) come back as "1001"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def cell_date(value: object) -> date | None:
    """Real Excel dates, or text in the three spellings administrators actually use."""
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for pattern in _DATE_PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                return date(*(int(part) for part in match.groups()))  # ValueError for 2024-02-30
    # Bare numbers are refused: an unformatted serial number is more often a typo than a date.
    raise ValueError(value)


def _integer(value: object) -> int:
    if _is_blank(value):
        return 0
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INT_RE.match(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError(value)
    if not _INT_MIN <= number <= _INT_MAX:
        raise ValueError(value)
    return number

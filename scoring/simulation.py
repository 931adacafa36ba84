"""评星模拟测算 (domain.md §9 what-if): any scheme over the current data or an uploaded 汇总表.

Nothing here writes to the database: a simulation rates plain ``OrgInputs`` with the pure engine
(``scoring.rules.rate``, strict, no tie decisions, so every tie at a quota boundary is reported)
and hands back the result, or writes it as a workbook in the §12 ``汇总表`` layout. That layout is
also what ``read_scores`` accepts, so last year's exported 汇总表 can be fed back in; the column
mapping is documented in the README section “评星模拟测算：汇总表格式”.

The uploaded package is vetted by the organisation import's checks (``package_errors``: real
.xlsx zip, no macros, links, DTDs or zip bombs, size cap) and read with the same sheet helpers;
every row is validated before anything is rated, and the errors name sheet, row and column.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from io import BytesIO
from pathlib import Path
from typing import IO, Any, cast

import openpyxl
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from branches.imports import error_line
from branches.imports.messages import (
    ERR_REQUIRED,
    ERR_TOO_LARGE,
    ERR_UNREADABLE,
    SHEET_FILE,
    RowError,
    _Errors,
    file_error,
    human_size,
)
from branches.imports.package import package_errors
from branches.imports.reading import _header_name, cell_text, find_sheet, read_sheet
from branches.imports.workbooks import text_stream_cell
from branches.models import Member, OrgUnit, Role, RoleGrant
from campaigns.models import ChecklistEntry, EntryStatus
from scoring.inputs import gather_inputs
from scoring.models import RatingRound
from scoring.rules import (
    DEDUCTION_LABELS,
    QUOTA_LABELS,
    QUOTA_NEEDS_DECISION,
    SOURCE_LABELS,
    BonusClaim,
    ExplanationLine,
    OrgId,
    OrgInputs,
    RatingResult,
    rate,
)
from scoring.schemes import Scheme, SchemeError, scheme_from_dict

# --- the 汇总表 layout (domain.md §12) -----------------------------------------------------------

SHEET_SUMMARY = "汇总表"
SHEET_HELP = "说明"
SHEET_DISTRIBUTION = "名额分布"
SHEET_TIES = "待决并列"
SHEET_EXPLANATION = "评定说明"

COL_NUMBER = "序号"
COL_PARENT = "上级党组织"
COL_NAME = "党组织名称"
COL_SECRETARY = "书记"
COL_MEMBERS = "党员数"
COL_SELF = "自评得分"
COL_FIRST = "初审得分"
COL_REVIEW = "审核得分"
COL_GOOD_RATE = "评议得分"
COL_BONUS = "加分"
COL_DEDUCTIONS = "扣分"
COL_TOTAL = "综合得分"
COL_VETOES = "否决情形"
COL_LAST_YEAR = "上年星级"
COL_PROPOSED = "拟定星级"
COL_FINAL = "最终星级"
COL_PUBLICITY = "公示起止"
COL_REMARK = "备注"
SUMMARY_COLUMNS: tuple[str, ...] = (
    COL_NUMBER,
    COL_PARENT,
    COL_NAME,
    COL_SECRETARY,
    COL_MEMBERS,
    COL_SELF,
    COL_FIRST,
    COL_REVIEW,
    COL_GOOD_RATE,
    COL_BONUS,
    COL_DEDUCTIONS,
    COL_TOTAL,
    COL_VETOES,
    COL_LAST_YEAR,
    COL_PROPOSED,
    COL_FINAL,
    COL_PUBLICITY,
    COL_REMARK,
)
# Optional extra columns, after the §12 ones; written only when some organisation needs them.
COL_CODE = "组织编码"
COL_BONUS_KIND = "加分类别"
COL_SATISFACTION = "满意度"
COL_CONDITIONS = "前置条件"
COL_HONOURS = "荣誉"
COL_STARS = "命名星"
COL_NEW = "新组建"
EXTRA_COLUMNS: tuple[str, ...] = (
    COL_CODE,
    COL_BONUS_KIND,
    COL_SATISFACTION,
    COL_CONDITIONS,
    COL_HONOURS,
    COL_STARS,
    COL_NEW,
)
# The reader's column list: 党组织名称 is the only required one (read_sheet's trailing "*").
READ_COLUMNS: tuple[str, ...] = tuple(
    f"{c}*" if c == COL_NAME else c for c in (*SUMMARY_COLUMNS, *EXTRA_COLUMNS)
)
COLUMN_RANK = {c: i for i, c in enumerate((*SUMMARY_COLUMNS, *EXTRA_COLUMNS))}

HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common in hand-made tables
SCHEME_FILE_MAX_BYTES = 1024 * 1024
YES, NO = "是", "否"
NONE_WORDS = frozenset({"无", "—", "-", "／", "/"})
_LIST_SEPARATORS = re.compile(r"[、，,；;\n]")
_PAIR = re.compile(r"^(.+?)\s*[:：]\s*([^:：]+)$")
_LEVEL = re.compile(r"^([0-9一二三四五六七八九])(?:星级|星)?$")
_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
PERCENT_FORMAT = "0.00%"
NUMBER_FORMAT = "0.00"

ERR_NO_SHEET = "缺少工作表“汇总表”。"
ERR_NO_HEADER = "前 {n} 行中找不到列名“党组织名称”，请保留汇总表的列名行。"
ERR_NO_DATA = "汇总表中没有数据行。"
ERR_DUPLICATE_NAME = "党组织名称“{name}”与第 {row} 行重复。"
ERR_DUPLICATE_CODE = "组织编码“{code}”与第 {row} 行重复。"
ERR_DUPLICATE_ID = "“{key}”与第 {row} 行的组织编码或党组织名称相同，无法区分。"
ERR_NUMBER = "不是数字。"
ERR_NEGATIVE = "不能小于 0。"
ERR_PERCENT = "应为 0–100 的百分数（如 98、98% 或 0.98）。"
ERR_LEVEL = "无法识别的星级“{text}”：可填 五星级、5、5星、四星、未定级、无星 或留空。"
ERR_VETO = "否决情形“{text}”不在方案中，可填：{choices}。"
ERR_BONUS_KIND = "加分类别“{text}”不在方案加分项中，可填：{choices}。"
ERR_BONUS_PAIR = "填写多个加分类别时须写明各自分值，如“荣誉表彰：3、特色品牌：2”。"
ERR_BONUS_SUM = "各加分类别分值合计 {parts} 与加分 {total} 不一致。"
ERR_CONDITION = "前置条件“{text}”不在方案中，可填：{choices}。"
ERR_STAR = "命名星“{text}”不在方案中，可填：{choices}。"
ERR_YES_NO = "只能填“是”或“否”（留空为否）。"
NO_CHOICES = "（方案中没有）"
WARN_NO_BONUS_ITEMS = "方案没有加分项：汇总表中的“加分”不计入总分（涉及 {n} 个组织）。"
WARN_NO_SCORE = "{n} 个组织未填写审核得分、初审得分或自评得分，按 0 分计：{names}。"
SIMULATION_LABEL = "模拟结果，不影响正式评定"

ROUNDING_LABELS = {"floor": "向下取整", "ceil": "向上取整", "round": "四舍五入"}
EFFECT_LABELS = {"no_rating": "不予评定", "cap_at_level": "最高 {level}", "demote": "降 {n} 档"}


class ScoresError(ValueError):
    """An uploaded 汇总表 that cannot be simulated; ``errors`` name sheet, row, column and reason."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("；".join(self.lines))

    @property
    def lines(self) -> list[str]:
        return [error_line(e) for e in self.errors]


@dataclass(frozen=True)
class RowDetails:
    """What a 汇总表 row says besides the engine's inputs, carried through to the result workbook."""

    row: int | None = None
    code: str = ""
    parent: str = ""
    secretary: str = ""
    members: int | str | None = None
    self_score: Decimal | None = None
    first_score: Decimal | None = None
    review_score: Decimal | None = None


class ScoreTable(list[OrgInputs]):
    """The organisations' inputs, plus per-organisation row details, warnings and where they came from."""

    def __init__(
        self,
        inputs: Iterable[OrgInputs] = (),
        *,
        details: dict[OrgId, RowDetails] | None = None,
        warnings: Iterable[str] = (),
        source: str = "",
    ) -> None:
        super().__init__(inputs)
        self.details: dict[OrgId, RowDetails] = details or {}
        self.warnings: list[str] = list(warnings)
        self.source = source


# --- reading a 汇总表 -------------------------------------------------------------------------------


# bytes, a path, a binary file or a Django upload (read in chunks).
UploadLike = Any


def _load(file: UploadLike, file_name: str | None) -> tuple[bytes, str]:
    """The file's bytes and name, refusing it unread when its declared size is over the cap."""
    limit = settings.IMPORT_MAX_BYTES
    too_large = ScoresError(file_error(ERR_TOO_LARGE.format(limit=human_size(limit))))
    if isinstance(file, bytes):
        return file, file_name or "汇总表.xlsx"
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if path.stat().st_size > limit:
            raise too_large
        return path.read_bytes(), file_name or path.name
    name = file_name or os.path.basename(str(getattr(file, "name", "") or "").replace("\\", "/"))
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise too_large
    buffer = bytearray()
    chunks: Iterator[bytes] = (
        file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b"")
    )
    for chunk in chunks:
        buffer += chunk
        if len(buffer) > limit:  # the declared size can lie
            raise too_large
    return bytes(buffer), name or "汇总表.xlsx"


class _FromHeader:
    """A read-only worksheet seen from its header row, so ``read_sheet`` finds the header first."""

    def __init__(self, ws: Any, header_row: int) -> None:
        self.ws = ws
        self.header_row = header_row

    def reset_dimensions(self) -> None:
        self.ws.reset_dimensions()

    def iter_rows(self, values_only: bool = True) -> Iterator[tuple[object, ...]]:
        return self.ws.iter_rows(min_row=self.header_row, values_only=values_only)  # type: ignore[no-any-return]


def _header_row(ws: Any) -> int | None:
    ws.reset_dimensions()
    for number, values in enumerate(ws.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1):
        if any(_header_name(v) == COL_NAME for v in values):
            return number
    return None


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        try:
            number = Decimal(cell_text(value))
        except InvalidOperation:
            raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return number


def _percent(value: object) -> Decimal:
    """A share 0..1 from 98, "98%" or 0.98 (a number ≤ 1 is a fraction, as Excel stores a % cell)."""
    text = cell_text(value)
    if text.endswith(("%", "％")):
        share = _decimal(text[:-1].strip()) / 100
    else:
        number = _decimal(value)
        share = number if number <= 1 else number / 100
    if not Decimal(0) <= share <= Decimal(1):
        raise ValueError(value)
    return share.normalize()


def _pieces(text: str) -> list[str]:
    return [p.strip() for p in _LIST_SEPARATORS.split(text) if p.strip() and p.strip() not in NONE_WORDS]


def _choices(values: Iterable[str]) -> str:
    listed = "、".join(dict.fromkeys(values))
    return listed or NO_CHOICES


def parse_level(scheme: Scheme, value: object) -> int | None:
    """上年星级: 五星级 / 5 / 5星 / 四星 / a band label → level; 无星 → 0; 未定级, 无 or empty → None."""
    text = cell_text(value).replace(" ", "")
    if not text or text in NONE_WORDS or text == "未定级":
        return None
    if text in ("无星", "无星级"):
        return 0
    for band in scheme.bands:
        if text == band.label:
            return band.level
    match = _LEVEL.fullmatch(text)
    if match is None:
        raise ValueError(value)
    digit = match.group(1)
    return int(digit) if digit.isdigit() else _CN_DIGITS[digit]


@dataclass
class _Row:
    """One data row while it is being checked."""

    number: int
    cells: dict[str, object]
    errors: _Errors
    text: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.text = {name: cell_text(value) for name, value in self.cells.items()}

    def fail(self, column: str, message: str) -> None:
        self.errors.add(SHEET_SUMMARY, self.number, column, message)

    def number_in(self, column: str, *, minimum: Decimal | None = None) -> Decimal | None:
        if not self.text.get(column):
            return None
        try:
            number = _decimal(self.cells[column])
        except ValueError:
            self.fail(column, ERR_NUMBER)
            return None
        if minimum is not None and number < minimum:
            self.fail(column, ERR_NEGATIVE)
            return None
        return number

    def share_in(self, column: str) -> Decimal | None:
        if not self.text.get(column):
            return None
        try:
            return _percent(self.cells[column])
        except (ValueError, InvalidOperation):
            self.fail(column, ERR_PERCENT)
            return None

    def keys_in(
        self, column: str, known: dict[str, str], message: str, choices: Iterable[str]
    ) -> frozenset[str]:
        """Listed names matched to scheme keys (by key or by its description/label)."""
        found: set[str] = set()
        for piece in _pieces(self.text.get(column, "")):
            if piece in known:
                found.add(known[piece])
            else:
                self.fail(column, message.format(text=piece, choices=_choices(choices)))
        return frozenset(found)


def _bonus_claims(row: _Row, scheme: Scheme, total: Decimal | None) -> tuple[BonusClaim, ...]:
    """加分 (one total) and 加分类别 (one kind, or "kind：points、…") → bonus claims."""
    kinds = [item.kind for item in scheme.score.bonus.items]
    pieces = _pieces(row.text.get(COL_BONUS_KIND, ""))
    parts: list[tuple[str, Decimal]] = []
    plain: list[str] = []
    for piece in pieces:
        match = _PAIR.fullmatch(piece)
        if match is None:
            plain.append(piece)
            continue
        try:
            points = _decimal(match.group(2))
        except ValueError:
            row.fail(COL_BONUS_KIND, ERR_BONUS_PAIR)
            return ()
        if points < 0:
            row.fail(COL_BONUS_KIND, ERR_BONUS_PAIR)
            return ()
        parts.append((match.group(1).strip(), points))
    if (parts and plain) or len(plain) > 1:
        row.fail(COL_BONUS_KIND, ERR_BONUS_PAIR)
        return ()
    named = [kind for kind, _ in parts] + plain
    unknown = [kind for kind in named if kind not in kinds]
    for kind in unknown:
        row.fail(COL_BONUS_KIND, ERR_BONUS_KIND.format(text=kind, choices=_choices(kinds)))
    if unknown:
        return ()
    if parts:
        listed = sum((points for _, points in parts), Decimal(0))
        if total is not None and listed != total:
            row.fail(COL_BONUS_KIND, ERR_BONUS_SUM.format(parts=_fmt(listed), total=_fmt(total)))
            return ()
        return tuple(BonusClaim(kind, points, SHEET_SUMMARY) for kind, points in parts if points)
    if not total:
        return ()
    kind = plain[0] if plain else (kinds[0] if kinds else COL_BONUS)
    return (BonusClaim(kind, total, SHEET_SUMMARY),)


def _parse_row(scheme: Scheme, row: _Row) -> tuple[OrgInputs, RowDetails]:
    name = row.text.get(COL_NAME, "")
    if not name:
        row.fail(COL_NAME, ERR_REQUIRED)
    code = row.text.get(COL_CODE, "")
    parent = row.text.get(COL_PARENT, "")
    scores = {c: row.number_in(c) for c in (COL_REVIEW, COL_FIRST, COL_SELF)}
    checklist = next((v for v in scores.values() if v is not None), Decimal(0))
    bonus_total = row.number_in(COL_BONUS, minimum=Decimal(0))
    deductions = row.number_in(COL_DEDUCTIONS, minimum=Decimal(0))
    last_year: int | None = None
    if row.text.get(COL_LAST_YEAR):
        try:
            last_year = parse_level(scheme, row.cells[COL_LAST_YEAR])
        except ValueError:
            row.fail(COL_LAST_YEAR, ERR_LEVEL.format(text=row.text[COL_LAST_YEAR]))
    vetoes = {v.key: v.key for v in scheme.vetoes} | {v.description: v.key for v in scheme.vetoes}
    conditions = sorted({c for p in scheme.prerequisites for c in p.conditions})
    stars = {s.key: s.key for s in scheme.named_stars} | {s.label: s.key for s in scheme.named_stars}
    new_text = row.text.get(COL_NEW, "")
    if new_text not in ("", YES, NO):
        row.fail(COL_NEW, ERR_YES_NO)
    members = row.cells.get(COL_MEMBERS)
    if not isinstance(members, int) or isinstance(members, bool):
        members = row.text.get(COL_MEMBERS) or None
    inputs = OrgInputs(
        org_id=code or name,
        name=name,
        parent_id=parent or None,
        checklist_points=checklist,
        other_deductions=deductions or Decimal(0),
        good_rate=row.share_in(COL_GOOD_RATE),
        satisfaction=row.share_in(COL_SATISFACTION),
        bonus_items=_bonus_claims(row, scheme, bonus_total),
        veto_conditions=row.keys_in(COL_VETOES, vetoes, ERR_VETO, (v.description for v in scheme.vetoes)),
        prerequisites_met=row.keys_in(COL_CONDITIONS, {c: c for c in conditions}, ERR_CONDITION, conditions),
        last_year_level=last_year,
        is_new=new_text == YES,
        honours=frozenset(_pieces(row.text.get(COL_HONOURS, ""))),
        stars_earned=row.keys_in(COL_STARS, stars, ERR_STAR, (s.label for s in scheme.named_stars)),
    )
    details = RowDetails(
        row=row.number,
        code=code,
        parent=parent,
        secretary=row.text.get(COL_SECRETARY, ""),
        members=members,
        self_score=scores[COL_SELF],
        first_score=scores[COL_FIRST],
        review_score=scores[COL_REVIEW],
    )
    return inputs, details


def _check_unique(rows: list[tuple[OrgInputs, RowDetails]], errors: _Errors) -> None:
    """Names and codes are unique, and so are the ids (a code may not be another row's name)."""
    names: dict[str, int] = {}
    codes: dict[str, int] = {}
    ids: dict[OrgId, int] = {}
    for org, details in rows:
        row = details.row or 0
        if org.name in names:
            message = ERR_DUPLICATE_NAME.format(name=org.name, row=names[org.name])
            errors.add(SHEET_SUMMARY, row, COL_NAME, message)
        elif details.code in codes:
            message = ERR_DUPLICATE_CODE.format(code=details.code, row=codes[details.code])
            errors.add(SHEET_SUMMARY, row, COL_CODE, message)
        elif org.org_id in ids:
            column = COL_CODE if details.code else COL_NAME
            errors.add(
                SHEET_SUMMARY, row, column, ERR_DUPLICATE_ID.format(key=org.org_id, row=ids[org.org_id])
            )
        if org.name:
            names.setdefault(org.name, row)
        if details.code:
            codes.setdefault(details.code, row)
        if org.org_id:
            ids.setdefault(org.org_id, row)


def _sorted_errors(errors: _Errors) -> list[RowError]:
    return sorted(
        errors.items,
        key=lambda e: (e["sheet"] != SHEET_FILE, e["row"] or 0, COLUMN_RANK.get(e["column"], 99)),
    )


def _read_cells(data: bytes) -> list[tuple[int, dict[str, object]]]:
    errors = _Errors()
    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl reports malformed parts with whatever exception its parser raised.
        raise ScoresError(file_error(ERR_UNREADABLE)) from None
    try:
        ws = find_sheet(workbook, SHEET_SUMMARY)
        if ws is None:
            raise ScoresError([RowError(sheet=SHEET_SUMMARY, row=None, column="", message=ERR_NO_SHEET)])
        header = _header_row(ws)
        if header is None:
            message = ERR_NO_HEADER.format(n=HEADER_SEARCH_ROWS)
            raise ScoresError([RowError(sheet=SHEET_SUMMARY, row=None, column=COL_NAME, message=message)])
        local = _Errors()
        sheet = read_sheet(_FromHeader(ws, header), sheet=SHEET_SUMMARY, columns=READ_COLUMNS, errors=local)
    except ScoresError:
        raise
    except Exception:
        raise ScoresError(file_error(ERR_UNREADABLE)) from None
    finally:
        workbook.close()
    shift = header - 1
    for e in local.items:
        errors.add(e["sheet"], (e["row"] or 1) + shift, e["column"], e["message"])
    if errors or sheet is None:
        raise ScoresError(_sorted_errors(errors))
    if not sheet.rows:
        raise ScoresError([RowError(sheet=SHEET_SUMMARY, row=None, column="", message=ERR_NO_DATA)])
    return [(number + shift, cells) for number, cells in sheet.rows]


def read_scores(file: UploadLike, scheme: Scheme, *, file_name: str | None = None) -> ScoreTable:
    """Read and validate a 汇总表 workbook into the engine's inputs, or raise ``ScoresError`` with every problem.

    ``file`` is bytes, a path or an uploaded/binary file. The whole table is checked first; the
    scheme is needed to match 否决情形, 加分类别, 前置条件 and 命名星 to its keys.
    """
    data, name = _load(file, file_name)
    refusals = package_errors(data=data, file_name=name)
    if refusals:
        raise ScoresError(refusals)
    errors = _Errors()
    rows = [_parse_row(scheme, _Row(number, cells, errors)) for number, cells in _read_cells(data)]
    _check_unique(rows, errors)
    if errors:
        raise ScoresError(_sorted_errors(errors))
    warnings: list[str] = []
    if not scheme.score.bonus.items:
        with_bonus = sum(1 for org, _ in rows if org.bonus_items)
        if with_bonus:
            warnings.append(WARN_NO_BONUS_ITEMS.format(n=with_bonus))
    unscored = [
        org.name
        for org, d in rows
        if d.review_score is None and d.first_score is None and d.self_score is None
    ]
    if unscored and scheme.mode != "named_stars":
        warnings.append(WARN_NO_SCORE.format(n=len(unscored), names="、".join(unscored)))
    return ScoreTable(
        (org for org, _ in rows),
        details={org.org_id: d for org, d in rows},
        warnings=warnings,
        source=f"上传文件：{name}",
    )


# --- current data of a round -------------------------------------------------------------------


def current_inputs(rnd: RatingRound, *, today: date | None = None) -> ScoreTable:
    """The round's organisations as they stand today (the compile's inputs), with their 汇总表 details."""
    gathered = gather_inputs(rnd, today=today or timezone.localdate())
    ids = [int(org.org_id) for org in gathered.inputs]
    orgs = {o["pk"]: o for o in OrgUnit.objects.filter(pk__in=ids).values("pk", "code", "parent__name")}
    secretaries: dict[int, str] = {}
    for grant in (
        RoleGrant.objects.filter(org_id__in=ids, role=Role.SECRETARY)
        .order_by("granted_at", "pk")
        .values("org_id", "user__full_name", "user__username")
    ):
        secretaries.setdefault(grant["org_id"], grant["user__full_name"] or grant["user__username"])
    members = dict(
        Member.objects.filter(org_id__in=ids, is_active=True)
        .values("org_id")
        .annotate(n=Count("pk"))
        .values_list("org_id", "n")
    )
    scored = Q(status__in=[EntryStatus.SUBMITTED, EntryStatus.APPROVED])
    sums = {
        r["org_id"]: r
        for r in ChecklistEntry.objects.filter(campaign_id=rnd.campaign_id, org_id__in=ids)
        .values("org_id")
        .annotate(s=Sum("self_score", filter=scored), f=Sum("first_review_score"))
    }
    details: dict[OrgId, RowDetails] = {}
    for org in gathered.inputs:
        pk = int(org.org_id)
        entry_sums = sums.get(pk, {})
        details[pk] = RowDetails(
            code=orgs[pk]["code"],
            parent=orgs[pk]["parent__name"] or "",
            secretary=secretaries.get(pk, ""),
            members=members.get(pk, 0),
            self_score=entry_sums.get("s"),
            first_score=entry_sums.get("f"),
        )
    source = f"{rnd.campaign.year}年 {rnd.title} 的当前数据（截至 {gathered.as_of.isoformat()}）"
    return ScoreTable(gathered.inputs, details=details, source=source)


# --- simulating -----------------------------------------------------------------------------------


def simulate(scheme: Scheme, inputs: Sequence[OrgInputs]) -> RatingResult:
    """Rate the inputs under the scheme with no tie decisions: every boundary tie is reported, never broken."""
    return rate(scheme, inputs, {}, strict=True)


@dataclass(frozen=True)
class OrgRow:
    number: int
    org_id: OrgId
    name: str
    parent: str
    total: Decimal
    level: int | None
    level_label: str
    quota_decision: str
    quota_label: str
    vetoes: tuple[str, ...]
    last_year_label: str
    explanation: tuple[ExplanationLine, ...]

    @property
    def needs_decision(self) -> bool:
        return self.quota_decision == QUOTA_NEEDS_DECISION


@dataclass(frozen=True)
class DistributionRow:
    scope: str
    level: int
    label: str
    count: int
    rated: int
    max_seats: int | None
    target_seats: int | None
    min_seats: int | None

    @property
    def over(self) -> bool:
        return self.max_seats is not None and self.count > self.max_seats

    @property
    def under(self) -> bool:
        return self.min_seats is not None and self.count < self.min_seats

    @property
    def off_target(self) -> bool:
        return self.target_seats is not None and self.count != self.target_seats

    @property
    def status(self) -> str:
        if self.over:
            return f"超出 {self.count - (self.max_seats or 0)} 个"
        if self.under:
            return f"不足 {(self.min_seats or 0) - self.count} 个"
        if self.off_target:
            return f"偏离目标 {self.count - (self.target_seats or 0):+d} 个"
        return "—"


@dataclass(frozen=True)
class TieRow:
    scope: str
    level: int
    label: str
    seats_left: int
    names: tuple[str, ...]
    total: Decimal | None


@dataclass(frozen=True)
class Simulation:
    """A simulated result laid out for people: the page, the command and the workbook share it."""

    scheme: Scheme
    inputs: ScoreTable
    result: RatingResult
    rows: tuple[OrgRow, ...]
    distribution: tuple[DistributionRow, ...]
    ties: tuple[TieRow, ...]
    at: datetime

    @property
    def warnings(self) -> list[str]:
        return self.inputs.warnings

    @property
    def unrated(self) -> int:
        return sum(1 for row in self.rows if row.level is None)

    @property
    def source(self) -> str:
        return self.inputs.source


def _table(inputs: Sequence[OrgInputs]) -> ScoreTable:
    return inputs if isinstance(inputs, ScoreTable) else ScoreTable(inputs)


def _parent_label(org: OrgInputs, details: RowDetails | None) -> str:
    if details is not None and details.parent:
        return details.parent
    return "" if org.parent_id is None else str(org.parent_id)


def veto_descriptions(scheme: Scheme, org: OrgInputs) -> tuple[str, ...]:
    """The organisation's veto conditions known to the scheme, by their descriptions, in scheme order."""
    return tuple(v.description for v in scheme.vetoes if v.key in org.veto_conditions)


def summarise(
    scheme: Scheme, inputs: Sequence[OrgInputs], result: RatingResult, *, at: datetime | None = None
) -> Simulation:
    table = _table(inputs)
    by_id = {org.org_id: org for org in table}
    order = {org.org_id: n for n, org in enumerate(table)}
    scopes: dict[str, str] = {"工委": "全工委"}
    for org in table:
        parent = _parent_label(org, table.details.get(org.org_id)) or "（未填上级党组织）"
        scopes[f"上级:{org.parent_id}"] = f"上级党组织：{parent}"
    rows = []
    for n, rating in enumerate(sorted(result.ratings, key=lambda r: order[r.org_id]), start=1):
        org = by_id[rating.org_id]
        rows.append(
            OrgRow(
                number=n,
                org_id=rating.org_id,
                name=rating.name,
                parent=_parent_label(org, table.details.get(org.org_id)),
                total=rating.total,
                level=rating.final_level,
                level_label=rating.final_label,
                quota_decision=rating.quota_decision,
                quota_label=QUOTA_LABELS[rating.quota_decision],
                vetoes=tuple(v.description for v in scheme.vetoes if v.key in rating.vetoes_applied),
                last_year_label=scheme.label_for(org.last_year_level),
                explanation=rating.explanation,
            )
        )
    distribution = tuple(
        DistributionRow(
            scope=scopes.get(c.scope, c.scope),
            level=c.level,
            label=c.label,
            count=c.count,
            rated=c.rated_in_scope,
            max_seats=c.max_seats,
            target_seats=c.target_seats,
            min_seats=c.min_seats,
        )
        for c in result.distribution
    )
    totals = {r.org_id: r.total for r in result.ratings}
    ties = tuple(
        TieRow(
            scope=scopes.get(t.scope, t.scope),
            level=t.level,
            label=scheme.label_for(t.level),
            seats_left=t.seats_left,
            names=tuple(by_id[i].name for i in sorted(t.org_ids, key=order.__getitem__)),
            total=totals[t.org_ids[0]] if t.org_ids else None,
        )
        for t in result.needs_decision
    )
    return Simulation(scheme, table, result, tuple(rows), distribution, ties, at or timezone.now())


def run(scheme: Scheme, inputs: Sequence[OrgInputs], *, at: datetime | None = None) -> Simulation:
    """Simulate and lay the result out (nothing is written anywhere)."""
    return summarise(scheme, inputs, simulate(scheme, inputs), at=at)


# --- describing a scheme ----------------------------------------------------------------------------


def _fmt(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = f"{value.normalize():f}"
    return text


def _share(value: Decimal) -> str:
    return f"{_fmt(value * 100)}%"


def scheme_summary(scheme: Scheme) -> list[tuple[str, str]]:
    """The scheme in a few Chinese lines (name, bands, score make-up, quotas, vetoes, prerequisites, promotion)."""
    s = scheme.score
    lines: list[tuple[str, str]] = [("方案名称", scheme.name)]
    if scheme.mode == "named_stars":
        stars = "、".join(star.label for star in scheme.named_stars)
        lines.append(("分档", f"命名星：{stars}；获得几颗即为几星"))
    else:
        bands = "；".join(f"{b.label} ≥ {_fmt(b.min)}" for b in scheme.bands)
        lines.append(("分档", f"{bands}；低于最低档：{scheme.label_for(scheme.below_level)}"))
    parts = []
    for c in s.components:
        what = (
            "基础项（任务清单 − 扣分）"
            if c.source == "basic"
            else f"{SOURCE_LABELS[c.source]} × {_fmt(s.review_full_marks)}"
        )
        parts.append(f"{what} × {_fmt(c.weight)}")
    make_up = " + ".join(parts)
    if s.base:
        make_up = f"基础分 {_fmt(s.base)}；{make_up}"
    if s.max_checklist is not None:
        make_up += f"；任务清单满分 {_fmt(s.max_checklist)}"
    lines.append(("计分", make_up))
    if s.deductions:
        lines.append(
            (
                "扣分",
                "；".join(
                    f"{DEDUCTION_LABELS[d.kind]}每项 {_fmt(d.points)} 分"
                    + (f"，封顶 {_fmt(d.cap)} 分" if d.cap is not None else "")
                    for d in s.deductions
                ),
            )
        )
    if s.bonus.items:
        text = "；".join(
            item.kind + (f"封顶 {_fmt(item.cap)} 分" if item.cap is not None else "")
            for item in s.bonus.items
        )
        if s.bonus.cap is not None:
            text += f"；加分合计封顶 {_fmt(s.bonus.cap)} 分"
        if s.bonus.max_total is not None:
            text += f"；总分封顶 {_fmt(s.bonus.max_total)} 分"
        lines.append(("加分", text))
    if scheme.quotas:
        quotas = []
        for level, q in scheme.quotas:
            bits = [
                f"{word} {_share(share)}"
                for word, share in (("最多", q.max), ("目标", q.target), ("最少", q.min))
                if share is not None
            ]
            quotas.append(f"{scheme.label_for(level)}{'，'.join(bits)}")
        scope = "全工委" if scheme.quota_scope == "committee" else "按上级党组织分别计算"
        lines.append(("名额", f"{'；'.join(quotas)}（{scope}，{ROUNDING_LABELS[scheme.quota_rounding]}）"))
    else:
        lines.append(("名额", "不限"))
    if scheme.vetoes:
        vetoes = []
        for v in scheme.vetoes:
            effect = EFFECT_LABELS[v.effect].format(level=scheme.label_for(v.level), n=v.level)
            vetoes.append(f"{v.description}：{effect}")
        lines.append(("一票否决", "；".join(vetoes)))
    for p in scheme.prerequisites:
        needs = list(p.conditions)
        if p.min_satisfaction is not None:
            needs.append(f"满意度 ≥ {_share(p.min_satisfaction)}")
        if p.min_good_rate is not None:
            needs.append(f"好评率 ≥ {_share(p.min_good_rate)}")
        lines.append(
            (
                "前置条件",
                f"{scheme.label_for(p.level)}需要：{'、'.join(needs)}；否则最高 {scheme.label_for(p.cap_at_level)}",
            )
        )
    promo = scheme.promotion
    bits = []
    if promo.max_step_up is not None:
        bits.append(f"每年最多升 {promo.max_step_up} 级")
    if promo.skip_honours:
        bits.append(f"破格：{'、'.join(promo.skip_honours)}")
    for d in promo.direct_rating:
        bits.append(f"{d.honour} 直接定为{scheme.label_for(d.level)}")
    bits.append("年内新组建的组织未定级" if promo.new_orgs_unrated else "新组建组织照常评定")
    lines.append(("晋升", "；".join(bits)))
    return lines


# --- the result workbook ------------------------------------------------------------------------------


def _num_cell(ws: WriteOnlyWorksheet, value: Decimal | int | None, number_format: str | None = None) -> Cell:
    if value is None:
        return text_stream_cell(ws, "")
    cell = WriteOnlyCell(ws, value=cast(Any, value))  # openpyxl writes Decimal as a number
    if number_format:
        cell.number_format = number_format
    return cell


def _header(ws: Any, columns: Sequence[str], widths: dict[str, int]) -> None:
    for index, column in enumerate(columns):
        ws.column_dimensions[get_column_letter(index + 1)].width = widths.get(column, 12)
    ws.freeze_panes = "A2"
    ws.append([text_stream_cell(ws, c) for c in columns])


def _known_claims(scheme: Scheme, claims: Sequence[BonusClaim]) -> list[BonusClaim]:
    """Claims the 加分 column carries: those of the scheme's kinds (others earn nothing), or all of
    them when the scheme has no bonus items (they are read back under the default kind)."""
    kinds = {item.kind for item in scheme.score.bonus.items}
    return [c for c in claims if c.kind in kinds or not kinds]


def _pairs_text(claims: Sequence[BonusClaim]) -> str:
    if not claims:
        return ""
    kinds = list(dict.fromkeys(c.kind for c in claims))
    if len(kinds) == 1:
        return kinds[0]
    sums = {k: sum((c.points for c in claims if c.kind == k), Decimal(0)) for k in kinds}
    return "、".join(f"{k}：{_fmt(v)}" for k, v in sums.items())


def _deducted(rating_lines: Sequence[ExplanationLine]) -> Decimal:
    """扣分 as the explanation shows it: every deduction line (the floor-at-0 correction is positive)."""
    return -sum(
        (
            line.points
            for line in rating_lines
            if line.source == "扣分" and line.points is not None and line.points < 0
        ),
        Decimal(0),
    )


def _extra_columns(scheme: Scheme, table: ScoreTable) -> list[str]:
    wanted = []
    if any(str(org.org_id) != org.name for org in table):
        wanted.append(COL_CODE)
    if scheme.score.bonus.items and any(_known_claims(scheme, org.bonus_items) for org in table):
        wanted.append(COL_BONUS_KIND)
    if any(org.satisfaction is not None for org in table):
        wanted.append(COL_SATISFACTION)
    conditions = {c for p in scheme.prerequisites for c in p.conditions}
    if any(org.prerequisites_met & conditions for org in table):
        wanted.append(COL_CONDITIONS)
    if any(org.honours for org in table):
        wanted.append(COL_HONOURS)
    if any(org.stars_earned & {s.key for s in scheme.named_stars} for org in table):
        wanted.append(COL_STARS)
    if any(org.is_new for org in table):
        wanted.append(COL_NEW)
    return wanted


def _summary_row(
    ws: WriteOnlyWorksheet, sim: Simulation, org: OrgInputs, row: OrgRow, extras: list[str]
) -> list[Any]:
    scheme = sim.scheme
    d = sim.inputs.details.get(org.org_id) or RowDetails()
    # A table row keeps its own 审核得分; current data shows the figure the engine used.
    review = d.review_score if d.row is not None else org.checklist_points
    bonus = _known_claims(scheme, org.bonus_items)
    members: Any = d.members
    values: list[Any] = [
        row.number,
        text_stream_cell(ws, row.parent),
        text_stream_cell(ws, org.name),
        text_stream_cell(ws, d.secretary),
        members if isinstance(members, int) else text_stream_cell(ws, members or ""),
        _num_cell(ws, d.self_score),
        _num_cell(ws, d.first_score),
        _num_cell(ws, review),
        _num_cell(ws, org.good_rate, PERCENT_FORMAT),
        _num_cell(ws, sum((c.points for c in bonus), Decimal(0)) if bonus else None),
        _num_cell(ws, _deducted(row.explanation) or None),
        _num_cell(ws, row.total, NUMBER_FORMAT),
        text_stream_cell(ws, "、".join(veto_descriptions(scheme, org))),
        text_stream_cell(ws, row.last_year_label),
        text_stream_cell(ws, row.level_label),
        text_stream_cell(ws, ""),
        text_stream_cell(ws, ""),
        text_stream_cell(ws, row.quota_label),
    ]
    conditions = {c for p in scheme.prerequisites for c in p.conditions}
    stars = {s.key for s in scheme.named_stars}
    extra: dict[str, Any] = {
        COL_CODE: text_stream_cell(ws, str(org.org_id)),
        COL_BONUS_KIND: text_stream_cell(ws, _pairs_text(bonus) if scheme.score.bonus.items else ""),
        COL_SATISFACTION: _num_cell(ws, org.satisfaction, PERCENT_FORMAT),
        COL_CONDITIONS: text_stream_cell(ws, "、".join(sorted(org.prerequisites_met & conditions))),
        COL_HONOURS: text_stream_cell(ws, "、".join(sorted(org.honours))),
        COL_STARS: text_stream_cell(ws, "、".join(sorted(org.stars_earned & stars))),
        COL_NEW: text_stream_cell(ws, YES if org.is_new else NO),
    }
    return values + [extra[c] for c in extras]


def write_result(
    scheme: Scheme,
    inputs: Sequence[OrgInputs],
    result: RatingResult,
    out: str | os.PathLike[str] | IO[bytes],
    *,
    source: str = "",
    at: datetime | None = None,
) -> None:
    """The simulated result as a workbook: 说明, 汇总表 (§12 layout, readable by ``read_scores``),
    名额分布, 待决并列 and 评定说明. Written in openpyxl's write-only mode; user text is always text."""
    sim = summarise(scheme, inputs, result, at=at)
    write_simulation(sim, out, source=source)


def write_simulation(sim: Simulation, out: str | os.PathLike[str] | IO[bytes], *, source: str = "") -> None:
    workbook = openpyxl.Workbook(write_only=True)

    ws = workbook.create_sheet(SHEET_HELP)
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 100
    local = timezone.localtime(sim.at) if timezone.is_aware(sim.at) else sim.at
    help_rows: list[tuple[str, str]] = [
        ("说明", f"评星模拟测算：{SIMULATION_LABEL}"),
        *scheme_summary(sim.scheme),
        ("测算时间", local.strftime("%Y-%m-%d %H:%M")),
        ("数据来源", source or sim.source or "—"),
        ("参评组织", f"{len(sim.rows)} 个"),
        ("待决并列", f"{len(sim.ties)} 组" if sim.ties else "无"),
    ]
    help_rows += [("提示", w) for w in sim.warnings]
    for key, value in help_rows:
        ws.append([text_stream_cell(ws, key), text_stream_cell(ws, value)])

    ws = workbook.create_sheet(SHEET_SUMMARY)
    extras = _extra_columns(sim.scheme, sim.inputs)
    _header(ws, (*SUMMARY_COLUMNS, *extras), {COL_PARENT: 28, COL_NAME: 32, COL_VETOES: 24, COL_REMARK: 20})
    by_id = {org.org_id: org for org in sim.inputs}
    for row in sim.rows:
        ws.append(_summary_row(ws, sim, by_id[row.org_id], row, extras))

    ws = workbook.create_sheet(SHEET_DISTRIBUTION)
    _header(ws, ("范围", "等级", "数量", "参评数", "最多", "目标", "最少", "情况"), {"范围": 30, "情况": 16})
    for c in sim.distribution:
        ws.append(
            [
                text_stream_cell(ws, c.scope),
                text_stream_cell(ws, c.label),
                c.count,
                c.rated,
                _num_cell(ws, c.max_seats),
                _num_cell(ws, c.target_seats),
                _num_cell(ws, c.min_seats),
                text_stream_cell(ws, c.status),
            ]
        )

    ws = workbook.create_sheet(SHEET_TIES)
    _header(ws, ("范围", "等级", "剩余名额", "并列总分", "并列组织"), {"范围": 30, "并列组织": 60})
    for t in sim.ties:
        ws.append(
            [
                text_stream_cell(ws, t.scope),
                text_stream_cell(ws, t.label),
                t.seats_left,
                _num_cell(ws, t.total, NUMBER_FORMAT),
                text_stream_cell(ws, "、".join(t.names)),
            ]
        )

    ws = workbook.create_sheet(SHEET_EXPLANATION)
    _header(ws, ("序号", "党组织名称", "来源", "说明", "分值"), {"党组织名称": 32, "说明": 70})
    for row in sim.rows:
        for line in row.explanation:
            ws.append(
                [
                    row.number,
                    text_stream_cell(ws, row.name),
                    text_stream_cell(ws, line.source),
                    text_stream_cell(ws, line.description),
                    _num_cell(ws, line.points),
                ]
            )
    workbook.save(out)


def simulation_workbook(sim: Simulation) -> bytes:
    buffer = BytesIO()
    write_simulation(sim, buffer)
    return buffer.getvalue()


def summary_lines(sim: Simulation) -> list[str]:
    """The distribution against the quotas and the ties, as Chinese text lines (for the command)."""
    lines = [
        f"评星模拟测算（{SIMULATION_LABEL}）",
        f"方案：{sim.scheme.name}",
        f"数据：{sim.source or '—'}",
        f"参评组织 {len(sim.rows)} 个，未定级 {sim.unrated} 个",
        "名额分布：",
    ]
    scopes: dict[str, list[str]] = {}
    for c in sim.distribution:
        seats = [
            f"{word} {n}"
            for word, n in (("最多", c.max_seats), ("目标", c.target_seats), ("最少", c.min_seats))
            if n is not None
        ]
        text = f"{c.label} {c.count} 个" + (f"（{'，'.join(seats)}）" if seats else "")
        if c.status != "—":
            text += f"【{c.status}】"
        scopes.setdefault(f"{c.scope}（参评 {c.rated} 个）", []).append(text)
    lines += [f"  {scope}：{'；'.join(parts)}" for scope, parts in scopes.items()]
    if sim.ties:
        lines.append("名额边界并列，待决定：")
        lines += [
            f"  {t.scope} {t.label} 剩余名额 {t.seats_left} 个，总分 {_fmt(t.total)}：{'、'.join(t.names)}"
            for t in sim.ties
        ]
    else:
        lines.append("名额边界并列：无")
    lines += [f"提示：{w}" for w in sim.warnings]
    return lines


# --- schemes from files -------------------------------------------------------------------------------

ERR_SCHEME_TOO_LARGE = "方案文件超过 {limit}。"
ERR_SCHEME_JSON = "方案文件不是有效的 JSON（第 {line} 行第 {column} 列）。"
ERR_SCHEME_ENCODING = "方案文件必须是 UTF-8 编码的 JSON。"


def scheme_from_json(data: bytes) -> Scheme:
    """A scheme from a JSON file's bytes (format in ``scoring/schemes.py``); ``SchemeError`` names every problem."""
    if len(data) > SCHEME_FILE_MAX_BYTES:
        raise SchemeError([("", ERR_SCHEME_TOO_LARGE.format(limit=human_size(SCHEME_FILE_MAX_BYTES)))])
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SchemeError([("", ERR_SCHEME_ENCODING)]) from None
    except json.JSONDecodeError as exc:
        raise SchemeError([("", ERR_SCHEME_JSON.format(line=exc.lineno, column=exc.colno))]) from None
    return scheme_from_dict(parsed)


@functools.cache
def preset_choices() -> tuple[tuple[str, str], ...]:
    """(preset name, scheme name) of every shipped preset; presets never change while running."""
    from scoring import presets

    return tuple((name, presets.load(name).name) for name in presets.available())

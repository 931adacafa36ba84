"""The year-end assessment workbook (domain.md §12): selector output → .xlsx, no HTTP.

``assessment_workbook`` writes the sheets of §12 for one organisation's subtree (the organisation
itself and every descendant, never a row of another subtree) with openpyxl's write-only mode, so a
workbook of 300,000 checklist entries is streamed to disk and memory stays flat:

- every sheet reads its rows with a fixed number of queries (``values_list(...).iterator()``;
  evidence counts and the latest review comment as correlated subqueries), never one per row;
  per-organisation figures (sums, secretaries, members, ratings) are grouped queries held in
  small dicts keyed by organisation;
- the entry stream is read once and written to 评分明细 and 任务清单完成情况 together (a
  write-only sheet writes each appended row at once, so sheets may be filled side by side);
- user-typed text is always a literal string cell (R10): a value starting with ``=``, ``+``,
  ``-`` or ``@`` (or equal to an Excel error code) is written with ``text_stream_cell``
  (data type "s" plus quotePrefix); other text is a plain string, which openpyxl also writes as
  a string. Characters XML cannot hold are dropped.

Scores of a recurring item (每月/每季度/每半年) follow the rating engine (scoring/inputs.py): the
item counts once, with the mean of its periods, in the 小计/合计 rows of 评分明细 and in 汇总表;
the detail rows show each period's own scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, Any, cast

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from branches.imports.workbooks import text_stream_cell
from branches.models import STAFF_ROLES, Member, OrgKind, OrgUnit, Role, RoleGrant, User, subtree_q
from branches.selectors import grants_of
from campaigns.models import (
    Ballot,
    BallotTally,
    Campaign,
    Checklist,
    ChecklistEntry,
    EntryEvent,
    EntryEvidence,
    EntryStatus,
    EventAction,
    Finding,
    FindingSource,
    Rectification,
    RectificationStatus,
    ReviewSession,
    ReviewStage,
    SessionReporter,
)
from campaigns.models.checklists import PERIODS_PER_YEAR
from campaigns.services.reports import grade_for
from scoring.inputs import from_weighted, weighted_item_points
from scoring.models import Rating, RatingRound, RoundStage
from scoring.permissions import can_manage_rating
from scoring.rules import QUOTA_LABELS, QUOTA_NEEDS_DECISION
from scoring.schemes import Scheme
from scoring.services import scheme_of

SHEET_HELP = "说明"
SHEET_SUMMARY = "汇总表"
SHEET_DETAIL = "评分明细"
SHEET_RECTIFICATION = "整改台账"
SHEET_REVIEW = "述职评议测评统计"
SHEET_TASKS = "任务清单完成情况"
SHEET_DECLARATION = "申报表"
SHEETS: tuple[str, ...] = (
    SHEET_HELP,
    SHEET_SUMMARY,
    SHEET_DETAIL,
    SHEET_RECTIFICATION,
    SHEET_REVIEW,
    SHEET_TASKS,
)

SUMMARY_COLUMNS: tuple[str, ...] = (
    "序号",
    "上级党组织",
    "党组织名称",
    "书记",
    "党员数",
    "自评得分",
    "初审得分",
    "审核得分",
    "评议得分",
    "加分",
    "扣分",
    "综合得分",
    "否决情形",
    "上年星级",
    "拟定星级",
    "最终星级",
    "公示起止",
    "备注",
)
DETAIL_COLUMNS: tuple[str, ...] = (
    "党组织编码",
    "党组织名称",
    "类别",
    "任务编码",
    "考评项目",
    "标准分",
    "自评得分",
    "初审得分",
    "审核得分",
    "状态",
    "完成日期",
    "佐证数",
    "扣分说明",
)
RECTIFICATION_COLUMNS: tuple[str, ...] = (
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
REVIEW_COLUMNS: tuple[str, ...] = ("述职人", "党组织", "好", "较好", "一般", "差", "好率", "综合等次")
TASK_COLUMNS: tuple[str, ...] = ("党组织", "类别", "任务", "责任人", "完成时限", "状态", "完成日期", "佐证数")

SUBTOTAL = "小计"
TOTAL = "合计"
DECLARATION_TITLE = "模范机关创建星级申报表"
SIGNATURE_LINE = "书记签字：　　　　（盖章）　　年　月　日"
HIDDEN_LEVEL = "评定中，公示时可见"
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.00%"
PROGRESS_EVERY = 2000
CHUNK_SIZE = 2000
CENTS = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
_YEAR_PARTS = 12
# Leading characters that make spreadsheet programs treat typed text as a formula (R10).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F2DCDB")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_TITLE_FONT = Font(bold=True, size=16)
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

_SUMMARY_WIDTHS = (6, 28, 32, 12, 8, 10, 10, 10, 10, 8, 8, 10, 24, 10, 12, 10, 24, 30)
_DETAIL_WIDTHS = (14, 30, 12, 12, 40, 8, 10, 10, 10, 12, 12, 8, 36)
_RECTIFICATION_WIDTHS = (6, 28, 12, 40, 40, 10, 10, 12, 30, 12, 6)
_REVIEW_WIDTHS = (12, 30, 6, 6, 6, 6, 10, 10)
_TASK_WIDTHS = (30, 12, 40, 12, 12, 12, 12, 8)

_STATUS_LABELS: dict[str, str] = dict(EntryStatus.choices)
_STAGE_STATUS: dict[str, str] = {
    ReviewStage.PARENT.value: "待上级初审",
    ReviewStage.COMMITTEE.value: "待工委审核",
}
_SOURCE_LABELS: dict[str, str] = dict(FindingSource.choices)
_RECT_LABELS: dict[str, str] = dict(RectificationStatus.choices)
_REVIEW_ACTIONS = (EventAction.FIRST_APPROVED, EventAction.APPROVED, EventAction.RETURNED)
_WEIGHTS: dict[str, int] = {f: _YEAR_PARTS // n for f, n in PERIODS_PER_YEAR.items()}

Progress = Callable[[int, int, str], None]
Output = str | Path | IO[bytes]


class ExportScopeError(ValueError):
    """The organisation is not under the campaign's 工委."""


# --- names ---------------------------------------------------------------------------------------


def workbook_title(campaign: Campaign) -> str:
    return f"{campaign.year}年度模范机关创建考核汇总表"


_UNSAFE_IN_NAMES = str.maketrans({c: "_" for c in '/\\:*?"<>|\r\n\t'})


def download_name(campaign: Campaign, org: OrgUnit, day: date) -> str:
    """``2026年度模范机关创建考核汇总表_<组织名称>_<yyyymmdd>.xlsx`` (no path separators)."""
    name = org.name.translate(_UNSAFE_IN_NAMES).strip() or org.code
    return f"{workbook_title(campaign)}_{name}_{day:%Y%m%d}.xlsx"


# --- the queries (each sheet: a fixed number, whatever the number of rows) ------------------------


def _in_scope(org: OrgUnit, field: str = "org__path") -> Q:
    return subtree_q(org.path, field)


def summary_org_rows(campaign: Campaign, org: OrgUnit) -> QuerySet[Any, Any]:
    """Organisations of the subtree with a checklist, except the 工委, in tree order."""
    return (
        Checklist.objects.filter(_in_scope(org), campaign=campaign)
        .exclude(org__kind=OrgKind.COMMITTEE)
        .order_by("org__path")
        .values_list("org_id", "org__path", "org__kind", "org__name", "org__parent__name")
    )


def entry_sums(campaign: Campaign, org: OrgUnit) -> QuerySet[Any, Any]:
    """Per organisation: weighted score sums (×12, see ``scoring.inputs``), entries and done."""
    return (
        ChecklistEntry.objects.filter(_in_scope(org), campaign=campaign)
        .values("org_id")
        .annotate(
            self_points=Sum(weighted_item_points("self_score")),
            first_points=Sum(weighted_item_points("first_review_score")),
            review_points=Sum(weighted_item_points("review_score")),
            applicable=Count("pk", filter=~Q(status=EntryStatus.NOT_APPLICABLE)),
            done=Count("pk", filter=Q(status=EntryStatus.APPROVED)),
        )
        .order_by()
        .values_list("org_id", "self_points", "first_points", "review_points", "applicable", "done")
    )


def secretary_rows(org: OrgUnit) -> QuerySet[Any, Any]:
    return (
        RoleGrant.objects.filter(_in_scope(org), role=Role.SECRETARY)
        .order_by("org_id", "user__full_name", "user__username")
        .values_list("org_id", "user__full_name", "user__username")
    )


def member_counts(org: OrgUnit) -> QuerySet[Any, Any]:
    return (
        Member.objects.filter(_in_scope(org), is_active=True)
        .values("org_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("org_id", "n")
    )


RATING_FIELDS = (
    "org_id",
    "round_id",
    "total",
    "computed_level",
    "is_adjusted",
    "adjusted_level",
    "current_level",
    "last_year_level",
    "vetoes",
    "prerequisites_missing",
    "explanation",
    "inputs",
    "compiled_at",
    "quota_decision",
    "needs_decision",
    "org__kind",
    "org__path",
)


def rating_rows(campaign: Campaign, org: OrgUnit) -> QuerySet[Any, Any]:
    return (
        Rating.objects.filter(_in_scope(org), round__campaign=campaign)
        .order_by("org_id", "round_id")
        .values_list(*RATING_FIELDS)
    )


def _evidence_count() -> Coalesce:
    links = (
        EntryEvidence.objects.filter(entry_id=OuterRef("pk"))
        .order_by()
        .values("entry_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(links), 0)


def _review_comment() -> Subquery:
    """The latest non-empty comment of a 初审/审核/退回 on the entry."""
    events = (
        EntryEvent.objects.filter(entry_id=OuterRef("pk"), action__in=_REVIEW_ACTIONS)
        .exclude(comment="")
        .order_by("-created_at", "-pk")
        .values("comment")[:1]
    )
    return Subquery(events)


ENTRY_FIELDS = (
    "org_id",
    "org__code",
    "org__name",
    "item__section_id",
    "item__section__name",
    "item__code",
    "item__title",
    "item__points",
    "item__frequency",
    "period",
    "self_score",
    "first_review_score",
    "review_score",
    "status",
    "review_stage",
    "completed_on",
    "return_reason",
    "review_comment",
    "evidence_count",
    "responsible__full_name",
    "responsible__username",
    "due_date",
)


def entry_rows(campaign: Campaign, org: OrgUnit) -> QuerySet[Any, Any]:
    """Every entry of the subtree, by organisation (tree order), then section and item."""
    return (
        ChecklistEntry.objects.filter(_in_scope(org), campaign=campaign)
        .annotate(evidence_count=_evidence_count(), review_comment=_review_comment())
        .order_by(
            "org__path",
            "item__section__sort_order",
            "item__section_id",
            "item__sort_order",
            "item__code",
            "period",
            "pk",
        )
        .values_list(*ENTRY_FIELDS)
    )


def finding_rows(campaign: Campaign, org: OrgUnit) -> QuerySet[Any, Any]:
    """Findings of the subtree with their rectification and its number of evidence files."""
    evidence = (
        Rectification.objects.filter(pk=OuterRef("rectification__id"))
        .order_by()
        .annotate(n=Count("evidence"))
        .values("n")[:1]
    )
    return (
        Finding.objects.filter(_in_scope(org), campaign=campaign)
        .annotate(evidence_count=Coalesce(Subquery(evidence), 0))
        .order_by("org__path", "created_at", "pk")
        .values_list(
            "org__name",
            "source",
            "description",
            "rectification__measures",
            "rectification__responsible_name",
            "rectification__leader_name",
            "rectification__deadline",
            "rectification__progress",
            "rectification__status",
            "rectification__closed_on",
            "evidence_count",
        )
    )


def session_rows(campaign: Campaign) -> QuerySet[Any, Any]:
    return ReviewSession.objects.filter(campaign=campaign).values_list(
        "pk", "entry_mode", "scale", "good_labels", "thresholds"
    )


def reporter_rows(campaign: Campaign, org: OrgUnit) -> QuerySet[Any, Any]:
    return (
        SessionReporter.objects.filter(_in_scope(org), session__campaign=campaign)
        .order_by("session__held_on", "session_id", "sort_order", "pk")
        .values_list(
            "pk", "session_id", "org__name", "reporter_name", "reporter__full_name", "reporter__username"
        )
    )


def vote_rows(campaign: Campaign, org: OrgUnit) -> tuple[QuerySet[Any, Any], QuerySet[Any, Any]]:
    """(per-rater ballots, entered tallies), each grouped by reporter and label."""
    reporters = SessionReporter.objects.filter(_in_scope(org), session__campaign=campaign).values("pk")
    ballots = (
        Ballot.objects.filter(reporter_id__in=reporters)
        .values("reporter_id", "label")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("reporter_id", "label", "n")
    )
    tallies = (
        BallotTally.objects.filter(reporter_id__in=reporters)
        .values("reporter_id", "label")
        .annotate(n=Sum("count"))
        .order_by()
        .values_list("reporter_id", "label", "n")
    )
    return ballots, tallies


def campaign_rounds(campaign: Campaign) -> list[RatingRound]:
    return list(RatingRound.objects.filter(campaign=campaign).select_related("scheme").order_by("applies_to"))


# --- cells -------------------------------------------------------------------------------------------


def _text(ws: Any, value: object) -> Any:
    """A literal string for the sheet (R10): never a formula, an error value or bad XML."""
    if value is None:
        return None
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if not text:
        return None
    if text.startswith(_FORMULA_PREFIXES) or text in ERROR_CODES:
        return text_stream_cell(ws, text)
    return text  # openpyxl writes any other str as a string cell (data type "s")


def _styled(ws: Any, value: object, **style: Any) -> Cell:
    if isinstance(value, str):
        cell = _text(ws, value)
        cell = cell if isinstance(cell, Cell) else WriteOnlyCell(ws, value=cell)
        cell.data_type = "s" if cell.value is not None else cell.data_type
    else:
        cell = WriteOnlyCell(ws, value=cast(Any, value))
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


class _DateColumn:
    """One reusable styled cell per date column: a write-only sheet writes a row when it is appended."""

    def __init__(self, ws: Any) -> None:
        self.cell = WriteOnlyCell(ws)
        self.cell.number_format = DATE_FORMAT

    def __call__(self, value: date | None) -> Cell | None:
        if value is None:
            return None
        self.cell.value = value
        return self.cell


def _sheet(wb: Workbook, title: str, columns: tuple[str, ...], widths: Iterable[int]) -> Any:
    ws = wb.create_sheet(title)
    for position, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(position)].width = width
    ws.freeze_panes = "A2"
    ws.append(
        [_styled(ws, name, font=_HEADER_FONT, fill=_HEADER_FILL, alignment=_CENTER) for name in columns]
    )
    return ws


class _TotalRow:
    """Bold, shaded 小计/合计 rows. The style is registered once on a template cell and each new
    cell copies its style array: setting fonts cell by cell costs more than writing the row."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.template = _styled(ws, "", font=_HEADER_FONT, fill=_TOTAL_FILL)

    def cell(self, value: object) -> Cell | None:
        if value is None:
            return None
        text = _text(self.ws, value) if isinstance(value, str) else value
        if isinstance(text, Cell):  # text that needs the quote prefix: the slow, complete path
            return _styled(self.ws, value, font=_HEADER_FONT, fill=_TOTAL_FILL)
        cell = WriteOnlyCell(self.ws, value=cast(Any, text))
        if isinstance(text, str):
            cell.data_type = "s"
        cell._style = copy(self.template._style)  # type: ignore[attr-defined]  # openpyxl's style array
        return cell

    def __call__(self, values: list[Any]) -> list[Any]:
        return [self.cell(v) for v in values]


def _points(weighted: Decimal | int | None) -> Decimal | None:
    return from_weighted(weighted) if weighted is not None else None


def _level_label(scheme: Scheme | None, level: int | None) -> str:
    if scheme is None:
        return "" if level is None else f"{level}星"
    return scheme.label_for(level)


def _day(value: date | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def _publicity(rnd: RatingRound | None) -> str:
    if rnd is None or not (rnd.publicity_starts_on or rnd.publicity_ends_on):
        return ""
    return f"{_day(rnd.publicity_starts_on)} 至 {_day(rnd.publicity_ends_on)}".strip()


# --- progress ----------------------------------------------------------------------------------------


@dataclass
class _Counter:
    total: int
    report: Progress | None
    done: int = 0
    stage: str = ""
    _last: int = field(default=0, repr=False)

    def begin(self, stage: str) -> None:
        self.stage = stage
        self._emit()

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self.done - self._last >= PROGRESS_EVERY:
            self._emit()

    def _emit(self) -> None:
        self._last = self.done
        if self.report is not None:
            self.report(min(self.done, self.total), self.total, self.stage)


def _stage(sheet: str) -> str:
    return f"正在写入“{sheet}”"


# --- who sees proposed levels before 公示 ----------------------------------------------------------


def _level_visible(viewer: User | None) -> Callable[[str], bool]:
    """Before 公示, branch users do not see proposed levels (``services.branch_can_see_level``):
    a level is shown to 工委 staff, and to staff of a unit strictly above the organisation."""
    if viewer is None or can_manage_rating(viewer):
        return lambda path: True
    staff_paths = [g.org_path for g in grants_of(viewer) if g.role in STAFF_ROLES]
    return lambda path: any(path.startswith(p) and path != p for p in staff_paths)


# --- 说明 -----------------------------------------------------------------------------------------


def _share(value: Decimal | None) -> str:
    return f"{(value * 100).normalize():f}%" if value is not None else ""


def _scheme_lines(rnd: RatingRound, scheme: Scheme) -> list[tuple[str, str]]:
    kind = OrgKind(rnd.applies_to).label
    lines = [
        (
            f"评星方案（{kind}）",
            f"{rnd.scheme.name}（第 {rnd.scheme.number} 版）；当前阶段：{rnd.get_stage_display()}",
        )
    ]
    if scheme.mode == "named_stars":
        stars = "、".join(s.label for s in scheme.named_stars)
        lines.append(("评定方式", f"命名星：{stars}；星级 = 获得的命名星数"))
    else:
        bands = "；".join(
            f"{b.label} ≥ {b.min.normalize():f} 分" for b in sorted(scheme.bands, key=lambda b: -b.level)
        )
        below = "无星" if scheme.levels.below_lowest == "no_star" else "未定级"
        lines.append(("分档", f"{bands}；低于最低档：{below}"))
    quotas = []
    for level, quota in sorted(scheme.quotas, reverse=True):
        parts = [
            f"不超过 {_share(quota.max)}" if quota.max is not None else "",
            f"目标 {_share(quota.target)}" if quota.target is not None else "",
            f"不少于 {_share(quota.min)}" if quota.min is not None else "",
        ]
        quotas.append(f"{scheme.label_for(level)}：{'，'.join(p for p in parts if p)}")
    scope = "全工委统一计算" if scheme.quota_scope == "committee" else "按上级党组织分别计算"
    lines.append(("名额", ("；".join(quotas) + f"（{scope}）") if quotas else "不限名额"))
    effects = {
        "no_rating": lambda v: "不予评定",
        "cap_at_level": lambda v: f"最高{scheme.label_for(v.level)}",
        "demote": lambda v: f"降 {v.level} 档",
    }
    vetoes = "；".join(f"{v.description}：{effects[v.effect](v)}" for v in scheme.vetoes)
    lines.append(("一票否决", vetoes or "无"))
    if rnd.publicity_starts_on or rnd.publicity_ends_on:
        lines.append(("公示", _publicity(rnd)))
    return lines


def _write_help(
    ws: Any, campaign: Campaign, org: OrgUnit, rounds: list[RatingRound], schemes: dict[int, Scheme]
) -> None:
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 100
    ws.append([_styled(ws, workbook_title(campaign), font=_TITLE_FONT)])
    ws.merged_cells.add("A1:B1")
    rows: list[tuple[str, str]] = [
        ("创建活动", f"{campaign.name}（{campaign.year} 年度）"),
        ("导出范围", f"{org.name}（{org.code}）及其全部下级党组织"),
        ("导出时间", f"{timezone.localtime():%Y-%m-%d %H:%M}"),
    ]
    for rnd in rounds:
        rows += _scheme_lines(rnd, schemes[rnd.pk])
    if not rounds:
        rows.append(("评星方案", "本年度尚未设置评星"))
    rows += [
        (
            SHEET_SUMMARY,
            "每个有任务清单的党组织一行（不含工委本级）；得分为其清单条目得分之和，评议得分、加分、扣分、综合得分、否决情形和星级取自评星结果，未评星的留空。",
        ),
        (
            SHEET_DETAIL,
            "每个清单条目一行，按党组织、类别排列；每个党组织每个类别后有“小计”，每个党组织后有“合计”。扣分说明为退回理由或审核意见。",
        ),
        (SHEET_RECTIFICATION, "发现的问题及其整改；“佐证”为整改佐证材料份数。"),
        (SHEET_REVIEW, "述职评议票数；好率 =（好 + 较好）/ 总票数（以各次评议设定的计入好评档次为准）。"),
        (SHEET_TASKS, "每个清单条目的责任人、完成时限、状态和佐证数。"),
        (
            "计分说明",
            "按期开展的任务（每月、每季度、每半年）在小计、合计和汇总表中按各期得分的平均值计入，与评星计算一致。",
        ),
    ]
    for label, text in rows:
        ws.append([_styled(ws, label, font=_HEADER_FONT), _styled(ws, text, alignment=_WRAP)])


# --- 汇总表 -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RatingFigures:
    review: Decimal | None
    bonus: Decimal | None
    deduction: Decimal | None
    total: Decimal | None
    vetoes: str
    last_year: str
    proposed: str
    final: str
    note: str


def _sum_lines(explanation: list[dict[str, Any]], source: str) -> Decimal:
    total = Decimal(0)
    for line in explanation or []:
        if line.get("source") == source and line.get("points") is not None:
            total += Decimal(str(line["points"]))
    return total


def _review_score(scheme: Scheme | None, inputs: dict[str, Any]) -> Decimal | None:
    """评议得分: the 述职评议 good rate (or the satisfaction the scheme uses) × the scheme's full marks."""
    if scheme is None:
        return None
    sources = {c.source for c in scheme.score.components}
    key = "satisfaction" if "satisfaction" in sources and "good_rate" not in sources else "good_rate"
    rate = inputs.get(key) if inputs else None
    if rate in (None, ""):
        return None
    return (Decimal(str(rate)) * scheme.score.review_full_marks).quantize(CENTS, ROUND_HALF_UP)


def _rating_figures(
    row: tuple[Any, ...], rnd: RatingRound | None, scheme: Scheme | None, shown: bool
) -> _RatingFigures:
    r = dict(zip(RATING_FIELDS, row, strict=True))
    compiled = r["compiled_at"] is not None
    vetoes = {v.key: v.description for v in scheme.vetoes} if scheme else {}
    level = r["adjusted_level"] if r["is_adjusted"] else r["computed_level"]
    has_level = compiled or r["is_adjusted"]
    named = rnd is not None and rnd.stage == RoundStage.NAMED
    notes = []
    if r["needs_decision"]:
        notes.append(QUOTA_LABELS[QUOTA_NEEDS_DECISION])
    elif r["quota_decision"] and r["quota_decision"] not in ("kept", "not_applicable") and compiled:
        notes.append(QUOTA_LABELS.get(r["quota_decision"], r["quota_decision"]))
    if r["is_adjusted"]:
        notes.append("人工调整")
    if r["prerequisites_missing"]:
        notes.append("未满足前置条件：" + "、".join(str(p) for p in r["prerequisites_missing"]))
    explanation = r["explanation"] or []
    return _RatingFigures(
        review=_review_score(scheme, r["inputs"]) if compiled else None,
        bonus=_sum_lines(explanation, "加分") if compiled else None,
        deduction=Decimal(0) - _sum_lines(explanation, "扣分") if compiled else None,
        total=r["total"] if compiled else None,
        vetoes="、".join(vetoes.get(k, k) for k in (r["vetoes"] or [])),
        last_year=_level_label(scheme, r["last_year_level"]) if r["last_year_level"] is not None else "",
        proposed=(_level_label(scheme, level) if (shown or named) else HIDDEN_LEVEL) if has_level else "",
        final=_level_label(scheme, r["current_level"]) if named else "",
        note="；".join(notes),
    )


@dataclass
class _OrgData:
    """Per-organisation figures from grouped queries: small, keyed by organisation id."""

    sums: dict[int, tuple[Any, ...]]
    secretaries: dict[int, str]
    members: dict[int, int]
    ratings: dict[int, _RatingFigures]


def _org_data(
    campaign: Campaign,
    org: OrgUnit,
    rounds: list[RatingRound],
    schemes: dict[int, Scheme],
    level_visible: Callable[[str], bool],
) -> _OrgData:
    sums = {row[0]: row[1:] for row in entry_sums(campaign, org).iterator(chunk_size=CHUNK_SIZE)}
    names: dict[int, list[str]] = defaultdict(list)
    for org_id, full_name, username in secretary_rows(org).iterator(chunk_size=CHUNK_SIZE):
        names[org_id].append(full_name or username)
    members = dict(member_counts(org).iterator(chunk_size=CHUNK_SIZE))
    by_round = {rnd.pk: rnd for rnd in rounds}
    ratings: dict[int, _RatingFigures] = {}
    for row in rating_rows(campaign, org).iterator(chunk_size=CHUNK_SIZE):
        org_id, round_id, kind, path = row[0], row[1], row[-2], row[-1]
        rnd = by_round.get(round_id)
        if org_id in ratings and (rnd is None or rnd.applies_to != kind):
            continue  # an organisation that changed kind: its round of the current kind wins
        scheme = schemes.get(round_id)
        ratings[org_id] = _rating_figures(row, rnd, scheme, level_visible(path))
    return _OrgData(
        sums=sums,
        secretaries={k: "、".join(v) for k, v in names.items()},
        members=members,
        ratings=ratings,
    )


def _write_summary(
    ws: Any, campaign: Campaign, org: OrgUnit, data: _OrgData, rounds: list[RatingRound], counter: _Counter
) -> None:
    round_by_kind = {rnd.applies_to: rnd for rnd in rounds}
    for n, (org_id, _path, kind, name, parent_name) in enumerate(
        summary_org_rows(campaign, org).iterator(chunk_size=CHUNK_SIZE), start=1
    ):
        sums = data.sums.get(org_id)
        rating = data.ratings.get(org_id)
        ws.append(
            [
                n,
                _text(ws, parent_name),
                _text(ws, name),
                _text(ws, data.secretaries.get(org_id)),
                data.members.get(org_id, 0),
                _points(sums[0]) if sums else None,
                _points(sums[1]) if sums else None,
                _points(sums[2]) if sums else None,
                rating.review if rating else None,
                rating.bonus if rating else None,
                rating.deduction if rating else None,
                rating.total if rating else None,
                _text(ws, rating.vetoes) if rating else None,
                _text(ws, rating.last_year) if rating else None,
                _text(ws, rating.proposed) if rating else None,
                _text(ws, rating.final) if rating else None,
                _text(ws, _publicity(round_by_kind.get(kind))),
                _text(ws, rating.note) if rating else None,
            ]
        )
        counter.tick()


# --- 评分明细 + 任务清单完成情况 (one pass over the entries) ----------------------------------------------


class _Sums:
    """Weighted sums (×12) of a block of entries: 标准分, 自评, 初审, 审核, and evidence files."""

    __slots__ = ("evidence", "first", "points", "review", "self_")

    def __init__(self) -> None:
        self.points = self.self_ = self.first = self.review = Decimal(0)
        self.evidence = 0

    def add(self, weight: int, points: Decimal, applicable: bool, s: Any, f: Any, r: Any, ev: int) -> None:
        if applicable:
            self.points += points * weight
        if s is not None:
            self.self_ += s * weight
        if f is not None:
            self.first += f * weight
        if r is not None:
            self.review += r * weight
        self.evidence += ev

    def merge(self, other: _Sums) -> None:
        self.points += other.points
        self.self_ += other.self_
        self.first += other.first
        self.review += other.review
        self.evidence += other.evidence

    def cells(self) -> list[Any]:
        return [_points(self.points), _points(self.self_), _points(self.first), _points(self.review)]


def _item_title(title: str, period: int) -> str:
    return f"{title}（第{period}期）" if period else title


def _status_label(status: str, stage: str) -> str:
    if status == EntryStatus.SUBMITTED and stage in _STAGE_STATUS:
        return _STAGE_STATUS[stage]
    return _STATUS_LABELS.get(status, status)


def _write_entries(detail: Any, tasks: Any, campaign: Campaign, org: OrgUnit, counter: _Counter) -> None:
    detail_completed = _DateColumn(detail)
    task_due = _DateColumn(tasks)
    task_completed = _DateColumn(tasks)
    total_row = _TotalRow(detail)
    current_org: tuple[Any, Any, Any] | None = None
    current_section: tuple[Any, Any] | None = None
    section_sums = _Sums()
    org_sums = _Sums()

    def close_section() -> None:
        assert current_org is not None and current_section is not None
        detail.append(
            total_row(
                [
                    current_org[1],
                    current_org[2],
                    current_section[1],
                    None,
                    SUBTOTAL,
                    *section_sums.cells(),
                    None,
                    None,
                    section_sums.evidence,
                    None,
                ],
            )
        )
        org_sums.merge(section_sums)

    def close_org() -> None:
        assert current_org is not None
        detail.append(
            total_row(
                [
                    current_org[1],
                    current_org[2],
                    None,
                    None,
                    TOTAL,
                    *org_sums.cells(),
                    None,
                    None,
                    org_sums.evidence,
                    None,
                ],
            )
        )

    for row in entry_rows(campaign, org).iterator(chunk_size=CHUNK_SIZE):
        (
            org_id,
            org_code,
            org_name,
            section_id,
            section_name,
            code,
            title,
            points,
            frequency,
            period,
            self_score,
            first_score,
            review_score,
            status,
            stage,
            completed_on,
            return_reason,
            review_comment,
            evidence,
            responsible_name,
            responsible_username,
            due_date,
        ) = row
        if current_org is None or org_id != current_org[0]:
            if current_org is not None:
                close_section()
                close_org()
            current_org, current_section = (org_id, org_code, org_name), (section_id, section_name)
            section_sums, org_sums = _Sums(), _Sums()
        elif section_id != current_section[0]:  # type: ignore[index]
            close_section()
            current_section = (section_id, section_name)
            section_sums = _Sums()
        section_sums.add(
            _WEIGHTS.get(frequency, _YEAR_PARTS),
            points,
            status != EntryStatus.NOT_APPLICABLE,
            self_score,
            first_score,
            review_score,
            evidence,
        )
        item = _item_title(title, period)
        label = _status_label(status, stage)
        detail.append(
            [
                _text(detail, org_code),
                _text(detail, org_name),
                _text(detail, section_name),
                _text(detail, code),
                _text(detail, item),
                points,
                self_score,
                first_score,
                review_score,
                label,
                detail_completed(completed_on),
                evidence,
                _text(detail, return_reason or review_comment),
            ]
        )
        tasks.append(
            [
                _text(tasks, org_name),
                _text(tasks, section_name),
                _text(tasks, item),
                _text(tasks, responsible_name or responsible_username),
                task_due(due_date),
                label,
                task_completed(completed_on),
                evidence,
            ]
        )
        counter.tick()
    if current_org is not None:
        close_section()
        close_org()


# --- 整改台账 ----------------------------------------------------------------------------------------


def _write_rectifications(ws: Any, campaign: Campaign, org: OrgUnit, counter: _Counter) -> None:
    deadline_cell = _DateColumn(ws)
    closed_cell = _DateColumn(ws)
    for n, row in enumerate(finding_rows(campaign, org).iterator(chunk_size=CHUNK_SIZE), start=1):
        (
            org_name,
            source,
            description,
            measures,
            responsible,
            leader,
            deadline,
            progress,
            status,
            closed_on,
            ev,
        ) = row
        ws.append(
            [
                n,
                _text(ws, org_name),
                _SOURCE_LABELS.get(source, source),
                _text(ws, description),
                _text(ws, measures),
                _text(ws, responsible),
                _text(ws, leader),
                deadline_cell(deadline),
                _text(ws, progress or _RECT_LABELS.get(status or "", "")),
                closed_cell(closed_on),
                ev,
            ]
        )
        counter.tick()


# --- 述职评议测评统计 -------------------------------------------------------------------------------


def _write_review(ws: Any, campaign: Campaign, org: OrgUnit, counter: _Counter) -> None:
    sessions = {
        pk: (mode, scale, good, ReviewSession(thresholds=t))
        for pk, mode, scale, good, t in session_rows(campaign)
    }
    ballots, tallies = vote_rows(campaign, org)
    per_rater: dict[int, dict[str, int]] = defaultdict(dict)
    for reporter_id, label, n in ballots.iterator(chunk_size=CHUNK_SIZE):
        per_rater[reporter_id][label] = int(n or 0)
    tallied: dict[int, dict[str, int]] = defaultdict(dict)
    for reporter_id, label, n in tallies.iterator(chunk_size=CHUNK_SIZE):
        tallied[reporter_id][label] = int(n or 0)
    rate_cell = WriteOnlyCell(ws)
    rate_cell.number_format = PERCENT_FORMAT
    for pk, session_id, org_name, reporter_name, full_name, username in reporter_rows(campaign, org).iterator(
        chunk_size=CHUNK_SIZE
    ):
        mode, scale, good_labels, session = sessions[session_id]
        counts = (tallied if mode == "tally" else per_rater).get(pk, {})
        votes = [counts.get(label, 0) for label in scale]
        total = sum(votes)
        good = sum(counts.get(label, 0) for label in good_labels if label in scale)
        rate = (Decimal(good) / Decimal(total)).quantize(FOUR_PLACES, ROUND_HALF_UP) if total else None
        grade = grade_for(session, rate)
        four = [*votes, 0, 0, 0, 0][:4]
        if rate is not None:
            rate_cell.value = rate
        ws.append(
            [
                _text(ws, reporter_name or full_name or username),
                _text(ws, org_name),
                *four,
                rate_cell if rate is not None else None,
                _text(ws, grade if grade != "—" else ""),
            ]
        )
        counter.tick()


# --- 申报表 -------------------------------------------------------------------------------------------


def _write_declaration(
    ws: Any,
    campaign: Campaign,
    org: OrgUnit,
    rounds: list[RatingRound],
    schemes: dict[int, Scheme],
    data: _OrgData,
) -> None:
    """The paper 申报表 of one organisation: what it declared, never a proposed level."""
    rnd = next((r for r in rounds if r.applies_to == org.kind), None)
    rating = (
        Rating.objects.filter(round=rnd, org=org)
        .values("declared_level", "declaration", "first_review_note")
        .first()
        if rnd is not None
        else None
    )
    findings = Finding.objects.filter(campaign=campaign, org=org).aggregate(
        total=Count("pk"),
        closed=Count("pk", filter=Q(rectification__status=RectificationStatus.CLOSED)),
    )
    evidence = EntryEvidence.objects.filter(entry__campaign=campaign, entry__org=org).count()
    parent = (
        OrgUnit.objects.filter(pk=org.parent_id).values_list("name", flat=True).first() or ""
        if org.parent_id is not None
        else ""
    )
    sums = data.sums.get(org.pk)
    applicable, done = (sums[3], sums[4]) if sums else (0, 0)
    scheme = schemes.get(rnd.pk) if rnd is not None else None
    declared = rating["declared_level"] if rating else None

    for column, width in zip("ABCD", (16, 34, 16, 34), strict=True):
        ws.column_dimensions[column].width = width
    rows: list[list[Any]] = []
    merges: list[str] = []
    heights: dict[int, float] = {}

    def box(value: object, **style: Any) -> Cell:
        return _styled(ws, value, border=_BOX, alignment=style.pop("alignment", _WRAP), **style)

    def label(text: str) -> Cell:
        return box(text, font=_HEADER_FONT, alignment=_CENTER)

    def wide(name: str, text: str, height: float) -> None:
        rows.append([label(name), box(text), box(None), box(None)])
        merges.append(f"B{len(rows)}:D{len(rows)}")
        heights[len(rows)] = height

    rows.append([_styled(ws, DECLARATION_TITLE, font=_TITLE_FONT, alignment=_CENTER)])
    merges.append("A1:D1")
    heights[1] = 36
    rows.append([_styled(ws, f"{campaign.year} 年度", alignment=_CENTER)])
    merges.append("A2:D2")
    rows.append([label("党组织名称"), box(org.name), label("上级党组织"), box(parent)])
    rows.append(
        [
            label("书记"),
            box(data.secretaries.get(org.pk, "")),
            label("党员数"),
            box(data.members.get(org.pk, 0)),
        ]
    )
    rows.append(
        [
            label("申报星级"),
            box(_level_label(scheme, declared) if declared is not None else ""),
            label("自评得分"),
            box(_points(sums[0]) if sums else None),
        ]
    )
    wide("申报理由", rating["declaration"] if rating else "", 90)
    rate = (
        f"{(Decimal(done) * 100 / applicable).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"
        if applicable
        else "—"
    )
    wide(
        "主要工作成效",
        f"本年度任务清单应完成 {applicable} 项，已完成 {done} 项（完成率 {rate}）；佐证材料 {evidence} 份。",
        60,
    )
    total_findings, closed = findings["total"], findings["closed"]
    wide(
        "整改情况",
        f"发现问题 {total_findings} 个，已整改销号 {closed} 个，正在整改 {total_findings - closed} 个。"
        if total_findings
        else "本年度未发现问题。",
        60,
    )
    first_note = rating["first_review_note"] if rating else ""
    for name, text in (
        ("党组织意见", ""),
        ("上级党组织初审意见", first_note or ""),
        ("工委审核意见", ""),
    ):
        body = f"{text}\n\n\n{SIGNATURE_LINE}" if text else f"\n\n\n{SIGNATURE_LINE}"
        wide(name, body, 110)
    for number, height in heights.items():
        ws.row_dimensions[number].height = height
    for row in rows:
        ws.append(row)
    for merge in merges:
        ws.merged_cells.add(merge)


# --- the workbook --------------------------------------------------------------------------------


def _totals(campaign: Campaign, org: OrgUnit) -> int:
    orgs = summary_org_rows(campaign, org).count()
    entries = ChecklistEntry.objects.filter(_in_scope(org), campaign=campaign).count()
    findings = Finding.objects.filter(_in_scope(org), campaign=campaign).count()
    reporters = SessionReporter.objects.filter(_in_scope(org), session__campaign=campaign).count()
    return orgs + entries + findings + reporters


def assessment_workbook(
    *,
    campaign: Campaign,
    org: OrgUnit,
    out: Output,
    progress: Progress | None = None,
    viewer: User | None = None,
) -> None:
    """Write the §12 assessment workbook of ``org``'s subtree for ``campaign`` to ``out``.

    ``out`` is a file path or a binary stream. ``progress(done, total, stage)`` is called at each
    sheet and every ``PROGRESS_EVERY`` rows. ``viewer`` (the requester) decides whether proposed
    levels before 公示 are shown (None: shown, as for the shell command).
    """
    committee_path = Campaign.objects.filter(pk=campaign.pk).values_list("committee__path", flat=True).first()
    if committee_path is None or not org.path.startswith(committee_path):
        raise ExportScopeError(f"{org.name}不属于“{campaign.name}”的工委")
    counter = _Counter(total=_totals(campaign, org), report=progress)
    rounds = campaign_rounds(campaign)
    schemes = {rnd.pk: scheme_of(rnd.scheme) for rnd in rounds}
    level_visible = _level_visible(viewer)
    single = not OrgUnit.objects.filter(parent_id=org.pk).exists()

    wb = Workbook(write_only=True)
    help_sheet = wb.create_sheet(SHEET_HELP)
    summary = _sheet(wb, SHEET_SUMMARY, SUMMARY_COLUMNS, _SUMMARY_WIDTHS)
    detail = _sheet(wb, SHEET_DETAIL, DETAIL_COLUMNS, _DETAIL_WIDTHS)
    rectifications = _sheet(wb, SHEET_RECTIFICATION, RECTIFICATION_COLUMNS, _RECTIFICATION_WIDTHS)
    review = _sheet(wb, SHEET_REVIEW, REVIEW_COLUMNS, _REVIEW_WIDTHS)
    tasks = _sheet(wb, SHEET_TASKS, TASK_COLUMNS, _TASK_WIDTHS)
    declaration = wb.create_sheet(SHEET_DECLARATION) if single else None

    counter.begin(_stage(SHEET_HELP))
    _write_help(help_sheet, campaign, org, rounds, schemes)
    counter.begin(_stage(SHEET_SUMMARY))
    data = _org_data(campaign, org, rounds, schemes, level_visible)
    _write_summary(summary, campaign, org, data, rounds, counter)
    counter.begin(_stage(f"{SHEET_DETAIL}、{SHEET_TASKS}"))
    _write_entries(detail, tasks, campaign, org, counter)
    counter.begin(_stage(SHEET_RECTIFICATION))
    _write_rectifications(rectifications, campaign, org, counter)
    counter.begin(_stage(SHEET_REVIEW))
    _write_review(review, campaign, org, counter)
    if declaration is not None:
        counter.begin(_stage(SHEET_DECLARATION))
        _write_declaration(declaration, campaign, org, rounds, schemes, data)
    counter.begin("正在保存文件")
    wb.save(out)
    counter.done = counter.total
    counter.begin("已完成")

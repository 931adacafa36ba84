"""The year-end assessment workbook (domain.md §12): sheets, cells, subtotals, scoping and R10.

Every test writes the workbook with ``scoring.exports.assessment_workbook`` and reads the bytes
back with openpyxl.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from openpyxl.workbook import Workbook as LoadedWorkbook

from branches.models import OrgKind, OrgUnit, User
from campaigns.models import (
    BallotTally,
    Campaign,
    Checklist,
    ChecklistEntry,
    ChecklistItem,
    EntryEvidence,
    EntryMode,
    EntryStatus,
    Evidence,
    Finding,
    FindingSource,
    Frequency,
    Rectification,
    RectificationStatus,
    ReviewSession,
    SessionReporter,
    SessionStatus,
)
from scoring import exports
from scoring.models import RatingRound
from scoring.services import compile_now
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
from tests.conftest import Tree
from tests.factories import MemberFactory, make_org
from tests.scoring.factories import make_round

pytestmark = pytest.mark.django_db

YEAR = 2026
TODAY = date(YEAR, 12, 31)
FORMULA = '=HYPERLINK("http://x","y")'


@dataclass
class World:
    tree: Tree
    campaign: Campaign
    rnd: RatingRound
    items: dict[str, ChecklistItem]
    secretary: User


def _entries(campaign: Campaign, org: OrgUnit, items: dict[str, ChecklistItem]) -> None:
    """The standard entries of an organisation: every item approved."""
    for code, (self_score, reviewed) in {
        "ZZ-01": ("5", "5"),
        "ZZ-02": ("10", "9"),
        "ZY-01": ("80", "75"),
    }.items():
        make_entry(
            campaign,
            org,
            items[code],
            status=EntryStatus.APPROVED,
            self_score=Decimal(self_score),
            first_review_score=Decimal(reviewed),
            review_score=Decimal(reviewed),
            completed_on=date(YEAR, 6, 1),
        )


def build_export_world(tree: Tree, staff: User, secretary: User) -> World:
    """A campaign over the shared tree: entries of every organisation, A1's special ones, findings,
    a 述职评议 and a compiled rating round with its publicity dates."""
    campaign = make_campaign(tree.gw, year=YEAR)
    politics = make_section(campaign, "政治建设", 1)
    organisation = make_section(campaign, "组织建设", 2)
    items = {
        "ZZ-01": make_item(
            campaign, politics, code="ZZ-01", title="学习贯彻党的二十大精神", points="5", sort_order=1
        ),
        "ZZ-02": make_item(campaign, politics, code="ZZ-02", title="开展主题党日", points="10", sort_order=2),
        "ZY-01": make_item(
            campaign, organisation, code="ZY-01", title="落实三会一课", points="80", sort_order=1
        ),
    }
    Checklist.objects.create(campaign=campaign, org=tree.gw)  # the 工委's own (empty) checklist
    for org in (tree.a, tree.ag, tree.ag1, tree.a2, tree.b, tree.b1, tree.d1):
        _entries(campaign, org, items)
    # A1: one entry with evidence, one returned, one reviewed.
    first = make_entry(
        campaign,
        tree.a1,
        items["ZZ-01"],
        status=EntryStatus.APPROVED,
        self_score=Decimal("5"),
        first_review_score=Decimal("4.5"),
        review_score=Decimal("4"),
        completed_on=date(YEAR, 6, 20),
        responsible=secretary,
    )
    for title in ("学习记录", "照片"):
        EntryEvidence.objects.create(entry=first, evidence=Evidence.objects.create(org=tree.a1, title=title))
    make_entry(campaign, tree.a1, items["ZZ-02"], status=EntryStatus.RETURNED, return_reason="佐证材料不全")
    make_entry(
        campaign,
        tree.a1,
        items["ZY-01"],
        status=EntryStatus.APPROVED,
        self_score=Decimal("80"),
        first_review_score=Decimal("78"),
        review_score=Decimal("78"),
        completed_on=date(YEAR, 9, 30),
    )
    for org, text in ((tree.a1, "三会一课记录不规范"), (tree.b1, "外单位的问题")):
        finding = Finding.objects.create(
            campaign=campaign, org=org, source=FindingSource.INSPECTION, description=text
        )
        rect = Rectification.objects.create(
            finding=finding,
            campaign=campaign,
            org=org,
            status=RectificationStatus.CLOSED,
            measures=f"{org.code}的整改措施",
            responsible_name=f"{org.code}责任人",
            leader_name=f"{org.code}领导",
            deadline=date(YEAR, 8, 31),
            progress="已完成整改",
            closed_on=date(YEAR, 9, 1),
        )
        rect.evidence.add(Evidence.objects.create(org=org, title="整改照片"))
    session = ReviewSession.objects.create(
        campaign=campaign,
        title="党支部书记述职评议",
        held_on=date(YEAR, 12, 20),
        scope=tree.gw,
        entry_mode=EntryMode.TALLY,
        status=SessionStatus.CLOSED,
    )
    for n, (org, counts) in enumerate(((tree.a1, (8, 1, 1, 0)), (tree.b1, (2, 2, 3, 3))), start=1):
        reporter = SessionReporter.objects.create(
            session=session, org=org, reporter_name=f"{org.code}书记", sort_order=n
        )
        for label, count in zip(("好", "较好", "一般", "差"), counts, strict=True):
            BallotTally.objects.create(reporter=reporter, label=label, count=count)
    rnd = make_round(campaign, staff)
    RatingRound.objects.filter(pk=rnd.pk).update(
        publicity_starts_on=date(YEAR + 1, 1, 5), publicity_ends_on=date(YEAR + 1, 1, 9)
    )
    compile_now(rnd=rnd, actor=staff, today=TODAY)
    rnd.refresh_from_db()
    return World(tree=tree, campaign=campaign, rnd=rnd, items=items, secretary=secretary)


@pytest.fixture
def world(tree: Tree, committee_staff: User, branch_secretary: User) -> World:
    return build_export_world(tree, committee_staff, branch_secretary)


def write(world: World, org: OrgUnit, **kwargs: Any) -> bytes:
    out = BytesIO()
    exports.assessment_workbook(campaign=world.campaign, org=org, out=out, **kwargs)
    return out.getvalue()


def read(data: bytes) -> LoadedWorkbook:
    return load_workbook(BytesIO(data))


def rows(wb: LoadedWorkbook, sheet: str) -> list[tuple[Any, ...]]:
    return list(wb[sheet].iter_rows(min_row=2, values_only=True))


def all_text(wb: LoadedWorkbook) -> str:
    return "\n".join(
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
    )


# --- sheets and headers -------------------------------------------------------------------------


def test_workbook_of_a_subtree_has_the_six_sheets_of_domain_12_in_order(world: World) -> None:
    wb = read(write(world, world.tree.a))

    assert wb.sheetnames == ["说明", "汇总表", "评分明细", "整改台账", "述职评议测评统计", "任务清单完成情况"]


def test_each_table_sheet_starts_with_its_exact_chinese_header_row(world: World) -> None:
    wb = read(write(world, world.tree.a))

    headers = {name: next(wb[name].iter_rows(max_row=1, values_only=True)) for name in wb.sheetnames[1:]}
    assert headers == {
        "汇总表": exports.SUMMARY_COLUMNS,
        "评分明细": exports.DETAIL_COLUMNS,
        "整改台账": exports.RECTIFICATION_COLUMNS,
        "述职评议测评统计": exports.REVIEW_COLUMNS,
        "任务清单完成情况": exports.TASK_COLUMNS,
    }
    assert exports.SUMMARY_COLUMNS[:5] == ("序号", "上级党组织", "党组织名称", "书记", "党员数")
    assert exports.DETAIL_COLUMNS[-1] == "扣分说明" and exports.RECTIFICATION_COLUMNS[-1] == "佐证"
    assert exports.REVIEW_COLUMNS == ("述职人", "党组织", "好", "较好", "一般", "差", "好率", "综合等次")


def test_table_headers_are_bold_frozen_and_columns_have_widths(world: World) -> None:
    wb = read(write(world, world.tree.a))

    for name in wb.sheetnames[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert all(cell.font.b for cell in ws[1])
        assert ws.column_dimensions["B"].width > 10


def test_help_sheet_names_campaign_scope_scheme_bands_quotas_and_vetoes(world: World) -> None:
    wb = read(write(world, world.tree.a))

    text = all_text(wb)
    help_text = "\n".join(str(v) for row in wb["说明"].iter_rows(values_only=True) for v in row if v)
    assert "2026年度模范机关创建考核汇总表" in help_text
    assert world.campaign.name in help_text
    assert f"{world.tree.a.name}（A）" in help_text
    assert "测试评星方案（第 1 版）" in help_text
    assert "五星级 ≥ 90 分" in help_text and "三星级 ≥ 60 分" in help_text
    assert "五星级：不超过 25%" in help_text
    assert "班子成员发生严重违纪违法问题：不予评定" in help_text
    assert "导出时间" in text


# --- 评分明细 ---------------------------------------------------------------------------------------


def _detail_rows(wb: LoadedWorkbook, code: str) -> list[tuple[Any, ...]]:
    return [r for r in rows(wb, "评分明细") if r[0] == code]


def test_a_known_entry_is_written_with_scores_as_numbers_a_real_date_and_its_evidence(world: World) -> None:
    wb = read(write(world, world.tree.a))

    row = next(r for r in _detail_rows(wb, "A1") if r[3] == "ZZ-01")
    assert row == (
        "A1",
        "财政局预算股党支部",
        "政治建设",
        "ZZ-01",
        "学习贯彻党的二十大精神",
        5,
        5,
        4.5,
        4,
        "已通过",
        datetime(YEAR, 6, 20),
        2,
        None,
    )
    ws = wb["评分明细"]
    cell = next(
        c for r in ws.iter_rows(min_row=2) if r[0].value == "A1" and r[3].value == "ZZ-01" for c in r[10:11]
    )
    assert cell.number_format == "yyyy-mm-dd"


def test_a_returned_entry_gives_its_return_reason_as_the_deduction_note(world: World) -> None:
    wb = read(write(world, world.tree.a))

    row = next(r for r in _detail_rows(wb, "A1") if r[3] == "ZZ-02")
    assert row[9] == "已退回" and row[12] == "佐证材料不全"


def test_each_section_of_an_organisation_ends_with_a_subtotal_and_the_organisation_with_a_total(
    world: World,
) -> None:
    wb = read(write(world, world.tree.a))

    a1 = _detail_rows(wb, "A1")
    assert [(r[2], r[3], r[4]) for r in a1] == [
        ("政治建设", "ZZ-01", "学习贯彻党的二十大精神"),
        ("政治建设", "ZZ-02", "开展主题党日"),
        ("政治建设", None, "小计"),
        ("组织建设", "ZY-01", "落实三会一课"),
        ("组织建设", None, "小计"),
        (None, None, "合计"),
    ]
    politics, organisation, total = a1[2], a1[4], a1[5]
    assert politics[5:9] == (15, 5, 4.5, 4) and politics[11] == 2
    assert organisation[5:9] == (80, 80, 78, 78)
    assert total[5:9] == (95, 85, 82.5, 82) and total[11] == 2


def test_subtotal_rows_are_bold(world: World) -> None:
    wb = read(write(world, world.tree.a1))

    ws = wb["评分明细"]
    subtotal = next(r for r in ws.iter_rows(min_row=2) if r[4].value == "小计")
    assert subtotal[4].font.b and subtotal[5].font.b


def test_a_recurring_item_counts_once_with_the_mean_of_its_periods_in_the_subtotal(
    world: World, tree: Tree
) -> None:
    section = make_section(world.campaign, "作风建设", 3)
    item = make_item(world.campaign, section, code="ZF-01", points="4", frequency=Frequency.QUARTERLY)
    for period, score in enumerate(("4", "4", "2", "2"), start=1):
        make_entry(
            world.campaign,
            tree.a2,
            item,
            period=period,
            status=EntryStatus.APPROVED,
            self_score=Decimal(score),
        )

    wb = read(write(world, tree.a2))

    a2 = _detail_rows(wb, "A2")
    periods = [r for r in a2 if r[3] == "ZF-01"]
    assert [r[4] for r in periods] == [f"{item.title}（第{n}期）" for n in range(1, 5)]
    subtotal = next(r for r in a2 if r[2] == "作风建设" and r[4] == "小计")
    assert subtotal[5] == 4 and subtotal[6] == 3


# --- 汇总表 -----------------------------------------------------------------------------------------


def test_summary_row_of_a_branch_has_its_sums_people_rating_and_publicity(world: World, tree: Tree) -> None:
    wb = read(write(world, tree.a))

    row = next(r for r in rows(wb, "汇总表") if r[2] == tree.a1.name)
    assert row[1] == tree.a.name
    assert row[3] == world.secretary.display_name
    assert row[4] == 3
    assert row[5:8] == (85, 82.5, 82)
    assert row[9] == 0 and row[10] == 0  # no bonus, no deduction in the test scheme
    assert row[11] == 82
    assert row[12] is None
    assert row[14] == "四星级"
    assert row[15] is None  # not named yet
    assert row[16] == "2027-01-05 至 2027-01-09"


def test_summary_has_one_row_per_organisation_with_a_checklist_in_tree_order_without_the_committee(
    world: World, tree: Tree
) -> None:
    wb = read(write(world, tree.gw))

    names = [r[2] for r in rows(wb, "汇总表")]
    assert [r[0] for r in rows(wb, "汇总表")] == list(range(1, 9))
    assert tree.gw.name not in names
    assert names == [
        o.name
        for o in OrgUnit.objects.exclude(kind=OrgKind.COMMITTEE).order_by("path")
        if Checklist.objects.filter(org=o).exists()
    ]


def test_summary_leaves_rating_columns_blank_for_an_organisation_not_rated(world: World, tree: Tree) -> None:
    wb = read(write(world, tree.a))

    row = next(r for r in rows(wb, "汇总表") if r[2] == tree.a.name)  # 机关党委: the round rates branches
    assert row[5:8] == (95, 89, 89)
    assert row[8:16] == (None,) * 8


def test_review_score_bonus_and_deduction_come_from_the_compiled_rating(
    world: World, tree: Tree, committee_staff: User
) -> None:
    from scoring.models import FactKind, RatingFact
    from scoring.services import round_adopt
    from tests.scoring.factories import make_scheme

    scheme = make_scheme(
        world.campaign,
        committee_staff,
        score={
            "deductions": [{"kind": "overdue_entry", "points": 1}],
            "components": [{"source": "basic", "weight": "0.7"}, {"source": "good_rate", "weight": "0.3"}],
            "bonus": {"items": [{"kind": "党建品牌", "cap": 5}]},
        },
    )
    rnd = round_adopt(rnd=world.rnd, scheme=scheme, actor=committee_staff)
    RatingFact.objects.create(
        campaign=world.campaign, org=tree.a1, kind=FactKind.BONUS, key="党建品牌", value=Decimal("3")
    )
    compile_now(rnd=rnd, actor=committee_staff, today=TODAY)

    wb = read(write(world, tree.a1))

    row = rows(wb, "汇总表")[0]
    # 述职评议 8 好 + 1 较好 of 10 votes; ZZ-02 is open past its due date and ZY-01 was done late.
    assert row[8:11] == (90, 3, 2)
    assert row[11] == float((Decimal(82) - 2) * Decimal("0.7") + 90 * Decimal("0.3") + 3)


def test_a_vetoed_branch_shows_the_veto_description(world: World, tree: Tree, committee_staff: User) -> None:
    from scoring.models import FactKind, RatingFact

    RatingFact.objects.create(campaign=world.campaign, org=tree.a2, kind=FactKind.VETO, key="违纪违法")
    compile_now(rnd=world.rnd, actor=committee_staff, today=TODAY)

    wb = read(write(world, tree.a))

    row = next(r for r in rows(wb, "汇总表") if r[2] == tree.a2.name)
    assert row[12] == "班子成员发生严重违纪违法问题"
    assert row[14] == "未定级"


def test_a_branch_secretary_does_not_see_proposed_levels_before_publicity(world: World, tree: Tree) -> None:
    hidden = read(write(world, tree.a1, viewer=world.secretary))
    shown = read(write(world, tree.a1, viewer=User.objects.get(username="gw_staff")))

    assert rows(hidden, "汇总表")[0][14] == exports.HIDDEN_LEVEL
    assert rows(shown, "汇总表")[0][14] == "四星级"


# --- 整改台账, 述职评议, 任务清单完成情况 -----------------------------------------------------------------------


def test_rectification_ledger_lists_each_finding_with_its_rectification(world: World, tree: Tree) -> None:
    wb = read(write(world, tree.a))

    assert rows(wb, "整改台账") == [
        (
            1,
            tree.a1.name,
            "督查检查",
            "三会一课记录不规范",
            "A1的整改措施",
            "A1责任人",
            "A1领导",
            datetime(YEAR, 8, 31),
            "已完成整改",
            datetime(YEAR, 9, 1),
            1,
        )
    ]


def test_review_sheet_counts_votes_and_computes_good_rate_and_grade(world: World, tree: Tree) -> None:
    wb = read(write(world, tree.gw))

    assert rows(wb, "述职评议测评统计") == [
        ("A1书记", tree.a1.name, 8, 1, 1, 0, 0.9, "好"),
        ("B1书记", tree.b1.name, 2, 2, 3, 3, 0.4, "差"),
    ]
    assert wb["述职评议测评统计"]["G2"].number_format == "0.00%"


def test_task_sheet_has_responsible_person_due_date_status_and_evidence(world: World, tree: Tree) -> None:
    wb = read(write(world, tree.a1))

    assert rows(wb, "任务清单完成情况")[0] == (
        tree.a1.name,
        "政治建设",
        "学习贯彻党的二十大精神",
        world.secretary.display_name,
        datetime(YEAR, 6, 30),
        "已通过",
        datetime(YEAR, 6, 20),
        2,
    )
    assert len(rows(wb, "任务清单完成情况")) == 3


# --- 申报表 -----------------------------------------------------------------------------------------


def test_declaration_form_is_added_for_a_single_organisation(world: World, tree: Tree) -> None:
    from scoring.models import Rating

    Rating.objects.filter(round=world.rnd, org=tree.a1).update(
        declared_level=5, declaration="全年任务全部完成", first_review_note="同意申报"
    )

    wb = read(write(world, tree.a1))

    assert wb.sheetnames[-1] == "申报表"
    ws = wb["申报表"]
    text = all_text(wb)
    assert ws["A1"].value == "模范机关创建星级申报表" and ws["A1"].font.b
    assert "A1:D1" in {str(r) for r in ws.merged_cells.ranges}
    labels = [row[0] for row in ws.iter_rows(min_row=3, values_only=True)]
    assert labels == [
        "党组织名称",
        "书记",
        "申报星级",
        "申报理由",
        "主要工作成效",
        "整改情况",
        "党组织意见",
        "上级党组织初审意见",
        "工委审核意见",
    ]
    assert [ws["B3"].value, ws["D3"].value] == [tree.a1.name, tree.a.name]
    assert [ws["B4"].value, ws["D4"].value] == [world.secretary.display_name, 3]
    assert [ws["B5"].value, ws["D5"].value] == ["五星级", 85]
    assert ws["B6"].value == "全年任务全部完成"
    assert "应完成 3 项，已完成 2 项" in ws["B7"].value
    assert ws["B8"].value.startswith("发现问题 1 个，已整改销号 1 个")
    assert ws["B10"].value.startswith("同意申报")
    assert text.count("书记签字：　　　　（盖章）　　年　月　日") == 3


def test_no_declaration_form_for_an_organisation_with_children(world: World, tree: Tree) -> None:
    assert "申报表" not in read(write(world, tree.a)).sheetnames
    assert "申报表" not in read(write(world, tree.gw)).sheetnames


# --- scoping ----------------------------------------------------------------------------------------


def test_export_of_subtree_a_contains_no_row_of_another_subtree_on_any_sheet(
    world: World, tree: Tree
) -> None:
    wb = read(write(world, tree.a))

    text = all_text(wb)
    for outsider in (tree.b, tree.b1, tree.d1):
        assert outsider.name not in text
    # The 工委 appears only as the 上级党组织 of A, never as a row of its own.
    assert [r[1] for r in rows(wb, "汇总表") if tree.gw.name in r] == [tree.gw.name]
    assert "外单位的问题" not in text and "B1书记" not in text
    for name in wb.sheetnames[1:]:
        for row in wb[name].iter_rows(min_row=2, values_only=True):
            assert "B1" not in row and tree.b1.name not in row
    codes = {r[0] for r in rows(wb, "评分明细")}
    assert codes == {"A", "AG", "AG1", "A1", "A2"}


def test_export_of_a_branch_contains_only_that_branch(world: World, tree: Tree) -> None:
    wb = read(write(world, tree.b1))

    assert {r[0] for r in rows(wb, "评分明细")} == {"B1"}
    assert [r[2] for r in rows(wb, "汇总表")] == [tree.b1.name]
    assert [r[1] for r in rows(wb, "整改台账")] == [tree.b1.name]
    assert [r[1] for r in rows(wb, "述职评议测评统计")] == [tree.b1.name]


def test_an_organisation_outside_the_campaign_committee_subtree_is_refused(tree: Tree) -> None:
    campaign = Campaign.objects.create(committee=tree.a, year=2030, name="A 的活动")

    with pytest.raises(exports.ExportScopeError):
        exports.assessment_workbook(campaign=campaign, org=tree.b, out=BytesIO())


# --- R10: user text never becomes a formula -----------------------------------------------------


@pytest.mark.parametrize("text", [FORMULA, "+1", "-1", "@SUM(A1)", "#N/A"])
def test_user_text_that_looks_like_a_formula_comes_back_as_the_same_string(
    world: World, tree: Tree, text: str
) -> None:
    OrgUnit.objects.filter(pk=tree.a2.pk).update(name=text)
    ChecklistEntry.objects.filter(org=tree.a1, item=world.items["ZZ-02"]).update(return_reason=text)
    Finding.objects.filter(org=tree.a1).update(description=text)
    Rectification.objects.filter(org=tree.a1).update(measures=text, responsible_name=text, progress=text)
    ChecklistItem.objects.filter(pk=world.items["ZY-01"].pk).update(title=text)

    data = write(world, tree.a)

    wb = read(data)
    assert text in [r[2] for r in rows(wb, "汇总表")]
    a1 = _detail_rows(wb, "A1")
    assert next(r for r in a1 if r[3] == "ZZ-02")[12] == text
    assert next(r for r in a1 if r[3] == "ZY-01")[4] == text
    assert rows(wb, "整改台账")[0][3:6] == (text, text, text)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value == text:
                    assert cell.data_type == "s"
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 6
        for name in sheets:
            xml = archive.read(name)
            assert b"<f>" not in xml and b"<f " not in xml


# --- queries and progress ---------------------------------------------------------------------------


def _agency_with_branches(tree: Tree, campaign: Campaign, items: dict[str, ChecklistItem], n: int) -> OrgUnit:
    agency = make_org(OrgKind.AGENCY_COMMITTEE, tree.gw, code=f"Q{n}", name=f"测试{n}机关党委")
    _entries(campaign, agency, items)
    for i in range(n):
        branch = make_org(OrgKind.BRANCH, agency, code=f"Q{n}-{i}", name=f"测试{n}第{i}党支部")
        MemberFactory(org=branch)
        _entries(campaign, branch, items)
        entry = ChecklistEntry.objects.filter(org=branch).first()
        assert entry is not None
        EntryEvidence.objects.create(entry=entry, evidence=Evidence.objects.create(org=branch, title="材料"))
        finding = Finding.objects.create(
            campaign=campaign, org=branch, source=FindingSource.SELF_CHECK, description="问题"
        )
        Rectification.objects.create(finding=finding, campaign=campaign, org=branch, measures="措施")
        session = ReviewSession.objects.filter(campaign=campaign).first()
        assert session is not None
        reporter = SessionReporter.objects.create(session=session, org=branch, reporter_name="书记")
        BallotTally.objects.create(reporter=reporter, label="好", count=3)
    return agency


def test_query_count_does_not_grow_with_the_number_of_organisations(
    world: World, tree: Tree, committee_staff: User
) -> None:
    one = _agency_with_branches(tree, world.campaign, world.items, 1)
    twenty = _agency_with_branches(tree, world.campaign, world.items, 20)
    compile_now(rnd=world.rnd, actor=committee_staff, today=TODAY)
    write(world, one)  # first-use caches (the parsed scheme) are not a per-row cost

    counts = []
    for org in (one, twenty):
        with CaptureQueriesContext(connection) as ctx:
            data = write(world, org)
        counts.append(len(ctx.captured_queries))
        assert len(rows(read(data), "汇总表")) == 1 + (1 if org == one else 20)

    assert counts[0] == counts[1]


def test_progress_is_reported_per_sheet_and_ends_at_the_total(world: World, tree: Tree) -> None:
    calls: list[tuple[int, int, str]] = []

    write(world, tree.gw, progress=lambda done, total, stage: calls.append((done, total, stage)))

    total = calls[0][1]
    assert (
        total
        == 8 + ChecklistEntry.objects.count() + Finding.objects.count() + SessionReporter.objects.count()
    )
    assert calls[-1] == (total, total, "已完成")
    assert any("评分明细" in stage for _, _, stage in calls)
    assert [done for done, _, _ in calls] == sorted(done for done, _, _ in calls)


def test_download_name_has_year_organisation_and_day_without_path_separators(world: World) -> None:
    org = OrgUnit(name="财政局/预算股", code="X")

    assert (
        exports.download_name(world.campaign, org, date(2026, 12, 31))
        == "2026年度模范机关创建考核汇总表_财政局_预算股_20261231.xlsx"
    )

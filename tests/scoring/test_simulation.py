"""评星模拟测算: reading a 汇总表, simulating a scheme over it and writing the result workbook."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from scoring import presets
from scoring.rules import BonusClaim, OrgInputs
from scoring.schemes import scheme_from_dict
from scoring.simulation import (
    SUMMARY_COLUMNS,
    ScoresError,
    ScoreTable,
    current_inputs,
    read_scores,
    run,
    simulate,
    simulation_workbook,
    summary_lines,
    write_result,
)
from tests.campaigns.factories import make_campaign
from tests.scoring.factories import make_round, scheme_data, score

HEADER = ("序号", "上级党组织", "党组织名称", "审核得分", "评议得分", "扣分", "否决情形", "上年星级")


def table_bytes(
    rows: list[dict[str, Any]],
    columns: tuple[str, ...] | None = None,
    *,
    title_rows: int = 0,
    sheet: str = "汇总表",
) -> bytes:
    """A 汇总表 workbook with the given columns (default: the keys used by the rows, in §12 order)."""
    if columns is None:
        used = {key for row in rows for key in row}
        columns = tuple(c for c in ("序号", *SUMMARY_COLUMNS) if c in used) + tuple(
            sorted(used - set(SUMMARY_COLUMNS))
        )
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    for _ in range(title_rows):
        ws.append(["2025年度基层党支部评星定级汇总表"])
    ws.append(list(columns))
    for row in rows:
        ws.append([row.get(c) for c in columns])
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"  # typed text that merely looks like a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def scheme_b() -> Any:
    return presets.load("scheme_b_city_pingxing")


def bonus_scheme(**changes: Any) -> Any:
    data = scheme_data(
        score={"bonus": {"items": [{"kind": "荣誉表彰", "cap": 5}, {"kind": "特色品牌", "cap": 3}]}},
        **changes,
    )
    data["prerequisites"] = [{"level": 5, "conditions": ["创新项目"], "cap_at_level": 4}]
    return scheme_from_dict(data)


def read_one(row: dict[str, Any], scheme: Any = None) -> OrgInputs:
    (org,) = read_scores(table_bytes([{"党组织名称": "甲支部", **row}]), scheme or bonus_scheme())
    return org


def errors_of(data: bytes, scheme: Any = None) -> list[str]:
    with pytest.raises(ScoresError) as caught:
        read_scores(data, scheme or bonus_scheme())
    return caught.value.lines


# --- the column mapping -------------------------------------------------------------------------


def test_the_name_is_the_id_and_the_parent_is_the_quota_scope() -> None:
    org = read_one({"上级党组织": "财政局机关党委"})
    assert (org.org_id, org.name, org.parent_id) == ("甲支部", "甲支部", "财政局机关党委")


def test_an_empty_parent_is_no_parent() -> None:
    assert read_one({"审核得分": 80}).parent_id is None


def test_the_organisation_code_column_becomes_the_id() -> None:
    org = read_one({"组织编码": "A001"})
    assert (org.org_id, org.name) == ("A001", "甲支部")


def test_the_review_score_is_the_checklist_points() -> None:
    assert read_one({"自评得分": 99, "初审得分": 95, "审核得分": 90}).checklist_points == 90


def test_without_a_review_score_the_first_review_score_counts() -> None:
    assert read_one({"自评得分": 99, "初审得分": 95}).checklist_points == 95


def test_without_any_review_the_self_score_counts() -> None:
    assert read_one({"自评得分": "88.5"}).checklist_points == Decimal("88.5")


def test_a_row_without_any_score_counts_zero_with_a_warning() -> None:
    table = read_scores(table_bytes([{"党组织名称": "甲支部", "书记": "张三"}]), bonus_scheme())
    assert table[0].checklist_points == 0
    assert any("按 0 分计" in w and "甲支部" in w for w in table.warnings)


@pytest.mark.parametrize(
    ("value", "share"), [(98, "0.98"), ("98%", "0.98"), (0.98, "0.98"), (1, "1"), (100, "1")]
)
def test_the_review_rating_is_a_percentage_or_a_fraction_up_to_one(value: Any, share: str) -> None:
    assert read_one({"评议得分": value}).good_rate == Decimal(share)


def test_satisfaction_reads_like_the_review_rating() -> None:
    assert read_one({"满意度": "85%"}).satisfaction == Decimal("0.85")


def test_bonus_goes_to_the_schemes_first_bonus_item_by_default() -> None:
    assert read_one({"加分": 3}).bonus_items == (BonusClaim("荣誉表彰", Decimal(3), "汇总表"),)


def test_the_bonus_kind_column_names_the_kind() -> None:
    assert read_one({"加分": 2, "加分类别": "特色品牌"}).bonus_items == (
        BonusClaim("特色品牌", Decimal(2), "汇总表"),
    )


def test_the_bonus_kind_column_may_split_the_bonus_between_kinds() -> None:
    org = read_one({"加分": 5, "加分类别": "荣誉表彰：3、特色品牌:2"})
    assert set(org.bonus_items) == {
        BonusClaim("荣誉表彰", Decimal(3), "汇总表"),
        BonusClaim("特色品牌", Decimal(2), "汇总表"),
    }


def test_bonus_under_a_scheme_without_bonus_items_counts_nowhere_and_says_so() -> None:
    table = read_scores(table_bytes([{"党组织名称": "甲支部", "审核得分": 80, "加分": 3}]), scheme_b())
    assert any("方案没有加分项" in w for w in table.warnings)
    rating = simulate(scheme_b(), table).ratings[0]
    assert rating.total == Decimal("56.00")  # 80 × 0.7, the 3 points earn nothing


def test_deductions_become_other_deductions() -> None:
    assert read_one({"扣分": "4.5"}).other_deductions == Decimal("4.5")


def test_vetoes_match_the_key_or_the_description_with_any_separator() -> None:
    org = read_one({"否决情形": "违纪违法，发生意识形态领域重大问题"})
    assert org.veto_conditions == {"违纪违法", "意识形态"}


def test_no_veto_may_be_written_as_wu() -> None:
    assert read_one({"否决情形": "无"}).veto_conditions == frozenset()


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("五星级", 5),
        (5, 5),
        ("5星", 5),
        ("四星", 4),
        ("三星级", 3),
        ("未定级", None),
        ("无星", 0),
        (None, None),
    ],
)
def test_last_years_level_spellings(text: Any, level: int | None) -> None:
    assert read_one({"上年星级": text}).last_year_level == level


def test_last_years_level_may_be_a_band_label_of_the_scheme() -> None:
    scheme = presets.load("scheme_a_tianjin_wuhao")
    assert read_one({"上年星级": "五星级（五好党支部）"}, scheme).last_year_level == 5


def test_optional_columns_fill_conditions_honours_named_stars_and_new() -> None:
    org = read_one({"前置条件": "创新项目", "荣誉": "全国先进基层党组织、省级示范", "新组建": "是"})
    assert org.prerequisites_met == {"创新项目"}
    assert org.honours == {"全国先进基层党组织", "省级示范"}
    assert org.is_new is True


def test_named_stars_match_the_key_or_the_label() -> None:
    scheme = presets.load("scheme_k_henan_named")
    first, second = scheme.named_stars[:2]
    org = read_one({"命名星": f"{first.key}、{second.label}"}, scheme)
    assert org.stars_earned == {first.key, second.key}


def test_output_columns_are_not_read() -> None:
    org = read_one(
        {
            "审核得分": 80,
            "综合得分": "很高",
            "拟定星级": "=1+1",
            "最终星级": "十星",
            "公示起止": "x",
            "备注": "y",
        }
    )
    assert org.checklist_points == 80


def test_the_header_row_is_found_below_title_rows() -> None:
    data = table_bytes([{"党组织名称": "甲支部", "审核得分": 80}], title_rows=2)
    assert read_scores(data, bonus_scheme())[0].checklist_points == 80


# --- errors -----------------------------------------------------------------------------------------


def test_an_error_names_the_sheet_the_row_and_the_column() -> None:
    rows = [{"党组织名称": f"支部{i}", "审核得分": 80} for i in range(4)]
    rows[3]["审核得分"] = "八十"
    assert errors_of(table_bytes(rows)) == ["工作表 汇总表 第 5 行 [审核得分]：不是数字。"]


def test_row_numbers_count_title_rows_above_the_header() -> None:
    data = table_bytes([{"党组织名称": "甲支部", "扣分": "x"}], title_rows=2)
    assert errors_of(data) == ["工作表 汇总表 第 4 行 [扣分]：不是数字。"]


def test_every_problem_is_reported_at_once() -> None:
    rows: list[dict[str, Any]] = [
        {"党组织名称": "甲支部", "评议得分": 120, "上年星级": "十星"},
        {"党组织名称": "甲支部", "否决情形": "迟到", "新组建": "可能"},
        {"党组织名称": None, "扣分": -1, "加分类别": "体育比赛"},
    ]
    lines = errors_of(table_bytes(rows))
    assert lines == [
        "工作表 汇总表 第 2 行 [评议得分]：应为 0–100 的百分数（如 98、98% 或 0.98）。",
        "工作表 汇总表 第 2 行 [上年星级]：无法识别的星级“十星”：可填 五星级、5、5星、四星、未定级、无星 或留空。",
        "工作表 汇总表 第 3 行 [党组织名称]：党组织名称“甲支部”与第 2 行重复。",
        "工作表 汇总表 第 3 行 [否决情形]：否决情形“迟到”不在方案中，可填：班子成员发生严重违纪违法问题、发生意识形态领域重大问题。",
        "工作表 汇总表 第 3 行 [新组建]：只能填“是”或“否”（留空为否）。",
        "工作表 汇总表 第 4 行 [党组织名称]：必须填写。",
        "工作表 汇总表 第 4 行 [扣分]：不能小于 0。",
        "工作表 汇总表 第 4 行 [加分类别]：加分类别“体育比赛”不在方案加分项中，可填：荣誉表彰、特色品牌。",
    ]


def test_a_duplicate_organisation_code_is_an_error() -> None:
    rows = [{"党组织名称": "甲", "组织编码": "A1"}, {"党组织名称": "乙", "组织编码": "A1"}]
    assert errors_of(table_bytes(rows)) == ["工作表 汇总表 第 3 行 [组织编码]：组织编码“A1”与第 2 行重复。"]


def test_a_code_equal_to_another_rows_name_is_an_error() -> None:
    rows = [{"党组织名称": "甲"}, {"党组织名称": "乙", "组织编码": "甲"}]
    assert errors_of(table_bytes(rows)) == [
        "工作表 汇总表 第 3 行 [组织编码]：“甲”与第 2 行的组织编码或党组织名称相同，无法区分。"
    ]


def test_split_bonus_must_add_up_to_the_bonus() -> None:
    lines = errors_of(table_bytes([{"党组织名称": "甲", "加分": 4, "加分类别": "荣誉表彰：3、特色品牌：2"}]))
    assert lines == ["工作表 汇总表 第 2 行 [加分类别]：各加分类别分值合计 5 与加分 4 不一致。"]


def test_an_unknown_prerequisite_condition_is_an_error() -> None:
    lines = errors_of(table_bytes([{"党组织名称": "甲", "前置条件": "廉洁证书"}]))
    assert lines == ["工作表 汇总表 第 2 行 [前置条件]：前置条件“廉洁证书”不在方案中，可填：创新项目。"]


def test_a_table_without_the_name_column_is_refused() -> None:
    data = table_bytes([{"审核得分": 80}], columns=("序号", "审核得分"))
    assert errors_of(data) == [
        "工作表 汇总表 [党组织名称]：前 10 行中找不到列名“党组织名称”，请保留汇总表的列名行。"
    ]


def test_a_workbook_without_the_summary_sheet_is_refused() -> None:
    data = table_bytes([{"党组织名称": "甲"}], sheet="Sheet1")
    assert errors_of(data) == ["工作表 汇总表：缺少工作表“汇总表”。"]


def test_a_table_without_rows_is_refused() -> None:
    assert errors_of(table_bytes([], columns=HEADER)) == ["工作表 汇总表：汇总表中没有数据行。"]


def test_a_file_that_is_not_really_xlsx_is_refused_by_its_content() -> None:
    (line,) = errors_of("name,score\n甲,90\n".encode())
    assert "不是有效的 Excel 工作簿" in line


def test_a_file_that_is_not_named_xlsx_is_refused() -> None:
    with pytest.raises(ScoresError) as caught:
        read_scores(table_bytes([{"党组织名称": "甲"}]), bonus_scheme(), file_name="汇总表.xls")
    assert "不是 .xlsx 文件" in caught.value.lines[0]


def test_a_file_over_the_size_cap_is_refused_unread(settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 1000

    class Upload(io.BytesIO):
        name = "汇总表.xlsx"
        size = 5000

        def chunks(self) -> Any:
            raise AssertionError("read although over the cap")

    with pytest.raises(ScoresError) as caught:
        read_scores(Upload(b""), bonus_scheme())
    assert "文件大小超过上限 1000 字节" in caught.value.lines[0]


# --- simulating -------------------------------------------------------------------------------------

# The worked example of the README section “评星模拟测算：汇总表格式” (scheme B preset).
README_EXAMPLE = [
    {"党组织名称": "甲支部", "审核得分": 100, "评议得分": 100},
    {"党组织名称": "乙支部", "审核得分": 95, "评议得分": "90%"},
    {"党组织名称": "丙支部", "审核得分": 90, "评议得分": 80, "扣分": 5},
    {"党组织名称": "丁支部", "审核得分": 80, "评议得分": 0.6},
    {"党组织名称": "戊支部", "审核得分": 70, "评议得分": 50},
    {"党组织名称": "己支部", "审核得分": 50, "评议得分": 50},
    {"党组织名称": "庚支部", "审核得分": 100, "评议得分": 100, "否决情形": "存在取消评定情形"},
]


def test_scheme_b_gives_the_levels_documented_in_the_readme() -> None:
    sim = run(scheme_b(), read_scores(table_bytes(README_EXAMPLE), scheme_b()))
    got = [(r.name, str(r.total), r.level_label, r.quota_label) for r in sim.rows]
    assert got == [
        ("甲支部", "100.00", "五星级", "保留"),
        ("乙支部", "93.50", "四星级", "因名额限制降档"),
        ("丙支部", "83.50", "四星级", "保留"),
        ("丁支部", "74.00", "三星级", "保留"),
        ("戊支部", "64.00", "二星级", "保留"),
        ("己支部", "50.00", "一星级", "保留"),
        ("庚支部", "100.00", "未定级", "不参与名额"),
    ]


def test_scheme_b_distribution_counts_against_the_five_star_quota() -> None:
    sim = run(scheme_b(), read_scores(table_bytes(README_EXAMPLE), scheme_b()))
    five = next(c for c in sim.distribution if c.level == 5)
    assert (five.scope, five.count, five.rated, five.max_seats, five.over) == ("全工委", 1, 6, 1, False)


def test_a_tie_at_the_quota_boundary_is_listed_for_decision() -> None:
    rows = [
        {"党组织名称": "甲支部", "审核得分": 100, "评议得分": 100},
        {"党组织名称": "乙支部", "审核得分": 100, "评议得分": 100},
        {"党组织名称": "丙支部", "审核得分": 80, "评议得分": 80},
        {"党组织名称": "丁支部", "审核得分": 70, "评议得分": 70},
    ]
    sim = run(scheme_b(), read_scores(table_bytes(rows), scheme_b()))
    (tie,) = sim.ties
    assert (tie.scope, tie.label, tie.seats_left, tie.names) == ("全工委", "五星级", 1, ("甲支部", "乙支部"))
    assert [r.quota_label for r in sim.rows[:2]] == ["名额边界并列，待决定"] * 2


def test_quota_per_parent_is_reported_per_parent_organisation() -> None:
    scheme = scheme_from_dict({**scheme_data(), "quota_scope": "parent", "quotas": {"5": {"max": "0.5"}}})
    rows = [
        {"党组织名称": "甲", "上级党组织": "财政局机关党委", "审核得分": 95},
        {"党组织名称": "乙", "上级党组织": "财政局机关党委", "审核得分": 92},
        {"党组织名称": "丙", "上级党组织": "政务中心机关党委", "审核得分": 91},
    ]
    sim = run(scheme, read_scores(table_bytes(rows), scheme))
    scopes = {(c.scope, c.max_seats) for c in sim.distribution if c.level == 5}
    assert scopes == {("上级党组织：财政局机关党委", 1), ("上级党组织：政务中心机关党委", 0)}


def test_the_summary_lines_give_the_distribution_against_the_quota() -> None:
    text = "\n".join(summary_lines(run(scheme_b(), read_scores(table_bytes(README_EXAMPLE), scheme_b()))))
    assert "模拟结果，不影响正式评定" in text
    assert "参评组织 7 个，未定级 1 个" in text
    assert (
        "全工委（参评 6 个）：五星级 1 个（最多 1）；四星级 2 个；三星级 1 个；二星级 1 个；一星级 1 个"
        in text
    )
    assert "名额边界并列：无" in text


def test_the_summary_lines_list_the_ties() -> None:
    rows = [{"党组织名称": n, "审核得分": 100, "评议得分": 100} for n in ("甲支部", "乙支部")]
    rows += [{"党组织名称": n, "审核得分": 60, "评议得分": 60} for n in ("丙支部", "丁支部")]
    text = "\n".join(summary_lines(run(scheme_b(), read_scores(table_bytes(rows), scheme_b()))))
    assert "全工委 五星级 剩余名额 1 个，总分 100：甲支部、乙支部" in text


# --- the result workbook ----------------------------------------------------------------------------


def _written(scheme: Any, table: ScoreTable) -> openpyxl.Workbook:
    out = io.BytesIO()
    write_result(scheme, table, simulate(scheme, table), out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def test_the_result_workbook_has_the_five_sheets() -> None:
    workbook = _written(scheme_b(), read_scores(table_bytes(README_EXAMPLE), scheme_b()))
    assert workbook.sheetnames == ["说明", "汇总表", "名额分布", "待决并列", "评定说明"]


def test_the_result_summary_sheet_has_the_section_12_columns_and_the_simulated_levels() -> None:
    workbook = _written(scheme_b(), read_scores(table_bytes(README_EXAMPLE), scheme_b()))
    rows = list(workbook["汇总表"].iter_rows(values_only=True))
    assert rows[0] == SUMMARY_COLUMNS
    record = dict(zip(rows[0], rows[7], strict=True))
    assert record["党组织名称"] == "庚支部"
    assert record["综合得分"] == 100
    assert record["否决情形"] == "存在取消评定情形"
    assert record["拟定星级"] == "未定级"
    assert record["备注"] == "不参与名额"
    second = dict(zip(rows[0], rows[2], strict=True))
    assert (second["评议得分"], second["拟定星级"], second["备注"]) == (0.9, "四星级", "因名额限制降档")


def test_the_result_help_sheet_describes_scheme_source_and_label() -> None:
    workbook = _written(scheme_b(), read_scores(table_bytes(README_EXAMPLE), scheme_b()))
    help_rows: dict[Any, Any] = {key: value for key, value in workbook["说明"].iter_rows(values_only=True)}
    assert "模拟结果，不影响正式评定" in help_rows["说明"]
    assert help_rows["方案名称"] == scheme_b().name
    assert help_rows["名额"] == "五星级最多 30%（全工委，向下取整）"
    assert help_rows["一票否决"] == "存在取消评定情形：不予评定"
    assert help_rows["数据来源"] == "上传文件：汇总表.xlsx"


def test_the_result_lists_ties_and_every_explanation_line() -> None:
    rows = [{"党组织名称": n, "审核得分": 100, "评议得分": 100} for n in ("甲支部", "乙支部", "丙支部")]
    rows.append({"党组织名称": "丁支部", "审核得分": 60, "评议得分": 60})
    table = read_scores(table_bytes(rows), scheme_b())
    workbook = _written(scheme_b(), table)
    ties = list(workbook["待决并列"].iter_rows(values_only=True))
    assert ties[1] == ("全工委", "五星级", 1, 100, "甲支部、乙支部、丙支部")
    lines = [r for r in workbook["评定说明"].iter_rows(values_only=True) if r[1] == "甲支部"]
    assert len(lines) == len(simulate(scheme_b(), table).by_id("甲支部").explanation)
    assert ("总分", "合计（保留两位小数）", 100) in [r[2:] for r in lines]


def test_user_text_is_never_written_as_a_formula() -> None:
    table = read_scores(table_bytes([{"党组织名称": '=HYPERLINK("x")', "上级党组织": "+1"}]), scheme_b())
    workbook = _written(scheme_b(), table)
    cells = {c.value: c for c in workbook["汇总表"][2]}
    assert cells['=HYPERLINK("x")'].data_type == "s"
    assert cells["+1"].data_type == "s"


def test_a_written_result_reads_back_as_the_same_inputs() -> None:
    rows = [
        {
            "组织编码": "A1",
            "上级党组织": "财政局机关党委",
            "党组织名称": "甲支部",
            "书记": "张三",
            "党员数": 12,
            "审核得分": "91.5",
            "评议得分": "98.5%",
            "加分": 5,
            "加分类别": "荣誉表彰：3、特色品牌：2",
            "扣分": 2,
            "否决情形": "意识形态",
            "上年星级": "四星级",
            "满意度": 0.876,
            "前置条件": "创新项目",
            "荣誉": "省级示范",
        },
        {"组织编码": "A2", "党组织名称": "乙支部", "自评得分": 88, "初审得分": 86, "新组建": "是"},
        {"组织编码": "A3", "党组织名称": "丙支部", "自评得分": 70, "上年星级": "无星", "加分": 1},
    ]
    scheme = bonus_scheme()
    table = read_scores(table_bytes(rows), scheme)
    out = io.BytesIO()
    write_result(scheme, table, simulate(scheme, table), out)
    assert list(read_scores(out.getvalue(), scheme)) == list(table)


def test_a_written_result_under_a_scheme_without_bonus_items_reads_back_the_same() -> None:
    table = read_scores(table_bytes([{"党组织名称": "甲支部", "审核得分": 80, "加分": 3}]), scheme_b())
    out = io.BytesIO()
    write_result(scheme_b(), table, simulate(scheme_b(), table), out)
    assert list(read_scores(out.getvalue(), scheme_b())) == list(table)


# --- current data of a round ------------------------------------------------------------------------


@pytest.mark.django_db
def test_current_inputs_are_the_rounds_organisations_with_their_details(tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw)
    score(campaign, tree.a1, "92")
    rnd = make_round(campaign, committee_staff)
    table = current_inputs(rnd)
    org = next(o for o in table if o.org_id == tree.a1.pk)
    assert org.checklist_points == 92
    details = table.details[tree.a1.pk]
    assert (details.code, details.parent, details.members) == ("A1", tree.a.name, 3)
    assert "当前数据" in table.source


@pytest.mark.django_db
def test_current_data_can_be_simulated_and_written(tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw)
    for org, points in ((tree.a1, "95"), (tree.a2, "85")):
        score(campaign, org, points)
    rnd = make_round(campaign, committee_staff)
    sim = run(scheme_b(), current_inputs(rnd))
    workbook = openpyxl.load_workbook(io.BytesIO(simulation_workbook(sim)))
    rows = {r[2]: r for r in workbook["汇总表"].iter_rows(min_row=2, values_only=True)}
    assert rows[tree.a1.name][1] == tree.a.name
    assert rows[tree.a1.name][7] == 95

"""The structured scheme editor: form fields ↔ scheme dict, errors by field in Chinese, files, summary."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scoring import presets
from scoring.scheme_forms import (
    MAX_SCHEME_BYTES,
    SPARE_ROWS,
    SchemeFileError,
    blank_scheme,
    dict_to_rows,
    editor_error_line,
    form_context,
    form_parse,
    form_to_dict,
    import_error_line,
    load_scheme_json,
    post_data,
    scheme_summary,
)
from scoring.schemes import Quota, SchemeError, scheme_from_dict, scheme_to_dict
from tests.scoring.test_schemes import FULL


def posted(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What the browser submits for the editor prefilled with ``data``, with some inputs changed."""
    return {**post_data(dict_to_rows(data)), **changes}


def errors_for(post: dict[str, Any]) -> list[tuple[str, str]]:
    submitted = form_parse(post)
    errors = list(submitted.errors)
    try:
        scheme_from_dict(submitted.data)
    except SchemeError as exc:
        errors += exc.errors
    return errors


def context_for(post: dict[str, Any]) -> dict[str, Any]:
    return form_context(form_parse(post), errors_for(post))


def cell(context: dict[str, Any], key: str, index: int, field: str) -> dict[str, Any]:
    row = context["lists"][key]["rows"][index]
    return next(c for c in row["cells"] if c["field"] == field)


B_SCHEME = scheme_to_dict(presets.load("scheme_b_city_pingxing"))


@pytest.mark.parametrize("name", presets.available())
def test_every_preset_survives_editor_rows_post_and_form_to_dict_unchanged(name: str) -> None:
    scheme = presets.load(name)
    data = form_to_dict(post_data(dict_to_rows(scheme_to_dict(scheme))))
    assert scheme_from_dict(data) == scheme


def test_a_scheme_using_every_field_survives_the_editor_unchanged() -> None:
    scheme = scheme_from_dict(FULL)
    assert scheme_from_dict(form_to_dict(post_data(dict_to_rows(scheme_to_dict(scheme))))) == scheme


def test_every_list_ends_with_two_blank_spare_rows() -> None:
    context = dict_to_rows(B_SCHEME)
    bands = context["lists"]["bands"]["rows"]
    assert len(bands) == len(B_SCHEME["bands"]) + SPARE_ROWS
    assert all(c["value"] == "" for row in bands[-SPARE_ROWS:] for c in row["cells"])
    assert len(context["lists"]["vetoes"]["rows"]) == len(B_SCHEME["vetoes"]) + SPARE_ROWS


def test_rows_are_named_list_index_field() -> None:
    assert cell(dict_to_rows(B_SCHEME), "bands", 1, "min")["name"] == "bands-1-min"


def test_blank_spare_rows_are_not_saved() -> None:
    assert len(form_to_dict(posted(B_SCHEME))["bands"]) == len(B_SCHEME["bands"])


def test_a_spare_row_filled_in_becomes_a_new_entry() -> None:
    index = len(B_SCHEME["vetoes"])
    data = form_to_dict(
        posted(
            B_SCHEME,
            **{
                f"vetoes-{index}-key": "意识形态",
                f"vetoes-{index}-description": "发生意识形态领域重大问题",
                f"vetoes-{index}-effect": "cap_at_level",
                f"vetoes-{index}-level": "3",
            },
        )
    )
    assert data["vetoes"][-1] == {
        "key": "意识形态",
        "description": "发生意识形态领域重大问题",
        "effect": "cap_at_level",
        "level": 3,
    }


def test_a_row_ticked_for_deletion_is_dropped_and_later_rows_renumbered() -> None:
    data = form_to_dict(posted(B_SCHEME, **{"deductions-0-DELETE": "on"}))
    assert [d["kind"] for d in data["score"]["deductions"]] == [
        "unresolved_finding",
        "repeated_finding",
        "notice",
    ]


def test_rows_removed_by_script_leave_gaps_in_the_numbering_that_do_not_matter() -> None:
    post = {k: v for k, v in posted(B_SCHEME).items() if not k.startswith("bands-1-")}
    post.update({"bands-17-level": "4", "bands-17-min": "80", "bands-17-label": "四星级"})
    assert [b["level"] for b in form_to_dict(post)["bands"]] == [5, 3, 2, 1, 4]


def test_values_are_passed_on_as_typed_for_the_validator() -> None:
    data = form_to_dict(
        posted(B_SCHEME, **{"bands-0-min": "九十", "bands-0-level": "五", "publicity_days": "7"})
    )
    assert data["bands"][0] == {"level": "五", "min": "九十", "label": "五星级"}
    assert data["publicity_days"] == 7


def test_optional_numbers_left_blank_mean_no_limit() -> None:
    data = form_to_dict(posted(B_SCHEME, **{"max_checklist": "", "deductions-0-cap": ""}))
    assert data["score"]["max_checklist"] is None
    assert data["score"]["deductions"][0]["cap"] is None


def test_conditions_may_be_separated_by_commas_or_dunhao() -> None:
    post = posted(
        B_SCHEME,
        **{
            "prerequisites-0-level": "5",
            "prerequisites-0-conditions": "innovation_project、integrity_certificate，brand,award",
            "prerequisites-0-cap_at_level": "4",
        },
    )
    assert form_to_dict(post)["prerequisites"][0]["conditions"] == [
        "innovation_project",
        "integrity_certificate",
        "brand",
        "award",
    ]


def test_skip_honours_are_entered_one_per_line() -> None:
    data = form_to_dict(posted(B_SCHEME, skip_honours="市级综合性荣誉\r\n\r\n省级先进基层党组织\r\n"))
    assert data["promotion"]["skip_honours"] == ["市级综合性荣誉", "省级先进基层党组织"]


def test_unticking_new_orgs_unrated_rates_new_organisations() -> None:
    post = posted(B_SCHEME)
    del post["new_orgs_unrated"]
    assert form_to_dict(post)["promotion"]["new_orgs_unrated"] is False


def test_rated_levels_come_from_the_checkboxes() -> None:
    assert form_to_dict(posted(B_SCHEME, rated=["3", "4", "5"]))["levels"]["rated"] == [3, 4, 5]


def test_shares_are_decimals_between_0_and_1() -> None:
    post = posted(B_SCHEME, **{"quotas-0-max": "0.15"})
    assert scheme_from_dict(form_to_dict(post)).quota_for(5) == Quota(max=Decimal("0.15"))
    assert ("quotas.5.max", "比例须在 0 到 1 之间") in errors_for(posted(B_SCHEME, **{"quotas-0-max": "15"}))


def test_an_error_is_shown_next_to_its_input_with_the_value_kept() -> None:
    context = context_for(posted(B_SCHEME, **{"bands-1-min": "abc"}))
    min_cell = cell(context, "bands", 1, "min")
    assert min_cell["value"] == "abc"
    assert "必须是数字" in min_cell["errors"]
    assert "第2个分档 · 下限：必须是数字" in context["error_lines"]


def test_a_quota_error_is_shown_on_the_row_of_its_level() -> None:
    post = posted(B_SCHEME, **{"quotas-1-level": "4", "quotas-1-max": "0.4", "quotas-1-min": "0.5"})
    context = context_for(post)
    assert cell(context, "quotas", 1, "min")["errors"] == ["最低比例不能高于最高比例"]
    assert "名额 · 4星 · 最低占比：最低比例不能高于最高比例" in context["error_lines"]


def test_a_repeated_quota_level_is_reported_on_the_repeated_row() -> None:
    context = context_for(posted(B_SCHEME, **{"quotas-1-level": "5", "quotas-1-max": "0.2"}))
    assert cell(context, "quotas", 1, "level")["errors"] == ["重复"]


def test_a_whole_list_error_is_shown_above_the_list() -> None:
    context = context_for(posted(B_SCHEME, rated=["1", "2", "3", "4", "5", "6"]))
    assert context["lists"]["bands"]["errors"] == ["每个评定等级都必须有且只有一个分档"]


def test_a_scalar_error_is_shown_by_its_input() -> None:
    context = context_for(posted(B_SCHEME, publicity_days="五天"))
    assert context["fields"]["publicity_days"]["errors"] == ["必须是整数"]
    assert context["fields"]["publicity_days"]["value"] == "五天"


def test_no_rated_level_ticked_is_an_error_on_the_checkboxes() -> None:
    post = posted(B_SCHEME)
    del post["rated"]
    assert context_for(post)["fields"]["rated"]["errors"]


@pytest.mark.parametrize(
    ("path", "message", "line"),
    [
        ("bands[1].min", "下限必须是数字", "第2个分档 · 下限：必须是数字"),
        ("score.deductions[0].points", "每次扣分必须大于 0", "第1个扣分项 · 每次扣分：必须大于 0"),
        ("score.components", "必须包含 basic（基础项）", "得分组成与权重：必须包含 basic（基础项）"),
        ("score.bonus.items[1].cap", "加分上限必须是数字", "第2个加分项 · 加分上限：必须是数字"),
        ("score.bonus.max_total", "总分上限必须大于 0", "总分上限：必须大于 0"),
        ("vetoes[2].effect", "取值必须是 a / b 之一", "第3个否决条件 · 后果：取值必须是 a / b 之一"),
        (
            "prerequisites[0].conditions[1]",
            "必须是非空文字",
            "第1个前置条件 · 条件代码 · 第2项：必须是非空文字",
        ),
        ("quotas.0.min", "比例必须是数字", "名额 · 无星 · 最低占比：比例必须是数字"),
        ("levels.rated[2]", "等级重复", "评定等级 · 第3项：等级重复"),
        ("promotion.direct_rating[0].level", "必须是整数", "第1个直接定级 · 至少定为等级：必须是整数"),
        ("score.bonus.surprise", "未知字段", "得分构成 · 加分 · surprise：未知字段"),
        ("", "必须是对象", "必须是对象"),
    ],
)
def test_editor_error_lines_name_the_field_in_chinese(path: str, message: str, line: str) -> None:
    assert editor_error_line(path, message) == line


def test_import_error_lines_give_the_json_path_and_the_chinese_name() -> None:
    assert (
        import_error_line("bands[0].min", "下限必须是数字") == "bands[0].min（第1个分档 · 下限）：必须是数字"
    )


def test_the_blank_editor_is_a_valid_minimal_bands_scheme() -> None:
    scheme = scheme_from_dict(blank_scheme(2026))
    assert scheme.mode == "bands"
    assert [b.level for b in scheme.bands] == [5, 4, 3]


def test_a_scheme_file_must_be_utf8_json_of_at_most_256_kb() -> None:
    assert load_scheme_json('{"name": "方案"}'.encode()) == {"name": "方案"}
    assert load_scheme_json('\ufeff{"a": 1}'.encode()) == {"a": 1}  # a BOM from Windows editors is fine
    with pytest.raises(SchemeFileError, match="UTF-8"):
        load_scheme_json('{"name": "方案"}'.encode("gbk"))
    with pytest.raises(SchemeFileError, match="第 1 行"):
        load_scheme_json(b'{"name": }')
    with pytest.raises(SchemeFileError, match="256 KB"):
        load_scheme_json(b" " * (MAX_SCHEME_BYTES + 1))


def test_the_summary_reads_every_axis_in_chinese() -> None:
    text = "\n".join(line for _, lines in scheme_summary(scheme_from_dict(FULL)) for line in lines)
    for expected in (
        "五星级：总分 ≥ 95.5 分",
        "四星级：85 分 ≤ 总分 < 95.5 分",
        "低于 75 分：无星",
        "积分制：起始 100 分",
        "清单得分最高计 50 分",
        "被通报每项扣 2.5 分，最多扣 10 分",
        "逾期未完成事项每项扣 1 分，不设上限",
        "基础项 × 70% + 群众满意度 × 30%",
        "加分：award，最多加 5 分",
        "加分合计最多 10 分",
        "总分最高 110 分",
        "【v1】重大违纪：取消评定",
        "【v2】软弱涣散：最高评为无星",
        "【v3】被通报：降 1 个等级",
        "评五星级及以上须具备 innovation_project，群众满意度 ≥ 60%；否则最高评为四星级",
        "按上级组织分别计算",
        "向上取整",
        "五星级：最多 10%，目标 10%",
        "无星：至少 5%",
        "每年比上年最多提升 1 个等级",
        "破格（不受提升限制）：市级综合性荣誉",
        "获得“先进基层党组织”直接定为不低于五星级",
        "年内新成立的组织不定级",
        "联席会议评估认定；公示 7 天后命名",
    ):
        assert expected in text, expected

"""manage.py rating_simulate: a scheme over a 汇总表 from the command line, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from scoring.schemes import scheme_to_dict
from scoring.simulation import read_scores
from tests.scoring.factories import scheme_data
from tests.scoring.test_simulation import README_EXAMPLE, scheme_b, table_bytes


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    path = tmp_path / "汇总表.xlsx"
    path.write_bytes(table_bytes(README_EXAMPLE))
    return path


def run_command(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("rating_simulate", *args, stdout=out)
    return out.getvalue()


def test_a_preset_over_a_table_prints_the_distribution(scores: Path) -> None:
    text = run_command("--preset", "scheme_b_city_pingxing", "--scores", str(scores))
    assert "模拟结果，不影响正式评定" in text
    assert (
        "全工委（参评 6 个）：五星级 1 个（最多 1）；四星级 2 个；三星级 1 个；二星级 1 个；一星级 1 个"
        in text
    )


def test_the_result_workbook_is_written_and_reads_back(scores: Path, tmp_path: Path) -> None:
    out = tmp_path / "测算结果.xlsx"
    text = run_command("--preset", "scheme_b_city_pingxing", "--scores", str(scores), "-o", str(out))
    assert f"已写入 {out}" in text
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["说明", "汇总表", "名额分布", "待决并列", "评定说明"]
    assert list(read_scores(out, scheme_b())) == list(read_scores(scores, scheme_b()))


def test_a_scheme_file_is_used(scores: Path, tmp_path: Path) -> None:
    scheme = tmp_path / "方案.json"
    data = {**scheme_to_dict(scheme_b()), "name": "文件里的方案"}
    scheme.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert "方案：文件里的方案" in run_command("--scheme", str(scheme), "--scores", str(scores))


def test_an_invalid_scheme_file_lists_the_fields(scores: Path, tmp_path: Path) -> None:
    scheme = tmp_path / "方案.json"
    scheme.write_text(json.dumps(scheme_data(quota_rounding="x", publicity_days=-1)), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run_command("--scheme", str(scheme), "--scores", str(scores))
    message = str(caught.value)
    assert "2 处错误" in message
    assert "publicity_days：必须在 0 到 365 之间" in message
    assert "quota_rounding：取值必须是 floor / ceil / round 之一" in message


def test_invalid_scores_list_the_rows_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "汇总表.xlsx"
    path.write_bytes(table_bytes([{"党组织名称": "甲支部", "评议得分": "很好"}, {"党组织名称": "甲支部"}]))
    with pytest.raises(CommandError) as caught:
        run_command("--preset", "scheme_b_city_pingxing", "--scores", str(path))
    message = str(caught.value)
    assert "2 处错误，未进行测算" in message
    assert "工作表 汇总表 第 2 行 [评议得分]：应为 0–100 的百分数" in message
    assert "工作表 汇总表 第 3 行 [党组织名称]：党组织名称“甲支部”与第 2 行重复。" in message


def test_an_unknown_preset_lists_the_presets(scores: Path) -> None:
    with pytest.raises(CommandError, match=r"没有名为“nope”的预置方案，可选：.*scheme_b_city_pingxing"):
        run_command("--preset", "nope", "--scores", str(scores))


def test_a_missing_scores_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="找不到文件"):
        run_command("--preset", "scheme_b_city_pingxing", "--scores", str(tmp_path / "无.xlsx"))


def test_scheme_and_preset_cannot_both_be_given(scores: Path) -> None:
    with pytest.raises(CommandError):
        run_command("--preset", "scheme_b_city_pingxing", "--scheme", "x.json", "--scores", str(scores))

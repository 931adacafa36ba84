"""`manage.py export_assessment`: the year-end workbook from the shell."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from branches.models import AuditAction, AuditEvent, User
from tests.conftest import Tree
from tests.scoring.test_exports import World, build_export_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Tree, committee_staff: User, branch_secretary: User) -> World:
    return build_export_world(tree, committee_staff, branch_secretary)


def test_the_command_writes_a_readable_workbook_of_the_unit_and_prints_progress_and_the_path(
    world: World, tree: Tree, tmp_path: Path
) -> None:
    target = tmp_path / "a.xlsx"
    out = StringIO()

    call_command("export_assessment", "2026", "--unit", "A", "-o", str(target), stdout=out)

    wb = load_workbook(target)
    assert wb.sheetnames == ["说明", "汇总表", "评分明细", "整改台账", "述职评议测评统计", "任务清单完成情况"]
    assert {r[0] for r in wb["评分明细"].iter_rows(min_row=2, values_only=True)} == {
        "A",
        "AG",
        "AG1",
        "A1",
        "A2",
    }
    text = out.getvalue()
    assert "正在写入“汇总表”" in text and str(target.resolve()) in text
    assert not list(tmp_path.glob("*.part"))
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, detail__source="command").exists()


def test_without_a_unit_the_whole_tree_is_exported(world: World, tree: Tree, tmp_path: Path) -> None:
    target = tmp_path / "all.xlsx"

    call_command("export_assessment", "2026", "-o", str(target), stdout=StringIO())

    names = [r[2] for r in load_workbook(target)["汇总表"].iter_rows(min_row=2, values_only=True)]
    assert tree.b1.name in names and tree.a1.name in names


def test_a_single_branch_gets_the_declaration_form(world: World, tmp_path: Path) -> None:
    target = tmp_path / "a1.xlsx"

    call_command(
        "export_assessment", f"id:{world.campaign.pk}", "--unit", "A1", "-o", str(target), stdout=StringIO()
    )

    assert load_workbook(target).sheetnames[-1] == "申报表"


def test_an_unknown_unit_is_refused_in_chinese(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="没有找到组织编码为“NOPE”的党组织"):
        call_command("export_assessment", "2026", "--unit", "NOPE", "-o", str(tmp_path / "x.xlsx"))

    assert not list(tmp_path.iterdir())


def test_an_unknown_campaign_year_is_refused_in_chinese(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"没有找到.*的 2019 年度创建活动"):
        call_command("export_assessment", "2019", "--unit", "A", "-o", str(tmp_path / "x.xlsx"))


def test_an_output_that_is_not_xlsx_is_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"\.xlsx"):
        call_command("export_assessment", "2026", "-o", str(tmp_path / "x.csv"))

"""Dashboards and the year-end workbook through a real browser (issue 7).

The 工委 staff open 数据看板 on the whole tree, drill down to 财政局机关党委 (A), to its branch
预算股党支部 (A1) and to one overdue entry; a number on the dashboard leads to the list behind it
with the same count. The 财政局 staff see only their subtree: 政务服务中心 (B) is not a child of
their dashboard and its URL answers 404. The 工委 staff then export A's assessment workbook,
download it, and the test opens it: the sheets of domain.md §12, A's branches, and nothing of B1.
Screenshots: test-artifacts/screenshots/dashboard-*.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branches.models import User
from campaigns.models import EntryStatus
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
from tests.conftest import Tree
from tests.e2e.helpers import click as _click
from tests.e2e.helpers import nav as _nav

pytestmark = pytest.mark.e2e

OVERDUE_TITLE = "召开支部党员大会"
SHEETS = ["说明", "汇总表", "评分明细", "整改台账", "述职评议测评统计", "任务清单完成情况"]


@pytest.fixture
def year(tree: Tree):  # type: ignore[no-untyped-def]
    """This year's campaign with two sections; every branch has entries, some overdue, some done."""
    today = timezone.localdate()
    campaign = make_campaign(tree.gw, year=today.year)
    politics = make_section(campaign, "政治建设", 1)
    organisation = make_section(campaign, "组织建设", 2)
    overdue = make_item(
        campaign, organisation, code="ZZ-01", title=OVERDUE_TITLE, due_date=today - timedelta(days=5)
    )
    study = make_item(
        campaign, politics, code="ZZ-02", title="理论学习中心组学习", due_date=today - timedelta(days=20)
    )
    later = make_item(
        campaign, politics, code="ZZ-03", title="主题党日活动", due_date=today + timedelta(days=3)
    )
    for org in (tree.a1, tree.a2, tree.ag1, tree.b1, tree.d1):
        make_entry(campaign, org, overdue)
        make_entry(campaign, org, study, status=EntryStatus.APPROVED, completed_on=today - timedelta(days=25))
        make_entry(campaign, org, later)
    return campaign


def _number(page, kpi: str) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator(f'[data-kpi="{kpi}"]').first.inner_text())


def test_staff_drill_from_the_tree_to_an_entry_unit_staff_see_their_subtree_and_the_workbook_is_exported(  # type: ignore[no-untyped-def]
    new_tab,
    log_in,
    screenshot,
    tree: Tree,
    year,
    committee_staff: User,
    agency_staff: User,
    tmp_path: Path,
) -> None:
    # --- 1. the 工委 staff open the dashboard on the whole tree ------------------------------------
    staff = new_tab()
    log_in(staff, committee_staff.username)
    _nav(staff, "数据看板")
    expect(staff.get_by_test_id("dashboard-breadcrumb")).to_contain_text(tree.gw.name)
    children = staff.get_by_test_id("child-row")
    expect(children).to_have_count(3)  # A, B and D1
    assert _number(staff, "entries-all") == 15
    assert _number(staff, "entries-overdue") == 5
    expect(staff.get_by_test_id("trend-fragment")).to_be_visible()  # loaded by htmx
    screenshot(staff, "dashboard-tree")

    # a number leads to the list behind it, with the same count
    _click(staff, staff.locator('[data-kpi="entries-overdue"]').first)
    expect(staff.get_by_test_id("list-count")).to_contain_text("5")
    expect(staff.get_by_test_id("entry-row")).to_have_count(5)
    staff.go_back()

    # --- 2. drill down: 机关党委 → branch → entry ----------------------------------------------------
    _click(staff, children.filter(has_text=tree.a.name).get_by_test_id("child-link"))
    expect(staff.get_by_test_id("dashboard-breadcrumb")).to_contain_text(tree.a.name)
    expect(staff.get_by_test_id("child-row")).to_have_count(3)  # AG, A1, A2
    assert _number(staff, "entries-all") == 9
    screenshot(staff, "dashboard-agency")
    _click(
        staff, staff.get_by_test_id("child-row").filter(has_text=tree.a1.name).get_by_test_id("child-link")
    )
    expect(staff.get_by_test_id("dashboard-breadcrumb")).to_contain_text(tree.a1.name)
    assert _number(staff, "entries-all") == 3
    overdue_list = staff.get_by_test_id("due-entry").filter(has_text=OVERDUE_TITLE)
    _click(staff, overdue_list.first)
    expect(staff.locator("h1, h2").filter(has_text=OVERDUE_TITLE).first).to_be_visible()
    assert re.search(r"/entries/\d+/", staff.url)

    # --- 3. the 机关党委 staff see only their subtree -------------------------------------------------
    unit = new_tab()
    log_in(unit, agency_staff.username)
    _nav(unit, "数据看板")
    expect(unit.get_by_test_id("dashboard-breadcrumb")).to_contain_text(tree.a.name)
    expect(unit.get_by_test_id("child-row")).to_have_count(3)
    expect(unit.get_by_test_id("by-child")).not_to_contain_text(tree.b1.name)
    assert _number(unit, "entries-all") == 9
    response = unit.goto(f"/rating/dashboard/?campaign={year.pk}&org={tree.b.pk}")
    assert response is not None and response.status == 404
    screenshot(unit, "dashboard-unit-refused")

    # --- 4. the 工委 staff export A's workbook, download it and open it -------------------------------
    staff.goto(f"/rating/dashboard/?campaign={year.pk}&org={tree.a.pk}")
    _click(staff, staff.get_by_test_id("dashboard-export"))
    _click(staff, staff.get_by_test_id("export-form").get_by_role("button", name="开始导出"))
    expect(staff.get_by_test_id("export-state")).to_have_text("已完成", timeout=30_000)
    screenshot(staff, "dashboard-export-done")
    with staff.expect_download() as info:
        staff.get_by_test_id("export-download").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx") and tree.a.name in download.suggested_filename
    target = tmp_path / "workbook.xlsx"
    download.save_as(str(target))
    book = openpyxl.load_workbook(BytesIO(target.read_bytes()), read_only=True)
    assert book.sheetnames[: len(SHEETS)] == SHEETS
    summary = [row for row in book["汇总表"].iter_rows(min_row=2, values_only=True) if any(row)]
    names = {row[2] for row in summary}
    assert {tree.a1.name, tree.a2.name, tree.ag1.name} <= names
    every_cell = {
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    }
    assert not any(tree.b1.name in cell or tree.d1.name in cell for cell in every_cell)
    details = [row for row in book["任务清单完成情况"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert any(row[0] == tree.a1.name and row[2] == OVERDUE_TITLE for row in details)

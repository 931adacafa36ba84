"""The year's task list from the 工委's import to an approved entry, through a real browser.

One journey, four people, each in their own browser session and logging in through the real form:
the 工委管理员 creates the year's campaign, imports and publishes the task list; the branch
secretary signs the 目标责任书, assigns and fills an entry, attaches evidence and submits; the
机关党委 staff returns it, then passes it at 初审 after the secretary fixed it; the 工委 staff
approves it. Screenshots of every page on the way land in test-artifacts/screenshots/campaign-*.
"""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branches.models import User
from campaigns.models import ChecklistEntry
from tests.conftest import Tree
from tests.e2e.helpers import alert as _alert
from tests.e2e.helpers import click as _click
from tests.e2e.helpers import nav as _nav

pytestmark = pytest.mark.e2e

# A tiny but well-formed PDF: the upload checks the bytes, not the name.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
ITEM = "ZZ-01 学习贯彻党的创新理论"


def _task_list_workbook(year: int) -> bytes:
    """The 任务清单 sheet as an administrator fills it in (domain.md §12)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务清单"
    ws.append(
        [
            "类别*",
            "任务编码*",
            "任务名称*",
            "工作要求",
            "佐证材料",
            "分值*",
            "评分细则",
            "考评方式",
            "完成时限/频次",
            "适用组织类型",
            "责任人角色",
        ]
    )
    ws.append(
        [
            "政治建设",
            "ZZ-01",
            "学习贯彻党的创新理论",
            "制定年度学习计划，每月开展集中学习。",
            "学习计划、学习记录",
            10,
            "未制定计划扣 3 分；集中学习每少一次扣 1 分。",
            "查阅资料、个别访谈",
            f"{year}-12-31",
            "党支部",
            "书记",
        ]
    )
    ws.append(
        [
            "组织建设",
            "ZZJS-01",
            "规范开展“三会一课”",
            "按期召开支委会、党员大会，上好党课。",
            "会议记录",
            15,
            "",
            "查阅资料",
            "每半年",
            "党支部",
            "",
        ]
    )
    ws.append(["组织建设", "ZZJS-02", "机关党委年度工作报告", "", "", 5, "", "", "每年", "机关党委", ""])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _score(tab, label: str):  # type: ignore[no-untyped-def]
    """The value under one heading of the entry page's score columns."""
    scores = tab.get_by_test_id("scores")
    return scores.locator("div").filter(has=tab.locator("dt", has_text=label)).locator("dd")


def _status(tab):  # type: ignore[no-untyped-def]
    return tab.locator("h1 + p .entry-status")


def test_task_list_goes_from_import_to_an_approved_entry(  # type: ignore[no-untyped-def]
    new_tab,
    log_in,
    screenshot,
    tree: Tree,
    committee_admin: User,
    committee_staff: User,
    agency_staff: User,
    branch_secretary: User,
    branch_member: User,
) -> None:
    year = timezone.localdate().year

    # --- 1. the 工委管理员 creates the campaign, imports and publishes the task list ---------
    admin = new_tab()
    log_in(admin, committee_admin.username)
    _nav(admin, "创建活动")
    _click(admin, admin.get_by_role("main").get_by_role("link", name="新建"))
    admin.get_by_label("年度").fill(str(year))
    admin.get_by_label("名称").fill(f"{year}年度模范机关创建")
    admin.get_by_label("明责开始").fill(f"{year}-01-01")
    admin.get_by_label("明责结束").fill(f"{year}-12-31")
    _click(admin, admin.get_by_role("button", name="保存"))
    expect(_alert(admin)).to_contain_text("已创建创建活动（草稿）")
    expect(admin.get_by_test_id("campaign-status")).to_have_text("草稿")

    _click(admin, admin.get_by_role("main").get_by_role("link", name="导入"))
    expect(admin.get_by_role("heading", name="导入任务清单")).to_be_visible()
    workbook = {
        "name": f"{year}年任务清单.xlsx",
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": _task_list_workbook(year),
    }
    # A dry run first: checked, nothing written.
    admin.get_by_label("任务清单文件").set_input_files(workbook)
    admin.get_by_label("仅预检，不写入").check()
    _click(admin, admin.get_by_role("button", name="上传并校验"))
    result = admin.get_by_test_id("import-result")
    expect(result).to_contain_text("导入结果：预检通过")
    expect(result).to_contain_text("预检通过，没有发现错误")
    # Then for real.
    admin.get_by_label("任务清单文件").set_input_files(workbook)
    _click(admin, admin.get_by_role("button", name="上传并校验"))
    expect(result).to_contain_text("导入结果：已导入")
    summary = admin.get_by_test_id("import-summary")
    expect(summary).to_contain_text("任务行数：3")
    expect(summary).to_contain_text("新增任务：3")
    expect(summary).to_contain_text("新增类别：2")
    screenshot(admin, "campaign-import-result")

    _click(admin, result.get_by_role("link", name="查看任务清单"))
    items = admin.get_by_test_id("committee-items")
    for text in ("政治建设", "ZZ-01", "学习贯彻党的创新理论", "组织建设", "ZZJS-01", "ZZJS-02"):
        expect(items).to_contain_text(text)
    expect(admin.get_by_role("heading", name="工委任务清单")).to_contain_text("合计 30 分")

    _click(admin, admin.get_by_test_id("publish-panel").get_by_role("button", name="发布任务清单"))
    expect(admin.get_by_role("heading", name=re.compile("发布任务清单"))).to_be_visible()
    # Publishing runs in the background; the page polls until the run is finished.
    expect(admin.get_by_test_id("publish-status")).to_have_text("已完成")
    progress = admin.get_by_test_id("publish-progress")
    expect(progress).to_contain_text("新建任务清单7 份")  # 5 党支部 + 2 机关党委
    expect(progress).to_contain_text("新建清单条目17 条")  # 3 per branch (one half-yearly ×2), 1 per 机关党委
    expect(progress).to_contain_text("发布完成")
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    screenshot(admin, "campaign-publish-progress")

    _click(admin, admin.locator(".breadcrumb").get_by_role("link", name=f"{year}年度模范机关创建"))
    expect(admin.get_by_test_id("campaign-status")).to_have_text("已发布")
    expect(admin.get_by_test_id("publish-panel")).to_contain_text("已完成 · 新建清单 7 份、条目 17 条")
    screenshot(admin, "campaign-detail")

    # --- 2. the branch secretary signs the letter, assigns and fills one entry, submits -------
    secretary = new_tab()
    log_in(secretary, branch_secretary.username)
    _nav(secretary, "我的任务清单")
    expect(secretary.get_by_role("heading", name="我的任务清单")).to_be_visible()
    banner = secretary.get_by_test_id("letter-banner")
    expect(banner).to_contain_text("财政局预算股党支部 尚未签订本年度目标责任书")
    _click(secretary, banner.get_by_role("link", name="阅读并签订"))
    expect(secretary.get_by_role("heading", name="目标责任书")).to_be_visible()
    secretary.get_by_label("我已阅读并承诺履行上述责任").check()
    _click(secretary, secretary.get_by_role("button", name="签订"))
    expect(_alert(secretary)).to_contain_text("目标责任书已签订")
    expect(secretary.get_by_test_id("letter-signed")).to_contain_text(f"{branch_secretary.display_name} 已于")

    _nav(secretary, "我的任务清单")
    expect(secretary.get_by_test_id("letter-banner")).to_have_count(0)
    rows = secretary.get_by_test_id("entry-row")
    expect(rows).to_have_count(3)
    expect(secretary.get_by_test_id("progress-text")).to_have_text("0 / 3（0%）")
    _click(secretary, secretary.get_by_role("link", name=ITEM))
    entry_url = secretary.url
    expect(secretary.get_by_role("heading", name=ITEM)).to_be_visible()
    expect(_status(secretary)).to_have_text("未开始")

    assign = secretary.get_by_test_id("assign-form")
    assign.get_by_label("责任人").select_option(label=str(branch_member))
    assign.get_by_label("完成时限").fill(f"{year}-12-20")
    _click(secretary, assign.get_by_role("button", name="保存"))
    expect(_alert(secretary)).to_contain_text("责任人和完成时限已保存")
    expect(secretary.locator("h1 + p")).to_contain_text(
        f"完成时限 {year}-12-20 · 责任人 {branch_member.display_name}"
    )

    progress_form = secretary.get_by_test_id("progress-form")
    progress_form.get_by_label("工作进展").fill("已制定年度学习计划，开展集中学习 10 次。")
    progress_form.get_by_label("完成日期").fill(f"{year}-11-15")
    progress_form.get_by_label("自评得分").fill("9.5")
    _click(secretary, progress_form.get_by_role("button", name="保存"))
    expect(_alert(secretary)).to_contain_text("进展已保存")
    expect(_status(secretary)).to_have_text("进行中")
    expect(_score(secretary, "自评得分")).to_have_text("9.5")

    panel = secretary.get_by_test_id("evidence-panel")
    panel.get_by_label("上传新文件").set_input_files(
        {"name": "学习记录.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    panel.get_by_label("名称（可选）").fill("全年集中学习记录")
    _click(secretary, panel.get_by_role("button", name="上传", exact=True))
    expect(_alert(secretary)).to_contain_text("已上传佐证材料“全年集中学习记录”")
    evidence = secretary.get_by_test_id("evidence-row")
    expect(evidence).to_have_count(1)
    expect(evidence).to_contain_text("学习记录.pdf")
    expect(evidence).to_contain_text("application/pdf")

    _click(secretary, secretary.get_by_role("button", name="提交审核"))
    expect(_alert(secretary)).to_contain_text("已提交审核")
    expect(_status(secretary)).to_have_text("待审核")
    expect(secretary.locator("h1 + p")).to_contain_text("上级初审")
    expect(secretary.get_by_test_id("progress-form")).to_have_count(0)  # nothing to fill while in review

    # --- 3. the 机关党委 staff returns it with a reason ---------------------------------------
    unit = new_tab()
    log_in(unit, agency_staff.username)
    _nav(unit, "审核")
    expect(unit.get_by_role("heading", name="待我审核")).to_be_visible()
    queue = unit.get_by_test_id("queue-row")
    expect(queue).to_have_count(1)
    expect(queue).to_contain_text("财政局预算股党支部 · 政治建设")
    expect(queue).to_contain_text("上级初审")
    screenshot(unit, "campaign-review-queue")
    _click(unit, queue.get_by_role("link", name=ITEM))
    review = unit.locator(".card", has=unit.get_by_test_id("review-form"))
    expect(review.get_by_role("heading", name="上级初审")).to_be_visible()
    expect(unit.locator("body")).to_contain_text("已制定年度学习计划，开展集中学习 10 次。")
    review.get_by_placeholder("退回理由（必填）").fill("请补充第四季度的学习记录。")
    _click(unit, review.get_by_role("button", name="退回", exact=True))
    expect(_alert(unit)).to_contain_text("已退回")
    expect(_status(unit)).to_have_text("已退回")

    # --- 4. the secretary sees the reason, fixes the note and submits again -----------------
    _nav(secretary, "我的任务清单")
    _click(secretary, secretary.get_by_role("link", name="已退回"))
    returned = secretary.get_by_test_id("entry-row")
    expect(returned).to_have_count(1)
    expect(returned).to_contain_text("已退回")
    _click(secretary, returned.get_by_role("link", name=ITEM))
    expect(_status(secretary)).to_have_text("已退回")
    expect(secretary.locator(".alert-warning")).to_have_text("退回理由：请补充第四季度的学习记录。")
    progress_form = secretary.get_by_test_id("progress-form")
    expect(progress_form.get_by_label("工作进展")).to_have_value("已制定年度学习计划，开展集中学习 10 次。")
    screenshot(secretary, "campaign-entry-returned")
    progress_form.get_by_label("工作进展").fill(
        "已制定年度学习计划，开展集中学习 12 次，第四季度记录已补充。"
    )
    _click(secretary, progress_form.get_by_role("button", name="保存"))
    expect(_status(secretary)).to_have_text("进行中")
    _click(secretary, secretary.get_by_role("button", name="提交审核"))
    expect(_status(secretary)).to_have_text("待审核")

    # --- 5. 初审 by the 机关党委 staff from the queue, then 审核 by the 工委 staff -------------
    _nav(unit, "审核")
    queue = unit.get_by_test_id("queue-row")
    expect(queue).to_have_count(1)
    queue.get_by_label("得分").fill("9")
    _click(unit, queue.get_by_role("button", name="通过", exact=True))
    expect(_alert(unit)).to_contain_text("审核通过")
    expect(unit.get_by_test_id("queue-row")).to_have_count(0)  # now waiting for the 工委
    expect(unit.locator(".entry-list")).to_contain_text("没有待审核的条目")

    staff = new_tab()
    log_in(staff, committee_staff.username)
    _nav(staff, "审核")
    queue = staff.get_by_test_id("queue-row")
    expect(queue).to_have_count(1)
    expect(queue).to_contain_text("工委审核")
    _click(staff, queue.get_by_role("link", name=ITEM))
    review_form = staff.get_by_test_id("review-form")
    expect(staff.locator(".card", has=review_form).get_by_role("heading", name="工委审核")).to_be_visible()
    review_form.get_by_label("得分").fill("8.5")
    review_form.get_by_label("审核意见").fill("学习记录齐全，个别访谈情况良好。")
    _click(staff, review_form.get_by_role("button", name="审核通过"))
    expect(_alert(staff)).to_contain_text("审核通过")
    expect(_status(staff)).to_have_text("已通过")

    # The secretary's view of the finished entry: status, three scores, evidence and every step.
    secretary.goto(entry_url)
    expect(_status(secretary)).to_have_text("已通过")
    expect(_score(secretary, "分值")).to_have_text("10")
    expect(_score(secretary, "自评得分")).to_have_text("9.5")
    expect(_score(secretary, "初审得分")).to_have_text("9")
    expect(_score(secretary, "审核得分")).to_have_text("8.5")
    expect(secretary.get_by_test_id("evidence-row")).to_have_count(1)
    expect(secretary.get_by_test_id("progress-form")).to_have_count(0)
    events = secretary.get_by_test_id("events").locator("li")
    expect(events.locator("strong")).to_have_text(
        [
            "明确责任人",
            "填报进展",
            "添加佐证",
            "提交审核",
            "退回",
            "填报进展",
            "提交审核",
            "初审通过",
            "审核通过",
        ]
    )
    expect(events.nth(4)).to_contain_text(agency_staff.display_name)
    expect(events.nth(4)).to_contain_text("请补充第四季度的学习记录。")
    expect(events.nth(7)).to_contain_text("得分 9")
    expect(events.nth(8)).to_contain_text(committee_staff.display_name)
    expect(events.nth(8)).to_contain_text("得分 8.5")
    screenshot(secretary, "campaign-entry")

    _nav(secretary, "我的任务清单")
    expect(secretary.get_by_test_id("progress-text")).to_have_text("1 / 3（33%）")
    done = secretary.get_by_test_id("entry-row").filter(has_text="ZZ-01")
    expect(done).to_contain_text("已通过")
    expect(done).to_contain_text(f"责任人：{branch_member.display_name}")
    screenshot(secretary, "campaign-my-checklist")

    entry = ChecklistEntry.objects.get(org=tree.a1, item__code="ZZ-01")
    assert (entry.self_score, entry.first_review_score, entry.review_score) == (
        Decimal("9.5"),
        Decimal("9"),
        Decimal("8.5"),
    )
    assert entry.responsible == branch_member

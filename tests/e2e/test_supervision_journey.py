"""Mid-year supervision as one closed loop, through a real browser.

One journey, three people, each in their own browser session and logging in through the real form:
the 工委 staff create an inspection round over 机关党委 A, draw the sample and record a finding
for 预算股党支部 (A1) on the phone page; the branch secretary learns of it from the inbox, writes
the rectification plan; the 机关党委 staff (strictly above A1) approve it; the secretary asks for
close-out with a PDF; the 工委 staff reject it once, then close it out after a second request;
finally the 工委 staff publish a notice built from the finding and the overdue items, which
reaches the secretary's inbox. Screenshots land in test-artifacts/screenshots/supervision-*.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branches.models import User
from campaigns.models import EntryStatus
from campaigns.models.supervision import Finding, Rectification, RectificationStatus
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
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
FINDING = "支部委员会会议记录不完整，第二季度缺少两次会议的记录。"
OVERDUE_ITEM = "ZZ-09 开展主题党日活动"


def _rect_status(tab):  # type: ignore[no-untyped-def]
    return tab.get_by_test_id("rect-status")


def _card(tab, heading: str):  # type: ignore[no-untyped-def]
    """The card of the rectification page whose heading is `heading`."""
    return tab.locator(".card").filter(has=tab.get_by_role("heading", name=heading, exact=True))


def _build_campaign(tree: Tree) -> None:
    """A published campaign of this year with two items; one of them overdue in A1 and A2."""
    today = timezone.localdate()
    campaign = make_campaign(tree.gw, year=today.year)
    section = make_section(campaign, "组织建设")
    overdue = make_item(
        campaign, section, code="ZZ-09", title="开展主题党日活动", due_date=today - timedelta(days=12)
    )
    later = make_item(
        campaign, section, code="ZZ-10", title="规范开展“三会一课”", due_date=today + timedelta(days=60)
    )
    for org in (tree.a1, tree.a2):
        make_entry(campaign, org, overdue, status=EntryStatus.NOT_STARTED)
        make_entry(campaign, org, later, status=EntryStatus.NOT_STARTED)


def test_a_finding_goes_from_inspection_to_close_out_and_a_notice_reaches_the_branch(  # type: ignore[no-untyped-def]
    new_tab,
    log_in,
    screenshot,
    tree: Tree,
    committee_staff: User,
    agency_staff: User,
    branch_secretary: User,
) -> None:
    _build_campaign(tree)
    today = timezone.localdate()

    # --- 1. the 工委 staff create a round over 机关党委 A, draw the sample, record a finding ---
    staff = new_tab()
    log_in(staff, committee_staff.username)
    _nav(staff, "督查检查")
    expect(staff.get_by_role("heading", name="督查检查")).to_be_visible()
    _click(staff, staff.get_by_role("link", name="新建检查"))
    expect(staff.get_by_role("heading", name="新建检查")).to_be_visible()
    staff.get_by_label("类型*", exact=True).select_option(label="督查")
    staff.get_by_label("名称").fill("年中督查（财政局）")
    staff.get_by_label("检查范围（组织编码）").fill("A")
    staff.get_by_label("抽查对象类型").select_option(label="党支部")
    staff.get_by_label("抽样方式").select_option(label="全部")
    staff.get_by_label("开始日期").fill(f"{today:%Y-%m-%d}")
    staff.get_by_label("结束日期").fill(f"{today + timedelta(days=7):%Y-%m-%d}")
    staff.get_by_label("自定检查内容（每行一项）").fill("支委会会议记录\n党员发展档案")
    _click(staff, staff.get_by_role("button", name="保存"))
    expect(_alert(staff)).to_contain_text("已创建检查，请抽样。")
    expect(staff.get_by_role("heading", name="年中督查（财政局）")).to_contain_text("计划中")
    expect(staff.get_by_test_id("seed")).to_have_text("（抽样时生成）")
    expect(staff.get_by_test_id("target-row")).to_have_count(0)

    _click(staff, staff.get_by_role("button", name="抽样"))
    expect(staff.get_by_role("heading", name="年中督查（财政局）")).to_contain_text("已抽样")
    expect(staff.get_by_test_id("seed")).to_have_text(re.compile(r"^\d+$"))
    targets = staff.get_by_test_id("target-row")
    expect(targets).to_have_count(3)  # AG1, A1, A2: every branch under A
    for name in ("国库支付中心党支部", "财政局预算股党支部", "财政局综合股党支部"):
        expect(staff.get_by_role("main")).to_contain_text(name)
    expect(targets.first).to_contain_text("待检查")
    screenshot(staff, "supervision-inspection-detail")
    inspection_url = staff.url

    _click(staff, targets.filter(has_text="财政局预算股党支部"))
    expect(staff.get_by_role("heading", name="财政局预算股党支部")).to_be_visible()
    minutes = staff.get_by_role("radiogroup", name="支委会会议记录")
    minutes.get_by_text("不符合", exact=True).click()
    staff.locator(".card", has=minutes).get_by_label("说明").fill("第二季度缺两次记录")
    staff.get_by_role("radiogroup", name="党员发展档案").get_by_text("符合", exact=True).click()
    staff.get_by_label("检查情况").fill("查阅支部台账，个别访谈 3 人。")
    staff.get_by_label("问题描述").first.fill(FINDING)
    staff.get_by_label("问题类别").first.fill("组织建设")
    staff.locator('select[name="finding-0-severity"]').select_option(label="较重")
    screenshot(staff, "supervision-inspection-record")
    _click(staff, staff.get_by_role("button", name="保存检查记录"))
    expect(_alert(staff)).to_contain_text("已保存检查记录，登记问题 1 个。")
    expect(staff.locator("h1 + p")).to_contain_text("已检查")
    recorded = staff.locator(".list-group-item", has_text=FINDING)
    expect(recorded).to_contain_text("较重")
    expect(staff.get_by_role("radiogroup", name="支委会会议记录").get_by_label("不符合")).to_be_checked()

    staff.goto(inspection_url)
    a1_row = staff.get_by_test_id("target-row").filter(has_text="财政局预算股党支部")
    expect(a1_row).to_contain_text("已检查")
    expect(a1_row).to_contain_text("问题 1")
    expect(staff.get_by_role("heading", name="被检查组织")).to_contain_text("已检查 1 / 3")

    # --- 2. the secretary finds the notice in the inbox and writes the plan ------------------
    secretary = new_tab()
    log_in(secretary, branch_secretary.username)
    expect(secretary.get_by_test_id("inbox-unread")).to_have_text("1")
    _click(secretary, secretary.get_by_test_id("inbox-bell"))
    expect(secretary.get_by_role("heading", name="站内消息")).to_be_visible()
    message = secretary.get_by_test_id("message-row")
    expect(message).to_have_count(1)
    expect(message).to_contain_text("未读")
    expect(message).to_contain_text("整改通知：督查检查发现问题")
    expect(message).to_contain_text(FINDING)
    _click(secretary, message.get_by_role("button", name="查看"))
    expect(secretary.get_by_role("heading", name="财政局预算股党支部 · 问题整改")).to_be_visible()
    expect(_rect_status(secretary)).to_have_text("待制定方案")
    expect(secretary.get_by_role("main")).to_contain_text(FINDING)
    expect(secretary.get_by_test_id("inbox-unread")).to_have_count(0)  # opening it marked it read
    rect_url = secretary.url

    # The same finding is listed under 问题整改.
    _nav(secretary, "问题整改")
    row = secretary.get_by_test_id("finding-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("财政局预算股党支部 · 督查检查 · 较重 · 组织建设")
    expect(row).to_contain_text("待制定方案")
    _click(secretary, row)

    deadline = today + timedelta(days=30)
    plan = secretary.get_by_test_id("plan-form")
    plan.locator('textarea[name="measures"]').fill("补齐第二季度会议记录，今后每次会后三日内归档。")
    plan.locator('input[name="responsible_name"]').fill("李组织委员")
    plan.locator('input[name="leader_name"]').fill("王书记")
    plan.locator('input[name="deadline"]').fill(f"{deadline:%Y-%m-%d}")
    _click(secretary, plan.get_by_role("button", name="提交方案"))
    expect(_alert(secretary)).to_contain_text("整改方案已提交，等待审核。")
    expect(_rect_status(secretary)).to_have_text("方案待审")
    submitted = secretary.get_by_test_id("plan")
    expect(submitted).to_contain_text("补齐第二季度会议记录")
    expect(submitted).to_contain_text("李组织委员")
    expect(submitted).to_contain_text("王书记")
    expect(secretary.locator("h1 + p")).to_contain_text(f"整改时限 {deadline:%Y-%m-%d}")
    expect(secretary.get_by_test_id("plan-form")).to_have_count(0)
    expect(_card(secretary, "审核整改方案")).to_have_count(0)  # the branch does not approve its own plan

    # --- 3. the 机关党委 staff (strictly above A1) approve the plan --------------------------
    unit = new_tab()
    log_in(unit, agency_staff.username)
    _nav(unit, "问题整改")
    _click(unit, unit.get_by_test_id("finding-row").filter(has_text="方案待审"))
    expect(_rect_status(unit)).to_have_text("方案待审")
    decide = _card(unit, "审核整改方案")
    decide.get_by_placeholder("意见（退回时必填）").fill("措施可行。")
    _click(unit, decide.get_by_role("button", name="通过"))
    expect(_alert(unit)).to_contain_text("已处理整改方案。")
    expect(_rect_status(unit)).to_have_text("整改中")

    # --- 4. the secretary asks for close-out with a PDF --------------------------------------
    secretary.goto(rect_url)
    expect(_rect_status(secretary)).to_have_text("整改中")
    close = secretary.get_by_test_id("close-request-form")
    close.locator('textarea[name="progress"]').fill("第二季度会议记录已补齐并归档。")
    close.locator('input[name="files"]').set_input_files(
        {"name": "会议记录.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    close.get_by_placeholder("材料名称（可选）").fill("补齐的支委会会议记录")
    _click(secretary, close.get_by_role("button", name="申请销号"))
    expect(_alert(secretary)).to_contain_text("销号申请已提交，等待审核。")
    expect(_rect_status(secretary)).to_have_text("申请销号")
    evidence = secretary.get_by_test_id("rect-evidence")
    expect(evidence).to_contain_text("补齐的支委会会议记录")
    expect(evidence).to_contain_text("会议记录.pdf")
    # The branch cannot close out its own finding.
    expect(_card(secretary, "销号审核")).to_have_count(0)
    expect(secretary.get_by_role("button", name="同意销号")).to_have_count(0)

    # --- 5. the 工委 staff reject once; the secretary asks again; the staff close it out ----
    staff.goto(rect_url)
    expect(_rect_status(staff)).to_have_text("申请销号")
    verdict = _card(staff, "销号审核")
    verdict.get_by_placeholder("意见（退回时必填）").fill("缺少会议签到表，请补充。")
    _click(staff, verdict.get_by_role("button", name="退回重新整改"))
    expect(_alert(staff)).to_contain_text("已处理销号申请。")
    expect(_rect_status(staff)).to_have_text("重新整改")

    secretary.goto(rect_url)
    expect(_rect_status(secretary)).to_have_text("重新整改")
    expect(secretary.get_by_test_id("rect-events")).to_contain_text("缺少会议签到表，请补充。")
    close = secretary.get_by_test_id("close-request-form")
    close.locator('textarea[name="progress"]').fill("会议记录与签到表均已补齐。")
    close.get_by_label("补齐的支委会会议记录").check()  # the file already uploaded
    close.locator('input[name="files"]').set_input_files(
        {"name": "签到表.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    close.get_by_placeholder("材料名称（可选）").fill("会议签到表")
    _click(secretary, close.get_by_role("button", name="申请销号"))
    expect(_alert(secretary)).to_contain_text("销号申请已提交，等待审核。")
    expect(_rect_status(secretary)).to_have_text("申请销号")
    expect(secretary.get_by_role("button", name="同意销号")).to_have_count(0)

    staff.goto(rect_url)
    verdict = _card(staff, "销号审核")
    verdict.get_by_placeholder("意见（退回时必填）").fill("整改到位。")
    _click(staff, verdict.get_by_role("button", name="同意销号"))
    expect(_alert(staff)).to_contain_text("已处理销号申请。")
    expect(_rect_status(staff)).to_have_text("已销号")
    expect(staff.get_by_test_id("plan")).to_contain_text(f"销号日期{today:%Y-%m-%d}")
    evidence = staff.get_by_test_id("rect-evidence")
    expect(evidence).to_contain_text("补齐的支委会会议记录")
    expect(evidence).to_contain_text("会议签到表")

    secretary.goto(rect_url)
    expect(_rect_status(secretary)).to_have_text("已销号")
    expect(secretary.get_by_test_id("close-request-form")).to_have_count(0)
    history = secretary.get_by_test_id("rect-events").locator("li")
    expect(history).to_have_count(7)
    steps = [
        (committee_staff, "下发整改", "— → 待制定方案"),
        (branch_secretary, "提交整改方案", "待制定方案 → 方案待审"),
        (agency_staff, "审核通过整改方案", "方案待审 → 整改中"),
        (branch_secretary, "申请销号", "整改中 → 申请销号"),
        (committee_staff, "退回销号申请", "申请销号 → 重新整改"),
        (branch_secretary, "申请销号", "重新整改 → 申请销号"),
        (committee_staff, "销号", "申请销号 → 已销号"),
    ]
    for n, (actor, action, change) in enumerate(steps):
        expect(history.nth(n)).to_contain_text(f"{actor.display_name} · {action}（{change}）")
    expect(history.nth(4)).to_contain_text("缺少会议签到表，请补充。")
    screenshot(secretary, "supervision-rectification")

    rect = Rectification.objects.get(finding__description=FINDING)
    assert rect.status == RectificationStatus.CLOSED
    assert rect.closed_on == today
    assert Finding.objects.get(pk=rect.finding_id).org_id == tree.a1.pk

    # --- 6. a notice from the finding and the overdue items reaches the branch's inbox -------
    _nav(staff, "通报")
    _click(staff, staff.get_by_role("link", name="起草通报"))
    expect(staff.get_by_role("heading", name="起草通报")).to_be_visible()
    staff.get_by_label("发布范围（组织编码）").fill("A")
    _click(staff, staff.get_by_role("button", name="选择范围"))
    picks = staff.get_by_test_id("pick-entry")
    expect(picks).to_have_count(2)  # ZZ-09 in A1 and A2; ZZ-10 is not due yet
    for pick in (picks.filter(has_text="财政局预算股党支部"), picks.filter(has_text="财政局综合股党支部")):
        expect(pick).to_contain_text(OVERDUE_ITEM)
        expect(pick).to_contain_text("12")
        pick.get_by_role("checkbox").check()
    finding_pick = staff.get_by_test_id("pick-finding")
    expect(finding_pick).to_have_count(1)
    expect(finding_pick).to_contain_text("已销号")
    finding_pick.get_by_role("checkbox").check()
    _click(staff, staff.get_by_role("button", name="生成通报草稿"))
    expect(_alert(staff)).to_contain_text("通报草稿已生成，请修改后发布。")
    expect(staff.get_by_role("heading", name="修改通报草稿")).to_be_visible()
    body = staff.get_by_label("正文")
    expect(body).to_have_value(re.compile("逾期未完成事项"))
    expect(body).to_have_value(
        re.compile(f"财政局预算股党支部：{OVERDUE_ITEM}（应于 .* 完成，已逾期 12 天）")
    )
    expect(body).to_have_value(re.compile(f"财政局综合股党支部：{OVERDUE_ITEM}"))
    expect(body).to_have_value(re.compile(re.escape(FINDING)))
    staff.get_by_label("文号").fill("旬直工委通〔2026〕3号")
    _click(staff, staff.get_by_role("button", name="保存"))
    expect(_alert(staff)).to_contain_text("通报已保存。")
    _click(staff, staff.get_by_role("button", name="发布"))
    expect(_alert(staff)).to_contain_text("通报已发布，范围内各党组织已收到站内消息。")
    title = f"关于{today.year}年度模范机关创建年中督查发现问题的通报"
    expect(staff.get_by_role("heading", name=title)).to_be_visible()
    expect(staff.get_by_role("button", name="发布")).to_have_count(0)

    secretary.goto("/")
    expect(secretary.get_by_test_id("inbox-unread")).to_have_text("1")
    _click(secretary, secretary.get_by_test_id("inbox-bell"))
    messages = secretary.get_by_test_id("message-row")
    expect(messages).to_have_count(2)
    notice_row = messages.filter(has_text=title)
    expect(notice_row).to_contain_text("未读")
    expect(messages.filter(has_text="整改通知")).not_to_contain_text("未读")
    screenshot(secretary, "supervision-inbox")
    _click(secretary, notice_row.get_by_role("button", name="查看"))
    expect(secretary.get_by_role("heading", name=title)).to_be_visible()
    expect(secretary.get_by_role("main")).to_contain_text("旬直工委通〔2026〕3号")
    expect(secretary.get_by_test_id("notice-body")).to_contain_text(OVERDUE_ITEM)
    expect(secretary.get_by_test_id("print-button")).to_be_visible()
    expect(secretary.get_by_role("main").get_by_role("link", name="修改", exact=True)).to_have_count(0)
    expect(secretary.get_by_test_id("inbox-unread")).to_have_count(0)
    screenshot(secretary, "supervision-notice")

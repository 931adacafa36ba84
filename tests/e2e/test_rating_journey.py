"""Year end through a real browser: 述职, reviews, ballots and the star rating from compile to naming.

Three people, each in their own browser session: the secretary of 预算股党支部 (A1) writes the
述职报告 from its factual draft and self-scores the year's entry; the 机关党委 staff do the 初审
of the entry; the 工委 staff do the 审核 and enter the 述职评议 tallies. The secretary declares
四星级 and the 机关党委 staff agree at 初审. The 工委 staff start the round, compile, decide the
tie at the five-star boundary (政务服务中心 B1 and 综合股 A2 both at 95 for one seat), open
publicity, record and uphold an objection against A2, and name the results. The branch then sees
its stars, the explanation and its 差距清单. Screenshots: test-artifacts/screenshots/rating-*.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branches.models import User
from campaigns.models import EntryMode
from campaigns.services import reports as report_services
from scoring.models import Rating, RatingRound
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
from tests.conftest import Tree
from tests.e2e.helpers import alert as _alert
from tests.e2e.helpers import click as _click
from tests.e2e.helpers import nav as _nav
from tests.scoring.factories import make_scheme, score

pytestmark = pytest.mark.e2e

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
ITEM = "学习贯彻党的创新理论"


def test_year_end_goes_from_report_and_self_scores_to_named_stars_and_a_gap_list(  # type: ignore[no-untyped-def]
    new_tab,
    log_in,
    screenshot,
    tree: Tree,
    committee_staff: User,
    agency_staff: User,
    branch_secretary: User,
) -> None:
    today = timezone.localdate()
    campaign = make_campaign(tree.gw, year=today.year)
    section = make_section(campaign, "政治建设")
    item = make_item(
        campaign, section, points="100", code="ZZ-01", title=ITEM, due_date=date(today.year, 12, 31)
    )
    make_entry(campaign, tree.a1, item)
    # The other branches' year is already reviewed: B1 and A2 tie at 95 for the one five-star seat.
    for org, points in ((tree.b1, "95"), (tree.a2, "95"), (tree.ag1, "70"), (tree.d1, "50")):
        score(campaign, org, points)
    make_scheme(campaign, committee_staff, name="2026年度党支部达标创星评定方案")
    session = report_services.session_create(
        campaign=campaign,
        scope=tree.gw,
        title="2026年度党支部书记抓党建述职评议",
        held_on=today,
        actor=committee_staff,
        entry_mode=EntryMode.TALLY,
    )
    report_services.session_add_reporters(
        session=session, reporters=[(tree.a1, branch_secretary, "")], actor=committee_staff
    )

    # --- 1. the secretary self-scores the year's entry and submits it with evidence -------
    secretary = new_tab()
    log_in(secretary, branch_secretary.username)
    _nav(secretary, "我的任务清单")
    _click(secretary, secretary.get_by_role("link", name=ITEM))
    progress = secretary.get_by_test_id("progress-form")
    progress.get_by_label("工作进展").fill("制定年度学习计划，开展集中学习 11 次。")
    progress.get_by_label("完成日期").fill(today.isoformat())
    progress.get_by_label("自评得分").fill("90")
    _click(secretary, progress.get_by_role("button", name="保存"))
    panel = secretary.get_by_test_id("evidence-panel")
    panel.get_by_label("上传新文件").set_input_files(
        {"name": "学习记录.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    _click(secretary, panel.get_by_role("button", name="上传", exact=True))
    _click(secretary, secretary.get_by_role("button", name="提交审核"))
    expect(_alert(secretary)).to_contain_text("已提交审核")

    # --- 2. 初审 by the 机关党委 staff, 审核 by the 工委 staff -----------------------------------
    unit = new_tab()
    log_in(unit, agency_staff.username)
    _nav(unit, "审核")
    queue = unit.get_by_test_id("queue-row")
    queue.get_by_label("得分").fill("88")
    _click(unit, queue.get_by_role("button", name="通过", exact=True))
    expect(_alert(unit)).to_contain_text("审核通过")

    staff = new_tab()
    log_in(staff, committee_staff.username)
    _nav(staff, "审核")
    _click(staff, staff.get_by_test_id("queue-row").get_by_role("link", name=ITEM))
    review = staff.get_by_test_id("review-form")
    review.get_by_label("得分").fill("85")
    _click(staff, review.get_by_role("button", name="审核通过"))
    expect(_alert(staff)).to_contain_text("审核通过")

    # --- 3. the secretary writes the 述职报告 from its factual draft and submits it ----------
    _nav(secretary, "我的述职报告")
    row = secretary.get_by_test_id("report-row").filter(has_text="财政局预算股党支部")
    _click(secretary, row.get_by_role("button", name="生成报告草稿"))
    body = secretary.get_by_label("正文")
    expect(body).to_contain_text("审核得分85分")  # the draft states the year's reviewed points
    body.fill(body.input_value() + "\n\n下一步，支部将围绕模范机关创建补齐短板。")
    _click(secretary, secretary.get_by_role("button", name="保存"))
    _click(secretary, secretary.get_by_role("button", name="提交述职报告"))
    expect(secretary.get_by_test_id("report-status")).to_have_text("已提交")

    # --- 3b. the 工委 staff enter the 述职评议 tallies and close the session --------------------
    _nav(staff, "述职评议")
    _click(staff, staff.get_by_role("link", name="2026年度党支部书记抓党建述职评议"))
    tally = staff.get_by_test_id("tally-form")
    for label, n in (("好", "18"), ("较好", "4"), ("一般", "1"), ("差", "0")):
        tally.get_by_label(label, exact=True).fill(n)
    _click(staff, tally.get_by_role("button", name="保存"))
    _click(staff, staff.get_by_role("button", name="结束评议并锁定结果"))
    expect(staff.get_by_test_id("session-status")).to_have_text("已结束")

    # --- 4. the 工委 staff start the round; the branch declares, the 机关党委 agrees at 初审 -----
    _nav(staff, "评星定级")
    start = staff.get_by_test_id("round-start")
    _click(staff, start.get_by_role("button", name="发起评星"))
    expect(_alert(staff)).to_be_visible()
    rnd = RatingRound.objects.get(campaign=campaign)

    _nav(secretary, "我的评星")
    secretary.get_by_label("申报星级").select_option(label="四星级")
    secretary.get_by_label("申报理由").fill("全年任务全部完成，学习记录齐全，申报四星级。")
    _click(secretary, secretary.get_by_role("button", name="提交申报"))
    expect(secretary.get_by_test_id("rating-status")).to_have_text("已申报")

    _nav(unit, "星级初审")
    pending = unit.get_by_test_id("first-review-row")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("财政局预算股党支部")
    _click(unit, pending.get_by_role("link", name="初审"))
    first = unit.get_by_test_id("first-review-form")
    first.get_by_label("建议星级（同意时）").select_option(label="四星级")
    _click(unit, first.get_by_role("button", name="同意"))
    expect(unit.get_by_test_id("rating-status")).to_have_text("初审通过")

    # --- 5. compile, decide the tie at the five-star boundary, advance to 公示 --------------
    staff.goto(f"/rating/rounds/{rnd.pk}/")
    _click(staff, staff.get_by_role("button", name="计算星级"))
    expect(staff.get_by_test_id("run-status")).to_have_text("已完成")
    staff.goto(f"/rating/rounds/{rnd.pk}/ties/")
    tie = staff.get_by_test_id("tie-group")
    expect(tie).to_contain_text("旬速办窗口党支部")
    expect(tie).to_contain_text("财政局综合股党支部")
    screenshot(staff, "rating-tie")
    tie.get_by_label(re.compile("旬速办窗口党支部")).check()
    tie.locator("textarea[name=reason]").fill("经2026年第12次工委会议研究，旬速办窗口党支部获五星级名额。")
    _click(staff, tie.get_by_role("button", name="确定并重新计算"))
    expect(staff.get_by_test_id("run-status")).to_have_text("已完成")

    staff.goto(f"/rating/rounds/{rnd.pk}/")
    screenshot(staff, "rating-round")
    for stage in ("first_review", "committee_review"):
        _click(staff, staff.get_by_test_id(f"advance-{stage}").get_by_role("button"))
    publicity = staff.get_by_test_id("advance-publicity")
    publicity.get_by_label("公示开始").fill((today - timedelta(days=10)).isoformat())
    _click(staff, publicity.get_by_role("button"))
    expect(staff.get_by_test_id("round-stage")).to_contain_text("公示")

    # --- 6. an objection against A2 is recorded and upheld; the results are named ----------
    a2 = Rating.objects.get(round=rnd, org=tree.a2)
    staff.goto(f"/rating/r/{a2.pk}/")
    objection = staff.get_by_test_id("objection-form")
    objection.get_by_label("反映人").fill("综合股党员来信")
    objection.get_by_label("受理日期").fill((today - timedelta(days=8)).isoformat())
    objection.get_by_label("异议内容").fill("第三季度主题党日活动记录与实际不符。")
    _click(staff, objection.get_by_role("button", name="登记"))
    resolve = staff.get_by_test_id("resolve-form")
    resolve.get_by_label("核查处理情况").fill(
        "经核查，第三季度两次主题党日记录补记，异议成立，调整为三星级。"
    )
    resolve.get_by_label("处理后星级（异议成立时）").select_option(label="三星级")
    _click(staff, resolve.get_by_role("button", name="异议成立"))
    expect(staff.get_by_test_id("rating-level")).to_have_text("三星级")

    staff.goto(f"/rating/rounds/{rnd.pk}/")
    naming = staff.get_by_test_id("advance-named")
    naming.get_by_label("命名文号").fill("旬直工委发〔2026〕21号")
    _click(staff, naming.get_by_role("button"))
    expect(staff.get_by_test_id("round-stage")).to_contain_text("已命名")

    # --- 7. the branch sees its stars, the explanation and the gap list ---------------------
    _nav(secretary, "我的评星")
    expect(secretary.get_by_test_id("rating-level")).to_have_text("四星级")
    explanation = secretary.get_by_test_id("explanation")
    expect(explanation).to_contain_text("审核得分合计")
    expect(explanation).to_contain_text("述职评议")
    screenshot(secretary, "rating-branch")
    _click(secretary, secretary.get_by_role("link", name=re.compile("差距清单")))
    gaps = secretary.locator("main")
    expect(gaps).to_contain_text("五星级")
    expect(gaps).to_contain_text(ITEM)
    screenshot(secretary, "rating-gaps")

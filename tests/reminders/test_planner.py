"""The planner: rules × due items × people, read in a fixed number of queries, merged per key."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Audience, ReminderRule, ReminderSource
from campaigns.reminders.planner import describe, plan
from campaigns.reminders.sources import DueItem
from tests.reminders.support import entry_due, planned_for, rectification_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_obligations")]

DUE = date(2026, 6, 10)


def _item(**fields) -> DueItem:
    base = dict(
        key="entry:1",
        source="entry",
        org_id=1,
        org_path="/1/",
        org_name="财政局预算股党支部",
        title="落实三会一课制度",
        url="/x/",
        due_date=DUE,
    )
    base.update(fields)
    return DueItem(**base)


@pytest.mark.parametrize(("offset", "tag"), [(-3, "【3天后到期】"), (0, "【今日到期】"), (5, "【逾期5天】")])
def test_a_reminder_line_says_how_far_the_item_is_from_its_date(offset, tag):
    assert describe(_item(), DUE + timedelta(days=offset)) == (
        f"{tag}财政局预算股党支部 · 落实三会一课制度（时限 2026-06-10）"
    )


def test_a_committee_wide_item_is_described_by_its_title_alone():
    assert (
        describe(_item(org_id=None, title="「年中督责」阶段6月1日开始"), DUE) == "「年中督责」阶段6月1日开始"
    )


def _queries(tree, day) -> int:
    with CaptureQueriesContext(connection) as ctx:
        plan(committee=tree.gw, day=day)
    return len(ctx.captured_queries)


def test_planning_takes_the_same_number_of_queries_for_many_items(
    tree, campaign, branch_secretary, outsider_secretary, agency_staff, committee_staff
):
    for org in (tree.a1, tree.b1):
        entry_due(campaign, org, DUE)
        rectification_due(campaign, org, DUE + timedelta(days=4))
    few = _queries(tree, DUE + timedelta(days=3))
    for org in (tree.a1, tree.a2, tree.ag1, tree.b1, tree.d1):
        for _ in range(5):
            entry_due(campaign, org, DUE)
            rectification_due(campaign, org, DUE + timedelta(days=4))
    assert _queries(tree, DUE + timedelta(days=3)) == few


def test_two_rules_of_one_rung_reaching_the_same_person_make_one_reminder_with_the_wider_channels(
    tree, campaign, branch_secretary
):
    ReminderRule.objects.create(
        committee=tree.gw,
        name="逾期3天也提醒责任人",
        source=ReminderSource.ENTRY,
        offset_days=3,
        audience=Audience.RESPONSIBLE,  # no responsible person: the secretary
        via_email=False,
        via_webhook=False,
    )
    entry = entry_due(campaign, tree.a1, DUE)
    rows = plan(committee=tree.gw, day=DUE + timedelta(days=3))
    assert planned_for(rows, branch_secretary) == {(f"entry:{entry.pk}", "entry+3")}
    [p] = rows
    assert (p.audience, p.via_email, p.via_webhook) == (Audience.SECRETARY, True, True)


def test_the_period_of_a_reminder_is_the_due_date_of_its_item(tree, campaign, branch_secretary):
    entry_due(campaign, tree.a1, DUE)
    [p] = plan(committee=tree.gw, day=DUE + timedelta(days=3))
    assert p.period == "2026-06-10"


def test_a_moved_due_date_is_a_new_period_and_is_reminded_again(tree, campaign, branch_secretary):
    entry = entry_due(campaign, tree.a1, DUE)
    [first] = plan(committee=tree.gw, day=DUE + timedelta(days=3))
    entry.due_date = DUE + timedelta(days=10)  # an extension was granted
    entry.save()
    [second] = plan(committee=tree.gw, day=DUE + timedelta(days=13))
    assert first.key != second.key and second.period == "2026-06-20"


def test_planning_one_subtree_reads_only_its_items(tree, campaign, branch_secretary, outsider_secretary):
    entry_due(campaign, tree.a1, DUE)
    entry_due(campaign, tree.b1, DUE)
    rows = plan(committee=tree.gw, day=DUE + timedelta(days=3), paths=[tree.a.path])
    assert {p.item.org_id for p in rows} == {tree.a1.pk}
    assert {p.recipient_id for p in rows} == {branch_secretary.pk}


def test_without_active_rules_nothing_is_planned(tree, campaign, branch_secretary):
    ReminderRule.objects.filter(committee=tree.gw).update(is_active=False)
    entry_due(campaign, tree.a1, DUE)
    assert plan(committee=tree.gw, day=DUE + timedelta(days=3)) == []

"""The escalation ladder: overdue → secretary (+3) → parent staff (+7) → 工委 red list (+14), each once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from branches.models import Role
from campaigns.models import Reminder, ReminderRule, ReminderSource
from campaigns.reminders.planner import active_rules, windows
from tests.reminders.support import entry_due, inbox, keys_of, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_obligations")]

DUE = date(2026, 6, 10)


def day(offset: int) -> date:
    return DUE + timedelta(days=offset)


@pytest.fixture
def entry(tree, campaign):
    return entry_due(campaign, tree.a1, DUE, title="落实三会一课制度")


def test_three_days_overdue_goes_to_the_secretary_only(
    entry, run_day, branch_secretary, agency_staff, committee_staff
):
    run_day(day(3))
    assert keys_of(branch_secretary) == {(f"entry:{entry.pk}", "entry+3")}
    assert keys_of(agency_staff) == set()
    assert keys_of(committee_staff) == set()


def test_seven_days_overdue_goes_to_the_staff_of_the_parent_agency_committee(
    entry, run_day, branch_secretary, agency_staff, committee_staff
):
    run_day(day(7))
    assert keys_of(agency_staff) == {(f"entry:{entry.pk}", "entry+7")}
    assert keys_of(branch_secretary) == set()
    assert keys_of(committee_staff) == set()


def test_fourteen_days_overdue_puts_the_item_on_the_committee_red_list(
    entry, run_day, branch_secretary, agency_staff, committee_staff, committee_admin
):
    run_day(day(14))
    for staff in (committee_staff, committee_admin):
        assert keys_of(staff) == {(f"entry:{entry.pk}", "entry+14")}
        [message] = inbox(staff)
        assert message.body.startswith("以下1项已逾期较久，列入工委红名单")
    assert keys_of(agency_staff) == set()
    assert keys_of(branch_secretary) == set()


def test_the_parent_rung_goes_to_the_nearest_general_branch_with_staff(tree, campaign, run_day, agency_staff):
    ag_staff = person("ag_staff", tree.ag, Role.UNIT_STAFF)
    entry = entry_due(campaign, tree.ag1, DUE)
    run_day(day(7))
    assert keys_of(ag_staff) == {(f"entry:{entry.pk}", "entry+7")}
    assert keys_of(agency_staff) == set()


def test_the_parent_rung_skips_a_general_branch_without_staff(tree, campaign, run_day, agency_staff):
    entry = entry_due(campaign, tree.ag1, DUE)
    run_day(day(7))
    assert keys_of(agency_staff) == {(f"entry:{entry.pk}", "entry+7")}


def test_the_parent_rung_of_a_branch_directly_under_the_committee_reaches_nobody_below_the_red_list(
    tree, campaign, run_day, agency_staff, committee_staff
):
    entry_due(campaign, tree.d1, DUE)
    run_day(day(7))
    assert not Reminder.objects.exists()


def test_each_rung_goes_out_once_over_a_month_of_daily_runs(
    entry, run_day, branch_secretary, agency_staff, committee_staff, committee_admin
):
    for offset in range(-5, 25):
        run_day(day(offset))
    key = f"entry:{entry.pk}"
    assert keys_of(branch_secretary) == {(key, "entry-3"), (key, "entry+0"), (key, "entry+3")}
    assert keys_of(agency_staff) == {(key, "entry+7")}
    assert keys_of(committee_staff) == keys_of(committee_admin) == {(key, "entry+14")}
    assert len(inbox(branch_secretary)) == 3
    assert len(inbox(agency_staff)) == 1
    assert len(inbox(committee_staff)) == 1
    assert [m.title[:6] for m in inbox(branch_secretary)] == ["【3天后到期", "【今日到期】", "【逾期3天】"]


def test_a_rung_stops_when_the_item_is_done(entry, run_day, agency_staff):
    run_day(day(3))
    entry.status = "approved"
    entry.save()
    run_day(day(7))
    assert keys_of(agency_staff) == set()


# --- catch-up ------------------------------------------------------------------------------------------


def test_a_missed_day_is_made_up_the_next_day(entry, run_day, branch_secretary):
    run_day(day(4))  # the dispatcher did not run on day +3
    assert keys_of(branch_secretary) == {(f"entry:{entry.pk}", "entry+3")}
    [message] = inbox(branch_secretary)
    assert message.title.startswith("【逾期4天】")


def test_catch_up_lasts_one_day_only_by_default(entry, run_day, branch_secretary):
    run_day(day(5))  # missed days +3 and +4
    assert keys_of(branch_secretary) == set()


def test_catching_up_the_parent_rung_does_not_bring_back_the_secretary_rung(
    entry, run_day, branch_secretary, agency_staff
):
    run_day(day(8))  # missed day +7
    assert keys_of(agency_staff) == {(f"entry:{entry.pk}", "entry+7")}
    assert keys_of(branch_secretary) == set()


def test_catch_up_never_reaches_into_the_next_rung_of_the_same_audience(tree, policy, settings):
    settings.REMINDER_CATCH_UP_DAYS = 10
    rules = {r.kind: r for r in active_rules(tree.gw) if r.source == ReminderSource.ENTRY}
    spans = windows(list(rules.values()))
    assert spans[rules["entry-3"].pk] == (-3, -1)  # stops the day before "entry+0" (same audience)
    assert spans[rules["entry+0"].pk] == (0, 9)
    assert spans[rules["entry+3"].pk] == (3, 12)  # the secretary's own line


def test_with_a_long_catch_up_the_responsible_person_never_gets_two_rungs_on_one_day(
    tree, campaign, run_day, settings, branch_member
):
    settings.REMINDER_CATCH_UP_DAYS = 10
    entry = entry_due(campaign, tree.a1, DUE, responsible=branch_member)
    run_day(day(-1))
    assert keys_of(branch_member) == {(f"entry:{entry.pk}", "entry-3")}
    run_day(day(0))
    assert keys_of(branch_member, scheduled_on=day(0)) == {(f"entry:{entry.pk}", "entry+0")}


def test_a_deactivated_rung_is_skipped(tree, entry, run_day, agency_staff, committee_staff):
    ReminderRule.objects.filter(committee=tree.gw, source=ReminderSource.ENTRY, offset_days=7).update(
        is_active=False
    )
    run_day(day(7))
    run_day(day(14))
    assert keys_of(agency_staff) == set()
    assert keys_of(committee_staff) == {(f"entry:{entry.pk}", "entry+14")}


def test_a_custom_rung_added_by_the_committee_is_used(tree, entry, run_day, agency_staff):
    ReminderRule.objects.create(
        committee=tree.gw,
        name="逾期30天再次提醒上级党组织",
        source=ReminderSource.ENTRY,
        offset_days=30,
        audience="parent_staff",
    )
    run_day(day(7))
    run_day(day(30))
    assert keys_of(agency_staff) == {(f"entry:{entry.pk}", "entry+7"), (f"entry:{entry.pk}", "entry+30")}

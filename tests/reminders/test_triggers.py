"""Every trigger of the reminder rules: before, on and after a date, for each source of due items."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.models import Member, MemberCategory, Message, Role
from campaigns.models import (
    CampaignStatus,
    EntryStatus,
    Frequency,
    Obligation,
    ObligationRecord,
    RectificationStatus,
    Reminder,
    ReminderSource,
    ReminderStatus,
)
from campaigns.reminders.planner import active_rules, plan
from campaigns.reminders.sources import REGISTRY, obligation_key
from scoring.models import RoundStage
from scoring.services import compile_now, round_advance, tie_decide
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.reminders.support import entry_due, inbox, keys_of, person, planned_for, rectification_due
from tests.scoring.factories import make_round, score

pytestmark = pytest.mark.django_db

DUE = date(2026, 6, 10)


def planned(tree, day, source):
    """What the rules of one source plan for ``day`` (the other sources stay out of the way)."""
    return plan(committee=tree.gw, day=day, rules=[r for r in active_rules(tree.gw) if r.source == source])


def due_obligations(tree, day):
    """The open obligations due on ``day`` (whether or not someone would be told)."""
    return list(REGISTRY[ReminderSource.OBLIGATION].due(tree.gw, day, day, None))


# --- checklist entries ---------------------------------------------------------------------------


def test_an_entry_is_reminded_to_its_responsible_person_three_days_before_it_is_due(
    tree, policy, campaign, branch_member, branch_secretary
):
    entry = entry_due(campaign, tree.a1, DUE, responsible=branch_member)
    rows = planned(tree, DUE - timedelta(days=3), "entry")
    assert planned_for(rows, branch_member) == {(f"entry:{entry.pk}", "entry-3")}
    assert planned_for(rows, branch_secretary) == set()


def test_an_entry_without_a_responsible_person_is_reminded_to_the_secretary_before_it_is_due(
    tree, policy, campaign, branch_secretary
):
    entry = entry_due(campaign, tree.a1, DUE)
    assert planned_for(planned(tree, DUE - timedelta(days=3), "entry"), branch_secretary) == {
        (f"entry:{entry.pk}", "entry-3")
    }


def test_an_entry_is_reminded_to_its_responsible_person_on_the_day_it_is_due(
    tree, policy, campaign, branch_member
):
    entry = entry_due(campaign, tree.a1, DUE, responsible=branch_member)
    assert planned_for(planned(tree, DUE, "entry"), branch_member) == {(f"entry:{entry.pk}", "entry+0")}


def test_an_entry_three_days_overdue_is_reminded_to_the_secretary_not_the_responsible_person(
    tree, policy, campaign, branch_member, branch_secretary
):
    entry = entry_due(campaign, tree.a1, DUE, responsible=branch_member)
    rows = planned(tree, DUE + timedelta(days=3), "entry")
    assert planned_for(rows, branch_secretary) == {(f"entry:{entry.pk}", "entry+3")}
    assert planned_for(rows, branch_member) == set()


def test_no_entry_reminder_falls_between_the_rungs(tree, policy, campaign, branch_member, branch_secretary):
    entry_due(campaign, tree.a1, DUE, responsible=branch_member)
    for offset in (-5, -4, 2, 5, 6):
        assert planned(tree, DUE + timedelta(days=offset), "entry") == [], offset


def test_a_done_entry_is_not_reminded(tree, policy, campaign, branch_secretary):
    entry_due(campaign, tree.a1, DUE, status=EntryStatus.APPROVED)
    entry_due(campaign, tree.a1, DUE, status=EntryStatus.SUBMITTED)
    entry_due(campaign, tree.a1, DUE, status=EntryStatus.NOT_APPLICABLE)
    assert planned(tree, DUE + timedelta(days=3), "entry") == []


def test_a_returned_entry_is_still_reminded(tree, policy, campaign, branch_secretary):
    entry = entry_due(campaign, tree.a1, DUE, status=EntryStatus.RETURNED)
    assert planned_for(planned(tree, DUE + timedelta(days=3), "entry"), branch_secretary) == {
        (f"entry:{entry.pk}", "entry+3")
    }


def test_entries_of_a_draft_campaign_are_not_reminded(tree, policy, branch_secretary):
    draft = make_campaign(tree.gw, year=2027, status=CampaignStatus.DRAFT)
    entry_due(draft, tree.a1, DUE)
    assert planned(tree, DUE + timedelta(days=3), "entry") == []


def test_each_period_of_a_recurring_entry_is_reminded_on_its_own_due_date(
    tree, policy, campaign, branch_secretary
):
    item = make_item(campaign, due_date=None, frequency=Frequency.QUARTERLY)
    q1 = make_entry(campaign, tree.a1, item, period=1, due_date=date(2026, 3, 31))
    make_entry(campaign, tree.a1, item, period=2, due_date=date(2026, 6, 30))
    rows = planned(tree, date(2026, 4, 3), "entry")
    assert planned_for(rows, branch_secretary) == {(f"entry:{q1.pk}", "entry+3")}
    assert "（第1期）" in rows[0].item.title


def test_an_overdue_entry_is_sent_to_the_secretarys_inbox_with_the_days_overdue(
    tree, campaign, branch_secretary, run_day
):
    entry = entry_due(campaign, tree.a1, DUE, title="落实三会一课制度")
    run_day(DUE + timedelta(days=3))
    [message] = inbox(branch_secretary)
    assert message.title == "【逾期3天】财政局预算股党支部 · 落实三会一课制度（时限 2026-06-10）"
    assert message.url == reverse("campaigns:entry_detail", args=[entry.pk])
    assert Reminder.objects.get(recipient=branch_secretary).status == ReminderStatus.SENT


# --- rectification deadlines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "kind", "who"),
    [
        (-7, "rectification-7", "branch_secretary"),
        (0, "rectification+0", "branch_secretary"),
        (3, "rectification+3", "agency_staff"),
        (14, "rectification+14", "committee_staff"),
    ],
)
def test_a_rectification_deadline_is_reminded_on_each_rung(
    request, tree, policy, campaign, branch_secretary, agency_staff, committee_staff, offset, kind, who
):
    rect = rectification_due(campaign, tree.a1, DUE)
    rows = planned(tree, DUE + timedelta(days=offset), "rectification")
    assert {(p.item.key, p.kind) for p in rows} == {(f"rect:{rect.pk}", kind)}
    assert planned_for(rows, request.getfixturevalue(who)) == {(f"rect:{rect.pk}", kind)}


def test_a_closed_rectification_is_not_reminded(tree, policy, campaign, branch_secretary):
    rect = rectification_due(campaign, tree.a1, DUE)
    rect.status = RectificationStatus.CLOSED
    rect.save()
    assert planned(tree, DUE, "rectification") == []


# --- recurring obligations ---------------------------------------------------------------------------


def obligation(tree, name):
    return Obligation.objects.get(committee=tree.gw, name=name)


def test_the_quarterly_party_meeting_is_due_at_the_end_of_the_quarter(tree, policy, branch_secretary):
    ob = obligation(tree, "支部党员大会")
    rows = planned(tree, date(2026, 3, 26), "obligation")  # 5 days before 31 March
    mine = [
        p for p in rows if p.recipient_id == branch_secretary.pk and p.item.key.startswith(f"obl:{ob.pk}:")
    ]
    assert [(p.item.key, p.kind, p.item.due_date) for p in mine] == [
        (obligation_key(ob.pk, tree.a1.pk, "2026-Q1"), "obligation-5", date(2026, 3, 31))
    ]
    assert mine[0].item.title == "支部党员大会（2026年第1季度）"


def test_an_unmet_quarterly_obligation_is_overdue_three_days_after_the_quarter(
    tree, policy, branch_secretary
):
    ob = obligation(tree, "支部党员大会")
    key = obligation_key(ob.pk, tree.a1.pk, "2026-Q1")
    assert (key, "obligation+3") in planned_for(
        planned(tree, date(2026, 4, 3), "obligation"), branch_secretary
    )


def test_the_fourth_quarter_is_overdue_in_the_new_year(tree, policy, branch_secretary):
    ob = obligation(tree, "支部党员大会")
    key = obligation_key(ob.pk, tree.a1.pk, "2026-Q4")
    assert (key, "obligation+3") in planned_for(
        planned(tree, date(2027, 1, 3), "obligation"), branch_secretary
    )


def test_an_obligation_recorded_for_the_period_is_not_reminded(tree, policy, branch_secretary):
    ob = obligation(tree, "支部党员大会")
    ObligationRecord.objects.create(
        obligation=ob, org=tree.a1, period_key="2026-Q1", held_on=date(2026, 3, 2)
    )
    keys = {item.key for item in due_obligations(tree, date(2026, 3, 31))}
    assert obligation_key(ob.pk, tree.a1.pk, "2026-Q1") not in keys
    assert obligation_key(ob.pk, tree.a2.pk, "2026-Q1") in keys


def test_a_record_of_another_period_does_not_meet_the_obligation(tree, policy, branch_secretary):
    ob = obligation(tree, "支部党员大会")
    ObligationRecord.objects.create(
        obligation=ob, org=tree.a1, period_key="2025-Q4", held_on=date(2025, 12, 2)
    )
    keys = {item.key for item in due_obligations(tree, date(2026, 3, 31))}
    assert obligation_key(ob.pk, tree.a1.pk, "2026-Q1") in keys


def test_an_obligation_is_met_by_the_done_checklist_entry_of_its_item_code(
    tree, policy, campaign, branch_secretary
):
    ob = obligation(tree, "支部党员大会")
    ob.item_code = "ZZ-DH"
    ob.save()
    item = make_item(campaign, code="ZZ-DH", due_date=None, frequency=Frequency.QUARTERLY)
    make_entry(campaign, tree.a1, item, period=1, due_date=date(2026, 3, 31), status=EntryStatus.APPROVED)
    make_entry(campaign, tree.a2, item, period=1, due_date=date(2026, 3, 31), status=EntryStatus.IN_PROGRESS)
    keys = {item.key for item in due_obligations(tree, date(2026, 3, 31))}
    assert obligation_key(ob.pk, tree.a1.pk, "2026-Q1") not in keys
    assert obligation_key(ob.pk, tree.a2.pk, "2026-Q1") in keys


def test_a_done_entry_of_another_quarter_does_not_meet_the_obligation(
    tree, policy, campaign, branch_secretary
):
    ob = obligation(tree, "支部党员大会")
    ob.item_code = "ZZ-DH"
    ob.save()
    item = make_item(campaign, code="ZZ-DH", due_date=None, frequency=Frequency.QUARTERLY)
    make_entry(campaign, tree.a1, item, period=2, due_date=date(2026, 6, 30), status=EntryStatus.APPROVED)
    keys = {item.key for item in due_obligations(tree, date(2026, 3, 31))}
    assert obligation_key(ob.pk, tree.a1.pk, "2026-Q1") in keys


def _full_members(org, n, category=MemberCategory.FULL):
    for i in range(n):
        Member.objects.create(org=org, name=f"党员{i}", category=category)


def test_the_branch_committee_meeting_is_due_only_for_branches_with_seven_full_members(tree, policy):
    ob = obligation(tree, "支部委员会会议")
    _full_members(tree.a1, 4)  # 3 + 4 = 7 full members
    _full_members(tree.a2, 4, MemberCategory.PROBATIONARY)  # 2 full + 4 probationary
    orgs = {
        item.org_id
        for item in due_obligations(tree, date(2026, 5, 31))
        if item.key.startswith(f"obl:{ob.pk}:")
    }
    assert orgs == {tree.a1.pk}


def test_a_member_who_left_does_not_count_towards_the_seven(tree, policy):
    ob = obligation(tree, "支部委员会会议")
    _full_members(tree.a1, 4)
    Member.objects.filter(org=tree.a1, name="党员0").update(is_active=False)  # 6 full members left
    assert not [
        item for item in due_obligations(tree, date(2026, 5, 31)) if item.key.startswith(f"obl:{ob.pk}:")
    ]


def test_the_half_yearly_ideology_study_of_an_agency_committee_goes_to_its_secretary(tree, policy):
    a_secretary = person("a_secretary", tree.a, Role.SECRETARY)
    ob = obligation(tree, "意识形态工作专题研究")
    rows = planned(tree, date(2026, 6, 25), "obligation")
    assert (obligation_key(ob.pk, tree.a.pk, "2026-H1"), "obligation-5") in planned_for(rows, a_secretary)
    assert not [p for p in rows if p.item.key == obligation_key(ob.pk, tree.a1.pk, "2026-H1")]


def test_an_inactive_obligation_is_not_reminded(tree, policy):
    Obligation.objects.filter(committee=tree.gw).update(is_active=False)
    assert due_obligations(tree, date(2026, 3, 31)) == []


# --- campaign phases ---------------------------------------------------------------------------------


def test_the_opening_of_a_phase_is_announced_to_every_secretary_and_the_parent_staff(
    tree, policy, campaign, branch_secretary, outsider_secretary, agency_staff, committee_staff
):
    rows = planned(tree, date(2026, 6, 1), "phase_start")  # supervision_starts_on
    key = f"phase:{campaign.pk}:supervision:start:2026-06-01"
    for user in (branch_secretary, outsider_secretary, agency_staff):
        assert planned_for(rows, user) == {(key, "phase_start+0")}
    assert planned_for(rows, committee_staff) == set()


def test_the_opening_of_a_phase_reaches_the_parent_staff_through_the_daily_dispatch(
    tree, campaign, agency_staff, branch_secretary, run_day
):
    run_day(date(2026, 6, 1))
    key = f"phase:{campaign.pk}:supervision:start:2026-06-01"
    assert keys_of(agency_staff) == {(key, "phase_start+0")}
    assert keys_of(branch_secretary) == {(key, "phase_start+0")}
    assert len(inbox(agency_staff)) == 1


def test_the_end_of_a_phase_is_reminded_to_secretaries_seven_days_before(
    tree, policy, campaign, branch_secretary, agency_staff
):
    rows = planned(tree, date(2026, 7, 24), "phase_end")  # supervision ends 31 July
    key = f"phase:{campaign.pk}:supervision:end:2026-07-31"
    assert planned_for(rows, branch_secretary) == {(key, "phase_end-7")}
    assert planned_for(rows, agency_staff) == set()
    assert rows[0].item.title == "2026年模范机关创建「年中督责」阶段7月31日结束"


def test_a_phase_moved_to_a_later_date_is_announced_on_its_new_date(tree, policy, campaign, branch_secretary):
    campaign.supervision_starts_on = date(2026, 6, 15)
    campaign.save()
    assert planned(tree, date(2026, 6, 1), "phase_start") == []
    rows = planned(tree, date(2026, 6, 15), "phase_start")
    assert planned_for(rows, branch_secretary) == {
        (f"phase:{campaign.pk}:supervision:start:2026-06-15", "phase_start+0")
    }


def test_the_phases_of_a_draft_campaign_are_not_announced(tree, policy, branch_secretary):
    make_campaign(tree.gw, status=CampaignStatus.DRAFT)
    assert planned(tree, date(2026, 6, 1), "phase_start") == []


# --- rating publicity ------------------------------------------------------------------------------


@pytest.fixture
def rating_round(tree, campaign, committee_staff):
    for org, points in ((tree.a1, "95"), (tree.b1, "95"), (tree.a2, "85"), (tree.ag1, "70"), (tree.d1, "50")):
        score(campaign, org, points)
    return make_round(campaign, committee_staff)


def to_publicity(rnd, tree, staff):
    compile_now(rnd=rnd, actor=staff)
    tie_decide(rnd=rnd, level=5, scope="工委", chosen=[tree.a1.pk], reason="会议决定", actor=staff)
    compile_now(rnd=rnd, actor=staff)
    for stage in (RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW):
        rnd = round_advance(rnd=rnd, to_stage=stage, actor=staff, expected_version=rnd.version)
    return round_advance(rnd=rnd, to_stage=RoundStage.PUBLICITY, actor=staff, expected_version=rnd.version)


def test_moving_a_rating_round_to_publicity_tells_each_secretary_at_once(
    tree,
    rating_round,
    committee_staff,
    branch_secretary,
    outsider_secretary,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        rnd = to_publicity(rating_round, tree, committee_staff)
    for secretary in (branch_secretary, outsider_secretary):
        assert keys_of(secretary) == {(f"publicity:{rnd.pk}", "publicity+0")}
        [message] = inbox(secretary)
        assert "开始公示" in message.title


def test_the_daily_dispatch_on_the_publicity_day_does_not_repeat_the_publicity_reminder(
    tree, rating_round, committee_staff, branch_secretary, django_capture_on_commit_callbacks, run_day
):
    with django_capture_on_commit_callbacks(execute=True):
        rnd = to_publicity(rating_round, tree, committee_staff)
    run_day(rnd.publicity_starts_on, hour=10)
    assert Reminder.objects.filter(recipient=branch_secretary).count() == 1
    assert Message.objects.filter(recipient=branch_secretary).count() == 1


def test_the_publicity_start_is_planned_for_secretaries_on_its_first_day(
    tree, policy, rating_round, committee_staff, branch_secretary, agency_staff
):
    rnd = to_publicity(rating_round, tree, committee_staff)
    rows = planned(tree, rnd.publicity_starts_on, "publicity")
    assert planned_for(rows, branch_secretary) == {(f"publicity:{rnd.pk}", "publicity+0")}
    assert planned_for(rows, agency_staff) == set()
    assert planned(tree, rnd.publicity_starts_on + timedelta(days=5), "publicity") == []


# --- term end (换届) ------------------------------------------------------------------------------


def test_a_branch_secretary_is_reminded_ninety_days_before_the_term_ends(tree, policy, branch_secretary):
    ends = date(2026, 12, 31)
    tree.a1.term_ends_on = ends
    tree.a1.save()
    rows = planned(tree, ends - timedelta(days=90), "term")
    assert {(p.recipient_id, p.kind) for p in rows} == {(branch_secretary.pk, "term-90")}
    assert rows[0].item.key == f"term:{tree.a1.pk}:2026-12-31"


def test_sixty_days_before_the_term_ends_the_secretary_and_the_parent_staff_are_reminded(
    tree, policy, branch_secretary, agency_staff
):
    ends = date(2026, 12, 31)
    tree.a1.term_ends_on = ends
    tree.a1.save()
    rows = planned(tree, ends - timedelta(days=60), "term")
    assert {(p.recipient_id, p.kind) for p in rows} == {
        (branch_secretary.pk, "term-60"),
        (agency_staff.pk, "term-60"),
    }


def test_the_term_of_an_agency_committee_is_reminded_to_its_own_secretary(tree, policy, agency_staff):
    a_secretary = person("a_secretary", tree.a, Role.SECRETARY)
    tree.a.term_ends_on = date(2027, 3, 1)
    tree.a.save()
    rows = planned(tree, date(2027, 3, 1) - timedelta(days=90), "term")
    assert {(p.recipient_id, p.kind) for p in rows} == {(a_secretary.pk, "term-90")}


def test_no_term_reminder_between_ninety_and_sixty_days(tree, policy, branch_secretary):
    tree.a1.term_ends_on = date(2026, 12, 31)
    tree.a1.save()
    assert planned(tree, date(2026, 12, 31) - timedelta(days=75), "term") == []


def test_a_moved_term_end_cancels_the_pending_reminder_of_the_old_date(
    tree, policy, branch_secretary, django_capture_on_commit_callbacks
):
    from campaigns.reminders.dispatch import compose, write_log

    tree.a1.term_ends_on = date(2026, 12, 31)
    tree.a1.save()
    day = date(2026, 10, 2)
    write_log(planned(tree, day, "term"), committee=tree.gw, run=None, day=day)
    tree.a1.term_ends_on = date(2027, 6, 30)
    tree.a1.save()
    with django_capture_on_commit_callbacks(execute=True):
        compose(committee=tree.gw, day=day, recipient_ids=[branch_secretary.pk], now=timezone.now())
    assert Reminder.objects.get(recipient=branch_secretary).status == ReminderStatus.CANCELLED
    assert inbox(branch_secretary) == []

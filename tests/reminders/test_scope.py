"""Scope: nobody is told about another branch's items; reminders follow the tree."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from branches import services
from branches.models import Role
from campaigns.models import Reminder
from tests.reminders.support import entry_due, inbox, keys_of, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_obligations")]

DUE = date(2026, 6, 10)


def day(offset: int) -> date:
    return DUE + timedelta(days=offset)


def test_the_overdue_entry_of_another_branch_never_reaches_a_secretary(
    tree, campaign, run_day, branch_secretary, outsider_secretary
):
    b1 = entry_due(campaign, tree.b1, DUE, title="旬速办事项")
    run_day(day(3))
    assert keys_of(outsider_secretary) == {(f"entry:{b1.pk}", "entry+3")}
    assert keys_of(branch_secretary) == set()
    assert inbox(branch_secretary) == []


def test_the_overdue_entry_of_another_agency_committee_never_reaches_its_staff(
    tree, campaign, run_day, agency_staff
):
    entry_due(campaign, tree.b1, DUE)
    run_day(day(7))
    assert keys_of(agency_staff) == set()
    assert not Reminder.objects.exists()  # B has no staff: the rung reaches nobody rather than A


def test_the_parent_staff_digest_lists_only_the_items_of_their_subtree(tree, campaign, run_day, agency_staff):
    b_staff = person("b_staff", tree.b, Role.UNIT_STAFF)
    entry_due(campaign, tree.a1, DUE, title="预算股事项")
    entry_due(campaign, tree.a2, DUE, title="综合股事项")
    entry_due(campaign, tree.b1, DUE, title="旬速办事项")
    run_day(day(7))
    [a_message] = inbox(agency_staff)
    assert "预算股事项" in a_message.body and "综合股事项" in a_message.body
    assert "旬速办" not in a_message.body
    [b_message] = inbox(b_staff)
    assert "旬速办事项" in b_message.title and "财政局" not in b_message.title + b_message.body


def test_a_secretary_digest_lists_only_the_items_of_their_own_branch(
    tree, campaign, run_day, branch_secretary
):
    a2_secretary = person("a2_secretary", tree.a2, Role.SECRETARY)
    entry_due(campaign, tree.a1, DUE, title="预算股事项")
    entry_due(campaign, tree.a2, DUE, title="综合股事项")
    run_day(day(3))
    [mine] = inbox(branch_secretary)
    assert "预算股事项" in mine.title and "综合股" not in mine.title
    [theirs] = inbox(a2_secretary)
    assert "综合股事项" in theirs.title


def test_the_responsible_person_is_told_only_of_the_entry_they_are_responsible_for(
    tree, campaign, run_day, branch_member, branch_secretary
):
    mine = entry_due(campaign, tree.a1, DUE, title="我负责的事项", responsible=branch_member)
    other = entry_due(campaign, tree.a1, DUE, title="无人负责的事项")
    run_day(day(-3))
    assert keys_of(branch_member) == {(f"entry:{mine.pk}", "entry-3")}
    assert keys_of(branch_secretary) == {(f"entry:{other.pk}", "entry-3")}


def test_a_responsible_person_without_any_role_is_still_told(tree, campaign, run_day):
    clerk = person("clerk")
    entry = entry_due(campaign, tree.a1, DUE, responsible=clerk)
    run_day(day(0))
    assert keys_of(clerk) == {(f"entry:{entry.pk}", "entry+0")}
    assert len(inbox(clerk)) == 1


def test_a_branch_without_a_secretary_is_reminded_through_the_secretary_of_its_general_branch(
    tree, campaign, run_day, branch_secretary
):
    ag_secretary = person("ag_secretary", tree.ag, Role.SECRETARY)
    entry = entry_due(campaign, tree.ag1, DUE)
    run_day(day(3))
    assert keys_of(ag_secretary) == {(f"entry:{entry.pk}", "entry+3")}
    assert keys_of(branch_secretary) == set()


def test_someone_holding_roles_in_two_branches_gets_one_digest_with_both(
    tree, campaign, run_day, branch_secretary
):
    services.role_grant(user=branch_secretary, org=tree.b1, role=Role.SECRETARY)
    entry_due(campaign, tree.a1, DUE, title="预算股事项")
    entry_due(campaign, tree.b1, DUE, title="旬速办事项")
    run_day(day(3))
    [message] = inbox(branch_secretary)
    assert "预算股事项" in message.body and "旬速办事项" in message.body


def test_the_red_list_is_only_for_the_committee_staff(
    tree, campaign, run_day, committee_staff, committee_admin, agency_staff, branch_secretary, leader
):
    entry = entry_due(campaign, tree.a1, DUE)
    run_day(day(14))
    told = set(Reminder.objects.values_list("recipient_id", flat=True))
    assert told == {committee_staff.pk, committee_admin.pk}
    assert Reminder.objects.filter(item_key=f"entry:{entry.pk}", kind="entry+14").count() == 2


def test_a_liaison_leader_or_member_without_a_reminder_role_is_never_told(
    tree,
    campaign,
    run_day,
    leader,
    branch_member,
    branch_secretary,
    outsider_secretary,
    agency_staff,
    committee_staff,
):
    for offset in (-3, 0, 3, 7, 14):
        entry_due(campaign, tree.b1, DUE - timedelta(days=offset))
        entry_due(campaign, tree.a1, DUE - timedelta(days=offset))
    run_day(DUE)
    assert Reminder.objects.values("recipient").distinct().count() == 4
    assert keys_of(leader) == set() and keys_of(branch_member) == set()


def test_an_entry_whose_responsible_person_has_left_is_reminded_to_the_secretary(
    tree, campaign, run_day, branch_member, branch_secretary
):
    entry = entry_due(campaign, tree.a1, DUE, responsible=branch_member)
    branch_member.is_active = False
    branch_member.save()
    run_day(day(-3))
    assert keys_of(branch_member) == set()
    assert keys_of(branch_secretary) == {(f"entry:{entry.pk}", "entry-3")}

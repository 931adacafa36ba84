"""Digests: one message per person per day (or per week) listing every item due for that person."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from branches.models import DigestMode, Message, NotificationPreference
from campaigns.models import Obligation, Reminder, ReminderStatus
from campaigns.reminders.dispatch import DIGEST_LINES
from tests.reminders.support import entry_due, inbox, keys_of, rectification_due

pytestmark = pytest.mark.django_db

SATURDAY = date(2026, 6, 13)
SUNDAY = SATURDAY + timedelta(days=1)
MONDAY = SATURDAY + timedelta(days=2)


@pytest.fixture
def several(tree, campaign, policy):
    """On Saturday the A1 secretary has an overdue entry, an entry due soon and a rectification."""
    Obligation.objects.filter(committee=tree.gw).update(is_active=False)
    return {
        "overdue": entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3), title="落实三会一课制度"),
        "soon": entry_due(campaign, tree.a1, SATURDAY + timedelta(days=3), title="开展主题党日活动"),
        "rect": rectification_due(campaign, tree.a1, SATURDAY + timedelta(days=7), text="组织生活会记录缺失"),
        "other": entry_due(campaign, tree.a2, SATURDAY - timedelta(days=3), title="党费收缴台账"),
    }


def test_a_daily_digest_is_one_message_listing_every_item_of_the_person(several, run_day, branch_secretary):
    run_day(SATURDAY)
    [message] = inbox(branch_secretary)
    assert message.title == "待办提醒：3项事项需要办理，其中逾期1项（6月13日）"
    lines = message.body.splitlines()
    assert len(lines) == 3
    assert any("【逾期3天】" in line and "落实三会一课制度" in line for line in lines)
    assert any("【3天后到期】" in line and "开展主题党日活动" in line for line in lines)
    assert any("【7天后到期】" in line and "整改：组织生活会记录缺失" in line for line in lines)
    assert message.url == reverse("campaigns:my_reminders")


def test_every_reminder_of_the_digest_points_to_its_message(several, run_day, branch_secretary):
    run_day(SATURDAY)
    [message] = inbox(branch_secretary)
    rows = Reminder.objects.filter(recipient=branch_secretary)
    assert rows.count() == 3
    assert {(r.status, r.message_id) for r in rows} == {(ReminderStatus.SENT, message.pk)}


def test_a_digest_of_one_item_carries_that_item_title_and_link(
    tree, campaign, policy, run_day, branch_secretary
):
    Obligation.objects.filter(committee=tree.gw).update(is_active=False)
    entry = entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3), title="落实三会一课制度")
    run_day(SATURDAY)
    [message] = inbox(branch_secretary)
    assert message.title.startswith("【逾期3天】财政局预算股党支部 · 落实三会一课制度")
    assert message.url == reverse("campaigns:entry_detail", args=[entry.pk])


def test_a_digest_mixes_items_of_several_sources(tree, several, run_day, branch_secretary):
    # 主题党日 due on the 18th: five days before is Saturday.
    Obligation.objects.filter(committee=tree.gw, name="主题党日").update(is_active=True, due_day=18)
    run_day(SATURDAY)
    sources = set(Reminder.objects.filter(recipient=branch_secretary).values_list("source", flat=True))
    assert sources == {"entry", "rectification", "obligation"}
    [message] = inbox(branch_secretary)
    assert "主题党日（2026年6月）" in message.body
    assert message.title.startswith("待办提醒：4项事项需要办理")


def test_each_person_gets_their_own_digest_on_the_same_day(
    tree, campaign, several, run_day, branch_secretary, agency_staff
):
    entry_due(campaign, tree.a2, SATURDAY - timedelta(days=7))
    entry_due(campaign, tree.a1, SATURDAY - timedelta(days=7))
    run_day(SATURDAY)
    assert len(inbox(branch_secretary)) == 1
    [staff_message] = inbox(agency_staff)
    assert staff_message.title.startswith("待办提醒：2项事项需要办理")
    assert "财政局综合股党支部" in staff_message.body and "财政局预算股党支部" in staff_message.body


def test_the_red_list_comes_first_in_a_digest(tree, campaign, policy, run_day, committee_staff):
    Obligation.objects.filter(committee=tree.gw).update(is_active=False)
    entry_due(campaign, tree.a1, SATURDAY - timedelta(days=14), title="红名单事项")
    rectification_due(campaign, tree.b1, SATURDAY - timedelta(days=14), text="整改红名单事项")
    run_day(SATURDAY)
    [message] = inbox(committee_staff)
    assert message.body.startswith("以下2项已逾期较久，列入工委红名单：\n")


# --- weekly --------------------------------------------------------------------------------------------


def test_a_weekly_digest_holds_reminders_until_the_digest_weekday(several, policy, run_day, branch_secretary):
    policy.digest = DigestMode.WEEKLY
    policy.digest_weekday = 0  # Monday
    policy.save()
    run_day(SATURDAY)
    run_day(SUNDAY)
    assert inbox(branch_secretary) == []
    assert Reminder.objects.filter(recipient=branch_secretary, status=ReminderStatus.PENDING).count() == 3


def test_the_weekly_digest_sends_everything_held_in_one_message(
    tree, campaign, several, policy, run_day, branch_secretary
):
    entry_due(campaign, tree.a1, MONDAY + timedelta(days=3))  # reminded on Monday
    policy.digest = DigestMode.WEEKLY
    policy.digest_weekday = 0
    policy.save()
    run_day(SATURDAY)
    run_day(SUNDAY)
    run_day(MONDAY)
    [message] = inbox(branch_secretary)
    held = Reminder.objects.filter(recipient=branch_secretary)
    assert held.filter(scheduled_on=SATURDAY).count() == 3
    assert held.filter(scheduled_on=MONDAY).count() == 1
    assert {(r.status, r.message_id) for r in held} == {(ReminderStatus.SENT, message.pk)}
    assert len(message.body.splitlines()) == held.count()


def test_a_personal_weekly_preference_holds_only_that_persons_reminders(
    tree, campaign, several, run_day, branch_secretary, agency_staff
):
    entry_due(campaign, tree.a1, SATURDAY - timedelta(days=7))
    NotificationPreference.objects.create(user=branch_secretary, digest=DigestMode.WEEKLY)
    run_day(SATURDAY)
    assert inbox(branch_secretary) == []
    assert len(inbox(agency_staff)) == 1
    run_day(MONDAY)  # the 工委's weekday (Monday) applies to personal weekly digests too
    assert len(inbox(branch_secretary)) == 1


def test_a_personal_daily_preference_overrides_a_weekly_policy(several, policy, run_day, branch_secretary):
    policy.digest = DigestMode.WEEKLY
    policy.save()
    NotificationPreference.objects.create(user=branch_secretary, digest=DigestMode.DAILY)
    run_day(SATURDAY)
    assert len(inbox(branch_secretary)) == 1


def test_following_the_committee_setting_is_the_default_preference(
    several, policy, run_day, branch_secretary
):
    policy.digest = DigestMode.WEEKLY
    policy.save()
    NotificationPreference.objects.create(user=branch_secretary, digest=DigestMode.FOLLOW)
    run_day(SATURDAY)
    assert inbox(branch_secretary) == []


def test_held_reminders_are_not_logged_again_on_later_days(several, policy, run_day, branch_secretary):
    policy.digest = DigestMode.WEEKLY
    policy.save()
    run_day(SATURDAY)
    before = keys_of(branch_secretary)
    run_day(SUNDAY)  # the catch-up day of Saturday's rungs
    assert keys_of(branch_secretary) == before
    assert Message.objects.count() == 0


def test_a_long_digest_lists_the_first_sixty_items_and_counts_the_rest(
    tree, campaign, policy, run_day, branch_secretary
):
    Obligation.objects.filter(committee=tree.gw).update(is_active=False)
    for _ in range(DIGEST_LINES + 5):
        entry_due(campaign, tree.a1, SATURDAY - timedelta(days=3))
    run_day(SATURDAY)
    [message] = inbox(branch_secretary)
    lines = message.body.splitlines()
    assert len(lines) == DIGEST_LINES + 1
    assert lines[-1] == f"……等共{DIGEST_LINES + 5}项，请到“我的提醒”查看全部。"
    assert (
        message.title
        == f"待办提醒：{DIGEST_LINES + 5}项事项需要办理，其中逾期{DIGEST_LINES + 5}项（6月13日）"
    )

"""The reminder pages: my reminders, the staff preview / log / outside channels, the red list,
the manual run, and the 工委 admin's rules and settings."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import (
    AuditEvent,
    Channel,
    Delivery,
    DeliveryStatus,
    Message,
    OrgKind,
    OrgUnit,
    Role,
    User,
)
from campaigns.models import (
    Audience,
    DispatchRun,
    DispatchStatus,
    EntryStatus,
    Reminder,
    ReminderPolicy,
    ReminderRule,
    ReminderSource,
    ReminderStatus,
)
from tests.reminders.support import entry_due, person

pytestmark = pytest.mark.django_db

DUE = date(2026, 6, 10)
DAY = DUE + timedelta(days=3)  # 逾期3天: the secretary's rung
PREVIEW = reverse("campaigns:reminder_preview")
MINE = reverse("campaigns:my_reminders")


def logged(
    recipient: User,
    org: OrgUnit,
    key: str,
    *,
    status: str = ReminderStatus.SENT,
    source: str = ReminderSource.ENTRY,
    audience: str = Audience.SECRETARY,
    on: date = DAY,
    due: date = DUE,
) -> Reminder:
    """A row of the log written directly (the dispatcher's own tests cover how rows get there)."""
    committee = OrgUnit.objects.get(pk=int(org.path.strip("/").split("/")[0]))
    return Reminder.objects.create(
        recipient=recipient,
        item_key=key,
        kind=f"{source}+3",
        period=due.isoformat(),
        committee=committee,
        org=org,
        org_path=org.path,
        source=source,
        audience=audience,
        title=f"【逾期3天】{org.name} · {key}",
        url="/x/",
        due_date=due,
        scheduled_on=on,
        status=status,
    )


def plan_keys(response: Any) -> set[tuple[str, str]]:
    return {(row.recipient.username, row.planned.item.key) for row in response.context["rows"]}


def queries(client: Any, url: str, data: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, data or {}).status_code == 200
    return len(ctx.captured_queries)


# --- my reminders --------------------------------------------------------------------------------


def test_my_reminders_shows_only_my_own_reminders(tree, login, branch_secretary, outsider_secretary):
    mine = logged(branch_secretary, tree.a1, "entry:1")
    logged(outsider_secretary, tree.b1, "entry:2")
    response = login(branch_secretary).get(MINE)
    assert [r.pk for r in response.context["page"].object_list] == [mine.pk]
    assert "entry:2" not in response.content.decode()


def test_my_reminders_lists_pending_before_sent_before_cancelled(tree, login, branch_secretary):
    cancelled = logged(branch_secretary, tree.a1, "entry:1", status=ReminderStatus.CANCELLED)
    sent = logged(branch_secretary, tree.a1, "entry:2", status=ReminderStatus.SENT)
    pending = logged(branch_secretary, tree.a1, "entry:3", status=ReminderStatus.PENDING)
    response = login(branch_secretary).get(MINE)
    assert [r.pk for r in response.context["page"].object_list] == [pending.pk, sent.pk, cancelled.pk]
    assert response.context["counts"] == {"pending": 1, "sent": 1, "cancelled": 1}
    html = response.content.decode()
    assert html.index("待发送") < html.index("已发送") < html.index("已取消")


def test_my_reminders_filters_by_status(tree, login, branch_secretary):
    logged(branch_secretary, tree.a1, "entry:1", status=ReminderStatus.CANCELLED)
    sent = logged(branch_secretary, tree.a1, "entry:2")
    response = login(branch_secretary).get(MINE, {"status": "sent"})
    assert [r.pk for r in response.context["page"].object_list] == [sent.pk]


def test_my_reminders_show_the_item_link_due_date_and_rule_timing(tree, login, policy, branch_secretary):
    rule = ReminderRule.objects.get(committee=tree.gw, source="entry", offset_days=3, audience="secretary")
    r = logged(branch_secretary, tree.a1, "entry:1")
    Reminder.objects.filter(pk=r.pk).update(rule=rule)
    html = login(branch_secretary).get(MINE).content.decode()
    assert 'href="/x/"' in html and "时限 2026-06-10" in html and "逾期3天" in html


def test_my_reminders_page_query_count_does_not_grow_with_rows(tree, login, branch_secretary):
    logged(branch_secretary, tree.a1, "entry:1")
    client = login(branch_secretary)
    one = queries(client, MINE)
    for n in range(2, 12):
        logged(branch_secretary, tree.a1 if n % 2 else tree.a2, f"entry:{n}")
    assert queries(client, MINE) == one


# --- preview -------------------------------------------------------------------------------------


def test_preview_shows_what_the_dispatcher_would_send_that_day(
    tree, login, policy, campaign, committee_staff, branch_secretary
):
    entry = entry_due(campaign, tree.a1, DUE)
    response = login(committee_staff).get(PREVIEW, {"date": DAY.isoformat()})
    assert response.status_code == 200
    assert ("a1_secretary", f"entry:{entry.pk}") in plan_keys(response)
    assert "任务逾期3天提醒书记" in response.content.decode()


def test_preview_defaults_to_today(tree, login, policy, campaign, committee_staff, branch_secretary):
    entry = entry_due(campaign, tree.a1, timezone.localdate() - timedelta(days=3))
    response = login(committee_staff).get(PREVIEW)
    assert response.context["day"] == timezone.localdate()
    assert ("a1_secretary", f"entry:{entry.pk}") in plan_keys(response)


def test_agency_staff_never_see_b1_items_in_the_preview(
    tree, login, policy, campaign, agency_staff, branch_secretary, outsider_secretary
):
    a1 = entry_due(campaign, tree.a1, DUE)
    b1 = entry_due(campaign, tree.b1, DUE)
    response = login(agency_staff).get(PREVIEW, {"date": DAY.isoformat()})
    keys = {key for _, key in plan_keys(response)}
    assert f"entry:{a1.pk}" in keys
    assert f"entry:{b1.pk}" not in keys
    assert "b1_secretary" not in {name for name, _ in plan_keys(response)}


def test_preview_marks_keys_already_in_the_log(
    tree, login, policy, campaign, committee_staff, branch_secretary
):
    entry = entry_due(campaign, tree.a1, DUE)
    logged(branch_secretary, tree.a1, f"entry:{entry.pk}", status=ReminderStatus.SENT)
    response = login(committee_staff).get(PREVIEW, {"date": DAY.isoformat()})
    row = next(r for r in response.context["rows"] if r.planned.item.key == f"entry:{entry.pk}")
    assert row.logged_status == ReminderStatus.SENT
    assert "已记录：已发送" in response.content.decode()


def test_preview_shows_the_days_run_and_its_batches(tree, login, policy, campaign, committee_staff, run_day):
    entry_due(campaign, tree.a1, DUE)
    run_day(DAY)
    response = login(committee_staff).get(PREVIEW, {"date": DAY.isoformat()})
    run = response.context["run"]
    assert run.status == DispatchStatus.DONE
    assert run.batches_done == run.batches_total > 0
    assert "已完成" in response.content.decode()


def test_preview_with_a_bad_date_says_so_and_shows_today(tree, login, policy, committee_staff):
    response = login(committee_staff).get(PREVIEW, {"date": "2026-13-40"})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()
    assert "日期格式应为 YYYY-MM-DD。" in response.content.decode()


def test_preview_query_count_does_not_grow_with_rows(
    tree, login, policy, campaign, committee_staff, branch_secretary
):
    entry_due(campaign, tree.a1, DUE)
    client = login(committee_staff)
    one = queries(client, PREVIEW, {"date": DAY.isoformat()})
    for org, name in ((tree.a2, "a2s"), (tree.ag1, "ag1s"), (tree.b1, "b1s"), (tree.d1, "d1s")):
        person(name, org, Role.SECRETARY)
        for _ in range(3):
            entry_due(campaign, org, DUE)
    logged(branch_secretary, tree.a1, "entry:999")
    assert len(client.get(PREVIEW, {"date": DAY.isoformat()}).context["rows"]) > 10
    assert queries(client, PREVIEW, {"date": DAY.isoformat()}) == one


# --- the log -------------------------------------------------------------------------------------


def test_log_shows_only_reminders_in_the_staff_subtree(
    tree, login, agency_staff, branch_secretary, outsider_secretary
):
    mine = logged(branch_secretary, tree.a1, "entry:1")
    logged(outsider_secretary, tree.b1, "entry:2")
    response = login(agency_staff).get(PREVIEW, {"tab": "log"})
    assert [r.pk for r in response.context["page"].object_list] == [mine.pk]


def test_log_filters_by_status_and_counts_every_status(tree, login, committee_staff, branch_secretary):
    logged(branch_secretary, tree.a1, "entry:1", status=ReminderStatus.SENT)
    logged(branch_secretary, tree.a1, "entry:2", status=ReminderStatus.SENT)
    cancelled = logged(branch_secretary, tree.a1, "entry:3", status=ReminderStatus.CANCELLED)
    response = login(committee_staff).get(PREVIEW, {"tab": "log", "status": "cancelled"})
    assert [r.pk for r in response.context["page"].object_list] == [cancelled.pk]
    assert response.context["counts"] == {"pending": 0, "sent": 2, "cancelled": 1}


def test_log_filters_by_date_source_and_audience(
    tree, login, committee_staff, branch_secretary, agency_staff
):
    hit = logged(
        agency_staff, tree.a1, "rect:1", source=ReminderSource.RECTIFICATION, audience=Audience.PARENT_STAFF
    )
    logged(branch_secretary, tree.a1, "rect:1", source=ReminderSource.RECTIFICATION)
    logged(agency_staff, tree.a1, "entry:1", audience=Audience.PARENT_STAFF)
    logged(
        agency_staff,
        tree.a1,
        "rect:2",
        source="rectification",
        audience="parent_staff",
        on=DAY - timedelta(1),
    )
    response = login(committee_staff).get(
        PREVIEW,
        {"tab": "log", "date": DAY.isoformat(), "source": "rectification", "audience": "parent_staff"},
    )
    assert [r.pk for r in response.context["page"].object_list] == [hit.pk]


def test_log_query_count_does_not_grow_with_rows(tree, login, policy, committee_staff, branch_secretary):
    logged(branch_secretary, tree.a1, "entry:1")
    client = login(committee_staff)
    one = queries(client, PREVIEW, {"tab": "log"})
    for n in range(2, 15):
        who = person(f"p{n}", tree.a2, Role.SECRETARY)
        logged(who, tree.a2, f"entry:{n}")
    assert queries(client, PREVIEW, {"tab": "log"}) == one


# --- outside channels ----------------------------------------------------------------------------


def test_committee_staff_see_deliveries_with_attempts_and_last_error(
    tree, login, committee_staff, branch_secretary
):
    Delivery.objects.create(
        channel=Channel.EMAIL,
        key="k1",
        recipient=branch_secretary,
        address="a1@example.com",
        subject="待办提醒",
        status=DeliveryStatus.FAILED,
        attempts=5,
        not_before=timezone.now(),
        last_error="SMTP 连接超时",
    )
    response = login(committee_staff).get(PREVIEW, {"tab": "deliveries"})
    html = response.content.decode()
    assert "SMTP 连接超时" in html and "发送失败" in html
    assert response.context["delivery_counts"] == {"failed": 1}


def test_unit_staff_are_not_offered_the_outside_channel_tab(tree, login, agency_staff):
    response = login(agency_staff).get(PREVIEW)
    assert "deliveries" not in dict(response.context["tabs"])


# --- the manual run ------------------------------------------------------------------------------


@pytest.fixture
def loud(policy: ReminderPolicy) -> ReminderPolicy:
    """No quiet hours, so a run started at any time of the test's day sends at once."""
    policy.quiet_start = policy.quiet_end = None
    policy.save()
    return policy


def test_run_button_starts_todays_run_and_sends_it(
    tree, login, loud, campaign, committee_admin, branch_secretary, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    entry = entry_due(campaign, tree.a1, today - timedelta(days=3))
    client = login(committee_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:reminder_run"), follow=True)
    assert "今日提醒已开始发送" in response.content.decode()
    run = DispatchRun.objects.get(committee=tree.gw, date=today)
    assert run.requested_by == committee_admin
    assert run.status == DispatchStatus.DONE
    reminder = Reminder.objects.get(recipient=branch_secretary, item_key=f"entry:{entry.pk}")
    assert reminder.status == ReminderStatus.SENT
    assert Message.objects.filter(recipient=branch_secretary, pk=reminder.message_id).exists()


def test_a_second_run_click_says_the_day_was_sent_and_sends_nothing_more(
    tree, login, loud, campaign, committee_admin, branch_secretary, django_capture_on_commit_callbacks
):
    entry_due(campaign, tree.a1, timezone.localdate() - timedelta(days=3))
    client = login(committee_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campaigns:reminder_run"))
    messages_before = Message.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:reminder_run"), follow=True)
    assert "今日提醒已发送过" in response.content.decode()
    assert DispatchRun.objects.filter(committee=tree.gw).count() == 1
    assert Message.objects.count() == messages_before


def test_the_run_is_audited(tree, login, loud, committee_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login(committee_admin).post(reverse("campaigns:reminder_run"))
    event = AuditEvent.objects.filter(target_type="DispatchRun").get()
    assert event.actor == committee_admin


# --- the red list --------------------------------------------------------------------------------

RED_DAY = DUE + timedelta(days=14)


def test_red_list_shows_open_items_escalated_to_the_committee(
    tree, login, policy, campaign, committee_staff, branch_secretary, run_day
):
    entry = entry_due(campaign, tree.a1, DUE, title="落实谈心谈话制度")
    run_day(RED_DAY)
    assert Reminder.objects.filter(item_key=f"entry:{entry.pk}", audience=Audience.COMMITTEE_STAFF).exists()
    response = login(committee_staff).get(reverse("campaigns:red_list"))
    [row] = response.context["page"].object_list
    assert row.item_key == f"entry:{entry.pk}"
    assert row.org_name == tree.a1.name
    assert row.days_overdue == (timezone.localdate() - DUE).days
    assert "落实谈心谈话制度" in row.title and not row.title.startswith("【")


def test_red_list_drops_an_item_once_it_is_done(tree, login, policy, campaign, committee_staff, run_day):
    entry = entry_due(campaign, tree.a1, DUE)
    run_day(RED_DAY)
    entry.status = EntryStatus.APPROVED
    entry.save(update_fields=["status"])
    response = login(committee_staff).get(reverse("campaigns:red_list"))
    assert list(response.context["page"].object_list) == []


def test_red_list_lists_an_item_once_however_many_staff_were_told(
    tree, login, policy, campaign, committee_staff, committee_admin, run_day
):
    entry_due(campaign, tree.a1, DUE)
    run_day(RED_DAY)
    assert Reminder.objects.filter(audience=Audience.COMMITTEE_STAFF).count() == 2
    response = login(committee_staff).get(reverse("campaigns:red_list"))
    assert len(response.context["page"].object_list) == 1


def test_agency_staff_see_only_their_subtree_on_the_red_list(
    tree, login, policy, campaign, committee_staff, agency_staff, run_day
):
    a1 = entry_due(campaign, tree.a1, DUE)
    entry_due(campaign, tree.b1, DUE)
    run_day(RED_DAY)
    response = login(agency_staff).get(reverse("campaigns:red_list"))
    assert [r.item_key for r in response.context["page"].object_list] == [f"entry:{a1.pk}"]


# --- rules ---------------------------------------------------------------------------------------

RULES = reverse("campaigns:reminder_rules")
NEW_RULE = reverse("campaigns:reminder_rule_create")


def rule_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "任务逾期30天再次列入红名单",
        "source": "entry",
        "offset_days": "30",
        "audience": "committee_staff",
        "via_inbox": "on",
        "is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_rules_page_shows_the_ladder_by_source_and_the_policy(tree, login, committee_admin):
    response = login(committee_admin).get(RULES)
    groups = {source: rules for source, _, rules in response.context["groups"]}
    ladder = [(r.offset_days, r.audience) for r in groups["entry"]]
    assert ladder == [
        (-3, "responsible"),
        (0, "responsible"),
        (3, "secretary"),
        (7, "parent_staff"),
        (14, "committee_staff"),
    ]
    html = response.content.decode()
    assert "逾期14天" in html and "工委工作人员（红名单）" in html
    assert "每日 08:30 发送提醒" in html


def test_admin_adds_a_rule_and_it_is_audited(tree, login, policy, committee_admin):
    response = login(committee_admin).post(NEW_RULE, rule_data())
    assert response.status_code == 302
    rule = ReminderRule.objects.get(committee=tree.gw, source="entry", offset_days=30)
    assert rule.audience == "committee_staff" and rule.via_inbox and not rule.via_email
    assert AuditEvent.objects.filter(target_type="ReminderRule", target_id=str(rule.pk)).exists()


def test_a_duplicate_rule_is_refused_with_a_clear_message(tree, login, policy, committee_admin):
    before = ReminderRule.objects.count()
    response = login(committee_admin).post(NEW_RULE, rule_data(offset_days="14"))
    assert response.status_code == 200
    assert "已有“任务清单完成时限 · 逾期14天 · 工委工作人员（红名单）”的规则" in response.content.decode()
    assert ReminderRule.objects.count() == before


def test_a_rule_needs_at_least_one_channel(tree, login, policy, committee_admin):
    response = login(committee_admin).post(NEW_RULE, rule_data(via_inbox=None))
    assert "请至少选择一种提醒渠道。" in response.content.decode()
    assert not ReminderRule.objects.filter(offset_days=30).exists()


@pytest.mark.parametrize(
    ("offset", "message"), [("400", "时点不能晚于逾期365天。"), ("-366", "时点不能早于到期前365天。")]
)
def test_a_rule_offset_stays_within_a_year(tree, login, policy, committee_admin, offset, message):
    response = login(committee_admin).post(NEW_RULE, rule_data(offset_days=offset))
    assert message in response.content.decode()
    assert not ReminderRule.objects.filter(offset_days=int(offset)).exists()


def test_admin_edits_a_rule(tree, login, policy, committee_admin):
    rule = ReminderRule.objects.get(committee=tree.gw, source="entry", offset_days=7)
    url = reverse("campaigns:reminder_rule_edit", args=[rule.pk])
    response = login(committee_admin).post(
        url, rule_data(name="逾期10天提醒上级", offset_days="10", audience="parent_staff", via_email="on")
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.offset_days, rule.via_email) == ("逾期10天提醒上级", 10, True)


def test_an_edit_onto_another_rules_rung_is_refused(tree, login, policy, committee_admin):
    rule = ReminderRule.objects.get(committee=tree.gw, source="entry", offset_days=7)
    url = reverse("campaigns:reminder_rule_edit", args=[rule.pk])
    response = login(committee_admin).post(url, rule_data(offset_days="14"))
    assert "同一时点同一对象只能有一条规则" in response.content.decode()
    rule.refresh_from_db()
    assert rule.offset_days == 7


def test_toggle_disables_and_enables_a_rule(tree, login, policy, committee_admin):
    rule = ReminderRule.objects.get(committee=tree.gw, source="entry", offset_days=14)
    client = login(committee_admin)
    url = reverse("campaigns:reminder_rule_toggle", args=[rule.pk])
    assert "已停用" in client.post(url, follow=True).content.decode()
    rule.refresh_from_db()
    assert not rule.is_active
    client.post(url)
    rule.refresh_from_db()
    assert rule.is_active
    assert AuditEvent.objects.filter(target_type="ReminderRule", target_id=str(rule.pk)).count() == 2


@pytest.fixture
def foreign_rule() -> ReminderRule:
    """A rule of another 工委. The services allow one 工委 per system, so it is written directly:
    the lookup is scoped to the admin's own 工委 all the same."""
    other = OrgUnit.objects.create(
        code="GW2", name="另一个工委", kind=OrgKind.COMMITTEE, path="/new/", depth=0
    )
    other.path = f"/{other.pk}/"
    other.save(update_fields=["path"])
    return ReminderRule.objects.create(
        committee=other, name="别的工委的规则", source="entry", offset_days=3, audience="secretary"
    )


def test_a_rule_of_another_committee_cannot_be_edited(tree, login, policy, committee_admin, foreign_rule):
    client = login(committee_admin)
    url = reverse("campaigns:reminder_rule_edit", args=[foreign_rule.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, rule_data()).status_code == 404
    foreign_rule.refresh_from_db()
    assert foreign_rule.name == "别的工委的规则"


def test_a_rule_of_another_committee_cannot_be_toggled(tree, login, policy, committee_admin, foreign_rule):
    response = login(committee_admin).post(reverse("campaigns:reminder_rule_toggle", args=[foreign_rule.pk]))
    assert response.status_code == 404
    foreign_rule.refresh_from_db()
    assert foreign_rule.is_active


def test_a_refused_rule_change_changes_nothing(tree, login, policy, committee_staff):
    rule = ReminderRule.objects.get(committee=tree.gw, source="entry", offset_days=14)
    client = login(committee_staff)
    assert client.post(reverse("campaigns:reminder_rule_toggle", args=[rule.pk])).status_code == 403
    assert client.post(NEW_RULE, rule_data()).status_code == 403
    rule.refresh_from_db()
    assert rule.is_active and not ReminderRule.objects.filter(offset_days=30).exists()


# --- settings ------------------------------------------------------------------------------------

SETTINGS = reverse("campaigns:reminder_settings")


def test_admin_saves_the_reminder_settings(tree, login, policy, committee_admin):
    data = {
        "dispatch_time": "07:45",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "digest": "weekly",
        "digest_weekday": "4",
    }
    response = login(committee_admin).post(SETTINGS, data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.dispatch_time == time(7, 45)
    assert (policy.quiet_start, policy.quiet_end) == (time(22, 0), time(7, 0))
    assert (policy.digest, policy.digest_weekday) == ("weekly", 4)
    assert policy.updated_by == committee_admin
    assert AuditEvent.objects.filter(target_type="ReminderPolicy").exists()


def test_settings_first_visit_installs_the_defaults(tree, login, committee_admin):
    assert login(committee_admin).get(SETTINGS).status_code == 200
    assert ReminderPolicy.objects.filter(committee=tree.gw).exists()
    assert ReminderRule.objects.filter(committee=tree.gw).exists()


def test_quiet_hours_need_both_ends(tree, login, policy, committee_admin):
    data = {
        "dispatch_time": "08:30",
        "quiet_start": "22:00",
        "quiet_end": "",
        "digest": "daily",
        "digest_weekday": "0",
    }
    response = login(committee_admin).post(SETTINGS, data)
    assert "免打扰开始和结束时间需同时填写，或同时留空。" in response.content.decode()
    policy.refresh_from_db()
    assert policy.quiet_end == time(8, 0)


def test_quiet_hours_can_be_switched_off(tree, login, policy, committee_admin):
    data = {
        "dispatch_time": "08:30",
        "quiet_start": "",
        "quiet_end": "",
        "digest": "daily",
        "digest_weekday": "0",
    }
    login(committee_admin).post(SETTINGS, data)
    policy.refresh_from_db()
    assert policy.quiet_start is None and policy.quiet_end is None


# --- navigation ----------------------------------------------------------------------------------


def test_navigation_offers_staff_pages_to_staff_only(
    tree, login, agency_staff, branch_secretary, committee_admin
):
    secretary_html = login(branch_secretary).get(MINE).content.decode()
    assert reverse("campaigns:my_reminders") in secretary_html
    assert reverse("campaigns:my_obligations") in secretary_html
    assert reverse("branches:notification_preferences") in secretary_html
    assert PREVIEW + '"' not in secretary_html and reverse("campaigns:red_list") not in secretary_html
    staff_html = login(agency_staff).get(MINE).content.decode()
    assert reverse("campaigns:red_list") in staff_html and reverse("campaigns:obligation_list") in staff_html
    assert RULES not in staff_html
    assert RULES in login(committee_admin).get(MINE).content.decode()


def test_no_role_user_sees_my_reminders_but_not_obligations(tree, login, no_role_user):
    html = login(no_role_user).get(MINE).content.decode()
    assert reverse("campaigns:my_obligations") not in html

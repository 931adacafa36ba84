"""`manage.py send_reminders`: the dry run shows and writes nothing; a real run sends once."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from branches.models import Delivery, Message, MessageKind, OrgKind, OrgUnit, Outbox
from campaigns.models import (
    DispatchRun,
    Obligation,
    Reminder,
    ReminderPolicy,
    ReminderRule,
    ReminderStatus,
)
from tests.campaigns.factories import make_campaign, make_entry, make_item

# No obligation of the default calendar falls due around this day (see campaigns/reminders/defaults.py).
DAY = date(2026, 6, 8)


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def overdue(tree, branch_secretary, outsider_secretary):  # type: ignore[no-untyped-def]
    """A1's entry is 3 days overdue on DAY (its secretary is told); B1's is due in 3 days."""
    branch_secretary.email = "a1@example.com"
    branch_secretary.save()
    campaign = make_campaign(tree.gw)
    late = make_item(campaign, due_date=date(2026, 6, 5), title="召开支部党员大会")
    soon = make_item(campaign, due_date=date(2026, 6, 11), title="开展主题党日活动")
    return make_entry(campaign, tree.a1, late), make_entry(campaign, tree.b1, soon)


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (Reminder, Message, Delivery, Outbox, DispatchRun, ReminderRule, ReminderPolicy, Obligation)
    )


def test_the_dry_run_lists_recipient_organisation_item_rule_and_channels(overdue, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    out = run("--date", "2026-06-08", "--dry-run")

    line = next(line for line in out.splitlines() if "召开支部党员大会" in line)
    assert str(branch_secretary) in line and "财政局预算股党支部" in line
    assert "【逾期3天】" in line and "任务逾期3天提醒书记" in line
    assert "站内消息、电子邮件" in line and line.rstrip().endswith("新")


def test_the_dry_run_prints_totals_in_chinese(overdue) -> None:  # type: ignore[no-untyped-def]
    out = run("--date", "2026-06-08", "--dry-run")

    assert "合计：提醒 2 条，涉及 2 人，其中红名单 0 项。" in out
    assert "当天的发送：尚未执行。" in out


def test_the_dry_run_counts_red_list_items(tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw)
    make_entry(campaign, tree.d1, make_item(campaign, due_date=date(2026, 5, 25)))  # 14 days overdue

    out = run("--date", "2026-06-08", "--dry-run")

    assert "其中红名单 1 项" in out and "任务逾期14天列入工委红名单" in out


def test_the_dry_run_writes_nothing(overdue, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    before = counts()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run("--date", "2026-06-08", "--dry-run")

    assert counts() == before and before[5] == 0  # not even the default rules are installed
    assert callbacks == [] and mail.outbox == []


def test_the_dry_run_marks_reminders_already_in_the_log(overdue, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        run("--date", "2026-06-08")

    out = run("--date", "2026-06-08", "--dry-run")

    assert "其中 2 条已在发送记录中" in out and "当天的发送：已完成" in out


def test_sending_writes_the_inbox_and_sends_the_email(
    overdue, branch_secretary, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        out = run("--date", "2026-06-08")

    message = Message.objects.get(recipient=branch_secretary, kind=MessageKind.REMINDER)
    assert "召开支部党员大会" in message.title
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 2
    assert [m.to for m in mail.outbox] == [["a1@example.com"]]
    assert "新增提醒记录 2 条，本次发出 2 条" in out and "站内消息 2 条" in out and "电子邮件 1 封" in out


def test_sending_twice_sends_nothing_the_second_time(overdue, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        run("--date", "2026-06-08")
    before = counts()

    with django_capture_on_commit_callbacks(execute=True):
        out = run("--date", "2026-06-08")

    assert counts() == before and len(mail.outbox) == 1
    assert "本次没有重复发送任何提醒" in out


def test_the_next_day_does_not_repeat_what_was_sent(overdue, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        run("--date", "2026-06-08")
    messages = Message.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        out = run("--date", "2026-06-09")  # inside the catch-up window: the same keys

    assert Message.objects.count() == messages and "当天没有需要发送的新提醒" in out


def test_a_day_without_reminders_says_so(tree) -> None:  # type: ignore[no-untyped-def]
    out = run("--date", "2026-06-08", "--dry-run")

    assert "当天没有需要发送的提醒。" in out


@pytest.mark.parametrize("value", ["2026-13-01", "2026/06/08", "明天", "20260608"])
def test_a_bad_date_is_refused_in_chinese(tree, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="请按 YYYY-MM-DD 填写"):
        run("--date", value, "--dry-run")


def second_root() -> OrgUnit:
    """A second 工委, written past the service (which allows one): data from before that rule."""
    org = OrgUnit.objects.create(code="GW2", name="中共第二工委", kind=OrgKind.COMMITTEE, path="/tmp-gw2/")
    org.path = f"/{org.pk}/"
    org.save(update_fields=["path"])
    return org


def test_several_committees_need_a_code(tree) -> None:  # type: ignore[no-untyped-def]
    second_root()

    with pytest.raises(CommandError, match="有多个工委，请用 --committee 指定"):
        run("--date", "2026-06-08", "--dry-run")


def test_a_committee_is_chosen_by_code(tree, overdue) -> None:  # type: ignore[no-untyped-def]
    second_root()

    assert "中共第二工委" in run("--date", "2026-06-08", "--dry-run", "--committee", "GW2")
    assert "合计：提醒 2 条" in run("--date", "2026-06-08", "--dry-run", "--committee", "GW")


def test_an_unknown_or_non_root_code_is_refused(tree) -> None:  # type: ignore[no-untyped-def]
    for code in ("NOPE", "A1"):
        with pytest.raises(CommandError, match=f"没有找到组织代码为 {code} 的工委"):
            run("--dry-run", "--committee", code)


def test_no_committee_at_all_is_explained(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="还没有工委"):
        run("--dry-run")

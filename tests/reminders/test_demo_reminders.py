"""The reminders demo: defaults, addresses, obligation records with gaps, a robot, a week of dispatches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from branches import demo as tree_demo
from branches.models import (
    DigestMode,
    Message,
    MessageKind,
    NotificationPreference,
    OrgKind,
    OrgWebhook,
    User,
    WebhookPlatform,
)
from campaigns import demo as campaign_demo
from campaigns import demo_reminders
from campaigns.models import DispatchRun, DispatchStatus, ObligationRecord, Reminder, ReminderStatus
from campaigns.services.obligations import CellStatus, obligations_for_org, year_grid

TODAY = date(timezone.localdate().year, 9, 15)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker) -> Iterator[demo_reminders.RemindersDemoResult]:  # type: ignore[no-untyped-def]
    """One load of tree, campaign and reminders for the module, rolled back at its end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            tree_demo.demo_load(today=TODAY)
            campaign_demo.demo_campaign_load(today=TODAY)
            yield demo_reminders.demo_reminders_load(today=TODAY)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def result(loaded, db) -> demo_reminders.RemindersDemoResult:  # type: ignore[no-untyped-def]
    return loaded


def test_the_command_refuses_without_the_demo_campaign(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="load_demo_campaign"):
        call_command("load_demo_reminders", stdout=StringIO())


def test_the_default_rules_and_calendar_are_installed(result) -> None:  # type: ignore[no-untyped-def]
    assert result.rules >= 15 and result.obligations >= 10


def test_every_account_in_the_tree_has_an_address_on_a_reserved_domain(result) -> None:  # type: ignore[no-untyped-def]
    accounts = User.objects.filter(grants__isnull=False).distinct()
    assert accounts.exists() and not accounts.filter(email="").exists()
    assert User.objects.get(username="ysg_secretary").email == f"ysg_secretary@{demo_reminders.EMAIL_DOMAIN}"


def test_most_past_periods_are_recorded_and_some_are_overdue(result) -> None:  # type: ignore[no-untyped-def]
    assert result.records > 10 * result.missed > 0
    branches = set(
        ObligationRecord.objects.filter(obligation__name="主题党日").values_list("org_id", flat=True)
    )
    assert len(branches) >= 90  # of 104 党支部


def test_the_featured_branch_shows_overdue_periods_in_its_calendar(result) -> None:  # type: ignore[no-untyped-def]
    from branches.models import OrgUnit

    org = OrgUnit.objects.get(code=tree_demo.BUDGET_BRANCH_CODE)
    committee = OrgUnit.objects.get(code=tree_demo.ROOT_CODE)
    grid = year_grid(obligations=obligations_for_org(committee, org), org=org, year=TODAY.year, today=TODAY)
    statuses = {c.status for row in grid.rows for c in row.cells}
    assert {CellStatus.RECORDED, CellStatus.OVERDUE, CellStatus.UPCOMING} <= statuses


def test_an_example_wecom_robot_is_added_switched_off_on_an_agency_committee(result) -> None:  # type: ignore[no-untyped-def]
    hook = OrgWebhook.objects.get()
    assert hook.platform == WebhookPlatform.WECOM and not hook.is_active
    assert hook.org.kind == OrgKind.AGENCY_COMMITTEE and "党领财兴" in hook.name


def test_a_week_of_daily_runs_is_done(result) -> None:  # type: ignore[no-untyped-def]
    runs = DispatchRun.objects.order_by("date")
    assert [r.date for r in runs][-1] == TODAY and runs.count() == demo_reminders.HISTORY_DAYS
    assert {r.status for r in runs} == {DispatchStatus.DONE}


def test_reminders_and_inbox_messages_are_sent(result) -> None:  # type: ignore[no-untyped-def]
    assert result.reminders > 0 and result.messages > 0
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() > 0
    assert Message.objects.filter(kind=MessageKind.REMINDER, read_at__isnull=True).exists()
    assert Message.objects.filter(kind=MessageKind.REMINDER, read_at__isnull=False).exists()


def test_today_every_rung_of_the_ladder_has_something_to_say(result) -> None:  # type: ignore[no-untyped-def]
    today = set(Reminder.objects.filter(scheduled_on=TODAY).values_list("audience", flat=True))
    assert today == {"responsible", "secretary", "parent_staff", "committee_staff"}
    assert result.emails_queued > 0 or Reminder.objects.filter(scheduled_on=TODAY, via_email=True).exists()


def test_the_featured_secretary_has_reminders_in_the_inbox(result) -> None:  # type: ignore[no-untyped-def]
    secretary = User.objects.get(username="ysg_secretary")
    assert Message.objects.filter(recipient=secretary, kind=MessageKind.REMINDER).exists()


def test_committee_staff_see_the_red_list(result) -> None:  # type: ignore[no-untyped-def]
    assert Reminder.objects.filter(recipient__username="gw_staff", audience="committee_staff").exists()


def test_one_account_chose_a_weekly_digest(result) -> None:  # type: ignore[no-untyped-def]
    pref = NotificationPreference.objects.get(user__username=demo_reminders.WEEKLY_DIGEST_USERNAME)
    assert pref.digest == DigestMode.WEEKLY


def test_loading_again_with_if_empty_changes_nothing(result) -> None:  # type: ignore[no-untyped-def]
    before = (ObligationRecord.objects.count(), Reminder.objects.count(), Message.objects.count())
    out = StringIO()

    call_command("load_demo_reminders", "--if-empty", stdout=out)

    assert "跳过" in out.getvalue()
    assert (ObligationRecord.objects.count(), Reminder.objects.count(), Message.objects.count()) == before


def test_loading_again_without_if_empty_is_refused(result) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="--if-empty"):
        call_command("load_demo_reminders", stdout=StringIO())

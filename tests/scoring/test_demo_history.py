"""Last year's demo campaign: archived, mostly done on time, and visible on the dashboard's trend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from branches import demo as tree_demo
from campaigns import demo as campaign_demo
from campaigns.models import Campaign, CampaignStatus, Checklist, ChecklistEntry, EntryStatus
from scoring import demo_history
from scoring.dashboard import trend
from scoring.models import RollupState

TODAY = date(timezone.localdate().year, 9, 15)


def test_the_command_refuses_without_the_demo_campaign(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="load_demo_campaign"):
        call_command("load_demo_history", stdout=StringIO())


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker) -> Iterator[demo_history.HistoryResult]:  # type: ignore[no-untyped-def]
    """One load of tree, campaign and history for the module, rolled back at its end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            tree_demo.demo_load(today=TODAY)
            campaign_demo.demo_campaign_load(today=TODAY)
            yield demo_history.demo_history_load(today=TODAY)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_last_year_is_an_archived_copy_of_this_years_list(loaded, db) -> None:  # type: ignore[no-untyped-def]
    last = loaded.campaign
    current = Campaign.objects.get(committee_id=last.committee_id, year=TODAY.year)

    assert last.year == TODAY.year - 1 and last.status == CampaignStatus.ARCHIVED
    assert sorted(last.items.values_list("code", flat=True)) == sorted(
        current.items.values_list("code", flat=True)
    )


def test_last_year_is_mostly_done_on_time_with_some_late_and_a_few_undone(loaded, db) -> None:  # type: ignore[no-untyped-def]
    entries = ChecklistEntry.objects.filter(campaign=loaded.campaign)

    assert entries.count() == loaded.entries == loaded.on_time + loaded.late + loaded.undone
    assert loaded.on_time > 0.8 * loaded.entries and loaded.late > 0 and loaded.undone > 0
    assert entries.filter(status=EntryStatus.APPROVED, completed_on__year=TODAY.year - 1).count() == (
        loaded.on_time + loaded.late
    )
    assert not Checklist.objects.filter(campaign=loaded.campaign, letter_signed_at__isnull=True).exists()


def test_both_years_have_dashboard_rollups_and_the_trend_compares_them(loaded, db) -> None:  # type: ignore[no-untyped-def]
    current = Campaign.objects.select_related("committee").get(
        committee_id=loaded.campaign.committee_id, year=TODAY.year
    )

    assert (
        RollupState.objects.filter(
            campaign__in=[current, loaded.campaign], refreshed_at__isnull=False
        ).count()
        == 2
    )
    result = trend(campaign=current, node=current.committee, has_children=True, today=TODAY, now=None)  # type: ignore[arg-type]
    assert result.last_campaign == loaded.campaign
    assert result.last_total == loaded.entries
    assert result.last_done[-1] == loaded.on_time + loaded.late


def test_the_command_skips_with_if_empty_once_loaded(loaded, db) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("load_demo_history", "--if-empty", stdout=out)
    assert "跳过" in out.getvalue()

"""The rollup tasks: the beat rebuilds campaigns whose data moved; one campaign on request."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings

from branches.models import Outbox, OutboxStatus
from campaigns.models import CampaignStatus, ChecklistEntry, EntryStatus
from scoring import tasks
from scoring.models import EntryRollup, RollupState
from scoring.rollups import refresh_changed, rollup_current, rollup_fingerprint, rollup_refresh
from tests.campaigns.factories import make_campaign, make_entry, make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaigns(tree):  # type: ignore[no-untyped-def]
    """This year's and last year's published campaigns and a draft, each with an entry on A1."""
    out = {
        "now": make_campaign(tree.gw, year=2026),
        "last": make_campaign(tree.gw, year=2025, status=CampaignStatus.ARCHIVED),
        "draft": make_campaign(tree.gw, year=2027, status=CampaignStatus.DRAFT),
    }
    for campaign in out.values():
        make_entry(campaign, tree.a1, make_item(campaign, due_date=date(campaign.year, 6, 30)))
    return out


def refreshed_at(campaign):  # type: ignore[no-untyped-def]
    state = RollupState.objects.filter(campaign=campaign).first()
    return None if state is None else state.refreshed_at


def touch(campaign) -> None:  # type: ignore[no-untyped-def]
    entry = ChecklistEntry.objects.filter(campaign=campaign).first()
    entry.status = EntryStatus.APPROVED
    entry.save()


def test_the_beat_builds_every_campaign_never_built_but_drafts(campaigns):
    tasks.refresh_rollups()
    assert refreshed_at(campaigns["now"]) is not None
    assert refreshed_at(campaigns["last"]) is not None
    assert refreshed_at(campaigns["draft"]) is None
    assert not EntryRollup.objects.filter(campaign=campaigns["draft"]).exists()


def test_the_beat_rebuilds_only_campaigns_whose_fingerprint_changed(campaigns):
    rollup_refresh(campaigns["now"])
    rollup_refresh(campaigns["last"])
    before = {k: refreshed_at(c) for k, c in campaigns.items()}
    touch(campaigns["now"])
    assert refresh_changed() == [campaigns["now"].pk]
    assert refreshed_at(campaigns["now"]) > before["now"]
    assert refreshed_at(campaigns["last"]) == before["last"]
    assert RollupState.objects.get(campaign=campaigns["now"]).fingerprint == rollup_fingerprint(
        campaigns["now"]
    )


def test_the_beat_does_nothing_when_nothing_changed(campaigns):
    tasks.refresh_rollups()
    before = {k: refreshed_at(c) for k, c in campaigns.items()}
    assert refresh_changed() == []
    assert {k: refreshed_at(c) for k, c in campaigns.items()} == before


def test_the_beat_rebuild_brings_the_figures_up_to_date(tree, campaigns):
    tasks.refresh_rollups()
    touch(campaigns["now"])
    tasks.refresh_rollups()
    (row,) = EntryRollup.objects.filter(campaign=campaigns["now"], org=tree.a)
    assert (row.total, row.done) == (1, 1)


def test_refresh_rollup_rebuilds_one_campaign(tree, campaigns):
    tasks.refresh_rollup(campaigns["now"].pk)
    assert refreshed_at(campaigns["now"]) is not None
    assert refreshed_at(campaigns["last"]) is None
    assert EntryRollup.objects.filter(campaign=campaigns["now"], org=tree.gw).exists()


def test_refresh_rollup_of_a_campaign_that_is_gone_does_nothing(campaigns):
    tasks.refresh_rollup(10**9)
    assert not RollupState.objects.exists()


def test_the_queued_rebuild_runs_through_the_outbox(campaigns, django_capture_on_commit_callbacks):
    campaign = campaigns["now"]
    rollup_refresh(campaign)
    RollupState.objects.filter(campaign=campaign).update(seconds=settings.ROLLUP_SYNC_SECONDS + 1)
    touch(campaign)
    with django_capture_on_commit_callbacks(execute=True):
        _state, stale = rollup_current(campaign)
    assert stale is True
    (job,) = Outbox.objects.filter(task="scoring.tasks.refresh_rollup")
    assert job.status == OutboxStatus.DONE
    assert RollupState.objects.get(campaign=campaign).fingerprint == rollup_fingerprint(campaign)


def test_the_beat_entry_runs_the_refresh_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["scoring-refresh-rollups"]
    assert entry["task"] == "scoring.tasks.refresh_rollups"
    assert entry["schedule"] == 60.0
    assert entry["options"]["expires"] < entry["schedule"]


def test_the_tasks_are_registered_under_their_names():
    assert tasks.refresh_rollups.name == "scoring.tasks.refresh_rollups"
    assert tasks.refresh_rollup.name == "scoring.tasks.refresh_rollup"

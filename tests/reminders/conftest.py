"""Fixtures of the reminder tests: the 工委's default rules, a campaign and a day's dispatch."""

from __future__ import annotations

from datetime import date

import pytest

from campaigns.models import Campaign, DispatchRun, Obligation, ReminderPolicy
from campaigns.reminders.dispatch import dispatch_day, policy_for
from tests.campaigns.factories import make_campaign
from tests.reminders.support import at


@pytest.fixture
def policy(tree) -> ReminderPolicy:  # type: ignore[no-untyped-def]
    """The 工委's reminder settings; installs the default rules and obligations."""
    return policy_for(tree.gw)


@pytest.fixture
def campaign(tree) -> Campaign:  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw)


@pytest.fixture
def run_day(tree, policy, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """run_day(day, hour=9) -> the day's dispatch run, run inline with its outbox jobs executed."""

    def _run(day: date, hour: int = 9) -> DispatchRun:
        with django_capture_on_commit_callbacks(execute=True):
            return dispatch_day(committee=tree.gw, day=day, inline=True, now=at(day, hour))

    return _run


@pytest.fixture
def without_obligations(tree, policy) -> None:  # type: ignore[no-untyped-def]
    """Turn the default obligations calendar off, so only the items a test makes fall due."""
    Obligation.objects.filter(committee=tree.gw).update(is_active=False)

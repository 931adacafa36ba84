"""The supervision demo (年中督责): one round, findings in every state, a notice, an interview, a snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from branches import demo as tree_demo
from branches.models import Message, MessageKind
from campaigns import demo, demo_supervision
from campaigns.models import (
    Finding,
    FindingSource,
    Inspection,
    Interview,
    Notice,
    NoticeStatus,
    ProgressSnapshot,
    Rectification,
    RectificationStatus,
)
from campaigns.services.inspections import candidates_for, draw_sample

TODAY = date(timezone.localdate().year, 9, 15)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker) -> Iterator[demo_supervision.SupervisionResult]:  # type: ignore[no-untyped-def]
    """One load of tree, campaign and supervision for the module, rolled back at its end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            tree_demo.demo_load(today=TODAY)
            demo.demo_campaign_load(today=TODAY)
            yield demo_supervision.demo_supervision_load(today=TODAY)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def result(loaded, db) -> demo_supervision.SupervisionResult:  # type: ignore[no-untyped-def]
    return loaded


def test_rectifications_are_in_every_state_with_an_overdue_and_an_immediate_one(result) -> None:  # type: ignore[no-untyped-def]
    rects = Rectification.objects.filter(campaign=result.inspection.campaign).select_related("finding")
    assert {r.status for r in rects} == set(RectificationStatus.values)
    assert any(r.deadline and r.deadline < TODAY and r.status != RectificationStatus.CLOSED for r in rects)
    assert any(r.finding.is_immediate for r in rects)
    assert Finding.objects.filter(source=FindingSource.SELF_CHECK).count() == 1


def test_the_stored_seed_reproduces_the_drawn_sample(result) -> None:  # type: ignore[no-untyped-def]
    inspection = Inspection.objects.get()
    assert inspection.seed == demo_supervision.INSPECTION_SEED
    drawn = draw_sample(
        candidates_for(inspection), inspection.sample_mode, inspection.sample_size, inspection.seed
    )
    assert sorted(drawn) == sorted(inspection.targets.values_list("org_id", flat=True))


def test_the_published_notice_reaches_inboxes_across_the_tree(result) -> None:  # type: ignore[no-untyped-def]
    notice = Notice.objects.get()
    assert notice.status == NoticeStatus.PUBLISHED and notice.findings.exists() and notice.entries.exists()
    messages = Message.objects.filter(source_key=f"notice:{notice.pk}", kind=MessageKind.NOTICE)
    orgs = set(messages.values_list("recipient__grants__org__code", flat=True))
    assert {"XYGW", "XYJ01", "XYJ01-02"} <= orgs and len(orgs) > 100


def test_one_interview_of_a_secretary_with_overdue_rectification(result) -> None:  # type: ignore[no-untyped-def]
    interview = Interview.objects.get()
    assert interview.interviewee is not None and interview.outcome and interview.follow_up
    assert interview.findings.filter(rectification__deadline__lt=TODAY).exists()


def test_the_mid_year_snapshot_is_taken_on_june_30_with_rows(result) -> None:  # type: ignore[no-untyped-def]
    snapshot = ProgressSnapshot.objects.get()
    assert snapshot.taken_on == date(TODAY.year, 6, 30) and snapshot.rows.count() > 100


def test_the_command_with_if_empty_skips_when_an_inspection_exists(result) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("load_demo_supervision", "--if-empty", stdout=out)
    assert "跳过" in out.getvalue() and Inspection.objects.count() == 1

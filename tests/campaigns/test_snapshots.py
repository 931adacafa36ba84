"""Mid-year snapshot (年中晒进度): progress frozen at a date and compared with today's."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import User
from campaigns.models import Campaign, Checklist, ChecklistEntry, EntryStatus, ProgressSnapshot, SnapshotRow
from campaigns.permissions import is_committee_staff
from campaigns.services import snapshots as svc
from campaigns.services.entries import PermissionRefused
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.conftest import Tree

pytestmark = pytest.mark.django_db

TAKEN_ON = date(2026, 7, 1)
JUNE, SEPT = date(2026, 6, 30), date(2026, 9, 30)


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(tree.gw)


@pytest.fixture
def a1_entries(tree: Tree, campaign: Campaign) -> dict[str, ChecklistEntry]:
    """A1: two due by 7-1 (one approved, one still open), two due in September (one N/A)."""

    def entry(due: date, status: str) -> ChecklistEntry:
        return make_entry(campaign, tree.a1, make_item(campaign, due_date=due), status=status)

    return {
        "approved": entry(JUNE, EntryStatus.APPROVED),
        "late": entry(JUNE, EntryStatus.IN_PROGRESS),
        "na": entry(SEPT, EntryStatus.NOT_APPLICABLE),
        "later": entry(SEPT, EntryStatus.NOT_STARTED),
    }


def numbers(snapshot: ProgressSnapshot, org: Any) -> tuple[int, int, int, int]:
    row = SnapshotRow.objects.get(snapshot=snapshot, org=org)
    return (row.total, row.due, row.done, row.overdue)


def take(campaign: Campaign, actor: User) -> ProgressSnapshot:
    return svc.snapshot_take(campaign=campaign, actor=actor, taken_on=TAKEN_ON, title="年中晒进度")


def test_snapshot_counts_total_due_done_and_overdue_per_organisation(
    tree: Tree, campaign: Campaign, a1_entries: Any, committee_staff: User
) -> None:
    snapshot = take(campaign, committee_staff)

    assert numbers(snapshot, tree.a1) == (4, 2, 2, 1)


def test_an_organisation_with_an_empty_checklist_gets_a_zero_row(
    tree: Tree, campaign: Campaign, a1_entries: Any, committee_staff: User
) -> None:
    Checklist.objects.create(campaign=campaign, org=tree.a2)

    snapshot = take(campaign, committee_staff)

    assert numbers(snapshot, tree.a2) == (0, 0, 0, 0)
    assert not SnapshotRow.objects.filter(snapshot=snapshot, org=tree.b1).exists()  # no checklist, no row


def test_snapshot_ignores_other_campaigns(
    tree: Tree, campaign: Campaign, a1_entries: Any, committee_staff: User
) -> None:
    other = make_campaign(tree.gw, year=2025)
    make_entry(other, tree.a1, make_item(other, due_date=date(2025, 6, 30)))

    assert numbers(take(campaign, committee_staff), tree.a1) == (4, 2, 2, 1)


def test_only_committee_staff_take_snapshots(tree: Tree, campaign: Campaign, agency_staff: User) -> None:
    with pytest.raises(PermissionRefused):
        take(campaign, agency_staff)


def test_snapshot_query_count_does_not_grow_with_organisations(
    tree: Tree, campaign: Campaign, committee_staff: User
) -> None:
    item = make_item(campaign, due_date=JUNE)
    make_entry(campaign, tree.a1, item)
    is_committee_staff(committee_staff)  # the user's grants are loaded once and cached
    with CaptureQueriesContext(connection) as one:
        take(campaign, committee_staff)
    for org in (tree.a2, tree.ag1, tree.b1, tree.d1):
        make_entry(campaign, org, item)
    with CaptureQueriesContext(connection) as many:
        take(campaign, committee_staff)

    assert len(many) == len(one)


def test_create_page_takes_a_snapshot_and_opens_it(
    tree: Tree, campaign: Campaign, a1_entries: Any, committee_staff: User, login: Any
) -> None:
    response = login(committee_staff).post(
        reverse("campaigns:snapshot_create"),
        {"campaign": campaign.pk, "title": "年中晒进度", "taken_on": "2026-07-01"},
    )

    snapshot = ProgressSnapshot.objects.get()
    assert response["Location"] == reverse("campaigns:snapshot_detail", args=[snapshot.pk])
    assert numbers(snapshot, tree.a1) == (4, 2, 2, 1)


def test_detail_compares_the_snapshot_with_current_progress(
    tree: Tree, campaign: Campaign, a1_entries: Any, committee_staff: User, login: Any
) -> None:
    snapshot = take(campaign, committee_staff)
    ChecklistEntry.objects.filter(pk=a1_entries["late"].pk).update(status=EntryStatus.APPROVED)

    response = login(committee_staff).get(reverse("campaigns:snapshot_detail", args=[snapshot.pk]))

    (row,) = [r for r in response.context["rows"] if r["org"] == tree.a1]
    assert (row["then_pct"], row["now_pct"], row["change"]) == (50.0, 75.0, 25.0)
    assert '<span class="text-success">+25.0</span>' in response.content.decode()


def test_detail_shows_only_organisations_in_the_users_subtree(
    tree: Tree, campaign: Campaign, a1_entries: Any, committee_staff: User, agency_staff: User, login: Any
) -> None:
    make_entry(campaign, tree.b1, make_item(campaign, due_date=JUNE))
    snapshot = take(campaign, committee_staff)

    response = login(agency_staff).get(reverse("campaigns:snapshot_detail", args=[snapshot.pk]))

    assert [r["org"] for r in response.context["rows"]] == [tree.a1]


def test_detail_sorts_by_change_with_the_biggest_gain_first(
    tree: Tree, campaign: Campaign, a1_entries: Any, committee_staff: User, login: Any
) -> None:
    steady = make_entry(campaign, tree.a2, make_item(campaign, due_date=JUNE))
    snapshot = take(campaign, committee_staff)
    ChecklistEntry.objects.filter(pk=a1_entries["late"].pk).update(status=EntryStatus.APPROVED)
    assert steady.status == EntryStatus.NOT_STARTED

    response = login(committee_staff).get(
        reverse("campaigns:snapshot_detail", args=[snapshot.pk]), {"sort": "change"}
    )

    assert [r["org"] for r in response.context["rows"]] == [tree.a1, tree.a2]


def test_snapshot_detail_query_count_does_not_grow_with_organisations(
    tree: Tree, campaign: Campaign, committee_staff: User, login: Any
) -> None:
    client = login(committee_staff)
    item = make_item(campaign, due_date=JUNE)
    make_entry(campaign, tree.a1, item)
    small = take(campaign, committee_staff)
    for org in (tree.a2, tree.ag, tree.ag1, tree.b1, tree.d1):
        make_entry(campaign, org, item)
    large = take(campaign, committee_staff)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("campaigns:snapshot_detail", args=[small.pk]))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("campaigns:snapshot_detail", args=[large.pk]))

    assert response.content.decode().count('data-testid="snapshot-org"') == 6
    assert len(many) == len(one) <= 20


def test_list_offers_the_snapshot_form_to_committee_staff_only(
    tree: Tree, campaign: Campaign, committee_staff: User, agency_staff: User, login: Any
) -> None:
    take(campaign, committee_staff)
    form_action = f'action="{reverse("campaigns:snapshot_create")}"'

    staff_html = login(committee_staff).get(reverse("campaigns:snapshot_list")).content.decode()
    unit_html = login(agency_staff).get(reverse("campaigns:snapshot_list")).content.decode()

    assert form_action in staff_html and "年中晒进度" in unit_html
    assert form_action not in unit_html

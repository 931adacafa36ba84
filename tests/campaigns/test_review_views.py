"""Review through HTTP: the queue per persona, the two-level flow, return, N/A, bulk approve, reopen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches import services
from branches.models import User
from campaigns.models import Campaign, ChecklistEntry, ChecklistItem, EntryStatus, ReviewStage
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
from tests.conftest import Tree
from tests.factories import make_org

pytestmark = pytest.mark.django_db

QUEUE = "campaigns:review_queue"


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(tree.gw)


@pytest.fixture
def item(campaign: Campaign) -> ChecklistItem:
    return make_item(campaign, points="5")


def url(name: str, entry: ChecklistEntry) -> str:
    return reverse(f"campaigns:{name}", kwargs={"pk": entry.pk})


def fresh(entry: ChecklistEntry) -> ChecklistEntry:
    return ChecklistEntry.objects.get(pk=entry.pk)


def waiting(campaign: Campaign, org: Any, item: ChecklistItem, stage: str, **fields: Any) -> ChecklistEntry:
    return make_entry(campaign, org, item, status=EntryStatus.SUBMITTED, review_stage=stage, **fields)


def queue_pks(client: Any, **params: Any) -> set[int]:
    response = client.get(reverse(QUEUE), params)
    assert response.status_code == 200
    return {row["entry"].pk for row in response.context["rows"]}


# --- the queue per persona ---------------------------------------------------------------------------


def test_unit_staff_queue_holds_parent_stage_entries_of_their_subtree_only(
    login, campaign, item, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    mine = waiting(campaign, tree.a1, item, ReviewStage.PARENT)
    deep = waiting(campaign, tree.ag1, item, ReviewStage.PARENT)
    waiting(campaign, tree.a2, item, ReviewStage.COMMITTEE)
    waiting(campaign, tree.b1, item, ReviewStage.PARENT)
    make_entry(campaign, tree.a2, make_item(campaign), status=EntryStatus.IN_PROGRESS)
    assert queue_pks(login(agency_staff)) == {mine.pk, deep.pk}


def test_committee_staff_queue_holds_the_committee_stage(
    login, campaign, item, tree, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    a1 = waiting(campaign, tree.a1, item, ReviewStage.COMMITTEE)
    d1 = waiting(campaign, tree.d1, item, ReviewStage.COMMITTEE)
    waiting(campaign, tree.b1, item, ReviewStage.PARENT)
    assert queue_pks(login(committee_staff), stage=ReviewStage.COMMITTEE) == {a1.pk, d1.pk}


def test_queue_filters_by_organisation_code_or_name(login, campaign, item, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    a1 = waiting(campaign, tree.a1, item, ReviewStage.COMMITTEE)
    b1 = waiting(campaign, tree.b1, item, ReviewStage.COMMITTEE)
    client = login(committee_staff)
    assert queue_pks(client, org="A1") == {a1.pk}
    assert queue_pks(client, org="旬速办") == {b1.pk}


def test_organisation_filter_never_reaches_outside_the_subtree(
    login, campaign, item, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    waiting(campaign, tree.b1, item, ReviewStage.PARENT)
    assert queue_pks(login(agency_staff), org="B1") == set()


def test_queue_filters_by_section(login, campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    wanted = make_section(campaign, "组织建设", 2)
    hit = waiting(campaign, tree.a1, make_item(campaign, wanted), ReviewStage.COMMITTEE)
    waiting(
        campaign, tree.a1, make_item(campaign, make_section(campaign, "作风建设", 3)), ReviewStage.COMMITTEE
    )
    assert queue_pks(login(committee_staff), section=wanted.pk) == {hit.pk}


def test_queue_filters_overdue_only(login, campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    late = waiting(campaign, tree.a1, make_item(campaign, due_date=date(2000, 1, 1)), ReviewStage.COMMITTEE)
    waiting(campaign, tree.a1, make_item(campaign, due_date=date(2099, 1, 1)), ReviewStage.COMMITTEE)
    assert queue_pks(login(committee_staff), overdue="1") == {late.pk}


def test_queue_shows_the_stage_of_a_branch_directly_under_the_committee(
    login, campaign, item, tree, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    waiting(campaign, tree.d1, item, ReviewStage.COMMITTEE, self_score=Decimal("4"))
    page = login(committee_staff).get(reverse(QUEUE)).content.decode()
    assert "工委审核" in page and tree.d1.name in page


def test_review_queue_query_count_does_not_grow_with_rows(login, campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    waiting(campaign, tree.a1, make_item(campaign), ReviewStage.COMMITTEE)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(QUEUE)).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for i in range(49):
        org = make_org("branch", tree.b, code=f"RQ{i}", name=f"支部{i}")
        waiting(
            campaign,
            org,
            make_item(campaign, make_section(campaign, f"类别{i}", i + 5)),
            ReviewStage.COMMITTEE,
        )
    assert one == count() <= 20


# --- the whole flow through the pages ------------------------------------------------------------------


def test_two_level_review_from_fill_in_to_approved(
    login, campaign, item, tree, branch_secretary, agency_staff, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    client = login(branch_secretary)
    client.post(url("entry_save", entry), {"version": 1, "progress_note": "全年召开12次", "self_score": "5"})
    client.post(url("entry_submit", entry), {"version": 2})
    assert entry.pk in queue_pks(login(agency_staff))
    login(agency_staff).post(url("entry_approve", entry), {"version": 3, "score": "4.5", "comment": "初审"})
    assert (fresh(entry).review_stage, fresh(entry).first_review_score) == (
        ReviewStage.COMMITTEE,
        Decimal("4.5"),
    )
    assert entry.pk not in queue_pks(login(agency_staff))
    login(committee_staff).post(url("entry_approve", entry), {"version": 4, "score": "4"})
    entry = fresh(entry)
    assert (entry.status, entry.self_score, entry.first_review_score, entry.review_score) == (
        EntryStatus.APPROVED,
        Decimal("5"),
        Decimal("4.5"),
        Decimal("4"),
    )
    assert list(entry.events.values_list("action", flat=True)) == [
        "saved",
        "submitted",
        "first_approved",
        "approved",
    ]


def test_branch_directly_under_the_committee_goes_straight_to_committee_review(
    login, campaign, item, tree, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    secretary = User.objects.create(username="d1_secretary")
    services.role_grant(user=secretary, org=tree.d1, role="secretary")
    entry = make_entry(campaign, tree.d1, item)
    login(secretary).post(url("entry_submit", entry), {"version": 1})
    assert fresh(entry).review_stage == ReviewStage.COMMITTEE
    assert entry.pk in queue_pks(login(committee_staff), stage=ReviewStage.COMMITTEE)


def test_returned_entry_shows_the_reason_and_can_be_resubmitted(
    login, campaign, item, tree, branch_secretary, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = waiting(campaign, tree.a1, item, ReviewStage.PARENT)
    login(agency_staff).post(url("entry_return", entry), {"version": 1, "reason": "缺少会议记录"})
    assert (fresh(entry).status, fresh(entry).return_reason) == (EntryStatus.RETURNED, "缺少会议记录")
    client = login(branch_secretary)
    assert "缺少会议记录" in client.get(url("entry_detail", entry)).content.decode()
    client.post(url("entry_submit", entry), {"version": 2})
    assert (fresh(entry).status, fresh(entry).review_stage) == (EntryStatus.SUBMITTED, ReviewStage.PARENT)


def test_return_without_a_reason_changes_nothing(login, campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    entry = waiting(campaign, tree.a1, item, ReviewStage.PARENT)
    response = login(agency_staff).post(url("entry_return", entry), {"version": 1, "reason": ""}, follow=True)
    assert "理由" in response.content.decode()
    assert fresh(entry).version == 1


def test_approved_not_applicable_request_ends_as_not_applicable(
    login, campaign, item, tree, branch_secretary, agency_staff, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    login(branch_secretary).post(url("entry_request_na", entry), {"version": 1, "reason": "本单位无此职能"})
    login(agency_staff).post(url("entry_approve", entry), {"version": 2})
    login(committee_staff).post(url("entry_approve", entry), {"version": 3})
    assert fresh(entry).status == EntryStatus.NOT_APPLICABLE


def test_review_score_above_the_points_is_refused(login, campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    entry = waiting(campaign, tree.a1, item, ReviewStage.PARENT)
    response = login(agency_staff).post(
        url("entry_approve", entry), {"version": 1, "score": "9"}, follow=True
    )
    assert "得分须在 0 到 5 之间" in response.content.decode()
    assert fresh(entry).version == 1


def test_quick_approve_from_the_queue_returns_to_the_queue(login, campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    entry = waiting(campaign, tree.a1, item, ReviewStage.PARENT)
    response = login(agency_staff).post(
        url("entry_approve", entry), {"version": 1, "score": "5", "next_page": "review"}
    )
    assert response["Location"] == reverse(QUEUE)
    assert fresh(entry).review_stage == ReviewStage.COMMITTEE


def test_second_reviewer_on_a_stale_page_gets_a_conflict_and_overwrites_nothing(
    login, campaign, item, tree, agency_staff, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = waiting(campaign, tree.a1, item, ReviewStage.PARENT)
    login(agency_staff).post(url("entry_approve", entry), {"version": 1, "score": "4"})
    response = login(committee_staff).post(url("entry_approve", entry), {"version": 1, "score": "1"})
    assert response.status_code == 409
    assert fresh(entry).first_review_score == Decimal("4")


# --- bulk approve ------------------------------------------------------------------------------------------


def test_bulk_approve_approves_the_chosen_queue_entries_with_full_points(
    login, campaign, item, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    chosen = [waiting(campaign, org, item, ReviewStage.PARENT) for org in (tree.a1, tree.a2)]
    response = login(agency_staff).post(
        reverse("campaigns:review_bulk_approve"),
        {"campaign": campaign.pk, "entry": [e.pk for e in chosen]},
        follow=True,
    )
    assert "已通过 2 个条目" in response.content.decode()
    assert {fresh(e).first_review_score for e in chosen} == {Decimal("5")}


def test_bulk_approve_ignores_another_branch_entry(login, campaign, item, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    foreign = waiting(campaign, tree.b1, item, ReviewStage.PARENT)
    response = login(agency_staff).post(
        reverse("campaigns:review_bulk_approve"),
        {"campaign": campaign.pk, "entry": [foreign.pk]},
        follow=True,
    )
    assert "已通过 0 个条目" in response.content.decode() and "已忽略" in response.content.decode()
    assert fresh(foreign).version == 1


def test_bulk_approve_ignores_entries_at_a_stage_the_user_may_not_review(
    login, campaign, item, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    committee_stage = waiting(campaign, tree.a1, item, ReviewStage.COMMITTEE)
    login(agency_staff).post(
        reverse("campaigns:review_bulk_approve"), {"campaign": campaign.pk, "entry": [committee_stage.pk]}
    )
    assert fresh(committee_stage).version == 1


# --- reopen --------------------------------------------------------------------------------------------


def test_committee_admin_reopens_an_approved_entry_with_a_reason(
    login, campaign, item, tree, committee_admin
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item, status=EntryStatus.APPROVED)
    login(committee_admin).post(url("entry_reopen", entry), {"reason": "复核发现材料不实"})
    assert fresh(entry).status == EntryStatus.IN_PROGRESS
    assert fresh(entry).events.get().comment == "复核发现材料不实"


def test_committee_staff_cannot_reopen(login, campaign, item, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item, status=EntryStatus.APPROVED)
    assert login(committee_staff).post(url("entry_reopen", entry), {"reason": "x"}).status_code == 403
    assert fresh(entry).status == EntryStatus.APPROVED


def test_only_the_admin_sees_the_reopen_form(
    login, campaign, item, tree, committee_admin, committee_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item, status=EntryStatus.APPROVED)
    assert login(committee_admin).get(url("entry_detail", entry)).context["actions"]["reopen"] is True
    assert login(committee_staff).get(url("entry_detail", entry)).context["actions"]["reopen"] is False

"""我的任务清单, the entry page, fill-in writes through HTTP, duties (责任人, 目标责任书)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import User
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Checklist,
    ChecklistEntry,
    ChecklistItem,
    EntryStatus,
    ReviewStage,
)
from campaigns.services import entries as svc
from campaigns.services.duties import checklist_sign_letter, letter_digest, letter_text_for
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
from tests.conftest import Tree

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")


def at(day: date) -> Any:
    return time_machine.travel(datetime(day.year, day.month, day.day, 10, tzinfo=TZ), tick=False)


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(tree.gw)


@pytest.fixture
def item(campaign: Campaign) -> ChecklistItem:
    return make_item(campaign, points="5", title="按期召开支委会")


def url(name: str, obj: Any) -> str:
    return reverse(f"campaigns:{name}", kwargs={"pk": obj.pk})


def fresh(entry: ChecklistEntry) -> ChecklistEntry:
    return ChecklistEntry.objects.get(pk=entry.pk)


def shown_entries(response: Any) -> set[int]:
    return {row["entry"].pk for _, rows in response.context["groups"] for row in rows}


# --- 我的任务清单 -----------------------------------------------------------------------------------


def test_secretary_sees_every_entry_of_their_branch_and_nothing_else(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    own = make_entry(campaign, tree.a1, item)
    make_entry(campaign, tree.a2, item)
    response = login(branch_secretary).get(reverse("campaigns:my_checklist"))
    assert shown_entries(response) == {own.pk}


def test_committee_member_sees_only_entries_assigned_to_them(login, campaign, tree, branch_member) -> None:  # type: ignore[no-untyped-def]
    mine = make_entry(campaign, tree.a1, make_item(campaign), responsible=branch_member)
    make_entry(campaign, tree.a1, make_item(campaign))
    response = login(branch_member).get(reverse("campaigns:my_checklist"))
    assert shown_entries(response) == {mine.pk}


def test_progress_counts_approved_and_not_applicable_as_done(login, campaign, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    for status in (
        EntryStatus.APPROVED,
        EntryStatus.NOT_APPLICABLE,
        EntryStatus.SUBMITTED,
        EntryStatus.NOT_STARTED,
    ):
        make_entry(campaign, tree.a1, make_item(campaign), status=status)
    summary = login(branch_secretary).get(reverse("campaigns:my_checklist")).context["summary"]
    assert (summary["done"], summary["total"], summary["percent"]) == (2, 4, 50)


def test_entries_are_grouped_by_section_with_the_next_deadline_first(
    login, campaign, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    first, second = make_section(campaign, "政治建设", 1), make_section(campaign, "组织建设", 2)
    late = make_entry(campaign, tree.a1, make_item(campaign, first, due_date=date(2026, 9, 1)))
    soon = make_entry(campaign, tree.a1, make_item(campaign, first, due_date=date(2026, 3, 1)))
    other = make_entry(campaign, tree.a1, make_item(campaign, second, due_date=date(2026, 1, 1)))
    groups = login(branch_secretary).get(reverse("campaigns:my_checklist")).context["groups"]
    assert [(s.name, [r["entry"].pk for r in rows]) for s, rows in groups] == [
        ("政治建设", [soon.pk, late.pk]),
        ("组织建设", [other.pk]),
    ]


def test_due_within_seven_days_is_flagged_due_soon_and_past_due_overdue(
    login, campaign, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    soon = make_entry(campaign, tree.a1, make_item(campaign, due_date=date(2026, 5, 8)))
    late = make_entry(campaign, tree.a1, make_item(campaign, due_date=date(2026, 4, 30)))
    done_late = make_entry(
        campaign, tree.a1, make_item(campaign, due_date=date(2026, 4, 30)), status=EntryStatus.APPROVED
    )
    with at(date(2026, 5, 1)):
        response = login(branch_secretary).get(reverse("campaigns:my_checklist"))
    flags = {
        r["entry"].pk: (r["due_soon"], r["overdue"]) for _, rows in response.context["groups"] for r in rows
    }
    assert flags == {soon.pk: (True, False), late.pk: (False, True), done_late.pk: (False, False)}
    assert 'data-testid="flag-overdue"' in response.content.decode()


def test_day_eight_is_not_yet_due_soon(login, campaign, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, make_item(campaign, due_date=date(2026, 5, 9)))
    with at(date(2026, 5, 1)):
        response = login(branch_secretary).get(reverse("campaigns:my_checklist"))
    row = response.context["groups"][0][1][0]
    assert (row["entry"].pk, row["due_soon"]) == (entry.pk, False)


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("all", {"open", "late", "returned", "approved"}),
        ("todo", {"open", "late", "returned"}),
        ("overdue", {"late"}),
        ("returned", {"returned"}),
    ],
)
def test_filter_chips_narrow_the_list(login, campaign, tree, branch_secretary, show, expected) -> None:  # type: ignore[no-untyped-def]
    made = {
        "open": make_entry(campaign, tree.a1, make_item(campaign, due_date=date(2026, 12, 1))),
        "late": make_entry(campaign, tree.a1, make_item(campaign, due_date=date(2026, 1, 1))),
        "returned": make_entry(
            campaign, tree.a1, make_item(campaign, due_date=date(2026, 12, 1)), status=EntryStatus.RETURNED
        ),
        "approved": make_entry(
            campaign, tree.a1, make_item(campaign, due_date=date(2026, 1, 1)), status=EntryStatus.APPROVED
        ),
    }
    with at(date(2026, 5, 1)):
        response = login(branch_secretary).get(reverse("campaigns:my_checklist"), {"show": show})
    assert shown_entries(response) == {made[k].pk for k in expected}
    assert response.context["summary"]["total"] == 4


def test_current_phase_of_the_calendar_is_shown(login, campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    make_entry(campaign, tree.a1, item)
    with at(date(2026, 6, 15)):
        response = login(branch_secretary).get(reverse("campaigns:my_checklist"))
    assert response.context["phase"] == "年中督责"


def test_unsigned_letter_banner_shows_until_the_secretary_signs(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    client = login(branch_secretary)
    assert 'data-testid="letter-banner"' in client.get(reverse("campaigns:my_checklist")).content.decode()
    checklist_sign_letter(checklist=entry.checklist, actor=branch_secretary, text="x")
    assert 'data-testid="letter-banner"' not in client.get(reverse("campaigns:my_checklist")).content.decode()


def test_without_a_published_campaign_the_page_says_so(login, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    make_campaign(tree.gw, status=CampaignStatus.DRAFT)
    response = login(branch_secretary).get(reverse("campaigns:my_checklist"))
    assert "目前没有已发布的创建活动" in response.content.decode()


def test_a_draft_campaign_chosen_by_id_is_404_for_a_secretary(login, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    draft = make_campaign(tree.gw, year=2027, status=CampaignStatus.DRAFT)
    response = login(branch_secretary).get(reverse("campaigns:my_checklist"), {"campaign": draft.pk})
    assert response.status_code == 404


def _queries(client: Client, path: str, params: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_my_checklist_query_count_does_not_grow_with_rows(
    login, campaign, tree, branch_secretary, branch_member
) -> None:  # type: ignore[no-untyped-def]
    client = login(branch_secretary)
    make_entry(campaign, tree.a1, make_item(campaign), responsible=branch_member)
    one = _queries(client, reverse("campaigns:my_checklist"))
    sections = [make_section(campaign, f"类别{i}", i + 2) for i in range(5)]
    for i in range(49):
        make_entry(campaign, tree.a1, make_item(campaign, sections[i % 5]), responsible=branch_member)
    many = _queries(client, reverse("campaigns:my_checklist"))
    assert one == many <= 20


# --- the entry page ----------------------------------------------------------------------------------


def test_entry_page_shows_the_three_score_columns_and_the_history(
    login, campaign, item, tree, branch_secretary, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(
        campaign,
        tree.a1,
        item,
        status=EntryStatus.SUBMITTED,
        review_stage=ReviewStage.PARENT,
        self_score=Decimal("4"),
    )
    svc.entry_approve(
        entry=svc._reload(entry),
        actor=agency_staff,
        expected_version=1,
        score=Decimal("3.5"),
        comment="材料齐全",
    )
    page = login(branch_secretary).get(url("entry_detail", entry)).content.decode()
    for text in ("自评得分", "初审得分", "审核得分", "3.5", "初审通过", "材料齐全", "工委审核"):
        assert text in page


def test_secretary_gets_the_progress_form_but_no_review_form(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    actions = login(branch_secretary).get(url("entry_detail", entry)).context["actions"]
    assert (actions["fill"], actions["assign"], actions["review"], actions["reopen"]) == (
        True,
        True,
        False,
        False,
    )


def test_unassigned_committee_member_only_reads_the_entry(login, campaign, item, tree, branch_member) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    response = login(branch_member).get(url("entry_detail", entry))
    assert response.status_code == 200
    assert not any(response.context["actions"].values())
    assert 'data-testid="progress-form"' not in response.content.decode()


def test_unit_staff_gets_the_review_form_at_the_parent_stage(
    login, campaign, item, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item, status=EntryStatus.SUBMITTED, review_stage=ReviewStage.PARENT)
    response = login(agency_staff).get(url("entry_detail", entry))
    assert 'data-testid="review-form"' in response.content.decode()


def test_entry_page_gives_the_evidence_panel_its_context(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    context = login(branch_secretary).get(url("entry_detail", entry)).context
    assert context["can_edit"] is True
    assert list(context["evidence_links"]) == [] and list(context["library"]) == []


# --- fill-in writes --------------------------------------------------------------------------------


def test_saving_progress_through_the_page_records_it(login, campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    response = login(branch_secretary).post(
        url("entry_save", entry),
        {"version": 1, "progress_note": "已召开", "completed_on": "2026-03-01", "self_score": "4.5"},
    )
    assert response.status_code == 302
    entry = fresh(entry)
    assert (entry.status, entry.progress_note, entry.completed_on, entry.self_score) == (
        EntryStatus.IN_PROGRESS,
        "已召开",
        date(2026, 3, 1),
        Decimal("4.5"),
    )


def test_posting_status_scores_or_another_entry_to_the_save_form_is_ignored(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    other = make_entry(campaign, tree.a2, item)
    login(branch_secretary).post(
        url("entry_save", entry),
        {
            "version": 1,
            "progress_note": "进展",
            "status": EntryStatus.APPROVED,
            "review_stage": ReviewStage.NONE,
            "review_score": "5",
            "first_review_score": "5",
            "responsible": branch_secretary.pk,
            "entry": other.pk,
            "id": other.pk,
            "org": tree.b1.pk,
        },
    )
    entry = fresh(entry)
    assert (
        entry.status,
        entry.review_score,
        entry.first_review_score,
        entry.responsible_id,
        entry.org_id,
    ) == (
        EntryStatus.IN_PROGRESS,
        None,
        None,
        None,
        tree.a1.pk,
    )
    assert fresh(other).version == 1


def test_a_self_score_above_the_points_is_refused_with_the_message(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    response = login(branch_secretary).post(
        url("entry_save", entry), {"version": 1, "self_score": "6"}, follow=True
    )
    assert "得分须在 0 到 5 之间" in response.content.decode()
    assert fresh(entry).version == 1


def test_an_invalid_date_redisplays_the_form_with_its_error(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    response = login(branch_secretary).post(url("entry_save", entry), {"version": 1, "completed_on": "昨天"})
    assert response.status_code == 400
    assert response.context["progress_form"].errors["completed_on"]
    assert fresh(entry).version == 1


def test_stale_save_shows_the_changes_and_overwrites_nothing(
    login, campaign, item, tree, branch_secretary, branch_member
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item, responsible=branch_member)
    client = login(branch_secretary)
    loaded = client.get(url("entry_detail", entry)).context["progress_form"].initial
    svc.entry_save_progress(
        entry=svc._reload(entry),
        actor=branch_member,
        expected_version=1,
        progress_note="支委委员的进展",
        completed_on=None,
        self_score=None,
    )
    response = client.post(
        url("entry_save", entry),
        {"version": loaded["version"], "seen": loaded["seen"], "progress_note": "书记的进展"},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "工作进展：— → 支委委员的进展" in page
    assert response.context["progress_form"].initial["progress_note"] == "支委委员的进展"
    assert fresh(entry).progress_note == "支委委员的进展"


def test_stale_save_with_a_forged_snapshot_is_still_refused(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    svc.entry_save_progress(
        entry=svc._reload(entry),
        actor=branch_secretary,
        expected_version=1,
        progress_note="先存的",
        completed_on=None,
        self_score=None,
    )
    response = login(branch_secretary).post(
        url("entry_save", entry), {"version": 1, "seen": "forged", "progress_note": "覆盖"}
    )
    assert response.status_code == 409
    assert fresh(entry).progress_note == "先存的"


def test_submit_then_withdraw_through_the_page(login, campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    client = login(branch_secretary)
    client.post(url("entry_submit", entry), {"version": 1})
    assert (fresh(entry).status, fresh(entry).review_stage) == (EntryStatus.SUBMITTED, ReviewStage.PARENT)
    client.post(url("entry_withdraw", entry), {"version": 2})
    assert fresh(entry).status == EntryStatus.IN_PROGRESS


def test_not_applicable_request_without_reason_changes_nothing(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    response = login(branch_secretary).post(
        url("entry_request_na", entry), {"version": 1, "reason": ""}, follow=True
    )
    assert "理由" in response.content.decode()
    assert fresh(entry).version == 1


def test_writes_are_refused_in_an_archived_campaign(login, campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)
    client = login(branch_secretary)
    response = client.post(url("entry_save", entry), {"version": 1, "progress_note": "晚了"}, follow=True)
    assert "已归档" in response.content.decode()
    client.post(url("entry_submit", entry), {"version": 1})
    assert fresh(entry).version == 1
    assert not client.get(url("entry_detail", entry)).context["actions"]["fill"]


def test_assigning_through_the_page_sets_the_responsible_person(
    login, campaign, item, tree, branch_secretary, branch_member
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    login(branch_secretary).post(
        url("entry_assign", entry), {"version": 1, "responsible": branch_member.pk, "due_date": "2026-04-30"}
    )
    entry = fresh(entry)
    assert (entry.responsible_id, entry.due_date) == (branch_member.pk, date(2026, 4, 30))


def test_a_person_of_another_branch_cannot_be_chosen_as_responsible(
    login, campaign, item, tree, branch_secretary, outsider_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    response = login(branch_secretary).post(
        url("entry_assign", entry), {"version": 1, "responsible": outsider_secretary.pk}
    )
    assert response.status_code == 400
    assert fresh(entry).responsible_id is None


def test_entry_of_another_branch_is_404(login, campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    foreign = make_entry(campaign, tree.b1, item)
    client = login(branch_secretary)
    assert client.get(url("entry_detail", foreign)).status_code == 404
    assert client.post(url("entry_save", foreign), {"version": 1, "progress_note": "x"}).status_code == 404
    assert fresh(foreign).version == 1


# --- one organisation's checklist and bulk duties ---------------------------------------------------------


def test_checklist_page_shows_the_whole_checklist_to_the_staff_above(
    login, campaign, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    entries = [make_entry(campaign, tree.a1, make_item(campaign)) for _ in range(3)]
    response = login(agency_staff).get(url("checklist_detail", entries[0].checklist))
    assert shown_entries(response) == {e.pk for e in entries}
    assert response.context["can_assign"] is False


def test_bulk_assignment_sets_the_person_and_due_date_on_the_chosen_entries(
    login, campaign, tree, branch_secretary, branch_member
) -> None:  # type: ignore[no-untyped-def]
    chosen = [make_entry(campaign, tree.a1, make_item(campaign)) for _ in range(2)]
    untouched = make_entry(campaign, tree.a1, make_item(campaign))
    login(branch_secretary).post(
        url("checklist_assign", chosen[0].checklist),
        {"entries": [e.pk for e in chosen], "responsible": branch_member.pk, "due_date": "2026-10-01"},
    )
    assert {(fresh(e).responsible_id, fresh(e).due_date) for e in chosen} == {
        (branch_member.pk, date(2026, 10, 1))
    }
    assert fresh(untouched).responsible_id is None


def test_bulk_assignment_ignores_entries_of_another_checklist(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    own = make_entry(campaign, tree.a1, item)
    foreign = make_entry(campaign, tree.b1, item)
    login(branch_secretary).post(
        url("checklist_assign", own.checklist), {"entries": [foreign.pk], "due_date": "2026-10-01"}
    )
    assert fresh(foreign).version == 1


def test_checklist_detail_query_count_does_not_grow_with_rows(
    login, campaign, tree, branch_secretary, branch_member
) -> None:  # type: ignore[no-untyped-def]
    client = login(branch_secretary)
    first = make_entry(campaign, tree.a1, make_item(campaign), responsible=branch_member)
    path = url("checklist_detail", first.checklist)
    one = _queries(client, path)
    for _ in range(49):
        make_entry(campaign, tree.a1, make_item(campaign), responsible=branch_member)
    assert one == _queries(client, path) <= 20


# --- 目标责任书 ----------------------------------------------------------------------------------------


def _letter_post(client: Client, checklist: Checklist, text: str) -> Any:
    return client.post(url("letter_sign", checklist), {"digest": letter_digest(text), "confirm": "on"})


def test_secretary_signs_the_letter_and_the_shown_text_is_recorded(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    checklist = make_entry(campaign, tree.a1, item).checklist
    client = login(branch_secretary)
    shown = client.get(url("letter_sign", checklist)).context["text"]
    assert tree.a1.name in shown and branch_secretary.display_name in shown and campaign.letter_text in shown
    _letter_post(client, checklist, shown)
    checklist.refresh_from_db()
    assert (checklist.letter_signed_by, checklist.letter_text_signed) == (branch_secretary, shown)
    assert checklist.letter_signed_at is not None


def test_a_second_signature_through_the_page_is_refused(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    checklist = make_entry(campaign, tree.a1, item).checklist
    client = login(branch_secretary)
    shown = client.get(url("letter_sign", checklist)).context["text"]
    _letter_post(client, checklist, shown)
    signed_at = Checklist.objects.get(pk=checklist.pk).letter_signed_at
    response = client.post(
        url("letter_sign", checklist), {"digest": letter_digest(shown), "confirm": "on"}, follow=True
    )
    assert "不能重复签订" in response.content.decode()
    assert Checklist.objects.get(pk=checklist.pk).letter_signed_at == signed_at


def test_the_letter_cannot_be_signed_twice(login, campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    checklist = make_entry(campaign, tree.a1, item).checklist
    checklist_sign_letter(checklist=checklist, actor=branch_secretary, text="第一次")
    with pytest.raises(svc.EntryError, match="不能重复签订"):
        checklist_sign_letter(
            checklist=Checklist.objects.get(pk=checklist.pk), actor=branch_secretary, text="第二次"
        )
    assert Checklist.objects.get(pk=checklist.pk).letter_text_signed == "第一次"


def test_a_letter_whose_text_changed_since_reading_is_not_signed(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    checklist = make_entry(campaign, tree.a1, item).checklist
    client = login(branch_secretary)
    shown = client.get(url("letter_sign", checklist)).context["text"]
    Campaign.objects.filter(pk=campaign.pk).update(letter_text="新的正文")
    response = _letter_post(client, checklist, shown)
    assert "请重新阅读" in response.content.decode()
    assert Checklist.objects.get(pk=checklist.pk).letter_signed_at is None


def test_signing_is_refused_in_an_archived_campaign(campaign, item, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    checklist = make_entry(campaign, tree.a1, item).checklist
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)
    with pytest.raises(svc.EntryError, match="已归档"):
        checklist_sign_letter(
            checklist=Checklist.objects.select_related("campaign").get(pk=checklist.pk),
            actor=branch_secretary,
            text="x",
        )


def test_only_the_secretary_may_sign(campaign, item, tree, branch_member) -> None:  # type: ignore[no-untyped-def]
    checklist = make_entry(campaign, tree.a1, item).checklist
    with pytest.raises(svc.PermissionRefused):
        checklist_sign_letter(
            checklist=checklist, actor=branch_member, text=letter_text_for(checklist, branch_member)
        )


def test_unsigned_list_shows_unsigned_checklists_of_the_subtree_with_counts(
    login, campaign, item, tree, agency_staff, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    signed = make_entry(campaign, tree.a1, item).checklist
    unsigned = make_entry(campaign, tree.a2, item).checklist
    make_entry(campaign, tree.b1, item)
    checklist_sign_letter(checklist=signed, actor=branch_secretary, text="x")
    response = login(agency_staff).get(reverse("campaigns:letters_unsigned"))
    assert [c.pk for c in response.context["page"].object_list] == [unsigned.pk]
    assert response.context["counts"] == {"total": 2, "signed": 1}


def test_letters_unsigned_query_count_does_not_grow_with_rows(login, campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_org

    item = make_item(campaign)
    client = login(committee_staff)
    make_entry(campaign, tree.a1, item)
    one = _queries(client, reverse("campaigns:letters_unsigned"))
    for i in range(49):
        make_entry(campaign, make_org("branch", tree.b, code=f"QB{i}", name=f"支部{i}"), item)
    assert one == _queries(client, reverse("campaigns:letters_unsigned")) <= 20


__all__ = ["User"]


def test_entry_page_query_count_does_not_grow_with_its_history(
    login, campaign, item, tree, branch_secretary
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    client = login(branch_secretary)
    svc.entry_save_progress(
        entry=svc._reload(entry),
        actor=branch_secretary,
        expected_version=1,
        progress_note="1",
        completed_on=None,
        self_score=None,
    )
    one = _queries(client, url("entry_detail", entry))
    for version in range(2, 12):
        svc.entry_save_progress(
            entry=svc._reload(entry),
            actor=branch_secretary,
            expected_version=version,
            progress_note=str(version),
            completed_on=None,
            self_score=None,
        )
    assert one == _queries(client, url("entry_detail", entry)) <= 20


def test_workbench_shows_the_secretarys_checklist_progress_and_overdue_count(
    branch_secretary, login, tree
) -> None:  # type: ignore[no-untyped-def]

    from django.urls import reverse

    from campaigns.models import EntryStatus
    from tests.campaigns.factories import make_campaign, make_entry, make_item

    campaign = make_campaign(tree.gw, year=date.today().year)
    make_entry(campaign, tree.a1, make_item(campaign, due_date=date(2000, 1, 1)))
    make_entry(campaign, tree.a1, make_item(campaign), status=EntryStatus.APPROVED)
    response = login(branch_secretary).get(reverse("home"))
    card = response.context["checklist"]
    assert (card["total"], card["done"], card["overdue"], card["percent"]) == (2, 1, 1, 50)
    assert "逾期 1" in response.content.decode()


def test_workbench_shows_staff_what_waits_for_them(committee_staff, login, tree) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from campaigns.models import EntryStatus, ReviewStage
    from tests.campaigns.factories import make_campaign, make_entry, make_item

    campaign = make_campaign(tree.gw, year=date.today().year)
    make_entry(
        campaign,
        tree.a1,
        make_item(campaign),
        status=EntryStatus.SUBMITTED,
        review_stage=ReviewStage.COMMITTEE,
    )
    response = login(committee_staff).get(reverse("home"))
    assert response.context["staff"]["to_review"] == 1

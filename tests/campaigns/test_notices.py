"""Notices (通报): a draft pre-filled from findings and overdue items, published to a subtree's inboxes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches import services
from branches.models import Message, Role, User
from campaigns.models import (
    Campaign,
    ChecklistEntry,
    EntryStatus,
    Finding,
    FindingSource,
    Notice,
    NoticeKind,
    NoticeStatus,
    Rectification,
    RectificationStatus,
    Severity,
)
from campaigns.services import notices as svc
from campaigns.services.entries import InvalidTransition, PermissionRefused
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.conftest import Tree
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 7, 10)


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(tree.gw)


def finding(campaign: Campaign, org: Any, text: str, **fields: Any) -> Finding:
    return Finding.objects.create(
        campaign=campaign,
        org=org,
        source=FindingSource.INSPECTION,
        description=text,
        severity=fields.pop("severity", Severity.MAJOR),
        **fields,
    )


def overdue(campaign: Campaign, org: Any, title: str, due: date = date(2026, 6, 30)) -> ChecklistEntry:
    item = make_item(campaign, title=title, due_date=due)
    return make_entry(campaign, org, item, status=EntryStatus.IN_PROGRESS)


def draft(campaign: Campaign, actor: User, scope: Any, **ids: Any) -> Notice:
    return svc.notice_draft(
        campaign=campaign, actor=actor, scope=scope, kind=NoticeKind.WORK, today=TODAY, **ids
    )


# --- drafting --------------------------------------------------------------------------------------


def test_draft_body_lists_each_selected_finding_under_its_organisation_with_rectification_deadline(
    tree: Tree, campaign: Campaign, agency_staff: User
) -> None:
    f1 = finding(campaign, tree.a1, "三会一课记录不全")
    Rectification.objects.create(
        finding=f1,
        campaign=campaign,
        org=tree.a1,
        status=RectificationStatus.IN_PROGRESS,
        deadline=date(2026, 8, 31),
    )
    f2 = finding(campaign, tree.a2, "主题党日流于形式", severity=Severity.SERIOUS)

    notice = draft(campaign, agency_staff, tree.a, finding_ids=[f1.pk, f2.pk])

    assert notice.title == "关于2026年度模范机关创建年中督查发现问题的通报"
    assert (
        "（财政局预算股党支部）\n1. 三会一课记录不全（较重；整改状态：整改中，整改时限 2026-08-31）"
        in notice.body
    )
    assert "（财政局综合股党支部）\n1. 主题党日流于形式（严重；整改状态：尚未下发整改）" in notice.body
    assert set(notice.findings.all()) == {f1, f2}


def test_draft_body_lists_selected_overdue_entries_with_due_date_and_days_overdue(
    tree: Tree, campaign: Campaign, agency_staff: User
) -> None:
    entry = overdue(campaign, tree.a1, "开展警示教育")

    notice = draft(campaign, agency_staff, tree.a, entry_ids=[entry.pk])

    assert (
        f"财政局预算股党支部：{entry.item.code} 开展警示教育（应于 2026-06-30 完成，已逾期 10 天）"
        in notice.body
    )
    assert list(notice.entries.all()) == [entry]


def test_draft_has_opening_and_closing_paragraphs(tree: Tree, campaign: Campaign, agency_staff: User) -> None:
    notice = draft(campaign, agency_staff, tree.a)

    # The 工委 inspects; the scope names the part of the tree it inspected.
    assert notice.body.startswith(
        "为压实模范机关创建责任，中共旬阳市直属机关工作委员会对中共旬阳市财政局机关委员会2026年度"
    )
    assert notice.body.rstrip().endswith(svc.CLOSING)
    assert notice.status == NoticeStatus.DRAFT


def test_draft_ignores_findings_and_entries_outside_the_scope(
    tree: Tree, campaign: Campaign, committee_staff: User
) -> None:
    foreign = finding(campaign, tree.b1, "外单位问题")
    foreign_entry = overdue(campaign, tree.b1, "外单位逾期事项")

    notice = draft(campaign, committee_staff, tree.a, finding_ids=[foreign.pk], entry_ids=[foreign_entry.pk])

    assert not notice.findings.exists() and not notice.entries.exists()
    assert "外单位" not in notice.body


def test_draft_ignores_entries_that_are_done_or_not_yet_due(
    tree: Tree, campaign: Campaign, agency_staff: User
) -> None:
    done = overdue(campaign, tree.a1, "已完成事项")
    ChecklistEntry.objects.filter(pk=done.pk).update(status=EntryStatus.APPROVED)
    future = overdue(campaign, tree.a1, "未到期事项", due=date(2026, 9, 30))

    notice = draft(campaign, agency_staff, tree.a, entry_ids=[done.pk, future.pk])

    assert not notice.entries.exists()


def test_draft_for_a_scope_outside_the_actors_subtree_is_refused(
    tree: Tree, campaign: Campaign, agency_staff: User
) -> None:
    with pytest.raises(PermissionRefused):
        draft(campaign, agency_staff, tree.b)


def test_published_notice_cannot_be_edited(tree: Tree, campaign: Campaign, agency_staff: User) -> None:
    notice = draft(campaign, agency_staff, tree.a)
    svc.notice_publish(notice=notice, actor=agency_staff)

    with pytest.raises(InvalidTransition):
        svc.notice_update(
            notice=notice, actor=agency_staff, title="改", number="", body="改", kind=NoticeKind.WORK
        )


# --- publishing ----------------------------------------------------------------------------------


def test_publish_delivers_exactly_one_message_to_every_active_user_in_the_scope(
    tree: Tree,
    campaign: Campaign,
    agency_staff: User,
    branch_secretary: User,
    branch_member: User,
    outsider_secretary: User,
    committee_staff: User,
) -> None:
    services.role_grant(user=branch_member, org=tree.a2, role=Role.SECRETARY)  # two roles in scope
    retired = UserFactory(username="retired", is_active=False)
    services.role_grant(user=retired, org=tree.a2, role=Role.SECRETARY)
    notice = draft(campaign, agency_staff, tree.a)

    svc.notice_publish(notice=notice, actor=agency_staff)

    recipients = list(
        Message.objects.filter(source_key=f"notice:{notice.pk}").values_list("recipient", flat=True)
    )
    assert sorted(recipients) == sorted([agency_staff.pk, branch_secretary.pk, branch_member.pk])
    message = Message.objects.get(recipient=branch_secretary)
    assert message.url == reverse("campaigns:notice_detail", args=[notice.pk])
    assert message.kind == "notice" and message.title == notice.title


def test_publishing_twice_is_refused_and_sends_no_duplicate_messages(
    tree: Tree, campaign: Campaign, agency_staff: User, branch_secretary: User
) -> None:
    notice = draft(campaign, agency_staff, tree.a)
    svc.notice_publish(notice=notice, actor=agency_staff)

    with pytest.raises(InvalidTransition):
        svc.notice_publish(notice=Notice.objects.get(pk=notice.pk), actor=agency_staff)
    assert Message.objects.filter(recipient=branch_secretary).count() == 1


def test_publish_records_who_and_when(tree: Tree, campaign: Campaign, agency_staff: User) -> None:
    notice = draft(campaign, agency_staff, tree.a)

    svc.notice_publish(notice=notice, actor=agency_staff)

    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PUBLISHED
    assert notice.published_by == agency_staff and notice.published_at is not None


# --- pages ---------------------------------------------------------------------------------------


def test_create_page_lists_overdue_entries_and_findings_of_the_chosen_scope(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    overdue(campaign, tree.a1, "本范围逾期事项")
    overdue(campaign, tree.b1, "外范围逾期事项")
    finding(campaign, tree.a2, "本范围问题")

    response = login(agency_staff).get(reverse("campaigns:notice_create"), {"scope": "A", "kind": "work"})

    html = response.content.decode()
    assert "本范围逾期事项" in html and "本范围问题" in html
    assert "外范围逾期事项" not in html


def test_create_page_post_builds_the_draft_and_opens_the_editor(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    f = finding(campaign, tree.a1, "支部手册填写不规范")
    entry = overdue(campaign, tree.a1, "组织生活会")

    response = login(agency_staff).post(
        reverse("campaigns:notice_create"),
        {"scope": "A", "kind": "criticism", "finding": [f.pk], "entry": [entry.pk]},
    )

    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "campaigns:notice_edit", args=[notice.pk]
    )
    assert notice.kind == NoticeKind.CRITICISM and notice.scope == tree.a
    assert list(notice.findings.all()) == [f] and list(notice.entries.all()) == [entry]


def test_edit_page_saves_title_number_and_body(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    notice = draft(campaign, agency_staff, tree.a)

    login(agency_staff).post(
        reverse("campaigns:notice_edit", args=[notice.pk]),
        {
            "kind": "work",
            "title": "关于年中督查情况的通报",
            "number": "旬直工委〔2026〕5号",
            "body": "修改后的正文",
        },
    )

    notice.refresh_from_db()
    assert (notice.title, notice.number, notice.body) == (
        "关于年中督查情况的通报",
        "旬直工委〔2026〕5号",
        "修改后的正文",
    )


def test_edit_page_of_a_published_notice_is_refused(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    notice = draft(campaign, agency_staff, tree.a)
    svc.notice_publish(notice=notice, actor=agency_staff)

    response = login(agency_staff).get(reverse("campaigns:notice_edit", args=[notice.pk]))

    assert response.status_code == 403


def test_publish_page_publishes_and_the_branch_finds_it_in_its_inbox(
    tree: Tree, campaign: Campaign, agency_staff: User, branch_secretary: User, login: Any
) -> None:
    notice = draft(campaign, agency_staff, tree.a)
    login(agency_staff).post(reverse("campaigns:notice_publish", args=[notice.pk]))

    response = login(branch_secretary).get(reverse("branches:inbox"))

    assert notice.title in response.content.decode()


def test_published_notice_is_readable_by_a_branch_in_its_scope(
    tree: Tree, campaign: Campaign, agency_staff: User, branch_secretary: User, login: Any
) -> None:
    notice = draft(campaign, agency_staff, tree.a)
    svc.notice_publish(notice=notice, actor=agency_staff)

    response = login(branch_secretary).get(reverse("campaigns:notice_detail", args=[notice.pk]))

    assert response.status_code == 200


def test_notice_page_is_printable(tree: Tree, campaign: Campaign, agency_staff: User, login: Any) -> None:
    notice = draft(campaign, agency_staff, tree.a)

    html = login(agency_staff).get(reverse("campaigns:notice_detail", args=[notice.pk])).content.decode()

    assert 'onclick="window.print()"' in html
    assert "@media print" in html and ".app-navbar" in html
    assert "关于2026年度模范机关创建年中督查发现问题的通报" in html


def test_branch_list_shows_published_notices_but_not_drafts(
    tree: Tree, campaign: Campaign, agency_staff: User, branch_secretary: User, login: Any
) -> None:
    published = draft(campaign, agency_staff, tree.a)
    svc.notice_publish(notice=published, actor=agency_staff)
    Notice.objects.create(campaign=campaign, scope=tree.a, title="尚未发布的草稿", body="x")

    html = login(branch_secretary).get(reverse("campaigns:notice_list")).content.decode()

    assert published.title in html and "尚未发布的草稿" not in html


def test_notice_list_query_count_does_not_grow_with_rows(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    client = login(agency_staff)
    Notice.objects.create(campaign=campaign, scope=tree.a, title="通报0", body="x")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("campaigns:notice_list"))
    for n in range(1, 25):
        Notice.objects.create(campaign=campaign, scope=tree.a1, title=f"通报{n}", body="x")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("campaigns:notice_list"))

    assert response.content.decode().count('data-testid="notice-row"') == 25
    assert len(many) == len(one) <= 20


def test_edit_page_shows_the_prefilled_draft(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    notice = draft(campaign, agency_staff, tree.a, finding_ids=[finding(campaign, tree.a1, "台账不全").pk])

    response = login(agency_staff).get(reverse("campaigns:notice_edit", args=[notice.pk]))

    assert response.status_code == 200 and "台账不全" in response.content.decode()

"""Interviews (约谈): staff record who, when, why, linked findings, outcome and follow-up."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import User
from campaigns.models import Campaign, Finding, FindingSource, Interview
from campaigns.services import interviews as svc
from campaigns.services.entries import EntryError, PermissionRefused
from tests.campaigns.factories import make_campaign
from tests.conftest import Tree

pytestmark = pytest.mark.django_db

HELD = timezone.make_aware(datetime(2026, 7, 3, 15, 0))


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(tree.gw)


def finding(campaign: Campaign, org: Any, text: str = "问题") -> Finding:
    return Finding.objects.create(
        campaign=campaign, org=org, source=FindingSource.INSPECTION, description=text
    )


def interview(campaign: Campaign, org: Any, actor: User, **fields: Any) -> Interview:
    return svc.interview_create(
        campaign=campaign,
        org=org,
        actor=actor,
        interviewee_name=fields.pop("interviewee_name", "张书记"),
        interviewer_names="李副书记",
        held_at=HELD,
        reason="创建工作进度滞后",
        **fields,
    )


def test_staff_record_an_interview_linking_only_that_organisations_findings(
    tree: Tree, campaign: Campaign, agency_staff: User
) -> None:
    own = finding(campaign, tree.a1)
    other = finding(campaign, tree.a2)

    record = interview(
        campaign, tree.a1, agency_staff, finding_ids=[own.pk, other.pk], follow_up_due=date(2026, 8, 1)
    )

    assert list(record.findings.all()) == [own]
    assert record.follow_up_due == date(2026, 8, 1) and record.created_by == agency_staff


def test_staff_cannot_interview_an_organisation_outside_their_subtree(
    tree: Tree, campaign: Campaign, agency_staff: User
) -> None:
    with pytest.raises(PermissionRefused):
        interview(campaign, tree.b1, agency_staff)


def test_the_interviewee_account_must_belong_to_the_organisation(
    tree: Tree, campaign: Campaign, agency_staff: User, outsider_secretary: User
) -> None:
    with pytest.raises(EntryError):
        interview(campaign, tree.a1, agency_staff, interviewee=outsider_secretary)


def test_update_records_outcome_and_follow_up(
    tree: Tree, campaign: Campaign, agency_staff: User, branch_secretary: User
) -> None:
    record = interview(campaign, tree.a1, agency_staff)

    svc.interview_update(
        interview=record,
        actor=agency_staff,
        interviewee=branch_secretary,
        outcome="已表态整改",
        follow_up="一月内回访",
    )

    record.refresh_from_db()
    assert (record.outcome, record.follow_up, record.interviewee) == (
        "已表态整改",
        "一月内回访",
        branch_secretary,
    )


def test_create_page_saves_the_interview(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    f = finding(campaign, tree.a1)

    response = login(agency_staff).post(
        reverse("campaigns:interview_create") + "?org=A1",
        {
            "interviewee_name": "张书记",
            "interviewer_names": "李副书记",
            "held_at": "2026-07-03T15:00",
            "location": "三楼会议室",
            "reason": "进度滞后",
            "finding": [f.pk],
        },
    )

    record = Interview.objects.get()
    assert response["Location"] == reverse("campaigns:interview_detail", args=[record.pk])
    assert record.org == tree.a1 and list(record.findings.all()) == [f]


def test_edit_page_keeps_the_organisation_and_updates_the_outcome(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    record = interview(campaign, tree.a1, agency_staff)

    login(agency_staff).post(
        reverse("campaigns:interview_edit", args=[record.pk]),
        {
            "interviewee_name": "张书记",
            "interviewer_names": "李副书记",
            "held_at": "2026-07-03T15:00",
            "reason": "进度滞后",
            "outcome": "约谈后已补齐",
        },
    )

    record.refresh_from_db()
    assert record.outcome == "约谈后已补齐" and record.org == tree.a1


def test_the_interviewed_secretary_reads_the_record_without_an_edit_link(
    tree: Tree, campaign: Campaign, agency_staff: User, branch_secretary: User, login: Any
) -> None:
    record = interview(campaign, tree.a1, agency_staff)

    response = login(branch_secretary).get(reverse("campaigns:interview_detail", args=[record.pk]))

    assert response.status_code == 200
    assert reverse("campaigns:interview_edit", args=[record.pk]) not in response.content.decode()


def test_list_shows_interviews_in_the_users_subtree_only(
    tree: Tree, campaign: Campaign, agency_staff: User, committee_staff: User, login: Any
) -> None:
    interview(campaign, tree.a1, agency_staff, interviewee_name="本范围被约谈人")
    interview(campaign, tree.b1, committee_staff, interviewee_name="外范围被约谈人")

    html = login(agency_staff).get(reverse("campaigns:interview_list")).content.decode()

    assert "本范围被约谈人" in html and "外范围被约谈人" not in html


def test_interview_list_query_count_does_not_grow_with_rows(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    client = login(agency_staff)
    interview(campaign, tree.a1, agency_staff)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("campaigns:interview_list"))
    for org in (tree.a2, tree.ag, tree.ag1) * 8:
        interview(campaign, org, agency_staff)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("campaigns:interview_list"))

    assert response.content.decode().count('data-testid="interview-row"') == 25
    assert len(many) == len(one) <= 20


def test_create_page_offers_the_organisations_findings_and_accounts(
    tree: Tree, campaign: Campaign, agency_staff: User, branch_secretary: User, login: Any
) -> None:
    finding(campaign, tree.a1, "本支部问题")
    finding(campaign, tree.a2, "别的支部问题")

    html = login(agency_staff).get(reverse("campaigns:interview_create"), {"org": "A1"}).content.decode()

    assert "本支部问题" in html and "别的支部问题" not in html
    assert f'<option value="{branch_secretary.pk}">' in html


def test_edit_page_ticks_the_linked_findings(
    tree: Tree, campaign: Campaign, agency_staff: User, login: Any
) -> None:
    f = finding(campaign, tree.a1)
    record = interview(campaign, tree.a1, agency_staff, finding_ids=[f.pk])

    html = login(agency_staff).get(reverse("campaigns:interview_edit", args=[record.pk])).content.decode()

    assert f'name="finding" value="{f.pk}" id="f{f.pk}" checked' in html

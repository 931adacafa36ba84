"""Access cases for notices (通报), interviews (约谈) and progress snapshots (年中晒进度)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone

from campaigns.models import Interview, Notice, ProgressSnapshot
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.factories import make_campaign

ACCESS_YEAR = 2017
ANON_POST = Case("anonymous", "post", 302)


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    campaign = make_campaign(tree.gw, year=ACCESS_YEAR)
    world["notices_draft_a"] = Notice.objects.create(
        campaign=campaign, scope=tree.a, title="访问控制通报", body="正文"
    )
    world["notices_interview_a1"] = Interview.objects.create(
        campaign=campaign,
        org=tree.a1,
        interviewee_name="张书记",
        interviewer_names="工委",
        held_at=timezone.make_aware(datetime(ACCESS_YEAR, 6, 1, 9, 0)),
        reason="进度滞后",
    )
    world["notices_snapshot"] = ProgressSnapshot.objects.create(
        campaign=campaign, title="年中晒进度", taken_on=date(ACCESS_YEAR, 6, 30)
    )


def _notice(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["notices_draft_a"].pk}


def _interview(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["notices_interview_a1"].pk}


def _snapshot(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["notices_snapshot"].pk}


NOTICE_EDIT = {"kind": "work", "title": "篡改", "number": "", "body": "篡改"}
INTERVIEW_EDIT = {
    "interviewee_name": "篡改",
    "interviewer_names": "篡改",
    "held_at": "2017-06-01T09:00",
    "reason": "篡改",
    "outcome": "篡改",
}

MATRIX: dict[str, Spec] = {
    "campaigns:notice_list": Spec("authenticated", (ANON_REDIRECT,)),
    "campaigns:notice_create": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary"),
            Case("leader"),
            Case("branch_secretary", "post", 403, {"scope": "A1", "kind": "work"}),
            # Unit staff of A cannot draft for B's subtree.
            Case("agency_staff", "get", 404, {"scope": "B", "kind": "work"}),
            Case("agency_staff", "post", 404, {"scope": "B", "kind": "work"}),
        ),
    ),
    "campaigns:notice_detail": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            # A draft is for staff only; B's people never see A's notices.
            Case("branch_secretary", "get", 404),
            Case("outsider_secretary", "get", 404),
            Case("leader", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=_notice,
    ),
    "campaigns:notice_edit": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary", "post", 403, NOTICE_EDIT),
            Case("leader", "post", 403, NOTICE_EDIT),
        ),
        args=_notice,
    ),
    "campaigns:notice_publish": Spec(
        "staff",
        (ANON_POST, Case("branch_secretary", "post", 403), Case("leader", "post", 403)),
        args=_notice,
        writes=True,
    ),
    "campaigns:interview_list": Spec("authenticated", (ANON_REDIRECT,)),
    "campaigns:interview_create": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary"),
            Case("branch_secretary", "post", 403, INTERVIEW_EDIT),
            Case("agency_staff", "get", 404, {"org": "B1"}),
        ),
    ),
    "campaigns:interview_detail": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "get", 404),
            Case("leader", "get", 404),
            # A 支委委员 is not the interviewed secretary.
            Case("branch_member", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=_interview,
    ),
    "campaigns:interview_edit": Spec(
        "staff",
        (
            ANON_REDIRECT,
            # The interviewed secretary reads but never edits.
            Case("branch_secretary", "post", 403, INTERVIEW_EDIT),
            Case("leader", "post", 403, INTERVIEW_EDIT),
        ),
        args=_interview,
    ),
    "campaigns:snapshot_list": Spec("authenticated", (ANON_REDIRECT,)),
    "campaigns:snapshot_create": Spec(
        "staff",
        (
            ANON_POST,
            Case("branch_secretary", "post", 403, {"title": "快照", "taken_on": "2017-06-30"}),
            # Unit staff are staff, but only the 工委 freezes everyone's progress.
            Case("agency_staff", "post", 403, {"title": "快照", "taken_on": "2017-06-30"}),
        ),
        writes=True,
    ),
    "campaigns:snapshot_detail": Spec(
        "authenticated", (ANON_REDIRECT, Case("no_role_user", "get", 404)), args=_snapshot
    ),
}

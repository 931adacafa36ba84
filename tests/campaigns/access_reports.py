"""Access cases for 年终述责: 我的述职报告, report review and the report list."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns.models import Campaign
from campaigns.services import reports as svc
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.access_checklist import ACCESS_YEAR
from tests.campaigns.factories import make_campaign

POST_ANON = Case("anonymous", "post", 302)
SAVE = {"version": 1, "title": "标题", "body": "正文"}


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    campaign = Campaign.objects.filter(committee=tree.gw, year=ACCESS_YEAR).first() or make_campaign(
        tree.gw, year=ACCESS_YEAR
    )
    world["reports_a1"] = svc.report_draft(campaign=campaign, org=tree.a1, actor=world["branch_secretary"])
    b1 = svc.report_draft(campaign=campaign, org=tree.b1, actor=world["outsider_secretary"])
    world["reports_b1"] = svc.report_submit(report=b1, actor=world["outsider_secretary"], expected_version=1)
    session = svc.session_create(
        campaign=campaign,
        scope=tree.a,
        title="访问控制述职评议",
        held_on=date(ACCESS_YEAR, 12, 20),
        actor=world["agency_staff"],
        raters=[world["branch_member"]],
    )
    world["reports_session"] = session
    (world["reports_reporter"],) = svc.session_add_reporters(
        session=session, reporters=[(tree.a1, None, "张书记")], actor=world["agency_staff"]
    )


def _a1(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["reports_a1"].pk}


def _b1(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["reports_b1"].pk}


def _session(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["reports_session"].pk}


def _reporter(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["reports_reporter"].pk}


MATRIX: dict[str, Spec] = {
    "campaigns:report_mine": Spec("authenticated", (ANON_REDIRECT,)),
    "campaigns:report_generate": Spec(
        "authenticated",
        (
            POST_ANON,
            Case("outsider_secretary", "post", 404),
            Case("leader", "post", 404),
            # In scope, but only the organisation's 书记/副书记 write its report.
            Case("agency_staff", "post", 403),
            Case("branch_member", "post", 403),
        ),
        args=lambda w: {"org_pk": w["tree"].a1.pk},
        writes=True,
    ),
    "campaigns:report_list": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("leader"), Case("no_role_user"))
    ),
    "campaigns:report_detail": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "get", 404),
            Case("leader", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=_a1,
    ),
    "campaigns:report_save": Spec(
        "authenticated",
        (
            POST_ANON,
            Case("outsider_secretary", "post", 404, SAVE),
            Case("agency_staff", "post", 403, SAVE),
            Case("branch_member", "post", 403, SAVE),
        ),
        args=_a1,
        writes=True,
    ),
    "campaigns:report_upload": Spec(
        "authenticated",
        (POST_ANON, Case("outsider_secretary", "post", 404), Case("agency_staff", "post", 403)),
        args=_a1,
        writes=True,
    ),
    "campaigns:report_submit": Spec(
        "authenticated",
        (
            POST_ANON,
            Case("outsider_secretary", "post", 404, {"version": 1}),
            Case("agency_staff", "post", 403, {"version": 1}),
            Case("branch_member", "post", 403, {"version": 1}),
        ),
        args=_a1,
        writes=True,
    ),
    "campaigns:report_return": Spec(
        "staff",
        (
            POST_ANON,
            Case("outsider_secretary", "post", 403, {"version": 2, "reason": "退回"}),
            # Unit staff of 机关党委 A: B1's report is outside the subtree.
            Case("agency_staff", "post", 404, {"version": 2, "reason": "退回"}),
        ),
        args=_b1,
        writes=True,
    ),
    "campaigns:report_reviewed": Spec(
        "staff",
        (
            POST_ANON,
            Case("outsider_secretary", "post", 403, {"version": 2}),
            Case("agency_staff", "post", 404, {"version": 2}),
        ),
        args=_b1,
        writes=True,
    ),
    "campaigns:session_list": Spec("authenticated", (ANON_REDIRECT,)),
    "campaigns:session_create": Spec(
        "staff",
        (ANON_REDIRECT, Case("branch_secretary"), Case("leader"), Case("branch_member", "post", 403)),
    ),
    "campaigns:session_detail": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "get", 404),
            Case("leader", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=_session,
    ),
    "campaigns:session_reporter_add": Spec(
        "staff",
        (POST_ANON, Case("branch_member", "post", 403, {"org": "A2"}), Case("leader", "post", 403)),
        args=_session,
        writes=True,
    ),
    "campaigns:session_close": Spec(
        "staff",
        (POST_ANON, Case("branch_member", "post", 403), Case("outsider_secretary", "post", 403)),
        args=_session,
        writes=True,
    ),
    "campaigns:session_ballot": Spec(
        "authenticated",
        (
            POST_ANON,
            Case("outsider_secretary", "post", 404, {"label": "好"}),
            # Staff who may see the session but are not raters cannot vote.
            Case("agency_staff", "post", 403, {"label": "好"}),
        ),
        args=_reporter,
        writes=True,
    ),
    "campaigns:session_tally": Spec(
        "staff",
        (POST_ANON, Case("branch_member", "post", 403, {"count_0": "3"}), Case("leader", "post", 403)),
        args=_reporter,
        writes=True,
    ),
    "campaigns:session_finding": Spec(
        "staff",
        (
            POST_ANON,
            Case("branch_member", "post", 403, {"description": "问题", "severity": "minor"}),
            Case("outsider_secretary", "post", 403, {"description": "问题", "severity": "minor"}),
        ),
        args=_reporter,
        writes=True,
    ),
}

"""Access cases for findings, the rectification loop and the 整改台账 download."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns.models import Campaign, FindingSource
from campaigns.services import rectification as svc
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.access_checklist import ACCESS_YEAR
from tests.campaigns.factories import make_campaign


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    campaign = Campaign.objects.filter(committee=tree.gw, year=ACCESS_YEAR).first() or make_campaign(
        tree.gw, year=ACCESS_YEAR
    )

    def finding(org: Any, actor: Any) -> Any:
        return svc.finding_create(
            campaign=campaign,
            org=org,
            source=FindingSource.INSPECTION,
            description="访问控制问题",
            actor=actor,
        ).rectification

    world["findings_rect_a1"] = finding(tree.a1, world["agency_staff"])
    world["findings_rect_b1"] = finding(tree.b1, world["committee_staff"])
    rect = finding(tree.a1, world["agency_staff"])
    svc.rectification_submit_plan(
        rect=rect,
        actor=world["branch_secretary"],
        expected_version=rect.version,
        measures="措施",
        responsible_name="张三",
        leader_name="李四",
        deadline=date(ACCESS_YEAR, 9, 30),
    )
    svc.rectification_approve_plan(rect=rect, actor=world["agency_staff"], expected_version=rect.version)
    world["findings_extension"] = svc.rectification_request_extension(
        rect=rect, actor=world["branch_secretary"], until=date(ACCESS_YEAR, 10, 31), reason="需协调"
    )
    world["findings_rect_working"] = rect


def _a1(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["findings_rect_a1"].pk}


def _b1(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["findings_rect_b1"].pk}


def _working(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["findings_rect_working"].pk}


ANON_POST = Case("anonymous", "post", 302)
PLAN = {
    "version": 1,
    "measures": "措施",
    "responsible_name": "张三",
    "leader_name": "李四",
    "deadline": "2012-09-30",
}
PROGRESS = {"version": 3, "progress": "进展"}
EXTENSION = {"until": "2012-12-31", "reason": "理由"}
CLOSE = {"version": 3, "progress": "完成"}
DECIDE = {"version": 1, "decision": "approve", "comment": "同意"}
CLOSE_DECIDE = {"version": 1, "decision": "close", "comment": "同意"}

MATRIX: dict[str, Spec] = {
    "campaigns:finding_list": Spec("authenticated", (ANON_REDIRECT, Case("anonymous", "post", 302))),
    "campaigns:finding_create": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary"),
            Case("leader"),
            Case(
                "branch_secretary",
                "post",
                403,
                {"org_code": "A1", "source": "inspection", "description": "x"},
            ),
        ),
    ),
    "campaigns:rectification_detail": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "get", 404),
            Case("leader", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=_a1,
    ),
    "campaigns:rectification_plan": Spec(
        "authenticated",
        (
            ANON_POST,
            Case("outsider_secretary", "post", 404, PLAN),
            Case("branch_member", "post", 403, PLAN),
            Case("agency_staff", "post", 403, PLAN),
        ),
        args=_a1,
        writes=True,
    ),
    "campaigns:rectification_plan_decide": Spec(
        "staff",
        (
            ANON_POST,
            Case("branch_secretary", "post", 403, DECIDE),
            Case("leader", "post", 403, DECIDE),
            # Unit staff of A: B1's finding is outside their subtree.
            Case("agency_staff", "post", 404, DECIDE),
        ),
        args=_b1,
        writes=True,
    ),
    "campaigns:rectification_progress": Spec(
        "authenticated",
        (
            ANON_POST,
            Case("outsider_secretary", "post", 404, PROGRESS),
            Case("branch_member", "post", 403, PROGRESS),
            Case("agency_staff", "post", 403, PROGRESS),
        ),
        args=_working,
        writes=True,
    ),
    "campaigns:rectification_extension": Spec(
        "authenticated",
        (
            ANON_POST,
            Case("outsider_secretary", "post", 404, EXTENSION),
            Case("branch_member", "post", 403, EXTENSION),
            Case("agency_staff", "post", 403, EXTENSION),
        ),
        args=_working,
        writes=True,
    ),
    "campaigns:extension_decide": Spec(
        "staff",
        (
            ANON_POST,
            Case("branch_secretary", "post", 403, {"decision": "approve"}),
            Case("leader", "post", 403, {"decision": "approve"}),
        ),
        args=lambda w: {"pk": w["findings_extension"].pk},
        writes=True,
    ),
    "campaigns:rectification_close_request": Spec(
        "authenticated",
        (
            ANON_POST,
            Case("outsider_secretary", "post", 404, CLOSE),
            Case("branch_member", "post", 403, CLOSE),
            Case("agency_staff", "post", 403, CLOSE),
        ),
        args=_working,
        writes=True,
    ),
    "campaigns:rectification_close_decide": Spec(
        "staff",
        (
            ANON_POST,
            Case("branch_secretary", "post", 403, CLOSE_DECIDE),
            Case("leader", "post", 403, CLOSE_DECIDE),
            Case("agency_staff", "post", 404, CLOSE_DECIDE),
        ),
        args=_b1,
        writes=True,
    ),
    "campaigns:rectification_overdue": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("leader"), Case("no_role_user"))
    ),
    "campaigns:rectification_ledger": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("outsider_secretary"), Case("leader"))
    ),
}

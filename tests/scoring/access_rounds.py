"""Access cases for the staff pages of a rating round: landing page, round, runs, ties, stages, facts."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign
from scoring.models import CompileRun, FactKind, RatingFact, RatingRound, RunStatus
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.access_checklist import ACCESS_YEAR
from tests.campaigns.factories import make_campaign
from tests.scoring.factories import make_round

POST_ANON = Case("anonymous", "post", 302)
FACT = {"org": "", "kind": "honour", "key": "访问控制", "description": "越权录入"}
ADVANCE = {"to_stage": "first_review", "version": 1}
TIE = {"level": 5, "scope": "工委", "org": [], "reason": "越权决定"}


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    admin = world["committee_admin"]
    campaign = Campaign.objects.filter(committee=tree.gw, year=ACCESS_YEAR).first() or make_campaign(
        tree.gw, year=ACCESS_YEAR
    )
    rnd = RatingRound.objects.filter(campaign=campaign, applies_to="branch").first() or make_round(
        campaign, admin
    )
    world["rounds_round"] = rnd
    world["rounds_run"] = CompileRun.objects.create(round=rnd, scheme=rnd.scheme, status=RunStatus.DONE)
    world["rounds_fact_b1"] = RatingFact.objects.create(
        campaign=campaign, org=tree.b1, kind=FactKind.HONOUR, key="访问控制测试", description="B1 的荣誉"
    )


def _round(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["rounds_round"].pk}


MATRIX: dict[str, Spec] = {
    "scoring:home": Spec("authenticated", (ANON_REDIRECT,)),
    "scoring:round_create": Spec(
        "staff",
        (
            POST_ANON,
            # 机关党委 staff are staff, but only 工委 staff start a round.
            Case("agency_staff", "post", 403, {"campaign": 1, "scheme": 1}),
            Case("branch_secretary", "post", 403, {"campaign": 1, "scheme": 1}),
        ),
        writes=True,
    ),
    "scoring:round": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary"),
            Case("branch_member"),
            Case("leader"),
            Case("no_role_user"),
        ),
        args=_round,
    ),
    "scoring:round_compile": Spec(
        "staff",
        (POST_ANON, Case("agency_staff", "post", 403), Case("outsider_secretary", "post", 403)),
        args=_round,
        writes=True,
    ),
    "scoring:run": Spec(
        "staff",
        (ANON_REDIRECT, Case("agency_staff"), Case("branch_secretary")),
        args=lambda w: {"pk": w["rounds_run"].pk},
    ),
    "scoring:round_ties": Spec(
        "staff",
        (ANON_REDIRECT, Case("agency_staff"), Case("agency_staff", "post", 403, TIE), Case("leader")),
        args=_round,
    ),
    "scoring:round_advance": Spec(
        "staff",
        (
            POST_ANON,
            Case("agency_staff", "post", 403, ADVANCE),
            Case("branch_secretary", "post", 403, ADVANCE),
        ),
        args=_round,
        writes=True,
    ),
    "scoring:round_adopt": Spec(
        "staff",
        (POST_ANON, Case("agency_staff", "post", 403, {"scheme": 1}), Case("leader", "post", 403)),
        args=_round,
        writes=True,
    ),
    "scoring:round_facts": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("agency_staff"),
            Case("agency_staff", "post", 403, FACT),
            Case("branch_secretary", "post", 403, FACT),
        ),
        args=_round,
    ),
    "scoring:fact_delete": Spec(
        "staff",
        (
            POST_ANON,
            # B1's fact lies outside 机关党委 A's subtree: it does not exist for its staff.
            Case("agency_staff", "post", 404),
            Case("branch_secretary", "post", 403),
            Case("leader", "post", 403),
        ),
        args=lambda w: {"pk": w["rounds_fact_b1"].pk},
        writes=True,
    ),
    "scoring:first_review_queue": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("leader"), Case("no_role_user"))
    ),
}

"""Access cases for one organisation's rating: its page, declaration, reviews, objections, changes,
gap list, history and 我的评星."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns.models import Campaign
from scoring.models import Objection, Rating, RatingRound
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.access_checklist import ACCESS_YEAR
from tests.campaigns.factories import make_campaign
from tests.scoring.factories import make_round

POST_ANON = Case("anonymous", "post", 302)
DECLARE = {"level": "5", "declaration": "全年任务全部完成"}
FIRST_REVIEW = {"version": 1, "agree": "1", "level": "5", "note": "同意"}
RECHECK = {"version": 1, "confirmed": "0", "level": "4", "note": "复核下调"}
OBJECTION = {"raised_by_name": "群众", "contact": "", "received_on": "2012-12-20", "content": "材料不实"}
RESOLVE = {"upheld": "1", "resolution": "属实", "level_after": "3"}
CHANGE = {
    "kind": "revoke",
    "to_level": "",
    "veto_key": "",
    "reason": "违纪",
    "decision_document": "文号",
    "decided_on": "2013-03-01",
}


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    campaign = Campaign.objects.filter(committee=tree.gw, year=ACCESS_YEAR).first() or make_campaign(
        tree.gw, year=ACCESS_YEAR
    )
    rnd = RatingRound.objects.filter(campaign=campaign, applies_to="branch").first() or make_round(
        campaign, world["committee_staff"]
    )
    world["ratings_round"] = rnd
    world["ratings_a1"], _ = Rating.objects.get_or_create(round=rnd, org=tree.a1)
    world["ratings_b1"], _ = Rating.objects.get_or_create(round=rnd, org=tree.b1)
    world["ratings_objection_b1"] = Objection.objects.create(
        rating=world["ratings_b1"], received_on=date(ACCESS_YEAR, 12, 20), content="访问控制异议"
    )


def _a1(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["ratings_a1"].pk}


def _b1(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["ratings_b1"].pk}


def _declare_a1(w: dict[str, Any]) -> dict[str, Any]:
    return {"round_pk": w["ratings_round"].pk, "org_pk": w["tree"].a1.pk}


MATRIX: dict[str, Spec] = {
    "scoring:rating": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "get", 404),
            Case("leader", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=_a1,
    ),
    "scoring:rating_gaps": Spec(
        "authenticated",
        (ANON_REDIRECT, Case("outsider_secretary", "get", 404), Case("no_role_user", "get", 404)),
        args=_a1,
    ),
    "scoring:rating_declare": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            POST_ANON,
            Case("outsider_secretary", "get", 404),
            Case("outsider_secretary", "post", 404, DECLARE),
            # In scope, but only the branch's 书记/副书记 declare.
            Case("branch_member", "get", 403),
            Case("branch_member", "post", 403, DECLARE),
            Case("agency_staff", "post", 403, DECLARE),
        ),
        args=_declare_a1,
    ),
    "scoring:rating_first_review": Spec(
        "staff",
        (
            POST_ANON,
            Case("outsider_secretary", "post", 403, FIRST_REVIEW),
            # Staff of 机关党委 A: B1's rating is outside the subtree.
            Case("agency_staff", "post", 404, FIRST_REVIEW),
        ),
        args=_b1,
        writes=True,
    ),
    "scoring:rating_recheck": Spec(
        "staff",
        (
            POST_ANON,
            Case("branch_secretary", "post", 403, RECHECK),
            # In scope, but 复核 belongs to 工委 staff.
            Case("agency_staff", "post", 403, RECHECK),
        ),
        args=_a1,
        writes=True,
    ),
    "scoring:objection_new": Spec(
        "staff",
        (
            POST_ANON,
            Case("branch_secretary", "post", 403, OBJECTION),
            Case("agency_staff", "post", 403, OBJECTION),
        ),
        args=_a1,
        writes=True,
    ),
    "scoring:objection_resolve": Spec(
        "staff",
        (
            POST_ANON,
            Case("outsider_secretary", "post", 403, RESOLVE),
            Case("agency_staff", "post", 404, RESOLVE),
        ),
        args=lambda w: {"pk": w["ratings_objection_b1"].pk},
        writes=True,
    ),
    "scoring:star_change": Spec(
        "staff",
        (
            POST_ANON,
            Case("branch_secretary", "post", 403, CHANGE),
            Case("agency_staff", "post", 403, CHANGE),
        ),
        args=_a1,
        writes=True,
    ),
    "scoring:org_history": Spec(
        "authenticated",
        (ANON_REDIRECT, Case("outsider_secretary", "get", 404), Case("no_role_user", "get", 404)),
        args=lambda w: {"org_pk": w["tree"].a1.pk},
    ),
    "scoring:my_rating": Spec("authenticated", (ANON_REDIRECT,)),
}

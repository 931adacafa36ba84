"""Access cases for the scheme pages: list, page, editor, export and import."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign
from scoring import presets
from scoring.models import RatingRound
from scoring.scheme_forms import dict_to_rows, post_data
from scoring.schemes import scheme_to_dict
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.access_checklist import ACCESS_YEAR
from tests.campaigns.factories import make_campaign
from tests.scoring.factories import make_round

POST_ANON = Case("anonymous", "post", 302)
# A complete, valid editor submission: refused requests must not save it.
EDITOR_POST = {
    **post_data(dict_to_rows(scheme_to_dict(presets.load("scheme_b_city_pingxing")))),
    "note": "越权",
}


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    campaign = Campaign.objects.filter(committee=tree.gw, year=ACCESS_YEAR).first() or make_campaign(
        tree.gw, year=ACCESS_YEAR
    )
    rnd = RatingRound.objects.filter(campaign=campaign, applies_to="branch").first() or make_round(
        campaign, world["committee_admin"]
    )
    world["schemes_campaign"] = campaign
    world["schemes_version"] = rnd.scheme


def _version(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["schemes_version"].pk}


def _campaign(w: dict[str, Any]) -> dict[str, Any]:
    return {"campaign_pk": w["schemes_campaign"].pk}


MATRIX: dict[str, Spec] = {
    "scoring:schemes": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("leader"), Case("no_role_user"))
    ),
    "scoring:scheme": Spec(
        "staff", (ANON_REDIRECT, Case("branch_member"), Case("outsider_secretary")), args=_version
    ),
    "scoring:scheme_export": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("leader")), args=_version
    ),
    "scoring:scheme_new": Spec(
        "staff",
        (
            ANON_REDIRECT,
            POST_ANON,
            # 机关党委 staff read schemes, but only 工委 staff write them.
            Case("agency_staff"),
            Case("agency_staff", "post", 403, EDITOR_POST),
            Case("branch_secretary", "post", 403, EDITOR_POST),
        ),
        args=_campaign,
    ),
    "scoring:scheme_edit": Spec(
        "staff",
        (
            ANON_REDIRECT,
            POST_ANON,
            Case("agency_staff"),
            Case("agency_staff", "post", 403, EDITOR_POST),
            Case("leader", "post", 403, EDITOR_POST),
        ),
        args=_version,
    ),
    "scoring:scheme_import": Spec(
        "staff",
        (ANON_REDIRECT, POST_ANON, Case("agency_staff"), Case("agency_staff", "post", 403)),
        args=_campaign,
    ),
}

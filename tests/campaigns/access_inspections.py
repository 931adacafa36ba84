"""Access cases for inspection rounds: list, plan, draw, complete and the per-organisation page."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns.models.supervision import (
    Inspection,
    InspectionCheckItem,
    InspectionStatus,
    InspectionTarget,
)
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.factories import make_campaign

# Its own year so it never clashes with other areas' campaigns in the shared world.
ACCESS_YEAR = 2013


def build_world(world: dict[str, Any]) -> None:
    """A sampled round over 机关党委 B (outside agency_staff's subtree) with B1 drawn."""
    tree = world["tree"]
    campaign = make_campaign(tree.gw, year=ACCESS_YEAR)
    inspection = Inspection.objects.create(
        campaign=campaign,
        title="访问控制督查",
        scope=tree.b,
        starts_on=date(ACCESS_YEAR, 6, 1),
        ends_on=date(ACCESS_YEAR, 6, 30),
        status=InspectionStatus.SAMPLED,
        seed=42,
    )
    InspectionCheckItem.objects.create(inspection=inspection, title="三会一课记录", sort_order=1)
    world["inspections_round_b"] = inspection
    world["inspections_target_b1"] = InspectionTarget.objects.create(inspection=inspection, org=tree.b1)


def _round(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["inspections_round_b"].pk}


def _target(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["inspections_target_b1"].pk}


ANON_POST = Case("anonymous", "post", 302)
SECRETARY_POST = Case("branch_secretary", "post", 403)
# Unit staff of A: a staff account, but round B lies outside its subtree.
FOREIGN_STAFF_POST = Case("agency_staff", "post", 404)


def _round_write() -> Spec:
    return Spec(
        "staff",
        (ANON_POST, SECRETARY_POST, Case("leader", "post", 403), FOREIGN_STAFF_POST),
        args=_round,
        writes=True,
    )


def _target_write() -> Spec:
    return Spec(
        "staff",
        (ANON_POST, SECRETARY_POST, Case("outsider_secretary", "post", 403), FOREIGN_STAFF_POST),
        args=_target,
        writes=True,
    )


MATRIX: dict[str, Spec] = {
    "campaigns:inspection_list": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary"),
            Case("leader"),
            Case("no_role_user"),
            Case("agency_staff", "get", 404, {"campaign": "987654"}),
        ),
    ),
    "campaigns:inspection_create": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("outsider_secretary", "post", 403), ANON_POST)
    ),
    "campaigns:inspection_detail": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary"),
            Case("outsider_secretary"),
            Case("agency_staff", "get", 404),
        ),
        args=_round,
    ),
    "campaigns:inspection_draw": _round_write(),
    "campaigns:inspection_complete": _round_write(),
    "campaigns:inspection_target": Spec(
        "staff",
        (ANON_REDIRECT, Case("outsider_secretary"), Case("leader"), Case("agency_staff", "get", 404)),
        args=_target,
    ),
    "campaigns:inspection_record": _target_write(),
    "campaigns:inspection_attach": _target_write(),
}

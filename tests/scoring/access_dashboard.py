"""Access cases for the dashboard, its trend fragment and the lists behind its numbers.

Every page is open to any signed-in user and scoped by ``?org=``: an organisation outside the
user's subtrees is 404, and a user without any role has no organisation to show (404).
"""

from __future__ import annotations

from typing import Any

from branches.models import OrgUnit
from campaigns.models import Campaign
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.access_checklist import ACCESS_YEAR
from tests.campaigns.factories import make_campaign


class OrgQuery(dict[str, Any]):
    """GET data naming an organisation of the shared tree by code; its id is looked up when the
    request is made (the matrix is declared before the tree exists)."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(org=code, **extra)

    def items(self):  # type: ignore[no-untyped-def, override]
        return [(k, OrgUnit.objects.get(code=v).pk if k == "org" else v) for k, v in super().items()]


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    if not Campaign.objects.filter(committee=tree.gw, year=ACCESS_YEAR).exists():
        make_campaign(tree.gw, year=ACCESS_YEAR)


def _cases(*extra: Case) -> tuple[Case, ...]:
    return (
        ANON_REDIRECT,
        # No role: no organisation to show.
        Case("no_role_user", "get", 404),
        # 机关党委 A's staff: B1 is outside the subtree.
        Case("agency_staff", "get", 404, OrgQuery("B1")),
        # A branch secretary: the parent 机关党委 is above their subtree.
        Case("branch_secretary", "get", 404, OrgQuery("A")),
        Case("outsider_secretary", "get", 404, OrgQuery("A1")),
        Case("leader", "get", 404, OrgQuery("D1")),
        *extra,
    )


MATRIX: dict[str, Spec] = {
    "scoring:dashboard": Spec("authenticated", _cases(Case("agency_staff", "get", 404, OrgQuery("GW")))),
    "scoring:dashboard_trend": Spec("authenticated", _cases()),
    "scoring:dashboard_entries": Spec(
        "authenticated", _cases(Case("agency_staff", "get", 404, OrgQuery("B1", state="overdue")))
    ),
    "scoring:dashboard_findings": Spec("authenticated", _cases()),
    "scoring:dashboard_letters": Spec("authenticated", _cases()),
    "scoring:dashboard_reports": Spec(
        "authenticated", _cases(Case("agency_staff", "get", 404, OrgQuery("B", status="missing")))
    ),
    "scoring:dashboard_ratings": Spec("authenticated", _cases()),
}

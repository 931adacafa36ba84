"""Access cases for 我的任务清单, the entry page, its fill-in writes and the duties pages."""

from __future__ import annotations

from typing import Any

from campaigns.models import EntryStatus
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section

# Its own year so it never clashes with other areas' campaigns in the shared world.
ACCESS_YEAR = 2012


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    campaign = make_campaign(tree.gw, year=ACCESS_YEAR)
    item = make_item(campaign, make_section(campaign, "访问控制", sort_order=99), code="ACC-CL-1")
    world["checklist_entry_a1"] = make_entry(campaign, tree.a1, item, status=EntryStatus.IN_PROGRESS)
    world["checklist_entry_b1"] = make_entry(campaign, tree.b1, item)
    world["checklist_a1"] = world["checklist_entry_a1"].checklist


def _entry(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["checklist_entry_a1"].pk}


def _checklist(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["checklist_a1"].pk}


ANON_POST = Case("anonymous", "post", 302)
FOREIGN_POST = Case("outsider_secretary", "post", 404, {"version": 1, "reason": "理由"})
LEADER_POST = Case("leader", "post", 404, {"version": 1, "reason": "理由"})


def _fill_write(data: dict[str, Any]) -> Spec:
    """A fill-in write on A1's entry: the unassigned 支委委员 and unit staff are refused, foreigners 404."""
    return Spec(
        "authenticated",
        (
            ANON_POST,
            FOREIGN_POST,
            LEADER_POST,
            Case("branch_member", "post", 403, data),
            Case("agency_staff", "post", 403, data),
        ),
        args=_entry,
        writes=True,
    )


MATRIX: dict[str, Spec] = {
    "campaigns:my_checklist": Spec(
        "authenticated", (ANON_REDIRECT, Case("branch_secretary", "get", 404, {"campaign": "987654"}))
    ),
    "campaigns:entry_detail": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "get", 404),
            Case("leader", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=_entry,
    ),
    "campaigns:entry_save": _fill_write({"version": 1, "progress_note": "篡改", "self_score": "1"}),
    "campaigns:entry_submit": _fill_write({"version": 1}),
    "campaigns:entry_request_na": _fill_write({"version": 1, "reason": "不适用"}),
    "campaigns:entry_withdraw": _fill_write({"version": 1}),
    "campaigns:entry_assign": Spec(
        "authenticated",
        (
            ANON_POST,
            FOREIGN_POST,
            Case("branch_member", "post", 403, {"version": 1, "due_date": "2012-12-31"}),
            Case("agency_staff", "post", 403, {"version": 1, "due_date": "2012-12-31"}),
        ),
        args=_entry,
        writes=True,
    ),
    "campaigns:checklist_detail": Spec(
        "authenticated",
        (ANON_REDIRECT, Case("outsider_secretary", "get", 404), Case("no_role_user", "get", 404)),
        args=_checklist,
    ),
    "campaigns:checklist_assign": Spec(
        "authenticated",
        (
            ANON_POST,
            Case("outsider_secretary", "post", 404, {"due_date": "2012-12-31"}),
            Case("branch_member", "post", 403, {"due_date": "2012-12-31"}),
            Case("agency_staff", "post", 403, {"due_date": "2012-12-31"}),
        ),
        args=_checklist,
        writes=True,
    ),
    "campaigns:letter_sign": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "get", 404),
            Case("outsider_secretary", "post", 404, {"confirm": "on"}),
            Case("branch_member", "post", 403, {"confirm": "on"}),
            Case("agency_staff", "post", 403, {"confirm": "on"}),
        ),
        args=_checklist,
    ),
    "campaigns:letters_unsigned": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("leader"), Case("no_role_user"))
    ),
}

"""Access cases for the review queue, approve/return, bulk approve and the admin's reopen."""

from __future__ import annotations

from typing import Any

from tests.access_matrix import ANON_REDIRECT, Case, Spec


def _entry(w: dict[str, Any]) -> dict[str, Any]:
    # The entry is built by tests/campaigns/access_checklist.py (A1's entry, 进行中).
    return {"pk": w["checklist_entry_a1"].pk}


REVIEW = {"version": 1, "score": "1", "reason": "退回", "comment": ""}

MATRIX: dict[str, Spec] = {
    "campaigns:review_queue": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("leader"), Case("no_role_user"))
    ),
    "campaigns:review_bulk_approve": Spec(
        "staff",
        (Case("anonymous", "post", 302), Case("branch_secretary", "post", 403), Case("leader", "post", 403)),
        writes=True,
    ),
    "campaigns:entry_approve": Spec(
        "staff",
        (
            Case("anonymous", "post", 302),
            Case("branch_secretary", "post", 403, REVIEW),
            Case("leader", "post", 403, REVIEW),
            # Unit staff in scope, but the entry is not waiting for their review stage.
            Case("agency_staff", "post", 403, REVIEW),
        ),
        args=_entry,
        writes=True,
    ),
    "campaigns:entry_return": Spec(
        "staff",
        (
            Case("anonymous", "post", 302),
            Case("branch_secretary", "post", 403, REVIEW),
            Case("agency_staff", "post", 403, REVIEW),
        ),
        args=_entry,
        writes=True,
    ),
    "campaigns:entry_reopen": Spec(
        "committee_admin",
        (
            Case("anonymous", "post", 302),
            Case("committee_staff", "post", 403, {"reason": "重开"}),
            Case("agency_staff", "post", 403, {"reason": "重开"}),
            Case("branch_secretary", "post", 403, {"reason": "重开"}),
        ),
        args=_entry,
        writes=True,
    ),
}

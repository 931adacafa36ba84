"""Access cases for recurring obligations (经常性工作): the 工委 calendar and each organisation's year."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns.models import Obligation, ObligationRecord
from campaigns.reminders.dispatch import policy_for
from tests.access_matrix import ANON_REDIRECT, Case, Spec

ANON_POST = Case("anonymous", "post", 302)
OBLIGATION_EDIT = {
    "name": "篡改",
    "applies_to": "branch",
    "frequency": "monthly",
    "due_month": "12",
    "min_full_members": "0",
    "sort_order": "0",
    "is_active": "on",
}
RECORD = {"period_key": "2017-Q1", "held_on": "2017-02-01"}


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    policy_for(tree.gw)
    ob = Obligation.objects.get(committee=tree.gw, name="支部党员大会")
    world["obligations_ob"] = ob
    world["obligations_record_b1"] = ObligationRecord.objects.create(
        obligation=ob, org=tree.b1, period_key="2017-Q1", held_on=date(2017, 2, 1)
    )


def _ob(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["obligations_ob"].pk}


def _b1(w: dict[str, Any]) -> dict[str, Any]:
    return {"org_pk": w["tree"].b1.pk}


def _record(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["obligations_record_b1"].pk}


MATRIX: dict[str, Spec] = {
    "campaigns:obligation_list": Spec(
        "staff",
        (ANON_REDIRECT, Case("branch_secretary"), Case("leader"), Case("no_role_user")),
    ),
    "campaigns:obligation_create": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff"),
            Case("agency_staff", "post", 403, OBLIGATION_EDIT),
            Case("branch_secretary", "post", 403, OBLIGATION_EDIT),
        ),
    ),
    "campaigns:obligation_edit": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff", "post", 403, OBLIGATION_EDIT),
            Case("branch_secretary"),
        ),
        args=_ob,
    ),
    "campaigns:obligations_org": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            # B1's year is not for A's people, nor for somebody without a role.
            Case("branch_secretary", "get", 404),
            Case("agency_staff", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=_b1,
    ),
    "campaigns:obligation_record": Spec(
        "authenticated",
        (
            ANON_POST,
            Case("branch_secretary", "post", 404, RECORD),
            Case("no_role_user", "post", 404, RECORD),
            # The 联系领导 of B sees B1 but is not one of its officers.
            Case("leader", "post", 403, RECORD),
        ),
        args=_b1,
        writes=True,
    ),
    "campaigns:obligation_record_delete": Spec(
        "authenticated",
        (ANON_POST, Case("branch_secretary", "post", 404), Case("leader", "post", 403)),
        args=_record,
        writes=True,
    ),
    "campaigns:my_obligations": Spec("authenticated", (ANON_REDIRECT, Case("branch_secretary", "post", 405))),
}

"""Access cases for the year-end assessment workbook exports: my exports, the request form, a job's
page, its progress fragment and its download. A job belongs to its requester alone: anyone else,
the 工委管理员 included, gets 404."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign
from scoring.models import ExportJob, ExportStatus
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.access_checklist import ACCESS_YEAR
from tests.campaigns.factories import make_campaign

POST_ANON = Case("anonymous", "post", 302)


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    campaign = Campaign.objects.filter(committee=tree.gw, year=ACCESS_YEAR).first() or make_campaign(
        tree.gw, year=ACCESS_YEAR
    )
    world["exports_job"] = ExportJob.objects.create(
        campaign=campaign,
        org=tree.a,
        requested_by=world["agency_staff"],
        status=ExportStatus.DONE,
        file="exports/access-matrix.xlsx",
        filename="考核汇总表.xlsx",
    )


def _job(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["exports_job"].pk}


_NOT_THE_REQUESTER = (
    ANON_REDIRECT,
    Case("committee_admin", "get", 404),
    Case("committee_staff", "get", 404),
    Case("outsider_secretary", "get", 404),
    Case("no_role_user", "get", 404),
)

MATRIX: dict[str, Spec] = {
    "scoring:export_list": Spec("authenticated", (ANON_REDIRECT, Case("anonymous", "post", 302))),
    "scoring:export_create": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            POST_ANON,
            # Only staff and 书记/副书记 export; 支委委员, 联系领导 and people without a role do not.
            Case("branch_member", "get", 403),
            Case("branch_member", "post", 403),
            Case("leader", "post", 403),
            Case("no_role_user", "get", 403),
            Case("committee_admin", "put", 405),
        ),
    ),
    "scoring:export_detail": Spec("authenticated", _NOT_THE_REQUESTER, args=_job),
    "scoring:export_status": Spec("authenticated", _NOT_THE_REQUESTER, args=_job),
    "scoring:export_download": Spec(
        "authenticated", (*_NOT_THE_REQUESTER, Case("agency_staff", "post", 405)), args=_job
    ),
}

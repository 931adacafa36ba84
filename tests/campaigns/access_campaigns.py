"""Access cases for the campaign pages, the task-list editing and its Excel import/export."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns.models import CampaignEvent, CampaignStatus
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.factories import make_campaign, make_item, make_section

# Years no other area's world uses (one campaign per 工委 and year).
PUBLISHED_YEAR = 2031
DRAFT_YEAR = 2032


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    published = make_campaign(tree.gw, year=PUBLISHED_YEAR)
    draft = make_campaign(tree.gw, year=DRAFT_YEAR, status=CampaignStatus.DRAFT)
    section = make_section(published)
    world["campaigns_published"] = published
    world["campaigns_draft"] = draft
    world["campaigns_item"] = make_item(
        published, section, code="ACC-GW", due_date=date(PUBLISHED_YEAR, 6, 30)
    )
    world["campaigns_b_local_item"] = make_item(
        published, section, code="ACC-B", owner=tree.b, due_date=date(PUBLISHED_YEAR, 6, 30)
    )
    world["campaigns_event"] = CampaignEvent.objects.create(
        campaign=published, title="推进会", starts_on=date(PUBLISHED_YEAR, 7, 10)
    )


def _published(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["campaigns_published"].pk}


def _draft(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["campaigns_draft"].pk}


def _unit_b(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["campaigns_published"].pk, "org_pk": w["tree"].b.pk}


ITEM_POST = {"section": "", "code": "X1", "title": "越权任务", "points": "5", "frequency": "once"}

MATRIX: dict[str, Spec] = {
    "campaigns:campaign_list": Spec("authenticated", (ANON_REDIRECT,)),
    "campaigns:campaign_create": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff"),
            Case("agency_staff", "post", 403, {"year": "2040", "name": "越权活动", "publicity_days": "5"}),
        ),
    ),
    "campaigns:campaign_detail": Spec(
        "authenticated",
        # Drafts are for staff (unit staff add 本级增加 items before publication); others get 404.
        (ANON_REDIRECT, Case("branch_secretary", "get", 404), Case("leader", "get", 404)),
        args=_draft,
    ),
    "campaigns:campaign_edit": Spec(
        "committee_admin",
        (ANON_REDIRECT, Case("committee_staff"), Case("agency_staff", "post", 403, {"name": "改名"})),
        args=_published,
    ),
    "campaigns:campaign_clone": Spec(
        "committee_admin",
        (
            Case("anonymous", "post", 302),
            Case("committee_staff", "post", 403, {"year": "2040"}),
            Case("committee_admin", "get", 405),
        ),
        args=_published,
        writes=True,
    ),
    "campaigns:campaign_archive": Spec(
        "committee_admin",
        (
            Case("committee_staff", "post", 403),
            Case("agency_staff", "post", 403),
            Case("committee_admin", "get", 405),
        ),
        args=_published,
        writes=True,
    ),
    "campaigns:milestone_create": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff"),
            Case("leader", "post", 403, {"kind": "other", "title": "越权", "starts_on": "2031-08-01"}),
        ),
        args=_published,
    ),
    "campaigns:milestone_delete": Spec(
        "committee_admin",
        (Case("committee_staff", "post", 403), Case("committee_admin", "get", 405)),
        args=lambda w: {"pk": w["campaigns_event"].pk},
        writes=True,
    ),
    "campaigns:section_create": Spec(
        "committee_admin",
        (ANON_REDIRECT, Case("agency_staff"), Case("committee_staff", "post", 403, {"name": "越权类别"})),
        args=_published,
    ),
    "campaigns:section_edit": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("agency_staff"),
            Case("committee_staff", "post", 403, {"name": "改名", "sort_order": "1"}),
        ),
        args=lambda w: {"pk": w["campaigns_item"].section_id},
    ),
    "campaigns:item_create": Spec(
        "committee_admin",
        (ANON_REDIRECT, Case("agency_staff"), Case("committee_staff", "post", 403, ITEM_POST)),
        args=_published,
    ),
    "campaigns:item_edit": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary"),
            Case("agency_staff", "get", 404),
            Case("agency_staff", "post", 404, ITEM_POST),
            Case("committee_staff", "post", 403, ITEM_POST),
        ),
        args=lambda w: {"pk": w["campaigns_b_local_item"].pk},
    ),
    "campaigns:item_deactivate": Spec(
        "staff",
        (
            Case("agency_staff", "post", 403),
            Case("branch_secretary", "post", 403),
            Case("committee_admin", "get", 405),
        ),
        args=lambda w: {"pk": w["campaigns_item"].pk},
        writes=True,
    ),
    "campaigns:local_items": Spec(
        "staff",
        (ANON_REDIRECT, Case("agency_staff", "get", 404), Case("committee_staff"), Case("branch_secretary")),
        args=_unit_b,
    ),
    "campaigns:local_item_create": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("agency_staff", "post", 404, ITEM_POST),
            Case("committee_staff", "post", 403, ITEM_POST),
        ),
        args=_unit_b,
    ),
    "campaigns:task_list_import": Spec(
        "committee_admin",
        (ANON_REDIRECT, Case("committee_staff"), Case("agency_staff", "post", 403)),
        args=_published,
    ),
    "campaigns:task_list_import_errors": Spec(
        "committee_admin",
        (ANON_REDIRECT, Case("committee_staff"), Case("committee_admin", "get", 404)),
        args=lambda w: {"pk": w["campaigns_published"].pk, "key": "no-such-result"},
    ),
    "campaigns:task_list_template": Spec("committee_admin", (ANON_REDIRECT, Case("committee_staff"))),
    "campaigns:task_list_export": Spec(
        "staff",
        (ANON_REDIRECT, Case("branch_secretary"), Case("leader")),
        args=_draft,
    ),
}

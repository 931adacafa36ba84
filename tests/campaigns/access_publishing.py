"""Access cases for publishing the task list (campaigns:campaign_publish, campaigns:publish_run)."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign, CampaignStatus, PublishRun, PublishRunStatus
from tests.access_matrix import ANON_REDIRECT, Case, Spec

# A year no other area's world uses, so the campaign is ours (one campaign per 工委 and year).
WORLD_YEAR = 2019


def build_world(world: dict[str, Any]) -> None:
    campaign, _ = Campaign.objects.get_or_create(
        committee=world["tree"].gw,
        year=WORLD_YEAR,
        defaults={"name": f"{WORLD_YEAR}年度模范机关创建", "status": CampaignStatus.DRAFT},
    )
    world["publishing_campaign"] = campaign
    world["publishing_run"] = PublishRun.objects.create(
        campaign=campaign, requested_by=world["committee_admin"], status=PublishRunStatus.DONE
    )


MATRIX: dict[str, Spec] = {
    "campaigns:campaign_publish": Spec(
        "committee_admin",
        (
            Case("anonymous", "post", 302),
            Case("committee_staff", "post", 403),
            Case("agency_staff", "post", 403),
            Case("branch_secretary", "post", 403),
            Case("committee_admin", "get", 405),
        ),
        args=lambda w: {"pk": w["publishing_campaign"].pk},
        writes=True,
    ),
    "campaigns:publish_run": Spec(
        "committee_admin",
        (ANON_REDIRECT, Case("committee_staff"), Case("agency_staff"), Case("leader")),
        args=lambda w: {"pk": w["publishing_run"].pk},
    ),
}

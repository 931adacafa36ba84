"""Rating test data: a small bands scheme, a round on the shared tree and scored entries."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from branches.models import OrgUnit, User
from campaigns.models import Campaign, EntryStatus
from scoring.models import RatingRound, SchemeVersion
from scoring.services import round_create, scheme_save
from tests.campaigns.factories import make_entry, make_item

BASE_SCHEME: dict[str, Any] = {
    "version": 1,
    "name": "测试评星方案",
    "mode": "bands",
    "applies_to": "branch",
    "publicity_days": 5,
    "levels": {"rated": [3, 4, 5], "below_lowest": "unrated"},
    "bands": [
        {"level": 5, "min": 90, "label": "五星级"},
        {"level": 4, "min": 80, "label": "四星级"},
        {"level": 3, "min": 60, "label": "三星级"},
    ],
    "vetoes": [
        {"key": "违纪违法", "description": "班子成员发生严重违纪违法问题", "effect": "no_rating"},
        {"key": "意识形态", "description": "发生意识形态领域重大问题", "effect": "cap_at_level", "level": 3},
    ],
    "quotas": {"5": {"max": "0.25"}},
}


def scheme_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_SCHEME)
    data.update(changes)
    return data


def make_scheme(campaign: Campaign, actor: User, **changes: Any) -> SchemeVersion:
    return scheme_save(campaign=campaign, data=scheme_data(**changes), actor=actor)


def make_round(campaign: Campaign, actor: User, **changes: Any) -> RatingRound:
    return round_create(campaign=campaign, scheme=make_scheme(campaign, actor, **changes), actor=actor)


def score(campaign: Campaign, org: OrgUnit, points: str | Decimal, *, item_points: str = "100") -> None:
    """One approved entry worth ``item_points`` with 审核得分 ``points``."""
    item = make_item(campaign, points=item_points)
    make_entry(
        campaign,
        org,
        item,
        status=EntryStatus.APPROVED,
        self_score=Decimal(points),
        first_review_score=Decimal(points),
        review_score=Decimal(points),
    )

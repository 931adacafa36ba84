"""Pure predicates for the rating workflow (达标创星), shared by views, templates and services."""

from __future__ import annotations

from branches.models import OrgUnit, User
from campaigns.permissions import FILL_ROLES, is_committee_staff, is_officer_of, is_parent_reviewer_for


def can_manage_rating(user: User) -> bool:
    """Schemes, facts, compiles, ties, stages, 复核, objections, naming and 摘星/降星: 工委 staff."""
    return is_committee_staff(user)


def can_declare(user: User, org: OrgUnit) -> bool:
    """自评申报: the secretary or deputy of the organisation."""
    return is_officer_of(user, org, FILL_ROLES)


def can_first_review(user: User, org: OrgUnit) -> bool:
    """初审: staff of a unit above the organisation (or 工委 staff)."""
    return is_parent_reviewer_for(user, org)

"""Pure predicates over a user and an object, used by views and templates alike."""

from __future__ import annotations

from branches.models import STAFF_ROLES, OrgUnit, Role, User
from branches.selectors import grants_of


def _covers(user: User, org: OrgUnit, roles: tuple[str, ...] | None = None) -> bool:
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return any(
        org.path.startswith(g.org_path) and (roles is None or g.role in roles) for g in grants_of(user)
    )


def has_any_role(user: User, roles: tuple[str, ...]) -> bool:
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return any(g.role in roles for g in grants_of(user))


def is_committee_admin(user: User) -> bool:
    return has_any_role(user, (Role.COMMITTEE_ADMIN,))


def is_staff_anywhere(user: User) -> bool:
    return has_any_role(user, STAFF_ROLES)


def can_view_org(user: User, org: OrgUnit) -> bool:
    return _covers(user, org)


def can_staff_org(user: User, org: OrgUnit) -> bool:
    """Review, inspect, score and export for this organisation."""
    return _covers(user, org, STAFF_ROLES)


def can_fill_in_for(user: User, org: OrgUnit) -> bool:
    """Secretaries and deputies fill in and submit for their own organisation."""
    if getattr(user, "is_superuser", False):
        return True
    return any(
        g.org_id == org.pk and g.role in (Role.SECRETARY, Role.DEPUTY_SECRETARY) for g in grants_of(user)
    )


def can_manage_people(user: User) -> bool:
    return is_committee_admin(user)


def can_import_orgs(user: User) -> bool:
    return is_committee_admin(user)


def can_view_audit(user: User) -> bool:
    return is_committee_admin(user)

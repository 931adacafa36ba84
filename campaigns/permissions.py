"""Pure predicates for the campaign workflow, used by views, templates and services alike."""

from __future__ import annotations

from branches.models import STAFF_ROLES, OrgKind, OrgUnit, Role, User
from branches.permissions import can_view_org, is_committee_admin
from branches.selectors import grants_of
from campaigns.models import Campaign, Checklist, ChecklistEntry, ReviewStage

COMMITTEE_ROLES = (Role.COMMITTEE_ADMIN, Role.COMMITTEE_STAFF)
FILL_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY)
ASSIGNED_ROLES = (Role.COMMITTEE_MEMBER, Role.LIAISON_OFFICER)


def _superuser(user: User) -> bool:
    return bool(user.is_superuser and user.is_active)


def is_committee_staff(user: User) -> bool:
    return _superuser(user) or any(g.role in COMMITTEE_ROLES for g in grants_of(user))


def can_manage_campaign(user: User, campaign: Campaign | None = None) -> bool:
    """Create, edit, import, publish and archive campaigns: the 工委管理员."""
    return is_committee_admin(user)


def can_add_local_items(user: User, org: OrgUnit) -> bool:
    """本级增加: staff of a 机关党委/党总支 (or the 工委 admin) add items for that unit's subtree."""
    if org.kind not in (OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH):
        return False
    return is_committee_admin(user) or any(
        g.role == Role.UNIT_STAFF and org.path.startswith(g.org_path) for g in grants_of(user)
    )


def can_view_entry(user: User, entry: ChecklistEntry) -> bool:
    return can_view_org(user, entry.org)


def is_officer_of(user: User, org: OrgUnit, roles: tuple[str, ...] = FILL_ROLES) -> bool:
    return _superuser(user) or any(g.org_id == org.pk and g.role in roles for g in grants_of(user))


def can_fill_entry(user: User, entry: ChecklistEntry) -> bool:
    """Secretaries/deputies fill every entry of their organisation; 支委委员/联络员 only those assigned."""
    if is_officer_of(user, entry.org):
        return True
    return entry.responsible_id == user.pk and is_officer_of(user, entry.org, ASSIGNED_ROLES)


def can_assign_duties(user: User, checklist: Checklist) -> bool:
    return is_officer_of(user, checklist.org)


def can_sign_letter(user: User, checklist: Checklist) -> bool:
    """Only the secretary signs the year's 目标责任书."""
    return is_officer_of(user, checklist.org, (Role.SECRETARY,))


def is_parent_reviewer_for(user: User, org: OrgUnit) -> bool:
    """Staff of a unit strictly above `org` (or 工委 staff) do the parent review (初审)."""
    if is_committee_staff(user):
        return True
    return any(
        g.role in STAFF_ROLES and org.path.startswith(g.org_path) and org.path != g.org_path
        for g in grants_of(user)
    )


def can_review_entry(user: User, entry: ChecklistEntry) -> bool:
    """May act on the entry's current review stage."""
    if entry.review_stage == ReviewStage.PARENT:
        return is_parent_reviewer_for(user, entry.org)
    if entry.review_stage == ReviewStage.COMMITTEE:
        return is_committee_staff(user)
    return False


def can_review_anything(user: User) -> bool:
    return is_committee_staff(user) or any(g.role in STAFF_ROLES for g in grants_of(user))


def can_reopen_entry(user: User, entry: ChecklistEntry) -> bool:
    return is_committee_admin(user)


# --- 年中督责 ---------------------------------------------------------------------------------


def can_inspect(user: User, org: OrgUnit) -> bool:
    """Staff whose subtree covers `org` plan inspections there and record results."""
    return _superuser(user) or any(
        g.role in STAFF_ROLES and org.path.startswith(g.org_path) for g in grants_of(user)
    )


def can_issue_for(user: User, org: OrgUnit) -> bool:
    """The issuing side of a finding: staff strictly above the organisation, or 工委 staff.

    Only they approve plans and extensions and close a rectification out (销号); an
    organisation never closes its own finding.
    """
    return is_parent_reviewer_for(user, org)


def can_rectify(user: User, org: OrgUnit) -> bool:
    """The organisation's 书记/副书记 write the plan, report progress and ask for close-out."""
    return is_officer_of(user, org)


def can_publish_notice(user: User, scope: OrgUnit) -> bool:
    return can_inspect(user, scope)

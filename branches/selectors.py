"""Reads that decide visibility. Every view and export in every app scopes through these.

The rule (domain.md §3): a role granted at an organisation covers that organisation
and its whole subtree; outside every granted subtree nothing exists for the user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from branches.models import (
    STAFF_ROLES,
    Member,
    OrgKind,
    OrgUnit,
    Role,
    RoleGrant,
    User,
    subtree_q,
)


@dataclass(frozen=True)
class Grant:
    org_id: int
    org_path: str
    org_kind: str
    role: str


def grants_of(user: User) -> list[Grant]:
    """The user's grants, loaded once per request object (the cache lives on the user)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_grants_cache", None)
    if cached is None:
        cached = [
            Grant(org_id=g["org_id"], org_path=g["org__path"], org_kind=g["org__kind"], role=g["role"])
            for g in RoleGrant.objects.filter(user=user, org__is_active=True).values(
                "org_id", "org__path", "org__kind", "role"
            )
        ]
        user._grants_cache = cached  # type: ignore[attr-defined]
    return cached


def forget_grants(user: User) -> None:
    if hasattr(user, "_grants_cache"):
        del user._grants_cache


def _roots(paths: Iterable[str]) -> list[str]:
    """Collapse nested subtrees: keep only paths not inside another kept path."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept


def scope_roots(user: User, roles: Iterable[str] | None = None) -> list[str] | None:
    """Paths of the subtrees the user covers with any of `roles`; None means everything."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return None
    wanted = set(roles) if roles is not None else None
    return _roots(g.org_path for g in grants_of(user) if wanted is None or g.role in wanted)


def scope_q(user: User, field: str = "path", roles: Iterable[str] | None = None) -> Q:
    """A Q restricting a path column (e.g. "org__path") to the user's subtrees."""
    roots = scope_roots(user, roles)
    if roots is None:
        return Q()
    if not roots:
        return Q(pk__in=[])
    q = Q()
    for root in roots:
        q |= subtree_q(root, field)
    return q


def organisations_visible_to(user: User) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(scope_q(user))


def organisations_staffed_by(user: User) -> QuerySet[OrgUnit]:
    """Organisations where the user acts as staff (review, inspect, score, export)."""
    return OrgUnit.objects.filter(scope_q(user, roles=STAFF_ROLES))


def descendants_of(org: OrgUnit, *, include_self: bool = True) -> QuerySet[OrgUnit]:
    qs = OrgUnit.objects.filter(subtree_q(org.path))
    return qs if include_self else qs.exclude(pk=org.pk)


def ancestors_of(org: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(pk__in=org.ancestor_ids).order_by("depth")


def children_visible_to(user: User, org: OrgUnit) -> QuerySet[OrgUnit]:
    return organisations_visible_to(user).filter(parent=org).order_by("sort_order", "code")


def top_organisations_for(user: User) -> QuerySet[OrgUnit]:
    """The roots of the user's visible forest, for the tree page."""
    roots = scope_roots(user)
    if roots is None:
        return OrgUnit.objects.filter(parent__isnull=True).order_by("sort_order", "code")
    return OrgUnit.objects.filter(path__in=roots).order_by("depth", "sort_order", "code")


def members_visible_to(user: User) -> QuerySet[Member]:
    return Member.objects.filter(scope_q(user, field="org__path"))


def member_counts_by_org(org_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Member.objects.filter(org_id__in=list(org_ids), is_active=True)
        .values("org_id")
        .annotate(n=Count("id"))
        .values_list("org_id", "n")
    )
    return dict(rows)


def subtree_member_counts(orgs: list[OrgUnit]) -> dict[int, int]:
    """Active members in each given organisation's whole subtree, in one query.

    Counts are grouped per organisation in SQL, then each row is credited to
    every listed organisation whose path is a prefix of the row's path.
    """
    if not orgs:
        return {}
    q = Q()
    for org in orgs:
        q |= subtree_q(org.path, "org__path")
    rows = Member.objects.filter(q, is_active=True).values("org__path").annotate(n=Count("id"))
    by_path = {org.path: org.pk for org in orgs}
    totals = dict.fromkeys(by_path.values(), 0)
    for row in rows:
        path = row["org__path"]
        # Walk up the row's own path: O(depth) per row instead of O(len(orgs)).
        parts = path.strip("/").split("/")
        for i in range(len(parts), 0, -1):
            prefix = "/" + "/".join(parts[:i]) + "/"
            org_id = by_path.get(prefix)
            if org_id is not None:
                totals[org_id] += row["n"]
    return totals


def child_counts(org_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        OrgUnit.objects.filter(parent_id__in=list(org_ids))
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
    )
    return dict(rows)


def officers_of(org: OrgUnit) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(org=org).select_related("user").order_by("role", "user__username")


def grants_visible_to(user: User) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(scope_q(user, field="org__path")).select_related("user", "org")


def users_manageable_by(user: User) -> QuerySet[User]:
    """Accounts a people-administrator may see: all accounts for a 工委管理员."""
    from branches.permissions import is_committee_admin

    if is_committee_admin(user):
        return User.objects.all()
    return User.objects.none()


def search_organisations(user: User, text: str) -> QuerySet[OrgUnit]:
    text = text.strip()
    qs = organisations_visible_to(user)
    if not text:
        return qs.none()
    return qs.filter(Q(name__icontains=text) | Q(code__iexact=text) | Q(code__istartswith=text))


def organisation_list(
    user: User, *, kind: str = "", text: str = "", under: OrgUnit | None = None
) -> QuerySet[OrgUnit]:
    """The flat, filterable organisation list (select_related so the page is O(1) queries)."""
    qs = organisations_visible_to(user).select_related("parent")
    if under is not None:
        qs = qs.filter(subtree_q(under.path))
    if kind in OrgKind.values:
        qs = qs.filter(kind=kind)
    if text.strip():
        qs = qs.filter(Q(name__icontains=text.strip()) | Q(code__istartswith=text.strip()))
    return qs.order_by("path")


def committee_root() -> OrgUnit | None:
    return OrgUnit.objects.filter(kind=OrgKind.COMMITTEE, parent__isnull=True).first()


def roles_of_user_at(user: User, org: OrgUnit) -> list[str]:
    """Roles of the user that cover `org` (granted at it or at an ancestor)."""
    return sorted({g.role for g in grants_of(user) if org.path.startswith(g.org_path)})


__all__ = [
    "Grant",
    "Role",
    "ancestors_of",
    "children_visible_to",
    "descendants_of",
    "grants_of",
    "members_visible_to",
    "organisations_staffed_by",
    "organisations_visible_to",
    "scope_q",
    "scope_roots",
]

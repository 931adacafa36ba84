"""The all-or-nothing write of a validated plan.

Everything is written with bulk queries (no per-row queries) inside the caller's
transaction, so a failure anywhere undoes the whole import.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from django.db.models import CharField, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.http import HttpRequest
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from branches.audit import client_ip
from branches.imports.validation import _Plan
from branches.models import PATH_SEPARATOR, AuditAction, AuditEvent, Member, OrgUnit, Role, RoleGrant, User
from branches.services import org_unit_move

_BATCH = 500
# --- 5. writing -----------------------------------------------------------------------------


def _apply(plan: _Plan, *, actor: User | None, request: HttpRequest | None) -> None:
    """Write the plan; the caller holds the transaction, so any failure undoes everything."""
    now = timezone.now()
    User.objects.bulk_create(plan.new_users, batch_size=_BATCH)

    _write_organisations(plan, now=now)

    grants = [
        RoleGrant(user=plan.users[key], org=plan.orgs[code], role=Role.SECRETARY, granted_by=actor)
        for key, code in plan.grants
    ]
    if grants:
        bulk_create_with_history(grants, RoleGrant, batch_size=_BATCH, default_user=actor)

    for member, code, key in plan.new_members:
        member.org = plan.orgs[code]
        member.user = plan.users[key] if key else None
    Member.objects.bulk_create([m for m, _, _ in plan.new_members], batch_size=_BATCH)
    for member, code, key in plan.updated_members:
        member.org = plan.orgs[code]
        if key:
            member.user = plan.users[key]
        member.updated_at = now
    if plan.updated_members:
        Member.objects.bulk_update(
            [m for m, _, _ in plan.updated_members],
            ["org", "category", "joined_on", "user", "updated_at"],
            batch_size=_BATCH,
        )
    _audit_people(plan.new_users, grants, actor=actor, request=request)


def _write_organisations(plan: _Plan, *, now: datetime) -> None:
    """Write organisation changes level by level, top-down: every parent is final before its children.

    New rows are bulk-inserted with a placeholder path and then get "parent path + own
    id" from one UPDATE per level, computed by the database (computing paths in Python
    would need every parent row loaded, and a parent may even be moved during this very
    import). Moved rows reuse services.org_unit_move, which rewrites the whole subtree
    in one UPDATE.
    """
    # Plain field changes first: a move checks the (possibly new) kinds.
    for org in plan.updated_orgs:
        org.updated_at = now
    if plan.updated_orgs:
        OrgUnit.objects.bulk_update(
            plan.updated_orgs, sorted(plan.update_fields | {"updated_at"}), batch_size=_BATCH
        )
    new_by_depth: dict[int, list[tuple[OrgUnit, str]]] = defaultdict(list)
    moves_by_depth: dict[int, list[tuple[OrgUnit, str]]] = defaultdict(list)
    for depth, org, parent_code in plan.new_orgs:
        new_by_depth[depth].append((org, parent_code))
    for depth, org, parent_code in plan.moves:
        moves_by_depth[depth].append((org, parent_code))
    existing = [org for org in plan.orgs.values() if org.pk is not None]
    token = uuid.uuid4().hex
    parent_row = OrgUnit.objects.filter(pk=OuterRef("parent_id"))
    for depth in sorted(new_by_depth.keys() | moves_by_depth.keys()):
        level = new_by_depth[depth]
        if level:
            # "~" sorts after "/", so placeholders lie outside every real subtree range.
            prefix = f"~tmp-{token}-{depth}-"
            for n, (org, parent_code) in enumerate(level):
                org.parent_id = plan.orgs[parent_code].pk if parent_code else None
                org.path = f"{prefix}{n}"
            OrgUnit.objects.bulk_create([org for org, _ in level], batch_size=_BATCH)
            # LIKE rather than a range: a range over punctuation depends on the collation.
            OrgUnit.objects.filter(path__startswith=prefix).update(
                path=Concat(
                    Coalesce(Subquery(parent_row.values("path")), Value(PATH_SEPARATOR)),
                    Cast("pk", output_field=CharField()),
                    Value(PATH_SEPARATOR),
                ),
                depth=Coalesce(Subquery(parent_row.values("depth"), output_field=IntegerField()) + 1, 0),
            )
            for org, parent_code in level:  # the same values in memory, for the levels below
                parent = plan.orgs[parent_code] if parent_code else None
                org.path = f"{parent.path if parent else PATH_SEPARATOR}{org.pk}{PATH_SEPARATOR}"
                org.depth = parent.depth + 1 if parent else 0
        for org, parent_code in moves_by_depth[depth]:
            old_path, old_depth = org.path, org.depth
            org_unit_move(org=org, new_parent=plan.orgs[parent_code])
            # Keep the in-memory rows of the moved subtree in step with the database.
            for other in existing:
                if other is not org and other.path.startswith(old_path):
                    other.path = org.path + other.path[len(old_path) :]
                    other.depth += org.depth - old_depth


def _audit_people(
    users: list[User], grants: list[RoleGrant], *, actor: User | None, request: HttpRequest | None
) -> None:
    """The same USER_CREATED / ROLE_GRANTED events the one-at-a-time services write, in one insert."""
    common = {
        "actor": actor,
        "actor_username": actor.username if actor is not None else "",
        "ip_address": client_ip(request),
    }
    events = [
        AuditEvent(
            action=AuditAction.USER_CREATED,
            target_type="User",
            target_id=str(user.pk),
            detail={"username": user.username, "full_name": user.full_name, "source": "import"},
            **common,
        )
        for user in users
    ]
    events += [
        AuditEvent(
            action=AuditAction.ROLE_GRANTED,
            target_type="RoleGrant",
            target_id=str(grant.pk),
            detail={
                "user": grant.user.username,
                "org": grant.org.code,
                "role": grant.role,
                "source": "import",
            },
            **common,
        )
        for grant in grants
    ]
    AuditEvent.objects.bulk_create(events, batch_size=_BATCH)

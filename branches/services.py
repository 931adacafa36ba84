"""Every write to organisations, people and roles. Keyword-only, typed, atomic."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.http import HttpRequest
from django.utils import timezone

from branches.audit import audit_record
from branches.models import (
    ALLOWED_PARENT_KINDS,
    PATH_SEPARATOR,
    ROLE_ALLOWED_KINDS,
    AuditAction,
    Member,
    OrgKind,
    OrgUnit,
    Role,
    RoleGrant,
    User,
    subtree_q,
)
from branches.selectors import forget_grants

ERR_PARENT_KIND = "{kind}的上级不能是{parent}。"
ERR_ROOT_EXISTS = "系统中已有工委“{name}”，一个系统只能有一个工委。"
ERR_CYCLE = "不能把组织移动到它自己或它的下级组织之下。"
ERR_ROLE_KIND = "“{role}”只能授予在{kinds}。"
ERR_GRANT_EXISTS = "该用户在此组织已有这个角色。"
ERR_USERNAME_TAKEN = "账号“{username}”已被使用。"


def _temp_path() -> str:
    return f"~tmp-{uuid.uuid4().hex}"


def _check_parent(kind: str, parent: OrgUnit | None) -> None:
    if parent is None:
        if kind != OrgKind.COMMITTEE:
            raise ValidationError("除工委外，每个组织都必须有上级组织。")
        existing = OrgUnit.objects.filter(kind=OrgKind.COMMITTEE).first()
        if existing is not None:
            raise ValidationError(ERR_ROOT_EXISTS.format(name=existing.name))
        return
    if parent.kind not in ALLOWED_PARENT_KINDS[kind]:
        raise ValidationError(
            ERR_PARENT_KIND.format(kind=OrgKind(kind).label, parent=OrgKind(parent.kind).label)
        )


@transaction.atomic
def org_unit_create(
    *,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None,
    sort_order: int = 0,
    agency_name: str = "",
    phone: str = "",
    established_on: date | None = None,
    term_ends_on: date | None = None,
    is_active: bool = True,
) -> OrgUnit:
    """Create an organisation under `parent`, keeping the tree path consistent."""
    _check_parent(kind, parent)
    org = OrgUnit.objects.create(
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        path=_temp_path(),
        depth=0 if parent is None else parent.depth + 1,
        sort_order=sort_order,
        agency_name=agency_name,
        phone=phone,
        established_on=established_on,
        term_ends_on=term_ends_on,
        is_active=is_active,
    )
    org.path = (parent.path if parent else PATH_SEPARATOR) + f"{org.pk}{PATH_SEPARATOR}"
    org.save(update_fields=["path"])
    return org


@transaction.atomic
def org_unit_move(*, org: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Move an organisation with its whole subtree; paths and depths are rewritten in one UPDATE."""
    if new_parent.path.startswith(org.path):
        raise ValidationError(ERR_CYCLE)
    _check_parent(org.kind, new_parent)
    old_path = org.path
    new_path = f"{new_parent.path}{org.pk}{PATH_SEPARATOR}"
    depth_shift = new_parent.depth + 1 - org.depth
    OrgUnit.objects.filter(subtree_q(old_path)).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_shift,
        updated_at=timezone.now(),  # a move is a change of the tree (the dashboard rollups' fingerprint)
    )
    OrgUnit.objects.filter(pk=org.pk).update(parent=new_parent)
    org.refresh_from_db()
    return org


ORG_UPDATABLE_FIELDS = (
    "name",
    "sort_order",
    "agency_name",
    "phone",
    "established_on",
    "term_ends_on",
    "is_active",
)


@transaction.atomic
def org_unit_update(*, org: OrgUnit, actor: User | None = None, **fields: Any) -> OrgUnit:
    unknown = set(fields) - set(ORG_UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    changed = [k for k, v in fields.items() if getattr(org, k) != v]
    for k in changed:
        setattr(org, k, fields[k])
    if changed:
        org.save(update_fields=[*changed, "updated_at"])
    return org


# --- people -------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    username: str,
    full_name: str,
    phone: str = "",
    email: str = "",
    password: str | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> User:
    """Create an account. Without a password the account cannot log in until one is set."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(ERR_USERNAME_TAKEN.format(username=username))
    user = User(username=username, full_name=full_name, phone=phone, email=email)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(
        action=AuditAction.USER_CREATED,
        actor=actor,
        request=request,
        target=user,
        detail={"username": username, "full_name": full_name},
    )
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    full_name: str,
    phone: str,
    email: str,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> User:
    user.full_name, user.phone, user.email = full_name, phone, email
    user.save(update_fields=["full_name", "phone", "email"])
    audit_record(
        action=AuditAction.USER_UPDATED,
        actor=actor,
        request=request,
        target=user,
        detail={"full_name": full_name},
    )
    return user


def _end_sessions_of(user: User) -> int:
    """Delete every stored session that belongs to `user` (R7: deactivation ends sessions)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_set_active(
    *, user: User, active: bool, actor: User | None = None, request: HttpRequest | None = None
) -> User:
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    ended = 0 if active else _end_sessions_of(user)
    audit_record(
        action=AuditAction.USER_ACTIVATED if active else AuditAction.USER_DEACTIVATED,
        actor=actor,
        request=request,
        target=user,
        detail={"sessions_ended": ended},
    )
    return user


def generate_password() -> str:
    # Readable one-time password: no 0/O/1/l confusion.
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


@transaction.atomic
def user_reset_password(*, user: User, actor: User | None = None, request: HttpRequest | None = None) -> str:
    """Set a new random password and return it once; existing sessions of the user end."""
    password = generate_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    _end_sessions_of(user)
    audit_record(action=AuditAction.PASSWORD_RESET, actor=actor, request=request, target=user)
    return password


@transaction.atomic
def role_grant(
    *, user: User, org: OrgUnit, role: str, actor: User | None = None, request: HttpRequest | None = None
) -> RoleGrant:
    """Grant `role` at `org` (covering its subtree), if the role may be held at that kind."""
    allowed = ROLE_ALLOWED_KINDS[role]
    if org.kind not in allowed:
        kinds = "、".join(OrgKind(k).label for k in allowed)
        raise ValidationError(ERR_ROLE_KIND.format(role=Role(role).label, kinds=kinds))
    if RoleGrant.objects.filter(user=user, org=org, role=role).exists():
        raise ValidationError(ERR_GRANT_EXISTS)
    grant = RoleGrant.objects.create(user=user, org=org, role=role, granted_by=actor)
    forget_grants(user)
    audit_record(
        action=AuditAction.ROLE_GRANTED,
        actor=actor,
        request=request,
        target=grant,
        detail={"user": user.username, "org": org.code, "role": role},
    )
    return grant


@transaction.atomic
def role_revoke(*, grant: RoleGrant, actor: User | None = None, request: HttpRequest | None = None) -> None:
    detail = {"user": grant.user.username, "org": grant.org.code, "role": grant.role}
    user = grant.user
    grant.delete()
    forget_grants(user)
    audit_record(action=AuditAction.ROLE_REVOKED, actor=actor, request=request, target=user, detail=detail)


@transaction.atomic
def member_create(
    *, org: OrgUnit, name: str, category: str, joined_on: date | None = None, user: User | None = None
) -> Member:
    return Member.objects.create(org=org, name=name, category=category, joined_on=joined_on, user=user)


def sessions_clear_expired() -> int:
    """Remove expired sessions so the table stays small (run by beat)."""
    deleted, _ = Session.objects.filter(expire_date__lte=timezone.now()).delete()
    return deleted

"""The access-policy registry (R2): every URL's view declares who may use it.

A view is wrapped with `@access(POLICY)`; the policy's predicate decides over the
user alone (role-level). Object-level scope is decided afterwards by selectors,
which make foreign objects 404. `tests/test_url_policies.py` walks the URL
resolver and fails for any view without a policy or without a refusal test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from branches import permissions
from branches.audit import audit_record
from branches.models import AuditAction, User


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    public: bool = False
    predicate: Callable[[User], bool] | None = None

    def allows(self, user: User | AnonymousUser) -> bool:
        if self.public:
            return True
        if not isinstance(user, User) or not user.is_active:
            return False
        return self.predicate(user) if self.predicate is not None else True


PUBLIC = Policy("public", "无需登录（登录页、健康检查）", public=True)
AUTHENTICATED = Policy("authenticated", "任何已登录用户；对象范围由组织树决定")
COMMITTEE_ADMIN = Policy("committee_admin", "仅工委管理员", predicate=permissions.is_committee_admin)
STAFF = Policy("staff", "工委及机关党委/总支工作人员", predicate=permissions.is_staff_anywhere)

REGISTRY: dict[str, Policy] = {p.name: p for p in (PUBLIC, AUTHENTICATED, COMMITTEE_ADMIN, STAFF)}


class AuthedHttpRequest(HttpRequest):
    """The request type of views whose policy requires login: `user` is a real account."""

    user: User


View = Callable[..., HttpResponseBase]


def access(policy: Policy) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not policy.allows(request.user):
                audit_record(
                    action=AuditAction.DENIED,
                    actor=request.user,
                    request=request,
                    detail={"path": request.path, "policy": policy.name},
                )
                raise PermissionDenied("您没有权限访问此页面。")
            return view(request, *args, **kwargs)

        wrapped.access_policy = policy  # type: ignore[attr-defined]
        if policy.public:
            wrapped = login_not_required(wrapped)
        return wrapped

    return decorator


def record_out_of_scope(request: HttpRequest, what: str, key: object) -> None:
    """Audit a 404 caused by scope (the object may exist, but not for this user)."""
    audit_record(
        action=AuditAction.DENIED,
        actor=request.user,
        request=request,
        detail={"path": request.path, "object": what, "key": str(key), "reason": "out_of_scope"},
    )

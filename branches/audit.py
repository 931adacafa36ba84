"""Writing the append-only audit log. Every module that records an event calls `audit_record`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from branches.models import AuditAction, AuditEvent, User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: AuditAction | str,
    actor: User | None = None,
    username: str = "",
    request: HttpRequest | None = None,
    target: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=(actor.username if actor is not None else username)[:150],
        action=action,
        ip_address=client_ip(request),
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
        detail=detail or {},
    )

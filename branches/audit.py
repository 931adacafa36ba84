"""Writing the append-only audit log. Every module that records an event calls `audit_record`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from branches.models import AuditAction, AuditEvent, User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: AuditAction | str,
    actor: User | AnonymousUser | None = None,
    username: str = "",
    request: HttpRequest | None = None,
    target: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    user = actor if isinstance(actor, User) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_username=(user.username if user is not None else username)[:150],
        action=action,
        ip_address=client_ip(request),
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
        detail=detail or {},
    )


_DETAIL_LABELS = {
    "user": "账号",
    "username": "账号",
    "full_name": "姓名",
    "org": "组织编码",
    "role": "角色",
    "source": "来源",
    "file_name": "文件",
    "status": "结果",
    "dry_run": "仅预检",
    "errors": "错误数",
    "path": "访问地址",
    "policy": "权限要求",
    "reason": "原因",
    "object": "对象",
    "key": "编号",
    "sessions_ended": "结束会话数",
    "name": "名称",
    "change": "变更",
    "fields": "字段",
    "platform": "平台",
    "address": "地址",
    "held_on": "开展日期",
    "secret": "签名密钥",
    "step": "操作",
    "what": "内容",
    "date": "日期",
    "period": "期次",
    "obligation": "经常性工作",
}
_DETAIL_HIDDEN = {"sha256", "kind"}
_VALUE_LABELS = {
    "import": "批量导入",
    "out_of_scope": "超出管辖范围",
    "applied": "已导入",
    "failed": "有错误，未写入",
    "checked": "预检通过",
    "committee_admin": "仅工委管理员",
    "staff": "工作人员",
    "authenticated": "已登录用户",
}


def describe_detail(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """Turn an event's detail into Chinese (label, value) pairs for the audit page."""
    from branches.models import Role

    pairs: list[tuple[str, str]] = []
    for key, value in detail.items():
        if key in _DETAIL_HIDDEN:
            continue
        if key == "summary" and isinstance(value, dict):
            pairs.extend((str(k), str(v)) for k, v in value.items())
            continue
        if key == "role" and value in Role.values:
            text = Role(value).label
        elif isinstance(value, bool):
            text = "是" if value else "否"
        else:
            text = _VALUE_LABELS.get(str(value), str(value))
        pairs.append((_DETAIL_LABELS.get(key, key), text))
    return pairs

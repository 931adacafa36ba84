"""Notification settings pages: one's own channel preferences, and an organisation's group robots."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from branches import notify_services as svc
from branches.access import AUTHENTICATED, STAFF, AuthedHttpRequest, access, record_out_of_scope
from branches.models import STAFF_ROLES, OrgUnit, OrgWebhook
from branches.notify_forms import PreferenceForm, WebhookEditForm, WebhookForm
from branches.selectors import organisations_staffed_by, scope_q

# --- personal preferences ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@access(AUTHENTICATED)
def notification_preferences(request: AuthedHttpRequest) -> HttpResponse:
    pref = svc.preference_of(request.user)
    form = PreferenceForm(
        request.POST or None, initial={"email_enabled": pref.email_enabled, "digest": pref.digest}
    )
    if request.method == "POST" and form.is_valid():
        svc.preference_save(
            user=request.user,
            email_enabled=form.cleaned_data["email_enabled"],
            digest=form.cleaned_data["digest"] or "",
        )
        messages.success(request, "通知偏好已保存。")
        return redirect("branches:notification_preferences")
    return render(
        request,
        "branches/notifications/preferences.html",
        {"form": form, "email": request.user.email, "pref": pref},
    )


# --- organisation robots -----------------------------------------------------------------------------


def _staffed_org_or_404(request: AuthedHttpRequest, pk: int) -> OrgUnit:
    org = organisations_staffed_by(request.user).filter(pk=pk).first()
    if org is None:
        record_out_of_scope(request, "OrgUnit", pk)
        raise Http404("没有找到该组织。")
    return org


def _hook_or_404(request: AuthedHttpRequest, pk: int) -> OrgWebhook:
    hook = (
        OrgWebhook.objects.filter(scope_q(request.user, field="org__path", roles=STAFF_ROLES), pk=pk)
        .select_related("org")
        .first()
    )
    if hook is None:
        record_out_of_scope(request, "OrgWebhook", pk)
        raise Http404("没有找到该群机器人。")
    return hook


def _rows(org: OrgUnit) -> list[dict[str, Any]]:
    return [
        {"hook": h, "url": svc.mask_url(h.url), "secret": svc.mask_secret(h.secret)}
        for h in OrgWebhook.objects.filter(org=org).order_by("id")
    ]


@require_http_methods(["GET", "POST"])
@access(STAFF)
def org_webhooks(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    org = _staffed_org_or_404(request, pk)
    form = WebhookForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        hook = svc.webhook_create(org=org, actor=request.user, **form.cleaned_data)
        messages.success(request, f"已添加群机器人“{hook.name}”，可点击“发送测试”检查设置。")
        return redirect("branches:org_webhooks", org.pk)
    return render(
        request, "branches/notifications/webhooks.html", {"org": org, "rows": _rows(org), "form": form}
    )


@require_http_methods(["GET", "POST"])
@access(STAFF)
def webhook_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    hook = _hook_or_404(request, pk)
    initial = {"platform": hook.platform, "name": hook.name, "url": hook.url, "is_active": hook.is_active}
    form = WebhookEditForm(request.POST or None, initial=initial, has_secret=bool(hook.secret))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        svc.webhook_update(
            hook=hook,
            actor=request.user,
            platform=data["platform"],
            name=data["name"],
            url=data["url"],
            is_active=data["is_active"],
            secret=data["secret"],
            clear_secret=data.get("clear_secret", False),
        )
        messages.success(request, f"已保存群机器人“{hook.name}”。")
        return redirect("branches:org_webhooks", hook.org_id)
    return render(
        request,
        "branches/notifications/webhook_edit.html",
        {"hook": hook, "form": form, "secret": svc.mask_secret(hook.secret)},
    )


@require_POST
@access(STAFF)
def webhook_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    hook = _hook_or_404(request, pk)
    org_id, name = hook.org_id, hook.name
    svc.webhook_delete(hook=hook, actor=request.user)
    messages.success(request, f"已删除群机器人“{name}”。")
    return redirect("branches:org_webhooks", org_id)


@require_POST
@access(STAFF)
def webhook_test(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    hook = _hook_or_404(request, pk)
    ok, text = svc.webhook_test_send(hook)
    if ok:
        messages.success(request, f"“{hook.name}”：{text}")
    else:
        messages.error(request, f"“{hook.name}”测试失败：{text}")
    return redirect("branches:org_webhooks", hook.org_id)

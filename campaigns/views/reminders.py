"""Reminder pages (domain.md §10): my reminders, the staff preview and log, the red list, the rules.

Staff see what the dispatcher would send, and what it sent, only for the subtrees they staff; the
outside-channel deliveries are for 工委 staff. Rules and settings belong to the 工委 admin.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import (
    AUTHENTICATED,
    COMMITTEE_ADMIN,
    STAFF,
    AuthedHttpRequest,
    access,
    record_out_of_scope,
)
from branches.models import DeliveryStatus, OrgUnit
from campaigns import permissions
from campaigns.forms.reminders import (
    DeliveryFilterForm,
    PreviewDayForm,
    ReminderLogFilterForm,
    ReminderPolicyForm,
    ReminderRuleForm,
)
from campaigns.models import Reminder, ReminderRule, ReminderStatus
from campaigns.models.reminders import timing_label
from campaigns.reminders import selectors
from campaigns.reminders.dispatch import policy_for
from campaigns.services import reminders as svc

PAGE_SIZE = 50
TABS = {"plan": "预览", "log": "发送记录", "deliveries": "外部渠道"}
STATUS_ORDER = Case(
    When(status=ReminderStatus.PENDING, then=Value(0)),
    When(status=ReminderStatus.SENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _committee_or_404(request: AuthedHttpRequest) -> OrgUnit:
    committee = selectors.committee_for(request.user)
    if committee is None:
        raise Http404("没有找到所属工委。")
    return committee


def _rule_or_404(request: AuthedHttpRequest, committee: OrgUnit, pk: int) -> ReminderRule:
    rule = selectors.rules_of(committee).filter(pk=pk).select_related("committee").first()
    if rule is None:
        record_out_of_scope(request, "ReminderRule", pk)
        raise Http404("没有找到该提醒规则。")
    return rule


def _timing(r: Reminder) -> str:
    """The rung's timing, from the rule or (a deleted rule) from the logged kind, e.g. ``entry+7``."""
    if r.rule is not None:
        return r.rule.timing_label
    tail = r.kind[len(r.source) :] if r.kind.startswith(r.source) else ""
    try:
        return timing_label(r.source, int(tail))
    except ValueError:
        return r.kind


# --- my reminders ---------------------------------------------------------------------------------


@require_GET
@access(AUTHENTICATED)
def my_reminders(request: AuthedHttpRequest) -> HttpResponse:
    mine = selectors.reminders_of(request.user)
    status = request.GET.get("status", "")
    shown = mine.filter(status=status) if status in ReminderStatus.values else mine
    page = Paginator(
        shown.annotate(status_order=STATUS_ORDER).order_by("status_order", "-scheduled_on", "-id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    for r in page.object_list:
        r.timing = _timing(r)  # type: ignore[attr-defined]
    counts = selectors.status_counts(mine)
    context = {
        "page": page,
        "status": status if status in ReminderStatus.values else "",
        "counts": counts,
        "statuses": [(value, label, counts[value]) for value, label in ReminderStatus.choices],
        "today": timezone.localdate(),
    }
    return render(request, "campaigns/reminders/my_reminders.html", context)


# --- preview, log and deliveries (staff) ----------------------------------------------------------


def _plan_tab(request: AuthedHttpRequest, committee: OrgUnit, day: date) -> dict[str, Any]:
    planned = selectors.reminder_preview(request.user, committee, day)
    page = Paginator(planned, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "rows": selectors.preview_rows(list(page.object_list)),
        "total": len(planned),
        "recipients": len({p.recipient_id for p in planned}),
        "items": len({p.item.key for p in planned}),
    }


def _log_tab(request: AuthedHttpRequest, committee: OrgUnit, day: date) -> dict[str, Any]:
    form = ReminderLogFilterForm(request.GET)
    qs = selectors.reminder_log_visible_to(request.user, committee)
    form.is_valid()  # a bad field is reported on the page; the valid ones still filter
    data = form.cleaned_data
    if data.get("date"):
        qs = qs.filter(scheduled_on=data["date"])
    for field in ("source", "audience"):
        if data.get(field):
            qs = qs.filter(**{field: data[field]})
    counts = selectors.status_counts(qs)
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    page = Paginator(
        qs.select_related("recipient", "org", "rule").order_by("-scheduled_on", "-id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    for r in page.object_list:
        r.timing = _timing(r)  # type: ignore[attr-defined]
    return {
        "form": form,
        "page": page,
        "counts": counts,
        "statuses": [(value, label, counts[value]) for value, label in ReminderStatus.choices],
    }


def _deliveries_tab(request: AuthedHttpRequest, committee: OrgUnit, day: date) -> dict[str, Any]:
    form = DeliveryFilterForm(request.GET)
    qs = selectors.deliveries_visible_to(request.user)
    counts = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    if form.is_valid() and form.cleaned_data["status"]:
        qs = qs.filter(status=form.cleaned_data["status"])
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "form": form,
        "page": page,
        "delivery_counts": counts,
        "delivery_statuses": [(v, label, counts[v]) for v, label in DeliveryStatus.choices if v in counts],
    }


TAB_VIEWS = {"plan": _plan_tab, "log": _log_tab, "deliveries": _deliveries_tab}


@require_GET
@access(STAFF)
def reminder_preview(request: AuthedHttpRequest) -> HttpResponse:
    committee = _committee_or_404(request)
    policy = policy_for(committee)
    tab = request.GET.get("tab", "plan")
    if tab not in TABS:
        tab = "plan"
    is_committee = permissions.is_committee_staff(request.user)
    if tab == "deliveries" and not is_committee:
        raise PermissionDenied("外部渠道发送记录仅工委工作人员可见。")
    day_form = PreviewDayForm(request.GET)
    picked = day_form.cleaned_data.get("date") if day_form.is_valid() else None
    day = picked or timezone.localdate()
    context: dict[str, Any] = {
        "tab": tab,
        "tabs": [(k, v) for k, v in TABS.items() if k != "deliveries" or is_committee],
        "day": day,
        "date_param": picked.isoformat() if picked else "",
        "day_form": day_form,
        "policy": policy,
        "run": selectors.dispatch_run_of(committee, day),
        "can_run": permissions.is_committee_admin(request.user) and day == timezone.localdate(),
        "is_committee": is_committee,
        "can_manage": permissions.is_committee_admin(request.user),
    }
    context.update(TAB_VIEWS[tab](request, committee, day))
    return render(request, "campaigns/reminders/preview.html", context)


@require_GET
@access(STAFF)
def red_list(request: AuthedHttpRequest) -> HttpResponse:
    committee = _committee_or_404(request)
    today = timezone.localdate()
    rows = selectors.red_list(request.user, committee, today)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "campaigns/reminders/red_list.html", {"page": page, "today": today, "committee": committee}
    )


@require_POST
@access(COMMITTEE_ADMIN)
def reminder_run(request: AuthedHttpRequest) -> HttpResponse:
    committee = _committee_or_404(request)
    _, started = svc.reminder_run_start(committee=committee, actor=request.user, day=timezone.localdate())
    if started:
        messages.success(request, "今日提醒已开始发送。")
    else:
        messages.info(request, "今日提醒已发送过，不会重复发送。")
    return redirect("campaigns:reminder_preview")


# --- rules and settings (committee admin) ---------------------------------------------------------


@require_GET
@access(COMMITTEE_ADMIN)
def reminder_rules(request: AuthedHttpRequest) -> HttpResponse:
    committee = _committee_or_404(request)
    policy = policy_for(committee)
    context = {"groups": selectors.rules_by_source(committee), "policy": policy, "committee": committee}
    return render(request, "campaigns/reminders/rules.html", context)


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def reminder_rule_create(request: AuthedHttpRequest) -> HttpResponse:
    committee = _committee_or_404(request)
    policy_for(committee)
    form = ReminderRuleForm(request.POST or None, initial={"via_inbox": True, "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            rule = svc.reminder_rule_create(committee=committee, actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已添加规则“{rule.name}”。")
            return redirect("campaigns:reminder_rules")
    return render(request, "campaigns/reminders/rule_form.html", {"form": form, "rule": None})


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def reminder_rule_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    committee = _committee_or_404(request)
    rule = _rule_or_404(request, committee, pk)
    # The form works on a copy, so a refused edit leaves the rule (and the page title) unchanged.
    form = ReminderRuleForm(request.POST or None, instance=copy.copy(rule))
    if request.method == "POST" and form.is_valid():
        try:
            rule = svc.reminder_rule_update(rule=rule, actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"规则“{rule.name}”已保存。")
            return redirect("campaigns:reminder_rules")
    return render(request, "campaigns/reminders/rule_form.html", {"form": form, "rule": rule})


@require_POST
@access(COMMITTEE_ADMIN)
def reminder_rule_toggle(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    committee = _committee_or_404(request)
    rule = svc.reminder_rule_toggle(rule=_rule_or_404(request, committee, pk), actor=request.user)
    messages.success(request, f"规则“{rule.name}”已{'启用' if rule.is_active else '停用'}。")
    return redirect("campaigns:reminder_rules")


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def reminder_settings(request: AuthedHttpRequest) -> HttpResponse:
    committee = _committee_or_404(request)
    policy = policy_for(committee)
    form = ReminderPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        svc.reminder_policy_update(policy=policy, actor=request.user, data=form.cleaned_data)
        messages.success(request, "提醒设置已保存。")
        return redirect("campaigns:reminder_rules")
    return render(request, "campaigns/reminders/settings.html", {"form": form, "committee": committee})


urlpatterns: list[URLPattern] = [
    path("reminders/", reminder_preview, name="reminder_preview"),
    path("reminders/mine/", my_reminders, name="my_reminders"),
    path("reminders/red-list/", red_list, name="red_list"),
    path("reminders/run/", reminder_run, name="reminder_run"),
    path("reminders/rules/", reminder_rules, name="reminder_rules"),
    path("reminders/rules/new/", reminder_rule_create, name="reminder_rule_create"),
    path("reminders/rules/<int:pk>/edit/", reminder_rule_edit, name="reminder_rule_edit"),
    path("reminders/rules/<int:pk>/toggle/", reminder_rule_toggle, name="reminder_rule_toggle"),
    path("reminders/settings/", reminder_settings, name="reminder_settings"),
]

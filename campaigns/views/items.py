"""Views: editing the task list (sections, items, 本级增加) and its Excel import, export and template."""

from __future__ import annotations

import io
import secrets
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import COMMITTEE_ADMIN, STAFF, AuthedHttpRequest, access, record_out_of_scope
from branches.imports.workbooks import errors_workbook
from branches.models import OrgUnit
from branches.selectors import organisations_visible_to, scope_q
from campaigns import exports, imports, permissions
from campaigns.forms.campaigns import ItemForm, SectionForm, TaskListImportForm
from campaigns.models import Campaign, ChecklistItem, Section
from campaigns.selectors import campaigns_visible_to
from campaigns.services import items as services
from campaigns.views.campaigns import campaign_or_404, group_by_section

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_IMPORTS = "task_list_imports"
KEEP_IMPORT_RESULTS = 5


def _item_or_404(request: AuthedHttpRequest, pk: int) -> ChecklistItem:
    """Items of visible campaigns: the 工委's list, or 本级增加 items of units in the user's scope."""
    items = ChecklistItem.objects.filter(campaign__in=campaigns_visible_to(request.user)).filter(
        Q(owner__isnull=True) | scope_q(request.user, field="owner__path")
    )
    try:
        return items.select_related("campaign", "owner", "section").get(pk=pk)
    except ChecklistItem.DoesNotExist:
        record_out_of_scope(request, "ChecklistItem", pk)
        raise Http404("没有找到该任务。") from None


def _local_unit_or_404(request: AuthedHttpRequest, pk: int) -> OrgUnit:
    """A 机关党委/党总支 in scope whose 本级增加 the user manages (403 when in scope but not theirs)."""
    try:
        org = organisations_visible_to(request.user).get(pk=pk)
    except OrgUnit.DoesNotExist:
        record_out_of_scope(request, "OrgUnit", pk)
        raise Http404("没有找到该组织。") from None
    if not permissions.can_add_local_items(request.user, org):
        raise PermissionDenied("您不能为该组织增加本级任务。")
    return org


def _xlsx(data: bytes, filename: str) -> FileResponse:
    response = FileResponse(io.BytesIO(data), as_attachment=True, filename=filename, content_type=XLSX)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _render_item_form(
    request: AuthedHttpRequest, form: ItemForm, campaign: Campaign, **extra: Any
) -> HttpResponse:
    return render(request, "campaigns/item_form.html", {"form": form, "campaign": campaign, **extra})


# --- sections and items --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def section_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    form = SectionForm(request.POST or None, initial={"sort_order": None})
    form.fields["sort_order"].required = False
    if request.method == "POST" and form.is_valid():
        try:
            services.section_create(campaign=campaign, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已添加类别。")
            return redirect("campaigns:campaign_detail", pk=campaign.pk)
    return render(request, "campaigns/item_section_form.html", {"form": form, "campaign": campaign})


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def section_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    section = get_object_or_404(
        Section.objects.select_related("campaign").filter(campaign__in=campaigns_visible_to(request.user)),
        pk=pk,
    )
    form = SectionForm(
        request.POST or None, instance=Section(name=section.name, sort_order=section.sort_order)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.section_update(section=section, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已修改类别。")
            return redirect("campaigns:campaign_detail", pk=section.campaign_id)
    context = {"form": form, "campaign": section.campaign, "section": section}
    return render(request, "campaigns/item_section_form.html", context)


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def item_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    form = ItemForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.item_create(campaign=campaign, actor=request.user, **form.service_values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已添加任务。")
            return redirect("campaigns:campaign_detail", pk=campaign.pk)
    return _render_item_form(request, form, campaign)


@require_http_methods(["GET", "POST"])
@access(STAFF)
def local_item_create(request: AuthedHttpRequest, pk: int, org_pk: int) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    owner = _local_unit_or_404(request, org_pk)
    form = ItemForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.item_create(campaign=campaign, actor=request.user, owner=owner, **form.service_values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已添加本级增加任务。")
            return redirect("campaigns:local_items", pk=campaign.pk, org_pk=owner.pk)
    return _render_item_form(request, form, campaign, owner=owner)


@require_http_methods(["GET", "POST"])
@access(STAFF)
def item_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    if not services.can_edit_item(request.user, item):
        raise PermissionDenied("您不能修改该任务。")
    form = ItemForm(request.POST or None, instance=item, campaign=item.campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.item_update(item=item, actor=request.user, **form.service_values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已保存任务。")
            return redirect(_back_to(item))
    return _render_item_form(request, form, item.campaign, owner=item.owner, item=item)


@require_POST
@access(STAFF)
def item_deactivate(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    item = _item_or_404(request, pk)
    if not services.can_edit_item(request.user, item):
        raise PermissionDenied("您不能停用该任务。")
    try:
        services.item_deactivate(item=item, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已停用任务 {item.code}。")
    return redirect(_back_to(item))


def _back_to(item: ChecklistItem) -> str:
    if item.owner_id is None:
        return reverse("campaigns:campaign_detail", args=[item.campaign_id])
    return reverse("campaigns:local_items", args=[item.campaign_id, item.owner_id])


@require_GET
@access(STAFF)
def local_items(request: AuthedHttpRequest, pk: int, org_pk: int) -> HttpResponse:
    """A unit's 本级增加 items, next to (never mixed with) what it inherits from above."""
    campaign = campaign_or_404(request, pk)
    org = _local_unit_or_404(request, org_pk)
    items = list(
        ChecklistItem.objects.filter(campaign=campaign, is_active=True)
        .filter(Q(owner__isnull=True) | Q(owner_id__in=[*org.ancestor_ids, org.pk]))
        .select_related("section", "owner")
        .order_by("section__sort_order", "section_id", "sort_order", "code")
    )
    own = [i for i in items if i.owner_id == org.pk]
    inherited = [i for i in items if i.owner_id != org.pk]
    context = {
        "campaign": campaign,
        "org": org,
        "own_sections": group_by_section(own),
        "own_total": sum((i.points for i in own), start=0),
        "inherited_sections": group_by_section(inherited),
        "inherited_total": sum((i.points for i in inherited), start=0),
        "locked": campaign.is_locked,
        "own_editable": not campaign.is_locked,
    }
    return render(request, "campaigns/item_local_list.html", context)


# --- Excel -------------------------------------------------------------------------------------


def _remember(request: AuthedHttpRequest, campaign: Campaign, result: imports.TaskListImportResult) -> str:
    """Keep the last few results in the session so the page and the errors download can show them."""
    key = secrets.token_urlsafe(12)
    stored: dict[str, Any] = dict(request.session.get(SESSION_IMPORTS, {}))
    stored[key] = {
        "campaign": campaign.pk,
        "status": result.status,
        "file_name": result.file_name,
        "dry_run": result.dry_run,
        "errors": result.errors,
        "summary": result.summary,
    }
    request.session[SESSION_IMPORTS] = dict(list(stored.items())[-KEEP_IMPORT_RESULTS:])
    return key


def _recalled(request: AuthedHttpRequest, campaign: Campaign, key: str) -> dict[str, Any] | None:
    result = request.session.get(SESSION_IMPORTS, {}).get(key)
    return result if result is not None and result["campaign"] == campaign.pk else None


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def task_list_import(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    form = TaskListImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        outcome = imports.task_list_import_upload(
            campaign=campaign,
            upload=form.cleaned_data["file"],
            actor=request.user,
            dry_run=form.cleaned_data["dry_run"],
            request=request,
        )
        key = _remember(request, campaign, outcome)
        return redirect(reverse("campaigns:task_list_import", args=[campaign.pk]) + f"?result={key}")
    key = request.GET.get("result", "")
    result = _recalled(request, campaign, key) if key else None
    context = {
        "campaign": campaign,
        "form": form,
        "result": result,
        "result_key": key,
        "status_label": imports.STATUS_LABELS.get(result["status"], "") if result else "",
    }
    return render(request, "campaigns/task_list_import.html", context)


@require_GET
@access(COMMITTEE_ADMIN)
def task_list_import_errors(request: AuthedHttpRequest, pk: int, key: str) -> FileResponse:
    campaign = campaign_or_404(request, pk)
    result = _recalled(request, campaign, key)
    if result is None:
        raise Http404("导入结果已过期，请重新上传。")
    return _xlsx(errors_workbook(result["errors"]), f"任务清单导入错误_{campaign.year}.xlsx")


@require_GET
@access(COMMITTEE_ADMIN)
def task_list_template(request: AuthedHttpRequest) -> FileResponse:
    return _xlsx(exports.task_list_template(), "任务清单导入模板.xlsx")


@require_GET
@access(STAFF)
def task_list_export(request: AuthedHttpRequest, pk: int) -> FileResponse:
    campaign = campaign_or_404(request, pk)
    data = exports.task_list_export(campaign=campaign, actor=request.user, request=request)
    return _xlsx(data, f"{campaign.year}年任务清单.xlsx")


urlpatterns: list[URLPattern] = [
    path("<int:pk>/sections/new/", section_create, name="section_create"),
    path("sections/<int:pk>/edit/", section_edit, name="section_edit"),
    path("<int:pk>/items/new/", item_create, name="item_create"),
    path("items/<int:pk>/edit/", item_edit, name="item_edit"),
    path("items/<int:pk>/deactivate/", item_deactivate, name="item_deactivate"),
    path("<int:pk>/units/<int:org_pk>/items/", local_items, name="local_items"),
    path("<int:pk>/units/<int:org_pk>/items/new/", local_item_create, name="local_item_create"),
    path("<int:pk>/task-list/import/", task_list_import, name="task_list_import"),
    path(
        "<int:pk>/task-list/import/<str:key>/errors.xlsx",
        task_list_import_errors,
        name="task_list_import_errors",
    ),
    path("task-list/template.xlsx", task_list_template, name="task_list_template"),
    path("<int:pk>/task-list/export.xlsx", task_list_export, name="task_list_export"),
]

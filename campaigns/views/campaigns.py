"""Views: the campaign list and page (calendar, milestones, the task list), create, edit, clone, archive."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import AUTHENTICATED, COMMITTEE_ADMIN, AuthedHttpRequest, access, record_out_of_scope
from branches.models import OrgKind, OrgUnit, Role
from branches.selectors import committee_root, grants_of, scope_q
from campaigns import permissions
from campaigns.forms.campaigns import CampaignCloneForm, CampaignCreateForm, CampaignForm, MilestoneForm
from campaigns.models import Campaign, CampaignEvent, ChecklistItem, PublishRun
from campaigns.selectors import campaigns_visible_to
from campaigns.services import campaigns as services
from campaigns.services.items import can_edit_item


def campaign_or_404(request: AuthedHttpRequest, pk: int) -> Campaign:
    """The one access helper for campaigns: a draft is as absent as a foreign campaign for non-staff."""
    try:
        return campaigns_visible_to(request.user).get(pk=pk)
    except Campaign.DoesNotExist:
        record_out_of_scope(request, "Campaign", pk)
        raise Http404("没有找到该创建活动。") from None


def _event_or_404(request: AuthedHttpRequest, pk: int) -> CampaignEvent:
    events = CampaignEvent.objects.filter(campaign__in=campaigns_visible_to(request.user))
    try:
        return events.select_related("campaign").get(pk=pk)
    except CampaignEvent.DoesNotExist:
        record_out_of_scope(request, "CampaignEvent", pk)
        raise Http404("没有找到该日程。") from None


def group_by_section(items: list[ChecklistItem]) -> list[dict[str, Any]]:
    """Items (already ordered by section) as [{section, items, total}] for the tables."""
    groups: list[dict[str, Any]] = []
    for item in items:
        if not groups or groups[-1]["section"].pk != item.section_id:
            groups.append({"section": item.section, "items": [], "total": 0})
        groups[-1]["items"].append(item)
        groups[-1]["total"] += item.points
    return groups


def local_items_for(request: AuthedHttpRequest, campaign: Campaign) -> list[ChecklistItem]:
    """本级增加 items the user may see: those of units in their scope and of units above their own."""
    ancestor_ids = {int(p) for g in grants_of(request.user) for p in g.org_path.strip("/").split("/")}
    qs = ChecklistItem.objects.filter(campaign=campaign, owner__isnull=False, is_active=True)
    if not permissions.is_committee_staff(request.user):
        qs = qs.filter(scope_q(request.user, field="owner__path") | Q(owner_id__in=ancestor_ids))
    return list(
        qs.select_related("section", "owner").order_by("owner__path", "section__sort_order", "sort_order")
    )


def _local_groups(request: AuthedHttpRequest, items: list[ChecklistItem]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for item in items:
        if not groups or groups[-1]["owner"].pk != item.owner_id:
            groups.append(
                {"owner": item.owner, "items": [], "total": 0, "editable": can_edit_item(request.user, item)}
            )
        groups[-1]["items"].append(item)
        groups[-1]["total"] += item.points
    return groups


def _staffed_units(request: AuthedHttpRequest) -> list[OrgUnit]:
    """Units where the user adds 本级增加 items (unit staff grants at a 机关党委/党总支)."""
    ids = [
        g.org_id
        for g in grants_of(request.user)
        if g.role == Role.UNIT_STAFF and g.org_kind in (OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH)
    ]
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("path")) if ids else []


# --- pages -------------------------------------------------------------------------------------


@require_GET
@access(AUTHENTICATED)
def campaign_list(request: AuthedHttpRequest) -> HttpResponse:
    campaigns = campaigns_visible_to(request.user).annotate(
        item_count=Count("items", filter=Q(items__owner__isnull=True, items__is_active=True))
    )
    context = {
        "campaigns": campaigns.order_by("-year"),
        "can_manage": permissions.can_manage_campaign(request.user),
        "clone_form": CampaignCloneForm(),
    }
    return render(request, "campaigns/campaign_list.html", context)


@require_GET
@access(AUTHENTICATED)
def campaign_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    can_manage = permissions.can_manage_campaign(request.user, campaign)
    items = list(
        ChecklistItem.objects.filter(campaign=campaign, owner__isnull=True, is_active=True)
        .select_related("section")
        .order_by("section__sort_order", "section_id", "sort_order", "code")
    )
    context = {
        "campaign": campaign,
        "events": list(campaign.events.all()),
        "sections": group_by_section(items),
        "total_points": sum((i.points for i in items), start=0),
        "local_groups": _local_groups(request, local_items_for(request, campaign)),
        "staffed_units": _staffed_units(request),
        "can_manage": can_manage,
        "items_editable": can_manage and not campaign.is_locked,
        "last_run": PublishRun.objects.filter(campaign=campaign).first() if can_manage else None,
        "clone_form": CampaignCloneForm(initial={"year": campaign.year + 1}),
    }
    return render(request, "campaigns/campaign_detail.html", context)


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def campaign_create(request: AuthedHttpRequest) -> HttpResponse:
    form = CampaignCreateForm(request.POST or None)
    committee = committee_root()
    if committee is None:
        form.add_error(None, "系统中还没有工委，请先导入组织架构。")
    elif request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        year, name = data.pop("year"), data.pop("name")
        try:
            campaign = services.campaign_create(
                committee=committee, year=year, name=name, actor=request.user, **data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已创建创建活动（草稿）。")
            return redirect("campaigns:campaign_detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": None})


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def campaign_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(campaign=campaign, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("campaigns:campaign_detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


@require_POST
@access(COMMITTEE_ADMIN)
def campaign_clone(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    source = campaign_or_404(request, pk)
    form = CampaignCloneForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的年度。")
        return redirect("campaigns:campaign_detail", pk=source.pk)
    try:
        clone = services.campaign_clone(source=source, year=form.cleaned_data["year"], actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("campaigns:campaign_detail", pk=source.pk)
    messages.success(
        request, f"已从{source.year}年复制生成{clone.year}年创建活动（草稿），请核对日程和任务清单。"
    )
    return redirect("campaigns:campaign_detail", pk=clone.pk)


@require_POST
@access(COMMITTEE_ADMIN)
def campaign_archive(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    campaign = campaign_or_404(request, pk)
    try:
        services.campaign_archive(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已归档，本年度的清单和条目已全部锁定。")
    return redirect("campaigns:campaign_detail", pk=campaign.pk)


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def milestone_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_or_404(request, pk)
    form = MilestoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_event_add(campaign=campaign, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已添加日程。")
            return redirect("campaigns:campaign_detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_milestone_form.html", {"form": form, "campaign": campaign})


@require_POST
@access(COMMITTEE_ADMIN)
def milestone_delete(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    event = _event_or_404(request, pk)
    try:
        services.campaign_event_delete(event=event, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已删除日程。")
    return redirect("campaigns:campaign_detail", pk=event.campaign_id)


urlpatterns: list[URLPattern] = [
    path("", campaign_list, name="campaign_list"),
    path("new/", campaign_create, name="campaign_create"),
    path("<int:pk>/", campaign_detail, name="campaign_detail"),
    path("<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("<int:pk>/clone/", campaign_clone, name="campaign_clone"),
    path("<int:pk>/archive/", campaign_archive, name="campaign_archive"),
    path("<int:pk>/milestones/new/", milestone_create, name="milestone_create"),
    path("milestones/<int:pk>/delete/", milestone_delete, name="milestone_delete"),
]

"""Views: publishing the task list (发布任务清单) and the progress page of a publish run."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST

from branches.access import COMMITTEE_ADMIN, AuthedHttpRequest, access, record_out_of_scope
from campaigns.models import Campaign, PublishRun, PublishRunStatus
from campaigns.selectors import campaigns_visible_to
from campaigns.services.publishing import PublishError, campaign_publish


def _campaign_or_404(request: AuthedHttpRequest, pk: int) -> Campaign:
    try:
        return campaigns_visible_to(request.user).get(pk=pk)
    except Campaign.DoesNotExist:
        record_out_of_scope(request, "Campaign", pk)
        raise Http404("没有找到该创建活动。") from None


def _run_or_404(request: AuthedHttpRequest, pk: int) -> PublishRun:
    runs = PublishRun.objects.filter(campaign__in=campaigns_visible_to(request.user))
    try:
        return runs.select_related("campaign", "requested_by").get(pk=pk)
    except PublishRun.DoesNotExist:
        record_out_of_scope(request, "PublishRun", pk)
        raise Http404("没有找到该发布任务。") from None


def _campaign_url(campaign: Campaign) -> str:
    return reverse("campaigns:campaign_detail", args=[campaign.pk])


@require_POST
@access(COMMITTEE_ADMIN)
def campaign_publish_view(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    campaign = _campaign_or_404(request, pk)
    try:
        run = campaign_publish(campaign=campaign, actor=request.user)
    except PublishError as exc:
        messages.error(request, exc.message)
        return redirect(_campaign_url(campaign))
    messages.success(request, "已提交发布任务，进度见下方。")
    return redirect("campaigns:publish_run", pk=run.pk)


@require_GET
@access(COMMITTEE_ADMIN)
def publish_run_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    context = {
        "run": run,
        "campaign": run.campaign,
        "campaign_url": _campaign_url(run.campaign),
        "polling": run.status in (PublishRunStatus.QUEUED, PublishRunStatus.RUNNING),
    }
    template = "campaigns/publish_run.html"
    if request.headers.get("HX-Request"):
        template += "#progress"
    return render(request, template, context)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/publish/", campaign_publish_view, name="campaign_publish"),
    path("publish-runs/<int:pk>/", publish_run_view, name="publish_run"),
]

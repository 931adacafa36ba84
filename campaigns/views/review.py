"""Review (初审 / 工委审核): the queue, approve, return, bulk approve, and the admin's reopen."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from branches.access import COMMITTEE_ADMIN, STAFF, AuthedHttpRequest, access
from campaigns import selectors
from campaigns.forms.entries import ReasonForm, ReopenForm, ReviewFilterForm, ReviewForm
from campaigns.models import Campaign, ChecklistEntry, Section
from campaigns.services import entries as svc
from campaigns.views.checklist import campaign_or_404, decorate, run_transition

PAGE_SIZE = 50


def _filtered_queue(
    request: AuthedHttpRequest, campaign: Campaign, form: ReviewFilterForm
) -> QuerySet[ChecklistEntry]:
    qs = selectors.review_queue_for(request.user, campaign).select_related(
        "item", "item__section", "org", "checklist"
    )
    if not form.is_valid():
        return qs.order_by("submitted_at", "pk")
    d = form.cleaned_data
    if d["org"]:
        qs = qs.filter(Q(org__code=d["org"]) | Q(org__name__icontains=d["org"]))
    if d["section"]:
        qs = qs.filter(item__section_id=d["section"])
    if d["stage"]:
        qs = qs.filter(review_stage=d["stage"])
    if d["na_only"]:
        qs = qs.filter(not_applicable_requested=True)
    if d["overdue"]:
        # A submitted entry is late when it was handed in after its due date (or still waits past it).
        qs = qs.filter(due_date__lt=timezone.localdate())
    return qs.order_by("submitted_at", "pk")


@require_GET
@access(STAFF)
def review_queue(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    if campaign is None:
        return render(request, "campaigns/review_queue.html", {"campaign": None})
    sections = list(Section.objects.filter(campaign=campaign).values_list("pk", "name"))
    form = ReviewFilterForm(request.GET or None, sections=sections)
    page = Paginator(_filtered_queue(request, campaign, form), PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "campaign": campaign,
        "form": form,
        "page": page,
        "rows": decorate(list(page.object_list)),
    }
    return render(request, "campaigns/review_queue.html", context)


@require_POST
@access(STAFF)
def review_bulk_approve(request: AuthedHttpRequest) -> HttpResponse:
    """Each id is re-fetched through the user's queue: foreign or already-reviewed ids are ignored."""
    campaign = selectors.campaign_for_page(request.user, request.POST.get("campaign"))
    ids = [int(v) for v in request.POST.getlist("entry") if v.isdigit()]
    if campaign is None or not ids:
        messages.warning(request, "请先勾选要通过的条目。")
        return redirect("campaigns:review_queue")
    entries = (
        selectors.review_queue_for(request.user, campaign)
        .filter(pk__in=ids)
        .select_related("item", "org", "org__parent", "campaign", "checklist")
    )
    result = svc.entries_bulk_approve(entries=list(entries), actor=request.user)
    ignored = len(set(ids)) - len(result.approved) - len(result.skipped)
    messages.success(request, f"已通过 {len(result.approved)} 个条目。")
    for entry, reason in result.skipped:
        messages.warning(request, f"未通过 {entry.org.name} · {entry.item.code}：{reason}")
    if ignored:
        messages.warning(request, f"另有 {ignored} 个条目不在您的待审列表中，已忽略。")
    return redirect(f"{reverse('campaigns:review_queue')}?campaign={campaign.pk}")


@require_POST
@access(STAFF)
def entry_approve(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(entry: ChecklistEntry, d: dict[str, Any]) -> object:
        return svc.entry_approve(
            entry=entry,
            actor=request.user,
            expected_version=d["version"],
            score=d["score"],
            comment=d["comment"],
        )

    return run_transition(request, pk, ReviewForm(request.POST), call, "审核通过。", "review_form")


@require_POST
@access(STAFF)
def entry_return(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(entry: ChecklistEntry, d: dict[str, Any]) -> object:
        return svc.entry_return(
            entry=entry, actor=request.user, expected_version=d["version"], reason=d["reason"]
        )

    return run_transition(request, pk, ReasonForm(request.POST), call, "已退回。")


@require_POST
@access(COMMITTEE_ADMIN)
def entry_reopen(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(entry: ChecklistEntry, d: dict[str, Any]) -> object:
        return svc.entry_reopen(entry=entry, actor=request.user, reason=d["reason"])

    return run_transition(request, pk, ReopenForm(request.POST), call, "条目已重新打开。")


urlpatterns: list[URLPattern] = [
    path("review/", review_queue, name="review_queue"),
    path("review/bulk-approve/", review_bulk_approve, name="review_bulk_approve"),
    path("entries/<int:pk>/approve/", entry_approve, name="entry_approve"),
    path("entries/<int:pk>/return/", entry_return, name="entry_return"),
    path("entries/<int:pk>/reopen/", entry_reopen, name="entry_reopen"),
]

"""Findings (问题), the rectification loop (整改) and the 整改台账 download (domain.md §7, §12)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import AUTHENTICATED, STAFF, AuthedHttpRequest, access, record_out_of_scope
from branches.audit import audit_record
from branches.models import STAFF_ROLES, AuditAction, OrgUnit
from branches.selectors import organisations_staffed_by, organisations_visible_to, scope_roots
from campaigns import permissions, selectors
from campaigns.forms.findings import (
    CloseDecideForm,
    CloseRequestForm,
    DecideForm,
    ExtensionDecideForm,
    ExtensionForm,
    FindingFilterForm,
    FindingForm,
    PlanForm,
    ProgressForm,
)
from campaigns.ledger import rectification_ledger_workbook
from campaigns.models import (
    Campaign,
    ChecklistEntry,
    ChecklistItem,
    DecisionStatus,
    Evidence,
    ExtensionRequest,
    Finding,
    Rectification,
)
from campaigns.models.supervision import OPEN_RECTIFICATION
from campaigns.models.supervision import RectificationStatus as S
from campaigns.services import evidence as evidence_svc
from campaigns.services import rectification as svc
from campaigns.services.entries import EntryError, PermissionRefused
from campaigns.views.checklist import campaign_or_404

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rect_or_404(request: AuthedHttpRequest, pk: int) -> Rectification:
    try:
        return (
            selectors.rectifications_visible_to(request.user)
            .select_related("finding__target__inspection", "finding__item", "org", "campaign", "closed_by")
            .get(pk=pk)
        )
    except Rectification.DoesNotExist:
        record_out_of_scope(request, "Rectification", pk)
        raise Http404("没有找到该整改。") from None


def _extension_or_404(request: AuthedHttpRequest, pk: int) -> ExtensionRequest:
    visible = selectors.rectifications_visible_to(request.user)
    try:
        return ExtensionRequest.objects.select_related(
            "rectification__finding__target__inspection", "rectification__org", "rectification__campaign"
        ).get(pk=pk, rectification__in=visible)
    except ExtensionRequest.DoesNotExist:
        record_out_of_scope(request, "ExtensionRequest", pk)
        raise Http404("没有找到该延期申请。") from None


def _rows(rects: list[Rectification]) -> list[dict[str, Any]]:
    today = timezone.localdate()
    return [{"rect": r, "finding": r.finding, "overdue": r.is_overdue(today)} for r in rects]


def _filtered(
    request: AuthedHttpRequest, campaign: Campaign, form: FindingFilterForm
) -> QuerySet[Rectification]:
    qs = selectors.rectifications_visible_to(request.user).filter(campaign=campaign)
    if form.is_valid():
        d = form.cleaned_data
        if d["source"]:
            qs = qs.filter(finding__source=d["source"])
        if d["severity"]:
            qs = qs.filter(finding__severity=d["severity"])
        if d["status"]:
            qs = qs.filter(status=d["status"])
        if d["org"]:
            qs = qs.filter(Q(org__code=d["org"]) | Q(org__name__icontains=d["org"]))
        if d["overdue"]:
            qs = qs.filter(deadline__lt=timezone.localdate(), status__in=OPEN_RECTIFICATION)
        if d["repeat"]:
            qs = qs.filter(finding__is_repeat=True)
    return qs.select_related("finding", "org").order_by("-finding__created_at", "-pk")


@require_GET
@access(AUTHENTICATED)
def finding_list(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    form = FindingFilterForm(request.GET or None)
    context: dict[str, Any] = {"campaign": campaign, "form": form, "rows": []}
    if campaign is not None:
        page = Paginator(_filtered(request, campaign, form), PAGE_SIZE).get_page(request.GET.get("page"))
        context |= {"page": page, "rows": _rows(list(page.object_list))}
        context["can_create"] = permissions.can_review_anything(request.user)
    return render(request, "campaigns/finding_list.html", context)


def _create_finding(request: AuthedHttpRequest, campaign: Campaign, d: dict[str, Any]) -> Finding:
    org = organisations_visible_to(request.user).filter(code=d["org_code"].strip()).first()
    if org is None:
        raise svc.RectificationError("没有找到该组织代码，或该组织不在您的管理范围内。")
    item = entry = None
    if d["item_code"]:
        item = ChecklistItem.objects.filter(campaign=campaign, code=d["item_code"].strip()).first()
        if item is None:
            raise svc.RectificationError("没有找到该任务编号。")
        entry = (
            ChecklistEntry.objects.filter(campaign=campaign, org=org, item=item).order_by("period").first()
        )
    return svc.finding_create(
        campaign=campaign,
        org=org,
        source=d["source"],
        description=d["description"],
        actor=request.user,
        category=d["category"],
        severity=d["severity"],
        is_immediate=d["is_immediate"],
        item=item,
        entry=entry,
        deadline=d["deadline"],
    )


@require_http_methods(["GET", "POST"])
@access(STAFF)
def finding_create(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    if campaign is None:
        raise Http404("目前没有创建活动。")
    form = FindingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            finding = _create_finding(request, campaign, form.cleaned_data)
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from None
        except EntryError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "问题已登记，整改通知已发送。")
            return redirect("campaigns:rectification_detail", pk=finding.rectification.pk)
    return render(request, "campaigns/finding_form.html", {"campaign": campaign, "form": form})


def _detail_context(request: AuthedHttpRequest, rect: Rectification) -> dict[str, Any]:
    user = request.user
    can_rectify = permissions.can_rectify(user, rect.org)
    org_evidence = (
        list(Evidence.objects.filter(org=rect.org).select_related("current").order_by("-pk")[:200])
        if can_rectify
        else []
    )
    can_issue = permissions.can_issue_for(user, rect.org) and not rect.campaign.is_locked
    can_rectify = can_rectify and not rect.campaign.is_locked
    extensions = list(rect.extensions.select_related("requested_by", "decided_by"))
    pending = any(e.status == DecisionStatus.PENDING for e in extensions)
    status = rect.status
    working = status in (S.IN_PROGRESS, S.REOPENED)
    actions = {
        "plan": can_rectify and status in (S.PLAN_PENDING, S.REOPENED),
        "plan_decide": can_issue and status == S.PLAN_SUBMITTED,
        "progress": can_rectify and working,
        "extension": can_rectify
        and status == S.IN_PROGRESS
        and not rect.finding.is_immediate
        and not pending,
        "extension_decide": can_issue,
        "close_request": can_rectify and working,
        "close_decide": can_issue and status == S.CLOSE_REQUESTED,
    }
    return {
        "rect": rect,
        "finding": rect.finding,
        "actions": actions,
        "locked": rect.campaign.is_locked,
        "overdue": rect.is_overdue(timezone.localdate()),
        "evidence": list(rect.evidence.select_related("current").order_by("pk")),
        "extensions": extensions,
        "events": list(rect.events.select_related("actor")),
        "org_evidence": org_evidence,
    }


@require_GET
@access(AUTHENTICATED)
def rectification_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rect = _rect_or_404(request, pk)
    return render(request, "campaigns/rectification_detail.html", _detail_context(request, rect))


Call = Callable[[Rectification, dict[str, Any]], object]


def _run(request: AuthedHttpRequest, pk: int, form: forms.Form, call: Call, done: str) -> HttpResponse:
    """Bind, call one service, map refusals: stale → 409, permission → 403, rule → message."""
    rect = _rect_or_404(request, pk)
    if not form.is_valid():
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("campaigns:rectification_detail", pk=rect.pk)
    try:
        call(rect, form.cleaned_data)
    except svc.StaleRectification as exc:
        messages.error(request, exc.message)
        current = _rect_or_404(request, pk)
        return render(
            request, "campaigns/rectification_detail.html", _detail_context(request, current), status=409
        )
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except EntryError as exc:
        messages.error(request, exc.message)
        return redirect("campaigns:rectification_detail", pk=rect.pk)
    messages.success(request, done)
    return redirect("campaigns:rectification_detail", pk=rect.pk)


@require_POST
@access(AUTHENTICATED)
def rectification_plan(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(rect: Rectification, d: dict[str, Any]) -> object:
        return svc.rectification_submit_plan(
            rect=rect,
            actor=request.user,
            expected_version=d["version"],
            measures=d["measures"],
            responsible_name=d["responsible_name"],
            leader_name=d["leader_name"],
            deadline=d["deadline"],
        )

    return _run(request, pk, PlanForm(request.POST), call, "整改方案已提交，等待审核。")


@require_POST
@access(STAFF)
def rectification_plan_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(rect: Rectification, d: dict[str, Any]) -> object:
        kw = {"rect": rect, "actor": request.user, "expected_version": d["version"]}
        if d["decision"] == "approve":
            return svc.rectification_approve_plan(**kw, comment=d["comment"])
        return svc.rectification_reject_plan(**kw, reason=d["comment"])

    return _run(request, pk, DecideForm(request.POST), call, "已处理整改方案。")


@require_POST
@access(AUTHENTICATED)
def rectification_progress(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(rect: Rectification, d: dict[str, Any]) -> object:
        return svc.rectification_report_progress(
            rect=rect, actor=request.user, expected_version=d["version"], progress=d["progress"]
        )

    return _run(request, pk, ProgressForm(request.POST), call, "整改进展已更新。")


@require_POST
@access(AUTHENTICATED)
def rectification_extension(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(rect: Rectification, d: dict[str, Any]) -> object:
        return svc.rectification_request_extension(
            rect=rect, actor=request.user, until=d["until"], reason=d["reason"]
        )

    return _run(request, pk, ExtensionForm(request.POST), call, "延期申请已提交。")


@require_POST
@access(STAFF)
def extension_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    ext = _extension_or_404(request, pk)
    form = ExtensionDecideForm(request.POST)
    rect = ext.rectification
    if not form.is_valid():
        messages.error(request, "请选择审批结果。")
        return redirect("campaigns:rectification_detail", pk=rect.pk)
    try:
        svc.extension_decide(
            request=ext,
            actor=request.user,
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
        )
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except EntryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "延期申请已审批。")
    return redirect("campaigns:rectification_detail", pk=rect.pk)


def _close_request_evidence(
    request: AuthedHttpRequest, rect: Rectification, d: dict[str, Any]
) -> list[Evidence]:
    """Chosen evidence of the organisation plus the uploaded files (stored after the permission check)."""
    chosen = list(Evidence.objects.filter(org=rect.org, pk__in=d["evidence"]))
    for upload in request.FILES.getlist("files"):
        chosen.append(
            evidence_svc.evidence_upload(org=rect.org, file=upload, title=d["title"], actor=request.user)
        )
    return chosen


@require_POST
@access(AUTHENTICATED)
def rectification_close_request(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(rect: Rectification, d: dict[str, Any]) -> object:
        svc.check_can_request_close(rect=rect, actor=request.user, expected_version=d["version"])
        return svc.rectification_request_close(
            rect=rect,
            actor=request.user,
            expected_version=d["version"],
            progress=d["progress"],
            evidence=_close_request_evidence(request, rect, d),
        )

    ids = [(int(v), v) for v in request.POST.getlist("evidence") if v.isdigit()]
    form = CloseRequestForm(request.POST, evidence_choices=ids)
    return _run(request, pk, form, call, "销号申请已提交，等待审核。")


@require_POST
@access(STAFF)
def rectification_close_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(rect: Rectification, d: dict[str, Any]) -> object:
        kw = {"rect": rect, "actor": request.user, "expected_version": d["version"]}
        if d["decision"] == "close":
            return svc.rectification_close(**kw, comment=d["comment"])
        return svc.rectification_reject_close(**kw, reason=d["comment"])

    return _run(request, pk, CloseDecideForm(request.POST), call, "已处理销号申请。")


@require_GET
@access(STAFF)
def rectification_overdue(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    context: dict[str, Any] = {"campaign": campaign, "rows": []}
    if campaign is not None:
        qs = (
            selectors.rectifications_visible_to(request.user)
            .filter(campaign=campaign, deadline__lt=timezone.localdate(), status__in=OPEN_RECTIFICATION)
            .select_related("finding", "org")
            .order_by("deadline", "org__path", "pk")
        )
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        context |= {"page": page, "rows": _rows(list(page.object_list))}
    return render(request, "campaigns/rectification_overdue.html", context)


def _ledger_unit(request: AuthedHttpRequest, campaign: Campaign) -> OrgUnit:
    staffed = organisations_staffed_by(request.user)
    wanted = request.GET.get("unit", "")
    if wanted:
        unit = staffed.filter(pk=int(wanted)).first() if wanted.isdigit() else None
        if unit is None:
            record_out_of_scope(request, "OrgUnit", wanted)
            raise Http404("没有找到该组织。")
        return unit
    roots = scope_roots(request.user, STAFF_ROLES)
    if roots is None:
        return campaign.committee
    return staffed.filter(path__in=roots).order_by("path").first() or campaign.committee


@require_GET
@access(STAFF)
def rectification_ledger(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    if campaign is None:
        raise Http404("目前没有创建活动。")
    unit = _ledger_unit(request, campaign)
    data = rectification_ledger_workbook(campaign=campaign, unit=unit)
    audit_record(
        action=AuditAction.EXPORT,
        actor=request.user,
        request=request,
        target=unit,
        detail={"what": "整改台账", "campaign": campaign.pk},
    )
    response = HttpResponse(data, content_type=XLSX)
    filename = f"rectification-ledger-{campaign.year}-{unit.code}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns: list[URLPattern] = [
    path("findings/", finding_list, name="finding_list"),
    path("findings/new/", finding_create, name="finding_create"),
    path("rectifications/overdue/", rectification_overdue, name="rectification_overdue"),
    path("rectifications/ledger/", rectification_ledger, name="rectification_ledger"),
    path("rectifications/<int:pk>/", rectification_detail, name="rectification_detail"),
    path("rectifications/<int:pk>/plan/", rectification_plan, name="rectification_plan"),
    path("rectifications/<int:pk>/plan/decide/", rectification_plan_decide, name="rectification_plan_decide"),
    path("rectifications/<int:pk>/progress/", rectification_progress, name="rectification_progress"),
    path("rectifications/<int:pk>/extension/", rectification_extension, name="rectification_extension"),
    path("extensions/<int:pk>/decide/", extension_decide, name="extension_decide"),
    path("rectifications/<int:pk>/close/", rectification_close_request, name="rectification_close_request"),
    path(
        "rectifications/<int:pk>/close/decide/", rectification_close_decide, name="rectification_close_decide"
    ),
]

"""Inspection rounds (督查 / 随机调研 / 专项检查): list, plan, draw, the phone page per organisation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import STAFF, AuthedHttpRequest, access, record_out_of_scope
from campaigns import permissions, selectors
from campaigns.forms.inspections import AttachForm, FindingFormSet, InspectionForm, ResultForm
from campaigns.models.supervision import (
    Inspection,
    InspectionCheckItem,
    InspectionStatus,
    InspectionTarget,
    TargetStatus,
)
from campaigns.services import inspections as svc
from campaigns.services.entries import EntryError, PermissionRefused
from campaigns.views.checklist import campaign_or_404

PAGE_SIZE = 30


def _inspection_or_404(request: AuthedHttpRequest, pk: int) -> Inspection:
    try:
        return selectors.inspections_visible_to(request.user).get(pk=pk)
    except Inspection.DoesNotExist:
        record_out_of_scope(request, "Inspection", pk)
        raise Http404("没有找到该检查。") from None


def _target_or_404(request: AuthedHttpRequest, pk: int) -> InspectionTarget:
    visible = selectors.inspections_visible_to(request.user).values("pk")
    try:
        return InspectionTarget.objects.select_related(
            "inspection", "inspection__campaign", "inspection__scope", "org"
        ).get(pk=pk, inspection__in=visible)
    except InspectionTarget.DoesNotExist:
        record_out_of_scope(request, "InspectionTarget", pk)
        raise Http404("没有找到该被检查组织。") from None


def _check_items(inspection: Inspection) -> list[InspectionCheckItem]:
    return list(inspection.check_items.all())


@require_GET
@access(STAFF)
def inspection_list(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    if campaign is None:
        return render(request, "campaigns/inspection_list.html", {"campaign": None})
    rounds = (
        selectors.inspections_visible_to(request.user)
        .filter(campaign=campaign)
        .annotate(
            target_count=Count("targets", distinct=True),
            checked_count=Count("targets", filter=Q(targets__status=TargetStatus.CHECKED), distinct=True),
        )
        .order_by("-starts_on", "-pk")
    )
    page = Paginator(rounds, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "campaign": campaign,
        "page": page,
        "can_create": permissions.can_review_anything(request.user),
    }
    return render(request, "campaigns/inspection_list.html", context)


@require_http_methods(["GET", "POST"])
@access(STAFF)
def inspection_create(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    if campaign is None:
        raise Http404("目前没有创建活动。")
    form = InspectionForm(request.POST or None, user=request.user, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            inspection = svc.inspection_create(
                campaign=campaign,
                actor=request.user,
                kind=d["kind"],
                title=d["title"],
                scope=d["scope"],
                target_kind=d["target_kind"],
                sample_mode=d["sample_mode"],
                sample_size=d["sample_size"] or 0,
                exclude_months=d["exclude_months"],
                starts_on=d["starts_on"],
                ends_on=d["ends_on"],
                team=list(d["team"]),
                item_ids=[i.pk for i in d["items"]],
                own_items=d["own_items"],
            )
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from None
        except EntryError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已创建检查，请抽样。")
            return redirect("campaigns:inspection_detail", pk=inspection.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "campaigns/inspection_form.html", {"campaign": campaign, "form": form}, status=status
    )


@require_GET
@access(STAFF)
def inspection_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection_or_404(request, pk)
    may_act = permissions.can_inspect(request.user, inspection.scope)
    targets = list(
        inspection.targets.select_related("org", "checked_by").annotate(finding_count=Count("findings"))
    )
    context: dict[str, Any] = {
        "inspection": inspection,
        "targets": targets,
        "checked": sum(t.status == TargetStatus.CHECKED for t in targets),
        "check_items": _check_items(inspection),
        "team": list(inspection.team.order_by("username")),
        "can_draw": may_act and inspection.status == InspectionStatus.PLANNED,
        "can_complete": may_act and inspection.status == InspectionStatus.SAMPLED,
    }
    return render(request, "campaigns/inspection_detail.html", context)


def _act(request: AuthedHttpRequest, pk: int, call: Any, done: str) -> HttpResponse:
    inspection = _inspection_or_404(request, pk)
    try:
        call(inspection)
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except EntryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("campaigns:inspection_detail", pk=inspection.pk)


@require_POST
@access(STAFF)
def inspection_draw(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(inspection: Inspection) -> object:
        return svc.inspection_draw(inspection=inspection, actor=request.user, today=timezone.localdate())

    return _act(request, pk, call, "已完成抽样，样本和随机种子已保存。")


@require_POST
@access(STAFF)
def inspection_complete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(inspection: Inspection) -> object:
        return svc.inspection_complete(inspection=inspection, actor=request.user)

    return _act(request, pk, call, "本次检查已完成。")


def _render_target(
    request: AuthedHttpRequest,
    target: InspectionTarget,
    form: ResultForm | None = None,
    findings: Any = None,
    status: int = 200,
) -> HttpResponse:
    check_items = _check_items(target.inspection)
    if form is None:
        saved = {r.check_item_id: r for r in target.results.all()}
        initial: dict[str, Any] = {"summary": target.summary}
        for pk, r in saved.items():
            initial[f"outcome_{pk}"] = r.outcome
            initial[f"note_{pk}"] = r.note
        form = ResultForm(initial=initial, check_items=check_items)
    context = {
        "target": target,
        "inspection": target.inspection,
        "form": form,
        "findings_formset": findings
        or FindingFormSet(prefix="finding", form_kwargs={"check_items": check_items}),
        "findings": list(target.findings.select_related("rectification").order_by("id")),
        "evidence": list(target.evidence.select_related("current").order_by("id")),
        "attach_form": AttachForm(),
        "can_record": target.inspection.status == InspectionStatus.SAMPLED
        and svc.can_record(request.user, target),
    }
    return render(request, "campaigns/inspection_target.html", context, status=status)


@require_GET
@access(STAFF)
def inspection_target(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _render_target(request, _target_or_404(request, pk))


@require_POST
@access(STAFF)
def inspection_record(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    target = _target_or_404(request, pk)
    if not svc.can_record(request.user, target):
        raise PermissionDenied("您没有权限记录检查结果。")
    check_items = _check_items(target.inspection)
    form = ResultForm(request.POST, check_items=check_items)
    formset = FindingFormSet(request.POST, prefix="finding", form_kwargs={"check_items": check_items})
    if not (form.is_valid() and formset.is_valid()):
        return _render_target(request, target, form, formset, status=400)
    findings = [f for f in (sub.as_finding() for sub in formset.forms) if f is not None]
    try:
        created = svc.inspection_record(
            target=target,
            actor=request.user,
            summary=form.cleaned_data["summary"],
            results=form.results(),
            findings=findings,
        )
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except EntryError as exc:
        messages.error(request, exc.message)
        return _render_target(request, target, form, formset, status=400)
    messages.success(request, f"已保存检查记录{f'，登记问题 {len(created)} 个' if created else ''}。")
    return redirect("campaigns:inspection_target", pk=target.pk)


@require_POST
@access(STAFF)
def inspection_attach(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    target = _target_or_404(request, pk)
    try:
        evidence = svc.inspection_attach(
            target=target,
            file=request.FILES.get("file"),
            title=request.POST.get("title", ""),
            actor=request.user,
        )
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except EntryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已上传“{evidence.title}”。")
    return redirect("campaigns:inspection_target", pk=target.pk)


urlpatterns: list[URLPattern] = [
    path("inspections/", inspection_list, name="inspection_list"),
    path("inspections/new/", inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/draw/", inspection_draw, name="inspection_draw"),
    path("inspections/<int:pk>/complete/", inspection_complete, name="inspection_complete"),
    path("inspections/targets/<int:pk>/", inspection_target, name="inspection_target"),
    path("inspections/targets/<int:pk>/record/", inspection_record, name="inspection_record"),
    path("inspections/targets/<int:pk>/attach/", inspection_attach, name="inspection_attach"),
]

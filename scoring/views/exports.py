"""The year-end assessment workbook (domain.md §12): request an export, follow it, download it.

Views authorise, bind the small form and call one service (``scoring.export_jobs``); the workbook
itself is written by ``scoring.exports`` in a Celery job. A user sees only their own jobs: anyone
else's job answers 404 (recorded as out of scope).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from branches.access import AUTHENTICATED, AuthedHttpRequest, access, record_out_of_scope
from branches.models import STAFF_ROLES, OrgKind, OrgUnit, User
from branches.selectors import grants_of, organisations_visible_to, scope_q
from campaigns.permissions import FILL_ROLES
from campaigns.selectors import campaigns_visible_to
from scoring import export_jobs
from scoring.models import ExportJob, ExportStatus

PAGE_SIZE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Units offered in the form's list (a branch is offered when it is the user's own or pre-filled).
LISTED_KINDS = (OrgKind.COMMITTEE, OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH)


def _org_choices(user: User, extra: int | None) -> list[tuple[int, str]]:
    """Units the user may export: their staffed units (no branches: thousands of them), their
    own organisations as 书记/副书记, and the pre-filled organisation when visible."""
    own = [g.org_id for g in grants_of(user) if g.role in FILL_ROLES]
    wanted = (
        OrgUnit.objects.filter(scope_q(user, roles=STAFF_ROLES), kind__in=LISTED_KINDS)
        | OrgUnit.objects.filter(pk__in=own)
        | organisations_visible_to(user).filter(pk=extra if extra is not None else 0)
    )
    return [
        (pk, "　" * depth + name)
        for pk, name, depth in wanted.filter(is_active=True)
        .order_by("path")
        .values_list("pk", "name", "depth")
        .distinct()
    ]


def _to_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class ExportForm(forms.Form):
    campaign = forms.TypedChoiceField(label="创建活动", coerce=int)
    org = forms.TypedChoiceField(
        label="导出范围", coerce=int, help_text="导出该党组织及其全部下级党组织的考核情况。"
    )

    def __init__(self, *args: Any, user: User, org_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaign_field = self.fields["campaign"]
        org_field = self.fields["org"]
        assert isinstance(campaign_field, forms.ChoiceField) and isinstance(org_field, forms.ChoiceField)
        campaign_field.choices = [(c.pk, c.name) for c in campaigns_visible_to(user).order_by("-year")]
        org_field.choices = _org_choices(user, org_id)


def _own_job_or_404(request: AuthedHttpRequest, pk: int) -> ExportJob:
    job = export_jobs.exports_visible_to(request.user).filter(pk=pk).first()
    if job is None:
        record_out_of_scope(request, "ExportJob", pk)
        raise Http404("没有找到该导出任务。")
    return job


@require_GET
@access(AUTHENTICATED)
def export_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(export_jobs.exports_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "scoring/export_list.html",
        {"page": page, "can_export": export_jobs.can_export_anything(request.user)},
    )


@require_http_methods(["GET", "POST"])
@access(AUTHENTICATED)
def export_create(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if not export_jobs.can_export_anything(user):
        raise PermissionDenied("您无权导出考核汇总表。")
    if request.method == "POST":
        org_id = _to_int(request.POST.get("org"))
        if org_id is not None and not organisations_visible_to(user).filter(pk=org_id).exists():
            record_out_of_scope(request, "OrgUnit", org_id)
            raise Http404("没有找到该党组织。")
        form = ExportForm(request.POST, user=user, org_id=org_id)
        if form.is_valid():
            campaign = campaigns_visible_to(user).filter(pk=form.cleaned_data["campaign"]).first()
            org = organisations_visible_to(user).filter(pk=form.cleaned_data["org"]).first()
            if campaign is None or org is None:
                record_out_of_scope(request, "OrgUnit", form.cleaned_data["org"])
                raise Http404("没有找到该党组织或创建活动。")
            try:
                job = export_jobs.export_request(campaign=campaign, org=org, actor=user, request=request)
            except export_jobs.ExportRefused as exc:
                if exc.not_found:
                    record_out_of_scope(request, "OrgUnit", org.pk)
                    raise Http404(str(exc)) from None
                raise PermissionDenied(str(exc)) from None
            messages.success(request, "已提交导出任务，生成完成后可下载。")
            return redirect("scoring:export_detail", pk=job.pk)
    else:
        org_id = _to_int(request.GET.get("org"))
        initial = {"campaign": _to_int(request.GET.get("campaign")), "org": org_id}
        form = ExportForm(
            initial={k: v for k, v in initial.items() if v is not None}, user=user, org_id=org_id
        )
    return render(request, "scoring/export_form.html", {"form": form})


def _status_context(job: ExportJob) -> dict[str, Any]:
    return {"job": job, "polling": job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)}


@require_GET
@access(AUTHENTICATED)
def export_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    job = _own_job_or_404(request, pk)
    return render(request, "scoring/export_detail.html", _status_context(job))


@require_GET
@access(AUTHENTICATED)
def export_status(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The progress fragment the detail page polls (htmx, every 2 s while queued or running)."""
    job = _own_job_or_404(request, pk)
    response = render(request, "scoring/export_status.html", _status_context(job))
    patch_cache_control(response, no_store=True)
    return response


@require_GET
@access(AUTHENTICATED)
def export_download(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    job = _own_job_or_404(request, pk)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404("导出文件尚未生成。")
    prefix = getattr(settings, "PRIVATE_ACCEL_PREFIX", "")
    response: HttpResponseBase
    if prefix:
        # nginx serves the bytes from an `internal` location; Django only decides who may.
        response = HttpResponse(content_type=XLSX)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + job.file
        response["Content-Disposition"] = content_disposition_header(True, job.filename) or "attachment"
    else:
        file_path = export_jobs.export_path(job)
        if not file_path.resolve().is_relative_to(Path(settings.PRIVATE_ROOT).resolve()):
            raise Http404("没有找到该文件。")
        try:
            handle = file_path.open("rb")
        except FileNotFoundError:
            raise Http404("文件已丢失，请重新导出。") from None
        response = FileResponse(handle, as_attachment=True, filename=job.filename, content_type=XLSX)
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


urlpatterns: list[URLPattern] = [
    path("exports/", export_list, name="export_list"),
    path("exports/new/", export_create, name="export_create"),
    path("exports/<int:pk>/", export_detail, name="export_detail"),
    path("exports/<int:pk>/status/", export_status, name="export_status"),
    path("exports/<int:pk>/download/", export_download, name="export_download"),
]

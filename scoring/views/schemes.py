"""Views: rating schemes (评星方案) — the list, a readable page, the structured editor, JSON export and import.

Any staff member may read schemes; only 工委 staff write them (``can_manage_rating``). Saving never
edits a version: the editor and the import both store a new ``SchemeVersion`` through ``scheme_save``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_http_methods

from branches.access import STAFF, AuthedHttpRequest, access, record_out_of_scope
from campaigns.models import Campaign
from campaigns.selectors import campaigns_visible_to
from scoring import presets
from scoring.models import RatingRound, SchemeVersion
from scoring.permissions import can_manage_rating
from scoring.scheme_forms import (
    APPLIES_TO_LABELS,
    SchemeImportForm,
    blank_scheme,
    dict_to_rows,
    form_context,
    form_parse,
    import_error_line,
    scheme_json,
    scheme_summary,
)
from scoring.schemes import SchemeError, scheme_from_dict, scheme_to_dict
from scoring.selectors import schemes_visible_to
from scoring.services import RatingRefused, scheme_of, scheme_save


def _campaign_or_404(request: AuthedHttpRequest, pk: int) -> Campaign:
    try:
        return campaigns_visible_to(request.user).get(pk=pk)
    except Campaign.DoesNotExist:
        record_out_of_scope(request, "Campaign", pk)
        raise Http404("没有找到该创建活动。") from None


def _version_or_404(request: AuthedHttpRequest, pk: int) -> SchemeVersion:
    try:
        return schemes_visible_to(request.user).select_related("created_by").get(pk=pk)
    except SchemeVersion.DoesNotExist:
        record_out_of_scope(request, "SchemeVersion", pk)
        raise Http404("没有找到该评星方案。") from None


def _require_manage(request: AuthedHttpRequest) -> None:
    if not can_manage_rating(request.user):
        raise PermissionDenied("只有工委工作人员可以修改评星方案。")


def _preset_rows() -> list[dict[str, Any]]:
    rows = []
    for name in presets.available():
        scheme = presets.load(name)
        rows.append(
            {
                "key": name,
                "name": scheme.name,
                "notes": scheme.notes,
                "applies_to_label": APPLIES_TO_LABELS.get(scheme.applies_to, scheme.applies_to),
            }
        )
    return rows


@require_GET
@access(STAFF)
def scheme_list(request: AuthedHttpRequest) -> HttpResponse:
    campaigns = list(campaigns_visible_to(request.user).order_by("-year"))
    versions = (
        SchemeVersion.objects.filter(campaign__in=[c.pk for c in campaigns])
        .select_related("created_by")
        .prefetch_related(Prefetch("rounds", queryset=RatingRound.objects.order_by("applies_to")))
        .order_by("-number")
    )
    by_campaign: dict[int, list[SchemeVersion]] = defaultdict(list)
    for version in versions:
        by_campaign[version.campaign_id].append(version)
    context = {
        "blocks": [{"campaign": c, "versions": by_campaign[c.pk]} for c in campaigns],
        "presets": _preset_rows(),
        "can_manage": can_manage_rating(request.user),
        "writable": [c for c in campaigns if not c.is_locked],
    }
    return render(request, "scoring/scheme_list.html", context)


@require_GET
@access(STAFF)
def scheme_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    scheme = scheme_of(version)
    context = {
        "version": version,
        "campaign": version.campaign,
        "summary": scheme_summary(scheme),
        "notes": scheme.notes,
        "rounds": list(version.rounds.order_by("applies_to")),
        "json_text": json.dumps(scheme_to_dict(scheme), ensure_ascii=False, indent=2),
        "can_manage": can_manage_rating(request.user) and not version.campaign.is_locked,
    }
    return render(request, "scoring/scheme_detail.html", context)


def _editor(
    request: AuthedHttpRequest, campaign: Campaign, start: dict[str, Any], base: SchemeVersion | None
) -> HttpResponse:
    """GET shows ``start`` in the editor; POST saves a new version or shows the form again with errors."""
    note = request.POST.get("note", "") if request.method == "POST" else ""
    if request.method == "GET":
        context = dict_to_rows(start)
    else:
        submitted = form_parse(request.POST)
        errors = list(submitted.errors)
        try:
            if errors:
                scheme_from_dict(submitted.data)  # collect the validator's errors too
            else:
                latest = campaign.scheme_versions.order_by("-number").first()
                version = scheme_save(campaign=campaign, data=submitted.data, actor=request.user, note=note)
                if latest is not None and version.pk == latest.pk:
                    messages.info(request, f"方案与第 {version.number} 版完全相同，未生成新版本。")
                else:
                    messages.success(request, f"已保存为第 {version.number} 版。")
                return redirect("scoring:scheme", pk=version.pk)
        except SchemeError as exc:
            errors += exc.errors
        except RatingRefused as exc:
            messages.error(request, exc.message)
        context = form_context(submitted, errors)
    context.update({"campaign": campaign, "base": base, "note": note, "locked": campaign.is_locked})
    return render(request, "scoring/scheme_form.html", context)


@require_http_methods(["GET", "POST"])
@access(STAFF)
def scheme_new(request: AuthedHttpRequest, campaign_pk: int) -> HttpResponse:
    _require_manage(request)
    campaign = _campaign_or_404(request, campaign_pk)
    start, base = blank_scheme(campaign.year), None
    if preset := request.GET.get("preset"):
        try:
            start = scheme_to_dict(presets.load(preset))
        except KeyError:
            raise Http404("没有找到该预置方案。") from None
    elif source := request.GET.get("from"):
        base = _version_or_404(request, int(source)) if source.isdigit() else None
        if base is None:
            raise Http404("没有找到该评星方案。")
        start = scheme_to_dict(scheme_of(base))
    return _editor(request, campaign, start, base)


@require_http_methods(["GET", "POST"])
@access(STAFF)
def scheme_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    version = _version_or_404(request, pk)
    return _editor(request, version.campaign, scheme_to_dict(scheme_of(version)), version)


def _attachment(filename: str, fallback: str) -> str:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@require_GET
@access(STAFF)
def scheme_export(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    response = HttpResponse(scheme_json(scheme_of(version)), content_type="application/json; charset=utf-8")
    safe_name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", version.name).strip() or "评星方案"
    response["Content-Disposition"] = _attachment(
        f"{safe_name}-第{version.number}版.json", f"scheme-{version.campaign.year}-v{version.number}.json"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
@access(STAFF)
def scheme_import(request: AuthedHttpRequest, campaign_pk: int) -> HttpResponse:
    _require_manage(request)
    campaign = _campaign_or_404(request, campaign_pk)
    form = SchemeImportForm(request.POST or None, request.FILES or None)
    error_lines: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            version = scheme_save(
                campaign=campaign,
                data=form.cleaned_data["file"],
                actor=request.user,
                note=form.cleaned_data["note"] or "从文件导入",
            )
        except SchemeError as exc:
            error_lines = [import_error_line(p, m) for p, m in exc.errors]
        except RatingRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已导入为第 {version.number} 版。")
            return redirect("scoring:scheme", pk=version.pk)
    context = {"campaign": campaign, "form": form, "error_lines": error_lines, "locked": campaign.is_locked}
    return render(request, "scoring/scheme_import.html", context)


urlpatterns: list[URLPattern] = [
    path("schemes/", scheme_list, name="schemes"),
    path("schemes/<int:pk>/", scheme_detail, name="scheme"),
    path("schemes/<int:pk>/edit/", scheme_edit, name="scheme_edit"),
    path("schemes/<int:pk>/export/", scheme_export, name="scheme_export"),
    path("campaigns/<int:campaign_pk>/schemes/new/", scheme_new, name="scheme_new"),
    path("campaigns/<int:campaign_pk>/schemes/import/", scheme_import, name="scheme_import"),
]

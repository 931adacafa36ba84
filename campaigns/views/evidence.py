"""Views: evidence (佐证材料). Upload, link, unlink, revise, download and the organisation's library.

Files are only ever served by `evidence_download`, after the revision was found through the
user's scope; in production nginx sends the bytes via X-Accel-Redirect to an internal location.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from branches.access import AUTHENTICATED, AuthedHttpRequest, access, record_out_of_scope
from branches.models import User
from campaigns import selectors
from campaigns.models import ChecklistEntry, EntryEvidence, Evidence, EvidenceRevision
from campaigns.services import evidence as services
from campaigns.services.entries import EntryError

PAGE_SIZE = 20
LIBRARY_LIMIT = 200


# --- access helpers: out of scope is indistinguishable from absent ------------------------


def _visible_entry_or_404(request: AuthedHttpRequest, pk: int) -> ChecklistEntry:
    try:
        return selectors.entries_visible_to(request.user).select_related("campaign", "org").get(pk=pk)
    except ChecklistEntry.DoesNotExist:
        record_out_of_scope(request, "ChecklistEntry", pk)
        raise Http404("没有找到该条目。") from None


def _visible_evidence_or_404(request: AuthedHttpRequest, pk: object) -> Evidence:
    try:
        return (
            selectors.evidence_visible_to(request.user).select_related("org", "current").get(pk=int(str(pk)))
        )
    except (Evidence.DoesNotExist, ValueError):
        record_out_of_scope(request, "Evidence", pk)
        raise Http404("没有找到该佐证材料。") from None


def _visible_revision_or_404(request: AuthedHttpRequest, pk: int) -> EvidenceRevision:
    visible = selectors.evidence_visible_to(request.user)
    try:
        return EvidenceRevision.objects.filter(evidence__in=visible).get(pk=pk)
    except EvidenceRevision.DoesNotExist:
        record_out_of_scope(request, "EvidenceRevision", pk)
        raise Http404("没有找到该文件。") from None


def _entry_url(entry: ChecklistEntry) -> str:
    return reverse("campaigns:entry_detail", kwargs={"pk": entry.pk})


def _report(request: AuthedHttpRequest, exc: EntryError) -> None:
    messages.error(request, exc.message)


# --- the entry page's panel --------------------------------------------------------------


def panel_context(user: User, entry: ChecklistEntry) -> dict[str, Any]:
    """Context for templates/campaigns/_evidence_panel.html (three queries, whatever the size)."""
    links = list(
        EntryEvidence.objects.filter(entry=entry)
        .select_related("evidence", "evidence__current", "evidence__current__uploaded_by")
        .annotate(revision_count=Count("evidence__revisions"))
        .order_by("linked_at", "pk")
    )
    can_edit = services.can_edit_entry_evidence(user, entry)
    library: list[Evidence] = []
    if can_edit:
        library = list(
            Evidence.objects.filter(org_id=entry.org_id, current__isnull=False)
            .exclude(links__entry=entry)
            .select_related("current")
            .order_by("-created_at")[:LIBRARY_LIMIT]
        )
    return {
        "entry": entry,
        "evidence_links": links,
        "can_edit": can_edit,
        "library": library,
        "evidence_accept": ",".join(f".{e}" for e in settings.EVIDENCE_ALLOWED_EXTENSIONS),
        "evidence_max_size": services.human_size(settings.EVIDENCE_MAX_BYTES),
    }


# --- writes ------------------------------------------------------------------------------


@require_POST
@access(AUTHENTICATED)
def evidence_upload(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    entry = _visible_entry_or_404(request, pk)
    try:
        evidence = services.evidence_upload(
            org=entry.org,
            file=request.FILES.get("file"),
            title=request.POST.get("title", ""),
            actor=request.user,
            entry=entry,
        )
    except EntryError as exc:
        _report(request, exc)
    else:
        messages.success(request, f"已上传佐证材料“{evidence.title}”。")
        if services.duplicates_of(evidence):
            messages.info(request, "提示：本组织已有内容完全相同的文件，可直接“使用已有文件”。")
    return redirect(_entry_url(entry))


@require_POST
@access(AUTHENTICATED)
def evidence_link(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    entry = _visible_entry_or_404(request, pk)
    chosen = request.POST.get("evidence", "")
    if not chosen.isdigit():
        messages.error(request, "请选择要使用的文件。")
        return redirect(_entry_url(entry))
    evidence = _visible_evidence_or_404(request, chosen)
    try:
        services.evidence_link(entry=entry, evidence=evidence, actor=request.user)
    except EntryError as exc:
        _report(request, exc)
    else:
        messages.success(request, f"已关联佐证材料“{evidence.title}”。")
    return redirect(_entry_url(entry))


@require_POST
@access(AUTHENTICATED)
def evidence_unlink(request: AuthedHttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    entry = _visible_entry_or_404(request, pk)
    evidence = _visible_evidence_or_404(request, evidence_pk)
    try:
        services.evidence_unlink(entry=entry, evidence=evidence, actor=request.user)
    except EntryError as exc:
        _report(request, exc)
    else:
        messages.success(request, f"已移除佐证材料“{evidence.title}”（文件仍保留在本组织资料库中）。")
    return redirect(_entry_url(entry))


@require_POST
@access(AUTHENTICATED)
def evidence_revise(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    evidence = _visible_evidence_or_404(request, pk)
    try:
        revision = services.evidence_revise(
            evidence=evidence, file=request.FILES.get("file"), actor=request.user
        )
    except EntryError as exc:
        _report(request, exc)
    else:
        messages.success(request, f"已上传第 {revision.number} 版，历史版本仍可下载。")
    return redirect("campaigns:evidence_detail", pk=evidence.pk)


# --- reads -------------------------------------------------------------------------------


@require_GET
@access(AUTHENTICATED)
def evidence_download(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    revision = _visible_revision_or_404(request, pk)
    prefix = getattr(settings, "PRIVATE_ACCEL_PREFIX", "")
    response: HttpResponseBase
    if prefix:
        # nginx serves the bytes from an `internal` location; Django only decides who may.
        response = HttpResponse(content_type=revision.content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + revision.stored_name
        response["Content-Disposition"] = (
            content_disposition_header(True, revision.original_name) or "attachment"
        )
    else:
        file_path = services.stored_path(revision)
        if not file_path.resolve().is_relative_to(Path(settings.PRIVATE_ROOT).resolve()):
            raise Http404("没有找到该文件。")
        try:
            handle = file_path.open("rb")
        except FileNotFoundError:
            raise Http404("文件已丢失，请联系管理员。") from None
        response = FileResponse(
            handle, as_attachment=True, filename=revision.original_name, content_type=revision.content_type
        )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@access(AUTHENTICATED)
def evidence_library(request: AuthedHttpRequest) -> HttpResponse:
    qs = (
        selectors.evidence_visible_to(request.user)
        .filter(current__isnull=False)
        .select_related("org", "current", "current__uploaded_by")
        .annotate(revision_count=Count("revisions", distinct=True), entry_count=Count("links", distinct=True))
        .order_by("-created_at", "-pk")
    )
    org = request.GET.get("org", "")
    if org.isdigit():
        qs = qs.filter(org_id=int(org))
    text = request.GET.get("q", "").strip()[:50]
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(current__original_name__icontains=text))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "campaigns/evidence_library.html", {"page": page, "rows": list(page), "q": text})


@require_GET
@access(AUTHENTICATED)
def evidence_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    evidence = _visible_evidence_or_404(request, pk)
    revisions = evidence.revisions.select_related("uploaded_by").order_by("-number")
    entries = selectors.entries_visible_to(request.user).filter(evidence_links__evidence=evidence)
    context = {
        "evidence": evidence,
        "revisions": list(revisions),
        "entries": list(entries.select_related("item", "org").order_by("org__path", "item__code", "period")),
        "can_manage": services.can_manage_evidence(request.user, evidence),
        "evidence_accept": ",".join(f".{e}" for e in settings.EVIDENCE_ALLOWED_EXTENSIONS),
        "evidence_max_size": services.human_size(settings.EVIDENCE_MAX_BYTES),
    }
    return render(request, "campaigns/evidence_detail.html", context)


urlpatterns: list[URLPattern] = [
    path("entries/<int:pk>/evidence/", evidence_upload, name="evidence_upload"),
    path("entries/<int:pk>/evidence/link/", evidence_link, name="evidence_link"),
    path("entries/<int:pk>/evidence/<int:evidence_pk>/unlink/", evidence_unlink, name="evidence_unlink"),
    path("evidence/", evidence_library, name="evidence_library"),
    path("evidence/<int:pk>/", evidence_detail, name="evidence_detail"),
    path("evidence/<int:pk>/revise/", evidence_revise, name="evidence_revise"),
    path("evidence/revisions/<int:pk>/download/", evidence_download, name="evidence_download"),
]

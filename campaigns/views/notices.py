"""Notices (通报), interviews (约谈) and the mid-year snapshot (年中晒进度).

Each module declares its own urlpatterns; campaigns/urls.py joins them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import AUTHENTICATED, STAFF, AuthedHttpRequest, access, record_out_of_scope
from branches.models import OrgUnit, User
from branches.selectors import organisations_staffed_by, scope_q
from campaigns import permissions, selectors
from campaigns.forms.notices import InterviewForm, NoticeEditForm, NoticeScopeForm, SnapshotForm
from campaigns.models import (
    Campaign,
    Checklist,
    Finding,
    Interview,
    Notice,
    NoticeStatus,
    ProgressSnapshot,
    RectificationStatus,
    SnapshotRow,
)
from campaigns.services import interviews as interview_svc
from campaigns.services import notices as notice_svc
from campaigns.services import snapshots as snapshot_svc
from campaigns.services.entries import EntryError, PermissionRefused
from campaigns.views.checklist import campaign_or_404

PAGE_SIZE = 30
PICK_LIMIT = 200


def _ids(request: AuthedHttpRequest, name: str) -> list[int]:
    return [int(v) for v in request.POST.getlist(name) if v.isdigit()]


def _staffed_org_or_404(request: AuthedHttpRequest, code: str) -> OrgUnit:
    org = organisations_staffed_by(request.user).filter(code=code).first()
    if org is None:
        record_out_of_scope(request, "OrgUnit", code)
        raise Http404("没有找到该组织。")
    return org


def _get_or_404(request: AuthedHttpRequest, qs: QuerySet[Any], pk: int, what: str) -> Any:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        record_out_of_scope(request, what, pk)
        raise Http404("没有找到该记录。")
    return obj


# --- notices -------------------------------------------------------------------------------------


@require_GET
@access(AUTHENTICATED)
def notice_list(request: AuthedHttpRequest) -> HttpResponse:
    qs = (
        selectors.notices_visible_to(request.user)
        .select_related("scope", "campaign")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    can_draft = permissions.is_committee_staff(request.user) or bool(
        organisations_staffed_by(request.user).exists()
    )
    return render(request, "campaigns/notice_list.html", {"page": page, "can_draft": can_draft})


def _pick_lists(request: AuthedHttpRequest, campaign: Campaign, scope: OrgUnit) -> dict[str, Any]:
    closed_last = Case(
        When(rectification__status=RectificationStatus.CLOSED, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    findings = notice_svc.findings_in(user=request.user, campaign=campaign, scope=scope).order_by(
        closed_last, "org__path", "pk"
    )
    today = timezone.localdate()
    overdue = notice_svc.overdue_entries_in(user=request.user, campaign=campaign, scope=scope, today=today)
    return {
        "findings": list(findings[:PICK_LIMIT]),
        "overdue": [(e, (today - e.due_date).days if e.due_date else 0) for e in overdue[:PICK_LIMIT]],
        "pick_limit": PICK_LIMIT,
    }


@require_http_methods(["GET", "POST"])
@access(STAFF)
def notice_create(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    form = NoticeScopeForm(request.POST if request.method == "POST" else (request.GET or None))
    context: dict[str, Any] = {"campaign": campaign, "form": form}
    if campaign is None or not form.is_valid():
        return render(request, "campaigns/notice_create.html", context)
    scope = _staffed_org_or_404(request, form.cleaned_data["scope"])
    if not permissions.can_publish_notice(request.user, scope):
        raise PermissionDenied
    if request.method == "POST":
        notice = notice_svc.notice_draft(
            campaign=campaign,
            actor=request.user,
            scope=scope,
            kind=form.cleaned_data["kind"],
            finding_ids=_ids(request, "finding"),
            entry_ids=_ids(request, "entry"),
        )
        messages.success(request, "通报草稿已生成，请修改后发布。")
        return redirect("campaigns:notice_edit", notice.pk)
    context.update(scope=scope, **_pick_lists(request, campaign, scope))
    return render(request, "campaigns/notice_create.html", context)


def _notice_or_404(request: AuthedHttpRequest, pk: int) -> Notice:
    qs = selectors.notices_visible_to(request.user).select_related(
        "scope", "campaign__committee", "published_by"
    )
    notice: Notice = _get_or_404(request, qs, pk, "Notice")
    return notice


@require_http_methods(["GET", "POST"])
@access(STAFF)
def notice_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    notice = _notice_or_404(request, pk)
    if not permissions.can_publish_notice(request.user, notice.scope) or notice.status != NoticeStatus.DRAFT:
        raise PermissionDenied
    form = NoticeEditForm(request.POST or None, instance=notice)
    if request.method == "POST" and form.is_valid():
        notice_svc.notice_update(notice=notice, actor=request.user, **form.cleaned_data)
        messages.success(request, "通报已保存。")
        return redirect("campaigns:notice_detail", notice.pk)
    return render(request, "campaigns/notice_edit.html", {"notice": notice, "form": form})


@require_GET
@access(AUTHENTICATED)
def notice_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    notice = _notice_or_404(request, pk)
    context = {
        "notice": notice,
        "can_manage": notice.status == NoticeStatus.DRAFT
        and permissions.can_publish_notice(request.user, notice.scope),
    }
    return render(request, "campaigns/notice_detail.html", context)


@require_POST
@access(STAFF)
def notice_publish(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    notice = _notice_or_404(request, pk)
    try:
        notice_svc.notice_publish(notice=notice, actor=request.user)
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from exc
    except EntryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "通报已发布，范围内各党组织已收到站内消息。")
    return redirect("campaigns:notice_detail", notice.pk)


# --- interviews ----------------------------------------------------------------------------------


@require_GET
@access(AUTHENTICATED)
def interview_list(request: AuthedHttpRequest) -> HttpResponse:
    qs = (
        selectors.interviews_visible_to(request.user)
        .select_related("org", "campaign")
        .order_by("-held_at", "-pk")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    can_create = (
        permissions.is_committee_staff(request.user) or organisations_staffed_by(request.user).exists()
    )
    return render(request, "campaigns/interview_list.html", {"page": page, "can_create": can_create})


def _interview_form(
    request: AuthedHttpRequest, org: OrgUnit, instance: Interview | None = None
) -> InterviewForm:
    accounts = User.objects.filter(grants__org=org).distinct().order_by("username")
    initial = {"interviewee": instance.interviewee_id} if instance else None
    return InterviewForm(request.POST or None, instance=instance, accounts=accounts, initial=initial)


def _interview_context(
    campaign: Campaign, org: OrgUnit, form: InterviewForm, chosen: set[int]
) -> dict[str, Any]:
    findings = Finding.objects.filter(campaign=campaign, org=org).order_by("-created_at", "-pk")[:PICK_LIMIT]
    return {"campaign": campaign, "org": org, "form": form, "findings": findings, "chosen": chosen}


def _save_interview(request: AuthedHttpRequest, form: InterviewForm, **target: Any) -> Interview | None:
    data = dict(form.cleaned_data)
    interviewee = data.pop("interviewee")
    try:
        if "interview" in target:
            return interview_svc.interview_update(
                actor=request.user,
                interviewee=interviewee,
                finding_ids=_ids(request, "finding"),
                **target,
                **data,
            )
        return interview_svc.interview_create(
            actor=request.user,
            interviewee=interviewee,
            finding_ids=_ids(request, "finding"),
            **target,
            **data,
        )
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from exc
    except EntryError as exc:
        form.add_error(None, exc.message)
        return None


@require_http_methods(["GET", "POST"])
@access(STAFF)
def interview_create(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    code = request.GET.get("org", "")
    if campaign is None or not code:
        return render(request, "campaigns/interview_form.html", {"campaign": campaign, "org": None})
    org = _staffed_org_or_404(request, code)
    form = _interview_form(request, org)
    if request.method == "POST" and form.is_valid():
        interview = _save_interview(request, form, campaign=campaign, org=org)
        if interview is not None:
            messages.success(request, "约谈记录已保存。")
            return redirect("campaigns:interview_detail", interview.pk)
    context = _interview_context(campaign, org, form, set(_ids(request, "finding")))
    return render(request, "campaigns/interview_form.html", context)


def _interview_or_404(request: AuthedHttpRequest, pk: int) -> Interview:
    qs = selectors.interviews_visible_to(request.user).select_related("org", "campaign", "interviewee")
    interview: Interview = _get_or_404(request, qs, pk, "Interview")
    return interview


@require_http_methods(["GET", "POST"])
@access(STAFF)
def interview_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    interview = _interview_or_404(request, pk)
    if not permissions.can_inspect(request.user, interview.org):
        raise PermissionDenied
    form = _interview_form(request, interview.org, interview)
    saved = (
        request.method == "POST" and form.is_valid() and _save_interview(request, form, interview=interview)
    )
    if saved:
        messages.success(request, "约谈记录已保存。")
        return redirect("campaigns:interview_detail", interview.pk)
    chosen = (
        set(_ids(request, "finding"))
        if request.method == "POST"
        else {f.pk for f in interview.findings.all()}
    )
    context = _interview_context(interview.campaign, interview.org, form, chosen) | {"interview": interview}
    return render(request, "campaigns/interview_form.html", context)


@require_GET
@access(AUTHENTICATED)
def interview_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    interview = _interview_or_404(request, pk)
    context = {
        "interview": interview,
        "findings": interview.findings.select_related("rectification").order_by("pk"),
        "can_edit": permissions.can_inspect(request.user, interview.org),
    }
    return render(request, "campaigns/interview_detail.html", context)


# --- snapshots -----------------------------------------------------------------------------------


@require_GET
@access(AUTHENTICATED)
def snapshot_list(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    qs = selectors.snapshots_visible_to(request.user).select_related("campaign", "created_by")
    page = Paginator(qs.order_by("-taken_on", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "campaign": campaign,
        "form": SnapshotForm(initial={"taken_on": timezone.localdate(), "title": "年中晒进度"}),
        "can_take": permissions.is_committee_staff(request.user) and campaign is not None,
    }
    return render(request, "campaigns/snapshot_list.html", context)


@require_POST
@access(STAFF)
def snapshot_create(request: AuthedHttpRequest) -> HttpResponse:
    if not permissions.is_committee_staff(request.user):
        raise PermissionDenied
    campaign = selectors.campaign_for_page(request.user, request.POST.get("campaign"))
    form = SnapshotForm(request.POST)
    if campaign is None or not form.is_valid():
        messages.error(request, "请填写快照名称和截至日期。")
        return redirect("campaigns:snapshot_list")
    snapshot = snapshot_svc.snapshot_take(campaign=campaign, actor=request.user, **form.cleaned_data)
    messages.success(request, "进度快照已生成。")
    return redirect("campaigns:snapshot_detail", snapshot.pk)


SORTS = {"path": "org.path", "then": "then_pct", "now": "now_pct", "change": "change"}
SORT_LABELS = (("path", "按组织"), ("then", "快照完成率"), ("now", "当前完成率"), ("change", "变化"))


def _comparison_rows(user: User, snapshot: ProgressSnapshot, sort: str) -> list[dict[str, Any]]:
    rows = SnapshotRow.objects.filter(scope_q(user, field="org__path"), snapshot=snapshot).select_related(
        "org"
    )
    checklists = Checklist.objects.filter(scope_q(user, field="org__path"), campaign_id=snapshot.campaign_id)
    live = snapshot_svc.progress_by_org(checklists, timezone.localdate())
    out: list[dict[str, Any]] = []
    for row in rows:
        now = live.get(row.org_id, {})
        then_pct = snapshot_svc.percent(row.done, row.total)
        now_pct = snapshot_svc.percent(now.get("done", 0), now.get("total", 0))
        change = None if then_pct is None or now_pct is None else round(now_pct - then_pct, 1)
        out.append(
            {
                "org": row.org,
                "row": row,
                "then_pct": then_pct,
                "now": now,
                "now_pct": now_pct,
                "change": change,
            }
        )
    if sort == "path":
        out.sort(key=lambda r: r["org"].path)
    else:
        key = SORTS[sort]
        out.sort(key=lambda r: (r[key] is None, -(r[key] or 0), r["org"].path))
    return out


@require_GET
@access(AUTHENTICATED)
def snapshot_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    qs = selectors.snapshots_visible_to(request.user).select_related("campaign", "created_by")
    snapshot: ProgressSnapshot = _get_or_404(request, qs, pk, "ProgressSnapshot")
    sort = request.GET.get("sort", "path")
    sort = sort if sort in SORTS else "path"
    rows = _comparison_rows(request.user, snapshot, sort)
    return render(
        request,
        "campaigns/snapshot_detail.html",
        {"snapshot": snapshot, "rows": rows, "sort": sort, "sort_options": SORT_LABELS},
    )


urlpatterns: list[URLPattern] = [
    path("notices/", notice_list, name="notice_list"),
    path("notices/new/", notice_create, name="notice_create"),
    path("notices/<int:pk>/", notice_detail, name="notice_detail"),
    path("notices/<int:pk>/edit/", notice_edit, name="notice_edit"),
    path("notices/<int:pk>/publish/", notice_publish, name="notice_publish"),
    path("interviews/", interview_list, name="interview_list"),
    path("interviews/new/", interview_create, name="interview_create"),
    path("interviews/<int:pk>/", interview_detail, name="interview_detail"),
    path("interviews/<int:pk>/edit/", interview_edit, name="interview_edit"),
    path("snapshots/", snapshot_list, name="snapshot_list"),
    path("snapshots/new/", snapshot_create, name="snapshot_create"),
    path("snapshots/<int:pk>/", snapshot_detail, name="snapshot_detail"),
]

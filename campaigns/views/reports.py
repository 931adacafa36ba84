"""年终述责 (domain.md §8): 我的述职报告, report review and the staff's report list."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import AUTHENTICATED, STAFF, AuthedHttpRequest, access, record_out_of_scope
from branches.models import OrgKind, OrgUnit, User
from branches.selectors import grants_of, organisations_staffed_by, organisations_visible_to
from campaigns import selectors
from campaigns.forms.reports import (
    BallotForm,
    ReporterForm,
    ReportForm,
    ReportReturnForm,
    ReportUploadForm,
    ReviewFindingForm,
    SessionForm,
    VersionForm,
)
from campaigns.models import (
    Ballot,
    DutyReport,
    EntryMode,
    Evidence,
    ReportStatus,
    ReviewSession,
    SessionReporter,
    SessionStatus,
)
from campaigns.permissions import FILL_ROLES, can_review_anything
from campaigns.services import evidence as evidence_svc
from campaigns.services import reports as svc
from campaigns.services.entries import EntryError, PermissionRefused
from campaigns.views.checklist import campaign_or_404

PAGE_SIZE = 50


def _report_or_404(request: AuthedHttpRequest, pk: int) -> DutyReport:
    try:
        return (
            selectors.reports_visible_to(request.user)
            .select_related("campaign__committee", "org__parent", "author", "reviewed_by")
            .get(pk=pk)
        )
    except DutyReport.DoesNotExist:
        record_out_of_scope(request, "DutyReport", pk)
        raise Http404("没有找到该述职报告。") from None


def _run(
    request: AuthedHttpRequest, report: DutyReport, call: Callable[[], object], done: str
) -> HttpResponse:
    """Run a service call: refusals answer 403, business errors go back to the page as a message."""
    try:
        call()
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except EntryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("campaigns:report_detail", pk=report.pk)


def _bound(request: AuthedHttpRequest, report: DutyReport, form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        messages.error(request, "提交的内容不完整，请检查后重试。")
        return {}
    return form.cleaned_data


@require_GET
@access(AUTHENTICATED)
def report_mine(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    org_ids = {g.org_id for g in grants_of(request.user) if g.role in FILL_ROLES}
    orgs = list(OrgUnit.objects.filter(pk__in=org_ids).order_by("path"))
    reports = (
        {r.org_id: r for r in DutyReport.objects.filter(campaign=campaign, org__in=orgs)} if campaign else {}
    )
    rows = [{"org": o, "report": reports.get(o.pk)} for o in orgs]
    return render(request, "campaigns/report_mine.html", {"campaign": campaign, "rows": rows})


@require_POST
@access(AUTHENTICATED)
def report_generate(request: AuthedHttpRequest, org_pk: int) -> HttpResponse:
    """Create the report with a factual draft (or refresh the draft of an unsubmitted one)."""
    campaign = selectors.campaign_for_page(request.user, request.POST.get("campaign"))
    org = organisations_visible_to(request.user).filter(pk=org_pk).first()
    if campaign is None or org is None:
        record_out_of_scope(request, "OrgUnit", org_pk)
        raise Http404("没有找到该组织。")
    try:
        report = svc.report_draft(campaign=campaign, org=org, actor=request.user)
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except EntryError as exc:
        messages.error(request, exc.message)
        return redirect("campaigns:report_mine")
    messages.success(request, "已根据本年度数据生成述职报告草稿，请修改完善后提交。")
    return redirect("campaigns:report_detail", pk=report.pk)


@require_GET
@access(AUTHENTICATED)
def report_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    can_write = svc.can_write_report(request.user, report.org) and report.status in svc.EDITABLE
    can_review = svc.can_review_report(request.user, report) and report.status == ReportStatus.SUBMITTED
    initial = {"version": report.version, "title": report.title, "body": report.body}
    context: dict[str, Any] = {
        "report": report,
        "facts": svc.report_facts(campaign=report.campaign, org=report.org),
        "files": list(report.files.select_related("current")),
        "can_write": can_write,
        "can_review": can_review,
        "form": ReportForm(initial=initial) if can_write else None,
        "upload_form": ReportUploadForm() if can_write else None,
        "return_form": ReportReturnForm(initial={"version": report.version}) if can_review else None,
    }
    return render(request, "campaigns/report_detail.html", context)


@require_POST
@access(AUTHENTICATED)
def report_save(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    d = _bound(request, report, ReportForm(request.POST))
    if not d:
        return redirect("campaigns:report_detail", pk=report.pk)
    call = partial(
        svc.report_save,
        report=report,
        actor=request.user,
        expected_version=d["version"],
        title=d["title"],
        body=d["body"],
    )
    return _run(request, report, call, "已保存。")


@require_POST
@access(AUTHENTICATED)
def report_upload(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    if not svc.can_write_report(request.user, report.org):
        raise PermissionDenied("您没有权限上传附件。")
    form = ReportUploadForm(request.POST, request.FILES)
    file = request.FILES.get("file") if form.is_valid() else None

    def call() -> object:
        def attach(ev: Evidence) -> None:
            svc.report_attach(report=report, evidence=ev, actor=request.user)

        return evidence_svc.evidence_store(
            org=report.org, file=file, title=request.POST.get("title", ""), actor=request.user, attach=attach
        )

    return _run(request, report, call, "附件已上传。")


@require_POST
@access(AUTHENTICATED)
def report_submit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    d = _bound(request, report, VersionForm(request.POST))
    if not d:
        return redirect("campaigns:report_detail", pk=report.pk)
    call = partial(svc.report_submit, report=report, actor=request.user, expected_version=d["version"])
    return _run(request, report, call, "述职报告已提交。")


@require_POST
@access(STAFF)
def report_return(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    d = _bound(request, report, ReportReturnForm(request.POST))
    if not d:
        return redirect("campaigns:report_detail", pk=report.pk)
    call = partial(
        svc.report_return,
        report=report,
        actor=request.user,
        expected_version=d["version"],
        reason=d["reason"],
    )
    return _run(request, report, call, "已退回。")


@require_POST
@access(STAFF)
def report_reviewed(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    d = _bound(request, report, VersionForm(request.POST))
    if not d:
        return redirect("campaigns:report_detail", pk=report.pk)
    call = partial(svc.report_mark_reviewed, report=report, actor=request.user, expected_version=d["version"])
    return _run(request, report, call, "已标记为已审阅。")


@require_GET
@access(STAFF)
def report_list(request: AuthedHttpRequest) -> HttpResponse:
    """Organisations in the staff member's subtree with their report status; 未提交 shown plainly."""
    campaign = campaign_or_404(request)
    if campaign is None:
        return render(request, "campaigns/report_list.html", {"campaign": None})
    orgs = (
        organisations_staffed_by(request.user)
        .filter(path__startswith=campaign.committee.path)
        .exclude(kind__in=[OrgKind.COMMITTEE, OrgKind.PARTY_GROUP])
        .order_by("path")
    )
    if request.GET.get("missing"):
        handed_in = DutyReport.objects.filter(
            campaign=campaign, status__in=[ReportStatus.SUBMITTED, ReportStatus.REVIEWED]
        )
        orgs = orgs.exclude(pk__in=handed_in.values("org_id"))
    page = Paginator(orgs, PAGE_SIZE).get_page(request.GET.get("page"))
    reports = {
        r.org_id: r for r in DutyReport.objects.filter(campaign=campaign, org__in=list(page.object_list))
    }
    rows = [{"org": o, "report": reports.get(o.pk)} for o in page.object_list]
    context = {"campaign": campaign, "page": page, "rows": rows, "missing": bool(request.GET.get("missing"))}
    context["list_url"] = reverse("campaigns:report_list")
    return render(request, "campaigns/report_list.html", context)


# --- 述职评议 sessions -----------------------------------------------------------------------


def _session_or_404(request: AuthedHttpRequest, pk: int) -> ReviewSession:
    try:
        return (
            selectors.sessions_visible_to(request.user)
            .select_related("campaign__committee", "scope")
            .get(pk=pk)
        )
    except ReviewSession.DoesNotExist:
        record_out_of_scope(request, "ReviewSession", pk)
        raise Http404("没有找到该述职评议。") from None


def _reporter_or_404(request: AuthedHttpRequest, pk: int) -> SessionReporter:
    sessions = selectors.sessions_visible_to(request.user)
    try:
        return (
            SessionReporter.objects.filter(session__in=sessions)
            .select_related("session__campaign__committee", "session__scope", "org")
            .get(pk=pk)
        )
    except SessionReporter.DoesNotExist:
        record_out_of_scope(request, "SessionReporter", pk)
        raise Http404("没有找到该述职人。") from None


def _run_session(
    request: AuthedHttpRequest, session: ReviewSession, call: Callable[[], object], done: str
) -> HttpResponse:
    try:
        call()
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except EntryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("campaigns:session_detail", pk=session.pk)


@require_GET
@access(AUTHENTICATED)
def session_list(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    sessions = (
        selectors.sessions_visible_to(request.user).filter(campaign=campaign).select_related("scope")
        if campaign
        else ReviewSession.objects.none()
    )
    page = Paginator(sessions.order_by("-held_on", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"campaign": campaign, "page": page, "can_create": can_review_anything(request.user)}
    return render(request, "campaigns/review_session_list.html", context)


@require_http_methods(["GET", "POST"])
@access(STAFF)
def session_create(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    form = SessionForm(request.POST or None)
    if campaign is not None and request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        scope = organisations_staffed_by(request.user).filter(code=d["scope"]).first()
        raters = list(User.objects.filter(username__in=d["raters"], is_active=True))
        if scope is None:
            form.add_error("scope", "没有找到该组织，或不在您的工作范围内。")
        elif len(raters) != len(set(d["raters"])):
            form.add_error("raters", "有评议人用户名不存在。")
        else:
            try:
                session = svc.session_create(
                    campaign=campaign,
                    scope=scope,
                    title=d["title"],
                    held_on=d["held_on"],
                    actor=request.user,
                    entry_mode=d["entry_mode"],
                    scale=d["scale"],
                    good_labels=d["good_labels"],
                    thresholds=d["thresholds"],
                    raters=raters,
                )
            except PermissionRefused as exc:
                raise PermissionDenied(exc.message) from None
            except EntryError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "述职评议已创建，请添加述职人。")
                return redirect("campaigns:session_detail", pk=session.pk)
    return render(request, "campaigns/review_session_form.html", {"campaign": campaign, "form": form})


@require_GET
@access(AUTHENTICATED)
def session_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    session = _session_or_404(request, pk)
    is_rater = session.raters.filter(pk=request.user.pk).exists()
    can_run = svc.can_run_session(request.user, session.scope)
    mine = dict(
        Ballot.objects.filter(reporter__session=session, rater=request.user).values_list(
            "reporter_id", "label"
        )
    )
    is_open = session.status == SessionStatus.OPEN
    context: dict[str, Any] = {
        "session": session,
        "rows": [{"result": r, "my_label": mine.get(r.reporter.pk)} for r in svc.session_results(session)],
        "can_vote": is_rater and is_open and session.entry_mode == EntryMode.PER_RATER,
        "can_tally": can_run and is_open and session.entry_mode == EntryMode.TALLY,
        "can_run": can_run,
        "is_open": is_open,
        "reporter_form": ReporterForm() if can_run and is_open else None,
        "finding_form": ReviewFindingForm() if can_run else None,
    }
    return render(request, "campaigns/review_session_detail.html", context)


@require_POST
@access(STAFF)
def session_reporter_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    session = _session_or_404(request, pk)
    if not svc.can_run_session(request.user, session.scope):
        raise PermissionDenied("您没有权限添加述职人。")
    form = ReporterForm(request.POST)
    # Through the scope selector: an organisation outside the user's subtree is "not found".
    visible = organisations_visible_to(request.user)
    org = visible.filter(code=form.cleaned_data["org"].strip()).first() if form.is_valid() else None
    if org is None:
        messages.error(request, "没有找到该组织。")
        return redirect("campaigns:session_detail", pk=session.pk)
    name = form.cleaned_data["reporter_name"]
    call = partial(
        svc.session_add_reporters, session=session, reporters=[(org, None, name)], actor=request.user
    )
    return _run_session(request, session, call, "已添加述职人。")


@require_POST
@access(AUTHENTICATED)
def session_ballot(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    reporter = _reporter_or_404(request, pk)
    form = BallotForm(request.POST)
    label = form.cleaned_data["label"] if form.is_valid() else ""
    call = partial(svc.ballot_cast, reporter=reporter, rater=request.user, label=label)
    return _run_session(request, reporter.session, call, f"已投票：{reporter.org.name}。")


@require_POST
@access(STAFF)
def session_tally(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    reporter = _reporter_or_404(request, pk)
    session = reporter.session
    counts: dict[str, int] = {}
    for i, label in enumerate(session.scale):
        raw = request.POST.get(f"count_{i}", "0").strip() or "0"
        counts[label] = int(raw) if raw.isdigit() else -1
    call = partial(svc.tally_set, reporter=reporter, counts=counts, actor=request.user)
    return _run_session(request, session, call, f"已录入票数：{reporter.org.name}。")


@require_POST
@access(STAFF)
def session_close(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    session = _session_or_404(request, pk)
    call = partial(svc.session_close, session=session, actor=request.user)
    return _run_session(request, session, call, "述职评议已结束，结果已锁定。")


@require_POST
@access(STAFF)
def session_finding(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A 述职点评 problem for the reporter's organisation; it goes to rectification."""
    reporter = _reporter_or_404(request, pk)
    form = ReviewFindingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写点评问题。")
        return redirect("campaigns:session_detail", pk=reporter.session_id)
    d = form.cleaned_data
    call = partial(
        svc.review_finding_create,
        reporter=reporter,
        description=d["description"],
        severity=d["severity"],
        actor=request.user,
    )
    return _run_session(request, reporter.session, call, "已登记述职点评问题，整改通知已发送。")


urlpatterns: list[URLPattern] = [
    path("reports/mine/", report_mine, name="report_mine"),
    path("reports/generate/<int:org_pk>/", report_generate, name="report_generate"),
    path("reports/", report_list, name="report_list"),
    path("reports/<int:pk>/", report_detail, name="report_detail"),
    path("reports/<int:pk>/save/", report_save, name="report_save"),
    path("reports/<int:pk>/upload/", report_upload, name="report_upload"),
    path("reports/<int:pk>/submit/", report_submit, name="report_submit"),
    path("reports/<int:pk>/return/", report_return, name="report_return"),
    path("reports/<int:pk>/reviewed/", report_reviewed, name="report_reviewed"),
    path("review-sessions/", session_list, name="session_list"),
    path("review-sessions/new/", session_create, name="session_create"),
    path("review-sessions/<int:pk>/", session_detail, name="session_detail"),
    path("review-sessions/<int:pk>/reporters/", session_reporter_add, name="session_reporter_add"),
    path("review-sessions/<int:pk>/close/", session_close, name="session_close"),
    path("review-sessions/reporters/<int:pk>/ballot/", session_ballot, name="session_ballot"),
    path("review-sessions/reporters/<int:pk>/tally/", session_tally, name="session_tally"),
    path("review-sessions/reporters/<int:pk>/finding/", session_finding, name="session_finding"),
]

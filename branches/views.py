"""HTTP only: authorise, bind a form, call one service or selector, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches import imports, selectors, services
from branches.access import (
    AUTHENTICATED,
    COMMITTEE_ADMIN,
    PUBLIC,
    AuthedHttpRequest,
    access,
    record_out_of_scope,
)
from branches.audit import describe_detail
from branches.forms import (
    LoginForm,
    OrgImportForm,
    OrgListFilterForm,
    RoleGrantForm,
    UserCreateForm,
    UserEditForm,
)
from branches.models import AuditAction, AuditEvent, OrgImport, OrgKind, OrgUnit, RoleGrant, User
from branches.permissions import can_staff_org

PAGE_SIZE = 50


def _visible_org_or_404(request: AuthedHttpRequest, pk: int) -> OrgUnit:
    """The one access helper for organisations: out of scope is indistinguishable from absent."""
    try:
        return selectors.organisations_visible_to(request.user).select_related("parent").get(pk=pk)
    except OrgUnit.DoesNotExist:
        record_out_of_scope(request, "OrgUnit", pk)
        raise Http404("没有找到该组织。") from None


# --- accounts -----------------------------------------------------------------

login_view = access(PUBLIC)(
    require_http_methods(["GET", "POST"])(
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True)
    )
)
logout_view = access(PUBLIC)(auth_views.LogoutView.as_view())
password_change_view = access(AUTHENTICATED)(
    auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done"))
)
password_change_done_view = access(AUTHENTICATED)(auth_views.PasswordChangeDoneView.as_view())


@require_GET
@access(PUBLIC)
def healthz(request: HttpRequest) -> JsonResponse:
    """Checks the database and the broker and says which is down (503 if any)."""
    from config.celery import app as celery_app

    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"down: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)


# --- home and organisations ------------------------------------------------------


def _tree_nodes(request: AuthedHttpRequest, orgs: list[OrgUnit]) -> list[dict]:
    ids = [o.pk for o in orgs]
    children = selectors.child_counts(ids)
    members = selectors.subtree_member_counts(orgs)
    return [{"org": o, "children": children.get(o.pk, 0), "members": members.get(o.pk, 0)} for o in orgs]


@require_GET
@access(AUTHENTICATED)
def org_tree(request: AuthedHttpRequest) -> HttpResponse:
    """The tree: visible roots with their children; deeper levels load on expand."""
    query = request.GET.get("q", "").strip()[:50]
    if query:
        results = list(selectors.search_organisations(request.user, query).select_related("parent")[:200])
        return render(
            request, "branches/org_tree.html", {"query": query, "results": _tree_nodes(request, results)}
        )
    roots = list(selectors.top_organisations_for(request.user))
    first_level = (
        list(
            selectors.organisations_visible_to(request.user)
            .filter(parent__in=roots)
            .order_by("sort_order", "code")
        )
        if len(roots) == 1
        else []
    )
    nodes = _tree_nodes(request, roots + first_level)
    root_nodes = [n for n in nodes if n["org"] in roots]
    child_nodes = [n for n in nodes if n["org"] not in roots]
    return render(
        request, "branches/org_tree.html", {"query": "", "roots": root_nodes, "open_children": child_nodes}
    )


@require_GET
@access(AUTHENTICATED)
def org_children(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    org = _visible_org_or_404(request, pk)
    kids = list(selectors.children_visible_to(request.user, org))
    return render(request, "branches/org_tree.html#children", {"nodes": _tree_nodes(request, kids)})


@require_GET
@access(AUTHENTICATED)
def org_list(request: AuthedHttpRequest) -> HttpResponse:
    form = OrgListFilterForm(request.GET or None)
    kind = text = ""
    if form.is_valid():
        kind, text = form.cleaned_data["kind"], form.cleaned_data["q"]
    under = None
    if request.GET.get("under", "").isdigit():
        under = _visible_org_or_404(request, int(request.GET["under"]))
    qs = selectors.organisation_list(request.user, kind=kind, text=text, under=under)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    orgs = list(page.object_list)
    members = selectors.member_counts_by_org(o.pk for o in orgs)
    rows = [{"org": o, "members": members.get(o.pk, 0)} for o in orgs]
    return render(
        request, "branches/org_list.html", {"form": form, "page": page, "rows": rows, "under": under}
    )


@require_GET
@access(AUTHENTICATED)
def org_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    org = _visible_org_or_404(request, pk)
    today = timezone.localdate()
    roster = Paginator(org.members.select_related("user").order_by("id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Ancestors outside the user's scope are shown as plain names, never as links.
    visible_ids = set(
        selectors.organisations_visible_to(request.user)
        .filter(pk__in=org.ancestor_ids)
        .values_list("pk", flat=True)
    )
    ancestors = list(selectors.ancestors_of(org))
    children = list(selectors.children_visible_to(request.user, org))
    child_members = selectors.member_counts_by_org(c.pk for c in children)
    context = {
        "org": org,
        "ancestors": [{"org": a, "visible": a.pk in visible_ids} for a in ancestors],
        "officers": selectors.officers_of(org),
        "roster": roster,
        "children": [{"org": c, "members": child_members.get(c.pk, 0)} for c in children],
        "member_total": org.members.filter(is_active=True).count(),
        "term_days_left": org.term_days_left(today),
        "term_warning": org.term_warning(today, settings.TERM_END_WARNING_DAYS),
        "can_staff": can_staff_org(request.user, org),
    }
    return render(request, "branches/org_detail.html", context)


# --- organisation import ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def org_import(request: AuthedHttpRequest) -> HttpResponse:
    form = OrgImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        run = imports.org_tree_import_upload(
            upload=upload, actor=request.user, dry_run=form.cleaned_data["dry_run"], request=request
        )
        return redirect("branches:org_import_detail", pk=run.pk)
    recent = OrgImport.objects.select_related("uploaded_by")[:10]
    return render(request, "branches/org_import.html", {"form": form, "recent": recent})


@require_GET
@access(COMMITTEE_ADMIN)
def org_import_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(OrgImport.objects.select_related("uploaded_by"), pk=pk)
    return render(request, "branches/org_import_detail.html", {"run": run, "errors": run.errors[:500]})


@require_GET
@access(COMMITTEE_ADMIN)
def org_import_errors(request: AuthedHttpRequest, pk: int) -> FileResponse:
    run = get_object_or_404(OrgImport, pk=pk)
    data = imports.errors_workbook(run.errors)
    return _xlsx_response(data, f"组织导入错误_{run.pk}.xlsx")


@require_GET
@access(COMMITTEE_ADMIN)
def org_import_template(request: AuthedHttpRequest) -> FileResponse:
    return _xlsx_response(imports.template_workbook(), "组织导入模板.xlsx")


def _xlsx_response(data: bytes, filename: str) -> FileResponse:
    import io

    response = FileResponse(
        io.BytesIO(data),
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- people and roles -----------------------------------------------------------------


def _manageable_user_or_404(request: AuthedHttpRequest, pk: int) -> User:
    return get_object_or_404(selectors.users_manageable_by(request.user), pk=pk)


@require_GET
@access(COMMITTEE_ADMIN)
def people_list(request: AuthedHttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:50]
    qs = selectors.users_manageable_by(request.user).order_by("username")
    if text:
        from django.db.models import Q

        qs = qs.filter(Q(username__icontains=text) | Q(full_name__icontains=text))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    users = list(page.object_list)
    grants: dict[int, list[RoleGrant]] = {}
    for g in RoleGrant.objects.filter(user__in=users).select_related("org").order_by("org__path"):
        grants.setdefault(g.user_id, []).append(g)
    rows = [{"user": u, "grants": grants.get(u.pk, [])} for u in users]
    return render(request, "branches/people_list.html", {"page": page, "rows": rows, "q": text})


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def person_create(request: AuthedHttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(**form.cleaned_data, actor=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            password = services.user_reset_password(user=user, actor=request.user, request=request)
            messages.success(
                request,
                f"已创建账号 {user.username}，初始密码：{password}（仅显示一次，请告知本人登录后修改）",
            )
            return redirect("branches:person_detail", pk=user.pk)
    return render(request, "branches/person_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def person_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    person = _manageable_user_or_404(request, pk)
    form = UserEditForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        services.user_update(user=person, **form.cleaned_data, actor=request.user, request=request)
        messages.success(request, "已保存。")
        return redirect("branches:person_detail", pk=person.pk)
    grants = RoleGrant.objects.filter(user=person).select_related("org", "granted_by").order_by("org__path")
    return render(
        request,
        "branches/person_detail.html",
        {"person": person, "form": form, "grants": grants, "grant_form": RoleGrantForm()},
    )


@require_POST
@access(COMMITTEE_ADMIN)
def person_grant(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    person = _manageable_user_or_404(request, pk)
    form = RoleGrantForm(request.POST)
    if form.is_valid():
        org = (
            selectors.organisations_visible_to(request.user)
            .filter(code=form.cleaned_data["org_code"])
            .first()
        )
        if org is None:
            messages.error(request, "没有找到该组织编码。")
        else:
            try:
                services.role_grant(
                    user=person, org=org, role=form.cleaned_data["role"], actor=request.user, request=request
                )
                messages.success(request, "已授予角色。")
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, "请填写组织编码并选择角色。")
    return redirect("branches:person_detail", pk=person.pk)


@require_POST
@access(COMMITTEE_ADMIN)
def grant_revoke(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    grant = get_object_or_404(selectors.grants_visible_to(request.user), pk=pk)
    user_pk = grant.user_id
    services.role_revoke(grant=grant, actor=request.user, request=request)
    messages.success(request, "已撤销角色。")
    return redirect("branches:person_detail", pk=user_pk)


@require_POST
@access(COMMITTEE_ADMIN)
def person_set_active(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    person = _manageable_user_or_404(request, pk)
    active = request.POST.get("active") == "1"
    if person.pk == request.user.pk and not active:
        messages.error(request, "不能停用自己的账号。")
    else:
        services.user_set_active(user=person, active=active, actor=request.user, request=request)
        messages.success(request, "已启用账号。" if active else "已停用账号，其登录会话已结束。")
    return redirect("branches:person_detail", pk=person.pk)


@require_POST
@access(COMMITTEE_ADMIN)
def person_reset_password(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    person = _manageable_user_or_404(request, pk)
    password = services.user_reset_password(user=person, actor=request.user, request=request)
    messages.success(request, f"{person.display_name} 的新密码：{password}（仅显示一次）")
    return redirect("branches:person_detail", pk=person.pk)


@require_GET
@access(COMMITTEE_ADMIN)
def audit_log(request: AuthedHttpRequest) -> HttpResponse:
    qs = AuditEvent.objects.all()
    action = request.GET.get("action", "")
    if action:
        qs = qs.filter(action=action)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"event": e, "detail": describe_detail(e.detail)} for e in page.object_list]
    return render(
        request,
        "branches/audit_log.html",
        {"page": page, "rows": rows, "actions": AuditAction.choices, "action": action},
    )


__all__ = ["OrgKind"]

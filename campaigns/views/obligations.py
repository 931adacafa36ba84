"""Recurring obligations (经常性工作, domain.md §10): the 工委's calendar and each organisation's year.

* ``obligation_list`` / ``obligation_create`` / ``obligation_edit``: the calendar of the 工委 (staff
  read it, committee admins edit it; the defaults are installed on first use).
* ``obligations_org``: one organisation's year grid (obligation × period, with status) and the
  form its officers use to record a period; ``obligation_record_delete`` removes a record.
* ``my_obligations``: the way in from the menu.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import (
    AUTHENTICATED,
    COMMITTEE_ADMIN,
    STAFF,
    AuthedHttpRequest,
    access,
    record_out_of_scope,
)
from branches.models import OFFICER_ROLES, OrgKind, OrgUnit
from branches.permissions import is_committee_admin
from branches.selectors import grants_of, organisations_visible_to, scope_q
from campaigns.forms.obligations import ObligationForm, ObligationRecordForm
from campaigns.models import Obligation, ObligationRecord
from campaigns.reminders.dispatch import committee_of, policy_for
from campaigns.reminders.selectors import committee_for
from campaigns.reminders.sources import period_label
from campaigns.services import obligations as svc

PAGE_SIZE = 30
YEAR_MIN, YEAR_MAX = 2000, 2100


def _committee_or_404(request: AuthedHttpRequest) -> OrgUnit:
    committee = committee_for(request.user)
    if committee is None:
        raise Http404("没有找到工委。")
    policy_for(committee)  # installs the default calendar on first use
    return committee


# --- the 工委's calendar ----------------------------------------------------------------------------


@require_GET
@access(STAFF)
def obligation_list(request: AuthedHttpRequest) -> HttpResponse:
    committee = _committee_or_404(request)
    obligations = list(Obligation.objects.filter(committee=committee).order_by("sort_order", "id"))
    rows = [{"ob": ob, "due": svc.due_rule_label(ob)} for ob in obligations]
    return render(
        request,
        "campaigns/obligations/list.html",
        {"committee": committee, "rows": rows, "can_edit": is_committee_admin(request.user)},
    )


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def obligation_create(request: AuthedHttpRequest) -> HttpResponse:
    committee = _committee_or_404(request)
    form = ObligationForm(request.POST or None, committee=committee)
    if request.method == "POST" and form.is_valid():
        try:
            ob = svc.obligation_create(committee=committee, actor=request.user, data=form.cleaned_data)
        except svc.ObligationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已添加经常性工作“{ob.name}”。")
            return redirect("campaigns:obligation_list")
    return render(request, "campaigns/obligations/form.html", {"form": form, "obligation": None})


@require_http_methods(["GET", "POST"])
@access(COMMITTEE_ADMIN)
def obligation_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    committee = _committee_or_404(request)
    obligation = Obligation.objects.filter(committee=committee, pk=pk).first()
    if obligation is None:
        record_out_of_scope(request, "Obligation", pk)
        raise Http404("没有找到该项经常性工作。")
    form = ObligationForm(request.POST or None, instance=obligation, committee=committee)
    if request.method == "POST" and form.is_valid():
        # A bound ModelForm writes its data onto the instance: the service compares with the stored row.
        stored = Obligation.objects.get(pk=obligation.pk)
        try:
            svc.obligation_update(obligation=stored, actor=request.user, data=form.cleaned_data)
        except svc.ObligationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已保存“{stored.name}”。")
            return redirect("campaigns:obligation_list")
    return render(request, "campaigns/obligations/form.html", {"form": form, "obligation": obligation})


# --- one organisation's year -----------------------------------------------------------------------


def _visible_org_or_404(request: AuthedHttpRequest, pk: int) -> OrgUnit:
    org = organisations_visible_to(request.user).filter(pk=pk).first()
    if org is None:
        record_out_of_scope(request, "OrgUnit", pk)
        raise Http404("没有找到该组织。")
    return org


def _year(request: AuthedHttpRequest) -> int:
    today = timezone.localdate()
    text = request.GET.get("year", "")
    if text.isdigit() and YEAR_MIN <= int(text) <= YEAR_MAX:
        return int(text)
    return today.year


def _org_page(
    request: AuthedHttpRequest, org: OrgUnit, *, year: int, form: ObligationRecordForm | None = None
) -> HttpResponse:
    today = timezone.localdate()
    committee = committee_of(org)
    policy_for(committee)
    applicable = svc.obligations_for_org(committee, org)
    shown = {ob.pk for ob in applicable}
    # Obligations of this kind left out by the member threshold, explained on the page.
    skipped = [
        ob
        for ob in Obligation.objects.filter(committee=committee, is_active=True, applies_to=org.kind)
        if ob.pk not in shown
    ]
    grid = svc.year_grid(obligations=applicable, org=org, year=year, today=today)
    can_record = svc.can_record_for(request.user, org)
    if can_record and form is None:
        initial: dict[str, Any] = {"held_on": today}
        if request.GET.get("obligation", "").isdigit():
            initial["obligation"] = int(request.GET["obligation"])
        if request.GET.get("period"):
            initial["period_key"] = request.GET["period"][:10]
        form = ObligationRecordForm(
            initial=initial, obligations=Obligation.objects.filter(pk__in=shown), today=today
        )
    context = {
        "org": org,
        "grid": grid,
        "year": year,
        "this_year": today.year,
        "skipped": skipped,
        "full_members": svc.full_member_count(org) if skipped else None,
        "can_record": can_record,
        "form": form,
        "today": today,
    }
    return render(request, "campaigns/obligations/org.html", context)


@require_GET
@access(AUTHENTICATED)
def obligations_org(request: AuthedHttpRequest, org_pk: int) -> HttpResponse:
    org = _visible_org_or_404(request, org_pk)
    return _org_page(request, org, year=_year(request))


@require_POST
@access(AUTHENTICATED)
def obligation_record(request: AuthedHttpRequest, org_pk: int) -> HttpResponse:
    org = _visible_org_or_404(request, org_pk)
    if not svc.can_record_for(request.user, org):
        raise PermissionDenied("只有本组织的书记、副书记、支委委员、党建联络员或上级工作人员可以登记。")
    today = timezone.localdate()
    applicable = svc.obligations_for_org(committee_of(org), org)
    form = ObligationRecordForm(
        request.POST, obligations=Obligation.objects.filter(pk__in=[ob.pk for ob in applicable]), today=today
    )
    year = _year(request)
    if form.is_valid():
        data = form.cleaned_data
        try:
            record = svc.obligation_record_create(
                obligation=data["obligation"],
                org=org,
                period_key=data["period_key"],
                held_on=data["held_on"],
                note=data["note"],
                actor=request.user,
                today=today,
            )
        except svc.ObligationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"已登记：{record.obligation.name}（{period_label(record.period_key)}）。"
            )
            url = reverse("campaigns:obligations_org", args=[org.pk])
            return redirect(f"{url}?year={record.period_key[:4]}")
        year = int(data["period_key"][:4]) if data.get("period_key") else year
    return _org_page(request, org, year=year, form=form)


@require_POST
@access(AUTHENTICATED)
def obligation_record_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    record = (
        ObligationRecord.objects.filter(scope_q(request.user, field="org__path"), pk=pk)
        .select_related("org", "obligation")
        .first()
    )
    if record is None:
        record_out_of_scope(request, "ObligationRecord", pk)
        raise Http404("没有找到该记录。")
    if not svc.can_record_for(request.user, record.org):
        raise PermissionDenied("只有本组织的书记、副书记、支委委员、党建联络员或上级工作人员可以删除登记。")
    org, key, name = record.org, record.period_key, record.obligation.name
    svc.obligation_record_delete(record=record, actor=request.user)
    messages.success(request, f"已删除登记：{name}（{period_label(key)}）。")
    url = reverse("campaigns:obligations_org", args=[org.pk])
    return redirect(f"{url}?year={key[:4]}")


@require_GET
@access(AUTHENTICATED)
def my_obligations(request: AuthedHttpRequest) -> HttpResponse:
    officer = sorted(
        (g for g in grants_of(request.user) if g.role in OFFICER_ROLES),
        key=lambda g: (g.org_path.count("/"), g.org_path),
    )
    if officer:
        return redirect("campaigns:obligations_org", officer[0].org_id)
    qs = organisations_visible_to(request.user).exclude(kind=OrgKind.COMMITTEE)
    text = request.GET.get("q", "").strip()
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(code__istartswith=text))
    page = Paginator(qs.select_related("parent").order_by("path"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "campaigns/obligations/mine.html", {"page": page, "q": text})


urlpatterns: list[URLPattern] = [
    path("obligations/", obligation_list, name="obligation_list"),
    path("obligations/new/", obligation_create, name="obligation_create"),
    path("obligations/<int:pk>/edit/", obligation_edit, name="obligation_edit"),
    path("obligations/mine/", my_obligations, name="my_obligations"),
    path("obligations/org/<int:org_pk>/", obligations_org, name="obligations_org"),
    path("obligations/org/<int:org_pk>/record/", obligation_record, name="obligation_record"),
    path("obligations/records/<int:pk>/delete/", obligation_record_delete, name="obligation_record_delete"),
]

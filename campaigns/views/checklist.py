"""我的任务清单, the entry page and its fill-in transitions, duties (责任人, 目标责任书)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import AUTHENTICATED, STAFF, AuthedHttpRequest, access, record_out_of_scope
from branches.models import User
from campaigns import permissions, selectors
from campaigns.forms.entries import (
    CHECKLIST_FILTERS,
    FILTER_OVERDUE,
    FILTER_RETURNED,
    FILTER_TODO,
    AssignForm,
    BulkAssignForm,
    LetterSignForm,
    ProgressForm,
    ReasonForm,
    ReopenForm,
    ReviewForm,
    VersionForm,
)
from campaigns.models import Campaign, Checklist, ChecklistEntry, EntryStatus, ReviewStage
from campaigns.models.checklists import DONE_STATUSES, OPEN_STATUSES
from campaigns.services import duties
from campaigns.services import entries as svc
from campaigns.views import evidence as evidence_views

PAGE_SIZE = 50


# --- shared helpers ---------------------------------------------------------------------------


def entry_or_404(request: AuthedHttpRequest, pk: int) -> ChecklistEntry:
    try:
        return selectors.entry_for_page(request.user, pk)
    except ChecklistEntry.DoesNotExist:
        record_out_of_scope(request, "ChecklistEntry", pk)
        raise Http404("没有找到该条目。") from None


def _checklist_or_404(request: AuthedHttpRequest, pk: int) -> Checklist:
    try:
        return selectors.checklist_for_page(request.user, pk)
    except Checklist.DoesNotExist:
        record_out_of_scope(request, "Checklist", pk)
        raise Http404("没有找到该任务清单。") from None


def campaign_or_404(request: AuthedHttpRequest) -> Campaign | None:
    """`?campaign=` must be visible (else 404); without it, the user's current campaign (maybe None)."""
    wanted = request.GET.get("campaign")
    campaign = selectors.campaign_for_page(request.user, wanted)
    if campaign is None and wanted:
        record_out_of_scope(request, "Campaign", wanted)
        raise Http404("没有找到该创建活动。")
    return campaign


def _score(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def decorate(entries: list[ChecklistEntry]) -> list[dict[str, Any]]:
    """Rows ready to print: flags for today, link, labels and scores computed once here.

    The checklist page shows up to a few hundred rows; resolving these in the template
    (a `{% url %}`, two includes and several method calls per row) made it the slowest
    part of the request (P11), so the row is a flat dict of display values.
    """
    today = timezone.localdate()
    url_base = reverse("campaigns:entry_detail", args=[0])[: -len("0/")]
    return [
        {
            "entry": e,
            "overdue": e.is_overdue(today),
            "due_soon": e.is_due_soon(today),
            "url": f"{url_base}{e.pk}/",
            "status_label": EntryStatus(e.status).label,
            "stage_label": ReviewStage(e.review_stage).label if e.status == EntryStatus.SUBMITTED else "",
            "points": _score(e.item.points),
            "self_score": _score(e.self_score),
            "first_review_score": _score(e.first_review_score),
            "review_score": _score(e.review_score),
            "responsible": e.responsible.display_name if e.responsible_id and e.responsible else "未指定",
        }
        for e in entries
    ]


def group_by_section(rows: list[dict[str, Any]]) -> list[tuple[Any, list[dict[str, Any]]]]:
    def due_key(row: dict[str, Any]) -> tuple[bool, Any, int, int]:
        e = row["entry"]
        return (e.due_date is None, e.due_date, e.item.sort_order, e.period)

    groups = groupby(rows, key=lambda r: r["entry"].item.section)
    return [(section, sorted(items, key=due_key)) for section, items in groups]


def progress_summary(entries: list[ChecklistEntry]) -> dict[str, Any]:
    counts = {value: 0 for value in EntryStatus.values}
    for e in entries:
        counts[e.status] += 1
    done = sum(counts[s] for s in DONE_STATUSES)
    total = len(entries)
    return {
        "total": total,
        "done": done,
        "percent": int(done * 100 / total) if total else 0,
        "by_status": [(EntryStatus(s).label, s, counts[s]) for s in EntryStatus.values],
    }


def _matches(row: dict[str, Any], chip: str) -> bool:
    status = row["entry"].status
    if chip == FILTER_TODO:
        return status in OPEN_STATUSES
    if chip == FILTER_OVERDUE:
        return bool(row["overdue"])
    if chip == FILTER_RETURNED:
        return status == EntryStatus.RETURNED
    return True


def current_phase(campaign: Campaign) -> str:
    today = timezone.localdate()
    for name, start, end in campaign.phases():
        if start is not None and end is not None and start <= today <= end:
            return name
    return ""


# --- 我的任务清单 ---------------------------------------------------------------------------------


@require_GET
@access(AUTHENTICATED)
def my_checklist(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    if campaign is None:
        return render(request, "campaigns/my_checklist.html", {"campaign": None})
    entries = list(selectors.my_entries(request.user, campaign))
    rows = decorate(entries)
    chip = request.GET.get("show", "all")
    counts = {"overdue": sum(r["overdue"] for r in rows), "due_soon": sum(r["due_soon"] for r in rows)}
    context = {
        "campaign": campaign,
        "phase": current_phase(campaign),
        "summary": progress_summary(entries),
        "counts": counts,
        "groups": group_by_section([r for r in rows if _matches(r, chip)]),
        "chips": CHECKLIST_FILTERS,
        "chip": chip,
        "letters": list(selectors.letters_to_sign(request.user, campaign)),
        "show_org": len({e.org_id for e in entries}) > 1,
    }
    return render(request, "campaigns/my_checklist.html", context)


# --- the entry page ---------------------------------------------------------------------------


def _actions(request: AuthedHttpRequest, entry: ChecklistEntry) -> dict[str, bool]:
    user = request.user
    unlocked = not entry.campaign.is_locked or entry.reopened
    fill = unlocked and permissions.can_fill_entry(user, entry)
    return {
        "locked": not unlocked,
        "fill": fill and entry.status in OPEN_STATUSES,
        "withdraw": fill
        and entry.status == EntryStatus.SUBMITTED
        and entry.review_stage == svc.first_stage_for(entry)
        and entry.first_review_score is None,
        "assign": unlocked
        and entry.status not in DONE_STATUSES
        and permissions.can_assign_duties(user, entry.checklist),
        "review": unlocked and permissions.can_review_entry(user, entry),
        "reopen": permissions.can_reopen_entry(user, entry) and entry.status != EntryStatus.NOT_STARTED,
    }


_SNAPSHOT_SALT = "campaigns.entry.seen"
_SNAPSHOT_FIELDS = ("status", "review_stage", "progress_note", "return_reason", "responsible_id")
_SNAPSHOT_DATES = ("completed_on", "due_date")
_SNAPSHOT_SCORES = ("self_score", "first_review_score", "review_score")


def snapshot(entry: ChecklistEntry) -> str:
    """What the page showed, signed, so a stale write can list what changed since (R11)."""
    values = {f: getattr(entry, f) for f in _SNAPSHOT_FIELDS}
    values.update({f: getattr(entry, f) and getattr(entry, f).isoformat() for f in _SNAPSHOT_DATES})
    values.update(
        {f: None if getattr(entry, f) is None else str(getattr(entry, f)) for f in _SNAPSHOT_SCORES}
    )
    return signing.dumps(values, salt=_SNAPSHOT_SALT, compress=True)


def conflict_changes(exc: svc.StaleEntry, seen: str) -> list[svc.Change]:
    """Changes between the signed snapshot the user saw and the current row; the service's own if none."""
    try:
        values = signing.loads(seen, salt=_SNAPSHOT_SALT)
    except signing.BadSignature:
        return exc.changes
    before = copy.copy(exc.current)
    for f in _SNAPSHOT_FIELDS:
        setattr(before, f, values.get(f))
    for f in _SNAPSHOT_DATES:
        setattr(before, f, values.get(f) and date.fromisoformat(values[f]))
    for f in _SNAPSHOT_SCORES:
        setattr(before, f, None if values.get(f) is None else Decimal(values[f]))
    if before.responsible_id != exc.current.responsible_id:
        responsible_id = before.responsible_id
        before.responsible = (
            None if responsible_id is None else User.objects.filter(pk=responsible_id).first()
        )
    return svc.diff_entries(before, exc.current)


def _forms_for(entry: ChecklistEntry) -> dict[str, forms.Form]:
    version = {"version": entry.version, "seen": snapshot(entry)}
    return {
        "progress_form": ProgressForm(
            initial={
                **version,
                "progress_note": entry.progress_note,
                "completed_on": entry.completed_on,
                "self_score": entry.self_score,
            }
        ),
        "assign_form": AssignForm(
            initial={**version, "responsible": entry.responsible_id, "due_date": entry.due_date},
            people=selectors.people_of_org(entry.org_id),
        ),
        "review_form": ReviewForm(initial={**version, "score": entry.self_score}),
        "reason_form": ReasonForm(initial=version),
        "reopen_form": ReopenForm(),
    }


def render_entry(
    request: AuthedHttpRequest,
    entry: ChecklistEntry,
    *,
    conflict: list[svc.Change] | None = None,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    actions = _actions(request, entry)
    today = timezone.localdate()
    context: dict[str, Any] = {
        **evidence_views.panel_context(request.user, entry),
        "entry": entry,
        "overdue": entry.is_overdue(today),
        "due_soon": entry.is_due_soon(today),
        "seen": snapshot(entry),
        "actions": actions,
        "conflict": conflict,
        "events": entry.events.select_related("actor").order_by("created_at", "id"),
        **_forms_for(entry),
        **(bound or {}),
    }
    return render(request, "campaigns/entry_detail.html", context, status=status)


@require_GET
@access(AUTHENTICATED)
def entry_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return render_entry(request, entry_or_404(request, pk))


Call = Callable[[ChecklistEntry, dict[str, Any]], object]


def run_transition(
    request: AuthedHttpRequest,
    pk: int,
    form: forms.Form,
    call: Call,
    done: str,
    form_name: str = "",
) -> HttpResponse:
    """Bind, call one service, map its refusals: stale → 409 with the changes, permission → 403."""
    entry = entry_or_404(request, pk)
    if not form.is_valid():
        if form_name:
            return render_entry(request, entry, bound={form_name: form}, status=400)
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("campaigns:entry_detail", pk=entry.pk)
    try:
        call(entry, form.cleaned_data)
    except svc.StaleEntry as exc:
        changes = conflict_changes(exc, form.cleaned_data.get("seen", ""))
        return render_entry(request, exc.current, conflict=changes, status=409)
    except svc.PermissionRefused as exc:
        raise PermissionDenied(exc.message) from None
    except svc.EntryError as exc:
        messages.error(request, exc.message)
        return redirect("campaigns:entry_detail", pk=entry.pk)
    messages.success(request, done)
    if request.POST.get("next_page") == "review":
        return redirect("campaigns:review_queue")
    return redirect("campaigns:entry_detail", pk=entry.pk)


@require_POST
@access(AUTHENTICATED)
def entry_save(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(entry: ChecklistEntry, d: dict[str, Any]) -> object:
        return svc.entry_save_progress(
            entry=entry,
            actor=request.user,
            expected_version=d["version"],
            progress_note=d["progress_note"],
            completed_on=d["completed_on"],
            self_score=d["self_score"],
        )

    return run_transition(request, pk, ProgressForm(request.POST), call, "进展已保存。", "progress_form")


@require_POST
@access(AUTHENTICATED)
def entry_submit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(entry: ChecklistEntry, d: dict[str, Any]) -> object:
        return svc.entry_submit(entry=entry, actor=request.user, expected_version=d["version"])

    return run_transition(request, pk, VersionForm(request.POST), call, "已提交审核。")


@require_POST
@access(AUTHENTICATED)
def entry_request_na(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(entry: ChecklistEntry, d: dict[str, Any]) -> object:
        return svc.entry_request_not_applicable(
            entry=entry, actor=request.user, expected_version=d["version"], reason=d["reason"]
        )

    return run_transition(request, pk, ReasonForm(request.POST), call, "不适用申请已提交审核。")


@require_POST
@access(AUTHENTICATED)
def entry_withdraw(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def call(entry: ChecklistEntry, d: dict[str, Any]) -> object:
        return svc.entry_withdraw(entry=entry, actor=request.user, expected_version=d["version"])

    return run_transition(request, pk, VersionForm(request.POST), call, "已撤回，可继续填报。")


@require_POST
@access(AUTHENTICATED)
def entry_assign(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    entry = entry_or_404(request, pk)
    form = AssignForm(request.POST, people=selectors.people_of_org(entry.org_id))

    def call(entry: ChecklistEntry, d: dict[str, Any]) -> object:
        return svc.entry_assign(
            entry=entry,
            actor=request.user,
            expected_version=d["version"],
            responsible=d["responsible"],
            due_date=d["due_date"],
        )

    return run_transition(request, pk, form, call, "责任人和完成时限已保存。", "assign_form")


# --- one organisation's checklist, bulk duties, 目标责任书 --------------------------------------------


@require_GET
@access(AUTHENTICATED)
def checklist_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    checklist = _checklist_or_404(request, pk)
    entries = list(selectors.checklist_entries(checklist))
    can_assign = permissions.can_assign_duties(request.user, checklist) and not checklist.campaign.is_locked
    context = {
        "checklist": checklist,
        "summary": progress_summary(entries),
        "groups": group_by_section(decorate(entries)),
        "can_assign": can_assign,
        "people": list(selectors.people_of_org(checklist.org_id)) if can_assign else [],
    }
    return render(request, "campaigns/checklist_detail.html", context)


@require_POST
@access(AUTHENTICATED)
def checklist_assign(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Bulk 明责: the same 责任人 and/or due date for the chosen entries of this checklist only."""
    checklist = _checklist_or_404(request, pk)
    if not permissions.can_assign_duties(request.user, checklist):
        raise PermissionDenied("您没有权限明确责任人。")
    entries = {e.pk: e for e in selectors.checklist_entries(checklist)}
    people = selectors.people_of_org(checklist.org_id)
    form = BulkAssignForm(request.POST, people=people, entry_ids=list(entries))
    if not form.is_valid():
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("campaigns:checklist_detail", pk=checklist.pk)
    done, failed = 0, []
    for entry_id in form.cleaned_data["entries"]:
        entry = entries[entry_id]
        try:
            svc.entry_assign(
                entry=entry,
                actor=request.user,
                expected_version=entry.version,
                responsible=form.cleaned_data["responsible"] or entry.responsible,
                due_date=form.cleaned_data["due_date"],
            )
            done += 1
        except svc.EntryError as exc:
            failed.append(f"{entry.item.code}：{exc.message}")
    messages.success(request, f"已为 {done} 个条目明确责任。")
    if failed:
        messages.warning(request, "未能修改：" + "；".join(failed))
    return redirect("campaigns:checklist_detail", pk=checklist.pk)


def _secretary_for(request: AuthedHttpRequest, checklist: Checklist) -> Any:
    if permissions.can_sign_letter(request.user, checklist):
        return request.user
    if checklist.letter_signed_by is not None:
        return checklist.letter_signed_by
    return selectors.people_of_org(checklist.org_id).filter(grants__role="secretary").first()


def _sign(
    request: AuthedHttpRequest, checklist: Checklist, text: str, form: LetterSignForm
) -> HttpResponse | None:
    """The secretary signs exactly the text they read (its digest must still match)."""
    if not permissions.can_sign_letter(request.user, checklist):
        raise PermissionDenied("只有本组织书记可以签订目标责任书。")
    if form.is_valid() and form.cleaned_data["digest"] != duties.letter_digest(text):
        form.add_error(None, "责任书内容已更新，请重新阅读后签订。")
    if not form.is_valid():
        return None
    try:
        duties.checklist_sign_letter(checklist=checklist, actor=request.user, text=text)
        messages.success(request, "目标责任书已签订。")
    except svc.EntryError as exc:
        messages.error(request, exc.message)
    return redirect("campaigns:letter_sign", pk=checklist.pk)


@require_http_methods(["GET", "POST"])
@access(AUTHENTICATED)
def letter_sign(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    checklist = _checklist_or_404(request, pk)
    secretary = _secretary_for(request, checklist)
    text = duties.letter_text_for(checklist, secretary) if secretary is not None else ""
    form = LetterSignForm(request.POST or None, initial={"digest": duties.letter_digest(text)})
    if request.method == "POST" and (done := _sign(request, checklist, text, form)) is not None:
        return done
    can_sign = permissions.can_sign_letter(request.user, checklist) and checklist.letter_signed_at is None
    context = {"checklist": checklist, "text": text, "form": form, "can_sign": can_sign}
    return render(request, "campaigns/letter_sign.html", context)


@require_GET
@access(STAFF)
def letters_unsigned(request: AuthedHttpRequest) -> HttpResponse:
    campaign = campaign_or_404(request)
    if campaign is None:
        return render(request, "campaigns/letters_unsigned.html", {"campaign": None})
    page = Paginator(selectors.unsigned_checklists(request.user, campaign), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    counts = selectors.letters_signed_counts(request.user, campaign)
    return render(
        request, "campaigns/letters_unsigned.html", {"campaign": campaign, "page": page, "counts": counts}
    )


urlpatterns: list[URLPattern] = [
    path("my/", my_checklist, name="my_checklist"),
    path("entries/<int:pk>/", entry_detail, name="entry_detail"),
    path("entries/<int:pk>/save/", entry_save, name="entry_save"),
    path("entries/<int:pk>/submit/", entry_submit, name="entry_submit"),
    path("entries/<int:pk>/not-applicable/", entry_request_na, name="entry_request_na"),
    path("entries/<int:pk>/withdraw/", entry_withdraw, name="entry_withdraw"),
    path("entries/<int:pk>/assign/", entry_assign, name="entry_assign"),
    path("checklists/<int:pk>/", checklist_detail, name="checklist_detail"),
    path("checklists/<int:pk>/assign/", checklist_assign, name="checklist_assign"),
    path("checklists/<int:pk>/letter/", letter_sign, name="letter_sign"),
    path("letters/unsigned/", letters_unsigned, name="letters_unsigned"),
]

"""One organisation's rating (domain.md §9): its page, 自评申报, 初审, 复核, 公示异议, 摘星/降星,
the 差距清单, the star history across years and 我的评星.

Every write is a service in ``scoring.services``; these views check the permission first (403),
bind a small form and translate a ``RatingRefused`` into a message on the rating page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import AUTHENTICATED, STAFF, AuthedHttpRequest, access, record_out_of_scope
from branches.models import OFFICER_ROLES, OrgUnit, User
from branches.selectors import grants_of, organisations_visible_to
from campaigns.permissions import can_review_anything
from campaigns.selectors import entries_visible_to
from campaigns.services.reports import report_facts
from scoring import permissions, selectors, services
from scoring.models import (
    ChangeKind,
    ObjectionStatus,
    Rating,
    RatingRound,
    RatingStatus,
    RoundStage,
)
from scoring.rules import QUOTA_LABELS
from scoring.schemes import Scheme
from scoring.views.rounds import stage_label

DECLARING_STAGES = (RoundStage.DECLARING, RoundStage.FIRST_REVIEW)
HIDDEN_LEVEL = "评定中，公示时可见"
UNRATED = "none"  # the form value of 未定级 (level None)


# --- level choices and forms ------------------------------------------------------------------


def level_choices(scheme: Scheme, *, below: bool) -> list[tuple[str, str]]:
    """The scheme's rated levels, highest first, then (when allowed) the level below them."""
    levels: list[int | None] = [*sorted(scheme.levels.rated, reverse=True)]
    if below:
        levels.append(scheme.below_level)
    return [(UNRATED if lv is None else str(lv), scheme.label_for(lv)) for lv in levels]


def to_level(value: str) -> int | None:
    return None if value == UNRATED else int(value)


def _yes(value: str) -> bool:
    return value == "1"


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _LevelForm(forms.Form):
    """A form with one level field offering the levels of the round's scheme."""

    level_field = "level"
    blank_label = ""  # when set, a first choice meaning "not chosen"

    def __init__(self, *args: Any, scheme: Scheme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields[self.level_field]
        assert isinstance(field, forms.ChoiceField)
        blank = [("", self.blank_label)] if self.blank_label else []
        field.choices = blank + level_choices(scheme, below=self.offers_below(scheme))
        for f in self.fields.values():
            css = "form-select" if isinstance(f, forms.ChoiceField) else "form-control"
            f.widget.attrs.setdefault("class", css)

    def offers_below(self, scheme: Scheme) -> bool:
        return True

    def chosen_level(self) -> int | None:
        value = self.cleaned_data.get(self.level_field) or ""
        return to_level(value) if value else None

    def require_level(self, when: bool, message: str) -> None:
        if when and not self.cleaned_data.get(self.level_field):
            self.add_error(self.level_field, message)


class DeclareForm(_LevelForm):
    level = forms.ChoiceField(label="申报星级")
    declaration = forms.CharField(label="申报理由", max_length=5000, widget=_textarea(8))

    def offers_below(self, scheme: Scheme) -> bool:
        return False  # nobody applies for 未定级


class FirstReviewForm(_LevelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    agree = forms.TypedChoiceField(label="初审结论", choices=[("1", "同意"), ("0", "退回")], coerce=_yes)
    level = forms.ChoiceField(label="建议星级（同意时）", required=False)
    note = forms.CharField(
        label="初审意见（退回时必填）", required=False, max_length=2000, widget=_textarea()
    )
    blank_label = "同申报星级"

    def offers_below(self, scheme: Scheme) -> bool:
        # A blank level means "as declared", so 未定级 (also None) cannot be offered here.
        return scheme.below_level is not None


class RecheckForm(_LevelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    confirmed = forms.TypedChoiceField(
        label="复核结论", choices=[("1", "确认"), ("0", "下调星级")], coerce=_yes
    )
    level = forms.ChoiceField(label="下调后星级", required=False)
    note = forms.CharField(label="复核意见", max_length=2000, widget=_textarea())
    blank_label = "（确认时不选）"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.require_level(data.get("confirmed") is False, "下调星级时请选择下调后的星级")
        return data


class ObjectionForm(forms.Form):
    raised_by_name = forms.CharField(label="反映人", max_length=50, required=False)
    contact = forms.CharField(label="联系方式", max_length=50, required=False)
    received_on = forms.DateField(label="受理日期", widget=_date_input())
    content = forms.CharField(label="异议内容", max_length=5000, widget=_textarea())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "form-control")


class ResolveForm(_LevelForm):
    level_field = "level_after"
    upheld = forms.TypedChoiceField(
        label="核查结论", choices=[("1", "异议成立"), ("0", "异议不成立")], coerce=_yes
    )
    resolution = forms.CharField(label="核查处理情况", max_length=5000, widget=_textarea(2))
    level_after = forms.ChoiceField(label="处理后星级（异议成立时）", required=False)
    blank_label = "（异议不成立时不选）"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.require_level(data.get("upheld") is True, "异议成立时请选择处理后的星级")
        return data


class StarChangeForm(_LevelForm):
    level_field = "to_level"
    kind = forms.ChoiceField(label="类型", choices=ChangeKind.choices)
    to_level = forms.ChoiceField(label="降星后星级（降星时）", required=False)
    veto_key = forms.ChoiceField(label="否决情形", required=False)
    reason = forms.CharField(label="事由", max_length=5000, widget=_textarea(2))
    decision_document = forms.CharField(label="决定文号", max_length=100)
    decided_on = forms.DateField(label="决定日期", widget=_date_input())
    blank_label = "（摘星时不选）"

    def __init__(self, *args: Any, scheme: Scheme, **kwargs: Any) -> None:
        super().__init__(*args, scheme=scheme, **kwargs)
        field = self.fields["veto_key"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "（不涉及方案中的否决情形）")] + [(v.key, v.description) for v in scheme.vetoes]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.require_level(data.get("kind") == ChangeKind.DEMOTE, "降星时请选择降星后的星级")
        return data


def _form_errors(form: forms.Form) -> str:
    parts: list[str] = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.extend(f"{label}：{e}" if label else str(e) for e in errors)
    return "；".join(parts)


# --- shared helpers ---------------------------------------------------------------------------


def _rating_or_404(request: AuthedHttpRequest, pk: int) -> Rating:
    try:
        return selectors.rating_for_page(request.user, pk)
    except Rating.DoesNotExist:
        record_out_of_scope(request, "Rating", pk)
        raise Http404("没有找到该星级评定。") from None


def _org_or_404(request: AuthedHttpRequest, pk: int) -> OrgUnit:
    org = organisations_visible_to(request.user).filter(pk=pk).first()
    if org is None:
        record_out_of_scope(request, "OrgUnit", pk)
        raise Http404("没有找到该组织。")
    return org


def _act(
    request: AuthedHttpRequest,
    rating: Rating,
    *,
    allowed: bool,
    form: forms.Form,
    call: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Every POST on a rating: 403 without the permission, then the form, the service and a message."""
    if not allowed:
        raise PermissionDenied("您没有权限办理此事项。")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        try:
            call(form.cleaned_data)
        except services.RatingRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
    return redirect("scoring:rating", pk=rating.pk)


def declaration_draft(rnd: RatingRound, org: OrgUnit) -> str:
    """A short factual opening for 申报理由: the year's checklist numbers and points so far."""
    facts = report_facts(campaign=rnd.campaign, org=org)

    def pts(value: Decimal) -> str:
        return f"{value.normalize():f}"

    return (
        f"{org.name}{rnd.campaign.year}年度责任清单共{facts.entries_total}项，已完成{facts.entries_done}项，"
        f"逾期未完成{facts.entries_overdue}项；提交佐证材料{facts.evidence_count}份；"
        f"清单得分：自评{pts(facts.self_points)}分，初审{pts(facts.first_review_points)}分，"
        f"审核{pts(facts.review_points)}分；发现问题{facts.findings_total}个。"
    )


# --- the rating page --------------------------------------------------------------------------


def _labelled_explanation(rating: Rating) -> list[tuple[str, list[dict[str, Any]]]]:
    """Explanation lines grouped by source, in the order the engine wrote them."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in rating.explanation:
        groups.setdefault(line.get("source", ""), []).append(line)
    return list(groups.items())


def _objection_rows(rating: Rating, scheme: Scheme, can_resolve: bool) -> list[dict[str, Any]]:
    rows = []
    for o in rating.objections.select_related("recorded_by", "resolved_by"):
        is_open = o.status == ObjectionStatus.OPEN
        rows.append(
            {
                "objection": o,
                "level_after": scheme.label_for(o.level_after) if not is_open else "",
                "form": ResolveForm(scheme=scheme, auto_id=f"id_o{o.pk}_%s")
                if is_open and can_resolve
                else None,
            }
        )
    return rows


def _change_rows(rating: Rating, scheme: Scheme) -> list[dict[str, Any]]:
    return [
        {"change": c, "from": scheme.label_for(c.from_level), "to": scheme.label_for(c.to_level)}
        for c in rating.changes.select_related("decided_by")
    ]


def _detail_context(user: User, rating: Rating) -> dict[str, Any]:
    rnd = rating.round
    scheme = services.scheme_of(rnd.scheme)
    label = scheme.label_for
    manage = permissions.can_manage_rating(user)
    reviewer = permissions.can_first_review(user, rating.org)
    declaring = rnd.stage in DECLARING_STAGES
    can_declare = (
        declaring
        and rating.status != RatingStatus.FIRST_REVIEWED
        and permissions.can_declare(user, rating.org)
    )
    can_first_review = declaring and rating.status == RatingStatus.DECLARED and reviewer
    can_change = manage and rnd.is_named and rating.current_level not in (None, scheme.below_level)
    vetoes = {v.key: v.description for v in scheme.vetoes}
    today = timezone.localdate()
    context: dict[str, Any] = {
        "rating": rating,
        "rnd": rnd,
        "stage_label": stage_label(rnd.stage, scheme),
        "round_url": reverse("scoring:round", args=[rnd.pk]) if can_review_anything(user) else "",
        "see_level": services.branch_can_see_level(user, rating),
        "hidden_level": HIDDEN_LEVEL,
        "level_label": label(rating.current_level if rnd.is_named else rating.level),
        "labels": {
            "declared": label(rating.declared_level) if rating.declared_level is not None else "",
            "first_review": label(rating.first_review_level)
            if rating.status == RatingStatus.FIRST_REVIEWED
            else "",
            "score": label(rating.score_level),
            "adjusted": label(rating.adjusted_level),
            "named": label(rating.named_level),
            "current": label(rating.current_level),
            "last_year": label(rating.last_year_level) if rating.last_year_level is not None else "无",
        },
        "explanation": _labelled_explanation(rating),
        "quota_label": QUOTA_LABELS.get(rating.quota_decision, ""),
        "vetoes": [vetoes.get(k, k) for k in rating.vetoes],
        "show_objections": manage or reviewer,
        "objections": _objection_rows(rating, scheme, manage and rnd.stage == RoundStage.PUBLICITY)
        if manage or reviewer
        else [],
        "changes": _change_rows(rating, scheme),
        "declare_form": None,
        "first_review_form": None,
        "recheck_form": None,
        "objection_form": None,
        "change_form": None,
    }
    if can_declare:
        initial = {
            "level": str(rating.declared_level) if rating.declared_level is not None else "",
            "declaration": rating.declaration or declaration_draft(rnd, rating.org),
        }
        context["declare_form"] = DeclareForm(scheme=scheme, initial=initial)
    if can_first_review:
        context["first_review_form"] = FirstReviewForm(
            scheme=scheme, initial={"version": rating.version, "level": str(rating.declared_level)}
        )
    if manage and rnd.stage == RoundStage.RECHECK and rating.is_compiled:
        context["recheck_form"] = RecheckForm(scheme=scheme, initial={"version": rating.version})
    if manage and rnd.stage == RoundStage.PUBLICITY:
        context["objection_form"] = ObjectionForm(initial={"received_on": today})
    if can_change:
        context["change_form"] = StarChangeForm(scheme=scheme, initial={"decided_on": today})
    return context


@require_GET
@access(AUTHENTICATED)
def rating_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rating = _rating_or_404(request, pk)
    return render(request, "scoring/rating_detail.html", _detail_context(request.user, rating))


# --- 自评申报 -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@access(AUTHENTICATED)
def rating_declare(request: AuthedHttpRequest, round_pk: int, org_pk: int) -> HttpResponse:
    rnd = selectors.rounds_visible_to(request.user).filter(pk=round_pk).first()
    if rnd is None:
        record_out_of_scope(request, "RatingRound", round_pk)
        raise Http404("没有找到该评星。")
    org = _org_or_404(request, org_pk)
    if org.kind != rnd.applies_to:
        raise Http404("该组织不参加本项评定。")
    if not permissions.can_declare(request.user, org):
        raise PermissionDenied("只有本组织的书记、副书记可以申报星级。")
    scheme = services.scheme_of(rnd.scheme)
    rating = selectors.ratings_visible_to(request.user).filter(round=rnd, org=org).first()
    initial = {
        "level": str(rating.declared_level) if rating and rating.declared_level is not None else "",
        "declaration": (rating.declaration if rating else "") or declaration_draft(rnd, org),
    }
    data = request.POST if request.method == "POST" else None
    form = DeclareForm(data, scheme=scheme, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rating = services.rating_declare(
                rnd=rnd,
                org=org,
                level=int(form.cleaned_data["level"]),
                declaration=form.cleaned_data["declaration"],
                actor=request.user,
            )
        except services.RatingRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "星级申报已提交，等待上级党组织初审。")
            return redirect("scoring:rating", pk=rating.pk)
    is_open = rnd.stage in DECLARING_STAGES and not (rating and rating.status == RatingStatus.FIRST_REVIEWED)
    context = {
        "rnd": rnd,
        "stage_label": stage_label(rnd.stage, scheme),
        "org": org,
        "rating": rating,
        "form": form,
        "is_open": is_open,
    }
    return render(request, "scoring/rating_declare.html", context)


# --- 初审, 复核, 公示异议, 摘星/降星 ---------------------------------------------------------------


@require_POST
@access(STAFF)
def rating_first_review(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rating = _rating_or_404(request, pk)
    form = FirstReviewForm(request.POST, scheme=services.scheme_of(rating.round.scheme))

    def call(d: dict[str, Any]) -> object:
        return services.rating_first_review(
            rating=rating,
            actor=request.user,
            agree=d["agree"],
            level=form.chosen_level(),
            note=d["note"],
            expected_version=d["version"],
        )

    allowed = permissions.can_first_review(request.user, rating.org)
    done = "初审意见已提交。" if request.POST.get("agree") == "1" else "已退回本组织修改申报。"
    return _act(request, rating, allowed=allowed, form=form, call=call, done=done)


@require_POST
@access(STAFF)
def rating_recheck(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rating = _rating_or_404(request, pk)
    form = RecheckForm(request.POST, scheme=services.scheme_of(rating.round.scheme))

    def call(d: dict[str, Any]) -> object:
        return services.rating_recheck(
            rating=rating,
            actor=request.user,
            confirmed=d["confirmed"],
            level=form.chosen_level(),
            note=d["note"],
            expected_version=d["version"],
        )

    allowed = permissions.can_manage_rating(request.user)
    return _act(request, rating, allowed=allowed, form=form, call=call, done="复核意见已记录。")


@require_POST
@access(STAFF)
def objection_new(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rating = _rating_or_404(request, pk)

    def call(d: dict[str, Any]) -> object:
        return services.objection_record(rating=rating, actor=request.user, **d)

    allowed = permissions.can_manage_rating(request.user)
    form = ObjectionForm(request.POST)
    return _act(request, rating, allowed=allowed, form=form, call=call, done="公示异议已登记。")


@require_POST
@access(STAFF)
def objection_resolve(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    objection = (
        selectors.objections_visible_to(request.user)
        .select_related("rating__round__scheme", "rating__org")
        .filter(pk=pk)
        .first()
    )
    if objection is None:
        record_out_of_scope(request, "Objection", pk)
        raise Http404("没有找到该异议。")
    form = ResolveForm(request.POST, scheme=services.scheme_of(objection.rating.round.scheme))

    def call(d: dict[str, Any]) -> object:
        return services.objection_resolve(
            objection=objection,
            actor=request.user,
            upheld=d["upheld"],
            resolution=d["resolution"],
            level_after=form.chosen_level(),
        )

    allowed = permissions.can_manage_rating(request.user)
    return _act(request, objection.rating, allowed=allowed, form=form, call=call, done="异议已处理。")


@require_POST
@access(STAFF)
def star_change(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rating = _rating_or_404(request, pk)
    form = StarChangeForm(request.POST, scheme=services.scheme_of(rating.round.scheme))

    def call(d: dict[str, Any]) -> object:
        return services.star_change(
            rating=rating,
            actor=request.user,
            kind=d["kind"],
            to_level=form.chosen_level(),
            veto_key=d["veto_key"],
            reason=d["reason"],
            decision_document=d["decision_document"],
            decided_on=d["decided_on"],
        )

    allowed = permissions.can_manage_rating(request.user)
    return _act(request, rating, allowed=allowed, form=form, call=call, done="摘星/降星已登记。")


# --- 差距清单 and history -------------------------------------------------------------------------


def _entry_links(user: User, rating: Rating, codes: list[str]) -> dict[str, str]:
    """The organisation's first checklist entry for each item code (one query)."""
    rows = (
        entries_visible_to(user)
        .filter(campaign_id=rating.round.campaign_id, org_id=rating.org_id, item__code__in=codes)
        .order_by("item__code", "period", "pk")
        .values_list("item__code", "pk")
    )
    links: dict[str, str] = {}
    for code, entry_pk in rows:
        links.setdefault(code, reverse("campaigns:entry_detail", args=[entry_pk]))
    return links


@require_GET
@access(AUTHENTICATED)
def rating_gaps(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rating = _rating_or_404(request, pk)
    scheme = services.scheme_of(rating.round.scheme)
    gap = services.gap_for(rating)
    context: dict[str, Any] = {"rating": rating, "gap": gap, "see_level": False}
    if gap is not None:
        links = _entry_links(request.user, rating, [g.item_code for g in gap.items])
        context.update(
            see_level=services.branch_can_see_level(request.user, rating),
            current_label=scheme.label_for(gap.current_level),
            next_label=scheme.label_for(gap.next_level) if gap.next_level is not None else "",
            items=[{"gap": g, "url": links.get(g.item_code)} for g in gap.items],
            open_points=sum((g.missing_points for g in gap.items), Decimal(0)),
        )
    return render(request, "scoring/gaps.html", context)


@require_GET
@access(AUTHENTICATED)
def org_history(request: AuthedHttpRequest, org_pk: int) -> HttpResponse:
    org = _org_or_404(request, org_pk)
    rows = []
    for row in services.star_history(org):
        scheme = services.scheme_of(row.rating.round.scheme)
        changes = [
            {"change": c, "to": scheme.label_for(c.to_level)}
            for c in sorted(row.rating.changes.all(), key=lambda c: (c.decided_on, c.pk))
        ]
        rows.append({"row": row, "changes": changes})
    return render(request, "scoring/history.html", {"org": org, "rows": rows})


# --- 我的评星 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyTarget:
    org: OrgUnit
    rnd: RatingRound | None
    url: str  # "" when there is nothing to open yet


def _my_targets(user: User) -> list[MyTarget]:
    """For each organisation the user is an officer of: its rating in the newest round of its kind."""
    org_ids = {g.org_id for g in grants_of(user) if g.role in OFFICER_ROLES}
    targets = []
    for org in organisations_visible_to(user).filter(pk__in=org_ids, is_active=True).order_by("path"):
        rnd = (
            selectors.rounds_visible_to(user)
            .filter(applies_to=org.kind)
            .order_by("-campaign__year", "-pk")
            .first()
        )
        rating = selectors.ratings_visible_to(user).filter(round=rnd, org=org).first() if rnd else None
        url = ""
        if rating is not None:
            url = reverse("scoring:rating", args=[rating.pk])
        elif rnd is not None and rnd.stage in DECLARING_STAGES and permissions.can_declare(user, org):
            url = reverse("scoring:rating_declare", args=[rnd.pk, org.pk])
        targets.append(MyTarget(org, rnd, url))
    return targets


@require_GET
@access(AUTHENTICATED)
def my_rating(request: AuthedHttpRequest) -> HttpResponse:
    targets = _my_targets(request.user)
    if len(targets) == 1 and targets[0].url:
        return redirect(targets[0].url)
    return render(request, "scoring/rating_mine.html", {"targets": targets})


urlpatterns: list[URLPattern] = [
    path("mine/", my_rating, name="my_rating"),
    path("r/<int:pk>/", rating_detail, name="rating"),
    path("r/<int:pk>/gaps/", rating_gaps, name="rating_gaps"),
    path("r/<int:pk>/first-review/", rating_first_review, name="rating_first_review"),
    path("r/<int:pk>/recheck/", rating_recheck, name="rating_recheck"),
    path("r/<int:pk>/objections/new/", objection_new, name="objection_new"),
    path("r/<int:pk>/change/", star_change, name="star_change"),
    path("objections/<int:pk>/resolve/", objection_resolve, name="objection_resolve"),
    path("rounds/<int:round_pk>/declare/<int:org_pk>/", rating_declare, name="rating_declare"),
    path("orgs/<int:org_pk>/history/", org_history, name="org_history"),
]

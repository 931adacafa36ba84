"""Views: the rating rounds (评星定级) for staff — the landing page, a round with its stages and
ratings, compile runs, tie decisions, stage changes, scheme adoption, facts and the 初审 queue.

Every write goes through ``scoring.services`` (or ``scoring.facts``); a user who may not manage
ratings gets 403 before the service is called, and the service's business refusals come back as
a message on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.access import AUTHENTICATED, STAFF, AuthedHttpRequest, access, record_out_of_scope
from branches.models import OFFICER_ROLES, OrgUnit
from branches.selectors import grants_of
from campaigns.models import CampaignStatus
from campaigns.permissions import can_review_anything
from campaigns.selectors import campaigns_visible_to
from scoring import facts as fact_services
from scoring import services
from scoring.inputs import rating_orgs
from scoring.models import (
    STAGE_ORDER,
    CompileRun,
    FactKind,
    Rating,
    RatingFact,
    RatingRound,
    RatingStatus,
    RoundStage,
    SchemeVersion,
    TieDecision,
)
from scoring.permissions import can_declare, can_manage_rating
from scoring.rules import QUOTA_LABELS
from scoring.schemes import Scheme
from scoring.selectors import (
    facts_visible_to,
    first_review_pending,
    ratings_visible_to,
    rounds_visible_to,
    schemes_visible_to,
)
from scoring.services import RatingRefused, scheme_of

PAGE_SIZE = 50
DECLARING_STAGES = (RoundStage.DECLARING, RoundStage.FIRST_REVIEW)
JOINT_MEETING_LABEL = "联席会议评估认定"
NO_LEVEL = "none"  # the level filter's value for 未定级 / not yet compiled


# --- forms -------------------------------------------------------------------------------------


class RoundCreateForm(forms.Form):
    campaign = forms.IntegerField(widget=forms.HiddenInput)
    scheme = forms.IntegerField(label="评星方案", error_messages={"required": "请选择评星方案"})
    title = forms.CharField(label="名称（可不填）", max_length=200, required=False)


class AdvanceForm(forms.Form):
    to_stage = forms.ChoiceField(choices=RoundStage.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    publicity_starts_on = forms.DateField(label="公示开始日期", required=False)
    naming_document = forms.CharField(label="命名文号", max_length=100, required=False)
    named_on = forms.DateField(label="命名日期", required=False)


class AdoptForm(forms.Form):
    scheme = forms.IntegerField(label="方案版本", error_messages={"required": "请选择方案版本"})


class TieForm(forms.Form):
    level = forms.IntegerField(widget=forms.HiddenInput)
    scope = forms.CharField(widget=forms.HiddenInput, max_length=100)
    org = forms.TypedMultipleChoiceField(label="取得名额的组织", coerce=int, required=False)
    reason = forms.CharField(
        label="决定理由",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": "请填写决定理由（如工委会议纪要）"},
    )

    def __init__(self, *args: Any, org_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = [(i, i) for i in org_ids]  # type: ignore[attr-defined]


class FactForm(forms.Form):
    org = forms.ModelChoiceField(
        label="党组织", queryset=OrgUnit.objects.none(), error_messages={"required": "请选择党组织"}
    )
    kind = forms.ChoiceField(label="类型", choices=FactKind.choices)
    key = forms.CharField(label="代码", max_length=50, required=False)
    value = forms.DecimalField(
        label="数值", max_digits=8, decimal_places=2, required=False, error_messages={"invalid": "请填写数字"}
    )
    description = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args: Any, rnd: RatingRound, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = rating_orgs(rnd)  # type: ignore[attr-defined]
        for name, field in self.fields.items():
            css = "form-select" if name in ("org", "kind") else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.fields["key"].widget.attrs["list"] = "fact-keys"


# --- access helpers ----------------------------------------------------------------------------


def _round_or_404(request: AuthedHttpRequest, pk: int) -> RatingRound:
    try:
        return rounds_visible_to(request.user).select_related("campaign__committee").get(pk=pk)
    except RatingRound.DoesNotExist:
        record_out_of_scope(request, "RatingRound", pk)
        raise Http404("没有找到该评星。") from None


def _managed_round_or_404(request: AuthedHttpRequest, pk: int) -> RatingRound:
    """A visible round the user manages: 工委 staff only (others in scope get 403)."""
    rnd = _round_or_404(request, pk)
    _require_manager(request)
    return rnd


def _require_manager(request: AuthedHttpRequest) -> None:
    if not can_manage_rating(request.user):
        raise PermissionDenied("只有工委工作人员可以办理评星。")


def _run_or_404(request: AuthedHttpRequest, pk: int) -> CompileRun:
    runs = CompileRun.objects.filter(round__in=rounds_visible_to(request.user))
    try:
        run = runs.select_related("round__campaign", "scheme", "requested_by").get(pk=pk)
    except CompileRun.DoesNotExist:
        record_out_of_scope(request, "CompileRun", pk)
        raise Http404("没有找到该计算任务。") from None
    _require_manager(request)
    return run


def _fact_or_404(request: AuthedHttpRequest, pk: int) -> RatingFact:
    try:
        return facts_visible_to(request.user).select_related("campaign", "org").get(pk=pk)
    except RatingFact.DoesNotExist:
        record_out_of_scope(request, "RatingFact", pk)
        raise Http404("没有找到该评星事实。") from None


def _round_url(rnd: RatingRound) -> str:
    return reverse("scoring:round", args=[rnd.pk])


# --- display helpers ---------------------------------------------------------------------------


def stage_label(stage: str, scheme: Scheme) -> str:
    """The stage's name; the decision step of the 模范机关 recognition is the joint meeting."""
    if stage == RoundStage.COMMITTEE_REVIEW and scheme.decision_step == "joint_meeting":
        return JOINT_MEETING_LABEL
    return RoundStage(stage).label


def _stepper(rnd: RatingRound, scheme: Scheme) -> list[dict[str, Any]]:
    current = rnd.stage_index()
    return [
        {
            "label": stage_label(stage, scheme),
            "state": "done" if i < current else "current" if i == current else "todo",
            "optional": stage == RoundStage.RECHECK,
        }
        for i, stage in enumerate(STAGE_ORDER)
    ]


@dataclass(frozen=True)
class RatingRow:
    rating: Rating
    declared: str
    first_review: str
    level: str
    quota: str
    vetoes: str


def _rating_row(rating: Rating, scheme: Scheme) -> RatingRow:
    first = "—"
    if rating.status == RatingStatus.FIRST_REVIEWED:
        first = f"同意 {scheme.label_for(rating.first_review_level)}"
    elif rating.status == RatingStatus.RETURNED:
        first = "退回"
    declared = rating.declared_level
    return RatingRow(
        rating=rating,
        declared=scheme.label_for(declared) if declared is not None else "—",
        first_review=first,
        level=scheme.label_for(rating.level) if rating.is_compiled or rating.is_adjusted else "未计算",
        quota=QUOTA_LABELS.get(rating.quota_decision, "") or "—",
        vetoes="、".join(rating.vetoes) or "—",
    )


def _distribution(run: CompileRun | None) -> list[dict[str, Any]]:
    rows = []
    for d in run.distribution if run else []:
        over = d.get("max") is not None and d["count"] > d["max"]
        under = d.get("min") is not None and d["count"] < d["min"]
        rows.append({**d, "over": over, "under": under})
    return rows


# --- ratings table -----------------------------------------------------------------------------


def _level_q(level: int | None) -> Q:
    """Ratings whose proposed level (an adjustment wins over the compiled one) is ``level``."""
    if level is None:
        return Q(is_adjusted=True, adjusted_level__isnull=True) | Q(
            is_adjusted=False, computed_level__isnull=True
        )
    return Q(is_adjusted=True, adjusted_level=level) | Q(is_adjusted=False, computed_level=level)


def _filtered_ratings(
    request: AuthedHttpRequest, rnd: RatingRound
) -> tuple[QuerySet[Rating], dict[str, str]]:
    qs = ratings_visible_to(request.user).filter(round=rnd)
    chosen = {k: request.GET.get(k, "") for k in ("level", "parent", "tie", "veto")}
    if chosen["level"] == NO_LEVEL:
        qs = qs.filter(_level_q(None))
    elif chosen["level"].lstrip("-").isdigit():
        qs = qs.filter(_level_q(int(chosen["level"])))
    if chosen["parent"].isdigit():
        qs = qs.filter(org__parent_id=int(chosen["parent"]))
    if chosen["tie"]:
        qs = qs.filter(needs_decision=True)
    if chosen["veto"]:
        qs = qs.exclude(vetoes=[])
    return qs.select_related("org__parent").order_by("org__path"), chosen


def _level_choices(scheme: Scheme) -> list[tuple[str, str]]:
    levels = sorted(scheme.levels.rated, reverse=True)
    below = scheme.below_level
    choices = [(str(lv), scheme.label_for(lv)) for lv in levels]
    if below == 0:
        choices.append(("0", scheme.label_for(0)))
    choices.append((NO_LEVEL, "未定级 / 未计算"))
    return choices


def _parent_choices(request: AuthedHttpRequest, rnd: RatingRound) -> list[OrgUnit]:
    parents = ratings_visible_to(request.user).filter(round=rnd).values("org__parent_id")
    return list(OrgUnit.objects.filter(pk__in=parents).order_by("path"))


# --- pages -------------------------------------------------------------------------------------


def _rounds_for_home(request: AuthedHttpRequest) -> list[RatingRound]:
    compiled = Q(ratings__compiled_at__isnull=False)
    declared = Q(ratings__status__in=[RatingStatus.DECLARED, RatingStatus.FIRST_REVIEWED])
    return list(
        rounds_visible_to(request.user)
        .annotate(
            n_ratings=Count("ratings"),
            n_declared=Count("ratings", filter=declared),
            n_compiled=Count("ratings", filter=compiled),
            n_ties=Count("ratings", filter=Q(ratings__needs_decision=True)),
        )
        .order_by("-campaign__year", "applies_to")
    )


def _campaigns_to_start(request: AuthedHttpRequest, rounds: list[RatingRound]) -> list[dict[str, Any]]:
    """For 工委 staff: per open campaign, the scheme versions that could start a new round."""
    campaigns = list(
        campaigns_visible_to(request.user).exclude(status=CampaignStatus.ARCHIVED).order_by("-year")
    )
    versions = SchemeVersion.objects.filter(campaign__in=campaigns).order_by("campaign", "-number")
    taken = {(r.campaign_id, r.applies_to) for r in rounds}
    by_campaign: dict[int, list[SchemeVersion]] = {c.pk: [] for c in campaigns}
    for version in versions:
        by_campaign[version.campaign_id].append(version)
    return [
        {
            "campaign": c,
            "has_scheme": bool(by_campaign[c.pk]),
            "schemes": [v for v in by_campaign[c.pk] if (c.pk, v.applies_to) not in taken],
            "form": RoundCreateForm(initial={"campaign": c.pk}),
        }
        for c in campaigns
    ]


def _own_ratings(request: AuthedHttpRequest, rounds: list[RatingRound]) -> list[dict[str, Any]]:
    """For branch officers: their organisation's rating in each round of its kind."""
    org_ids = {g.org_id for g in grants_of(request.user) if g.role in OFFICER_ROLES}
    orgs = list(OrgUnit.objects.filter(pk__in=org_ids).order_by("path")) if org_ids else []
    if not orgs or not rounds:
        return []
    ratings = {
        (r.round_id, r.org_id): r
        for r in Rating.objects.filter(round__in=rounds, org__in=orgs).only(
            "pk", "round_id", "org_id", "status", "computed_level", "adjusted_level", "is_adjusted"
        )
    }
    rows = []
    for rnd in rounds:
        scheme = scheme_of(rnd.scheme)
        for org in orgs:
            if org.kind != rnd.applies_to:
                continue
            rating = ratings.get((rnd.pk, org.pk))
            row: dict[str, Any] = {
                "round": rnd,
                "stage": stage_label(rnd.stage, scheme),
                "org": org,
                "rating": rating,
                "level": None,
                "url": None,
                "declare": False,
            }
            if rating is not None:
                rating.round, rating.org = rnd, org  # already loaded: no query per row
                row["url"] = reverse("scoring:rating", args=[rating.pk])
                if services.branch_can_see_level(request.user, rating):
                    row["level"] = scheme.label_for(rating.level)
            elif rnd.stage in DECLARING_STAGES and can_declare(request.user, org):
                row["url"] = reverse("scoring:rating_declare", kwargs={"round_pk": rnd.pk, "org_pk": org.pk})
                row["declare"] = True
            rows.append(row)
    return rows


@require_GET
@access(AUTHENTICATED)
def home(request: AuthedHttpRequest) -> HttpResponse:
    rounds = _rounds_for_home(request)
    is_staff = can_review_anything(request.user)
    manages = can_manage_rating(request.user)
    context = {
        "rounds": [(r, stage_label(r.stage, scheme_of(r.scheme))) for r in rounds],
        "is_staff": is_staff,
        "can_manage": manages,
        "starts": _campaigns_to_start(request, rounds) if manages else [],
        "schemes_url": reverse("scoring:schemes"),
        "own": [] if is_staff else _own_ratings(request, rounds),
    }
    return render(request, "scoring/home.html", context)


@require_POST
@access(STAFF)
def round_create(request: AuthedHttpRequest) -> HttpResponseRedirect:
    _require_manager(request)
    form = RoundCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择评星方案。")
        return redirect("scoring:home")
    campaign = campaigns_visible_to(request.user).filter(pk=form.cleaned_data["campaign"]).first()
    if campaign is None:
        record_out_of_scope(request, "Campaign", form.cleaned_data["campaign"])
        raise Http404("没有找到该创建活动。")
    scheme = schemes_visible_to(request.user).filter(pk=form.cleaned_data["scheme"]).first()
    if scheme is None:
        messages.error(request, "没有找到该评星方案。")
        return redirect("scoring:home")
    try:
        rnd = services.round_create(
            campaign=campaign, scheme=scheme, actor=request.user, title=form.cleaned_data["title"]
        )
    except RatingRefused as exc:
        messages.error(request, exc.message)
        return redirect("scoring:home")
    messages.success(request, f"已发起“{rnd.title}”，各组织现在可以自评申报。")
    return redirect(_round_url(rnd))


def _manager_panel(rnd: RatingRound, scheme: Scheme) -> dict[str, Any]:
    """What only 工委 staff see on the round page: runs, currency, quotas, ties and actions."""
    latest_done = services.latest_done_run(rnd)
    current, why = services.results_current(rnd, latest_done)
    today = timezone.localdate()
    advances = [
        {
            "stage": stage,
            "label": stage_label(stage, scheme),
            "publicity": stage == RoundStage.PUBLICITY,
            "naming": stage == RoundStage.NAMED,
        }
        for stage in services.next_stages(rnd)
    ]
    adoptable = []
    if rnd.stage in services.PRE_PUBLICITY:
        adoptable = list(
            SchemeVersion.objects.filter(campaign_id=rnd.campaign_id, applies_to=rnd.applies_to)
            .exclude(pk=rnd.scheme_id)
            .order_by("-number")
        )
    return {
        "latest_run": services.latest_run(rnd),
        "results_current": current,
        "results_why": why,
        "distribution": _distribution(latest_done),
        "ties": services.open_ties(rnd, latest_done),
        "advances": advances,
        "adoptable": adoptable,
        "today": today,
    }


@require_GET
@access(STAFF)
def round_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rnd = _round_or_404(request, pk)
    scheme = scheme_of(rnd.scheme)
    ratings, chosen = _filtered_ratings(request, rnd)
    page = Paginator(ratings, PAGE_SIZE).get_page(request.GET.get("page"))
    manages = can_manage_rating(request.user)
    context: dict[str, Any] = {
        "round": rnd,
        "scheme": scheme,
        "stage_label": stage_label(rnd.stage, scheme),
        "stepper": _stepper(rnd, scheme),
        "page": page,
        "rows": [_rating_row(r, scheme) for r in page.object_list],
        "chosen": chosen,
        "level_choices": _level_choices(scheme),
        "parents": _parent_choices(request, rnd),
        "can_manage": manages,
        **(_manager_panel(rnd, scheme) if manages else {}),
    }
    return render(request, "scoring/round_detail.html", context)


@require_POST
@access(STAFF)
def round_compile(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    rnd = _managed_round_or_404(request, pk)
    try:
        run = services.compile_request(rnd=rnd, actor=request.user)
    except RatingRefused as exc:
        messages.error(request, exc.message)
        return redirect(_round_url(rnd))
    messages.success(request, "已提交计算任务，进度见下方。")
    return redirect("scoring:run", pk=run.pk)


def _dropped_orgs(run: CompileRun) -> list[OrgUnit]:
    ids = [int(i) for i in run.dropped_decisions]
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("path")) if ids else []


@require_GET
@access(STAFF)
def run_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    context = {
        "run": run,
        "round": run.round,
        "round_url": _round_url(run.round),
        "polling": run.is_active,
        "dropped": _dropped_orgs(run),
    }
    template = "scoring/run.html"
    if request.headers.get("HX-Request"):
        template += "#progress"
    return render(request, template, context)


def _tie_groups(rnd: RatingRound, bound: TieForm | None, chosen: list[int]) -> list[dict[str, Any]]:
    """Each open tie with its form; the tie just posted keeps the posted form and choices."""
    groups = []
    for tie in services.open_ties(rnd, services.latest_done_run(rnd)):
        form = TieForm(
            initial={"level": tie.level, "scope": tie.scope}, org_ids=[r.org_id for r in tie.ratings]
        )
        posted = bound is not None and (bound.data.get("level"), bound.data.get("scope")) == (
            str(tie.level),
            tie.scope,
        )
        groups.append({"tie": tie, "form": bound if posted else form, "chosen": chosen if posted else []})
    return groups


def _tie_decide(request: AuthedHttpRequest, rnd: RatingRound, form: TieForm) -> HttpResponse | None:
    """Record the decision and recompile; None when the form must be shown again."""
    if not form.is_valid():
        return None
    d = form.cleaned_data
    try:
        services.tie_decide(
            rnd=rnd,
            level=d["level"],
            scope=d["scope"],
            chosen=d["org"],
            reason=d["reason"],
            actor=request.user,
        )
    except RatingRefused as exc:
        form.add_error(None, exc.message)
        return None
    try:
        run = services.compile_request(rnd=rnd, actor=request.user)
    except RatingRefused as exc:
        messages.warning(request, f"并列决定已记录，但未能重新计算：{exc.message}")
        return redirect(_round_url(rnd))
    messages.success(request, "并列决定已记录，正在按决定重新计算。")
    return redirect("scoring:run", pk=run.pk)


@require_http_methods(["GET", "POST"])
@access(STAFF)
def round_ties(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rnd = _managed_round_or_404(request, pk)
    bound = None
    chosen = [int(i) for i in request.POST.getlist("org") if i.isdigit()]
    if request.method == "POST":
        bound = TieForm(request.POST, org_ids=chosen)
        done = _tie_decide(request, rnd, bound)
        if done is not None:
            return done
    decisions = (
        TieDecision.objects.filter(round=rnd, is_void=False)
        .select_related("org", "decided_by")
        .order_by("-decided_at", "org__path")
    )
    scheme = scheme_of(rnd.scheme)
    groups = _tie_groups(rnd, bound, chosen)
    if bound is not None and not any(g["form"] is bound for g in groups):
        messages.error(
            request, "；".join(str(e) for e in bound.non_field_errors()) or "该并列已不存在，请刷新后重试"
        )
    context = {
        "round": rnd,
        "round_url": _round_url(rnd),
        "groups": groups,
        "decisions": [
            (d, scheme.label_for(d.tied_level), scheme.label_for(d.decided_level)) for d in decisions
        ],
        "can_decide": rnd.stage in services.PRE_PUBLICITY,
    }
    return render(request, "scoring/round_ties.html", context)


@require_POST
@access(STAFF)
def round_advance(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    rnd = _managed_round_or_404(request, pk)
    form = AdvanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "提交的内容不完整，请检查日期等信息后重试。")
        return redirect(_round_url(rnd))
    d = form.cleaned_data
    try:
        rnd = services.round_advance(
            rnd=rnd,
            to_stage=d["to_stage"],
            actor=request.user,
            expected_version=d["version"],
            publicity_starts_on=d["publicity_starts_on"],
            naming_document=d["naming_document"],
            named_on=d["named_on"],
        )
    except RatingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已进入“{stage_label(rnd.stage, scheme_of(rnd.scheme))}”阶段。")
    return redirect(_round_url(rnd))


@require_POST
@access(STAFF)
def round_adopt(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    rnd = _managed_round_or_404(request, pk)
    form = AdoptForm(request.POST)
    scheme = None
    if form.is_valid():
        scheme = SchemeVersion.objects.filter(
            campaign_id=rnd.campaign_id, pk=form.cleaned_data["scheme"]
        ).first()
    if scheme is None:
        messages.error(request, "请选择本活动的方案版本。")
        return redirect(_round_url(rnd))
    try:
        services.round_adopt(rnd=rnd, scheme=scheme, actor=request.user)
    except RatingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已采用“{scheme}”。原有并列决定已失效，请重新计算星级。")
    return redirect(_round_url(rnd))


@require_http_methods(["GET", "POST"])
@access(STAFF)
def round_facts(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rnd = _managed_round_or_404(request, pk)
    form = FactForm(request.POST or None, rnd=rnd)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            fact_services.fact_create(
                rnd=rnd,
                org=d["org"],
                kind=d["kind"],
                key=d["key"],
                value=d["value"],
                description=d["description"],
                actor=request.user,
            )
        except RatingRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已录入评星事实，重新计算后生效。")
            return redirect("scoring:round_facts", pk=rnd.pk)
    facts = (
        facts_visible_to(request.user)
        .filter(campaign_id=rnd.campaign_id, org__kind=rnd.applies_to)
        .select_related("org__parent", "evidence", "entered_by")
    )
    options = fact_services.fact_key_options(scheme_of(rnd.scheme))
    context = {
        "round": rnd,
        "round_url": _round_url(rnd),
        "form": form,
        "page": Paginator(facts, PAGE_SIZE).get_page(request.GET.get("page")),
        "options": [(FactKind(kind).label, keys) for kind, keys in options.items() if keys],
        "datalist": sorted({key for keys in options.values() for key, _ in keys}),
    }
    return render(request, "scoring/facts.html", context)


@require_POST
@access(STAFF)
def fact_delete(request: AuthedHttpRequest, pk: int) -> HttpResponseRedirect:
    fact = _fact_or_404(request, pk)
    _require_manager(request)
    rnd = RatingRound.objects.filter(campaign_id=fact.campaign_id, applies_to=fact.org.kind).first()
    try:
        fact_services.fact_delete(fact=fact, actor=request.user)
    except RatingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已删除该评星事实，重新计算后生效。")
    return redirect("scoring:round_facts", pk=rnd.pk) if rnd else redirect("scoring:home")


@require_GET
@access(STAFF)
def first_review_queue(request: AuthedHttpRequest) -> HttpResponse:
    rows = [
        (r, scheme_of(r.round.scheme).label_for(r.declared_level)) for r in first_review_pending(request.user)
    ]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "scoring/first_review_queue.html", {"page": page})


urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
    path("rounds/new/", round_create, name="round_create"),
    path("rounds/<int:pk>/", round_detail, name="round"),
    path("rounds/<int:pk>/compile/", round_compile, name="round_compile"),
    path("rounds/<int:pk>/ties/", round_ties, name="round_ties"),
    path("rounds/<int:pk>/advance/", round_advance, name="round_advance"),
    path("rounds/<int:pk>/adopt/", round_adopt, name="round_adopt"),
    path("rounds/<int:pk>/facts/", round_facts, name="round_facts"),
    path("facts/<int:pk>/delete/", fact_delete, name="fact_delete"),
    path("runs/<int:pk>/", run_detail, name="run"),
    path("first-review/", first_review_queue, name="first_review_queue"),
]

"""Dashboards (domain.md §11): one organisation's figures, the lists behind every number, the trend.

Every figure comes from ``scoring.dashboard`` (SQL aggregates over rollups or live rows); these
views pick the campaign, the organisation and the section from the query string, check that the
user may see them (outside the user's subtree: 404) and render. Each list page filters by the same
conditions as the number that links to it, inside the user's scope and the organisation's subtree,
so a number and its list agree. The number of queries of every page is fixed (targets P2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from branches.access import AUTHENTICATED, AuthedHttpRequest, access, record_out_of_scope
from branches.models import OrgKind, OrgUnit, User
from branches.selectors import scope_q
from campaigns import selectors as campaign_selectors
from campaigns.models import Campaign, CampaignStatus, Checklist, DutyReport, ReportStatus, Section
from scoring import dashboard as figures
from scoring.models import RatingRound
from scoring.rollups import effective_level, rollup_current
from scoring.selectors import ratings_visible_to, rounds_visible_to

PAGE_SIZE = 50

LETTER_STATES = {"all": "全部", "signed": "已签订", "unsigned": "未签订"}
# 已报送 = handed in and not sent back (submitted or reviewed): what 述职进度 counts as submitted.
HANDED_IN = (ReportStatus.SUBMITTED, ReportStatus.REVIEWED)
REPORT_STATES: dict[str, str] = {
    "all": "全部",
    "handed_in": "已报送",
    **{s.value: str(s.label) for s in ReportStatus},
    "missing": "未报送",
}
UNRATED = "none"  # the ``level`` value of 未评定 in the ratings list


# --- what the query string asks for -----------------------------------------------------------


@dataclass
class Scope:
    """The campaign, organisation and section a dashboard page is about (already authorised)."""

    campaign: Campaign
    node: OrgUnit
    section: Section | None
    today: date

    @property
    def has_children(self) -> bool:
        return bool(getattr(self.node, "has_children", False))

    def query(self, *, org: OrgUnit | None = None, section: bool = True, **extra: Any) -> str:
        """The query string of a page about this scope (another ``org``, plus ``extra``)."""
        params: dict[str, Any] = {"campaign": self.campaign.pk, "org": (org or self.node).pk}
        if section and self.section is not None:
            params["section"] = self.section.pk
        params.update({k: v for k, v in extra.items() if v not in (None, "")})
        return urlencode(params)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _node_or_404(request: AuthedHttpRequest) -> OrgUnit:
    """``?org=`` if the user may see it (else 404), or the user's top visible organisation."""
    wanted = request.GET.get("org") or None
    org_id = _int(wanted)
    if wanted is not None and org_id is None:
        raise Http404("没有找到该组织。")
    node = figures.node_for(request.user, org_id)
    if node is None:
        if org_id is not None:
            record_out_of_scope(request, "OrgUnit", org_id)
        raise Http404("没有找到该组织，或该组织不在您的管理范围内。")
    return node


def _campaign_or_404(
    request: AuthedHttpRequest, node: OrgUnit, visible: list[Campaign] | None = None
) -> Campaign | None:
    """``?campaign=`` if visible (else 404), or the user's current campaign; it must cover ``node``.

    ``visible``: the user's campaigns already loaded (newest first), to choose from without a query.
    """
    wanted = request.GET.get("campaign") or None
    if visible is None:
        campaign = campaign_selectors.campaign_for_page(request.user, wanted)
    elif wanted and wanted.isdigit():
        campaign = next((c for c in visible if c.pk == int(wanted)), None)
    else:  # as campaign_selectors.current_campaign_for
        campaign = next((c for c in visible if c.status != CampaignStatus.DRAFT), None)
    if campaign is None:
        if wanted:
            record_out_of_scope(request, "Campaign", wanted)
            raise Http404("没有找到该创建活动。")
        return None
    if not node.path.startswith(campaign.committee.path):
        record_out_of_scope(request, "OrgUnit", node.pk)
        raise Http404("该组织不属于这次创建活动。")
    return campaign


def _section(request: AuthedHttpRequest, campaign: Campaign) -> Section | None:
    """``?section=`` when it is a section of the campaign; anything else is ignored."""
    section_id = _int(request.GET.get("section"))
    if section_id is None:
        return None
    return Section.objects.filter(campaign=campaign, pk=section_id).first()


def _scope(request: AuthedHttpRequest, *, with_section: bool = True) -> Scope:
    node = _node_or_404(request)
    campaign = _campaign_or_404(request, node)
    if campaign is None:
        raise Http404("目前没有创建活动。")
    section = _section(request, campaign) if with_section else None
    return Scope(campaign=campaign, node=node, section=section, today=timezone.localdate())


def _crumbs(user: User, node: OrgUnit) -> list[OrgUnit]:
    """The node's visible ancestors, from the user's top organisation down, then the node (≤ 1 query)."""
    ancestors = node.ancestor_ids
    above: list[OrgUnit] = []
    if ancestors:
        above = list(
            OrgUnit.objects.filter(scope_q(user, field="path"), pk__in=ancestors)
            .only("id", "name", "depth")
            .order_by("depth")
        )
    return [*above, node]


def _page(request: AuthedHttpRequest, rows: QuerySet[Any] | list[Any]) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _export_url(scope: Scope) -> str | None:
    """The assessment workbook export for this subtree, when that page exists."""
    try:
        base = reverse("scoring:export_create")
    except NoReverseMatch:
        return None
    return f"{base}?{urlencode({'campaign': scope.campaign.pk, 'org': scope.node.pk})}"


# --- the dashboard ----------------------------------------------------------------------------


CHILD_SORTS: dict[str, tuple[str, Callable[[figures.ChildRow], Any]]] = {
    "name": ("党组织", lambda r: r.org.name),
    "rate": ("进度完成率", lambda r: r.completion.rate),
    "done": ("已完成", lambda r: r.completion.done),
    "overdue": ("逾期", lambda r: r.completion.overdue),
    "due_soon": ("临期", lambda r: r.completion.due_soon),
    "on_time": ("按时完成率", lambda r: r.completion.on_time_rate),
    "letters": ("责任书", lambda r: figures.pct(r.letters_signed, r.letters_total)),
    "findings": ("未销号问题", lambda r: r.findings.open),
}


def sort_children(rows: list[figures.ChildRow], sort: str) -> tuple[list[figures.ChildRow], str]:
    """Rows sorted by ``sort`` (``-`` first: descending); missing values always last."""
    key_name = sort.lstrip("-")
    if key_name not in CHILD_SORTS:
        return rows, ""
    key = CHILD_SORTS[key_name][1]
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    present.sort(key=key, reverse=sort.startswith("-"))
    return [*present, *missing], sort


def sort_links(current: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the ``sort`` its header links to and the arrow showing the current order."""
    out: dict[str, dict[str, str]] = {}
    for name in CHILD_SORTS:
        first = name if name == "name" else f"-{name}"  # names A→Z first, figures largest first
        flipped = first[1:] if first.startswith("-") else f"-{first}"
        following = flipped if current == first else first
        arrow = ""
        if current.lstrip("-") == name:
            arrow = "▼" if current.startswith("-") else "▲"
        out[name] = {"sort": following, "arrow": arrow}
    return out


def _chart_data(d: figures.Dashboard) -> dict[str, Any]:
    return {
        "sections": {
            "names": [row.section.name for row in d.by_section],
            "rate": [row.completion.rate for row in d.by_section],
            "overall": [row.completion.overall_rate for row in d.by_section],
        },
        "stars": [
            {
                "title": rs.round.title,
                "labels": [row.label for row in rs.rows],
                "counts": [row.count for row in rs.rows],
                "seats": [row.seats for row in rs.rows],
            }
            for rs in d.stars
        ],
    }


@require_GET
@access(AUTHENTICATED)
def dashboard_page(request: AuthedHttpRequest) -> HttpResponse:
    node = _node_or_404(request)
    campaigns = [
        c
        for c in campaign_selectors.campaigns_visible_to(request.user).order_by("-year", "-pk")
        if node.path.startswith(c.committee.path)
    ]
    campaign = _campaign_or_404(request, node, campaigns)
    crumbs = _crumbs(request.user, node)
    if campaign is None:
        return render(request, "scoring/dashboard.html", {"node": node, "crumbs": crumbs, "campaign": None})
    scope = Scope(campaign, node, _section(request, campaign), timezone.localdate())
    d = figures.dashboard(campaign=campaign, node=node, section=scope.section, today=scope.today)
    children, sort = sort_children(d.children, request.GET.get("sort", ""))
    checklist_id = None
    if not d.has_children:
        checklist_id = (
            Checklist.objects.filter(campaign=campaign, org=node).values_list("pk", flat=True).first()
        )
    context = {
        "scope": scope,
        "campaign": campaign,
        "node": node,
        "crumbs": crumbs,
        "d": d,
        "campaigns": campaigns,
        "children_page": _page(request, children),
        "sort": sort,
        "sort_links": sort_links(sort),
        "q": scope.query(),
        "q_node": scope.query(section=False),
        "section_q": f"&section={scope.section.pk}" if scope.section else "",
        "export_url": _export_url(scope),
        "checklist_id": checklist_id,
        "charts": _chart_data(d),
        "letters_unsigned": d.letters_total - d.letters_signed,
        "report_statuses": [
            {"value": s.value, "label": s.label, "count": d.reports.get(s.value, 0)} for s in ReportStatus
        ],
    }
    return render(request, "scoring/dashboard.html", context)


@require_GET
@access(AUTHENTICATED)
def dashboard_trend(request: AuthedHttpRequest) -> HttpResponse:
    """The htmx fragment: monthly trend, this year against last year and against the snapshot."""
    scope = _scope(request, with_section=False)
    has_children = scope.has_children
    stale = False
    as_of = None
    if has_children:
        state, stale = rollup_current(scope.campaign)
        as_of = state.refreshed_at
    now = figures.node_completion(
        campaign=scope.campaign, node=scope.node, has_children=has_children, today=scope.today
    )
    t = figures.trend(
        campaign=scope.campaign, node=scope.node, has_children=has_children, today=scope.today, now=now
    )
    this_year = scope.campaign.year == scope.today.year
    last_month = scope.today.month if this_year else (12 if scope.campaign.year < scope.today.year else 0)
    rows = [
        {
            "month": m,
            "due": t.due[m - 1],
            "done": t.done[m - 1],
            "rate": figures.pct(t.done[m - 1], t.total),
            "last_done": t.last_done[m - 1],
            "last_rate": figures.pct(t.last_done[m - 1], t.last_total),
        }
        for m in t.months
        if m <= last_month
    ]
    snap = t.snapshot_figures
    chart = {
        "months": [f"{m}月" for m in t.months],
        "due": [figures.pct(n, t.total) for n in t.due],
        "done": [
            figures.pct(n, t.total) if m <= last_month else None
            for m, n in zip(t.months, t.done, strict=True)
        ],
        "last_done": [figures.pct(n, t.last_total) for n in t.last_done] if t.last_campaign else [],
        "last_year": t.last_campaign.year if t.last_campaign else None,
    }
    context = {
        "scope": scope,
        "t": t,
        "rows": rows,
        "chart": chart,
        "as_of": as_of,
        "stale": stale,
        "snapshot": {
            "total": snap.get("total", 0),
            "due": snap.get("due", 0),
            "done": snap.get("done", 0),
            "overdue": snap.get("overdue", 0),
            "rate": figures.pct(snap.get("done", 0), snap.get("total", 0)),
        },
    }
    return render(request, "scoring/_dashboard_trend.html", context)


# --- the lists behind the numbers ---------------------------------------------------------------


def _list_context(
    request: AuthedHttpRequest, scope: Scope, state: str, states: dict[str, str]
) -> dict[str, Any]:
    return {
        "scope": scope,
        "campaign": scope.campaign,
        "node": scope.node,
        "crumbs": _crumbs(request.user, scope.node),
        "state": state,
        "states": states,
        "back_q": scope.query(),
        "subtitle": states.get(state, ""),
    }


def _state(request: AuthedHttpRequest, states: dict[str, str], name: str = "state") -> str:
    value = request.GET.get(name, "all")
    return value if value in states else "all"


ENTRY_LIST_FIELDS = (
    "id",
    "due_date",
    "completed_on",
    "status",
    "period",
    "org__id",
    "org__name",
    "item__id",
    "item__code",
    "item__title",
    "item__section__id",
    "item__section__name",
    "responsible__id",
    "responsible__full_name",
    "responsible__username",
)


@require_GET
@access(AUTHENTICATED)
def dashboard_entries(request: AuthedHttpRequest) -> HttpResponse:
    scope = _scope(request)
    state = _state(request, figures.ENTRY_STATES)
    entries = (
        figures.entries_behind(
            user=request.user,
            campaign=scope.campaign,
            node=scope.node,
            section=scope.section,
            state=state,
            today=scope.today,
        )
        .select_related("org", "item__section", "responsible")
        .only(*ENTRY_LIST_FIELDS)
        .order_by("due_date", "org__path", "item__code", "period", "id")
    )
    context = _list_context(request, scope, state, figures.ENTRY_STATES)
    context |= {"page": _page(request, entries), "state_q": scope.query()}
    return render(request, "scoring/dashboard_entries.html", context)


@require_GET
@access(AUTHENTICATED)
def dashboard_findings(request: AuthedHttpRequest) -> HttpResponse:
    scope = _scope(request, with_section=False)
    state = _state(request, figures.FINDING_STATES)
    findings = (
        campaign_selectors.findings_visible_to(request.user)
        .filter(campaign=scope.campaign, org__path__startswith=scope.node.path)
        .filter(figures.finding_state_q(state, scope.today))
        .select_related("org", "rectification")
        .only(
            "id",
            "source",
            "description",
            "severity",
            "created_at",
            "org__id",
            "org__name",
            "rectification__id",
            "rectification__status",
            "rectification__deadline",
            "rectification__closed_on",
        )
        .order_by("org__path", "-created_at", "-id")
    )
    context = _list_context(request, scope, state, figures.FINDING_STATES)
    context |= {"page": _page(request, findings), "state_q": scope.query(section=False)}
    return render(request, "scoring/dashboard_findings.html", context)


def _checklists_of(user: User, scope: Scope) -> QuerySet[Checklist]:
    """Checklists of the subtree's organisations (the 工委's own has no 目标责任书)."""
    return (
        campaign_selectors.checklists_visible_to(user)
        .filter(campaign=scope.campaign, org__path__startswith=scope.node.path)
        .exclude(org__kind=OrgKind.COMMITTEE)
    )


@require_GET
@access(AUTHENTICATED)
def dashboard_letters(request: AuthedHttpRequest) -> HttpResponse:
    scope = _scope(request, with_section=False)
    state = _state(request, LETTER_STATES)
    checklists = _checklists_of(request.user, scope)
    if state == "signed":
        checklists = checklists.filter(letter_signed_at__isnull=False)
    elif state == "unsigned":
        checklists = checklists.filter(letter_signed_at__isnull=True)
    checklists = checklists.only(
        "id", "letter_signed_at", "org__id", "org__code", "org__name", "org__kind", "campaign__id"
    ).order_by("org__path")
    context = _list_context(request, scope, state, LETTER_STATES)
    context |= {"page": _page(request, checklists), "state_q": scope.query(section=False)}
    return render(request, "scoring/dashboard_letters.html", context)


@require_GET
@access(AUTHENTICATED)
def dashboard_reports(request: AuthedHttpRequest) -> HttpResponse:
    scope = _scope(request, with_section=False)
    state = _state(request, REPORT_STATES, "status")
    context = _list_context(request, scope, state, REPORT_STATES)
    context["state_q"] = scope.query(section=False)
    if state == "missing":
        handed_in = DutyReport.objects.filter(
            campaign=scope.campaign, org=OuterRef("org_id"), status__in=HANDED_IN
        )
        missing = (
            _checklists_of(request.user, scope)
            .filter(~Exists(handed_in))
            .only("id", "org__id", "org__code", "org__name", "org__kind", "campaign__id")
            .order_by("org__path")
        )
        context["page"] = _page(request, missing)
        context["missing"] = True
        return render(request, "scoring/dashboard_reports.html", context)
    reports = campaign_selectors.reports_visible_to(request.user).filter(
        campaign=scope.campaign, org__path__startswith=scope.node.path
    )
    if state == "handed_in":
        reports = reports.filter(status__in=HANDED_IN)
    elif state != "all":
        reports = reports.filter(status=state)
    reports = (
        reports.select_related("org")
        .only("id", "title", "status", "submitted_at", "reviewed_at", "org__id", "org__name")
        .order_by("org__path", "id")
    )
    context["page"] = _page(request, reports)
    return render(request, "scoring/dashboard_reports.html", context)


def _level(value: str | None) -> tuple[bool, int | None]:
    """(filter by level?, level) from ``?level=``: a number, ``none`` (未评定) or nothing."""
    if value == UNRATED:
        return True, None
    if value is not None and value.lstrip("-").isdigit():
        return True, int(value)
    return False, None


@require_GET
@access(AUTHENTICATED)
def dashboard_ratings(request: AuthedHttpRequest) -> HttpResponse:
    scope = _scope(request, with_section=False)
    rounds = rounds_visible_to(request.user).filter(campaign=scope.campaign)
    round_id = _int(request.GET.get("round"))
    rnd: RatingRound | None = None
    if round_id is not None:
        rnd = rounds.filter(pk=round_id).first()
        if rnd is None:
            record_out_of_scope(request, "RatingRound", round_id)
            raise Http404("没有找到该评星。")
    by_level, level = _level(request.GET.get("level"))
    ratings = (
        ratings_visible_to(request.user)
        .filter(round__campaign=scope.campaign, org__path__startswith=scope.node.path)
        .annotate(eff_level=effective_level())
    )
    if rnd is not None:
        ratings = ratings.filter(round=rnd)
    if by_level:
        ratings = ratings.filter(eff_level__isnull=True) if level is None else ratings.filter(eff_level=level)
    ratings = (
        ratings.select_related("org", "round__scheme")
        .only(
            "id",
            "status",
            "total",
            "org__id",
            "org__name",
            "round__id",
            "round__title",
            "round__scheme__data",
        )
        .order_by("org__path", "round_id")
    )
    page = _page(request, ratings)
    rows = [
        {"rating": r, "label": figures._level_label(r.round.scheme.data, r.eff_level)}  # type: ignore[attr-defined]
        for r in page.object_list
    ]
    level_label = ""
    if by_level:
        level_label = figures._level_label(rnd.scheme.data if rnd else {}, level)
    context = _list_context(request, scope, "all", {})
    context |= {
        "page": page,
        "rows": rows,
        "round": rnd,
        "level_label": level_label,
        "state_q": scope.query(section=False),
    }
    return render(request, "scoring/dashboard_ratings.html", context)


urlpatterns: list[URLPattern] = [
    path("dashboard/", dashboard_page, name="dashboard"),
    path("dashboard/trend/", dashboard_trend, name="dashboard_trend"),
    path("dashboard/entries/", dashboard_entries, name="dashboard_entries"),
    path("dashboard/issues/", dashboard_findings, name="dashboard_findings"),
    path("dashboard/letters/", dashboard_letters, name="dashboard_letters"),
    path("dashboard/duty-reports/", dashboard_reports, name="dashboard_reports"),
    path("dashboard/ratings/", dashboard_ratings, name="dashboard_ratings"),
]

"""Dashboard figures (domain.md §11) for one organisation's subtree.

An organisation with descendants is read from its rollups (``scoring.rollups``): its own row
set for totals, sections and the monthly trend, its children's rows for the child table. A
branch, and each child without descendants, is read live from its own rows with the same
aggregates. Every figure is an SQL aggregate; the number of queries is fixed, whatever the
size of the subtree (targets P2, P4). The lists behind the numbers use the same conditions
(``entry_state_q``), so a number and the list it links to agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, ExtractMonth

from branches.models import OrgUnit, User
from branches.selectors import scope_q
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Checklist,
    ChecklistEntry,
    DutyReport,
    EntryStatus,
    Finding,
    ProgressSnapshot,
    ReportStatus,
    Section,
    SnapshotRow,
)
from campaigns.models.checklists import DONE_STATUSES, DUE_SOON_DAYS, OPEN_STATUSES
from campaigns.models.supervision import RectificationStatus
from scoring.models import CountRollup, EntryRollup, Rating, RatingRound, RollupMetric, RollupState
from scoring.rollups import effective_level, on_time_q, rollup_current, rollup_refresh

LIST_LIMIT = 10

# What each number of the completion block counts; the list behind a number filters by the same.
ENTRY_STATES: dict[str, str] = {
    "all": "全部",
    "due": "应完成",
    "done": "已完成",
    "due_done": "到期已完成",
    "on_time": "按时完成",
    "overdue": "逾期",
    "due_soon": "临期",
    "open": "未完成",
    "submitted": "待审核",
    "returned": "已退回",
}


def soon_of(today: date) -> date:
    return today + timedelta(days=DUE_SOON_DAYS)


def entry_state_q(state: str, today: date) -> Q:
    """The entries a completion number counts (live rows); unknown states count everything."""
    done = Q(status__in=DONE_STATUSES)
    due = Q(due_date__lte=today)
    opened = Q(status__in=OPEN_STATUSES)
    return {
        "due": due,
        "done": done,
        "due_done": due & done,
        "on_time": due & done & on_time_q(),
        "overdue": Q(due_date__lt=today) & opened,
        "due_soon": Q(due_date__gte=today, due_date__lte=soon_of(today)) & opened,
        "open": opened,
        "submitted": Q(status=EntryStatus.SUBMITTED),
        "returned": Q(status=EntryStatus.RETURNED),
    }.get(state, Q())


COMPLETION_FIELDS = (
    "total",
    "due",
    "done",
    "due_done",
    "on_time",
    "overdue",
    "due_soon",
    "submitted",
    "returned",
)


def live_aggregates(today: date) -> dict[str, Any]:
    """Completion figures over ChecklistEntry rows (keys ``c_<field>``, read by ``Completion.of``)."""
    out: dict[str, Any] = {"c_total": Count("pk")}
    for name in COMPLETION_FIELDS[1:]:
        out[f"c_{name}"] = Count("pk", filter=entry_state_q(name, today))
    return out


def rollup_aggregates(today: date) -> dict[str, Any]:
    """The same figures over EntryRollup rows: the date conditions apply to the bucket's due date."""
    due = Q(due_date__lte=today)

    def s(column: str, condition: Q | None = None) -> Any:
        return Coalesce(Sum(column, filter=condition), Value(0), output_field=IntegerField())

    return {
        "c_total": s("total"),
        "c_due": s("total", due),
        "c_done": s("done"),
        "c_due_done": s("done", due),
        "c_on_time": s("done_on_time", due),
        "c_overdue": s("open", Q(due_date__lt=today)),
        "c_due_soon": s("open", Q(due_date__gte=today, due_date__lte=soon_of(today))),
        "c_submitted": s("submitted"),
        "c_returned": s("returned"),
    }


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Completion:
    total: int = 0
    due: int = 0
    done: int = 0
    due_done: int = 0
    on_time: int = 0
    overdue: int = 0
    due_soon: int = 0
    submitted: int = 0
    returned: int = 0

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> Completion:
        row = row or {}
        return cls(**{name: int(row.get(f"c_{name}") or 0) for name in COMPLETION_FIELDS})

    def add(self, other: Completion) -> None:
        for name in COMPLETION_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def rate(self) -> float | None:
        """进度完成率: done among the entries due so far."""
        return pct(self.due_done, self.due)

    @property
    def overall_rate(self) -> float | None:
        """总体完成率: done among all entries of the year."""
        return pct(self.done, self.total)

    @property
    def on_time_rate(self) -> float | None:
        """按时完成率: done by their due date among the entries due so far."""
        return pct(self.on_time, self.due)


@dataclass
class FindingFigures:
    total: int = 0
    open: int = 0
    overdue: int = 0
    closed: int = 0

    @property
    def close_rate(self) -> float | None:
        """销号率: closed (销号) among all findings."""
        return pct(self.closed, self.total)


@dataclass
class ChildRow:
    org: OrgUnit
    has_children: bool
    completion: Completion
    letters_total: int = 0
    letters_signed: int = 0
    findings: FindingFigures = field(default_factory=FindingFigures)


@dataclass
class SectionRow:
    section: Section
    completion: Completion


@dataclass
class StarRow:
    level: int | None
    label: str
    count: int
    seats: int | None  # quota seats for this level over the round's whole 工委, None = no quota


@dataclass
class RoundStars:
    round: RatingRound
    rows: list[StarRow]
    rated: int


@dataclass
class Dashboard:
    campaign: Campaign
    node: OrgUnit
    has_children: bool
    section: Section | None
    today: date
    as_of: Any  # when the rollup was built (None: read live)
    stale: bool
    sections: list[Section]
    totals: Completion
    by_section: list[SectionRow]
    children: list[ChildRow]
    letters_total: int
    letters_signed: int
    findings: FindingFigures
    reports: dict[str, int]
    reports_expected: int
    stars: list[RoundStars]
    overdue_list: list[ChecklistEntry]
    due_soon_list: list[ChecklistEntry]

    @property
    def letters_rate(self) -> float | None:
        return pct(self.letters_signed, self.letters_total)

    @property
    def reports_submitted(self) -> int:
        """Handed in and not sent back: submitted or reviewed."""
        return sum(
            n
            for status, n in self.reports.items()
            if status in (ReportStatus.SUBMITTED, ReportStatus.REVIEWED)
        )

    @property
    def reports_rate(self) -> float | None:
        return pct(self.reports_submitted, self.reports_expected)


# --- helpers ------------------------------------------------------------------------------------


def _has_children_q() -> Exists:
    return Exists(OrgUnit.objects.filter(parent=OuterRef("pk")))


def node_for(user: User, org_id: int | None) -> OrgUnit | None:
    """The organisation a dashboard shows: ``org_id`` if the user may see it, else their top scope."""
    visible = OrgUnit.objects.filter(scope_q(user, field="path")).annotate(has_children=_has_children_q())
    if org_id is not None:
        return visible.filter(pk=org_id).first()
    return visible.order_by("depth", "path").first()


def _entries(campaign: Campaign, section: Section | None) -> QuerySet[ChecklistEntry]:
    qs = ChecklistEntry.objects.filter(campaign=campaign)
    return qs.filter(item__section=section) if section is not None else qs


def _rollups(campaign: Campaign, section: Section | None) -> QuerySet[EntryRollup]:
    qs = EntryRollup.objects.filter(campaign=campaign)
    return qs.filter(section=section) if section is not None else qs


def _inner_children(node: OrgUnit) -> QuerySet[Any]:
    """Ids of the node's children that have children themselves."""
    return OrgUnit.objects.filter(parent__parent=node).values("parent_id")


def finding_state_q(state: str, today: date) -> Q:
    """The findings a 问题整改 number counts (as in ``findings_by_child``); unknown states count all."""
    closed = Q(rectification__status=RectificationStatus.CLOSED)
    return {
        "open": ~closed,
        "overdue": ~closed & Q(rectification__deadline__lt=today),
        "closed": closed,
    }.get(state, Q())


FINDING_STATES: dict[str, str] = {
    "all": "问题总数",
    "open": "未销号",
    "overdue": "逾期未改",
    "closed": "已销号",
}


def findings_by_child(campaign: Campaign, node: OrgUnit, today: date) -> dict[str, FindingFigures]:
    """Findings of the subtree per child path (the node's own under its path), in one grouped query."""
    rows = (
        Finding.objects.filter(campaign=campaign, org__path__startswith=node.path)
        .values("org__path")
        .annotate(  # the conditions of the list behind each number
            n_total=Count("pk"),
            n_closed=Count("pk", filter=finding_state_q("closed", today)),
            n_overdue=Count("pk", filter=finding_state_q("overdue", today)),
        )
        .order_by()
    )
    out: dict[str, FindingFigures] = {}
    start = len(node.path)
    for r in rows:  # one row per organisation with findings, bucketed into the node's children
        path = r["org__path"]
        cut = path.find("/", start)
        child = path[: cut + 1] if cut >= 0 else path
        figures = out.setdefault(child, FindingFigures())
        figures.total += r["n_total"]
        figures.closed += r["n_closed"]
        figures.open += r["n_total"] - r["n_closed"]
        figures.overdue += r["n_overdue"]
    return out


def _quota_seats(scheme_data: dict[str, Any], level: int, rated: int) -> int | None:
    """Seats of ``level`` among ``rated`` organisations: the scheme's ``max`` share, rounded its way."""
    quota = (scheme_data.get("quotas") or {}).get(str(level))
    if not isinstance(quota, dict) or quota.get("max") in (None, ""):
        return None
    try:
        share = Decimal(str(quota["max"]))
    except InvalidOperation:
        return None
    mode = {"ceil": ROUND_CEILING, "round": ROUND_HALF_UP}.get(
        scheme_data.get("quota_rounding", "floor"), ROUND_FLOOR
    )
    return int((share * rated).quantize(Decimal(1), rounding=mode))


def _level_label(scheme_data: dict[str, Any], level: int | None) -> str:
    if level is None:
        return "未评定"
    for band in scheme_data.get("bands") or []:
        if isinstance(band, dict) and band.get("level") == level and band.get("label"):
            return str(band["label"])
    return "无星" if level == 0 else f"{level}星"


# --- the dashboard ------------------------------------------------------------------------------


def dashboard(
    *,
    campaign: Campaign,
    node: OrgUnit,
    section: Section | None = None,
    today: date,
) -> Dashboard:
    """Every figure of the dashboard for ``node``'s subtree (the caller has checked visibility)."""
    has_children = getattr(node, "has_children", None)
    if has_children is None:
        has_children = OrgUnit.objects.filter(parent=node).exists()
    as_of = None
    stale = False
    if has_children:
        state, stale = rollup_current(campaign)
        as_of = state.refreshed_at
    # Totals and every section in one grouped query (the section filter picks a row, so the
    # filter's choices are the sections this subtree has entries in, plus the chosen one).
    section_rows: QuerySet[Any, dict[str, Any]]
    if has_children:
        section_rows = (
            _rollups(campaign, None)
            .filter(org=node)
            .values("section_id", "section__name", "section__sort_order")
            .annotate(**rollup_aggregates(today))
        )
        base = "section"
    else:
        section_rows = (
            _entries(campaign, None)
            .filter(org=node)
            .values("item__section_id", "item__section__name", "item__section__sort_order")
            .annotate(**live_aggregates(today))
        )
        base = "item__section"
    totals = Completion()
    by_section: list[SectionRow] = []
    sections_seen: dict[int, Section] = {section.pk: section} if section is not None else {}
    for row in section_rows.order_by():
        section_id = row[f"{base}_id"]
        row_section = sections_seen.setdefault(
            section_id,
            Section(
                pk=section_id,
                campaign=campaign,
                name=row[f"{base}__name"],
                sort_order=row[f"{base}__sort_order"],
            ),
        )
        if section is not None and section_id != section.pk:
            continue
        completion = Completion.of(row)
        totals.add(completion)
        by_section.append(SectionRow(row_section, completion))
    by_section.sort(key=lambda r: (r.section.sort_order, r.section.pk))
    sections = sorted(sections_seen.values(), key=lambda s: (s.sort_order, s.pk))

    children = _children(campaign, node, section, today) if has_children else []
    counts = _counts(campaign, node, has_children)
    findings = findings_by_child(campaign, node, today)
    node_findings = FindingFigures()
    for figures in findings.values():
        node_findings.total += figures.total
        node_findings.open += figures.open
        node_findings.overdue += figures.overdue
        node_findings.closed += figures.closed
    for child in children:
        child.findings = findings.get(child.org.path, FindingFigures())

    reports = {k: v for (metric, k), v in counts.items() if metric == RollupMetric.REPORTS}
    letters_total = counts.get((RollupMetric.LETTERS, "total"), 0)
    letters_signed = counts.get((RollupMetric.LETTERS, "signed"), 0)
    subtree = _subtree_entries(campaign, section, node, bool(has_children))
    listed = subtree.select_related("org", "item", "responsible").only(
        "id",
        "due_date",
        "status",
        "period",
        "org__id",
        "org__name",
        "item__id",
        "item__code",
        "item__title",
        "responsible__id",
        "responsible__full_name",
        "responsible__username",
    )
    # Two short reads in (campaign, due_date) index order: the first ten of each list.
    overdue_list = list(
        listed.filter(entry_state_q("overdue", today)).order_by("due_date", "id")[:LIST_LIMIT]
    )
    due_soon_list = list(
        listed.filter(entry_state_q("due_soon", today)).order_by("due_date", "id")[:LIST_LIMIT]
    )
    return Dashboard(
        campaign=campaign,
        node=node,
        has_children=bool(has_children),
        section=section,
        today=today,
        as_of=as_of,
        stale=stale,
        sections=sections,
        totals=totals,
        by_section=by_section,
        children=children,
        letters_total=letters_total,
        letters_signed=letters_signed,
        findings=node_findings,
        reports=reports,
        reports_expected=letters_total,
        stars=_stars(campaign, counts, node),
        overdue_list=overdue_list,
        due_soon_list=due_soon_list,
    )


def _children(campaign: Campaign, node: OrgUnit, section: Section | None, today: date) -> list[ChildRow]:
    orgs = list(
        OrgUnit.objects.filter(parent=node)
        .annotate(has_children=_has_children_q())
        .order_by("sort_order", "path")
    )
    # Children with children from their rollups, the others live: one UNION ALL each for the
    # completion figures and for the letters.
    inner = (
        _rollups(campaign, section)
        .filter(org__parent=node)
        .values("org_id")
        .annotate(**rollup_aggregates(today))
    )
    leaves = (
        _entries(campaign, section)
        .filter(org__parent=node)
        .exclude(org_id__in=_inner_children(node))
        .values("org_id")
        .annotate(**live_aggregates(today))
    )
    figures = {
        row["org_id"]: Completion.of(row) for row in inner.order_by().union(leaves.order_by(), all=True)
    }
    inner_letters = (
        CountRollup.objects.filter(campaign=campaign, org__parent=node, metric=RollupMetric.LETTERS)
        .values("org_id")
        .annotate(
            n_total=Coalesce(Sum("value", filter=Q(key="total")), Value(0), output_field=IntegerField()),
            n_signed=Coalesce(Sum("value", filter=Q(key="signed")), Value(0), output_field=IntegerField()),
        )
    )
    leaf_letters = (
        Checklist.objects.filter(campaign=campaign, org__parent=node)
        .exclude(org_id__in=_inner_children(node))
        .values("org_id")
        .annotate(n_total=Count("pk"), n_signed=Count("pk", filter=Q(letter_signed_at__isnull=False)))
    )
    letters = {
        row["org_id"]: (row["n_total"], row["n_signed"])
        for row in inner_letters.order_by().union(leaf_letters.order_by(), all=True)
    }
    return [
        ChildRow(
            org=org,
            has_children=bool(org.has_children),  # type: ignore[attr-defined]
            completion=figures.get(org.pk, Completion()),
            letters_total=letters.get(org.pk, (0, 0))[0],
            letters_signed=letters.get(org.pk, (0, 0))[1],
        )
        for org in orgs
    ]


def _counts(campaign: Campaign, node: OrgUnit, has_children: bool) -> dict[tuple[str, str], int]:
    """(metric, key) → count over the node's subtree: one rollup query, or a few live ones for a branch."""
    if has_children:
        rows = CountRollup.objects.filter(campaign=campaign, org=node).values_list("metric", "key", "value")
        return {(metric, key): value for metric, key, value in rows}
    out: dict[tuple[str, str], int] = {}
    letters = (
        Checklist.objects.filter(campaign=campaign, org=node)
        .exclude(org__kind="committee")
        .aggregate(total=Count("pk"), signed=Count("pk", filter=Q(letter_signed_at__isnull=False)))
    )
    out[(RollupMetric.LETTERS, "total")] = letters["total"]
    out[(RollupMetric.LETTERS, "signed")] = letters["signed"]
    for status, n in (
        DutyReport.objects.filter(campaign=campaign, org=node)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        out[(RollupMetric.REPORTS, status)] = n
    for round_id, level, n in (
        Rating.objects.filter(round__campaign=campaign, org=node)
        .annotate(eff_level=effective_level())
        .values_list("round_id", "eff_level")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        out[(RollupMetric.STARS, f"{round_id}:{'-' if level is None else level}")] = n
    return out


def _stars(campaign: Campaign, counts: dict[tuple[str, str], int], node: OrgUnit) -> list[RoundStars]:
    """Provisional star distribution of each round in the subtree, with quota seats where they apply.

    Seats are counted over the pool the scheme sets: the whole 工委 (``quota_scope`` "committee",
    shown on the 工委's dashboard only) or each supervising organisation ("parent", shown below the
    工委, over the node's rated organisations).
    """
    per_round: dict[int, dict[int | None, int]] = defaultdict(dict)
    for (metric, key), n in counts.items():
        if metric != RollupMetric.STARS:
            continue
        round_id, level = key.split(":", 1)
        per_round[int(round_id)][None if level == "-" else int(level)] = n
    if not per_round:
        return []
    out: list[RoundStars] = []
    rounds = RatingRound.objects.filter(campaign=campaign, pk__in=list(per_round)).select_related("scheme")
    for rnd in rounds.order_by("applies_to", "pk"):
        data = rnd.scheme.data if rnd.scheme_id else {}
        levels = per_round[rnd.pk]
        rated = sum(n for level, n in levels.items() if level is not None)
        at_root = node.pk == campaign.committee_id
        pooled = at_root if data.get("quota_scope", "committee") == "committee" else not at_root
        rows = [
            StarRow(
                level,
                _level_label(data, level),
                n,
                None if level is None or not pooled else _quota_seats(data, level, rated),
            )
            for level, n in sorted(levels.items(), key=lambda kv: (kv[0] is None, -(kv[0] or 0)))
        ]
        out.append(RoundStars(round=rnd, rows=rows, rated=rated))
    return out


# --- trend and comparisons ------------------------------------------------------------------------


@dataclass
class Trend:
    """Cumulative completion by month, this year against last year, and the mid-year snapshot."""

    months: list[int]
    due: list[int]  # cumulative entries due by the end of each month
    done: list[int]  # cumulative entries done (with a completion date) by the end of each month
    total: int
    last_campaign: Campaign | None
    last_due: list[int]
    last_done: list[int]
    last_total: int
    snapshot: ProgressSnapshot | None
    snapshot_figures: dict[str, int]
    now: Completion

    def rate_at(self, done: list[int], total: int, month: int) -> float | None:
        return pct(done[month - 1], total) if 1 <= month <= 12 else None


def _cumulative(by_month: dict[int, int]) -> list[int]:
    out, running = [], 0
    for month in range(1, 13):
        running += by_month.get(month, 0)
        out.append(running)
    return out


def _month_figures(
    campaign: Campaign, node: OrgUnit, has_children: bool
) -> tuple[dict[int, int], dict[int, int], int]:
    """(due per month, done per month, total) of the node's subtree in one campaign: two queries."""
    rows: QuerySet[Any, dict[str, Any]]
    if has_children:
        rows = (
            EntryRollup.objects.filter(campaign=campaign, org=node)
            .values("due_date")  # a few dozen due dates; their months are taken below
            .annotate(n=Sum("total"))
            .order_by()
        )
        done_rows = CountRollup.objects.filter(
            campaign=campaign, org=node, metric=RollupMetric.DONE_MONTH
        ).values_list("key", "value")
        done = {int(k): v for k, v in done_rows}
    else:
        rows = (
            ChecklistEntry.objects.filter(campaign=campaign, org=node)
            .values("due_date")
            .annotate(n=Count("pk"))
            .order_by()
        )
        done = dict(
            ChecklistEntry.objects.filter(
                campaign=campaign, org=node, status__in=DONE_STATUSES, completed_on__year=campaign.year
            )
            .annotate(month=ExtractMonth("completed_on"))
            .values_list("month")
            .annotate(n=Count("pk"))
            .order_by()
        )
    due: dict[int, int] = {}
    total = 0
    for row in rows:
        total += row["n"] or 0
        if row["due_date"] is not None and row["due_date"].year == campaign.year:
            month = row["due_date"].month
            due[month] = due.get(month, 0) + (row["n"] or 0)
    return due, done, total


def trend(*, campaign: Campaign, node: OrgUnit, has_children: bool, today: date, now: Completion) -> Trend:
    due, done, total = _month_figures(campaign, node, has_children)
    last = (
        Campaign.objects.filter(committee_id=campaign.committee_id, year=campaign.year - 1)
        .exclude(status=CampaignStatus.DRAFT)
        .select_related("committee")
        .first()
    )
    last_due: dict[int, int] = {}
    last_done: dict[int, int] = {}
    last_total = 0
    if last is not None:
        if (
            has_children
            and not RollupState.objects.filter(campaign=last, refreshed_at__isnull=False).exists()
        ):
            rollup_refresh(last)
        last_due, last_done, last_total = _month_figures(last, node, has_children)
    snapshot = ProgressSnapshot.objects.filter(campaign=campaign).order_by("-taken_on", "-pk").first()
    figures: dict[str, int] = {}
    if snapshot is not None:
        if has_children:
            prefix = f"{snapshot.pk}:"
            for key, value in CountRollup.objects.filter(
                campaign=campaign, org=node, metric=RollupMetric.SNAPSHOT, key__startswith=prefix
            ).values_list("key", "value"):
                figures[key[len(prefix) :]] = value
        else:
            names = ("total", "due", "done", "overdue")
            row = SnapshotRow.objects.filter(snapshot=snapshot, org=node).values_list(*names).first()
            figures = dict(zip(names, row, strict=True)) if row else {}
    return Trend(
        months=list(range(1, 13)),
        due=_cumulative(due),
        done=_cumulative(done),
        total=total,
        last_campaign=last,
        last_due=_cumulative(last_due),
        last_done=_cumulative(last_done),
        last_total=last_total,
        snapshot=snapshot,
        snapshot_figures=figures,
        now=now,
    )


def node_completion(*, campaign: Campaign, node: OrgUnit, has_children: bool, today: date) -> Completion:
    """The node's completion figures alone (one query), for the trend page's “now” column."""
    if has_children:
        row = _rollups(campaign, None).filter(org=node).aggregate(**rollup_aggregates(today))
    else:
        row = _entries(campaign, None).filter(org=node).aggregate(**live_aggregates(today))
    return Completion.of(row)


def _subtree_entries(
    campaign: Campaign, section: Section | None, node: OrgUnit, has_children: bool
) -> QuerySet[ChecklistEntry]:
    """Entries of the node's subtree. A branch's own by its id, so that the (campaign, org) index
    reads them, never a walk of the whole campaign in due-date order looking for its few."""
    entries = _entries(campaign, section)
    return entries.filter(org__path__startswith=node.path) if has_children else entries.filter(org=node)


def entries_behind(
    *, user: User, campaign: Campaign, node: OrgUnit, section: Section | None, state: str, today: date
) -> QuerySet[ChecklistEntry]:
    """The live list behind a completion number: the user's visible entries of the node's subtree."""
    has_children = getattr(node, "has_children", None)
    if has_children is None:
        has_children = OrgUnit.objects.filter(parent=node).exists()
    return (
        _subtree_entries(campaign, section, node, bool(has_children))
        .filter(scope_q(user, field="org__path"))
        .filter(entry_state_q(state, today))
    )

"""Dashboard rollups (domain.md §11, targets.md P4): subtree sums kept per organisation.

A dashboard of an organisation with descendants reads these rows instead of scanning every
entry of its subtree: one row per (section, due date) for checklist entries (``EntryRollup``)
and one row per bucket for the other counts (``CountRollup``). A branch has no rollup; its own
rows are read live with the same aggregates (``entry_columns`` / ``COUNT_SOURCES``).

``rollup_refresh`` rebuilds a campaign's rollups from the data in a fixed number of aggregate
queries: each source is grouped once by the *parent* of the row's organisation and once by the
organisation itself for organisations with children; the subtree sums then follow bottom-up in
one pass over the organisations with children (a few hundred to a few thousand), never over
entries. Figures that depend on today (due so far, overdue, 临期) are computed when read, from
``due_date``, so a rollup stays right from one day to the next without a rebuild.

Freshness: ``rollup_fingerprint`` is one query over indexed maxima; the beat task
``scoring.tasks.refresh_rollups`` rebuilds every campaign whose fingerprint moved, and a
dashboard whose rollup is behind rebuilds it in the request when the last rebuild was quick
(``ROLLUP_SYNC_SECONDS``), else queues the rebuild and shows the time of the figures it has.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Aggregate,
    Case,
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from branches.models import OrgUnit
from campaigns.models import (
    Campaign,
    Checklist,
    ChecklistEntry,
    DutyReport,
    EntryStatus,
    ProgressSnapshot,
    SnapshotRow,
)
from campaigns.models.checklists import DONE_STATUSES, OPEN_STATUSES
from scoring.models import CountRollup, EntryRollup, Rating, RollupMetric, RollupState

ENTRY_COLUMNS = ("total", "done", "done_on_time", "open", "submitted", "returned")
ENTRY_GROUPS = ("item__section_id", "due_date")
BATCH = 5000


def on_time_q(prefix: str = "") -> Q:
    """Done by the due date: no due date, no completion date (不适用), or completed on or before it."""
    return (
        Q(**{f"{prefix}due_date__isnull": True})
        | Q(**{f"{prefix}completed_on__isnull": True})
        | Q(**{f"{prefix}completed_on__lte": F(f"{prefix}due_date")})
    )


def entry_columns() -> dict[str, Aggregate]:
    """The per-bucket counts of entries kept in ``EntryRollup`` (and read live for a branch)."""
    done = Q(status__in=DONE_STATUSES)
    return {
        "total": Count("pk"),
        "done": Count("pk", filter=done),
        "done_on_time": Count("pk", filter=done & on_time_q()),
        "open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "submitted": Count("pk", filter=Q(status=EntryStatus.SUBMITTED)),
        "returned": Count("pk", filter=Q(status=EntryStatus.RETURNED)),
    }


def effective_level() -> Case:
    """The level a rating stands at now: in force after naming, else adjusted, else computed."""
    return Case(
        When(named_level__isnull=False, then=F("current_level")),
        When(is_adjusted=True, then=F("adjusted_level")),
        default=F("computed_level"),
        output_field=IntegerField(),
    )


# --- the counted sources ------------------------------------------------------------------------


@dataclass(frozen=True)
class CountSource:
    """Rows of one table counted into ``CountRollup``: ``groups`` become the key, ``values`` the counts.

    ``key(row, value_name)`` turns one grouped row into the stored key.
    """

    metric: str
    rows: Callable[[Campaign], QuerySet[Any]]
    groups: tuple[str, ...]
    values: Callable[[], dict[str, Aggregate]]
    key: Callable[[dict[str, Any], str], str]


def _done_rows(campaign: Campaign) -> QuerySet[Any]:
    return ChecklistEntry.objects.filter(
        campaign=campaign, status__in=DONE_STATUSES, completed_on__year=campaign.year
    ).annotate(month=ExtractMonth("completed_on"))


def _letter_rows(campaign: Campaign) -> QuerySet[Any]:
    return Checklist.objects.filter(campaign=campaign).exclude(org__kind="committee")


def _report_rows(campaign: Campaign) -> QuerySet[Any]:
    return DutyReport.objects.filter(campaign=campaign)


def _rating_rows(campaign: Campaign) -> QuerySet[Any]:
    return Rating.objects.filter(round__campaign=campaign).annotate(eff_level=effective_level())


def _snapshot_rows(campaign: Campaign) -> QuerySet[Any]:
    return SnapshotRow.objects.filter(snapshot__campaign=campaign)


COUNT_SOURCES: tuple[CountSource, ...] = (
    CountSource(
        RollupMetric.DONE_MONTH,
        _done_rows,
        ("month",),
        lambda: {"n": Count("pk")},
        lambda row, _: str(row["month"]),
    ),
    CountSource(
        RollupMetric.LETTERS,
        _letter_rows,
        (),
        lambda: {"total": Count("pk"), "signed": Count("pk", filter=Q(letter_signed_at__isnull=False))},
        lambda _row, name: name,
    ),
    CountSource(
        RollupMetric.REPORTS,
        _report_rows,
        ("status",),
        lambda: {"n": Count("pk")},
        lambda row, _: str(row["status"]),
    ),
    CountSource(
        RollupMetric.STARS,
        _rating_rows,
        ("round_id", "eff_level"),
        lambda: {"n": Count("pk")},
        lambda row, _: f"{row['round_id']}:{'-' if row['eff_level'] is None else row['eff_level']}",
    ),
    CountSource(
        RollupMetric.SNAPSHOT,
        _snapshot_rows,
        ("snapshot_id",),
        lambda: {name: Sum(name) for name in ("total", "due", "done", "overdue")},
        lambda row, name: f"{row['snapshot_id']}:{name}",
    ),
)


# --- subtree sums -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    """The organisations with children under a 工委: id → parent id, deepest first."""

    parent: dict[int, int | None]
    order: tuple[int, ...]

    @classmethod
    def of(cls, campaign: Campaign) -> Tree:
        parents = OrgUnit.objects.filter(
            path__startswith=campaign.committee.path, parent__isnull=False
        ).values("parent_id")
        rows = OrgUnit.objects.filter(pk__in=parents).values_list("pk", "parent_id", "depth")
        parent: dict[int, int | None] = {pk: parent_id for pk, parent_id, _ in rows}
        order = tuple(pk for pk, _, depth in sorted(rows, key=lambda r: -r[2]))
        return cls(parent=parent, order=order)

    def internal_ids(self, campaign: Campaign) -> QuerySet[Any]:
        return OrgUnit.objects.filter(path__startswith=campaign.committee.path, parent__isnull=False).values(
            "parent_id"
        )


Vector = list[int]
Sums = dict[int, dict[tuple[Any, ...], Vector]]


def subtree_sums(
    tree: Tree,
    internal: QuerySet[Any],
    rows: QuerySet[Any],
    groups: tuple[str, ...],
    values: dict[str, Aggregate],
) -> Sums:
    """For every organisation with children: ``values`` over its whole subtree, per ``groups``.

    Two grouped queries (by parent, and by the organisation itself for those with children) and
    one bottom-up pass over ``tree``; nothing here loops over the source rows themselves.
    """
    names = tuple(values)
    below: Sums = defaultdict(lambda: defaultdict(lambda: [0] * len(names)))
    own: Sums = defaultdict(dict)
    for row in rows.order_by().values("org__parent_id", *groups).annotate(**values):
        parent_id = row["org__parent_id"]
        if parent_id in tree.parent:
            vec = below[parent_id][tuple(row[g] for g in groups)]
            for i, name in enumerate(names):
                vec[i] += row[name] or 0
    for row in rows.order_by().filter(org_id__in=internal).values("org_id", *groups).annotate(**values):
        own[row["org_id"]][tuple(row[g] for g in groups)] = [row[name] or 0 for name in names]
    out: Sums = {}
    for node in tree.order:  # deepest first: a node's children with children are done already
        descendants = below.pop(node, {})
        whole: dict[tuple[Any, ...], Vector] = {k: list(v) for k, v in descendants.items()}
        for key, vec in own.get(node, {}).items():
            acc = whole.setdefault(key, [0] * len(names))
            for i, value in enumerate(vec):
                acc[i] += value
        out[node] = whole
        parent_id = tree.parent[node]
        if parent_id is not None and parent_id in tree.parent:
            up = below[parent_id]
            # the node's own rows reached its parent through the by-parent query already
            for key, vec in descendants.items():
                acc = up[key]
                for i, value in enumerate(vec):
                    acc[i] += value
    return out


# --- freshness ----------------------------------------------------------------------------------


FINGERPRINT_FIELDS = (
    "entry_at",
    "entry_id",
    "letter_at",
    "report_at",
    "rating_at",
    "compiled_at",
    "snapshot_id",
    "tree_at",
)
STATE_FIELDS = ("fingerprint", "refreshed_at", "seconds")


def rollup_fingerprint(campaign: Campaign) -> str:
    """What the rollups were built from, in one query over indexed maxima."""
    return _fingerprint_of(_fingerprint_row(campaign, with_state=False))


def _fingerprint_of(row: dict[str, Any]) -> str:
    text = "|".join(str(row[k]) for k in sorted(FINGERPRINT_FIELDS))
    return hashlib.sha256(text.encode()).hexdigest()


def _fingerprint_row(campaign: Campaign, *, with_state: bool) -> dict[str, Any]:
    """The fingerprint's maxima, and with ``with_state`` the stored state's fields (``state_*``)."""

    def latest(qs: QuerySet[Any], field: str) -> Subquery:
        # ORDER BY … DESC LIMIT 1, not MAX(…) GROUP BY campaign_id: the grouped form reads every
        # index entry of the campaign (SQLite), the ordered one seeks the last (P3/P4 bench).
        return Subquery(qs.filter(**{f"{field}__isnull": False}).order_by(f"-{field}").values(field)[:1])

    entries = ChecklistEntry.objects.filter(campaign_id=OuterRef("pk"))
    row = Campaign.objects.filter(pk=campaign.pk).annotate(
        entry_at=latest(entries, "updated_at"),
        entry_id=latest(entries, "id"),
        letter_at=latest(Checklist.objects.filter(campaign_id=OuterRef("pk")), "letter_signed_at"),
        report_at=latest(DutyReport.objects.filter(campaign_id=OuterRef("pk")), "updated_at"),
        rating_at=Subquery(
            Rating.objects.filter(round__campaign_id=OuterRef("pk"))
            .order_by()
            .values("round__campaign_id")
            .annotate(m=Max("updated_at"))
            .values("m")[:1]
        ),
        # a compile upserts computed levels without touching updated_at
        compiled_at=Subquery(
            Rating.objects.filter(round__campaign_id=OuterRef("pk"))
            .order_by()
            .values("round__campaign_id")
            .annotate(m=Max("compiled_at"))
            .values("m")[:1]
        ),
        snapshot_id=latest(ProgressSnapshot.objects.filter(campaign_id=OuterRef("pk")), "id"),
        # a move or a new organisation changes subtree sums (index org_updated_at)
        tree_at=Subquery(OrgUnit.objects.order_by("-updated_at").values("updated_at")[:1]),
    )
    if with_state:
        stored = RollupState.objects.filter(campaign_id=OuterRef("pk"))
        row = row.annotate(**{f"state_{name}": Subquery(stored.values(name)[:1]) for name in STATE_FIELDS})
    names = [*FINGERPRINT_FIELDS, *([f"state_{n}" for n in STATE_FIELDS] if with_state else [])]
    return dict(row.values(*names).get())


# --- rebuild ------------------------------------------------------------------------------------


def _entry_rows(campaign: Campaign, sums: Sums) -> Iterable[EntryRollup]:
    for org_id, buckets in sums.items():
        for (section_id, due_date), vec in buckets.items():
            yield EntryRollup(
                campaign_id=campaign.pk,
                org_id=org_id,
                section_id=section_id,
                due_date=due_date,
                **dict(zip(ENTRY_COLUMNS, vec, strict=True)),
            )


def _count_rows(
    campaign: Campaign, source: CountSource, names: tuple[str, ...], sums: Sums
) -> Iterable[CountRollup]:
    for org_id, buckets in sums.items():
        for group, vec in buckets.items():
            row = dict(zip(source.groups, group, strict=True))
            for name, value in zip(names, vec, strict=True):
                yield CountRollup(
                    campaign_id=campaign.pk,
                    org_id=org_id,
                    metric=source.metric,
                    key=source.key(row, name),
                    value=value,
                )


def _batched(rows: Iterable[Any], model: type[Any]) -> int:
    written = 0
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)
        written += len(batch)
    return written


def rollup_refresh(campaign: Campaign) -> RollupState:
    """Rebuild every rollup of ``campaign`` from the data; one rebuild at a time per campaign."""
    started = time.perf_counter()
    RollupState.objects.get_or_create(campaign=campaign)
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get(campaign=campaign)
        fingerprint = rollup_fingerprint(campaign)
        tree = Tree.of(campaign)
        internal = tree.internal_ids(campaign)
        entries = ChecklistEntry.objects.filter(campaign=campaign)
        entry_sums = subtree_sums(tree, internal, entries, ENTRY_GROUPS, entry_columns())
        EntryRollup.objects.filter(campaign=campaign).delete()
        CountRollup.objects.filter(campaign=campaign).delete()
        _batched(_entry_rows(campaign, entry_sums), EntryRollup)
        for source in COUNT_SOURCES:
            values = source.values()
            sums = subtree_sums(tree, internal, source.rows(campaign), source.groups, values)
            _batched(_count_rows(campaign, source, tuple(values), sums), CountRollup)
        state.fingerprint = fingerprint
        state.refreshed_at = timezone.now()
        state.seconds = round(time.perf_counter() - started, 3)
        state.nodes = len(tree.order)
        state.save()
    return state


def rollup_current(campaign: Campaign) -> tuple[RollupState, bool]:
    """The campaign's rollup state for a dashboard, and whether its figures are behind the data.

    Behind and quick to rebuild (or never built): rebuilt now. Behind and slow: a rebuild is
    queued through the outbox and the figures of the last rebuild are shown with their time.
    """
    from branches.notify import outbox_enqueue

    checked_key = f"rollup-checked:{campaign.pk}"
    if settings.ROLLUP_CHECK_SECONDS:
        refreshed_at = cache.get(checked_key)
        if refreshed_at is not None:  # found current within the last ROLLUP_CHECK_SECONDS
            return RollupState(campaign=campaign, refreshed_at=refreshed_at), False
    row = _fingerprint_row(campaign, with_state=True)  # one query: the maxima and the stored state
    fingerprint = _fingerprint_of(row)
    state = RollupState(campaign=campaign, **{name: row[f"state_{name}"] for name in STATE_FIELDS})
    if state.refreshed_at is not None and state.fingerprint == fingerprint:
        if settings.ROLLUP_CHECK_SECONDS:
            cache.set(checked_key, state.refreshed_at, settings.ROLLUP_CHECK_SECONDS)
        return state, False
    if state.refreshed_at is None or (state.seconds or 0) <= settings.ROLLUP_SYNC_SECONDS:
        return rollup_refresh(campaign), False
    outbox_enqueue(
        "scoring.tasks.refresh_rollup",
        dedupe_key=f"rollup:{campaign.pk}:{fingerprint}",
        campaign_id=campaign.pk,
    )
    return state, True


def refresh_changed() -> list[int]:
    """The beat task's body: rebuild the rollups of every campaign whose data moved."""
    rebuilt: list[int] = []
    for campaign in Campaign.objects.exclude(status="draft").select_related("committee"):
        state = RollupState.objects.filter(campaign=campaign).first()
        if state is None or state.fingerprint != rollup_fingerprint(campaign):
            rollup_refresh(campaign)
            rebuilt.append(campaign.pk)
    return rebuilt

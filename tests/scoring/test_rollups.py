"""Dashboard rollups (scoring/rollups.py): subtree sums equal direct counts, and stay fresh.

Every expected figure here is counted in Python from the rows themselves (the specification),
never with the aggregates the code under test uses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from branches.models import OrgKind, OrgUnit, Outbox
from branches.services import org_unit_move, org_unit_update
from campaigns.models import (
    Checklist,
    ChecklistEntry,
    DutyReport,
    EntryStatus,
    ReportStatus,
    SnapshotRow,
)
from campaigns.services.snapshots import snapshot_take
from scoring.dashboard import dashboard
from scoring.models import CountRollup, EntryRollup, FactKind, Rating, RatingFact, RollupMetric, RollupState
from scoring.rollups import rollup_current, rollup_fingerprint, rollup_refresh
from scoring.services import compile_now
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
from tests.factories import make_org
from tests.scoring.factories import make_round, score

pytestmark = pytest.mark.django_db

DONE = {EntryStatus.APPROVED, EntryStatus.NOT_APPLICABLE}
OPEN = {EntryStatus.NOT_STARTED, EntryStatus.IN_PROGRESS, EntryStatus.RETURNED}


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# (status, due date, completion date): a mix of every status, on-time and late, with and without dates
SPECS: tuple[tuple[str, date | None, date | None], ...] = (
    (EntryStatus.NOT_STARTED, d(3, 31), None),
    (EntryStatus.IN_PROGRESS, d(6, 30), None),
    (EntryStatus.SUBMITTED, d(6, 30), None),
    (EntryStatus.APPROVED, d(3, 31), d(3, 20)),  # on time
    (EntryStatus.APPROVED, d(3, 31), d(4, 2)),  # late
    (EntryStatus.RETURNED, d(9, 30), None),
    (EntryStatus.NOT_APPLICABLE, d(6, 30), None),  # 不适用 without a completion date: on time
    (EntryStatus.APPROVED, None, d(5, 5)),  # no due date
    (EntryStatus.APPROVED, d(12, 31), d(2, 1, 2025)),  # completed in another year
)


def populate(campaign, orgs) -> None:  # type: ignore[no-untyped-def]
    """Entries of every kind on ``orgs``; each organisation gets a different subset of SPECS."""
    sections = (make_section(campaign, "政治建设", 1), make_section(campaign, "组织建设", 2))
    items = [make_item(campaign, sections[j % 2], due_date=due) for j, (_, due, _) in enumerate(SPECS)]
    for k, org in enumerate(orgs):
        for j, (status, _due, completed) in enumerate(SPECS):
            if (j + k) % 3 == 2:
                continue
            make_entry(campaign, org, items[j], status=status, completed_on=completed)


def entry_vector(entry: ChecklistEntry) -> tuple[int, ...]:
    """total, done, done_on_time, open, submitted, returned of one entry, from the specification."""
    done = entry.status in DONE
    on_time = entry.due_date is None or entry.completed_on is None or entry.completed_on <= entry.due_date
    return (
        1,
        int(done),
        int(done and on_time),
        int(entry.status in OPEN),
        int(entry.status == EntryStatus.SUBMITTED),
        int(entry.status == EntryStatus.RETURNED),
    )


def internal_orgs() -> list[OrgUnit]:
    parents = set(OrgUnit.objects.filter(parent__isnull=False).values_list("parent_id", flat=True))
    return list(OrgUnit.objects.filter(pk__in=parents))


def expected_entry_rollups(campaign) -> dict[tuple[Any, ...], tuple[int, ...]]:  # type: ignore[no-untyped-def]
    entries = list(ChecklistEntry.objects.filter(campaign=campaign).select_related("org", "item"))
    out: dict[tuple[Any, ...], list[int]] = {}
    for org in internal_orgs():
        for e in entries:
            if e.org.path.startswith(org.path):
                acc = out.setdefault((org.pk, e.item.section_id, e.due_date), [0] * 6)
                for i, v in enumerate(entry_vector(e)):
                    acc[i] += v
    return {k: tuple(v) for k, v in out.items()}


def actual_entry_rollups(campaign) -> dict[tuple[Any, ...], tuple[int, ...]]:  # type: ignore[no-untyped-def]
    rows = EntryRollup.objects.filter(campaign=campaign)
    out = {}
    for r in rows:
        key = (r.org_id, r.section_id, r.due_date)
        assert key not in out, f"duplicate rollup row {key}"
        out[key] = (r.total, r.done, r.done_on_time, r.open, r.submitted, r.returned)
    return out


def counts(campaign, org, metric: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = CountRollup.objects.filter(campaign=campaign, org=org, metric=metric).values_list("key", "value")
    out: dict[str, int] = {}
    for key, value in rows:
        assert key not in out, f"duplicate count row {metric}:{key}"
        out[key] = value
    return out


def subtree(org: OrgUnit) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(path__startswith=org.path))


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw)


@pytest.fixture
def filled(tree, campaign):  # type: ignore[no-untyped-def]
    """Entries on every organisation of the shared tree, the 工委 and the 机关党委 included."""
    populate(campaign, [tree.gw, tree.a, tree.ag, tree.ag1, tree.a1, tree.a2, tree.b, tree.b1, tree.d1])
    return campaign


@pytest.fixture
def deep(db):  # type: ignore[no-untyped-def]
    """工委 → 机关党委 → 党总支 → 党支部 → 党小组, with a branch at each level and entries everywhere."""
    gw = make_org(OrgKind.COMMITTEE, None, code="DGW")
    p = make_org(OrgKind.AGENCY_COMMITTEE, gw)
    g = make_org(OrgKind.GENERAL_BRANCH, p)
    s1 = make_org(OrgKind.BRANCH, g)
    s2 = make_org(OrgKind.BRANCH, g)
    g1 = make_org(OrgKind.PARTY_GROUP, s1)
    g2 = make_org(OrgKind.PARTY_GROUP, s1)
    s3 = make_org(OrgKind.BRANCH, p)
    s4 = make_org(OrgKind.BRANCH, gw)
    g3 = make_org(OrgKind.PARTY_GROUP, s4)
    g0 = make_org(OrgKind.GENERAL_BRANCH, gw)  # a 党总支 straight under the 工委
    s5 = make_org(OrgKind.BRANCH, g0)
    campaign = make_campaign(gw)
    orgs = SimpleNamespace(gw=gw, p=p, g=g, s1=s1, s2=s2, g1=g1, g2=g2, s3=s3, s4=s4, g3=g3, g0=g0, s5=s5)
    populate(campaign, list(vars(orgs).values()))
    return SimpleNamespace(campaign=campaign, **vars(orgs))


# --- entry rollups --------------------------------------------------------------------------------


def test_entry_rollups_equal_direct_subtree_counts_on_the_shared_tree(filled):
    rollup_refresh(filled)
    assert actual_entry_rollups(filled) == expected_entry_rollups(filled)


def test_entry_rollups_equal_direct_subtree_counts_on_a_five_level_tree(deep):
    rollup_refresh(deep.campaign)
    assert actual_entry_rollups(deep.campaign) == expected_entry_rollups(deep.campaign)


def test_entry_rollups_exist_for_every_organisation_with_children_and_no_other(deep):
    rollup_refresh(deep.campaign)
    with_rows = set(EntryRollup.objects.filter(campaign=deep.campaign).values_list("org_id", flat=True))
    assert with_rows == {o.pk for o in (deep.gw, deep.p, deep.g, deep.s1, deep.s4, deep.g0)}


def test_a_rollup_includes_the_entries_of_the_organisation_itself(tree, campaign):
    item = make_item(campaign, due_date=d(6, 30))
    make_entry(campaign, tree.a, item, status=EntryStatus.APPROVED, completed_on=d(6, 1))
    rollup_refresh(campaign)
    (row,) = EntryRollup.objects.filter(campaign=campaign, org=tree.a)
    assert (row.total, row.done, row.done_on_time) == (1, 1, 1)
    (top,) = EntryRollup.objects.filter(campaign=campaign, org=tree.gw)
    assert (top.total, top.done) == (1, 1)


def test_rollup_refresh_records_its_state(filled):
    state = rollup_refresh(filled)
    assert state.refreshed_at is not None
    assert state.fingerprint == rollup_fingerprint(filled)
    assert state.nodes == len(internal_orgs())  # GW, A, AG, B
    assert state.seconds >= 0


def test_rollup_refresh_touches_only_its_campaign(tree, filled):
    other = make_campaign(tree.gw, year=2025)
    populate(other, [tree.a1])
    rollup_refresh(filled)
    assert not EntryRollup.objects.filter(campaign=other).exists()
    rollup_refresh(other)
    assert actual_entry_rollups(filled) == expected_entry_rollups(filled)
    assert actual_entry_rollups(other) == expected_entry_rollups(other)


# --- the property: rollup figures equal live figures ------------------------------------------------

CHILD_KINDS = {
    OrgKind.COMMITTEE: (OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH),
    OrgKind.AGENCY_COMMITTEE: (OrgKind.GENERAL_BRANCH, OrgKind.BRANCH),
    OrgKind.GENERAL_BRANCH: (OrgKind.BRANCH,),
    OrgKind.BRANCH: (OrgKind.PARTY_GROUP,),
    OrgKind.PARTY_GROUP: (),
}
DATES = [None, d(1, 31), d(3, 31), d(6, 14), d(6, 15), d(6, 22), d(6, 23), d(9, 30), d(12, 31)]
TODAYS = (d(1, 1), d(6, 15), d(6, 30), d(12, 31), d(3, 1, 2027))


@st.composite
def trees_and_entries(draw: st.DrawFn) -> tuple[list[tuple[int, str]], list[tuple[int, int, str, Any, Any]]]:
    """Organisations as (parent index, kind) after the 工委 at index 0; entries as
    (org index, section, status, due date, completion date)."""
    kinds = [OrgKind.COMMITTEE]
    depths = [0]
    nodes: list[tuple[int, str]] = []
    for _ in range(draw(st.integers(min_value=1, max_value=9))):
        parents = [i for i, k in enumerate(kinds) if CHILD_KINDS[k] and depths[i] < 4]
        parent = draw(st.sampled_from(parents))
        kind = draw(st.sampled_from(CHILD_KINDS[kinds[parent]]))
        nodes.append((parent, kind))
        kinds.append(kind)
        depths.append(depths[parent] + 1)
    entries = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=len(kinds) - 1),
                st.integers(min_value=0, max_value=1),
                st.sampled_from(list(EntryStatus.values)),
                st.sampled_from(DATES),
                st.sampled_from(DATES),
            ),
            max_size=25,
        )
    )
    return nodes, entries


def reference(entries: list[ChecklistEntry], today: date) -> dict[str, int]:
    """The completion figures of domain.md §11, counted entry by entry."""
    out: Counter[str] = Counter()
    soon = today + timedelta(days=7)
    for e in entries:
        done = e.status in DONE
        due = e.due_date is not None and e.due_date <= today
        opened = e.status in OPEN
        on_time = e.due_date is None or e.completed_on is None or e.completed_on <= e.due_date
        out["total"] += 1
        out["due"] += due
        out["done"] += done
        out["due_done"] += due and done
        out["on_time"] += due and done and on_time
        out["overdue"] += opened and e.due_date is not None and e.due_date < today
        out["due_soon"] += opened and e.due_date is not None and today <= e.due_date <= soon
        out["submitted"] += e.status == EntryStatus.SUBMITTED
        out["returned"] += e.status == EntryStatus.RETURNED
    return {
        k: out[k]
        for k in (
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
    }


def figures(completion) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {
        k: getattr(completion, k)
        for k in (
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
    }


@pytest.mark.django_db
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees_and_entries())
def test_dashboard_figures_from_rollups_equal_live_figures_for_every_node(data):
    nodes, specs = data
    with transaction.atomic():  # a fresh tree per example: everything is rolled back at the end
        orgs = [make_org(OrgKind.COMMITTEE, None)]
        for parent, kind in nodes:
            orgs.append(make_org(kind, orgs[parent]))
        campaign = make_campaign(orgs[0])
        sections = (make_section(campaign, "政治建设", 1), make_section(campaign, "组织建设", 2))
        items = (make_item(campaign, sections[0]), make_item(campaign, sections[1]))
        for n, (org_index, section, status, due, completed) in enumerate(specs):
            make_entry(
                campaign,
                orgs[org_index],
                items[section],
                period=n,
                status=status,
                due_date=due,
                completed_on=completed,
            )
        rollup_refresh(campaign)
        entries = list(ChecklistEntry.objects.filter(campaign=campaign).select_related("org"))
        for today in TODAYS:
            for node in OrgUnit.objects.filter(pk__in=[o.pk for o in orgs]):
                board = dashboard(campaign=campaign, node=node, today=today)
                below = [e for e in entries if e.org.path.startswith(node.path)]
                assert figures(board.totals) == reference(below, today), (node.path, today)
                assert not board.stale
                for child in board.children:
                    mine = [e for e in entries if e.org.path.startswith(child.org.path)]
                    assert figures(child.completion) == reference(mine, today), (child.org.path, today)
                assert {c.org.pk for c in board.children} == {o.pk for o in orgs if o.parent_id == node.pk}
        transaction.set_rollback(True)


# --- count rollups --------------------------------------------------------------------------------


def test_letters_count_every_checklist_of_the_subtree_and_the_signed_ones(tree, filled):
    Checklist.objects.filter(campaign=filled, org__in=[tree.gw, tree.a1, tree.ag1, tree.b]).update(
        letter_signed_at=timezone.now()
    )
    rollup_refresh(filled)
    assert counts(filled, tree.a, RollupMetric.LETTERS) == {"total": 5, "signed": 2}  # A AG AG1 A1 A2
    assert counts(filled, tree.ag, RollupMetric.LETTERS) == {"total": 2, "signed": 1}
    assert counts(filled, tree.b, RollupMetric.LETTERS) == {"total": 2, "signed": 1}


def test_letters_of_the_committee_leave_out_its_own_checklist(tree, filled):
    Checklist.objects.filter(campaign=filled, org=tree.gw).update(letter_signed_at=timezone.now())
    rollup_refresh(filled)
    assert counts(filled, tree.gw, RollupMetric.LETTERS) == {"total": 8, "signed": 0}


def test_reports_are_counted_by_status_over_the_subtree(tree, campaign):
    for org, status in (
        (tree.a1, ReportStatus.SUBMITTED),
        (tree.a2, ReportStatus.DRAFT),
        (tree.ag1, ReportStatus.SUBMITTED),
        (tree.a, ReportStatus.REVIEWED),
        (tree.b1, ReportStatus.RETURNED),
    ):
        DutyReport.objects.create(campaign=campaign, org=org, title="述职报告", status=status)
    rollup_refresh(campaign)
    assert counts(campaign, tree.a, RollupMetric.REPORTS) == {"submitted": 2, "draft": 1, "reviewed": 1}
    assert counts(campaign, tree.ag, RollupMetric.REPORTS) == {"submitted": 1}
    assert counts(campaign, tree.gw, RollupMetric.REPORTS) == {
        "submitted": 2,
        "draft": 1,
        "reviewed": 1,
        "returned": 1,
    }


@pytest.fixture
def rated(tree, campaign, committee_admin):  # type: ignore[no-untyped-def]
    rnd = make_round(campaign, committee_admin)

    def rating(org, **fields):  # type: ignore[no-untyped-def]
        return Rating.objects.create(round=rnd, org=org, **fields)

    rating(tree.a1, computed_level=5)
    rating(tree.a2, computed_level=4, is_adjusted=True, adjusted_level=3)  # adjusted wins over computed
    rating(
        tree.ag1, computed_level=5, is_adjusted=True, adjusted_level=4, named_level=4, current_level=2
    )  # 降星
    rating(tree.b1, computed_level=None)
    rating(tree.d1, computed_level=3)
    return rnd


def test_stars_count_the_effective_level_per_round(tree, campaign, rated):
    rollup_refresh(campaign)
    r = rated.pk
    assert counts(campaign, tree.gw, RollupMetric.STARS) == {
        f"{r}:5": 1,
        f"{r}:3": 2,
        f"{r}:2": 1,
        f"{r}:-": 1,
    }
    assert counts(campaign, tree.a, RollupMetric.STARS) == {f"{r}:5": 1, f"{r}:3": 1, f"{r}:2": 1}
    assert counts(campaign, tree.ag, RollupMetric.STARS) == {f"{r}:2": 1}
    assert counts(campaign, tree.b, RollupMetric.STARS) == {f"{r}:-": 1}


def test_an_adjusted_level_wins_over_the_computed_one(tree, campaign, rated):
    rollup_refresh(campaign)
    assert (
        counts(campaign, tree.a, RollupMetric.STARS).get(f"{rated.pk}:4") is None
    )  # A2: computed 4, adjusted 3


def test_after_naming_the_current_level_counts(tree, campaign, rated):
    rollup_refresh(campaign)
    assert counts(campaign, tree.ag, RollupMetric.STARS) == {f"{rated.pk}:2": 1}  # named 4, adjusted 4, now 2


def test_done_month_counts_done_entries_by_completion_month_of_the_campaign_year(tree, campaign):
    item = make_item(campaign)
    for n, (status, completed) in enumerate(
        (
            (EntryStatus.APPROVED, d(3, 5)),
            (EntryStatus.APPROVED, d(3, 28)),
            (EntryStatus.NOT_APPLICABLE, d(7, 1)),
            (EntryStatus.NOT_APPLICABLE, None),  # no completion date: in no month
            (EntryStatus.APPROVED, d(1, 10, 2027)),  # another year
            (EntryStatus.SUBMITTED, d(5, 5)),  # not done
            (EntryStatus.RETURNED, d(5, 6)),  # not done
        )
    ):
        make_entry(
            campaign, (tree.a1, tree.ag1)[n % 2], item, period=n, status=status, completed_on=completed
        )
    rollup_refresh(campaign)
    assert counts(campaign, tree.gw, RollupMetric.DONE_MONTH) == {"3": 2, "7": 1}
    assert counts(campaign, tree.a, RollupMetric.DONE_MONTH) == {"3": 2, "7": 1}
    assert counts(campaign, tree.ag, RollupMetric.DONE_MONTH) == {"3": 1}  # periods 1 (3-28), 3, 5


def test_snapshot_figures_are_sums_of_the_snapshot_rows_of_the_subtree(tree, filled, committee_staff):
    snapshot = snapshot_take(campaign=filled, actor=committee_staff, taken_on=d(6, 15), title="年中晒进度")
    rollup_refresh(filled)
    rows = list(SnapshotRow.objects.filter(snapshot=snapshot).select_related("org"))
    for org in internal_orgs():
        expected: dict[str, int] = defaultdict(int)
        for row in rows:
            if row.org.path.startswith(org.path):
                for name in ("total", "due", "done", "overdue"):
                    expected[f"{snapshot.pk}:{name}"] += getattr(row, name)
        assert counts(filled, org, RollupMetric.SNAPSHOT) == dict(expected), org.code
    assert (
        counts(filled, tree.gw, RollupMetric.SNAPSHOT)[f"{snapshot.pk}:total"]
        == ChecklistEntry.objects.filter(campaign=filled).count()
    )


def test_count_rollups_equal_direct_counts_on_a_five_level_tree(deep):
    campaign = deep.campaign
    Checklist.objects.filter(campaign=campaign, org__in=[deep.g1, deep.s1, deep.p]).update(
        letter_signed_at=timezone.now()
    )
    for org, status in (
        (deep.g1, ReportStatus.SUBMITTED),
        (deep.s2, ReportStatus.DRAFT),
        (deep.g, ReportStatus.REVIEWED),
    ):
        DutyReport.objects.create(campaign=campaign, org=org, title="述职报告", status=status)
    rollup_refresh(campaign)
    checklists = list(Checklist.objects.filter(campaign=campaign).select_related("org"))
    reports = list(DutyReport.objects.filter(campaign=campaign).select_related("org"))
    for org in internal_orgs():
        mine = [c for c in checklists if c.org.path.startswith(org.path) and c.org.kind != OrgKind.COMMITTEE]
        signed = sum(1 for c in mine if c.letter_signed_at is not None)
        assert counts(campaign, org, RollupMetric.LETTERS) == (
            {"total": len(mine), "signed": signed} if mine else {}
        )
        by_status = Counter(r.status for r in reports if r.org.path.startswith(org.path))
        assert counts(campaign, org, RollupMetric.REPORTS) == dict(by_status)
        months = Counter(
            str(e.completed_on.month)
            for e in ChecklistEntry.objects.filter(campaign=campaign, org__path__startswith=org.path)
            if e.status in DONE and e.completed_on is not None and e.completed_on.year == campaign.year
        )
        assert counts(campaign, org, RollupMetric.DONE_MONTH) == dict(months)


# --- rebuilds ---------------------------------------------------------------------------------------


def all_rows(campaign) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:  # type: ignore[no-untyped-def]
    entry_rows = sorted(
        EntryRollup.objects.filter(campaign=campaign).values_list(
            "org_id",
            "section_id",
            "due_date",
            "total",
            "done",
            "done_on_time",
            "open",
            "submitted",
            "returned",
        ),
        key=repr,
    )
    count_rows = sorted(
        CountRollup.objects.filter(campaign=campaign).values_list("org_id", "metric", "key", "value"),
        key=repr,
    )
    return entry_rows, count_rows


def test_refresh_twice_gives_the_same_rows_without_duplicates(tree, filled, committee_staff):
    snapshot_take(campaign=filled, actor=committee_staff, taken_on=d(6, 15), title="年中晒进度")
    rollup_refresh(filled)
    first = all_rows(filled)
    rollup_refresh(filled)
    second = all_rows(filled)
    assert first == second
    assert EntryRollup.objects.filter(campaign=filled).count() == len(first[0])
    assert CountRollup.objects.filter(campaign=filled).count() == len(first[1])
    assert RollupState.objects.filter(campaign=filled).count() == 1


def test_a_refresh_replaces_the_rows_after_entries_change(tree, filled):
    rollup_refresh(filled)
    ChecklistEntry.objects.filter(campaign=filled, org=tree.a1).update(status=EntryStatus.APPROVED)
    ChecklistEntry.objects.filter(campaign=filled, org=tree.b1).delete()
    rollup_refresh(filled)
    assert actual_entry_rollups(filled) == expected_entry_rollups(filled)


def test_a_refresh_follows_a_moved_organisation(tree, filled):
    rollup_refresh(filled)
    org_unit_move(org=tree.ag, new_parent=tree.b)
    rollup_refresh(filled)
    assert actual_entry_rollups(filled) == expected_entry_rollups(filled)
    assert counts(filled, tree.b, RollupMetric.LETTERS)["total"] == 4  # B B1 AG AG1


# --- the fingerprint --------------------------------------------------------------------------------


def test_the_fingerprint_stays_when_nothing_changed(filled):
    before = rollup_fingerprint(filled)
    rollup_refresh(filled)
    assert rollup_fingerprint(filled) == before


def change_entry(tree, campaign, admin) -> None:  # type: ignore[no-untyped-def]
    entry = ChecklistEntry.objects.filter(campaign=campaign, org=tree.a1).first()
    entry.status = EntryStatus.APPROVED
    entry.save()


def add_entry(tree, campaign, admin) -> None:  # type: ignore[no-untyped-def]
    make_entry(campaign, tree.a2, make_item(campaign))


def sign_letter(tree, campaign, admin) -> None:  # type: ignore[no-untyped-def]
    checklist = Checklist.objects.get(campaign=campaign, org=tree.b1)
    checklist.letter_signed_at = timezone.now()
    checklist.save()


def save_report(tree, campaign, admin) -> None:  # type: ignore[no-untyped-def]
    DutyReport.objects.create(campaign=campaign, org=tree.a1, title="述职报告", status=ReportStatus.SUBMITTED)


def save_rating(tree, campaign, admin) -> None:  # type: ignore[no-untyped-def]
    rnd = make_round(campaign, admin)
    Rating.objects.create(round=rnd, org=tree.a1, computed_level=4)


def take_snapshot(tree, campaign, admin) -> None:  # type: ignore[no-untyped-def]
    snapshot_take(campaign=campaign, actor=admin, taken_on=d(6, 15), title="年中晒进度")


def move_org(tree, campaign, admin) -> None:  # type: ignore[no-untyped-def]
    org_unit_move(org=tree.a1, new_parent=tree.b)


def add_org(tree, campaign, admin) -> None:  # type: ignore[no-untyped-def]
    make_org(OrgKind.BRANCH, tree.b)


@pytest.mark.parametrize(
    "change",
    [change_entry, add_entry, sign_letter, save_report, save_rating, take_snapshot, move_org, add_org],
    ids=lambda f: f.__name__,
)
def test_the_fingerprint_changes_when_the_data_changes(tree, filled, committee_admin, change):
    before = rollup_fingerprint(filled)
    change(tree, filled, committee_admin)
    assert rollup_fingerprint(filled) != before


def test_the_fingerprint_changes_when_a_report_is_saved_again(tree, campaign):
    report = DutyReport.objects.create(campaign=campaign, org=tree.a1, title="述职报告")
    before = rollup_fingerprint(campaign)
    report.status = ReportStatus.SUBMITTED
    report.save()
    assert rollup_fingerprint(campaign) != before


def test_the_fingerprint_changes_when_a_recompile_changes_a_level(tree, campaign, committee_admin):
    score(campaign, tree.a1, "95")
    rnd = make_round(campaign, committee_admin, quotas={})
    compile_now(rnd=rnd, actor=committee_admin, today=d(11, 20))
    assert Rating.objects.get(round=rnd, org=tree.a1).computed_level == 5
    before = rollup_fingerprint(campaign)
    RatingFact.objects.create(campaign=campaign, org=tree.a1, kind=FactKind.VETO, key="意识形态")
    compile_now(rnd=rnd, actor=committee_admin, today=d(11, 20))
    assert Rating.objects.get(round=rnd, org=tree.a1).computed_level == 3
    assert rollup_fingerprint(campaign) != before


def test_the_fingerprint_changes_when_an_organisation_is_renamed(tree, filled):
    before = rollup_fingerprint(filled)
    org_unit_update(org=tree.a1, name="改名后的党支部")
    assert rollup_fingerprint(filled) != before


# --- rollup_current ---------------------------------------------------------------------------------


def test_a_rollup_never_built_is_built_in_the_call(filled):
    state, stale = rollup_current(filled)
    assert stale is False
    assert state.refreshed_at is not None
    assert actual_entry_rollups(filled) == expected_entry_rollups(filled)


def test_a_fresh_rollup_is_returned_as_it_is(filled):
    built = rollup_refresh(filled)
    state, stale = rollup_current(filled)
    assert stale is False
    assert state.refreshed_at == built.refreshed_at


def test_a_rollup_behind_and_quick_is_rebuilt_in_the_call(tree, filled):
    built = rollup_refresh(filled)
    ChecklistEntry.objects.filter(campaign=filled, org=tree.a1).update(
        status=EntryStatus.APPROVED, updated_at=timezone.now() + timedelta(seconds=1)
    )
    state, stale = rollup_current(filled)
    assert stale is False
    assert state.refreshed_at > built.refreshed_at
    assert state.fingerprint == rollup_fingerprint(filled)
    assert actual_entry_rollups(filled) == expected_entry_rollups(filled)
    assert not Outbox.objects.filter(task="scoring.tasks.refresh_rollup").exists()


@pytest.fixture
def slow_and_behind(tree, filled):  # type: ignore[no-untyped-def]
    """A rollup whose last rebuild was slow, with an entry changed since."""
    rollup_refresh(filled)
    RollupState.objects.filter(campaign=filled).update(seconds=django_settings.ROLLUP_SYNC_SECONDS + 1)
    before = actual_entry_rollups(filled)
    entry = ChecklistEntry.objects.filter(
        campaign=filled, org=tree.a1, status=EntryStatus.NOT_STARTED
    ).first()
    entry.status = EntryStatus.APPROVED
    entry.save()
    return before


def test_a_rollup_behind_and_slow_keeps_the_old_figures_and_says_so(filled, slow_and_behind):
    state, stale = rollup_current(filled)
    assert stale is True
    assert state.fingerprint != rollup_fingerprint(filled)
    assert actual_entry_rollups(filled) == slow_and_behind
    assert actual_entry_rollups(filled) != expected_entry_rollups(filled)


def test_a_rollup_behind_and_slow_queues_one_rebuild(filled, slow_and_behind):
    rollup_current(filled)
    rollup_current(filled)
    (job,) = Outbox.objects.filter(task="scoring.tasks.refresh_rollup")
    assert job.kwargs == {"campaign_id": filled.pk}


def test_the_queued_rebuild_brings_the_figures_up_to_date(
    filled, slow_and_behind, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _state, stale = rollup_current(filled)
    assert stale is True
    assert actual_entry_rollups(filled) == expected_entry_rollups(filled)
    _state, stale = rollup_current(filled)
    assert stale is False


def test_a_dashboard_of_a_slow_rollup_shows_the_time_of_its_figures(tree, filled, slow_and_behind):
    state = RollupState.objects.get(campaign=filled)
    board = dashboard(campaign=filled, node=tree.gw, today=d(6, 15))
    assert board.stale is True
    assert board.as_of == state.refreshed_at


def test_a_user_at_any_level_sees_the_same_figures_as_the_rollup(tree, filled):
    """Sanity for the shared tree: a dashboard per node equals the direct count over its subtree."""
    rollup_refresh(filled)
    today = d(6, 15)
    for node in OrgUnit.objects.all():
        board = dashboard(campaign=filled, node=node, today=today)
        below = list(ChecklistEntry.objects.filter(campaign=filled, org__path__startswith=node.path))
        assert figures(board.totals) == reference(below, today), node.code

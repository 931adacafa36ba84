"""`make bench`: the performance figures of targets.md, measured in a fresh database.

    python -m tests.bench.run [--branches 5000] [--p5-orgs 100000] [--p4-orgs N] [--repeat 3]

Runs on SQLite by default and on PostgreSQL when DATABASE_URL is set (settings
`config.settings.bench`). Every timing is a ratio against a reference measured in the
same run on the same machine, because machines are shared and noisy. Prints one line
per figure and exits non-zero if any figure fails:

    BENCH <name> app=<seconds> ref=<seconds> ratio=<x> target=<t> PASS|FAIL
    BENCH <name>_queries rows1=<q> rows50=<q> PASS|FAIL

P4 (dashboard rollups against a scan of the entries) and P3 (the dashboard against
hand-written SQL) build a tree of their own with at least 5,000 branches, also when
`--branches 500` is given (CI); `--p4-orgs 100000`, or
`--branches 100000`, measures it at 100,000 organisations / ~2M entries. P1 for the
dashboards is printed as a timing line against the target itself:
`BENCH P1_dashboard app=<p95 seconds> ref=0.5 ratio=<p95/0.5> target=1` (tests/bench/p_dashboard.py).

Lines starting with "#" are context (sizes, plans, progress) for people, not for parsers.
The harness functions take an already set-up database, so `test_bench_smoke.py` runs
them at a tiny size inside the test suite.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Django is set up in main(), after this module is imported
    from django.test import Client

    from branches.models import User
    from tests.bench.scale import ScaleSpec

PAGE_SIZE = 50  # branches.views.PAGE_SIZE: the first page of a list
P2_MAX_QUERIES = 20
P2_MANY = 50
P5_TARGET = 1.0
P5_REPEAT = 15
P7_TARGET = 3.0
P7_SHEET = "组织"
P7_HEADERS = (
    "组织编码",
    "组织名称",
    "组织类型",
    "上级组织编码",
    "所在单位",
    "书记姓名",
    "书记账号",
    "联系电话",
    "成立日期",
    "届满日期",
    "排序",
    "状态",
)
STATUS_ACTIVE = "正常"
STATUS_REVOKED = "撤销"


# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimingResult:
    """app and ref are medians in seconds; `valid` is False if app and ref disagreed on the result."""

    name: str
    app: float
    ref: float
    target: float
    valid: bool = True
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.app / self.ref if self.ref > 0 else float("inf")

    @property
    def passed(self) -> bool:
        return self.valid and self.ratio <= self.target

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"BENCH {self.name} app={self.app:.4f} ref={self.ref:.4f} ratio={self.ratio:.2f} "
            f"target={self.target:g} {verdict}"
        )


@dataclass(frozen=True)
class QueryCountResult:
    name: str
    rows1: int
    rows50: int
    limit: int = P2_MAX_QUERIES

    @property
    def passed(self) -> bool:
        return self.rows1 == self.rows50 and self.rows50 <= self.limit

    @property
    def note(self) -> str:
        return ""

    def line(self) -> str:
        return f"BENCH {self.name}_queries rows1={self.rows1} rows50={self.rows50} {'PASS' if self.passed else 'FAIL'}"


@dataclass(frozen=True)
class PlanResult:
    """Whether the scoped list query is an index range scan on the path column."""

    name: str
    list_index: str
    count_index: str
    plans: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return bool(self.list_index)

    @property
    def note(self) -> str:
        return " | ".join(self.plans)

    def line(self) -> str:
        return (
            f"BENCH {self.name} list_index={self.list_index or '-'} count_index={self.count_index or '-'} "
            f"{'PASS' if self.passed else 'FAIL'}"
        )


Result = TimingResult | QueryCountResult | PlanResult


def _median_pair(app: Callable[[], object], ref: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median seconds of app and ref, interleaved so drifting machine load hits both alike."""
    app_times: list[float] = []
    ref_times: list[float] = []
    for _ in range(repeat):
        for fn, times in ((app, app_times), (ref, ref_times)):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    return statistics.median(app_times), statistics.median(ref_times)


def progress(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# --- people -----------------------------------------------------------------------------


def _person(username: str, org_id: int | None = None, role: str | None = None) -> User:
    from branches import services
    from branches.models import OrgUnit

    user = services.user_create(username=username, full_name=username)
    if org_id is not None and role is not None:
        services.role_grant(user=user, org=OrgUnit.objects.get(pk=org_id), role=role)
    return user


# --- P2: queries per page -----------------------------------------------------------------


@dataclass(frozen=True)
class P2Fixture:
    one_id: int
    many_id: int
    staff_one_id: int
    staff_many_id: int
    admin_id: int


def p2_fixture_create(*, root_id: int) -> P2Fixture:
    """Two 机关党委 under the root that differ only in row counts: 1 against 50.

    Each has that many child branches (each with members and a secretary), roster
    members and officers, so every list on the organisation pages grows with it; the
    people list is filtered to 1 or 50 accounts with grants.
    """
    from branches import services
    from branches.models import Member, MemberCategory, OrgKind, OrgUnit, Role

    root = OrgUnit.objects.get(pk=root_id)
    admin = _person("p2_admin", root_id, Role.COMMITTEE_ADMIN)
    ids: dict[int, int] = {}
    staff: dict[int, int] = {}
    for n, prefix in ((1, "p2one"), (P2_MANY, "p2many")):
        committee = services.org_unit_create(
            code=f"P2-{n}",
            name=f"中共P2测试{n}机关委员会",
            kind=OrgKind.AGENCY_COMMITTEE,
            parent=root,
            sort_order=999_000 + n,
            agency_name=f"P2测试{n}单位",
        )
        ids[n] = committee.pk
        staff[n] = _person(f"{prefix}_staff", committee.pk, Role.UNIT_STAFF).pk
        members: list[Member] = []
        for i in range(1, n + 1):
            branch = services.org_unit_create(
                code=f"P2-{n}-{i:02d}",
                name=f"P2测试{n}第{i}党支部",
                kind=OrgKind.BRANCH,
                parent=committee,
                sort_order=i * 10,
                agency_name=committee.agency_name,
            )
            _person(f"{prefix}_sec_{i:02d}", branch.pk, Role.SECRETARY)
            _person(f"{prefix}_viewer_{i:02d}", committee.pk, Role.VIEWER)
            members += [
                Member(org=branch, name=f"党员{i}-{k}", category=MemberCategory.FULL) for k in range(3)
            ]
            members.append(Member(org=committee, name=f"机关党委党员{i}", category=MemberCategory.FULL))
        Member.objects.bulk_create(members)
    return P2Fixture(
        one_id=ids[1],
        many_id=ids[P2_MANY],
        staff_one_id=staff[1],
        staff_many_id=staff[P2_MANY],
        admin_id=admin.pk,
    )


def _count_queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url} answered {response.status_code}")
    return len(ctx.captured_queries)


def bench_p2(*, root_id: int) -> list[QueryCountResult]:
    """P2: each organisation page issues the same number of queries for 1 and for 50 rows."""
    from django.test import Client
    from django.urls import reverse

    from branches.models import User

    fx = p2_fixture_create(root_id=root_id)
    clients: dict[int, Client] = {}
    for user_id in (fx.staff_one_id, fx.staff_many_id, fx.admin_id):
        clients[user_id] = Client()
        clients[user_id].force_login(User.objects.get(pk=user_id))

    people = reverse("branches:people_list")
    pages: list[tuple[str, int, str, int, str]] = [
        (
            "P2_org_list",
            fx.staff_one_id,
            reverse("branches:org_list") + "?kind=branch",
            fx.staff_many_id,
            reverse("branches:org_list") + "?kind=branch",
        ),
        (
            "P2_org_tree",
            fx.staff_one_id,
            reverse("branches:org_tree"),
            fx.staff_many_id,
            reverse("branches:org_tree"),
        ),
        (
            "P2_org_children",
            fx.staff_one_id,
            reverse("branches:org_children", args=[fx.one_id]),
            fx.staff_many_id,
            reverse("branches:org_children", args=[fx.many_id]),
        ),
        (
            "P2_org_detail",
            fx.staff_one_id,
            reverse("branches:org_detail", args=[fx.one_id]),
            fx.staff_many_id,
            reverse("branches:org_detail", args=[fx.many_id]),
        ),
        ("P2_people_list", fx.admin_id, people + "?q=p2one_sec_", fx.admin_id, people + "?q=p2many_sec_"),
    ]
    results = []
    for name, one_user, one_url, many_user, many_url in pages:
        # One unmeasured request each: first-use caches (content types, templates) are not per-row cost.
        _count_queries(clients[one_user], one_url)
        _count_queries(clients[many_user], many_url)
        results.append(
            QueryCountResult(
                name=name,
                rows1=_count_queries(clients[one_user], one_url),
                rows50=_count_queries(clients[many_user], many_url),
            )
        )
    return results


# --- P5: subtree-scoped list ----------------------------------------------------------------

CTE_SUBTREE = """
WITH RECURSIVE subtree(id) AS (
    SELECT id FROM branches_orgunit WHERE id = %s
    UNION ALL
    SELECT o.id FROM branches_orgunit o JOIN subtree s ON o.parent_id = s.id
)
"""
CTE_PAGE = (
    CTE_SUBTREE
    + "SELECT o.id, o.name FROM branches_orgunit o JOIN subtree s ON o.id = s.id ORDER BY o.path LIMIT %s"
)
CTE_COUNT = CTE_SUBTREE + "SELECT count(*) FROM subtree"


def _path_index_names() -> set[str]:
    """Names of the indexes whose first column is OrgUnit.path, as the planner reports them."""
    from django.db import connection

    from branches.models import OrgUnit

    table = OrgUnit._meta.db_table
    names: set[str] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Django's introspection names the UNIQUE constraint's automatic index
            # "__unnamed_constraint_N__"; the plan names it sqlite_autoindex_<table>_N.
            cursor.execute(f"PRAGMA index_list({connection.ops.quote_name(table)})")
            for row in cursor.fetchall():
                cursor.execute(f"PRAGMA index_info({connection.ops.quote_name(row[1])})")
                columns = [info[2] for info in cursor.fetchall()]
                if columns[:1] == ["path"]:
                    names.add(row[1])
        else:
            for name, info in connection.introspection.get_constraints(cursor, table).items():
                if (info["index"] or info["unique"]) and info["columns"][:1] == ["path"]:
                    names.add(name)
    return names


def _explain(sql: str) -> str:
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return " ; ".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def _index_used(plan: str, names: set[str]) -> str:
    """The path index named in `plan`, or '' (a sequential/full scan)."""
    return next((n for n in sorted(names) if n in plan), "")


def _analyze() -> None:
    # Production databases have planner statistics (autovacuum on PostgreSQL, PRAGMA
    # optimize on SQLite); a freshly bulk-loaded table has none.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def bench_p5(*, orgs: int, repeat: int = P5_REPEAT) -> list[TimingResult | PlanResult]:
    """P5: the product's scoped list for the biggest 机关党委 against a recursive CTE."""
    from django.core.paginator import Paginator
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from branches import selectors
    from branches.models import Role
    from tests.bench.scale import ScaleSpec, scale_tree_create

    tree = scale_tree_create(spec=ScaleSpec.for_orgs(orgs), with_members=False)
    user = _person("p5_staff", tree.big_committee_id, Role.UNIT_STAFF)
    _analyze()

    def app() -> tuple[int, list[tuple[int, str]]]:
        selectors.forget_grants(user)  # the scope lookup is part of every request
        page = Paginator(selectors.organisation_list(user), PAGE_SIZE).get_page(1)
        return page.paginator.count, [(o.pk, o.name) for o in page.object_list]

    def ref() -> tuple[int, list[tuple[int, str]]]:
        with connection.cursor() as cursor:
            cursor.execute(CTE_COUNT, [tree.big_committee_id])
            total = cursor.fetchone()[0]
            cursor.execute(CTE_PAGE, [tree.big_committee_id, PAGE_SIZE])
            return total, [(pk, name) for pk, name in cursor.fetchall()]

    app_result, ref_result = app(), ref()
    valid = app_result == ref_result
    app_time, ref_time = _median_pair(app, ref, repeat)

    with CaptureQueriesContext(connection) as ctx:
        app()
    names = _path_index_names()
    plans: dict[str, str] = {}
    for query in ctx.captured_queries:
        sql = query["sql"]
        # The scoped queries are the ones with the subtree range (the grants lookup has none).
        if '"path" >= ' in sql:
            plans["count" if "COUNT(" in sql.upper() else "list"] = _explain(sql)
    timing = TimingResult(
        name="P5_subtree_list",
        app=app_time,
        ref=ref_time,
        target=P5_TARGET,
        valid=valid,
        note=f"{tree.orgs} organisations, subtree of {app_result[0]}"
        + ("" if valid else f"; MISMATCH app={app_result[0]} ref={ref_result[0]}"),
    )
    plan = PlanResult(
        name="P5_plan",
        list_index=_index_used(plans.get("list", ""), names),
        count_index=_index_used(plans.get("count", ""), names),
        plans=tuple(f"{k}: {v}" for k, v in sorted(plans.items())),
    )
    return [timing, plan]


# --- P7: organisation import ------------------------------------------------------------------


def org_sheet_rows(spec: ScaleSpec) -> list[tuple[object, ...]]:
    """The scale tree as rows of the §12 sheet 组织, parents first."""
    from branches.models import OrgKind
    from tests.bench.scale import scale_plan

    return [
        (
            o.code,
            o.name,
            OrgKind(o.kind).label,
            o.parent_code,
            o.agency_name,
            "",
            "",
            "",
            o.established_on,
            o.term_ends_on,
            o.sort_order,
            STATUS_ACTIVE,
        )
        for o in scale_plan(spec)
    ]


def org_workbook(rows: list[tuple[object, ...]]) -> bytes:
    """The §12 workbook, through the test suite's builder when it is there."""
    try:
        from tests.branches.xlsx import org_workbook_bytes
    except ImportError:
        org_workbook_bytes = None
    if org_workbook_bytes is not None:
        return org_workbook_bytes([list(r) for r in rows])
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(P7_SHEET)
    ws.append(P7_HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        return date.fromisoformat(value.strip()[:10])
    return None


def reference_import(data: bytes) -> int:
    """The floor for P7: read-only iteration of the sheet, paths in Python, one bulk insert."""
    from openpyxl import load_workbook

    from branches.models import OrgKind, OrgUnit

    kinds = {label: value for value, label in OrgKind.choices}
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        rows = wb[P7_SHEET].iter_rows(min_row=2, values_only=True)
        next_id = 1
        by_code: dict[str, OrgUnit] = {}
        objs: list[OrgUnit] = []
        for row in rows:
            code, name, kind, parent_code, agency, _, _, phone, established, term_end, sort, status = row[:12]
            if not code:
                continue
            parent = by_code[str(parent_code)] if parent_code else None
            org = OrgUnit(
                id=next_id,
                code=str(code),
                name=str(name),
                kind=kinds[str(kind)],
                parent_id=parent.pk if parent else None,
                path=f"{parent.path if parent else '/'}{next_id}/",
                depth=parent.depth + 1 if parent else 0,
                sort_order=int(sort or 0),
                agency_name=str(agency or ""),
                phone=str(phone or ""),
                established_on=_as_date(established),
                term_ends_on=_as_date(term_end),
                is_active=status != STATUS_REVOKED,
            )
            by_code[org.code] = org
            objs.append(org)
            next_id += 1
    finally:
        wb.close()
    OrgUnit.objects.bulk_create(objs, batch_size=2000)
    return len(objs)


def _rolled_back(fn: Callable[[], object]) -> Callable[[], object]:
    """Run `fn` in a transaction that is always rolled back, so every run starts from empty."""
    from django.db import transaction

    def run() -> object:
        with transaction.atomic():
            result = fn()
            transaction.set_rollback(True)
        return result

    return run


def tree_problems(expected_codes: set[str]) -> list[str]:
    """What is wrong with the organisation table against the imported file, if anything."""
    from branches.models import OrgUnit

    rows = {
        pk: (code, parent_id, path, depth)
        for pk, code, parent_id, path, depth in OrgUnit.objects.values_list(
            "pk", "code", "parent_id", "path", "depth"
        )
    }
    problems = []
    if {code for code, *_ in rows.values()} != expected_codes:
        problems.append(f"{len(rows)} rows, {len(expected_codes)} expected")
    for pk, (code, parent_id, path, depth) in rows.items():
        parent = rows.get(parent_id) if parent_id else None
        if path != f"{parent[2] if parent else '/'}{pk}/" or depth != (parent[3] + 1 if parent else 0):
            problems.append(f"{code}: path {path} depth {depth}")
            break
    return problems


def bench_p7(*, branches: int, repeat: int = 3) -> TimingResult:
    """P7: importing the scale tree's organisations into an empty tree, against read + bulk insert."""
    from branches.models import OrgUnit
    from tests.bench.scale import ScaleSpec

    if OrgUnit.objects.exists():
        raise RuntimeError("P7 needs an empty organisation table")
    spec = ScaleSpec.for_branches(branches)
    rows = org_sheet_rows(spec)
    codes = {str(r[0]) for r in rows}
    data = org_workbook(rows)
    actor = _person("p7_admin")
    problems: list[str] = []

    def ref() -> None:
        reference_import(data)

    def ref_checked() -> None:
        ref()
        problems.extend(f"reference: {p}" for p in tree_problems(codes))

    try:
        from branches.imports import org_tree_import_file
    except ImportError:
        ref_time = statistics.median(_time(_rolled_back(ref)) for _ in range(repeat))
        return TimingResult(
            name="P7_org_import",
            app=float("inf"),
            ref=ref_time,
            target=P7_TARGET,
            valid=False,
            note="branches.imports.org_tree_import_file is missing",
        )

    def app() -> None:
        org_tree_import_file(data=data, file_name="bench.xlsx", actor=actor, dry_run=False)

    def app_checked() -> None:
        run = org_tree_import_file(data=data, file_name="bench.xlsx", actor=actor, dry_run=False)
        if run.status != "applied":
            problems.append(f"import status={run.status}, first errors={list(run.errors or [])[:3]}")
        problems.extend(tree_problems(codes))

    # One checked, untimed run of each first: both must write exactly the file's tree.
    first_app = _time(_rolled_back(app_checked))
    _rolled_back(ref_checked)()
    # A slow importer at 5,000 rows must not stretch the run past its time budget.
    reps = repeat if first_app < 20 else 1
    app_time, ref_time = _median_pair(_rolled_back(app), _rolled_back(ref), reps)
    note = f"{spec.total_orgs} organisations" + (f"; PROBLEMS: {'; '.join(problems)}" if problems else "")
    return TimingResult(
        name="P7_org_import", app=app_time, ref=ref_time, target=P7_TARGET, valid=not problems, note=note
    )


def _time(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- the run ------------------------------------------------------------------------------------


def _emit(results: Iterable[Result]) -> list[Result]:
    out = list(results)
    for r in out:
        print(r.line(), flush=True)
        if r.note:
            print(f"#   {r.note}", flush=True)
    return out


def run_all(*, branches: int, p5_orgs: int, repeat: int, p4_orgs: int | None = None) -> list[Result]:
    """Every figure, in an order that gives each the database state it needs."""
    from django.db import connection

    from tests.bench.scale import ScaleSpec, scale_tree_create, tree_reset

    spec = ScaleSpec.for_branches(branches)
    print(
        f"# bench vendor={connection.vendor} "
        f"version={_server_version()} branches={spec.branches} orgs={spec.total_orgs} "
        f"agency_committees={spec.agency_committees} general_branches={spec.general_branches} "
        f"p5_orgs={p5_orgs}",
        flush=True,
    )
    results: list[Result] = []
    progress(f"P7: importing {spec.total_orgs} organisations")
    results += _emit([bench_p7(branches=branches, repeat=repeat)])
    progress("building the scale tree")
    started = time.perf_counter()
    tree = scale_tree_create(spec=spec)
    print(
        f"# scale tree: {tree.orgs} organisations, {tree.members} members, "
        f"built in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    progress("P2: queries per page")
    results += _emit(bench_p2(root_id=tree.root_id))
    from tests.bench.p9 import bench_p9

    progress("P9: publishing the task list")
    results += _emit([bench_p9(root_id=tree.root_id)])
    from tests.bench.p2_campaigns import bench_p2_campaigns, campaign_data_reset
    from tests.bench.p11 import run_p11

    progress("P2: queries per campaign page")
    results += _emit(bench_p2_campaigns(root_id=tree.root_id))
    results += _emit(run_p11(root_id=tree.root_id))
    from tests.bench.p10 import run_p10

    results += _emit(run_p10(root_id=tree.root_id))
    campaign_data_reset()
    from tests.bench import p_dashboard

    dashboards = p_dashboard.dashboard_fixture_ready(root_id=tree.root_id)
    results += _emit(p_dashboard.run_dashboards(fixture=dashboards))
    try:  # the year-end workbook, on the same campaign data
        from tests.bench.p6 import run_p6
    except ImportError:
        print("# P6 not available", flush=True)
    else:
        progress("P6: the year-end workbook")
        results += _emit(run_p6(root_id=tree.root_id))
    p_dashboard.dashboard_data_reset()
    from tests.bench.p8_reminders import run_p8

    results += _emit(run_p8(root_id=tree.root_id))
    campaign_data_reset()
    tree_reset()
    p4_spec, p4_items = p_dashboard.p4_spec(branches=branches, p4_orgs=p4_orgs)
    results += _emit(p_dashboard.run_p4(spec=p4_spec, items=p4_items))
    progress(f"P5: building {p5_orgs} organisations")
    results += _emit(bench_p5(orgs=p5_orgs))
    return results


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        return str(cursor.fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=5000, help="党支部 in the scale tree (CI: 500)")
    parser.add_argument("--p5-orgs", type=int, default=100_000, help="organisations in the P5 tree")
    parser.add_argument(
        "--p4-orgs",
        type=int,
        default=None,
        help="organisations in the P4 tree (default: max(branches, 5000) branches; 100000 when --branches ≥ 100000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each P7 run (median)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    started = time.perf_counter()
    setup_test_environment()
    old_config = setup_databases(
        verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
    )
    try:
        results = run_all(
            branches=args.branches, p5_orgs=args.p5_orgs, repeat=args.repeat, p4_orgs=args.p4_orgs
        )
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
    failed = [r for r in results if not r.passed]
    print(
        f"# {len(results) - len(failed)}/{len(results)} PASS in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

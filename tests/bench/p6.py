"""P6: the year-end assessment workbook of the whole scale tree against writing the same cells from memory.

app   = ``scoring.exports.assessment_workbook`` for the 工委 (every sheet of domain.md §12, streamed
        from the database with openpyxl write-only mode, to a file);
fetch = the same queries the workbook runs, every row materialised in memory (timed on its own);
write = openpyxl write-only writing those rows from memory as plain values to a file: the same
        sheets, headers and cells per row (the app's 小计/合计 rows, one per organisation and
        section, are not part of the reference).

targets.md P6: app ≤ 2 × write + fetch. The BENCH line prints ``ref = 2 × write + fetch`` and
``ratio = app / ref`` with target 1 (PASS when ≤ 1). A second line, ``P6_memory``, prints the peak
of the Python allocations (tracemalloc) during one more, untimed, app run in MB against the 200 MB
limit (``ref=200``, target 1).

Data: each 党支部 of the scale tree has 60 entries in every status with scores (P10's builders:
5,000 branches → 300,000 entries), evidence on a tenth of them, findings with rectification on a
tenth of the branches, rating facts, one 述职评议 with tallies for every branch, and a compiled
rating round, so every sheet and column is filled. The rows are removed afterwards.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tests.bench.run import TimingResult, _analyze, _person, progress

P6_TARGET = 1.0  # app / (2 × write + fetch)
P6_MEMORY_MB = 200.0
P6_YEAR = 2096  # a year no other figure's campaign of the scale tree uses
P6_ITEMS = 60
P6_REPEAT = 2
EVIDENCE_EVERY = 10
BULK_BATCH = 2000
TALLY = (("好", 6), ("较好", 3), ("一般", 1), ("差", 0))


@dataclass(frozen=True)
class P6Fixture:
    campaign_id: int
    root_id: int
    branches: int
    entries: int
    findings: int
    evidence_links: int


def _evidence_create(campaign_id: int, actor_id: int) -> int:
    """One evidence per branch, linked to every tenth of its entries."""
    from campaigns.models import ChecklistEntry, EntryEvidence, Evidence

    links: list[EntryEvidence] = []
    evidence_by_org: dict[int, int] = {}
    rows = ChecklistEntry.objects.filter(campaign_id=campaign_id).order_by("pk").values_list("pk", "org_id")
    for n, (entry_id, org_id) in enumerate(rows.iterator(chunk_size=BULK_BATCH)):
        if n % EVIDENCE_EVERY:
            continue
        if org_id not in evidence_by_org:
            evidence_by_org[org_id] = Evidence.objects.create(
                org_id=org_id, title="会议记录（性能测试）", created_by_id=actor_id
            ).pk
        links.append(
            EntryEvidence(entry_id=entry_id, evidence_id=evidence_by_org[org_id], linked_by_id=actor_id)
        )
    EntryEvidence.objects.bulk_create(links, batch_size=BULK_BATCH)
    return len(links)


def _review_create(campaign_id: int, root_id: int, org_ids: list[int], actor_id: int) -> None:
    """One closed 述职评议 of every branch, entered as tallies."""
    from campaigns.models import BallotTally, ReviewSession, SessionReporter

    session = ReviewSession.objects.create(
        campaign_id=campaign_id,
        scope_id=root_id,
        title=f"{P6_YEAR}年度党支部书记述职评议（性能测试）",
        held_on=date(P6_YEAR, 12, 20),
        entry_mode="tally",
        status="closed",
        created_by_id=actor_id,
    )
    reporters = SessionReporter.objects.bulk_create(
        (
            SessionReporter(session=session, org_id=org_id, reporter_name=f"书记{n}", sort_order=n)
            for n, org_id in enumerate(org_ids, start=1)
        ),
        batch_size=BULK_BATCH,
    )
    BallotTally.objects.bulk_create(
        (
            BallotTally(reporter_id=r.pk, label=label, count=count)
            for r in reporters
            for label, count in TALLY
        ),
        batch_size=BULK_BATCH,
    )


def p6_fixture_create(*, root_id: int, seed: int = P6_YEAR) -> P6Fixture:
    """The P6 campaign of the scale tree's 工委 with data on every sheet, and its compiled rating."""
    from branches.models import Role
    from scoring import demo, services
    from tests.bench.p2_campaigns import campaign_create
    from tests.bench.p10 import _branch_ids, _entries_create, _facts_create, _findings_create

    rng = random.Random(seed)
    admin = _person("p6_admin", root_id, Role.COMMITTEE_ADMIN)
    campaign, items = campaign_create(committee_id=root_id, year=P6_YEAR, items=P6_ITEMS)
    org_ids = _branch_ids(root_id)
    entries = _entries_create(
        campaign.pk, [(i.pk, i.points, i.due_date) for i in items], org_ids, rng, admin.pk
    )
    findings = _findings_create(campaign.pk, root_id, org_ids, rng, admin.pk)
    _facts_create(campaign.pk, org_ids, rng, admin.pk)
    links = _evidence_create(campaign.pk, admin.pk)
    _review_create(campaign.pk, root_id, org_ids, admin.pk)
    version = services.scheme_save(campaign=campaign, data=demo.demo_scheme_data(P6_YEAR), actor=admin)
    rnd = services.round_create(campaign=campaign, scheme=version, actor=admin)
    from django.db import transaction

    with transaction.atomic():  # the queued Celery task runs after commit and finds the run done
        services.compile_now(rnd=rnd, actor=admin, today=date(P6_YEAR, 12, 31))
    return P6Fixture(
        campaign_id=campaign.pk,
        root_id=root_id,
        branches=len(org_ids),
        entries=entries,
        findings=findings,
        evidence_links=links,
    )


# --- the reference -------------------------------------------------------------------------------


def reference_fetch(campaign: Any, org: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the workbook reads, by the same queries, materialised in memory."""
    from scoring import exports

    ballots, tallies = exports.vote_rows(campaign, org)
    queries = {
        "orgs": exports.summary_org_rows(campaign, org),
        "sums": exports.entry_sums(campaign, org),
        "secretaries": exports.secretary_rows(org),
        "members": exports.member_counts(org),
        "ratings": exports.rating_rows(campaign, org),
        "entries": exports.entry_rows(campaign, org),
        "findings": exports.finding_rows(campaign, org),
        "sessions": exports.session_rows(campaign),
        "reporters": exports.reporter_rows(campaign, org),
        "ballots": ballots,
        "tallies": tallies,
    }
    return {name: list(qs.iterator(chunk_size=exports.CHUNK_SIZE)) for name, qs in queries.items()}


def reference_write(rows: dict[str, list[tuple[Any, ...]]], out: Path) -> None:
    """The same sheets and cells per row, from memory, as plain values (openpyxl write-only)."""
    from openpyxl import Workbook

    from scoring import exports

    wb = Workbook(write_only=True)
    wb.create_sheet(exports.SHEET_HELP).append(["说明"])
    summary = wb.create_sheet(exports.SHEET_SUMMARY)
    detail = wb.create_sheet(exports.SHEET_DETAIL)
    ledger = wb.create_sheet(exports.SHEET_RECTIFICATION)
    review = wb.create_sheet(exports.SHEET_REVIEW)
    tasks = wb.create_sheet(exports.SHEET_TASKS)
    for ws, columns in (
        (summary, exports.SUMMARY_COLUMNS),
        (detail, exports.DETAIL_COLUMNS),
        (ledger, exports.RECTIFICATION_COLUMNS),
        (review, exports.REVIEW_COLUMNS),
        (tasks, exports.TASK_COLUMNS),
    ):
        ws.append(columns)
    sums = {r[0]: r for r in rows["sums"]}
    for n, (org_id, _path, _kind, name, parent) in enumerate(rows["orgs"], start=1):
        s = sums.get(org_id, (None,) * 6)
        summary.append(
            [n, parent, name, "", 0, s[1], s[2], s[3], None, None, None, None, "", "", "", "", "", ""]
        )
    for r in rows["entries"]:
        detail.append([r[1], r[2], r[4], r[5], r[6], r[7], r[10], r[11], r[12], r[13], r[15], r[18], r[16]])
        tasks.append([r[2], r[4], r[6], r[19], r[21], r[13], r[15], r[18]])
    for n, r in enumerate(rows["findings"], start=1):
        ledger.append([n, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[9], r[10]])
    for r in rows["reporters"]:
        review.append([r[3], r[2], 0, 0, 0, 0, None, ""])
    wb.save(out)


# --- the figure ----------------------------------------------------------------------------------


def bench_p6(*, fixture: P6Fixture, repeat: int = P6_REPEAT) -> list[TimingResult]:
    """P6 on a built fixture: the app's workbook against fetch + 2 × write, and its peak memory."""
    from branches.models import OrgUnit
    from campaigns.models import Campaign
    from scoring import exports

    campaign = Campaign.objects.select_related("committee").get(pk=fixture.campaign_id)
    org = OrgUnit.objects.get(pk=fixture.root_id)
    problems: list[str] = []
    totals: list[int] = []
    fetched: dict[str, list[tuple[Any, ...]]] = {}
    app_times: list[float] = []
    fetch_times: list[float] = []
    write_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-p6-") as folder:
        app_file, ref_file = Path(folder) / "app.xlsx", Path(folder) / "ref.xlsx"

        def app() -> None:
            last: list[int] = [0]

            def seen(done: int, total: int, stage: str) -> None:
                last[0] = total

            exports.assessment_workbook(campaign=campaign, org=org, out=str(app_file), progress=seen)
            totals.append(last[0])

        for n in range(max(1, repeat)):
            progress(f"P6: assessment workbook of {fixture.entries} entries, run {n + 1}")
            started = time.perf_counter()
            app()
            app_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            fetched = reference_fetch(campaign, org)
            fetch_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            reference_write(fetched, ref_file)
            write_times.append(time.perf_counter() - started)
        app_size = app_file.stat().st_size
        ref_size = ref_file.stat().st_size

        progress("P6: peak memory of one more workbook (tracemalloc)")
        del fetched["entries"]  # the reference's rows are not the app's memory
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        exports.assessment_workbook(campaign=campaign, org=org, out=str(app_file))
        peak_mb = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()

    expected = len(fetched["orgs"]) + fixture.entries + fixture.findings + len(fetched["reporters"])
    if any(t != expected for t in totals):
        problems.append(f"workbook rows {totals} != reference rows {expected}")
    if fixture.entries and app_size <= 0:
        problems.append("empty workbook")
    app_time = statistics.median(app_times)
    fetch_time = statistics.median(fetch_times)
    write_time = statistics.median(write_times)
    ref = 2 * write_time + fetch_time
    note = (
        f"{fixture.branches} branches, {fixture.entries} entries, {fixture.findings} findings, "
        f"{fixture.evidence_links} evidence links; ref = 2 × write {write_time:.2f} s + fetch {fetch_time:.2f} s; "
        f"app {app_size // 1024} KB, ref {ref_size // 1024} KB; peak memory {peak_mb:.1f} MB (limit {P6_MEMORY_MB:g})"
        + (f"; PROBLEMS: {'; '.join(problems)}" if problems else "")
    )
    return [
        TimingResult(
            name="P6_assessment_workbook",
            app=app_time,
            ref=ref,
            target=P6_TARGET,
            valid=not problems,
            note=note,
        ),
        # Not a time: app = peak extra Python memory in MB, ref = the 200 MB limit.
        TimingResult(
            name="P6_memory",
            app=peak_mb,
            ref=P6_MEMORY_MB,
            target=1.0,
            note="tracemalloc peak of one assessment workbook of the whole tree, MB",
        ),
    ]


def run_p6(*, root_id: int, repeat: int = P6_REPEAT) -> list[TimingResult]:
    """Build the P6 fixture on the tree under `root_id`, measure, and remove its rows."""
    from tests.bench.p2_campaigns import campaign_data_reset
    from tests.bench.p10 import scoring_data_reset

    progress("P6: building the assessment data")
    started = time.perf_counter()
    fixture = p6_fixture_create(root_id=root_id)
    progress(f"P6: data built in {time.perf_counter() - started:.1f} s")
    _analyze()
    try:
        return bench_p6(fixture=fixture, repeat=repeat)
    finally:
        scoring_data_reset()
        campaign_data_reset()


# --- standalone ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench.p6 [--branches 5000]`: P6 alone in a fresh benchmark database."""
    import argparse

    from tests.bench.standalone import in_bench_database, print_results, scale_root

    parser = argparse.ArgumentParser(prog="python -m tests.bench.p6", description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=5000, help="党支部 in the scale tree (CI: 500)")
    parser.add_argument("--repeat", type=int, default=P6_REPEAT, help="workbooks measured (median)")
    args = parser.parse_args(argv)
    return print_results(
        in_bench_database(lambda: run_p6(root_id=scale_root(args.branches), repeat=args.repeat))
    )


if __name__ == "__main__":
    import sys

    sys.exit(main())

"""P10: compiling the star rating of every 党支部 of the scale tree against one aggregate SQL pass.

app = `scoring.services.compile_now`: gather every input of the round (grouped aggregates over
the entries, findings, 通报, 述职评议 ballots and facts), rate every branch and upsert one Rating
per branch in one transaction; ref = `scoring.inputs._entry_aggregates`, the single grouped
aggregate over the same entries that the compile itself starts from. The scheme is the demo's
(preset 方案B adapted: weighted 述职评议 good rate, deductions, bonus caps, vetoes, a five-star
quota, direct rating by honours), so every step of the engine runs.

Each branch has 60 entries in every status with scores, a tenth of them findings (some not
yet rectified, some repeated, some named in a published 通报批评), facts (bonuses, honours, a
few vetoes) and five ballots at one closed 述职评议. The first compile inserts the ratings;
the later ones must find the same fingerprint and change nothing (idempotency), and the
timing is the median over all of them. The rows are removed afterwards (scoring tables here,
campaign tables by `campaign_data_reset`).
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tests.bench.run import TimingResult, _analyze, _person, progress

P10_TARGET = 5.0
P10_YEAR = 2094  # a year no other figure's campaign of the scale tree uses
P10_ITEMS = 60
P10_RATERS = 5
P10_REPEAT = 5
BULK_BATCH = 2000
FINDING_SHARE = 0.10
BONUS_SHARE = 0.20
HONOUR_SHARE = 0.02
VETO_EVERY = 100
NOTICED_FINDINGS = 50
# Entry statuses with weights: most approved, the rest waiting at each review stage or open.
STATUSES = (
    ("approved", 55),
    ("first_reviewed", 10),
    ("submitted", 5),
    ("in_progress", 10),
    ("not_started", 15),
    ("not_applicable", 5),
)
LABELS = ("好", "较好", "一般", "差")
LABEL_WEIGHTS = (55, 30, 12, 3)
OPEN_RECTIFICATIONS = ("plan_pending", "plan_submitted", "in_progress", "close_requested", "reopened")


@dataclass(frozen=True)
class P10Fixture:
    round_id: int
    campaign_id: int
    admin_id: int
    branches: int
    entries: int
    findings: int
    facts: int
    ballots: int
    today: date


def _branch_ids(root_id: int) -> list[int]:
    from branches.models import OrgKind, OrgUnit

    root = OrgUnit.objects.get(pk=root_id)
    return list(
        OrgUnit.objects.subtree(root.path)
        .filter(kind=OrgKind.BRANCH, is_active=True)
        .order_by("path")
        .values_list("pk", flat=True)
    )


def _entries_create(
    campaign_id: int,
    items: list[tuple[int, Decimal, date | None]],
    org_ids: list[int],
    rng: random.Random,
    actor_id: int,
) -> int:
    """60 entries per branch in every status, with self, first-review and review scores."""
    from django.utils import timezone

    from campaigns.models import Checklist, ChecklistEntry

    now = timezone.now()
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    checklists = Checklist.objects.bulk_create(
        (Checklist(campaign_id=campaign_id, org_id=org_id) for org_id in org_ids), batch_size=BULK_BATCH
    )
    count = 0
    batch: list[ChecklistEntry] = []
    for checklist in checklists:
        for item_id, points, due in items:
            status = rng.choices(statuses, weights)[0]
            scored = status in ("approved", "first_reviewed", "submitted")
            score = points - Decimal("0.5") * rng.randint(0, 2) if scored else None
            batch.append(
                ChecklistEntry(
                    checklist_id=checklist.pk,
                    campaign_id=campaign_id,
                    org_id=checklist.org_id,
                    item_id=item_id,
                    due_date=due,
                    status="submitted" if status == "first_reviewed" else status,
                    review_stage={"first_reviewed": "committee", "submitted": "parent"}.get(status, ""),
                    progress_note="已按计划推进。" if status != "not_started" else "",
                    completed_on=due if scored or status == "not_applicable" else None,
                    self_score=points if scored else None,
                    first_review_score=score if status in ("approved", "first_reviewed") else None,
                    review_score=score if status == "approved" else None,
                    submitted_at=now if scored else None,
                    updated_by_id=actor_id,
                )
            )
            if len(batch) >= BULK_BATCH:
                ChecklistEntry.objects.bulk_create(batch)
                count += len(batch)
                batch = []
    ChecklistEntry.objects.bulk_create(batch)
    return count + len(batch)


def _findings_create(
    campaign_id: int, root_id: int, org_ids: list[int], rng: random.Random, actor_id: int
) -> int:
    """Findings on a tenth of the branches, rectifications in every state, some in a 通报批评."""
    from campaigns.models import Finding, Notice, Rectification

    chosen = rng.sample(org_ids, max(1, int(len(org_ids) * FINDING_SHARE)))
    findings = Finding.objects.bulk_create(
        (
            Finding(
                campaign_id=campaign_id,
                org_id=org_id,
                source="inspection",
                category="组织建设",
                description="“三会一课”会议记录不规范。",
                is_repeat=rng.random() < 0.2,
                created_by_id=actor_id,
            )
            for org_id in chosen
            for _ in range(rng.randint(1, 2))
        ),
        batch_size=BULK_BATCH,
    )
    Rectification.objects.bulk_create(
        (
            Rectification(
                finding_id=f.pk,
                campaign_id=campaign_id,
                org_id=f.org_id,
                status=rng.choice((*OPEN_RECTIFICATIONS, "closed", "closed")),
            )
            for f in findings
        ),
        batch_size=BULK_BATCH,
    )
    notice = Notice.objects.create(
        campaign_id=campaign_id,
        kind="criticism",
        title="关于年中督查发现问题的通报",
        body="对以下党支部予以通报批评。",
        scope_id=root_id,
        status="published",
        created_by_id=actor_id,
    )
    notice.findings.add(*findings[:NOTICED_FINDINGS])
    return len(findings)


def _facts_create(campaign_id: int, org_ids: list[int], rng: random.Random, actor_id: int) -> int:
    """Bonuses on a fifth of the branches, an honour on a few, a veto on one in a hundred."""
    from scoring import demo
    from scoring.models import RatingFact

    facts: list[RatingFact] = []
    for n, org_id in enumerate(org_ids):
        if rng.random() < BONUS_SHARE:
            kind = rng.choice((demo.BRAND, demo.AWARD, demo.INNOVATION))
            facts.append(
                RatingFact(
                    campaign_id=campaign_id,
                    org_id=org_id,
                    kind="bonus",
                    key=kind,
                    value=Decimal(rng.randint(1, 3)),
                    description=f"{kind}（性能测试）",
                    entered_by_id=actor_id,
                )
            )
        if rng.random() < HONOUR_SHARE:
            facts.append(
                RatingFact(
                    campaign_id=campaign_id,
                    org_id=org_id,
                    kind="honour",
                    key=demo.PROVINCIAL_HONOUR,
                    entered_by_id=actor_id,
                )
            )
        if n % VETO_EVERY == VETO_EVERY - 1:
            facts.append(
                RatingFact(
                    campaign_id=campaign_id,
                    org_id=org_id,
                    kind="veto",
                    key=demo.VETO_KEY,
                    entered_by_id=actor_id,
                )
            )
    RatingFact.objects.bulk_create(facts, batch_size=BULK_BATCH)
    return len(facts)


def _session_create(
    campaign_id: int, root_id: int, org_ids: list[int], rng: random.Random, actor_id: int
) -> int:
    """One closed 述职评议 of every branch with five raters' ballots each."""
    from campaigns.models import Ballot, ReviewSession, SessionReporter

    raters = [_person(f"p10_rater_{n}") for n in range(1, P10_RATERS + 1)]
    session = ReviewSession.objects.create(
        campaign_id=campaign_id,
        scope_id=root_id,
        title=f"{P10_YEAR}年度党支部书记述职评议（性能测试）",
        held_on=date(P10_YEAR, 12, 20),
        status="closed",
        created_by_id=actor_id,
    )
    session.raters.set(raters)
    reporters = SessionReporter.objects.bulk_create(
        (
            SessionReporter(session=session, org_id=org_id, reporter_name=f"书记{n}", sort_order=n)
            for n, org_id in enumerate(org_ids, start=1)
        ),
        batch_size=BULK_BATCH,
    )
    ballots = [
        Ballot(reporter_id=r.pk, rater=rater, label=rng.choices(LABELS, LABEL_WEIGHTS)[0])
        for r in reporters
        for rater in raters
    ]
    Ballot.objects.bulk_create(ballots, batch_size=BULK_BATCH)
    return len(ballots)


def p10_fixture_create(*, root_id: int, seed: int = P10_YEAR) -> P10Fixture:
    """The P10 campaign of the scale tree's 工委 with every input of a rating, and its round."""
    from branches.models import Role
    from scoring import demo, services
    from tests.bench.p2_campaigns import campaign_create

    rng = random.Random(seed)
    admin = _person("p10_admin", root_id, Role.COMMITTEE_ADMIN)
    campaign, items = campaign_create(committee_id=root_id, year=P10_YEAR, items=P10_ITEMS)
    org_ids = _branch_ids(root_id)
    entries = _entries_create(
        campaign.pk, [(i.pk, i.points, i.due_date) for i in items], org_ids, rng, admin.pk
    )
    findings = _findings_create(campaign.pk, root_id, org_ids, rng, admin.pk)
    facts = _facts_create(campaign.pk, org_ids, rng, admin.pk)
    ballots = _session_create(campaign.pk, root_id, org_ids, rng, admin.pk)
    version = services.scheme_save(campaign=campaign, data=demo.demo_scheme_data(P10_YEAR), actor=admin)
    rnd = services.round_create(campaign=campaign, scheme=version, actor=admin)
    return P10Fixture(
        round_id=rnd.pk,
        campaign_id=campaign.pk,
        admin_id=admin.pk,
        branches=len(org_ids),
        entries=entries,
        findings=findings,
        facts=facts,
        ballots=ballots,
        today=date(P10_YEAR, 12, 31),
    )


def scoring_data_reset() -> None:
    """Delete every rating row (before the campaign data is: they reference campaigns and orgs)."""
    from django.apps import apps
    from django.db import connection, transaction

    tables = [m._meta.db_table for m in apps.get_app_config("scoring").get_models(include_auto_created=True)]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def bench_p10(*, fixture: P10Fixture, repeat: int = P10_REPEAT) -> TimingResult:
    """P10 on a built fixture: full compiles against the entry aggregate they start from."""
    from django.db import transaction

    from branches.models import User
    from scoring import services
    from scoring.inputs import _entry_aggregates, as_of_for, rating_orgs
    from scoring.models import Rating, RatingRound, RunStatus

    rnd = RatingRound.objects.select_related("campaign__committee", "scheme").get(pk=fixture.round_id)
    actor = User.objects.get(pk=fixture.admin_id)
    org_ids = list(rating_orgs(rnd).values_list("pk", flat=True))
    as_of = as_of_for(rnd, fixture.today)
    problems: list[str] = []
    runs: list[tuple[str, int, int]] = []  # (fingerprint, changed, ties) of each compile

    def app() -> None:
        with transaction.atomic():  # the queued Celery task runs after commit and finds the run done
            run = services.compile_now(rnd=rnd, actor=actor, today=fixture.today)
        if run.status != RunStatus.DONE:
            problems.append(f"compile {len(runs) + 1}: status={run.status} {run.error[:200]}")
        runs.append((run.fingerprint, run.changed, run.ties))

    def ref() -> None:
        rows = _entry_aggregates(rnd.campaign_id, org_ids, as_of)
        if len(rows) != len(org_ids):
            problems.append(f"reference aggregated {len(rows)} organisations of {len(org_ids)}")

    app_times: list[float] = []
    ref_times: list[float] = []
    for n in range(max(2, repeat)):
        progress(f"P10: compiling {len(org_ids)} branches, run {n + 1}")
        for fn, times in ((app, app_times), (ref, ref_times)):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    first, *later = runs
    if Rating.objects.filter(round=rnd, compiled_at__isnull=False).count() != fixture.branches:
        problems.append("not every branch has a compiled rating")
    if first[1] != fixture.branches:
        problems.append(f"first compile changed {first[1]} of {fixture.branches}")
    for n, (fp, changed, _) in enumerate(later, start=2):
        if fp != first[0] or changed != 0:
            problems.append(
                f"compile {n} is not idempotent: changed={changed}, same fingerprint={fp == first[0]}"
            )
    note = (
        f"{fixture.branches} branches, {fixture.entries} entries, {fixture.findings} findings, "
        f"{fixture.facts} facts, {fixture.ballots} ballots; first compile {app_times[0]:.2f} s, "
        f"{first[2]} tie groups" + (f"; PROBLEMS: {'; '.join(problems)}" if problems else "")
    )
    return TimingResult(
        name="P10_rating_compile",
        app=statistics.median(app_times),
        ref=statistics.median(ref_times),
        target=P10_TARGET,
        valid=not problems,
        note=note,
    )


def run_p10(*, root_id: int, repeat: int = P10_REPEAT) -> list[TimingResult]:
    """Build the P10 fixture on the tree under `root_id`, measure, and remove the rating rows."""
    progress("P10: building the rating inputs")
    started = time.perf_counter()
    fixture = p10_fixture_create(root_id=root_id)
    progress(f"P10: inputs built in {time.perf_counter() - started:.1f} s")
    _analyze()
    try:
        return [bench_p10(fixture=fixture, repeat=repeat)]
    finally:
        scoring_data_reset()


# --- standalone ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench.p10 [--branches 5000]`: P10 alone in a fresh benchmark database."""
    import argparse

    from tests.bench.standalone import in_bench_database, print_results, scale_root

    parser = argparse.ArgumentParser(prog="python -m tests.bench.p10", description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=5000, help="党支部 in the scale tree (CI: 500)")
    parser.add_argument("--repeat", type=int, default=P10_REPEAT, help="compiles measured (median)")
    args = parser.parse_args(argv)
    return print_results(
        in_bench_database(lambda: run_p10(root_id=scale_root(args.branches), repeat=args.repeat))
    )


if __name__ == "__main__":
    import sys

    sys.exit(main())

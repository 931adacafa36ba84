"""The 达标创星 demo: a round at 工委审核 with a tie at the five-star boundary and a veto applied."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from branches import demo as tree_demo
from branches.models import OrgKind, OrgUnit, Role, RoleGrant
from campaigns import demo as campaign_demo
from campaigns import demo_supervision
from campaigns.models import Ballot, ReviewSession, SessionReporter, SessionStatus
from scoring import demo
from scoring.models import (
    CompileRun,
    FactKind,
    Rating,
    RatingFact,
    RatingRound,
    RatingStatus,
    RoundStage,
    RunStatus,
    SchemeVersion,
)
from scoring.schemes import scheme_from_dict

TODAY = date(timezone.localdate().year, 9, 15)


def test_the_command_refuses_without_the_demo_campaign(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="load_demo_campaign"):
        call_command("load_demo_rating", stdout=StringIO())


def test_the_scheme_is_a_valid_adaptation_of_preset_b_with_bands_quotas_and_vetoes() -> None:
    scheme = scheme_from_dict(demo.demo_scheme_data(TODAY.year))

    assert scheme.mode == "bands" and [b.min for b in scheme.bands][:2] == [90, 80]
    assert scheme.quota_for(5) is not None and str(scheme.quota_for(5).max) == demo.FIVE_STAR_SHARE  # type: ignore[union-attr]
    assert demo.VETO_KEY in {v.key for v in scheme.vetoes}
    assert {i.kind for i in scheme.score.bonus.items} == {demo.BRAND, demo.AWARD, demo.INNOVATION}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker) -> Iterator[demo.RatingDemoResult]:  # type: ignore[no-untyped-def]
    """One load of tree, campaign, supervision and rating for the module, rolled back at its end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            tree_demo.demo_load(today=TODAY)
            campaign_demo.demo_campaign_load(today=TODAY)
            demo_supervision.demo_supervision_load(today=TODAY)
            yield demo.demo_rating_load(today=TODAY)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def result(loaded, db) -> demo.RatingDemoResult:  # type: ignore[no-untyped-def]
    return loaded


def test_the_round_waits_at_committee_review_on_the_saved_scheme(result) -> None:  # type: ignore[no-untyped-def]
    rnd = RatingRound.objects.select_related("scheme").get()

    assert rnd.stage == RoundStage.COMMITTEE_REVIEW and rnd.applies_to == OrgKind.BRANCH
    assert rnd.scheme == SchemeVersion.objects.get() and rnd.scheme.note == demo.SCHEME_NOTE


def test_the_provisional_compile_leaves_a_tie_at_the_five_star_boundary_undecided(result) -> None:  # type: ignore[no-untyped-def]
    run = CompileRun.objects.get()
    branches = OrgUnit.objects.filter(kind=OrgKind.BRANCH, is_active=True).count()

    assert run.status == RunStatus.DONE and run.total == branches and run.ties >= 1
    group = run.tie_groups[0]
    tied = Rating.objects.filter(round=run.round, org_id__in=group["org_ids"])
    assert group["level"] == 5 and len(group["org_ids"]) >= 2 and group["seats_left"] >= 1
    assert len({r.total for r in tied}) == 1 and all(r.needs_decision for r in tied)
    assert not run.round.tie_decisions.exists()


def test_one_veto_event_keeps_a_branch_from_being_rated(result) -> None:  # type: ignore[no-untyped-def]
    vetoed = [r for r in Rating.objects.filter(round=result.round) if r.vetoes]

    assert len(vetoed) == 1 and vetoed[0].vetoes == [demo.VETO_KEY]
    assert vetoed[0].computed_level is None and vetoed[0].total is not None
    assert RatingFact.objects.filter(kind=FactKind.VETO, org=vetoed[0].org).exists()


def test_brand_and_award_bonuses_and_honours_count_in_the_explanation(result) -> None:  # type: ignore[no-untyped-def]
    xunsuban = Rating.objects.get(round=result.round, org__code=demo.XUNSUBAN_BRANCH)
    honoured = Rating.objects.get(round=result.round, org__code="XYD06")

    assert RatingFact.objects.filter(kind=FactKind.BONUS).count() >= 5
    assert RatingFact.objects.filter(kind=FactKind.HONOUR).count() >= 2
    assert any(line["source"] == "加分" and "旬速办" in line["description"] for line in xunsuban.explanation)
    assert honoured.score_level == 3 and honoured.computed_level == 4  # 直接定级 by the provincial honour


def test_every_branch_secretary_reports_at_one_closed_session_with_ballots(result) -> None:  # type: ignore[no-untyped-def]
    session = ReviewSession.objects.get()
    secretaries = set(
        RoleGrant.objects.filter(role=Role.SECRETARY, org__kind=OrgKind.BRANCH).values_list(
            "user_id", flat=True
        )
    )
    reporters = SessionReporter.objects.filter(session=session).annotate(votes=Count("ballots"))

    assert session.status == SessionStatus.CLOSED
    assert {r.reporter_id for r in reporters} == secretaries
    assert all(r.votes == len(demo.RATER_USERNAMES) for r in reporters)
    assert set(Ballot.objects.values_list("label", flat=True)) == {"好", "较好", "一般", "差"}


def test_review_scores_spread_the_totals_over_every_level(result) -> None:  # type: ignore[no-untyped-def]
    rated = Rating.objects.filter(round=result.round, computed_level__isnull=False)

    assert {r.computed_level for r in rated} == {1, 2, 3, 4, 5}
    assert all(r.total is not None and r.total >= 50 for r in rated)


def test_a_few_branches_declared_and_got_their_first_review(result) -> None:  # type: ignore[no-untyped-def]
    statuses = set(Rating.objects.filter(round=result.round).values_list("status", flat=True))

    assert {RatingStatus.DECLARED, RatingStatus.FIRST_REVIEWED, RatingStatus.RETURNED} <= statuses
    assert Rating.objects.filter(first_review_level__isnull=False, declared_level__isnull=False).exists()


def test_the_command_with_if_empty_skips_and_changes_nothing(result) -> None:  # type: ignore[no-untyped-def]
    def counts() -> tuple[int, ...]:
        return tuple(
            m.objects.count() for m in (RatingRound, SchemeVersion, CompileRun, Rating, RatingFact, Ballot)
        )

    before = counts()
    out = StringIO()
    call_command("load_demo_rating", "--if-empty", stdout=out)

    assert "跳过" in out.getvalue() and counts() == before

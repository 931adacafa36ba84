"""The rating workflow services: compile runs, ties, stages, objections, naming and 摘星/降星."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from branches.models import Message
from campaigns.models import Reminder
from scoring.models import (
    ChangeKind,
    CompileRun,
    FactKind,
    Rating,
    RatingFact,
    RatingStatus,
    RoundStage,
    RunStatus,
    TieDecision,
)
from scoring.services import (
    RatingRefused,
    compile_execute,
    compile_now,
    compile_request,
    latest_done_run,
    objection_record,
    objection_resolve,
    open_ties,
    rating_declare,
    rating_first_review,
    round_advance,
    star_change,
    star_history,
    tie_decide,
)
from tests.campaigns.factories import make_campaign
from tests.scoring.factories import make_round, score

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


@pytest.fixture
def campaign(tree):
    return make_campaign(tree.gw)


@pytest.fixture
def scored(tree, campaign):
    """Five branches: two tie at 95 for the one five-star seat (25% of the 4 rated)."""
    for org, points in ((tree.a1, "95"), (tree.b1, "95"), (tree.a2, "85"), (tree.ag1, "70"), (tree.d1, "50")):
        score(campaign, org, points)
    return campaign


@pytest.fixture
def rnd(scored, committee_staff):
    return make_round(scored, committee_staff)


def level_of(rnd, org):
    return Rating.objects.get(round=rnd, org=org).level


def test_compile_rates_every_branch_of_the_committee(rnd, tree, committee_staff):
    run = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    assert run.status == RunStatus.DONE
    assert run.total == 5
    assert level_of(rnd, tree.a2) == 4
    assert level_of(rnd, tree.ag1) == 3
    assert level_of(rnd, tree.d1) is None  # below 60: 未定级


def test_compile_returns_a_tie_at_the_quota_boundary_for_decision(rnd, tree, committee_staff):
    run = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    assert run.ties == 1
    assert run.tie_groups == [
        {"scope": "工委", "level": 5, "org_ids": sorted([tree.a1.pk, tree.b1.pk]), "seats_left": 1}
    ]
    a1 = Rating.objects.get(round=rnd, org=tree.a1)
    assert a1.needs_decision and a1.computed_level == 4


def test_compile_twice_on_the_same_inputs_gives_the_same_results_and_fingerprint(rnd, committee_staff):
    first = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    before = list(
        Rating.objects.filter(round=rnd).values_list("org_id", "total", "computed_level", "explanation")
    )
    second = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    after = list(
        Rating.objects.filter(round=rnd).values_list("org_id", "total", "computed_level", "explanation")
    )
    assert first.fingerprint == second.fingerprint
    assert before == after
    assert second.changed == 0
    assert Rating.objects.filter(round=rnd, run=second).count() == 5


def test_fingerprint_changes_when_an_input_changes(rnd, tree, campaign, committee_staff):
    first = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    RatingFact.objects.create(campaign=campaign, org=tree.a2, kind=FactKind.VETO, key="意识形态")
    second = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    assert first.fingerprint != second.fingerprint
    assert second.changed == 1
    a2 = Rating.objects.get(round=rnd, org=tree.a2)
    assert a2.computed_level == 3 and a2.vetoes


def test_only_one_compile_run_at_a_time_per_round(rnd, committee_staff):
    compile_request(rnd=rnd, actor=committee_staff)
    with pytest.raises(RatingRefused, match="已有计算任务"):
        compile_request(rnd=rnd, actor=committee_staff)


def test_a_stale_active_run_does_not_block_a_new_one(rnd, committee_staff):
    run = compile_request(rnd=rnd, actor=committee_staff)
    CompileRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=2))
    compile_request(rnd=rnd, actor=committee_staff)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED


def test_a_redelivered_run_is_not_executed_twice(rnd, committee_staff):
    run = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    finished = run.finished_at
    again = compile_execute(run=run, today=TODAY)
    assert again.finished_at == finished


def test_a_veto_means_no_rating(rnd, tree, campaign, committee_staff):
    RatingFact.objects.create(campaign=campaign, org=tree.a2, kind=FactKind.VETO, key="违纪违法")
    compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    a2 = Rating.objects.get(round=rnd, org=tree.a2)
    assert a2.computed_level is None
    assert any(line["source"] == "一票否决" for line in a2.explanation)


def test_branch_staff_may_not_compile(rnd, branch_secretary):
    with pytest.raises(RatingRefused):
        compile_request(rnd=rnd, actor=branch_secretary)


def test_tie_decision_gives_the_seat_and_moves_the_others_down(rnd, tree, committee_staff):
    compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    [tie] = open_ties(rnd, latest_done_run(rnd))
    tie_decide(
        rnd=rnd,
        level=5,
        scope=tie.scope,
        chosen=[tree.b1.pk],
        reason="工委会议研究决定",
        actor=committee_staff,
    )
    run = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    assert run.ties == 0
    assert level_of(rnd, tree.b1) == 5
    assert level_of(rnd, tree.a1) == 4
    assert Rating.objects.get(round=rnd, org=tree.a1).quota_decision == "decided"


def test_tie_decision_cannot_give_more_seats_than_are_left(rnd, tree, committee_staff):
    compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    with pytest.raises(RatingRefused, match="剩余名额只有 1 个"):
        tie_decide(
            rnd=rnd, level=5, scope="工委", chosen=[tree.a1.pk, tree.b1.pk], reason="x", actor=committee_staff
        )


def test_a_decision_lapses_when_the_tie_no_longer_exists(rnd, tree, campaign, committee_staff):
    compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    tie_decide(rnd=rnd, level=5, scope="工委", chosen=[tree.a1.pk], reason="会议决定", actor=committee_staff)
    score(campaign, tree.b1, "1")  # b1 now leads alone: no tie
    run = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    assert run.ties == 0
    assert set(run.dropped_decisions) == {tree.a1.pk, tree.b1.pk}
    assert not TieDecision.objects.filter(round=rnd, is_void=False).exists()
    assert level_of(rnd, tree.b1) == 5


def test_publicity_is_refused_while_a_tie_waits(rnd, committee_staff):
    compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    for stage in (RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW):
        rnd = round_advance(rnd=rnd, to_stage=stage, actor=committee_staff, expected_version=rnd.version)
    with pytest.raises(RatingRefused, match="并列"):
        round_advance(
            rnd=rnd, to_stage=RoundStage.PUBLICITY, actor=committee_staff, expected_version=rnd.version
        )


def test_publicity_is_refused_when_results_are_out_of_date(rnd, tree, campaign, committee_staff):
    compile_now(rnd=rnd, actor=committee_staff)
    tie_decide(rnd=rnd, level=5, scope="工委", chosen=[tree.a1.pk], reason="会议决定", actor=committee_staff)
    for stage in (RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW):
        rnd = round_advance(rnd=rnd, to_stage=stage, actor=committee_staff, expected_version=rnd.version)
    with pytest.raises(RatingRefused, match="重新计算"):
        round_advance(
            rnd=rnd, to_stage=RoundStage.PUBLICITY, actor=committee_staff, expected_version=rnd.version
        )


def _to_publicity(rnd, tree, staff, start=None):
    compile_now(rnd=rnd, actor=staff)
    tie_decide(rnd=rnd, level=5, scope="工委", chosen=[tree.a1.pk], reason="会议决定", actor=staff)
    compile_now(rnd=rnd, actor=staff)
    for stage in (RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW):
        rnd = round_advance(rnd=rnd, to_stage=stage, actor=staff, expected_version=rnd.version)
    return round_advance(
        rnd=rnd,
        to_stage=RoundStage.PUBLICITY,
        actor=staff,
        expected_version=rnd.version,
        publicity_starts_on=start,
    )


def test_publicity_notifies_each_branch_secretary_through_the_reminder_rules(
    rnd, tree, committee_staff, branch_secretary, outsider_secretary, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rnd = _to_publicity(rnd, tree, committee_staff)
    assert rnd.publicity_ends_on == rnd.publicity_starts_on + timedelta(days=4)
    for secretary in (branch_secretary, outsider_secretary):
        assert Message.objects.filter(recipient=secretary, title__contains="公示").count() == 1
        assert Reminder.objects.filter(recipient=secretary, item_key=f"publicity:{rnd.pk}").count() == 1


def test_naming_waits_for_the_end_of_publicity(rnd, tree, committee_staff):
    rnd = _to_publicity(rnd, tree, committee_staff)
    with pytest.raises(RatingRefused, match="期满后"):
        round_advance(
            rnd=rnd,
            to_stage=RoundStage.NAMED,
            actor=committee_staff,
            expected_version=rnd.version,
            naming_document="旬直工委〔2026〕1号",
        )


def test_naming_waits_for_open_objections_and_an_upheld_one_changes_the_level(rnd, tree, committee_staff):
    rnd = _to_publicity(rnd, tree, committee_staff, start=timezone.localdate() - timedelta(days=10))
    a2 = Rating.objects.get(round=rnd, org=tree.a2)
    objection = objection_record(
        rating=a2,
        actor=committee_staff,
        raised_by_name="群众来信",
        contact="",
        received_on=rnd.publicity_starts_on,
        content="佐证材料不实",
    )
    with pytest.raises(RatingRefused, match="异议"):
        round_advance(
            rnd=rnd,
            to_stage=RoundStage.NAMED,
            actor=committee_staff,
            expected_version=rnd.version,
            naming_document="文号",
        )
    objection_resolve(
        objection=objection, actor=committee_staff, upheld=True, resolution="经核实部分属实", level_after=3
    )
    rnd = round_advance(
        rnd=rnd,
        to_stage=RoundStage.NAMED,
        actor=committee_staff,
        expected_version=rnd.version,
        naming_document="旬直工委〔2026〕12号",
    )
    a2.refresh_from_db()
    assert (a2.level, a2.named_level, a2.current_level) == (3, 3, 3)
    assert rnd.stage == RoundStage.NAMED


def test_named_results_are_not_recompiled(rnd, tree, committee_staff):
    rnd = _to_publicity(rnd, tree, committee_staff, start=timezone.localdate() - timedelta(days=10))
    rnd = round_advance(
        rnd=rnd,
        to_stage=RoundStage.NAMED,
        actor=committee_staff,
        expected_version=rnd.version,
        naming_document="文号",
    )
    with pytest.raises(RatingRefused, match="已命名"):
        compile_request(rnd=rnd, actor=committee_staff)


def test_star_revoked_on_a_veto_event_is_recorded_and_shown_in_history(rnd, tree, committee_staff):
    rnd = _to_publicity(rnd, tree, committee_staff, start=timezone.localdate() - timedelta(days=10))
    rnd = round_advance(
        rnd=rnd,
        to_stage=RoundStage.NAMED,
        actor=committee_staff,
        expected_version=rnd.version,
        naming_document="文号",
    )
    a1 = Rating.objects.get(round=rnd, org=tree.a1)
    change = star_change(
        rating=a1,
        actor=committee_staff,
        kind=ChangeKind.REVOKE,
        to_level=None,
        veto_key="违纪违法",
        reason="支部书记受到党内严重警告处分",
        decision_document="旬直工委〔2027〕3号",
        decided_on=date(2027, 3, 1),
    )
    a1.refresh_from_db()
    assert (change.from_level, a1.current_level, a1.named_level) == (5, None, 5)
    [row] = star_history(tree.a1)
    assert row.trend == "摘星"


def test_declaration_and_first_review_return_to_the_branch(rnd, tree, branch_secretary, agency_staff):
    rating = rating_declare(
        rnd=rnd, org=tree.a1, level=5, declaration="全年任务全部完成", actor=branch_secretary
    )
    assert rating.status == RatingStatus.DECLARED
    rating = rating_first_review(
        rating=rating,
        actor=agency_staff,
        agree=False,
        level=None,
        note="佐证不全",
        expected_version=rating.version,
    )
    assert rating.status == RatingStatus.RETURNED
    assert Message.objects.filter(recipient=branch_secretary, title__contains="退回").exists()
    rating = rating_declare(rnd=rnd, org=tree.a1, level=4, declaration="补充佐证", actor=branch_secretary)
    rating = rating_first_review(
        rating=rating, actor=agency_staff, agree=True, level=4, note="同意", expected_version=rating.version
    )
    assert (rating.status, rating.first_review_level) == (RatingStatus.FIRST_REVIEWED, 4)


def test_a_secretary_cannot_declare_for_another_branch(rnd, tree, outsider_secretary):
    with pytest.raises(RatingRefused):
        rating_declare(rnd=rnd, org=tree.a1, level=5, declaration="x", actor=outsider_secretary)


def test_first_review_needs_a_unit_above_the_branch(rnd, tree, branch_secretary, outsider_secretary):
    rating = rating_declare(rnd=rnd, org=tree.a1, level=5, declaration="x", actor=branch_secretary)
    with pytest.raises(RatingRefused):
        rating_first_review(
            rating=rating,
            actor=outsider_secretary,
            agree=True,
            level=5,
            note="",
            expected_version=rating.version,
        )


def test_history_shows_promotion_across_years(tree, committee_staff):
    from tests.campaigns.factories import make_campaign as mk

    levels = []
    for year, points in ((2025, "85"), (2026, "95")):
        campaign = mk(tree.gw, year=year)
        score(campaign, tree.a1, points)
        rnd = make_round(campaign, committee_staff, quotas={})
        compile_now(rnd=rnd, actor=committee_staff, today=date(year, 12, 1))
        for stage in (RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW):
            rnd = round_advance(rnd=rnd, to_stage=stage, actor=committee_staff, expected_version=rnd.version)
        rnd = round_advance(
            rnd=rnd,
            to_stage=RoundStage.PUBLICITY,
            actor=committee_staff,
            expected_version=rnd.version,
            publicity_starts_on=timezone.localdate() - timedelta(days=10),
        )
        round_advance(
            rnd=rnd,
            to_stage=RoundStage.NAMED,
            actor=committee_staff,
            expected_version=rnd.version,
            naming_document=f"{year}号",
        )
        levels.append(Rating.objects.get(round=rnd, org=tree.a1).last_year_level)
    rows = star_history(tree.a1)
    assert [(r.year, r.trend) for r in rows] == [(2025, "首次定级"), (2026, "升星")]
    assert levels == [None, 4]


def test_a_joint_meeting_scheme_rates_the_agency_committees(tree, campaign, committee_staff):
    """模范机关建设先进单位: the scheme applies to 机关党委, decided at the 联席会议."""
    score(campaign, tree.a, "92")
    score(campaign, tree.b, "78")
    rnd = make_round(
        campaign,
        committee_staff,
        name="2026年度模范机关建设先进单位评定",
        applies_to="agency_committee",
        decision_step="joint_meeting",
        quotas={},
    )
    run = compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    assert run.total == 2
    assert dict(Rating.objects.filter(round=rnd).values_list("org__code", "computed_level")) == {
        "A": 5,
        "B": 3,
    }


def test_workbench_counts_declarations_waiting_for_first_review(
    rnd, tree, branch_secretary, agency_staff, login
):
    from django.urls import reverse

    rating_declare(rnd=rnd, org=tree.a1, level=4, declaration="全年任务全部完成", actor=branch_secretary)
    response = login(agency_staff).get(reverse("home"))
    assert response.context["staff"]["ratings_to_review"] == 1
    assert response.context["staff"]["rating_ties"] == 0


def test_workbench_tells_committee_staff_of_a_tie_to_decide(rnd, committee_staff, login):
    from django.urls import reverse

    compile_now(rnd=rnd, actor=committee_staff, today=TODAY)
    response = login(committee_staff).get(reverse("home"))
    assert response.context["staff"]["rating_ties"] == 1
    assert "评星名额并列待决定" in response.text

"""The staff pages of a rating round: landing page, round page, compile runs, ties, stages, facts
and the 初审 queue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import AuditAction, AuditEvent, OrgKind
from scoring import services
from scoring.facts import fact_create, fact_delete, fact_key_options
from scoring.models import (
    CompileRun,
    FactKind,
    Rating,
    RatingFact,
    RatingRound,
    RatingStatus,
    RoundStage,
    RunStatus,
    TieDecision,
)
from scoring.services import (
    RatingRefused,
    compile_now,
    compile_request,
    rating_declare,
    rating_first_review,
    round_advance,
    tie_decide,
)
from tests.campaigns.factories import make_campaign
from tests.factories import make_org
from tests.scoring.factories import make_round, make_scheme, score

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(tree):
    return make_campaign(tree.gw)


@pytest.fixture
def scored(tree, campaign):
    """Five branches: A1 and B1 tie at 95 for the one five-star seat (25% of the 4 rated)."""
    for org, points in ((tree.a1, "95"), (tree.b1, "95"), (tree.a2, "85"), (tree.ag1, "70"), (tree.d1, "50")):
        score(campaign, org, points)
    return campaign


@pytest.fixture
def rnd(scored, committee_staff):
    return make_round(scored, committee_staff)


@pytest.fixture
def compiled(rnd, committee_staff):
    compile_now(rnd=rnd, actor=committee_staff)
    return rnd


@pytest.fixture
def untied(scored, committee_staff):
    """A round without quotas: nothing waits for a decision, so stages can move on."""
    rnd = make_round(scored, committee_staff, quotas={})
    compile_now(rnd=rnd, actor=committee_staff)
    return rnd


def round_url(rnd, name="scoring:round"):
    return reverse(name, args=[rnd.pk])


def rating_of(rnd, org):
    return Rating.objects.get(round=rnd, org=org)


def shown_orgs(response):
    return [row.rating.org.code for row in response.context["rows"]]


# --- landing page ------------------------------------------------------------------------------


def test_home_lists_rounds_newest_year_first_with_stage_and_scheme(tree, rnd, committee_staff, login):
    older = make_round(make_campaign(tree.gw, year=2025), committee_staff)
    response = login(committee_staff).get(reverse("scoring:home"))
    assert [r.pk for r, _ in response.context["rounds"]] == [rnd.pk, older.pk]
    assert "测试评星方案（第 1 版）" in response.text
    assert "自评申报" in response.text


def test_home_offers_committee_staff_the_campaigns_schemes_to_start_a_round(tree, committee_staff, login):
    campaign = make_campaign(tree.gw, year=2027)
    version = make_scheme(campaign, committee_staff)
    response = login(committee_staff).get(reverse("scoring:home"))
    (start,) = [s for s in response.context["starts"] if s["campaign"] == campaign]
    assert start["schemes"] == [version]
    assert reverse("scoring:round_create") in response.text


def test_home_says_when_a_campaign_has_no_scheme_and_links_to_the_schemes(campaign, committee_staff, login):
    response = login(committee_staff).get(reverse("scoring:home"))
    assert "尚未制定评星方案" in response.text
    assert response.context["schemes_url"] in response.text


def test_home_does_not_offer_a_scheme_whose_kind_already_has_a_round(rnd, committee_staff, login):
    response = login(committee_staff).get(reverse("scoring:home"))
    (start,) = response.context["starts"]
    assert start["schemes"] == []


def test_home_offers_no_start_form_to_agency_staff(rnd, agency_staff, login):
    response = login(agency_staff).get(reverse("scoring:home"))
    assert response.context["starts"] == []
    assert reverse("scoring:round_create") not in response.text
    assert round_url(rnd) in response.text


def test_home_shows_a_branch_secretary_the_declare_link_before_declaring(rnd, tree, branch_secretary, login):
    response = login(branch_secretary).get(reverse("scoring:home"))
    (row,) = response.context["own"]
    assert row["org"] == tree.a1 and row["rating"] is None
    assert row["url"] == reverse("scoring:rating_declare", kwargs={"round_pk": rnd.pk, "org_pk": tree.a1.pk})
    assert 'data-testid="declare-link"' in response.text


def test_home_links_a_branch_secretary_to_the_rating_once_it_exists(rnd, tree, branch_secretary, login):
    rating = rating_declare(rnd=rnd, org=tree.a1, level=4, declaration="理由", actor=branch_secretary)
    response = login(branch_secretary).get(reverse("scoring:home"))
    (row,) = response.context["own"]
    assert row["url"] == reverse("scoring:rating", args=[rating.pk])


def test_home_hides_the_proposed_level_from_a_branch_before_publicity(compiled, branch_secretary, login):
    response = login(branch_secretary).get(reverse("scoring:home"))
    (row,) = response.context["own"]
    assert row["rating"] is not None
    assert row["level"] is None


def test_home_offers_no_declare_link_after_first_review(rnd, tree, branch_secretary, committee_staff, login):
    for stage in (RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW):
        rnd = round_advance(rnd=rnd, to_stage=stage, actor=committee_staff, expected_version=rnd.version)
    response = login(branch_secretary).get(reverse("scoring:home"))
    (row,) = response.context["own"]
    assert row["url"] is None


# --- starting a round --------------------------------------------------------------------------


def test_committee_staff_start_a_round_and_land_on_its_page(campaign, committee_staff, login):
    version = make_scheme(campaign, committee_staff)
    response = login(committee_staff).post(
        reverse("scoring:round_create"), {"campaign": campaign.pk, "scheme": version.pk, "title": ""}
    )
    rnd = RatingRound.objects.get(campaign=campaign)
    assert response.status_code == 302 and response["Location"] == round_url(rnd)
    assert rnd.scheme == version and rnd.title == "2026年度党支部达标创星"


def test_agency_staff_cannot_start_a_round(campaign, committee_staff, agency_staff, login):
    version = make_scheme(campaign, committee_staff)
    response = login(agency_staff).post(
        reverse("scoring:round_create"), {"campaign": campaign.pk, "scheme": version.pk}
    )
    assert response.status_code == 403
    assert not RatingRound.objects.exists()


def test_a_second_round_of_the_same_kind_is_refused_with_a_message(rnd, committee_staff, login):
    response = login(committee_staff).post(
        reverse("scoring:round_create"), {"campaign": rnd.campaign_id, "scheme": rnd.scheme_id}, follow=True
    )
    assert "本活动已有该类组织的评星" in response.text
    assert RatingRound.objects.count() == 1


def test_a_scheme_of_another_campaign_cannot_start_a_round(tree, campaign, committee_staff, login):
    foreign = make_scheme(make_campaign(tree.gw, year=2025), committee_staff)
    response = login(committee_staff).post(
        reverse("scoring:round_create"), {"campaign": campaign.pk, "scheme": foreign.pk}, follow=True
    )
    assert "方案不属于本活动" in response.text
    assert not RatingRound.objects.filter(campaign=campaign).exists()


# --- the round page ----------------------------------------------------------------------------


def test_round_page_shows_the_stepper_at_the_current_stage(rnd, committee_staff, login):
    response = login(committee_staff).get(round_url(rnd))
    steps = response.context["stepper"]
    assert [s["label"] for s in steps] == ["自评申报", "初审", "工委审核", "复核", "公示", "已命名"]
    assert [s["state"] for s in steps[:2]] == ["current", "todo"]


def test_joint_meeting_scheme_names_the_decision_step(scored, committee_staff, login):
    rnd = make_round(scored, committee_staff, decision_step="joint_meeting")
    response = login(committee_staff).get(round_url(rnd))
    assert [s["label"] for s in response.context["stepper"]][2] == "联席会议评估认定"


def test_round_page_lists_each_rating_with_its_labels(compiled, tree, committee_staff, login):
    response = login(committee_staff).get(round_url(compiled))
    rows = {row.rating.org.code: row for row in response.context["rows"]}
    assert set(rows) == {"A1", "A2", "AG1", "B1", "D1"}
    assert rows["A2"].level == "四星级"
    assert rows["D1"].level == "未定级"
    assert rows["A1"].quota == "名额边界并列，待决定"
    assert reverse("scoring:rating", args=[rows["A1"].rating.pk]) in response.text


def test_round_page_shows_vetoes_and_the_declared_level(compiled, tree, campaign, committee_staff, login):
    RatingFact.objects.create(campaign=campaign, org=tree.a2, kind=FactKind.VETO, key="意识形态")
    Rating.objects.filter(round=compiled, org=tree.a2).update(declared_level=5, vetoes=["意识形态"])
    response = login(committee_staff).get(round_url(compiled), {"veto": "1"})
    (row,) = response.context["rows"]
    assert row.vetoes == "意识形态"
    assert row.declared == "五星级"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"level": "4"}, ["A1", "A2", "B1"]),
        ({"level": "none"}, ["D1"]),
        ({"tie": "1"}, ["A1", "B1"]),
        ({"veto": "1"}, []),
    ],
)
def test_round_page_filters_ratings(compiled, committee_staff, login, query, expected):
    response = login(committee_staff).get(round_url(compiled), query)
    assert sorted(shown_orgs(response)) == expected


def test_round_page_filters_by_parent_organisation(compiled, tree, committee_staff, login):
    response = login(committee_staff).get(round_url(compiled), {"parent": tree.a.pk})
    assert sorted(shown_orgs(response)) == ["A1", "A2"]
    assert tree.b in response.context["parents"]


def test_round_page_shows_fifty_ratings_per_page(rnd, tree, committee_staff, login):
    orgs = [make_org(OrgKind.BRANCH, tree.d1.parent, name=f"测试党支部{i:02d}") for i in range(51)]
    Rating.objects.bulk_create([Rating(round=rnd, org=o) for o in orgs])
    response = login(committee_staff).get(round_url(rnd))
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.num_pages == 2


def test_round_page_shows_the_distribution_against_quotas_and_flags_a_shortfall(
    scored, committee_staff, login
):
    rnd = make_round(scored, committee_staff, quotas={"3": {"min": "0.5"}})
    compile_now(rnd=rnd, actor=committee_staff)
    response = login(committee_staff).get(round_url(rnd))
    three = next(d for d in response.context["distribution"] if d["level"] == 3)
    assert three["count"] == 1 and three["min"] == 2
    assert three["under"] and not three["over"]
    assert "低于下限" in response.text


def test_round_page_lists_the_open_ties_with_a_link_to_decide(compiled, committee_staff, login):
    response = login(committee_staff).get(round_url(compiled))
    (tie,) = response.context["ties"]
    assert tie.seats_left == 1
    assert round_url(compiled, "scoring:round_ties") in response.text


def test_round_page_says_when_results_are_current(untied, committee_staff, login):
    response = login(committee_staff).get(round_url(untied))
    assert response.context["results_current"] is True
    assert 'data-testid="results-current"' in response.text


def test_round_page_says_results_are_stale_after_a_fact_changes(
    compiled, tree, campaign, committee_staff, login
):
    RatingFact.objects.create(campaign=campaign, org=tree.a2, kind=FactKind.VETO, key="意识形态")
    response = login(committee_staff).get(round_url(compiled))
    assert response.context["results_current"] is False
    assert "请重新计算" in response.text


def test_round_page_links_the_latest_run(compiled, committee_staff, login):
    run = CompileRun.objects.get(round=compiled)
    response = login(committee_staff).get(round_url(compiled))
    assert response.context["latest_run"] == run
    assert reverse("scoring:run", args=[run.pk]) in response.text


def test_round_page_offers_committee_staff_the_next_stages(compiled, committee_staff, login):
    response = login(committee_staff).get(round_url(compiled))
    assert [a["stage"] for a in response.context["advances"]] == ["first_review"]
    assert round_url(compiled, "scoring:round_compile") in response.text


def test_round_page_offers_publicity_with_a_start_date_and_optional_recheck(untied, committee_staff, login):
    for stage in (RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW):
        untied = round_advance(
            rnd=untied, to_stage=stage, actor=committee_staff, expected_version=untied.version
        )
    response = login(committee_staff).get(round_url(untied))
    assert [a["stage"] for a in response.context["advances"]] == ["recheck", "publicity"]
    assert 'name="publicity_starts_on"' in response.text


def test_agency_staff_see_only_their_subtree_and_no_actions(compiled, agency_staff, login):
    response = login(agency_staff).get(round_url(compiled))
    assert sorted(shown_orgs(response)) == ["A1", "A2", "AG1"]
    assert response.context["can_manage"] is False
    assert round_url(compiled, "scoring:round_compile") not in response.text
    assert round_url(compiled, "scoring:round_advance") not in response.text
    assert "distribution" not in response.context


def test_branch_secretary_cannot_open_the_round_page(compiled, branch_secretary, login):
    assert login(branch_secretary).get(round_url(compiled)).status_code == 403


def test_a_round_that_does_not_exist_is_404_and_recorded(rnd, committee_staff, login):
    # One 工委 per system: every round is in a 工委 staff member's scope, so only a missing one 404s.
    response = login(committee_staff).get(reverse("scoring:round", args=[rnd.pk + 999]))
    assert response.status_code == 404
    event = AuditEvent.objects.filter(action=AuditAction.DENIED).latest("id")
    assert event.detail["object"] == "RatingRound"


def test_round_page_query_count_does_not_grow_with_ratings(
    compiled, committee_staff, login, django_assert_max_num_queries
):
    client = login(committee_staff)
    with CaptureQueriesContext(connection) as five:
        assert client.get(round_url(compiled)).status_code == 200
    Rating.objects.filter(round=compiled).exclude(org__code="A1").delete()
    with CaptureQueriesContext(connection) as one:
        client.get(round_url(compiled))
    assert len(five) <= len(one), [q["sql"] for q in five.captured_queries]
    with django_assert_max_num_queries(len(one)):
        client.get(round_url(compiled), {"level": "4"})


# --- compile and runs --------------------------------------------------------------------------


def test_compile_runs_the_job_and_redirects_to_the_run_page(
    rnd, committee_staff, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(committee_staff).post(round_url(rnd, "scoring:round_compile"))
    run = CompileRun.objects.get(round=rnd)
    assert response["Location"] == reverse("scoring:run", args=[run.pk])
    assert run.status == RunStatus.DONE and run.total == 5


def test_compile_while_a_run_is_active_is_refused_with_a_message(rnd, committee_staff, login):
    compile_request(rnd=rnd, actor=committee_staff)
    response = login(committee_staff).post(round_url(rnd, "scoring:round_compile"), follow=True)
    assert "已有计算任务在进行中" in response.text
    assert CompileRun.objects.filter(round=rnd).count() == 1


def test_agency_staff_cannot_compile(rnd, agency_staff, login):
    assert login(agency_staff).post(round_url(rnd, "scoring:round_compile")).status_code == 403
    assert not CompileRun.objects.exists()


def test_run_page_polls_while_the_run_is_queued(rnd, committee_staff, login):
    run = compile_request(rnd=rnd, actor=committee_staff)
    response = login(committee_staff).get(reverse("scoring:run", args=[run.pk]))
    assert response.context["polling"] is True
    assert 'hx-trigger="every 1s"' in response.text
    assert "排队中" in response.text


def test_run_page_shows_counts_and_stops_polling_when_done(compiled, committee_staff, login):
    run = CompileRun.objects.get(round=compiled)
    response = login(committee_staff).get(reverse("scoring:run", args=[run.pk]))
    assert response.context["polling"] is False
    assert "hx-get" not in response.text
    assert "5 个" in response.text and "1 组" in response.text


def test_run_page_answers_htmx_with_the_progress_fragment_only(compiled, committee_staff, login):
    run = CompileRun.objects.get(round=compiled)
    response = login(committee_staff).get(
        reverse("scoring:run", args=[run.pk]), headers={"HX-Request": "true"}
    )
    assert response.text.lstrip().startswith('<div id="run-progress"')
    assert "<nav" not in response.text


def test_run_page_shows_the_error_of_a_failed_run_and_dropped_decisions(rnd, tree, committee_staff, login):
    run = CompileRun.objects.create(
        round=rnd,
        scheme=rnd.scheme,
        status=RunStatus.FAILED,
        error="数据库忙",
        dropped_decisions=[tree.a1.pk],
    )
    response = login(committee_staff).get(reverse("scoring:run", args=[run.pk]))
    assert "计算失败：数据库忙" in response.text
    assert tree.a1.name in response.text


def test_agency_staff_cannot_see_a_run(compiled, agency_staff, login):
    run = CompileRun.objects.get(round=compiled)
    assert login(agency_staff).get(reverse("scoring:run", args=[run.pk])).status_code == 403


def test_a_run_that_does_not_exist_is_404(compiled, committee_staff, login):
    run = CompileRun.objects.get(round=compiled)
    assert login(committee_staff).get(reverse("scoring:run", args=[run.pk + 999])).status_code == 404


# --- ties --------------------------------------------------------------------------------------


def test_ties_page_lists_the_tied_organisations_and_the_seats_left(compiled, tree, committee_staff, login):
    response = login(committee_staff).get(round_url(compiled, "scoring:round_ties"))
    (group,) = response.context["groups"]
    assert {r.org for r in group["tie"].ratings} == {tree.a1, tree.b1}
    assert group["tie"].seats_left == 1
    assert "最多选 1 个" in response.text
    assert tree.b.name in response.text  # the parent organisation


def test_deciding_a_tie_records_it_and_recompiles(
    compiled, tree, committee_staff, login, django_capture_on_commit_callbacks
):
    data = {"level": 5, "scope": "工委", "org": [tree.a1.pk], "reason": "工委会议纪要第3号"}
    with django_capture_on_commit_callbacks(execute=True):
        response = login(committee_staff).post(round_url(compiled, "scoring:round_ties"), data)
    run = CompileRun.objects.filter(round=compiled).order_by("-id").first()
    assert response["Location"] == reverse("scoring:run", args=[run.pk])
    assert rating_of(compiled, tree.a1).level == 5
    assert rating_of(compiled, tree.b1).level == 4
    assert TieDecision.objects.filter(round=compiled, is_void=False).count() == 2


def test_choosing_more_organisations_than_seats_is_refused_on_the_page(
    compiled, tree, committee_staff, login
):
    data = {"level": 5, "scope": "工委", "org": [tree.a1.pk, tree.b1.pk], "reason": "会议纪要"}
    response = login(committee_staff).post(round_url(compiled, "scoring:round_ties"), data)
    assert response.status_code == 200
    assert "剩余名额只有 1 个" in response.text
    assert not TieDecision.objects.exists()


def test_a_tie_decision_needs_a_reason(compiled, tree, committee_staff, login):
    data = {"level": 5, "scope": "工委", "org": [tree.a1.pk], "reason": ""}
    response = login(committee_staff).post(round_url(compiled, "scoring:round_ties"), data)
    assert "请填写决定理由" in response.text
    assert f'value="{tree.a1.pk}" checked' in response.text  # the choice is kept
    assert not TieDecision.objects.exists()


def test_deciding_a_tie_that_no_longer_exists_says_so(compiled, tree, committee_staff, login):
    data = {"level": 3, "scope": "工委", "org": [tree.ag1.pk], "reason": "纪要"}
    response = login(committee_staff).post(round_url(compiled, "scoring:round_ties"), data)
    assert "该并列已不存在" in response.text
    assert not TieDecision.objects.exists()


def test_recorded_tie_decisions_are_listed_with_who_and_why(compiled, tree, committee_staff, login):
    tie_decide(
        rnd=compiled, level=5, scope="工委", chosen=[tree.b1.pk], reason="纪要第9号", actor=committee_staff
    )
    response = login(committee_staff).get(round_url(compiled, "scoring:round_ties"))
    assert len(response.context["decisions"]) == 2
    assert "纪要第9号" in response.text and committee_staff.display_name in response.text


def test_agency_staff_cannot_decide_a_tie(compiled, tree, agency_staff, login):
    data = {"level": 5, "scope": "工委", "org": [tree.a1.pk], "reason": "纪要"}
    assert login(agency_staff).post(round_url(compiled, "scoring:round_ties"), data).status_code == 403
    assert not TieDecision.objects.exists()


# --- stages and scheme adoption ----------------------------------------------------------------


def advance(client, rnd, to_stage, **fields):
    data = {"to_stage": to_stage, "version": RatingRound.objects.get(pk=rnd.pk).version, **fields}
    return client.post(round_url(rnd, "scoring:round_advance"), data, follow=True)


def test_advancing_moves_the_round_to_the_next_stage(rnd, committee_staff, login):
    response = advance(login(committee_staff), rnd, "first_review")
    rnd.refresh_from_db()
    assert rnd.stage == RoundStage.FIRST_REVIEW
    assert "已进入“初审”阶段" in response.text


def test_advancing_with_a_stale_version_is_refused(rnd, committee_staff, login):
    data = {"to_stage": "first_review", "version": rnd.version + 5}
    response = login(committee_staff).post(round_url(rnd, "scoring:round_advance"), data, follow=True)
    assert "已被他人更新" in response.text
    rnd.refresh_from_db()
    assert rnd.stage == RoundStage.DECLARING


def test_publicity_is_refused_while_a_tie_waits_for_decision(compiled, committee_staff, login):
    client = login(committee_staff)
    advance(client, compiled, "first_review")
    advance(client, compiled, "committee_review")
    response = advance(client, compiled, "publicity")
    assert "还有名额边界并列待决定" in response.text
    compiled.refresh_from_db()
    assert compiled.stage == RoundStage.COMMITTEE_REVIEW


def test_publicity_may_start_earlier_and_naming_needs_a_document(untied, committee_staff, login):
    client = login(committee_staff)
    advance(client, untied, "first_review")
    advance(client, untied, "committee_review")
    start = timezone.localdate() - timedelta(days=30)
    advance(client, untied, "publicity", publicity_starts_on=start.isoformat())
    untied.refresh_from_db()
    assert untied.stage == RoundStage.PUBLICITY and untied.publicity_starts_on == start
    response = advance(client, untied, "named", naming_document="", named_on=timezone.localdate().isoformat())
    assert "请填写命名文号" in response.text
    advance(client, untied, "named", naming_document="旬直工委发〔2026〕5号", named_on=start.isoformat())
    untied.refresh_from_db()
    assert untied.stage == RoundStage.NAMED and untied.naming_document == "旬直工委发〔2026〕5号"


def test_an_invalid_date_is_refused_with_a_message(rnd, committee_staff, login):
    response = advance(login(committee_staff), rnd, "first_review", publicity_starts_on="明天")
    assert "请检查日期" in response.text
    rnd.refresh_from_db()
    assert rnd.stage == RoundStage.DECLARING


def test_agency_staff_cannot_advance_a_round(rnd, agency_staff, login):
    response = login(agency_staff).post(
        round_url(rnd, "scoring:round_advance"), {"to_stage": "first_review", "version": rnd.version}
    )
    assert response.status_code == 403


def test_adopting_another_version_switches_the_scheme_and_voids_tie_decisions(
    compiled, tree, campaign, committee_staff, login
):
    tie_decide(rnd=compiled, level=5, scope="工委", chosen=[tree.a1.pk], reason="纪要", actor=committee_staff)
    newer = make_scheme(campaign, committee_staff, name="修订后的方案")
    page = login(committee_staff).get(round_url(compiled))
    assert newer in page.context["adoptable"]
    response = login(committee_staff).post(
        round_url(compiled, "scoring:round_adopt"), {"scheme": newer.pk}, follow=True
    )
    compiled.refresh_from_db()
    assert compiled.scheme == newer
    assert not TieDecision.objects.filter(is_void=False).exists()
    assert "请重新计算" in response.text


def test_a_version_of_another_campaign_cannot_be_adopted(rnd, tree, committee_staff, login):
    foreign = make_scheme(make_campaign(tree.gw, year=2025), committee_staff, name="别的方案")
    response = login(committee_staff).post(
        round_url(rnd, "scoring:round_adopt"), {"scheme": foreign.pk}, follow=True
    )
    assert "请选择本活动的方案版本" in response.text
    rnd.refresh_from_db()
    assert rnd.scheme != foreign


def test_adopting_after_publicity_is_refused(untied, campaign, committee_staff, login):
    for stage in (RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW, RoundStage.PUBLICITY):
        untied = round_advance(
            rnd=untied, to_stage=stage, actor=committee_staff, expected_version=untied.version
        )
    newer = make_scheme(campaign, committee_staff, name="公示后的方案")
    response = login(committee_staff).post(
        round_url(untied, "scoring:round_adopt"), {"scheme": newer.pk}, follow=True
    )
    assert "公示开始后不能更换方案" in response.text


# --- facts -------------------------------------------------------------------------------------


def post_fact(client, rnd, **fields):
    data = {"kind": "veto", "key": "", "value": "", "description": "", **fields}
    return client.post(round_url(rnd, "scoring:round_facts"), data)


def test_facts_page_lists_the_facts_and_the_keys_the_scheme_defines(
    rnd, tree, campaign, committee_staff, login
):
    RatingFact.objects.create(
        campaign=campaign,
        org=tree.a1,
        kind=FactKind.BONUS,
        key="创新项目",
        value=Decimal(2),
        entered_by=committee_staff,
    )
    response = login(committee_staff).get(round_url(rnd, "scoring:round_facts"))
    assert [f.org for f in response.context["page"].object_list] == [tree.a1]
    assert "创新项目" in response.text
    assert "班子成员发生严重违纪违法问题" in response.text  # the scheme's veto, offered as a key


def test_staff_add_a_veto_fact(rnd, tree, committee_staff, login):
    response = post_fact(login(committee_staff), rnd, org=tree.a2.pk, key="意识形态", description="通报")
    assert response.status_code == 302
    fact = RatingFact.objects.get()
    assert (fact.org, fact.kind, fact.key, fact.entered_by) == (tree.a2, "veto", "意识形态", committee_staff)
    assert AuditEvent.objects.filter(action=AuditAction.RATING, detail__step="rating_fact_create").exists()


def test_a_veto_must_be_one_the_scheme_lists(rnd, tree, committee_staff, login):
    response = post_fact(login(committee_staff), rnd, org=tree.a2.pk, key="迟到")
    assert "否决情形须是方案列出的情形之一" in response.text
    assert not RatingFact.objects.exists()


def test_a_bonus_needs_points_above_zero(rnd, tree, committee_staff, login):
    response = post_fact(login(committee_staff), rnd, org=tree.a2.pk, kind="bonus", key="创新项目", value="0")
    assert "加分须大于 0" in response.text
    assert not RatingFact.objects.exists()


@pytest.mark.parametrize("value", ["-1", "100.5"])
def test_satisfaction_is_a_percentage(rnd, tree, committee_staff, login, value):
    response = post_fact(login(committee_staff), rnd, org=tree.a2.pk, kind="satisfaction", value=value)
    assert "满意度须在 0 到 100 之间" in response.text
    assert not RatingFact.objects.exists()


def test_satisfaction_is_stored_without_a_key(rnd, tree, committee_staff, login):
    post_fact(login(committee_staff), rnd, org=tree.a2.pk, kind="satisfaction", key="随便", value="85")
    fact = RatingFact.objects.get()
    assert fact.key == "" and fact.value == Decimal(85)


def test_last_year_level_must_be_a_level_of_the_scheme(rnd, tree, committee_staff, login):
    response = post_fact(login(committee_staff), rnd, org=tree.a2.pk, kind="last_year", value="7")
    assert "上年星级不在方案的等级内" in response.text
    post_fact(login(committee_staff), rnd, org=tree.a2.pk, kind="last_year", value="4")
    assert RatingFact.objects.get().value == Decimal(4)


def test_scheme_keys_are_offered_per_kind(scored, committee_staff):
    rnd = make_round(
        scored,
        committee_staff,
        prerequisites=[{"level": 5, "conditions": ["创新项目"], "cap_at_level": 4}],
        promotion={"skip_honours": ["省级先进"], "direct_rating": [{"honour": "全国先进", "level": 5}]},
        score={"bonus": {"items": [{"kind": "品牌创建", "cap": 3}]}},
    )
    options = fact_key_options(services.scheme_of(rnd.scheme))
    assert [k for k, _ in options[FactKind.VETO]] == ["违纪违法", "意识形态"]
    assert options[FactKind.PREREQUISITE] == [("创新项目", "五星级及以上的前置条件")]
    assert dict(options[FactKind.HONOUR]) == {"省级先进": "可破格晋升", "全国先进": "直接定为五星级"}
    assert options[FactKind.BONUS] == [("品牌创建", "单项最高 3 分")]


def test_a_free_text_key_is_allowed_when_the_scheme_lists_none(rnd, tree, committee_staff, login):
    post_fact(login(committee_staff), rnd, org=tree.a2.pk, kind="honour", key="全国先进基层党组织")
    assert RatingFact.objects.get().key == "全国先进基层党组织"


def test_a_listed_key_must_be_chosen_when_the_scheme_lists_some(scored, tree, committee_staff, login):
    rnd = make_round(scored, committee_staff, promotion={"skip_honours": ["省级先进"]})
    response = post_fact(login(committee_staff), rnd, org=tree.a2.pk, kind="honour", key="市级先进")
    assert "代码须是方案列出的荣誉之一" in response.text


def test_the_same_fact_twice_gives_a_friendly_error(rnd, tree, committee_staff, login):
    client = login(committee_staff)
    post_fact(client, rnd, org=tree.a2.pk, key="意识形态")
    response = post_fact(client, rnd, org=tree.a2.pk, key="意识形态")
    assert "已有该否决情形记录" in response.text
    assert RatingFact.objects.count() == 1


def test_a_fact_for_an_organisation_not_rated_in_the_round_is_refused(rnd, tree, committee_staff, login):
    response = post_fact(login(committee_staff), rnd, org=tree.a.pk, key="意识形态")
    assert response.status_code == 200
    assert response.context["form"].errors["org"]
    assert not RatingFact.objects.exists()


def test_agency_staff_cannot_open_the_facts_page(rnd, agency_staff, login):
    assert login(agency_staff).get(round_url(rnd, "scoring:round_facts")).status_code == 403


def test_fact_create_refuses_anyone_but_committee_staff(rnd, tree, agency_staff):
    with pytest.raises(RatingRefused, match="无权"):
        fact_create(
            rnd=rnd, org=tree.a1, kind="veto", key="意识形态", value=None, description="", actor=agency_staff
        )


def test_deleting_a_fact_removes_it_and_is_audited(rnd, tree, campaign, committee_staff, login):
    fact = RatingFact.objects.create(campaign=campaign, org=tree.a1, kind=FactKind.VETO, key="意识形态")
    response = login(committee_staff).post(reverse("scoring:fact_delete", args=[fact.pk]))
    assert response["Location"] == round_url(rnd, "scoring:round_facts")
    assert not RatingFact.objects.exists()
    assert AuditEvent.objects.filter(detail__step="rating_fact_delete", target_id=str(fact.pk)).exists()


def test_deleting_a_fact_outside_the_subtree_is_404(rnd, tree, campaign, agency_staff, login):
    fact = RatingFact.objects.create(campaign=campaign, org=tree.b1, kind=FactKind.VETO, key="意识形态")
    assert login(agency_staff).post(reverse("scoring:fact_delete", args=[fact.pk])).status_code == 404
    assert RatingFact.objects.exists()


def test_agency_staff_cannot_delete_a_fact_in_their_subtree(rnd, tree, campaign, agency_staff, login):
    fact = RatingFact.objects.create(campaign=campaign, org=tree.a1, kind=FactKind.VETO, key="意识形态")
    assert login(agency_staff).post(reverse("scoring:fact_delete", args=[fact.pk])).status_code == 403
    with pytest.raises(RatingRefused):
        fact_delete(fact=fact, actor=agency_staff)
    assert RatingFact.objects.exists()


# --- 初审 queue --------------------------------------------------------------------------------


@pytest.fixture
def declared(rnd, tree, branch_secretary, outsider_secretary):
    a1 = rating_declare(rnd=rnd, org=tree.a1, level=5, declaration="全年工作突出", actor=branch_secretary)
    b1 = rating_declare(rnd=rnd, org=tree.b1, level=4, declaration="窗口服务", actor=outsider_secretary)
    return a1, b1


def queue_of(client):
    return [
        rating.org.code for rating, _ in client.get(reverse("scoring:first_review_queue")).context["page"]
    ]


def test_queue_lists_the_declarations_below_the_users_unit(declared, agency_staff, login):
    response = login(agency_staff).get(reverse("scoring:first_review_queue"))
    ((rating, label),) = response.context["page"].object_list
    assert rating.org.code == "A1" and label == "五星级"
    assert reverse("scoring:rating", args=[rating.pk]) in response.text
    assert "全年工作突出" in response.text


def test_committee_staff_see_every_declaration_in_the_queue(declared, committee_staff, login):
    assert sorted(queue_of(login(committee_staff))) == ["A1", "B1"]


def test_a_first_reviewed_declaration_leaves_the_queue(declared, agency_staff, login):
    a1, _ = declared
    rating_first_review(
        rating=a1, actor=agency_staff, agree=True, level=None, note="", expected_version=a1.version
    )
    assert queue_of(login(agency_staff)) == []


def test_branch_officers_cannot_open_the_queue(declared, branch_secretary, login):
    assert login(branch_secretary).get(reverse("scoring:first_review_queue")).status_code == 403


def test_pending_ratings_are_not_in_the_queue(compiled, committee_staff, login):
    assert Rating.objects.filter(round=compiled, status=RatingStatus.PENDING).count() == 5
    assert queue_of(login(committee_staff)) == []


# --- navigation --------------------------------------------------------------------------------


def test_navbar_offers_staff_the_rating_pages_and_the_queue(committee_staff, login):
    response = login(committee_staff).get(reverse("scoring:home"))
    assert 'aria-expanded="false">达标创星</a>' in response.text
    assert reverse("scoring:first_review_queue") in response.text


def test_navbar_offers_branch_officers_the_rating_page_only(branch_secretary, login):
    response = login(branch_secretary).get(reverse("home"))
    assert reverse("scoring:home") in response.text
    assert reverse("scoring:first_review_queue") not in response.text

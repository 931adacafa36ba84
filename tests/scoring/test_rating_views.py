"""One organisation's rating through its pages: who sees the level when, declaration, 初审, 复核,
公示异议, 摘星/降星, the 差距清单, the star history and 我的评星."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ChecklistEntry
from scoring.models import (
    ChangeKind,
    Objection,
    ObjectionStatus,
    Rating,
    RatingStatus,
    RoundStage,
    StarChange,
)
from scoring.services import compile_now, objection_record, rating_declare, round_advance, tie_decide
from tests.campaigns.factories import make_campaign
from tests.scoring.factories import make_round, score

pytestmark = pytest.mark.django_db

ROUTE = {
    RoundStage.FIRST_REVIEW: [RoundStage.FIRST_REVIEW],
    RoundStage.COMMITTEE_REVIEW: [RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW],
    RoundStage.RECHECK: [RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW, RoundStage.RECHECK],
    RoundStage.PUBLICITY: [RoundStage.FIRST_REVIEW, RoundStage.COMMITTEE_REVIEW, RoundStage.PUBLICITY],
    RoundStage.NAMED: [
        RoundStage.FIRST_REVIEW,
        RoundStage.COMMITTEE_REVIEW,
        RoundStage.PUBLICITY,
        RoundStage.NAMED,
    ],
}


@pytest.fixture
def campaign(tree):
    return make_campaign(tree.gw)


@pytest.fixture
def rnd(tree, campaign, committee_staff):
    """Five branches: A1 and B1 tie at 95 for the one five-star seat, A2 85, AG1 70, D1 50."""
    for org, points in ((tree.a1, "95"), (tree.b1, "95"), (tree.a2, "85"), (tree.ag1, "70"), (tree.d1, "50")):
        score(campaign, org, points)
    return make_round(campaign, committee_staff)


def compiled(rnd, tree, staff):
    """Compile, give the tied five-star seat to A1, and compile again."""
    compile_now(rnd=rnd, actor=staff)
    tie_decide(rnd=rnd, level=5, scope="工委", chosen=[tree.a1.pk], reason="工委会议决定", actor=staff)
    compile_now(rnd=rnd, actor=staff)
    return rnd


def move_to(rnd, staff, stage):
    """Advance a compiled round to `stage`; publicity started long enough ago to allow naming."""
    for step in ROUTE[stage]:
        rnd = round_advance(
            rnd=rnd,
            to_stage=step,
            actor=staff,
            expected_version=rnd.version,
            publicity_starts_on=timezone.localdate() - timedelta(days=10),
            naming_document="旬直工委〔2026〕12号",
        )
    return rnd


def reach(rnd, tree, staff, stage):
    return move_to(compiled(rnd, tree, staff), staff, stage)


def rating_of(rnd, org):
    return Rating.objects.get(round=rnd, org=org)


def page(client, rating):
    return client.get(reverse("scoring:rating", args=[rating.pk]))


def level_shown(response) -> str:
    html = response.content.decode()
    start = html.index('data-testid="rating-level">') + len('data-testid="rating-level">')
    return html[start : html.index("</div>", start)]


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- who sees the level when -------------------------------------------------------------------


def test_before_publicity_the_branch_sees_its_score_but_not_its_level(
    rnd, tree, committee_staff, branch_secretary, login
):
    compiled(rnd, tree, committee_staff)
    response = page(login(branch_secretary), rating_of(rnd, tree.a1))
    assert response.status_code == 200
    assert level_shown(response) == "评定中，公示时可见"
    assert 'data-testid="rating-total">95<' in response.content.decode()
    assert 'data-testid="explanation"' not in response.content.decode()


def test_parent_staff_see_the_proposed_level_before_publicity(
    rnd, tree, committee_staff, agency_staff, login
):
    compiled(rnd, tree, committee_staff)
    response = page(login(agency_staff), rating_of(rnd, tree.a2))
    assert level_shown(response) == "四星级"


def test_in_publicity_the_branch_sees_its_level_and_the_explanation(
    rnd, tree, committee_staff, branch_secretary, login
):
    rnd = reach(rnd, tree, committee_staff, RoundStage.PUBLICITY)
    response = page(login(branch_secretary), rating_of(rnd, tree.a1))
    assert level_shown(response) == "五星级"
    html = response.content.decode()
    assert 'data-testid="explanation"' in html
    assert "分档" in html and "名额处理：按决定定级" in html


def test_once_named_the_branch_sees_its_current_level(rnd, tree, committee_staff, branch_secretary, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.NAMED)
    response = page(login(branch_secretary), rating_of(rnd, tree.a1))
    assert level_shown(response) == "五星级"
    assert "旬直工委〔2026〕12号" in response.content.decode()


def test_the_rating_of_another_branch_is_404(rnd, tree, committee_staff, outsider_secretary, login):
    compiled(rnd, tree, committee_staff)
    assert page(login(outsider_secretary), rating_of(rnd, tree.a1)).status_code == 404


def test_the_branch_does_not_see_the_objections_raised_against_it(
    rnd, tree, committee_staff, branch_secretary, login
):
    rnd = reach(rnd, tree, committee_staff, RoundStage.PUBLICITY)
    a1 = rating_of(rnd, tree.a1)
    objection_record(
        rating=a1,
        actor=committee_staff,
        raised_by_name="张某",
        contact="13800000000",
        received_on=timezone.localdate(),
        content="佐证不实",
    )
    html = page(login(branch_secretary), a1).content.decode()
    assert "13800000000" not in html and "佐证不实" not in html


# --- 自评申报 -----------------------------------------------------------------------------------


def declare_url(rnd, org):
    return reverse("scoring:rating_declare", args=[rnd.pk, org.pk])


def test_declare_form_opens_with_a_factual_summary_of_the_checklist(rnd, tree, branch_secretary, login):
    response = login(branch_secretary).get(declare_url(rnd, tree.a1))
    assert response.status_code == 200
    assert "责任清单共1项，已完成1项" in response.content.decode()
    assert "审核95分" in response.content.decode()


def test_declaring_through_the_page_records_the_declaration(rnd, tree, branch_secretary, login):
    response = login(branch_secretary).post(
        declare_url(rnd, tree.a1), {"level": "5", "declaration": "全年任务全部完成"}
    )
    rating = rating_of(rnd, tree.a1)
    assert response.status_code == 302
    assert response["Location"] == reverse("scoring:rating", args=[rating.pk])
    assert (rating.status, rating.declared_level, rating.declared_by) == (
        RatingStatus.DECLARED,
        5,
        branch_secretary,
    )


def test_a_committee_member_may_not_declare(rnd, tree, branch_member, login):
    response = login(branch_member).post(declare_url(rnd, tree.a1), {"level": "5", "declaration": "x"})
    assert response.status_code == 403
    assert not Rating.objects.filter(round=rnd, org=tree.a1).exists()


def test_declaring_for_a_branch_outside_the_subtree_is_404(rnd, tree, outsider_secretary, login):
    response = login(outsider_secretary).post(declare_url(rnd, tree.a1), {"level": "5", "declaration": "x"})
    assert response.status_code == 404


def test_declaring_after_the_declaring_stage_shows_the_reason(
    rnd, tree, committee_staff, branch_secretary, login
):
    rnd = move_to(rnd, committee_staff, RoundStage.COMMITTEE_REVIEW)
    response = login(branch_secretary).post(declare_url(rnd, tree.a1), {"level": "5", "declaration": "x"})
    assert response.status_code == 200
    assert "申报阶段已结束" in response.content.decode()
    assert not Rating.objects.filter(round=rnd, org=tree.a1, status=RatingStatus.DECLARED).exists()


def test_the_rating_page_offers_the_declare_form_to_the_secretary(
    rnd, tree, committee_staff, branch_secretary, login
):
    compiled(rnd, tree, committee_staff)
    html = page(login(branch_secretary), rating_of(rnd, tree.a1)).content.decode()
    assert 'data-testid="declare-form"' in html
    assert declare_url(rnd, tree.a1) in html


# --- 初审 ---------------------------------------------------------------------------------------


@pytest.fixture
def declared(rnd, tree, branch_secretary):
    return rating_declare(
        rnd=rnd, org=tree.a1, level=5, declaration="全年任务全部完成", actor=branch_secretary
    )


def first_review(client, rating, **data):
    return client.post(
        reverse("scoring:rating_first_review", args=[rating.pk]), {"version": rating.version, **data}
    )


def test_parent_staff_return_the_declaration_with_a_reason(declared, agency_staff, branch_secretary, login):
    response = first_review(login(agency_staff), declared, agree="0", note="佐证材料不全")
    declared.refresh_from_db()
    assert response.status_code == 302
    assert (declared.status, declared.first_review_note) == (RatingStatus.RETURNED, "佐证材料不全")
    html = page(login(branch_secretary), declared).content.decode()
    assert "初审退回：佐证材料不全" in html and 'data-testid="declare-form"' in html


def test_parent_staff_agree_with_a_recommended_level(declared, agency_staff, login):
    first_review(login(agency_staff), declared, agree="1", level="4", note="建议四星")
    declared.refresh_from_db()
    assert (declared.status, declared.first_review_level) == (RatingStatus.FIRST_REVIEWED, 4)


def test_agreeing_without_a_level_keeps_the_declared_level(declared, agency_staff, login):
    first_review(login(agency_staff), declared, agree="1", level="", note="")
    declared.refresh_from_db()
    assert declared.first_review_level == 5


def test_returning_without_a_reason_is_refused_with_a_message(declared, agency_staff, login):
    response = first_review(login(agency_staff), declared, agree="0", note="")
    declared.refresh_from_db()
    assert declared.status == RatingStatus.DECLARED
    assert flashed(response) == ["退回时请写明理由"]


def test_the_parent_sees_the_first_review_form_for_a_declared_rating(declared, agency_staff, login):
    html = page(login(agency_staff), declared).content.decode()
    assert 'data-testid="first-review-form"' in html


def test_the_branch_secretary_cannot_first_review_its_own_declaration(declared, branch_secretary, login):
    response = first_review(login(branch_secretary), declared, agree="1", level="5", note="")
    assert response.status_code == 403
    declared.refresh_from_db()
    assert declared.status == RatingStatus.DECLARED


# --- 复核 ---------------------------------------------------------------------------------------


def recheck(client, rating, **data):
    return client.post(
        reverse("scoring:rating_recheck", args=[rating.pk]), {"version": rating.version, **data}
    )


def test_recheck_lowers_the_proposed_level_with_the_reason(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.RECHECK)
    a1 = rating_of(rnd, tree.a1)
    client = login(committee_staff)
    assert 'data-testid="recheck-form"' in page(client, a1).content.decode()
    recheck(client, a1, confirmed="0", level="4", note="创新项目佐证不足")
    a1.refresh_from_db()
    assert (a1.level, a1.is_adjusted) == (4, True)
    assert "创新项目佐证不足" in a1.adjusted_reason


def test_recheck_lowering_without_a_level_is_refused(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.RECHECK)
    a1 = rating_of(rnd, tree.a1)
    response = recheck(login(committee_staff), a1, confirmed="0", level="", note="下调")
    a1.refresh_from_db()
    assert a1.level == 5
    assert any("请选择下调后的星级" in m for m in flashed(response))


def test_recheck_confirmation_keeps_the_level_and_records_the_note(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.RECHECK)
    a1 = rating_of(rnd, tree.a1)
    recheck(login(committee_staff), a1, confirmed="1", level="", note="材料齐全，同意")
    a1.refresh_from_db()
    assert (a1.level, a1.recheck_note, a1.rechecked_by) == (5, "材料齐全，同意", committee_staff)


def test_parent_staff_may_not_recheck(rnd, tree, committee_staff, agency_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.RECHECK)
    a1 = rating_of(rnd, tree.a1)
    assert recheck(login(agency_staff), a1, confirmed="0", level="4", note="x").status_code == 403


# --- 公示异议 -------------------------------------------------------------------------------------


def record_objection(client, rating):
    return client.post(
        reverse("scoring:objection_new", args=[rating.pk]),
        {
            "raised_by_name": "群众来信",
            "contact": "",
            "received_on": timezone.localdate().isoformat(),
            "content": "佐证材料不实",
        },
    )


def resolve(client, objection, **data):
    return client.post(reverse("scoring:objection_resolve", args=[objection.pk]), data)


def test_an_upheld_objection_changes_the_level(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.PUBLICITY)
    a2 = rating_of(rnd, tree.a2)
    client = login(committee_staff)
    assert record_objection(client, a2).status_code == 302
    objection = Objection.objects.get(rating=a2)
    assert 'data-testid="resolve-form"' in page(client, a2).content.decode()
    resolve(client, objection, upheld="1", resolution="经核实部分属实", level_after="3")
    a2.refresh_from_db()
    objection.refresh_from_db()
    assert (objection.status, a2.level) == (ObjectionStatus.UPHELD, 3)
    html = page(client, a2).content.decode()
    assert "异议成立" in html and "经核实部分属实" in html


def test_a_rejected_objection_keeps_the_level(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.PUBLICITY)
    a2 = rating_of(rnd, tree.a2)
    client = login(committee_staff)
    record_objection(client, a2)
    resolve(client, Objection.objects.get(rating=a2), upheld="0", resolution="经核实不属实", level_after="")
    a2.refresh_from_db()
    assert a2.level == 4
    assert Objection.objects.get(rating=a2).status == ObjectionStatus.REJECTED


def test_an_upheld_objection_needs_the_level_after(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.PUBLICITY)
    a2 = rating_of(rnd, tree.a2)
    client = login(committee_staff)
    record_objection(client, a2)
    objection = Objection.objects.get(rating=a2)
    response = resolve(client, objection, upheld="1", resolution="属实", level_after="")
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.OPEN
    assert any("异议成立时请选择处理后的星级" in m for m in flashed(response))


def test_objections_cannot_be_recorded_before_publicity(rnd, tree, committee_staff, login):
    compiled(rnd, tree, committee_staff)
    response = record_objection(login(committee_staff), rating_of(rnd, tree.a2))
    assert not Objection.objects.exists()
    assert flashed(response) == ["只能在公示期间登记异议"]


def test_resolving_an_objection_outside_the_subtree_is_404(rnd, tree, committee_staff, agency_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.PUBLICITY)
    objection = objection_record(
        rating=rating_of(rnd, tree.b1),
        actor=committee_staff,
        raised_by_name="",
        contact="",
        received_on=timezone.localdate(),
        content="异议",
    )
    response = resolve(login(agency_staff), objection, upheld="0", resolution="不属实", level_after="")
    assert response.status_code == 404


def test_the_rating_page_queries_do_not_grow_with_objections(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.PUBLICITY)
    a2 = rating_of(rnd, tree.a2)
    client = login(committee_staff)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert page(client, a2).status_code == 200
        return len(ctx.captured_queries)

    record_objection(client, a2)
    one = count()
    for _ in range(3):
        record_objection(client, a2)
    assert count() == one


# --- 摘星/降星 ------------------------------------------------------------------------------------


def change(client, rating, **data):
    base = {
        "veto_key": "",
        "to_level": "",
        "decided_on": "2027-03-01",
        "decision_document": "旬直工委〔2027〕3号",
    }
    return client.post(reverse("scoring:star_change", args=[rating.pk]), {**base, **data})


def test_a_named_rating_is_demoted_on_a_veto_event(rnd, tree, committee_staff, branch_secretary, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.NAMED)
    a1 = rating_of(rnd, tree.a1)
    client = login(committee_staff)
    assert 'data-testid="change-form"' in page(client, a1).content.decode()
    change(client, a1, kind=ChangeKind.DEMOTE, to_level="3", veto_key="意识形态", reason="发生意识形态问题")
    a1.refresh_from_db()
    assert (a1.named_level, a1.current_level) == (5, 3)
    response = page(login(branch_secretary), a1)
    assert level_shown(response) == "三星级"
    assert "五星级 → 三星级" in response.content.decode()


def test_a_demotion_needs_the_level_after(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.NAMED)
    a1 = rating_of(rnd, tree.a1)
    response = change(login(committee_staff), a1, kind=ChangeKind.DEMOTE, reason="x")
    assert not StarChange.objects.exists()
    assert any("降星时请选择降星后的星级" in m for m in flashed(response))


def test_stars_cannot_be_revoked_before_naming(rnd, tree, committee_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.PUBLICITY)
    response = change(login(committee_staff), rating_of(rnd, tree.a1), kind=ChangeKind.REVOKE, reason="违纪")
    assert not StarChange.objects.exists()
    assert flashed(response) == ["命名后才能摘星或降星"]


def test_parent_staff_may_not_revoke_stars(rnd, tree, committee_staff, agency_staff, login):
    rnd = reach(rnd, tree, committee_staff, RoundStage.NAMED)
    response = change(login(agency_staff), rating_of(rnd, tree.a1), kind=ChangeKind.REVOKE, reason="违纪")
    assert response.status_code == 403
    assert not StarChange.objects.exists()


# --- 差距清单 ---------------------------------------------------------------------------------------


@pytest.fixture
def gap_round(tree, campaign, committee_staff):
    """A1 alone: 80 of 100 and 3 of 5 → 83, four stars, 7 points short of five stars."""
    score(campaign, tree.a1, "80", item_points="100")
    score(campaign, tree.a1, "3", item_points="5")
    rnd = make_round(campaign, committee_staff)
    compile_now(rnd=rnd, actor=committee_staff)
    return rnd


def gaps(client, rating):
    return client.get(reverse("scoring:rating_gaps", args=[rating.pk]))


def test_gap_list_shows_the_cheapest_items_first_with_links(gap_round, tree, committee_staff, login):
    response = gaps(login(committee_staff), rating_of(gap_round, tree.a1))
    items = response.context["items"]
    assert [row["gap"].missing_points for row in items] == [2, 20]
    entries = {e.item.code: e.pk for e in ChecklistEntry.objects.filter(org=tree.a1).select_related("item")}
    assert [row["url"] for row in items] == [
        reverse("campaigns:entry_detail", args=[entries[row["gap"].item_code]]) for row in items
    ]
    html = response.content.decode()
    assert "距离<strong>五星级</strong>分数线还差" in html
    assert "足以弥补分数差距" in html
    assert 'data-testid="gap-current">四星级<' in html


def test_before_publicity_the_branch_sees_the_gap_but_not_its_level(gap_round, tree, branch_secretary, login):
    html = gaps(login(branch_secretary), rating_of(gap_round, tree.a1)).content.decode()
    assert '距离<strong>五星级</strong>分数线还差 <strong class="text-danger">7</strong> 分' in html
    assert 'data-testid="gap-current"' not in html


def test_in_publicity_the_branch_sees_its_level_on_the_gap_list(
    gap_round, tree, committee_staff, branch_secretary, login
):
    move_to(gap_round, committee_staff, RoundStage.PUBLICITY)
    html = gaps(login(branch_secretary), rating_of(gap_round, tree.a1)).content.decode()
    assert 'data-testid="gap-current">四星级<' in html


def test_gap_list_names_what_blocks_the_next_level(gap_round, tree, campaign, committee_staff, login):
    from scoring.models import FactKind, RatingFact

    RatingFact.objects.create(campaign=campaign, org=tree.a1, kind=FactKind.VETO, key="意识形态")
    compile_now(rnd=gap_round, actor=committee_staff)
    html = gaps(login(committee_staff), rating_of(gap_round, tree.a1)).content.decode()
    assert "发生意识形态领域重大问题" in html


def test_gap_list_before_the_first_compile_says_so(rnd, declared, branch_secretary, login):
    response = gaps(login(branch_secretary), declared)
    assert response.status_code == 200
    assert 'data-testid="gap-none"' in response.content.decode()


def test_gap_list_of_another_branch_is_404(gap_round, tree, outsider_secretary, login):
    assert gaps(login(outsider_secretary), rating_of(gap_round, tree.a1)).status_code == 404


# --- history ----------------------------------------------------------------------------------


def test_history_lists_the_named_year_with_its_revocation(
    rnd, tree, committee_staff, branch_secretary, login
):
    rnd = reach(rnd, tree, committee_staff, RoundStage.NAMED)
    a1 = rating_of(rnd, tree.a1)
    change(login(committee_staff), a1, kind=ChangeKind.REVOKE, veto_key="违纪违法", reason="书记受处分")
    response = login(branch_secretary).get(reverse("scoring:org_history", args=[tree.a1.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "摘星" in html and "旬直工委〔2026〕12号" in html and "旬直工委〔2027〕3号" in html
    assert reverse("scoring:rating", args=[a1.pk]) in html


def test_history_without_named_ratings_says_so(tree, branch_secretary, login):
    response = login(branch_secretary).get(reverse("scoring:org_history", args=[tree.a1.pk]))
    assert 'data-testid="history-empty"' in response.content.decode()


def test_history_of_another_branch_is_404(tree, outsider_secretary, login):
    response = login(outsider_secretary).get(reverse("scoring:org_history", args=[tree.a1.pk]))
    assert response.status_code == 404


# --- 我的评星 ------------------------------------------------------------------------------------


def mine(client):
    return client.get(reverse("scoring:my_rating"))


def test_my_rating_opens_the_rating_of_my_branch(rnd, tree, committee_staff, branch_secretary, login):
    compiled(rnd, tree, committee_staff)
    response = mine(login(branch_secretary))
    assert response["Location"] == reverse("scoring:rating", args=[rating_of(rnd, tree.a1).pk])


def test_my_rating_before_any_rating_row_opens_the_declare_form(rnd, tree, branch_secretary, login):
    response = mine(login(branch_secretary))
    assert response["Location"] == declare_url(rnd, tree.a1)


def test_my_rating_for_a_member_without_a_rating_row_says_not_declared(rnd, branch_member, login):
    response = mine(login(branch_member))
    assert response.status_code == 200
    assert "本组织尚未申报" in response.content.decode()


def test_my_rating_without_any_round_is_a_friendly_page(tree, branch_secretary, login):
    response = mine(login(branch_secretary))
    assert response.status_code == 200
    assert "暂无评星" in response.content.decode()


def test_my_rating_for_staff_without_a_branch_is_a_friendly_page(rnd, committee_staff, login):
    response = mine(login(committee_staff))
    assert response.status_code == 200
    assert 'data-testid="no-rating"' in response.content.decode()

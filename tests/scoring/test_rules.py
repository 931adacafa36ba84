"""Unit tests of the pure rating engine, one axis of domain.md §9 at a time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scoring.rules import (
    QUOTA_DECIDED,
    QUOTA_KEPT,
    QUOTA_MOVED_DOWN,
    QUOTA_NEEDS_DECISION,
    QUOTA_NOT_APPLICABLE,
    BonusClaim,
    OrgInputs,
    RatingError,
    TieGroup,
    compute_total,
    gap_list,
    rate,
)
from scoring.schemes import Scheme, scheme_from_dict

D = Decimal


def scheme(**overrides: Any) -> Scheme:
    data: dict[str, Any] = {
        "version": 1,
        "name": "测试方案",
        "mode": "bands",
        "levels": {"rated": [1, 2, 3, 4, 5]},
        "bands": [
            {"level": 5, "min": 90, "label": "五星级"},
            {"level": 4, "min": 80, "label": "四星级"},
            {"level": 3, "min": 70, "label": "三星级"},
            {"level": 2, "min": 60, "label": "二星级"},
            {"level": 1, "min": 0, "label": "一星级"},
        ],
    }
    data.update(overrides)
    return scheme_from_dict(data)


def org(org_id: int | str, points: float | str | Decimal = 0, **kwargs: Any) -> OrgInputs:
    return OrgInputs(org_id=org_id, name=f"第{org_id}党支部", checklist_points=D(str(points)), **kwargs)


def level_of(s: Scheme, o: OrgInputs) -> int | None:
    return rate(s, [o]).by_id(o.org_id).final_level


# --- bands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "level"),
    [("90", 5), ("89.99", 4), ("80", 4), ("79.99", 3), ("70", 3), ("60", 2), ("59.99", 1), ("0", 1)],
)
def test_band_lower_bounds_are_inclusive(points: str, level: int) -> None:
    assert level_of(scheme(), org(1, points)) == level


def test_below_lowest_band_is_no_star_or_unrated() -> None:
    bands = [
        {"level": 5, "min": 95, "label": "五星"},
        {"level": 4, "min": 85, "label": "四星"},
        {"level": 3, "min": 75, "label": "三星"},
    ]
    no_star = scheme(levels={"rated": [3, 4, 5], "below_lowest": "no_star"}, bands=bands)
    unrated = scheme(levels={"rated": [3, 4, 5], "below_lowest": "unrated"}, bands=bands)
    assert rate(no_star, [org(1, 74)]).by_id(1).final_level == 0
    assert rate(no_star, [org(1, 74)]).by_id(1).final_label == "无星"
    assert rate(unrated, [org(1, 74)]).by_id(1).final_level is None
    assert rate(unrated, [org(1, 74)]).by_id(1).final_label == "未定级"
    assert rate(unrated, [org(1, 75)]).by_id(1).final_level == 3


def test_named_stars_level_is_the_number_of_stars_earned() -> None:
    stars = [{"key": k, "label": k} for k in "abcde"]
    s = scheme(mode="named_stars", bands=[], named_stars=stars)
    assert level_of(s, org(1, stars_earned=frozenset({"a", "b", "c"}))) == 3
    assert level_of(s, org(1, stars_earned=frozenset({"a", "zzz"}))) == 1
    assert level_of(s, org(1)) is None


def test_points_account_starts_from_the_base_and_may_pass_100() -> None:
    s = scheme(mode="points_account", score={"base": 100})
    total, _ = compute_total(s, org(1, "12.5"))
    assert total == D("112.50")
    total, _ = compute_total(s, org(1, "-15"))
    assert total == D("85.00")


# --- score make-up ----------------------------------------------------------------------------


def test_deductions_per_unit_with_caps() -> None:
    s = scheme(
        score={
            "deductions": [
                {"kind": "overdue_entry", "points": 1, "cap": 3},
                {"kind": "unresolved_finding", "points": 2},
                {"kind": "repeated_finding", "points": 3, "cap": 5},
                {"kind": "notice", "points": "0.5"},
            ]
        }
    )
    o = org(1, 100, overdue_entries=5, unresolved_findings=2, repeated_findings=2, notices=3)
    total, lines = compute_total(s, o)
    # 3 (capped) + 4 + 5 (capped) + 1.5
    assert total == D("86.50")
    deductions = [line for line in lines if line.source == "扣分"]
    assert [line.points for line in deductions] == [D(-3), D(-4), D(-5), D("-1.5")]
    assert "封顶 3 分" in deductions[0].description


def test_deductions_never_push_the_basic_part_below_zero() -> None:
    s = scheme(score={"deductions": [{"kind": "notice", "points": 50}]})
    total, _ = compute_total(s, org(1, 20, notices=2))
    assert total == D("0.00")


def test_checklist_is_clamped_to_its_maximum() -> None:
    s = scheme(score={"max_checklist": 100})
    assert compute_total(s, org(1, 130))[0] == D("100.00")
    assert compute_total(scheme(), org(1, 130, max_points=D(100)))[0] == D("100.00")


def test_bonus_caps_per_kind_total_and_max_total() -> None:
    s = scheme(
        score={
            "bonus": {"items": [{"kind": "award", "cap": 5}, {"kind": "brand"}], "cap": 8, "max_total": 105}
        }
    )
    claims = (
        BonusClaim("award", D(4), "市级表彰"),
        BonusClaim("award", D(3), "区级表彰"),
        BonusClaim("brand", D(6), "一支部一特色"),
        BonusClaim("other", D(9), "不认的项"),
    )
    total, lines = compute_total(s, org(1, 90, bonus_items=claims))
    # award 4+1 (kind cap 5), brand 6 → 11, capped at 8 → 98
    assert total == D("98.00")
    assert any("本类封顶 5" in line.description for line in lines)
    assert any("加分合计封顶 8" in line.description for line in lines)
    assert any("不在方案加分项内" in line.description and line.points == 0 for line in lines)
    total, lines = compute_total(s, org(1, 100, bonus_items=claims))
    assert total == D("105.00")
    assert any("总分封顶 105" in line.description for line in lines)


def test_weighted_components_checklist_minus_deductions_and_review() -> None:
    s = scheme(
        score={
            "deductions": [{"kind": "notice", "points": 5}],
            "components": [{"source": "basic", "weight": "0.7"}, {"source": "good_rate", "weight": "0.3"}],
        }
    )
    total, lines = compute_total(s, org(1, 95, notices=1, good_rate=D("0.85")))
    # (95 − 5) × 0.7 + 85 × 0.3 = 63 + 25.5
    assert total == D("88.50")
    assert [line.points for line in lines if line.source == "权重"] == [D("63.0"), D("25.50")]


def test_satisfaction_component_and_missing_review_counts_as_zero() -> None:
    s = scheme(
        score={
            "components": [{"source": "basic", "weight": "0.7"}, {"source": "satisfaction", "weight": "0.3"}]
        }
    )
    assert compute_total(s, org(1, 100, satisfaction=D("0.9")))[0] == D("97.00")
    total, lines = compute_total(s, org(1, 100))
    assert total == D("70.00")
    assert any("无数据" in line.description for line in lines)


def test_total_is_rounded_half_up_to_two_places() -> None:
    s = scheme(score={"components": [{"source": "basic", "weight": "0.5"}]})
    assert compute_total(s, org(1, "10.01"))[0] == D("5.01")  # 5.005: half up, not half even
    assert compute_total(s, org(1, "10.005"))[0] == D("5.00")  # 5.0025


# --- vetoes -----------------------------------------------------------------------------------


VETOES = [
    {"key": "kill", "description": "重大违纪", "effect": "no_rating"},
    {"key": "cap2", "description": "软弱涣散", "effect": "cap_at_level", "level": 2},
    {"key": "down1", "description": "被通报批评", "effect": "demote", "level": 1},
]


def test_veto_no_rating() -> None:
    r = rate(scheme(vetoes=VETOES), [org(1, 99, veto_conditions=frozenset({"kill"}))]).by_id(1)
    assert r.final_level is None
    assert r.vetoes_applied == ("kill",)
    assert r.quota_decision == QUOTA_NOT_APPLICABLE
    assert any(line.source == "一票否决" and "不予评定" in line.description for line in r.explanation)


def test_veto_cap_at_level() -> None:
    s = scheme(vetoes=VETOES)
    assert level_of(s, org(1, 99, veto_conditions=frozenset({"cap2"}))) == 2
    assert level_of(s, org(1, 50, veto_conditions=frozenset({"cap2"}))) == 1  # already below the cap


def test_veto_demote() -> None:
    s = scheme(vetoes=VETOES)
    assert level_of(s, org(1, 99, veto_conditions=frozenset({"down1"}))) == 4
    assert level_of(s, org(1, 99, veto_conditions=frozenset({"down1", "cap2"}))) == 2
    assert level_of(s, org(1, 10, veto_conditions=frozenset({"down1"}))) is None  # below one star: 未定级


def test_unknown_veto_condition_is_ignored() -> None:
    assert level_of(scheme(vetoes=VETOES), org(1, 99, veto_conditions=frozenset({"other"}))) == 5


# --- prerequisites ----------------------------------------------------------------------------


def test_prerequisite_condition_missing_caps_the_level() -> None:
    s = scheme(prerequisites=[{"level": 5, "conditions": ["innovation_project"], "cap_at_level": 4}])
    r = rate(s, [org(1, 95)]).by_id(1)
    assert r.final_level == 4
    assert r.prerequisites_missing == ("innovation_project",)
    assert level_of(s, org(1, 95, prerequisites_met=frozenset({"innovation_project"}))) == 5
    assert level_of(s, org(1, 85)) == 4  # does not concern lower levels


def test_prerequisite_on_satisfaction_and_good_rate() -> None:
    s = scheme(
        prerequisites=[
            {"level": 3, "min_satisfaction": "0.6", "cap_at_level": 2},
            {"level": 4, "min_good_rate": "0.8", "cap_at_level": 3},
        ]
    )
    assert level_of(s, org(1, 95, satisfaction=D("0.59"), good_rate=D(1))) == 2
    assert level_of(s, org(1, 95, satisfaction=None, good_rate=D(1))) == 2
    assert level_of(s, org(1, 95, satisfaction=D("0.6"), good_rate=D("0.7"))) == 3
    assert level_of(s, org(1, 95, satisfaction=D("0.6"), good_rate=D("0.8"))) == 5


# --- promotion --------------------------------------------------------------------------------


def test_promotion_at_most_one_level_up_unless_poge() -> None:
    s = scheme(promotion={"max_step_up": 1, "skip_honours": ["市级综合性荣誉"]})
    r = rate(s, [org(1, 95, last_year_level=2)]).by_id(1)
    assert (r.final_level, r.promotion_cap, r.last_year_level) == (3, 3, 2)
    assert any(line.source == "晋升" for line in r.explanation)
    assert level_of(s, org(1, 95, last_year_level=2, honours=frozenset({"市级综合性荣誉"}))) == 5
    assert level_of(s, org(1, 95, last_year_level=4)) == 5
    assert level_of(s, org(1, 65, last_year_level=5)) == 2  # going down is not limited
    assert level_of(s, org(1, 95)) == 5  # no level last year: no cap


def test_direct_rating_for_listed_honours() -> None:
    s = scheme(promotion={"max_step_up": 1, "direct_rating": [{"honour": "先进基层党组织", "level": 5}]})
    r = rate(s, [org(1, 65, last_year_level=1, honours=frozenset({"先进基层党组织"}))]).by_id(1)
    assert r.final_level == 5
    assert any(line.source == "直接定级" for line in r.explanation)


def test_new_organisation_is_unrated() -> None:
    r = rate(scheme(), [org(1, 99, is_new=True)]).by_id(1)
    assert r.final_level is None
    assert r.final_label == "未定级"
    rated = scheme(promotion={"new_orgs_unrated": False})
    assert level_of(rated, org(1, 99, is_new=True)) == 5


# --- quotas -----------------------------------------------------------------------------------


def test_quota_per_committee_moves_the_lowest_totals_down() -> None:
    s = scheme(quotas={"5": {"max": "0.3"}})
    orgs = [org(i, 90 + i) for i in range(1, 8)] + [org(i, 50) for i in range(8, 11)]  # 10 rated → 3 seats
    result = rate(s, orgs)
    fives = sorted(r.org_id for r in result.ratings if r.final_level == 5)
    assert fives == [5, 6, 7]
    moved = result.by_id(4)
    assert (moved.provisional_level, moved.final_level, moved.quota_decision) == (5, 4, QUOTA_MOVED_DOWN)
    assert result.by_id(7).quota_decision == QUOTA_KEPT
    five = next(d for d in result.distribution if d.level == 5)
    assert (five.count, five.max_seats, five.rated_in_scope) == (3, 3, 10)
    assert result.needs_decision == ()


def test_moved_down_orgs_are_rechecked_at_the_next_level() -> None:
    s = scheme(quotas={"5": {"max": "0.2"}, "4": {"max": "0.2"}})
    result = rate(s, [org(i, 90 + i) for i in range(1, 6)])  # 5 orgs → 1 seat each
    assert [result.by_id(i).final_level for i in range(1, 6)] == [3, 3, 3, 4, 5]


@pytest.mark.parametrize(("rounding", "seats"), [("floor", 2), ("ceil", 3), ("round", 3)])
def test_quota_rounding(rounding: str, seats: int) -> None:
    s = scheme(quotas={"5": {"max": "0.25"}}, quota_rounding=rounding)
    orgs = [org(i, 90 + i) for i in range(1, 10)] + [org(10, 10)]  # 10 × 0.25 = 2.5
    fives = [r for r in rate(s, orgs).ratings if r.final_level == 5]
    assert len(fives) == seats


def test_round_half_up_not_bankers() -> None:
    s = scheme(quotas={"5": {"max": "0.5"}}, quota_rounding="round")
    orgs = [org(i, 91 + i) for i in range(5)]  # 2.5 → 3
    assert sum(1 for r in rate(s, orgs).ratings if r.final_level == 5) == 3


def test_quota_per_parent() -> None:
    s = scheme(quotas={"5": {"max": "0.5"}}, quota_scope="parent")
    orgs = [org(f"a{i}", 91 + i, parent_id="A") for i in range(4)] + [
        org(f"b{i}", D("90.5") + i, parent_id="B") for i in range(2)
    ]
    result = rate(s, orgs)
    assert sorted(r.org_id for r in result.ratings if r.final_level == 5) == ["a2", "a3", "b1"]
    assert {d.scope for d in result.distribution} == {"上级:A", "上级:B"}
    whole = rate(scheme(quotas={"5": {"max": "0.5"}}), orgs)
    assert sorted(r.org_id for r in whole.ratings if r.final_level == 5) == ["a1", "a2", "a3"]


def test_tie_at_the_boundary_needs_a_decision_and_none_is_placed_above() -> None:
    s = scheme(quotas={"5": {"max": "0.2"}})
    orgs = [org(1, 99), org(2, 95), org(3, 95), org(4, 95), *[org(i, 50) for i in range(5, 11)]]  # 2 seats
    result = rate(s, orgs)
    assert result.needs_decision == (TieGroup("工委", 5, (2, 3, 4), 1),)
    assert result.by_id(1).final_level == 5
    for i in (2, 3, 4):
        r = result.by_id(i)
        assert (r.final_level, r.quota_decision) == (4, QUOTA_NEEDS_DECISION)
        assert any("待决定" in line.description for line in r.explanation)


def test_tie_entirely_beyond_the_seats_is_no_tie() -> None:
    s = scheme(quotas={"5": {"max": "0.2"}})
    orgs = [org(1, 99), org(2, 98), org(3, 95), org(4, 95), *[org(i, 50) for i in range(5, 11)]]
    result = rate(s, orgs)
    assert result.needs_decision == ()
    assert [result.by_id(i).final_level for i in (1, 2, 3, 4)] == [5, 5, 4, 4]


def test_decision_resolves_the_tie() -> None:
    s = scheme(quotas={"5": {"max": "0.2"}})
    orgs = [org(1, 99), org(2, 95), org(3, 95), org(4, 95), *[org(i, 50) for i in range(5, 11)]]
    result = rate(s, orgs, decisions={2: 4, 3: 5, 4: 4})
    assert result.needs_decision == ()
    assert [result.by_id(i).final_level for i in (1, 2, 3, 4)] == [5, 4, 5, 4]
    assert result.by_id(3).quota_decision == QUOTA_DECIDED
    assert any("按决定" in line.description for line in result.by_id(3).explanation)


def test_partial_or_invalid_decisions() -> None:
    s = scheme(quotas={"5": {"max": "0.2"}})
    orgs = [org(1, 99), org(2, 95), org(3, 95), org(4, 95), *[org(i, 50) for i in range(5, 11)]]
    assert rate(s, orgs, decisions={2: 5, 3: 4}).needs_decision  # not every tied org decided
    with pytest.raises(RatingError):
        rate(s, orgs, decisions={2: 5, 3: 5, 4: 4})  # two seats given, one left
    with pytest.raises(RatingError):
        rate(s, orgs, decisions={2: 5, 3: 0, 4: 4})  # 0 (无星) is not a level of this scheme
    with pytest.raises(RatingError):
        rate(s, orgs, decisions={2: 5, 3: 9, 4: 4})  # above the tied level
    with pytest.raises(RatingError):
        rate(s, orgs, decisions={5: 3})  # not in a tie
    with pytest.raises(RatingError):
        rate(s, orgs, decisions={"nobody": 3})
    with pytest.raises(RatingError):
        rate(s, [org(1, 1), org(1, 2)])


def test_vetoed_org_never_exceeds_its_cap_even_by_decision() -> None:
    s = scheme(vetoes=VETOES, quotas={"5": {"max": "0.5"}})
    result = rate(s, [org(1, 99, veto_conditions=frozenset({"cap2"})), org(2, 10)])
    assert result.by_id(1).final_level == 2
    assert any("否决封顶" in line.description for line in result.by_id(1).explanation)


def test_min_and_target_quotas_are_reported_not_forced() -> None:
    s = scheme(quotas={"5": {"target": "0.5"}, "1": {"min": "0.5"}})
    result = rate(s, [org(1, 95), org(2, 95), org(3, 85), org(4, 50)])
    five = next(d for d in result.distribution if d.level == 5)
    one = next(d for d in result.distribution if d.level == 1)
    assert (five.count, five.target_seats, five.off_target) == (2, 2, False)
    assert (one.count, one.min_seats, one.below_min) == (1, 2, True)


# --- explanation ------------------------------------------------------------------------------


def test_explanation_has_a_line_for_every_step() -> None:
    s = scheme(
        score={
            "deductions": [{"kind": "overdue_entry", "points": 1}],
            "components": [{"source": "basic", "weight": "0.7"}, {"source": "good_rate", "weight": "0.3"}],
            "bonus": {"items": [{"kind": "award"}], "cap": 5},
        },
        vetoes=VETOES,
        prerequisites=[{"level": 5, "conditions": ["x"], "cap_at_level": 4}],
        promotion={"max_step_up": 1},
        quotas={"5": {"max": "0.5"}},
    )
    r = rate(
        s,
        [
            org(
                1,
                100,
                overdue_entries=1,
                good_rate=D(1),
                bonus_items=(BonusClaim("award", D(2), "表彰"),),
                last_year_level=4,
            )
        ],
    ).by_id(1)
    sources = {line.source for line in r.explanation}
    assert {"任务清单", "扣分", "权重", "加分", "总分", "分档", "上年", "前置条件", "结果"} <= sources
    assert r.total == D("101.30")


# --- gap list ---------------------------------------------------------------------------------


def test_gap_list_cheapest_items_first_and_blockers() -> None:
    s = scheme(
        score={
            "components": [{"source": "basic", "weight": "0.7"}, {"source": "good_rate", "weight": "0.3"}]
        },
        vetoes=VETOES,
        prerequisites=[{"level": 5, "conditions": ["innovation_project"], "cap_at_level": 4}],
    )
    o = org(1, 80, good_rate=D("0.9"), veto_conditions=frozenset({"cap2"}))  # 56 + 27 = 83 → four stars
    gaps = gap_list(s, o, [("A1", "三会一课", D(5)), ("B2", "组织生活会", D(2)), ("C3", "已满分", D(0))])
    assert (gaps.total, gaps.current_level, gaps.next_level) == (D("83.00"), 4, 5)
    assert gaps.missing_total == D(7)
    assert gaps.missing_checklist_points == D(10)
    assert [g.item_code for g in gaps.items] == ["B2", "A1"]
    assert gaps.items_cover_gap is False
    descriptions = " ".join(b.description for b in gaps.blockers)
    assert "软弱涣散" in descriptions and "innovation_project" in descriptions


def test_gap_list_at_the_top_and_named_stars() -> None:
    top = gap_list(scheme(), org(1, 95), [])
    assert (top.next_level, top.missing_total, top.blockers) == (None, 0, ())
    s = scheme(
        mode="named_stars",
        bands=[],
        named_stars=[{"key": "a", "label": "支部过硬星"}, {"key": "b", "label": "产业兴旺星"}],
    )
    named = gap_list(s, org(1, stars_earned=frozenset({"a"})), [])
    assert named.next_level == 2
    assert "产业兴旺星" in named.blockers[0].description
    promo = gap_list(scheme(promotion={"max_step_up": 1}), org(1, 75, last_year_level=2), [("x", "y", D(5))])
    assert promo.next_level == 4 and any(b.source == "晋升" for b in promo.blockers)


def test_imported_deductions_lower_the_basic_score_with_a_line() -> None:
    total, lines = compute_total(scheme(), org(1, 95, other_deductions=D("7")))
    assert total == D("88.00")
    assert any(line.description == "导入的扣分合计" and line.points == D("-7") for line in lines)


def test_lenient_rating_ignores_decisions_no_tie_asks_for_and_reports_them() -> None:
    s = scheme(quotas={"5": {"max": "0.2"}})
    orgs = [org(1, 99), org(2, 95), org(3, 95), org(4, 95), *[org(i, 50) for i in range(5, 11)]]
    result = rate(s, orgs, decisions={5: 3, "nobody": 3, 2: 5, 3: 4, 4: 4}, strict=False)
    assert result.unused_decisions == (5, "nobody")
    assert not result.needs_decision
    assert result.by_id(2).final_level == 5


def test_lenient_rating_drops_decisions_that_no_longer_fit_the_seats() -> None:
    s = scheme(quotas={"5": {"max": "0.2"}})
    orgs = [org(1, 99), org(2, 95), org(3, 95), org(4, 95), *[org(i, 50) for i in range(5, 11)]]
    result = rate(s, orgs, decisions={2: 5, 3: 5, 4: 4}, strict=False)  # two seats given, one left
    assert set(result.unused_decisions) == {2, 3, 4}
    assert result.needs_decision  # the tie is open again for a person to decide

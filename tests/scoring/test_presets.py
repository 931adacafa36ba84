"""Each preset reproduces the behaviour documented in domain-research.md §1.2."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scoring import presets
from scoring.rules import BonusClaim, OrgInputs, compute_total, rate
from scoring.schemes import Scheme

D = Decimal


def org(org_id: int | str, points: str | int, **kwargs: Any) -> OrgInputs:
    return OrgInputs(org_id=org_id, name=f"支部{org_id}", checklist_points=D(str(points)), **kwargs)


def level(scheme: Scheme, o: OrgInputs) -> int | None:
    """The level from bands, vetoes and prerequisites, before quotas (one org alone has no seats)."""
    return rate(scheme, [o]).by_id(o.org_id).provisional_level


def test_presets_are_listed_and_documented() -> None:
    names = presets.available()
    assert len(names) >= 3
    assert {"scheme_b_city_pingxing", "scheme_c_shizhi_wuxing", "scheme_d_jinan_edu"} <= set(names)
    for name in names:
        scheme = presets.load(name)
        assert scheme.notes and "domain-research.md" in scheme.notes
    with pytest.raises(KeyError):
        presets.load("nope")


# --- A: 95/85/75/65/60, <60 无星, five ≤10%, lagging ≥5% ----------------------------------------


@pytest.mark.parametrize(
    ("points", "expected"), [(95, 5), ("94.99", 4), (85, 4), (75, 3), (65, 2), (60, 1), ("59.99", 0)]
)
def test_a_bands(points: Any, expected: int) -> None:
    assert level(presets.load("scheme_a_tianjin_wuhao"), org(1, points)) == expected


def test_a_five_star_at_most_ten_percent_and_lagging_floor_reported() -> None:
    scheme = presets.load("scheme_a_tianjin_wuhao")
    result = rate(scheme, [org(i, 80 + i) for i in range(20)])  # totals 80..99: five candidates 95..99
    assert sum(r.final_level == 5 for r in result.ratings) == 2
    lagging = next(d for d in result.distribution if d.level == 0)
    assert (lagging.count, lagging.min_seats, lagging.below_min) == (0, 1, True)


# --- B: (基础 − 减分) × 70% + 评议 × 30%; 90/80/70/60; five ≤30% -------------------------------


def test_b_weighted_formula_and_bands() -> None:
    scheme = presets.load("scheme_b_city_pingxing")
    branch = org(1, 95, notices=1, good_rate=D("0.9"))  # (95 − 5) × 0.7 + 90 × 0.3 = 90
    assert compute_total(scheme, branch)[0] == D("90.00")
    assert level(scheme, branch) == 5
    assert level(scheme, org(1, 95, notices=1, good_rate=D("0.85"))) == 4  # 88.50
    assert level(scheme, org(1, 50, good_rate=D("0.5"))) == 1  # 50: below 60 is one star, not unrated


def test_b_five_stars_at_most_thirty_percent() -> None:
    scheme = presets.load("scheme_b_city_pingxing")
    result = rate(scheme, [org(i, 90 + i, good_rate=D(1)) for i in range(10)])
    assert sum(r.final_level == 5 for r in result.ratings) == 3
    assert sum(r.final_level == 4 for r in result.ratings) == 7


def test_b_exclusion_veto() -> None:
    scheme = presets.load("scheme_b_city_pingxing")
    assert (
        level(scheme, org(1, 100, good_rate=D(1), veto_conditions=frozenset({"excluded_situation"}))) is None
    )


# --- C: 110 points, five = ≥90 and an innovation project, targets 10/30/40/20 ------------------


def test_c_total_up_to_110_with_bonus() -> None:
    scheme = presets.load("scheme_c_shizhi_wuxing")
    claims = tuple(BonusClaim(kind, D(5), "佐证") for kind in ("award", "brand", "innovation"))
    assert compute_total(scheme, org(1, 100, bonus_items=claims))[0] == D("110.00")
    assert compute_total(scheme, org(1, 80, bonus_items=claims))[0] == D("90.00")


def test_c_five_stars_needs_an_innovation_project() -> None:
    scheme = presets.load("scheme_c_shizhi_wuxing")
    assert level(scheme, org(1, 95)) == 4
    assert level(scheme, org(1, 95, prerequisites_met=frozenset({"innovation_project"}))) == 5
    assert level(scheme, org(1, 90, prerequisites_met=frozenset({"innovation_project"}))) == 5
    assert [level(scheme, org(1, p)) for p in (80, 70, 60, 59)] == [4, 3, 2, 1]


def test_c_targets_are_approximate_and_reported() -> None:
    scheme = presets.load("scheme_c_shizhi_wuxing")
    met = frozenset({"innovation_project"})
    result = rate(scheme, [org(i, 95, prerequisites_met=met) for i in range(10)])
    assert all(r.final_level == 5 for r in result.ratings)  # "左右": not forced
    five = next(d for d in result.distribution if d.level == 5)
    assert (five.target_seats, five.off_target) == (1, True)
    assert [d.target_seats for d in result.distribution] == [1, 3, 4, 2, None]


# --- D: veto → below three stars; integrity certificate; five ≤30% per 党总支 --------------------


@pytest.mark.parametrize("veto", ["veto_event", "seriously_nonstandard", "records_missing", "weak_and_lax"])
def test_d_vetoes_cannot_be_three_stars_or_above(veto: str) -> None:
    scheme = presets.load("scheme_d_jinan_edu")
    o = org(1, 99, veto_conditions=frozenset({veto}), prerequisites_met=frozenset({"integrity_certificate"}))
    assert level(scheme, o) == 2


def test_d_five_stars_needs_an_integrity_certificate() -> None:
    scheme = presets.load("scheme_d_jinan_edu")
    assert level(scheme, org(1, 95)) == 4
    assert level(scheme, org(1, 95, prerequisites_met=frozenset({"integrity_certificate"}))) == 5


def test_d_quota_is_applied_per_general_branch() -> None:
    scheme = presets.load("scheme_d_jinan_edu")
    cert = frozenset({"integrity_certificate"})
    orgs = [
        org(f"{p}{i}", 90 + i, parent_id=p, prerequisites_met=cert)
        for p in ("总支甲", "总支乙")
        for i in range(10)
    ]
    orgs += [org(f"丙{i}", 90 + i, parent_id="总支丙", prerequisites_met=cert) for i in range(3)]
    result = rate(scheme, orgs)
    fives = sorted(str(r.org_id) for r in result.ratings if r.final_level == 5)
    # 10 × 30% = 3 seats in each of 甲 and 乙; 3 × 30% = 0.9, rounded down: no five stars in 丙
    assert fives == ["总支乙7", "总支乙8", "总支乙9", "总支甲7", "总支甲8", "总支甲9"]
    assert result.by_id("丙2").final_level == 4


# --- E: only 3–5 stars; direct rating ---------------------------------------------------------


def test_e_three_to_five_stars_and_direct_rating() -> None:
    scheme = presets.load("scheme_e_district_xingji")
    assert level(scheme, org(1, "69.99")) is None
    assert level(scheme, org(1, 70)) == 3
    assert level(scheme, org(1, 40, honours=frozenset({"区级以上先进基层党组织"}))) == 5
    result = rate(scheme, [org(i, 91 + i) for i in range(10)])  # all in the five-star band
    # 10% / 40% / 30% of 10: the rest fall below three stars, i.e. 未定级
    assert [sum(r.final_level == lv for r in result.ratings) for lv in (5, 4, 3, None)] == [1, 4, 3, 2]


# --- H: satisfaction 30%; < 60% satisfaction → two stars at most --------------------------------


def test_h_satisfaction_weight_and_cap() -> None:
    scheme = presets.load("scheme_h_zoucheng")
    assert compute_total(scheme, org(1, 100, satisfaction=D("0.7")))[0] == D("91.00")
    assert level(scheme, org(1, 100, satisfaction=D("0.7"))) == 5
    assert level(scheme, org(1, 100, satisfaction=D("0.59"))) == 2  # 87.70 would be four stars


# --- K: named stars ---------------------------------------------------------------------------


def test_k_level_is_the_number_of_named_stars() -> None:
    scheme = presets.load("scheme_k_henan_named")
    earned = frozenset({"strong_branch", "thriving_industry", "civilised_happiness"})
    assert level(scheme, org(1, 0, stars_earned=earned)) == 3

"""Properties of the rating engine that must hold for every input (hypothesis)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.rules import BonusClaim, OrgInputs, compute_total, rate
from scoring.schemes import Scheme, scheme_from_dict

D = Decimal
FEW = settings(max_examples=100, deadline=None)


def make_scheme(scope: str, rounding: str, five: str, four: str) -> Scheme:
    data: dict[str, Any] = {
        "version": 1,
        "name": "性质测试",
        "mode": "bands",
        "levels": {"rated": [1, 2, 3, 4, 5]},
        "bands": [
            {"level": 5, "min": 90, "label": "五星级"},
            {"level": 4, "min": 80, "label": "四星级"},
            {"level": 3, "min": 70, "label": "三星级"},
            {"level": 2, "min": 60, "label": "二星级"},
            {"level": 1, "min": 0, "label": "一星级"},
        ],
        "score": {
            "deductions": [{"kind": "notice", "points": 2, "cap": 6}],
            "components": [{"source": "basic", "weight": "0.7"}, {"source": "good_rate", "weight": "0.3"}],
            "bonus": {"items": [{"kind": "award", "cap": 5}], "cap": 8, "max_total": 105},
        },
        "vetoes": [
            {"key": "none", "description": "不予评定", "effect": "no_rating"},
            {"key": "cap2", "description": "封顶二星", "effect": "cap_at_level", "level": 2},
            {"key": "down1", "description": "降一档", "effect": "demote", "level": 1},
        ],
        "quota_scope": scope,
        "quota_rounding": rounding,
        "quotas": {"5": {"max": five}, "4": {"max": four}},
    }
    return scheme_from_dict(data)


schemes = st.builds(
    make_scheme,
    st.sampled_from(["committee", "parent"]),
    st.sampled_from(["floor", "ceil", "round"]),
    st.sampled_from(["0", "0.1", "0.25", "0.3", "0.5", "1"]),
    st.sampled_from(["0.2", "0.4", "1"]),
)
points = st.sampled_from([D(x) for x in ("50", "75", "85", "90", "95", "100", "93.5")])
rates = st.one_of(st.none(), st.sampled_from([D("0"), D("0.5"), D("0.9"), D("1")]))
vetoes = st.frozensets(st.sampled_from(["none", "cap2", "down1"]), max_size=2)


@st.composite
def org_lists(draw: st.DrawFn) -> list[OrgInputs]:
    n = draw(st.integers(min_value=1, max_value=14))
    return [
        OrgInputs(
            org_id=i,
            name=f"支部{i}",
            parent_id=draw(st.sampled_from(["A", "B"])),
            checklist_points=draw(points),
            notices=draw(st.integers(min_value=0, max_value=4)),
            good_rate=draw(rates),
            veto_conditions=draw(vetoes),
        )
        for i in range(n)
    ]


@FEW
@given(schemes, org_lists())
def test_quota_max_is_never_exceeded(scheme: Scheme, orgs: list[OrgInputs]) -> None:
    result = rate(scheme, orgs)
    for row in result.distribution:
        if row.max_seats is not None:
            assert row.count <= row.max_seats


@FEW
@given(schemes, org_lists())
def test_veto_always_applies(scheme: Scheme, orgs: list[OrgInputs]) -> None:
    result = rate(scheme, orgs)
    for o in orgs:
        r = result.by_id(o.org_id)
        if "none" in o.veto_conditions:
            assert r.final_level is None
        if "cap2" in o.veto_conditions:
            assert (r.final_level or 0) <= 2
        if "down1" in o.veto_conditions and r.score_level is not None:
            assert (r.final_level or 0) <= r.score_level - 1


@FEW
@given(
    schemes,
    org_lists(),
    st.sampled_from([D("0.01"), D("1"), D("7.5"), D("30")]),
    st.sampled_from(["checklist", "good_rate", "bonus"]),
)
def test_raising_a_helpful_input_never_lowers_the_total(
    scheme: Scheme, orgs: list[OrgInputs], step: Decimal, what: str
) -> None:
    o = orgs[0]
    if what == "checklist":
        better = OrgInputs(**{**o.__dict__, "checklist_points": o.checklist_points + step})
    elif what == "good_rate":
        better = OrgInputs(**{**o.__dict__, "good_rate": min((o.good_rate or D(0)) + step / 100, D(1))})
    else:
        better = OrgInputs(
            **{**o.__dict__, "bonus_items": (*o.bonus_items, BonusClaim("award", step, "表彰"))}
        )
    assert compute_total(scheme, better)[0] >= compute_total(scheme, o)[0]
    # within a full rating run too: the total of that org only depends on its own inputs
    assert rate(scheme, [better, *orgs[1:]]).by_id(o.org_id).total >= rate(scheme, orgs).by_id(o.org_id).total


@FEW
@given(schemes, org_lists(), st.randoms(use_true_random=False))
def test_order_of_inputs_does_not_matter(scheme: Scheme, orgs: list[OrgInputs], rnd: Any) -> None:
    shuffled = list(orgs)
    rnd.shuffle(shuffled)
    assert rate(scheme, shuffled) == rate(scheme, orgs)


@FEW
@given(schemes, org_lists())
def test_ties_are_never_broken_silently(scheme: Scheme, orgs: list[OrgInputs]) -> None:
    result = rate(scheme, orgs)
    scope = (lambda o: "all") if scheme.quota_scope == "committee" else (lambda o: o.parent_id)
    by_key: dict[tuple[Any, Decimal, int | None], set[int | None]] = {}
    for o in orgs:
        r = result.by_id(o.org_id)
        by_key.setdefault((scope(o), r.total, r.provisional_level), set()).add(r.final_level)
    # equal totals and equal standing before quotas → equal treatment, always
    assert all(len(levels) == 1 for levels in by_key.values())
    for group in result.needs_decision:
        assert len(group.org_ids) > group.seats_left > 0
        assert all((result.by_id(i).final_level or 0) < group.level for i in group.org_ids)


@FEW
@given(schemes, org_lists())
def test_explicit_decisions_resolve_every_tie_within_the_quota(scheme: Scheme, orgs: list[OrgInputs]) -> None:
    decisions: dict[int | str, int | None] = {}
    result = rate(scheme, orgs)
    for _ in range(20):
        if not result.needs_decision:
            break
        for group in result.needs_decision:
            for index, org_id in enumerate(group.org_ids):
                decisions[org_id] = group.level if index < group.seats_left else group.level - 1
        result = rate(scheme, orgs, decisions)
    assert result.needs_decision == ()
    for row in result.distribution:
        if row.max_seats is not None:
            assert row.count <= row.max_seats
    decided = Counter(r.quota_decision for r in result.ratings)
    assert decided["decided"] <= len(decisions)

"""Schemes as data: round trip, and every invalid field named in Chinese."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from scoring import presets
from scoring.schemes import SchemeError, scheme_from_dict, scheme_to_dict

FULL: dict[str, Any] = {
    "version": 1,
    "name": "完整方案",
    "notes": "所有字段",
    "mode": "points_account",
    "applies_to": "agency_committee",
    "decision_step": "joint_meeting",
    "publicity_days": 7,
    "levels": {"rated": [3, 4, 5], "below_lowest": "no_star"},
    "bands": [
        {"level": 5, "min": "95.5", "label": "五星级"},
        {"level": 4, "min": 85, "label": "四星级"},
        {"level": 3, "min": 75, "label": "三星级"},
    ],
    "named_stars": [{"key": "a", "label": "过硬星"}],
    "score": {
        "base": 100,
        "max_checklist": 50,
        "deductions": [
            {"kind": "notice", "points": "2.5", "cap": 10},
            {"kind": "overdue_entry", "points": 1, "cap": None},
        ],
        "components": [{"source": "basic", "weight": "0.7"}, {"source": "satisfaction", "weight": "0.3"}],
        "review_full_marks": 100,
        "bonus": {"items": [{"kind": "award", "cap": 5}], "cap": 10, "max_total": 110},
    },
    "vetoes": [
        {"key": "v1", "description": "重大违纪", "effect": "no_rating", "level": None},
        {"key": "v2", "description": "软弱涣散", "effect": "cap_at_level", "level": 0},
        {"key": "v3", "description": "被通报", "effect": "demote", "level": 1},
    ],
    "prerequisites": [
        {
            "level": 5,
            "conditions": ["innovation_project"],
            "min_satisfaction": "0.6",
            "min_good_rate": None,
            "cap_at_level": 4,
        }
    ],
    "quota_scope": "parent",
    "quota_rounding": "ceil",
    "quotas": {
        "5": {"max": "0.1", "target": "0.1", "min": None},
        "0": {"max": None, "target": None, "min": "0.05"},
    },
    "promotion": {
        "max_step_up": 1,
        "skip_honours": ["市级综合性荣誉"],
        "direct_rating": [{"honour": "先进基层党组织", "level": 5}],
        "new_orgs_unrated": True,
    },
}


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SchemeError) as info:
        scheme_from_dict(data)
    return dict(info.value.errors)


def with_change(path: str, value: Any) -> dict[str, Any]:
    """A copy of FULL with one field set (dotted path; [n] for list entries)."""
    data = copy.deepcopy(FULL)
    target: Any = data
    parts = path.replace("[", ".").replace("]", "").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


def test_round_trip_is_exact() -> None:
    scheme = scheme_from_dict(FULL)
    assert scheme_to_dict(scheme) == FULL
    assert scheme_from_dict(scheme_to_dict(scheme)) == scheme
    assert scheme_from_dict(json.loads(json.dumps(scheme_to_dict(scheme), ensure_ascii=False))) == scheme


@pytest.mark.parametrize("name", presets.available())
def test_presets_round_trip(name: str) -> None:
    scheme = presets.load(name)
    assert scheme_from_dict(scheme_to_dict(scheme)) == scheme


def test_defaults_fill_a_minimal_scheme() -> None:
    scheme = scheme_from_dict(
        {
            "version": 1,
            "name": "最小",
            "mode": "bands",
            "levels": {"rated": [1]},
            "bands": [{"level": 1, "min": 0, "label": "一星"}],
        }
    )
    assert (scheme.publicity_days, scheme.quota_scope, scheme.quota_rounding, scheme.applies_to) == (
        5,
        "committee",
        "floor",
        "branch",
    )
    assert scheme.levels.below_lowest == "unrated"
    assert scheme.promotion.new_orgs_unrated is True


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("version", 0, "必须在"),
        ("version", "1", "必须是整数"),
        ("name", "", "非空"),
        ("mode", "stars", "之一"),
        ("applies_to", "party_group", "之一"),
        ("decision_step", "vote", "之一"),
        ("publicity_days", -1, "必须在"),
        ("levels.rated", [], "至少"),
        ("levels.rated[0]", 0, "必须在"),
        ("levels.below_lowest", "none", "之一"),
        ("bands[2].min", "七十五", "下限必须是数字"),
        ("bands[2].min", True, "下限必须是数字"),
        ("bands[2].min", -1, "不能小于 0"),
        ("bands[2].level", 2, "levels.rated"),
        ("bands[1].label", "", "非空"),
        ("score.base", "x", "必须是数字"),
        ("score.deductions[0].kind", "late", "之一"),
        ("score.deductions[0].points", 0, "大于 0"),
        ("score.deductions[0].cap", -3, "大于 0"),
        ("score.components[1].weight", "1.5", "权重须在 0 到 1 之间"),
        ("score.components[1].source", "survey", "之一"),
        ("score.bonus.max_total", "NaN", "必须是数字"),
        ("score.bonus.items[0].kind", 3, "文字"),
        ("vetoes[1].effect", "remove", "之一"),
        ("vetoes[2].level", 0, "必须在"),
        ("vetoes[0].level", 2, "不需要等级"),
        ("prerequisites[0].cap_at_level", 5, "封顶等级必须低于该等级"),
        ("prerequisites[0].min_satisfaction", "1.2", "比例须在 0 到 1 之间"),
        ("quota_scope", "district", "之一"),
        ("quota_rounding", "bankers", "之一"),
        ("quotas.5.max", "1.5", "比例须在 0 到 1 之间"),
        ("quotas.5.target", "abc", "比例必须是数字"),
        ("promotion.max_step_up", 0, "必须在"),
        ("promotion.direct_rating[0].level", 2, "levels.rated"),
        ("promotion.new_orgs_unrated", "yes", "true 或 false"),
    ],
)
def test_each_invalid_field_is_named_with_a_chinese_message(path: str, value: Any, message: str) -> None:
    errors = errors_of(with_change(path, value))
    assert path in errors, errors
    assert message in errors[path]


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("colour", {"colour": "red"}),
        ("score.weightz", {"score": {**FULL["score"], "weightz": 1}}),
        ("bands[0].max", {"bands": [{**FULL["bands"][0], "max": 100}, *FULL["bands"][1:]]}),
        ("quotas.5.cap", {"quotas": {"5": {"max": "0.1", "cap": 1}}}),
        ("promotion.step", {"promotion": {"step": 1}}),
    ],
)
def test_unknown_keys_are_refused(path: str, extra: dict[str, Any]) -> None:
    errors = errors_of({**FULL, **extra})
    assert errors.get(path) == "未知字段"


def test_structural_rules() -> None:
    assert errors_of({})["version"] == "缺少必填字段"
    errors = errors_of({**FULL, "bands": [{**FULL["bands"][0], "min": 80}, *FULL["bands"][1:]]})
    assert "等级越高" in errors["bands[0].min"]
    errors = errors_of({**FULL, "bands": FULL["bands"][:2]})
    assert "每个评定等级" in errors["bands"]
    errors = errors_of({**FULL, "mode": "named_stars", "named_stars": []})
    assert "命名星" in errors["named_stars"]
    errors = errors_of({**FULL, "quotas": {"2": {"max": "0.1"}}})
    assert "quotas.2" in errors
    errors = errors_of({**FULL, "quotas": {"5": {"max": "0.1", "min": "0.2"}}})
    assert "quotas.5.min" in errors
    errors = errors_of(
        {**FULL, "score": {**FULL["score"], "components": [{"source": "good_rate", "weight": 1}]}}
    )
    assert "basic" in errors["score.components"]
    errors = errors_of({**FULL, "vetoes": [FULL["vetoes"][0], FULL["vetoes"][0]]})
    assert "重复" in errors["vetoes[1]"]
    assert errors_of([])[""] == "必须是对象"  # type: ignore[arg-type]


def test_all_errors_are_reported_at_once() -> None:
    data = with_change("bands[2].min", "x")
    data["quotas"] = {"5": {"max": 2}}
    data["publicity_days"] = "五"
    errors = errors_of(data)
    assert {"bands[2].min", "quotas.5.max", "publicity_days"} <= set(errors)
    with pytest.raises(SchemeError, match=re.escape("bands[2].min: 下限必须是数字")):
        scheme_from_dict(data)


def _paths(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [
            p for key, item in value.items() for p in [f"{prefix}{key}", *_paths(item, f"{prefix}{key}.")]
        ]
    if isinstance(value, list):
        base = prefix.rstrip(".")
        return [p for i, item in enumerate(value) for p in [f"{base}[{i}]", *_paths(item, f"{base}[{i}].")]]
    return []


@pytest.mark.parametrize("path", _paths(FULL))
def test_any_junk_in_any_field_gives_a_scheme_error_not_a_crash(path: str) -> None:
    for junk in (None, 7, "x", [], {}, True, "-1", 2.5):
        try:
            scheme_from_dict(with_change(path, junk))
        except SchemeError as error:
            assert error.errors and all(isinstance(p, str) and m for p, m in error.errors)

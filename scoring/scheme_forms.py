"""The structured scheme editor: HTML form fields ↔ scheme dict, Chinese field names, a summary.

The editor posts plain inputs: one per scalar (``name``, ``publicity_days``, ``bonus_cap`` ...),
checkboxes ``rated`` for the rated levels, and rows named ``<list>-<index>-<field>`` (``bands-0-min``)
for every list. ``form_to_dict`` turns a POST into the scheme dict of ``scoring/schemes.py``; it keeps
every value as typed (strings, ints only where the format needs an int) and leaves all validation to
``scheme_from_dict``. Blank rows (the spare rows) and rows ticked for deletion are dropped, and the
rest renumbered, so the ``bands[1].min`` of a ``SchemeError`` is the second row shown again.
``dict_to_rows`` gives the template context for a scheme dict; ``form_context`` does the same for a
rejected POST and places each error next to its input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from scoring.rules import DEDUCTION_LABELS, SOURCE_LABELS
from scoring.schemes import (
    APPLIES_TO,
    BELOW_LOWEST,
    COMPONENT_SOURCES,
    DECISION_STEPS,
    DEDUCTION_KINDS,
    FORMAT_VERSION,
    MAX_LEVEL,
    MODES,
    QUOTA_SCOPES,
    ROUNDINGS,
    VETO_EFFECTS,
    Scheme,
    scheme_from_dict,
    scheme_to_dict,
)

MAX_SCHEME_BYTES = 256 * 1024
SPARE_ROWS = 2
PREFIX = "__prefix__"  # the row index placeholder of the JS row template

MODE_LABELS = {
    "bands": "分档（按总分定级）",
    "named_stars": "命名星（按获得的星数定级）",
    "points_account": "积分制（基础分加减全年事件后分档）",
}
APPLIES_TO_LABELS = {"branch": "党支部（达标创星）", "agency_committee": "机关党委（模范机关建设先进单位）"}
DECISION_STEP_LABELS = {"committee_review": "工委审核", "joint_meeting": "联席会议评估认定"}
BELOW_LOWEST_LABELS = {"no_star": "无星（0 星）", "unrated": "未定级"}
VETO_EFFECT_LABELS = {"no_rating": "取消评定", "cap_at_level": "最高评为（等级）", "demote": "降低（等级数）"}
QUOTA_SCOPE_LABELS = {"committee": "全工委统一计算", "parent": "按上级组织分别计算"}
ROUNDING_LABELS = {"floor": "向下取整", "ceil": "向上取整", "round": "四舍五入"}
SHARE_HELP = "0–1，如 0.1 表示 10%"

# Separators accepted in the 条件代码 cell: commas (half or full width), 、 and semicolons.
LIST_SEPARATORS = re.compile(r"[,，、;；\n]+")


def _choices(codes: Iterable[str], labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((code, labels.get(code, code)) for code in codes)


@dataclass(frozen=True)
class Column:
    """One input of the editor. ``blank`` says what an empty input becomes in the dict:
    "keep" passes "" on (so the validator names the missing value), "null" gives None and
    "omit" leaves the key out (the format's default applies)."""

    field: str
    label: str
    kind: str = "text"  # text | textarea | int | number | select | list | lines | checkbox | levels
    choices: tuple[tuple[str, str], ...] = ()
    blank: str = "keep"
    placeholder: str = ""
    width: str = "8rem"

    @property
    def short_label(self) -> str:
        """The label without its bracketed hint: 下限（含） → 下限."""
        return re.sub(r"（.*?）", "", self.label)


@dataclass(frozen=True)
class ListSpec:
    key: str  # input name prefix
    path: str  # where the list sits in the scheme dict
    noun: str  # 分档 → “第2个分档”
    title: str
    columns: tuple[Column, ...]
    help: str = ""

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field == name), None)


@dataclass(frozen=True)
class Scalar:
    key: str  # input name and context key
    path: str
    column: Column


def _scalar(key: str, path: str, label: str, kind: str = "text", **options: Any) -> Scalar:
    return Scalar(key, path, Column(key, label, kind, **options))


SCALARS: tuple[Scalar, ...] = (
    _scalar("name", "name", "方案名称", placeholder="如 2026年度党支部达标创星"),
    _scalar("notes", "notes", "说明", "textarea", placeholder="依据的文件，以及政策未规定而自行确定的数字"),
    _scalar("mode", "mode", "评定方式", "select", choices=_choices(MODES, MODE_LABELS)),
    _scalar(
        "applies_to", "applies_to", "适用组织", "select", choices=_choices(APPLIES_TO, APPLIES_TO_LABELS)
    ),
    _scalar(
        "decision_step",
        "decision_step",
        "认定环节",
        "select",
        choices=_choices(DECISION_STEPS, DECISION_STEP_LABELS),
    ),
    _scalar("publicity_days", "publicity_days", "公示天数", "int", placeholder="如 5"),
    _scalar("rated", "levels.rated", "评定等级", "levels"),
    _scalar(
        "below_lowest",
        "levels.below_lowest",
        "最低档以下",
        "select",
        choices=_choices(BELOW_LOWEST, BELOW_LOWEST_LABELS),
    ),
    _scalar("base", "score.base", "基础分", "number", blank="omit", placeholder="留空为 0；积分制如 100"),
    _scalar(
        "max_checklist", "score.max_checklist", "清单满分", "number", blank="null", placeholder="留空不封顶"
    ),
    _scalar(
        "review_full_marks",
        "score.review_full_marks",
        "评议满分",
        "number",
        blank="omit",
        placeholder="留空为 100",
    ),
    _scalar(
        "bonus_cap", "score.bonus.cap", "加分合计上限", "number", blank="null", placeholder="留空不设上限"
    ),
    _scalar(
        "max_total",
        "score.bonus.max_total",
        "总分上限",
        "number",
        blank="null",
        placeholder="如 110，留空不设",
    ),
    _scalar(
        "quota_scope", "quota_scope", "名额范围", "select", choices=_choices(QUOTA_SCOPES, QUOTA_SCOPE_LABELS)
    ),
    _scalar(
        "quota_rounding", "quota_rounding", "名额取整", "select", choices=_choices(ROUNDINGS, ROUNDING_LABELS)
    ),
    _scalar(
        "max_step_up",
        "promotion.max_step_up",
        "每年最多提升等级数",
        "int",
        blank="null",
        placeholder="留空不限",
    ),
    _scalar(
        "skip_honours", "promotion.skip_honours", "可破格的荣誉", "lines", placeholder="每行一个荣誉名称"
    ),
    _scalar("new_orgs_unrated", "promotion.new_orgs_unrated", "年内新成立的组织不定级", "checkbox"),
)
SCALAR_BY_KEY = {s.key: s for s in SCALARS}
SCALAR_BY_PATH = {s.path: s for s in SCALARS}

LEVEL_HINT = "如 5"
LISTS: tuple[ListSpec, ...] = (
    ListSpec(
        "bands",
        "bands",
        "分档",
        "分档",
        (
            Column("level", "等级", "int", placeholder=LEVEL_HINT, width="5rem"),
            Column("min", "下限（含）", "number", placeholder="如 90", width="6rem"),
            Column("label", "名称", placeholder="如 五星级", width="10rem"),
        ),
        "每个评定等级一行；下限含本数，如 90 表示总分 ≥ 90 分。等级越高，下限必须越高。命名星方式不用分档。",
    ),
    ListSpec(
        "named_stars",
        "named_stars",
        "命名星",
        "命名星",
        (
            Column("key", "代码", placeholder="如 strong_branch", width="10rem"),
            Column("label", "星名", placeholder="如 支部过硬星", width="10rem"),
        ),
        "仅命名星方式使用：等级 = 获得的命名星数量。",
    ),
    ListSpec(
        "deductions",
        "score.deductions",
        "扣分项",
        "扣分项",
        (
            Column(
                "kind", "类别", "select", choices=_choices(DEDUCTION_KINDS, DEDUCTION_LABELS), width="10rem"
            ),
            Column("points", "每次扣分", "number", placeholder="如 1", width="6rem"),
            Column("cap", "扣分上限", "number", blank="null", placeholder="留空不设", width="6rem"),
        ),
        "每个类别最多一行。",
    ),
    ListSpec(
        "components",
        "score.components",
        "得分组成",
        "得分组成与权重",
        (
            Column(
                "source", "来源", "select", choices=_choices(COMPONENT_SOURCES, SOURCE_LABELS), width="10rem"
            ),
            Column("weight", f"权重（{SHARE_HELP}）", "number", placeholder="如 0.7", width="6rem"),
        ),
        "必须包含“基础项”（基础分 + 清单得分 − 扣分）；好评率和满意度按评议满分折算。",
    ),
    ListSpec(
        "bonus_items",
        "score.bonus.items",
        "加分项",
        "加分项",
        (
            Column("kind", "类别代码", placeholder="如 award", width="10rem"),
            Column("cap", "加分上限", "number", blank="null", placeholder="留空不设", width="6rem"),
        ),
        "未列出的加分类别不计分。",
    ),
    ListSpec(
        "vetoes",
        "vetoes",
        "否决条件",
        "一票否决",
        (
            Column("key", "代码", placeholder="如 违纪违法", width="8rem"),
            Column("description", "说明", placeholder="如 班子成员发生严重违纪违法问题", width="14rem"),
            Column(
                "effect", "后果", "select", choices=_choices(VETO_EFFECTS, VETO_EFFECT_LABELS), width="9rem"
            ),
            Column("level", "等级", "int", blank="null", placeholder="取消评定时留空", width="6rem"),
        ),
        "“最高评为”填封顶等级（可为 0）；“降低”填降低的等级数；“取消评定”不填等级。",
    ),
    ListSpec(
        "prerequisites",
        "prerequisites",
        "前置条件",
        "各等级前置条件",
        (
            Column("level", "适用等级（及以上）", "int", placeholder=LEVEL_HINT, width="5rem"),
            Column("conditions", "条件代码", "list", placeholder="多个用“、”或逗号分隔", width="12rem"),
            Column(
                "min_satisfaction",
                "满意度下限（0–1）",
                "number",
                blank="null",
                placeholder="如 0.6",
                width="6rem",
            ),
            Column(
                "min_good_rate",
                "好评率下限（0–1）",
                "number",
                blank="null",
                placeholder="如 0.8",
                width="6rem",
            ),
            Column("cap_at_level", "不满足时最高等级", "int", placeholder="如 4", width="5rem"),
        ),
        f"不满足任一条件的组织不能评该等级及以上，最高评为所填等级。满意度、好评率为比例（{SHARE_HELP}）。",
    ),
    ListSpec(
        "quotas",
        "quotas",
        "名额",
        "名额（各等级占比）",
        (
            Column("level", "等级（0 为无星）", placeholder=LEVEL_HINT, width="5rem"),
            Column("max", "最高占比（0–1）", "number", blank="omit", placeholder="如 0.1", width="6rem"),
            Column("target", "目标占比（0–1）", "number", blank="omit", placeholder="留空不设", width="6rem"),
            Column("min", "最低占比（0–1）", "number", blank="omit", placeholder="留空不设", width="6rem"),
        ),
        f"占比（{SHARE_HELP}）。最高占比强制执行；目标和最低占比在分布中提示。",
    ),
    ListSpec(
        "direct_rating",
        "promotion.direct_rating",
        "直接定级",
        "直接定级",
        (
            Column("honour", "荣誉", placeholder="如 区级以上先进基层党组织", width="14rem"),
            Column("level", "至少定为等级", "int", placeholder=LEVEL_HINT, width="5rem"),
        ),
        "获得该荣誉的组织直接定为不低于所填等级。",
    ),
)
LIST_BY_KEY = {spec.key: spec for spec in LISTS}
LIST_BY_PATH = {spec.path: spec for spec in LISTS}
OBJECT_LABELS = {
    "levels": "等级设置",
    "score": "得分构成",
    "score.bonus": "得分构成 · 加分",
    "promotion": "晋升规则",
}
EXTRA_LABELS = {"version": "格式版本", "quotas": "名额"}


# --- values: what the form holds, as strings ---------------------------------------------------


@dataclass
class Values:
    """The editor's content as typed: scalars (a list for ``rated``) and compacted rows."""

    scalars: dict[str, Any] = field(default_factory=dict)
    lists: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _get(source: Any, key: str) -> Any:
    value = source.get(key)
    if isinstance(value, list | tuple):  # a plain dict of lists, as a test client would post
        return value[-1] if value else None
    return value


def _getlist(source: Any, key: str) -> list[str]:
    if hasattr(source, "getlist"):
        return [str(v) for v in source.getlist(key)]
    value = source.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _clean(value: Any) -> str:
    return _text(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _from_post(source: Any) -> Values:
    values = Values()
    for scalar in SCALARS:
        if scalar.column.kind == "levels":
            values.scalars[scalar.key] = [v.strip() for v in _getlist(source, scalar.key)]
        elif scalar.column.kind == "checkbox":
            values.scalars[scalar.key] = "on" if _get(source, scalar.key) else ""
        else:
            values.scalars[scalar.key] = _clean(_get(source, scalar.key))
    for spec in LISTS:
        pattern = re.compile(rf"^{spec.key}-(\d+)-(\w+)$")
        indices = sorted({int(m.group(1)) for key in source if (m := pattern.match(str(key)))})
        rows: list[dict[str, str]] = []
        for index in indices:
            if _get(source, f"{spec.key}-{index}-DELETE"):
                continue
            row = {c.field: _clean(_get(source, f"{spec.key}-{index}-{c.field}")) for c in spec.columns}
            if any(row.values()):
                rows.append(row)
        values.lists[spec.key] = rows
    return values


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _from_dict(data: Mapping[str, Any]) -> Values:
    values = Values()
    for scalar in SCALARS:
        value = _dig(data, scalar.path)
        kind = scalar.column.kind
        if kind == "levels":
            values.scalars[scalar.key] = [_text(v) for v in value or []]
        elif kind == "checkbox":
            values.scalars[scalar.key] = "" if value is False else "on"
        elif kind == "lines":
            values.scalars[scalar.key] = "\n".join(_text(v) for v in value or [])
        else:
            values.scalars[scalar.key] = _text(value)
    for spec in LISTS:
        raw = _dig(data, spec.path)
        if spec.key == "quotas":
            items = raw.items() if isinstance(raw, Mapping) else []
            values.lists["quotas"] = [
                {"level": _text(key), **{f: _text((q or {}).get(f)) for f in ("max", "target", "min")}}
                for key, q in items
            ]
            continue
        rows = []
        for item in raw if isinstance(raw, list | tuple) else []:
            item = item if isinstance(item, Mapping) else {}
            row = {}
            for column in spec.columns:
                value = item.get(column.field)
                row[column.field] = (
                    "、".join(_text(v) for v in value)
                    if column.kind == "list" and isinstance(value, list | tuple)
                    else _text(value)
                )
            rows.append(row)
        values.lists[spec.key] = rows
    return values


# --- values → scheme dict ---------------------------------------------------------------------

_INT = re.compile(r"^[+-]?\d+$")


def _convert(column: Column, raw: str) -> tuple[bool, Any]:
    """(keep the key?, value) for one input."""
    if raw == "" and column.kind not in ("list", "lines", "checkbox", "levels"):
        if column.blank == "omit":
            return False, None
        if column.blank == "null":
            return True, None
        return True, ""
    if column.kind == "int":
        return True, int(raw) if _INT.match(raw) else raw
    if column.kind == "list":
        return True, [part.strip() for part in LIST_SEPARATORS.split(raw) if part.strip()]
    if column.kind == "lines":
        return True, [line.strip() for line in raw.split("\n") if line.strip()]
    if column.kind == "checkbox":
        return True, bool(raw)
    return True, raw


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _to_dict(values: Values) -> dict[str, Any]:
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    for scalar in SCALARS:
        raw = values.scalars.get(scalar.key, "")
        if scalar.column.kind == "levels":
            _put(data, scalar.path, [int(v) if _INT.match(v) else v for v in raw])
            continue
        keep, value = _convert(scalar.column, raw)
        if keep:
            _put(data, scalar.path, value)
    for spec in LISTS:
        rows = values.lists.get(spec.key, [])
        if spec.key == "quotas":
            quotas: dict[str, Any] = {}
            for row in rows:
                shares = {}
                for name in ("max", "target", "min"):
                    keep, value = _convert(spec.columns[1], row[name])
                    if keep:
                        shares[name] = value
                quotas.setdefault(row["level"], shares)  # a repeated level is reported by _form_errors
            _put(data, spec.path, quotas)
            continue
        items = []
        for row in rows:
            item: dict[str, Any] = {}
            for column in spec.columns:
                keep, value = _convert(column, row[column.field])
                if keep:
                    item[column.field] = value
            items.append(item)
        _put(data, spec.path, items)
    return data


def _form_errors(values: Values) -> list[tuple[str, str]]:
    """Problems only the form can see (a dict cannot hold a repeated quota level)."""
    errors = []
    seen: set[str] = set()
    for index, row in enumerate(values.lists.get("quotas", [])):
        if row["level"] in seen:
            errors.append((f"quotas[{index}].level", "等级重复"))
        seen.add(row["level"])
    return errors


def form_to_dict(source: Any) -> dict[str, Any]:
    """The scheme dict of a submitted editor (a QueryDict or a dict of strings / lists)."""
    return _to_dict(_from_post(source))


@dataclass(frozen=True)
class Submitted:
    data: dict[str, Any]
    values: Values
    errors: list[tuple[str, str]]  # form-level problems; the validator's come from scheme_save


def form_parse(source: Any) -> Submitted:
    values = _from_post(source)
    return Submitted(_to_dict(values), values, _form_errors(values))


# --- field paths in Chinese -------------------------------------------------------------------

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
_QUOTA_PATH = re.compile(r"^quotas\.([^.]+)(?:\.(\w+))?$")


def _level_name(key: str) -> str:
    return "无星" if key == "0" else f"{key}星"


def describe_path(path: str) -> tuple[str, str]:
    """(Chinese name of the field, its last label) for a validator path such as ``bands[1].min``."""
    if not path:
        return "方案", ""
    quota = _QUOTA_PATH.match(path)
    if quota:
        key, name = quota.groups()
        named = ["名额", _level_name(key)]
        column = LIST_BY_KEY["quotas"].column(name) if name else None
        if name:
            named.append(column.short_label if column else name)
        return " · ".join(named), named[-1]
    parts: list[str] = []
    current = ""
    spec: ListSpec | None = None
    for index, name in _TOKEN.findall(path):
        if index:
            if current in LIST_BY_PATH:
                spec = LIST_BY_PATH[current]
                parts = [f"第{int(index) + 1}个{spec.noun}"]
            else:
                parts.append(f"第{int(index) + 1}项")
            continue
        current = f"{current}.{name}" if current else name
        if spec is not None and current.startswith(spec.path + "."):
            column = spec.column(current[len(spec.path) + 1 :])
            parts.append(column.short_label if column else name)
        elif current in SCALAR_BY_PATH:
            parts = [SCALAR_BY_PATH[current].column.short_label]
        elif current in LIST_BY_PATH:
            parts = [LIST_BY_PATH[current].title]
        elif current in OBJECT_LABELS:
            parts = [OBJECT_LABELS[current]]
        elif current in EXTRA_LABELS:
            parts = [EXTRA_LABELS[current]]
        else:
            parts.append(name)
    return " · ".join(parts), parts[-1] if parts else ""


def _short_message(message: str, label: str) -> str:
    """“下限必须是数字” next to the 下限 input reads “必须是数字”."""
    if label and message.startswith(label) and len(message) > len(label):
        return message[len(label) :]
    return message


def editor_error_line(path: str, message: str) -> str:
    """第2个分档 · 下限：必须是数字"""
    if not path:
        return message
    name, label = describe_path(path)
    return f"{name}：{_short_message(message, label).replace('levels.rated', '“评定等级”')}"


def import_error_line(path: str, message: str) -> str:
    """bands[0].min（第1个分档 · 下限）：必须是数字"""
    if not path:
        return message
    name, label = describe_path(path)
    return f"{path}（{name}）：{_short_message(message, label)}"


# --- template context -------------------------------------------------------------------------


def _anchor(path: str, values: Values) -> str | None:
    """The input (``bands-1-min``), row (``bands-1``), list (``bands``) or scalar an error belongs to."""
    quota = _QUOTA_PATH.match(path)
    if quota:
        key, name = quota.groups()
        for position, row in enumerate(values.lists.get("quotas", [])):
            if row["level"] == key:
                return f"quotas-{position}-{name if name in ('max', 'target', 'min') else 'level'}"
        return "quotas"
    match = re.match(r"^(.+?)\[(\d+)\](?:\.(\w+))?", path)
    if match:
        base, index, name = match.groups()
        if base in LIST_BY_PATH:
            key = LIST_BY_PATH[base].key
            if name and LIST_BY_PATH[base].column(name):
                return f"{key}-{index}-{name}"
            return f"{key}-{index}"
        if base in SCALAR_BY_PATH:
            return SCALAR_BY_PATH[base].key
        return None
    if path in SCALAR_BY_PATH:
        return SCALAR_BY_PATH[path].key
    if path in LIST_BY_PATH:
        return LIST_BY_PATH[path].key
    if path == "levels":
        return "rated"
    return None


def _cell(column: Column, name: str, value: Any, errors: list[str]) -> dict[str, Any]:
    choices = list(column.choices)
    if column.kind == "select" and value and value not in {code for code, _ in choices}:
        choices.append((value, f"{value}（无效）"))
    cell: dict[str, Any] = {
        "name": name,
        "field": column.field,
        "label": column.label,
        "kind": column.kind,
        "value": value,
        "choices": choices,
        "placeholder": column.placeholder,
        "width": column.width,
        "errors": errors,
    }
    if column.kind == "levels":
        chosen = set(value)
        cell["options"] = [
            {"value": str(level), "checked": str(level) in chosen} for level in range(1, MAX_LEVEL + 1)
        ]
    if column.kind == "checkbox":
        cell["checked"] = bool(value)
    return cell


def _context(values: Values, errors: list[tuple[str, str]]) -> dict[str, Any]:
    placed: dict[str, list[str]] = {}
    for path, message in errors:
        anchor = _anchor(path, values)
        if anchor is not None:
            placed.setdefault(anchor, []).append(_short_message(message, describe_path(path)[1]))
    fields = {
        s.key: _cell(s.column, s.key, values.scalars.get(s.key, ""), placed.get(s.key, [])) for s in SCALARS
    }
    lists = {}
    for spec in LISTS:
        rows = []
        given = values.lists.get(spec.key, [])
        for index in range(len(given) + SPARE_ROWS):
            row = given[index] if index < len(given) else {}
            rows.append(
                {
                    "index": index,
                    "cells": [
                        _cell(
                            c,
                            f"{spec.key}-{index}-{c.field}",
                            row.get(c.field, ""),
                            placed.get(f"{spec.key}-{index}-{c.field}", []),
                        )
                        for c in spec.columns
                    ],
                    "errors": placed.get(f"{spec.key}-{index}", []),
                    "spare": index >= len(given),
                }
            )
        lists[spec.key] = {
            "key": spec.key,
            "title": spec.title,
            "help": spec.help,
            "columns": spec.columns,
            "rows": rows,
            "template": {
                "index": PREFIX,
                "cells": [_cell(c, f"{spec.key}-{PREFIX}-{c.field}", "", []) for c in spec.columns],
                "errors": [],
            },
            "next_index": len(rows),
            "errors": placed.get(spec.key, []),
        }
    return {"fields": fields, "lists": lists, "error_lines": [editor_error_line(p, m) for p, m in errors]}


def dict_to_rows(data: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's template context for a scheme dict (canonical or as written)."""
    return _context(_from_dict(data), [])


def form_context(submitted: Submitted, errors: list[tuple[str, str]]) -> dict[str, Any]:
    """The editor's context for a rejected POST: the values as entered, each error by its input."""
    return _context(submitted.values, errors)


def post_data(context: Mapping[str, Any]) -> dict[str, Any]:
    """What a browser submits for an editor context (its spare rows included): for tests and tools."""
    data: dict[str, Any] = {}
    for cell in context["fields"].values():
        if cell["kind"] == "levels":
            data[cell["name"]] = [o["value"] for o in cell["options"] if o["checked"]]
        elif cell["kind"] == "checkbox":
            if cell["checked"]:
                data[cell["name"]] = "on"
        else:
            data[cell["name"]] = cell["value"]
    for block in context["lists"].values():
        for row in block["rows"]:
            for cell in row["cells"]:
                data[cell["name"]] = cell["value"]
    return data


def blank_scheme(year: int) -> dict[str, Any]:
    """A sensible minimal start: 100-point checklist, 五/四/三星 at 90/80/70, 未定级 below."""
    return scheme_to_dict(
        scheme_from_dict(
            {
                "version": FORMAT_VERSION,
                "name": f"{year}年度党支部达标创星",
                "mode": "bands",
                "levels": {"rated": [3, 4, 5], "below_lowest": "unrated"},
                "bands": [
                    {"level": 5, "min": 90, "label": "五星级"},
                    {"level": 4, "min": 80, "label": "四星级"},
                    {"level": 3, "min": 70, "label": "三星级"},
                ],
                "score": {"max_checklist": 100},
            }
        )
    )


# --- JSON files -------------------------------------------------------------------------------


class SchemeFileError(ValueError):
    """The uploaded file is not a readable JSON scheme file; ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def load_scheme_json(raw: bytes) -> Any:
    """Size, encoding and JSON syntax checks of a scheme file; the scheme itself is checked later."""
    if len(raw) > MAX_SCHEME_BYTES:
        raise SchemeFileError(
            f"文件过大（{len(raw) // 1024} KB），方案文件不能超过 {MAX_SCHEME_BYTES // 1024} KB"
        )
    if not raw.strip():
        raise SchemeFileError("文件是空的")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SchemeFileError("文件不是 UTF-8 编码的文本，请用导出的 .json 文件或另存为 UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemeFileError(f"不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有错误") from None


def scheme_json(scheme: Scheme) -> str:
    """The canonical export text: pretty-printed, Chinese kept as is."""
    return json.dumps(scheme_to_dict(scheme), ensure_ascii=False, indent=2) + "\n"


class SchemeImportForm(forms.Form):
    file = forms.FileField(label="方案文件（.json，UTF-8，不超过 256 KB）")
    note = forms.CharField(label="修改说明", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ".json,application/json"})
        self.fields["note"].widget.attrs.update(
            {"class": "form-control", "placeholder": "如 按市工委新文件调整名额"}
        )

    def clean_file(self) -> Any:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_SCHEME_BYTES:
            raise forms.ValidationError(f"文件过大，方案文件不能超过 {MAX_SCHEME_BYTES // 1024} KB")
        try:
            return load_scheme_json(upload.read(MAX_SCHEME_BYTES + 1))
        except SchemeFileError as exc:
            raise forms.ValidationError(exc.message) from None


# --- readable summary -------------------------------------------------------------------------


def _n(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _pct(value: Decimal) -> str:
    return f"{_n(value * 100)}%"


def _sources(scheme: Scheme) -> list[str]:
    s = scheme.score
    lines = []
    if scheme.mode == "points_account":
        lines.append(f"积分制：起始 {_n(s.base)} 分，加上清单得分和全年加减分事件，再按分档定级。")
    elif s.base:
        lines.append(f"基础分 {_n(s.base)} 分。")
    lines.append(
        f"清单得分最高计 {_n(s.max_checklist)} 分。" if s.max_checklist is not None else "清单得分不设上限。"
    )
    for d in s.deductions:
        cap = f"最多扣 {_n(d.cap)} 分" if d.cap is not None else "不设上限"
        lines.append(f"扣分：{DEDUCTION_LABELS.get(d.kind, d.kind)}每项扣 {_n(d.points)} 分，{cap}。")
    if not s.deductions:
        lines.append("不设扣分项。")
    if [(c.source, c.weight) for c in s.components] == [("basic", 1)]:
        lines.append("总分 = 基础项（基础分 + 清单得分 − 扣分，不低于 0）。")
    else:
        parts = [f"{SOURCE_LABELS.get(c.source, c.source)} × {_pct(c.weight)}" for c in s.components]
        lines.append("总分 = " + " + ".join(parts) + "（基础项 = 基础分 + 清单得分 − 扣分，不低于 0）。")
    if any(c.source != "basic" for c in s.components):
        lines.append(f"好评率、满意度按评议满分 {_n(s.review_full_marks)} 分折算。")
    for item in s.bonus.items:
        cap = f"最多加 {_n(item.cap)} 分" if item.cap is not None else "不设上限"
        lines.append(f"加分：{item.kind}，{cap}。")
    if s.bonus.items:
        lines.append(
            f"加分合计最多 {_n(s.bonus.cap)} 分。" if s.bonus.cap is not None else "加分合计不设上限。"
        )
    else:
        lines.append("不设加分项。")
    if s.bonus.max_total is not None:
        lines.append(f"总分最高 {_n(s.bonus.max_total)} 分。")
    return lines


def _levels(scheme: Scheme) -> list[str]:
    rated = "、".join(scheme.label_for(level) for level in sorted(scheme.levels.rated, reverse=True))
    lines = [f"评定等级：{rated}。"]
    if scheme.mode == "named_stars":
        stars = "、".join(f"{s.label}（{s.key}）" for s in scheme.named_stars)
        lines.append(f"等级 = 获得的命名星数量。命名星：{stars}。")
        return lines
    upper: Decimal | None = None
    for band in scheme.bands:
        if upper is None:
            lines.append(f"{band.label}：总分 ≥ {_n(band.min)} 分")
        else:
            lines.append(f"{band.label}：{_n(band.min)} 分 ≤ 总分 < {_n(upper)} 分")
        upper = band.min
    if upper is not None and upper > 0:
        lines.append(f"低于 {_n(upper)} 分：{scheme.label_for(scheme.below_level)}")
    return lines


def _veto_line(scheme: Scheme, index: int) -> str:
    v = scheme.vetoes[index]
    if v.effect == "no_rating":
        effect = "取消评定"
    elif v.effect == "cap_at_level":
        effect = f"最高评为{scheme.label_for(v.level)}"
    else:
        effect = f"降 {v.level} 个等级"
    return f"【{v.key}】{v.description}：{effect}。"


def _prerequisite_lines(scheme: Scheme) -> list[str]:
    lines = []
    for p in scheme.prerequisites:
        needs = []
        if p.conditions:
            needs.append("具备 " + "、".join(p.conditions))
        if p.min_satisfaction is not None:
            needs.append(f"群众满意度 ≥ {_pct(p.min_satisfaction)}")
        if p.min_good_rate is not None:
            needs.append(f"述职评议好评率 ≥ {_pct(p.min_good_rate)}")
        lines.append(
            f"评{scheme.label_for(p.level)}及以上须{'，'.join(needs)}；否则最高评为{scheme.label_for(p.cap_at_level)}。"
        )
    return lines or ["无。"]


def _quota_lines(scheme: Scheme) -> list[str]:
    lines = [
        f"名额{QUOTA_SCOPE_LABELS.get(scheme.quota_scope, scheme.quota_scope)}，"
        f"名额数 = 占比 × 参评组织数，{ROUNDING_LABELS.get(scheme.quota_rounding, scheme.quota_rounding)}。"
    ]
    for level, quota in scheme.quotas:
        parts = []
        if quota.max is not None:
            parts.append(f"最多 {_pct(quota.max)}")
        if quota.target is not None:
            parts.append(f"目标 {_pct(quota.target)}")
        if quota.min is not None:
            parts.append(f"至少 {_pct(quota.min)}")
        lines.append(f"{scheme.label_for(level)}：{'，'.join(parts) or '未设占比'}。")
    if not scheme.quotas:
        lines.append("不设名额限制。")
    if any(q.max is not None for _, q in scheme.quotas):
        lines.append("名额边界出现并列时，不自动取舍，列出待工委决定。")
    return lines


def _promotion_lines(scheme: Scheme) -> list[str]:
    p = scheme.promotion
    lines = [
        f"每年比上年最多提升 {p.max_step_up} 个等级。"
        if p.max_step_up is not None
        else "不限制每年提升的等级数。"
    ]
    if p.skip_honours:
        lines.append("获得以下荣誉可破格（不受提升限制）：" + "、".join(p.skip_honours) + "。")
    for d in p.direct_rating:
        lines.append(f"获得“{d.honour}”直接定为不低于{scheme.label_for(d.level)}。")
    lines.append("年内新成立的组织不定级。" if p.new_orgs_unrated else "年内新成立的组织照常评定。")
    return lines


def scheme_summary(scheme: Scheme) -> list[tuple[str, list[str]]]:
    """Every axis of a scheme in plain Chinese, as (heading, lines) for the scheme page."""
    return [
        (
            "基本信息",
            [
                f"适用组织：{APPLIES_TO_LABELS.get(scheme.applies_to, scheme.applies_to)}。",
                f"评定方式：{MODE_LABELS.get(scheme.mode, scheme.mode)}。",
                f"认定环节：{DECISION_STEP_LABELS.get(scheme.decision_step, scheme.decision_step)}；"
                f"公示 {scheme.publicity_days} 天后命名。",
            ],
        ),
        ("等级与分档", _levels(scheme)),
        ("得分构成", _sources(scheme)),
        ("一票否决", [_veto_line(scheme, i) for i in range(len(scheme.vetoes))] or ["无。"]),
        ("前置条件", _prerequisite_lines(scheme)),
        ("名额", _quota_lines(scheme)),
        ("晋升规则", _promotion_lines(scheme)),
    ]

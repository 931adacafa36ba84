"""Star-rating schemes from domain-research.md §1.2 shipped as JSON presets.

Each ``<name>.json`` is a scheme in the format documented in ``scoring/schemes.py``; its
``notes`` cite the source and name every number the research leaves open.
"""

from __future__ import annotations

import json
from pathlib import Path

from scoring.schemes import Scheme, scheme_from_dict

PRESET_DIR = Path(__file__).resolve().parent


def available() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.json"))


def load(name: str) -> Scheme:
    """Load and validate one preset; ``KeyError`` for an unknown name."""
    if name not in available():
        raise KeyError(f"没有名为 {name} 的预置方案")
    with (PRESET_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        return scheme_from_dict(json.load(handle))

"""Running one benchmark module alone (`python -m tests.bench.p10 --branches 500` and the like).

Each module's `main` parses its own options and hands its work to `in_bench_database`, which sets
Django up with `config.settings.bench` and runs the work in a fresh test database, removed after.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def in_bench_database(work: Callable[[], T]) -> T:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    old_config = setup_databases(
        verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
    )
    try:
        return work()
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()


def scale_root(branches: int, *, with_members: bool = False) -> int:
    """Build the scale tree of `branches` 党支部 and return its 工委's id."""
    from tests.bench.scale import ScaleSpec, scale_tree_create

    return scale_tree_create(spec=ScaleSpec.for_branches(branches), with_members=with_members).root_id


def print_results(results: Iterable[Any]) -> int:
    """Print the BENCH lines (and their notes); the exit status is 1 if any figure failed."""
    results = list(results)
    for r in results:
        print(r.line(), flush=True)
        if r.note:
            print(f"#   {r.note}", flush=True)
    return 0 if all(r.passed for r in results) else 1

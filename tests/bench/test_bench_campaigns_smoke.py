"""The campaign figures of the benchmark (P2 for 我的任务清单 and the review queue, P11) at a tiny size.

No timing is asserted: speed is proven by `make bench`. What is asserted: the pages issue
the same number of queries for 1 and 50 rows, the campaign data can be cleared before
the tree is, the bench session logs the secretary in, and P11 serves both paths from a
real gunicorn, reports well-formed lines and leaves no server behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from branches.models import Role
from campaigns.models import Campaign, ChecklistEntry
from tests.bench import p11, run
from tests.bench.p2_campaigns import (
    bench_p2_campaigns,
    campaign_create,
    campaign_data_reset,
    entries_create,
)
from tests.bench.scale import ScaleSpec, scale_tree_create, tree_reset

QUERIES_LINE = re.compile(r"^BENCH P2_(my_checklist|review_queue)_queries rows1=\d+ rows50=\d+ (PASS|FAIL)$")
HTTP_LINE = re.compile(
    r"^BENCH P11_checklist_http app=\d+\.\d{4} ref=\d+\.\d{4} ratio=\d+\.\d{2} target=10 (PASS|FAIL)$"
)
P99_LINE = re.compile(
    r"^BENCH P11_checklist_p99 p50=\d+\.\d{4} p99=\d+\.\d{4} ratio=\d+\.\d{2} target=10 (PASS|FAIL)$"
)
BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.mark.django_db
def test_p2_campaign_pages_issue_the_same_queries_for_1_and_50_rows() -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)

    results = bench_p2_campaigns(root_id=tree.root_id)

    assert [r.name for r in results] == ["P2_my_checklist", "P2_review_queue"]
    for result in results:
        assert QUERIES_LINE.match(result.line()), f"{result.line()} {result.note}"
        assert isinstance(result, run.QueryCountResult)
        assert result.rows1 == result.rows50, result.line()
        assert result.rows50 <= run.P2_MAX_QUERIES, result.line()


@pytest.mark.django_db
def test_campaign_data_reset_lets_the_tree_be_reset() -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)
    fixture = p11.p11_fixture_create(root_id=tree.root_id, entries=6)
    assert ChecklistEntry.objects.filter(campaign_id=fixture.campaign_id).count() == 6

    campaign_data_reset()
    tree_reset()

    assert not Campaign.objects.exists() and not ChecklistEntry.objects.exists()


@pytest.mark.django_db
def test_entries_create_writes_one_entry_per_item_in_the_given_statuses(branch_secretary, tree) -> None:  # type: ignore[no-untyped-def]
    campaign, items = campaign_create(committee_id=tree.gw.pk, year=2091, items=4)

    count = entries_create(
        campaign=campaign,
        org=tree.a1,
        items=items,
        statuses=("submitted", "approved"),
        review_stage="committee",
        actor=branch_secretary,
    )

    entries = ChecklistEntry.objects.filter(campaign=campaign, org=tree.a1).order_by("item__sort_order")
    assert count == 4
    assert [(e.status, e.review_stage) for e in entries] == [
        ("submitted", "committee"),
        ("approved", ""),
        ("submitted", "committee"),
        ("approved", ""),
    ]
    assert [e.evidence_links.count() for e in entries] == [1, 0, 0, 1]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.bench.bench_urls")
def test_bench_session_cookie_logs_the_secretary_in(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    cookie = p11.session_cookie_for(branch_secretary.pk)
    name, key = cookie.split("=", 1)
    client = Client()

    assert client.get(p11.HELLO_PATH).status_code == 302  # the hello view needs a login too
    client.cookies[name] = key
    response = client.get(p11.HELLO_PATH)

    assert name == settings.SESSION_COOKIE_NAME
    assert response.status_code == 200
    assert response.wsgi_request.user == branch_secretary
    assert branch_secretary.grants.filter(role=Role.SECRETARY).exists()


def test_bench_hello_url_is_not_in_the_product_urlconf() -> None:
    from django.urls import NoReverseMatch, reverse

    with pytest.raises(NoReverseMatch):
        reverse("bench_hello")
    assert reverse("bench_hello", urlconf="tests.bench.bench_urls") == p11.HELLO_PATH


@pytest.mark.parametrize(
    ("app", "ref", "latencies", "errors", "lines_pass"),
    [
        (0.05, 0.01, (0.01,) * 99 + (0.05,), (), (True, True)),
        (0.11, 0.01, (0.01,) * 99 + (0.05,), (), (False, True)),
        (0.05, 0.01, (0.01,) * 98 + (0.2, 0.2), (), (True, False)),
        (0.05, 0.01, (0.01,) * 100, ("HTTP 302 /accounts/login/",), (False, False)),
    ],
)
def test_p11_verdicts(
    app: float,
    ref: float,
    latencies: tuple[float, ...],
    errors: tuple[str, ...],
    lines_pass: tuple[bool, bool],
) -> None:
    n = len(latencies)
    result = p11.P11Result(
        app=p11.LoadResult(requests=n, wall=app * n, latencies=latencies, errors=errors),
        ref=p11.LoadResult(requests=n, wall=ref * n, latencies=(ref,) * n),
        server_pid=1,
        port=1,
        server_exit=0,
    )

    throughput, tail = result.lines()

    assert HTTP_LINE.match(throughput) and P99_LINE.match(tail), (throughput, tail)
    assert (throughput.endswith("PASS"), tail.endswith("PASS")) == lines_pass


def test_percentile_is_nearest_rank() -> None:
    values = tuple(float(v) for v in range(1, 101))

    assert p11._percentile(values, 50) == 50.0
    assert p11._percentile(values, 99) == 99.0
    assert p11._percentile((3.0,), 99) == 3.0


def _smoke_db_name(tmp_path: Path) -> str:
    if connection.vendor == "sqlite":
        return str(tmp_path / "p11_smoke.sqlite3")
    return f"test_{settings.DATABASES['default']['NAME']}_p11_smoke"


def test_p11_serves_both_paths_from_gunicorn_and_stops_the_server(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "BENCH_DB_NAME": _smoke_db_name(tmp_path),
    }
    env.pop("BENCH_SERVE_DB", None)

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench.p11",
            "--branches",
            "10",
            "--entries",
            "12",
            "--requests",
            "20",
            "--warmup",
            "4",
            "--json",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    throughput, tail = result["lines"]
    assert HTTP_LINE.match(throughput), throughput
    assert P99_LINE.match(tail), tail
    assert result["valid"], result
    assert result["app"] == {"requests": 20, "errors": []}
    assert result["ref"] == result["app"]
    assert result["server_exit"] is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(result["server_pid"], 0)  # neither the arbiter nor a worker is left

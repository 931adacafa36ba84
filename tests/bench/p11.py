"""P11: HTTP throughput of the branch checklist page under gunicorn, on loopback.

The reference is a hello-world view behind the same middleware, session and login
(tests/bench/bench_urls.py), served by the same gunicorn in the same run, so the ratio
is the price of the page's own work. A secretary's session is written straight into
the session table and its cookie sent with every request.

    python -m tests.bench.p11 [--branches 20] [--requests 300] [--json]

runs P11 alone in a fresh benchmark database (the smoke test uses it with
BENCH_DB_NAME pointing at a temporary file); `tests.bench.run` calls `bench_p11` with
the scale tree it already built.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.bench.p2_campaigns import (
    CHECKLIST_PAGE,
    CHECKLIST_STATUSES,
    campaign_create,
    entries_create,
    page_missing,
    page_url,
)
from tests.bench.run import _person, progress

if TYPE_CHECKING:
    from subprocess import Popen
    from typing import IO

P11_TARGET = 10.0  # the page does at least 10% of hello's requests/s
P11_P99_TARGET = 10.0  # p99 ≤ 10 × p50
P11_ENTRIES = 60
P11_YEAR = 2093
P11_REQUESTS = 300  # per target, measured
P11_WARMUP = 30  # per target, not measured
P11_THREADS = 4
P11_WORKERS = 2
P11_ROUNDS = 3  # hello and page alternate in rounds, so drifting machine load hits both alike
SERVER_START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
HELLO_PATH = "/bench/hello/"
HEALTH_PATH = "/healthz"
BASE_DIR = Path(__file__).resolve().parent.parent.parent


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """One target's measured requests: wall time and per-request latencies in seconds."""

    requests: int
    wall: float
    latencies: tuple[float, ...]
    errors: tuple[str, ...] = ()

    @property
    def per_request(self) -> float:
        """Inverse throughput: seconds of wall time per request (with all client threads busy)."""
        return self.wall / self.requests if self.requests else float("inf")

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.wall if self.wall > 0 else 0.0

    @property
    def p50(self) -> float:
        return _percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return _percentile(self.latencies, 99)


def _percentile(values: tuple[float, ...], pct: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("inf")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class P11Result:
    app: LoadResult
    ref: LoadResult
    server_pid: int
    port: int
    server_exit: int | None
    note: str = ""
    target: float = P11_TARGET
    p99_target: float = P11_P99_TARGET

    @property
    def valid(self) -> bool:
        return not self.app.errors and not self.ref.errors and self.app.requests > 0 and self.ref.requests > 0

    @property
    def ratio(self) -> float:
        return self.app.per_request / self.ref.per_request if self.ref.per_request > 0 else float("inf")

    @property
    def p99_ratio(self) -> float:
        return self.app.p99 / self.app.p50 if self.app.p50 > 0 else float("inf")

    def lines(self) -> list[str]:
        throughput = "PASS" if self.valid and self.ratio <= self.target else "FAIL"
        tail = "PASS" if self.valid and self.p99_ratio <= self.p99_target else "FAIL"
        return [
            f"BENCH P11_checklist_http app={self.app.per_request:.4f} ref={self.ref.per_request:.4f} "
            f"ratio={self.ratio:.2f} target={self.target:g} {throughput}",
            f"BENCH P11_checklist_p99 p50={self.app.p50:.4f} p99={self.app.p99:.4f} "
            f"ratio={self.p99_ratio:.2f} target={self.p99_target:g} {tail}",
        ]

    def as_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines(),
            "valid": self.valid,
            "server_pid": self.server_pid,
            "port": self.port,
            "server_exit": self.server_exit,
            "app": {"requests": self.app.requests, "errors": list(self.app.errors)},
            "ref": {"requests": self.ref.requests, "errors": list(self.ref.errors)},
            "note": self.note,
        }


@dataclass(frozen=True)
class P11Line:
    """One BENCH line of P11 in the shape run.py's _emit expects."""

    text: str
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.text.endswith(" PASS")

    def line(self) -> str:
        return self.text


def result_lines(result: P11Result) -> list[P11Line]:
    throughput, tail = result.lines()
    return [P11Line(throughput, result.note), P11Line(tail)]


# --- fixture ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class P11Fixture:
    user_id: int
    org_id: int
    campaign_id: int
    entries: int


def p11_fixture_create(*, root_id: int, entries: int = P11_ENTRIES) -> P11Fixture:
    """A campaign in which the first branch of the tree has `entries` entries, and its secretary."""
    from branches.models import OrgKind, OrgUnit, Role

    root = OrgUnit.objects.get(pk=root_id)
    branch = OrgUnit.objects.subtree(root.path).filter(kind=OrgKind.BRANCH).order_by("path").first()
    if branch is None:
        raise RuntimeError("P11 needs a tree with at least one 党支部")
    secretary = _person("p11_secretary", branch.pk, Role.SECRETARY)
    member = _person("p11_member", branch.pk, Role.COMMITTEE_MEMBER)
    campaign, items = campaign_create(committee_id=root_id, year=P11_YEAR, items=entries)
    count = entries_create(
        campaign=campaign,
        org=branch,
        items=items,
        statuses=(*CHECKLIST_STATUSES, "submitted"),
        review_stage="parent",
        actor=secretary,
        responsible=member,
    )
    return P11Fixture(user_id=secretary.pk, org_id=branch.pk, campaign_id=campaign.pk, entries=count)


def session_cookie_for(user_id: int) -> str:
    """A logged-in session of the user, written as django.contrib.auth.login would; the Cookie header."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from branches.models import User
    from branches.signals import SESSION_LOGIN_AT

    user = User.objects.get(pk=user_id)
    session = SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_LOGIN_AT] = timezone.now().timestamp()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def served_database_name() -> str:
    """The database this process uses, for the server to use too (a file path on SQLite)."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name):
        raise RuntimeError("P11 needs a database another process can open, not an in-memory SQLite")
    return str(Path(name).resolve()) if connection.vendor == "sqlite" else name


@dataclass
class Server:
    proc: Popen[bytes]
    port: int
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        """What gunicorn wrote to stderr so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def server_start(*, port: int, workers: int = P11_WORKERS) -> Server:
    """gunicorn on 127.0.0.1:port in its own process group, serving this process's database."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    env["BENCH_SERVE_DB"] = served_database_name()
    # A file, not a pipe: a server logging errors into a full pipe would stall.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by server_stop)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    return Server(proc=proc, port=port, log=log)


def server_wait(server: Server, timeout: float = SERVER_START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.proc.returncode}: {server.output()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            conn.request("GET", HEALTH_PATH)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on port {server.port} within {timeout:.0f} s")


def server_stop(server: Server) -> int:
    """Stop gunicorn and its workers (the whole process group); its exit status."""
    proc = server.proc
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # gunicorn's graceful shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Workers that outlived the arbiter die with the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    server.log.close()
    return int(proc.returncode)


# --- the load generator -------------------------------------------------------------------------


def load(*, port: int, path: str, cookie: str, requests: int, threads: int = P11_THREADS) -> LoadResult:
    """`requests` GETs of `path` from `threads` client threads, each on its own connection.

    Connections are kept alive where the server allows it; gunicorn's sync workers close
    each one after the response, and http.client then reconnects for the next request,
    for the page and the reference alike.
    """
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [requests]
    headers = {"Cookie": cookie, "Host": "127.0.0.1", "Connection": "keep-alive"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                started = time.perf_counter()
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with lock:
                        errors.append(f"{path}: {type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        errors.append(f"{path}: HTTP {status} {response.getheader('Location') or ''}".strip())
        finally:
            conn.close()

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    return LoadResult(
        requests=len(latencies), wall=wall, latencies=tuple(latencies), errors=tuple(errors[:5])
    )


def _merge(results: list[LoadResult]) -> LoadResult:
    return LoadResult(
        requests=sum(r.requests for r in results),
        wall=sum(r.wall for r in results),
        latencies=tuple(x for r in results for x in r.latencies),
        errors=tuple(e for r in results for e in r.errors)[:5],
    )


def bench_p11(
    *,
    fixture: P11Fixture,
    requests: int = P11_REQUESTS,
    warmup: int = P11_WARMUP,
    threads: int = P11_THREADS,
    rounds: int = P11_ROUNDS,
) -> P11Result:
    """P11 on an already built, committed database: serve it, load both paths, stop the server."""
    app_path = page_url(CHECKLIST_PAGE, campaign_id=fixture.campaign_id)
    cookie = session_cookie_for(fixture.user_id)
    server = server_start(port=free_port())
    port = server.port
    app_runs: list[LoadResult] = []
    ref_runs: list[LoadResult] = []
    try:
        server_wait(server)
        for path in (HELLO_PATH, app_path):
            load(port=port, path=path, cookie=cookie, requests=warmup, threads=threads)
        for i in range(rounds):
            n = requests // rounds + (1 if i < requests % rounds else 0)
            ref_runs.append(load(port=port, path=HELLO_PATH, cookie=cookie, requests=n, threads=threads))
            app_runs.append(load(port=port, path=app_path, cookie=cookie, requests=n, threads=threads))
    finally:
        exit_status = server_stop(server)
    app, ref = _merge(app_runs), _merge(ref_runs)
    note = (
        f"{fixture.entries} entries on {app_path}; {threads} client threads, {P11_WORKERS} sync workers; "
        f"page {app.requests_per_second:.0f} req/s, hello {ref.requests_per_second:.0f} req/s"
    )
    if app.errors or ref.errors:
        note += f"; ERRORS: {'; '.join((*app.errors, *ref.errors)[:3])}"
    return P11Result(app=app, ref=ref, server_pid=server.pid, port=port, server_exit=exit_status, note=note)


def run_p11(*, root_id: int, requests: int = P11_REQUESTS, warmup: int = P11_WARMUP) -> list[P11Line]:
    """Build the P11 fixture on the tree under `root_id` and measure; the BENCH lines."""
    from tests.bench.run import _analyze

    if page_missing(CHECKLIST_PAGE):
        return [
            P11Line(
                "BENCH P11_checklist_http app=inf ref=0.0000 ratio=inf target=10 FAIL",
                f"{CHECKLIST_PAGE} does not resolve",
            ),
            P11Line("BENCH P11_checklist_p99 p50=inf p99=inf ratio=inf target=10 FAIL"),
        ]
    fixture = p11_fixture_create(root_id=root_id)
    _analyze()
    progress(f"P11: gunicorn, {requests} requests per target")
    return result_lines(bench_p11(fixture=fixture, requests=requests, warmup=warmup))


# --- standalone (the smoke test) ----------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.p11", description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=20)
    parser.add_argument("--entries", type=int, default=P11_ENTRIES)
    parser.add_argument("--requests", type=int, default=P11_REQUESTS)
    parser.add_argument("--warmup", type=int, default=P11_WARMUP)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    from tests.bench.scale import ScaleSpec, scale_tree_create

    setup_test_environment()
    old_config = setup_databases(
        verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
    )
    try:
        tree = scale_tree_create(spec=ScaleSpec.for_branches(args.branches), with_members=False)
        fixture = p11_fixture_create(root_id=tree.root_id, entries=args.entries)
        result = bench_p11(fixture=fixture, requests=args.requests, warmup=args.warmup)
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False), flush=True)
    else:
        for line in result_lines(result):
            print(line.line(), flush=True)
            if line.note:
                print(f"#   {line.note}", flush=True)
    return 0 if result.valid else 1


if __name__ == "__main__":
    sys.exit(main())

"""Reminders and the outbox against a real Redis and a real Celery worker process (R12, R13).

Each test starts its own ``redis-server`` on 127.0.0.1 (a free port, so pausing or stopping it
disturbs nobody) and ``celery -A config worker`` as a separate process in its own process group,
so it can be killed with SIGKILL like a crashed machine. The worker reaches the test database
through DATABASE_URL: on SQLite the test settings put the test database in a file for that
reason; on PostgreSQL it is the runner's test_<name> database. ``transactional_db`` commits the
rows, so both processes see each other's writes.

The test process plays the web server and the beat: a web request (the Django test client) or a
service writes outbox rows, and ``outbox_relay()`` -- what the beat entry ``branches-relay-outbox``
runs every few seconds -- publishes them to this Redis. The worker writes its e-mails as files
(EMAIL_FILE_PATH), which the tests count.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from branches import services
from branches.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Message,
    MessageKind,
    OrgKind,
    OrgUnit,
    Outbox,
    OutboxStatus,
    Role,
    User,
)
from branches.notify import outbox_relay
from branches.tasks import clear_expired_sessions, relay_outbox, run_outbox
from campaigns.models import (
    Campaign,
    CampaignStatus,
    DispatchBatch,
    DispatchRun,
    DispatchStatus,
    EntryStatus,
    Finding,
    FindingSource,
    NoticeKind,
    PublishRun,
    PublishRunStatus,
    Rectification,
    RectificationStatus,
    Reminder,
    ReminderPolicy,
    ReminderSource,
    ReminderStatus,
)
from campaigns.reminders.dispatch import dispatch_day, policy_for
from campaigns.reminders.planner import plan
from campaigns.services import notices as notice_svc
from campaigns.tasks import dispatch_reminder_batch, finish_reminder_run
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.conftest import Tree, require_or_skip
from tests.factories import MemberFactory, UserFactory, make_org
from tests.integration.test_rating_compile_worker import _forget_connections

pytestmark = pytest.mark.redis

DAY = date(2026, 6, 10)  # a Wednesday; 主题党日 (due the 15th) is 5 days ahead: an obligation rung
WAIT = 60.0  # seconds any one thing may take; a healthy run needs a fraction of it
LEASE = 3  # OUTBOX_LEASE_SECONDS: a job claimed by a killed worker is published again after this
EMAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # how Django's file-based backend separates messages
# The broker options of config/settings/base.py for Redis (timeouts, so a frozen Redis cannot
# hang the relay forever).
BROKER_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": 5,
    "socket_connect_timeout": 3,
    "max_retries": 1,
}


# --- Redis ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server of this test only: no persistence, so a stop loses whatever it held."""

    folder: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # one try: a refused or frozen server is the answer
        )

    def answers(self, timeout: float = 0.5) -> bool:
        c = self.client(timeout)
        try:
            return bool(c.ping())
        except redis.RedisError:
            return False
        finally:
            c.close()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--maxmemory-policy", "noeviction",
                "--dir", str(self.folder),
                "--logfile", str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert _wait_until(self.answers, 10), f"redis-server did not start on port {self.port}"

    def stop(self) -> None:
        """Stop like a crash of the broker host: SHUTDOWN NOSAVE, nothing kept."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            c = self.client()
            try:
                c.shutdown(nosave=True)
            except redis.RedisError:
                pass  # redis-py reports the connection the server closed as an error
            finally:
                c.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    require_or_skip(shutil.which("redis-server") is not None, "redis-server is not installed")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- the worker process -----------------------------------------------------------------------------


def _database_url() -> str:
    """The test database as a DATABASE_URL another process can open."""
    d = connection.settings_dict
    if d["ENGINE"] == "django.db.backends.sqlite3":
        name = str(d["NAME"])
        require_or_skip(
            ":memory:" not in name and "mode=memory" not in name,
            f"the SQLite test database {name!r} is in memory; a worker process cannot open it",
        )
        return f"sqlite:///{Path(name).resolve()}"
    assert d["ENGINE"] == "django.db.backends.postgresql", d["ENGINE"]
    user = quote(d.get("USER") or "", safe="")
    password = quote(d.get("PASSWORD") or "", safe="")
    return f"postgres://{user}:{password}@{d.get('HOST') or '127.0.0.1'}:{d.get('PORT') or 5432}/{d['NAME']}"


class Worker:
    """``celery -A config worker`` in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0

    def start(self) -> None:
        self.started += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== worker start #{self.started} =====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "config", "worker",
                    "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO",
                    "--hostname", f"reminders-{os.getpid()}-{self.started}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                ],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches all of it
            )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no ack, no cleanup."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # Cold shutdown: the tests stop the worker when it is idle, so nothing is cut short.
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no worker log)"


@dataclass
class Env:
    """What one test runs against: its Redis, its worker and the folder the worker mails into."""

    redis: RedisServer
    worker: Worker
    mail_dir: Path

    def wait(
        self,
        predicate: Callable[[], bool],
        what: str,
        seconds: float = WAIT,
        relay: Literal["here", "beat", "off"] = "here",
    ) -> None:
        """Relay the outbox until ``predicate`` holds.

        ``here``: this process runs ``outbox_relay()``; ``beat``: it sends the worker the task of
        the beat entry ``branches-relay-outbox`` once a second, as celery beat would.
        """
        deadline = time.monotonic() + seconds
        beat_due = 0.0
        while time.monotonic() < deadline:
            if relay == "here":
                outbox_relay()
            elif relay == "beat" and time.monotonic() >= beat_due:
                relay_outbox.apply_async()
                beat_due = time.monotonic() + 1
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(
            f"timed out after {seconds:.0f}s waiting for: {what}\n--- worker log ---\n{self.worker.tail()}"
        )

    def barrier(self) -> None:
        """Wait until the worker has consumed every message published so far.

        A sentinel task (clear the expired sessions) is queued behind them; the solo worker takes
        one message at a time from a FIFO list, so when the sentinel has run, so has all before it.
        """
        store = SessionStore()
        store.create()
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=timezone.now() - timedelta(days=1)
        )
        clear_expired_sessions.apply_async()
        self.wait(
            lambda: not Session.objects.filter(session_key=store.session_key).exists(),
            "the worker to reach the sentinel task",
            relay="off",
        )

    def settle(self) -> None:
        """Relay and wait until no outbox job is left to run and the worker is idle."""
        for _ in range(5):
            self.wait(lambda: not _unfinished_jobs().exists(), "every outbox job to be done")
            self.barrier()
            if not _unfinished_jobs().exists():
                break
        assert not Outbox.objects.filter(status=OutboxStatus.FAILED).exists(), list(
            Outbox.objects.filter(status=OutboxStatus.FAILED).values_list("task", "last_error")
        )


def _unfinished_jobs() -> Any:
    return Outbox.objects.exclude(status__in=[OutboxStatus.DONE, OutboxStatus.FAILED])


@contextmanager
def _celery_against(server: RedisServer, celery_conf: Callable[..., Any]) -> Iterator[None]:
    """Point this process's Celery app (used by the relay) at the test's Redis."""
    with celery_conf(task_always_eager=False, broker_url=server.url, broker_transport_options=BROKER_OPTIONS):
        _forget_connections()
        try:
            yield
        finally:
            _forget_connections()


@pytest.fixture
def reminder_env(
    transactional_db: None,
    settings: Any,
    celery_conf: Callable[..., Any],
    redis_server: RedisServer,
    tmp_path: Path,
) -> Iterator[Env]:
    # This process is the web server and the relay: outbox rows are written, never run inline.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.OUTBOX_LEASE_SECONDS = LEASE
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_server.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_FILE_PATH": str(mail_dir),
        "OUTBOX_LEASE_SECONDS": str(LEASE),
        "PYTHONUNBUFFERED": "1",
        "TMPDIR": str(worker_tmp),  # the test settings' temporary folders, removed with tmp_path
    }
    worker = Worker(env, tmp_path / "worker.log")
    with _celery_against(redis_server, celery_conf):
        worker.start()
        try:
            yield Env(redis=redis_server, worker=worker, mail_dir=mail_dir)
        finally:
            worker.stop()


def _wait_until(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# --- e-mails the worker wrote ---------------------------------------------------------------------


def _emails(folder: Path) -> list[EmailMessage]:
    out: list[EmailMessage] = []
    for path in sorted(folder.iterdir()):
        for chunk in path.read_bytes().split(EMAIL_SEPARATOR):
            if chunk.strip():
                out.append(email.message_from_bytes(chunk, policy=email.policy.default))  # type: ignore[arg-type]
    return out


def _mail_count(folder: Path) -> Counter[str]:
    return Counter(str(m["To"]) for m in _emails(folder))


# --- data -------------------------------------------------------------------------------------------


def _person(username: str, org: OrgUnit | None, role: str | None) -> User:
    user = UserFactory(username=username, email=f"{username}@example.org")
    if org is not None and role is not None:
        services.role_grant(user=user, org=org, role=role)
    return user


def _quiet_hours_off(committee: OrgUnit) -> None:
    """The tests run at any hour; the default quiet hours (21:00-08:00) would hold the run."""
    policy_for(committee)
    ReminderPolicy.objects.filter(committee=committee).update(quiet_start=None, quiet_end=None)


@dataclass
class Scene:
    committee: OrgUnit
    staff: User


def _build_scene(*, agencies: int, branches: int, direct: int) -> Scene:
    """A 工委 with ``agencies`` 机关党委 of ``branches`` 党支部 each and ``direct`` direct branches.

    Every branch has a secretary and five open entries at different rungs of the entry ladder
    on DAY (3 days to go, due today, 3, 7 and 14 days overdue) and one entry already approved;
    each 机关党委 has a staff member, the 工委 one staff member: a few hundred reminders.
    """
    committee = make_org(OrgKind.COMMITTEE, None, code="RW", name="测试工委")
    staff = _person("rw_staff", committee, Role.COMMITTEE_STAFF)
    _quiet_hours_off(committee)
    campaign = make_campaign(committee)
    offsets = (-3, 0, 3, 7, 14)
    items = [
        make_item(campaign, due_date=DAY - timedelta(days=d), title=f"任务（相对{d:+d}天）") for d in offsets
    ]
    done_item = make_item(campaign, due_date=DAY - timedelta(days=3), title="已完成的任务")
    orgs: list[OrgUnit] = []
    for i in range(agencies):
        agency = make_org(OrgKind.AGENCY_COMMITTEE, committee, code=f"RA{i}", name=f"第{i}机关党委")
        _person(f"ra{i}_staff", agency, Role.UNIT_STAFF)
        orgs += [
            make_org(OrgKind.BRANCH, agency, code=f"RA{i}B{j}", name=f"第{i}-{j}支部")
            for j in range(branches)
        ]
    orgs += [make_org(OrgKind.BRANCH, committee, code=f"RD{k}", name=f"直属第{k}支部") for k in range(direct)]
    for org in orgs:
        _person(f"sec_{org.code.lower()}", org, Role.SECRETARY)
        MemberFactory(org=org)
        for item in items:
            make_entry(campaign, org, item, status=EntryStatus.IN_PROGRESS)
        make_entry(campaign, org, done_item, status=EntryStatus.APPROVED)
    return Scene(committee=committee, staff=staff)


# --- what was sent ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    reminders: frozenset[tuple[int, str, str, str, str, int | None]]  # key, status, message id
    messages: frozenset[tuple[int, int]]  # (recipient, message id) of reminder messages
    mails: tuple[tuple[str, int], ...]  # (address, copies)


def _sent(committee: OrgUnit, mail_dir: Path) -> Sent:
    return Sent(
        reminders=frozenset(
            Reminder.objects.filter(committee=committee).values_list(
                "recipient_id", "item_key", "kind", "period", "status", "message_id"
            )
        ),
        messages=frozenset(
            Message.objects.filter(kind=MessageKind.REMINDER).values_list("recipient_id", "pk")
        ),
        mails=tuple(sorted(_mail_count(mail_dir).items())),
    )


def _assert_each_reminder_sent_once(
    committee: OrgUnit, mail_dir: Path, *, crash_window: Collection[str] = ()
) -> None:
    """Every reminder the planner wants for DAY is logged once and sent: one inbox message per
    person carrying all of that person's reminders, one e-mail per person who gets e-mail.

    ``crash_window``: addresses whose e-mail was being handed to the mail server when a worker was
    killed. The send and its "sent" mark cannot be one atomic step, so each such address may have
    received one copy more (reliability.md §4, "at most one duplicate per crash").
    """
    wanted = {p.key for p in plan(committee=committee, day=DAY)}
    logged = list(Reminder.objects.filter(committee=committee))
    assert {(r.recipient_id, r.item_key, r.kind, r.period) for r in logged} == wanted
    assert len(logged) == len(wanted)
    assert {r.status for r in logged} == {ReminderStatus.SENT}

    by_person: dict[int, set[int | None]] = {}
    for r in logged:
        by_person.setdefault(r.recipient_id, set()).add(r.message_id)
    messages = Counter(
        Message.objects.filter(kind=MessageKind.REMINDER).values_list("recipient_id", flat=True)
    )
    assert set(messages) == set(by_person)
    assert set(messages.values()) == {1}, "someone has more than one reminder message"
    for uid, message_ids in by_person.items():
        assert len(message_ids) == 1 and None not in message_ids, f"user {uid}: reminders in {message_ids}"

    emailers = set(
        User.objects.filter(pk__in={r.recipient_id for r in logged if r.via_email}).values_list(
            "email", flat=True
        )
    )
    mails = _mail_count(mail_dir)
    assert set(mails) == emailers
    extra = {addr: n for addr, n in mails.items() if n > 1}
    assert set(extra) <= set(crash_window) and all(n == 2 for n in extra.values()), (extra, crash_window)
    assert not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()


# --- 1. run twice -----------------------------------------------------------------------------------


def test_dispatcher_run_twice_sends_nothing_twice(reminder_env: Env) -> None:
    scene = _build_scene(agencies=6, branches=6, direct=3)
    run = dispatch_day(committee=scene.committee, day=DAY)
    # Test settings: one batch per organisation under the 工委 (REMINDER_BATCH_ORGS=1): 6 + 3 direct.
    assert Outbox.objects.filter(task="campaigns.tasks.dispatch_reminder_batch").count() == 9

    reminder_env.wait(
        lambda: DispatchRun.objects.get(pk=run.pk).status == DispatchStatus.DONE, "the run to finish"
    )
    reminder_env.settle()
    first = _sent(scene.committee, reminder_env.mail_dir)
    assert len(first.reminders) >= 200
    _assert_each_reminder_sent_once(scene.committee, reminder_env.mail_dir)

    # Second time round: the day started again, every job's message delivered again, every batch
    # task sent straight to the broker again, and a batch and the finish redone from scratch as if
    # the worker had died just before marking them done.
    assert dispatch_day(committee=scene.committee, day=DAY).pk == run.pk
    for pk in Outbox.objects.filter(status=OutboxStatus.DONE).values_list("pk", flat=True):
        run_outbox.apply_async(args=[pk])
    batches = list(DispatchBatch.objects.filter(run=run).values_list("pk", flat=True))
    for pk in batches:
        dispatch_reminder_batch.apply_async(kwargs={"batch_id": pk})
    finish_reminder_run.apply_async(kwargs={"run_id": run.pk})
    reminder_env.barrier()
    DispatchBatch.objects.filter(pk=batches[0]).update(status=DispatchStatus.RUNNING, finished_at=None)
    DispatchRun.objects.filter(pk=run.pk).update(status=DispatchStatus.RUNNING, finished_at=None)
    Outbox.objects.filter(dedupe_key__in=[f"remind-batch:{batches[0]}", f"remind-finish:{run.pk}"]).update(
        status=OutboxStatus.PENDING, available_at=timezone.now(), published_at=None, claimed_at=None
    )
    reminder_env.wait(
        lambda: DispatchRun.objects.get(pk=run.pk).status == DispatchStatus.DONE, "the redone run"
    )
    reminder_env.settle()

    redone = Outbox.objects.filter(dedupe_key__in=[f"remind-batch:{batches[0]}", f"remind-finish:{run.pk}"])
    assert list(redone.values_list("status", "attempts")) == [(OutboxStatus.DONE, 2)] * 2
    assert _sent(scene.committee, reminder_env.mail_dir) == first
    _assert_each_reminder_sent_once(scene.committee, reminder_env.mail_dir)


# --- 2. SIGKILL -------------------------------------------------------------------------------------


def _in_flight_addresses() -> set[str]:
    """E-mails claimed but not marked sent: what a killed worker may have handed over already."""
    return set(
        Delivery.objects.filter(channel=Channel.EMAIL, status=DeliveryStatus.SENDING).values_list(
            "address", flat=True
        )
    )


def test_worker_killed_mid_dispatch_and_restarted_sends_every_reminder_exactly_once(
    reminder_env: Env,
) -> None:
    scene = _build_scene(agencies=10, branches=4, direct=2)
    run = dispatch_day(committee=scene.committee, day=DAY)
    total = DispatchBatch.objects.filter(run=run).count()
    worker = reminder_env.worker

    def batches_done() -> int:
        return DispatchBatch.objects.filter(run=run, status=DispatchStatus.DONE).count()

    def emails_going_out() -> bool:
        """Some e-mails sent and some not; or, should that moment slip by, all of them sent."""
        rows = Counter(Delivery.objects.filter(channel=Channel.EMAIL).values_list("status", flat=True))
        return rows[DeliveryStatus.SENT] > 0 and (
            rows[DeliveryStatus.PENDING] + rows[DeliveryStatus.SENDING] > 0
            or DispatchRun.objects.filter(pk=run.pk, status=DispatchStatus.DONE).exists()
        )

    # Three crashes: after the first batch, a few batches later, and while e-mails go out.
    kill_points: list[tuple[str, Callable[[], bool]]] = [
        ("after the first batch", lambda: batches_done() >= 1),
        ("a few batches later", lambda: batches_done() >= 4),
        ("while e-mails go out", emails_going_out),
    ]
    crash_window: set[str] = set()
    done_at_kill: list[int] = []
    for what, point in kill_points:
        reminder_env.wait(point, f"the kill point {what!r}")
        worker.kill()
        crash_window |= _in_flight_addresses()
        done_at_kill.append(batches_done())
        worker.start()
    # The first two crashes hit the run while batches were still to do.
    assert 0 < done_at_kill[0] < done_at_kill[1] < total, (done_at_kill, total)

    reminder_env.wait(
        lambda: DispatchRun.objects.get(pk=run.pk).status == DispatchStatus.DONE, "the run to finish"
    )
    reminder_env.settle()
    _assert_each_reminder_sent_once(scene.committee, reminder_env.mail_dir, crash_window=crash_window)


# --- 3. Redis paused or stopped during a web request ------------------------------------------------


@dataclass
class Requests:
    notice_pk: int
    campaign_pk: int
    recipients: set[int]


def _web_setup(tree: Tree, committee_staff: User) -> Requests:
    """A draft notice on 机关党委 A and a draft campaign, ready to publish; quiet hours off."""
    _quiet_hours_off(tree.gw)
    _person("web_a_staff", tree.a, Role.UNIT_STAFF)
    for org in (tree.a1, tree.a2, tree.ag1, tree.b1):  # B1 lies outside the notice's scope
        _person(f"web_{org.code.lower()}_secretary", org, Role.SECRETARY)
    published = make_campaign(tree.gw, year=2025)
    notice = notice_svc.notice_draft(
        campaign=published, actor=committee_staff, scope=tree.a, kind=NoticeKind.WORK
    )
    draft = make_campaign(tree.gw, year=2026, status=CampaignStatus.DRAFT)
    make_item(draft, due_date=date(2026, 9, 30))
    recipients = set(notice_svc.notice_recipient_ids(notice))
    assert len(recipients) == 4  # A's staff and the secretaries of A1, A2 and AG1
    return Requests(notice_pk=notice.pk, campaign_pk=draft.pk, recipients=recipients)


def _post_quickly(client: Client, url: str) -> None:
    started = time.monotonic()
    response = client.post(url)
    took = time.monotonic() - started
    assert response.status_code == 302, response.status_code
    assert took < 2.0, f"the request took {took:.2f}s"


def _publish_through_the_web(
    req: Requests, login: Callable[[User], Client], staff: User, admin: User
) -> None:
    """Publish the notice and the campaign as the pages do; both answer at once (R13)."""
    _post_quickly(login(staff), reverse("campaigns:notice_publish", args=[req.notice_pk]))
    _post_quickly(login(admin), reverse("campaigns:campaign_publish", args=[req.campaign_pk]))
    # The inbox is written by the request itself; e-mail and fan-out wait in the outbox.
    assert (
        set(
            Message.objects.filter(source_key=f"notice:{req.notice_pk}").values_list(
                "recipient_id", flat=True
            )
        )
        == req.recipients
    )
    assert set(Outbox.objects.values_list("task", "status")) == {
        ("branches.tasks.send_deliveries", OutboxStatus.PENDING),
        ("campaigns.tasks.publish_campaign", OutboxStatus.PENDING),
    }


def _delivered(req: Requests) -> bool:
    return (
        PublishRun.objects.filter(campaign_id=req.campaign_pk, status=PublishRunStatus.DONE).exists()
        and not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()
        and Delivery.objects.exists()
    )


def _assert_delivered_once(req: Requests, mail_dir: Path) -> None:
    addresses = set(User.objects.filter(pk__in=req.recipients).values_list("email", flat=True))
    assert _mail_count(mail_dir) == Counter(dict.fromkeys(addresses, 1))
    assert Campaign.objects.get(pk=req.campaign_pk).checklists.exists()
    assert PublishRun.objects.filter(campaign_id=req.campaign_pk).count() == 1


def test_redis_paused_during_a_request_the_request_answers_and_the_jobs_go_out_after(
    reminder_env: Env,
    tree: Tree,
    committee_staff: User,
    committee_admin: User,
    login: Callable[[User], Client],
) -> None:
    req = _web_setup(tree, committee_staff)
    reminder_env.barrier()  # the worker is up and consuming
    pause_ms = 4000
    reminder_env.redis.client().client_pause(pause_ms, all=True)
    paused_at = time.monotonic()

    _publish_through_the_web(req, login, committee_staff, committee_admin)
    assert not reminder_env.redis.answers(timeout=0.3), "Redis should still be frozen"
    assert time.monotonic() - paused_at < pause_ms / 1000

    # The pause ends (CLIENT UNPAUSE would wait behind it too); the relay publishes, the worker runs.
    assert _wait_until(reminder_env.redis.answers, pause_ms / 1000 + 5)
    reminder_env.wait(lambda: _delivered(req), "the e-mails and the publishing")
    reminder_env.settle()
    _assert_delivered_once(req, reminder_env.mail_dir)


def test_redis_stopped_during_a_request_nothing_is_lost_and_it_goes_out_once_redis_is_back(
    reminder_env: Env,
    tree: Tree,
    committee_staff: User,
    committee_admin: User,
    login: Callable[[User], Client],
) -> None:
    req = _web_setup(tree, committee_staff)
    reminder_env.barrier()
    reminder_env.redis.stop()

    _publish_through_the_web(req, login, committee_staff, committee_admin)
    # The relay cannot publish: it gives up quietly and leaves every row for its next tick.
    for _ in range(3):
        started = time.monotonic()
        assert outbox_relay() == 0
        assert time.monotonic() - started < 10
    assert set(Outbox.objects.values_list("status", flat=True)) == {OutboxStatus.PENDING}

    reminder_env.redis.start()  # the same port, empty: whatever Redis held is gone
    reminder_env.wait(lambda: _delivered(req), "the e-mails and the publishing")
    reminder_env.settle()
    _assert_delivered_once(req, reminder_env.mail_dir)


# --- 4. a digest holds every due item of the person ---------------------------------------------------


def test_a_digest_holds_every_due_item_of_the_person(reminder_env: Env, tree: Tree) -> None:
    """One person, staff of 机关党委 A and secretary of A1 and A2, responsible for an entry in AG1:
    on DAY entries at four rungs, a rectification and 主题党日 of two branches fall due for them."""
    _quiet_hours_off(tree.gw)
    person = _person("digest_person", tree.a, Role.UNIT_STAFF)
    for org in (tree.a1, tree.a2):
        services.role_grant(user=person, org=org, role=Role.SECRETARY)
    _person("ag1_secretary", tree.ag1, Role.SECRETARY)
    _person("b1_secretary", tree.b1, Role.SECRETARY)
    campaign = make_campaign(tree.gw)

    def entry(org: OrgUnit, days_after_due: int, title: str, **fields: Any) -> None:
        item = make_item(campaign, due_date=DAY - timedelta(days=days_after_due), title=title)
        make_entry(campaign, org, item, status=fields.pop("status", EntryStatus.IN_PROGRESS), **fields)

    entry(tree.a1, 3, "开展警示教育")  # 3 days overdue → the secretary
    entry(tree.a2, 0, "报送学习计划")  # due today, no 责任人 → the secretary
    entry(tree.ag1, 7, "整理党员档案")  # 7 days overdue → staff of the nearest parent with staff: A
    entry(tree.ag1, -3, "筹备主题党日", responsible=person)  # 3 days to go → the 责任人
    entry(tree.a1, 3, "已完成的任务", status=EntryStatus.APPROVED)  # done: not listed
    entry(tree.b1, 3, "别的支部的任务")  # another branch: not this person's
    finding = Finding.objects.create(
        campaign=campaign, org=tree.a1, source=FindingSource.INSPECTION, description="三会一课记录不全"
    )
    Rectification.objects.create(
        finding=finding,
        campaign=campaign,
        org=tree.a1,
        status=RectificationStatus.IN_PROGRESS,
        deadline=DAY + timedelta(days=7),
    )

    run = dispatch_day(committee=tree.gw, day=DAY)
    # This time the worker relays its own jobs, as it does in production on the beat's tick.
    reminder_env.wait(
        lambda: (
            DispatchRun.objects.get(pk=run.pk).status == DispatchStatus.DONE
            and not _unfinished_jobs().exists()
        ),
        "the run and its e-mails",
        relay="beat",
    )
    reminder_env.settle()

    mine = list(Reminder.objects.filter(recipient=person))
    assert {r.source for r in mine} == {
        ReminderSource.ENTRY,
        ReminderSource.RECTIFICATION,
        ReminderSource.OBLIGATION,
    }
    assert len([r for r in mine if r.source == ReminderSource.ENTRY]) == 4
    assert len([r for r in mine if r.source == ReminderSource.OBLIGATION]) == 2  # 主题党日 of A1 and A2
    assert {r.status for r in mine} == {ReminderStatus.SENT}
    (message,) = Message.objects.filter(recipient=person, kind=MessageKind.REMINDER)
    assert {r.message_id for r in mine} == {message.pk}
    for r in mine:
        assert r.title in message.body
    assert "已完成的任务" not in message.body and "别的支部的任务" not in message.body
    assert f"{len(mine)}项" in message.title

    (mail,) = [m for m in _emails(reminder_env.mail_dir) if str(m["To"]) == person.email]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for r in mine:
        assert r.title in text

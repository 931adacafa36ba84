"""P8: one day's reminder dispatch to every 党支部 secretary of the scale tree, through a real worker.

targets.md: "Reminder dispatch to 5,000 recipients (dedupe included) | ref: 5,000 no-op Celery
tasks end-to-end, same worker | ≤ 5×, and ≤ 30 s". The recipients are the secretaries of the
scale tree's 党支部 (5,000 at the reference size, 500 at `--branches 500`), each with three open
checklist entries that the default rules remind about that day: one 3 days overdue (书记), one
due today and one due in 3 days (责任人, i.e. the secretary). Everyone has an e-mail address.

A real `celery worker` subprocess (solo pool, the embedded runtime's file-system broker, the
benchmark database) does the work; this process plays beat's part, running the outbox relay
every 100 ms, like `branches-relay-outbox` does every few seconds.

app = the whole day, end to end: `dispatch_day` writes the batch jobs to the outbox → the relay
publishes them → the worker plans, logs (the dedupe inserts) and composes each 机关党委's batch,
then the finish job → the e-mail jobs are relayed and sent (locmem backend); until the run is
done and every job and every e-mail is done; then the same day is dispatched again, which finds
its run and writes nothing. Not timed, a check: the next day is dispatched too; its catch-up
window re-plans every one of the same reminders, which the log's unique key turns away, so
nothing is sent again.
ref = as many no-op tasks as there are recipients, sent to the same worker and executed, end to
end (tests/bench/p8_tasks.py), measured before and after app; the smaller one is used.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tests.bench.run import TimingResult, _analyze, progress

P8_TARGET = 5.0
P8_MAX_SECONDS = 30.0
P8_YEAR = 2095  # a year no other figure's campaign uses
# No obligation of the default calendar (month ends, the 15th) falls in a rule's window on this
# day or the next, and no phase or term date is near it: the entries are all that is due.
P8_DAY = date(P8_YEAR, 6, 8)
ENTRY_OFFSETS = (-3, 0, 3)  # days from the dispatch day: overdue (书记), due today, due soon (责任人)
POLL_SECONDS = 0.1  # the harness's relay tick (beat's is OUTBOX_RELAY_SECONDS, 5 s)
TALLY_POLL_SECONDS = 0.01  # a file size, read often so the reference is not rounded up
WORKER_START_TIMEOUT = 60.0
RUN_TIMEOUT = 300.0
BULK_BATCH = 2000
WORKER_POOL = ("--pool=solo",)  # the embedded runtime's worker (bin/dev)
WORKER_INCLUDE = ("tests.bench.p8_tasks",)  # the reference's no-op task
BASE_DIR = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class P8Fixture:
    committee_id: int
    recipients: int  # distinct secretaries of the 党支部
    pairs: int  # (secretary, 党支部): each gets one reminder per entry
    entries: int
    day: date
    message_floor: int  # rows above these ids are P8's
    delivery_floor: int


def _max_id(model: Any) -> int:
    from django.db.models import Max

    return int(model.objects.aggregate(m=Max("id"))["m"] or 0)


def p8_fixture_create(*, root_id: int, day: date = P8_DAY) -> P8Fixture:
    """A secretary with an e-mail address at every 党支部, each with three open entries due around ``day``.

    Branches that earlier figures gave a secretary keep theirs (who gets an address if missing).
    """
    from django.db import transaction

    from branches.models import Delivery, Message, OrgKind, OrgUnit, Outbox, Role, RoleGrant, User, subtree_q
    from campaigns.models import (
        Campaign,
        CampaignStatus,
        Checklist,
        ChecklistEntry,
        ChecklistItem,
        Frequency,
        ReminderPolicy,
        Section,
    )
    from campaigns.reminders.dispatch import policy_for

    root = OrgUnit.objects.get(pk=root_id)
    branches = list(
        OrgUnit.objects.filter(subtree_q(root.path), kind=OrgKind.BRANCH, is_active=True)
        .order_by("path")
        .values_list("pk", flat=True)
    )
    secretaries = RoleGrant.objects.filter(org_id__in=branches, role=Role.SECRETARY, user__is_active=True)
    with transaction.atomic():
        # Jobs left by earlier figures belong to rows their resets deleted; the worker must see only P8's.
        Outbox.objects.all().delete()
        policy_for(root)  # installs the default rules and obligations
        # Quiet hours would (rightly) hold the run until morning when the bench runs at night.
        ReminderPolicy.objects.filter(committee=root).update(quiet_start=None, quiet_end=None)
        have = set(secretaries.values_list("org_id", flat=True))
        missing = [org_id for org_id in branches if org_id not in have]
        users = User.objects.bulk_create(
            (
                User(
                    username=f"p8_sec_{org_id}",
                    full_name=f"书记{n}",
                    email=f"p8_sec_{org_id}@bench.invalid",
                    password="!",
                )
                for n, org_id in enumerate(missing, start=1)
            ),
            batch_size=BULK_BATCH,
        )
        ids = dict(
            User.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk")
        )
        RoleGrant.objects.bulk_create(
            (
                RoleGrant(user_id=ids[f"p8_sec_{org_id}"], org_id=org_id, role=Role.SECRETARY)
                for org_id in missing
            ),
            batch_size=BULK_BATCH,
        )
        for pk in User.objects.filter(pk__in=secretaries.values("user_id"), email="").values_list(
            "pk", flat=True
        ):
            User.objects.filter(pk=pk).update(email=f"p8_user_{pk}@bench.invalid")
        campaign = Campaign.objects.create(
            committee=root,
            year=P8_YEAR,
            name=f"{P8_YEAR}年度模范机关创建（性能测试）",
            status=CampaignStatus.PUBLISHED,
        )
        section = Section.objects.create(campaign=campaign, name="组织建设", sort_order=1)
        items = ChecklistItem.objects.bulk_create(
            ChecklistItem(
                campaign=campaign,
                section=section,
                code=f"P8-{n}",
                title=title,
                points=Decimal("2.00"),
                due_date=day + timedelta(days=offset),
                frequency=Frequency.ONCE,
                sort_order=n,
            )
            for n, (offset, title) in enumerate(
                zip(ENTRY_OFFSETS, ("召开支部党员大会", "开展主题党日活动", "报送党费收缴情况"), strict=True)
            )
        )
        checklists = Checklist.objects.bulk_create(
            (Checklist(campaign=campaign, org_id=org_id) for org_id in branches), batch_size=BULK_BATCH
        )
        entries = ChecklistEntry.objects.bulk_create(
            (
                ChecklistEntry(
                    checklist_id=c.pk,
                    campaign=campaign,
                    org_id=c.org_id,
                    item_id=item.pk,
                    due_date=item.due_date,
                )
                for c in checklists
                for item in items
            ),
            batch_size=BULK_BATCH,
        )
    return P8Fixture(
        committee_id=root.pk,
        recipients=secretaries.values("user_id").distinct().count(),
        pairs=secretaries.count(),
        entries=len(entries),
        day=day,
        message_floor=_max_id(Message),
        delivery_floor=_max_id(Delivery),
    )


def p8_data_reset(fixture: P8Fixture | None = None) -> None:
    """Remove the rows P8 wrote: the campaign tables, then its messages, e-mails and jobs.

    The campaign tables go first (the reminder log points at the inbox messages). The accounts
    stay, like every figure's; their grants go with the tree (`tree_reset`).
    """
    from django.db import transaction

    from branches.models import Delivery, Message, Outbox
    from tests.bench.p2_campaigns import campaign_data_reset

    campaign_data_reset()
    with transaction.atomic():
        Outbox.objects.all().delete()
        if fixture is not None:
            Delivery.objects.filter(pk__gt=fixture.delivery_floor).delete()
            Message.objects.filter(pk__gt=fixture.message_floor).delete()


# --- the worker -----------------------------------------------------------------------------------


def broker_options(folder: Path) -> dict[str, Any]:
    """The embedded runtime's file-system broker (config/settings/base.py), rooted in ``folder``."""
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "control_folder": str(folder / "control"),
    }


@contextlib.contextmanager
def publishing_to(folder: Path) -> Iterator[None]:
    """This process publishes to the broker in ``folder`` for real (the bench settings are eager)."""
    from django.test.utils import override_settings

    from config.celery import app

    saved = {k: app.conf.get(k) for k in ("task_always_eager", "broker_url", "broker_transport_options")}
    # The file-system transport has no host; kombu says so on every connection it opens.
    kombu_log = logging.getLogger("kombu.connection")
    saved_level = kombu_log.level
    kombu_log.setLevel(logging.ERROR)
    saved_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = "filesystem://"  # Celery reads it before its own settings

    def forget_pools() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.update(
        task_always_eager=False, broker_url="filesystem://", broker_transport_options=broker_options(folder)
    )
    forget_pools()
    try:
        with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
            yield
    finally:
        forget_pools()
        app.conf.update(saved)
        kombu_log.setLevel(saved_level)
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: IO[bytes]

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def worker_start(folder: Path) -> Worker:
    """`celery -A config worker --pool=solo` on the broker in ``folder`` and this process's database."""
    from tests.bench.p11 import served_database_name

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.bench",
        BENCH_SERVE_DB=served_database_name(),
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_BROKER_URL="filesystem://",
        CELERY_DATA_DIR=str(folder),
    )
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by worker_stop); a full pipe would stall the worker
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            *WORKER_POOL,
            "--loglevel=WARNING",
            "--include=" + ",".join(WORKER_INCLUDE),
            "--hostname=p8bench@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Worker(proc=proc, log=log)


def worker_stop(worker: Worker) -> int:
    """Warm shutdown of the worker's process group; killed if it does not stop within 20 s."""
    proc = worker.proc
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    worker.log.close()
    return int(proc.returncode)


def _wait(
    predicate: Callable[[], bool], timeout: float, worker: Worker, what: str, poll: float = POLL_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if worker.proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.proc.returncode}: {worker.output()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not finish within {timeout:.0f} s: {worker.output()[-2000:]}")
        time.sleep(poll)


def _tally(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def noop_round(worker: Worker, folder: Path, n: int, label: str) -> float:
    """Send ``n`` no-op tasks to the worker and wait until all of them ran; seconds, end to end."""
    from config.celery import app
    from tests.bench.p8_tasks import NOOP_TASK

    tally = folder / f"tally-{label}"
    started = time.perf_counter()
    with app.connection_for_write() as connection:
        for _ in range(n):
            app.send_task(NOOP_TASK, args=[str(tally)], connection=connection)
    _wait(lambda: _tally(tally) >= n, RUN_TIMEOUT, worker, f"{n} no-op tasks", poll=TALLY_POLL_SECONDS)
    return time.perf_counter() - started


# --- the dispatch -------------------------------------------------------------------------------


def _open_jobs(since: int) -> tuple[int, int]:
    """(unfinished, failed) outbox jobs written after id ``since``."""
    from branches.models import Outbox, OutboxStatus

    rows = Outbox.objects.filter(pk__gt=since)
    open_ = rows.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.PUBLISHED, OutboxStatus.RUNNING]
    ).count()
    return open_, rows.filter(status=OutboxStatus.FAILED).count()


def run_day(worker: Worker, committee_id: int, day: date, since: int, problems: list[str]) -> None:
    """Dispatch ``day`` and relay until its run is done and every job since ``since`` has finished."""
    from branches.models import OrgUnit
    from branches.notify import outbox_relay
    from campaigns.models import DispatchRun, DispatchStatus
    from campaigns.reminders.dispatch import dispatch_day

    run = dispatch_day(committee=OrgUnit.objects.get(pk=committee_id), day=day)

    def finished() -> bool:
        outbox_relay()
        if not DispatchRun.objects.filter(pk=run.pk, status=DispatchStatus.DONE).exists():
            return False
        open_, failed = _open_jobs(since)
        if failed:
            problems.append(f"{failed} outbox jobs failed")
            return True
        return open_ == 0

    _wait(finished, RUN_TIMEOUT, worker, f"the dispatch of {day}")


@dataclass
class Tallies:
    reminders: int
    sent: int
    pending: int
    messages: int
    recipients: int
    emails: int
    emails_sent: int
    outbox: int

    @classmethod
    def now(cls, fixture: P8Fixture) -> Tallies:
        from branches.models import Channel, Delivery, DeliveryStatus, Message, MessageKind, Outbox
        from campaigns.models import Reminder, ReminderStatus

        reminders = Reminder.objects.filter(committee_id=fixture.committee_id)
        messages = Message.objects.filter(pk__gt=fixture.message_floor, kind=MessageKind.REMINDER)
        emails = Delivery.objects.filter(pk__gt=fixture.delivery_floor, channel=Channel.EMAIL)
        return cls(
            reminders=reminders.count(),
            sent=reminders.filter(status=ReminderStatus.SENT).count(),
            pending=reminders.filter(status=ReminderStatus.PENDING).count(),
            messages=messages.count(),
            recipients=messages.values("recipient_id").distinct().count(),
            emails=emails.count(),
            emails_sent=emails.filter(status=DeliveryStatus.SENT).count(),
            outbox=Outbox.objects.count(),
        )


def last_job() -> int:
    from branches.models import Outbox

    return _max_id(Outbox)


def job_seconds(since: int) -> dict[str, float]:
    """Seconds the worker spent on each kind of outbox job written after id ``since``."""
    from branches.models import Outbox, OutboxStatus

    out: dict[str, float] = {}
    for task, claimed, done in Outbox.objects.filter(pk__gt=since, status=OutboxStatus.DONE).values_list(
        "task", "claimed_at", "done_at"
    ):
        if claimed and done:
            name = task.rsplit(".", 1)[-1]
            out[name] = out.get(name, 0.0) + (done - claimed).total_seconds()
    return out


def dispatch_round(worker: Worker, fixture: P8Fixture, problems: list[str]) -> Tallies:
    """The timed part: the day, then the same day again, which must write nothing."""
    run_day(worker, fixture.committee_id, fixture.day, last_job(), problems)
    first = Tallies.now(fixture)
    run_day(worker, fixture.committee_id, fixture.day, last_job(), problems)  # the run exists: no job
    if Tallies.now(fixture) != first:
        problems.append("dispatching the same day again wrote something")
    return first


def next_day_round(worker: Worker, fixture: P8Fixture, problems: list[str]) -> Tallies:
    """Untimed check: the next day re-plans every reminder (catch-up window); the log turns them away."""
    run_day(worker, fixture.committee_id, fixture.day + timedelta(days=1), last_job(), problems)
    return Tallies.now(fixture)


def check(fixture: P8Fixture, first: Tallies, again: Tallies) -> list[str]:
    """What is wrong with what the day sent, if anything."""
    n = fixture.recipients
    expected = fixture.pairs * len(ENTRY_OFFSETS)
    problems = []
    if (first.reminders, first.sent, first.pending) != (expected, expected, 0):
        problems.append(
            f"reminders logged/sent/pending {first.reminders}/{first.sent}/{first.pending}, expected {expected}/{expected}/0"
        )
    if (first.messages, first.recipients) != (n, n):
        problems.append(
            f"{first.messages} inbox messages to {first.recipients} people, expected one each to {n}"
        )
    if (first.emails, first.emails_sent) != (n, n):
        problems.append(f"{first.emails_sent} of {first.emails} e-mails sent, expected {n}")
    changed = [
        f"{k} {getattr(first, k)}→{getattr(again, k)}"
        for k in ("reminders", "sent", "messages", "emails", "emails_sent")
        if getattr(first, k) != getattr(again, k)
    ]
    if changed:
        problems.append("the next day's dispatch sent again: " + ", ".join(changed))
    return problems


def bench_p8(*, fixture: P8Fixture) -> TimingResult:
    """P8 on a built fixture: start the worker, time the references and the day, stop the worker."""
    folder = Path(tempfile.mkdtemp(prefix="mofan-p8-broker-"))
    problems: list[str] = []
    refs: list[float] = []
    app_time = float("inf")
    first = again = None
    busy: dict[str, float] = {}
    try:
        with publishing_to(folder):
            worker = worker_start(folder)
            try:
                # Started once the worker answers: its start-up is not part of either figure.
                progress("P8: starting the worker")
                noop_round(worker, folder, 1, "ready")
                progress(f"P8: reference, {fixture.recipients} no-op tasks")
                refs.append(noop_round(worker, folder, fixture.recipients, "ref1"))
                progress(f"P8: dispatching to {fixture.recipients} recipients")
                since = last_job()
                started = time.perf_counter()
                first = dispatch_round(worker, fixture, problems)
                app_time = time.perf_counter() - started
                busy = job_seconds(since)
                progress("P8: the next day, which must send nothing (not timed)")
                again = next_day_round(worker, fixture, problems)
                progress(f"P8: reference again, {fixture.recipients} no-op tasks")
                refs.append(noop_round(worker, folder, fixture.recipients, "ref2"))
            except RuntimeError as exc:
                problems.append(str(exc)[:1000])
            finally:
                code = worker_stop(worker)
                if code not in (0, -signal.SIGTERM):
                    problems.append(f"the worker exited with {code}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if first is not None and again is not None:
        problems += check(fixture, first, again)
    if app_time > P8_MAX_SECONDS:
        problems.append(f"app took {app_time:.1f} s, over the {P8_MAX_SECONDS:g} s limit")
    ref = min(refs) if refs else 0.0
    note = (
        f"{fixture.recipients} recipients at {fixture.pairs} branches, {fixture.entries} entries; "
        + (
            f"{first.reminders} reminders, {first.messages} inbox messages, {first.emails} e-mails; "
            if first
            else ""
        )
        + (f"worker busy {', '.join(f'{k} {v:.1f} s' for k, v in busy.items())}; " if busy else "")
        + f"refs {', '.join(f'{r:.2f}' for r in refs)} s; limit {P8_MAX_SECONDS:g} s"
        + (f"; PROBLEMS: {'; '.join(problems)}" if problems else "")
    )
    return TimingResult(
        name="P8_reminder_dispatch", app=app_time, ref=ref, target=P8_TARGET, valid=not problems, note=note
    )


def run_p8(*, root_id: int) -> list[TimingResult]:
    """Build the P8 fixture on the tree under ``root_id``, measure, and remove what it wrote.

    Call it with empty campaign tables (after `campaign_data_reset`); the caller resets them again.
    """
    progress("P8: building the recipients and their entries")
    started = time.perf_counter()
    fixture = p8_fixture_create(root_id=root_id)
    progress(f"P8: {fixture.recipients} recipients built in {time.perf_counter() - started:.1f} s")
    _analyze()
    try:
        return [bench_p8(fixture=fixture)]
    finally:
        p8_data_reset(fixture)


# --- standalone ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench.p8_reminders [--branches 5000]`: P8 alone in a fresh benchmark database."""
    from tests.bench.standalone import in_bench_database, print_results, scale_root

    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.p8_reminders", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--branches", type=int, default=5000, help="党支部 in the scale tree (CI: 500)")
    args = parser.parse_args(argv)
    return print_results(
        in_bench_database(lambda: run_p8(root_id=scale_root(args.branches, with_members=True)))
    )


if __name__ == "__main__":
    sys.exit(main())

"""Work that happens because time passes, started by `flask --app eventapp periodic` from cron
or a systemd timer on any number of machines, each job once per tick.

The jobs (each commits on its own, so one failing neither undoes nor blocks the others):
- expire waiting-list offers past their time and pass the seats on;
- release seats held for registrations whose email was not confirmed in time;
- queue the reminders that are due, once per attendee;
- anonymise events whose retention period is over;
- allocate and publish preference-mode events whose registration has closed.

Once per tick, however many nodes run it. Time is cut into ticks of PERIODIC_TICK_SECONDS
(a minute). Before a job runs, its node inserts the row (job, tick) into periodic_run; the
primary key lets exactly one insert succeed, on SQLite and PostgreSQL alike, so start the
timer on every machine (no single scheduler to keep alive) and each job still runs once a
minute. On PostgreSQL the winner also holds an advisory lock on the job while it runs, so a
job that takes longer than a tick is not started again beside itself; on SQLite the
database lets one writer in at a time anyway. The jobs themselves are safe to repeat
(conditional updates decide who does a row), so this is about doing work once, not about
correctness. Rows older than a week are deleted as new ones are written.
"""

from __future__ import annotations

import os
import socket
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, text
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import PeriodicRun
from ..models.types import utcnow
from .allocation.runs import allocate_due_events
from .mail.reminders import send_reminders
from .privacy import apply_retention
from .registration.holds import release_expired_holds
from .registration.waitlist import expire_offers

TASKS: tuple[tuple[str, Callable[[datetime], int]], ...] = (
    ("offers_expired", expire_offers),
    ("holds_released", release_expired_holds),
    ("reminders_queued", send_reminders),
    ("events_anonymised", apply_retention),
    ("allocations_published", allocate_due_events),
)
SKIPPED = "skipped"  # another node has this tick (or is still running the job)
KEPT = timedelta(days=7)


def run_periodic(now: datetime | None = None) -> dict[str, int | None]:
    """Run every job now, whatever ran before; returns what each did (None: it failed).
    The scheduler's entry point is `run_tick`; this is the jobs themselves."""
    now = now or utcnow()
    return {name: _run_job(name, task, now) for name, task in TASKS}


def _run_job(name: str, task: Callable[[datetime], int], now: datetime) -> int | None:
    try:
        done = task(now)
        db.session.commit()
        return done
    except Exception:
        # Keep the caller alive: the next tick tries again. The traceback goes to the log.
        db.session.rollback()
        current_app.logger.exception("periodic task %s failed", name)
        return None


def tick_of(now: datetime) -> int:
    seconds = int(current_app.config.get("PERIODIC_TICK_SECONDS", 60))
    return int(now.timestamp()) // seconds


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def run_tick(now: datetime | None = None) -> dict[str, int | None | str]:
    """Run each job whose (job, tick) this node wins; the others answer SKIPPED."""
    now = now or utcnow()
    tick = tick_of(now)
    done: dict[str, int | None | str] = {}
    for name, task in TASKS:
        if not _claim(name, tick, now):
            done[name] = SKIPPED
            continue
        with _exclusive(name) as alone:
            done[name] = _run_job(name, task, now) if alone else SKIPPED
        _record(name, tick, done[name])
    return done


def _claim(job: str, tick: int, now: datetime) -> bool:
    """Insert (job, tick); True for the one node whose insert succeeds."""
    try:
        db.session.add(PeriodicRun(job=job, tick=tick, node=node_name(), started_at=now))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    old = tick - int(KEPT.total_seconds()) // int(
        current_app.config.get("PERIODIC_TICK_SECONDS", 60)
    )
    db.session.execute(delete(PeriodicRun).where(PeriodicRun.job == job, PeriodicRun.tick < old))
    db.session.commit()
    return True


class _exclusive:
    """On PostgreSQL, a session advisory lock on the job for as long as it runs, on a
    connection of its own (the job's own transactions commit in between); elsewhere a no-op."""

    def __init__(self, job: str):
        self.key = zlib.crc32(f"eventapp.periodic.{job}".encode())
        self.connection = None

    def __enter__(self) -> bool:
        if db.engine.dialect.name != "postgresql":
            return True
        self.connection = db.engine.connect()
        got = self.connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
        self.connection.commit()
        return bool(got)

    def __exit__(self, *_exc) -> None:
        if self.connection is not None:
            self.connection.execute(text("SELECT pg_advisory_unlock_all()"))
            self.connection.commit()
            self.connection.close()


def _record(job: str, tick: int, outcome: int | None | str) -> None:
    row = db.session.get(PeriodicRun, (job, tick))
    if row is None:
        return
    row.finished_at = utcnow()
    if isinstance(outcome, int):
        row.result = outcome
    elif outcome is None:
        row.error = "failed; see the log"
    else:
        row.error = "still running on another node"
    db.session.commit()

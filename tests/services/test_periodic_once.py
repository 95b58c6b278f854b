"""Periodic jobs by a standard means: `flask --app eventapp periodic` from cron or a systemd
timer on every machine, each job once per tick however many nodes run it (a row per job and
tick; on PostgreSQL also an advisory lock while a job runs)."""

from __future__ import annotations

import contextlib
import json
import zlib
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from eventapp import settings
from eventapp.extensions import db
from eventapp.models import PeriodicRun
from eventapp.services import periodic
from tests.concurrency import run_at_once


def test_a_second_run_in_the_same_tick_skips_every_job(app, now):
    first = periodic.run_tick(now)
    assert all(isinstance(value, int) for value in first.values()), first
    again = periodic.run_tick(now + timedelta(seconds=30))  # same minute
    assert set(again.values()) == {periodic.SKIPPED}
    later = periodic.run_tick(now + timedelta(seconds=60))  # the next tick
    assert all(isinstance(value, int) for value in later.values())
    rows = db.session.scalars(select(PeriodicRun)).all()
    assert len(rows) == 2 * len(periodic.TASKS)
    assert all(row.finished_at is not None and row.error is None for row in rows)


def test_eight_nodes_at_once_run_each_job_once(app, now):
    def node():
        return lambda: json.dumps(periodic.run_tick(now))

    outcomes = run_at_once(app, [node] * 8)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    ran = Counter()
    for outcome in outcomes.elements():
        for job, value in json.loads(outcome).items():
            if value != periodic.SKIPPED:
                ran[job] += 1
    assert ran == Counter({name: 1 for name, _ in periodic.TASKS})


def test_control_without_the_claim_every_node_runs_every_job(app, now, monkeypatch):
    """The guards are what keep it to once: with the claim always won (and no advisory lock),
    eight nodes run every job eight times."""
    monkeypatch.setattr(periodic, "_claim", lambda job, tick, moment: True)
    monkeypatch.setattr(periodic, "_record", lambda job, tick, outcome: None)
    monkeypatch.setattr(periodic, "_exclusive", lambda job: contextlib.nullcontext(True))

    def node():
        return lambda: json.dumps(periodic.run_tick(now))

    outcomes = run_at_once(app, [node] * 8)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    per_job = Counter(
        job
        for outcome in outcomes.elements()
        for job, value in json.loads(outcome).items()
        if value != periodic.SKIPPED
    )
    assert set(per_job.values()) == {8}


def test_a_job_still_running_elsewhere_is_not_started_beside_itself(app, now):
    if app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite lets one writer in anyway")
    name = periodic.TASKS[0][0]
    key = zlib.crc32(f"eventapp.periodic.{name}".encode())
    with db.engine.connect() as holder:  # the node still running last tick's job
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        holder.commit()
        done = periodic.run_tick(now)
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        holder.commit()
    assert done[name] == periodic.SKIPPED
    assert all(isinstance(v, int) for job, v in done.items() if job != name)
    row = db.session.get(PeriodicRun, (name, periodic.tick_of(now)))
    assert row.error == "still running on another node"


def test_old_rows_are_deleted_as_new_ones_are_written(app, now):
    periodic.run_tick(now)
    periodic.run_tick(now + timedelta(days=8))
    ticks = set(db.session.scalars(select(PeriodicRun.tick)))
    assert ticks == {periodic.tick_of(now + timedelta(days=8))}


def test_the_cli_runs_then_skips_and_force_runs_anyway(app, runner):
    first = runner.invoke(args=["periodic"])
    assert first.exit_code == 0, first.output
    assert "offers_expired: 0" in first.output
    second = runner.invoke(args=["periodic"])
    assert second.exit_code == 0
    assert "offers_expired: skipped" in second.output and "ran elsewhere" in second.output
    forced = runner.invoke(args=["periodic", "--force"])
    assert "offers_expired: 0" in forced.output


def test_redis_url_shares_rate_limits_without_naming_it_twice():
    config = {"REDIS_URL": "redis://r:6379/3", "RATELIMIT_STORAGE_URI": "memory://"}
    sources = {"RATELIMIT_STORAGE_URI": "default", "REDIS_URL": "environment (FLASK_REDIS_URL)"}
    settings.share_through_redis(config, sources)
    assert config["RATELIMIT_STORAGE_URI"] == "redis://r:6379/3"
    assert sources["RATELIMIT_STORAGE_URI"] == "REDIS_URL"

    explicit = {"REDIS_URL": "redis://r:6379/3", "RATELIMIT_STORAGE_URI": "redis://o:6379/0"}
    settings.share_through_redis(explicit, {"RATELIMIT_STORAGE_URI": "environment (...)"})
    assert explicit["RATELIMIT_STORAGE_URI"] == "redis://o:6379/0"

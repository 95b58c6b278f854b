"""Running the worker: once, in a loop (`flask mail send --loop`), or as a thread of `flask run`.

Each round drains the outbox. The periodic jobs (reminders, expiring waiting-list offers,
retention, allocation) are started by `flask --app eventapp periodic` from cron or a systemd
timer; with MAIL_LOOP_RUNS_PERIODIC (on under `make run`, off by default) each round also
gives them a turn first, through the same once-per-tick claim (services/periodic.py), so a
worker that runs them never repeats what a timer on another machine did.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime

import click
from flask import Flask, current_app
from flask.helpers import get_debug_flag

from ...extensions import db
from ...models.types import utcnow
from .. import periodic
from .worker import DeliveryReport, send_pending

log = logging.getLogger(__name__)


def run_periodic(now: datetime) -> None:
    """The jobs due in this tick that no other node has taken; commit what they did."""
    try:
        periodic.run_tick(now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def run_once(now: datetime | None = None, stop: threading.Event | None = None) -> DeliveryReport:
    """One round: the periodic jobs if MAIL_LOOP_RUNS_PERIODIC, then every due message
    (until `stop` is set)."""
    if current_app.config.get("MAIL_LOOP_RUNS_PERIODIC"):
        try:
            run_periodic(now or utcnow())
        except Exception:  # a broken job must not keep confirmations from going out
            log.exception("the periodic jobs failed")
    return send_pending(now=now, stop=stop)


def run_forever(app: Flask, stop: threading.Event, interval: float) -> None:
    """Rounds until `stop` is set, `interval` seconds apart; errors are logged, not fatal."""
    while not stop.is_set():
        with app.app_context():
            try:
                report = run_once(stop=stop)
                if report.handled:
                    log.info(
                        "outbox: %s sent, %s retried, %s failed",
                        report.sent,
                        report.retried,
                        report.failed,
                    )
            except Exception:
                log.exception("outbox round failed; trying again in %ss", interval)
            finally:
                db.session.remove()
        stop.wait(interval)


def should_run_in_process(app: Flask) -> bool:
    """True only in the process that serves `flask run` with MAIL_WORKER_IN_PROCESS on.

    Not in tests, not under gunicorn (no `run` command), not in other CLI commands, and not
    in the reloader's watching parent (it serves nothing; its child does, with
    WERKZEUG_RUN_MAIN set), so one dev server has exactly one worker thread.
    """
    if not app.config.get("MAIL_WORKER_IN_PROCESS") or app.testing:
        return False
    context = click.get_current_context(silent=True)
    if context is None or context.info_name != "run":
        return False
    reload = context.params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


_thread: threading.Thread | None = None


def start_in_process_worker(app: Flask) -> threading.Thread | None:
    """Start the daemon worker thread once per process, when `should_run_in_process`."""
    global _thread
    if not should_run_in_process(app) or (_thread is not None and _thread.is_alive()):
        return None
    interval = float(app.config.get("OUTBOX_POLL_SECONDS", 2))
    _thread = threading.Thread(
        target=run_forever,
        args=(app, threading.Event(), interval),
        name="outbox-worker",
        daemon=True,
    )
    _thread.start()
    log.info("outbox worker thread started (every %ss)", interval)
    return _thread

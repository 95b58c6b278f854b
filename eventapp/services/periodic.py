"""Work that happens because time passes: the mail worker's loop calls `run_periodic`.

Each task commits on its own, so one failing task neither undoes nor blocks the others, and
each is safe with several workers at once (conditional updates decide who does a row):
- expire waiting-list offers past their time and pass the seats on;
- queue the reminders that are due, once per attendee;
- anonymise events whose retention period is over;
- allocate and publish preference-mode events whose registration has closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app

from ..extensions import db
from ..models.types import utcnow
from .allocation.runs import allocate_due_events
from .mail.reminders import send_reminders
from .privacy import apply_retention
from .registration.waitlist import expire_offers

TASKS: tuple[tuple[str, Callable[[datetime], int]], ...] = (
    ("offers_expired", expire_offers),
    ("reminders_queued", send_reminders),
    ("events_anonymised", apply_retention),
    ("allocations_published", allocate_due_events),
)


def run_periodic(now: datetime | None = None) -> dict[str, int | None]:
    """Run every periodic task once; returns what each did (None for a task that failed)."""
    now = now or utcnow()
    done: dict[str, int | None] = {}
    for name, task in TASKS:
        try:
            done[name] = task(now)
            db.session.commit()
        except Exception:
            # Keep the worker alive: the next run tries again. The traceback goes to the log.
            db.session.rollback()
            current_app.logger.exception("periodic task %s failed", name)
            done[name] = None
    return done

"""The dashboard's figures served again for a second or two, and never silently.

With 5,000 attendees a dashboard costs about 80 ms of CPU, the app's and PostgreSQL's (the
figures' queries, the programme's conflicts, the session table), and organisers keep it
open during the opening rush, several at once, reloading. So each process keeps the
rendered figures of an event (per day shown and language) for DASHBOARD_FIGURES_MAX_AGE
seconds (2 by default; 0 renders every request) and serves them again meanwhile (and,
while one request renders the next, for at most as long again). The page says when the
figures were read and how many seconds ago, so a copy is never passed off as live.

Only the figures are kept, not the page: they hold nothing personal (no form, no CSRF token,
no name), and the page around them is rendered per request as before. An organiser coming
back from an action (a flash message waits to be shown) gets fresh figures, so their own
change shows at once. The copies live in the process's memory, not in the shared cache: at
most a few seconds old, per process, they need no invalidation across servers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app, session
from flask_babel import format_time, get_locale
from markupsafe import Markup

DEFAULT_MAX_AGE = 2
KEPT = 128  # copies per process at most (events x days x languages); the oldest go first

_lock = threading.Lock()
_clock = time.time  # replaced by tests


@dataclass
class _Store:
    """One app's copies (each app its own, as each has its own database) and the keys whose
    next copy a request is rendering."""

    copies: dict[tuple, FiguresCopy] = field(default_factory=dict)
    rendering: set[tuple] = field(default_factory=set)


def _store() -> _Store:
    return current_app.extensions.setdefault("dashboard_figures", _Store())


@dataclass(frozen=True)
class FiguresCopy:
    html: Markup
    read_at: float  # the clock before the figures were read: their age

    @property
    def age(self) -> int:
        return max(0, int(_clock() - self.read_at))

    @property
    def time_label(self) -> str:
        """When the figures were read, to the second, in the event's timezone."""
        return format_time(datetime.fromtimestamp(self.read_at, UTC), "HH:mm:ss")


def figures_copy(event_id: int, day: str | None, render: Callable[[], Markup]) -> FiguresCopy:
    """The event's figures for the day asked for, from a copy at most max-age seconds old,
    else rendered now by `render` (which may raise: nothing is kept then).

    When a copy has just expired, one request per process renders its successor and the
    others meanwhile get the expired one (with its true age on the page), for at most
    another max-age seconds: a dozen requests rendering the same figures at once would
    queue every dashboard behind them."""
    max_age = current_app.config.get("DASHBOARD_FIGURES_MAX_AGE", DEFAULT_MAX_AGE)
    if max_age <= 0 or session.get("_flashes"):
        return FiguresCopy(render(), _clock())
    key = (event_id, day or "", str(get_locale()))
    copy = _store().copies.get(key)
    age = _clock() - copy.read_at if copy is not None else None
    if age is not None and age <= max_age:
        return copy
    renders = _claim(key)
    if not renders and age is not None and age <= 2 * max_age:
        return copy  # its successor is on the way
    try:
        read_at = _clock()
        copy = FiguresCopy(render(), read_at)
        _keep(key, copy)
        return copy
    finally:
        if renders:
            _release(key)


def _claim(key: tuple) -> bool:
    """True for the one request that renders the key's next copy."""
    rendering = _store().rendering
    with _lock:
        if key in rendering:
            return False
        rendering.add(key)
        return True


def _release(key: tuple) -> None:
    with _lock:
        _store().rendering.discard(key)


def _keep(key: tuple, copy: FiguresCopy) -> None:
    copies = _store().copies
    with _lock:
        copies.pop(key, None)  # re-inserted last: the dict's order is the age order
        copies[key] = copy
        while len(copies) > KEPT:
            del copies[next(iter(copies))]


def forget_all() -> None:
    """Drop every copy this app's process holds."""
    with _lock:
        current_app.extensions.pop("dashboard_figures", None)

"""The programme as a timetable: rooms across, time down, one table per day.

The same list of entries is a list on phones and a CSS grid on wide screens, so the reading
order is the same for everyone: a start time, then what starts then, room by room. Grid
positions are CSS classes (a strict CSP forbids style attributes); a day that cannot be drawn
as a clean grid (two sessions in one room at once, too many rooms or time lines) stays a list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from ..models import EventSession, Room

MAX_ROW_LINE = 50  # the stylesheet has placement classes up to these lines
MAX_COLUMN_LINE = 14


@dataclass
class Entry:
    """One thing in the timetable: a start time label or a session card."""

    kind: str  # "time" or "session"
    starts_at: datetime
    session: EventSession | None = None
    row: int = 2
    row_end: int = 3
    column: int = 1
    column_end: int = 2
    state: SessionState | None = None

    @property
    def spans_all(self) -> bool:
        return self.session is not None and self.column_end - self.column > 1

    @property
    def grid_classes(self) -> str:
        return f"tt-r{self.row} tt-re{self.row_end} tt-c{self.column} tt-ce{self.column_end}"


@dataclass
class SessionState:
    """What a visitor needs to know about a session at a glance."""

    chosen: bool = False  # the visitor holds a confirmed seat
    waitlisted: bool = False  # the visitor is on its waiting list
    clashes_with: list[EventSession] = field(default_factory=list)  # overlapping choices

    @property
    def clash(self) -> bool:
        return bool(self.clashes_with) and not (self.chosen or self.waitlisted)


@dataclass
class DayTable:
    day: date
    columns: list[Room | None]  # None: the column for sessions without a room
    entries: list[Entry]
    is_grid: bool
    # Why a day with rooms is a list even on wide screens; shown to signed-in organisers.
    fallback_reason: str | None = None

    @property
    def first_start(self) -> datetime:
        return self.entries[0].starts_at


def session_states(
    sessions: list[EventSession], chosen_ids: set[int], waitlisted_ids: set[int]
) -> dict[int, SessionState]:
    """Per session: the visitor's choice, and which of their choices it overlaps."""
    mine = [s for s in sessions if s.id in chosen_ids or s.id in waitlisted_ids]
    states = {}
    for session in sessions:
        clashes = [
            other
            for other in mine
            if other.id != session.id and session.registrable and other.overlaps(session)
        ]
        states[session.id] = SessionState(
            chosen=session.id in chosen_ids,
            waitlisted=session.id in waitlisted_ids,
            clashes_with=clashes,
        )
    return states


def build(
    sessions: list[EventSession],
    rooms: list[Room],
    tz,
    states: dict[int, SessionState] | None = None,
) -> list[DayTable]:
    """One DayTable per local day, in order; `rooms` gives the column order."""
    states = states or {}
    by_day: dict[date, list[EventSession]] = {}
    for session in sorted(sessions, key=lambda s: (s.starts_at, s.id)):
        by_day.setdefault(session.starts_at.astimezone(tz).date(), []).append(session)
    return [_day_table(day, day_sessions, rooms, states) for day, day_sessions in by_day.items()]


def _alone_in_time(sessions: list[EventSession]) -> set[int]:
    """Ids of the sessions that overlap no other one, in one pass over the day.

    In start order, a session overlaps an earlier one exactly when the latest end so far is
    after its start, and a later one exactly when the next start is before its end.
    """
    ordered = sorted(sessions, key=lambda s: (s.starts_at, s.id))
    alone, latest_end = set(), None
    for i, session in enumerate(ordered):
        after = ordered[i + 1] if i + 1 < len(ordered) else None
        clear_before = latest_end is None or latest_end <= session.starts_at
        clear_after = after is None or after.starts_at >= session.ends_at
        if clear_before and clear_after:
            alone.add(session.id)
        latest_end = session.ends_at if latest_end is None else max(latest_end, session.ends_at)
    return alone


def _day_table(day, sessions, rooms, states) -> DayTable:
    # A session nothing else runs against (a plenary, a break) spans every room, so a room
    # only gets a column when something in it runs in parallel with something else.
    spanning = _alone_in_time(sessions)
    used_room_ids = {s.room_id for s in sessions if s.room_id is not None and s.id not in spanning}
    columns: list[Room | None] = [r for r in rooms if r.id in used_room_ids]
    if any(s.room_id is None and s.id not in spanning for s in sessions):
        columns.append(None)
    column_of = {(c.id if c is not None else None): i + 2 for i, c in enumerate(columns)}
    last_column_line = len(columns) + 2

    lines = sorted({s.starts_at for s in sessions} | {s.ends_at for s in sessions})
    row_of = {instant: i + 2 for i, instant in enumerate(lines)}

    by_start: dict[datetime, list[EventSession]] = {}
    for session in sessions:
        by_start.setdefault(session.starts_at, []).append(session)
    entries: list[Entry] = []
    for start in sorted(by_start):
        entries.append(Entry("time", start, row=row_of[start], row_end=row_of[start] + 1))
        starting = by_start[start]
        cards = []
        for session in starting:
            if session.id in spanning or not columns:
                column, column_end = 2, max(last_column_line, 3)
            else:
                column = column_of[session.room_id]
                column_end = column + 1
            cards.append(
                Entry(
                    "session",
                    start,
                    session=session,
                    row=row_of[session.starts_at],
                    row_end=row_of[session.ends_at],
                    column=column,
                    column_end=column_end,
                    state=states.get(session.id, SessionState()),
                )
            )
        entries.extend(sorted(cards, key=lambda e: (e.column, e.session.id)))

    reason = _fallback_reason(columns, len(lines), last_column_line, entries)
    is_grid = bool(columns) and reason is None
    return DayTable(day, columns, entries, is_grid, reason if columns else None)


def _fallback_reason(columns, line_count: int, last_column_line: int, entries) -> str | None:
    """Why the day can't be drawn as a grid of rooms and times (None: it can)."""
    if line_count + 1 > MAX_ROW_LINE:
        return _("more than %(n)d different start and end times on one day", n=MAX_ROW_LINE - 1)
    if last_column_line > MAX_COLUMN_LINE:
        return _("more than %(n)d rooms on one day", n=MAX_COLUMN_LINE - 2)
    if _cells_collide([e for e in entries if e.kind == "session"]):
        return _("two sessions overlap in one room")
    return None


def _cells_collide(cards: list[Entry]) -> bool:
    """True when two cards would cover the same grid cell."""
    for i, first in enumerate(cards):
        for second in cards[i + 1 :]:
            rows_meet = first.row < second.row_end and second.row < first.row_end
            columns_meet = first.column < second.column_end and second.column < first.column_end
            if rows_meet and columns_meet:
                return True
    return False

"""The organiser's timetable: per day a table of time slots (rows) and rooms (columns).

It is a plain table first: without JavaScript each session links to its edit form, and that
is the whole editor. static/timetable.js reads the same table (the slots' times in
`data-slot`, the rooms' ids in `data-room`) to move sessions by drag and drop or keyboard.
Rows are wall-clock times in the event's timezone, so a slot in the spring-forward gap is
shown like any other and a move there is refused by the server (422), as the form refuses it.
Sessions that run at the same time in one room (a conflict accepted or imported) share one
cell, so the table stays a table and the clash shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import gcd

from ..models import Event, EventSession, Room

PREFERRED_STEP = 15  # minutes per row, unless sessions start or end between them
SMALLEST_STEP = 5
DEFAULT_HOURS = (time(9), time(18))  # a day of a multi-day event without sessions yet


@dataclass
class Column:
    room: Room | None  # None: sessions without a room (breaks, the lunch)

    @property
    def key(self) -> str:
        return str(self.room.id) if self.room is not None else ""


@dataclass
class Cell:
    column: Column
    sessions: list[EventSession] = field(default_factory=list)  # empty: a free slot
    rowspan: int = 1

    @property
    def clash(self) -> bool:
        return len(self.sessions) > 1


@dataclass
class Row:
    at: datetime  # naive local wall-clock time
    cells: list[Cell]  # the cells that start in this row; covered ones are left out

    @property
    def slot(self) -> str:
        return self.at.strftime("%Y-%m-%dT%H:%M")

    @property
    def label(self) -> str:
        return self.at.strftime("%H:%M")

    @property
    def on_the_hour(self) -> bool:
        return self.at.minute == 0


@dataclass
class Day:
    day: date
    step: int  # minutes per row
    columns: list[Column]
    rows: list[Row]


def local(moment: datetime, event: Event) -> datetime:
    return moment.astimezone(event.tz).replace(tzinfo=None)


def build(event: Event, sessions: list[EventSession]) -> list[Day]:
    """One Day per date of the event (and per date a session lies on outside it)."""
    scheduled = [s for s in sessions if s.status == "scheduled"]
    step = _step(event, scheduled)
    columns = [Column(room) for room in event.rooms] + [Column(None)]
    by_day: dict[date, list[EventSession]] = {}
    for session in scheduled:
        by_day.setdefault(local(session.starts_at, event).date(), []).append(session)
    first = local(event.starts_at, event).date()
    last = max(first, (local(event.ends_at, event) - timedelta(minutes=1)).date())
    days = {first + timedelta(days=n) for n in range((last - first).days + 1)} | set(by_day)
    return [_day(event, day, by_day.get(day, []), columns, step) for day in sorted(days)]


def _step(event: Event, sessions: list[EventSession]) -> int:
    """Minutes per row: 15, or finer when a session starts or ends off the quarter hour."""
    step = PREFERRED_STEP
    for session in sessions:
        for moment in (session.starts_at, session.ends_at):
            step = gcd(step, local(moment, event).minute)
    return max(step, SMALLEST_STEP)


def _day(event, day: date, sessions, columns: list[Column], step: int) -> Day:
    start, end = _bounds(event, day, sessions)
    start -= timedelta(minutes=(start.minute % step))
    times = []
    moment = start
    while moment < end:
        times.append(moment)
        moment += timedelta(minutes=step)
    covered: set[tuple[int, int]] = set()  # (row, column) inside a cell started above
    starting: dict[tuple[int, int], Cell] = {}
    for c, column in enumerate(columns):
        for first, rows, group in _clusters(event, sessions, column, start, step, len(times)):
            starting[(first, c)] = Cell(column, group, rows)
            covered |= {(r, c) for r in range(first + 1, first + rows)}
    rows = [
        Row(
            at,
            [
                starting.get((r, c), Cell(column))
                for c, column in enumerate(columns)
                if (r, c) not in covered
            ],
        )
        for r, at in enumerate(times)
    ]
    return Day(day, step, columns, rows)


def _bounds(event: Event, day: date, sessions) -> tuple[datetime, datetime]:
    """The day's first and last minute in the table: the event's hours on that day (else
    DEFAULT_HOURS), widened to the sessions that start on it."""
    opens, closes = local(event.starts_at, event), local(event.ends_at, event)
    start = opens if opens.date() == day else datetime.combine(day, DEFAULT_HOURS[0])
    end = closes if closes.date() == day else datetime.combine(day, DEFAULT_HOURS[1])
    start = min([start] + [local(s.starts_at, event) for s in sessions])
    end = max([end] + [local(s.ends_at, event) for s in sessions])
    return start, max(end, start + timedelta(hours=1))


def _clusters(event, sessions, column: Column, start: datetime, step: int, count: int):
    """(first row, rows, sessions) for each group of overlapping sessions in the column."""
    room_id = column.room.id if column.room is not None else None
    spans = []
    for session in sorted(sessions, key=lambda s: (s.starts_at, s.id)):
        if session.room_id != room_id:
            continue
        first = _row(local(session.starts_at, event), start, step)
        last = max(first + 1, -(-_minutes(local(session.ends_at, event), start) // step))
        spans.append((max(first, 0), min(last, count), session))
    groups: list[tuple[int, int, list[EventSession]]] = []
    for first, last, session in spans:
        if groups and first < groups[-1][1]:
            top, bottom, members = groups[-1]
            groups[-1] = (top, max(bottom, last), [*members, session])
        else:
            groups.append((first, last, [session]))
    return [(top, bottom - top, members) for top, bottom, members in groups]


def _minutes(moment: datetime, start: datetime) -> int:
    return int((moment - start).total_seconds() // 60)


def _row(moment: datetime, start: datetime, step: int) -> int:
    return _minutes(moment, start) // step

"""What a move would do, said before it is saved: "this moves 12 attendees' sessions, emails
14 people, 3 would clash", with the conflicts it brings.

The timetable editor asks for this after a drop and shows it for the organiser to confirm;
the save then goes through `update_session` like the form's. The preview judges the move as
`update_session` does: the session's plan with the new times and room, the conflicts it
brings beyond those accepted before (`changes.new_only`), the rankings it touches. Nothing
is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select

from ....extensions import db
from ....models import EventSession, Registration, Room
from ...allocation.preferences import ranking_change, rankings_warning
from ...validation import FieldErrors
from .. import conflicts
from ..cleaning import clean_datetime, clean_session_data, ensure_order, raise_if
from ..conflicts import ATTENDEE_OVERLAP, ConflictItem
from .changes import new_only
from .rooms import room_named
from .sessions import KEEP_ROOM, plan_of


@dataclass
class MoveImpact:
    """A planned move and whom it reaches."""

    session: EventSession
    starts_at: datetime
    ends_at: datetime
    room: Room | None
    moved: bool
    seats: int = 0  # confirmed attendees whose calendar entry moves
    told: int = 0  # people emailed about it (seats, waiting list and offers)
    clashing: int = 0  # attendees who would hold two sessions at once
    conflicts: list[ConflictItem] = field(default_factory=list)  # the ones the move brings

    @property
    def blocked(self) -> bool:
        return any(c.is_hard for c in self.conflicts)

    @property
    def confirm_required(self) -> bool:
        """Only warnings: saving needs the organiser's explicit yes (confirm=True)."""
        return bool(self.conflicts) and not self.blocked


def keep_length(session: EventSession, starts_at) -> dict:
    """The times of `session` starting at `starts_at` (local to the event, as the form takes
    it) and lasting as long as it does now, in absolute time: a 60-minute workshop stays 60
    minutes across a clock change. A start in the spring-forward gap is InvalidInput."""
    errors = FieldErrors()
    start = clean_datetime(starts_at, "starts_at", errors, session.event.timezone)
    raise_if(errors)
    return {"starts_at": start, "ends_at": start + (session.ends_at - session.starts_at)}


def preview_move(
    session: EventSession, *, starts_at: datetime, ends_at: datetime, room_id=KEEP_ROOM
) -> MoveImpact:
    """What moving `session` to these times (and room) would do, judged as the save judges
    it; InvalidInput or NotFound for input the save would refuse the same way."""
    data = {"starts_at": starts_at, "ends_at": ends_at}
    if room_id is not KEEP_ROOM:
        data["room_id"] = room_id
    values = clean_session_data(data, tz=session.event.timezone, partial=True)
    ensure_order(values["starts_at"], values["ends_at"])
    room = room_named(session.event, values["room_id"]) if "room_id" in values else session.room
    retimed = (values["starts_at"], values["ends_at"]) != (session.starts_at, session.ends_at)
    plan = replace(
        plan_of(session),
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        room=room,
        check_attendees=retimed,
    )
    found = conflicts.check_session(plan)
    found += rankings_warning(session, ranking_change(session, values))
    new = new_only(found, conflicts.check_session(plan_of(session)))
    moved = retimed or room is not session.room
    impact = MoveImpact(
        session,
        plan.starts_at,
        plan.ends_at,
        room,
        moved=moved,
        clashing=len(_clashing_attendees(new)),
        conflicts=new,
    )
    if moved and session.status == "scheduled":
        impact.seats, impact.told = _reached(session)
    return impact


def _reached(session: EventSession) -> tuple[int, int]:
    """(confirmed seats, active registrations): notifications.session_moved emails every
    active registration, and moves the calendar entry of those with a seat."""
    rows = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.session_id == session.id, Registration.is_active)
        .group_by(Registration.status)
    ).all()
    counts = dict(rows)
    return counts.get("confirmed", 0), sum(counts.values())


def _clashing_attendees(items: list[ConflictItem]) -> set[int]:
    """Each attendee once, however many of their sessions the move runs into."""
    return {
        attendee["id"]
        for item in items
        if item.kind == ATTENDEE_OVERLAP
        for attendee in item.details.get("attendees", [])
    }

"""What a move would do, said before it is saved: "this moves 12 attendees' sessions, emails
14 people, 3 would clash", with the conflicts it brings.

The timetable editor asks for this after a drop and shows it for the organiser to confirm;
the save then goes through `update_session` like the form's. Whom it emails and the
conflicts it brings come from the session form's own preview (impact.session_change), so
the editor and the form cannot disagree; this adds the move's times (the session keeps its
length) and how many calendar entries move. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ....extensions import db
from ....models import EventSession, Registration, Room
from ...validation import FieldErrors
from ..cleaning import clean_datetime, raise_if
from ..conflicts import ATTENDEE_OVERLAP, ConflictItem
from .impact import session_change
from .sessions import KEEP_ROOM, read_edit


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
    it (impact.session_change, the session form's preview); InvalidInput or NotFound for
    input the save would refuse the same way."""
    data = {"starts_at": starts_at, "ends_at": ends_at}
    if room_id is not KEEP_ROOM:
        data["room_id"] = room_id
    edit = read_edit(session, data)
    change = session_change(session, data)
    impact = MoveImpact(
        session,
        edit.plan.starts_at,
        edit.plan.ends_at,
        edit.room,
        moved=edit.moved,
        told=change.recipients,
        clashing=len(_clashing_attendees(change.conflicts)),
        conflicts=change.conflicts,
    )
    if edit.moved and session.status == "scheduled":
        impact.seats = _confirmed_seats(session)
    return impact


def _confirmed_seats(session: EventSession) -> int:
    """Whose calendar entry the move changes: the confirmed seats."""
    return db.session.scalar(
        select(func.count()).where(
            Registration.session_id == session.id, Registration.status == "confirmed"
        )
    )


def _clashing_attendees(items: list[ConflictItem]) -> set[int]:
    """Each attendee once, however many of their sessions the move runs into."""
    return {
        attendee["id"]
        for item in items
        if item.kind == ATTENDEE_OVERLAP
        for attendee in item.details.get("attendees", [])
    }

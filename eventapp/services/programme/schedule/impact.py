"""What a programme change would do to people, before it is made: the organiser's preview.

"This emails 212 people", the attendees a move would double-book (with the workshop each
would get instead, schedule/clashes.py) and the conflicts the save would stop at: read
from the database as it is, by the same rules the change itself follows (sessions.read_edit,
notifications.recipients, conflicts.check_session), and nothing written. The session form,
the cancel page, the event's form and move page, and the timetable editor show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....models import Event, EventSession
from ...allocation.preferences import ranking_change, rankings_warning
from .. import conflicts, notifications
from ..cleaning import clean_event_data
from ..conflicts import ConflictItem
from .changes import new_only
from .clashes import Clash, find
from .events import sessions_of_event, venue_changes
from .sessions import plan_of, read_edit


@dataclass
class Impact:
    """What a change would do: how many people it emails, who it would double-book, and
    the conflicts a save would stop at (hard) or ask to confirm (soft)."""

    recipients: int = 0
    clashes: list[Clash] = field(default_factory=list)
    conflicts: list[ConflictItem] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        """Whether the organiser should see this before saving: someone hears of it."""
        return bool(self.recipients or self.clashes)

    def to_dict(self) -> dict:
        return {
            "recipients": self.recipients,
            "clashes": [c.to_dict() for c in self.clashes],
            "conflicts": [c.to_dict() for c in self.conflicts],
        }


def session_change(session: EventSession, data: dict) -> Impact:
    """The preview of `schedule.update_session(actor, session, data, ...)` (same `data`)."""
    edit = read_edit(session, data)
    if edit.cancelling:
        return session_cancel(session)
    locales = None
    if edit.emails_move:
        statuses = notifications.MOVE_STATUSES
    elif edit.retitled and session.status == "scheduled":
        statuses, locales = notifications.CHANGE_STATUSES, edit.retitled_in
    else:
        statuses = ()
    before = [] if edit.restored else conflicts.check_session(plan_of(session))
    return Impact(
        recipients=len(notifications.recipients([session.id], statuses, locales)),
        clashes=find(session, edit.plan),
        conflicts=new_only(conflicts.check_session(edit.plan) + _rankings(session, edit), before),
    )


def _rankings(session: EventSession, edit) -> list[ConflictItem]:
    """The warning the save asks to confirm when the edit changes workshops people ranked."""
    return rankings_warning(session, ranking_change(session, edit.values))


def session_cancel(session: EventSession) -> Impact:
    """The preview of `schedule.cancel_session`: everyone registered or waiting hears."""
    if session.status != "scheduled":
        return Impact()
    return Impact(len(notifications.recipients([session.id], notifications.MOVE_STATUSES)))


def event_change(event: Event, data: dict) -> Impact:
    """The preview of `schedule.update_event`: a new venue tells everyone with a seat."""
    values = clean_event_data(data, partial=True, current_tz=event.timezone)
    if not venue_changes(event, values):
        return Impact()
    ids = _scheduled_ids(event)
    return Impact(len(notifications.recipients(ids, notifications.CHANGE_STATUSES)))


def event_move(event: Event, starts_at: object) -> Impact:
    """The preview of `schedule.move_event`: everyone registered or waiting hears (once)."""
    values = clean_event_data({"starts_at": starts_at}, partial=True, current_tz=event.timezone)
    if values["starts_at"] == event.starts_at:
        return Impact()
    ids = _scheduled_ids(event)
    return Impact(len(notifications.recipients(ids, notifications.MOVE_STATUSES)))


def _scheduled_ids(event: Event) -> list[int]:
    return [s.id for s in sessions_of_event(event) if s.status == "scheduled"]

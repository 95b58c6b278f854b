"""Changing the programme: events, rooms, speakers and sessions; moving and cancelling.

One code path for the organiser forms, the organiser API and the import. Each function
takes the acting organiser and `now`, checks conflicts (programme/conflicts.py) on the state
it is about to write, writes, records an audit entry, queues the attendees' emails
(programme/notifications.py) and flushes; the caller commits, or rolls back on a DomainError.

Programme changes of one event are serialised with a row lock on the event (PostgreSQL;
SQLite's BEGIN IMMEDIATE serialises all writers), so two organisers can't both book a room
that was free when each of them looked.

- changes.py: what every change does: the event's lock, new conflicts apart from accepted
  ones, the audit entry;
- events.py: creating, editing, moving and cancelling an event;
- rooms.py: the event's rooms and speakers, and the ones a session names;
- sessions.py: creating, editing, moving, resizing and cancelling a session;
- clashes.py: attendees a move would double-book, and the organiser's fix for all of them;
- impact.py: the preview of a change (who it emails, who it double-books), nothing written.
- move_preview.py: what a move would do (whom it emails, who would clash), before it is saved.

Every change that emails attendees takes a `Telling` (notify or not, the organiser's note).

Callers use the operations through this package (`schedule.create_session(...)`).
"""

from . import impact
from .changes import TELL, Telling, lock_event
from .clashes import ALTERNATIVE, BLOCK, CLASH_FIXES, WAITLIST
from .events import (
    cancel_event,
    create_event,
    get_event_for_organiser,
    move_event,
    sessions_of_event,
    update_event,
)
from .move_preview import MoveImpact, keep_length, preview_move
from .rooms import create_room, create_speaker, get_room, update_room, update_speaker
from .sessions import (
    KEEP_ROOM,
    SessionChange,
    cancel_session,
    create_session,
    get_session,
    move_session,
    set_capacity,
    update_session,
)

__all__ = [
    "ALTERNATIVE",
    "BLOCK",
    "CLASH_FIXES",
    "KEEP_ROOM",
    "MoveImpact",
    "TELL",
    "WAITLIST",
    "Telling",
    "impact",
    "SessionChange",
    "cancel_event",
    "cancel_session",
    "create_event",
    "create_room",
    "create_session",
    "create_speaker",
    "get_event_for_organiser",
    "get_room",
    "get_session",
    "keep_length",
    "lock_event",
    "move_event",
    "move_session",
    "preview_move",
    "sessions_of_event",
    "set_capacity",
    "update_event",
    "update_room",
    "update_session",
    "update_speaker",
]

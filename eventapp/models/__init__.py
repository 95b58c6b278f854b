"""The models, one module per aggregate; importing this package registers them all."""

from .event import Event, EventSession, Room, Speaker, session_speakers
from .attendee import Attendee, Preference, Registration
from .organiser import ApiToken, AuditEntry, Organiser
from .outbox import OutboxMessage
from .allocation import AllocationRun

__all__ = [
    "AllocationRun",
    "ApiToken",
    "Attendee",
    "AuditEntry",
    "Event",
    "EventSession",
    "Organiser",
    "OutboxMessage",
    "Preference",
    "Registration",
    "Room",
    "Speaker",
    "session_speakers",
]

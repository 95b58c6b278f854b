"""The models, one module per aggregate; importing this package registers them all."""

from .allocation import AllocationRun, PriorityGroup, PriorityGroupMember
from .attendee import Attendee, Preference, Registration
from .event import Event, EventSession, Room, Speaker, session_speakers
from .organiser import ApiToken, AuditEntry, EventRole, Organiser
from .outbox import OutboxMessage
from .periodic import PeriodicRun
from .question import Answer, Question

__all__ = [
    "AllocationRun",
    "Answer",
    "ApiToken",
    "Attendee",
    "AuditEntry",
    "Event",
    "EventRole",
    "EventSession",
    "Organiser",
    "OutboxMessage",
    "PeriodicRun",
    "Preference",
    "PriorityGroup",
    "PriorityGroupMember",
    "Question",
    "Registration",
    "Room",
    "Speaker",
    "session_speakers",
]

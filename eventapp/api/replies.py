"""What the API answers: one schema per response body, each built from the models by `of`.

The view returns the schema's instance; spectree writes it as JSON and the same class
describes the response in the OpenAPI document. Times are in the event's time zone with its
offset (2027-03-18T09:30:00+01:00).
"""

from typing import Any, Literal

from flask import url_for
from pydantic import ConfigDict, Field

from ..models import Attendee, Event, EventSession, Registration, Room
from ..models.allocation import ALLOCATION_RUN_STATUSES
from ..models.attendee import REGISTRATION_STATUSES
from ..models.event import EVENT_STATUSES, SESSION_KINDS, SESSION_STATUSES
from ..services import links
from ..services.allocation.runs import preferences_of
from ..services.programme import conflicts
from ..services.programme.cleaning import ALLOCATION_MODES, PROMOTION_MODES
from ..services.registration.waitlist import waitlist_position
from .fields import Instant, Output

ATTENDEE_STATUSES = ("active", "cancelled")


class EventOut(Output):
    slug: str
    name: str
    description: str
    venue: str
    organiser_email: str = Field(description="The event's contact address (ORGANIZER).")
    timezone: str
    starts_at: Instant
    ends_at: Instant
    registration_opens_at: Instant | None
    registration_closes_at: Instant | None
    status: Literal[EVENT_STATUSES]
    promotion_mode: Literal[PROMOTION_MODES]
    allocation_mode: Literal[ALLOCATION_MODES]
    allocation_published_at: Instant | None
    offer_hours: int
    reminder_hours: int
    retention_days: int | None
    url: str = Field(json_schema_extra={"format": "uri"}, description="The programme page.")

    @classmethod
    def of(cls, event: Event, **extra) -> "EventOut":
        url = url_for("public.event_programme", slug=event.slug, _external=True)
        organiser_email = event.organiser_email or ""
        return cls.from_row(event, event.tz, url=url, organiser_email=organiser_email, **extra)


class EventList(Output):
    events: list[EventOut]


class EventMoved(EventOut):
    sessions_moved: int = Field(description="Sessions moved with it (attendees emailed).")


class EventCancelled(EventOut):
    sessions_cancelled: int = Field(description="Sessions cancelled (attendees emailed).")


class RoomOut(Output):
    id: int
    name: str
    capacity: int

    @classmethod
    def of(cls, room: Room) -> "RoomOut":
        return cls.from_row(room)


class SessionOut(Output):
    id: int
    title: str
    description: str
    kind: Literal[SESSION_KINDS]
    starts_at: Instant
    ends_at: Instant
    room: str | None = Field(description="The room's name.")
    room_id: int | None
    speakers: list[str]
    capacity: int
    seats_taken: int
    seats_left: int
    waitlist_length: int
    status: Literal[SESSION_STATUSES]

    @classmethod
    def of(cls, session: EventSession, waitlist_length: int = 0, **extra) -> "SessionOut":
        return cls.from_row(
            session,
            session.event.tz,
            room=session.room.name if session.room else None,
            speakers=[speaker.name for speaker in session.speakers],
            waitlist_length=waitlist_length,
            **extra,
        )


class SessionList(Output):
    sessions: list[SessionOut]


class SessionRef(Output):
    """How an error or a conflict names a session."""

    id: int | None = Field(description="None for a session not yet saved.")
    title: str
    starts_at: str = Field(json_schema_extra={"format": "date-time"})
    ends_at: str = Field(json_schema_extra={"format": "date-time"})


class ConflictOut(Output):
    """Hard conflicts block; soft ones (warnings) need "confirm": true. Some kinds add the
    room, speaker, capacities or attendees concerned."""

    model_config = ConfigDict(extra="allow")

    kind: Literal[conflicts.KINDS]
    severity: Literal[conflicts.HARD, conflicts.SOFT]
    message: str
    sessions: list[SessionRef]


class SessionChange(SessionOut):
    warnings: list[ConflictOut] = Field(description='Warnings accepted with "confirm": true.')
    promoted: int = Field(description="Attendees moved up from the waiting list.")
    notified: int = Field(description="Attendees emailed about the change (0: notify false).")

    @classmethod
    def of_change(cls, change, waitlist_length: int) -> "SessionChange":
        warnings = [c.to_dict() for c in change.warnings if not c.is_hard]
        return cls.of(
            change.session,
            waitlist_length,
            warnings=warnings,
            promoted=len(change.promoted),
            notified=change.notified,
        )


class ConflictList(Output):
    conflicts: list[ConflictOut] = Field(description="Hard conflicts first.")
    hard: int
    soft: int


class RegisteredSession(Output):
    id: int
    title: str
    status: Literal[REGISTRATION_STATUSES]
    waitlist_position: int | None
    offer_expires_at: Instant | None

    @classmethod
    def of(cls, registration: Registration) -> "RegisteredSession":
        return cls.from_row(
            registration,
            registration.session.event.tz,
            id=registration.session_id,
            title=registration.session.title,
            waitlist_position=waitlist_position(registration),
        )


class RegistrationOut(Output):
    """One attendee's registration, as the attendee sees it through the private link."""

    reference: str
    name: str
    email: str
    organisation: str
    job_role: str
    locale: str
    status: str = Field(
        description="The attendee's (active, cancelled); right after registering: confirmed "
        "or waitlisted."
    )
    sessions: list[RegisteredSession] = Field(description="Not the cancelled ones.")
    preferences: dict[str, list[int]] | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description="Events in preference mode only: ranked workshops per round.",
    )
    manage_url: str = Field(json_schema_extra={"format": "uri"})
    calendar_url: str = Field(json_schema_extra={"format": "uri"})

    @classmethod
    def of(cls, attendee: Attendee, status: str | None = None) -> "RegistrationOut":
        preferences = None
        if attendee.event.allocation_mode == "preferences":
            # Ranked workshops per round, until (and after) the allocation is published.
            preferences = preferences_of(attendee)
        return cls.from_row(
            attendee,
            status=status or attendee.status,
            sessions=[RegisteredSession.of(r) for r in attendee.registrations if r.is_active],
            preferences=preferences,
            manage_url=url_for("manage.page", token=links.manage_token(attendee), _external=True),
            calendar_url=url_for(
                "calendar.personal_feed", token=links.feed_token(attendee), _external=True
            ),
        )


class AttendeeExport(Output):
    """Everything stored about the attendee (the right of access)."""

    model_config = ConfigDict(extra="allow")


class SessionStatus(Output):
    id: int
    status: Literal[REGISTRATION_STATUSES]


class AttendeeRow(Output):
    reference: str
    name: str
    email: str
    organisation: str
    status: Literal[ATTENDEE_STATUSES]
    created_at: Instant
    checked_in_at: Instant | None
    sessions: list[SessionStatus]

    @classmethod
    def of(cls, attendee: Attendee, tz) -> "AttendeeRow":
        sessions = [SessionStatus(id=r.session_id, status=r.status) for r in attendee.registrations]
        return cls.from_row(attendee, tz, sessions=sessions)


class RegistrationPage(Output):
    """Oldest registration first."""

    registrations: list[AttendeeRow]
    page: int
    per_page: int
    total: int


class WaitlistEntry(Output):
    position: int = Field(ge=1)
    reference: str
    name: str
    email: str
    waitlisted_at: Instant | None


class Waitlist(Output):
    """First in line first."""

    session_id: int
    capacity: int
    seats_taken: int
    waitlist: list[WaitlistEntry]


class AllocationStats(Output):
    """One method's figures: pairs per rank got, left with nothing ranked, fill per workshop."""

    model_config = ConfigDict(extra="allow")

    method: str
    by_rank: list[int]
    none: int = Field(description="Pairs left with nothing they ranked.")
    assigned: int
    fill: list[dict[str, Any]]


class PublishedAllocation(Output):
    confirmed: int
    waitlisted: int
    emails: int


class AllocationRunOut(Output):
    run_id: int
    seed: int
    status: Literal[ALLOCATION_RUN_STATUSES]
    stats: dict[str, AllocationStats] = Field(
        description="Per method: optimal, first_come_first_served, random_serial_dictatorship."
    )
    published: PublishedAllocation | None

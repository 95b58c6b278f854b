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
from ..models.event import CONTENT_LOCALES, EVENT_STATUSES, SESSION_KINDS, SESSION_STATUSES
from ..models.question import QUESTION_KINDS, Question
from ..services import links
from ..services.allocation.runs import preferences_of
from ..services.programme import conflicts
from ..services.programme.cleaning import ALLOCATION_MODES, PROMOTION_MODES
from ..services.registration.answers import answers_by_key
from ..services.registration.waitlist import waitlist_positions
from .fields import Instant, Output

ATTENDEE_STATUSES = ("active", "cancelled")


TRANSLATED = "The text in the event's other language than default_locale; empty: not given."


class EventOut(Output):
    slug: str
    name: str
    name_translated: str = Field(description=TRANSLATED)
    description: str
    description_translated: str = Field(description=TRANSLATED)
    default_locale: Literal[CONTENT_LOCALES] = Field(
        description="The language of name and description, and of the sessions' and rooms' texts."
    )
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
    bot_challenge: bool
    bot_form_checks: bool
    max_registrations_per_address: int | None
    max_registrations_per_domain: int | None
    confirm_email_first: bool
    hold_minutes: int
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
    name_translated: str = Field(description=TRANSLATED)
    capacity: int

    @classmethod
    def of(cls, room: Room) -> "RoomOut":
        return cls.from_row(room)


class SessionOut(Output):
    id: int
    title: str
    title_translated: str = Field(description=TRANSLATED)
    description: str
    description_translated: str = Field(description=TRANSLATED)
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
    title: str = Field(
        description="In the attendee's language (`locale`), as their page and emails name "
        "it; the event's other text where that language has none."
    )
    status: Literal[REGISTRATION_STATUSES]
    waitlist_position: int | None
    offer_expires_at: Instant | None
    fallback_session_id: int | None = Field(
        description="On a waiting-list place: the workshop whose seat is kept meanwhile."
    )

    @classmethod
    def of(
        cls, registration: Registration, locale: str, positions: dict[int, int]
    ) -> "RegisteredSession":
        """`locale`: the attendee's; the reply speaks it as their manage page does.
        `positions`: the attendee's places in line (waitlist_positions)."""
        return cls.from_row(
            registration,
            registration.session.event.tz,
            id=registration.session_id,
            title=registration.session.text_in("title", locale),
            waitlist_position=positions.get(registration.id),
        )


class RegistrationOut(Output):
    """One attendee's registration, as the attendee sees it through the private link."""

    reference: str
    name: str
    email: str
    organisation: str
    job_role: str
    locale: str = Field(
        description="The attendee's language (nl or en): of their emails and calendar, and "
        "of the session titles in this reply."
    )
    status: str = Field(
        description="The attendee's (active, cancelled); right after registering: confirmed "
        "or waitlisted, or held: the seats wait for the email address to be confirmed."
    )
    hold_expires_at: Instant | None = Field(
        description="Events that confirm the email first: until when the seats of a public "
        "registration are held unconfirmed; the email's link confirms them. Null when "
        "confirmed (or never held)."
    )
    sessions: list[RegisteredSession] = Field(description="Not the cancelled ones.")
    preferences: dict[str, list[int]] | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description="Events in preference mode only: ranked workshops per round.",
    )
    answers: dict[str, Any] = Field(
        description="The answers to the event's questions by question key (as sent); "
        "unanswered questions are left out."
    )
    manage_url: str | None = Field(
        json_schema_extra={"format": "uri"},
        description="Null while the seats are held: the link travels only in the email, so "
        "that confirming needs the mailbox.",
    )
    calendar_url: str | None = Field(
        json_schema_extra={"format": "uri"}, description="Null while the seats are held."
    )

    @classmethod
    def of(
        cls, attendee: Attendee, status: str | None = None, answers: dict | None = None
    ) -> "RegistrationOut":
        """`answers` when the caller has them (a new registration's), else read."""
        preferences = None
        if attendee.event.allocation_mode == "preferences":
            # Ranked workshops per round, until (and after) the allocation is published.
            preferences = preferences_of(attendee)
        private = not attendee.on_hold  # services/registration/holds.py
        active = [r for r in attendee.registrations if r.is_active]
        positions = waitlist_positions(active)
        return cls.from_row(
            attendee,
            attendee.event.tz,
            status=status or attendee.status,
            sessions=[RegisteredSession.of(r, attendee.locale, positions) for r in active],
            preferences=preferences,
            answers=answers_by_key(attendee) if answers is None else answers,
            manage_url=url_for("manage.page", token=links.manage_token(attendee), _external=True)
            if private
            else None,
            calendar_url=url_for(
                "calendar.personal_feed", token=links.feed_token(attendee), _external=True
            )
            if private
            else None,
        )


class ChoiceOut(Output):
    key: str
    nl: str
    en: str


class QuestionAsked(Output):
    """A registration question as the form asks it; answers name it by `key`."""

    key: str
    kind: Literal[QUESTION_KINDS]
    required: bool
    text_nl: str
    text_en: str
    choices: list[ChoiceOut] = Field(description="For one_choice and several_choices.")

    @classmethod
    def of(cls, question: Question, **extra):
        return cls.from_row(question, **extra)


class QuestionAskedList(Output):
    """In the form's order."""

    questions: list[QuestionAsked]


class QuestionOut(QuestionAsked):
    """A question as the organiser manages it."""

    id: int
    position: int
    archived: bool = Field(
        description="Removed while attendees had answered it: off the form, answers kept."
    )
    answers: int = Field(description="How many attendees answered it.")

    @classmethod
    def of(cls, question: Question, answers: int = 0, **extra) -> "QuestionOut":
        archived = question.archived_at is not None
        return cls.from_row(question, archived=archived, answers=answers, **extra)


class QuestionList(Output):
    """In the form's order, archived ones last."""

    questions: list[QuestionOut]


class QuestionRemoved(Output):
    id: int
    key: str
    outcome: Literal["deleted", "archived"] = Field(
        description="archived when attendees had answered it: their answers are kept."
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
    hold_expires_at: Instant | None = Field(
        description="Seats held until the attendee confirms the email (null: confirmed)."
    )
    sessions: list[SessionStatus]
    answers: dict[str, Any] = Field(description="The answers to the event's questions by key.")

    @classmethod
    def of(cls, attendee: Attendee, tz, answers: dict | None = None) -> "AttendeeRow":
        sessions = [SessionStatus(id=r.session_id, status=r.status) for r in attendee.registrations]
        return cls.from_row(attendee, tz, sessions=sessions, answers=answers or {})


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
    # The fairness figures (absent from runs made before the fairness level): documented so
    # that API clients find the whole distribution, the figure docs/ALLOCATION.md says to read.
    misses_per_attendee: list[int] | None = Field(
        None, description="Attendees with nothing they ranked in 0, 1, 2, ... of their rounds."
    )
    two_or_more_misses: int | None = Field(
        None, description="Attendees with nothing they ranked in 2 or more rounds."
    )
    spanned: int | None = Field(
        None, description="Pairs filled by a double workshop from another round."
    )


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

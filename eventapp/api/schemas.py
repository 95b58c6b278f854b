"""What the API takes: one schema per request body or query, validated before the view runs.

The schemas check shape and fields (types, lengths, formats, choices) with the services'
own rules and constants (see fields.py); rules that need the database (capacity, unique
slugs and names, overlaps, the event's mode) stay in the services, which the views call with
`model_dump(exclude_unset=True)`: only what the client sent, as the services expect.
"""

from typing import Any, Literal

from flask_babel import gettext as _
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from ..models.event import EVENT_STATUSES, SESSION_KINDS, SESSION_STATUSES
from ..services.allocation.runs import SEED_MAX
from ..services.backoffice.attendees import (
    CHECKED_IN_FILTERS,
    SEARCH_MAX_LENGTH,
    STATUS_FILTERS,
)
from ..services.programme.cleaning import (
    ALLOCATION_MODES,
    CAPACITY_MAX,
    HOURS_MAX,
    PROMOTION_MODES,
    RETENTION_DAYS_MAX,
    ROOM_NAME_MAX,
    SLUG_PATTERN,
    SPEAKERS_MAX,
    VENUE_MAX,
)
from ..services.programme.schedule import CLASH_FIXES
from ..services.validation import (
    JOB_ROLE_MAX,
    NAME_MAX,
    ORGANISATION_MAX,
    TITLE_MAX,
)
from .fields import (
    Description,
    Email,
    Id,
    Input,
    LocalTime,
    Note,
    OptionalLocalTime,
    Ranking,
    SessionIds,
    TimeZone,
    partial,
    text,
)

CONFIRM = Field(
    default=False, description='Accept the warnings a 409 `conflict` named ("confirm_required").'
)


class EventIn(Input):
    """A new event: slug, name and hours required; the rest has defaults."""

    slug: str = Field(pattern=SLUG_PATTERN.pattern, description="Lower-case, digits, dashes.")
    name: text(NAME_MAX, required=True)
    description: Description = ""
    venue: text(VENUE_MAX) = ""
    organiser_email: Email | None = Field(
        None,
        description="The event's contact address: ORGANIZER of its calendar invitations, "
        "Reply-To of its emails and the questions line under them.",
    )
    timezone: TimeZone = "Europe/Amsterdam"
    starts_at: LocalTime
    ends_at: LocalTime
    registration_opens_at: OptionalLocalTime = None
    registration_closes_at: OptionalLocalTime = None
    status: Literal[EVENT_STATUSES] = "draft"
    promotion_mode: Literal[PROMOTION_MODES] = Field(
        "auto", description="A freed seat goes to the waiting list at once, or as an offer."
    )
    allocation_mode: Literal[ALLOCATION_MODES] = Field(
        "fcfs", description="Workshops first come, first served, or ranked and then allocated."
    )
    offer_hours: int = Field(24, ge=1, le=HOURS_MAX)
    reminder_hours: int = Field(24, ge=1, le=HOURS_MAX)
    retention_days: int | None = Field(
        None,
        ge=0,
        le=RETENTION_DAYS_MAX,
        description="Anonymise attendees this many days after the end; null: keep.",
    )
    confirm: bool = CONFIRM


NOTIFY = Field(
    default=True,
    description="Email the attendees about the change (false: tell nobody; their calendars "
    "still update through the feeds, and the audit log says they were not notified).",
)
NOTE = Field(default="", description="A note for the attendees, added to every email of it.")


class _EventChange(EventIn):
    notify: bool = NOTIFY
    note: Note = NOTE


EventPatch = partial(
    _EventChange,
    "EventPatch",
    'Any fields of an event. New hours that leave sessions outside them need "confirm": true. '
    "A new venue emails the attendees with a seat, unless notify is false.",
)


class EventMoveIn(Input):
    starts_at: LocalTime = Field(description="The new start; sessions keep their offsets.")
    notify: bool = NOTIFY
    note: Note = NOTE


class RoomIn(Input):
    name: text(ROOM_NAME_MAX, required=True)
    capacity: int = Field(ge=0, le=CAPACITY_MAX)


class SessionIn(Input):
    """A new session."""

    title: text(TITLE_MAX, required=True)
    description: Description = ""
    kind: Literal[SESSION_KINDS] = "workshop"
    starts_at: LocalTime
    ends_at: LocalTime
    room_id: Id | None = None
    capacity: int | None = Field(
        None,
        ge=0,
        le=CAPACITY_MAX,
        description='The room\'s when left out; without a room required (except for kind "other").',
    )
    speakers: list[text(NAME_MAX, required=True)] = Field([], max_length=SPEAKERS_MAX)
    status: Literal[SESSION_STATUSES] = "scheduled"
    confirm: bool = CONFIRM


class _SessionChange(SessionIn):
    notify: bool = NOTIFY
    note: Note = NOTE
    clash_fix: Literal[CLASH_FIXES] = Field(
        default="block",
        description="Attendees a move would give two seats at once: block (a 409 conflict "
        "names them), alternative (each gets a free workshop of the round the session leaves, "
        "or the waiting list), waitlist (their seat here goes to the waiting list).",
    )


SessionPatch = partial(
    _SessionChange,
    "SessionPatch",
    "Any fields of a session. A new start, end or room moves it (attendees are emailed, "
    'unless notify is false); status "cancelled" cancels it, "scheduled" restores a '
    "cancelled one.",
)


class RegistrationIn(Input):
    """A registration for sessions of a published event."""

    name: text(NAME_MAX, required=True)
    email: Email
    organisation: text(ORGANISATION_MAX) = ""
    job_role: text(JOB_ROLE_MAX) = ""
    preferences: Ranking | None = Field(
        None,
        description="Events in preference mode, until the allocation is published: per round "
        "key, up to three workshop ids, best first (workshops then do not go in "
        "session_ids). Ignored by other events.",
    )
    session_ids: SessionIds = Field(
        [], validate_default=True, description="At least one, unless `preferences` ranks workshops."
    )
    waitlist: bool = Field(False, description="Join the waiting list of full sessions.")
    consent: Literal[True] = Field(description="Agreement to the privacy notice.")
    locale: Any = Field(
        None, description="The attendee's language (nl or en); another value gives the event's."
    )
    altcha: Any = Field(
        None,
        description="The solved proof-of-work challenge (GET /challenge, ALTCHA's "
        "payload), required from anonymous clients while the event's bot challenge is on; "
        "organiser clients with a bearer token need none. Checked by the server: 403 "
        "`challenge_failed` when missing or wrong.",
    )

    @field_validator("session_ids")
    @classmethod
    def _something_chosen(cls, session_ids: list[int], info: ValidationInfo) -> list[int]:
        if not session_ids and not info.data.get("preferences"):
            reason = _("Choose at least one session.")
            raise PydanticCustomError("field_rule", "{reason}", {"reason": reason})
        return session_ids


class RegistrationChange(Input):
    """Change sessions, workshop preferences and/or details: all of it or, on an error, none."""

    name: text(NAME_MAX, required=True)
    organisation: text(ORGANISATION_MAX)
    locale: str = Field(description="nl or en.")
    session_ids: SessionIds = Field(min_length=1)
    waitlist: bool = Field(False, description="Join the waiting list of full sessions.")
    preferences: Ranking = Field(
        description="Events in preference mode, until the allocation is published: the new "
        "ranking, per round key up to three workshop ids, best first; it replaces the old "
        "one. Other events answer 409 `not_collecting`."
    )


RegistrationPatch = partial(RegistrationChange, "RegistrationPatch", RegistrationChange.__doc__)


class AllocationIn(Input):
    """A dry run, or (with "dry_run": false) the run and its publication in one go."""

    dry_run: bool = True
    seed: int | None = Field(
        None, ge=0, le=SEED_MAX, description="Lottery seed for ties; random when left out."
    )


class RegistrationQuery(Input):
    """The attendee page's filters (/organiser/events/{slug}/attendees, where session_id is
    called session): they find the same attendees."""

    model_config = Input.model_config | {"strict": False}

    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(100, ge=1, le=500)
    q: str = Field(
        "",
        max_length=SEARCH_MAX_LENGTH,
        description="Name, email, organisation or reference containing this text, or this "
        "check-in code.",
    )
    session_id: Id | None = Field(
        None,
        description="Attendees registered for this session: confirmed, waitlisted or offered, "
        "or cancelled with status=cancelled.",
    )
    status: Literal[STATUS_FILTERS] | None = Field(
        None,
        description="active, cancelled: the attendee's own status; confirmed, waitlisted, "
        "offered: an active attendee with a registration in that status. With session_id, "
        "each applies to the registration for that session.",
    )
    checked_in: Literal[CHECKED_IN_FILTERS] | None = Field(
        None, description="Checked in at the event, or at session_id's session."
    )

"""What the API takes: one schema per request body or query, validated before the view runs.

The schemas check shape and fields (types, lengths, formats, choices) with the services'
own rules and constants (see fields.py); rules that need the database (capacity, unique
slugs and names, overlaps, the event's mode) stay in the services, which the views call with
`model_dump(exclude_unset=True)`: only what the client sent, as the services expect.
"""

from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from ..models.event import CONTENT_LOCALES, EVENT_STATUSES, SESSION_KINDS, SESSION_STATUSES
from ..models.question import QUESTION_KINDS
from ..services.allocation.runs import SEED_MAX
from ..services.backoffice.attendees import (
    CHECKED_IN_FILTERS,
    SEARCH_MAX_LENGTH,
    STATUS_FILTERS,
)
from ..services.programme.cleaning import (
    ALLOCATION_MODES,
    CAPACITY_MAX,
    HOLD_MINUTES_MAX,
    HOLD_MINUTES_MIN,
    HOURS_MAX,
    PROMOTION_MODES,
    REGISTRATION_LIMIT_MAX,
    RETENTION_DAYS_MAX,
    ROOM_NAME_MAX,
    SLUG_PATTERN,
    SPEAKERS_MAX,
    VENUE_MAX,
)
from ..services.programme.schedule import CLASH_FIXES
from ..services.registration.questions import (
    CHOICE_LABEL_MAX,
    CHOICES_MAX,
    KEY_MAX,
    KEY_PATTERN,
    QUESTION_TEXT_MAX,
    QUESTIONS_MAX,
)
from ..services.validation import (
    JOB_ROLE_MAX,
    NAME_MAX,
    ORGANISATION_MAX,
    TITLE_MAX,
)
from .fields import (
    Answers,
    Description,
    Email,
    Id,
    Input,
    LocalTime,
    Note,
    OptionalLocalTime,
    QueryFlag,
    Ranking,
    SessionIds,
    TimeZone,
    partial,
    text,
)

# The texts of an event, a session or a room in the event's second language: `name`,
# `title` and `description` are in the event's `default_locale`, these in the other one
# (English for a Dutch event). Readers of that language see them, or the main text when
# they are empty (docs/ARCHITECTURE.md, "Content in two languages").
TRANSLATED = "In the event's other language than default_locale (nl: en, en: nl); empty: "


def translated(what: str) -> Any:
    return Field("", description=TRANSLATED + f"its readers see `{what}`.")


CONFIRM = Field(
    default=False, description='Accept the warnings a 409 `conflict` named ("confirm_required").'
)


class EventIn(Input):
    """A new event: slug, name and hours required; the rest has defaults."""

    slug: str = Field(pattern=SLUG_PATTERN.pattern, description="Lower-case, digits, dashes.")
    name: text(NAME_MAX, required=True)
    name_translated: text(NAME_MAX) = translated("name")
    description: Description = ""
    description_translated: Description = translated("description")
    default_locale: Literal[CONTENT_LOCALES] = Field(
        "nl",
        description="The language of `name` and `description` (and of sessions' `title` and "
        "`description`, rooms' `name`); the *_translated fields are in the other one.",
    )
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
    bot_challenge: bool = Field(
        True, description="Anonymous registrations solve the proof-of-work challenge."
    )
    bot_form_checks: bool = Field(
        True, description="The form's honeypot field and minimum fill time."
    )
    max_registrations_per_address: int | None = Field(
        30,
        ge=1,
        le=REGISTRATION_LIMIT_MAX,
        description="New public registrations per client address in any hour; null: no limit.",
    )
    max_registrations_per_domain: int | None = Field(
        50,
        ge=1,
        le=REGISTRATION_LIMIT_MAX,
        description="New public registrations per email domain in any hour; null: no limit.",
    )
    confirm_email_first: bool = Field(
        True,
        description="A public registration's seats are held for `hold_minutes` until the "
        "attendee confirms through the link in the email; then they go back by themselves.",
    )
    hold_minutes: int = Field(
        30,
        ge=HOLD_MINUTES_MIN,
        le=HOLD_MINUTES_MAX,
        description="Minutes a public registration has to confirm its email address.",
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
    name_translated: text(ROOM_NAME_MAX) = translated("name")
    capacity: int = Field(ge=0, le=CAPACITY_MAX)


class SessionIn(Input):
    """A new session."""

    title: text(TITLE_MAX, required=True)
    title_translated: text(TITLE_MAX) = translated("title")
    description: Description = ""
    description_translated: Description = translated("description")
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


class SessionCancelQuery(Input):
    """DELETE /sessions/{id}: what the attendees hear, as on the organiser's cancel page. In
    the query string (`?notify=false&note=...`): a DELETE's body is not read."""

    notify: QueryFlag = Field(
        default=True,
        description="true or false. Email the attendees with a seat or on the waiting list "
        "(false: tell nobody; their calendars still update through the feeds, and the audit "
        "log says they were not notified).",
    )
    note: Note = NOTE


class FallbackChoice(Input):
    """A seat kept while waiting (issue 19.4): on the waiting list of the full workshop
    `session_id`, keep a seat in `fallback_session_id`, another workshop of the same round,
    until the waiting-list place turns into a seat; then it is given back by itself."""

    session_id: Id = Field(description="The full workshop waited for (in session_ids).")
    fallback_session_id: Id | None = Field(
        description="The workshop with places left to keep meanwhile; null: none (PATCH: the "
        "kept seat is given back, the waiting-list place stays)."
    )


FALLBACKS = Field(
    [],
    max_length=SPEAKERS_MAX,
    description="With waitlist: per full workshop waited for, the workshop of the same round "
    "to keep a seat in meanwhile. 422 `invalid` when it is not one, 409 `full` when it has no "
    "seat left either.",
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
    answers: Answers = Field(
        {},
        description="The answers to the event's questions (GET /events/{slug}/questions), by "
        "question key: text for short_text and long_text, a choice key for one_choice, a list "
        'of choice keys for several_choices, true or false for yes_no; null, "" or [] for '
        "no answer. Required questions need one; a wrong answer is a 422 naming "
        "`answers.<key>`.",
    )
    waitlist: bool = Field(False, description="Join the waiting list of full sessions.")
    fallbacks: list[FallbackChoice] = FALLBACKS
    consent: Literal[True] = Field(description="Agreement to the privacy notice.")
    locale: Any = Field(
        None,
        description="The attendee's language (nl or en): of their emails, calendar and the "
        "session titles in the replies. Left out (or another value): the one Accept-Language "
        "asks for, else the event's.",
    )
    altcha: Any = Field(
        None,
        description="The solved proof-of-work challenge (GET /challenge, ALTCHA's "
        "payload), required while the event's bot challenge is on from every client but "
        "the event's organisers (a bearer token of an admin or of an account with the "
        "organiser role at the event). Checked by the server: 403 `challenge_failed` when "
        "missing or wrong.",
    )

    @field_validator("fallbacks")
    @classmethod
    def _waiting_for_a_chosen_workshop(
        cls, fallbacks: list[FallbackChoice], info: ValidationInfo
    ) -> list[FallbackChoice]:
        chosen = set(info.data.get("session_ids") or [])
        if any(f.session_id not in chosen or f.fallback_session_id is None for f in fallbacks):
            reason = _("Name a workshop of session_ids, and a workshop to keep meanwhile.")
            raise PydanticCustomError("field_rule", "{reason}", {"reason": reason})
        return fallbacks

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
    fallbacks: list[FallbackChoice] = Field(
        max_length=SPEAKERS_MAX,
        description="Choose, change or drop (null) the seat kept while waiting for a full "
        "workshop, after session_ids (if sent) are changed. 422 `invalid` when not on that "
        "waiting list or not another workshop of the round; 409 `full`.",
    )
    preferences: Ranking = Field(
        description="Events in preference mode, until the allocation is published: the new "
        "ranking, per round key up to three workshop ids, best first; it replaces the old "
        "one. Other events answer 409 `not_collecting`."
    )
    answers: Answers = Field(
        description="New answers by question key (as at registration); the questions left "
        "out keep their answers. Until the event ends."
    )


RegistrationPatch = partial(RegistrationChange, "RegistrationPatch", RegistrationChange.__doc__)


# A question's or a choice's stable key (services/registration/questions.py).
Key = Annotated[str, Field(pattern=KEY_PATTERN.pattern, max_length=KEY_MAX)]


class ChoiceIn(Input):
    """One choice of a one_choice or several_choices question: a label in Dutch, English or
    both."""

    key: Key | None = Field(
        None, description="Stable: answers store it. Made from the label when left out."
    )
    nl: text(CHOICE_LABEL_MAX) = ""
    en: text(CHOICE_LABEL_MAX) = ""


class QuestionChange(Input):
    """A registration question: its text in Dutch, English or both; choices for the choice
    kinds (at least two). Once attendees answered it, its kind stays and a choice they chose
    stays."""

    kind: Literal[QUESTION_KINDS]
    required: bool = False
    text_nl: text(QUESTION_TEXT_MAX) = ""
    text_en: text(QUESTION_TEXT_MAX) = ""
    choices: list[ChoiceIn] = Field([], max_length=CHOICES_MAX)
    position: int | None = Field(
        None,
        ge=1,
        le=QUESTIONS_MAX,
        description="Its place on the form, 1 first; last if left out.",
    )


class QuestionIn(QuestionChange):
    key: Key | None = Field(
        None,
        description="The question's stable name in answers and exports; made from the text "
        "when left out. It never changes.",
    )


QuestionPatch = partial(
    QuestionChange,
    "QuestionPatch",
    "Any fields of a question (see QuestionChange); an archived question sent here is "
    "restored to the form.",
)


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

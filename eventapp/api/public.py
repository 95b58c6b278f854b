"""The public JSON API: events, sessions with seats, and one's own registration."""

from functools import partial

from flask import current_app, request
from sqlalchemy import select

from .. import bot_challenge
from ..auth import bearer_token_given, load_organiser_from_token
from ..database import commit_without_expiring, reads_before_writing
from ..extensions import db
from ..i18n import visitor_locale
from ..models import Event
from ..models.types import utcnow
from ..ratelimits import registration_source
from ..services import privacy
from ..services.allocation import runs as allocation
from ..services.backoffice import accounts
from ..services.programme import reading as programme
from ..services.registration import answers as answer_service
from ..services.registration import fallback, holds, self_service
from ..services.registration import register as registration
from ..services.registration import waitlist as waitlist_service
from ..services.registration.questions import questions_of
from ..services.registration.register import RegistrationInput
from ..web.consent import consent_record
from .blueprint import bp
from .openapi import PUBLIC_READ, Error, SessionsError, operation
from .replies import (
    AttendeeExport,
    EventList,
    EventOut,
    QuestionAsked,
    QuestionAskedList,
    RegistrationOut,
    SessionList,
    SessionOut,
)
from .schemas import RegistrationIn, RegistrationPatch


def sees_drafts(slug: str) -> bool:
    """An event's own organisers (and admins) with a bearer token read it while it is a
    draft; everyone else, another event's organisers too, only published events."""

    if not bearer_token_given():
        return False
    organiser = load_organiser_from_token(request)
    if organiser is None or not organiser.has_role("organiser"):
        return False
    event_id = db.session.scalar(select(Event.id).where(Event.slug == slug))
    return event_id is not None and accounts.acts_at_event(organiser, event_id, "organiser")


REGISTRATION_409 = (
    SessionsError,
    "`full` or `schedule_conflict` (naming the sessions), `already_registered`, or "
    "`registration_closed`.",
)


def _attendee_language(event, asked: object) -> str:
    """The new attendee's language: `locale` when the app speaks it, else the one the request
    asks for (Accept-Language), as the form keeps the language its page was read in, else
    the event's. Their emails, calendar and this API's replies speak it."""
    if asked not in current_app.config["LANGUAGES"]:
        asked = visitor_locale()
    return registration.attendee_locale(event, asked)


def _changed_by_token(token: str, change) -> RegistrationOut:
    """The attendee of the private link, after `change(attendee, now)` is committed."""
    attendee = registration.find_by_token(token)
    change(attendee, now=utcnow())
    db.session.commit()
    return RegistrationOut.of(attendee)


@bp.get("/events")
@operation((EventList, "The events."), 405, 503)
def list_events():
    """Published (and closed) events."""
    return EventList(events=[EventOut.of(e) for e in programme.published_events()])


@bp.get("/events/<slug>")
@operation((EventOut, "The event."), *PUBLIC_READ)
def show_event(slug: str):
    """One published event (with an organiser's bearer token, drafts too)."""
    return EventOut.of(programme.get_event(slug, public=not sees_drafts(slug)))


@bp.get("/events/<slug>/sessions")
@operation((SessionList, "The sessions."), *PUBLIC_READ)
def list_sessions(slug: str):
    """The programme of a published event, with seats (with an organiser's bearer token, of
    drafts too)."""
    event = programme.get_event(slug, public=not sees_drafts(slug))
    waitlists = programme.waitlist_lengths(event)
    return SessionList(
        sessions=[SessionOut.of(s, waitlists.get(s.id, 0)) for s in programme.sessions_of(event)]
    )


@bp.get("/events/<slug>/questions")
@operation((QuestionAskedList, "The questions, in the form's order."), *PUBLIC_READ)
def list_questions(slug: str):
    """The event's registration questions: what `answers` of a registration answers."""
    event = programme.get_event(slug, public=not sees_drafts(slug))
    return QuestionAskedList(questions=[QuestionAsked.of(q) for q in questions_of(event)])


@bp.post("/events/<slug>/registrations")
@reads_before_writing
@operation(
    (
        RegistrationOut,
        "Registered (confirmed or waitlisted), or, on events that confirm the email first, "
        "held: the seats are the attendee's until `hold_expires_at`, and the private links "
        "are only in the email, whose link confirms them.",
    ),
    *PUBLIC_READ,
    429,
    status=201,
    HTTP_403=(
        Error,
        "The proof-of-work challenge is missing or wrong (`challenge_failed`): anonymous "
        "clients solve GET /challenge while the event's bot challenge is on.",
    ),
    HTTP_409=REGISTRATION_409,
)
def create_registration(slug: str, json: RegistrationIn):
    """Register for sessions of a published event."""
    event = programme.get_event(slug, with_sessions=json.session_ids)
    locale = _attendee_language(event, json.locale)
    source = registration_source(event)  # None: an organiser's client (ratelimits.py)
    data = RegistrationInput(
        name=json.name,
        email=json.email,
        organisation=json.organisation,
        job_role=json.job_role,
        session_ids=json.session_ids,
        waitlist=json.waitlist,
        consent=json.consent,
        locale=locale,
        consent_text=consent_record("api", locale),
        preferences=json.preferences,
        source=source,
        public=source is not None,
        answers=json.answers,
    )
    if data.public:
        bot_challenge.check(event, json.altcha)
    now = utcnow()
    result = registration.register(event, data, now)
    for choice in json.fallbacks:
        fallback.hold_fallback(result.attendee, choice.session_id, choice.fallback_session_id, now)
    commit_without_expiring()  # the response is built from the rows just written
    reply = RegistrationOut.of(result.attendee, status=result.status, answers=result.answers)
    return reply, 201


@bp.get("/registrations/<token>")
@operation((RegistrationOut, "The registration."), *PUBLIC_READ, 429)
def show_registration(token: str):
    """One's own registration."""
    return RegistrationOut.of(registration.find_by_token(token))


@bp.patch("/registrations/<token>")
@operation(
    (RegistrationOut, "The registration as changed."),
    *PUBLIC_READ,
    429,
    HTTP_409=REGISTRATION_409,
)
def change_registration(token: str, json: RegistrationPatch):
    """Change sessions, workshop preferences, answers and/or name, organisation, locale: all
    of it or, on an error, none."""
    attendee = registration.find_by_token(token)
    sent = json.model_dump(exclude_unset=True)
    details = {key: sent[key] for key in ("name", "organisation", "locale") if key in sent}
    if details:
        self_service.update_details(attendee, **details)
    if "session_ids" in sent:
        waitlist = sent.get("waitlist", False)
        self_service.change_choices(attendee, sent["session_ids"], waitlist=waitlist, now=utcnow())
    if "preferences" in sent:
        # Preference mode, until the allocation is published: the same rules as the manage
        # page (allocation.change_preferences); a 409 `not_collecting` otherwise.
        allocation.change_preferences(attendee, sent["preferences"], utcnow())
    for choice in json.fallbacks or []:
        fallback.change_fallback(
            attendee, choice.session_id, choice.fallback_session_id, now=utcnow()
        )
    if "answers" in sent:
        answer_service.change_answers(attendee, sent["answers"], utcnow())
    db.session.commit()
    return RegistrationOut.of(attendee)


@bp.delete("/registrations/<token>")
@operation(
    (RegistrationOut, "The cancelled registration."),
    *PUBLIC_READ,
    429,
    HTTP_409=(SessionsError, "Already cancelled (`registration_closed`)."),
)
def cancel_registration(token: str):
    """Cancel one's registration."""
    return _changed_by_token(token, self_service.cancel)


@bp.post("/registrations/<token>/confirm")
@operation(
    (RegistrationOut, "The registration, its email address confirmed (again: no change)."),
    *PUBLIC_READ,
    429,
    HTTP_409=(SessionsError, "Not confirmed in time: cancelled (`registration_closed`)."),
)
def confirm_registration(token: str):
    """Confirm the email address of a registration whose seats are held (the token is in
    the email only); the usual confirmation email follows."""
    return _changed_by_token(token, holds.confirm_hold)


@bp.post("/registrations/<token>/offers/<int:session_id>/accept")
@operation(
    (RegistrationOut, "The registration with the seat."),
    *PUBLIC_READ,
    429,
    HTTP_409=(SessionsError, "`offer_expired`, or `schedule_conflict` naming the sessions."),
)
def accept_offer(token: str, session_id: int):
    """Accept a waiting-list offer (events with promotion by offer) before it expires."""
    return _changed_by_token(token, partial(waitlist_service.accept_offer, session_id=session_id))


@bp.post("/registrations/<token>/offers/<int:session_id>/decline")
@operation((RegistrationOut, "The registration without the offer."), *PUBLIC_READ, 429)
def decline_offer(token: str, session_id: int):
    """Decline a waiting-list offer; the seat goes to the next in line."""
    return _changed_by_token(token, partial(waitlist_service.decline_offer, session_id=session_id))


@bp.get("/registrations/<token>/export")
@operation((AttendeeExport, "The attendee's data as JSON."), *PUBLIC_READ, 429)
def export_registration(token: str):
    """Everything stored about the attendee (the right of access), as JSON."""
    attendee = registration.find_by_token(token)
    return privacy.export_data(attendee, utcnow())


@bp.delete("/registrations/<token>/data")
@operation(
    (None, "Erased; the private link stops working."),
    *PUBLIC_READ,
    429,
    status=204,
    HTTP_409=(SessionsError, "Already erased (`registration_closed`)."),
)
def erase_registration(token: str):
    """Cancel (before the event) and erase the attendee's personal data; the link dies."""
    attendee = registration.find_by_token(token)
    privacy.erase_attendee(attendee, utcnow())
    db.session.commit()
    return "", 204

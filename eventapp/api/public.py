"""The public JSON API: events, sessions with seats, and one's own registration."""

from flask import jsonify, request
from flask_babel import gettext as _

from .. import bot_challenge
from ..auth import bearer_token_given, load_organiser_from_token
from ..database import commit_without_expiring, reads_before_writing
from ..extensions import db
from ..models.types import utcnow
from ..public.forms import consent_record
from ..ratelimits import registration_source
from ..services import privacy
from ..services.allocation import runs as allocation
from ..services.errors import DomainError, InvalidInput
from ..services.programme import reading as programme
from ..services.registration import register as registration
from ..services.registration import self_service
from ..services.registration import waitlist as waitlist_service
from ..services.registration.register import RegistrationInput
from .blueprint import bp
from .serialize import attendee_json, event_json, session_json


def sees_drafts() -> bool:
    """Organisers with a bearer token read draft events too; everyone else only published."""

    if not bearer_token_given():
        return False
    organiser = load_organiser_from_token(request)
    return organiser is not None and organiser.has_role("organiser")


def json_body() -> dict:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DomainError(
            _("The body must be a JSON object (Content-Type: application/json)."),
            "bad_request",
            400,
        )
    return body


@bp.get("/events")
def list_events():
    return jsonify({"events": [event_json(e) for e in programme.published_events()]})


@bp.get("/events/<slug>")
def show_event(slug: str):
    return jsonify(event_json(programme.get_event(slug, public=not sees_drafts())))


@bp.get("/events/<slug>/sessions")
def list_sessions(slug: str):
    event = programme.get_event(slug, public=not sees_drafts())
    waitlists = programme.waitlist_lengths(event)
    return jsonify(
        {
            "sessions": [
                session_json(s, waitlists.get(s.id, 0)) for s in programme.sessions_of(event)
            ]
        }
    )


@bp.post("/events/<slug>/registrations")
@reads_before_writing
def create_registration(slug: str):
    sent = request.get_json(silent=True)
    event = programme.get_event(
        slug, with_sessions=isinstance(sent, dict) and sent.get("session_ids")
    )
    body = json_body()
    locale = registration.attendee_locale(event, body.get("locale"))
    data = RegistrationInput(
        name=body.get("name"),
        email=body.get("email"),
        organisation=body.get("organisation", ""),
        job_role=body.get("job_role", ""),
        session_ids=body.get("session_ids"),
        waitlist=body.get("waitlist", False),
        consent=body.get("consent"),
        locale=locale,
        consent_text=consent_record("api", locale),
        preferences=body.get("preferences"),
        source=registration_source(),
    )
    if data.source is not None:  # not an organiser's client (ratelimits.registration_source)
        bot_challenge.check(event, body.get("altcha"))
    result = registration.register(event, data, utcnow())
    commit_without_expiring()  # the response is built from the rows just written
    payload = attendee_json(result.attendee)
    payload["status"] = result.status
    return jsonify(payload), 201


@bp.get("/registrations/<token>")
def show_registration(token: str):
    return jsonify(attendee_json(registration.find_by_token(token)))


@bp.patch("/registrations/<token>")
def change_registration(token: str):
    """Change sessions, workshop preferences and/or name, organisation, locale: all of it or,
    on an error, none."""
    attendee = registration.find_by_token(token)
    body = json_body()
    waitlist = body.get("waitlist", False)
    if not isinstance(waitlist, bool):
        raise InvalidInput(
            _("Please correct the marked fields."), {"waitlist": [_("Must be true or false.")]}
        )
    details = {key: body[key] for key in ("name", "organisation", "locale") if key in body}
    if details:
        self_service.update_details(attendee, **details)
    if "session_ids" in body:
        self_service.change_choices(attendee, body["session_ids"], waitlist=waitlist, now=utcnow())
    if "preferences" in body:
        # Preference mode, until the allocation is published: the same rules as the manage
        # page (allocation.change_preferences); a 409 `not_collecting` otherwise.
        allocation.change_preferences(attendee, body["preferences"], utcnow())
    db.session.commit()
    return jsonify(attendee_json(attendee))


@bp.delete("/registrations/<token>")
def cancel_registration(token: str):
    attendee = registration.find_by_token(token)
    registration.cancel_registration(attendee, utcnow())
    db.session.commit()
    return jsonify(attendee_json(attendee))


@bp.post("/registrations/<token>/offers/<int:session_id>/accept")
def accept_offer(token: str, session_id: int):
    """Accept a waiting-list offer (events with promotion by offer) before it expires."""
    attendee = registration.find_by_token(token)
    waitlist_service.accept_offer(attendee, session_id, utcnow())
    db.session.commit()
    return jsonify(attendee_json(attendee))


@bp.post("/registrations/<token>/offers/<int:session_id>/decline")
def decline_offer(token: str, session_id: int):
    attendee = registration.find_by_token(token)
    waitlist_service.decline_offer(attendee, session_id, utcnow())
    db.session.commit()
    return jsonify(attendee_json(attendee))


@bp.get("/registrations/<token>/export")
def export_registration(token: str):
    """Everything stored about the attendee (the right of access), as JSON."""
    attendee = registration.find_by_token(token)
    return jsonify(privacy.export_data(attendee, utcnow()))


@bp.delete("/registrations/<token>/data")
def erase_registration(token: str):
    """Cancel (before the event) and erase the attendee's personal data; the link dies."""
    attendee = registration.find_by_token(token)
    privacy.erase_attendee(attendee, utcnow())
    db.session.commit()
    return "", 204

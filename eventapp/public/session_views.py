"""One session's page and one speaker's page: the full description, who, where, when, the
seats and the waiting list, and the way to register for it or add it to a calendar."""

from flask import abort, render_template, url_for

from ..models.types import utcnow
from ..services import links
from ..services.errors import NotFound
from ..services.programme import reading as programme
from .blueprint import bp
from .timetable import session_states
from .views import load_event, visitor_attendee, visitor_choices


@bp.get("/events/<slug>/sessions/<int:session_id>")
def session_page(slug: str, session_id: int):
    event = load_event(slug)
    try:
        session = programme.session_of(event, session_id)
    except NotFound:
        abort(404)
    chosen, waitlisted = visitor_choices(event)
    state = None
    if chosen or waitlisted:  # a visitor who registered in this browser: mark their choice
        sessions = programme.sessions_of(event)
        state = session_states(sessions, chosen, waitlisted).get(session.id)
    return render_template(
        "public/session.html",
        event=event,
        session=session,
        state=state,
        waitlist_length=programme.waitlist_lengths(event).get(session.id, 0),
        registration_open=programme.is_registration_open(event, utcnow()),
        manage_url=_visitor_manage_url(event),
    )


@bp.get("/events/<slug>/speakers/<int:speaker_id>")
def speaker_page(slug: str, speaker_id: int):
    event = load_event(slug)
    try:
        speaker = programme.speaker_of(event, speaker_id)
    except NotFound:
        abort(404)
    sessions = sorted(speaker.sessions, key=lambda s: (s.starts_at, s.id))
    return render_template(
        "public/speaker.html",
        event=event,
        speaker=speaker,
        sessions=sessions,
        waitlists=programme.waitlist_lengths(event),
    )


def _visitor_manage_url(event) -> str | None:
    """The private page of whoever registered in this browser (the confirmation page showed
    them the same link), so "change your sessions" leads straight there."""
    attendee = visitor_attendee(event)
    if attendee is None or attendee.status != "active":
        return None
    return url_for("manage.page", token=links.manage_token(attendee))

"""One session's page and one speaker's page: the full description, who, where, when, the
seats and the waiting list, and the way to register for it or add it to a calendar."""

from flask import render_template, session, url_for

from ..extensions import db
from ..models import Attendee
from ..models.types import utcnow
from ..page_cache import shared_page
from ..services import links
from ..services.programme import reading as programme
from ..web.loading import event_or_404, or_404
from .blueprint import bp
from .timetable import session_states


def _visitor(event) -> Attendee | None:
    """Whoever registered for this event in this browser (the confirmation page's cookie)."""
    attendee_id = session.get("just_registered")
    attendee = db.session.get(Attendee, attendee_id) if attendee_id else None
    if attendee is None or attendee.event_id != event.id or attendee.status != "active":
        return None
    return attendee


@bp.get("/events/<slug>/sessions/<int:session_id>")
@shared_page()
def session_page(slug: str, session_id: int):
    event = event_or_404(slug)
    shown = or_404(lambda: programme.session_of(event, session_id))
    visitor = _visitor(event)
    state = None
    if visitor is not None:  # mark their choice, or a clash with it, as the programme does
        held = [r for r in visitor.registrations if r.is_active]
        chosen = {r.session_id for r in held if r.status == "confirmed"}
        waiting = {r.session_id for r in held if r.status != "confirmed"}
        states = session_states(programme.sessions_of(event), chosen, waiting)
        state = states.get(shown.id)
    return render_template(
        "public/session.html",
        event=event,
        session=shown,
        state=state,
        waitlist_length=programme.waitlist_lengths(event).get(shown.id, 0),
        registration_open=programme.is_registration_open(event, utcnow()),
        # "Change your sessions" leads straight to their own page: the confirmation page
        # showed this browser the same link.
        manage_url=(url_for("manage.page", token=links.manage_token(visitor)) if visitor else None),
    )


@bp.get("/events/<slug>/speakers/<int:speaker_id>")
def speaker_page(slug: str, speaker_id: int):
    event = event_or_404(slug)
    speaker = or_404(lambda: programme.speaker_of(event, speaker_id))
    return render_template(
        "public/speaker.html",
        event=event,
        speaker=speaker,
        sessions=sorted(speaker.sessions, key=lambda s: (s.starts_at, s.id)),
        waitlists=programme.waitlist_lengths(event),
    )

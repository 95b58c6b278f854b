"""The attendee's private page, reached only through the link from their confirmation."""

from flask import abort, g, render_template

from ..services import registration
from ..services.errors import NotFound
from ..services.waitlist import waitlist_position
from . import bp


def load_attendee(token: str):
    try:
        attendee = registration.find_by_token(token)
    except NotFound:
        abort(404)
    g.event = attendee.event
    g.attendee_locale = attendee.locale
    return attendee


@bp.get("/manage/<token>")
def page(token: str):
    attendee = load_attendee(token)
    return render_template(
        "manage/page.html",
        event=attendee.event,
        attendee=attendee,
        token=token,
        positions={r.id: waitlist_position(r) for r in attendee.registrations},
    )

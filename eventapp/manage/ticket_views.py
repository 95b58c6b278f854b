"""The attendee's ticket: a printable page and a PDF, both with the check-in QR code.

The QR code holds the attendee's one code (Attendee.checkin_code), the code the door's
check-in page accepts typed or scanned. A cancelled registration gets no QR code.
"""

from flask import Response, render_template
from flask_babel import format_date, format_time
from flask_babel import gettext as _

from ..i18n import in_reader_language, in_zone
from ..services import links
from ..services.registration.waitlist import waitlist_positions
from .blueprint import bp
from .ticket_pdf import TicketLine, TicketText, build_ticket_pdf
from .views import load_attendee


def _held(attendee) -> list:
    """Seats, offers and waiting-list places, in programme order (as the manage page lists)."""
    registrations = [r for r in attendee.registrations if r.is_active]
    return sorted(registrations, key=lambda r: (r.session.starts_at, r.session_id))


@bp.get("/manage/<token>/ticket")
def ticket(token: str):
    attendee = load_attendee(token)
    registrations = _held(attendee)
    return render_template(
        "manage/ticket.html",
        event=attendee.event,
        attendee=attendee,
        token=token,
        registrations=registrations,
        positions=waitlist_positions(registrations),
        qr_uri=links.ticket_qr_data_uri(attendee, scale=8),
    )


def _ticket_line(registration, tz: str, positions: dict[int, int]) -> TicketLine:
    session = registration.session
    starts, ends = in_zone(session.starts_at, tz), in_zone(session.ends_at, tz)
    note = ""
    if registration.status == "waitlisted":
        note = _("On the waiting list, position %(n)s", n=positions.get(registration.id))
    elif registration.status == "offered":
        note = _("Place offered")
    return TicketLine(
        time=f"{starts:%H:%M}–{ends:%H:%M}",
        title=in_reader_language(session, "title"),
        room=in_reader_language(session.room, "name") or "–",
        note=note,
    )


@bp.get("/manage/<token>/ticket.pdf")
def ticket_pdf(token: str):
    attendee = load_attendee(token)
    event = attendee.event
    held = _held(attendee)
    positions = waitlist_positions(held)
    starts = in_zone(event.starts_at, event.timezone)
    when = f"{format_date(starts, 'full')}, {format_time(starts, 'HH:mm')}"
    text = TicketText(
        title=_("Ticket"),
        event_name=in_reader_language(event, "name"),
        when_where=f"{when} · {event.venue}" if event.venue else when,
        name=attendee.name,
        organisation=attendee.organisation or "",
        code_label=_("Your code"),
        code=attendee.checkin_code if attendee.status == "active" else None,
        sessions_heading=_("Your sessions"),
        column_heads=(_("Time"), _("Session"), _("Room")),
        lines=[_ticket_line(r, event.timezone, positions) for r in held],
        no_sessions=(
            _("This registration has been cancelled.")
            if attendee.status != "active"
            else _("You have no sessions at the moment.")
        ),
        footer=_("Show this QR code at the entrance, or give your code."),
    )
    filename = f"ticket-{event.slug}-{attendee.checkin_code}.pdf"
    return Response(
        build_ticket_pdf(text),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )

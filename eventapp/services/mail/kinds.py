"""Every kind of email the app sends: its subject and the calendar objects it carries.

Templates: templates/mail/<kind>.txt and .html. The self-service kinds ("offer",
"offer_expired", "lost_link", "reminder") carry no calendar data: an offer is not a seat
yet, and the reminder's sessions are already in the attendee's calendar from their
confirmations.
"""

from __future__ import annotations

from flask_babel import gettext as _

from .. import calendar
from .context import MailContext, mail_kind
from .transport import CalendarPart


def invitations(context: MailContext) -> list[CalendarPart]:
    """METHOD:REQUEST for each session of the message the attendee now holds a seat for."""
    return invitations_of(context, context.sessions)


def cancellations(context: MailContext) -> list[CalendarPart]:
    """METHOD:CANCEL for each session of the message the attendee no longer holds.

    A session they took again meanwhile is skipped: its newer confirmation carries a higher
    SEQUENCE anyway. `had_seat: false` in the payload (a waiting-list place of a cancelled
    session) means no calendar ever had it.
    """
    if context.payload.get("had_seat") is False:
        return []
    parts = []
    for session in context.sessions:
        registration = context.registration_for(session)
        if registration and registration.status == "cancelled":
            data = calendar.cancellation(registration, now=context.now)
            parts.append(CalendarPart("cancel.ics", "CANCEL", data, session.id))
    return parts


def event_cancellations(context: MailContext) -> list[CalendarPart]:
    """METHOD:CANCEL for each session of a cancelled event the attendee had a seat in.

    One calendar object per session: each carries the UID of its own invitation, and RFC 5546
    wants every VEVENT of an iTIP object to share one UID (docs/CALENDAR.md, "Per METHOD"),
    so a single CANCEL object naming several UIDs is not something Outlook, Google and Apple
    can be trusted to apply to each event. The first travels in this email, the others in
    calendar-only emails that follow it (render.py).
    Only `calendar_session_ids` get one: the sessions an invitation put in the calendar, not
    waiting-list places or offers, which were never there.
    """
    in_calendar = set(context.payload.get("calendar_session_ids") or [])
    parts = []
    for session in context.sessions:
        registration = context.registration_for(session)
        if session.id in in_calendar and registration and registration.status == "cancelled":
            data = calendar.cancellation(registration, now=context.now)
            parts.append(CalendarPart("cancel.ics", "CANCEL", data, session.id))
    return parts


def clash_changes(context: MailContext) -> list[CalendarPart]:
    """A seat moved away from a session because its new time clashed (programme/schedule/
    clashes.py): METHOD:CANCEL for the moved session, METHOD:REQUEST for the workshop given
    instead, if any."""
    moved_id = context.payload.get("moved_id")
    parts = []
    for session in context.sessions:
        registration = context.registration_for(session)
        if registration is None:
            continue
        if session.id == moved_id and registration.status != "confirmed":
            data = calendar.cancellation(registration, now=context.now)
            parts.append(CalendarPart("cancel.ics", "CANCEL", data, session.id))
        elif session.id != moved_id:
            parts += invitations_of(context, [session])
    return parts


def invitations_of(context: MailContext, sessions) -> list[CalendarPart]:
    parts = []
    for session in sessions:
        registration = context.registration_for(session)
        if registration and registration.status == "confirmed" and session.status == "scheduled":
            data = calendar.invitation(registration, now=context.now)
            parts.append(CalendarPart("invite.ics", "REQUEST", data, session.id))
    return parts


def _titles(context: MailContext) -> str:
    return ", ".join(s.title for s in context.sessions)


mail_kind(
    "confirmation",
    subject=lambda c: _("Your registration for %(event)s", event=c.event.name),
    calendar=invitations,
    qr_code=True,
    schedule_several=True,
)
mail_kind(
    "promoted",
    subject=lambda c: _("A place became free: you are in for %(titles)s", titles=_titles(c)),
    calendar=invitations,
    qr_code=True,
    schedule_several=True,
)
mail_kind(
    "sessions_dropped",
    subject=lambda c: _("Your registration for %(event)s has changed", event=c.event.name),
    calendar=cancellations,
)
mail_kind(
    "cancelled",
    subject=lambda c: _("Your registration for %(event)s is cancelled", event=c.event.name),
    calendar=cancellations,
)
mail_kind(
    "session_moved",
    subject=lambda c: _("Programme change: %(titles)s", titles=_titles(c)),
    calendar=invitations,
)
mail_kind(
    "session_cancelled",
    subject=lambda c: _("Cancelled: %(titles)s", titles=_titles(c)),
    calendar=cancellations,
)
mail_kind(
    "clash_resolved",
    subject=lambda c: _("Programme change: %(titles)s", titles=_titles(c)),
    calendar=clash_changes,
)
mail_kind(
    "event_cancelled",
    subject=lambda c: _("%(event)s is cancelled", event=c.event.name),
    calendar=event_cancellations,
)

mail_kind(
    "ranking_review",
    subject=lambda c: _("Please review your workshop ranking for %(event)s", event=c.event.name),
)
mail_kind(
    "offer",
    subject=lambda c: _("A place is free for you: %(titles)s", titles=_titles(c)),
)
mail_kind(
    "offer_expired",
    subject=lambda c: _("The offered place has passed on: %(titles)s", titles=_titles(c)),
)
mail_kind(
    "lost_link",
    subject=lambda c: _("Your personal link for %(event)s", event=c.event.name),
)
mail_kind(
    "reminder",
    subject=lambda c: _("Soon: %(event)s, your schedule", event=c.event.name),
    qr_code=True,
)

"""Every kind of email the app sends: its subject and the calendar objects it carries.

Templates: templates/mail/<kind>.txt and .html. The self-service kinds ("confirm_email",
"offer", "offer_expired", "lost_link", "reminder") carry no calendar data: held seats and
an offer are not seats yet, and the reminder's sessions are already in the attendee's
calendar from their confirmations.
"""

from __future__ import annotations

from functools import partial

from flask_babel import gettext as _

from ...i18n import in_reader_language
from .. import calendar
from .context import MailContext, PlannedPart, mail_kind


def _planned(method: str, registration, context: MailContext) -> PlannedPart:
    build = calendar.invitation if method == "REQUEST" else calendar.cancellation
    return PlannedPart(
        method, registration.session_id, partial(build, registration, now=context.now)
    )


def invitations(context: MailContext) -> list[PlannedPart]:
    """METHOD:REQUEST for each session of the message the attendee now holds a seat for."""
    return invitations_of(context, context.sessions)


def cancellations(context: MailContext) -> list[PlannedPart]:
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
            parts.append(_planned("CANCEL", registration, context))
    return parts


def event_cancellations(context: MailContext) -> list[PlannedPart]:
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
            parts.append(_planned("CANCEL", registration, context))
    return parts


def erasure_cancellations(context: MailContext) -> list[PlannedPart]:
    """METHOD:CANCEL for each session an erased attendee had in their calendar.

    The attendee row no longer names them, so the UIDs, SEQUENCEs and address come from
    the outbox row (privacy.erase_attendee wrote them there); the session's own data from
    the programme. SEQUENCE also counts the organiser's changes since the erasure.
    """
    sessions = {session.id: session for session in context.sessions}
    parts = []
    for entry in context.payload.get("calendar") or []:
        session = sessions.get(entry.get("session_id"))
        if session is None:
            continue
        sequence = entry["sequence"] + max(0, session.sequence - entry["session_sequence"])
        build = partial(
            calendar.erasure_cancellation,
            session,
            uid=entry["uid"],
            sequence=sequence,
            name=context.attendee.name,
            email=context.attendee.email,
            locale=context.message.locale,
            now=context.now,
        )
        parts.append(PlannedPart("CANCEL", session.id, build))
    return parts


def clash_changes(context: MailContext) -> list[PlannedPart]:
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
            parts.append(_planned("CANCEL", registration, context))
        elif session.id != moved_id:
            parts += invitations_of(context, [session])
    return parts


def invitations_of(context: MailContext, sessions) -> list[PlannedPart]:
    parts = []
    for session in sessions:
        registration = context.registration_for(session)
        if registration and registration.status == "confirmed" and session.status == "scheduled":
            parts.append(_planned("REQUEST", registration, context))
    return parts


def _titles(context: MailContext) -> str:
    return ", ".join(in_reader_language(s, "title") for s in context.sessions)


def _event(context: MailContext) -> str:
    """The event's name as the subject shows it: in the reader's language."""
    return in_reader_language(context.event, "name")


mail_kind(
    "confirmation",
    subject=lambda c: _("Your registration for %(event)s", event=_event(c)),
    calendar=invitations,
    qr_code=True,
    schedule_several=True,
)
mail_kind(
    # Seats held until the address is confirmed (registration/holds.py): no calendar data
    # and no check-in code yet; the confirmation carries them once the link is confirmed.
    "confirm_email",
    subject=lambda c: _("Confirm your registration for %(event)s", event=_event(c)),
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
    subject=lambda c: _("Your registration for %(event)s has changed", event=_event(c)),
    calendar=cancellations,
)
mail_kind(
    "cancelled",
    subject=lambda c: _("Your registration for %(event)s is cancelled", event=_event(c)),
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
    subject=lambda c: _("%(event)s is cancelled", event=_event(c)),
    calendar=event_cancellations,
)
mail_kind(
    "erased",
    subject=lambda c: _("Your data for %(event)s has been deleted", event=_event(c)),
    calendar=erasure_cancellations,
)

mail_kind(
    "ranking_review",
    subject=lambda c: _(
        "Please review your workshop ranking for %(event)s",
        event=_event(c),
    ),
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
    subject=lambda c: _("Your personal link for %(event)s", event=_event(c)),
)
mail_kind(
    "reminder",
    subject=lambda c: _("Soon: %(event)s, your schedule", event=_event(c)),
    qr_code=True,
)
mail_kind(
    "message_test",
    subject=lambda c: _("[Test] %(subject)s", subject=c.payload.get("subject", "")),
)

"""The words the interface shows for stored values: statuses, kinds, modes, audit actions,
languages. One mapping, so no page prints "published" or "sessions_dropped" (issue 19.7);
templates use the `label` filter (`{{ event.status|label("event_status") }}`), Python code
`label(group, value)`. A value the mapping does not know is shown as it is."""

from flask_babel import lazy_gettext as _l

LABELS = {
    "event_status": {"draft": _l("Draft"), "published": _l("Published"), "closed": _l("Closed")},
    "session_kind": {"plenary": _l("Plenary"), "workshop": _l("Workshop"), "other": _l("Break")},
    "session_status": {"scheduled": _l("Scheduled"), "cancelled": _l("Cancelled")},
    "registration_status": {
        "confirmed": _l("Confirmed"),
        "waitlisted": _l("Waiting list"),
        "offered": _l("Offered"),
        "cancelled": _l("Cancelled"),
    },
    "attendee_status": {"active": _l("Registered"), "cancelled": _l("Cancelled")},
    "mail_status": {
        "pending": _l("Waiting to be sent"),
        "sending": _l("Being sent"),
        "sent": _l("Sent"),
        "failed": _l("Failed"),
    },
    "mail_kind": {
        "confirmation": _l("Confirmation"),
        "promoted": _l("Place from the waiting list"),
        "sessions_dropped": _l("Sessions dropped"),
        "cancelled": _l("Registration cancelled"),
        "session_moved": _l("Session moved"),
        "session_cancelled": _l("Session cancelled"),
        "event_cancelled": _l("Event cancelled"),
        "ranking_review": _l("Review of the ranking"),
        "offer": _l("Place offered"),
        "offer_expired": _l("Offer expired"),
        "lost_link": _l("Personal link sent again"),
        "reminder": _l("Reminder"),
        "organiser_message": _l("Message from the organiser"),
        "email_change": _l("New email address to confirm"),
    },
    "audit_action": {
        "event.created": _l("Event created"),
        "event.updated": _l("Event changed"),
        "event.moved": _l("Event moved"),
        "event.cancelled": _l("Event cancelled"),
        "event.message": _l("Message sent"),
        "room.created": _l("Room added"),
        "room.updated": _l("Room changed"),
        "speaker.created": _l("Speaker added"),
        "speaker.updated": _l("Speaker changed"),
        "session.created": _l("Session added"),
        "session.updated": _l("Session changed"),
        "session.moved": _l("Session moved"),
        "session.cancelled": _l("Session cancelled"),
        "session.restored": _l("Session restored"),
        "session.capacity_override": _l("Seat given beyond capacity"),
        "programme.imported": _l("Programme imported"),
        "allocation.dry_run": _l("Allocation tried"),
        "allocation.published": _l("Allocation published"),
        "allocation.failed": _l("Allocation failed"),
        "attendee.update": _l("Attendee changed"),
        "attendee.move": _l("Attendee moved to another session"),
        "attendee.cancel": _l("Attendee's session cancelled"),
        "attendee.cancelled": _l("Attendee cancelled"),
        "attendee.check_in": _l("Checked in"),
        "attendee.undo_check_in": _l("Check-in undone"),
        "attendees.burst_cancelled": _l("Group of registrations cancelled"),
        "attendees.export": _l("Attendees exported"),
        "registration.promote": _l("Moved up from the waiting list"),
        "preferences.touched": _l("Rankings affected"),
    },
    "object_type": {
        "event": _l("Event"),
        "event_session": _l("Session"),
        "room": _l("Room"),
        "speaker": _l("Speaker"),
        "attendee": _l("Attendee"),
        "registration": _l("Registration"),
    },
    "language": {"nl": _l("Dutch"), "en": _l("English")},
}


def label(group: str, value) -> str:
    """The words for `value` of `group` in the current language (the value itself if unknown)."""
    word = LABELS[group].get(value)
    return str(word) if word is not None else ("" if value is None else str(value))

"""Personal data: the attendee's export, their own erasure, and anonymising a past event.

What "anonymised" means here: the attendee row and its registrations stay, so seat
counters, fill rates, waiting-list and check-in statistics keep adding up; everything that
identifies the person (name, email, organisation, job role, consent wording, private links,
reference and check-in code, the emails sent to them and the audit trail's copies of their
details) is replaced or removed. Anonymising changes no registration status, so no counter
moves; an attendee who erases their data before the event first gives their seats back.

Erasing someone first takes their sessions out of their calendar: one email of CANCELs
(kind "erased", services/mail/kinds.py) for every session an invitation put there that has
not ended yet. Its outbox row is the one place their address, name and language outlive
the erasure, and only until it is sent or given up (the worker then forgets them); past
sessions get no CANCEL, so anonymising an event after it (retention) sends nothing.
docs/CALENDAR.md, "Erasure", says why, and what their personal feed answers afterwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..extensions import db
from ..models import Attendee, AuditEntry, Event, OutboxMessage, Preference, Registration
from . import audit, calendar, links
from .errors import Conflict, RegistrationClosed
from .mail import outbox
from .registration import answers as answer_service
from .registration import register as registration_service
from .registration.waitlist import waitlist_positions

ANONYMISED_NAME = "Anonymised"
# Keys of an attendee snapshot in the audit trail that describe the person.
PERSONAL_KEYS = (
    "name",
    "email",
    "email_normalized",
    "email_domain",
    "source",
    "organisation",
    "job_role",
    "consent_text",
    "reference",
    "checkin_code",
    "email_domain",
    "source",
)


def purpose() -> str:
    """The export's one sentence for people, in the reader's language (the page's): the
    words of the private page's "Your data" section."""
    return _(
        "We store your name, email address, organisation, job role, session choices and "
        "answers to the event's questions to organise this event: to keep your seats, send "
        "you confirmations, programme changes and a reminder, and check you in. We do not "
        "share them."
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_data(attendee: Attendee, now: datetime) -> dict:
    """Everything stored about the attendee, as plain JSON (times in UTC, ISO 8601)."""
    event = attendee.event
    preferences = db.session.scalars(
        select(Preference).where(Preference.attendee_id == attendee.id).order_by(Preference.rank)
    )
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.attendee_id == attendee.id)
        .order_by(OutboxMessage.id)
    )
    positions = waitlist_positions(attendee.registrations)
    return {
        "exported_at": _iso(now),
        "purpose": purpose(),
        "event": {
            "slug": event.slug,
            "name": event.name,
            "starts_at": _iso(event.starts_at),
            "ends_at": _iso(event.ends_at),
            "organiser_email": event.organiser_email,
        },
        "attendee": {
            "reference": attendee.reference,
            "name": attendee.name,
            "email": attendee.email,
            "organisation": attendee.organisation,
            "job_role": attendee.job_role,
            "locale": attendee.locale,
            "status": attendee.status,
            "consent_at": _iso(attendee.consent_at),
            "consent_text": attendee.consent_text,
            "checked_in_at": _iso(attendee.checked_in_at),
            "reminder_sent_at": _iso(attendee.reminder_sent_at),
            "hold_expires_at": _iso(attendee.hold_expires_at),
            "created_at": _iso(attendee.created_at),
            "updated_at": _iso(attendee.updated_at),
        },
        "registrations": [
            {
                "session_id": r.session_id,
                "title": r.session.title,
                "starts_at": _iso(r.session.starts_at),
                "ends_at": _iso(r.session.ends_at),
                "room": r.session.room.name if r.session.room else None,
                "status": r.status,
                "waitlist_position": positions.get(r.id),
                "offer_expires_at": _iso(r.offer_expires_at),
                "checked_in_at": _iso(r.checked_in_at),
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
            }
            for r in attendee.registrations
        ],
        "preferences": [{"session_id": p.session_id, "rank": p.rank} for p in preferences],
        "answers": answer_service.export_answers(attendee),
        "emails": [
            {
                "kind": m.kind,
                "status": m.status,
                "recipient": m.recipient,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in messages
        ],
    }


def erase_attendee(attendee: Attendee, now: datetime, *, actor=None) -> None:
    """The attendee's "delete my data" (their manage page or API, or an organiser, `actor`,
    on their behalf): give back seats (before the event), cancel what their calendar
    holds, then scrub."""
    if attendee.anonymised_at is not None:
        raise RegistrationClosed(_("This registration has already been deleted."))
    in_calendar = _in_calendar(attendee, now)
    if attendee.status == "active" and now < attendee.event.ends_at:
        registration_service.drop_all_sessions(attendee, now)
        attendee.status = "cancelled"
    cancellations = _calendar_cancellations(attendee, in_calendar)
    _scrub(attendee, now)
    if cancellations is not None:
        db.session.add(cancellations)
    if actor is not None:
        audit.record(actor, "attendee.erase", attendee, after={"status": attendee.status}, now=now)
    db.session.flush()


def _in_calendar(attendee: Attendee, now: datetime) -> list[tuple[Registration, int]]:
    """The sessions an invitation put in their calendar that have not ended, with the
    SEQUENCE the calendar has for each."""
    return [
        (r, r.calendar_sequence)
        for r in attendee.registrations
        if r.status == "confirmed" and r.session.status == "scheduled" and r.session.ends_at > now
    ]


def _calendar_cancellations(attendee: Attendee, held) -> OutboxMessage | None:
    """The erasure's CANCEL email, queued with what it needs once the attendee row no
    longer says (their address, name and language; each session's UID and a SEQUENCE above
    the calendar's); attendee_id stays empty so nothing links the row to them."""
    if not held:
        return None
    entries = [
        {
            "session_id": registration.session_id,
            "uid": calendar.registration_uid(attendee.id, registration.session_id),
            "sequence": max(registration.calendar_sequence, before + 1),
            "session_sequence": registration.session.sequence,
        }
        for registration, before in held
    ]
    values = outbox.message_values(
        outbox.ERASURE_KIND,
        event_id=attendee.event_id,
        recipient=attendee.email,
        locale=attendee.locale,
        payload={
            "session_ids": [entry["session_id"] for entry in entries],
            "calendar": entries,
            "name": attendee.name,
        },
    )
    return OutboxMessage(**values)


def anonymise_event(event: Event, now: datetime) -> int:
    """Anonymise every attendee of an event that has ended; returns how many were changed."""
    if now < event.ends_at:
        raise Conflict(
            _("An event can be anonymised only after it has ended."),
            [{"type": "event_not_ended", "ends_at": event.ends_at.isoformat()}],
        )
    attendees = db.session.scalars(
        select(Attendee)
        .where(Attendee.event_id == event.id, Attendee.anonymised_at.is_(None))
        .order_by(Attendee.id)
    ).all()
    for attendee in attendees:
        _scrub(attendee, now)
    event.anonymised_at = now
    db.session.flush()
    return len(attendees)


def events_past_retention(now: datetime) -> list[Event]:
    candidates = db.session.scalars(
        select(Event).where(
            Event.retention_days.is_not(None),
            Event.anonymised_at.is_(None),
            Event.ends_at <= now,
        )
    )
    return [e for e in candidates if e.ends_at + timedelta(days=e.retention_days) <= now]


def apply_retention(now: datetime) -> int:
    """Anonymise the events whose retention period is over; returns how many events."""
    due = events_past_retention(now)
    for event in due:
        anonymise_event(event, now)
    return len(due)


def _scrub(attendee: Attendee, now: datetime) -> None:
    """Replace what identifies the person; keep what the statistics count."""
    attendee.name = ANONYMISED_NAME
    attendee.email = f"anonymised-{attendee.id}@anonymised.invalid"
    attendee.email_normalized = attendee.email
    attendee.email_domain = None  # and where they registered from (limits, burst view)
    attendee.source = None
    attendee.organisation = ""
    attendee.job_role = ""
    attendee.consent_text = ""
    # The bot defences' traces (services/registration/limits.py) name the mail domain and a
    # hash of the client address; past the event they count nothing any more.
    attendee.email_domain = None
    attendee.source = None
    attendee.reference = links.new_code(registration_service.REFERENCE_LENGTH)
    attendee.checkin_code = links.new_code(registration_service.CHECKIN_CODE_LENGTH)
    # The manage link stops working. The feed's stays, to tell calendars that subscribed
    # to it that the sessions are cancelled, or gone (calendar/views.py personal_feed).
    fresh = links.new_token_columns()
    attendee.token_nonce, attendee.token_hash = fresh["token_nonce"], fresh["token_hash"]
    # An email change waiting for confirmation holds an address too (email_change.py).
    attendee.pending_email = attendee.email_change_nonce = attendee.email_change_hash = None
    attendee.email_change_requested_at = None
    attendee.anonymised_at = now
    # Answers (dietary needs, accessibility...) may say much about the person: all go.
    answer_service.erase_answers(attendee)
    # The messages sent to them hold their address; pending ones must not go out anymore.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.attendee_id == attendee.id))
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "attendee", AuditEntry.object_id == attendee.id
        )
    )
    for entry in entries:
        entry.before = _scrubbed_snapshot(entry.before)
        entry.after = _scrubbed_snapshot(entry.after)


def _scrubbed_snapshot(values: dict | None) -> dict | None:
    if not isinstance(values, dict):
        return values
    return {k: ("(anonymised)" if k in PERSONAL_KEYS else v) for k, v in values.items()}

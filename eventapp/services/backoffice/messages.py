"""Organisers' messages to attendees: the whole event, one session, or its waiting list.

Each recipient gets an outbox row of kind "organiser_message" with the subject and body in
its payload, written in one transaction, so a message goes to everyone or to no one; the
worker renders it in templates/mail/organiser_message.{txt,html}. The organiser sees the
count first, and the send is refused if the audience changed since (someone registered or
cancelled between preview and send), so "send to 212 people" means 212.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Attendee, AuditEntry, Event, EventSession, Organiser, Registration
from .. import audit
from ..errors import DomainError, InvalidInput
from ..mail.outbox import enqueue
from ..validation import FieldErrors, clean_text, database_id, too_long

KIND = "organiser_message"
SUBJECT_MAX = 200
BODY_MAX = 10_000


class AudienceChanged(DomainError):
    def __init__(self, message: str, count: int):
        super().__init__(message, "audience_changed", 409, {"count": count})


@dataclass(frozen=True)
class Audience:
    """Who receives a message: "all" (every active attendee), "session" (those confirmed
    for a session) or "waitlist" (those on a session's waiting list)."""

    kind: str = "all"
    session: EventSession | None = None

    @property
    def key(self) -> str:
        return self.kind if self.session is None else f"{self.kind}:{self.session.id}"

    @classmethod
    def parse(cls, event: Event, value: object) -> Audience:
        if value in (None, "", "all"):
            return cls()
        kind, _sep, number = str(value).partition(":")
        session_id = database_id(number)
        if kind in ("session", "waitlist") and session_id is not None:
            session = db.session.get(EventSession, session_id)
            if session is not None and session.event_id == event.id:
                return cls(kind, session)
        raise InvalidInput(
            _("Choose who receives the message."),
            {"audience": [_("Choose who receives the message.")]},
        )

    def describe(self) -> str:
        if self.kind == "session":
            return _("Attendees of “%(title)s”", title=self.session.title)
        if self.kind == "waitlist":
            return _("Waiting list of “%(title)s”", title=self.session.title)
        return _("All attendees")


def recipients_query(event: Event, audience: Audience) -> Select:
    stmt = select(Attendee).where(Attendee.event_id == event.id, Attendee.status == "active")
    if audience.kind == "all":
        return stmt.where(
            exists().where(Registration.attendee_id == Attendee.id, Registration.is_active)
        )
    statuses = Registration.SEAT_HOLDING if audience.kind == "session" else ("waitlisted",)
    return stmt.where(
        exists().where(
            Registration.attendee_id == Attendee.id,
            Registration.session_id == audience.session.id,
            Registration.status.in_(statuses),
        )
    )


def recipient_count(event: Event, audience: Audience) -> int:
    return db.session.scalar(
        recipients_query(event, audience).with_only_columns(func.count(Attendee.id))
    )


def clean_message(subject: object, body: object) -> tuple[str, str]:
    """A one-line subject (a newline could forge mail headers) and a non-empty body."""
    errors = FieldErrors()
    subject = clean_text(subject, "subject", errors, max_length=SUBJECT_MAX, required=True)
    if isinstance(body, str):
        body = body.replace("\r\n", "\n").replace("\r", "\n")
        # Newlines and tabs are the body's own; clean_text refuses other control characters.
        lines = body.split("\n")
        cleaned = [
            clean_text(
                line.replace("\t", "    "), "body", errors, max_length=BODY_MAX, required=False
            )
            for line in lines
        ]
        body = "\n".join(cleaned).strip("\n")
        if not body.strip():
            errors.add("body", _("This field is required."))
        elif len(body) > BODY_MAX:
            errors.add(
                "body",
                too_long(BODY_MAX),
            )
    else:
        errors.add("body", _("This field is required."))
        body = ""
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    return subject, body


@dataclass
class Preview:
    audience: Audience
    subject: str
    body: str
    count: int
    sample: Attendee | None


def preview(event: Event, audience: Audience, subject: object, body: object) -> Preview:
    """What would be sent and to how many, with one recipient to show the greeting."""
    subject, body = clean_message(subject, body)
    sample = db.session.scalars(
        recipients_query(event, audience).order_by(Attendee.id).limit(1)
    ).first()
    return Preview(audience, subject, body, recipient_count(event, audience), sample)


def send_message(
    event: Event,
    audience: Audience,
    subject: object,
    body: object,
    *,
    actor: Organiser,
    now: datetime,
    expected_count: int | None = None,
) -> int:
    """Queue the message for every recipient; returns how many. Audited."""
    subject, body = clean_message(subject, body)
    recipients = db.session.scalars(recipients_query(event, audience).order_by(Attendee.id)).all()
    if expected_count is not None and expected_count != len(recipients):
        raise AudienceChanged(
            _(
                "The number of recipients changed from %(before)d to %(now)d since the "
                "preview. Check the preview again before sending.",
                before=expected_count,
                now=len(recipients),
            ),
            len(recipients),
        )
    if not recipients:
        raise InvalidInput(
            _("Nobody would receive this message."),
            {"audience": [_("Nobody would receive this message.")]},
        )
    for attendee in recipients:
        enqueue(KIND, attendee, {"subject": subject, "body": body})
    audit.record(
        actor,
        "event.message",
        event,
        before=None,
        after={
            "audience": audience.key,
            "audience_label": audience.describe(),
            "subject": subject,
            "body": body,
            "recipients": len(recipients),
        },
        event=event,
    )
    db.session.flush()
    return len(recipients)


def sent_messages(event: Event, limit: int = 20) -> list[AuditEntry]:
    """The messages sent for the event, newest first, from the audit trail."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.event_id == event.id, AuditEntry.action == "event.message")
            .options(selectinload(AuditEntry.organiser))
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )

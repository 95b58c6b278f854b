"""Turning an outbox row into an email, by its `kind`, in the attendee's language.

Rendering happens at send time from the current state of the database: a message queued for a
session the attendee has dropped meanwhile carries no invitation for it, and every calendar
object carries the SEQUENCE current when it is sent. Templates come in pairs,
`templates/mail/<kind>.txt` and `.html`.

Other parts of the app add kinds with `mail_kind()`:

    mail_kind("reminder", subject=lambda ctx: _("Tomorrow: %(event)s", event=ctx.event.name))

and the two templates. A kind without a registration still renders from its templates, with
`payload["subject"]` (or the event's name) as the subject and no calendar data.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import flask_babel
import segno
from flask import current_app, g, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Attendee, EventSession, OutboxMessage, Registration
from ...models import Event as EventModel
from .. import calendar
from ..registration import feed_token, manage_token
from ..waitlist import waitlist_position
from .transport import CalendarPart, InlineImage, OutgoingMessage, one_line


class RecipientGone(Exception):
    """The attendee was deleted: there is nobody to send this to, now or later."""


@dataclass
class MailContext:
    """What every mail template gets (as variables of the same names)."""

    message: OutboxMessage
    attendee: Attendee
    event: EventModel
    now: datetime
    sessions: list[EventSession]  # the payload's session_ids, in programme order
    registrations: list[Registration]  # the attendee's current ones (not cancelled)
    positions: dict[int, int | None] = field(default_factory=dict)  # registration id -> place
    manage_url: str = ""
    feed_url: str = ""
    webcal_url: str = ""
    programme_url: str = ""
    qr_cid: str | None = None
    by_session: dict[int, Registration] = field(default_factory=dict)  # cancelled ones too

    @property
    def payload(self) -> dict:
        return self.message.payload or {}

    def registration_for(self, session: EventSession) -> Registration | None:
        return self.by_session.get(session.id)

    def template_vars(self) -> dict:
        names = (
            "message",
            "attendee",
            "event",
            "now",
            "sessions",
            "registrations",
            "positions",
            "manage_url",
            "feed_url",
            "webcal_url",
            "programme_url",
            "qr_cid",
        )
        values = {name: getattr(self, name) for name in names}
        values.update(
            payload=self.payload,
            registration_for=self.registration_for,
            previous=self.previous,
            is_update=self.is_update,  # a method: only the templates that ask pay the query
        )
        return values

    def is_update(self) -> bool:
        """A confirmation after the first one: sessions added to an existing registration."""
        earlier = db.session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.attendee_id == self.attendee.id,
                OutboxMessage.kind == self.message.kind,
                OutboxMessage.id < self.message.id,
            )
            .limit(1)
        )
        return earlier is not None

    @property
    def previous(self) -> dict | None:
        """Where and when a moved session was before (payload "previous"), parsed."""
        before = self.payload.get("previous")
        if not isinstance(before, dict):
            return None
        try:
            return {
                "starts_at": datetime.fromisoformat(before["starts_at"]),
                "ends_at": datetime.fromisoformat(before["ends_at"]),
                "room": before.get("room") or "",
            }
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class MailKind:
    subject: Callable[[MailContext], str]
    calendar: Callable[[MailContext], list[CalendarPart]] | None = None
    qr_code: bool = False


KINDS: dict[str, MailKind] = {}


def mail_kind(
    kind: str,
    *,
    subject: Callable[[MailContext], str],
    calendar: Callable[[MailContext], list[CalendarPart]] | None = None,
    qr_code: bool = False,
) -> None:
    """Register how a kind of message is titled and what it carries besides its templates."""
    KINDS[kind] = MailKind(subject, calendar, qr_code)


def render(message: OutboxMessage, now: datetime) -> OutgoingMessage:
    """The email for an outbox row; needs a request context for external links."""
    attendee = db.session.get(Attendee, message.attendee_id) if message.attendee_id else None
    if attendee is None:
        raise RecipientGone("the attendee no longer exists")
    event = attendee.event
    kind = KINDS.get(message.kind) or _unregistered_kind(message.kind)
    with in_language_and_zone(event, message.locale):
        context = _context(message, attendee, event, now, with_qr=kind.qr_code)
        variables = context.template_vars()
        subject = kind.subject(context)
        text = tidy_text(render_template(f"mail/{message.kind}.txt", **variables))
        html = render_template(f"mail/{message.kind}.html", **variables)
        parts = kind.calendar(context) if kind.calendar else []
    images = [qr_image(attendee, context.qr_cid)] if context.qr_cid else []
    config = current_app.config
    return OutgoingMessage(
        subject=subject,
        recipients=[(one_line(attendee.name), message.recipient)],
        sender=config["MAIL_DEFAULT_SENDER"],
        reply_to=one_line(event.organiser_email) or None,
        body=text,
        html=html,
        calendar_parts=parts,
        inline_images=images,
        message_id=message.message_id,
        # Out-of-office replies and Outlook's auto-responses have nowhere useful to go.
        extra_headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )


def _unregistered_kind(kind: str) -> MailKind:
    def subject(context: MailContext) -> str:
        return str(context.payload.get("subject") or context.event.name)

    return MailKind(subject)


@contextmanager
def in_language_and_zone(event: EventModel, locale: str):
    """Render in the attendee's language, with times in the event's timezone.

    eventapp.i18n's timezone selector reads g.event; Flask-Babel caches its answer, hence
    the refresh before and after.
    """
    languages = current_app.config["LANGUAGES"]
    locale = locale if locale in languages else event.default_locale
    saved = g.get("event")
    g.event = event
    flask_babel.refresh()
    try:
        with flask_babel.force_locale(locale):
            yield
    finally:
        g.event = saved
        flask_babel.refresh()


def _context(message, attendee, event, now, *, with_qr: bool) -> MailContext:
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.attendee_id == attendee.id)
            .options(
                selectinload(Registration.session).selectinload(EventSession.speakers),
                selectinload(Registration.session).selectinload(EventSession.room),
            )
        )
    )
    by_start = sorted(registrations, key=lambda r: (r.session.starts_at, r.session_id))
    active = [r for r in by_start if r.status != "cancelled"]
    wanted = {int(i) for i in (message.payload or {}).get("session_ids", []) if str(i).isdigit()}
    sessions = [r.session for r in by_start if r.session_id in wanted]
    missing = wanted - {s.id for s in sessions}
    if missing:  # a session the attendee never held (an organiser's message about it)
        sessions += list(
            db.session.scalars(select(EventSession).where(EventSession.id.in_(missing)))
        )
        sessions.sort(key=lambda s: (s.starts_at, s.id))
    feed_url = url_for("calendar.personal_feed", token=feed_token(attendee), _external=True)
    uid_domain = current_app.config["UID_DOMAIN"]
    return MailContext(
        message=message,
        attendee=attendee,
        event=event,
        now=now,
        sessions=sessions,
        registrations=active,
        positions={r.id: waitlist_position(r) for r in active if r.status == "waitlisted"},
        manage_url=url_for("manage.page", token=manage_token(attendee), _external=True),
        feed_url=feed_url,
        webcal_url=calendar.webcal_url(feed_url),
        programme_url=url_for("public.event_programme", slug=event.slug, _external=True),
        qr_cid=f"checkin-{attendee.id}@{uid_domain}" if with_qr else None,
        by_session={r.session_id: r for r in registrations},
    )


def qr_image(attendee: Attendee, content_id: str) -> InlineImage:
    """The check-in code as a QR code, scanned at the door."""
    buffer = io.BytesIO()
    segno.make(attendee.checkin_code, error="m").save(buffer, kind="png", scale=6, border=4)
    return InlineImage(content_id=content_id, filename="checkin.png", data=buffer.getvalue())


def tidy_text(text: str) -> str:
    """Plain-text templates: no trailing blanks, at most one empty line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# --- what each kind carries -------------------------------------------------------------------


def invitations(context: MailContext) -> list[CalendarPart]:
    """METHOD:REQUEST for each session of the message the attendee now holds a seat for."""
    parts = []
    for session in context.sessions:
        registration = context.registration_for(session)
        if registration and registration.status == "confirmed" and session.status == "scheduled":
            data = calendar.invitation(registration, now=context.now)
            parts.append(CalendarPart(f"invite-{session.id}.ics", "REQUEST", data))
    return parts


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
            parts.append(CalendarPart(f"cancel-{session.id}.ics", "CANCEL", data))
    return parts


def event_cancellations(context: MailContext) -> list[CalendarPart]:
    """METHOD:CANCEL for each session of a cancelled event the attendee had a seat in.

    One calendar object (one attachment) per session, all in this one email: each carries
    the UID of its own invitation, and RFC 5546 wants every VEVENT of an iTIP object to share
    one UID (CALENDAR.md: one object per session), so a single CANCEL object naming several
    UIDs is not something Outlook, Google and Apple can be trusted to apply to each event.
    Only `calendar_session_ids` get one: the sessions an invitation put in the calendar, not
    waiting-list places or offers, which were never there.
    """
    in_calendar = set(context.payload.get("calendar_session_ids") or [])
    parts = []
    for session in context.sessions:
        registration = context.registration_for(session)
        if session.id in in_calendar and registration and registration.status == "cancelled":
            data = calendar.cancellation(registration, now=context.now)
            parts.append(CalendarPart(f"cancel-{session.id}.ics", "CANCEL", data))
    return parts


def _titles(context: MailContext) -> str:
    return ", ".join(s.title for s in context.sessions)


mail_kind(
    "confirmation",
    subject=lambda c: _("Your registration for %(event)s", event=c.event.name),
    calendar=invitations,
    qr_code=True,
)
mail_kind(
    "promoted",
    subject=lambda c: _("A place became free: you are in for %(titles)s", titles=_titles(c)),
    calendar=invitations,
    qr_code=True,
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
    "event_cancelled",
    subject=lambda c: _("%(event)s is cancelled", event=c.event.name),
    calendar=event_cancellations,
)

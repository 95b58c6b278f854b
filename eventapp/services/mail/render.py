"""Turning an outbox row into an email, by its `kind`, in the attendee's language.

Rendering happens at send time from the current state of the database: a message queued for a
session the attendee has dropped meanwhile carries no invitation for it, and every calendar
object carries the SEQUENCE current when it is sent. Templates come in pairs,
`templates/mail/<kind>.txt` and `.html`.

The kinds and what each carries are registered in kinds.py.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime

import flask_babel
from flask import current_app, g, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Attendee, EventSession, OutboxMessage, Registration
from ...models import Event as EventModel
from .. import calendar
from ..links import checkin_qr_png, feed_token, manage_token
from ..registration.waitlist import waitlist_position
from . import kinds  # noqa: F401  (registers every kind)
from .context import KINDS, MailContext, MailKind, RecipientGone
from .transport import InlineImage, OutgoingMessage, one_line


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
    """The check-in code as a regular QR code (never Micro QR: phones can't read it)."""
    data = checkin_qr_png(attendee.checkin_code)
    return InlineImage(content_id=content_id, filename="checkin.png", data=data)


def tidy_text(text: str) -> str:
    """Plain-text templates: no trailing blanks, at most one empty line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# --- what each kind carries -------------------------------------------------------------------

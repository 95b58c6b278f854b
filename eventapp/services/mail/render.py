"""Turning an outbox row into an email, by its `kind`, in the attendee's language.

Rendering happens at send time from the current state of the database (the worker renders
the batch it claimed together, seconds before sending it): a message queued for a session
the attendee has dropped meanwhile carries no invitation for it, and every calendar object
carries the SEQUENCE current when it is sent. Templates come in pairs,
`templates/mail/<kind>.txt` and `.html`.

The kinds and what each carries are registered in kinds.py.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime

import flask_babel
from flask import current_app, g, render_template, url_for
from sqlalchemy.exc import SQLAlchemyError

from ...extensions import db
from ...i18n import in_reader_language
from ...models import Attendee, OutboxMessage
from ...models import Event as EventModel
from .. import calendar
from ..links import checkin_qr_png, feed_token, manage_token
from ..registration.waitlist import waitlist_positions
from . import (
    batch,
    kinds,  # noqa: F401  (registers every kind)
)
from .context import KINDS, ErasedAddressee, MailContext, MailKind, RecipientGone
from .outbox import ERASURE_KIND
from .transport import CalendarPart, InlineImage, OutgoingMessage, one_line


def render(message: OutboxMessage, now: datetime) -> OutgoingMessage:
    """The email for an outbox row; needs a request context for external links."""
    outcome = render_batch([message], now)[message.id]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def render_batch(
    messages: list[OutboxMessage], now: datetime
) -> dict[int, OutgoingMessage | Exception]:
    """The email of each row, or the error that kept it from rendering, by row id.

    What the rows need is read for all of them at once (batch.py), in the caller's
    transaction, which must stay open until the last one is rendered.
    """
    facts = batch.load(messages)
    rendered: dict[int, OutgoingMessage | Exception] = {}
    for message in messages:
        try:
            rendered[message.id] = _render_one(message, now, facts)
        except Exception as error:  # noqa: BLE001  (the worker records it on that row)
            rendered[message.id] = error
            if isinstance(error, SQLAlchemyError):
                db.session.rollback()  # the others load what they need again
    return rendered


def _render_one(message: OutboxMessage, now: datetime, facts: batch.BatchFacts):
    addressee = _addressee(message, facts)
    event = facts.event_of(message)
    if event is None:
        raise RecipientGone("the event no longer exists")
    kind = KINDS.get(message.kind) or _unregistered_kind(message.kind)
    with in_language_and_zone(event, message.locale):
        if isinstance(addressee, ErasedAddressee):
            context = _erasure_context(message, addressee, event, now, facts)
        else:
            context = _context(message, addressee, event, now, facts, with_qr=kind.qr_code)
        itip, attachments, later = _arrange(kind, context)
        variables = context.template_vars() | {
            # What the calendar data of this email is, for the sentence that explains it.
            "calendar_mail": {
                "method": itip.method if itip else None,
                "schedule": bool(attachments),
                "followers": len(later),
            }
        }
        subject = kind.subject(context)
        text = tidy_text(render_template(f"mail/{message.kind}.txt", **variables))
        text += questions_footer(event)
        html = render_template(f"mail/{message.kind}.html", **variables)
        followers = [_follower(context, subject, part, n) for n, part in enumerate(later, 2)]
    images = [qr_image(addressee, context.qr_cid)] if context.qr_cid else []
    return OutgoingMessage(
        subject=subject,
        body=text,
        html=html,
        itip=itip,
        calendar_parts=attachments,
        inline_images=images,
        message_id=message.message_id,
        followers=followers,
        **_addressing(context),
    )


def _addressee(message: OutboxMessage, facts: batch.BatchFacts) -> Attendee | ErasedAddressee:
    """The attendee; for an erasure's cancellations, the name and address the row holds."""
    if message.kind == ERASURE_KIND and message.attendee_id is None:
        name = str((message.payload or {}).get("name") or "")
        return ErasedAddressee(name=name, email=message.recipient)
    attendee = facts.attendees.get(message.attendee_id) if message.attendee_id else None
    if attendee is None:
        raise RecipientGone("the attendee no longer exists")
    return attendee


def _addressing(context: MailContext) -> dict:
    """Who it is from and to, and the headers every email of a row shares."""
    # A test of an organiser's message greets an attendee but goes to the organiser.
    name = context.payload.get("to_name") or context.attendee.name
    return dict(
        recipients=[(one_line(name), context.message.recipient)],
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        reply_to=one_line(context.event.organiser_email) or None,
        # Out-of-office replies and Outlook's auto-responses have nowhere useful to go.
        extra_headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )


def _arrange(kind: MailKind, context: MailContext):
    """(the iTIP object in this email, PUBLISH attachments, iTIP objects for followers).

    One iTIP object per email (docs/CALENDAR.md, "In the email"). Several invitations of a
    confirmation become one schedule file to add; several objects of a change, which must
    apply by themselves, go one per email: the first here, the rest in followers.
    """
    planned = kind.calendar(context) if kind.calendar else []
    if len(planned) > 1 and kind.schedule_several:
        wanted = {part.session_id for part in planned}
        held = [r for r in context.registrations if r.session_id in wanted]
        data = calendar.schedule_file(held, now=context.now)
        return None, [CalendarPart("my-sessions.ics", "PUBLISH", data)], []
    parts = [part.part() for part in planned]
    return (parts[0] if parts else None), [], parts[1:]


def _follower(context: MailContext, subject: str, part: CalendarPart, number: int):
    """A calendar-only email carrying one more iTIP object, threaded under the first."""
    session = next(s for s in context.sessions if s.id == part.session_id)
    variables = context.template_vars() | {
        "session": session,
        "method": part.method,
        "subject": subject,
    }
    first_id = context.message.message_id
    return OutgoingMessage(
        subject=subject,
        body=tidy_text(render_template("mail/calendar_update.txt", **variables))
        + questions_footer(context.event),
        html=render_template("mail/calendar_update.html", **variables),
        itip=part,
        message_id=_numbered_id(first_id, number) if first_id else None,
        in_reply_to=first_id,
        **_addressing(context),
    )


def _numbered_id(message_id: str, number: int) -> str:
    """<local@domain> -> <local.N@domain>: stable per row, so a resend has the same ids."""
    local, _, domain = message_id.strip("<>").rpartition("@")
    return f"<{local}.{number}@{domain}>"


def questions_footer(event: EventModel) -> str:
    """The last line of every plain-text email: where questions go (the event's contact
    address, also its Reply-To and its invitations' ORGANIZER)."""
    if not event.organiser_email:
        return ""
    return f"\n--\n{flask_babel.gettext('Questions?')} {one_line(event.organiser_email)}\n"


def _unregistered_kind(kind: str) -> MailKind:
    def subject(context: MailContext) -> str:
        return str(context.payload.get("subject") or in_reader_language(context.event, "name"))

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


def _context(message, attendee, event, now, facts, *, with_qr: bool) -> MailContext:
    registrations = facts.registrations.get(attendee.id, [])
    by_start = sorted(registrations, key=lambda r: (r.session.starts_at, r.session_id))
    active = [r for r in by_start if r.is_active]
    wanted = batch.session_ids(message)
    sessions = [r.session for r in by_start if r.session_id in wanted]
    missing = wanted - {s.id for s in sessions}
    if missing:  # a session the attendee never held (an organiser's message about it)
        sessions += [facts.sessions[i] for i in missing if i in facts.sessions]
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
        positions=waitlist_positions(active),
        manage_url=url_for("manage.page", token=manage_token(attendee), _external=True),
        feed_url=feed_url,
        webcal_url=calendar.webcal_url(feed_url),
        programme_url=_programme_url(event),
        qr_cid=f"checkin-{attendee.id}@{uid_domain}" if with_qr else None,
        by_session={r.session_id: r for r in registrations},
        first_of_kind=facts.first_of_kind.get((attendee.id, message.kind)),
    )


def _erasure_context(message, addressee, event, now, facts) -> MailContext:
    """An erased attendee has no links, seats or code any more: only the sessions to take
    out of their calendar."""
    wanted = batch.session_ids(message)
    sessions = sorted(
        (facts.sessions[i] for i in wanted if i in facts.sessions),
        key=lambda s: (s.starts_at, s.id),
    )
    return MailContext(
        message=message,
        attendee=addressee,
        event=event,
        now=now,
        sessions=sessions,
        registrations=[],
        programme_url=_programme_url(event),
    )


def _programme_url(event: EventModel) -> str:
    return url_for("public.event_programme", slug=event.slug, _external=True)


def qr_image(attendee: Attendee | ErasedAddressee, content_id: str) -> InlineImage:
    """The check-in code as a regular QR code (never Micro QR: phones can't read it)."""
    data = checkin_qr_png(attendee.checkin_code)
    return InlineImage(content_id=content_id, filename="checkin.png", data=data)


def tidy_text(text: str) -> str:
    """Plain-text templates: no trailing blanks, at most one empty line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# --- what each kind carries -------------------------------------------------------------------

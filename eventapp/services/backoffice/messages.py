"""Organisers' messages to attendees: the whole event, one session, its waiting list, or
the attendees selected on the attendee list.

Each recipient gets an outbox row of kind "organiser_message" with the subject and body in
its payload, written in one transaction, so a message goes to everyone or to no one; the
worker renders it in templates/mail/organiser_message.{txt,html}. The organiser sees the
count first, and the send is refused if the audience changed since (someone registered or
cancelled between preview and send), so "send to 212 people" means 212.

A message may have a version per language (a `Draft`): each attendee gets the one in their
language, or the event's language when there is none in theirs. Every email opens with the
greeting of templates/mail/_layout.html ("Beste Ada,"), which the editor shows, and a text
that opens with its own greeting is flagged (`own_greeting`) so nobody is greeted twice. A
test goes to the organiser only (kind "message_test"), and no attendee's history shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale, ngettext, refresh
from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    Attendee,
    AuditEntry,
    Event,
    EventSession,
    Organiser,
    OutboxMessage,
    Registration,
)
from .. import audit
from ..errors import DomainError, InvalidInput
from ..mail.outbox import enqueue, message_values
from ..validation import FieldErrors, clean_text, database_id, too_long

KIND = "organiser_message"
TEST_KIND = "message_test"
SUBJECT_MAX = 200
BODY_MAX = 10_000
# Ids carried by a selection from the attendee list, at most (bulk.SELECTION_MAX too).
SELECTED_MAX = 5000
# A first line like these is a greeting of its own: "Dear all,", "Beste allemaal,", "Hi!".
_GREETING_WORDS = (
    r"dear|hello|hi|hey|greetings|good (?:morning|afternoon|evening)"
    r"|beste|hallo|hoi|geachte|lieve|goedemorgen|goedemiddag|goedenavond|goedendag|dag"
)
_GREETING = re.compile(rf"(?:{_GREETING_WORDS})\b", re.IGNORECASE)


class AudienceChanged(DomainError):
    def __init__(self, message: str, count: int):
        super().__init__(message, "audience_changed", 409, {"count": count})


@dataclass(frozen=True)
class Audience:
    """Who receives a message: "all" (every active attendee), "session" (those confirmed
    for a session), "waitlist" (those on a session's waiting list) or "selected" (the
    active ones among attendees ticked on the attendee list)."""

    kind: str = "all"
    session: EventSession | None = None
    attendee_ids: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        if self.kind == "selected":
            return f"selected:{len(self.attendee_ids)}"
        return self.kind if self.session is None else f"{self.kind}:{self.session.id}"

    @classmethod
    def parse(cls, event: Event, value: object, selected: object = "") -> Audience:
        """`selected`: the ticked attendees' ids, comma-separated (with value "selected")."""
        if value in (None, "", "all"):
            return cls()
        if value == "selected":
            ids = selected_ids(selected)
            if ids:
                return cls("selected", attendee_ids=ids)
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
        if self.kind == "selected":
            return ngettext(
                "%(num)d attendee selected on the list",
                "%(num)d attendees selected on the list",
                len(self.attendee_ids),
            )
        return _("All attendees")


def selected_ids(raw: object) -> tuple[int, ...]:
    """Attendee ids from "12,15,31" (the hidden field of a selection); nothing if malformed."""
    parts = str(raw or "").split(",")
    ids = [database_id(part.strip()) for part in parts if part.strip()]
    if not ids or None in ids or len(ids) > SELECTED_MAX:
        return ()
    return tuple(dict.fromkeys(ids))


def recipients_query(event: Event, audience: Audience) -> Select:
    stmt = select(Attendee).where(Attendee.event_id == event.id, Attendee.status == "active")
    if audience.kind == "selected":
        return stmt.where(Attendee.id.in_(audience.attendee_ids))
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


def clean_message(subject: object, body: object, prefix: str = "") -> tuple[str, str]:
    """A one-line subject (a newline could forge mail headers) and a non-empty body.
    `prefix` names the fields of another language's version ("other_subject")."""
    errors = FieldErrors()
    subject_field, body_field = f"{prefix}subject", f"{prefix}body"
    subject = clean_text(subject, subject_field, errors, max_length=SUBJECT_MAX, required=True)
    if isinstance(body, str):
        body = body.replace("\r\n", "\n").replace("\r", "\n")
        # Newlines and tabs are the body's own; clean_text refuses other control characters.
        lines = body.split("\n")
        cleaned = [
            clean_text(
                line.replace("\t", "    "), body_field, errors, max_length=BODY_MAX, required=False
            )
            for line in lines
        ]
        body = "\n".join(cleaned).strip("\n")
        if not body.strip():
            errors.add(body_field, _("This field is required."))
        elif len(body) > BODY_MAX:
            errors.add(body_field, too_long(BODY_MAX))
    else:
        errors.add(body_field, _("This field is required."))
        body = ""
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    return subject, body


@dataclass(frozen=True)
class Version:
    locale: str
    subject: str
    body: str


@dataclass(frozen=True)
class Draft:
    """The message in the event's language (`versions[0]`) and perhaps in another."""

    versions: tuple[Version, ...]

    def for_locale(self, locale: str) -> Version:
        """The attendee's language's version, else the event's."""
        return next((v for v in self.versions if v.locale == locale), self.versions[0])

    def payload(self, locale: str) -> dict:
        version = self.for_locale(locale)
        return {"subject": version.subject, "body": version.body}


def other_locale(event: Event) -> str:
    """The language of the second version: the app's language that is not the event's."""
    others = [code for code in current_app.config["LANGUAGES"] if code != event.default_locale]
    return others[0] if others else event.default_locale


def draft(event: Event, subject: object, body: object, other_subject="", other_body="") -> Draft:
    """The versions the organiser wrote: the event's language always, the other language
    when either of its fields is filled in (then both must be)."""
    versions = [Version(event.default_locale, *clean_message(subject, body))]
    if (other_subject or "").strip() or (other_body or "").strip():
        second = clean_message(other_subject, other_body, prefix="other_")
        versions.append(Version(other_locale(event), *second))
    return Draft(tuple(versions))


def greeting(locale: str, name: str | None = None) -> str:
    """The line every email opens with (templates/mail/_layout.html), in that language;
    without a name, with a stand-in ("Beste [naam],")."""
    try:
        with force_locale(locale):
            return _("Hello %(name)s,", name=name or _("[name]"))
    finally:
        # force_locale puts back the locale cached before it, which can outlive the request
        # (the app context's g): let the page's language be chosen afresh.
        refresh()


def own_greeting(body: str) -> str | None:
    """The body's first line when it is a greeting of its own ("Dear all,"), else None."""
    first = next((line.strip() for line in body.split("\n") if line.strip()), "")
    if len(first) > 80 or not _GREETING.match(first):
        return None
    short = len(first.split()) <= 3 and not first.endswith((".", "?"))
    return first if first.endswith((",", "!", ":")) or short else None


def without_own_greeting(body: str) -> str:
    """The body without its own greeting line (and the blank lines after it)."""
    if own_greeting(body) is None:
        return body
    lines = body.split("\n")
    first = next(n for n, line in enumerate(lines) if line.strip())
    return "\n".join(lines[first + 1 :]).strip("\n")


@dataclass
class VersionPreview:
    version: Version
    count: int  # recipients who get this version
    greeting: str  # the greeting as the sample recipient (or a stand-in) sees it
    own_greeting: str | None


@dataclass
class Preview:
    audience: Audience
    versions: list[VersionPreview]
    count: int
    sample: Attendee | None

    @property
    def subject(self) -> str:
        return self.versions[0].version.subject

    @property
    def body(self) -> str:
        return self.versions[0].version.body


def language_counts(event: Event, audience: Audience, message: Draft) -> dict[str, int]:
    """How many recipients get each version (an attendee of a third language, the first)."""
    stmt = recipients_query(event, audience).with_only_columns(
        Attendee.locale, func.count(Attendee.id)
    )
    counts = {v.locale: 0 for v in message.versions}
    for locale, count in db.session.execute(stmt.group_by(Attendee.locale)):
        counts[message.for_locale(locale).locale] += count
    return counts


def _sample(event: Event, audience: Audience, locale: str | None = None) -> Attendee | None:
    stmt = recipients_query(event, audience)
    if locale is not None:
        stmt = stmt.where(Attendee.locale == locale)
    return db.session.scalars(stmt.order_by(Attendee.id).limit(1)).first()


def preview(event: Event, audience: Audience, message: Draft) -> Preview:
    """What would be sent and to how many, per language, with one recipient's greeting."""
    counts = language_counts(event, audience, message)
    sample = _sample(event, audience)
    versions = []
    for version in message.versions:
        # Someone who gets this version; the event's version also goes to other languages.
        shown = _sample(event, audience, version.locale)
        if shown is None and version is message.versions[0]:
            shown = sample
        name = shown.name if shown else None
        versions.append(
            VersionPreview(
                version,
                counts[version.locale],
                greeting(version.locale, name),
                own_greeting(version.body),
            )
        )
    return Preview(audience, versions, sum(counts.values()), sample)


def send_message(
    event: Event,
    audience: Audience,
    message: Draft,
    *,
    actor: Organiser,
    now: datetime,
    expected_count: int | None = None,
) -> int:
    """Queue the message for every recipient in their language; returns how many. Audited."""
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
        enqueue(KIND, attendee, message.payload(attendee.locale))
    first = message.versions[0]
    audit.record(
        actor,
        "event.message",
        event,
        before=None,
        after={
            "audience": audience.key,
            "audience_label": audience.describe(),
            "subject": first.subject,
            "body": first.body,
            "recipients": len(recipients),
            **_other_versions(message),
        },
        event=event,
    )
    db.session.flush()
    return len(recipients)


def _other_versions(message: Draft) -> dict:
    others = {v.locale: {"subject": v.subject, "body": v.body} for v in message.versions[1:]}
    return {"versions": others} if others else {}


def send_test(event: Event, audience: Audience, message: Draft, *, actor: Organiser) -> int:
    """Queue each version once, to the organiser's own address only, greeting a recipient
    as they will be greeted. Nothing counts as sent: not in the history of sent messages,
    not in any attendee's emails. Returns the number of test emails."""
    fallback = (
        _sample(event, audience)
        or db.session.scalars(
            select(Attendee).where(Attendee.event_id == event.id).order_by(Attendee.id).limit(1)
        ).first()
    )
    if fallback is None:
        raise InvalidInput(_("A test needs at least one attendee to greet."))
    for version in message.versions:
        shown = _sample(event, audience, version.locale) or fallback
        values = message_values(
            TEST_KIND,
            event_id=event.id,
            recipient=actor.email,
            locale=version.locale,
            payload={
                "subject": version.subject,
                "body": version.body,
                "to_name": actor.name or actor.email,
            },
        )
        db.session.add(OutboxMessage(**values, attendee_id=shown.id))
    audit.record(
        actor,
        "event.message_test",
        event,
        before=None,
        after={"to": actor.email, "subject": message.versions[0].subject},
        event=event,
    )
    db.session.flush()
    return len(message.versions)


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

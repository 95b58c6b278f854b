"""Calendar data (iCalendar, RFC 5545) for emails, downloads and subscribed feeds.

Emails carry iTIP objects: METHOD:REQUEST or CANCEL, one object per session (RFC 5546 wants
every VEVENT of one object to share one UID), each naming the attendee as ATTENDEE, and at
most one such object per email (docs/CALENDAR.md, "In the email", for the layout each client
applies and how several sessions travel). Only a REQUEST with a known UID and a higher
SEQUENCE *updates* the event already in a calendar when a session moves; the matching CANCEL
removes it. The UID is personal, `reg-<attendee>-session-<session>@<UID_DOMAIN>`, so each
invitation has exactly one attendee and never names anyone else. ATTENDEE carries
PARTSTAT=ACCEPTED and RSVP=FALSE: registering was the answer. Some clients still send
"accepted" replies to ORGANIZER, the event's `organiser_email`: a mailbox that takes them.

Downloads and feeds are METHOD:PUBLISH without ATTENDEE: the programme (`session-<id>@...`
UIDs), the attendee's personal feed and the schedule file of a confirmation (the same
personal UIDs as the emails, so they describe the same events; cancelled ones stay, as
STATUS:CANCELLED).

SEQUENCE is `session.sequence` for the programme and `Registration.calendar_sequence`
(session plus registration) for personal objects, so organiser changes and the attendee's
own drop/return both reach calendars as newer versions. Every TZID comes with a VTIMEZONE
limited to the years the object mentions (a short block that Google accepts).

No calendar object holds a private link (the manage page, the feed's own URL): calendar
entries are shared with delegates and forwarded. The event URL comes from
`url_for(..., _external=True)`, so callers build calendars inside a request context: a real
request for feeds, and for mail the context that eventapp.services.mail builds from
SERVER_NAME_FOR_LINKS.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import current_app, url_for
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...models import (
    Attendee,
    EventSession,
    Registration,
)
from ...models import Event as EventModel
from ...vtimezone import vtimezone
from .versions import PRODID, personal_changed_at, programme_changed_at

FEED_REFRESH = timedelta(hours=1)


def session_uid(session: EventSession) -> str:
    """The programme's UID for a session: the same in every feed and download."""
    return f"session-{session.id}@{current_app.config['UID_DOMAIN']}"


def registration_uid(attendee_id: int, session_id: int) -> str:
    """One attendee's UID for one session: emails and the personal feed share it."""
    return f"reg-{attendee_id}-session-{session_id}@{current_app.config['UID_DOMAIN']}"


def to_ical(calendar: Calendar, event: EventModel) -> bytes:
    """The calendar as bytes, with the VTIMEZONE of the event's TZID put in front of its
    events, covering every year a date-time of the file falls in (every DTSTART/DTEND here
    uses that one TZID or UTC; DTSTAMP and CREATED are UTC)."""
    data = calendar.to_ical()
    zone = vtimezone(event.timezone, *_years(calendar, event))
    anchor = data.find(b"BEGIN:VEVENT\r\n")
    if anchor < 0:
        anchor = data.rfind(b"END:VCALENDAR")
    return data[:anchor] + zone + data[anchor:]


# --- emails: one object per session ------------------------------------------------------


def invitation(registration: Registration, *, now: datetime) -> bytes:
    """METHOD:REQUEST for one of the attendee's confirmed sessions (new or updated)."""
    return _personal_object(registration, "REQUEST", now=now)


def cancellation(registration: Registration, *, now: datetime) -> bytes:
    """METHOD:CANCEL for a session the attendee no longer holds (dropped or cancelled)."""
    return _personal_object(registration, "CANCEL", now=now)


def erasure_cancellation(
    session: EventSession, *, uid, sequence, name, email, locale, now
) -> bytes:
    """METHOD:CANCEL for a session of an attendee whose data is being erased: the UID,
    SEQUENCE, address and language come from the outbox row, the attendee row is gone."""
    address = _attendee_address(email, name)
    return _itip_object(session, "CANCEL", uid, sequence, address, now, locale)


def schedule_file(registrations: list[Registration], *, now: datetime) -> bytes:
    """METHOD:PUBLISH of several of one attendee's sessions, to add in one go (the file a
    confirmation of several sessions carries instead of one invitation per session;
    docs/CALENDAR.md, "How a confirmation of five sessions reaches the calendar"). Same
    personal UIDs and SEQUENCE as the invitations, updates and cancellations that follow."""
    event = registrations[0].session.event
    calendar = _calendar(event, "PUBLISH")
    _add_registrations(calendar, registrations, stamp=now, locale=registrations[0].attendee.locale)
    return to_ical(calendar, event)


def _personal_object(registration: Registration, method: str, *, now: datetime) -> bytes:
    """One iTIP object: the session as the attendee's event, naming them as ATTENDEE. No
    private link in it (docs/CALENDAR.md, "In the email"): entries get forwarded."""
    session, attendee = registration.session, registration.attendee
    uid = registration_uid(attendee.id, session.id)
    address = _attendee_address(attendee.email, attendee.name)
    sequence = registration.calendar_sequence
    return _itip_object(session, method, uid, sequence, address, now, attendee.locale)


def _itip_object(session, method: str, uid: str, sequence: int, address, now, locale) -> bytes:
    calendar = _calendar(session.event, method)
    cancelled = method == "CANCEL"
    vevent = _vevent(
        session, uid=uid, sequence=sequence, stamp=now, cancelled=cancelled, locale=locale
    )
    vevent.add("attendee", address)
    calendar.add_component(vevent)
    return to_ical(calendar, session.event)


def _attendee_address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    for key, value in (("CN", _param(name)), ("CUTYPE", "INDIVIDUAL"), ("ROLE", "REQ-PARTICIPANT")):
        address.params[key] = vText(value)
    address.params.update(PARTSTAT=vText("ACCEPTED"), RSVP=vText("FALSE"))
    return address


# --- downloads and feeds: PUBLISH -----------------------------------------------------------


def programme_feed(
    event: EventModel,
    sessions: Iterable[EventSession],
    *,
    stamp: datetime | None = None,
    locale: str | None = None,
) -> bytes:
    """The whole programme, cancelled sessions included (STATUS:CANCELLED). `stamp` is
    DTSTAMP: by default when the programme last changed; texts in `locale` or the event's."""
    stamp = stamp or programme_changed_at(event)
    locale = locale or event.default_locale
    calendar = _calendar(event, "PUBLISH", feed_name=event.name_in(locale))
    for session in sessions:
        calendar.add_component(_programme_vevent(session, stamp, locale))
    return to_ical(calendar, event)


def session_file(
    session: EventSession, *, stamp: datetime | None = None, locale: str | None = None
) -> bytes:
    """One session of the programme, for an "add to calendar" download."""
    stamp = stamp or programme_changed_at(session.event)
    calendar = _calendar(session.event, "PUBLISH")
    calendar.add_component(_programme_vevent(session, stamp, locale))
    return to_ical(calendar, session.event)


def personal_feed(attendee: Attendee, name: str, *, stamp: datetime | None = None) -> bytes:
    """The attendee's confirmed sessions; dropped or cancelled ones stay as STATUS:CANCELLED.

    Keeping cancelled events in the feed (rather than leaving them out) is what makes a
    subscribed calendar remove them: some clients keep events that merely disappear.
    Waiting-list places are not in the feed: there is no seat to put in a calendar yet.
    """
    event = attendee.event
    stamp = stamp or personal_changed_at(attendee)
    calendar = _calendar(event, "PUBLISH", feed_name=name)
    shown = personal_feed_registrations(attendee)
    _add_registrations(
        calendar,
        shown,
        stamp=stamp,
        cancelled=lambda r: r.status == "cancelled" or attendee.status != "active",
        locale=attendee.locale,
    )
    return to_ical(calendar, event)


def _add_registrations(calendar: Calendar, registrations, *, stamp, locale, cancelled=None):
    """One VEVENT per registration, in programme order, with the attendee's own UID and
    SEQUENCE: the same event their invitations put in their calendar, in their language."""
    for registration in sorted(registrations, key=lambda r: (r.session.starts_at, r.session_id)):
        calendar.add_component(
            _vevent(
                registration.session,
                uid=registration_uid(registration.attendee_id, registration.session_id),
                sequence=registration.calendar_sequence,
                stamp=stamp,
                cancelled=bool(cancelled and cancelled(registration)),
                locale=locale,
            )
        )


def personal_feed_registrations(attendee: Attendee) -> list[Registration]:
    """The registrations the personal feed shows, with their sessions, rooms and speakers.

    Two queries whatever their number: touched one by one (`attendee.registrations`, then
    each session, its room and its speakers), a feed of 9 sessions cost 30 statements on
    its first request, before its body is cached under its ETag.
    """
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.attendee_id == attendee.id,
                Registration.status.in_(("confirmed", "cancelled")),
            )
            .options(
                joinedload(Registration.session, innerjoin=True).joinedload(EventSession.room),
                joinedload(Registration.session, innerjoin=True).selectinload(
                    EventSession.speakers
                ),
            )
            .order_by(Registration.id)
        )
    )


def _programme_vevent(session: EventSession, stamp: datetime, locale: str | None) -> Event:
    return _vevent(
        session,
        uid=session_uid(session),
        sequence=session.sequence,
        stamp=stamp,
        cancelled=session.status == "cancelled",
        locale=locale or session.event.default_locale,
    )


# --- the pieces -----------------------------------------------------------------------------


def _calendar(event: EventModel, method: str, *, feed_name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if feed_name is not None:
        # TEXT values, escaped as such (icalendar leaves these two raw): a comma, semicolon
        # or backslash in an event's name must not read as structure.
        name = vText(_one_line(feed_name))
        calendar.add("name", name)  # RFC 7986
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", event.timezone)
        # RFC 7986 wants VALUE=DURATION spelled out; icalendar's helper leaves it off.
        calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
    return calendar


def _vevent(
    session: EventSession,
    *,
    uid: str,
    sequence: int,
    stamp: datetime,
    cancelled: bool,
    locale: str,
) -> Event:
    """The texts in `locale` (the attendee's, or the feed's), the other language's if empty."""
    event = session.event
    tz = event.tz
    vevent = Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", _local(session.starts_at, tz))
    vevent.add("dtend", _local(session.ends_at, tz))
    vevent.add("sequence", sequence)
    vevent.add("summary", _text(session.title_in(locale)))
    location = location_of(session, locale)
    if location:
        vevent.add("location", _text(location))
    vevent.add("description", _text(description_of(session, locale)))
    vevent.add(
        "url",
        url_for("public.event_programme", slug=event.slug, _external=True)
        + f"#session-{session.id}",
    )
    organizer = vCalAddress(f"mailto:{event.organiser_email}")
    organizer.params["CN"] = vText(_param(event.name_in(locale)))
    vevent.add("organizer", organizer)
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    if session.created_at:
        vevent.add("created", session.created_at.astimezone(UTC))
    return vevent


def location_of(session: EventSession, locale: str) -> str:
    parts = [session.room.name_in(locale) if session.room else "", session.event.venue]
    return ", ".join(p for p in parts if p)


def description_of(session: EventSession, locale: str) -> str:
    parts = [session.description_in(locale)]
    if session.speakers:
        parts.append(", ".join(_speaker_label(s) for s in session.speakers))
    return "\n\n".join(part for part in parts if part)


def _speaker_label(speaker) -> str:
    return f"{speaker.name} ({speaker.organisation})" if speaker.organisation else speaker.name


def _text(value: str) -> str:
    """One newline convention: iCalendar escapes LF as \\n; a stray CR must not survive."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _one_line(value: str) -> str:
    """For parameters and names, where no line break may appear at all."""
    return " ".join(_text(value).split())


def _param(value: str) -> str:
    """A parameter value: one line, and no DQUOTE, which parameters cannot hold (RFC 5545;
    icalendar's RFC 6868 ^' escape is not understood by every client)."""
    return _one_line(value).replace('"', "'")


def _years(calendar: Calendar, event: EventModel) -> tuple[int, int]:
    """The first and last year of the file's date-times (the event's when it has none)."""
    years = [
        component.decoded(name).year
        for component in calendar.walk("VEVENT")
        for name in ("DTSTART", "DTEND")
        if name in component
    ] or [event.starts_at.astimezone(event.tz).year, event.ends_at.astimezone(event.tz).year]
    return min(years), max(years)


def _local(moment: datetime, tz) -> datetime:
    """A date-time as written in the file: local to the event, except in the hour the clocks
    repeat, which a local time cannot name (RFC 5545 reads it as the first occurrence): that
    is written in UTC, the same instant in every parser (docs/CALENDAR.md)."""
    local = moment.astimezone(tz)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return moment.astimezone(UTC)
    return local


# --- links for "add to calendar" buttons ----------------------------------------------------


def webcal_url(url: str) -> str:
    """The subscribe link calendar apps open: the same URL with the webcal:// scheme."""
    parts = urlsplit(url)
    return urlunsplit(("webcal",) + tuple(parts[1:]))


def google_calendar_url(session: EventSession, locale: str | None = None) -> str:
    """Google Calendar's "add event" template link (Google imports no ICS from a click)."""
    locale = locale or session.event.default_locale
    start, end = (
        t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") for t in (session.starts_at, session.ends_at)
    )
    query = {
        "action": "TEMPLATE",
        "text": session.title_in(locale),
        "dates": f"{start}/{end}",
        "details": description_of(session, locale),
        "location": location_of(session, locale),
        "ctz": session.event.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)

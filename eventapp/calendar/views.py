"""Calendar downloads and feeds (ICS): the programme, one session, an attendee's own feed;
and the programme's per-session Google Calendar links, as short redirects.

Responses are `text/calendar; charset=utf-8` with a strong ETag: a hash of everything the
feed shows (services/calendar/versions.py), computed without building the calendar, and a
Last-Modified: when what it shows last changed (also its DTSTAMP). Both validators give a
304, the ETag compared weakly (docs/CALENDAR.md, "Feeds"). A
calendar app polling a feed gets 304 Not Modified at the cost of a few narrow queries until
something it shows has changed, and a built body is kept in memory under its version, so
many subscribers of one programme cost one build per change.
"""

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from flask import Response, abort, current_app, redirect, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..errors import error_response
from ..extensions import db
from ..models import Attendee, EventSession
from ..models.types import utcnow
from ..services import calendar, links
from ..services.calendar import versions
from ..services.links import feed_token
from ..services.programme import reading as programme
from ..web.loading import event_or_404
from .blueprint import bp


@bp.get("/events/<slug>/calendar.ics")
def event_feed(slug: str):
    """The whole programme, METHOD:PUBLISH: subscribe to it, or download it once."""
    event = event_or_404(slug)
    changed_at = versions.programme_changed_at(event)
    locale = _asked_language(event)
    return _ics_response(
        versions.programme_version(event, changed_at=changed_at) + locale,
        changed_at,
        lambda: calendar.programme_feed(
            event, programme.sessions_of(event), stamp=changed_at, locale=locale
        ),
        f"{event.slug}.ics",
        public=True,
    )


@bp.get("/events/<slug>/sessions/<int:id>.ics")
def session_ics(slug: str, id: int):  # noqa: A002  (the URL's name for it)
    """One session, for an "add to calendar" download from the programme."""
    event = event_or_404(slug)
    session = _session_or_404(event, id)
    changed_at = versions.programme_changed_at(event)
    locale = _asked_language(event)
    return _ics_response(
        versions.programme_version(event, session_id=session.id, changed_at=changed_at) + locale,
        changed_at,
        lambda: calendar.session_file(session, stamp=changed_at, locale=locale),
        f"{event.slug}-session-{session.id}.ics",
        public=True,
        download=True,
    )


@bp.get("/events/<slug>/sessions/<int:id>/google")
def session_google(slug: str, id: int):  # noqa: A002  (the URL's name for it)
    """The programme's "Google Calendar" link for one session: a 302 to Google's "add event"
    URL (services/calendar/ google_calendar_url), built on click.

    The programme page used to carry that long URL, description and all, for every session:
    a third of its render time and much of its size. Cached for 5 minutes (public: it
    depends on nothing but the session): a repeated click costs nothing, and a session that
    is moved or cancelled sends stale data for at most that long. A cancelled session has
    no link on the programme; an old tab gets a 404 that says so.
    """
    event = event_or_404(slug)
    session = _session_or_404(event, id)
    if session.status != "scheduled":
        return error_response(404, "session_cancelled", _("This session has been cancelled."))
    locale = _asked_language(event)
    response = redirect(calendar.google_calendar_url(session, locale), code=302)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _asked_language(event) -> str:
    """The programme's files are in the event's own language, or in the one `?lang=` names
    (the pages link with the reader's): a link or subscription always gives the same file."""
    asked = request.args.get("lang")
    return asked if asked in current_app.config["LANGUAGES"] else event.default_locale


def _session_or_404(event, id: int) -> EventSession:  # noqa: A002
    session = db.session.get(EventSession, id)
    if session is None or session.event_id != event.id:
        abort(404)
    return session


@bp.get("/calendar/<token>.ics")
def personal_feed(token: str):
    """An attendee's confirmed sessions (cancelled ones as STATUS:CANCELLED), by private link.

    Once their data is erased the feed shows every session cancelled until the event is
    over (a subscribed calendar takes them out on its next poll; an error would leave them
    there), and answers 410 Gone after it (docs/CALENDAR.md, "Erasure").
    """
    attendee = _attendee_by_feed_token(token)
    if attendee.anonymised_at is not None and utcnow() >= attendee.event.ends_at:
        return error_response(
            410, "gone", _("This calendar no longer exists: its registration was deleted.")
        )
    with force_locale(attendee.locale):  # the feed speaks the attendee's language throughout
        name = _("%(event)s: my sessions", event=attendee.event.name_in(attendee.locale))
    changed_at = versions.personal_changed_at(attendee)
    response = _ics_response(
        versions.personal_version(attendee, name, changed_at=changed_at),
        changed_at,
        lambda: calendar.personal_feed(attendee, name, stamp=changed_at),
        f"{attendee.event.slug}-my-sessions.ics",
        public=False,
    )
    # The URL is the secret: keep it out of Referer headers and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _attendee_by_feed_token(token: str) -> Attendee:
    if not links.looks_like_token(token):
        abort(404)
    attendee = db.session.scalar(
        select(Attendee)
        .where(Attendee.feed_token_hash == links.hash_token(token))
        .options(joinedload(Attendee.event, innerjoin=True))  # the feed's name, version, events
    )
    if attendee is None or not links.tokens_match(token, feed_token(attendee)):
        abort(404)
    return attendee


def _ics_response(
    version: str,
    changed_at: datetime,
    build: Callable[[], bytes],
    filename: str,
    *,
    public: bool,
    download: bool = False,
):
    if _not_modified(version, changed_at):
        response = Response(status=304)
    else:
        response = Response(
            _bodies.get(version, build), content_type="text/calendar; charset=utf-8"
        )
        disposition = "attachment" if download else "inline"
        safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
        response.headers["Content-Disposition"] = f'{disposition}; filename="{safe_name}"'
    response.set_etag(version)
    response.last_modified = changed_at
    # Revalidate every time (cheap: 304 without a body), so changes show on the next poll.
    response.headers["Cache-Control"] = ("public" if public else "private") + ", no-cache"
    return response


def _not_modified(version: str, changed_at: datetime) -> bool:
    """RFC 9110 13.1: If-None-Match compares weakly (nginx turns ETags weak when it
    compresses: `W/"..."` must match too) and, when present, decides alone; otherwise
    If-Modified-Since, at HTTP's one-second resolution."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(version)
    since = request.if_modified_since
    return since is not None and changed_at.replace(microsecond=0) <= since


class _BodyCache:
    """The last built feeds, by version (a version names its content exactly)."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, version: str, build: Callable[[], bytes]) -> bytes:
        with self.lock:
            if version in self.items:
                self.items.move_to_end(version)
                return self.items[version]
        body = build()
        with self.lock:
            self.items[version] = body
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return body


_bodies = _BodyCache(size=128)


@bp.app_template_global()
def personal_feed_url(attendee: Attendee) -> str:
    """The attendee's feed link, for pages that show "add to calendar" buttons."""
    return url_for("calendar.personal_feed", token=feed_token(attendee), _external=True)


@bp.app_template_global()
def reader_language_args(event) -> dict:
    """`lang=` for links to the programme's files when the reader's language is not the
    event's own (calendar/_event_links.html, _session_links.html)."""
    locale = str(get_locale())
    return {} if locale == event.default_locale else {"lang": locale}


@bp.app_template_global()
def webcal(url: str) -> str:
    return calendar.webcal_url(url)


@bp.app_template_global()
def google_calendar_link(session: EventSession) -> str:
    return calendar.google_calendar_url(session, str(get_locale()))


@bp.app_template_global()
def google_subscribe_link(feed_url: str) -> str:
    """Google Calendar's "add by URL" for a feed (it accepts the webcal:// form)."""
    return "https://calendar.google.com/calendar/render?" + urlencode(
        {"cid": calendar.webcal_url(feed_url)}
    )

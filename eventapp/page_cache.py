"""Public pages served again from a rendered copy: the programme, the registration form and
the session pages (docs/PERFORMANCE.md, "Shared pages").

Everyone who registers loads the programme and the form first, often several times, and in
the opening minute those renders, not the registration, limit how many get through. So a page
is rendered once and served to every visitor who would see the same thing:

- **What a copy is keyed by.** The visitor's language (their choice, else their browser's,
  else "the event's"), the host and the path with its query; and a copy is served only
  under the programme version it was rendered under (a token in the cache that every change
  to the programme replaces, see below; read in the same round trip). A copy is served
  SEAT_FIGURES_MAX_AGE seconds (2 by default), then once more to others while one request
  renders its successor (`_usable`): the seat counts and waiting lists it shows, and whether
  registration is open, are at most that old plus one render. Registration itself still
  decides on the database's counter.
- **Nothing personal in a copy.** Only visitors without anything personal get a shared copy:
  no flash message waiting, not signed in, no session chosen on this browser (the marks of
  "your choice"), no query parameter the page does not know. Everyone else gets the page
  rendered for them, as before. The form's per-visitor values, its CSRF token and the signed
  time it was served (public/bot_checks.py), are cut out of the copy when it is stored and
  filled in fresh for each request (`per_request_part`); the ALTCHA challenge is fetched by
  the widget, never part of the page.
- **ETag and Last-Modified.** A weak ETag from the copy's content (with the form: and from
  the visitor's CSRF secret, so a 304 never keeps a token that is not theirs), Last-Modified
  when that content was first rendered; `no-cache`, so browsers ask again each time and
  get a 304 when nothing changed.
- **Every server at once.** The cache is Flask-Caching's: Redis when CACHE_REDIS_URL or
  REDIS_URL is set (shared by every process and machine, so a programme change shows on all
  of them at once), else each process's memory (one process: `make run`). When Redis is
  down the pages are rendered per request, as before.

The programme version is replaced after the commit of any transaction that wrote the
programme: events, rooms, speakers, sessions (a change to a session's seat counter alone is
covered by the short lifetime instead, or the rush of registrations would empty the cache).
It is watched on the database session (ORM changes and UPDATE/DELETE statements alike), so
no service has to remember to do it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

from flask import Flask, current_app, g, has_app_context, make_response, request, session
from flask_wtf.csrf import generate_csrf
from redis.exceptions import RedisError
from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty

from . import gzip_pieces
from .extensions import cache, db
from .i18n import visitor_locale

log = logging.getLogger(__name__)

DEFAULTS = {
    "SEAT_FIGURES_MAX_AGE": 2,  # seconds a shared copy lives: the age of its seat figures
    "CACHE_TYPE": None,  # None: RedisCache with CACHE_REDIS_URL or REDIS_URL, else SimpleCache
    "CACHE_REDIS_URL": None,
    "CACHE_KEY_PREFIX": "eventapp:",
}
VERSION_KEY = "programme-version"
# A copy is kept this many lifetimes, to be served while its successor renders.
KEPT_AGES = 10
FIRST_SEEN_SECONDS = 24 * 3600

# What the public pages show of the programme; a change to any of them replaces the version.
PROGRAMME_TABLES = frozenset(
    {"event", "room", "speaker", "event_session", "session_speakers", "question"}
)
# Session columns every registration moves: left to the copies' short lifetime.
LIVE_COLUMNS = frozenset({"seats_taken", "updated_at"})
# Whatever makes a page personal: a message to show once, a signed-in organiser (the session
# or the remember-me cookie), the sessions chosen on this browser.
PERSONAL_SESSION_KEYS = ("_flashes", "_user_id", "just_registered", "registered_here")
CACHE_ERRORS = (RedisError, OSError)


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    if not app.config["CACHE_TYPE"]:
        url = app.config["CACHE_REDIS_URL"] or app.config.get("REDIS_URL")
        app.config["CACHE_TYPE"] = "RedisCache" if url else "SimpleCache"
        app.config["CACHE_REDIS_URL"] = url
    cache.init_app(app)
    if not sa_event.contains(db.session, "after_flush", _note_programme_flush):
        sa_event.listen(db.session, "after_flush", _note_programme_flush)
        sa_event.listen(db.session, "do_orm_execute", _note_programme_statement)
        sa_event.listen(db.session, "after_commit", _bump_after_commit)
        sa_event.listen(db.session, "after_rollback", _forget_after_rollback)


# ---------------------------------------------------------------- the programme version


def programme_version(known: str | None = None) -> str:
    """The current token (`known`: as just read); a fresh one when the cache has none
    (first start, Redis flushed)."""
    version = cache.get(VERSION_KEY) if known is None else known
    if version is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), timeout=0)
        version = cache.get(VERSION_KEY)
    return version or "none"  # NullCache keeps nothing: every page is a miss


def bump_programme_version() -> None:
    """Every shared copy made before now is out of use, on every server sharing the cache."""
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), timeout=0)
    except CACHE_ERRORS:
        log.warning("the page cache is unreachable: shared pages may be stale for a moment")


def _table_of(instance) -> str | None:
    table = getattr(type(instance), "__table__", None)
    return getattr(table, "name", None)


def _changes_programme(instance) -> bool:
    """A changed instance of a programme table, other than a session's seat counter."""
    if _table_of(instance) not in PROGRAMME_TABLES:
        return False
    state = inspect(instance)
    for attribute in state.mapper.attrs:
        if isinstance(attribute, ColumnProperty):
            shown = attribute.key not in LIVE_COLUMNS
        elif isinstance(attribute, RelationshipProperty):
            # e.g. a session's speakers, not its registrations
            tables = (attribute.target, attribute.secondary)
            shown = any(getattr(table, "name", None) in PROGRAMME_TABLES for table in tables)
        else:
            shown = False
        if shown and state.attrs[attribute.key].history.has_changes():
            return True
    return False


def _note_programme_flush(session, _flush_context) -> None:
    if session.info.get("programme_changed"):
        return
    written = chain(session.new, session.deleted)
    if any(_table_of(instance) in PROGRAMME_TABLES for instance in written) or any(
        _changes_programme(instance) for instance in session.dirty
    ):
        session.info["programme_changed"] = True


def _set_columns(statement) -> set[str] | None:
    values = getattr(statement, "_values", None)
    if not values:
        return None
    return {getattr(column, "key", str(column)) for column in values}


def _note_programme_statement(state) -> None:
    """INSERT, UPDATE and DELETE statements sent through the session (schedule changes use
    them), not only ORM objects."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in PROGRAMME_TABLES:
        return
    if state.is_update and table.name == "event_session":
        columns = _set_columns(state.statement)
        if columns is not None and columns <= LIVE_COLUMNS:
            return  # a seat taken or given back
    state.session.info["programme_changed"] = True


def _bump_after_commit(session) -> None:
    if session.info.pop("programme_changed", False) and has_app_context():
        bump_programme_version()


def _forget_after_rollback(session) -> None:
    session.info.pop("programme_changed", None)


# ---------------------------------------------------------------- per-request parts

# name -> the function that makes a fresh value for this request.
_PARTS: dict[str, Callable[[], str]] = {}
CSRF_PART = "csrf"


def per_request_part(name: str):
    """Mark a function whose value a page shows but must be fresh per request (the form's
    signed serving time). A shared copy holds a marker where its value stood; each request
    calls the function again. Registered at import, so any process can fill any copy."""

    def register(make: Callable[[], str]):
        @functools.wraps(make)
        def made_here() -> str:
            value = make()
            g.setdefault("page_parts", {})[name] = value
            return value

        _PARTS[name] = make
        return made_here

    return register


_PARTS[CSRF_PART] = generate_csrf


def _parts_used() -> dict[str, str]:
    """The per-request values this render wrote into the page, by name."""
    used = dict(g.get("page_parts", {}))
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if token:
        used[CSRF_PART] = token
    return {name: value for name, value in used.items() if value}


# ---------------------------------------------------------------- shared copies


@dataclass(frozen=True)
class SharedCopy:
    """A page with its per-request values cut out: `pieces` alternates literal text and the
    names of the parts to fill in (odd positions)."""

    pieces: tuple[str, ...]
    digest: str
    first_seen: float  # when this content was first rendered (Last-Modified)
    made_at: float  # when this copy was rendered: the age of its seat figures
    version: str  # the programme version it was rendered under

    def stored(self) -> tuple:
        """As kept in the cache: a plain tuple, so a copy made by an older release still
        reads (SharedCopy(*stored))."""
        return (self.pieces, self.digest, self.first_seen, self.made_at, self.version)

    @property
    def parts(self) -> tuple[str, ...]:
        return self.pieces[1::2]

    @property
    def stamp(self) -> str:
        """Which render this is: kept in the cache beside the copy, so a process that
        holds this render already need not fetch the whole page again (`_read`)."""
        return f"{self.digest}:{self.made_at!r}"

    @functools.cached_property
    def encoded(self) -> tuple[bytes, ...]:
        """The pieces as UTF-8, encoded once per copy instead of once per request."""
        return tuple(piece.encode() for piece in self.pieces)

    @functools.cached_property
    def deflated(self) -> tuple[bytes, ...]:
        """The literal pieces compressed once per copy (to about a tenth), for browsers that
        accept gzip; the per-request parts go between them uncompressed (gzip_pieces.py)."""
        return tuple(gzip_pieces.deflated(piece) for piece in self.encoded[::2])

    @functools.cached_property
    def gzipped(self) -> bytes:
        """A page without per-request parts, compressed whole once."""
        return gzip_pieces.joined([(self.encoded[0], self.deflated[0])])

    def fill(self, *, compressed: bool = False) -> bytes:
        """The page with this request's parts filled in, as UTF-8 or as gzip."""
        values = {name: _PARTS[name]().encode() for name in set(self.parts)}
        plain = [
            piece if index % 2 == 0 else values[self.pieces[index]]
            for index, piece in enumerate(self.encoded)
        ]
        if not compressed:
            return b"".join(plain)
        if not values:
            return self.gzipped
        return gzip_pieces.joined(
            (piece, self.deflated[index // 2] if index % 2 == 0 else gzip_pieces.stored(piece))
            for index, piece in enumerate(plain)
        )


def _cut(body: str, used: dict[str, str]) -> tuple[str, ...]:
    if not used:
        return (body,)
    by_value = {value: name for name, value in used.items()}
    pattern = "|".join(re.escape(value) for value in sorted(by_value, key=len, reverse=True))
    pieces = re.split(f"({pattern})", body)
    return tuple(piece if i % 2 == 0 else by_value[piece] for i, piece in enumerate(pieces))


def _copy_of(response, version: str) -> SharedCopy:
    pieces = _cut(response.get_data(as_text=True), _parts_used())
    digest = hashlib.sha256("\0".join(pieces).encode()).hexdigest()[:24]
    seen_key = f"page-first-seen:{digest}"
    now = time.time()
    cache.add(seen_key, now, timeout=FIRST_SEEN_SECONDS)
    return SharedCopy(pieces, digest, cache.get(seen_key) or now, now, version)


def _usable(copy: SharedCopy, key: str, version: str) -> SharedCopy | None:
    """The stored copy if this request may serve it: of the current programme version and
    younger than SEAT_FIGURES_MAX_AGE, or older while another request renders its
    successor (so that when a copy expires under load one request renders it, not every
    thread at once; the render lock lasts SEAT_FIGURES_MAX_AGE, so a stuck render is taken
    over). None: render it here. A copy of an older release is rendered again when it does
    not read or names a part this release does not fill."""
    if copy.version != version or not set(copy.parts) <= _PARTS.keys():
        return None
    max_age = current_app.config["SEAT_FIGURES_MAX_AGE"]
    if time.time() - copy.made_at <= max_age:
        return copy
    if not cache.add(f"{key}:rendering", 1, timeout=max_age):
        return copy  # another request is rendering the next one
    return None


def _personal() -> bool:
    if request.method not in ("GET", "HEAD"):
        return True
    if any(key in session for key in PERSONAL_SESSION_KEYS):
        return True
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


def _copy_key(known_args: tuple[str, ...]) -> str | None:
    """The key of this request's shared copy, or None when the page is not shared: a
    personal visitor, or a query the page does not know (which must not fill the cache).
    The programme version is not part of the key but of the copy, so one round trip to the
    cache reads both (`_read`)."""
    if _personal():
        return None
    if any(
        name not in known_args or not value.isdigit()
        for name, value in request.args.items(multi=True)
    ):
        return None
    key = "|".join((request.host_url, visitor_locale() or "event", request.full_path))
    return "page:" + hashlib.sha256(key.encode()).hexdigest()


# The copies this process served last, by key: (stamp, copy), per app (each has its own
# cache). A 200-session programme is 300 KiB; fetching and unpickling it from Redis for every
# request cost more than the rest of serving it (docs/PERFORMANCE.md). The cache still decides
# which render is current: its stamp, a few bytes, is read with the version.
HELD_COPIES = 64
_held_lock = threading.Lock()


def _held() -> OrderedDict[str, tuple[str, SharedCopy]]:
    return current_app.extensions.setdefault("page_copies_held", OrderedDict())


def _hold(key: str, copy: SharedCopy) -> None:
    held = _held()
    with _held_lock:
        held[key] = (copy.stamp, copy)
        held.move_to_end(key)
        while len(held) > HELD_COPIES:
            held.popitem(last=False)


def _stored_copy(key: str, stamp: str | None) -> SharedCopy | None:
    """The render the cache names by `stamp`: this process's own when it holds it, else
    fetched whole from the cache (and held from then on)."""
    held = _held().get(key)
    if held is not None and stamp is not None and held[0] == stamp:
        return held[1]
    stored = cache.get(key)
    if not stored:
        return None
    try:
        copy = SharedCopy(*stored)
    except TypeError:
        return None  # written by an older release: rendered again
    if copy.stamp == stamp:
        _hold(key, copy)
    return copy


def _read(key: str) -> tuple[SharedCopy | None, str]:
    """The copy this request may serve (None: render) and the programme version, read
    together before the page reads the database: a copy stored under a version is never
    older than the programme it shows."""
    version, stamp = cache.get_many(VERSION_KEY, f"{key}:stamp")
    version = programme_version(version)
    copy = _stored_copy(key, stamp)
    return (_usable(copy, key, version) if copy else None), version


def _served(copy: SharedCopy, rendered=None):
    """The copy as a response, or the response just rendered from it (keeping its
    headers); compressed when the browser accepts gzip."""
    response = rendered or current_app.response_class(mimetype="text/html")
    if "gzip" in request.accept_encodings:
        response.set_data(copy.fill(compressed=True))
        response.content_encoding = "gzip"
    elif rendered is None:
        response.set_data(copy.fill())
    response.vary.add("Accept-Encoding")
    return response


def _conditional(response, copy: SharedCopy):
    """ETag, Last-Modified and the 304 when the browser's copy is still right."""
    etag = copy.digest
    if CSRF_PART in copy.parts:
        secret = str(session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")))
        etag += "-" + hashlib.sha256(secret.encode()).hexdigest()[:12]
    response.set_etag(etag, weak=True)
    response.last_modified = copy.first_seen
    response.cache_control.no_cache = True
    response.cache_control.private = CSRF_PART in copy.parts or None
    response.vary.update(("Cookie", "Accept-Language"))
    return response.make_conditional(request)


def shared_page(*known_args: str):
    """Serve the view's GET from a shared copy when the visitor has nothing personal;
    `known_args`: query parameters (whole numbers) that change what the page shows."""

    def decorate(view):
        @functools.wraps(view)
        def serve(**kwargs):
            try:
                key = _copy_key(known_args)
                copy, version = _read(key) if key else (None, "")
            except CACHE_ERRORS:
                return view(**kwargs)
            if copy is not None:
                return _conditional(_served(copy), copy)
            response = make_response(view(**kwargs))
            if key is None or response.status_code != 200:
                return response
            try:
                copy = _copy_of(response, version)
                lifetime = KEPT_AGES * current_app.config["SEAT_FIGURES_MAX_AGE"]
                cache.set_many({key: copy.stored(), f"{key}:stamp": copy.stamp}, timeout=lifetime)
                cache.delete(f"{key}:rendering")
                _hold(key, copy)
            except CACHE_ERRORS:
                return response
            return _conditional(_served(copy, response), copy)

        return serve

    return decorate

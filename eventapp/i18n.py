"""Language and time display: the attendee's choice, else the browser's, else the event's."""

import functools
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_time, get_locale, get_timezone

from .labels import label


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # The CLI and the worker speak to operators; emails force the attendee's own language.
        return current_app.config["OFFLINE_LOCALE"]
    chosen = getattr(g, "attendee_locale", None)
    if not session.get("lang") and chosen in languages:
        return chosen
    return (
        visitor_locale()
        or getattr(g, "event_locale", None)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def visitor_locale() -> str | None:
    """The language this visitor asked for (their choice on the site, else their browser's),
    or None: then the page speaks the event's. Shared pages (page_cache.py) are keyed by it
    before the event is loaded."""
    languages = current_app.config["LANGUAGES"]
    if session.get("lang") in languages:
        return session["lang"]
    if request.accept_languages:
        return request.accept_languages.best_match(languages)
    return None


def select_timezone() -> str:
    """Pages show an event's times in the event's timezone, never the viewer's guess."""
    event = getattr(g, "event", None)
    return event.timezone if event is not None else current_app.config["BABEL_DEFAULT_TIMEZONE"]


def in_zone(value: datetime, tz: str | None) -> datetime:
    return value.astimezone(ZoneInfo(tz)) if tz else value


def _display_context() -> tuple[str, str]:
    return str(get_locale()), str(get_timezone())


def time_formatter(tz: str | None) -> Callable[[datetime], str]:
    """The `event_time` filter for many values of one page: the page's language and
    timezone looked up once, not per value (a 100-row table asked Flask-Babel 200 times)."""
    locale, zone = _display_context()
    return lambda value: _formatted("time", value, tz, "HH:mm", locale, zone)


@functools.lru_cache(maxsize=4096)
def _formatted(kind: str, value: datetime, tz: str | None, fmt: str, locale: str, zone: str):
    """Babel's formatting, remembered: a programme shows the same few times hundreds of
    times, and each format_* call costs tens of microseconds. `locale` and `zone` (what
    Babel formats with in this request) are part of the key, so the result is the same."""
    local = in_zone(value, tz)
    if kind == "time":
        return format_time(local, fmt)
    if kind == "date":
        return format_date(local, fmt)
    if fmt == "full_short":
        return f"{format_date(local, 'full')}, {format_time(local, 'HH:mm')}"
    return format_datetime(local, fmt)


def in_reader_language(item, field: str) -> str:
    """`item`'s text (an event's name, a session's title or description, a room's name) in
    the language of this page or email, the other language's when it has none there: the
    one way pages, emails and calendars choose (models.event.Bilingual). "" for no item."""
    if item is None:
        return ""
    return item.text_in(field, str(get_locale()))


def register_filters(app: Flask) -> None:
    """Jinja filters that format in the event's timezone and the page's language."""

    @app.template_filter("event_datetime")
    def event_datetime(value: datetime, tz: str | None = None, fmt: str = "full_short") -> str:
        return _formatted("datetime", value, tz, fmt, *_display_context())

    @app.template_filter("event_time")
    def event_time(value: datetime, tz: str | None = None) -> str:
        return _formatted("time", value, tz, "HH:mm", *_display_context())

    @app.template_filter("event_date")
    def event_date(value: datetime, tz: str | None = None) -> str:
        return _formatted("date", value, tz, "full", *_display_context())

    app.add_template_filter(in_reader_language, "localised")
    app.add_template_filter(lambda value, group: label(group, value), "label")

    @app.context_processor
    def inject_locale():

        return {"current_locale": str(get_locale()), "languages": app.config["LANGUAGES"]}

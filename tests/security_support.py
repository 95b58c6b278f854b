"""Helpers for the security and fault tests: a second app on the test database with other
settings (rate limits on, CSRF on), payloads that try to break out of HTML, and an HTML
checker that finds elements and attributes an attacker could have injected."""

from __future__ import annotations

import contextlib
from html.parser import HTMLParser

from eventapp import create_app
from eventapp.extensions import db, limiter

# Free text that must stay text: a script element, an attribute break-out with an event
# handler, a single-quote break-out, and a spreadsheet formula.
SCRIPT = "<script>alert('xss')</script>"
ATTRIBUTE_BREAK = '"><img src=x onerror=alert(1)>'
SINGLE_QUOTE_BREAK = "' onmouseover='alert(2)"
PAYLOADS = (SCRIPT, ATTRIBUTE_BREAK, SINGLE_QUOTE_BREAK)
EVIL = f"Evil {SCRIPT}{ATTRIBUTE_BREAK}{SINGLE_QUOTE_BREAK}"
FORMULA = '=HYPERLINK("http://evil.example/","click")'


@contextlib.contextmanager
def other_app(base_app, tmp_path, **overrides):
    """A fresh app on the same database as `base_app`, with `overrides` in its config.

    The test's own session ends its transaction first: on SQLite every transaction holds
    the write lock (BEGIN IMMEDIATE), and the other app would wait for it. Read what you
    need from model objects before entering (they expire here).
    """
    db.session.commit()
    config = {
        "TESTING": True,
        "SECRET_KEY": base_app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": base_app.config["SQLALCHEMY_DATABASE_URI"],
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME_FOR_LINKS": base_app.config["SERVER_NAME_FOR_LINKS"],
        "REGISTRATION_MIN_FILL_SECONDS": base_app.config["REGISTRATION_MIN_FILL_SECONDS"],
        "BOT_CHALLENGE_ENABLED": base_app.config["BOT_CHALLENGE_ENABLED"],
    }
    config.update(overrides)
    instance = tmp_path / f"instance-{len(list(tmp_path.iterdir()))}"
    app = create_app(config, instance_path=str(instance))
    # Flask-Limiter is one object per process: forget a "storage is dead" verdict left by a
    # test that pointed it at a Redis that was down, or it keeps counting in its fallback.
    limiter._storage_dead = False
    # Counts from another test must not leak in. Only in memory: resetting a Redis storage
    # would delete every key of every app sharing that Redis.
    in_memory = config.get("RATELIMIT_ENABLED") and str(
        config.get("RATELIMIT_STORAGE_URI", "memory://")
    ).startswith("memory")
    if in_memory:
        with app.app_context():
            limiter.reset()
    try:
        yield app
    finally:
        with app.app_context():
            if in_memory:
                limiter.reset()
            db.session.remove()
            db.engine.dispose()


class InjectionFinder(HTMLParser):
    """Collects what an injected payload would create: script elements that are not ours,
    <img src=x>, and any on* event-handler attribute or inline style attribute."""

    def __init__(self, allow_style: bool = False):
        super().__init__(convert_charrefs=True)
        self.allow_style = allow_style
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        values = dict(attrs)
        if tag == "script" and not values.get("src", "").startswith("/static/"):
            self.found.append(f"<script> without a /static/ src: {attrs}")
        if tag == "img" and values.get("src") == "x":
            self.found.append(f"injected <img>: {attrs}")
        for name in names:
            if name.startswith("on"):
                self.found.append(f"event handler attribute {name} on <{tag}>")
            if name == "style" and not self.allow_style:
                self.found.append(f"inline style attribute on <{tag}> (blocked by the CSP)")

    handle_startendtag = handle_starttag


def end_transaction() -> None:
    """End the test's read transaction (SQLite's BEGIN IMMEDIATE holds the write lock), so
    another app on the same database can write. Read model attributes before calling."""
    db.session.commit()


def injected(html: str, *, allow_style: bool = False) -> list[str]:
    """What in this page an attacker could have injected; empty means the page is clean.
    `allow_style` for email bodies, where inline styles are the norm and no CSP applies."""
    finder = InjectionFinder(allow_style)
    finder.feed(html)
    finder.close()
    return finder.found


# -- A small event with every kind of free text, and a walk over every page ---------------


class World:
    """An event, room, speaker, two sessions, a waitlisted registration and an attendee,
    each free-text field holding `text`; `values` fills every URL variable of the app."""

    def __init__(self, text: str, make_event, make_room, make_session, now):
        from eventapp.models import Speaker
        from eventapp.services.registration import email_change, questions
        from eventapp.services.registration import register as registration
        from eventapp.services.registration.register import RegistrationInput

        self.event = make_event(name=f"{text} event", venue=f"{text} venue", description=text)
        self.room = make_room(self.event, name=f"{text} room", capacity=40)
        self.speaker = Speaker(event=self.event, name=f"{text} speaker", organisation=text)
        self.session = make_session(
            self.event, title=f"{text} workshop", description=text, room=self.room, capacity=1
        )
        self.session.speakers.append(self.speaker)
        self.plenary = make_session(
            self.event, start=3, kind="plenary", title=f"{text} plenary", description=text
        )
        db.session.commit()
        # Registration questions (issue 19.3): their text, choices and answers hold it too.
        pick = questions.create_question(
            None,
            self.event,
            {
                "key": "pick",
                "kind": "one_choice",
                "text_nl": f"{text} vraag",
                "text_en": f"{text} question",
                "choices": [{"key": "a", "nl": text, "en": text}, {"key": "b", "nl": "B"}],
            },
            now,
        )
        questions.create_question(
            None, self.event, {"key": "say", "kind": "long_text", "text_en": text}, now
        )
        result = registration.register(
            self.event,
            RegistrationInput(
                name=f"{text} name",
                email="first@example.org",
                organisation=f"{text} org",
                job_role=f"{text} role",
                session_ids=[self.session.id, self.plenary.id],
                consent=True,
                answers={"pick": "a", "say": f"{text} answer"},
            ),
            now,
        )
        waiting = registration.register(
            self.event,
            RegistrationInput(
                name=f"{text} waiting",
                email="second@example.org",
                organisation=text,
                session_ids=[self.session.id],
                waitlist=True,
                consent=True,
            ),
            now,
        )
        db.session.commit()
        self.attendee = result.attendee
        self.manage_token = result.manage_token
        self.feed_token = result.feed_token
        self.waiting_registration = waiting.registrations[0]
        self.values = {
            "slug": self.event.slug,
            "token": self.manage_token,
            "id": self.session.id,
            "session_id": self.session.id,
            "attendee_id": self.attendee.id,
            "registration_id": self.waiting_registration.id,
            "room_id": self.room.id,
            "speaker_id": self.speaker.id,
            "code": "en",
            "fmt": "csv",
            "question_id": pick.id,
        }
        self.per_endpoint = {"calendar.personal_feed": {"token": self.feed_token}}
        # An email change waiting for confirmation: its page shows the names and addresses.
        email_change.request_email_change(self.attendee, "new-address@example.org", now)
        db.session.commit()
        self.values["change_token"] = email_change.email_change_token(self.attendee)

    def urls(self, app, method: str = "GET") -> tuple[list[tuple[str, str]], list[str]]:
        """(endpoint, URL) of every route taking `method`, and the routes it could not fill."""
        from flask import url_for

        urls, unfilled = [], []
        with app.test_request_context():
            for rule in app.url_map.iter_rules():
                if method not in rule.methods or rule.endpoint == "static":
                    continue
                values = {**self.values, **self.per_endpoint.get(rule.endpoint, {})}
                missing = rule.arguments - values.keys()
                if missing:
                    unfilled.append(f"{rule.rule} needs {sorted(missing)}")
                    continue
                arguments = {name: values[name] for name in rule.arguments}
                urls.append((rule.endpoint, url_for(rule.endpoint, **arguments)))
        return sorted(urls), unfilled

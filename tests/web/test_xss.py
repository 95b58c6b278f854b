"""Free text stays text: names, organisations, titles, descriptions holding `<script>` or
attribute-breaking payloads are inert on every page, in every email, and in CSV exports
(where a leading = + - @ would make a spreadsheet run a formula)."""

import csv
import email
import email.policy
import io
from html.parser import HTMLParser

import pytest
from flask import g

from eventapp.extensions import db
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.mailserver import smtp_server  # noqa: F401  (fixture)
from tests.security_support import EVIL, FORMULA, PAYLOADS, World, injected

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def world(app, make_event, make_room, make_session, now):
    return World(EVIL, make_event, make_room, make_session, now)


class TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = []

    def handle_data(self, data):
        self.text.append(data)


def visible_text(html: str) -> str:
    collector = TextCollector()
    collector.feed(html)
    return "".join(collector.text)


def assert_inert(html: str, where: str, *, allow_style: bool = False) -> bool:
    """No injected element or attribute; returns whether the payload shows as text."""
    found = injected(html, allow_style=allow_style)
    assert not found, f"{where}: {found}"
    for payload in PAYLOADS:
        assert payload not in html or payload == PAYLOADS[2] and "&#39;" not in html, where
    return all(payload in visible_text(html) for payload in PAYLOADS[:2])


def test_every_page_shows_hostile_text_as_text(app, client, world, make_organiser, login):
    # The confirmation page shows what the visitor just typed: register through the form.
    response = client.post(
        f"/events/{world.event.slug}/register",
        data={
            "name": f"{EVIL} visitor",
            "email": "visitor@example.org",
            "organisation": EVIL,
            "plenary": [str(world.plenary.id)],
            "consent": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    shown = assert_inert(client.get(response.location).get_data(as_text=True), "confirmation")
    assert shown  # the test sees the payload, so it would see it unescaped too

    login(make_organiser("admin"))
    urls, unfilled = world.urls(app)
    assert not unfilled, f"routes this test can't reach yet (add their values): {unfilled}"
    pages_showing_payload = 0
    for _endpoint, url in urls:
        g.pop("_login_user", None)  # see test_security_headers.forget_request_user
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        if response.mimetype == "text/html":
            pages_showing_payload += assert_inert(response.get_data(as_text=True), url)
        elif response.mimetype == "application/json":
            assert "<script" not in response.headers.get("Content-Type", "")
    # Programme, registration form, manage page, organiser pages...: the text reached them.
    assert pages_showing_payload >= 8


def test_the_json_api_is_served_as_json(client, world):
    response = client.get(f"/api/v1/events/{world.event.slug}/sessions")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert any(EVIL in s["title"] for s in response.json["sessions"])  # data, unchanged


def test_emails_show_hostile_text_as_text(app, world, now, tmp_path):
    app.config.update(MAIL_SERVER=None, MAIL_EML_DIR=str(tmp_path / "mail"))
    db.session.commit()
    report = send_pending(now=now)
    assert report.sent >= 2
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert files
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = message.get_body(("html",))
        assert html is not None, path.name
        assert assert_inert(html.get_content(), path.name, allow_style=True)
        text = message.get_body(("plain",)).get_content()
        assert EVIL.split(" ")[1] in text  # plain text keeps the characters as they are
        for header in ("Subject", "To", "From"):
            assert "\n" not in str(message[header]).strip(), header


def test_a_name_cannot_add_recipients(app, make_event, make_session, now, smtp_server):  # noqa: F811
    event = make_event()
    session = make_session(event, kind="plenary")
    hostile = 'Eve <evil@example.org>, "Mallory" <mallory@example.org>'
    registration.register(
        event,
        RegistrationInput(
            name=hostile, email="eve@example.org", session_ids=[session.id], consent=True
        ),
        now,
    )
    db.session.commit()
    assert send_pending(now=now).sent == 1
    [received] = smtp_server.received
    assert received.rcpt_tos == ["eve@example.org"]
    assert [a.addr_spec for a in received.message["To"].addresses] == ["eve@example.org"]


def test_csv_exports_neutralise_formulas(app, client, world, make_organiser, login, now):
    for number, start in enumerate(FORMULA_STARTS):
        registration.register(
            world.event,
            RegistrationInput(
                name=f"{start}1+1 {number}" if start.strip() else f"x{number}",
                email=f"formula{number}@example.org",
                organisation=FORMULA if number == 0 else f"{start}cmd|' /C calc'!A0",
                job_role=f"@SUM(A1:A{number + 2})",
                session_ids=[world.plenary.id],
                consent=True,
            ),
            now,
        )
    db.session.commit()
    login(make_organiser("admin"))
    exports = [
        f"/organiser/events/{world.event.slug}/attendees.csv",
        f"/organiser/events/{world.event.slug}/sessions/{world.plenary.id}/attendees.csv",
    ]
    for url in exports:
        g.pop("_login_user", None)
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True).lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        cells = [cell for row in rows for cell in row]
        assert any("cmd|" in cell for cell in cells), url  # the hostile values are exported
        dangerous = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
        assert not dangerous, f"{url}: cells a spreadsheet would run: {dangerous}"

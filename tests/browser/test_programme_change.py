"""Changes under control in Chromium (issue 20, item 4): moving a session shows "this emails N
people" before anything is saved; the organiser's note reaches the attendees' emails through
a real SMTP server, in Dutch and in English; "don't notify" sends nothing, and the personal
calendar feed shows the new time all the same."""

import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import EventSession
from eventapp.models.types import utcnow
from eventapp.services.backoffice.accounts import create_organiser, grant_event_role
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.browser.test_organiser_dashboard import sign_in
from tests.conftest import ORGANISER_PASSWORD

pytestmark = pytest.mark.browser

NOTE = "Bring your laptop <b>charged</b>.\nCoffee is in the hall."


@pytest.fixture
def programme(app, make_event):
    """A published event with a workshop that Ada (English) and Bram (Dutch) attend, and an
    organiser; facts only, no transaction open while the browser works."""
    event = make_event(team=[])
    workshop = EventSession(
        event=event,
        kind="workshop",
        title="Digital twins",
        starts_at=datetime(2027, 3, 18, 9, 0, tzinfo=UTC),
        ends_at=datetime(2027, 3, 18, 10, 0, tzinfo=UTC),
        capacity=20,
    )
    db.session.add(workshop)
    db.session.commit()
    feeds = {}
    for name, email, locale in (
        ("Ada Lovelace", "ada@example.org", "en"),
        ("Bram de Vries", "bram@example.org", "nl"),
    ):
        result = registration.register(
            event,
            RegistrationInput(
                name=name, email=email, session_ids=[workshop.id], consent=True, locale=locale
            ),
            utcnow(),
        )
        feeds[email] = result.feed_token
    organiser = create_organiser("planner@example.org", ORGANISER_PASSWORD)
    db.session.flush()
    grant_event_role(organiser, event.id, "organiser")
    db.session.commit()
    facts = (event.slug, workshop.id, feeds)
    db.session.remove()
    send_pending()  # the confirmations, out of the way
    return facts


def move_to(page, slug, session_id, start: str, end: str):
    page.goto(f"/organiser/events/{slug}/sessions/{session_id}/move")
    page.get_by_label("Starts").fill(start)
    page.get_by_label("Ends").fill(end)
    page.get_by_role("button", name="Save").click()


def workshop_start() -> datetime:
    db.session.remove()
    start = db.session.scalar(select(EventSession.starts_at))
    db.session.remove()
    return start


def feed_start(client, token: str) -> datetime:
    feed = Calendar.from_ical(client.get(f"/calendar/{token}.ics").data)
    [vevent] = feed.walk("VEVENT")
    return vevent.decoded("DTSTART").astimezone(UTC)


def test_the_organiser_sees_the_count_and_the_note_reaches_the_emails(
    programme, new_page, smtp_server, axe_audit, client, screenshot
):
    slug, session_id, feeds = programme
    before = len(smtp_server.messages)
    page = new_page(locale="en-GB")
    sign_in(page, "planner@example.org")

    move_to(page, slug, session_id, "2027-03-18T14:00", "2027-03-18T15:00")
    expect(page.locator("#impact-count")).to_have_text("This change emails 2 people.")
    assert workshop_start() == datetime(2027, 3, 18, 9, 0, tzinfo=UTC)  # nothing saved yet
    assert axe_audit(page) == []
    page.get_by_label("A note in the email").fill(NOTE)
    screenshot(page, "organiser-change-review")
    page.get_by_role("button", name="Save the change").click()
    expect(page.locator(".flash-success")).to_contain_text("2 people are emailed")
    assert workshop_start() == datetime(2027, 3, 18, 13, 0, tzinfo=UTC)

    send_pending()
    mails = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages[before:]}
    assert sorted(mails) == ["ada@example.org", "bram@example.org"]
    english = mails["ada@example.org"]
    dutch = mails["bram@example.org"]
    for mail, heading in ((english, "A note from the organisers"), (dutch, "Een notitie")):
        text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
        html = mail.get_body(("html",)).get_content()
        assert heading in text and NOTE in text
        assert "Bring your laptop &lt;b&gt;charged&lt;/b&gt;.<br>Coffee is in the hall." in html
        assert "<b>charged</b>" not in html  # the note is text, never markup

    # Don't notify: nothing is sent, the calendar feed changes all the same.
    sent = len(smtp_server.messages)
    move_to(page, slug, session_id, "2027-03-18T16:00", "2027-03-18T17:00")
    expect(page.locator("#impact-count")).to_have_text("This change emails 2 people.")
    page.get_by_label("Don't notify").check()
    page.get_by_role("button", name="Save the change").click()
    expect(page.locator(".flash-success")).to_contain_text("Session saved.")
    send_pending()
    assert len(smtp_server.messages) == sent
    new_start = datetime(2027, 3, 18, 15, 0, tzinfo=UTC)
    assert workshop_start() == new_start
    assert feed_start(client, feeds["ada@example.org"]) == new_start
    assert feed_start(client, feeds["bram@example.org"]) == new_start

    # The audit log says both moves in words, the second "not notified".
    page.goto(f"/organiser/events/{slug}/audit")
    moves = page.locator('tr[data-action="session.moved"]')
    expect(moves).to_have_count(2)
    expect(moves.first).to_contain_text("not notified")
    expect(moves.last).to_contain_text("2 people")
    expect(moves.first).to_contain_text(re.compile(r"Starts\s+.*14:00 → .*16:00"))
    assert axe_audit(page) == []
    screenshot(page, "organiser-audit-log")

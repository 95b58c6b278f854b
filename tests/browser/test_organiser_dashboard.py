"""The organiser's side in Chromium: check-in at the door on a phone (typed code, Enter, the
result; no sideways scrolling), and the dashboard and attendee list pass an accessibility
audit."""

import pytest
from playwright.sync_api import expect

from eventapp.extensions import db
from eventapp.models import Attendee, Event, EventSession, Registration
from eventapp.models.types import utcnow
from eventapp.services.backoffice.accounts import create_organiser, grant_event_role
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.browser.conftest import PHONE, WIDE
from tests.conftest import ORGANISER_PASSWORD

pytestmark = pytest.mark.browser
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def door_event(demo_event):
    """The demo event with three attendees, a check-in account and an admin; facts only (no
    open transaction while the browser talks to the server)."""
    event = db.session.get(Event, demo_event.id)
    plenary = db.session.scalars(
        db.select(EventSession)
        .where(EventSession.event_id == event.id, EventSession.kind == "plenary")
        .order_by(EventSession.starts_at)
    ).first()
    codes = {}
    for name in ("Ëlise Müller", "Bram de Vries", "Chen Wei"):
        email = name.split()[0].lower().replace("ë", "e") + "@example.org"
        result = registration.register(
            event,
            RegistrationInput(name=name, email=email, session_ids=[plenary.id], consent=True),
            utcnow(),  # the demo event is open now (see demo_event)
        )
        codes[name] = result.attendee.checkin_code
    door = create_organiser("door@example.org", ORGANISER_PASSWORD, role="checkin")
    db.session.flush()
    grant_event_role(door, event.id, "checkin")  # roles are per event (issue 18)
    create_organiser("boss@example.org", ORGANISER_PASSWORD, role="admin")
    db.session.commit()
    db.session.remove()
    return demo_event, codes


def sign_in(page, email):
    page.goto("/organiser/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", ORGANISER_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def test_check_in_on_a_phone(door_event, new_page, screenshot):
    event, codes = door_event
    page = new_page(viewport=PHONE, locale="en-GB")
    sign_in(page, "door@example.org")
    page.goto(f"/organiser/events/{event.slug}/checkin")
    code = page.locator("#code")
    expect(code).to_be_focused()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    # What a hand scanner does: type the code, press Enter.
    typed = codes["Ëlise Müller"].lower()
    code.type(f"{typed[:5]}-{typed[5:]}")
    code.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Ëlise Müller")
    expect(page.locator("#attendance")).to_contain_text("1")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    box = page.get_by_role("button", name="Check in").first.bounding_box()
    assert box and box["height"] >= 44  # a thumb-sized target
    screenshot(page, "organiser-checkin-phone")

    page.fill("#q", "bram")
    page.locator("#q").press("Enter")
    page.locator(".checkin-result").get_by_role("button", name="Check in").click()
    expect(page.locator(".flash-success")).to_contain_text("Bram de Vries")
    page.goto(f"/organiser/events/{event.slug}/checkin/missing")
    expect(page.locator("#missing-list")).to_contain_text("Chen Wei")
    expect(page.locator("#missing-list")).not_to_contain_text("Bram")
    db.session.remove()
    arrived = db.session.scalars(
        db.select(Attendee.name).where(Attendee.checked_in_at.is_not(None))
    ).all()
    assert sorted(arrived) == ["Bram de Vries", "Ëlise Müller"]
    assert (
        db.session.scalars(
            db.select(Registration).where(Registration.checked_in_at.is_not(None))
        ).all()
        == []
    )  # the entrance, not a session
    db.session.remove()


@pytest.mark.parametrize("path", ["/", "/attendees", "/checkin", "/waitlists", "/messages"])
def test_organiser_pages_pass_the_accessibility_audit(door_event, new_page, axe_audit, path):
    event, _codes = door_event
    page = new_page(viewport=WIDE, locale="en-GB")
    sign_in(page, "boss@example.org")
    page.goto(f"/organiser/events/{event.slug}{path}")
    assert axe_audit(page) == []
    assert page.evaluate(NO_SIDEWAYS_SCROLL)


@pytest.mark.parametrize(
    "path", ["/", "/attendees", "/waitlists", "/audit", "/conflicts", "/programme", "/allocation"]
)
def test_organiser_pages_on_a_phone_scroll_only_their_tables(door_event, new_page, path):
    """A table wider than the phone scrolls inside its frame (.table-wrap); the page itself
    never scrolls sideways, screen-reader-only labels in a table included (they are
    positioned, and without a positioned frame they stretched the page)."""
    event, _codes = door_event
    page = new_page(viewport=PHONE, locale="en-GB")
    sign_in(page, "boss@example.org")
    page.goto(f"/organiser/events/{event.slug}{path}")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)


# The words of each status badge in the dashboard's session table that a line break cuts.
WORDS_CUT_IN_BADGES = """() => {
  const cut = [];
  for (const badge of document.querySelectorAll("table .badge")) {
    const text = [...badge.childNodes].find(n => n.nodeType === 3 && n.textContent.trim());
    if (!text) continue;
    const content = text.textContent;
    for (const match of content.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(text, match.index);
      range.setEnd(text, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (tops.size > 1) cut.push(match[0]);
    }
  }
  return cut;
}"""


@pytest.mark.parametrize("viewport", [WIDE, PHONE])
def test_status_badges_never_cut_a_word(door_event, new_page, viewport):  # noqa: F811
    """Issue 20: the breaks' status read "No registratio / n" on the laptop dashboard (the
    badge let a line break fall anywhere, so the table gave its column no room)."""
    event, _codes = door_event
    page = new_page(viewport=viewport, locale="en-GB")
    sign_in(page, "boss@example.org")
    page.goto(f"/organiser/events/{event.slug}/")
    assert page.locator("table .badge", has_text="No registration").count() > 0
    assert page.evaluate(WORDS_CUT_IN_BADGES) == []

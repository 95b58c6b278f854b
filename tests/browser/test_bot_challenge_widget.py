"""The proof-of-work widget on the registration form in Chromium, under the app's own CSP:
it fetches a challenge from our origin, solves it in a worker, and the form registers;
without JavaScript the form says why it cannot be sent, and the server refuses it."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee

pytestmark = pytest.mark.browser

WIDGET = Path(__file__).resolve().parents[2] / "eventapp/static/vendor/altcha/altcha.min.js"


@pytest.fixture
def challenged(app, demo_event):
    if not WIDGET.exists():
        pytest.skip("the ALTCHA widget is not installed: run `make install` (npm)")
    app.config.update(BOT_CHALLENGE_ENABLED=True, BOT_CHALLENGE_COST=500)
    return demo_event


def attendees() -> int:
    db.session.remove()
    count = db.session.scalar(select(func.count()).select_from(Attendee))
    db.session.remove()
    return count


def fill(page):
    page.get_by_label("Name", exact=True).fill("Ada Browser")
    page.get_by_label("Email", exact=True).fill("ada.browser@example.org")
    page.get_by_label("I agree that my data").check()


def test_the_widget_solves_the_challenge_and_the_form_registers(new_page, challenged):
    page = new_page(locale="en-GB")
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"/events/{challenged.slug}/register")
    fill(page)
    expect(page.get_by_text("which needs JavaScript")).to_have_count(0)  # the script ran
    page.locator("altcha-widget input[type=checkbox]").click(force=True)
    solution = page.locator("altcha-widget input[name=altcha]")
    expect(solution).to_have_value(re.compile(".{100,}"), timeout=30_000)
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile("/confirmation$"))
    assert attendees() == 1
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]


def test_without_javascript_the_form_says_why_and_fails_closed(new_page, challenged):
    page = new_page(locale="en-GB", javascript=False)
    page.goto(f"/events/{challenged.slug}/register")
    expect(page.get_by_text("which needs JavaScript")).to_be_visible()
    fill(page)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("not a robot").first).to_be_visible()
    assert attendees() == 0


def test_the_widget_speaks_the_page_language(new_page, challenged):
    """On a Dutch page the widget says "Ik ben geen robot", not the library's English, and
    what it says while and after solving is Dutch too; the English page keeps English."""
    page = new_page(locale="nl-NL")
    page.goto(f"/events/{challenged.slug}/register")
    widget = page.locator("altcha-widget")
    expect(widget).to_contain_text("Ik ben geen robot")
    expect(widget).to_contain_text("Beschermd door")
    widget.locator("input[type=checkbox]").click(force=True)
    expect(widget).to_contain_text("Gecontroleerd", timeout=30_000)
    expect(widget).not_to_contain_text("Verified")

    english = new_page(locale="en-GB")
    english.goto(f"/events/{challenged.slug}/register")
    expect(english.locator("altcha-widget")).to_contain_text("I'm not a robot")
    expect(english.locator("altcha-widget")).to_contain_text("Protected by")


def test_the_widget_does_not_touch_the_register_button_on_a_phone(new_page, challenged):
    """On a phone the widget's box stood directly on the "Register" button, which read as
    one control; a thumb aiming at the checkbox's frame hit the button."""
    page = new_page(locale="en-GB", viewport={"width": 390, "height": 844})
    page.goto(f"/events/{challenged.slug}/register")
    widget = page.locator("altcha-widget")
    expect(widget).to_contain_text("I'm not a robot")
    bottom = widget.bounding_box()
    button = page.get_by_role("button", name="Register").bounding_box()
    assert button["y"] - (bottom["y"] + bottom["height"]) >= 12

"""The attendee list in Chromium: dense enough for 25+ rows on a laptop screen, usable on a
phone; ticking attendees (one by one, or the whole page with the heading's box) and
cancelling them in bulk through the confirmation step, with and without JavaScript, every
page passing the accessibility audit."""

import pytest
from playwright.sync_api import expect

from eventapp.extensions import db
from eventapp.models import Attendee, Event, EventSession
from eventapp.models.types import utcnow
from eventapp.services.backoffice.accounts import create_organiser
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.browser.conftest import PHONE, WIDE
from tests.browser.test_organiser_dashboard import sign_in
from tests.conftest import ORGANISER_PASSWORD

pytestmark = pytest.mark.browser
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
LAPTOP = {"width": 1366, "height": 768}
CROWD = 30
BOSS = "boss@example.org"


def add_crowd(demo_event, count):
    """The demo event with `count` attendees of the first plenary and an admin; facts only."""
    event = db.session.get(Event, demo_event.id)
    plenary = db.session.scalars(
        db.select(EventSession)
        .where(EventSession.event_id == event.id, EventSession.kind == "plenary")
        .order_by(EventSession.starts_at)
    ).first()
    for number in range(count):
        registration.register(
            event,
            RegistrationInput(
                name=f"Person {number:02d}",
                email=f"person{number:02d}@example.org",
                organisation="Smart Factory BV",
                session_ids=[plenary.id],
                consent=True,
            ),
            utcnow(),
        )
    create_organiser(BOSS, ORGANISER_PASSWORD, role="admin")
    db.session.commit()
    plenary_id = plenary.id
    db.session.remove()
    return demo_event, plenary_id


@pytest.fixture
def crowd_event(demo_event):
    return add_crowd(demo_event, CROWD)


def statuses(names) -> list[str]:
    db.session.remove()
    found = dict(
        db.session.execute(
            db.select(Attendee.name, Attendee.status).where(Attendee.name.in_(names))
        ).all()
    )
    db.session.remove()
    return [found[name] for name in names]


def counter_matches_rows(session_id) -> bool:
    db.session.remove()
    matches = registration.confirmed_count_matches_counter(session_id)
    db.session.remove()
    return matches


def test_select_and_cancel_in_bulk_with_the_audit(crowd_event, new_page, axe_audit, screenshot):
    event, plenary_id = crowd_event
    page = new_page(viewport=LAPTOP, locale="en-GB")
    sign_in(page, BOSS)
    page.goto(f"/organiser/events/{event.slug}/attendees")
    rows = page.locator("#attendee-list tbody tr")
    expect(rows).to_have_count(CROWD)
    # Dense: 25 rows take less than a laptop screen's height.
    first, last = rows.nth(0).bounding_box(), rows.nth(24).bounding_box()
    assert last["y"] + last["height"] - first["y"] < LAPTOP["height"] * 0.85
    assert axe_audit(page) == []

    # The heading's box ticks the whole page; a second click clears it.
    select_page = page.get_by_label("Select all on this page")
    select_page.check()
    expect(page.locator("#ticked-count")).to_have_text(str(CROWD))
    expect(page.locator("input[name=attendee]:checked")).to_have_count(CROWD)
    select_page.uncheck()
    expect(page.locator("#ticked-count")).to_have_text("0")

    page.get_by_label("Select Person 03").check()
    page.get_by_label("Select Person 07").check()
    expect(page.locator("#ticked-count")).to_have_text("2")
    expect(select_page).to_have_js_property("indeterminate", True)
    screenshot(page, "organiser-attendees-bulk", full_page=False)
    page.get_by_role("button", name="Cancel registrations…").click()

    expect(page.get_by_role("heading", name="Cancel 2 registrations?")).to_be_visible()
    expect(page.locator(".bulk-names li")).to_have_count(2)
    assert statuses(["Person 03", "Person 07"]) == ["active", "active"]
    assert axe_audit(page) == []
    page.get_by_role("button", name="Yes, cancel 2 registrations").click()

    expect(page.locator("#bulk-summary")).to_have_text("Done for 2 of 2 attendees.")
    assert axe_audit(page) == []
    assert statuses(["Person 03", "Person 07", "Person 04"]) == ["cancelled", "cancelled", "active"]
    assert counter_matches_rows(plenary_id)


def test_without_javascript_the_ticked_rows_are_cancelled_too(crowd_event, new_page):
    event, plenary_id = crowd_event
    page = new_page(viewport=WIDE, locale="en-GB", javascript=False)
    sign_in(page, BOSS)
    page.goto(f"/organiser/events/{event.slug}/attendees?q=Person+1")
    expect(page.get_by_label("Select all on this page")).to_be_hidden()  # needs the script
    page.get_by_label("Select Person 12").check()
    page.get_by_role("button", name="Cancel registrations…").click()
    expect(page.get_by_role("heading", name="Cancel 1 registration?")).to_be_visible()
    page.get_by_role("button", name="Yes, cancel 1 registration").click()
    expect(page.locator("#bulk-summary")).to_have_text("Done for 1 of 1 attendee.")
    assert statuses(["Person 12", "Person 13"]) == ["cancelled", "active"]
    assert counter_matches_rows(plenary_id)


def test_the_list_on_a_phone_keeps_name_and_box_without_sideways_scrolling(
    crowd_event, new_page, axe_audit
):
    event, _plenary_id = crowd_event
    page = new_page(viewport=PHONE, locale="en-GB")
    sign_in(page, BOSS)
    page.goto(f"/organiser/events/{event.slug}/attendees")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    box = page.get_by_label("Select Person 00")
    expect(box).to_be_visible()
    expect(page.get_by_role("link", name="Person 00")).to_be_visible()
    expect(page.locator("#attendee-list td.col-email").first).to_be_hidden()
    assert axe_audit(page) == []


def test_message_the_selected_with_the_greeting_shown(crowd_event, new_page, axe_audit, screenshot):
    event, _plenary_id = crowd_event
    page = new_page(viewport=WIDE, locale="en-GB")
    sign_in(page, BOSS)
    page.goto(f"/organiser/events/{event.slug}/attendees")
    page.get_by_label("Select Person 01").check()
    page.get_by_label("Select Person 02").check()
    page.get_by_role("button", name="Message", exact=True).click()

    expect(page.get_by_label("To")).to_have_value("selected")
    expect(page.locator("#body-hint")).to_contain_text("opens with “Beste [naam],”")
    page.get_by_label("Subject (Nederlands)").fill("Parkeren")
    page.get_by_label("Message (Nederlands)").fill("Beste allemaal,\n\nParkeer bij ingang B.")
    page.locator("summary").click()
    page.get_by_label("Subject (English)").fill("Parking")
    page.get_by_label("Message (English)").fill("Park at entrance B.")
    page.get_by_role("button", name="Preview", exact=True).click()

    expect(page.locator("#recipient-count")).to_have_text("2 recipients")
    expect(page.locator(".own-greeting")).to_contain_text("“Beste allemaal,”")
    assert axe_audit(page) == []
    screenshot(page, "organiser-message-preview")
    page.get_by_role("button", name="Remove my greeting").click()
    expect(page.locator(".own-greeting")).to_have_count(0)
    expect(page.locator(".message-sample").first).to_contain_text("Beste Person 01,")
    expect(page.get_by_role("button", name="Send to 2 attendees")).to_be_visible()


def test_the_whole_page_ticked_offers_everyone_the_filter_matches(demo_event, new_page):
    event, _plenary_id = add_crowd(demo_event, 55)  # more than the 50 of one page
    page = new_page(viewport=WIDE, locale="en-GB")
    sign_in(page, BOSS)
    page.goto(f"/organiser/events/{event.slug}/attendees")
    offer = page.get_by_role("button", name="Select all 55 matching the filter")
    expect(offer).to_be_hidden()
    page.get_by_label("Select all on this page").check()
    expect(page.locator("#ticked-count")).to_have_text("50")
    offer.click()
    expect(page.get_by_label("All 55 matching the filter")).to_be_checked()
    expect(offer).to_be_hidden()
    page.get_by_role("button", name="Message", exact=True).click()
    expect(page.get_by_label("To")).to_have_value("selected")
    expect(page.locator("#audience option:checked")).to_have_text(
        "55 attendees selected on the list"
    )

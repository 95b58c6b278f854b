"""Session and speaker pages in Chromium (issue 19.1): reached from the programme's cards,
readable on a laptop and a phone, 0 serious or critical axe findings; the programme grid
links to the page instead of cutting the description off."""

import pytest
from playwright.sync_api import expect

from eventapp.extensions import db
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

WORKSHOP = "From lean to smart management"  # the demo's English title: read in English


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["wide", "phone"])
def test_from_the_programme_to_a_session_and_its_speaker(
    demo_event, new_page, axe_audit, screenshot, viewport
):
    page = new_page(viewport=viewport, locale="en-GB")
    page.goto(f"/events/{demo_event.slug}/")
    card = page.locator(
        "article.session-card", has=page.get_by_role("link", name=WORKSHOP, exact=True)
    )
    if viewport is None:  # the grid: no clamped description, a link to the whole of it
        expect(card.locator(".description")).to_be_hidden()
        expect(card.locator(".more-link")).to_be_visible()
    card.get_by_role("link", name=WORKSHOP, exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(WORKSHOP)
    expect(page.locator(".session-facts")).to_contain_text("places left")
    expect(page.get_by_role("link", name="Add to calendar (ICS)")).to_be_visible()
    assert axe_audit(page) == []
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    screenshot(page, f"session-{'phone' if viewport else 'wide'}", max_height=1600)

    speaker = page.locator(".session-facts a").first
    name = speaker.inner_text()
    speaker.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("link", name=WORKSHOP, exact=True)).to_be_visible()
    assert axe_audit(page) == []

    page.get_by_role("link", name=WORKSHOP, exact=True).click()
    page.get_by_role("link", name="Register for this session").click()
    expect(page.locator(f'input[type="radio"][data-title="{WORKSHOP}"]')).to_be_checked()


def test_a_break_has_no_calendar_buttons(demo_event, new_page):
    page = new_page(locale="en-GB")
    page.goto(f"/events/{demo_event.slug}/")
    lunch = page.locator("article.session-card.kind-other", has_text="Lunch")
    expect(lunch).to_be_visible()
    expect(lunch.locator(".calendar-links")).to_have_count(0)
    workshop = page.locator(
        "article.session-card", has=page.get_by_role("link", name=WORKSHOP, exact=True)
    )
    expect(workshop.locator(".calendar-links")).to_have_count(1)


@pytest.fixture
def ten_rooms(make_event, make_session, make_room):
    """Ten workshops side by side, each almost full: the narrowest cards with the longest
    badges ("Bijna vol · nog 5 plaatsen")."""
    event = make_event(name="Crowded")
    for number in range(10):
        room = make_room(event, f"Zaal {number + 1}", 200)
        session = make_session(event, start=1, capacity=200, title=f"W{number}", room=room)
        session.seats_taken = 195
    make_session(event, start=0, kind="plenary", title="Opening", capacity=500)
    db.session.commit()
    slug = event.slug
    db.session.remove()
    return slug


@pytest.mark.parametrize("viewport", [{"width": 1100, "height": 900}, PHONE], ids=["1100", "phone"])
def test_no_badge_overflows_its_card(ten_rooms, new_page, viewport):
    """Long badges wrap inside their card, however narrow the timetable's columns get."""
    page = new_page(viewport=viewport)
    page.goto(f"/events/{ten_rooms}/")
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.session-card .badge')].filter(badge => {
            const card = badge.closest('.session-card').getBoundingClientRect();
            const box = badge.getBoundingClientRect();
            return box.right > card.right + 0.5 || box.left < card.left - 0.5;
        }).map(badge => badge.textContent.trim())"""
    )
    expect(page.locator(".session-card .badge-almost")).to_have_count(10)
    assert overflowing == []

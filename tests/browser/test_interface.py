"""The public pages as people use them: the timetable's layout from phone to wide screen,
keyboard use, and an axe-core accessibility audit (no serious or critical violations)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WIDE

pytestmark = pytest.mark.browser


def card(page, title: str):
    return page.locator("article.session-card").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )


def box(locator) -> dict:
    result = locator.bounding_box()
    assert result is not None, "not rendered"
    return result


def test_the_programme_is_a_timetable_on_wide_screens(demo_event, new_page, screenshot):
    page = new_page(viewport=WIDE)
    page.goto(f"/events/{demo_event.slug}/")
    timetable = page.locator(".timetable").first
    assert timetable.evaluate("e => getComputedStyle(e).display") == "grid"

    lean = box(card(page, "Van lean naar smart management"))
    schooling = box(card(page, "Scholing en omscholing: leren in de fabriek"))
    later = box(card(page, "Smart Connected Supplier Network"))
    opening = box(card(page, "Plenaire opening"))
    # Parallel workshops side by side in their rooms' columns; the next round below them.
    assert abs(lean["y"] - schooling["y"]) < 1
    assert schooling["x"] > lean["x"] + lean["width"] - 1
    assert abs(later["x"] - lean["x"]) < 1 and later["y"] > lean["y"] + lean["height"]
    # Each room's name heads its column.
    studio = box(page.locator(".tt-room-head", has_text="Studio 1"))
    assert abs(studio["x"] - lean["x"]) < 1
    # A plenary with nothing in parallel spans all the rooms.
    assert opening["width"] > 4 * lean["width"]
    no_overflow = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow)
    screenshot(page, "programme-wide", max_height=1300)


def test_the_programme_is_a_list_on_phones(demo_event, new_page, screenshot):
    page = new_page(viewport=PHONE)
    page.goto(f"/events/{demo_event.slug}/")
    timetable = page.locator(".timetable").first
    assert timetable.evaluate("e => getComputedStyle(e).display") == "block"
    lean = box(card(page, "Van lean naar smart management"))
    schooling = box(card(page, "Scholing en omscholing: leren in de fabriek"))
    assert abs(lean["x"] - schooling["x"]) < 1 and schooling["y"] > lean["y"]
    # The room, a column heading on wide screens, is in the card's own text here.
    expect(card(page, "Van lean naar smart management")).to_contain_text("Studio 1")
    expect(page.locator(".tt-room-head").first).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator(".programme-day").first.evaluate("e => e.scrollIntoView()")
    screenshot(page, "programme-phone", full_page=False)


def test_keyboard_users_skip_to_the_content_and_reach_errors(demo_event, page):
    page.goto(f"/events/{demo_event.slug}/register")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Naar de inhoud")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Naam", exact=True)).to_be_focused()

    page.get_by_role("button", name="Aanmelden").click()  # everything still empty
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    expect(page.get_by_label("Naam", exact=True)).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name=re.compile("^Naam")).click()
    expect(page.get_by_label("Naam", exact=True)).to_be_focused()


def test_public_pages_pass_the_accessibility_audit(demo_event, new_page, axe_audit):
    wide, phone = new_page(), new_page(viewport=PHONE)
    for page in (wide, phone):
        page.goto(f"/events/{demo_event.slug}/")
        assert axe_audit(page) == [], page.viewport_size

    page = new_page(locale="en-GB")
    page.goto(f"/events/{demo_event.slug}/register")
    assert axe_audit(page) == []
    page.get_by_label("Email", exact=True).fill("not an address")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#form-errors")).to_contain_text("Your registration is not complete yet.")
    assert axe_audit(page) == []

    page.get_by_label("Name", exact=True).fill("Noor Jansen")
    page.get_by_label("Email", exact=True).fill("noor@example.nl")
    page.get_by_label("I agree that my data").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("you are registered")
    assert axe_audit(page) == []

    page.goto(f"/events/{demo_event.slug}/")  # now with "your choice" and clash badges
    expect(page.locator(".badge-chosen").first).to_be_visible()
    assert axe_audit(page) == []

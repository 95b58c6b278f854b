"""Waiting for a full workshop with a fallback, in Chromium (issue 19.4): the form offers
the other workshops of the round, passes the accessibility audit, and the confirmation says
which place is kept meanwhile."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Event, EventSession
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.browser.test_registration import agree, fill_about_you, option, registrations_of

pytestmark = pytest.mark.browser

FULL = "Fieldlab demo: Flexible Manufacturing"
KEPT = "Van lean naar smart management"


@pytest.fixture
def full_workshop(demo_event):
    """The demo's Lab 4 demo of round 1 with every seat taken."""
    session = db.session.scalar(select(EventSession).where(EventSession.title == FULL))
    session.seats_taken = session.capacity
    db.session.commit()
    db.session.remove()
    return demo_event


def test_wait_for_a_full_workshop_and_keep_another_meanwhile(full_workshop, page, axe_audit):
    page.goto(f"/events/{full_workshop.slug}/register")
    fallback = page.get_by_label("Zolang je wacht op een volle workshop")
    expect(fallback).to_have_count(1)  # round 1 only: the other rounds have no full workshop

    fill_about_you(page, "Fatima El Amrani", "fatima@example.nl", "Fieldlab Campione")
    expect(fallback).to_be_hidden()  # only while the round's choice is a full workshop
    option(page, FULL).get_by_role("radio").check()
    expect(fallback).to_be_visible()
    page.get_by_label("Zet me op de wachtlijst als een sessie vol is").check()
    fallback.select_option(label=KEPT)
    assert axe_audit(page) == []
    agree(page)
    page.get_by_role("button", name="Aanmelden").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("je bent aangemeld")
    waiting = page.locator(".my-sessions li").filter(has_text=FULL)
    expect(waiting).to_contain_text("Op de wachtlijst, plaats 1")
    expect(waiting.locator(".fallback-note")).to_contain_text(KEPT)
    assert axe_audit(page) == []
    stored = registrations_of("fatima@example.nl")
    assert FULL in stored["waitlisted"] and KEPT in stored["confirmed"]


def test_without_javascript_the_fallback_is_there_all_the_same(full_workshop, new_page):
    page = new_page(javascript=False)
    page.goto(f"/events/{full_workshop.slug}/register")
    expect(page.get_by_label("Zolang je wacht op een volle workshop")).to_be_visible()


def test_choose_and_change_the_fallback_later_on_the_manage_page(full_workshop, page, axe_audit):
    """Registered for the full workshop's waiting list without a fallback: the manage page
    keeps a place elsewhere later, then gives it back, in English."""
    event = db.session.get(Event, full_workshop.id)
    full = db.session.scalar(select(EventSession).where(EventSession.title == FULL))
    data = RegistrationInput(
        name="Sam", email="sam@example.org", session_ids=[full.id], consent=True, waitlist=True,
        locale="en",
    )  # fmt: skip
    token = registration.register(event, data, datetime.now(UTC)).manage_token
    db.session.commit()
    db.session.remove()

    page.goto(f"/manage/{token}")
    waiting = page.locator(".my-sessions li").filter(has_text="Fieldlab demo: Flexible")
    choice = waiting.get_by_label("While you wait, keep a place in")
    choice.select_option(label="From lean to smart management")  # the English title
    assert axe_audit(page) == []
    waiting.locator(".fallback-form button").click()
    expect(page.get_by_text("Your choice while you wait has been saved.")).to_be_visible()
    expect(waiting.locator(".fallback-note")).to_contain_text("From lean to smart management")
    assert KEPT in registrations_of("sam@example.org")["confirmed"]

    waiting.get_by_label("While you wait, keep a place in").select_option(label="No other workshop")
    waiting.locator(".fallback-form button").click()
    expect(waiting.locator(".fallback-note")).to_have_count(0)
    assert KEPT not in registrations_of("sam@example.org").get("confirmed", [])
    assert axe_audit(page) == []

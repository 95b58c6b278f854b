"""The priority groups page in Chromium on a phone: every member's remove button within reach
(no sideways scrolling, even for a long address), one member removed with a tap, and the
page passes the accessibility audit."""

import pytest
from playwright.sync_api import expect

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, PriorityGroup
from eventapp.services.allocation import groups
from tests.allocation_support import preference_event
from tests.browser.conftest import PHONE, facts
from tests.browser.test_organiser_dashboard import NO_SIDEWAYS_SCROLL, sign_in

pytestmark = pytest.mark.browser
LONG_EMAIL = "wilhelmina.van.oranje-nassau.de.hoofdorganisator@example.org"


@pytest.fixture
def group_event(make_event, make_session, make_organiser, now):
    """Three people in a group for Robots, one with a long address, and an organiser."""
    event = preference_event(
        make_event, make_session, now, people=3, workshops={"Robots": 2, "Sensors": 4}
    )
    longest = db.session.scalar(db.select(Attendee).where(Attendee.email == "p2@example.org"))
    longest.email = longest.email_normalized = LONG_EMAIL
    robots = db.session.scalar(db.select(EventSession.id).where(EventSession.title == "Robots"))
    groups.create_group(
        event,
        None,
        session_id=str(robots),
        name="Speakers' guests",
        emails=f"p0@example.org\np1@example.org\n{LONG_EMAIL}",
        now=now,
    )
    make_organiser("organiser", "prio@example.org")
    db.session.commit()
    return facts(event)


def test_members_are_removed_on_a_phone(group_event, new_page, axe_audit, screenshot):
    page = new_page(viewport=PHONE, locale="en-GB")
    sign_in(page, "prio@example.org")
    page.goto(f"/organiser/events/{group_event.slug}/allocation/priority")
    expect(page.locator(".priority-count")).to_have_text("3 members")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    for button in page.locator(".priority-members button").all():
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert axe_audit(page) == []
    screenshot(page, "organiser-priority-groups-phone")

    row = page.locator(".priority-members tr", has_text="p0@example.org")
    row.get_by_role("button", name="Remove").click()
    expect(page.locator(".flash-success")).to_contain_text("P0 removed from the priority group.")
    expect(page.locator(".priority-count")).to_have_text("2 members")
    expect(page.locator(".priority-members")).not_to_contain_text("p0@example.org")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    db.session.remove()
    (group,) = db.session.scalars(db.select(PriorityGroup)).all()
    assert sorted(m.attendee.name for m in group.members) == ["P1", "P2"]
    db.session.remove()


def test_the_dry_run_table_scrolls_in_its_frame_on_a_phone(group_event, new_page, axe_audit):
    """The quality table has eight columns (the misses per person among them, from the
    allocation trial) and the priority report six: on a phone they scroll inside their
    frames, the page never sideways (the priority report stretched it before)."""
    page = new_page(viewport=PHONE, locale="en-GB")
    sign_in(page, "prio@example.org")
    page.goto(f"/organiser/events/{group_event.slug}/allocation")
    page.get_by_role("button", name="Dry run").click()
    table = page.locator("table.allocation-quality")
    expect(table.locator("tr[data-method=optimal] td.by-misses")).not_to_have_text("–")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert axe_audit(page) == []

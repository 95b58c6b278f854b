"""The attendee's private page in a real browser: change the sessions, cancel one session,
then cancel the whole registration; each step asks first and says what happened."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee

pytestmark = pytest.mark.browser


@pytest.fixture
def manage_url(anne):
    """Anne's manage page (tests/browser/conftest.py)."""
    return anne[0]


def held_sessions() -> tuple[str, dict[str, str]]:
    """Anne's status and {session title: registration status}, as the server stored them."""
    db.session.remove()
    anne = db.session.scalar(select(Attendee).where(Attendee.email == "anne@example.nl"))
    result = anne.status, {r.session.title: r.status for r in anne.registrations}
    db.session.remove()
    return result


def test_change_and_cancel_on_the_manage_page(manage_url, page, screenshot, axe_audit):
    page.goto(manage_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Je aanmelding")
    mine = page.locator(".my-sessions")
    expect(mine).to_contain_text("Van lean naar smart management")
    assert axe_audit(page) == []
    screenshot(page, "manage", max_height=1600)

    # Swap the round 1 workshop for another one, and add the closing plenary.
    page.get_by_role("radio", name=re.compile("Scholing en omscholing")).check()
    page.get_by_role("checkbox", name=re.compile("Plenaire afsluiting")).check()
    page.get_by_role("button", name="Mijn sessies opslaan").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Je sessies zijn gewijzigd. We hebben je een e-mail gestuurd."
    )
    expect(mine).to_contain_text("Scholing en omscholing: leren in de fabriek")
    expect(mine).not_to_contain_text("Van lean naar smart management")
    _, sessions = held_sessions()
    assert {t for t, s in sessions.items() if s == "confirmed"} == {
        "Plenaire opening",
        "Scholing en omscholing: leren in de fabriek",
        "Plenaire afsluiting: Fieldlabs 2018",
    }

    # Cancel one session: a confirmation page first, with a way back.
    mine.locator("li").filter(has_text="Plenaire opening").get_by_role(
        "link", name=re.compile("Annuleren")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("“Plenaire opening” annuleren")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Ja, annuleer deze sessie").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Je bent niet meer aangemeld voor “Plenaire opening”."
    )
    expect(mine).not_to_contain_text("Plenaire opening")
    assert held_sessions()[1]["Plenaire opening"] == "cancelled"

    # Cancel everything.
    page.get_by_role("link", name="Mijn hele aanmelding annuleren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Je aanmelding annuleren")
    page.get_by_role("button", name="Ja, annuleer mijn aanmelding").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Je aanmelding is geannuleerd. We hebben je een e-mail gestuurd."
    )
    expect(page.locator(".notice-warning").first).to_contain_text("Deze aanmelding is geannuleerd.")
    status, sessions = held_sessions()
    assert status == "cancelled"
    assert set(sessions.values()) == {"cancelled"}

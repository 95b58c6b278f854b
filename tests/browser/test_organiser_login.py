"""An organiser signs in (after a typo in the password), sees the dashboard in the same look
as the public pages, opens the event's dashboard and signs out."""

import re

import pytest
from playwright.sync_api import expect

from eventapp.extensions import db
from eventapp.services.backoffice.accounts import create_organiser, grant_event_role
from tests.conftest import ORGANISER_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def organiser_email(app, demo_event):
    planner = create_organiser("planner@example.nl", ORGANISER_PASSWORD, role="organiser")
    db.session.flush()
    grant_event_role(planner, demo_event.id, "organiser")  # roles are per event (issue 18)
    db.session.commit()
    db.session.remove()
    return "planner@example.nl"


def test_organiser_signs_in_and_sees_the_dashboard(
    demo_event, organiser_email, page, screenshot, axe_audit
):
    page.goto("/organiser/")
    expect(page).to_have_url(re.compile(r"/organiser/login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen voor organisatoren")
    expect(page.locator(".flash")).to_contain_text("Log in om deze pagina te zien.")
    assert axe_audit(page) == []

    page.get_by_label("E-mail", exact=True).fill(organiser_email)
    page.get_by_label("Wachtwoord", exact=True).fill("not the password")
    page.get_by_role("button", name="Inloggen").click()
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text(
        "Onjuist e-mailadres of wachtwoord, of te veel mislukte pogingen."
    )
    expect(errors).to_be_focused()
    assert axe_audit(page) == []

    page.get_by_label("Wachtwoord", exact=True).fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(re.compile(r"/organiser/$"))
    # With a single event, the dashboard is that event's dashboard.
    expect(page.get_by_role("heading", level=1)).to_have_text(demo_event.name)
    expect(page.locator("#totals")).to_be_visible()
    sessions = page.locator("table").filter(has_text="Plenaire opening")
    expect(sessions.locator("tbody tr")).to_have_count(23)
    # The organiser pages share the stylesheet: the same header, navigation and badges.
    header_bg = page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(255, 255, 255)"
    current = page.locator(".organiser-nav a[aria-current]")
    assert current.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    screenshot(page, "organiser-dashboard", max_height=1400)

    page.locator(".organiser-nav").get_by_role("link", name="Deelnemers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deelnemers")

    page.get_by_role("button", name="Uitloggen").click()
    expect(page.locator(".flash")).to_contain_text("Je bent uitgelogd.")
    page.goto("/organiser/")
    expect(page).to_have_url(re.compile(r"/organiser/login"))

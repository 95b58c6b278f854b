"""The shared pages in a real browser (eventapp/page_cache.py): two visitors get the form
from one shared copy, each with a CSRF token of their own, and each registers with it; the
programme then marks each one's own choice, not the other's."""

import re

import pytest
from playwright.sync_api import expect

from eventapp.extensions import cache
from tests.browser.test_registration import agree, fill_about_you, registrations_of

pytestmark = pytest.mark.browser


@pytest.fixture
def shared_cache(app):
    """The served app shares its pages (the suite's config renders them per request)."""
    app.config.update(CACHE_TYPE="SimpleCache", SEAT_FIGURES_MAX_AGE=60)
    cache.init_app(app)
    yield
    app.config["CACHE_TYPE"] = "NullCache"
    cache.init_app(app)


def test_two_visitors_register_through_one_shared_form(demo_event, new_page, shared_cache):
    first, second = new_page(), new_page()
    form = f"/events/{demo_event.slug}/register"
    first.goto(form)  # rendered for the first visitor and stored
    second.goto(form)  # the second gets the stored copy
    tokens = [p.locator('input[name="csrf_token"]').get_attribute("value") for p in (first, second)]
    assert all(tokens) and tokens[0] != tokens[1]

    people = (
        (second, "Bo Jansen", "bo@example.nl", "Scholing en omscholing: leren in de fabriek"),
        (first, "Anne de Vries", "anne@example.nl", "Van lean naar smart management"),
    )
    for page, name, email, workshop in people:
        fill_about_you(page, name, email, "Metaalbedrijf Oost")
        page.get_by_role("radio", name=re.compile(workshop)).check()
        agree(page)
        page.get_by_role("button", name="Aanmelden").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Bedankt, {name}: je bent aangemeld"
        )
        assert workshop in registrations_of(email)["confirmed"]

    for page, _name, _email, workshop in people:
        page.goto(f"/events/{demo_event.slug}/")
        chosen = page.locator("article").filter(has=page.locator(".badge-chosen"))
        expect(chosen).to_have_count(4)  # three plenaries and their own workshop
        expect(chosen.filter(has_text=workshop)).to_have_count(1)

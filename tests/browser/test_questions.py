"""Registration questions in Chromium (issue 19.3): the demo's questions on the form, each by
its kind with its own label, a required one refused beside itself when left open, the
answers stored and shown again on the personal page, with the axe-core audit at 0 serious
and 0 critical on each."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, Event
from eventapp.models.types import utcnow
from eventapp.services.backoffice.accounts import create_organiser
from eventapp.services.registration import answers, questions
from tests.browser.test_organiser_dashboard import sign_in
from tests.browser.test_registration import agree, fill_about_you
from tests.conftest import ORGANISER_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def with_required_question(demo_event):
    """The demo's two optional questions, and a required yes/no question after them."""
    event = db.session.get(Event, demo_event.id)
    questions.create_question(
        None,
        event,
        {
            "key": "photos",
            "kind": "yes_no",
            "required": True,
            "text_nl": "Mogen we foto's van je maken?",
            "text_en": "May we take photos of you?",
        },
        utcnow(),
    )
    db.session.commit()
    db.session.remove()
    return demo_event


def stored_answers(email: str) -> dict:
    db.session.remove()
    attendee = db.session.scalar(select(Attendee).where(Attendee.email == email))
    found = answers.answers_by_key(attendee)
    db.session.remove()
    return found


def test_answer_the_questions_on_the_form_and_change_them_later(
    with_required_question, page, axe_audit, screenshot
):
    page.goto(f"/events/{with_required_question.slug}/register")
    hub = page.get_by_role("group", name="Bij welke Smart Industry hub hoor je? (optioneel)")
    diet = page.get_by_role("group", name="Dieetwensen voor de lunch (optioneel)")
    photos = page.get_by_role("group", name="Mogen we foto's van je maken?", exact=True)
    expect(hub.get_by_role("radio")).to_have_count(7)  # six hubs and "no answer"
    expect(diet.get_by_role("checkbox")).to_have_count(5)
    expect(photos.get_by_role("radio")).to_have_count(2)  # required: no "no answer"
    assert axe_audit(page) == []

    fill_about_you(page, "Noor Visser", "noor@example.nl", "Precisie Delft")
    hub.get_by_label("SMITZH (Zuid-Holland)").check()
    diet.get_by_label("Vegetarisch").check()
    diet.get_by_label("Glutenvrij").check()
    agree(page)
    page.get_by_role("button", name="Aanmelden").click()

    # The required question left open: refused beside it, the other answers kept.
    error = page.locator("#answers\\.photos-error")
    expect(error).to_have_text("Dit veld is verplicht.")
    expect(page.locator(".form-errors")).to_contain_text("Mogen we foto's van je maken?")
    expect(hub.get_by_label("SMITZH (Zuid-Holland)")).to_be_checked()
    assert axe_audit(page) == []
    page.locator("fieldset.question").first.scroll_into_view_if_needed()
    screenshot(page, "register-questions", full_page=False)
    photos.get_by_label("Nee").check()
    agree(page)
    page.get_by_role("button", name="Aanmelden").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("je bent aangemeld")
    assert stored_answers("noor@example.nl") == {
        "hub": "smitzh",
        "dieet": ["vegetarisch", "glutenvrij"],
        "photos": False,
    }

    page.locator("a.private-link").click()
    section = page.locator("section").filter(has=page.get_by_role("heading", name="Je antwoorden"))
    expect(section.get_by_label("SMITZH (Zuid-Holland)")).to_be_checked()
    expect(section.get_by_label("Nee")).to_be_checked()
    assert axe_audit(page) == []
    section.get_by_label("Ja", exact=True).check()
    section.get_by_label("Glutenvrij").uncheck()
    section.get_by_role("button", name="Mijn antwoorden opslaan").click()
    expect(page.locator(".flash")).to_contain_text("Je antwoorden zijn opgeslagen.")
    assert stored_answers("noor@example.nl") == {
        "hub": "smitzh",
        "dieet": ["vegetarisch"],
        "photos": True,
    }


@pytest.fixture
def organiser_of_the_demo(demo_event):
    """An admin account (every event); facts only, no open transaction."""
    create_organiser("boss@example.org", ORGANISER_PASSWORD, role="admin")
    db.session.commit()
    db.session.remove()
    return demo_event


def test_the_organiser_adds_and_reorders_a_question(organiser_of_the_demo, page, axe_audit):
    sign_in(page, "boss@example.org")
    page.goto(f"/organiser/events/{organiser_of_the_demo.slug}/questions")
    table = page.locator("#questions")
    expect(table.locator("tbody tr")).to_have_count(2)
    assert axe_audit(page) == []

    page.get_by_role("link", name="Vraag toevoegen").click()
    page.get_by_label("Vraag in het Nederlands").fill("Heb je een rolstoelplek nodig?")
    page.get_by_label("Vraag in het Engels").fill("Do you need a wheelchair space?")
    page.get_by_label("Soort antwoord").select_option("yes_no")
    page.get_by_label("Een antwoord is verplicht").check()
    assert axe_audit(page) == []
    page.get_by_role("button", name="Opslaan").click()

    expect(page.locator(".flash")).to_contain_text("Vraag opgeslagen.")
    expect(table.locator("tbody tr")).to_have_count(3)
    table.locator("tbody tr").last.get_by_role("button", name="Omhoog").click()
    expect(table.locator("tbody tr").nth(1)).to_contain_text("rolstoelplek")
    assert axe_audit(page) == []

    page.goto(f"/events/{organiser_of_the_demo.slug}/register")
    expect(
        page.get_by_role("group", name="Heb je een rolstoelplek nodig?", exact=True)
    ).to_be_visible()

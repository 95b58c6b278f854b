"""Registering for the demo event in a real browser, in Dutch and in English; the schedule
conflict shown before submitting, and the server's own conflict and full-session errors."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput

pytestmark = pytest.mark.browser

PLENARIES = {
    "Plenaire opening",
    "De regionale Smart Industry hubs",
    "Plenaire afsluiting: Fieldlabs 2018",
}


def session_titled(event_id: int, title: str) -> EventSession:
    return db.session.scalar(
        select(EventSession).where(EventSession.event_id == event_id, EventSession.title == title)
    )


def registrations_of(email: str) -> dict[str, set[str]] | None:
    """{status: session titles} of the attendee the server stored, or None."""
    db.session.remove()  # a fresh transaction sees what the server committed
    attendee = db.session.scalar(select(Attendee).where(Attendee.email == email))
    result = None
    if attendee is not None:
        result = {"locale": attendee.locale}
        for r in attendee.registrations:
            result.setdefault(r.status, set()).add(r.session.title)
    db.session.remove()  # and ends before the browser asks the server for more
    return result


def option(page, title: str):
    """The list item of a session option on the form, found by its title."""
    return page.locator("li.option").filter(has=page.get_by_role("radio", name=re.compile(title)))


def fill_about_you(page, name, email, organisation, *, dutch=True):
    page.get_by_label("Naam" if dutch else "Name", exact=True).fill(name)
    page.get_by_label("E-mail" if dutch else "Email", exact=True).fill(email)
    page.get_by_label(
        "Organisatie (optioneel)" if dutch else "Organisation (optional)", exact=True
    ).fill(organisation)


def agree(page, dutch=True):
    page.get_by_label("Ik ga ermee akkoord" if dutch else "I agree that my data").check()


@pytest.fixture
def early_demo(app, demo_event):
    """A workshop during the opening plenary: choosing both is a schedule conflict."""
    opening = session_titled(demo_event.id, "Plenaire opening")
    early = EventSession(
        event=opening.event,
        kind="workshop",
        title="Vroege rondleiding door het fieldlab",
        starts_at=opening.starts_at + timedelta(minutes=30),
        ends_at=opening.starts_at + timedelta(minutes=90),
        room=next(r for r in opening.event.rooms if r.name == "Lab 4"),
        capacity=12,
    )
    db.session.add(early)
    db.session.commit()
    db.session.remove()
    return demo_event


def test_register_for_the_demo_event_in_dutch(demo_event, page, screenshot):
    page.goto(f"/events/{demo_event.slug}/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    page.get_by_role("link", name="Aanmelden", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Aanmelden voor Smart Industry Jaarevent 2027"
    )
    fill_about_you(page, "Anne de Vries", "anne@example.nl", "Metaalbedrijf Oost")
    page.get_by_role("radio", name=re.compile("Van lean naar smart management")).check()
    page.get_by_role("radio", name=re.compile("Digital twins voor het mkb")).check()
    agree(page)
    page.get_by_role("button", name="Aanmelden").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bedankt, Anne de Vries: je bent aangemeld"
    )
    sent = page.get_by_text("We hebben een bevestiging gestuurd naar anne@example.nl.")
    expect(sent).to_be_visible()
    stored = registrations_of("anne@example.nl")
    assert stored["locale"] == "nl"
    assert stored["confirmed"] == PLENARIES | {
        "Van lean naar smart management",
        "Digital twins voor het mkb",
    }
    screenshot(page, "confirmation")

    # Back on the programme, the choices and what clashes with them are marked.
    page.get_by_role("link", name="Terug naar het programma").click()
    chosen = page.locator("article").filter(has_text="Van lean naar smart management")
    expect(chosen.locator(".badge-chosen")).to_have_text("Jouw keuze")
    parallel = page.locator("article").filter(has_text="Scholing en omscholing")
    expect(parallel.locator(".badge-clash")).to_have_text("Overlapt met je keuze")
    expect(parallel.locator(".badge-chosen")).to_have_count(0)


def test_register_in_english_then_switch_to_dutch(demo_event, new_page):
    page = new_page(locale="en-GB")
    page.goto(f"/events/{demo_event.slug}/register")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Register for Smart Industry Annual Event 2027"  # the demo's English name
    )
    expect(page.locator(".event-meta")).to_contain_text(
        demo_event.starts_at.astimezone(demo_event.tz).strftime("%A, %B %-d, %Y, 09:00")
    )
    fill_about_you(page, "Sam Smith", "sam@example.com", "Twente Robotics", dutch=False)
    page.get_by_role("radio", name=re.compile("Fieldlab demo: Flexible Manufacturing")).check()
    agree(page, dutch=False)
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, Sam Smith: you are registered"
    )
    stored = registrations_of("sam@example.com")
    assert stored["locale"] == "en"
    assert "Fieldlab demo: Flexible Manufacturing" in stored["confirmed"]

    page.get_by_role("link", name="Nederlands").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bedankt, Sam Smith: je bent aangemeld"
    )


def test_the_form_shows_a_schedule_conflict_before_submitting(early_demo, page):
    page.goto(f"/events/{early_demo.slug}/register")
    early = option(page, "Vroege rondleiding")
    # The opening plenary is pre-selected, so the early workshop is marked before it is chosen.
    expect(early).to_have_class(re.compile(r"\bis-clash\b"))
    expect(early.locator(".clash-note")).to_contain_text("Overlapt met je keuze “Plenaire opening")

    early.get_by_role("radio").check()
    expect(early).to_have_class(re.compile(r"\bis-clash-chosen\b"))
    summary = page.locator("#clash-summary")
    expect(summary).to_contain_text(
        "“Plenaire opening” en “Vroege rondleiding door het fieldlab” overlappen in tijd."
    )
    fill_about_you(page, "Joost Bakker", "joost@example.nl", "Bakker Staal")
    agree(page)
    page.get_by_role("button", name="Aanmelden").click()
    expect(summary).to_be_focused()  # not sent: the clash is read out first
    assert page.url.endswith("/register")
    assert registrations_of("joost@example.nl") is None

    page.get_by_role("checkbox", name=re.compile("Plenaire opening")).uncheck()
    page.get_by_role("checkbox", name=re.compile("De regionale Smart Industry hubs")).uncheck()
    expect(summary).to_be_empty()
    expect(early).not_to_have_class(re.compile(r"\bis-clash"))
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("je bent aangemeld")
    stored = registrations_of("joost@example.nl")
    assert "Vroege rondleiding door het fieldlab" in stored["confirmed"]


def test_without_javascript_the_server_refuses_the_conflict(early_demo, new_page, screenshot):
    page = new_page(javascript=False)
    page.goto(f"/events/{early_demo.slug}/register")
    fill_about_you(page, "Joost Bakker", "joost@example.nl", "Bakker Staal")
    option(page, "Vroege rondleiding").get_by_role("radio").check()
    agree(page)
    page.get_by_role("button", name="Aanmelden").click()

    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("Je aanmelding is nog niet compleet.")
    expect(errors).to_contain_text(
        "“Plenaire opening” (09:30–10:30) en “Vroege rondleiding door het fieldlab” "
        "(10:00–11:00) vinden tegelijk plaats. Kies er één."
    )
    early = option(page, "Vroege rondleiding")
    expect(early).to_have_class(re.compile(r"\bis-problem\b"))
    expect(early.locator(".clash-note")).to_have_text(
        "Deze sessie overlapt met een andere keuze van je."
    )
    expect(page.get_by_label("Naam", exact=True)).to_have_value("Joost Bakker")
    assert registrations_of("joost@example.nl") is None
    screenshot(page, "register-error", max_height=1400)


def test_a_full_session_is_refused_until_the_waiting_list_is_chosen(demo_event, page):
    demo = session_titled(demo_event.id, "Fieldlab demo: Flexible Manufacturing")
    demo.capacity = 2
    db.session.commit()
    for number in (1, 2):
        registration.register(
            demo.event,
            RegistrationInput(
                name=f"Vroege vogel {number}",
                email=f"vogel{number}@example.nl",
                session_ids=[demo.id],
                consent=True,
            ),
            datetime.now(UTC),
        )
    db.session.commit()
    title = demo.title
    db.session.remove()

    page.goto(f"/events/{demo_event.slug}/register")
    full = option(page, "Fieldlab demo: Flexible Manufacturing")
    expect(full.locator(".badge-full")).to_contain_text("Vol")
    fill_about_you(page, "Fatima El Amrani", "fatima@example.nl", "Brainport Precisie")
    full.get_by_role("radio").check()
    agree(page)
    page.get_by_role("button", name="Aanmelden").click()

    expect(page.locator("#form-errors")).to_contain_text(
        "Vol: “Fieldlab demo: Flexible Manufacturing”."
    )
    expect(page.locator("#form-errors")).to_be_focused()
    expect(full.locator(".clash-note")).to_contain_text("Deze sessie is vol.")
    assert registrations_of("fatima@example.nl") is None

    page.get_by_label("Zet me op de wachtlijst als een sessie vol is").check()
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("je bent aangemeld")
    waiting = page.locator(".my-sessions li").filter(has_text="Flexible Manufacturing")
    expect(waiting.locator(".badge")).to_have_text("Op de wachtlijst, plaats 1")
    assert registrations_of("fatima@example.nl")["waitlisted"] == {title}

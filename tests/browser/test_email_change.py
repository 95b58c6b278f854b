"""Changing one's email address in Chromium (issue 19.6): asked for on the private page,
confirmed on the page the emailed link opens; both pages pass the accessibility audit."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession
from eventapp.services.registration import email_change
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput

pytestmark = pytest.mark.browser


def stored_email() -> tuple[str, str | None]:
    db.session.remove()
    anne = db.session.scalar(select(Attendee).where(Attendee.name == "Anne de Vries"))
    result = anne.email, anne.pending_email
    db.session.remove()
    return result


def change_link() -> str:
    db.session.remove()
    anne = db.session.scalar(select(Attendee).where(Attendee.name == "Anne de Vries"))
    path = f"/email-change/{email_change.email_change_token(anne)}"
    db.session.remove()
    return path


def test_change_the_email_address_and_keep_the_seats(demo_event, page, axe_audit):
    opening = db.session.scalar(
        select(EventSession).where(EventSession.title == "Plenaire opening")
    )
    result = registration.register(
        opening.event,
        RegistrationInput(
            name="Anne de Vries", email="anne@example.nl", session_ids=[opening.id], consent=True
        ),
        datetime.now(UTC),
    )
    db.session.commit()
    manage = f"/manage/{result.manage_token}"
    db.session.remove()

    page.goto(manage)
    page.get_by_label("Nieuw e-mailadres").fill("anne.devries@example.nl")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Mijn e-mailadres wijzigen").click()
    expect(page.locator(".flash-success")).to_contain_text("anne.devries@example.nl")
    assert stored_email() == ("anne@example.nl", "anne.devries@example.nl")

    page.goto(change_link())
    expect(page.get_by_role("heading", level=1)).to_have_text("Bevestig je nieuwe e-mailadres")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Ja, gebruik dit adres").click()
    expect(page.locator(".flash-success")).to_contain_text("anne.devries@example.nl")
    expect(page.locator(".my-sessions")).to_contain_text("Plenaire opening")
    assert stored_email() == ("anne.devries@example.nl", None)

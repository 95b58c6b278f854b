"""The ticket in a real browser: the QR code as Chromium draws it on the manage page and the
printable ticket reads back (zxing-cpp, regular QR only) as the attendee's code; the ticket
page passes the accessibility audit on a laptop and a phone, and prints without the site's
header, footer and buttons."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.qr_reading import read_qr

pytestmark = pytest.mark.browser


def qr_as_drawn(page) -> list[str]:
    """The check-in QR code as Chromium paints it, read by the door's decoder."""
    return read_qr(page.locator("img.checkin-qr").screenshot())


def fits_its_width(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_the_manage_page_shows_a_scannable_qr_code_and_links_the_ticket(anne, page, axe_audit):
    manage_path, code, event_name = anne
    page.goto(manage_path)
    card = page.locator(".ticket-card")
    expect(card).to_contain_text("Je code")
    expect(card).to_contain_text(code)
    assert qr_as_drawn(page) == [code]
    assert axe_audit(page) == []
    card.get_by_role("link", name="Ticket om te printen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(event_name)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["wide", "phone"])
def test_the_printable_ticket(anne, new_page, screenshot, axe_audit, viewport):
    manage_path, code, _event_name = anne
    page = new_page(viewport=viewport)
    page.goto(f"{manage_path}/ticket")
    ticket = page.locator(".ticket")
    for text in ("Anne de Vries", "Metaalbedrijf Oost", code, "Van lean naar smart management"):
        expect(ticket).to_contain_text(text)
    assert qr_as_drawn(page) == [code]
    assert axe_audit(page) == []
    assert fits_its_width(page)
    screenshot(page, f"ticket-{'phone' if viewport else 'wide'}", max_height=1600)

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Afdrukken")).to_be_hidden()
    expect(ticket).to_be_visible()
    assert qr_as_drawn(page) == [code]


def test_the_pdf_ticket_link_serves_a_pdf(anne, page):
    manage_path, _code, _event_name = anne
    page.goto(f"{manage_path}/ticket")
    href = page.get_by_role("link", name="Ticket als pdf").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

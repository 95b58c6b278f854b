"""Name badges: the PDF read back with pypdf (names, organisations, codes, sheets), the QR
code decoded by an independent decoder (zxing-cpp), the preview page, and who may print."""

import io
import re

import numpy as np
import pypdf
import pytest
import segno
import zxingcpp

from eventapp.extensions import db
from eventapp.models import AuditEntry
from eventapp.services.backoffice import badges
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput


def sign_up(event, session, email, now, *, name, organisation=""):
    result = registration.register(
        event,
        RegistrationInput(
            name=name,
            email=email,
            organisation=organisation,
            session_ids=[session.id],
            consent=True,
        ),
        now,
    )
    db.session.commit()
    return result.attendee


@pytest.fixture
def crowd(make_event, make_session, now):
    event = make_event()
    session = make_session(event, kind="plenary", capacity=100, title="Opening")
    people = [
        sign_up(
            event, session, f"p{n}@example.org", now, name=f"Person {n}", organisation=f"Org {n}"
        )
        for n in range(9)
    ]
    return event, people


@pytest.fixture
def organiser(client, make_organiser, login):
    client.get("/lang/en")
    return login(make_organiser("organiser"))


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def raster(matrix: list[list[bool]], scale: int = 8, border: int = 4) -> np.ndarray:
    """A black-on-white image of a module matrix, as a camera would see a printed code."""
    size = len(matrix) + 2 * border
    image = np.full((size, size), 255, dtype=np.uint8)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                image[y + border, x + border] = 0
    return np.kron(image, np.ones((scale, scale), dtype=np.uint8))


def decoded(image: np.ndarray) -> list[tuple[str, str]]:
    """(symbology, text) of every code an independent decoder finds in the image."""
    return [(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)]


def test_the_pdf_holds_every_badge_on_sheets_of_eight(client, organiser, crowd):
    event, people = crowd
    response = client.get(f"/organiser/events/{event.slug}/badges.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pages = pdf_pages(response.data)
    assert len(pages) == 2  # nine badges, eight per A4 sheet
    text = "\n".join(pages)
    for person in people:
        assert person.name in text
        assert person.organisation in text
        assert person.checkin_code in text
    assert db.session.query(AuditEntry).filter_by(action="badges.export").count() == 1


def test_ten_per_sheet_and_a_chosen_few(client, organiser, crowd):
    event, people = crowd
    whole = client.get(f"/organiser/events/{event.slug}/badges.pdf?sheet=a4-2x5")
    assert len(pdf_pages(whole.data)) == 1

    picked = people[2], people[5]
    query = "&".join(f"attendee={p.id}" for p in picked) + "&attendee=%C2%B2&attendee=99999999"
    response = client.get(f"/organiser/events/{event.slug}/badges.pdf?{query}")
    text = "\n".join(pdf_pages(response.data))
    assert sorted(re.findall(r"Person \d", text)) == ["Person 2", "Person 5"]


def test_an_unknown_sheet_is_refused_with_the_sheets_to_choose_from(client, organiser, crowd):
    """Not a PDF silently laid out for the default sheet (the trial's '?sheet=a4-3x8')."""
    event, _people = crowd
    for path in ("badges.pdf", "badges"):
        response = client.get(f"/organiser/events/{event.slug}/{path}?sheet=a4-3x8")
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "Unknown label sheet “a4-3x8”. Choose one of: a4-2x4, a4-2x5." in page
    assert db.session.query(AuditEntry).filter_by(action="badges.export").count() == 0
    assert client.get(f"/organiser/events/{event.slug}/badges.pdf?sheet=").status_code == 200


def test_the_unknown_sheet_message_in_dutch(client, make_organiser, login, crowd):
    event, _people = crowd
    client.get("/lang/nl")
    login(make_organiser("organiser"))
    response = client.get(f"/organiser/events/{event.slug}/badges.pdf?sheet=a4-3x8")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Onbekend etiketvel “a4-3x8”. Kies uit: a4-2x4, a4-2x5." in page


def test_cancelled_attendees_get_no_badge(crowd):
    event, people = crowd
    people[0].status = "cancelled"
    assert [b.name for b in badges.badges_for(people)][:1] == ["Person 1"]


def test_the_badge_qr_is_a_regular_qr_code_an_independent_decoder_reads(crowd):
    event, people = crowd
    code = people[0].checkin_code
    matrix = badges.qr_matrix(code)
    assert len(matrix) >= 21  # regular QR; Micro QR symbols are 11 to 17 modules wide
    assert decoded(raster(matrix)) == [("QRCode", code)]
    # Control: the decoder tells a Micro QR symbol (what segno.make picks for short codes,
    # and what phone cameras do not read) from a regular one.
    micro = segno.make_micro(code)
    assert len(micro.matrix) < 21
    assert decoded(raster([[bool(m) for m in row] for row in micro.matrix])) == [
        ("MicroQRCode", code)
    ]


def test_the_pdf_draws_that_matrix_for_each_badge(client, organiser, crowd):
    event, people = crowd
    response = client.get(f"/organiser/events/{event.slug}/badges.pdf?attendee={people[0].id}")
    page = pypdf.PdfReader(io.BytesIO(response.data)).pages[0]
    rectangles = page.get_contents().get_data().count(b" re")
    dark = sum(sum(row) for row in badges.qr_matrix(people[0].checkin_code))
    assert rectangles == dark


def test_long_names_shrink_then_shorten_inside_the_label():
    width = 50
    name = "Maria Magdalena van Oldenbarnevelt-Tjarda van Starkenborgh Stachouwer"
    size = badges.fitted_size(name, badges.FONT_BOLD, 20, width)
    assert size == 7
    line = badges.clipped(name, badges.FONT_BOLD, size, width)
    assert line.endswith("…") and len(line) < len(name)
    assert badges.clipped("Ada", badges.FONT_BOLD, 20, width) == "Ada"


def test_the_preview_shows_the_first_sheet_with_escaped_names(client, organiser, crowd, now):
    event, people = crowd
    people[0].name = "<script>alert(1)</script>"
    db.session.commit()

    page = client.get(f"/organiser/events/{event.slug}/badges?sheet=a4-2x5").get_data(as_text=True)

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert page.count('class="badge-label"') == 9
    assert page.count("<svg") == 9
    assert "sheet=a4-2x5" in page  # the download keeps the chosen sheet


def test_check_in_staff_cannot_print_badges(client, make_organiser, login, crowd):
    event, _ = crowd
    login(make_organiser("checkin"))
    assert client.get(f"/organiser/events/{event.slug}/badges.pdf").status_code in (302, 403)
    assert client.get(f"/organiser/events/{event.slug}/badges").status_code in (302, 403)


def test_names_beyond_latin_1_print_as_written(client, organiser, make_event, make_session, now):
    """Issue 20: "Yılmaz" printed as "Y■lmaz" on every badge (Helvetica's WinAnsi has no
    dotless i); the badge font is embedded and covers the names of a Dutch crowd."""
    event = make_event()
    session = make_session(event, kind="plenary", capacity=10, title="Opening")
    names = {"Zeynep Yılmaz": "Ağır Sanayi Ş.A.", "Łukasz Dvořák": "Zoë’s Café"}
    people = [
        sign_up(event, session, f"i{n}@example.org", now, name=name, organisation=org)
        for n, (name, org) in enumerate(names.items())
    ]
    response = client.get(f"/organiser/events/{event.slug}/badges.pdf")
    [text] = pdf_pages(response.data)
    for name, organisation in names.items():
        assert name.replace("ř", "r") in text and organisation in text  # Vera has no ř
    assert "■" not in text and "\x00" not in text
    assert all(p.checkin_code in text for p in people)
    fonts = [
        font.get_object()
        for page in pypdf.PdfReader(io.BytesIO(response.data)).pages
        for font in page["/Resources"]["/Font"].values()
    ]
    embedded = [f for f in fonts if "/FontFile2" in f.get("/FontDescriptor", {})]
    assert len(embedded) >= 2  # the names' and the organisations' font travel with the PDF

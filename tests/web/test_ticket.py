"""The ticket (issues 19.5 and 24): one short code, drawn as a regular QR code on the
confirmation email, the confirmation page, the manage page, the printable ticket and the PDF
ticket; each image read back by an independent decoder (tests/qr_reading.py) gives exactly the
code the door's check-in page accepts."""

import io
from datetime import timedelta

import pytest
import segno
from pypdf import PdfReader
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee
from eventapp.services import links
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as service
from eventapp.services.registration import self_service
from eventapp.services.registration.register import RegistrationInput
from tests.qr_reading import pdf_pages_as_images, qr_images_on_page, read_qr


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def programme(make_event, make_session, make_room):
    event = make_event(name="Smart Industry 2027", venue="Evoluon, Eindhoven")
    hall = make_room(event, "Main hall", 200)
    studio = make_room(event, "Studio 1", 20)
    opening = make_session(event, start=0, kind="plenary", title="Opening", room=hall)
    twins = make_session(event, start=1, title="Digital twins", room=studio)
    return event, opening, twins


def sign_up(event, sessions, now, *, name="Ada Lovelace", locale="en", email="ada@example.org"):
    data = RegistrationInput(
        name=name,
        email=email,
        organisation="Engines BV",
        session_ids=[s.id for s in sessions],
        consent=True,
        locale=locale,
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result.attendee, result.manage_token


def door_accepts(client, make_organiser, login, event, code) -> str:
    """Post `code` to the door's check-in page as the check-in role; the page it answers."""
    login(make_organiser("checkin"))
    response = client.post(
        f"/organiser/events/{event.slug}/checkin/code", data={"code": code}, follow_redirects=True
    )
    return response.get_data(as_text=True)


# --- one code -----------------------------------------------------------------------------


def test_a_new_registration_has_one_code_for_reference_and_check_in(programme, now):
    event, opening, twins = programme
    ada, _token = sign_up(event, [opening], now)
    assert ada.reference == ada.checkin_code
    assert len(ada.checkin_code) == 10 and set(ada.checkin_code) <= set(links.CODE_ALPHABET)


def test_an_older_attendee_sees_the_check_in_code_not_the_reference(client, programme, now):
    """Registered before the one code: an 8-letter reference beside the check-in code; the
    pages show the code the door accepts, and nowhere the reference as a second code."""
    event, opening, twins = programme
    old, token = sign_up(event, [opening], now)
    old.reference = links.new_code(service.REFERENCE_LENGTH)
    db.session.commit()
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    assert old.checkin_code in page and old.reference not in page
    ticket = client.get(f"/manage/{token}/ticket").get_data(as_text=True)
    assert old.checkin_code in ticket and old.reference not in ticket
    [image] = qr_images_on_page(page)
    assert read_qr(image) == [old.checkin_code]


# --- the QR code everywhere, read back -----------------------------------------------------


def test_the_emailed_qr_code_reads_back_as_the_code_the_door_accepts(
    client, programme, now, smtp_server, make_organiser, login
):
    event, opening, twins = programme
    ada, _token = sign_up(event, [opening, twins], now)
    send_pending(now=now)
    [message] = smtp_server.messages
    [png] = [
        part.get_payload(decode=True)
        for part in message.walk()
        if part.get_content_type() == "image/png"
    ]
    [code] = read_qr(png)
    assert code == ada.checkin_code
    page = door_accepts(client, make_organiser, login, event, code)
    assert "Checked in: Ada Lovelace" in page
    db.session.expire_all()
    assert db.session.get(Attendee, ada.id).checked_in_at is not None


def test_a_micro_qr_of_the_same_code_is_refused_by_the_decoder(programme, now):
    """The control: the decoder reads what door scanners read, so the old Micro QR (what
    segno.make() picks by itself for a code this short) reads as nothing."""
    event, opening, twins = programme
    ada, _token = sign_up(event, [opening], now)
    assert segno.make(ada.checkin_code, error="m").is_micro  # the bug this guards against

    micro = io.BytesIO()
    segno.make_micro(ada.checkin_code).save(micro, kind="png", scale=6, border=4)
    assert read_qr(micro.getvalue()) == []
    assert read_qr(links.checkin_qr_png(ada.checkin_code)) == [ada.checkin_code]
    assert not links.checkin_qr(ada.checkin_code).is_micro


def test_the_confirmation_page_shows_the_qr_code_and_the_one_code(
    client, programme, make_organiser, login
):
    event, opening, twins = programme
    response = client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Grace Hopper",
            "email": "grace@example.org",
            "plenary": [str(opening.id)],
            "consent": "y",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    grace = db.session.scalar(select(Attendee))
    assert response.status_code == 200 and grace.checkin_code in page
    assert "Your reference" not in page  # one code, not two
    [image] = qr_images_on_page(page)
    [code] = read_qr(image)
    assert code == grace.checkin_code
    assert f"/manage/{links.manage_token(grace)}/ticket.pdf" in page
    assert "Checked in: Grace Hopper" in door_accepts(client, make_organiser, login, event, code)


def test_the_manage_page_and_printable_ticket_show_a_readable_qr_code(client, programme, now):
    event, opening, twins = programme
    ada, token = sign_up(event, [opening, twins], now)
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    [image] = qr_images_on_page(page)
    assert read_qr(image) == [ada.checkin_code]
    assert f"/manage/{token}/ticket" in page

    ticket = client.get(f"/manage/{token}/ticket")
    html = ticket.get_data(as_text=True)
    assert ticket.status_code == 200
    [image] = qr_images_on_page(html)
    assert read_qr(image) == [ada.checkin_code]
    for text in ("Smart Industry 2027", "Ada Lovelace", "Engines BV", "Evoluon, Eindhoven"):
        assert text in html
    for text in ("Opening", "Main hall", "Digital twins", "Studio 1", "10:00–11:00"):
        assert text in html


def test_a_reload_of_the_manage_page_draws_the_qr_code_once(client, programme, now):
    """Drawing the symbol costs more than a registration's SQL (docs/PERFORMANCE.md, eighth
    round): a process draws each code's image once, and every view shows that same image."""
    event, opening, twins = programme
    ada, token = sign_up(event, [opening], now)
    grace, grace_token = sign_up(event, [opening], now, name="Grace", email="grace@example.org")
    first = client.get(f"/manage/{token}").get_data(as_text=True)
    drawn = links.checkin_qr_data_uri.cache_info().misses
    again = client.get(f"/manage/{token}").get_data(as_text=True)
    assert links.checkin_qr_data_uri.cache_info().misses == drawn
    assert qr_images_on_page(again) == qr_images_on_page(first)
    other = client.get(f"/manage/{grace_token}").get_data(as_text=True)
    assert links.checkin_qr_data_uri.cache_info().misses == drawn + 1
    assert read_qr(qr_images_on_page(other)[0]) == [grace.checkin_code]


def test_the_pdf_ticket_has_name_sessions_rooms_and_a_readable_qr_code(client, programme, now):
    event, opening, twins = programme
    ada, token = sign_up(event, [opening, twins], now)
    response = client.get(f"/manage/{token}/ticket.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.get_data()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Smart Industry 2027", "Ada Lovelace", "Engines BV", ada.checkin_code):
        assert expected in text
    for expected in ("Opening", "Main hall", "Digital twins", "Studio 1", "10:00–11:00"):
        assert expected in text
    [page] = pdf_pages_as_images(pdf)
    assert read_qr(page) == [ada.checkin_code]


def test_the_pdf_ticket_speaks_the_attendees_language_and_takes_any_name(client, programme, now):
    """Mark-up in a name reaches ReportLab as text (escaped), not as its paragraph tags."""
    event, opening, twins = programme
    name = "Zoë <b>Ünal</b> & Łukasz"
    ada, token = sign_up(event, [opening], now, name=name, locale="nl")
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")
    response = client.get(f"/manage/{token}/ticket.pdf")
    assert response.status_code == 200
    text = PdfReader(io.BytesIO(response.get_data())).pages[0].extract_text()
    assert name in text
    assert "Je code" in text and "Je sessies" in text and "Zaal" in text


def test_a_cancelled_registration_has_no_qr_code(client, programme, now):
    event, opening, twins = programme
    ada, token = sign_up(event, [opening], now)
    service.cancel_registration(ada, now)
    db.session.commit()
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    assert qr_images_on_page(page) == []
    ticket = client.get(f"/manage/{token}/ticket").get_data(as_text=True)
    assert qr_images_on_page(ticket) == [] and "has been cancelled" in ticket
    pdf = client.get(f"/manage/{token}/ticket.pdf").get_data()
    assert read_qr(pdf_pages_as_images(pdf)[0]) == []
    assert "has been cancelled" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_a_ticket_needs_the_private_link(client, programme):
    assert client.get("/manage/not-a-real-token-at-all-000000/ticket").status_code == 404
    assert client.get("/manage/not-a-real-token-at-all-000000/ticket.pdf").status_code == 404


# --- the lost-link form, where people look for it -----------------------------------------


def test_the_lost_link_form_is_linked_from_the_event_page_the_form_and_the_emails(
    client, programme, now, smtp_server
):
    event, opening, twins = programme
    lost_link = f"/events/{event.slug}/lost-link"
    for path in (f"/events/{event.slug}/", f"/events/{event.slug}/register"):
        page = client.get(path).get_data(as_text=True)
        assert f'href="{lost_link}"' in page, path
    assert client.get(lost_link).status_code == 200

    ada, _token = sign_up(event, [opening], now)
    send_pending(now=now)
    [message] = smtp_server.messages
    [html] = [p.get_content() for p in message.walk() if p.get_content_type() == "text/html"]
    assert f'href="http://localhost{lost_link}"' in html


def test_the_emails_give_the_one_code_also_to_an_older_attendee(programme, now, smtp_server):
    """Before the one code, the confirmation gave a reference and a check-in code; an older
    attendee asking for their link again now gets only the code the door accepts."""
    event, opening, twins = programme
    old, _token = sign_up(event, [opening], now)
    old.reference = links.new_code(service.REFERENCE_LENGTH)
    db.session.commit()
    send_pending(now=now)
    self_service.send_lost_link(event, "ada@example.org")
    db.session.commit()
    send_pending(now=now)
    for message in smtp_server.messages:
        for part in message.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                content = part.get_content()
                assert old.checkin_code in content and old.reference not in content


def test_the_confirmation_page_shows_each_waiting_position(client, make_event, make_session):
    """Two registered on the day registration opened; the form's registration comes later."""
    event = make_event()
    now = event.registration_opens_at + timedelta(hours=1)
    lab = make_session(event, start=1, capacity=1, title="Lab")
    for email in ("first@example.org", "second@example.org"):
        service.register(
            event,
            RegistrationInput(
                name="X", email=email, session_ids=[lab.id], consent=True, waitlist=True
            ),
            now,
        )
    db.session.commit()
    client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Third",
            "email": "third@example.org",
            "round_" + lab.starts_at.strftime("%Y%m%dT%H%M"): str(lab.id),
            "waitlist": "y",
            "consent": "y",
        },
    )
    page = client.get(f"/events/{event.slug}/confirmation").get_data(as_text=True)
    assert "On the waiting list, position 2" in page

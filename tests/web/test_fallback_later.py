"""The seat kept while waiting (issue 19.4), chosen or changed after registering: from the
manage page, and through the API (`fallbacks` when registering and in a PATCH)."""

import html
import re

import flask_babel
import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, OutboxMessage, Registration
from eventapp.services import links
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as service
from eventapp.services.registration import waitlist as waitlist_service
from tests.registering import register
from tests.web.conftest import fresh


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    flask_babel.refresh()


@pytest.fixture
def full_lab(make_event, make_session, now):
    """Round 1: a full Lab (Ada holds its one seat), an open Studio and an open Atelier;
    Bob waits for the Lab without a fallback."""
    event = make_event()
    lab = make_session(event, start=1, capacity=1, title="Lab")
    studio = make_session(event, start=1, capacity=10, title="Studio")
    atelier = make_session(event, start=1, capacity=10, title="Atelier")
    register(event, [lab], now, "ada@example.org")
    bob = register(event, [lab], now, "bob@example.org")
    return event, lab, studio, atelier, bob


def statuses(attendee) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.scalars(select(Registration).where(Registration.attendee_id == attendee.id))
    return {r.session.title: r.status for r in rows}


def kept(attendee, session):
    db.session.expire_all()
    return db.session.scalar(
        select(Registration.fallback_session_id).where(
            Registration.attendee_id == attendee.id, Registration.session_id == session.id
        )
    )


def choose(client, attendee, waited, fallback_id):
    """Post the manage page's "keep a place in" form, as the browser sends it."""
    token = links.manage_token(attendee)
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    csrf = re.search(
        rf'action="/manage/{token}/fallback/{waited.id}".*?name="fallback-{waited.id}-csrf_token"'
        r'[^>]*value="([^"]+)"',
        page,
        re.S,
    )
    return client.post(
        f"/manage/{token}/fallback/{waited.id}",
        data={
            f"fallback-{waited.id}-csrf_token": csrf.group(1) if csrf else "",
            f"fallback-{waited.id}-fallback": str(fallback_id or ""),
        },
    )


def test_the_manage_page_offers_the_rounds_open_workshops(client, full_lab):
    event, lab, studio, atelier, bob = full_lab
    page = client.get(f"/manage/{links.manage_token(bob)}").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="fallback-\d+-fallback".*?</select>', page, re.S)
    assert select_html is not None and "While you wait, keep a place in" in page
    options = re.findall(r'<option[^>]*value="(\d*)"', select_html.group(0))
    assert options == ["", str(atelier.id), str(studio.id)] or options == [
        "",
        str(studio.id),
        str(atelier.id),
    ]


def test_choosing_changing_and_dropping_the_fallback_later(client, full_lab, now):
    event, lab, studio, atelier, bob = full_lab
    assert choose(client, bob, lab, studio.id).status_code == 303
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "confirmed"}
    assert kept(bob, lab) == studio.id
    page = client.get(f"/manage/{links.manage_token(bob)}").get_data(as_text=True)
    assert "Meanwhile you keep your place in “Studio”" in page

    assert choose(client, bob, lab, atelier.id).status_code == 303
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "cancelled", "Atelier": "confirmed"}
    assert kept(bob, lab) == atelier.id
    assert db.session.get(type(studio), studio.id).seats_taken == 0  # given back

    assert choose(client, bob, lab, None).status_code == 303
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "cancelled", "Atelier": "cancelled"}
    assert kept(bob, lab) is None
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.attendee_id == bob.id).order_by(OutboxMessage.id)
    ).all()
    dropped = [m.payload["session_ids"] for m in messages if m.kind == "sessions_dropped"]
    assert dropped == [[studio.id], [atelier.id]]  # each seat given back leaves the calendar
    confirmed = {i for m in messages if m.kind == "confirmation" for i in m.payload["session_ids"]}
    assert {studio.id, atelier.id} <= confirmed  # each seat taken is confirmed by email


def test_when_the_seat_comes_the_later_fallback_is_given_back(client, full_lab, now):
    event, lab, studio, atelier, bob = full_lab
    choose(client, bob, lab, studio.id)
    ada = db.session.scalar(select(Attendee).where(Attendee.email == "ada@example.org"))
    service.cancel_registration(ada, now)  # the Lab's seat frees: Bob gets it
    db.session.commit()
    assert statuses(bob) == {"Lab": "confirmed", "Studio": "cancelled"}


def test_a_full_fallback_changes_nothing_and_says_why(client, full_lab, make_session, now):
    event, lab, studio, atelier, bob = full_lab
    choose(client, bob, lab, studio.id)
    atelier.capacity = 0
    db.session.commit()
    response = choose(client, bob, lab, atelier.id)
    assert response.status_code == 422
    # "Atelier" is no longer offered (full): the form refuses the choice itself.
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "confirmed"}
    assert kept(bob, lab) == studio.id


@pytest.fixture
def api_register(client, full_lab):
    event = full_lab[0]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def post(waited, kept):
        """Cas registers for the full Lab's waiting list and names `waited` and `kept`."""
        body = {
            "name": "Cas",
            "email": "cas@example.org",
            "consent": True,
            "session_ids": [full_lab[1].id],
            "waitlist": True,
            "fallbacks": [{"session_id": waited.id, "fallback_session_id": kept.id}],
        }
        return client.post(f"/api/v1/events/{event.slug}/registrations", json=body)

    return post


def test_the_api_registers_with_a_fallback(api_register, full_lab):
    event, lab, studio, atelier, bob = full_lab
    response = api_register(lab, studio)
    assert response.status_code == 201, response.get_json()
    sessions = {s["id"]: s for s in response.get_json()["sessions"]}
    assert sessions[lab.id]["status"] == "waitlisted"
    assert sessions[lab.id]["fallback_session_id"] == studio.id
    assert sessions[studio.id]["status"] == "confirmed"


def test_the_api_refuses_a_fallback_that_is_not_one(api_register, full_lab):
    event, lab, studio, atelier, bob = full_lab
    outside = api_register(studio, atelier)
    assert outside.status_code == 422 and "fallbacks" in outside.get_json()["fields"]
    itself = api_register(lab, lab)
    assert itself.status_code == 422 and "fallback" in itself.get_json()["fields"]
    assert db.session.scalar(select(Attendee).where(Attendee.email == "cas@example.org")) is None


def test_the_api_changes_the_fallback_later(client, full_lab):
    event, lab, studio, atelier, bob = full_lab
    url = f"/api/v1/registrations/{links.manage_token(bob)}"
    first = client.patch(
        url, json={"fallbacks": [{"session_id": lab.id, "fallback_session_id": studio.id}]}
    )
    assert first.status_code == 200, first.get_json()
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "confirmed"}
    dropped = client.patch(
        url, json={"fallbacks": [{"session_id": lab.id, "fallback_session_id": None}]}
    )
    assert dropped.status_code == 200
    [waiting] = [s for s in dropped.get_json()["sessions"] if s["id"] == lab.id]
    assert waiting["fallback_session_id"] is None
    assert statuses(bob) == {"Lab": "waitlisted", "Studio": "cancelled"}
    not_waiting = client.patch(
        url, json={"fallbacks": [{"session_id": studio.id, "fallback_session_id": atelier.id}]}
    )
    assert not_waiting.status_code == 422 and "session_id" in not_waiting.get_json()["fields"]


def test_the_openapi_document_describes_fallbacks(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "fallbacks" in schemas["RegistrationIn"]["properties"]
    assert "fallbacks" in schemas["RegistrationPatch"]["properties"]
    assert "fallback_session_id" in schemas["FallbackChoice"]["properties"]


def test_a_fallback_chosen_after_the_confirmation_went_gets_its_own(client, full_lab):
    event, lab, studio, atelier, bob = full_lab
    for message in db.session.scalars(select(OutboxMessage)):
        message.status = "sent"  # the registration's confirmation has gone out
    db.session.commit()
    choose(client, bob, lab, studio.id)
    pending = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.attendee_id == bob.id, OutboxMessage.status == "pending"
        )
    ).all()
    assert [(m.kind, m.payload["session_ids"]) for m in pending] == [("confirmation", [studio.id])]


def test_an_offer_says_that_accepting_gives_the_kept_place_back(client, full_lab, now):
    """On an event that offers freed seats, the offer on the manage page names the seat kept
    meanwhile, since accepting gives it back: tapping "Accept" must not lose a workshop
    the attendee did not know was at stake. The list item keeps saying so too."""
    event, lab, studio, atelier, bob = full_lab
    event.promotion_mode = "offer"
    db.session.commit()
    choose(client, bob, lab, studio.id)
    ada = db.session.scalar(select(Attendee).where(Attendee.email == "ada@example.org"))
    service.cancel_registration(ada, now)  # the Lab's seat frees: Bob is offered it
    db.session.commit()
    assert statuses(bob) == {"Lab": "offered", "Studio": "confirmed"}

    page = client.get(f"/manage/{links.manage_token(bob)}").get_data(as_text=True)
    offer = re.search(r'<section[^>]*class="[^"]*\boffer\b.*?</section>', page, re.S).group(0)
    assert "Accepting gives back your place in “Studio”, which you kept meanwhile." in offer
    item = re.search(r'<li class="status-offered">.*?</li>', page, re.S).group(0)
    assert "Meanwhile you keep your place in “Studio”" in item


@pytest.mark.parametrize("mode", ["auto", "offer"])
def test_the_kept_place_given_back_leaves_the_calendar_too(
    client, full_lab, now, smtp_server, mode
):
    """The seat kept while waiting was confirmed by email with a calendar invitation; when
    the waited-for seat comes (at once, or by accepting an offer) and the kept one is given
    back, an email says so and cancels it in the calendar, as choosing another fallback
    does. Otherwise the attendee's calendar shows two workshops at the same hour."""
    event, lab, studio, atelier, bob = full_lab
    event.promotion_mode = mode
    db.session.commit()
    choose(client, bob, lab, studio.id)
    send_pending(now=now)
    smtp_server.handler.received.clear()
    ada = db.session.scalar(select(Attendee).where(Attendee.email == "ada@example.org"))
    service.cancel_registration(ada, now)
    db.session.commit()
    if mode == "offer":
        waitlist_service.accept_offer(fresh(Attendee, bob.id), lab.id, now)
        db.session.commit()
    assert statuses(bob) == {"Lab": "confirmed", "Studio": "cancelled"}

    send_pending(now=now)
    to_bob = [m for m in smtp_server.messages if "bob@example.org" in m["To"]]
    cancelling = [  # per email: its calendar parts (inline and attached) that cancel
        [
            p.get_content()
            for p in m.walk()
            if p.get_content_type() == "text/calendar" and "METHOD:CANCEL" in p.get_content()
        ]
        for m in to_bob
    ]
    [cancels] = [parts for parts in cancelling if parts]  # one email cancels
    assert all("SUMMARY:Studio" in part for part in cancels)
    texts = [
        p.get_content() for m in to_bob for p in m.walk() if p.get_content_type() == "text/plain"
    ]
    assert any("You are no longer registered for" in t and "Studio" in t for t in texts)


FALLBACK_SENTENCES = {
    "en": {
        "waiting": "While you wait for “Lab”, you keep your place in “Studio”; it is given "
        "back by itself when you get a place in “Lab”.",
        "offered": "If you accept the place in “Lab”, you give back your place in “Studio”, "
        "which you kept meanwhile.",
    },
    "nl": {
        "waiting": "Zolang je wacht op “Lab”, houd je je plaats in “Studio”; die geef je "
        "vanzelf terug zodra je een plaats in “Lab” krijgt.",
        "offered": "Accepteer je de plaats in “Lab”, dan geef je je plaats in “Studio” terug, "
        "die je intussen hield.",
    },
}


def parts_of(message) -> dict[str, str]:
    """The email's plain text and its HTML as a reader sees it (entities decoded)."""
    found = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            text = part.get_content()
            found[part.get_content_subtype()] = html.unescape(re.sub(r"\s+", " ", text))
    return found


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_confirmation_email_states_the_place_kept_while_waiting(
    client, full_lab, now, smtp_server, locale
):
    event, lab, studio, atelier, bob = full_lab
    body = {
        "name": "Cas",
        "email": "cas@example.org",
        "consent": True,
        "session_ids": [lab.id],
        "waitlist": True,
        "locale": locale,
        "fallbacks": [{"session_id": lab.id, "fallback_session_id": studio.id}],
    }
    assert client.post(f"/api/v1/events/{event.slug}/registrations", json=body).status_code == 201
    send_pending(now=now)

    [message] = [m for m in smtp_server.messages if "cas@example.org" in m["To"]]
    parts = parts_of(message)
    assert set(parts) == {"plain", "html"}
    for text in parts.values():
        assert FALLBACK_SENTENCES[locale]["waiting"] in text
    to_bob = [m for m in smtp_server.messages if "bob@example.org" in m["To"]]
    assert all("“Studio”" not in t for m in to_bob for t in parts_of(m).values())


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_offer_email_states_that_accepting_gives_the_kept_place_back(
    client, full_lab, now, smtp_server, locale
):
    event, lab, studio, atelier, bob = full_lab
    event.promotion_mode = "offer"
    fresh(Attendee, bob.id).locale = locale
    db.session.commit()
    choose(client, bob, lab, studio.id)
    send_pending(now=now)
    smtp_server.handler.received.clear()
    ada = db.session.scalar(select(Attendee).where(Attendee.email == "ada@example.org"))
    service.cancel_registration(ada, now)
    db.session.commit()
    assert statuses(bob) == {"Lab": "offered", "Studio": "confirmed"}

    send_pending(now=now)
    [offer] = [m for m in smtp_server.messages if "bob@example.org" in m["To"]]
    parts = parts_of(offer)
    assert set(parts) == {"plain", "html"}
    for text in parts.values():
        assert FALLBACK_SENTENCES[locale]["offered"] in text

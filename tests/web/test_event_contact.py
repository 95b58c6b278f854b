"""The event's contact address (issue 17, item 4): set in the event form and the API (PATCH
no longer ignores it), refused when it is not an address, and used as the invitations'
ORGANIZER, the emails' Reply-To and the "questions?" line of every email."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Event
from eventapp.services.mail.worker import send_pending
from tests.ical_checks import parse_ics
from tests.mail_layout import itip_data
from tests.registering import register


@pytest.fixture
def api(client, make_organiser, api_token):
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}

    def call(method, path, json=None):
        return client.open(path, method=method, json=json, headers=headers)

    return call


EVENT = {
    "slug": "expo",
    "name": "Expo",
    "timezone": "Europe/Amsterdam",
    "starts_at": "2027-03-18T09:00",
    "ends_at": "2027-03-18T18:00",
    "status": "published",
}


def test_the_api_sets_reads_and_checks_the_contact_address(api):
    created = api("POST", "/api/v1/events", {**EVENT, "organiser_email": "team@example.org"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["organiser_email"] == "team@example.org"

    patched = api("PATCH", "/api/v1/events/expo", {"organiser_email": "vragen@example.nl"})
    assert patched.status_code == 200 and patched.get_json()["organiser_email"] == (
        "vragen@example.nl"
    )
    assert db.session.scalar(select(Event.organiser_email)) == "vragen@example.nl"

    refused = api("PATCH", "/api/v1/events/expo", {"organiser_email": "not an address"})
    assert refused.status_code == 422
    assert "organiser_email" in refused.get_json()["fields"]
    assert db.session.scalar(select(Event.organiser_email)) == "vragen@example.nl"


def test_the_openapi_document_names_it(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "organiser_email" in schemas["EventIn"]["properties"]
    assert "organiser_email" in schemas["EventPatch"]["properties"]
    assert "organiser_email" in schemas["EventOut"]["properties"]


@pytest.fixture
def organiser(make_organiser, login, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return login(make_organiser())


def test_the_event_form_sets_and_checks_it(client, organiser):
    form = {
        "name": "Expo",
        "slug": "expo",
        "timezone": "Europe/Amsterdam",
        "starts_at": "2027-03-18T09:00",
        "ends_at": "2027-03-18T18:00",
        "status": "draft",
        "organiser_email": "team@example.org",
    }
    assert client.post("/organiser/events/new", data=form).status_code == 302
    assert db.session.scalar(select(Event.organiser_email)) == "team@example.org"
    page = client.get("/organiser/events/expo/edit").get_data(as_text=True)
    assert 'value="team@example.org"' in page

    bad = client.post("/organiser/events/expo/edit", data={**form, "organiser_email": "nope"})
    assert bad.status_code == 422
    assert db.session.scalar(select(Event.organiser_email)) == "team@example.org"


def test_mail_uses_it_as_organizer_reply_to_and_questions_line(
    app, smtp_server, make_event, make_session, now
):
    event = make_event(organiser_email="vragen@example.nl")
    session = make_session(event)
    register(event, [session], now, "ada@example.org")

    send_pending(now=now)

    [received] = smtp_server.received
    message = received.message
    assert message["Reply-To"] == "vragen@example.nl"
    invitation = parse_ics(itip_data(message), "REQUEST").vevent
    assert invitation.organizer.value == "mailto:vragen@example.nl"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.rstrip().endswith("Questions? vragen@example.nl")
    assert 'href="mailto:vragen@example.nl"' in html

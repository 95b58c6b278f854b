"""Content in two languages (issue 19.2): an event, its sessions and rooms carry their texts in
the event's language and, optionally, in its other one; every reader sees their language's
text, or the other when it is missing: on the pages, in emails and in calendar files."""

import io

import flask_babel
import openpyxl
import pypdf
import pytest
from icalendar import Calendar
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, Event, EventSession, Room
from eventapp.services import links
from eventapp.services.backoffice.demo import DEMO_SLUG, load_demo_event
from eventapp.services.mail.worker import send_pending
from eventapp.services.programme import importing as importer
from tests.registering import register


@pytest.fixture
def bilingual(make_event, make_session):
    """A Dutch event with English texts, a workshop with both titles and a room with both
    names, and a workshop written in Dutch only."""
    event = make_event(
        name="Smart Industry Jaarevent",
        name_translated="Smart Industry Annual Event",
        description="Praktijkvoorbeelden en workshops.",
        description_translated="Practical examples and workshops.",
        default_locale="nl",
    )
    room = Room(event=event, name="Grote Zaal", name_translated="Main Hall", capacity=40)
    db.session.add(room)
    db.session.commit()
    twins = make_session(
        event,
        start=0,
        title="Digitale tweelingen",
        title_translated="Digital twins",
        description="Wat kost het?",
        description_translated="What does it cost?",
        room=room,
    )
    cobots = make_session(event, start=2, title="Cobots op de werkvloer", description="Veilig.")
    return event, twins, cobots


def page(client, path: str, language: str) -> str:
    flask_babel.refresh()  # the test's app context outlives requests; Babel caches the locale
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "shown", "hidden"),
    [
        ("nl", ["Smart Industry Jaarevent", "Digitale tweelingen", "Wat kost het?", "Grote Zaal"],
         ["Annual Event", "Digital twins", "What does it cost?", "Main Hall"]),
        ("en", ["Smart Industry Annual Event", "Digital twins", "What does it cost?", "Main Hall"],
         ["Jaarevent", "Digitale tweelingen", "Wat kost het?", "Grote Zaal"]),
    ],
)  # fmt: skip
def test_the_programme_speaks_the_readers_language(client, bilingual, language, shown, hidden):
    event, twins, cobots = bilingual
    html = page(client, f"/events/{event.slug}/", language)
    for text in shown:
        assert text in html
    for text in hidden:
        assert text not in html
    # Written in Dutch only: English readers see the Dutch title rather than nothing.
    assert "Cobots op de werkvloer" in html and "Veilig." in html


def test_session_register_and_manage_pages_use_the_same_choice(client, bilingual, now):
    event, twins, cobots = bilingual
    english = page(client, f"/events/{event.slug}/sessions/{twins.id}", "en")
    assert '<h1 id="session-title">Digital twins</h1>' in english
    assert "What does it cost?" in english and "Main Hall" in english
    dutch = page(client, f"/events/{event.slug}/sessions/{twins.id}", "nl")
    assert '<h1 id="session-title">Digitale tweelingen</h1>' in dutch
    form = page(client, f"/events/{event.slug}/register", "en")
    assert 'data-title="Digital twins"' in form and "Cobots op de werkvloer" in form
    ada = register(event, [twins], now, "ada@example.org", locale="en")
    manage = page(client, f"/manage/{links.manage_token(ada)}", "nl")  # her choice: English
    assert "<strong>Digital twins</strong>" in manage and "Smart Industry Annual Event" in manage


def test_an_english_event_shows_its_dutch_texts_to_dutch_readers(client, make_event, make_session):
    event = make_event(name="Expo", name_translated="Beurs", default_locale="en")
    make_session(event, title="Opening", title_translated="Opening in het Nederlands")
    assert "Opening in het Nederlands" in page(client, f"/events/{event.slug}/", "nl")
    assert "Opening in het Nederlands" not in page(client, f"/events/{event.slug}/", "en")


def test_organiser_forms_take_both_languages(client, make_event, make_organiser, login):
    event = make_event(default_locale="nl")
    login(make_organiser())
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = client.get(f"/organiser/events/{event.slug}/sessions/new").get_data(as_text=True)
    assert "Title in English (optional)" in form and "Description in English (optional)" in form
    response = client.post(
        f"/organiser/events/{event.slug}/sessions/new",
        data={
            "title": "Digitale tweelingen",
            "title_translated": "Digital twins",
            "kind": "workshop",
            "starts_at": "2027-03-18T10:00",
            "ends_at": "2027-03-18T11:00",
            "room_id": "0",
            "capacity": "20",
            "description": "Wat kost het?",
            "description_translated": "What does it cost?",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session = db.session.scalar(select(EventSession).where(EventSession.event_id == event.id))
    assert (session.title, session.title_translated) == ("Digitale tweelingen", "Digital twins")
    assert session.description_translated == "What does it cost?"
    edit = client.get(f"/organiser/events/{event.slug}/edit").get_data(as_text=True)
    assert "Name in English (optional)" in edit
    room_form = client.get(f"/organiser/events/{event.slug}/rooms/new").get_data(as_text=True)
    assert "Name in English (optional)" in room_form


@pytest.fixture
def api(client, make_organiser, api_token):
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    return lambda method, path, json=None: client.open(
        path, method=method, json=json, headers=headers
    )


def test_the_api_round_trip_in_both_languages(api):
    event = api(
        "POST",
        "/api/v1/events",
        {
            "slug": "expo",
            "name": "Beurs 2027",
            "name_translated": "Expo 2027",
            "description_translated": "The fair.",
            "default_locale": "nl",
            "starts_at": "2027-03-18T09:00",
            "ends_at": "2027-03-18T18:00",
            "status": "published",
        },
    )
    assert event.status_code == 201, event.get_json()
    assert event.get_json()["name_translated"] == "Expo 2027"
    assert event.get_json()["default_locale"] == "nl"
    room = api(
        "POST",
        "/api/v1/events/expo/rooms",
        {"name": "Grote Zaal", "name_translated": "Main Hall", "capacity": 30},
    ).get_json()
    assert room["name_translated"] == "Main Hall"
    created = api(
        "POST",
        "/api/v1/events/expo/sessions",
        {
            "title": "Digitale tweelingen",
            "title_translated": "Digital twins",
            "description_translated": "What does it cost?",
            "starts_at": "2027-03-18T10:00",
            "ends_at": "2027-03-18T11:00",
            "room_id": room["id"],
        },
    )
    assert created.status_code == 201, created.get_json()
    session_id = created.get_json()["id"]
    patched = api(
        "PATCH", f"/api/v1/sessions/{session_id}", {"title_translated": "Twins"}
    ).get_json()
    assert patched["title"] == "Digitale tweelingen" and patched["title_translated"] == "Twins"
    listed = api("GET", "/api/v1/events/expo/sessions").get_json()["sessions"]
    assert [(s["title_translated"], s["description_translated"]) for s in listed] == [
        ("Twins", "What does it cost?")
    ]
    too_long = api("PATCH", "/api/v1/events/expo", {"name_translated": "x" * 201})
    assert too_long.status_code == 422 and "name_translated" in too_long.get_json()["fields"]
    wrong = api("PATCH", "/api/v1/events/expo", {"default_locale": "de"})
    assert wrong.status_code == 422 and "default_locale" in wrong.get_json()["fields"]


def test_the_openapi_document_describes_the_translated_fields(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for schema, field in [
        ("EventIn", "name_translated"),
        ("SessionIn", "title_translated"),
        ("SessionPatch", "description_translated"),
        ("RoomIn", "name_translated"),
        ("SessionOut", "title_translated"),
    ]:
        assert "other language" in schemas[schema]["properties"][field]["description"]


CSV = (
    "title,title_en,description_nl,description_en,kind,start,end,room,room_en,capacity\n"
    "Opening,Opening,Welkom,Welcome,plenary,2027-03-18 09:30,10:30,Grote Zaal,Main Hall,600\n"
    "Digitale tweelingen,Digital twins,,What does it cost?,workshop,2027-03-18 11:00,12:00,"
    "Studio 1,,40\n"
)


def test_a_csv_import_with_both_languages(make_event, now):
    event = make_event(default_locale="nl")
    rows, problems = importer.parse("programme.csv", CSV)
    report = importer.import_programme(None, event, rows, now, problems=problems)
    assert report.errors == [] and report.sessions_created == 2
    db.session.commit()
    opening, twins = db.session.scalars(
        select(EventSession).where(EventSession.event_id == event.id).order_by("starts_at")
    )
    assert (opening.description, opening.description_translated) == ("Welkom", "Welcome")
    assert (opening.room.name, opening.room.name_translated) == ("Grote Zaal", "Main Hall")
    assert (twins.title, twins.title_translated) == ("Digitale tweelingen", "Digital twins")
    assert (twins.description, twins.description_translated) == ("", "What does it cost?")


def test_a_csv_may_name_the_events_language_instead_of_title(make_event, now):
    """An English event: title_en is its title, title_nl the translation."""
    event = make_event(default_locale="en")
    text = (
        "title_en,title_nl,start,end,capacity\nKeynote,Openingstoespraak,2027-03-18 09:30,10:30,9\n"
    )
    rows, problems = importer.parse("programme.csv", text)
    report = importer.import_programme(None, event, rows, now, problems=problems)
    assert report.errors == []
    db.session.commit()
    keynote = db.session.scalar(select(EventSession).where(EventSession.event_id == event.id))
    assert (keynote.title, keynote.title_translated) == ("Keynote", "Openingstoespraak")


def test_an_ics_reimport_keeps_the_translations(make_event, now):
    event = make_event(default_locale="nl")
    ics = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//T//T//EN",
            "BEGIN:VEVENT",
            "UID:twins@example.org",
            "SUMMARY:Digitale tweelingen",
            "DTSTART:20270318T100000Z",
            "DTEND:20270318T110000Z",
            "X-CAPACITY:20",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    for _round in range(2):
        rows, problems = importer.parse("programme.ics", ics)
        report = importer.import_programme(None, event, rows, now, problems=problems)
        assert report.errors == []
        db.session.commit()
        session = db.session.scalar(select(EventSession).where(EventSession.event_id == event.id))
        session.title_translated = session.title_translated or "Digital twins"
        db.session.commit()
    assert report.sessions_updated == 1
    assert (session.title, session.title_translated) == ("Digitale tweelingen", "Digital twins")


def summaries(data: bytes) -> list[str]:
    return [str(v["SUMMARY"]) for v in Calendar.from_ical(data).walk("VEVENT")]


def test_emails_and_their_invitations_in_each_attendees_language(app, smtp_server, bilingual, now):
    event, twins, cobots = bilingual
    register(event, [twins], now, "ada@example.org", locale="en")
    register(event, [twins], now, "bram@example.org", locale="nl")
    send_pending(now=now)
    by_address = {r.message["To"].addresses[0].addr_spec: r.message for r in smtp_server.received}
    english, dutch = by_address["ada@example.org"], by_address["bram@example.org"]
    assert english["Subject"] == "Your registration for Smart Industry Annual Event"
    assert dutch["Subject"] == "Je aanmelding voor Smart Industry Jaarevent"
    assert "Digital twins" in english.get_body(("plain",)).get_content()
    assert "Digitale tweelingen" in dutch.get_body(("html",)).get_content()
    for message, title, room in [
        (english, "Digital twins", "Main Hall"),
        (dutch, "Digitale tweelingen", "Grote Zaal"),
    ]:
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert parts  # the invitation, inline and as a file: each in the attendee's language
        for part in parts:
            [vevent] = Calendar.from_ical(part.get_content()).walk("VEVENT")
            assert str(vevent["SUMMARY"]) == title
            assert str(vevent["LOCATION"]).startswith(room)


def test_the_personal_feed_speaks_the_attendees_language(client, bilingual, now):
    event, twins, cobots = bilingual
    ada = register(event, [twins, cobots], now, "ada@example.org", locale="en")
    feed = client.get(f"/calendar/{links.feed_token(ada)}.ics")
    calendar = Calendar.from_ical(feed.data)
    assert str(calendar["X-WR-CALNAME"]) == "Smart Industry Annual Event: my sessions"
    assert summaries(feed.data) == ["Digital twins", "Cobots op de werkvloer"]
    [twins_event, _cobots] = calendar.walk("VEVENT")
    assert str(twins_event["DESCRIPTION"]) == "What does it cost?"
    db.session.get(Attendee, ada.id).locale = "nl"
    db.session.commit()
    again = client.get(f"/calendar/{links.feed_token(ada)}.ics")
    assert again.headers["ETag"] != feed.headers["ETag"]
    assert summaries(again.data) == ["Digitale tweelingen", "Cobots op de werkvloer"]


def test_the_programme_feed_in_the_events_language_or_the_one_asked(client, bilingual):
    event, twins, cobots = bilingual
    dutch = client.get(f"/events/{event.slug}/calendar.ics", headers={"Accept-Language": "en"})
    assert summaries(dutch.data) == ["Digitale tweelingen", "Cobots op de werkvloer"]
    english = client.get(f"/events/{event.slug}/calendar.ics?lang=en")
    assert summaries(english.data) == ["Digital twins", "Cobots op de werkvloer"]
    assert str(Calendar.from_ical(english.data)["X-WR-CALNAME"]) == "Smart Industry Annual Event"
    assert english.headers["ETag"] != dutch.headers["ETag"]
    unknown = client.get(f"/events/{event.slug}/calendar.ics?lang=xx")
    assert unknown.headers["ETag"] == dutch.headers["ETag"]
    single = client.get(f"/events/{event.slug}/sessions/{twins.id}.ics?lang=en")
    assert summaries(single.data) == ["Digital twins"]
    google = client.get(f"/events/{event.slug}/sessions/{twins.id}/google?lang=en")
    assert "text=Digital+twins" in google.headers["Location"]


def test_the_demo_event_is_bilingual(client, app):
    load_demo_event()
    db.session.commit()
    event = db.session.scalar(select(Event).where(Event.slug == DEMO_SLUG))
    assert event.name_translated and event.description_translated
    workshops = [s for s in event.sessions if s.kind == "workshop"]
    assert all(s.title_translated and s.description_translated for s in workshops)
    assert "Van lean naar smart management" in page(client, f"/events/{DEMO_SLUG}/", "nl")
    assert "From lean to smart management" in page(client, f"/events/{DEMO_SLUG}/", "en")


def test_the_ticket_and_the_fallback_choice_use_the_readers_language(client, bilingual, now):
    event, twins, cobots = bilingual
    twins.capacity = 0  # full: the form offers a place elsewhere while waiting
    parallel = EventSession(
        event=event,
        kind="workshop",
        title="Robots in de fabriek",
        title_translated="Robots in the factory",
        starts_at=twins.starts_at,
        ends_at=twins.ends_at,
        capacity=10,
    )
    db.session.add(parallel)
    db.session.commit()
    form = page(client, f"/events/{event.slug}/register", "en")
    assert f'<option value="{parallel.id}">Robots in the factory</option>' in form
    ada = register(event, [cobots], now, "ada@example.org", locale="en")
    ticket = page(client, f"/manage/{links.manage_token(ada)}/ticket", "nl")
    assert "Smart Industry Annual Event" in ticket and "Cobots op de werkvloer" in ticket


def registered_titles(reply) -> list[str]:
    assert reply.status_code in (200, 201), reply.get_json()
    return [s["title"] for s in reply.get_json()["sessions"]]


@pytest.mark.parametrize(
    ("asked", "titles"),
    [
        ({"locale": "en"}, ["Digital twins", "Cobots op de werkvloer"]),
        ({"locale": "nl"}, ["Digitale tweelingen", "Cobots op de werkvloer"]),
        ({"headers": {"Accept-Language": "en"}}, ["Digital twins", "Cobots op de werkvloer"]),
        ({"headers": {"Accept-Language": "nl"}}, ["Digitale tweelingen", "Cobots op de werkvloer"]),
        ({}, ["Digitale tweelingen", "Cobots op de werkvloer"]),  # the event's language
    ],
    ids=["locale-en", "locale-nl", "accept-en", "accept-nl", "neither"],
)
def test_the_apis_registration_names_sessions_in_the_attendees_language(
    client, bilingual, asked, titles
):
    """As the manage page does: the attendee's language, which the API's `locale` sets, or
    else the request's Accept-Language (as the form takes the page's), else the event's."""
    event, twins, cobots = bilingual
    flask_babel.refresh()
    sent = {
        "name": "Ada",
        "email": "ada@example.org",
        "session_ids": [twins.id, cobots.id],
        "consent": True,
    }
    sent.update({key: value for key, value in asked.items() if key == "locale"})
    created = client.post(
        f"/api/v1/events/{event.slug}/registrations", json=sent, headers=asked.get("headers")
    )
    assert registered_titles(created) == titles
    token = links.manage_token(db.session.scalar(select(Attendee)))
    # Read back later, whatever the reading client's language: the attendee's (as on the
    # manage page), the same titles.
    for language in ("nl", "en"):
        flask_babel.refresh()
        read = client.get(f"/api/v1/registrations/{token}", headers={"Accept-Language": language})
        assert registered_titles(read) == titles


def test_the_registrations_titles_follow_a_changed_language(client, bilingual, now):
    event, twins, cobots = bilingual
    ada = register(event, [twins], now, "ada@example.org", locale="nl")
    token = links.manage_token(ada)
    assert registered_titles(client.get(f"/api/v1/registrations/{token}")) == [
        "Digitale tweelingen"
    ]
    changed = client.patch(f"/api/v1/registrations/{token}", json={"locale": "en"})
    assert registered_titles(changed) == ["Digital twins"]
    assert registered_titles(client.get(f"/api/v1/registrations/{token}")) == ["Digital twins"]


def test_an_english_organisers_exports_name_the_sessions_in_english(
    client, bilingual, make_organiser, login, now
):
    """The trial: a Dutch event's lists, exported in English, had Dutch sheet names, print
    headings, session columns and PDF titles, though the organiser had given English ones."""
    event, twins, _cobots = bilingual
    register(event, [twins], now, "ada@example.org", name="Ada")
    client.get("/lang/en")
    login(make_organiser("organiser"))
    base = f"/organiser/events/{event.slug}"

    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"{base}/sessions/{twins.id}/attendees.xlsx").data)
    )
    assert book.sheetnames == ["Digital twins"]
    heading = book.worksheets[0].oddHeader.center.text
    assert heading == "Digital twins · 2027-03-18 10:00–11:00 · Main Hall"

    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/attendees.xlsx").data))
    rows = [[cell.value for cell in row] for row in book.worksheets[0].iter_rows()]
    assert book.sheetnames == ["Attendees"] and rows[0][:2] == ["Reference", "Name"]
    assert "10:00 Digital twins" in rows[1] and "Digital twins" in rows[1]
    csv_text = client.get(f"{base}/attendees.csv").get_data(as_text=True)
    assert "Digital twins" in csv_text and "Digitale" not in csv_text

    pdf = pypdf.PdfReader(io.BytesIO(client.get(f"{base}/badges.pdf?attendee=0").data))
    assert pdf.metadata.title == "Smart Industry Annual Event"
    assert "Smart Industry Annual Event" in pdf.pages[0].extract_text()

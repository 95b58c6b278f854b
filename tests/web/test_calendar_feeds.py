"""The ICS endpoints over HTTP: content type, revalidation (304), the personal feed's token,
and the "add to calendar" links on the pages."""

from datetime import timedelta

import pytest

from eventapp.extensions import db
from eventapp.models import Attendee, Speaker
from eventapp.services import notifications
from eventapp.services import registration as service
from eventapp.services.registration import RegistrationInput, feed_token, manage_token
from tests.ical_checks import parse_ics


def register(event, sessions, now, email="ada@example.org"):
    data = RegistrationInput(
        name="Ada", email=email, session_ids=[s.id for s in sessions], consent=True, locale="en"
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result


def test_programme_feed_is_publish_text_calendar(client, make_event, make_session):
    event = make_event(name="Smart Industry 2027")
    first = make_session(event, start=0, title="Opening")
    make_session(event, start=2, title="Cobots; robots, and \\ more")

    response = client.get(f"/events/{event.slug}/calendar.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    parsed = parse_ics(response.data, "PUBLISH")
    assert [e.summary.value for e in parsed.contents["vevent"]] == [
        "Opening",
        "Cobots; robots, and \\ more",
    ]
    assert parsed.contents["vevent"][0].uid.value == f"session-{first.id}@eventapp.local"
    raw = response.get_data(as_text=True)
    assert "X-WR-CALNAME:Smart Industry 2027\r\n" in raw
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in raw
    assert "X-PUBLISHED-TTL:PT1H\r\n" in raw


def test_feeds_revalidate_with_304_until_something_changes(client, make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    url = f"/events/{event.slug}/calendar.ics"
    first = client.get(url)
    etag = first.headers["ETag"]

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""

    register(event, [session], now)  # seats change, the calendar does not
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    session.starts_at += timedelta(hours=1)
    session.ends_at += timedelta(hours=1)
    notifications.session_moved(session, now)
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert parse_ics(changed.data, "PUBLISH").vevent.sequence.value == "1"


def test_one_session_download(client, make_event, make_session):
    event = make_event()
    session = make_session(event, title="Digital twins")
    other_event = make_event()

    response = client.get(f"/events/{event.slug}/sessions/{session.id}.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    parsed = parse_ics(response.data, "PUBLISH")
    assert parsed.vevent.summary.value == "Digital twins"
    assert client.get(f"/events/{other_event.slug}/sessions/{session.id}.ics").status_code == 404
    assert client.get(f"/events/{event.slug}/sessions/999999.ics").status_code == 404


def test_draft_events_have_no_feed(client, make_event):
    event = make_event(status="draft")
    assert client.get(f"/events/{event.slug}/calendar.ics").status_code == 404


def test_personal_feed_by_token_with_cancelled_sessions_kept(client, make_event, make_session, now):
    event = make_event()
    kept = make_session(event, start=0, title="Kept")
    dropped = make_session(event, start=2, title="Dropped")
    result = register(event, [kept, dropped], now)
    service.change_sessions(result.attendee, [kept.id], waitlist=False, now=now)
    db.session.commit()
    url = f"/calendar/{feed_token(result.attendee)}.ics"

    response = client.get(url)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    parsed = parse_ics(response.data, "PUBLISH")
    statuses = {e.summary.value: e.status.value for e in parsed.contents["vevent"]}
    assert statuses == {"Kept": "CONFIRMED", "Dropped": "CANCELLED"}
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("token", ["x" * 43, "short", "../../etc/passwd", "a" * 200])
def test_personal_feed_with_a_wrong_token_is_not_found(
    client, make_event, make_session, now, token
):
    event = make_event()
    register(event, [make_session(event)], now)
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_the_manage_token_does_not_open_the_feed(client, make_event, make_session, now):
    event = make_event()
    result = register(event, [make_session(event)], now)
    assert client.get(f"/calendar/{manage_token(result.attendee)}.ics").status_code == 404


def test_programme_page_has_add_to_calendar_links(client, make_event, make_session):
    event = make_event()
    session = make_session(event, title="Digital twins")

    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)

    assert f'href="webcal://localhost/events/{event.slug}/calendar.ics"' in page
    assert f'href="/events/{event.slug}/calendar.ics"' in page
    assert f'href="/events/{event.slug}/sessions/{session.id}.ics"' in page
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "cid=webcal" in page


def test_confirmation_and_manage_pages_offer_the_personal_feed(
    client, make_event, make_session, now
):
    event = make_event()
    session = make_session(event, title="Opening", kind="plenary")
    form = {"name": "Ada", "email": "ada@example.org", "consent": "y", "plenary": [str(session.id)]}
    posted = client.post(f"/events/{event.slug}/register", data=form)
    assert posted.status_code == 302, posted.get_data(as_text=True)
    attendee = db.session.query(Attendee).one()
    token = feed_token(attendee)

    confirmation = client.get(f"/events/{event.slug}/confirmation").get_data(as_text=True)
    manage = client.get(f"/manage/{manage_token(attendee)}").get_data(as_text=True)

    for page in (confirmation, manage):
        assert f'href="webcal://localhost/calendar/{token}.ics"' in page
        assert f'href="http://localhost/calendar/{token}.ics"' in page
        assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in page


def test_every_visible_change_gives_a_new_feed_not_a_stale_copy(
    client, make_event, make_session, make_room
):
    """The feed is cached by a hash of what it shows: each change must reach that hash."""
    event = make_event()
    room = make_room(event, "Studio 1")
    session = make_session(event, title="Cobots", room=room)
    session.speakers = [Speaker(event=event, name="Grace Hopper")]
    db.session.commit()
    url = f"/events/{event.slug}/calendar.ics"

    def change_room_name():
        room.name = "Studio 2"

    def change_speaker():
        session.speakers[0].organisation = "Navy"

    def change_description():
        session.description = "Now with robots"

    def change_venue():
        event.venue = "Utrecht"

    seen = {client.get(url).headers["ETag"]}
    for change, expected in [
        (change_room_name, "Studio 2"),
        (change_speaker, "Grace Hopper (Navy)"),
        (change_description, "Now with robots"),
        (change_venue, "Utrecht"),
    ]:
        change()
        db.session.commit()
        response = client.get(url)
        assert response.headers["ETag"] not in seen
        seen.add(response.headers["ETag"])
        parsed = parse_ics(response.data, "PUBLISH").vevent
        assert expected in parsed.location.value + parsed.description.value

"""The ICS endpoints over HTTP: content type, revalidation (304), the personal feed's token,
and the "add to calendar" links on the pages."""

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import flask_babel
import pytest
from markupsafe import escape

from eventapp.calendar.views import google_calendar_link
from eventapp.extensions import db
from eventapp.models import Attendee, Speaker
from eventapp.services.links import feed_token, manage_token
from eventapp.services.programme import notifications, schedule
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
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

    page = client.get(f"/events/{event.slug}/", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )

    # An English reader of a Dutch event: the files in English (?lang=en; the event's own
    # language needs no parameter).
    assert f'href="webcal://localhost/events/{event.slug}/calendar.ics?lang=en"' in page
    assert f'href="/events/{event.slug}/calendar.ics?lang=en"' in page
    assert f'href="/events/{event.slug}/sessions/{session.id}.ics?lang=en"' in page
    # Google Calendar per session: a short link to our redirect, same text, target and rel.
    assert (
        f'<a href="/events/{event.slug}/sessions/{session.id}/google?lang=en" target="_blank" '
        'rel="noopener noreferrer">Google Calendar<span class="visually-hidden">: '
        "Digital twins</span></a>"
    ) in page
    assert "action=TEMPLATE" not in page
    assert "cid=webcal" in page  # subscribing to the whole programme in Google: unchanged


def google_session(event, make_session, room, speakers, *, title, start=1.5):
    """A session with everything the Google URL carries: room, speakers, description."""
    session = make_session(
        event,
        start=start,
        title=title,
        room=room,
        description="Bring a laptop.\nWe build a <robot> & a twin, 100% hands-on. " * 3,
    )
    session.speakers = speakers
    db.session.commit()
    return session


def two_speakers(event):
    return [
        Speaker(event=event, name="Grace Hopper", organisation="Navy"),
        Speaker(event=event, name="Ada Lovelace"),
    ]


def test_google_link_redirects_to_the_google_url_the_builder_gives(
    client, make_event, make_session, make_room
):
    event = make_event()
    session = google_session(
        event,
        make_session,
        make_room(event, "Studio 1"),
        two_speakers(event),
        title="Cobots & co: robots; \\ more",
    )

    response = client.get(f"/events/{event.slug}/sessions/{session.id}/google")

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == google_calendar_link(session)
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    query = parse_qs(parts.query, strict_parsing=True)
    expected = parse_qs(urlsplit(google_calendar_link(session)).query)
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == ["Cobots & co: robots; \\ more"] == expected["text"]
    # 10:30-11:30 UTC on the event's day (make_session: start=1.5 is 09:00 + 1.5 h).
    assert query["dates"] == ["20270318T103000Z/20270318T113000Z"] == expected["dates"]
    assert query["location"] == ["Studio 1, Hilversum"]
    assert query["details"][0].startswith("Bring a laptop.\nWe build a <robot> & a twin")
    assert "Grace Hopper (Navy)" in query["details"][0] and "Ada Lovelace" in query["details"][0]
    assert query == expected
    # Short-lived and shareable: it depends on the session only.
    assert response.headers["Cache-Control"] == "public, max-age=300"
    # The same for a closed event: its programme is still public.
    event.status = "closed"
    db.session.commit()
    again = client.get(f"/events/{event.slug}/sessions/{session.id}/google")
    assert again.status_code == 302 and again.headers["Location"] == location


def test_google_link_follows_changes_to_the_session(client, make_event, make_session):
    event = make_event()
    session = make_session(event, title="Old title")
    url = f"/events/{event.slug}/sessions/{session.id}/google"
    client.get(url)

    session.title = "New title"
    db.session.commit()

    query = parse_qs(urlsplit(client.get(url).headers["Location"]).query)
    assert query["text"] == ["New title"]


def test_google_link_of_unknown_or_hidden_sessions_is_the_404_page(
    client, make_event, make_session
):
    event = make_event()
    session = make_session(event)
    other_event = make_event()
    other_session = make_session(other_event)
    draft = make_event(status="draft")
    draft_session = make_session(draft)

    english = {"Accept-Language": "en"}
    for url in [
        f"/events/no-such-event/sessions/{session.id}/google",
        f"/events/{draft.slug}/sessions/{draft_session.id}/google",
        f"/events/{event.slug}/sessions/999999/google",
        f"/events/{event.slug}/sessions/{other_session.id}/google",
        f"/events/{other_event.slug}/sessions/{session.id}/google",
        f"/events/{event.slug}/sessions/abc/google",
        f"/events/{event.slug}/sessions/-1/google",
    ]:
        response = client.get(url, headers=english)
        assert response.status_code == 404, url
        assert "Location" not in response.headers
        assert "This page does not exist." in response.get_data(as_text=True), url


def test_google_link_of_a_cancelled_session_says_so(client, make_event, make_session):
    event = make_event(default_locale="en")
    kept = make_session(event, title="Kept")
    cancelled = make_session(event, start=2, title="Dropped")
    cancelled.status = "cancelled"
    db.session.commit()

    response = client.get(f"/events/{event.slug}/sessions/{cancelled.id}/google")

    assert response.status_code == 404
    assert "Location" not in response.headers
    assert "This session has been cancelled." in response.get_data(as_text=True)
    # In the event's language, like the programme page, unless the visitor chose one.
    event.default_locale = "nl"
    db.session.commit()
    flask_babel.refresh()  # the test's app context outlives the request, and caches its locale
    dutch = client.get(f"/events/{event.slug}/sessions/{cancelled.id}/google")
    assert dutch.status_code == 404
    assert "Deze sessie is geannuleerd." in dutch.get_data(as_text=True)
    # The programme offers no calendar links for it, only for the kept session.
    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)
    assert f"/sessions/{cancelled.id}/google" not in page
    assert f"/sessions/{kept.id}/google" in page


def test_programme_page_no_longer_carries_the_long_google_urls(
    client, make_event, make_session, make_room
):
    """A big programme: every session links to the short redirect, none to Google itself,
    and the page is much smaller than it was with the whole URL inline per session."""
    event = make_event()
    rooms = [make_room(event, f"Studio {r}") for r in range(4)]
    speakers = two_speakers(event)
    sessions = [
        google_session(
            event, make_session, rooms[i % 4], speakers, title=f"Workshop {i}", start=i // 4
        )
        for i in range(40)
    ]

    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)

    old_page = page
    for s in sessions:
        long_url = str(escape(google_calendar_link(s)))  # as the old template wrote it
        short_url = f"/events/{event.slug}/sessions/{s.id}/google"
        assert long_url not in page and google_calendar_link(s) not in page
        assert page.count(f'href="{short_url}"') == 1
        old_page = old_page.replace(f'href="{short_url}"', f'href="{long_url}"')
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in old_page
    saved = sum(len(google_calendar_link(s)) for s in sessions)
    assert len(old_page.encode()) - len(page.encode()) >= saved * 0.8
    assert len(page.encode()) < 0.85 * len(old_page.encode())


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


def test_a_weak_etag_revalidates_too(client, make_event, make_session):
    """nginx turns an ETag weak when it compresses; If-None-Match compares weakly (issue 17)."""
    event = make_event()
    make_session(event)
    url = f"/events/{event.slug}/calendar.ics"
    etag = client.get(url).headers["ETag"]
    assert not etag.startswith("W/")

    weak = client.get(url, headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304 and weak.data == b""
    other = client.get(url, headers={"If-None-Match": 'W/"something-else", "else"'})
    assert other.status_code == 200


def test_last_modified_and_if_modified_since(client, make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    url = f"/events/{event.slug}/sessions/{session.id}.ics"
    first = client.get(url)
    modified = first.headers["Last-Modified"]
    assert first.last_modified is not None

    again = client.get(url, headers={"If-Modified-Since": modified})
    assert again.status_code == 304
    later = now + timedelta(days=1)
    schedule.move_session(
        None,
        session,
        starts_at=session.starts_at + timedelta(hours=1),
        ends_at=session.ends_at + timedelta(hours=1),
        now=later,
    )
    db.session.commit()
    changed = client.get(url, headers={"If-Modified-Since": modified})
    assert changed.status_code == 200
    assert changed.last_modified == later.replace(microsecond=0)
    # DTSTAMP is when the data last changed, not the event row's update time.
    assert parse_ics(changed.data, "PUBLISH").vevent.dtstamp.value == later
    assert event.updated_at != later
    # A matching If-None-Match wins over an old If-Modified-Since (RFC 9110 13.2.2).
    both = client.get(
        url, headers={"If-None-Match": changed.headers["ETag"], "If-Modified-Since": modified}
    )
    assert both.status_code == 304


def test_the_personal_feed_is_dated_by_the_attendees_own_changes(
    client, make_event, make_session, now
):
    event = make_event()
    first, second = make_session(event, start=0), make_session(event, start=2)
    attendee = register(event, [first, second], now).attendee
    url = f"/calendar/{feed_token(attendee)}.ics"
    before = client.get(url)
    time.sleep(1.1)  # HTTP dates have one-second resolution; registrations use the clock

    later = now + timedelta(hours=3)
    service.change_sessions(attendee, [first.id], waitlist=False, now=later)
    db.session.commit()

    after = client.get(url, headers={"If-Modified-Since": before.headers["Last-Modified"]})
    assert after.status_code == 200 and after.last_modified > before.last_modified

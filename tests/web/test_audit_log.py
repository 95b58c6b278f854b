"""A readable audit log (issue 20, item 8): local times, names instead of ids, before → after
in words (in Dutch too), the attendees' own changes and automatic promotions, filters by
attendee and by session, pages that keep the filter."""

import re
from html import unescape

import pytest
from flask import g
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, AuditEntry, EventSession, Organiser
from eventapp.services import audit, links
from eventapp.services.programme import schedule
from tests.query_counter import QueryCounter
from tests.web.conftest import sign_up as shared_sign_up


def sign_up(event, sessions, email, now, name, *, waitlist=False):
    """The attendee (tests/web/conftest.py) and their private link's token."""
    attendee = shared_sign_up(event, sessions, email, now, name=name, waitlist_ok=waitlist)
    return attendee, links.manage_token(attendee)


@pytest.fixture
def organiser(client, make_organiser, login):
    client.get("/lang/en")
    organiser = make_organiser()
    organiser.name = "Olga Organiser"
    db.session.commit()
    return login(organiser)


@pytest.fixture
def setting(make_event, make_session, now, organiser):
    event = make_event()
    robots = make_session(event, title="Robots", capacity=1)
    lasers = make_session(event, start=2, title="Lasers", capacity=5)
    ada, ada_token = sign_up(event, [robots], "ada@example.org", now, "Ada Lovelace")
    bob, _ = sign_up(event, [robots], "bob@example.org", now, "Bob Bakker", waitlist=True)
    return event, robots, lasers, ada, ada_token, bob


def rows(page: str) -> list[str]:
    """Each log line as plain text, newest first."""
    found = re.findall(r'<tr class="audit-entry".*?</tr>', page, flags=re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in found]


def log(client, event, **args):
    response = client.get(f"/organiser/events/{event.slug}/audit", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_organisers_move_reads_in_words_with_local_times_and_names(client, setting):
    event, robots, *_ = setting
    path = f"/organiser/events/{event.slug}/sessions/{robots.id}/move"
    move = {"starts_at": "2027-03-18T14:00", "ends_at": "2027-03-18T15:00", "room_id": 0}
    shown = client.post(path, data=move).get_data(as_text=True)
    reviewed = re.search(r'name="reviewed" type="hidden" value="([^"]*)"', shown).group(1)
    assert client.post(path, data={**move, "reviewed": reviewed, "notify": "no"}).status_code == 302
    line = rows(log(client, event))[0]
    assert "Olga Organiser" in line and "Session moved" in line and "Robots" in line
    # 10:00 → 14:00 in Amsterdam (09:00 → 13:00 UTC), not the stored UTC text.
    assert re.search(r"Starts .*10:00 → .*14:00", line), line
    assert "Attendees emailed not notified" in line
    assert "+00:00" not in line and "starts_at" not in line


def test_self_service_and_the_automatic_promotion_it_causes_are_in_the_log(client, setting, now):
    event, robots, _lasers, ada, ada_token, bob = setting
    client.post(f"/manage/{ada_token}/details", data={"name": "Ada King", "locale": "en"})
    client.post(f"/manage/{ada_token}/sessions/{robots.id}/cancel")
    lines = rows(log(client, event))
    promoted = next(line for line in lines if "Promoted from the waiting list" in line)
    assert "automatically" in promoted and "Bob Bakker" in promoted
    assert "On the waiting list → Confirmed" in promoted
    dropped = next(line for line in lines if "Gave up a session" in line)
    assert "Ada King (attendee)" in dropped and "Robots" in dropped
    details = next(line for line in lines if "Changed their details" in line)
    assert "Name Ada Lovelace → Ada King" in details
    kinds = db.session.scalars(select(AuditEntry.actor_kind).order_by(AuditEntry.id)).all()
    assert kinds[-3:] == ["attendee", "system", "attendee"]


def test_the_log_filters_by_attendee_and_by_session(client, setting, now):
    event, robots, lasers, ada, ada_token, bob = setting
    client.post(f"/manage/{ada_token}/details", data={"name": "Ada King", "locale": "en"})
    audit.record(None, "session.updated", lasers, {"capacity": 5}, {"capacity": 6})
    db.session.commit()

    by_ada = rows(log(client, event, attendee=ada.id))
    assert by_ada and all("Ada King" in line for line in by_ada)
    page = log(client, event, attendee=ada.id)
    assert "Changes concerning Ada King." in page
    by_lasers = rows(log(client, event, session=lasers.id))
    assert len(by_lasers) == 1 and "Capacity 5 → 6" in by_lasers[0]
    assert rows(log(client, event, attendee=bob.id, session=lasers.id)) == []


def test_the_log_finds_an_attendees_changes_by_name_or_email(client, setting):
    event, _robots, _lasers, ada, ada_token, bob = setting
    client.post(f"/manage/{ada_token}/details", data={"name": "Ada King", "locale": "en"})
    by_name = rows(log(client, event, q="king"))
    assert len(by_name) == 1 and "Changed their details" in by_name[0]
    assert rows(log(client, event, q="ADA@EXAMPLE")) == by_name
    assert rows(log(client, event, q="%")) == []  # a wildcard is a character like any other
    assert "Changes concerning attendees matching “king”." in log(client, event, q="king")


def test_a_move_on_the_same_day_shows_the_new_time_only(client, setting, now, organiser):
    event, robots, *_ = setting
    schedule.update_session(
        organiser, robots, {"starts_at": "2027-03-18T14:00", "ends_at": "2027-03-18T15:00"}, now
    )
    db.session.commit()
    line = rows(log(client, event))[0]
    assert "Starts Thursday, March 18, 2027, 10:00 → 14:00" in line


@pytest.mark.parametrize("bad", ["x", "-1", "99999999999999999999", "1e3", ""])
def test_filters_that_name_nothing_show_every_change(client, setting, bad):
    event, *_ = setting
    everything = rows(log(client, event))
    assert rows(log(client, event, attendee=bad, session=bad)) == everything


def test_another_events_attendee_is_no_filter(client, setting, make_event, make_session, now):
    event, *_ = setting
    other = make_event()
    stranger, _ = sign_up(other, [make_session(other)], "zed@example.org", now, "Zed")
    page = log(client, event, attendee=stranger.id)
    assert "Zed" not in page and "Changes concerning" not in page


def test_pages_keep_the_filter(client, setting):
    event, _robots, lasers, *_ = setting
    for capacity in range(60):
        audit.record(None, "session.updated", lasers, {"capacity": capacity}, {"capacity": 99})
    db.session.commit()
    first = log(client, event, session=lasers.id)
    assert "Page 1 of 2" in first
    older = re.search(r'href="([^"]*)" rel="next"', first).group(1)
    assert f"session={lasers.id}" in unescape(older)
    second = client.get(unescape(older)).get_data(as_text=True)
    assert len(rows(second)) == 10


def test_the_dutch_log_has_no_raw_values(client, setting, organiser, now):
    event, robots, *_ = setting
    # Through the service: the test client shares one app context, where Flask-Babel keeps
    # the first locale a page computed.
    schedule.cancel_session(organiser, robots, now, telling=schedule.Telling(note="Ziek"))
    db.session.commit()
    client.get("/lang/nl")
    line = rows(log(client, event))[0]
    assert "Sessie geannuleerd" in line
    assert "Gepland → Geannuleerd" in line
    assert "scheduled" not in line and "cancelled" not in line and "session." not in line


def _page_queries(client, slug) -> int:
    url = f"/organiser/events/{slug}/audit"
    db.session.remove()
    g.pop("_login_user", None)  # the test client shares the test's app context
    client.get(url)
    db.session.remove()
    g.pop("_login_user", None)
    with QueryCounter(db.engine) as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_the_log_costs_the_same_queries_for_a_few_entries_or_a_full_page(
    client, setting, organiser, now
):
    event, robots, lasers, ada, _token, bob = setting
    attendee_ids, session_ids = [ada.id, bob.id], [robots.id, lasers.id]
    slug, organiser_id = event.slug, organiser.id

    def entries(n):
        actor = db.session.get(Organiser, organiser_id)
        for i in range(n):
            attendee = db.session.get(Attendee, attendee_ids[i % 2])
            session = db.session.get(EventSession, session_ids[i % 2])
            registration = attendee.registrations[0]
            audit.record(actor, "registration.promote", registration, {}, {"status": "x"})
            audit.record(attendee, "attendee.sessions_changed", attendee, {}, {})
            audit.record(None, "session.moved", session, {"room_id": None}, {})
        db.session.commit()

    entries(2)
    few = _page_queries(client, slug)
    entries(20)
    assert _page_queries(client, slug) == few


def test_check_ins_and_exports_read_in_words(client, setting):
    """Issue 20: a check-in's time showed as "2026-12-07T04:05:24.503000+00:00", badge
    printing as the raw "badges.export", and an export's filter as "{}"."""
    event, robots, lasers, ada, *_ = setting
    scanned = client.post(
        f"/organiser/events/{event.slug}/door/scan",
        json={"code": ada.checkin_code, "scanned_at": "2027-03-18T08:27:00+00:00"},
    )
    assert scanned.status_code == 200
    assert client.get(f"/organiser/events/{event.slug}/badges.pdf").status_code == 200
    csv = client.get(f"/organiser/events/{event.slug}/attendees.csv?session={lasers.id}&q=ada")
    assert csv.status_code == 200
    exported, printed, checked_in = rows(log(client, event))[:3]
    assert "Checked in" in checked_in and "+00:00" not in checked_in
    assert "Badges printed" in printed and "badges.export" not in printed
    for line in (exported, printed):
        assert "{" not in line and "}" not in line, line
    assert "Session: Lasers" in exported and "Search: ada" in exported

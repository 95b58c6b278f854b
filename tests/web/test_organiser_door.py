"""Door mode over HTTP (JSON, as door.js sends it): codes, names, "already checked in at",
entries queued offline with their scan time, bad input, and the plain form without JS."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import g

from eventapp.extensions import db
from eventapp.models import Attendee, Registration
from eventapp.organiser import checkin_views, door_views
from tests.conftest import ORGANISER_PASSWORD
from tests.security_support import other_app
from tests.web.conftest import fresh, sign_up


def scan(client, event, **body):
    return client.post(f"/organiser/events/{event.slug}/door/scan", json=body)


def test_the_door_page_puts_the_code_field_first(door, crowd):
    event = crowd[0]
    page = door.get(f"/organiser/events/{event.slug}/door").get_data(as_text=True)
    assert page.index('id="door-code"') < page.index('id="door-result"')
    assert 'class="organiser-nav"' not in page and 'class="site-footer"' not in page
    assert "vendor/jsQR.js" in page and "door.js" in page and "<script>" not in page
    assert page.index("fetch_json.js") < page.index("door.js")  # the shared POST, first
    assert 'action="/organiser/events/' in page  # without JS the form posts to the check-in page


def test_a_code_checks_in_then_says_when(door, crowd):
    event, plenary, workshop, ada, bob = crowd
    first = scan(door, event, code=ada.checkin_code.lower())
    assert first.status_code == 200
    assert first.json["state"] == "checked_in"
    assert first.json["attendee"]["name"] == "Ada Lovelace"
    assert first.json["attendance"] == {"arrived": 1, "expected": 2}

    again = scan(door, event, code=ada.checkin_code).json
    assert again["state"] == "already"
    at = fresh(Attendee, ada.id).checked_in_at.astimezone(event.tz).strftime("%H:%M")
    assert again["message"] == f"Already checked in at {at}"


def test_a_name_finds_people_instead_of_refusing_a_code(door, crowd):
    event, plenary, workshop, ada, bob = crowd
    sign_up(event, [plenary], "h@example.org", datetime(2027, 2, 1, tzinfo=UTC), name="Ed Hendriks")

    answer = scan(door, event, code="Hendriks").json  # looks like a code, is a name
    assert answer["state"] == "search"
    assert [p["name"] for p in answer["matches"]] == ["Ed Hendriks"]
    assert "HENDR1KS" not in answer["message"]

    spaced = scan(door, event, code="ada love").json
    assert [p["name"] for p in spaced["matches"]] == ["Ada Lovelace"]

    picked = scan(door, event, attendee_id=spaced["matches"][0]["id"]).json
    assert picked["state"] == "checked_in"


def test_unknown_codes_and_refusals_are_told_apart(door, crowd, now):
    event, plenary, workshop, ada, bob = crowd
    assert scan(door, event, code="ZZZZ9999ZZ").json["state"] == "unknown"
    waiting = scan(door, event, code=bob.checkin_code, session=workshop.id).json
    assert waiting["state"] == "refused"
    assert "waiting list" in waiting["message"]


def test_an_entry_queued_offline_keeps_its_scan_time_and_the_earliest_arrival_wins(
    door,
    crowd,
):
    event, plenary, workshop, ada, bob = crowd
    # Another door, online, checks Ada in now; this phone scanned her 20 minutes ago while
    # its Wi-Fi was down, and sends the entry when the connection returns.
    assert scan(door, event, code=ada.checkin_code).json["state"] == "checked_in"
    online_time = fresh(Attendee, ada.id).checked_in_at
    scanned = datetime.now(UTC) - timedelta(minutes=20)

    late = scan(door, event, code=ada.checkin_code, scanned_at=scanned.isoformat()).json

    assert late["state"] == "already"
    arrived = fresh(Attendee, ada.id).checked_in_at
    assert abs(arrived - scanned) < timedelta(seconds=1)
    assert arrived < online_time
    assert late["message"] == f"Already checked in at {scanned.astimezone(event.tz):%H:%M}"


def test_a_queued_entry_for_a_session_records_the_scan_time(door, crowd):
    event, plenary, workshop, ada, bob = crowd
    scanned = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    answer = scan(
        door, event, code=ada.checkin_code, session=str(workshop.id), scanned_at=scanned.isoformat()
    ).json
    assert answer["state"] == "checked_in"
    seat = db.session.query(Registration).filter_by(attendee_id=ada.id, session_id=workshop.id)
    db.session.expire_all()
    assert seat.one().checked_in_at == scanned


@pytest.mark.parametrize("offset", [timedelta(hours=2), timedelta(days=-3)])
def test_implausible_scan_times_fall_back_to_now(door, crowd, offset):
    event, plenary, workshop, ada, bob = crowd
    before = datetime.now(UTC)
    scanned_at = before + offset
    scan(door, event, code=ada.checkin_code, scanned_at=scanned_at.isoformat())
    assert fresh(Attendee, ada.id).checked_in_at >= before - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": 5}, "code"),
        ({"code": "x" * 201}, "code"),
        ({"code": "ABC", "session": "①"}, "session"),
        ({"code": "ABC", "session": 99999999}, "session"),
        ({"code": "ABC", "scanned_at": "yesterday"}, "scanned_at"),
        ({"code": "ABC", "scanned_at": "2027-03-18T08:27:00"}, "scanned_at"),
        ({"code": "ABC", "scanned_at": ["x"]}, "scanned_at"),
    ],
)
def test_bad_entries_get_422_naming_the_field_and_change_nothing(door, crowd, body, field):
    event, plenary, workshop, ada, bob = crowd
    response = scan(door, event, **body)
    assert response.status_code == 422
    assert field in response.json["fields"]
    assert db.session.query(Attendee).filter(Attendee.checked_in_at.is_not(None)).count() == 0


def test_a_body_that_is_not_an_object_is_422(door, crowd):
    event = crowd[0]
    response = door.post(
        f"/organiser/events/{event.slug}/door/scan", data="[1]", content_type="application/json"
    )
    assert response.status_code == 422


def test_a_picked_attendee_of_another_event_is_not_found(door, crowd, make_event):
    event, plenary, workshop, ada, bob = crowd
    other = make_event()
    assert scan(door, other, attendee_id=ada.id).json["state"] == "unknown"
    assert fresh(Attendee, ada.id).checked_in_at is None


def test_a_name_typed_into_the_plain_code_form_shows_the_search(door, crowd):
    event, plenary, workshop, ada, bob = crowd
    response = door.post(f"/organiser/events/{event.slug}/checkin/code", data={"code": "Lovelace"})
    assert response.status_code == 302
    assert "q=Lovelace" in response.location
    page = door.get(response.location).get_data(as_text=True)
    assert "Ada Lovelace" in page and "No attendee of this event has the code" not in page


def test_signed_out_the_door_answers_nothing(client, crowd):
    event, plenary, workshop, ada, bob = crowd
    response = scan(client, event, code=ada.checkin_code)
    assert response.status_code in (302, 401, 403)
    assert fresh(Attendee, ada.id).checked_in_at is None


def test_a_name_nobody_has_says_so_instead_of_asking_to_pick(door, crowd):
    """Issue 20 at the door: "Jan Jansen" (no such attendee) answered "Pick the person to
    check in." with nobody to pick, and "Hendriks" answered with the code HENDR1KS."""
    event = crowd[0]
    nobody = scan(door, event, code="Jan Jansen").json
    assert nobody["state"] == "unknown"
    assert "Jan Jansen" in nobody["message"] and "Pick" not in nobody["message"]

    name_like = scan(door, event, code="Hendriks").json  # passes for a code, but a name
    assert name_like["state"] == "unknown"
    assert "Hendriks" in name_like["message"] and "HENDR1KS" not in name_like["message"]


def test_an_event_over_two_days_is_checked_in_on_each_day(
    door, make_event, make_session, now, monkeypatch
):
    """The trial: on the second day the door answered "Already checked in at 08:30" (the
    first day's time) and counted yesterday's arrivals, with yesterday's people expected."""
    event = make_event(ends_at=datetime(2027, 3, 19, 17, 0, tzinfo=UTC))
    first = make_session(event, kind="plenary", capacity=100, title="Day one")
    second = make_session(event, kind="plenary", start=24, capacity=100, title="Day two")
    workshop = make_session(event, start=2, capacity=100, title="Only on day one")
    ada = sign_up(event, [first, second], "ada@example.org", now, name="Ada Lovelace")
    bob = sign_up(event, [workshop], "bob@example.org", now, name="Bob Bakker")
    clock = [datetime(2027, 3, 18, 7, 30, tzinfo=UTC)]  # 08:30 in Amsterdam
    monkeypatch.setattr(door_views, "utcnow", lambda: clock[0])
    monkeypatch.setattr(checkin_views, "utcnow", lambda: clock[0])

    day_one = scan(door, event, code=ada.checkin_code).json
    assert day_one["state"] == "checked_in" and day_one["attendance"] == {
        "arrived": 1,
        "expected": 2,
    }
    page = door.get(f"/organiser/events/{event.slug}/door").get_data(as_text=True)
    assert '<span id="door-day">Thursday 18 March</span>' in page

    clock[0] = datetime(2027, 3, 19, 7, 45, tzinfo=UTC)  # the next day, 08:45
    page = door.get(f"/organiser/events/{event.slug}/door").get_data(as_text=True)
    assert '<span id="door-day">Friday 19 March</span>' in page
    assert "<strong>0</strong> / 1" in page  # Ada only: Bob has nothing on day two
    missing = door.get(f"/organiser/events/{event.slug}/checkin/missing").get_data(as_text=True)
    assert "Ada Lovelace" in missing and "Bob Bakker" not in missing

    day_two = scan(door, event, code=ada.checkin_code).json
    assert day_two["state"] == "checked_in", day_two["message"]
    assert day_two["attendee"]["checked_in_at"] == "08:45"
    assert day_two["attendance"] == {"arrived": 1, "expected": 1}
    again = scan(door, event, code=ada.checkin_code).json
    assert again["state"] == "already" and again["message"] == "Already checked in at 08:45"
    refused = scan(door, event, code=bob.checkin_code, session=second.id).json
    assert refused["state"] == "refused"


def test_a_one_day_event_names_no_day_and_says_already_the_next_morning(door, crowd, monkeypatch):
    event, plenary, workshop, ada, bob = crowd
    clock = [datetime(2027, 3, 18, 7, 30, tzinfo=UTC)]
    monkeypatch.setattr(door_views, "utcnow", lambda: clock[0])
    assert scan(door, event, code=ada.checkin_code).json["state"] == "checked_in"
    assert 'id="door-day"' not in door.get(f"/organiser/events/{event.slug}/door").get_data(
        as_text=True
    )
    clock[0] += timedelta(days=1)
    assert scan(door, event, code=ada.checkin_code).json["message"] == "Already checked in at 08:30"


def next_of(login_url: str) -> str:
    parts = urlsplit(login_url)
    assert parts.path == "/organiser/login"
    return parse_qs(parts.query)["next"][0]


def signed_out(client):
    """The sign-in ended: the cookie is gone (and the user the test's app context kept)."""
    client._cookies.clear()
    g.pop("_login_user", None)
    client.get("/lang/en")


def test_a_door_scan_after_the_sign_in_expired_is_a_401_door_js_keeps(door, crowd):
    event, plenary, workshop, ada, bob = crowd
    signed_out(door)
    answer = scan(door, event, code=ada.checkin_code, session=plenary.id)
    assert answer.status_code == 401  # not a redirect to a sign-in page fetch() can't read
    assert answer.json["error"] == "signed_out"
    assert answer.json["message"] == "Your sign-in has expired. Sign in again to go on."
    assert fresh(Attendee, ada.id).checked_in_at is None


def test_the_door_form_without_js_comes_back_with_its_code_after_signing_in(
    door, crowd, make_organiser, login
):
    """The trial: the plain form's POST went to the sign-in page with `next` the POST-only
    /checkin/code (405 after signing in), and the typed code was gone."""
    event, plenary, workshop, ada, bob = crowd
    page = door.get(f"/organiser/events/{event.slug}/door?session={plenary.id}")
    back = f"/organiser/events/{event.slug}/door?session={plenary.id}"
    assert f'name="back" value="{back}"' in page.get_data(as_text=True)
    signed_out(door)

    posted = door.post(
        f"/organiser/events/{event.slug}/checkin/code",
        data={"code": ada.checkin_code, "session": plenary.id, "back": back},
    )
    assert posted.status_code == 302
    expected_next = f"{back}&code={ada.checkin_code}"
    assert next_of(posted.headers["Location"]) == expected_next
    assert fresh(Attendee, ada.id).checked_in_at is None  # nothing done while signed out

    organiser = make_organiser("checkin", email="door2@example.org")
    signed_in = door.post(
        posted.headers["Location"],
        data={"email": organiser.email, "password": ORGANISER_PASSWORD},
    )
    assert signed_in.headers["Location"] == expected_next
    again = door.get(expected_next).get_data(as_text=True)
    assert f'id="door-code" name="code" value="{ada.checkin_code}"' in again
    signin_link = again.split('id="door-signin" href="')[1].split('"')[0]
    assert next_of(signin_link.replace("&amp;", "&")) == back


def test_an_expired_sign_in_refused_for_its_csrf_token_signs_in_again_too(app, tmp_path, crowd):
    """With CSRF on, as in production, the expired cookie took the token with it: the form
    was refused "expired, reload" before the sign-in check could keep the code."""
    event, plenary = crowd[0], crowd[1]
    slug, session_id = event.slug, plenary.id
    with other_app(app, tmp_path, WTF_CSRF_ENABLED=True) as protected:
        client = protected.test_client()
        client.get("/lang/en")
        back = f"/organiser/events/{slug}/checkin"
        posted = client.post(
            f"/organiser/events/{slug}/checkin/code",
            data={"code": "ABCD1234", "session": session_id, "back": back, "csrf_token": "gone"},
        )
        assert posted.status_code == 302
        assert next_of(posted.headers["Location"]) == f"{back}?code=ABCD1234"
        json_scan = client.post(
            f"/organiser/events/{slug}/door/scan",
            json={"code": "ABCD1234"},
            headers={"Accept": "application/json", "X-CSRFToken": "gone"},
        )
        assert json_scan.status_code == 401 and json_scan.json["error"] == "signed_out"

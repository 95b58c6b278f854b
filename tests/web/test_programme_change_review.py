"""Changes under control (issue 20, item 4): before a programme change that emails
attendees the organiser sees how many people it emails, may add a note or tell nobody,
and fixes the attendees a move would double-book in one go."""

import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AuditEntry, EventSession, Organiser, OutboxMessage, Registration
from eventapp.services.mail.worker import send_pending
from tests.web.conftest import fresh, sign_up


@pytest.fixture
def organiser(client, make_organiser, login):
    client.get("/lang/en")
    return login(make_organiser())


@pytest.fixture
def programme(make_event, make_session, now, organiser):
    """Round 1 (09:00): Robots and Drones; round 2 (10:00): Lasers. Ada and Bob take Robots
    and Lasers; Cas is on the waiting list of Robots."""
    event = make_event()
    robots = make_session(event, title="Robots", capacity=2)
    drones = make_session(event, title="Drones", capacity=5)
    lasers = make_session(event, start=1, title="Lasers", capacity=5)
    ada = sign_up(event, [robots, lasers], "ada@example.org", now, name="Ada Lovelace")
    bob = sign_up(event, [robots, lasers], "bob@example.org", now, name="Bob Bakker")
    cas = sign_up(event, [robots], "cas@example.org", now, name="Cas Cohen", waitlist_ok=True)
    return event, robots, drones, lasers, (ada, bob, cas)


def _path(event, session, what="edit"):
    return f"/organiser/events/{event.slug}/sessions/{session.id}/{what}"


def _mails(kind=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    rows = db.session.scalars(query).all()
    return [m for m in rows if kind is None or m.kind == kind]


def _reviewed(page: str) -> str:
    return re.search(r'name="reviewed" type="hidden" value="([^"]*)"', page).group(1)


TITLE_CHANGE = {
    "title": "Robots and cobots",
    "kind": "workshop",
    "starts_at": "2027-03-18T10:00",
    "ends_at": "2027-03-18T11:00",
    "room_id": 0,
    "capacity": 2,
}


def test_a_change_that_emails_people_is_shown_with_its_count_before_it_is_saved(client, programme):
    event, robots, *_ = programme
    before = len(_mails())
    page = client.post(_path(event, robots), data=TITLE_CHANGE)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    # A new title tells the seat holders (Ada, Bob), not the waiting list.
    assert "This change emails 2 people." in text
    assert fresh(EventSession, robots.id).title == "Robots"
    assert len(_mails()) == before

    saved = client.post(
        _path(event, robots),
        data={**TITLE_CHANGE, "reviewed": _reviewed(text), "note": "Room <b>2</b>"},
    )
    assert saved.status_code == 302
    assert fresh(EventSession, robots.id).title == "Robots and cobots"
    sent = _mails("session_moved")
    assert len(sent) == 2
    assert all(m.payload["note"] == "Room <b>2</b>" for m in sent)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "session.updated"))
    assert entry.one().after["notified"] == 2


def test_a_change_that_emails_nobody_saves_at_once(client, programme):
    event, _robots, drones, *_ = programme
    response = client.post(_path(event, drones), data={**TITLE_CHANGE, "title": "Drone lab"})
    assert response.status_code == 302
    assert fresh(EventSession, drones.id).title == "Drone lab"


def test_dont_notify_changes_the_feed_but_sends_nothing_and_is_audited(client, programme):
    event, robots, *_ = programme
    sequence = robots.sequence
    before = len(_mails())
    page = client.post(_path(event, robots), data=TITLE_CHANGE).get_data(as_text=True)
    response = client.post(
        _path(event, robots), data={**TITLE_CHANGE, "reviewed": _reviewed(page), "notify": "no"}
    )
    assert response.status_code == 302
    assert len(_mails()) == before
    assert fresh(EventSession, robots.id).sequence == sequence + 1  # calendars pick it up
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "session.updated"))
    assert entry.one().after["notified"] is False


def test_the_count_is_asked_for_again_when_the_change_differs_from_what_was_shown(
    client, programme
):
    event, robots, drones, *_ = programme
    page = client.post(_path(event, robots), data=TITLE_CHANGE).get_data(as_text=True)
    # The organiser edits the title on the review page: the new change is shown first.
    other = {**TITLE_CHANGE, "title": "Cobots", "reviewed": _reviewed(page)}
    response = client.post(_path(event, robots), data=other)
    assert response.status_code == 200
    assert "This change emails 2 people." in response.get_data(as_text=True)
    assert fresh(EventSession, robots.id).title == "Robots"
    # The same change to another session is another change as well.
    shown_here = {**TITLE_CHANGE, "reviewed": _reviewed(page)}
    sign_up(event, [drones], "dee@example.org", fresh(EventSession, drones.id).created_at)
    assert client.post(_path(event, drones), data=shown_here).status_code == 200
    assert fresh(EventSession, drones.id).title == "Drones"


def test_a_note_that_is_too_long_is_refused_and_nothing_changes(client, programme):
    event, robots, *_ = programme
    page = client.post(_path(event, robots), data=TITLE_CHANGE).get_data(as_text=True)
    response = client.post(
        _path(event, robots),
        data={**TITLE_CHANGE, "reviewed": _reviewed(page), "note": "x" * 2001},
    )
    assert response.status_code == 422
    assert fresh(EventSession, robots.id).title == "Robots"


MOVE_TO_ROUND_TWO = {"starts_at": "2027-03-18T11:00", "ends_at": "2027-03-18T12:00", "room_id": 0}


def test_a_move_lists_the_attendees_it_would_double_book_with_a_free_workshop_each(
    client, programme
):
    event, robots, *_ = programme
    page = client.post(_path(event, robots, "move"), data=MOVE_TO_ROUND_TWO)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "This change emails 3 people." in text  # Ada, Bob and Cas (waiting)
    rows = re.findall(r'<tr class="clash"><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>', text)
    assert rows == [("Ada Lovelace", "Lasers", "Drones"), ("Bob Bakker", "Lasers", "Drones")]


def test_moving_the_clashing_attendees_to_a_free_workshop(client, programme):
    event, robots, drones, lasers, (ada, bob, cas) = programme
    page = client.post(_path(event, robots, "move"), data=MOVE_TO_ROUND_TWO).get_data(as_text=True)
    response = client.post(
        _path(event, robots, "move"),
        data={
            **MOVE_TO_ROUND_TWO,
            "reviewed": _reviewed(page),
            "clash_fix": "alternative",
            "note": "Sorry!",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    seats = {
        (r.attendee_id, r.session_id): r.status for r in db.session.scalars(select(Registration))
    }
    assert seats[(ada.id, drones.id)] == seats[(bob.id, drones.id)] == "confirmed"
    assert seats[(ada.id, robots.id)] == seats[(bob.id, robots.id)] == "cancelled"
    assert seats[(cas.id, robots.id)] == "confirmed"  # promoted into a freed seat
    by_person = {}
    for message in _mails():
        if message.kind in ("clash_resolved", "session_moved"):
            by_person.setdefault(message.attendee_id, []).append(message.kind)
    assert by_person[ada.id] == by_person[bob.id] == ["clash_resolved"]  # told once
    assert fresh(EventSession, drones.id).seats_taken == 2
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "session.moved"))
    after = entry.one().after
    assert after["clash_fix"] == "alternative"
    assert sorted(f["to_session_id"] for f in after["clashes_fixed"]) == [drones.id, drones.id]


def test_moving_the_clashing_attendees_to_the_waiting_list(client, programme):
    event, robots, _drones, _lasers, (ada, bob, cas) = programme
    page = client.post(_path(event, robots, "move"), data=MOVE_TO_ROUND_TWO).get_data(as_text=True)
    response = client.post(
        _path(event, robots, "move"),
        data={**MOVE_TO_ROUND_TWO, "reviewed": _reviewed(page), "clash_fix": "waitlist"},
    )
    assert response.status_code == 302
    rows = db.session.scalars(select(Registration).where(Registration.session_id == robots.id))
    status = {r.attendee_id: r.status for r in rows}
    assert status == {ada.id: "waitlisted", bob.id: "waitlisted", cas.id: "confirmed"}
    assert fresh(EventSession, robots.id).seats_taken == 1


def test_without_a_fix_the_clash_still_blocks_the_move(client, programme):
    event, robots, *_ = programme
    page = client.post(_path(event, robots, "move"), data=MOVE_TO_ROUND_TWO).get_data(as_text=True)
    response = client.post(
        _path(event, robots, "move"),
        data={**MOVE_TO_ROUND_TWO, "reviewed": _reviewed(page), "clash_fix": "block"},
    )
    assert response.status_code == 409
    assert fresh(EventSession, robots.id).starts_at.hour == 9


def test_cancelling_shows_the_count_and_can_tell_nobody(client, programme):
    event, robots, *_ = programme
    page = client.get(_path(event, robots, "cancel")).get_data(as_text=True)
    assert "This change emails 3 people." in page
    before = len(_mails())
    response = client.post(_path(event, robots, "cancel"), data={"confirm": "y", "notify": "no"})
    assert response.status_code == 302
    assert fresh(EventSession, robots.id).status == "cancelled"
    assert len(_mails()) == before


def test_cancelling_with_a_note(client, programme):
    event, robots, *_ = programme
    response = client.post(
        _path(event, robots, "cancel"), data={"confirm": "y", "note": "The speaker is ill."}
    )
    assert response.status_code == 302
    sent = _mails("session_cancelled")
    assert len(sent) == 3 and {m.payload["note"] for m in sent} == {"The speaker is ill."}


def test_moving_the_event_shows_the_count_first(client, programme):
    event, *_ = programme
    data = {"starts_at": "2027-03-25T09:00"}
    page = client.post(f"/organiser/events/{event.slug}/move", data=data).get_data(as_text=True)
    assert "This change emails 3 people." in page
    response = client.post(
        f"/organiser/events/{event.slug}/move",
        data={**data, "reviewed": _reviewed(page), "note": "A week later."},
    )
    assert response.status_code == 302
    sent = _mails("session_moved")
    assert len(sent) == 3 and all(m.payload["note"] == "A week later." for m in sent)


@pytest.fixture
def api(client, programme, api_token):
    event, *_ = programme
    organiser = db.session.scalars(select(Organiser)).first()
    headers = {"Authorization": f"Bearer {api_token(organiser)}"}

    def call(method, path, json=None):
        return client.open(path, method=method, json=json, headers=headers)

    return call


def test_the_api_patch_takes_a_note_and_says_how_many_were_emailed(api, programme):
    _event, robots, *_ = programme
    response = api("PATCH", f"/api/v1/sessions/{robots.id}", {"title": "Cobots", "note": "New!"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["notified"] == 2
    assert {m.payload["note"] for m in _mails("session_moved")} == {"New!"}


def test_the_api_patch_with_notify_false_sends_nothing(api, programme):
    _event, robots, *_ = programme
    before = len(_mails())
    response = api(
        "PATCH",
        f"/api/v1/sessions/{robots.id}",
        {"starts_at": "2027-03-18T09:30", "ends_at": "2027-03-18T10:30", "notify": False},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["notified"] == 0
    assert len(_mails()) == before
    assert fresh(EventSession, robots.id).starts_at.minute == 30  # moved all the same


def test_the_api_patch_fixes_clashes_when_asked(api, programme):
    _event, robots, drones, _lasers, (ada, bob, _cas) = programme
    move = {"starts_at": "2027-03-18T11:00", "ends_at": "2027-03-18T12:00"}
    blocked = api("PATCH", f"/api/v1/sessions/{robots.id}", move)
    assert blocked.status_code == 409
    fixed = api("PATCH", f"/api/v1/sessions/{robots.id}", {**move, "clash_fix": "alternative"})
    assert fixed.status_code == 200, fixed.get_json()
    held = db.session.scalars(
        select(Registration.attendee_id).where(
            Registration.session_id == drones.id, Registration.status == "confirmed"
        )
    ).all()
    assert sorted(held) == sorted([ada.id, bob.id])


@pytest.mark.parametrize(
    "body",
    [{"notify": "no"}, {"note": 5}, {"note": "x" * 2001}, {"clash_fix": "later"}],
)
def test_the_api_refuses_bad_telling_and_changes_nothing(api, programme, body):
    _event, robots, *_ = programme
    before = len(_mails())
    response = api("PATCH", f"/api/v1/sessions/{robots.id}", {"title": "Cobots", **body})
    assert response.status_code == 422
    assert fresh(EventSession, robots.id).title == "Robots" and len(_mails()) == before


def _cancel_through_the_api(api, session, **query):
    return api("DELETE", f"/api/v1/sessions/{session.id}?{urlencode(query)}")


def _delivered(smtp_server, now) -> list:
    """What the outbox sends to the real SMTP server from here on."""
    send_pending(now=now)
    return smtp_server.messages


def test_the_api_cancel_with_notify_false_emails_nobody(api, programme, smtp_server, now):
    _event, robots, *_ = programme
    already = len(_delivered(smtp_server, now))  # the confirmations of the sign-ups
    response = _cancel_through_the_api(api, robots, notify="false")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["notified"] == 0
    assert len(_delivered(smtp_server, now)) == already
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "session.cancelled"))
    assert entry.one().after["notified"] is False


def test_the_api_cancel_emails_everyone_with_the_note(api, programme, smtp_server, now):
    _event, robots, *_ = programme
    already = len(_delivered(smtp_server, now))
    note = "The speaker is ill.\nSee you in round 2."
    response = _cancel_through_the_api(api, robots, note=note)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["notified"] == 3  # Ada, Bob and Cas (waiting): the form's default
    sent = _delivered(smtp_server, now)[already:]
    assert sorted(m["To"].addresses[0].addr_spec for m in sent) == [
        "ada@example.org",
        "bob@example.org",
        "cas@example.org",
    ]
    for message in sent:
        lines = message.get_body(("plain",)).get_content().splitlines()
        assert lines[lines.index("The speaker is ill.") + 1] == "See you in round 2."
        assert "See you in round 2." in message.get_body(("html",)).get_content()


def test_the_api_cancel_without_query_emails_everyone(api, programme):
    _event, robots, *_ = programme
    response = api("DELETE", f"/api/v1/sessions/{robots.id}")
    assert response.status_code == 200 and response.get_json()["notified"] == 3
    assert {m.payload.get("note", "") for m in _mails("session_cancelled")} == {""}


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ({"notify": "no"}, "notify", "Must be true or false."),
        ({"notify": ""}, "notify", "Must be true or false."),
        ({"notify": "1"}, "notify", "Must be true or false."),
        ({"note": "x" * 2001}, "note", "At most 2000 characters."),
        ({"note": "bell\x07"}, "note", "Contains characters that are not allowed."),
        ([("note", "one"), ("note", "two")], "note", "Must be text."),
    ],
    ids=["notify-no", "notify-empty", "notify-1", "note-too-long", "note-control", "two-notes"],
)
def test_the_api_cancel_refuses_bad_telling_and_changes_nothing(
    api, programme, query, field, reason
):
    _event, robots, *_ = programme
    before = len(_mails())
    response = api("DELETE", f"/api/v1/sessions/{robots.id}?{urlencode(query)}")
    assert response.status_code == 422, response.get_json()
    answer = response.get_json()
    assert answer["error"] == "invalid" and list(answer["fields"]) == [field]
    assert reason in answer["fields"][field][0]
    assert fresh(EventSession, robots.id).status == "scheduled" and len(_mails()) == before


def test_the_api_cancel_refuses_notify_in_a_body_it_would_not_read(api, programme):
    """DELETE bodies are not read (spectree, and many proxies drop them): a client that sends
    {"notify": false} there is told so, rather than everyone being emailed."""
    _event, robots, *_ = programme
    before = len(_mails())
    response = api("DELETE", f"/api/v1/sessions/{robots.id}", {"notify": False})
    assert response.status_code == 400
    assert "query" in response.get_json()["message"]
    assert fresh(EventSession, robots.id).status == "scheduled" and len(_mails()) == before


def test_the_api_document_describes_the_cancels_query(client):
    document = client.get("/api/v1/openapi.json").get_json()
    cancel = document["paths"]["/api/v1/sessions/{session_id}"]["delete"]
    parameters = {p["name"]: p for p in cancel["parameters"] if p["in"] == "query"}
    assert set(parameters) == {"notify", "note"}
    assert "422" in cancel["responses"]


def test_the_api_event_move_takes_notify_and_note(api, programme):
    event, *_ = programme
    response = api(
        "POST",
        f"/api/v1/events/{event.slug}/move",
        {"starts_at": "2027-03-25T09:00", "notify": False, "note": "unused"},
    )
    assert response.status_code == 200, response.get_json()
    assert _mails("session_moved") == []
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.moved"))
    assert entry.one().after["notified"] is False


def test_a_new_venue_shows_the_count_of_seat_holders_first(client, programme):
    event, *_ = programme
    data = {
        "name": event.name,
        "slug": event.slug,
        "timezone": "Europe/Amsterdam",
        "starts_at": "2027-03-18T09:00",
        "ends_at": "2027-03-18T18:00",
        "status": "published",
        "promotion_mode": "auto",
        "allocation_mode": "fcfs",
        "venue": "Utrecht",
    }
    shown = client.post(f"/organiser/events/{event.slug}/edit", data=data).get_data(as_text=True)
    assert "This change emails 2 people." in shown  # Ada and Bob hold seats; Cas waits
    saved = client.post(
        f"/organiser/events/{event.slug}/edit",
        data={**data, "reviewed": _reviewed(shown), "notify": "no"},
    )
    assert saved.status_code == 302
    assert _mails("session_moved") == []


def test_the_attendee_page_links_to_their_changes(client, programme):
    event, _robots, _drones, _lasers, (ada, _bob, _cas) = programme
    page = client.get(f"/organiser/events/{event.slug}/attendees/{ada.id}").get_data(as_text=True)
    assert f"/organiser/events/{event.slug}/audit?attendee={ada.id}" in page


def test_the_preview_names_the_conflict_that_will_stop_the_save(client, programme, make_room):
    """Issue 20: the preview said "this emails 3 people" and offered the note and the fix
    for clashing attendees, and only the next press of Save said the room was taken."""
    event, robots, drones, lasers, _people = programme
    studio = make_room(event, "Studio 1")
    lasers.room_id = studio.id
    db.session.commit()
    move = {**MOVE_TO_ROUND_TWO, "room_id": studio.id}
    text = client.post(_path(event, robots, "move"), data=move).get_data(as_text=True)
    assert "This change emails 3 people." in text
    assert "Studio 1 already holds “Lasers”" in text
    assert fresh(EventSession, robots.id).room_id is None

"""The attendee list's bulk actions over HTTP (message, cancel, move, resend confirmation)
and "resend confirmation" on one attendee's page: what changes in the database, the seat
counters against the rows, and the mail as the real SMTP server receives it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, AuditEntry, EventSession, OutboxMessage, Registration
from eventapp.services.backoffice.bulk import Outcome, move_summary
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as registration
from tests.web.conftest import fresh, sign_up


@pytest.fixture
def signed_in(client, make_organiser, login):
    client.get("/lang/en")
    return login(make_organiser("organiser"))


@pytest.fixture
def round_one(make_event, make_session, now):
    """A plenary, and two workshops of one round: Robots (2 seats, full) and Drones (2 seats).
    Ada and Bob hold Robots, Cyd waits for it; Dee holds Drones."""
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=50, title="Opening")
    robots = make_session(event, start=1, capacity=2, title="Robots")
    drones = make_session(event, start=1, capacity=2, title="Drones")
    ada = sign_up(event, [plenary, robots], "ada@example.org", now, name="Ada Lovelace")
    bob = sign_up(event, [plenary, robots], "bob@example.org", now, name="Bob Bakker")
    cyd = sign_up(
        event, [plenary, robots], "cyd@example.org", now, name="Cyd Cole", waitlist_ok=True
    )
    dee = sign_up(event, [plenary, drones], "dee@example.org", now, name="Dee Dekker")
    db.session.execute(OutboxMessage.__table__.delete())  # the sign-ups' confirmations
    db.session.commit()
    return event, (plenary, robots, drones), (ada, bob, cyd, dee)


def counters_match_rows(sessions) -> bool:
    db.session.expire_all()
    return all(registration.confirmed_count_matches_counter(s.id) for s in sessions)


def status_of(attendee, session) -> str | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Registration.status).where(
            Registration.attendee_id == attendee.id,
            Registration.session_id == session.id,
            Registration.status != "cancelled",
        )
    )


def bulk(client, event, action, ids=(), *, follow_redirects=False, **fields):
    data = {"action": action, "attendee": [str(i) for i in ids], **fields}
    url = f"/organiser/events/{event.slug}/attendees/bulk"
    return client.post(url, data=data, follow_redirects=follow_redirects)


def mail_to(smtp_server, address):
    return [m for m in smtp_server.messages if address in m["To"]]


def test_the_list_is_dense_with_a_box_per_attendee_and_the_bulk_bar(client, signed_in, round_one):
    event, _sessions, people = round_one
    page = client.get(f"/organiser/events/{event.slug}/attendees").get_data(as_text=True)
    for person in people:
        assert f'name="attendee" value="{person.id}"' in page
        assert f'aria-label="Select {person.name}"' in page
    assert 'class="table-compact attendee-table"' in page
    assert 'action="/organiser/events/' in page and "/attendees/bulk" in page
    for action in ("message", "resend", "move", "cancel"):
        assert f'name="action" value="{action}"' in page
    assert 'value="matching"' in page and "All 4 matching the filter" in page
    assert "attendee_list.js" in page and "<script>" not in page  # a static file only


def test_bulk_cancel_asks_first_naming_the_count_then_cancels_through_the_normal_path(
    client, signed_in, round_one, now, smtp_server
):
    event, sessions, (ada, bob, cyd, dee) = round_one
    plenary, robots, _drones = sessions

    confirm = bulk(client, event, "cancel", [ada.id, dee.id])
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Cancel 2 registrations?" in page and "Yes, cancel 2 registrations" in page
    assert "Ada Lovelace" in page and "Dee Dekker" in page and "Bob Bakker" not in page
    assert fresh(Attendee, ada.id).status == "active"  # asking changes nothing

    report = client.post(
        f"/organiser/events/{event.slug}/attendees/bulk/cancel",
        data={"attendee": [str(ada.id), str(dee.id)], "expected_count": "2"},
    )
    text = report.get_data(as_text=True)
    assert report.status_code == 200 and "Done for 2 of 2 attendees." in text
    assert fresh(Attendee, ada.id).status == "cancelled"
    assert fresh(Attendee, dee.id).status == "cancelled"
    assert fresh(Attendee, bob.id).status == "active"
    assert status_of(cyd, robots) == "confirmed"  # Ada's seat passed down the waiting list
    assert counters_match_rows(sessions)
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("attendee.cancel") == 2

    send_pending(now=now)
    # The cancellation (in the attendee's Dutch), and a calendar-only follower for the
    # second session (docs/CALENDAR.md).
    for address in ("ada@example.org", "dee@example.org"):
        subjects = [m["Subject"] for m in mail_to(smtp_server, address)]
        assert subjects == [f"Je aanmelding voor {event.name} is geannuleerd"] * 2
    [promoted] = mail_to(smtp_server, "cyd@example.org")
    assert promoted["Subject"].startswith("Er is een plaats vrijgekomen")
    assert mail_to(smtp_server, "bob@example.org") == []


def test_bulk_cancel_is_refused_when_the_selection_changed_since_the_question(
    client, signed_in, round_one, now
):
    event, _sessions, (ada, bob, _cyd, _dee) = round_one
    registration.cancel_registration(fresh(Attendee, bob.id), now)  # meanwhile, by Bob
    db.session.commit()
    response = client.post(
        f"/organiser/events/{event.slug}/attendees/bulk/cancel",
        data={"attendee": [str(ada.id), str(bob.id)], "expected_count": "2"},
        follow_redirects=True,
    )
    assert "1 registrations would be cancelled, not 2" in response.get_data(as_text=True)
    assert fresh(Attendee, ada.id).status == "active"


def test_bulk_cancel_of_all_matching_the_filter_covers_every_page(
    client, signed_in, round_one, now
):
    event, sessions, (ada, bob, cyd, dee) = round_one
    plenary, robots, _drones = sessions
    # Everyone confirmed for Robots (the filter), ticked or not: Ada and Bob.
    confirm = bulk(
        client, event, "cancel", scope="matching", session=str(robots.id), status="confirmed"
    )
    page = confirm.get_data(as_text=True)
    assert "Cancel 2 registrations?" in page and "Cyd Cole" not in page
    ids = [str(ada.id), str(bob.id)]
    client.post(
        f"/organiser/events/{event.slug}/attendees/bulk/cancel",
        data={"attendee": ids, "expected_count": "2"},
    )
    assert [fresh(Attendee, p.id).status for p in (ada, bob, cyd, dee)] == [
        "cancelled",
        "cancelled",
        "active",
        "active",
    ]
    assert status_of(cyd, robots) == "confirmed"
    assert counters_match_rows(sessions)


def test_bulk_move_follows_the_registration_rules_and_reports_each_attendee(
    client, signed_in, round_one, now, smtp_server
):
    event, sessions, (ada, bob, cyd, dee) = round_one
    plenary, robots, drones = sessions
    registration.cancel_registration(fresh(Attendee, bob.id), now)  # Cyd gets Bob's seat
    db.session.commit()

    # Drones has one free seat: Ada gets it, Cyd finds it full, Dee is there, Bob cancelled.
    response = bulk(client, event, "move", [ada.id, bob.id, cyd.id, dee.id], move_to=str(drones.id))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Move to “Drones”" in page
    assert (
        "1 of 4 attendees moved. 3 could not be moved: 1 because the session is full, "
        "1 already registered for it, 1 because their registration is cancelled." in page
    )
    assert "Moved here from Robots." in page
    assert "Already registered for this session." in page
    assert "Registration already cancelled; nothing changed." in page
    assert "Full: “Drones”." in page  # Cyd's line: the capacity guard's own words
    assert status_of(ada, drones) == "confirmed" and status_of(ada, robots) is None
    assert status_of(ada, plenary) == "confirmed"  # another kind at another time stays
    assert status_of(cyd, robots) == "confirmed" and status_of(cyd, drones) is None
    assert counters_match_rows(sessions)
    assert fresh(EventSession, drones.id).seats_taken == 2

    send_pending(now=now)
    subjects = [m["Subject"] for m in mail_to(smtp_server, "ada@example.org")]
    assert f"Je aanmelding voor {event.name}" in subjects  # Drones, with its invitation


def test_bulk_move_summary_counts_the_full_and_the_clashing_in_both_languages(
    client, make_organiser, login, round_one, make_session, now
):
    """The trial: "Done for 1 of 3" did not say why the others stayed where they were."""
    event, (plenary, robots, drones), (ada, bob, cyd, dee) = round_one
    panel = make_session(event, kind="plenary", start=1, capacity=50, title="Panel")
    eve = sign_up(event, [panel], "eve@example.org", now, name="Eve Evers")
    db.session.commit()
    client.get("/lang/nl")
    login(make_organiser("organiser"))

    # Drones has one free seat: Ada takes it, Bob finds it full, Eve's plenary clashes.
    response = bulk(client, event, "move", [ada.id, bob.id, eve.id], move_to=str(drones.id))
    summary = response.get_data(as_text=True).split('id="bulk-summary">')[1].split("</p>")[0]
    assert summary == (
        "1 van de 3 deelnemers verplaatst. 2 konden niet worden verplaatst: 1 omdat de sessie "
        "vol is, 1 door een overlap met een sessie die ze al hebben."
    )
    assert status_of(eve, drones) is None and status_of(bob, robots) == "confirmed"


def test_the_move_summary_in_english_when_all_moved_or_one_clashes(app, round_one, now):
    _event, _sessions, (ada, bob, *_rest) = round_one
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert move_summary([Outcome(ada, True, "")]) == "1 of 1 attendee moved."
        clash = [Outcome(ada, True, ""), Outcome(bob, False, "Overlaps", "conflict")]
        assert move_summary(clash) == (
            "1 of 2 attendees moved. 1 could not be moved: "
            "1 because of a clash with a session they hold."
        )


def test_bulk_move_needs_a_session_of_this_event(client, signed_in, round_one, make_event):
    event, _sessions, (ada, *_rest) = round_one
    response = bulk(client, event, "move", [ada.id], move_to="0", follow_redirects=True)
    assert "Choose a session to move the attendees to." in response.get_data(as_text=True)
    response = bulk(client, event, "move", [ada.id], move_to="999999", follow_redirects=True)
    assert "Unknown session" in response.get_data(as_text=True)


def test_bulk_resend_queues_fresh_confirmations_once_per_interval(
    client, signed_in, round_one, now, smtp_server
):
    event, sessions, (ada, bob, cyd, dee) = round_one
    registration.cancel_registration(fresh(Attendee, dee.id), now)
    db.session.commit()
    db.session.execute(OutboxMessage.__table__.delete())
    db.session.commit()

    page = bulk(client, event, "resend", [ada.id, cyd.id, dee.id]).get_data(as_text=True)
    assert "Done for 2 of 3 attendees." in page
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)).all()
    assert [(r.kind, r.recipient) for r in rows] == [
        ("confirmation", "ada@example.org"),
        ("confirmation", "cyd@example.org"),
    ]
    assert rows[0].payload["resend"] is True

    again = bulk(client, event, "resend", [ada.id]).get_data(as_text=True)
    assert "Done for 0 of 1 attendee." in again and "less than 10 minutes ago" in again
    assert db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.id > rows[-1].id)) is None

    send_pending(now=now)
    [mail] = mail_to(smtp_server, "ada@example.org")
    text = mail.get_body(("plain",)).get_content()
    assert f"Hier is je aanmelding voor {event.name} nog een keer, zoals die nu is." in text
    assert "Robots" in text and ada.checkin_code in text
    calendars = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert calendars  # the current sessions, for the calendar


def test_resend_confirmation_from_the_attendee_page_is_audited_and_rate_limited(
    client, signed_in, round_one, now, smtp_server
):
    event, _sessions, (ada, *_rest) = round_one
    page_url = f"/organiser/events/{event.slug}/attendees/{ada.id}"
    assert "Resend confirmation" in client.get(page_url).get_data(as_text=True)

    done = client.post(f"{page_url}/resend", follow_redirects=True).get_data(as_text=True)
    assert "A fresh confirmation is on its way to ada@example.org." in done
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "attendee.resend_confirmation")
    ).one()
    assert entry.object_id == ada.id and entry.organiser_id == signed_in.id

    refused = client.post(f"{page_url}/resend", follow_redirects=True).get_data(as_text=True)
    assert "less than 10 minutes ago" in refused
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds == ["confirmation"]

    # Ten minutes later it may go again; so may one whose mail failed, which never arrived.
    message = db.session.scalars(select(OutboxMessage)).one()
    message.created_at = message.created_at - timedelta(minutes=11)
    db.session.commit()
    client.post(f"{page_url}/resend")
    assert len(db.session.scalars(select(OutboxMessage.kind)).all()) == 2
    latest = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    latest.status = "failed"
    db.session.commit()
    client.post(f"{page_url}/resend")
    assert len(db.session.scalars(select(OutboxMessage.kind)).all()) == 3

    send_pending(now=now)
    assert len(mail_to(smtp_server, "ada@example.org")) == 2  # the failed one stays failed


def test_a_cancelled_attendee_gets_no_resend(client, signed_in, round_one, now):
    event, _sessions, (ada, *_rest) = round_one
    registration.cancel_registration(fresh(Attendee, ada.id), now)
    db.session.commit()
    db.session.execute(OutboxMessage.__table__.delete())
    db.session.commit()
    url = f"/organiser/events/{event.slug}/attendees/{ada.id}"
    assert "Resend confirmation" not in client.get(url).get_data(as_text=True)
    page = client.post(f"{url}/resend", follow_redirects=True).get_data(as_text=True)
    assert "This registration has been cancelled." in page
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_message_the_selected_opens_the_composer_with_them_as_the_audience(
    client, signed_in, round_one, now
):
    event, _sessions, (ada, bob, cyd, dee) = round_one
    registration.cancel_registration(fresh(Attendee, dee.id), now)
    db.session.commit()

    page = bulk(client, event, "message", [ada.id, cyd.id, dee.id]).get_data(as_text=True)
    assert '<option selected value="selected">2 attendees selected on the list</option>' in page
    assert f'name="selected" type="hidden" value="{ada.id},{cyd.id}"' in page
    # The page came from the list's form; the composer posts to the messages page.
    assert f'action="/organiser/events/{event.slug}/messages"' in page

    url = f"/organiser/events/{event.slug}/messages"
    form = {
        "audience": "selected",
        "selected": f"{ada.id},{cyd.id}",
        "subject": "Your workshop",
        "body": "Bring a laptop.",
    }
    preview = client.post(url, data={**form, "action": "preview"}).get_data(as_text=True)
    assert "2 recipients" in preview
    client.post(url, data={**form, "action": "send", "expected_count": "2"})
    rows = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.kind == "organiser_message")
    ).all()
    assert sorted(rows) == ["ada@example.org", "cyd@example.org"]


def test_a_selection_must_be_ticked_and_belong_to_the_event(
    client, signed_in, round_one, make_event, make_session, now
):
    event, _sessions, (ada, *_rest) = round_one
    other = make_event(slug="other-event")
    stranger = sign_up(other, [make_session(other)], "stranger@example.org", now)

    nothing = bulk(client, event, "cancel", [], follow_redirects=True)
    assert "Tick at least one attendee first." in nothing.get_data(as_text=True)
    forged = bulk(client, event, "cancel", [], attendee=["x"], follow_redirects=True)
    assert "please try again" in forged.get_data(as_text=True)
    huge = bulk(client, event, "cancel", [2**40], follow_redirects=True)
    assert huge.status_code == 200 and "Tick at least one attendee first." in huge.get_data(
        as_text=True
    )
    foreign = bulk(client, event, "cancel", [stranger.id], follow_redirects=True)
    assert "None of the selected attendees" in foreign.get_data(as_text=True)
    client.post(
        f"/organiser/events/{event.slug}/attendees/bulk/cancel",
        data={"attendee": [str(stranger.id)], "expected_count": "1"},
    )
    assert fresh(Attendee, stranger.id).status == "active"
    unknown = bulk(client, event, "explode", [ada.id], follow_redirects=True)
    assert "please try again" in unknown.get_data(as_text=True)


def test_a_checkin_account_cannot_bulk_cancel(client, round_one, make_organiser, login):
    event, _sessions, (ada, *_rest) = round_one
    login(make_organiser("checkin"))
    assert bulk(client, event, "cancel", [ada.id]).status_code == 403
    response = client.post(
        f"/organiser/events/{event.slug}/attendees/bulk/cancel",
        data={"attendee": [str(ada.id)], "expected_count": "1"},
    )
    assert response.status_code == 403
    assert fresh(Attendee, ada.id).status == "active"

"""Cancelling a whole event: one email per attendee, in their language, whose calendar parts
cancel every session they had in their calendar (same UIDs, higher SEQUENCE; one CANCEL per
email, the others following in the same thread), read back from a real SMTP server and parsed
with vobject."""

from datetime import timedelta

from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import OutboxMessage
from eventapp.services import calendar
from eventapp.services.mail.worker import send_pending
from eventapp.services.programme import schedule
from tests.ical_checks import parse_ics
from tests.mail_layout import itip_data, publish_files
from tests.registering import register


def mails_to(received, email):
    return [r.message for r in received if r.rcpt_tos == [email]]


def calendar_objects(messages, method):
    """The iTIP objects of these emails (layout checked, one per email at most), each parsed:
    [VEVENT]."""
    found = []
    for message in messages:
        data = itip_data(message)
        if data is not None:
            found.append(parse_ics(data, method).vevent)
    return found


def scheduled(message):
    """The events of the schedule file (PUBLISH) a confirmation of several sessions carries."""
    [data] = publish_files(message)
    return parse_ics(data, "PUBLISH").contents["vevent"]


def thread(messages, subject):
    """An email and the calendar-only emails that follow it (same subject, In-Reply-To)."""
    first = next(m for m in messages if m["Subject"] == subject and not m["In-Reply-To"])
    followers = [m for m in messages if m["In-Reply-To"] == first["Message-ID"]]
    return [first, *followers]


def outbox_kinds():
    return db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()


def programme(make_event, make_session):
    """Three sessions; the first seats one person, so later registrants wait in line."""
    event = make_event(name="Smart Industry 2027")
    sessions = [
        make_session(event, start=0, capacity=1, title="Digital twins"),
        make_session(event, start=2, title="Cobots"),
        make_session(event, start=4, title="Closing"),
    ]
    return event, sessions


def test_each_attendee_gets_one_email_that_cancels_all_their_sessions(
    app, smtp_server, make_event, make_session, now
):
    event, sessions = programme(make_event, make_session)
    ada = register(event, sessions, now, "ada@example.org", locale="en")
    register(event, sessions[:2], now, "bob@example.org", locale="nl")  # waits for the first
    register(event, sessions[:1], now, "cy@example.org")  # only waits, never had a seat
    send_pending(now=now)
    [confirmation] = mails_to(smtp_server.received, "ada@example.org")
    invited = {e.summary.value: e for e in scheduled(confirmation)}
    assert len(invited) == 3
    seen = len(smtp_server.received)

    cancelled = schedule.cancel_event(None, event, now)
    db.session.commit()
    later = now + timedelta(minutes=5)
    send_pending(now=later)

    assert len(cancelled) == 3
    new = smtp_server.received[seen:]
    assert sorted({r.rcpt_tos[0] for r in new}) == [
        "ada@example.org",
        "bob@example.org",
        "cy@example.org",
    ]
    # One email to read, and a CANCEL per session, each in its own email of the thread.
    to_ada, *followers = thread(
        mails_to(new, "ada@example.org"), "Smart Industry 2027 is cancelled"
    )
    assert len(followers) == 2 and len(mails_to(new, "ada@example.org")) == 3
    cancels = {e.summary.value: e for e in calendar_objects([to_ada, *followers], "CANCEL")}
    assert set(cancels) == set(invited)
    for title, cancel in cancels.items():
        assert cancel.uid.value == invited[title].uid.value
        assert int(cancel.sequence.value) > int(invited[title].sequence.value)
        assert cancel.status.value == "CANCELLED"
        assert cancel.dtstamp.value == later
    plain = to_ada.get_body(("plain",)).get_content()
    assert all(title in plain for title in invited)

    # Bob, in Dutch: a cancellation only for the session he had a seat in.
    [to_bob] = mails_to(new, "bob@example.org")
    assert to_bob["Subject"] == "Smart Industry 2027 gaat niet door"
    assert [e.summary.value for e in calendar_objects([to_bob], "CANCEL")] == ["Cobots"]
    dutch = to_bob.get_body(("plain",)).get_content()
    assert "Digital twins" in dutch and "Cobots" in dutch

    # Cy only waited: told, with nothing to take out of a calendar.
    [to_cy] = mails_to(new, "cy@example.org")
    assert calendar_objects([to_cy], "CANCEL") == []
    assert "Digital twins" in to_cy.get_body(("plain",)).get_content()

    # The personal feed keeps the sessions, as cancelled.
    with app.test_request_context("/"):
        feed = parse_ics(calendar.personal_feed(ada, "Ada"), "PUBLISH")
    assert {e.status.value for e in feed.contents["vevent"]} == {"CANCELLED"}
    assert len(feed.contents["vevent"]) == 3


def test_a_single_session_keeps_its_own_email_and_the_event_mail_covers_the_rest(
    app, smtp_server, make_event, make_session, now
):
    event, sessions = programme(make_event, make_session)
    register(event, sessions, now, "ada@example.org")
    send_pending(now=now)

    schedule.cancel_session(None, sessions[0], now)
    db.session.commit()
    send_pending(now=now)
    [_, single] = mails_to(smtp_server.received, "ada@example.org")
    assert single["Subject"] == "Cancelled: Digital twins"
    assert len(calendar_objects([single], "CANCEL")) == 1

    schedule.cancel_event(None, event, now)
    db.session.commit()
    send_pending(now=now)
    whole = thread(mails_to(smtp_server.received, "ada@example.org"), f"{event.name} is cancelled")
    titles = [e.summary.value for e in calendar_objects(whole, "CANCEL")]
    assert titles == ["Cobots", "Closing"]
    assert outbox_kinds() == ["confirmation", "session_cancelled", "event_cancelled"]


def test_cancelling_a_cancelled_event_sends_nothing_more(
    app, smtp_server, make_event, make_session, now
):
    event, sessions = programme(make_event, make_session)
    register(event, sessions, now, "ada@example.org")
    schedule.cancel_event(None, event, now)
    db.session.commit()
    send_pending(now=now)
    sent = len(smtp_server.received)

    again = schedule.cancel_event(None, event, now)
    db.session.commit()
    send_pending(now=now)

    assert again == []
    assert outbox_kinds() == ["confirmation", "event_cancelled"]
    assert sent == 1 + 3  # the confirmation; the cancellation and its two followers
    assert len(smtp_server.received) == sent
    pending = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
    )
    assert pending == 0

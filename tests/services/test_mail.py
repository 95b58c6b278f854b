"""Emails as received by a real SMTP server: recipients, subject, both alternatives, calendar
parts read by vobject, the QR code, the attendee's language, and headers nobody can inject."""

import email.header
import email.message
import email.policy
from datetime import timedelta

import flask_mail
import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, OutboxMessage, Speaker
from eventapp.services.links import feed_token, manage_token
from eventapp.services.mail import transport
from eventapp.services.mail.outbox import enqueue
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.ical_checks import parse_ics
from tests.mail_layout import itip, itip_data, publish_files
from tests.qr_reading import read_qr


def register(event, sessions, now, **overrides):
    data = dict(
        name="Ada Lovelace",
        email="ada@example.org",
        session_ids=[s.id for s in sessions],
        consent=True,
        waitlist=True,
        locale="en",
    )
    data.update(overrides)
    result = service.register(event, RegistrationInput(**data), now)
    db.session.commit()
    return result


def parts(message):
    """(content type, part) for every leaf part of a received message."""
    return [(p.get_content_type(), p) for p in message.walk() if not p.is_multipart()]


def calendar_parts(message):
    return [p for kind, p in parts(message) if kind == "text/calendar"]


def invitation_of(message, method="REQUEST"):
    """The one iTIP object of the email, from its body, layout checked: a vobject VEVENT."""
    data = itip_data(message)
    assert data is not None, "no iTIP object in the body"
    return parse_ics(data, method).vevent


def body(message, kind):
    [part] = [p for t, p in parts(message) if t == kind]
    return part.get_content()


def programme(make_event, make_session, make_room):
    event = make_event(name="Smart Industry 2027", organiser_email="team@example.org")
    hall = make_room(event, "Main hall", 200)
    studio = make_room(event, "Studio 1", 20)
    opening = make_session(event, start=0, kind="plenary", title="Opening", room=hall, capacity=200)
    twins = make_session(event, start=1, title="Digital twins", room=studio)
    twins.speakers = [Speaker(event=event, name="Grace Hopper", organisation="Navy")]
    full = make_session(event, start=3, title="Cobots", capacity=0)
    db.session.commit()
    return event, opening, twins, full


def test_confirmation_arrives_with_both_alternatives_calendar_and_qr(
    app, smtp_server, make_event, make_session, make_room, now
):
    event, opening, twins, full = programme(make_event, make_session, make_room)
    result = register(event, [opening, twins, full], now)
    attendee = result.attendee

    report = send_pending(now=now)

    assert (report.sent, report.failed, report.retried) == (1, 0, 0)
    [received] = smtp_server.received
    assert received.rcpt_tos == ["ada@example.org"]
    message = received.message
    assert message["To"] == "Ada Lovelace <ada@example.org>"
    assert message["Subject"] == "Your registration for Smart Industry 2027"
    assert message["Reply-To"] == "team@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/mixed"
    alternative = [p for p in message.walk() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative[0].iter_parts()] == [
        "text/plain",
        "text/html",
    ]

    text, html = body(message, "text/plain"), body(message, "text/html")
    manage_url = f"http://localhost/manage/{manage_token(attendee)}"
    feed_url = f"http://localhost/calendar/{feed_token(attendee)}.ics"
    for content in (text, html):
        assert "Opening" in content and "Digital twins" in content and "Cobots" in content
        assert "Thursday, March 18, 2027, 10:00–11:00" in content  # 09:00 UTC, Amsterdam time
        assert "11:00–12:00" in content and "Studio 1" in content and "Main hall" in content
        assert "Grace Hopper" in content
        assert "On the waiting list, position 1" in content
        assert manage_url in content and feed_url in content
        assert attendee.checkin_code in content and attendee.reference in content
        assert content.count("Hello Ada Lovelace,") == 1  # the greeting, once (mail/_layout)

    # Two sessions confirmed: no iTIP object (one per email would mean two emails), but one
    # PUBLISH file to add them both, with the UIDs later updates use (docs/CALENDAR.md).
    assert itip(message) is None
    [schedule] = publish_files(message)
    parsed = parse_ics(schedule, "PUBLISH")
    uids = {vevent.uid.value for vevent in parsed.contents["vevent"]}
    assert uids == {f"reg-{attendee.id}-session-{s.id}@eventapp.local" for s in (opening, twins)}
    for vevent in parsed.contents["vevent"]:
        assert vevent.organizer.value == "mailto:team@example.org"
    assert b"/manage/" not in schedule and b"/calendar/" not in schedule
    assert "Open the attached file my-sessions.ics to add these sessions" in body(
        message, "text/plain"
    )

    [qr] = [p for kind, p in parts(message) if kind == "image/png"]
    assert f"cid:{qr['Content-ID'].strip('<>')}" in html
    assert read_qr(qr.get_payload(decode=True)) == [attendee.checkin_code]  # a regular QR code

    row = db.session.scalar(select(OutboxMessage))
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at == now and message["Message-ID"] == row.message_id


def test_bodies_are_quoted_printable_not_raw_8bit(app, smtp_server, make_event, make_session, now):
    event = make_event(name="Zoë’s Smart Industry")
    session = make_session(event, title="Crème brûlée 🤖")
    register(event, [session], now, name="Zoë Ünal")

    send_pending(now=now)

    [received] = smtp_server.received
    assert max(received.data) < 128  # 7-bit clean, whatever the server supports
    message = received.message
    assert "Crème brûlée 🤖" in body(message, "text/plain")
    assert message["To"] == "Zoë Ünal <ada@example.org>"
    assert message["Subject"] == "Your registration for Zoë’s Smart Industry"


def test_mail_is_in_the_attendees_language(app, smtp_server, make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    register(event, [session], now, locale="nl")
    register(event, [session], now, locale="en", email="bob@example.org", name="Bob")

    send_pending(now=now)

    texts = {r.rcpt_tos[0]: body(r.message, "text/plain") for r in smtp_server.received}
    assert "donderdag 18 maart 2027, 10:00–11:00" in texts["ada@example.org"]
    assert "Thursday, March 18, 2027, 10:00–11:00" in texts["bob@example.org"]


def test_times_follow_the_events_own_time_zone(app, smtp_server, make_event, make_session, now):
    event = make_event(timezone="America/New_York")
    session = make_session(event)  # 09:00 UTC = 05:00 in New York (daylight time from 14 March)
    register(event, [session], now)

    send_pending(now=now)

    [received] = smtp_server.received
    assert "05:00–06:00" in body(received.message, "text/plain")


def test_line_breaks_in_a_name_or_title_add_no_headers(
    app, smtp_server, make_event, make_session, now
):
    event = make_event(name="Expo\r\nX-Injected: yes")
    session = make_session(event, title="Evil\r\nBcc: title@evil.example")
    # Straight into the table: the registration form refuses control characters already.
    attendee = Attendee(
        event=event,
        reference="REF00001",
        name="Eve\r\nBcc: name@evil.example",
        email="eve@example.org",
        email_normalized="eve@example.org",
        checkin_code="CODE000001",
        locale="en",
        token_hash="a" * 64,
        token_nonce="b" * 64,
        feed_token_hash="c" * 64,
        feed_nonce="d" * 64,
    )
    db.session.add(attendee)
    db.session.flush()
    enqueue("session_cancelled", attendee, {"session_ids": [session.id]})
    enqueue("confirmation", attendee, {"session_ids": [session.id]})
    db.session.commit()

    report = send_pending(now=now)

    assert report.sent == 2
    for received in smtp_server.received:
        assert received.rcpt_tos == ["eve@example.org"]
        message = received.message
        assert message["Bcc"] is None and message["X-Injected"] is None
        header_block = received.data.split(b"\r\n\r\n", 1)[0]
        assert b"\r\nBcc:" not in header_block and b"\r\nX-Injected" not in header_block
        [to] = message["To"].addresses  # one address; address specials leave the name
        assert (to.display_name, to.addr_spec) == ("Eve Bcc name evil.example", "eve@example.org")
    subjects = sorted(r.message["Subject"] for r in smtp_server.received)
    assert subjects == [
        "Cancelled: Evil Bcc: title@evil.example",
        "Your registration for Expo X-Injected: yes",
    ]


def test_without_a_mail_server_messages_become_eml_files_once(
    app, make_event, make_session, now, tmp_path
):
    app.config.update(MAIL_SERVER=None, MAIL_EML_DIR=str(tmp_path / "mail"))
    event = make_event()
    session = make_session(event, title="Digital twins")
    register(event, [session], now)

    assert send_pending(now=now).sent == 1
    # A worker that died before recording "sent" does it again: the same file, not a second.
    row = db.session.scalar(select(OutboxMessage))
    row.status, row.claimed_until = "sending", now
    db.session.commit()
    assert send_pending(now=now + timedelta(minutes=1)).sent == 1

    files = list((tmp_path / "mail").iterdir())
    assert [f.name for f in files] == [f"{row.id:08d}-confirmation.eml"]
    import email
    import email.policy

    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "Ada Lovelace <ada@example.org>"
    assert invitation_of(message).summary.value == "Digital twins"


def test_dropping_a_session_sends_a_cancel_with_a_higher_sequence(
    app, smtp_server, make_event, make_session, now
):
    event = make_event()
    kept = make_session(event, start=0, title="Kept")
    dropped = make_session(event, start=2, title="Dropped")
    result = register(event, [kept, dropped], now)
    send_pending(now=now)
    [first] = smtp_server.received
    [schedule] = publish_files(first.message)
    invitation = {e.summary.value: e for e in parse_ics(schedule, "PUBLISH").contents["vevent"]}[
        "Dropped"
    ]

    service.change_sessions(result.attendee, [kept.id], waitlist=False, now=now)
    db.session.commit()
    send_pending(now=now)

    second = smtp_server.received[1].message
    assert second["Subject"] == "Your registration for Event 1 has changed"
    cancel = invitation_of(second, "CANCEL")
    assert cancel.uid.value == invitation.uid.value
    assert int(cancel.sequence.value) > int(invitation.sequence.value)
    assert cancel.status.value == "CANCELLED"
    assert "Dropped" in body(second, "text/plain")


def test_cancelling_everything_cancels_every_calendar_event(
    app, smtp_server, make_event, make_session, now
):
    event = make_event()
    first = make_session(event, start=0)
    second = make_session(event, start=2)
    result = register(event, [first, second], now)
    service.cancel_registration(result.attendee, now)
    db.session.commit()

    send_pending(now=now)

    confirmation, cancellation, follower = (r.message for r in smtp_server.received)
    # The confirmation was rendered after the cancellation: it invites to nothing any more.
    assert calendar_parts(confirmation) == []
    # One CANCEL per email, each applied by itself: the second follows in the same thread.
    uids = {invitation_of(m, "CANCEL").uid.value for m in (cancellation, follower)}
    attendee_id = result.attendee.id
    assert uids == {f"reg-{attendee_id}-session-{s.id}@eventapp.local" for s in (first, second)}
    assert cancellation["Subject"] == "Your registration for Event 1 is cancelled"
    assert follower["Subject"] == cancellation["Subject"]
    assert follower["In-Reply-To"] == cancellation["Message-ID"] == follower["References"]
    assert follower["Message-ID"] not in (cancellation["Message-ID"], None)
    assert "removes this session from your calendar" in body(follower, "text/plain")
    explained = "This email and the short one that follows it remove these sessions"
    assert explained in body(cancellation, "text/plain")
    assert explained in body(cancellation, "text/html")


def test_promotion_from_the_waiting_list_is_a_confirmation_with_invitation(
    app, smtp_server, make_event, make_session, now
):
    event = make_event()
    session = make_session(event, capacity=1, title="Popular")
    first = register(event, [session], now)
    register(event, [session], now, email="bob@example.org", name="Bob")
    send_pending(now=now)
    service.cancel_registration(first.attendee, now)
    db.session.commit()

    send_pending(now=now)

    promoted = [r for r in smtp_server.received if r.message["Subject"].startswith("A place")]
    [received] = promoted
    assert received.rcpt_tos == ["bob@example.org"]
    message = received.message
    assert message["Subject"] == "A place became free: you are in for Popular"
    assert invitation_of(message).summary.value == "Popular"
    assert [kind for kind, _ in parts(message)].count("image/png") == 1


def test_sessions_added_later_are_confirmed_as_an_update(
    app, smtp_server, make_event, make_session, now
):
    event = make_event(name="Expo")
    first = make_session(event, start=0, title="Opening")
    added = make_session(event, start=2, title="Cobots")
    attendee = register(event, [first], now).attendee
    service.change_sessions(attendee, [first.id, added.id], waitlist=False, now=now)
    db.session.commit()

    send_pending(now=now)

    welcome, update = (body(r.message, "text/plain") for r in smtp_server.received)
    assert "Thank you for registering for Expo." in welcome
    assert "has been updated" not in welcome
    assert "Your registration for Expo has been updated" in update
    assert "* Cobots" in update
    assert invitation_of(smtp_server.received[1].message).summary.value == "Cobots"


def test_mail_is_composed_with_the_standard_library_not_flask_mail_internals():
    """Issue 15 item 6: no subclass of flask_mail.Message overriding its private _message()."""
    assert not issubclass(transport.OutgoingMessage, flask_mail.Message)
    message = transport.OutgoingMessage(
        subject="Hello", recipients=[("Ada", "ada@example.org")], sender="Team <t@example.org>"
    )
    composed = transport.compose(message)
    assert isinstance(composed, email.message.EmailMessage)
    assert composed["From"] == "Team <t@example.org>" and composed["To"] == "Ada <ada@example.org>"


def test_an_invitation_is_in_the_body_where_outlook_applies_it(
    app, smtp_server, make_event, make_session, now
):
    """docs/CALENDAR.md "In the email": mixed [ related [ alternative [plain, html, calendar;
    method=REQUEST], QR code ], the same calendar as invite.ics ] (Gmail's own layout)."""
    event = make_event()
    session = make_session(event, title="Digital twins")
    register(event, [session], now)

    send_pending(now=now)

    [received] = smtp_server.received
    message = received.message
    tree = [
        (p.get_content_type(), p.get_param("method"), p.get_content_disposition())
        for p in message.walk()
    ]
    assert tree == [
        ("multipart/mixed", None, None),
        ("multipart/related", None, None),
        ("multipart/alternative", None, None),
        ("text/plain", None, None),
        ("text/html", None, None),
        ("text/calendar", "REQUEST", None),
        ("image/png", None, "inline"),
        ("text/calendar", "REQUEST", "attachment"),
    ]
    assert invitation_of(message).summary.value == "Digital twins"
    assert [p.get_filename() for p in message.iter_attachments()] == ["invite.ics"]


@pytest.mark.parametrize("padding", range(0, 60, 7))
def test_a_subject_keeps_its_spaces_in_a_strict_rfc_2047_decoder(padding):
    """RFC 2047 6.2: whitespace between two encoded words is dropped by the reader, so the
    spaces must be inside them (issue 17: "Zuid— café" arrived as "Zuid—café")."""
    subject = "Programme change: " + "x" * padding + " Zuid— café, Noord— thé 🤖 Zuid— café"
    subject = " ".join(subject.split())
    message = transport.OutgoingMessage(
        subject=subject, recipients=["a@example.org"], sender="t@example.org"
    )
    raw = message.as_bytes()

    header = email.message_from_bytes(raw)["Subject"]
    strict = str(email.header.make_header(email.header.decode_header(header)))
    assert strict == subject
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == subject
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78 and max(raw) < 128


def test_a_waiting_list_only_confirmation_claims_no_calendar_file(
    app, smtp_server, make_event, make_session, now
):
    event = make_event()
    full = make_session(event, title="Cobots", capacity=0)
    register(event, [full], now)

    send_pending(now=now)

    [received] = smtp_server.received
    assert calendar_parts(received.message) == []
    for kind in ("text/plain", "text/html"):
        text = body(received.message, kind)
        assert "On the waiting list, position 1" in text
        assert "attached" not in text and "my-sessions.ics" not in text

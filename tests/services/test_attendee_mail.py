"""The self-service emails as received over SMTP: the offer with its deadline, the expired
offer, the reminder with the personal schedule and QR code, and the lost link."""

from datetime import timedelta

from eventapp.extensions import db
from eventapp.services.links import manage_token
from eventapp.services.mail.worker import send_pending
from eventapp.services.periodic import run_periodic
from eventapp.services.registration import register as service
from eventapp.services.registration import waitlist
from eventapp.services.registration.register import RegistrationInput
from eventapp.services.registration.self_service import send_lost_link


def register(event, sessions, now, email="ada@example.org", name="Ada Lovelace"):
    data = RegistrationInput(
        name=name,
        email=email,
        session_ids=[s.id for s in sessions],
        consent=True,
        waitlist=True,
        locale="en",
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result.attendee


def received(smtp_server, subject_start):
    return [
        r.message for r in smtp_server.received if r.message["Subject"].startswith(subject_start)
    ]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def calendar_parts(message):
    return [p for p in message.walk() if p.get_content_type() == "text/calendar"]


def test_offer_and_its_expiry_arrive_with_the_deadline(
    app, smtp_server, make_event, make_session, now
):
    event = make_event(promotion_mode="offer", offer_hours=24)
    session = make_session(event, capacity=1, title="Cobots")
    holder = register(event, [session], now, email="holder@example.org", name="Holder")
    ada = register(event, [session], now)
    service.cancel_registration(holder, now)
    db.session.commit()
    send_pending(now=now)

    [offer] = received(smtp_server, "A place is free for you")
    assert offer["To"].addresses[0].addr_spec == "ada@example.org"
    assert "Cobots" in offer["Subject"]
    text = text_of(offer)
    assert "Accept it before" in text and "10:00" in text  # 09:00 UTC = 10:00 Amsterdam
    assert f"/manage/{manage_token(ada)}" in text and f"/manage/{manage_token(ada)}" in html_of(
        offer
    )
    assert calendar_parts(offer) == []  # an offer is not a seat yet

    waitlist.expire_offers(now + timedelta(hours=24))
    db.session.commit()
    send_pending(now=now + timedelta(hours=24))
    [expired] = received(smtp_server, "The offered place has passed on")
    assert "Cobots" in text_of(expired)


def test_reminder_has_the_personal_schedule_and_check_in_code(
    app, smtp_server, make_event, make_session, now
):
    event = make_event(reminder_hours=24)
    opening = make_session(event, start=0, kind="plenary", title="Opening", capacity=50)
    twins = make_session(event, start=2, title="Digital twins")
    full = make_session(event, start=4, title="Cobots", capacity=1)
    register(event, [full], now, email="first@example.org", name="First")
    ada = register(event, [opening, twins, full], now)
    due = event.starts_at - timedelta(hours=24)

    run_periodic(due)
    send_pending(now=due)

    [reminder] = [
        m
        for m in received(smtp_server, "Soon:")
        if m["To"].addresses[0].addr_spec == "ada@example.org"
    ]
    text = text_of(reminder)
    assert "Opening" in text and "Digital twins" in text
    assert "still on the waiting list" in text
    assert ada.checkin_code in text
    assert any(p.get_content_type() == "image/png" for p in reminder.walk())


def test_lost_link_email_carries_the_private_link(app, smtp_server, make_event, make_session, now):
    event = make_event()
    ada = register(event, [make_session(event)], now)
    send_lost_link(event, "ADA@example.org")
    db.session.commit()

    send_pending(now=now)

    [message] = received(smtp_server, "Your personal link")
    assert f"/manage/{manage_token(ada)}" in text_of(message)
    assert ada.reference in text_of(message)

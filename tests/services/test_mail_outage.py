"""Outages lose nothing and need no operator: an unreachable mail server uses up no
message's attempts, however long it is away; rows go out by themselves when it is back; only a
permanent refusal of a message fails it, and the organisers' dashboard says which is which.
Addresses with a non-ASCII local part go out with SMTPUTF8, or are refused at registration.
All against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from flask_mail import email_dispatched
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import OutboxMessage
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.mailserver import SmtpServer, free_port


def register(event, session, now, email_address="ada@example.org"):
    data = RegistrationInput(
        name="Ada Jürgens",
        email=email_address,
        session_ids=[session.id],
        consent=True,
        locale="en",
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result


def rows():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_a_three_day_outage_uses_no_attempt_and_the_mail_goes_out_when_it_is_back(
    app, make_event, make_session, now
):
    server = SmtpServer(port=free_port())  # not started: every connection is refused
    server.configure(app)
    app.config.update(OUTBOX_MAX_ATTEMPTS=3)
    event = make_event()
    register(event, make_session(event), now)

    moment = now
    for _ in range(40):  # far more rounds than OUTBOX_MAX_ATTEMPTS, over three days
        report = send_pending(now=moment)
        assert (report.sent, report.failed, report.postponed) == (0, 0, 1)
        [row] = rows()
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.last_error.startswith("Mail server unreachable")
        moment = max(row.next_attempt_at, moment + timedelta(hours=2))

    server.start()
    try:
        assert send_pending(now=moment).sent == 1  # no `flask mail retry` needed
    finally:
        server.stop()
    [row] = rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert [r.rcpt_tos for r in server.received] == [["ada@example.org"]]


def test_the_server_going_down_mid_batch_charges_none_of_the_rest(
    app, make_event, make_session, now
):
    server = SmtpServer().start()
    server.configure(app)
    event = make_event()
    session = make_session(event, capacity=10)
    for number in range(4):
        register(event, session, now, f"guest{number}@example.org")

    def stop_server_after_the_first(sender, message):
        email_dispatched.disconnect(stop_server_after_the_first)
        server.stop()

    email_dispatched.connect(stop_server_after_the_first)
    try:
        report = send_pending(now=now)
    finally:
        email_dispatched.disconnect(stop_server_after_the_first)
    assert (report.sent, report.postponed, report.retried, report.failed) == (1, 3, 0, 0)
    waiting = [r for r in rows() if r.status == "pending"]
    assert len(waiting) == 3 and all(r.attempts == 0 for r in waiting)

    server.start()
    try:
        later = now + timedelta(seconds=app.config["OUTBOX_OUTAGE_RETRY_SECONDS"])
        assert send_pending(now=later).sent == 3
    finally:
        server.stop()
    assert sorted(r.rcpt_tos[0] for r in server.received) == [
        f"guest{n}@example.org" for n in range(4)
    ]


def test_a_connection_dropped_by_a_restarting_server_is_reopened_at_once(
    app, make_event, make_session, now
):
    server = SmtpServer().start()
    server.configure(app)
    event = make_event()
    session = make_session(event, capacity=10)
    for number in range(3):
        register(event, session, now, f"guest{number}@example.org")

    def restart_after_the_first(sender, message):
        email_dispatched.disconnect(restart_after_the_first)
        server.stop()  # closes our connection
        server.start()  # same port, a new process would do the same

    email_dispatched.connect(restart_after_the_first)
    try:
        report = send_pending(now=now)
    finally:
        email_dispatched.disconnect(restart_after_the_first)
        server.stop()
    assert (report.sent, report.postponed, report.retried) == (3, 0, 0)
    assert all((r.status, r.attempts) == ("sent", 1) for r in rows())


def test_the_dashboard_tells_an_outage_from_a_refused_message(
    app, client, make_event, make_session, make_organiser, login, now
):
    event = make_event()
    session = make_session(event, capacity=10)
    register(event, session, now, "gone@example.org")
    [refused] = rows()
    refused.status, refused.last_error = "failed", "SMTPRecipientsRefused: 550 5.1.1 No such user"
    db.session.commit()
    register(event, session, now, "waiting@example.org")
    SmtpServer(port=free_port()).configure(app)  # down
    assert send_pending(now=now).postponed == 1

    login(make_organiser("organiser"))
    page = client.get(f"/organiser/events/{event.slug}/").get_data(as_text=True)
    assert 'id="mail-outage"' in page and "Connection" in page.split('id="mail-outage"')[1]
    failed_table = page.split('id="failed-mail"')[1]
    assert "gone@example.org" in failed_table and "550" in failed_table
    assert "waiting@example.org" not in failed_table

    server = SmtpServer(port=int(app.config["MAIL_PORT"])).start()
    try:
        assert send_pending(now=now + timedelta(minutes=1)).sent == 1
    finally:
        server.stop()
    page = client.get(f"/organiser/events/{event.slug}/").get_data(as_text=True)
    assert 'id="mail-outage"' not in page


JURGEN = "jürgen@example.org"


def test_a_non_ascii_local_part_is_refused_at_registration_without_smtputf8(
    app, client, make_event, make_session
):
    app.config["MAIL_SMTPUTF8"] = False
    event = make_event()
    session = make_session(event)
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={
            "name": "Jürgen",
            "email": JURGEN,
            "organisation": "",
            "session_ids": [session.id],
            "consent": True,
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert "before the @" in " ".join(response.json["fields"]["email"])
    assert rows() == []
    # An internationalised domain needs no SMTPUTF8: still welcome.
    fine = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={
            "name": "Jurgen",
            "email": "jurgen@bücher.example",
            "organisation": "",
            "session_ids": [session.id],
            "consent": True,
        },
    )
    assert fine.status_code == 201


def test_the_registration_form_refuses_it_too_in_dutch(app, client, make_event, make_session):
    app.config["MAIL_SMTPUTF8"] = False
    event = make_event()
    session = make_session(event, kind="plenary")
    client.get("/lang/nl")
    response = client.post(
        f"/events/{event.slug}/register",
        data={"name": "Jürgen", "email": JURGEN, "sessions": [str(session.id)], "consent": "y"},
    )
    assert response.status_code == 422
    assert "vóór de @" in response.get_data(as_text=True)
    assert rows() == []


def test_with_smtputf8_offered_the_confirmation_reaches_jurgen(app, make_event, make_session, now):
    app.config["MAIL_SMTPUTF8"] = True
    server = SmtpServer(enable_SMTPUTF8=True).start()  # as aiosmtpd's Controller does
    server.configure(app)
    event = make_event()
    register(event, make_session(event), now, JURGEN)
    try:
        assert send_pending(now=now).sent == 1
    finally:
        server.stop()
    [received] = server.received
    assert received.rcpt_tos == [JURGEN]
    message = email.message_from_string(received.data.decode("utf-8"), policy=email.policy.SMTP)
    [to] = message["To"].addresses
    assert (to.username, to.domain, to.display_name) == ("jürgen", "example.org", "Ada Jürgens")
    assert message.get_body(("plain",)) is not None


def test_a_server_without_smtputf8_fails_that_message_at_once_and_says_why(
    app, make_event, make_session, now
):
    app.config["MAIL_SMTPUTF8"] = True  # set, but the server does not offer it
    server = SmtpServer(enable_SMTPUTF8=False).start()  # aiosmtpd's Controller offers it
    server.configure(app)
    event = make_event()
    session = make_session(event, capacity=5)
    register(event, session, now, JURGEN)
    register(event, session, now, "ada@example.org")
    try:
        report = send_pending(now=now)
    finally:
        server.stop()
    assert (report.sent, report.failed) == (1, 1)
    by_recipient = {r.recipient: r for r in rows()}
    assert by_recipient[JURGEN].status == "failed"
    assert "SMTPUTF8" in by_recipient[JURGEN].last_error
    assert [r.rcpt_tos for r in server.received] == [["ada@example.org"]]


def test_without_a_mail_server_the_eml_file_holds_the_utf8_address(
    app, make_event, make_session, now, tmp_path
):
    app.config.update(MAIL_SERVER=None, MAIL_SMTPUTF8=True, MAIL_EML_DIR=str(tmp_path))
    event = make_event()
    register(event, make_session(event), now, JURGEN)
    assert send_pending(now=now).sent == 1
    [written] = tmp_path.glob("*.eml")
    message = email.message_from_string(written.read_text("utf-8"), policy=email.policy.SMTP)
    assert message["To"].addresses[0].username == "jürgen"


def test_an_international_domain_goes_out_in_punycode_and_the_next_message_too(
    app, make_event, make_session, now
):
    """Registration accepts jurgen@bücher.example without SMTPUTF8 (only the part before the
    @ needs it): the envelope and the To header carry the domain in punycode. Before, the
    RCPT command could not be encoded ('ascii' codec), the message was retried until it
    failed, and the connection was left inside its MAIL transaction, so the next message
    was refused with "503 nested MAIL command" and failed for good."""
    app.config["MAIL_SMTPUTF8"] = False
    server = SmtpServer(enable_SMTPUTF8=False).start()
    server.configure(app)
    event = make_event()
    session = make_session(event, capacity=5)
    register(event, session, now, "jurgen@bücher.example")
    register(event, session, now, "ada@example.org")
    try:
        report = send_pending(now=now)
    finally:
        server.stop()
    assert (report.sent, report.retried, report.failed) == (2, 0, 0), report.errors
    assert [r.rcpt_tos for r in server.received] == [
        ["jurgen@xn--bcher-kva.example"],
        ["ada@example.org"],
    ]
    first = server.received[0]
    assert first.data.isascii()
    [to] = first.message["To"].addresses
    assert (to.username, to.domain) == ("jurgen", "xn--bcher-kva.example")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_relay_that_refuses_our_sender_is_an_outage_not_a_failure_of_every_message(
    app, make_event, make_session, now
):
    """A relay that wants a login the app was not given answers MAIL FROM with 530, for
    every message alike (as it does for a sender it will not relay for): a setting to put
    right, not a reason to fail each confirmation at once. The rows wait, using no attempt,
    and go out by themselves once the relay takes them."""
    port = free_port()
    locked = SmtpServer(
        port=port,
        auth_required=True,
        auth_require_tls=False,
        authenticator=lambda *arguments: False,
    ).start()
    locked.configure(app)
    event = make_event()
    session = make_session(event, capacity=5)
    register(event, session, now, "ada@example.org")
    register(event, session, now, "grace@example.org")
    try:
        report = send_pending(now=now)
    finally:
        locked.stop()
    assert (report.sent, report.failed, report.postponed) == (0, 0, 2), report.errors
    assert all((r.status, r.attempts) == ("pending", 0) for r in rows())
    assert "530" in rows()[0].last_error

    open_relay = SmtpServer(port=port).start()
    try:
        later = now + timedelta(seconds=app.config["OUTBOX_OUTAGE_RETRY_SECONDS"])
        assert send_pending(now=later).sent == 2
    finally:
        open_relay.stop()
    assert all(r.status == "sent" for r in rows())

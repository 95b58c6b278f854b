"""Changing one's email address from the private page (issue 19.6): a link to the new
address, received by a real SMTP server, confirms it; seats stay; nothing changes without
the link, with a used or expired one, or for an address another registration uses (refused
only to the owner of that address, on confirming)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, Registration
from eventapp.models.types import utcnow
from eventapp.services import privacy
from eventapp.services.links import manage_token
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import email_change
from tests.registering import register


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def ada(make_event, make_session, now):
    """Ada with the one seat of Lab: (event, lab, Ada, her private page's token)."""
    event = make_event(name="Smart Industry 2027")
    lab = make_session(event, start=1, capacity=1, title="Lab")
    attendee = register(event, [lab], now, "ada@example.org")
    return event, lab, attendee, manage_token(attendee)


def fresh(attendee_id):
    db.session.expire_all()
    return db.session.get(Attendee, attendee_id)


def link_in(message) -> str:
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    return re.search(r"http://localhost(/email-change/\S+)", text).group(1)


def ask(client, manage_token, address):
    return client.post(f"/manage/{manage_token}/email", data={"new_email": address})


def test_the_new_address_confirms_by_its_link_and_the_seat_stays(client, ada, now, smtp_server):
    event, lab, attendee, token = ada
    response = ask(client, token, "Ada.New@example.org")
    assert response.status_code == 303
    assert fresh(attendee.id).email == "ada@example.org"  # nothing changes yet

    send_pending(now=now)
    [message] = [m for m in smtp_server.messages if "Ada.New@example.org" in m["To"]]
    assert "Confirm your new email address" in message["Subject"]
    path = link_in(message)
    page = client.get(path).get_data(as_text=True)
    assert "Use Ada.New@example.org instead of ada@example.org" in page
    assert fresh(attendee.id).email == "ada@example.org"  # opening the link alone changes nothing

    done = client.post(path, follow_redirects=True)
    assert "Your email address is now Ada.New@example.org." in done.get_data(as_text=True)
    changed = fresh(attendee.id)
    assert changed.email == "Ada.New@example.org"
    assert changed.email_normalized == "ada.new@example.org"
    seat = db.session.scalar(select(Registration).where(Registration.attendee_id == attendee.id))
    assert (seat.session_id, seat.status) == (lab.id, "confirmed")
    assert client.post(path).status_code == 404  # used once


def test_an_address_another_registration_uses_is_refused_only_to_its_owner(
    client, ada, now, smtp_server
):
    """Asking for Bob's address answers as for any address, so Ada's page does not tell her
    that Bob is registered; the link goes to Bob's mailbox, and there the change is refused."""
    event, lab, attendee, token = ada
    bob = register(event, [lab], now, "bob@example.org")
    taken = ask(client, token, "BOB@example.org")
    free = ask(client, token, "carol@example.org")
    assert taken.status_code == free.status_code == 303
    assert taken.headers["Location"] == free.headers["Location"]
    ask(client, token, "BOB@example.org")  # the newer request is the one confirmed

    send_pending(now=now)
    [message] = [m for m in smtp_server.messages if "bob@example.org" in m["To"].lower()][-1:]
    confirmed = client.post(link_in(message), follow_redirects=True)
    assert "Another registration for this event uses this address." in confirmed.get_data(
        as_text=True
    )
    assert fresh(attendee.id).email == "ada@example.org"
    assert fresh(attendee.id).pending_email is None
    assert fresh(bob.id).email == "bob@example.org"


@pytest.mark.parametrize("address", ["", "not an address", "ada@example.org"])
def test_a_bad_or_unchanged_address_changes_nothing(client, ada, address):
    event, lab, attendee, token = ada
    response = ask(client, token, address)
    assert response.status_code == 422
    assert fresh(attendee.id).pending_email is None


def test_an_expired_link_changes_nothing(client, ada, now):
    event, lab, attendee, token = ada
    email_change.request_email_change(fresh(attendee.id), "new@example.org", now)
    db.session.commit()
    current = fresh(attendee.id)
    current.email_change_requested_at = utcnow() - timedelta(hours=49)  # the page's clock
    db.session.commit()
    change_token = email_change.email_change_token(current)
    response = client.post(f"/email-change/{change_token}", follow_redirects=True)
    assert "This link has expired" in response.get_data(as_text=True)
    assert fresh(attendee.id).email == "ada@example.org"
    assert fresh(attendee.id).pending_email is None


def test_a_newer_request_replaces_the_older_link(client, ada, now):
    event, lab, attendee, token = ada
    email_change.request_email_change(fresh(attendee.id), "first@example.org", now)
    db.session.commit()
    first = email_change.email_change_token(fresh(attendee.id))
    email_change.request_email_change(fresh(attendee.id), "second@example.org", now)
    db.session.commit()
    assert client.get(f"/email-change/{first}").status_code == 404
    assert client.get("/email-change/junk").status_code == 404


def test_an_address_taken_meanwhile_is_refused_at_confirmation(client, ada, now):
    """Bob registers with the new address between the request and the confirmation: the
    unique (event, address) index refuses the change, and nothing else is lost."""
    event, lab, attendee, token = ada
    email_change.request_email_change(fresh(attendee.id), "new@example.org", now)
    db.session.commit()
    change_token = email_change.email_change_token(fresh(attendee.id))
    bob = Attendee(
        event_id=event.id,
        reference="BOBREF0001",
        name="Bob",
        email="new@example.org",
        email_normalized="new@example.org",
        checkin_code="BOBCODE001",
        token_hash="b" * 64,
        token_nonce="b" * 64,
        feed_token_hash="c" * 64,
        feed_nonce="c" * 64,
    )
    db.session.add(bob)
    db.session.commit()
    response = client.post(f"/email-change/{change_token}", follow_redirects=True)
    assert response.status_code == 200
    assert "Another registration for this event uses this address." in response.get_data(
        as_text=True
    )
    assert fresh(attendee.id).email == "ada@example.org"


def test_deleting_ones_data_forgets_a_pending_address_too(client, ada, now):
    event, lab, attendee, token = ada
    email_change.request_email_change(fresh(attendee.id), "new@example.org", now)
    db.session.commit()
    change_token = email_change.email_change_token(fresh(attendee.id))
    privacy.erase_attendee(fresh(attendee.id), now)
    db.session.commit()
    erased = fresh(attendee.id)
    assert erased.pending_email is None and erased.email_change_hash is None
    assert client.get(f"/email-change/{change_token}").status_code == 404

"""“Send me my link”: identical answers for known and unknown addresses, one email queued
for a registered one, and limits per address and per client."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import OutboxMessage
from eventapp.models.types import utcnow
from eventapp.services import links
from eventapp.services.mail.render import render
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.security_support import end_transaction, other_app


@pytest.fixture
def registered(make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    data = RegistrationInput(
        name="Ada", email="Ada@Example.org", session_ids=[session.id], consent=True, locale="en"
    )
    result = service.register(event, data, now)
    db.session.commit()
    return event, result


def lost_link_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lost_link")))


def ask(client, slug, email, **environ):
    return client.post(f"/events/{slug}/lost-link", data={"email": email}, environ_base=environ)


def test_known_and_unknown_addresses_get_the_same_answer(client, registered):
    event, result = registered
    slug = event.slug

    known = ask(client, slug, "ada@example.org")
    unknown = ask(client, slug, "nobody@example.org")

    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known.get_data() == unknown.get_data()
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
    assert "Set-Cookie" not in known.headers
    known_page = client.get(known.headers["Location"])
    unknown_page = client.get(unknown.headers["Location"])
    assert known_page.status_code == unknown_page.status_code == 200
    assert known_page.get_data() == unknown_page.get_data()

    [row] = lost_link_rows()  # only the registered address gets mail
    assert row.attendee_id == result.attendee.id and row.recipient == "Ada@example.org"


def test_the_form_is_shown_and_checks_the_address(client, registered):
    event, _ = registered
    page = client.get(f"/events/{event.slug}/lost-link")
    assert page.status_code == 200 and 'name="email"' in page.get_data(as_text=True)
    assert ask(client, event.slug, "not an address").status_code == 422
    assert client.get("/events/no-such-event/lost-link").status_code == 404
    assert lost_link_rows() == []


def test_repeated_requests_queue_one_email_until_it_is_sent(client, registered):
    event, _ = registered
    for _ in range(3):
        ask(client, event.slug, "ADA@example.org ")
    rows = lost_link_rows()
    assert len(rows) == 1
    rows[0].status = "sent"
    db.session.commit()
    ask(client, event.slug, "ada@example.org")
    assert len(lost_link_rows()) == 2


def test_the_email_carries_a_working_link(app, client, registered, now):
    event, result = registered
    ask(client, event.slug, "ada@example.org")
    [row] = lost_link_rows()

    with app.test_request_context():
        message = render(row, now)

    assert event.name in message.subject
    link = links.manage_token(result.attendee)
    assert f"/manage/{link}" in message.body and f"/manage/{link}" in message.html
    assert client.get(f"/manage/{link}").status_code == 200


def mark_sent() -> None:
    """The worker's part: a sent link no longer holds back the next one."""
    for row in lost_link_rows():
        row.status = "sent"
    db.session.commit()


def test_limited_per_address_whoever_asks(app, registered, tmp_path):
    """Past the links an address may get, a request answers as always and mails nothing:
    a 429 for registered addresses only would tell who registered."""
    event, _ = registered
    slug = event.slug
    end_transaction()
    with other_app(app, tmp_path, RATELIMIT_ENABLED=True) as limited:
        client = limited.test_client()
        answers = []
        for n in range(1, 6):
            answers.append(ask(client, slug, "ada@example.org", REMOTE_ADDR=f"203.0.113.{n}"))
            mark_sent()
        unknown = ask(client, slug, "nobody@example.org", REMOTE_ADDR="203.0.113.6")
        other = ask(client, slug, "someone@example.org", REMOTE_ADDR="203.0.113.50")
    assert [answer.status_code for answer in answers] == [303] * 5
    assert len(lost_link_rows()) == 3  # RATELIMIT_LOST_LINK_PER_EMAIL: 3 per 15 minutes
    held_back = answers[-1]
    assert held_back.get_data() == unknown.get_data()
    # Clock headers aside (the per-client window's reset is its first request's second plus
    # the window: CI saw the two requests straddle a second), the answers are identical.
    clock = {"Date", "X-RateLimit-Reset"}
    assert {k: v for k, v in held_back.headers if k not in clock} == {
        k: v for k, v in unknown.headers if k not in clock
    }
    reset = int(held_back.headers["X-RateLimit-Reset"]), int(unknown.headers["X-RateLimit-Reset"])
    assert abs(reset[0] - reset[1]) <= 1
    assert other.status_code == 303  # another address is not held back


def test_a_mistyped_address_does_not_lock_the_attendee_out(app, registered, tmp_path):
    """Only links sent count: typos (unknown addresses) and refused forms use up nothing."""
    event, result = registered
    slug = event.slug
    end_transaction()
    with other_app(app, tmp_path, RATELIMIT_ENABLED=True) as limited:
        client = limited.test_client()
        typos = [
            ask(client, slug, address, REMOTE_ADDR="198.51.100.7").status_code
            for address in ("ada@exmple.org", "ada@example.or", "ad@example.org", "adaexample.org")
            * 2
        ]
        right = ask(client, slug, "ada@example.org", REMOTE_ADDR="198.51.100.7")
    assert typos == [303, 303, 303, 422] * 2
    assert right.status_code == 303
    [row] = lost_link_rows()
    assert row.attendee_id == result.attendee.id


def test_links_sent_are_limited_per_client_in_silence(app, make_event, make_session, tmp_path):
    """One client may have links sent to a few addresses a minute (RATELIMIT_LOST_LINK);
    past that it gets the same answer and nobody gets mail."""
    event = make_event()
    session = make_session(event)
    for n in range(7):
        data = RegistrationInput(
            name=f"P{n}", email=f"p{n}@example.org", session_ids=[session.id], consent=True
        )
        service.register(event, data, utcnow())
    slug = event.slug
    end_transaction()
    with other_app(app, tmp_path, RATELIMIT_ENABLED=True) as limited:
        client = limited.test_client()
        statuses = [
            ask(client, slug, f"p{n}@example.org", REMOTE_ADDR="198.51.100.9").status_code
            for n in range(6)
        ]
        elsewhere = ask(client, slug, "p6@example.org", REMOTE_ADDR="198.51.100.10")
    assert statuses == [303] * 6 and elsewhere.status_code == 303
    sent_to = sorted(row.recipient for row in lost_link_rows())
    assert sent_to == sorted(f"p{n}@example.org" for n in (0, 1, 2, 3, 4, 6))


def test_requests_are_limited_per_client_whatever_address(app, registered, tmp_path):
    """A flood of requests is refused per client, each request counted whatever it names
    (so the refusal tells nothing about who registered)."""
    event, _ = registered
    slug = event.slug
    end_transaction()
    with other_app(
        app, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOST_LINK_REQUESTS="6 per minute"
    ) as limited:
        client = limited.test_client()
        statuses = [
            ask(client, slug, f"person{n}@example.org", REMOTE_ADDR="198.51.100.7").status_code
            for n in range(8)
        ]
        elsewhere = ask(client, slug, "x@example.org", REMOTE_ADDR="198.51.100.8")
    assert statuses == [303] * 6 + [429] * 2
    assert elsewhere.status_code == 303

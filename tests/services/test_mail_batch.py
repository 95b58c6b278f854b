"""The outbox worker reads what a batch of emails needs in a fixed number of statements
(services/mail/batch.py): a batch of 8 confirmations costs the reads of a batch of 2, and
one write per email (its conditional "sent", the lease's fencing), nothing more. Rendered
one by one, each email cost about ten statements (issue 16, item 5)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import OutboxMessage
from eventapp.services.mail import batch
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.query_counter import QueryCounter


@pytest.fixture
def programme(make_event, make_session, make_room):
    event = make_event()
    rooms = [make_room(event, f"Zaal {n}", 100) for n in (1, 2)]
    return event, [
        make_session(event, start=hour, room=rooms[n % 2], capacity=100)
        for n, hour in enumerate((0, 2, 4, 6))
    ]


def queue_confirmations(event, sessions, count, now, prefix):
    for n in range(count):
        chosen = [sessions[n % len(sessions)], sessions[(n + 1) % len(sessions)]]
        service.register(
            event,
            RegistrationInput(
                name=f"Person {n}",
                email=f"{prefix}{n}@example.org",
                session_ids=[s.id for s in chosen],
                consent=True,
            ),
            now,
        )
    db.session.commit()


def statements_to_send(app, count, event, sessions, now, prefix):
    app.config["OUTBOX_BATCH_SIZE"] = 100  # one batch either way
    queue_confirmations(event, sessions, count, now, prefix)
    db.session.expire_all()
    with QueryCounter(db.engine) as counter:
        report = send_pending(now=now)
    assert report.sent == count
    reads = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    marked_sent = [s for s in counter.statements if "sent_at" in s and s.startswith("UPDATE")]
    return len(reads), len(marked_sent), counter.count


def test_the_statements_per_batch_do_not_grow_with_its_size(app, smtp_server, programme, now):
    event, sessions = programme
    small = statements_to_send(app, 2, event, sessions, now, "small")
    large = statements_to_send(app, 8, event, sessions, now, "large")

    assert large[0] == small[0], (small, large)  # the reads: the same for 2 or 8
    assert (small[1], large[1]) == (2, 8)  # one "sent" per email
    assert large[2] - small[2] == 6, (small, large)  # and nothing else per email
    assert len(smtp_server.messages) == 10


def test_a_batch_whose_read_fails_is_retried_not_left_claimed(
    app, smtp_server, programme, now, monkeypatch
):
    """Before rendering one by one, a failed read cost one row; now it is the batch's: each
    row records the error and is tried again, none waits for its lease to run out."""
    event, sessions = programme
    queue_confirmations(event, sessions, 2, now, "failing")

    def failing_read(messages):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(batch, "load", failing_read)
        report = send_pending(now=now)
    assert (report.sent, report.retried) == (0, 2)
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {(r.status, r.last_error) for r in rows} == {
        ("pending", "RuntimeError: the database went away")
    }

    assert send_pending(now=now + timedelta(hours=2)).sent == 2

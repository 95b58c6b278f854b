"""A new registration's writes: one statement on PostgreSQL, step by step elsewhere.

Both paths must write the same rows and report the same outcome. On PostgreSQL each test
runs both ways (tests/race_windows.py replaces writes.writes_in_one_statement, the dialect's
decision); SQLite has only the step-by-step path.
"""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, OutboxMessage, Registration
from eventapp.services.errors import AlreadyRegistered, SessionFull
from eventapp.services.registration import register as service
from eventapp.services.registration import writes
from eventapp.services.registration.register import RegistrationInput
from tests import race_windows
from tests.query_counter import QueryCounter

PATHS = ["one_statement", "step_by_step"]


@pytest.fixture(params=PATHS)
def path(request, app, monkeypatch):
    if request.param == "one_statement" and app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's (data-modifying CTEs)")
    if request.param == "step_by_step":
        race_windows.write_step_by_step(monkeypatch)
    return request.param


def test_only_postgresql_writes_in_one_statement():
    assert writes.writes_in_one_statement("postgresql")
    assert not writes.writes_in_one_statement("sqlite")


def person(session_ids, email="ada@example.org", **overrides) -> RegistrationInput:
    values = dict(name="Ada", email=email, session_ids=session_ids, consent=True, locale="en")
    return RegistrationInput(**(values | overrides))


def written_rows(attendee_id: int) -> dict:
    """What is in the database for one attendee, read back with fresh queries."""
    db.session.expire_all()
    attendee = db.session.get(Attendee, attendee_id)
    columns = Attendee.__table__.c.keys()
    return {
        "attendee": {key: getattr(attendee, key) for key in columns if key != "id"},
        "rows": sorted(
            (r.session_id, r.status, r.waitlisted_at, r.sequence, r.created_at is not None)
            for r in db.session.scalars(
                select(Registration).where(Registration.attendee_id == attendee_id)
            )
        ),
        "messages": [
            (m.kind, m.recipient, m.locale, m.payload, m.status, m.attempts, m.event_id)
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.attendee_id == attendee_id)
            )
        ],
    }


def test_a_registration_writes_the_attendee_rows_message_and_seats(
    path, make_event, make_session, now
):
    event = make_event()
    plenary = make_session(event, kind="plenary", start=0, capacity=100)
    workshop = make_session(event, start=1, capacity=5)

    result = service.register(event, person([workshop.id, plenary.id]), now)
    db.session.commit()

    stored = written_rows(result.attendee.id)
    assert stored["attendee"]["email_normalized"] == "ada@example.org"
    assert stored["attendee"]["status"] == "active" and stored["attendee"]["locale"] == "en"
    assert stored["attendee"]["consent_at"] == now and stored["attendee"]["created_at"] == now
    assert stored["rows"] == [
        (plenary.id, "confirmed", None, 0, True),
        (workshop.id, "confirmed", None, 0, True),
    ]
    assert stored["messages"] == [
        (
            "confirmation",
            "ada@example.org",
            "en",
            {"session_ids": [plenary.id, workshop.id]},
            "pending",
            0,
            event.id,
        )
    ]
    assert db.session.get(EventSession, workshop.id).seats_taken == 1
    # The objects handed back are the rows as stored, without a read-back.
    assert {r.id for r in result.registrations} == {
        r.id for r in db.session.get(Attendee, result.attendee.id).registrations
    }


def test_both_paths_write_the_same_values(app, make_event, make_session, now, monkeypatch):
    if app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("only PostgreSQL has two paths")
    event = make_event()
    sessions = [make_session(event, start=i, capacity=10) for i in range(3)]
    ids = [s.id for s in sessions]
    stored = {}
    for one_statement in (True, False):
        if not one_statement:
            race_windows.write_step_by_step(monkeypatch)
        email = f"{one_statement}@example.org"
        result = service.register(event, person(ids, email=email, organisation="Org"), now)
        db.session.commit()
        stored[one_statement] = written_rows(result.attendee.id)

    differ = {"reference", "email", "email_normalized", "checkin_code"}
    differ |= {"token_hash", "token_nonce", "feed_token_hash", "feed_nonce", "updated_at"}
    for rows in stored.values():
        for key in differ:
            rows["attendee"].pop(key)
        rows["messages"] = [m[:1] + m[2:] for m in rows["messages"]]  # the recipient differs
    assert stored[True] == stored[False]
    assert all(s.seats_taken == 2 for s in db.session.scalars(select(EventSession)))


def test_a_known_email_writes_nothing(path, make_event, make_session, now):
    event = make_event()
    session = make_session(event, capacity=5)
    service.register(event, person([session.id]), now)
    db.session.commit()

    with pytest.raises(AlreadyRegistered):
        service.register(event, person([session.id], email=" ADA@example.org"), now)
    db.session.rollback()

    seats = db.session.scalar(select(EventSession.seats_taken).where(EventSession.id == session.id))
    assert seats == 1  # the first registration's seat only
    assert len(db.session.scalars(select(Registration)).all()) == 1
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 1


def test_a_full_session_is_waitlisted_or_refused(path, make_event, make_session, now):
    event = make_event()
    open_session = make_session(event, start=0, capacity=5)
    full = make_session(event, start=1, capacity=1)
    service.register(event, person([full.id], email="first@example.org"), now)
    db.session.commit()

    with pytest.raises(SessionFull):
        service.register(event, person([open_session.id, full.id]), now)
    db.session.rollback()
    assert db.session.get(EventSession, open_session.id).seats_taken == 0

    result = service.register(event, person([open_session.id, full.id], waitlist=True), now)
    db.session.commit()
    statuses = {r.session_id: r.status for r in result.registrations}
    assert statuses == {open_session.id: "confirmed", full.id: "waitlisted"}
    assert written_rows(result.attendee.id)["rows"][1][1] == "waitlisted"
    db.session.expire_all()
    assert db.session.get(EventSession, full.id).seats_taken == 1
    assert db.session.get(EventSession, open_session.id).seats_taken == 1


def test_the_one_statement_path_is_one_statement(app, make_event, make_session, now, monkeypatch):
    if app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    event = make_event()
    sessions = [make_session(event, start=i, capacity=10) for i in range(4)]
    service.load_registrable_sessions(event, [s.id for s in sessions])  # the read, not counted

    with QueryCounter(db.engine) as counter:
        service.register(event, person([s.id for s in sessions]), now)
    race_windows.write_step_by_step(monkeypatch)
    with QueryCounter(db.engine) as control:
        service.register(event, person([s.id for s in sessions], email="b@example.org"), now)

    # Besides the writes, registering reads the event's questions (answers.py) once.
    reads = [q for q in counter.statements if "FROM question" in q]
    assert len(reads) == 1
    assert counter.count - len(reads) == 1
    assert control.count - len(reads) == 4  # attendee, message, rows, seats

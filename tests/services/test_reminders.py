"""Reminders: due `reminder_hours` before the event, queued once, even with two workers."""

import threading
from datetime import timedelta

from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, OutboxMessage
from eventapp.services.periodic import run_periodic
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput


def sign_up(event, session_ids, email, now, *, waitlist=True):
    data = RegistrationInput(
        name=email.split("@")[0],
        email=email,
        session_ids=session_ids,
        waitlist=waitlist,
        consent=True,
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result.attendee


def reminders() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "reminder").order_by(OutboxMessage.id)
        )
    )


def test_reminder_is_queued_once_when_due_with_the_schedule(make_event, make_session, now):
    event = make_event(reminder_hours=24)
    first = make_session(event, start=0)
    second = make_session(event, start=2)
    ada = sign_up(event, [first.id, second.id], "ada@example.org", now)
    due = event.starts_at - timedelta(hours=24)

    assert run_periodic(due - timedelta(minutes=1))["reminders_queued"] == 0
    assert reminders() == []

    assert run_periodic(due)["reminders_queued"] == 1
    assert run_periodic(due + timedelta(hours=1))["reminders_queued"] == 0

    [message] = reminders()
    assert message.attendee_id == ada.id and message.recipient == "ada@example.org"
    assert sorted(message.payload["session_ids"]) == [first.id, second.id]
    assert message.dedupe_key == f"reminder:{ada.id}"
    assert db.session.get(Attendee, ada.id).reminder_sent_at == due


def test_no_reminder_for_cancelled_waitlisted_only_or_started(make_event, make_session, now):
    event = make_event(reminder_hours=24)
    session = make_session(event, capacity=1)
    sign_up(event, [session.id], "holder@example.org", now)
    sign_up(event, [session.id], "waiting@example.org", now)  # waiting list only
    gone = sign_up(event, [make_session(event, start=3).id], "gone@example.org", now)
    service.cancel_registration(gone, now)
    db.session.commit()

    run_periodic(event.starts_at + timedelta(minutes=1))  # too late: it has started
    assert reminders() == []
    run_periodic(event.starts_at - timedelta(hours=1))
    assert [m.recipient for m in reminders()] == ["holder@example.org"]


def test_cleared_claim_still_sends_only_once(make_event, make_session, now):
    event = make_event()
    ada = sign_up(event, [make_session(event).id], "ada@example.org", now)
    due = event.starts_at - timedelta(hours=2)
    run_periodic(due)
    db.session.get(Attendee, ada.id).reminder_sent_at = None  # an organiser resets it
    db.session.commit()

    result = run_periodic(due + timedelta(minutes=5))

    assert result["reminders_queued"] == 0
    assert len(reminders()) == 1


def test_two_workers_at_once_queue_each_reminder_once(app, make_event, make_session, now):
    event = make_event(reminder_hours=24)
    sessions = [
        make_session(event, start=0, capacity=50),
        make_session(event, start=2, capacity=50),
    ]
    for index in range(30):
        sign_up(event, [sessions[index % 2].id], f"a{index}@example.org", now)
    due = event.starts_at - timedelta(hours=3)
    workers = 4
    barrier = threading.Barrier(workers)
    results = []
    db.session.commit()  # end this thread's transaction: on SQLite it holds the write lock

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                results.append(run_periodic(due))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == workers
    assert all(r["reminders_queued"] is not None for r in results)  # no worker failed
    assert sum(r["reminders_queued"] for r in results) == 30
    per_attendee = db.session.execute(
        select(OutboxMessage.attendee_id, func.count())
        .where(OutboxMessage.kind == "reminder")
        .group_by(OutboxMessage.attendee_id)
    ).all()
    assert len(per_attendee) == 30 and {n for _, n in per_attendee} == {1}

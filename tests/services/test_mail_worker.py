"""The outbox worker: nothing lost while SMTP is down, retries with backoff, then `failed`;
claims that expire; several workers at once never send one message twice."""

import threading
import time
from collections import Counter
from datetime import timedelta

import click
import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import OutboxMessage
from eventapp.services import periodic
from eventapp.services.mail import worker
from eventapp.services.mail.delivery import SmtpTransport
from eventapp.services.mail.loop import run_once, should_run_in_process
from eventapp.services.mail.outbox import enqueue
from eventapp.services.mail.render import render
from eventapp.services.mail.worker import claim_batch, send_pending
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.mailserver import SmtpServer, free_port


def register(event, sessions, now, email="ada@example.org"):
    data = RegistrationInput(
        name="Ada", email=email, session_ids=[s.id for s in sessions], consent=True, locale="en"
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result


def outbox():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_smtp_down_registration_succeeds_and_the_mail_arrives_once_when_it_is_back(
    app, make_event, make_session, now
):
    server = SmtpServer(port=free_port())  # not started: connections are refused
    server.configure(app)
    event = make_event()
    session = make_session(event)

    result = register(event, [session], now)  # the registration does not depend on SMTP
    assert result.registrations[0].status == "confirmed"

    report = send_pending(now=now)
    [row] = outbox()
    assert (report.sent, report.postponed, report.retried, report.failed) == (0, 1, 0, 0)
    assert (row.status, row.attempts) == ("pending", 0)  # an outage uses no attempt
    assert row.next_attempt_at == now + timedelta(seconds=30)  # OUTBOX_OUTAGE_RETRY_SECONDS
    assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error

    # Not due yet: nothing is attempted before the wait has passed.
    assert send_pending(now=now + timedelta(seconds=20)).handled == 0

    server.start()
    try:
        assert send_pending(now=now + timedelta(seconds=31)).sent == 1
        assert send_pending(now=now + timedelta(hours=1)).handled == 0
        assert len(server.received) == 1
        assert server.received[0].rcpt_tos == ["ada@example.org"]
    finally:
        server.stop()
    [row] = outbox()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


def test_backoff_doubles_then_the_message_fails_with_its_error(app, make_event, make_session, now):
    """A temporary refusal of this message (4xx for its recipient), not an outage."""
    server = SmtpServer()
    server.handler = RefusingHandler()
    server.start()
    server.configure(app)
    app.config.update(OUTBOX_MAX_ATTEMPTS=4, OUTBOX_RETRY_BASE_SECONDS=10)
    event = make_event()
    register(event, [make_session(event)], now, email="busy@example.org")

    moment, delays = now, []
    try:
        for _attempt in range(4):
            send_pending(now=moment)
            [row] = outbox()
            if row.status == "failed":
                break
            delays.append((row.next_attempt_at - moment).total_seconds())
            moment = row.next_attempt_at
    finally:
        server.stop()

    assert delays == [10, 20, 40]
    assert (row.status, row.attempts) == ("failed", 4)
    assert "451" in row.last_error
    assert send_pending(now=moment + timedelta(days=1)).handled == 0  # failed stays failed


class RefusingHandler:
    """A server that refuses one recipient for good and another for now."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "451 4.2.1 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.received.append(list(envelope.rcpt_tos))
        return "250 OK"


def test_a_permanent_refusal_fails_at_once_a_temporary_one_is_retried(
    app, make_event, make_session, now
):
    server = SmtpServer()
    server.handler = RefusingHandler()
    server.start()
    server.configure(app)
    try:
        event = make_event()
        session = make_session(event, capacity=5)
        for email in ("gone@example.org", "busy@example.org", "fine@example.org"):
            register(event, [session], now, email=email)

        report = send_pending(now=now)
    finally:
        server.stop()

    by_recipient = {row.recipient: row for row in outbox()}
    assert (report.sent, report.retried, report.failed) == (1, 1, 1)
    assert by_recipient["gone@example.org"].status == "failed"
    assert "550" in by_recipient["gone@example.org"].last_error
    assert by_recipient["busy@example.org"].status == "pending"
    assert by_recipient["fine@example.org"].status == "sent"
    # One connection served all three: the refusals did not cost the others theirs.
    assert server.handler.received == [["fine@example.org"]]


def test_a_killed_workers_claim_expires_and_the_message_is_sent_later(
    app, smtp_server, make_event, make_session, now
):
    event = make_event()
    register(event, [make_session(event)], now)
    [claim] = claim_batch(now, 10)  # ...and the worker is killed before sending

    assert send_pending(now=now + timedelta(minutes=1)).handled == 0  # still claimed
    assert smtp_server.received == []

    lease = app.config["OUTBOX_CLAIM_SECONDS"]
    assert send_pending(now=now + timedelta(seconds=lease + 1)).sent == 1
    [row] = outbox()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp_server.received) == 1


def test_sent_but_killed_before_recording_means_sent_again_with_the_same_message_id(
    app, smtp_server, make_event, make_session, now
):
    """At least once, by design (see services/mail/worker.py): never lost, rarely twice."""
    event = make_event()
    register(event, [make_session(event)], now)
    [claim] = claim_batch(now, 10)
    with app.test_request_context("/"):
        message = render(db.session.get(OutboxMessage, claim.id), now)
    transport = SmtpTransport(app)
    transport.send(message, claim.id, claim.kind)  # the server has it; then the worker dies
    transport.close()
    db.session.rollback()

    lease = app.config["OUTBOX_CLAIM_SECONDS"]
    assert send_pending(now=now + timedelta(seconds=lease + 1)).sent == 1

    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 2 and ids[0] == ids[1]  # mail stores drop the second by Message-ID
    [row] = outbox()
    assert row.status == "sent" and row.message_id == ids[0]


def test_a_message_that_keeps_killing_its_worker_ends_failed(app, make_event, make_session, now):
    app.config.update(OUTBOX_MAX_ATTEMPTS=2)
    event = make_event()
    register(event, [make_session(event)], now)
    lease = timedelta(seconds=app.config["OUTBOX_CLAIM_SECONDS"] + 1)

    claim_batch(now, 10)
    claim_batch(now + lease, 10)
    assert claim_batch(now + 2 * lease, 10) == []

    [row] = outbox()
    assert row.status == "failed" and "stopped while sending" in row.last_error


def test_an_unknown_kind_without_templates_is_retried_then_failed(
    app, smtp_server, make_event, make_session, now
):
    app.config.update(OUTBOX_MAX_ATTEMPTS=1)
    event = make_event()
    attendee = register(event, [make_session(event)], now).attendee
    enqueue("no_such_kind", attendee, {})
    db.session.commit()

    report = send_pending(now=now)

    assert (report.sent, report.failed) == (1, 1)
    failed = [row for row in outbox() if row.status == "failed"]
    assert [row.kind for row in failed] == ["no_such_kind"]
    assert "TemplateNotFound" in failed[0].last_error


def _queue_many(event, session, count):
    attendee = register(event, [session], event.starts_at - timedelta(days=30)).attendee
    for number in range(count - 1):
        enqueue(
            "confirmation", attendee, {"session_ids": [session.id]}, dedupe_key=f"bulk-{number}"
        )
    db.session.commit()


def _run_workers(app, count, now):
    """`count` workers at once, each in its own thread, app context and database session."""
    start = threading.Barrier(count)
    errors = []

    def work():
        with app.app_context():
            try:
                start.wait(timeout=30)
                send_pending(now=now)
            except Exception as error:  # noqa: BLE001  (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def _one_pause_per_thread(pause):
    """Pause once per worker between choosing rows and claiming them: the race window."""
    paused = set()

    def after_select():
        if threading.get_ident() not in paused:
            paused.add(threading.get_ident())
            pause()

    return after_select


def _pause_between_choosing_and_claiming(monkeypatch, pause, choose=worker.lock_due_rows):
    """Each worker chooses its rows (`choose`: the worker's own locked read by default),
    then pauses once before marking them claimed."""
    pause_once = _one_pause_per_thread(pause)

    def choose_then_pause(now, size):
        rows = choose(now, size)
        pause_once()
        return rows

    monkeypatch.setattr(worker, "lock_due_rows", choose_then_pause)


def _due_rows_unlocked(now, size):
    """The control's naive choice: the same due rows, read without FOR UPDATE SKIP LOCKED."""
    return list(db.session.scalars(worker.due_query(now, size)))


def test_two_workers_at_once_never_send_a_message_twice(
    app, smtp_server, make_event, make_session, now, monkeypatch
):
    app.config.update(OUTBOX_BATCH_SIZE=5)
    event = make_event()
    _queue_many(event, make_session(event), 40)
    if app.config["DATABASE_KIND"] == "postgresql":
        # Both workers are inside their claim at once: SKIP LOCKED must keep them apart.
        barrier = threading.Barrier(2)
        _pause_between_choosing_and_claiming(monkeypatch, lambda: barrier.wait(timeout=30))
    else:
        # SQLite queues writers at BEGIN IMMEDIATE: the second waits while the first pauses.
        _pause_between_choosing_and_claiming(monkeypatch, lambda: time.sleep(0.2))

    _run_workers(app, 2, now)

    sent = Counter(m["Message-ID"] for m in smtp_server.messages)
    assert len(sent) == 40 and set(sent.values()) == {1}
    rows = outbox()
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}


def test_control_without_skip_locked_two_workers_do_send_twice(
    app, smtp_server, make_event, make_session, now, monkeypatch
):
    """Shows the race the claim guards against is real, so the test above can fail."""
    if app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE: no claim race to show")
    app.config.update(OUTBOX_BATCH_SIZE=5)
    event = make_event()
    _queue_many(event, make_session(event), 10)
    barrier = threading.Barrier(2)
    _pause_between_choosing_and_claiming(
        monkeypatch, lambda: barrier.wait(timeout=30), choose=_due_rows_unlocked
    )
    _pause_between_rendering_and_sending(monkeypatch, lambda: barrier.wait(timeout=30))

    _run_workers(app, 2, now)

    # More deliveries than messages. Counted per delivery, not per Message-ID: each worker
    # gives the rows it claimed an ID, so whether both send one row under the same ID
    # depends on whose claim each render read back (on a loaded CI machine: 20 deliveries
    # of 10 rows, each under its own ID).
    assert len(smtp_server.messages) > 10


def _pause_between_rendering_and_sending(monkeypatch, pause):
    """Each worker renders its first batch, then pauses before sending it. Without this, on
    a loaded machine one worker could send and mark its batch before the other read it back,
    and the control would show no double send although the claim was not exclusive."""
    pause_once, render = _one_pause_per_thread(pause), worker._render

    def render_then_pause(batch, now):
        rendered = render(batch, now)
        pause_once()
        return rendered

    monkeypatch.setattr(worker, "_render", render_then_pause)


def test_with_mail_loop_runs_periodic_each_round_runs_the_jobs_first(
    app, smtp_server, make_event, make_session, now, monkeypatch
):
    app.config["MAIL_LOOP_RUNS_PERIODIC"] = True
    event = make_event()
    attendee = register(event, [make_session(event)], now).attendee
    calls = []

    def run_tick(moment):
        calls.append(moment)
        enqueue("confirmation", attendee, {"session_ids": []}, dedupe_key="from-periodic")

    monkeypatch.setattr(periodic, "run_tick", run_tick)

    report = run_once(now)

    assert calls == [now]
    assert report.sent == 2  # the registration's confirmation and the periodic job's message


def test_by_default_the_mail_loop_leaves_the_jobs_to_the_timer(app, smtp_server, now, monkeypatch):
    calls = []
    monkeypatch.setattr(periodic, "run_tick", calls.append)
    run_once(now)
    assert calls == []


def test_the_cli_sends_what_is_due(app, runner, smtp_server, make_event, make_session, now):
    event = make_event()
    register(event, [make_session(event)], now)

    result = runner.invoke(args=["mail", "send"])

    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert len(smtp_server.received) == 1
    status = runner.invoke(args=["mail", "status"])
    assert "sent: 1" in status.output


def test_the_in_process_worker_starts_only_under_flask_run(app, monkeypatch):
    app.config.update(MAIL_WORKER_IN_PROCESS=True)
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)

    assert not should_run_in_process(app)  # no CLI command at all: gunicorn, a script
    with click.Context(click.Command("demo"), info_name="demo"):
        assert not should_run_in_process(app)
    with click.Context(click.Command("run"), info_name="run") as context:
        context.params = {"reload": False}
        assert should_run_in_process(app)
        context.params = {"reload": True}
        assert not should_run_in_process(app)  # the reloader's parent serves nothing
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
        assert should_run_in_process(app)  # its child does
        monkeypatch.setattr(app, "testing", True)
        assert not should_run_in_process(app)


def test_a_stop_request_finishes_the_message_in_hand_and_hands_back_the_rest(
    app, smtp_server, make_event, make_session, now
):
    from flask_mail import email_dispatched

    event = make_event()
    _queue_many(event, make_session(event), 5)
    stop = threading.Event()

    def stop_after_first(sender, message):
        stop.set()  # as SIGTERM would, while the first message is being sent

    with email_dispatched.connected_to(stop_after_first):
        report = send_pending(now=now, stop=stop)

    assert report.sent == 1 and len(smtp_server.received) == 1
    rows = outbox()
    assert sorted((r.status, r.attempts) for r in rows) == [("pending", 0)] * 4 + [("sent", 1)]
    assert all(r.claimed_until is None for r in rows if r.status == "pending")
    assert send_pending(now=now).sent == 4  # nothing waits for a lease to expire


def test_a_worker_too_slow_for_its_batch_takes_smaller_ones_and_gets_through(
    app, smtp_server, make_event, make_session, now, monkeypatch
):
    """Rendering comes before the half-lease check: a batch that takes longer than half the
    lease to render was handed back unsent, claimed again and handed back again, for ever
    (the killed-worker fault test livelocked so on a loaded machine). Each message here takes
    0.15 s to render and half the lease is 0.5 s: a batch of 8 cannot make it, 2 can."""
    app.config.update(OUTBOX_CLAIM_SECONDS=1, OUTBOX_BATCH_SIZE=8)
    event = make_event()
    _queue_many(event, make_session(event), 8)
    stop, renders, render = threading.Event(), [], worker._render

    def slow_render(batch, now):
        time.sleep(0.15 * len(batch))
        renders.append(len(batch))
        if len(renders) >= 20:
            stop.set()  # without smaller batches it would never end: give up after 20
        return render(batch, now)

    monkeypatch.setattr(worker, "_render", slow_render)
    report = send_pending(stop=stop)

    assert report.sent == 8 and len(smtp_server.received) == 8, renders
    assert renders[0] == 8 and renders[-1] <= 3  # the batch shrank until it went through
    assert sorted((r.status, r.attempts) for r in outbox()) == [("sent", 1)] * 8

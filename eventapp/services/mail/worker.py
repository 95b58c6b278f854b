"""The outbox worker: claim due rows, render, send, record the outcome.

Claiming. A worker takes a batch of due rows in one short transaction and marks them
`sending` with `claimed_until = now + OUTBOX_CLAIM_SECONDS` (a lease). On PostgreSQL the
SELECT uses FOR UPDATE SKIP LOCKED, so concurrent workers get disjoint batches without
waiting for each other; on SQLite every writing transaction starts with BEGIN IMMEDIATE
(eventapp/database.py), so claims simply queue. A row whose lease ran out (its worker was
killed) is due again. `attempts` counts claims, so a message that keeps killing its worker
also ends as `failed` instead of looping forever.

Sending. No database transaction is open while talking to the mail server (on SQLite an open
transaction would hold the write lock and stall registrations). The batch is rendered in one
short read (what its emails need is loaded for all of them at once: mail/batch.py), then each
message is sent and marked `sent` with a conditional UPDATE that only succeeds while this
worker's lease on the row is still the current one (`claimed_until` works as the fencing
token). A worker stops taking messages from its batch once half the lease has passed, and
hands the rest back, so a lease does not expire under a live worker; it then takes smaller
batches, so a machine too slow for its batch still gets through.

At least once, not at most once. If a worker dies after the server accepted a message and
before the row says `sent`, the lease expires and another worker sends it again. The other
choice, marking the row sent before sending, loses the confirmation whenever the send then
fails, and a lost confirmation (or calendar update) is worse than a rare duplicate. The
duplicate is harmless by construction: the Message-ID is fixed per row at its first claim
(so mail stores that deduplicate by Message-ID drop it), and its calendar objects carry the
same UID and SEQUENCE, which calendars treat as the event they already have. Writing .eml
files is exactly once: the file is named after the row and simply rewritten.

Outages are not failures. When the mail server cannot be reached at all (refused, timed
out, TLS or login failing, a connection that breaks and cannot be opened again: delivery's
TransportDown), the batch stops and every claimed row goes back to `pending` with its
attempt refunded, due again after OUTBOX_OUTAGE_RETRY_SECONDS, its `last_error` saying why.
However long the outage, no message uses up its attempts on it, and when the server answers
again the rows go out by themselves, without `flask mail retry`.

Failures of one message. A permanent refusal (SMTP 5xx for the recipient or the message, a
header that would inject lines, an address needing SMTPUTF8 the server does not offer, a
deleted attendee) fails at once. Anything else about the message (a 4xx reply to it, a
render error) is retried after OUTBOX_RETRY_BASE_SECONDS * 2**(attempts-1), capped at
OUTBOX_RETRY_MAX_SECONDS, and after OUTBOX_MAX_ATTEMPTS it is `failed`, with the error in
`last_error` for the organisers' dashboard.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid

import flask_mail
from flask import Flask, current_app
from sqlalchemy import and_, or_, select, update

from ...extensions import db
from ...models import OutboxMessage
from ...models.types import utcnow
from .delivery import TransportDown, Utf8NotOffered, open_transport
from .outbox import ERASED_RECIPIENT, ERASURE_KIND, OUTAGE_PREFIX
from .render import RecipientGone, render_batch

log = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 2000


@dataclass
class Claim:
    id: int
    kind: str
    attempts: int
    lease: datetime  # our claimed_until: the row is ours while it still holds this value


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    postponed: int = 0  # handed back, attempts refunded: the mail server was unreachable
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.postponed


def send_pending(
    *,
    now: datetime | None = None,
    limit: int | None = None,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Deliver every due message (at most `limit`), over one SMTP connection.

    `now` fixes the clock for the whole run (tests); by default each batch reads the time.
    When `stop` is set (SIGTERM), the message in hand is finished and the rest of the batch
    handed back. Call it in an app context with no transaction of your own in progress.
    """
    app: Flask = current_app._get_current_object()
    config = app.config
    batch_size = int(config.get("OUTBOX_BATCH_SIZE", 100))
    report = DeliveryReport()
    transport = open_transport(app)
    base_url = config.get("SERVER_NAME_FOR_LINKS") or "http://localhost"
    try:
        with app.test_request_context("/", base_url=base_url):
            while (limit is None or report.handled < limit) and not _stopping(stop):
                size = batch_size if limit is None else min(batch_size, limit - report.handled)
                batch = claim_batch(now or utcnow(), size)
                if not batch:
                    break
                outcome = _deliver_batch(batch, transport, now, report, stop)
                if outcome == SERVER_DOWN:
                    break  # everything claimed is rescheduled
                if outcome == LEASE_HALF_GONE:
                    batch_size = max(1, batch_size // 2)
    finally:
        transport.close()
    return report


def claim_batch(now: datetime, size: int) -> list[Claim]:
    """Mark up to `size` due rows as ours for a lease; commit at once."""
    config = current_app.config
    lease = now + timedelta(seconds=int(config.get("OUTBOX_CLAIM_SECONDS", 300)))
    max_attempts = int(config["OUTBOX_MAX_ATTEMPTS"])
    rows = lock_due_rows(now, size)
    claims = []
    for row in rows:
        if row.status == "sending" and row.attempts >= max_attempts:
            row.status, row.claimed_until = "failed", None
            row.last_error = "The worker stopped while sending, on every attempt."
            continue
        row.status = "sending"
        row.attempts += 1
        row.claimed_until = lease
        if not row.message_id:
            row.message_id = make_msgid("outbox", domain=config["UID_DOMAIN"])
        claims.append(Claim(row.id, row.kind, row.attempts, lease))
    db.session.commit()
    return claims


def due_query(now: datetime, size: int):
    """The oldest `size` due rows: pending ones whose time has come, and claims whose lease
    ran out (their worker died)."""
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until <= now),
    )
    return (
        select(OutboxMessage)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(size)
    )


def lock_due_rows(now: datetime, size: int) -> list[OutboxMessage]:
    """The due rows, locked for this claim. SKIP LOCKED passes over rows another worker is
    claiming at this moment, so concurrent workers get disjoint batches; without the lock two
    workers would choose the same rows and both send them (the control test in
    tests/services/test_mail_worker.py reads them unlocked, through due_query, to show it).
    The tests also wrap this function to hold a worker between choosing and claiming."""
    return list(db.session.scalars(due_query(now, size).with_for_update(skip_locked=True)))


def _stopping(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


# How a batch ended (_deliver_batch).
DELIVERED = "delivered"  # every message handled, or handed back on a stop request
SERVER_DOWN = "server down"  # the mail server is unreachable: the rest is rescheduled
# Half the lease went by before the batch was through: the rest is handed back, and the
# worker takes smaller batches from then on. A machine too slow to even render a batch in
# half a lease (rendering comes first) would otherwise hand every batch back unsent, round
# after round; halving reaches a batch it can render and send.
LEASE_HALF_GONE = "lease half gone"


def _deliver_batch(batch: list[Claim], transport, now, report, stop=None) -> str:
    """Send each claimed message; say how the batch ended."""
    lease_seconds = int(current_app.config.get("OUTBOX_CLAIM_SECONDS", 300))
    deadline = time.monotonic() + lease_seconds / 2
    rendered = _render(batch, now or utcnow())
    for index, claim in enumerate(batch):
        if _stopping(stop):
            _release(batch[index:])
            return DELIVERED
        if time.monotonic() > deadline:
            _release(batch[index:])
            return LEASE_HALF_GONE
        moment = now or utcnow()
        message = rendered.get(claim.id)
        try:
            if message is None:
                continue  # the row changed hands (our lease was taken over)
            if isinstance(message, Exception):
                raise message
            transport.send(message, claim.id, claim.kind)
        except TransportDown as error:
            transport.reset()
            _postpone(batch[index:], moment, error, report)
            return SERVER_DOWN
        except Exception as error:  # noqa: BLE001  (every failure is recorded on the row)
            db.session.rollback()
            permanent = _is_permanent(error)
            if _breaks_connection(error):
                transport.reset()
            _record_failure(claim, moment, error, permanent=permanent, report=report)
            continue
        _mark_sent(claim, moment)
        report.sent += 1
    return DELIVERED


def _render(batch: list[Claim], now: datetime) -> dict[int, object]:
    """The batch's emails (or the error of each that failed to render), by row id, read in
    one short transaction that ends before sending. A row no longer under our lease is
    left out."""
    leases = {claim.id: claim.lease for claim in batch}
    try:
        rows = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(leases))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        ).all()
        mine = [
            row for row in rows if row.status == "sending" and row.claimed_until == leases[row.id]
        ]
        return render_batch(mine, now)
    except Exception as error:  # noqa: BLE001  (the read itself failed: each row records it)
        return {claim.id: error for claim in batch}
    finally:
        db.session.rollback()  # end the read: no lock may be held while talking SMTP


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, RecipientGone | flask_mail.BadHeaderError | Utf8NotOffered):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def _breaks_connection(error: Exception) -> bool:
    """After this error the SMTP connection cannot be trusted; render errors leave it alone."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421  # "service closing transmission channel"
    return isinstance(error, OSError)  # smtplib's errors are OSErrors too


def _owned(claim: Claim):
    return (
        (OutboxMessage.id == claim.id)
        & (OutboxMessage.status == "sending")
        & (OutboxMessage.claimed_until == claim.lease)
    )


def _forgotten(claim: Claim, values: dict) -> dict:
    """An erasure's row forgets the address (and name) it held once it is sent or given
    up: that address belonged to someone whose data is erased (privacy.erase_attendee)."""
    if claim.kind != ERASURE_KIND:
        return values
    error = values.get("last_error")
    if error:
        recipient = db.session.scalar(
            select(OutboxMessage.recipient).where(OutboxMessage.id == claim.id)
        )
        values["last_error"] = error.replace(recipient or ERASED_RECIPIENT, ERASED_RECIPIENT)
    return values | {"recipient": ERASED_RECIPIENT, "payload": {}}


def _mark_sent(claim: Claim, now: datetime) -> None:
    values = {"status": "sent", "sent_at": now, "claimed_until": None, "last_error": None}
    result = db.session.execute(
        update(OutboxMessage)
        .where(_owned(claim))
        .values(**_forgotten(claim, values))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        log.warning("outbox %s: sent, but another worker had taken over its lease", claim.id)


def _record_failure(claim: Claim, now: datetime, error, *, permanent: bool, report) -> None:
    max_attempts = int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    text = f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
    give_up = permanent or claim.attempts >= max_attempts
    values = {"claimed_until": None, "last_error": text}
    if give_up:
        values = _forgotten(claim, values | {"status": "failed"})
    else:
        values.update(status="pending", next_attempt_at=now + retry_delay(claim.attempts))
    db.session.execute(
        update(OutboxMessage)
        .where(_owned(claim))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if give_up:
        report.failed += 1
        log.error("outbox %s (%s) failed for good: %s", claim.id, claim.kind, text)
    else:
        report.retried += 1
        log.warning("outbox %s (%s) will be retried: %s", claim.id, claim.kind, text)
    report.errors.append(text)


def _postpone(claims: list[Claim], now: datetime, error: Exception, report) -> None:
    """The server is down: hand the rows back pending, attempts refunded, due again after
    OUTBOX_OUTAGE_RETRY_SECONDS, with the reason for the dashboard."""
    delay = timedelta(seconds=int(current_app.config.get("OUTBOX_OUTAGE_RETRY_SECONDS", 30)))
    text = f"{OUTAGE_PREFIX}{error}"[:ERROR_MAX_LENGTH]
    for claim in claims:
        db.session.execute(
            update(OutboxMessage)
            .where(_owned(claim))
            .values(
                status="pending",
                claimed_until=None,
                attempts=OutboxMessage.attempts - 1,
                next_attempt_at=now + delay,
                last_error=text,
            )
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    report.postponed += len(claims)
    report.errors.append(text)
    log.warning("outbox: %s message(s) wait for the mail server: %s", len(claims), error)


def _release(claims: list[Claim]) -> None:
    """Hand unsent rows back untouched (the attempt they were charged is refunded)."""
    for claim in claims:
        db.session.execute(
            update(OutboxMessage)
            .where(_owned(claim))
            .values(status="pending", claimed_until=None, attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the given number of attempts: base, 2x base, 4x base, ..."""
    config = current_app.config
    base = int(config.get("OUTBOX_RETRY_BASE_SECONDS", 60))
    ceiling = int(config.get("OUTBOX_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), ceiling))

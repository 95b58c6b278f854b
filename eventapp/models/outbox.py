"""Every email is first a row here, committed with the change that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    attendee_id: Mapped[int | None] = mapped_column(ForeignKey("attendee.id", ondelete="SET NULL"))
    # What the message is ("confirmation", "session_moved", ...); the worker renders it.
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8), default="nl")
    # Everything needed to render the message later, as plain JSON.
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # Set for messages that must exist once only (a reminder): a unique key.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker that dies while sending leaves a claim that expires, so nothing is stuck.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_message_event_id", "event_id"),
        # An attendee's messages: rendering a confirmation asks whether it is their first,
        # the attendee page lists them, and deleting an attendee (erasure, the retention
        # purge) must find them for ON DELETE SET NULL; without it each is a full scan.
        Index("ix_outbox_message_attendee_id", "attendee_id"),
    )

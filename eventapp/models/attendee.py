"""An attendee of one event and their registrations for its sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event, EventSession
from .types import UTCDateTime, utcnow

REGISTRATION_STATUSES = ("confirmed", "waitlisted", "offered", "cancelled")


class Attendee(db.Model):
    __tablename__ = "attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    # Short, human-friendly, shown on the confirmation page and quoted to the help desk.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    # Trimmed and lower-cased: the key that makes one email one attendee per event.
    email_normalized: Mapped[str] = mapped_column(String(254))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    job_role: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="nl")
    # SHA-256 of the private manage token and of the calendar-feed token, for lookup. The
    # tokens themselves are HMACs of these random nonces under the app's SECRET_KEY, so the
    # worker can put the link in later emails while the database alone reveals no link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_nonce: Mapped[str] = mapped_column(String(64))
    feed_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    feed_nonce: Mapped[str] = mapped_column(String(64))
    # A new address waiting for its owner to confirm it (a link sent to it): the nonce the
    # link is derived from, as the private links are, and the hash it is looked up by.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    email_change_nonce: Mapped[str | None] = mapped_column(String(64))
    email_change_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    email_change_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Printed as a QR code for the door; not a secret that opens anything by itself.
    checkin_code: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Where a public registration came from, for the per-address limit and the burst view:
    # a keyed hash of the client address (never the address itself), and the email's domain.
    source: Mapped[str | None] = mapped_column(String(32))
    email_domain: Mapped[str | None] = mapped_column(String(254))
    # Until when the seats of a public registration are held unconfirmed (events with
    # confirm_email_first): None once the address is confirmed, or when nothing was held.
    # Kept on an attendee the periodic job cancelled, as the record of why.
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="attendee", order_by="Registration.id"
    )

    __table_args__ = (
        UniqueConstraint("event_id", "email_normalized"),
        CheckConstraint("status IN ('active', 'cancelled')", name="status"),
        Index("ix_attendee_event_id_created_at", "event_id", "created_at"),
        Index("ix_attendee_event_id_source_created_at", "event_id", "source", "created_at"),
        Index(
            "ix_attendee_event_id_email_domain_created_at", "event_id", "email_domain", "created_at"
        ),
        Index("ix_attendee_status_hold_expires_at", "status", "hold_expires_at"),
    )

    @property
    def on_hold(self) -> bool:
        """Active with seats held until the email address is confirmed."""
        return self.status == "active" and self.hold_expires_at is not None

    def __repr__(self) -> str:
        return f"<Attendee {self.reference}>"


class Registration(db.Model):
    """One attendee for one session; one row per pair, reused when they come back."""

    __tablename__ = "registration"

    # The statuses grouped by what they mean, for Python and for queries alike
    # (REGISTRATION_STATUSES lists them all). "offered" is in two groups: the seat is held
    # for the attendee (counted in seats_taken) while they still wait to accept it.
    SEAT_HOLDING = ("confirmed", "offered")  # occupy a seat: seats_taken counts these rows
    WAITING = ("waitlisted", "offered")  # waiting for a seat of their own
    ACTIVE = ("confirmed", "waitlisted", "offered")  # all but "cancelled"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    # Waiting-list order: earlier first, id breaks ties.
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # On a waiting-list place: the session in the same round whose seat the attendee keeps
    # meanwhile, given back automatically when this place turns into a seat (issue 19.4).
    fallback_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_session.id", ondelete="SET NULL"), index=True
    )
    # Added to the session's sequence in calendar data, so an attendee-side change
    # (drop, come back) also reaches their calendar as a newer version.
    sequence: Mapped[int] = mapped_column(default=0)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    attendee: Mapped[Attendee] = relationship(back_populates="registrations")
    session: Mapped[EventSession] = relationship(foreign_keys=[session_id])
    fallback_session: Mapped[EventSession | None] = relationship(foreign_keys=[fallback_session_id])

    __table_args__ = (
        UniqueConstraint("attendee_id", "session_id"),
        CheckConstraint(
            "status IN ('confirmed', 'waitlisted', 'offered', 'cancelled')", name="status"
        ),
        Index("ix_registration_session_id_status", "session_id", "status"),
        # Only the seats checked in: the dashboard counts them per session without reading
        # every registration (none before the doors open).
        Index(
            "ix_registration_session_id_checked_in",
            "session_id",
            postgresql_where=text("checked_in_at IS NOT NULL"),
            sqlite_where=text("checked_in_at IS NOT NULL"),
        ),
    )

    @hybrid_property
    def holds_seat(self) -> bool:
        """Counted in the session's seats_taken (confirmed, or a seat offered)."""
        return self.status in self.SEAT_HOLDING

    @holds_seat.inplace.expression
    @classmethod
    def _holds_seat_expression(cls):
        return cls.status.in_(cls.SEAT_HOLDING)

    @hybrid_property
    def is_active(self) -> bool:
        """Not cancelled: a seat, a place on the waiting list, or an offer."""
        return self.status != "cancelled"

    @property
    def calendar_sequence(self) -> int:
        return self.session.sequence + self.sequence


class Preference(db.Model):
    """A ranked workshop choice, for events that allocate from preferences."""

    __tablename__ = "preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column()

    __table_args__ = (
        UniqueConstraint("attendee_id", "session_id"),
        CheckConstraint("rank >= 1", name="rank_positive"),
        Index("ix_preference_session_id", "session_id"),
    )

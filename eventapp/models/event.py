"""The programme: an event, its rooms, speakers and sessions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

EVENT_STATUSES = ("draft", "published", "closed")
SESSION_KINDS = ("plenary", "workshop", "other")
SESSION_STATUSES = ("scheduled", "cancelled")
REGISTRABLE_KINDS = ("plenary", "workshop")
# The languages content can be written in; an event's texts are in its `default_locale`
# (today's columns) and may be given in the other one too (the *_translated columns).
CONTENT_LOCALES = ("nl", "en")


def other_locale(locale: str) -> str:
    """The event's second language: the one its *_translated columns are written in."""
    return next(code for code in CONTENT_LOCALES if code != locale)


class Bilingual:
    """Texts in two languages: a field in the event's own language and `<field>_translated`
    in its other one. A reader sees their language's text, or the other when it is empty
    (docs/ARCHITECTURE.md, "Content in two languages")."""

    def content_locale(self) -> str:
        raise NotImplementedError

    def text_in(self, field: str, locale: str) -> str:
        main = getattr(self, field) or ""
        translated = getattr(self, f"{field}_translated") or ""
        if locale == self.content_locale():
            return main or translated
        return translated or main

    def texts_by_locale(self, field: str) -> dict[str, str]:
        """{"nl": ..., "en": ...} as written (empty where not given): for the API and exports."""
        main = self.content_locale()
        return {
            main: getattr(self, field) or "",
            other_locale(main): getattr(self, f"{field}_translated") or "",
        }


class Event(Bilingual, db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The name and description in the event's other language (other_locale(default_locale)).
    name_translated: Mapped[str] = mapped_column(String(200), default="")
    description_translated: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    default_locale: Mapped[str] = mapped_column(String(8), default="nl")
    organiser_email: Mapped[str] = mapped_column(String(254), default="noreply@eventapp.local")
    # How a freed seat reaches the waiting list: "auto" promotes at once, "offer" asks first.
    promotion_mode: Mapped[str] = mapped_column(String(16), default="auto")
    offer_hours: Mapped[int] = mapped_column(default=24)
    reminder_hours: Mapped[int] = mapped_column(default=24)
    retention_days: Mapped[int | None] = mapped_column()
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "fcfs" (first come, first served) or "preferences" (ranked choices, then an allocation).
    allocation_mode: Mapped[str] = mapped_column(String(16), default="fcfs")
    allocation_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Defences against scripted registrations (docs: SECURITY.md), each on by default:
    # the honeypot field and minimum fill time of the form; successful registrations per
    # client address and per email domain in the last hour (None: no limit).
    bot_challenge: Mapped[bool] = mapped_column(default=True)  # eventapp/bot_challenge.py
    bot_form_checks: Mapped[bool] = mapped_column(default=True)
    max_registrations_per_address: Mapped[int | None] = mapped_column(default=30)
    max_registrations_per_domain: Mapped[int | None] = mapped_column(default=50)
    # "Confirm email before seats are held": a public registration holds its seats for
    # hold_minutes until the link in its email is confirmed (services/registration/holds.py).
    # Off here, so existing events and events built directly keep their behaviour; the
    # organiser form, the API and the demo switch it on for new events (cleaning.py).
    confirm_email_first: Mapped[bool] = mapped_column(default=False)
    hold_minutes: Mapped[int] = mapped_column(default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    rooms: Mapped[list[Room]] = relationship(back_populates="event", order_by="Room.name")
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", order_by="(EventSession.starts_at, EventSession.id)"
    )

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'closed')", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    def content_locale(self) -> str:
        return self.default_locale

    @property
    def translated_locale(self) -> str:
        return other_locale(self.default_locale)

    def name_in(self, locale: str) -> str:
        return self.text_in("name", locale)

    def description_in(self, locale: str) -> str:
        return self.text_in("description", locale)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, instant: datetime) -> datetime:
        """An instant shown in the event's own timezone, whatever the server's."""
        return instant.astimezone(self.tz)

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


class Room(Bilingual, db.Model):
    __tablename__ = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_translated: Mapped[str] = mapped_column(String(120), default="")
    capacity: Mapped[int] = mapped_column()

    event: Mapped[Event] = relationship(back_populates="rooms")

    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    )

    def content_locale(self) -> str:
        return self.event.default_locale

    def name_in(self, locale: str) -> str:
        return self.text_in("name", locale)


session_speakers = Table(
    "session_speaker",
    db.Model.metadata,
    Column("session_id", ForeignKey("event_session.id", ondelete="CASCADE"), primary_key=True),
    Column("speaker_id", ForeignKey("speaker.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_session_speaker_speaker_id", "speaker_id"),
)


class Speaker(db.Model):
    __tablename__ = "speaker"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")

    event: Mapped[Event] = relationship()
    sessions: Mapped[list[EventSession]] = relationship(
        secondary=session_speakers, back_populates="speakers"
    )

    __table_args__ = (UniqueConstraint("event_id", "name"),)


class EventSession(Bilingual, db.Model):
    """A plenary session, workshop or break. Not `Session`, which means the db session."""

    __tablename__ = "event_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="workshop")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # The title and description in the event's other language (Event.translated_locale).
    title_translated: Mapped[str] = mapped_column(String(300), default="")
    description_translated: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(default=0)
    # The counter the capacity guard updates conditionally; equals the confirmed rows.
    seats_taken: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    # Grows with every change attendees' calendars must pick up (RFC 5545 SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    # The UID of the calendar file it was imported from: importing the file again updates
    # this session instead of adding a second one (services/programme/importing.py).
    import_uid: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="sessions")
    room: Mapped[Room | None] = relationship()
    speakers: Mapped[list[Speaker]] = relationship(
        secondary=session_speakers, back_populates="sessions", order_by="Speaker.name"
    )

    __table_args__ = (
        CheckConstraint("kind IN ('plenary', 'workshop', 'other')", name="kind"),
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        # The last line of defence: the database itself refuses an overbooked counter.
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"
        ),
        Index("ix_event_session_event_id_starts_at", "event_id", "starts_at"),
        Index("ix_event_session_room_id", "room_id"),
        UniqueConstraint("event_id", "import_uid"),
    )

    def content_locale(self) -> str:
        return self.event.default_locale

    def title_in(self, locale: str) -> str:
        return self.text_in("title", locale)

    def description_in(self, locale: str) -> str:
        return self.text_in("description", locale)

    @property
    def registrable(self) -> bool:
        return self.kind in REGISTRABLE_KINDS and self.status == "scheduled"

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_left == 0

    @hybrid_method
    def overlaps(self, other) -> bool:
        """Whether the two share a moment: each starts before the other ends, so a session
        that starts as another ends does not overlap it. The one definition of an overlap,
        in Python (`a.overlaps(b)`) and in queries (`EventSession.overlaps(plan)`, or between
        aliases): `other` is anything with `starts_at` and `ends_at`."""
        return (self.starts_at < other.ends_at) & (other.starts_at < self.ends_at)

    def __repr__(self) -> str:
        return f"<EventSession {self.id} {self.title!r}>"

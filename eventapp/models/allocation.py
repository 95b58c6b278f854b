"""The fair workshop allocation: its runs (dry runs and the publication) and priority groups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .attendee import Attendee
from .event import Event, EventSession
from .organiser import Organiser
from .types import UTCDateTime, utcnow

ALLOCATION_RUN_STATUSES = ("dry_run", "published")


class AllocationRun(db.Model):
    """The solver's inputs, seed and result, stored so the allocation can be replayed and
    audited; `status` becomes "published" on the one run whose result was written."""

    __tablename__ = "allocation_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organiser.id", ondelete="SET NULL")
    )
    seed: Mapped[int] = mapped_column(db.BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="dry_run")
    # allocation.quality.audit_record: library versions, workshops, rankings (the inputs).
    inputs: Mapped[dict] = mapped_column(JSON)
    # The optimum's assignments: [{"attendee_id", "round_key", "workshop_id"}, ...].
    result: Mapped[dict] = mapped_column(JSON)
    # allocation.baselines.compare: the optimum and both baselines' AllocationStats.to_dict().
    stats: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    organiser: Mapped[Organiser | None] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('dry_run', 'published')", name="status"),
        Index("ix_allocation_run_event_id_created_at", "event_id", "created_at"),
    )

    def __repr__(self) -> str:
        return f"<AllocationRun {self.id} {self.status}>"


class PriorityGroup(db.Model):
    """Attendees an organiser gives priority in one workshop (speakers' guests, a hub's
    members): those who ranked it get its seats before anyone else (allocation/priority.py).
    Deleting the event or the session deletes the group; deleting a group, its members."""

    __tablename__ = "priority_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()
    session: Mapped[EventSession] = relationship()
    members: Mapped[list[PriorityGroupMember]] = relationship(
        back_populates="group",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PriorityGroupMember.attendee_id",
    )

    __table_args__ = (
        Index("ix_priority_group_event_id", "event_id"),
        # Deleting a session deletes its groups (ON DELETE CASCADE): found by this index.
        Index("ix_priority_group_session_id", "session_id"),
    )

    def __repr__(self) -> str:
        return f"<PriorityGroup {self.id} {self.name!r}>"


class PriorityGroupMember(db.Model):
    """One attendee in a priority group; an attendee is in a group once. Erasing the attendee
    removes them from it."""

    __tablename__ = "priority_group_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("priority_group.id", ondelete="CASCADE"))
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))

    group: Mapped[PriorityGroup] = relationship(back_populates="members")
    attendee: Mapped[Attendee] = relationship()

    __table_args__ = (
        UniqueConstraint("group_id", "attendee_id"),
        Index("ix_priority_group_member_attendee_id", "attendee_id"),
    )

"""An allocation run: one dry run or publication of the fair workshop allocation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event
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

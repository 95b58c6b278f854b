"""One row per periodic job and tick: whoever inserts it runs the job for that tick."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class PeriodicRun(db.Model):
    """The primary key (job, tick) is the lock: on every node `flask periodic` tries to insert
    the row, and only the insert that succeeds runs the job, on SQLite and PostgreSQL alike."""

    __tablename__ = "periodic_run"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Whole PERIODIC_TICK_SECONDS since the epoch: one tick a minute by default.
    tick: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    node: Mapped[str] = mapped_column(String(200))  # host:pid that ran it, for operators
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[int | None] = mapped_column(Integer)  # what the job did (a count)
    error: Mapped[str | None] = mapped_column(Text)

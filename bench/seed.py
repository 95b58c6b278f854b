"""Databases and data for `make bench`: schema by the real migrations, events in bulk.

Everything here runs in the bench process with the app's own models, never through the
server being measured. Seeded data is deterministic (random.Random(seed)).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from bench.baseline_app import BASELINE_TABLE_SQL, READ_ROWS
from eventapp import create_app
from eventapp.extensions import db
from eventapp.models import (
    Attendee,
    Event,
    EventSession,
    OutboxMessage,
    Registration,
    Room,
    Speaker,
    session_speakers,
)
from eventapp.models.types import utcnow
from eventapp.services import links
from eventapp.services.backoffice import demo

SECRET_KEY = "bench-secret-key-not-for-production"
DAY = datetime(2027, 3, 18, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam
ORGANISER_EMAIL = "bench-organiser@example.org"
ORGANISER_PASSWORD = "bench-password-123"


def recreate_postgres_database(server: str, name: str) -> str:
    """Drop and create `name` (it must start with eventapp_bench); return its SQLAlchemy URL."""
    if not name.startswith("eventapp_bench"):
        raise ValueError("bench databases are named eventapp_bench*")
    with psycopg.connect(f"postgresql://{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://{server}/{name}"


def bench_app(database_url: str, instance_path: str) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": SECRET_KEY,
            "SERVER_NAME_FOR_LINKS": "http://127.0.0.1",
            "RATELIMIT_ENABLED": False,
            "MAIL_WORKER_IN_PROCESS": False,
        },
        instance_path=instance_path,
    )


def migrate_and_prepare(app: Flask) -> None:
    """The app's migrations, then the bench-only baseline table (not part of the schema)."""
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(text(BASELINE_TABLE_SQL[db.engine.dialect.name]))
            conn.execute(  # what the read baseline (GET /_bench/read) reads
                text("INSERT INTO bench_baseline (note, created_at) VALUES (:note, :at)"),
                [{"note": f"read {i}", "at": utcnow()} for i in range(READ_ROWS)],
            )
        try:
            from eventapp.services.backoffice import accounts

            accounts.create_organiser(ORGANISER_EMAIL, ORGANISER_PASSWORD, role="admin")
            db.session.commit()
        except Exception:  # noqa: BLE001 - the dashboard is measured only when logins work
            db.session.rollback()


def analyze(db) -> None:
    """Statistics for the planner after seeding, as a production database has them: some
    PostgreSQL servers (this machine's) run without autovacuum, and a freshly seeded table
    without statistics was planned as a nested loop (docs/PERFORMANCE.md, seventh round)."""
    db.session.remove()  # its transaction would hold SQLite's write lock against ANALYZE
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


@dataclass
class SeededEvent:
    slug: str
    event_id: int
    plenary_ids: list[int] = field(default_factory=list)
    rounds: list[list[int]] = field(default_factory=list)
    session_count: int = 0
    attendee_count: int = 0
    feed_token: str | None = None


def _event(slug: str, name: str, days: int) -> Event:
    event = Event(
        slug=slug,
        name=name,
        timezone="Europe/Amsterdam",
        starts_at=DAY,
        ends_at=DAY + timedelta(days=days - 1, hours=10),
        registration_opens_at=datetime(2026, 1, 1, tzinfo=UTC),
        registration_closes_at=DAY - timedelta(days=1),
        status="published",
        venue="Bench Hall",
        default_locale="en",
    )
    db.session.add(event)
    db.session.flush()
    # All the bench's people come from 127.0.0.1 and example.org: no per-address or
    # per-domain cap (an organiser setting against bulk sign-ups). Set after the INSERT,
    # where None is not taken for "the column's default".
    event.max_registrations_per_address = None
    event.max_registrations_per_domain = None
    db.session.flush()
    return event


def _session(event, kind, title, start, minutes, capacity, room=None) -> EventSession:
    session = EventSession(
        event=event,
        kind=kind,
        title=title,
        description=f"{title}: what attendees will learn, who it is for, what to bring.",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        capacity=capacity,
        room=room,
    )
    db.session.add(session)
    return session


def seed_registration_event(
    slug: str,
    *,
    rounds: int,
    per_round: int,
    capacities: list[int],
    plenary_capacity: int,
    seed: int = 1,
) -> SeededEvent:
    """A one-day event: an opening plenary, rounds of parallel workshops, a closing plenary."""
    rng = random.Random(seed)
    event = _event(slug, f"Bench {slug}", days=1)
    opening = _session(event, "plenary", "Opening", DAY, 60, plenary_capacity)
    closing = _session(event, "plenary", "Closing", DAY + timedelta(hours=9), 45, plenary_capacity)
    round_sessions = []
    for r in range(rounds):
        start = DAY + timedelta(hours=1, minutes=55 * r)
        round_sessions.append(
            [
                _session(
                    event,
                    "workshop",
                    f"Workshop {r + 1}.{w + 1}",
                    start,
                    50,
                    rng.choice(capacities),
                )
                for w in range(per_round)
            ]
        )
    db.session.commit()
    return SeededEvent(
        slug=slug,
        event_id=event.id,
        plenary_ids=[opening.id, closing.id],
        rounds=[[s.id for s in sessions] for sessions in round_sessions],
        session_count=2 + rounds * per_round,
    )


def seed_programme_event(
    slug: str,
    *,
    days: int,
    rounds_per_day: int,
    per_round: int,
    attendees: int,
    workshops_each: int,
    seed: int = 2,
) -> SeededEvent:
    """A multi-day programme with rooms, speakers and `attendees` registered in bulk.

    Each attendee holds the first day's plenary and `workshops_each` workshops in different
    rounds: confirmed while seats last, waitlisted after. Counters match the rows.
    """
    rng = random.Random(seed)
    event = _event(slug, f"Bench {slug}", days=days)
    rooms = [
        Room(event=event, name=f"Room {i + 1}", capacity=rng.choice([30, 40, 60, 80]))
        for i in range(per_round)
    ]
    speakers = [
        Speaker(event=event, name=f"Speaker {i + 1}", organisation=f"Org {i % 37}")
        for i in range(max(20, days * rounds_per_day * per_round // 2))
    ]
    db.session.add_all(rooms + speakers)
    plenaries, workshops = [], []
    for day in range(days):
        base = DAY + timedelta(days=day)
        plenaries.append(
            _session(event, "plenary", f"Day {day + 1} keynote", base, 60, attendees + 10)
        )
        for r in range(rounds_per_day):
            start = base + timedelta(hours=1, minutes=45 * r)
            workshops.append(
                [
                    _session(
                        event,
                        "workshop",
                        f"Day {day + 1} round {r + 1} track {w + 1}",
                        start,
                        40,
                        rooms[w].capacity,
                        room=rooms[w],
                    )
                    for w in range(per_round)
                ]
            )
    db.session.flush()
    all_sessions = plenaries + [s for r in workshops for s in r]
    db.session.execute(
        insert(session_speakers),
        [
            {"session_id": s.id, "speaker_id": sp.id}
            for s in all_sessions
            for sp in rng.sample(speakers, rng.choice([1, 1, 2]))
        ],
    )
    db.session.commit()

    feed_token = _bulk_attendees(event, attendees, rng, plenaries[0], workshops, workshops_each)
    return SeededEvent(
        slug=slug,
        event_id=event.id,
        plenary_ids=[s.id for s in plenaries],
        rounds=[[s.id for s in r] for r in workshops],
        session_count=len(all_sessions),
        attendee_count=attendees,
        feed_token=feed_token,
    )


def _bulk_attendees(event, count, rng, plenary, rounds, workshops_each) -> str | None:
    """Insert attendees and registrations in bulk; return the first attendee's feed token."""
    if not count:
        return None
    now = datetime(2026, 12, 1, tzinfo=UTC)
    rows = []
    first_feed_token = None
    for i in range(count):
        nonce, feed_nonce = _nonce(event.slug, "m", i), _nonce(event.slug, "f", i)
        manage = links.derive_token("manage", nonce, SECRET_KEY)
        feed = links.derive_token("feed", feed_nonce, SECRET_KEY)
        first_feed_token = first_feed_token or feed
        email = f"attendee{i}@{event.slug}.example.org"
        rows.append(
            {
                "event_id": event.id,
                "reference": f"{event.id:03d}{i:07d}"[-12:],
                "name": f"Attendee {i}",
                "email": email,
                "email_normalized": email,
                "organisation": f"Company {i % 400}",
                "locale": "en",
                "token_hash": links.hash_token(manage),
                "token_nonce": nonce,
                "feed_token_hash": links.hash_token(feed),
                "feed_nonce": feed_nonce,
                "checkin_code": f"C{event.id:03d}{i:07d}"[-12:],
                "consent_at": now,
                "consent_text": "bench",
                "created_at": now + timedelta(seconds=i),
            }
        )
    for chunk in range(0, len(rows), 1000):
        db.session.execute(insert(Attendee), rows[chunk : chunk + 1000])
    ids = list(
        db.session.scalars(
            select(Attendee.id).where(Attendee.event_id == event.id).order_by(Attendee.id)
        )
    )

    taken: dict[int, int] = {}
    capacity = {s.id: s.capacity for r in rounds for s in r} | {plenary.id: plenary.capacity}
    registrations = []
    for n, attendee_id in enumerate(ids):
        picks = [plenary.id] + [
            rng.choice(r).id for r in rng.sample(rounds, min(workshops_each, len(rounds)))
        ]
        for session_id in picks:
            confirmed = taken.get(session_id, 0) < capacity[session_id]
            if confirmed:
                taken[session_id] = taken.get(session_id, 0) + 1
            registrations.append(
                {
                    "attendee_id": attendee_id,
                    "session_id": session_id,
                    "status": "confirmed" if confirmed else "waitlisted",
                    "waitlisted_at": None if confirmed else now + timedelta(seconds=n),
                    "created_at": now + timedelta(seconds=n),
                }
            )
    for chunk in range(0, len(registrations), 2000):
        db.session.execute(insert(Registration), registrations[chunk : chunk + 2000])
    for session_id, seats in taken.items():
        db.session.execute(
            EventSession.__table__.update()
            .where(EventSession.id == session_id)
            .values(seats_taken=seats)
        )
    db.session.commit()
    return first_feed_token


def _nonce(slug: str, purpose: str, index: int) -> str:
    return hashlib.sha256(f"{slug}:{purpose}:{index}".encode()).hexdigest()


def seed_opening_event(slug: str, people: int) -> SeededEvent:
    """The opening minute's event: two plenaries with a seat for everyone and 7 rounds of
    4 small workshops (12-40 seats)."""
    return seed_registration_event(
        slug,
        rounds=7,
        per_round=4,
        capacities=[12, 16, 20, 24, 30, 40],
        plenary_capacity=people + 100,
    )


def seed_demo_event() -> SeededEvent:
    """The demo event (`flask demo`, 23 sessions) without registrations: what the issue's
    figures for the public pages were measured on."""
    event, _created = demo.load_demo_event()
    db.session.commit()
    sessions = sorted(event.sessions, key=lambda s: (s.starts_at, s.id))
    workshops = [s for s in sessions if s.kind == "workshop"]
    return SeededEvent(
        slug=event.slug,
        event_id=event.id,
        plenary_ids=[s.id for s in sessions if s.kind == "plenary"],
        rounds=[[s.id for s in workshops]],
        session_count=len(sessions),
    )


def reconcile(event_id: int) -> dict:
    """Counters against rows: every session's seats_taken must equal its confirmed rows."""
    confirmed = dict(
        db.session.execute(
            select(Registration.session_id, func.count())
            .join(EventSession, EventSession.id == Registration.session_id)
            .where(EventSession.event_id == event_id, Registration.status == "confirmed")
            .group_by(Registration.session_id)
        ).all()
    )
    sessions = db.session.execute(
        select(EventSession.id, EventSession.seats_taken, EventSession.capacity).where(
            EventSession.event_id == event_id
        )
    ).all()
    mismatched = [s.id for s in sessions if s.seats_taken != confirmed.get(s.id, 0)]
    overbooked = [s.id for s in sessions if confirmed.get(s.id, 0) > s.capacity]
    by_status = dict(
        db.session.execute(
            select(Registration.status, func.count())
            .join(Attendee, Attendee.id == Registration.attendee_id)
            .where(Attendee.event_id == event_id)
            .group_by(Registration.status)
        ).all()
    )
    attendees = db.session.scalar(
        select(func.count()).select_from(Attendee).where(Attendee.event_id == event_id)
    )
    outbox = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.event_id == event_id, OutboxMessage.kind == "confirmation")
    )
    full = sum(1 for s in sessions if confirmed.get(s.id, 0) >= s.capacity)
    return {
        "sessions": len(sessions),
        "full_sessions": full,
        "attendees": attendees,
        "registrations": by_status,
        "confirmation_emails_queued": outbox,
        "counter_mismatches": mismatched,
        "overbooked_sessions": overbooked,
    }

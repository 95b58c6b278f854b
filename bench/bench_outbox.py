"""Benchmark: how fast the outbox goes out, with 1, 2 and 4 workers sharing it.

Seeds a PostgreSQL database with an event of 2,000 attendees (each with the plenary and two
workshops) and one pending confirmation each, then, for each worker count, puts all 2,000
back to pending and starts that many `flask --app eventapp mail send` processes at once
against a local aiosmtpd server (on loopback, in this process). It reports the wall time
until every message is sent, messages per second, and what the server received: every
Message-ID once (several workers never send the same row twice; they share the outbox with
FOR UPDATE SKIP LOCKED). Prints what it measured; asserts no timings.

    python bench/bench_outbox.py [--messages 2000] [--workers 1,2,4] [--pg-server ...]

`make bench` runs it after bench/run.py; `make bench-outbox` runs it alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import func, insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import seed  # noqa: E402  (bench/seed.py, beside this file)

from eventapp.extensions import db  # noqa: E402
from eventapp.models import Attendee, OutboxMessage, Registration  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class CountingHandler:
    """Keeps only each message's Message-ID: enough to count and to find duplicates."""

    def __init__(self):
        self.ids: Counter[bytes] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
        found = MESSAGE_ID.search(envelope.original_content or b"")
        with self.lock:
            self.ids[found.group(1) if found else b"?"] += 1
        return "250 OK"


def seed_outbox(app, messages: int) -> int:
    """An event with `messages` attendees and a pending confirmation for each."""
    with app.app_context():
        seeded = seed.seed_programme_event(
            "outbox-bench",
            days=1,
            rounds_per_day=3,
            per_round=6,
            attendees=messages,
            workshops_each=2,
        )
        held: dict[int, list[int]] = {}
        for attendee_id, session_id in db.session.execute(
            select(Registration.attendee_id, Registration.session_id).where(
                Registration.status == "confirmed"
            )
        ):
            held.setdefault(attendee_id, []).append(session_id)
        attendees = db.session.execute(
            select(Attendee.id, Attendee.email).where(Attendee.event_id == seeded.event_id)
        ).all()
        past = datetime(2026, 1, 1, tzinfo=UTC)
        rows = [
            {
                "kind": "confirmation",
                "event_id": seeded.event_id,
                "attendee_id": attendee_id,
                "recipient": email,
                "locale": "en",
                "payload": {"session_ids": held.get(attendee_id, [])},
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": past,
                "created_at": past,
            }
            for attendee_id, email in attendees
        ]
        for chunk in range(0, len(rows), 1000):
            db.session.execute(insert(OutboxMessage), rows[chunk : chunk + 1000])
        db.session.commit()
        return len(rows)


def reset_outbox(app) -> None:
    with app.app_context():
        db.session.execute(
            update(OutboxMessage).values(
                status="pending",
                attempts=0,
                claimed_until=None,
                sent_at=None,
                message_id=None,
                last_error=None,
                next_attempt_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        db.session.commit()


def not_sent(app) -> int:
    with app.app_context():
        db.session.expire_all()
        return db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )


def run_workers(count: int, env: dict, outdir: Path) -> tuple[float, list[int]]:
    """Start `count` one-shot workers at once; the seconds until the last has finished."""
    started = time.monotonic()
    processes = []
    for n in range(count):
        log = open(outdir / f"worker-{count}-{n}.log", "wb")  # noqa: SIM115  (closed below)
        processes.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "eventapp", "mail", "send"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    codes = []
    for process, log in processes:
        codes.append(process.wait(timeout=600))
        log.close()
    return time.monotonic() - started, codes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--pg-server", default=os.environ.get("BENCH_PG_SERVER", "postgres@127.0.0.1:5432")
    )
    parser.add_argument("--pg-database", default="eventapp_bench_outbox")
    parser.add_argument("--batch-size", type=int, default=None, help="OUTBOX_BATCH_SIZE")
    args = parser.parse_args(argv)

    outdir = Path(tempfile.mkdtemp(prefix="eventapp-bench-outbox-"))
    url = seed.recreate_postgres_database(args.pg_server, args.pg_database)
    app = seed.bench_app(url, str(outdir / "instance"))
    print(f"seeding {args.messages} confirmations in {args.pg_database} ...", flush=True)
    seed.migrate_and_prepare(app)
    total = seed_outbox(app, args.messages)

    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=seed_free_port())
    controller.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")} | {
        "FLASK_SQLALCHEMY_DATABASE_URI": url,
        "FLASK_SECRET_KEY": seed.SECRET_KEY,
        "FLASK_SERVER_NAME_FOR_LINKS": "http://127.0.0.1",
        "FLASK_MAIL_SERVER": "127.0.0.1",
        "FLASK_MAIL_PORT": str(controller.port),
        "EVENTAPP_INSTANCE_PATH": str(outdir / "instance"),
    }
    if args.batch_size:
        env["FLASK_OUTBOX_BATCH_SIZE"] = str(args.batch_size)
    results = []
    try:
        for count in [int(w) for w in args.workers.split(",")]:
            reset_outbox(app)
            handler.ids.clear()
            seconds, codes = run_workers(count, env, outdir)
            received = sum(handler.ids.values())
            results.append(
                {
                    "workers": count,
                    "seconds": seconds,
                    "rate": total / seconds,
                    "received": received,
                    "distinct": len(handler.ids),
                    "twice": sum(1 for n in handler.ids.values() if n > 1),
                    "left": not_sent(app),
                    "exit": max(codes),
                }
            )
            print(f"  {count} worker(s): {seconds:.1f}s", flush=True)
    finally:
        controller.stop()
        with app.app_context():
            db.engine.dispose()

    print()
    print(f"## Outbox: {total} confirmations to aiosmtpd on loopback (PostgreSQL)")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    print(
        "| workers | seconds | messages/s | received | distinct Message-IDs "
        "| sent twice | not sent |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['workers']} | {r['seconds']:.1f} | {r['rate']:.0f} | {r['received']} "
            f"| {r['distinct']} | {r['twice']} | {r['left']} |"
        )
    best = min(results, key=lambda r: r["seconds"])
    print()
    print(
        f"best: {best['workers']} worker(s), {total} in {best['seconds']:.1f}s "
        f"(target: under 30s); logs in {outdir}"
    )
    return 0 if all(r["exit"] == 0 for r in results) else 1


def seed_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    raise SystemExit(main())

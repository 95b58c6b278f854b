"""Benchmark: CPU time and SQL statements per outbox email, this checkout against another
revision, side by side in one run.

On a shared, noisy machine wall-clock rates say little; the CPU time a worker process spends
per email, and the statements it sends, compare two versions of the code fairly when they
are measured in turns on the same database. Seeds N pending confirmations (as
bench_outbox.py does) once, then for each round and each tree runs one in-process
`send_pending()` in a fresh Python process against a local aiosmtpd, and prints the median
CPU ms/email (of the worker's thread, not the mail server's), wall ms/email and
statements/email per tree.

    python bench/outbox_cpu.py [--messages 300] [--rounds 3] [--baseline REV]

`--baseline` is any git revision (default: main); it is exported with `git archive` into a
temporary folder. `make bench-outbox-cpu` runs it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import export_revision

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "eventapp_bench_outbox_cpu"


def measure(tree: str, url: str, instance: str) -> dict:
    """In this process: send every pending row once with the code of `tree`."""
    sys.path[:0] = [tree, str(ROOT / "bench"), str(ROOT)]
    # eventapp from `tree`, before bench_outbox puts this checkout first on the path.
    eventapp = importlib.import_module("eventapp")
    import bench_outbox
    import seed
    from aiosmtpd.controller import Controller

    from eventapp.extensions import db
    from eventapp.services.mail.worker import send_pending
    from tests.query_counter import QueryCounter

    handler = bench_outbox.CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=bench_outbox.seed_free_port())
    controller.start()
    try:
        app = seed.bench_app(url, instance)
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
        bench_outbox.reset_outbox(app)
        with app.app_context(), QueryCounter(db.engine) as counter:
            # The worker's thread only: aiosmtpd runs in a thread of this process too.
            wall, cpu = time.perf_counter(), time.thread_time()
            report = send_pending()
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    finally:
        controller.stop()
    sent = max(report.sent, 1)
    return {
        "sent": report.sent,
        "received": sum(handler.ids.values()),
        "cpu_ms": 1000 * cpu / sent,
        "wall_ms": 1000 * wall / sent,
        "statements": counter.count / sent,
        "code": str(Path(eventapp.__file__).parent.parent),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default="main")
    parser.add_argument(
        "--pg-server", default=os.environ.get("BENCH_PG_SERVER", "postgres@127.0.0.1:5432")
    )
    parser.add_argument(
        "--measure", nargs=3, metavar=("TREE", "URL", "INSTANCE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0

    sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
    import bench_outbox
    import seed

    instance = tempfile.mkdtemp(prefix="eventapp-bench-cpu-")
    url = seed.recreate_postgres_database(args.pg_server, DATABASE)
    app = seed.bench_app(url, instance)
    seed.migrate_and_prepare(app)
    total = bench_outbox.seed_outbox(app, args.messages)
    trees = {
        f"baseline ({args.baseline})": export_revision(args.baseline),
        "this checkout": str(ROOT),
    }
    results: dict[str, list[dict]] = {name: [] for name in trees}
    for round_number in range(args.rounds):
        for name, tree in trees.items():
            run = subprocess.run(
                [sys.executable, __file__, "--measure", tree, url, instance],
                cwd=tree,
                check=True,
                capture_output=True,
                text=True,
            )
            results[name].append(json.loads(run.stdout.strip().splitlines()[-1]))
            print(f"  round {round_number + 1}, {name}: {results[name][-1]}", flush=True)

    print()
    print(f"## Outbox CPU per email: {total} confirmations, median of {args.rounds} rounds")
    print()
    print("| code | CPU ms/email | wall ms/email | statements/email | sent |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in results.items():
        print(
            f"| {name} | {statistics.median(r['cpu_ms'] for r in runs):.1f} "
            f"| {statistics.median(r['wall_ms'] for r in runs):.1f} "
            f"| {statistics.median(r['statements'] for r in runs):.2f} "
            f"| {min(r['sent'] for r in runs)} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

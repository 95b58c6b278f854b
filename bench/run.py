"""`make bench`: the app under gunicorn on loopback, loaded by locust, on PostgreSQL and SQLite.

For each database it creates a fresh database (PostgreSQL: eventapp_bench, dropped and
created; SQLite: a file in a temporary folder), migrates it with the app's migrations, adds
the bench-only baseline table, seeds the events below in bulk, then starts gunicorn
(gunicorn.conf.py) on the bench's own entry point, bench/wsgi_bench.py (the app plus the
baseline endpoints of bench/baseline_app.py), with FLASK_RATELIMIT_ENABLED=false, and runs
locust headless against it, one scenario at a time:

1. throughput: registration (POST /api/v1/events/<slug>/registrations) against the baseline
   (POST /_bench/baseline, one INSERT) at 1, 16 and 64 concurrent clients, side by side, and
   with them a registration's SQL alone (POST /_bench/registration-sql/<slug>: the same
   statements through the raw driver, no rules, no ORM), the most any registration code
   could reach here;
2. opening burst: N people register at once for an event of 30 sessions with small
   workshops; a full workshop sends them to its waiting list; counters reconciled after;
3. pages: the programme page and registration form and the organiser dashboard of an event
   with 200 sessions and 5,000 attendees: time and SQL queries per request (the server
   reports its query count in X-SQL-Queries in bench mode);
   public: the programme page, the registration form and a session page of the demo event
   (23 sessions) and of the 200-session event at 1, 16 and 64 clients, side by side with the
   read baseline (GET /_bench/read, 20 rows as JSON), and their ratios to it;
   opening: the opening minute through the pages: N people, 64 at a time, each loads the
   programme, loads the form, sends it and loads the confirmation; people per second and its
   ratio to the read baseline, p95 per step, counters reconciled after;
4. calendar: the full-programme ICS feed of a 500-session event and a personal feed;
5. outbox: `flask mail send` delivering the burst's confirmations to a local aiosmtpd.

Everything is bounded (locust --run-time, a fixed count for the burst, subprocess
timeouts) and stays on 127.0.0.1. It prints what it measured and asserts nothing; the
report is also written to bench/results/. Absolute numbers on a shared machine are noisy:
read the ratios, which are measured side by side in the same run.

    python bench/run.py [--quick] [--databases postgresql,sqlite] [--pg-server HOST]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
SCENARIOS = ("throughput", "burst", "pages", "public", "opening", "calendar", "outbox")
# The targets (issue 21), printed against what was measured.
PAGE_TARGET = 0.5  # programme page and form, at 16 clients, of the read baseline
OPENING_TARGET = 0.2  # people per second in the opening minute, of the read baseline


@dataclass
class Sizes:
    seconds: int = 8  # at least this long per throughput or page run ...
    max_seconds: int = 60  # ... and at most this long, even if the minimum count is not met
    clients: tuple = (1, 16, 64)
    burst_total: int = 2000
    burst_clients: int = 64
    page_seconds: int = 6
    programme_attendees: int = 5000
    outbox_total: int = 2000
    opening_total: int = 2000
    opening_clients: int = 64

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            seconds=3,
            max_seconds=25,
            burst_total=500,
            page_seconds=3,
            programme_attendees=1000,
            outbox_total=500,
            opening_total=500,
        )


# ---------------------------------------------------------------- the server under test


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with gunicorn.conf.py, in its own process group so it stops as a whole."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        workers: int,
        threads: int,
        cache_redis_url: str | None = None,
    ):
        self.port = free_port()
        self.workers = workers
        # A PostgreSQL backend's title names its database ("postgres: user db host ...").
        self.database_name = database_url.rsplit("/", 1)[-1] if "postgresql" in database_url else ""
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "FLASK_SECRET_KEY": "bench-secret-key-not-for-production",
            "FLASK_SERVER_NAME_FOR_LINKS": "http://127.0.0.1",
            "FLASK_RATELIMIT_ENABLED": "false",
            "FLASK_MAIL_WORKER_IN_PROCESS": "false",
            "FLASK_SQLALCHEMY_ENGINE_OPTIONS__pool_size": str(threads + 1),
            "FLASK_SQLALCHEMY_ENGINE_OPTIONS__max_overflow": "2",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
            "GUNICORN_ACCESSLOG": "",
            "GUNICORN_LOGLEVEL": "warning",
            "GUNICORN_MAX_REQUESTS": "0",
            "GUNICORN_BACKLOG": "2048",
            # The opening minute sends the form at once, without solving the proof-of-work
            # (the client's CPU, not the server's): the bench measures the server.
            "FLASK_REGISTRATION_MIN_FILL_SECONDS": "0",
            "FLASK_BOT_CHALLENGE_ENABLED": "false",
        }
        # The shared pages' cache (eventapp/page_cache.py): one Redis for every worker, as in
        # production; without one each worker keeps its own copies.
        if cache_redis_url:
            self.env["FLASK_CACHE_REDIS_URL"] = cache_redis_url
            self.env["FLASK_CACHE_KEY_PREFIX"] = f"eventapp-bench-{self.port}:"
        self.cache = "Redis" if cache_redis_url else "each worker's memory"
        self.cache_redis_url = cache_redis_url
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        log = open(self.log_path, "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "bench.wsgi_bench:app"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/events", timeout=2):  # noqa: S310
                    return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer in 60 s; see {self.log_path}")

    def __exit__(self, *_exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.cache_redis_url:  # the pages this server stored, and nothing else
            import redis

            keys = redis.Redis.from_url(self.cache_redis_url)
            prefix = self.env["FLASK_CACHE_KEY_PREFIX"]
            for key in keys.scan_iter(match=prefix + "*"):
                keys.delete(key)


# ---------------------------------------------------------------- the load generator


def run_locust(
    server: Server,
    user_class: str,
    users: int,
    seconds: int,
    name: str,
    env: dict,
    outdir: Path,
    *,
    min_requests: int = 0,
    min_seconds: float = 0,
) -> dict:
    """One headless locust run, at most `seconds` long (and, for users that support it,
    until both `min_requests` and `min_seconds` are reached); the stats and status counts."""
    env = env | {"BENCH_MIN_REQUESTS": min_requests, "BENCH_MIN_SECONDS": min_seconds}
    prefix = outdir / name
    counts = outdir / f"{name}-counts.json"
    cmd = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--host",
        server.url,
        user_class,
    ]
    run_env = os.environ | {k: str(v) for k, v in env.items()} | {"BENCH_OUT": str(counts)}
    cpu_before = cpu_seconds(server)
    completed = subprocess.run(
        cmd, env=run_env, capture_output=True, text=True, timeout=seconds + 120
    )
    cpu = {part: cpu_seconds(server)[part] - used for part, used in cpu_before.items()}
    (outdir / f"{name}-locust.log").write_text(completed.stdout + completed.stderr)
    rows = {}
    stats_file = Path(f"{prefix}_stats.csv")
    if stats_file.exists():
        with stats_file.open() as handle:
            rows = {row["Name"]: row for row in csv.DictReader(handle)}
    extra = json.loads(counts.read_text()) if counts.exists() else {}
    if "cpu_seconds" in extra:  # measured by locust itself from the test's start: its own
        cpu["load generator"] = extra.pop("cpu_seconds")  # start-up is not the server's cost
    return {"rows": rows, "cpu": cpu, **extra}


def cpu_seconds(server: Server) -> dict[str, float]:
    """CPU time used so far (user + system) by the server's processes (gunicorn's process
    group), by the PostgreSQL backends serving the bench database, by PostgreSQL's other
    processes (WAL writer, checkpointer, autovacuum: work the writes cause later) and by
    finished child processes (locust once it has exited; run_locust prefers what locust
    measured of itself, without its start-up): the difference over a run is where that
    run's CPU went."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "database": 0.0, "database background": 0.0}
    group = server.process.pid if server.process else None
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            text = (proc / "stat").read_text()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # the process has gone
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        if group is not None and int(fields[2]) == group:  # the process group
            used["server"] += seconds
        elif (
            name.startswith("postgres")
            and server.database_name
            and f" {server.database_name} " in command
        ):
            used["database"] += seconds
        elif name.startswith("postgres"):
            used["database background"] += seconds
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["load generator"] = children.ru_utime + children.ru_stime
    return used


def stat(result: dict, name: str) -> dict:
    row = result["rows"].get(name)
    if not row or not int(row["Request Count"]):
        return {"requests": 0}
    count = int(row["Request Count"])
    return {
        # CPU milliseconds per request, by who spent them (run_locust, cpu_seconds).
        "cpu_ms": {part: 1000 * used / count for part, used in result.get("cpu", {}).items()},
        "requests": count,
        "failures": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "mean": float(row["Average Response Time"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
    }


def server_errors(result: dict) -> int:
    return sum(n for code, n in result.get("statuses", {}).items() if code.startswith("5"))


# ---------------------------------------------------------------- probes (not load)


def probe(server: Server, path: str, login: tuple[str, str] | None = None) -> dict:
    """One request: its status, the server's SQL query count (X-SQL-Queries) and the bytes
    sent, asking for gzip as browsers and the load generator do."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    if login:
        _login(opener, server, *login)
    asked = urllib.request.Request(server.url + path, headers={"Accept-Encoding": "gzip"})  # noqa: S310 - http://127.0.0.1 only
    try:
        with opener.open(asked, timeout=60) as response:
            body = response.read()
            return {
                "status": response.status,
                "queries": response.headers.get("X-SQL-Queries"),
                "bytes": len(body),
                "url": response.url,
            }
    except urllib.error.HTTPError as error:
        return {
            "status": error.code,
            "queries": error.headers.get("X-SQL-Queries"),
            "bytes": 0,
            "url": path,
        }


def warm_up(server: Server, path: str, times: int, *, method="GET", login=None) -> None:
    """A few requests first, so every worker has built its templates and connections."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    if login:
        _login(opener, server, *login)
    for _ in range(times):
        data = b"{}" if method == "POST" else None
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            server.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with contextlib.suppress(urllib.error.HTTPError):
            opener.open(request, timeout=120).read()


def _login(opener, server: Server, email: str, password: str) -> None:
    import urllib.parse

    try:
        with opener.open(server.url + "/organiser/login", timeout=30) as response:
            page = response.read().decode()
    except urllib.error.HTTPError:
        return  # no login page (yet): the dashboard probe will show its status
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    data = urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": match.group(1) if match else ""}
    ).encode()
    with contextlib.suppress(urllib.error.HTTPError):
        opener.open(server.url + "/organiser/login", data=data, timeout=30).read()


def signed_in_cookie(server: Server, email: str, password: str) -> str:
    """The Cookie header of a browser signed in as this organiser."""
    jar = CookieJar()
    _login(
        urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)),
        server,
        email,
        password,
    )
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


# ---------------------------------------------------------------- scenarios


# Run one after the other at each client count, so the three are measured side by side.
# registration-sql: a registration's SQL and nothing else (baseline_app.registration_sql),
# the most any registration code could reach in this app and server.
THROUGHPUT_RUNS = (
    ("baseline", "BaselineUser"),
    ("register", "RegisterUser"),
    ("registration-sql", "RegistrationSqlUser"),
)


def _ratio(run: dict, baseline: dict) -> float | None:
    return run.get("rps", 0) / baseline["rps"] if baseline.get("rps") else None


def scenario_throughput(server, seeded, sizes, outdir) -> list[dict]:
    rows = []
    env = {
        "BENCH_SLUG": seeded.slug,
        "BENCH_PLENARIES": json.dumps(seeded.plenary_ids[:1]),
        "BENCH_ROUNDS": json.dumps(seeded.rounds),
    }
    warm_up(server, "/_bench/baseline", 2 * server.workers, method="POST")
    for users in sizes.clients:
        budget = {"min_requests": max(20, 3 * users), "min_seconds": sizes.seconds}
        results = {
            name: run_locust(
                server,
                user_class,
                users,
                sizes.max_seconds,
                f"{name}-{users}",
                {} if name == "baseline" else env,
                outdir,
                **budget,
            )
            for name, user_class in THROUGHPUT_RUNS
        }
        runs = {name: stat(result, name) for name, result in results.items()}
        rows.append(
            {
                "clients": users,
                **runs,
                "ratio": _ratio(runs["register"], runs["baseline"]),
                "sql_alone_ratio": _ratio(runs["registration-sql"], runs["baseline"]),
                "server_errors": sum(server_errors(result) for result in results.values()),
                "register_statuses": results["register"].get("statuses", {}),
            }
        )
    return rows


def scenario_burst(server, seeded, sizes, outdir) -> dict:
    env = {
        "BENCH_SLUG": seeded.slug,
        "BENCH_PLENARIES": json.dumps(seeded.plenary_ids),
        "BENCH_ROUNDS": json.dumps(seeded.rounds),
        "BENCH_TOTAL": sizes.burst_total,
    }
    started = time.monotonic()
    result = run_locust(server, "BurstUser", sizes.burst_clients, 600, "burst", env, outdir)
    return {
        "wall_seconds": time.monotonic() - started,
        "first": stat(result, "burst"),
        "waitlist": stat(result, "burst (waitlist)"),
        "outcomes": result.get("outcomes"),
        "statuses": result.get("statuses"),
        "elapsed": result.get("elapsed"),
        "server_errors": server_errors(result),
    }


def scenario_pages(
    server, pages: list[tuple[str, str, str | None]], sizes, outdir, login=None
) -> list[dict]:
    rows = []
    for label, path, needs_login in pages:
        first = probe(server, path, login if needs_login else None)
        if first["status"] == 200:
            warm_up(server, path, 2 * server.workers, login=login if needs_login else None)
            # Once warm (a cache may answer), the count a visitor's request really costs.
            first = probe(server, path, login if needs_login else None) | {"cold": first}
        row = {
            "page": label,
            "path": path,
            "status": first["status"],
            "queries": first["queries"],
            "cold_queries": first.get("cold", first)["queries"],
            "bytes": first["bytes"],
        }
        if first["status"] == 200:
            env = {"BENCH_PATH": path}
            if needs_login and login:
                # Signed in once, here: every user sends the same session cookie, so no
                # sign-in runs inside the measured time (and none in a burst, which the
                # login refuses).
                env["BENCH_COOKIE"] = signed_in_cookie(server, *login)
            one = run_locust(
                server,
                "PageUser",
                1,
                sizes.max_seconds,
                f"page-{label}-1",
                env,
                outdir,
                min_requests=10,
                min_seconds=sizes.page_seconds,
            )
            many = run_locust(
                server,
                "PageUser",
                16,
                sizes.max_seconds,
                f"page-{label}-16",
                env,
                outdir,
                min_requests=48,
                min_seconds=sizes.page_seconds,
            )
            row |= {
                "one_client": stat(one, "page"),
                "sixteen_clients": stat(many, "page"),
                "server_errors": server_errors(one) + server_errors(many),
            }
        rows.append(row)
    return rows


def scenario_public(server, events: list, sizes, outdir) -> list[dict]:
    """The public pages at 1, 16 and 64 clients, each client count with the read baseline
    right before, so the ratios are measured side by side. `events`: (label, slug, a
    session id) each."""
    rows = []
    pages = [
        (label, page, path)
        for label, slug, session_id in events
        for page, path in (
            ("programme", f"/events/{slug}/"),
            ("register form", f"/events/{slug}/register"),
            ("session page", f"/events/{slug}/sessions/{session_id}"),
        )
    ]
    warm_up(server, "/_bench/read", 2 * server.workers)
    for _label, _page, path in pages:
        warm_up(server, path, 2 * server.workers)
    for users in sizes.clients:
        budget = {"min_requests": max(20, 3 * users), "min_seconds": sizes.seconds}
        read = run_locust(
            server, "ReadUser", users, sizes.max_seconds, f"read-{users}", {}, outdir, **budget
        )
        baseline = stat(read, "read")
        for label, page, path in pages:
            name = re.sub(r"[^a-z0-9]+", "-", f"{label}-{page}-{users}".lower())
            result = run_locust(
                server,
                "PageUser",
                users,
                sizes.max_seconds,
                name,
                {"BENCH_PATH": path},
                outdir,
                **budget,
            )
            run = stat(result, "page")
            warm = probe(server, path)
            rows.append(
                {
                    "event": label,
                    "page": page,
                    "clients": users,
                    "page_stat": run,
                    "read": baseline,
                    "ratio": _ratio(run, baseline),
                    "queries": warm["queries"],
                    "bytes": warm["bytes"],
                    "server_errors": server_errors(result) + server_errors(read),
                }
            )
    return rows


def scenario_opening(server, seeded, sizes, outdir) -> dict:
    """The opening minute through the pages, with the read baseline at the same number of
    clients right before it."""
    users = sizes.opening_clients
    read = run_locust(
        server,
        "ReadUser",
        users,
        sizes.max_seconds,
        f"opening-read-{users}",
        {},
        outdir,
        min_requests=3 * users,
        min_seconds=sizes.seconds,
    )
    env = {"BENCH_SLUG": seeded.slug, "BENCH_TOTAL": sizes.opening_total}
    warm_up(server, f"/events/{seeded.slug}/", 2 * server.workers)
    started = time.monotonic()
    result = run_locust(server, "OpeningUser", users, 900, "opening", env, outdir)
    elapsed = result.get("elapsed") or time.monotonic() - started
    people_per_second = sizes.opening_total / elapsed if elapsed else 0
    baseline = stat(read, "read")
    return {
        "people": sizes.opening_total,
        "clients": users,
        "seconds": elapsed,
        "people_per_second": people_per_second,
        "read": baseline,
        "ratio": people_per_second / baseline["rps"] if baseline.get("rps") else None,
        "steps": {
            step: stat(result, f"open: {step}")
            for step in ("programme", "form", "register", "confirmation")
        },
        "outcomes": result.get("outcomes"),
        "statuses": result.get("statuses"),
        "server_errors": server_errors(result) + server_errors(read),
    }


class _CountingHandler:
    def __init__(self):
        self.messages = 0
        self.connections = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages += 1
        return "250 Message accepted for delivery"


def scenario_outbox(app, database_url, burst_event_id, total, outdir) -> dict:
    """Deliver `total` pending confirmations with `flask mail send` to a local aiosmtpd."""
    from aiosmtpd.controller import Controller
    from sqlalchemy import func, select, update

    from eventapp.extensions import db
    from eventapp.models import OutboxMessage

    help_run = subprocess.run(
        [str(BIN / "flask"), "--app", "eventapp", "mail", "send", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if help_run.returncode != 0:
        return {"skipped": "no `flask mail send` command yet (the mail worker has not landed)"}
    with app.app_context():
        keep = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.event_id == burst_event_id,
                OutboxMessage.kind == "confirmation",
                OutboxMessage.status == "pending",
            )
            .order_by(OutboxMessage.id)
            .limit(total)
        )
        keep_ids = list(db.session.scalars(keep))
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.id.not_in(keep_ids))
            .values(status="sent")
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        pending = len(keep_ids)

    handler = _CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = os.environ | {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "FLASK_SECRET_KEY": "bench-secret-key-not-for-production",
            "FLASK_SERVER_NAME_FOR_LINKS": "http://127.0.0.1",
            "FLASK_MAIL_SERVER": "127.0.0.1",
            "FLASK_MAIL_PORT": str(port),
        }
        started = time.monotonic()
        run = subprocess.run(
            [str(BIN / "flask"), "--app", "eventapp", "mail", "send"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        seconds = time.monotonic() - started
    finally:
        controller.stop()
    (outdir / "outbox.log").write_text(run.stdout + run.stderr)
    with app.app_context():
        db.session.expire_all()
        left = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.id.in_(keep_ids), OutboxMessage.status != "sent")
        )
    return {
        "pending": pending,
        "delivered": handler.messages,
        "smtp_connections": handler.connections,
        "seconds": seconds,
        "not_sent_after": left,
        "exit_code": run.returncode,
    }


# ---------------------------------------------------------------- one database


def bench_database(kind: str, args, sizes: Sizes, outdir: Path) -> dict:
    import seed

    from eventapp.extensions import db

    outdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"eventapp-bench-{kind}-"))
    if kind == "postgresql":
        url = seed.recreate_postgres_database(args.pg_server, args.pg_database)
    else:
        url = f"sqlite:///{tmp}/bench.sqlite"
    app = seed.bench_app(url, str(tmp / "instance"))
    print(f"[{kind}] migrating and seeding ...", flush=True)
    seed.migrate_and_prepare(app)
    want = set(args.only.split(","))
    throughput = burst = programme = ics = opening = demo_event = None
    with app.app_context():
        if "throughput" in want:
            throughput = seed.seed_registration_event(
                "bench-throughput",
                rounds=3,
                per_round=4,
                capacities=[10_000_000],
                plenary_capacity=10_000_000,
            )
        if want & {"burst", "outbox"}:
            burst = seed.seed_opening_event("bench-burst", sizes.burst_total)
        if want & {"pages", "public"}:
            programme = seed.seed_programme_event(
                "bench-programme",
                days=2,
                rounds_per_day=9,
                per_round=11,
                attendees=sizes.programme_attendees,
                workshops_each=4,
            )
        if "public" in want:
            demo_event = seed.seed_demo_event()
        if "opening" in want:
            opening = seed.seed_opening_event("bench-opening", sizes.opening_total)
        if "calendar" in want:
            ics = seed.seed_programme_event(
                "bench-ics", days=5, rounds_per_day=11, per_round=9, attendees=50, workshops_each=8
            )
        version = _database_version(db)
        seed.analyze(db)
    result = {"kind": kind, "version": version, "sizes": {}}
    if programme:
        result["sizes"]["programme_sessions"] = programme.session_count
        result["sizes"]["programme_attendees"] = programme.attendee_count
    if ics:
        result["sizes"]["ics_sessions"] = ics.session_count

    log = outdir / "gunicorn.log"
    redis_url = usable_redis(args.redis_url)
    with Server(url, log, args.workers, args.threads, redis_url) as server:
        result["cache"] = server.cache
        if throughput:
            print(f"[{kind}] throughput: registration vs baseline ...", flush=True)
            result["throughput"] = scenario_throughput(server, throughput, sizes, outdir)
            with app.app_context():
                result["throughput_reconcile"] = seed.reconcile(throughput.event_id)
        if burst:
            print(f"[{kind}] opening burst ...", flush=True)
            result["burst"] = scenario_burst(server, burst, sizes, outdir)
            with app.app_context():
                result["burst_reconcile"] = seed.reconcile(burst.event_id)
        if "public" in want:
            print(f"[{kind}] public pages vs the read baseline ...", flush=True)
            result["public"] = scenario_public(
                server,
                [
                    (
                        f"demo ({demo_event.session_count} sessions)",
                        demo_event.slug,
                        demo_event.rounds[0][0],
                    ),
                    (
                        f"bench ({programme.session_count} sessions)",
                        programme.slug,
                        programme.rounds[0][0],
                    ),
                ],
                sizes,
                outdir,
            )
        if opening:
            print(f"[{kind}] the opening minute through the pages ...", flush=True)
            result["opening"] = scenario_opening(server, opening, sizes, outdir)
            with app.app_context():
                result["opening_reconcile"] = seed.reconcile(opening.event_id)
        if programme and "pages" in want:
            print(f"[{kind}] pages ...", flush=True)
            login = (seed.ORGANISER_EMAIL, seed.ORGANISER_PASSWORD)
            result["pages"] = scenario_pages(
                server,
                [
                    ("programme", f"/events/{programme.slug}/", None),
                    ("register form", f"/events/{programme.slug}/register", None),
                    ("dashboard", f"/organiser/events/{programme.slug}/", "login"),
                ],
                sizes,
                outdir,
                login=login,
            )
        if ics:
            print(f"[{kind}] calendar feeds ...", flush=True)
            result["calendar"] = scenario_pages(
                server,
                [
                    ("programme.ics", f"/events/{ics.slug}/calendar.ics", None),
                    ("personal feed", f"/calendar/{ics.feed_token}.ics", None),
                ],
                sizes,
                outdir,
            )
    if "outbox" in want:
        print(f"[{kind}] outbox ...", flush=True)
        result["outbox"] = scenario_outbox(app, url, burst.event_id, sizes.outbox_total, outdir)
    with app.app_context():
        db.engine.dispose()
    return result


def usable_redis(url: str | None) -> str | None:
    """`url` when a Redis answers there, else None (the workers then cache in memory)."""
    if not url:
        return None
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - any failure means: no shared cache
        print(f"no Redis at {url} ({error}): each worker caches its own pages", flush=True)
        return None
    return url


def _database_version(db) -> str:
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(text("SHOW server_version"))
    return f"SQLite {sqlite3.sqlite_version} (WAL)"


# ---------------------------------------------------------------- the report


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    from importlib.metadata import version

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "gunicorn": version("gunicorn"),
        "locust": version("locust"),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def ms(value) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def format_report(results: list[dict], info: dict, args, sizes: Sizes) -> str:
    lines = [
        f"# eventapp bench, {datetime.now():%Y-%m-%d %H:%M}" + (" (quick)" if args.quick else ""),
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; {info['os']}; "
        f"Python {info['python']}, gunicorn {info['gunicorn']} ({args.workers} workers x "
        f"{args.threads} threads, gthread), locust {info['locust']} on the same machine; "
        f"load average at start {info['load_average']}.",
        "Databases: " + "; ".join(f"{r['kind']} {r['version']}" for r in results) + ".",
        "Times in ms (locust: client-side, loopback). req/s = completed requests per second.",
    ]
    sections = (
        ("throughput", _report_throughput),
        ("burst", _report_burst),
        ("public", _report_public),
        ("opening", _report_opening),
        ("pages", _report_pages),
        ("calendar", _report_pages),
        ("outbox", _report_outbox),
    )
    done = set()
    for key, section in sections:
        ran = [r for r in results if key in r]
        if ran and section not in done:
            done.add(section)
            lines += ["", *section(ran, sizes)]
    return "\n".join(lines) + "\n"


def _report_throughput(results: list[dict], sizes: Sizes) -> list[str]:
    lines = [
        "## Registration vs baseline (one INSERT), same app and server",
        "",
        "SQL alone: the same requests to /_bench/registration-sql, which runs a registration's "
        "statements through the raw driver and nothing else (no validation, rules, ORM or "
        "private links): the most any registration code could reach in this app and server.",
        "",
        "| database | clients | baseline req/s | register req/s | ratio | SQL alone req/s | "
        "its ratio | register p50 / p95 / p99 | baseline p50 / p95 / p99 | "
        "requests (reg / base) | 5xx |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for row in r["throughput"]:
            b, g, q = row["baseline"], row["register"], row["registration-sql"]
            lines.append(
                f"| {r['kind']} | {row['clients']} | {b.get('rps', 0):.0f} | "
                f"{g.get('rps', 0):.0f} | {_two(row['ratio'])} | {q.get('rps', 0):.0f} | "
                f"{_two(row['sql_alone_ratio'])} | {ms(g.get('p50'))} / {ms(g.get('p95'))} / "
                f"{ms(g.get('p99'))} | {ms(b.get('p50'))} / {ms(b.get('p95'))} / "
                f"{ms(b.get('p99'))} | {g.get('requests', 0)} / {b.get('requests', 0)} | "
                f"{row['server_errors']} |"
            )
    lines += [
        "",
        "CPU per request in the same runs, in ms, registration / SQL alone / baseline. "
        "server: gunicorn's processes; database: the PostgreSQL backends of the bench "
        "database; background: PostgreSQL's other processes (WAL writer, checkpointer, "
        "autovacuum); locust: the load generator, from the test's start:",
        "",
        "| database | clients | server | database | background | locust | total |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for row in r["throughput"]:
            lines.append(f"| {r['kind']} | {row['clients']} | " + _cpu_cells(row) + " |")
    for r in results:
        rec = r["throughput_reconcile"]
        lines.append(
            f"\n{r['kind']}: {rec['attendees']} registered in these runs (both ways); "
            f"counters that differ from the rows: {len(rec['counter_mismatches'])}; "
            f"overbooked sessions: {len(rec['overbooked_sessions'])}."
        )
    return lines


def _two(ratio: float | None) -> str:
    return f"{ratio:.2f}" if ratio is not None else "-"


def _cpu_cells(row: dict) -> str:
    runs = [row[name].get("cpu_ms", {}) for name in ("register", "registration-sql", "baseline")]
    cells = [
        " / ".join(f"{run.get(part, 0):.2f}" for run in runs)
        for part in ("server", "database", "database background", "load generator")
    ]
    cells.append(" / ".join(f"{sum(run.values()):.2f}" for run in runs))
    return " | ".join(cells)


def _report_burst(results: list[dict], sizes: Sizes) -> list[str]:
    lines = [
        f"## Opening burst: {sizes.burst_total} people, {sizes.burst_clients} at once, "
        "30 sessions with small workshops",
        "",
        "| database | seconds | registrations/s | first try p50 / p95 / p99 | "
        "outcomes | HTTP statuses | 5xx | counters = rows | overbooked |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, rec = r["burst"], r["burst_reconcile"]
        elapsed = b.get("elapsed") or b["wall_seconds"]
        f = b["first"]
        lines.append(
            f"| {r['kind']} | {elapsed:.1f} | {sizes.burst_total / elapsed:.0f} | "
            f"{ms(f.get('p50'))} / {ms(f.get('p95'))} / {ms(f.get('p99'))} | "
            f"{_counts(b.get('outcomes'))} | {_counts(b.get('statuses'))} | "
            f"{b['server_errors']} | {'yes' if not rec['counter_mismatches'] else 'NO'} | "
            f"{len(rec['overbooked_sessions'])} |"
        )
    for r in results:
        rec = r["burst_reconcile"]
        lines.append(
            f"\n{r['kind']}: {rec['attendees']} attendees, registrations "
            f"{_counts(rec['registrations'])}, {rec['full_sessions']} of "
            f"{rec['sessions']} sessions full, {rec['confirmation_emails_queued']} "
            "confirmation emails queued."
        )
    return lines


def _report_pages(results: list[dict], sizes: Sizes) -> list[str]:
    """Pages and calendar feeds share one table; either may be missing (--only)."""
    sizes_seen = results[0]["sizes"]
    what = []
    if "programme_sessions" in sizes_seen:
        what.append(
            f"an event with {sizes_seen['programme_sessions']} sessions and "
            f"{sizes_seen['programme_attendees']} attendees"
        )
    if "ics_sessions" in sizes_seen:
        what.append(f"calendar feeds of an event with {sizes_seen['ics_sessions']} sessions")
    lines = [
        "## Pages: " + "; ".join(what),
        "",
        "| database | page | SQL queries | KiB sent | 1 client: mean / p50 / p95 | "
        "16 clients: req/s, p50 / p95 | 5xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for row in r.get("pages", []) + r.get("calendar", []):
            if row["status"] != 200:
                lines.append(
                    f"| {r['kind']} | {row['page']} | - | - | not measured: "
                    f"HTTP {row['status']} | - | - |"
                )
                continue
            one, many = row["one_client"], row["sixteen_clients"]
            lines.append(
                f"| {r['kind']} | {row['page']} | {_queries(row)} | {row['bytes'] / 1024:.0f}"
                f" | {ms(one.get('mean'))} / {ms(one.get('p50'))} / {ms(one.get('p95'))} | "
                f"{many.get('rps', 0):.0f}, {ms(many.get('p50'))} / {ms(many.get('p95'))} | "
                f"{row['server_errors']} |"
            )
    return lines


def _report_public(results: list[dict], sizes: Sizes) -> list[str]:
    lines = [
        "## Public pages vs the read baseline (GET /_bench/read: 20 rows as JSON), same server",
        "",
        f"Target: the programme page and the form at least {PAGE_TARGET} of the read baseline "
        "at 16 clients, with the demo event and with 200 sessions. Cache: "
        + "; ".join(f"{r['kind']} {r.get('cache', '-')}" for r in results)
        + ".",
        "",
        "| database | event | page | clients | read req/s | page req/s | ratio | target | "
        "page p50 / p95 / p99 | KiB sent | SQL queries | 5xx |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for row in r["public"]:
            p, b = row["page_stat"], row["read"]
            lines.append(
                f"| {r['kind']} | {row['event']} | {row['page']} | {row['clients']} | "
                f"{b.get('rps', 0):.0f} | {p.get('rps', 0):.0f} | {_two(row['ratio'])} | "
                f"{_page_verdict(row)} | {ms(p.get('p50'))} / {ms(p.get('p95'))} / "
                f"{ms(p.get('p99'))} | {row['bytes'] / 1024:.0f} | {row['queries']} | "
                f"{row['server_errors']} |"
            )
    return lines


def _page_verdict(row: dict) -> str:
    if row["clients"] != 16 or row["page"] == "session page":
        return ""
    if row["ratio"] is None:
        return "not measured"
    return f">= {PAGE_TARGET}: " + ("met" if row["ratio"] >= PAGE_TARGET else "MISSED")


def _report_opening(results: list[dict], sizes: Sizes) -> list[str]:
    lines = [
        f"## The opening minute: {sizes.opening_total} people, {sizes.opening_clients} at once, "
        "each loads the programme, loads the form, sends it and loads the confirmation",
        "",
        f"Target: people per second at least {OPENING_TARGET} of the read baseline (at the same "
        "number of clients, right before).",
        "",
        "| database | seconds | people/s | read req/s | ratio | target | p95 programme / form "
        "/ register / confirmation | outcomes | HTTP statuses | 5xx | counters = rows | "
        "overbooked |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        o, rec = r["opening"], r["opening_reconcile"]
        met = o["ratio"] is not None and o["ratio"] >= OPENING_TARGET
        p95 = " / ".join(ms(o["steps"][step].get("p95")) for step in o["steps"])
        lines.append(
            f"| {r['kind']} | {o['seconds']:.1f} | {o['people_per_second']:.1f} | "
            f"{o['read'].get('rps', 0):.0f} | {_two(o['ratio'])} | >= {OPENING_TARGET}: "
            f"{'met' if met else 'MISSED'} | {p95} | {_counts(o.get('outcomes'))} | "
            f"{_counts(o.get('statuses'))} | {o['server_errors']} | "
            f"{'yes' if not rec['counter_mismatches'] else 'NO'} | "
            f"{len(rec['overbooked_sessions'])} |"
        )
    for r in results:
        rec = r["opening_reconcile"]
        lines.append(
            f"\n{r['kind']}: {rec['attendees']} attendees, registrations "
            f"{_counts(rec['registrations'])}, {rec['full_sessions']} of "
            f"{rec['sessions']} sessions full."
        )
    return lines


def _report_outbox(results: list[dict], sizes: Sizes) -> list[str]:
    lines = ["## Outbox: confirmations delivered to a local aiosmtpd by `flask mail send`", ""]
    for r in results:
        o = r["outbox"]
        if "skipped" in o:
            lines.append(f"- {r['kind']}: not measured: {o['skipped']}.")
            continue
        rate = o["delivered"] / o["seconds"] if o["seconds"] else 0
        lines.append(
            f"- {r['kind']}: {o['delivered']} of {o['pending']} delivered in "
            f"{o['seconds']:.1f} s ({rate:.0f} messages/s, process start included) over "
            f"{o['smtp_connections']} SMTP connection(s); not sent afterwards: "
            f"{o['not_sent_after']}; exit code {o['exit_code']}."
        )
    return lines


def _queries(row: dict) -> str:
    """Queries of a warm request, and of the first one when a cache made them differ."""
    cold = row.get("cold_queries")
    if cold is not None and cold != row["queries"]:
        return f"{row['queries']} (first: {cold})"
    return str(row["queries"])


def _counts(counts: dict | None) -> str:
    if not counts:
        return "-"
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument(
        "--pg-server",
        default=os.environ.get("BENCH_PG_SERVER", "postgres@127.0.0.1:5432"),
        help="user@host:port of PostgreSQL",
    )
    parser.add_argument("--pg-database", default="eventapp_bench")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--seconds", type=int, help="seconds per throughput run")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="the Redis the server's shared pages use (skipped when none answers there)",
    )
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help="comma-separated scenarios to run (default: all; outbox also runs the burst, "
        "whose confirmations it delivers): " + ", ".join(SCENARIOS),
    )
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    sizes = Sizes.quick() if args.quick else Sizes()
    if args.seconds:
        sizes.seconds = args.seconds
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = RESULTS / stamp
    info = machine()
    started = time.monotonic()
    results = [
        bench_database(kind, args, sizes, outdir / kind)
        for kind in args.databases.split(",")
        if kind
    ]
    report = format_report(results, info, args, sizes)
    report += f"\nTotal bench time: {time.monotonic() - started:.0f} s.\n"
    (outdir / "report.md").write_text(report)
    (outdir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print()
    print(report)
    print(f"(also written to {outdir.relative_to(ROOT)}/report.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: CPU time and SQL statements per request on the registration path, this checkout
against another revision, side by side in one run.

`make bench` measures throughput through gunicorn and locust; on a shared two-core machine
its ratios move by a third between runs, which hides a change of a tenth. This measures in
the server's own process (Flask's test client, no HTTP), for each tree in turns on a fresh
database each time, the process's CPU per request and the statements it sent:

- an API registration (POST /api/v1/events/<slug>/registrations: the plenary and one
  workshop per round), its SQL alone (POST /_bench/registration-sql, bench/baseline_app.py)
  and the read baseline (GET /_bench/read), and their ratios, as `make bench` reports them;
- where a registration's CPU goes: the parts of the one code path, each timed around its
  function (the event's read, the writes, the reply, the commit);
- a person of the opening minute: the programme, the form, the form sent, the
  confirmation, each in units of the read baseline, and the person's ratio to it (the
  issue's target is 0.2).

    python bench/request_cpu.py [--rounds 3] [--baseline REV] [--databases postgresql,sqlite]

`--baseline` is any git revision (default: main), exported with `git archive`.
`make bench-request-cpu` runs it. The parts are timed by wrapping functions of the tree
being measured; a part the baseline does not have is left out of its table.
"""

from __future__ import annotations

import argparse
import collections
import functools
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
from werkzeug.datastructures import MultiDict

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "eventapp_bench_request_cpu"
# (label, module, attribute): the registration's parts, timed around each call.
PARTS = (
    ("the event and the chosen sessions (get_event)", "eventapp.api.public", "programme.get_event"),
    ("the rules and writes (register)", "eventapp.api.public", "registration.register"),
    ("  of which the writes", "eventapp.services.registration.register", "_write_new_registration"),
    ("  of which the input's cleaning", "eventapp.services.registration.register",
     "_clean_registration_input"),
    ("the commit", "eventapp.api.public", "commit_without_expiring"),
    ("the reply (RegistrationOut)", "eventapp.api.replies", "RegistrationOut.of"),
)  # fmt: skip
STEPS = ("programme", "form", "form sent", "confirmation")


def _timed(owner, name: str, spent: collections.Counter, label: str) -> None:
    function = getattr(owner, name)

    @functools.wraps(function)
    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started

    setattr(owner, name, timed)


def _time_parts(spent: collections.Counter) -> None:
    for label, module, path in PARTS:
        owner = importlib.import_module(module)
        *inside, name = path.split(".")
        for attribute in inside:
            owner = getattr(owner, attribute)
        if hasattr(owner, name):
            _timed(owner, name, spent, label)


def _app(kind: str, pg_server: str):
    import seed
    from baseline_app import init_app

    instance = tempfile.mkdtemp(prefix="eventapp-bench-request-")
    if kind == "postgresql":
        url = seed.recreate_postgres_database(pg_server, DATABASE)
    else:
        url = f"sqlite:///{instance}/bench.db"
    app = seed.bench_app(url, instance)
    # As bench/run.py serves it: no proof of work to solve, no minimum time to fill the form.
    app.config.update(BOT_CHALLENGE_ENABLED=False, REGISTRATION_MIN_FILL_SECONDS=0)
    init_app(app)
    seed.migrate_and_prepare(app)
    return app


class Requests:
    """Each request kind, counted: process CPU seconds and statements (X-SQL-Queries)."""

    def __init__(self):
        self.cpu = collections.Counter()
        self.statements = collections.Counter()
        self.count = collections.Counter()

    def send(self, name: str, call, expected: int):
        started = time.process_time()
        response = call()
        self.cpu[name] += time.process_time() - started
        self.statements[name] += int(response.headers.get("X-SQL-Queries", 0))
        self.count[name] += 1
        if response.status_code != expected:
            raise RuntimeError(f"{name}: HTTP {response.status_code}, expected {expected}")
        return response

    def per_request(self) -> dict:
        return {
            name: {
                "cpu_ms": 1000 * self.cpu[name] / self.count[name],
                "statements": self.statements[name] / self.count[name],
            }
            for name in self.count
        }


def _registrations(app, requests: Requests, count: int, spent: collections.Counter) -> None:
    import seed

    with app.app_context():
        event = seed.seed_registration_event(
            "cpu", rounds=3, per_round=4, capacities=[100_000], plenary_capacity=100_000
        )
        seed.analyze(seed.db)
    client = app.test_client()
    numbers = iter(range(10**9))

    def body() -> dict:
        number = next(numbers)
        return {
            "name": f"Bench Attendee {number}",
            "email": f"cpu-{number}@example.org",
            "organisation": "Bench BV",
            "consent": True,
            "waitlist": False,
            "session_ids": event.plenary_ids[:1] + [r[number % len(r)] for r in event.rounds],
        }

    kinds = {
        "registration": (f"/api/v1/events/{event.slug}/registrations", 201),
        "its SQL alone": (f"/_bench/registration-sql/{event.slug}", 201),
    }
    for name, (path, status) in kinds.items():  # warm: compiled statements, templates
        for _ in range(20):
            requests.send(f"warm {name}", lambda path=path: client.post(path, json=body()), status)
    spent.clear()
    for _ in range(count):  # interleaved, so a load spike weighs on all three alike
        for name, (path, status) in kinds.items():
            requests.send(name, lambda path=path: client.post(path, json=body()), status)
        requests.send("read", lambda: client.get("/_bench/read"), 200)


def _opening(app, requests: Requests, people: int) -> None:
    import seed
    from opening_person import form_answers

    with app.app_context():
        event = seed.seed_opening_event("cpu-open", people)
        seed.analyze(seed.db)

    def person(number: int, prefix: str = "") -> None:
        client = app.test_client()  # a fresh browser: no cookies
        send = requests.send
        send(f"{prefix}programme", lambda: client.get(f"/events/{event.slug}/"), 200)
        form = send(f"{prefix}form", lambda: client.get(f"/events/{event.slug}/register"), 200)
        details = {"name": f"Person {number}", "email": f"open-{number}@example.org"}
        sent = form_answers(form.get_data(as_text=True), details | {"organisation": "Bench"})
        path = f"/events/{event.slug}/register"
        response = send(f"{prefix}form sent", lambda: client.post(path, data=MultiDict(sent)), 302)
        location = response.headers["Location"]
        send(f"{prefix}confirmation", lambda: client.get(location), 200)
        send(f"{prefix}read", lambda: client.get("/_bench/read"), 200)

    for number in range(10):
        person(-1 - number, prefix="warm ")
    for number in range(people):
        person(number)


def measure(tree: str, kind: str, pg_server: str, count: int, people: int) -> dict:
    """In this process, with the code of `tree`: the registrations, then the opening minute."""
    sys.path[:0] = [tree, str(ROOT / "bench"), str(ROOT)]
    eventapp = importlib.import_module("eventapp")
    spent = collections.Counter()
    _time_parts(spent)
    app = _app(kind, pg_server)
    requests = Requests()
    _registrations(app, requests, count, spent)
    parts = {label: 1000 * seconds / count for label, seconds in spent.items()}
    _opening(app, requests, people)
    return {
        "requests": {k: v for k, v in requests.per_request().items() if not k.startswith("warm")},
        "parts": parts,
        "code": str(Path(eventapp.__file__).parent.parent),
    }


def _median(runs: list[dict], *keys) -> float | None:
    values = []
    for run in runs:
        value = run
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            values.append(value)
    return statistics.median(values) if values else None


def report(kind: str, results: dict[str, list[dict]], rounds: int) -> list[str]:
    lines = [
        f"## {kind}: CPU per request in the server's process, median of {rounds} rounds",
        "",
        "| code | registration ms (statements) | its SQL alone ms | read ms | "
        "registration / SQL alone | registration / read |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        registration = _median(runs, "requests", "registration", "cpu_ms")
        alone = _median(runs, "requests", "its SQL alone", "cpu_ms")
        read = _median(runs, "requests", "read", "cpu_ms")
        statements = _median(runs, "requests", "registration", "statements")
        lines.append(
            f"| {name} | {registration:.2f} ({statements:.1f}) | {alone:.2f} | {read:.2f} "
            f"| {alone / registration:.2f} | {read / registration:.2f} |"
        )
    lines += ["", "Where a registration's CPU goes (ms per registration):", ""]
    lines += ["| part | " + " | ".join(results) + " |", "|---|" + "---:|" * len(results)]
    for label, *_ in PARTS:
        cells = [_median(runs, "parts", label) for runs in results.values()]
        lines.append(
            f"| {label} | " + " | ".join("-" if c is None else f"{c:.2f}" for c in cells) + " |"
        )
    lines += [
        "",
        "A person of the opening minute, each step in read baselines (CPU / the read's CPU) "
        "and statements; the person's ratio is the read's CPU over the four steps':",
        "",
        "| code | " + " | ".join(STEPS) + " | a person | ratio to the read |",
        "|---|" + "---:|" * (len(STEPS) + 2),
    ]
    for name, runs in results.items():
        read = _median(runs, "requests", "read", "cpu_ms")
        steps = [_median(runs, "requests", step, "cpu_ms") for step in STEPS]
        statements = [_median(runs, "requests", step, "statements") for step in STEPS]
        cells = [f"{ms / read:.2f} ({n:.1f})" for ms, n in zip(steps, statements, strict=True)]
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {sum(steps) / read:.1f} "
            f"| {read / sum(steps):.3f} |"
        )
    return lines + [""]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--registrations", type=int, default=300)
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument(
        "--pg-server", default=os.environ.get("BENCH_PG_SERVER", "postgres@127.0.0.1:5432")
    )
    parser.add_argument("--measure", nargs=2, metavar=("TREE", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        tree, kind = args.measure
        print(json.dumps(measure(tree, kind, args.pg_server, args.registrations, args.people)))
        return 0

    trees = {
        f"baseline ({args.baseline})": export_revision(args.baseline),
        "this checkout": str(ROOT),
    }
    output = []
    for kind in args.databases.split(","):
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for round_number in range(args.rounds):
            for name, tree in trees.items():
                run = subprocess.run(
                    [sys.executable, __file__, "--measure", tree, kind]
                    + ["--registrations", str(args.registrations), "--people", str(args.people)]
                    + ["--pg-server", args.pg_server],
                    cwd=tree,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results[name].append(json.loads(run.stdout.strip().splitlines()[-1]))
                took = results[name][-1]["requests"]["registration"]["cpu_ms"]
                print(f"  {kind}, round {round_number + 1}, {name}: registration {took:.2f} ms")
        output += report(kind, results, args.rounds)
    print()
    print("\n".join(output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

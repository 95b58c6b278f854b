"""Locust users for `make bench` (bench/run.py starts locust with one of these classes).

Scenario parameters come from the environment (BENCH_*), set by bench/run.py; each run
writes its response-status counts to BENCH_OUT as JSON when locust quits. Every user
sends requests back to back (no think time): this measures the server, not a crowd's pace.

- BaselineUser: POST /_bench/baseline, one INSERT (the yardstick).
- RegisterUser: POST /api/v1/events/<slug>/registrations: the plenary plus one random
  workshop per round, each time a new email address. 201 is expected.
- RegistrationSqlUser: the same requests to POST /_bench/registration-sql/<slug>, which
  runs a registration's SQL and nothing else (bench/baseline_app.py).
- BurstUser: the opening minute: BENCH_TOTAL people register once each (a shared counter),
  most for popular workshops; one whose workshop is full (409) joins its waiting list,
  as the page offers. Quits when all BENCH_TOTAL are done.
- PageUser: GET BENCH_PATH, signed in as an organiser when BENCH_COOKIE is set.
- ReadUser: GET /_bench/read, 20 rows as JSON (the yardstick for pages).
- OpeningUser: the opening minute through the pages: BENCH_TOTAL people, each with a fresh
  browser (no cookies) loads the programme, loads the form, sends it (with the form's own
  CSRF token, the plenaries and a popular workshop in half the rounds, the waiting list
  ticked) and loads the confirmation it is sent to. Quits when all BENCH_TOTAL are done.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter
from urllib.parse import urlencode

import gevent
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser
from opening_person import form_answers, popular_choice

STATUSES: Counter = Counter()
OUTCOMES: Counter = Counter()
SLUG = os.environ.get("BENCH_SLUG", "")
PLENARY_IDS = json.loads(os.environ.get("BENCH_PLENARIES", "[]"))
ROUNDS = json.loads(os.environ.get("BENCH_ROUNDS", "[]"))  # [[workshop ids of round 1], ...]
TOTAL = int(os.environ.get("BENCH_TOTAL", "0"))
PATH = os.environ.get("BENCH_PATH", "/")
MIN_REQUESTS = int(os.environ.get("BENCH_MIN_REQUESTS", "0"))
MIN_SECONDS = float(os.environ.get("BENCH_MIN_SECONDS", "0"))
RUN_ID = uuid.uuid4().hex[:8]
_issued = 0
_completed = 0
_timing: dict = {}


@events.test_start.add_listener
def mark_start(environment, **_kwargs):
    _timing["started"] = time.monotonic()
    _timing["cpu_started"] = time.process_time()  # locust's own start-up not included


@events.quitting.add_listener
def write_counts(environment, **_kwargs):
    out = os.environ.get("BENCH_OUT")
    if out:
        with open(out, "w") as handle:
            json.dump(
                {
                    "statuses": dict(STATUSES),
                    "outcomes": dict(OUTCOMES),
                    "elapsed": _timing.get("elapsed"),
                    "cpu_seconds": time.process_time() - _timing.get("cpu_started", 0),
                },
                handle,
            )


def _quit(environment) -> None:
    """End the test from a greenlet of its own, not the user's. runner.quit() called by a user
    kills that user's greenlet without waiting, then waits (--stop-timeout) for the others to
    stop; the kill lands in that wait, and quit() never gets to end the test: locust then ran
    on until --run-time (the burst: 600 s after its last registration)."""
    if not _timing.get("quitting"):
        _timing["quitting"] = True
        gevent.spawn(environment.runner.quit)


def _person(index: int) -> dict:
    return {
        "name": f"Bench Attendee {index}",
        "email": f"bench-{RUN_ID}-{index}@example.org",
        "organisation": "Bench BV",
        "consent": True,
    }


class _Base(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def _record(self, response, expected=(200, 201)) -> None:
        STATUSES[str(response.status_code)] += 1
        if response.status_code in expected:
            response.success()
        else:
            response.failure(f"HTTP {response.status_code}")

    def _enough(self) -> None:
        """Quit once both BENCH_MIN_REQUESTS requests and BENCH_MIN_SECONDS have passed.

        On a busy machine a fixed duration may see only a few slow requests; a fixed count
        may take forever. Both minimums, with locust's --run-time as the hard limit.
        """
        global _completed
        _completed += 1
        started = _timing.setdefault("started", time.monotonic())
        if _completed >= MIN_REQUESTS and time.monotonic() - started >= MIN_SECONDS:
            _timing.setdefault("elapsed", time.monotonic() - started)
            _quit(self.environment)


class BaselineUser(_Base):
    @task
    def insert_one(self):
        with self.client.post(
            "/_bench/baseline", json={}, name="baseline", catch_response=True
        ) as response:
            self._record(response)
        self._enough()


class RegisterUser(_Base):
    path = f"/api/v1/events/{SLUG}/registrations"
    name = "register"

    @task
    def register(self):
        global _issued
        _issued += 1
        body = _person(_issued) | {
            "session_ids": PLENARY_IDS + [random.choice(r) for r in ROUNDS],
            "waitlist": False,
        }
        with self.client.post(
            self.path, json=body, name=self.name, catch_response=True
        ) as response:
            self._record(response, expected=(201,))
        self._enough()


class RegistrationSqlUser(RegisterUser):
    """The same requests to /_bench/registration-sql: a registration's SQL and nothing else."""

    path = f"/_bench/registration-sql/{SLUG}"
    name = "registration-sql"


def _next_person() -> dict:
    """The next of BENCH_TOTAL people (a counter shared by the users); StopUser when all
    have come."""
    global _issued
    if _issued >= TOTAL:
        raise StopUser()
    _issued += 1
    _timing.setdefault("started", time.monotonic())
    return _person(_issued)


def _person_done(environment) -> None:
    """One more person is through; the test ends with the last."""
    global _completed
    _completed += 1
    if _completed >= TOTAL:
        _timing["elapsed"] = time.monotonic() - _timing["started"]
        _quit(environment)


class BurstUser(_Base):
    @task
    def register_once(self):
        person = _next_person()
        choices = PLENARY_IDS + [popular_choice(r) for r in ROUNDS if random.random() < 0.5]
        body = person | {"session_ids": choices, "waitlist": False}
        url = f"/api/v1/events/{SLUG}/registrations"
        with self.client.post(url, json=body, name="burst", catch_response=True) as response:
            self._record(response, expected=(201, 409))
            outcome = _outcome(response)
        if outcome == "full":
            # The page offers the waiting list for the full workshops: this person takes it.
            body["waitlist"] = True
            with self.client.post(
                url, json=body, name="burst (waitlist)", catch_response=True
            ) as response:
                self._record(response, expected=(201,))
                outcome = _outcome(response)
        OUTCOMES[outcome] += 1
        _person_done(self.environment)


def _outcome(response) -> str:
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - a 5xx may carry HTML
        return f"http_{response.status_code}"
    if response.status_code == 201:
        return body.get("status", "created")
    return body.get("error", f"http_{response.status_code}")


class PageUser(_Base):
    """GET BENCH_PATH, with the Cookie header BENCH_COOKIE when set (a signed-in organiser:
    bench/run.py signs in once, before the run)."""

    cookie = os.environ.get("BENCH_COOKIE")

    @task
    def get_page(self):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        with self.client.get(PATH, name="page", headers=headers, catch_response=True) as response:
            self._record(response)
        self._enough()


class ReadUser(_Base):
    @task
    def read_rows(self):
        with self.client.get("/_bench/read", name="read", catch_response=True) as response:
            self._record(response)
        self._enough()


class OpeningUser(_Base):
    def _step(self, name: str, path: str, *, data=None):
        method = self.client.post if data is not None else self.client.get
        extra = {}
        if data is not None:
            extra = {
                "data": urlencode(data),
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                "allow_redirects": False,
            }
        with method(path, name=name, catch_response=True, **extra) as response:
            self._record(response, expected=(302,) if data is not None else (200,))
        return response

    @task
    def one_person(self):
        person = _next_person()
        self.client.cookiejar.clear()  # a new visitor
        self._step("open: programme", f"/events/{SLUG}/")
        form = self._step("open: form", f"/events/{SLUG}/register")
        if form.status_code == 200:
            sent = self._step(
                "open: register",
                f"/events/{SLUG}/register",
                data=form_answers(form.text or "", person),
            )
            if sent.status_code == 302:
                self._step("open: confirmation", sent.headers.get("Location", ""))
                OUTCOMES["registered"] += 1
            else:
                OUTCOMES[f"http_{sent.status_code}"] += 1
        else:
            OUTCOMES[f"form_http_{form.status_code}"] += 1
        _person_done(self.environment)

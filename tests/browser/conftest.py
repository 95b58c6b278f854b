"""Real-browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright, against the
app served on a free loopback port from a thread, on the same test database as the other tests.

Never a downloaded browser: `playwright install` is not used; .ci/run installs the `chromium`
package. Screenshots go to docs/screenshots/ when EVENTAPP_SCREENSHOTS=1 (`make screenshots`),
else to a temporary folder, so an ordinary test run leaves the working tree alone.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from eventapp.extensions import db
from eventapp.models import Event, EventSession
from eventapp.services.backoffice.demo import load_demo_event
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is missing at /usr/bin/chromium: `apt-get install chromium` "
            "(.ci/run installs it). Playwright's own browser downloads are never used."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1:<free port>, served from a thread; CSRF on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh browser contexts: `new_page(locale="en-GB", viewport=PHONE)`."""
    contexts = []

    def open_page(locale="nl-NL", viewport=None, javascript=True):
        context = browser.new_context(
            base_url=live_server,
            locale=locale,
            viewport=viewport or WIDE,
            java_script_enabled=javascript,
            device_scale_factor=1,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@dataclass(frozen=True)
class EventFacts:
    """What a test needs to know about an event, read once. The test thread must not keep a
    transaction open while the browser talks to the server: on SQLite every transaction
    takes the write lock (BEGIN IMMEDIATE), and the server would wait for it."""

    id: int
    slug: str
    name: str
    timezone: str
    starts_at: datetime

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def facts(event: Event) -> EventFacts:
    result = EventFacts(event.id, event.slug, event.name, event.timezone, event.starts_at)
    db.session.remove()
    return result


@pytest.fixture
def demo_event(app) -> EventFacts:
    """The demo event, moved on by whole 52-week years if its date has passed, so registration
    is open whenever the tests run (same weekday, same season, same local times)."""
    event, _ = load_demo_event()
    now = datetime.now(UTC)
    shift = timedelta(0)
    while event.starts_at + shift < now + timedelta(days=7):
        shift += timedelta(weeks=52)
    if shift:
        event.starts_at += shift
        event.ends_at += shift
        for session in event.sessions:
            session.starts_at += shift
            session.ends_at += shift
    event.registration_opens_at = min(event.registration_opens_at, now - timedelta(days=1))
    event.registration_closes_at = event.starts_at - timedelta(days=1)
    # The demo holds seats until the email is confirmed (services/registration/holds.py);
    # these tests follow a registration to its confirmation page and ticket at once.
    event.confirm_email_first = False
    db.session.commit()
    return facts(event)


@pytest.fixture
def anne(demo_event):
    """Anne, registered for the opening plenary and a workshop of round 1:
    (her manage path, her check-in code, the event's name)."""
    wanted = ("Plenaire opening", "Van lean naar smart management")
    sessions = db.session.scalars(
        select(EventSession).where(
            EventSession.event_id == demo_event.id, EventSession.title.in_(wanted)
        )
    ).all()
    result = registration.register(
        sessions[0].event,
        RegistrationInput(
            name="Anne de Vries",
            email="anne@example.nl",
            organisation="Metaalbedrijf Oost",
            session_ids=[s.id for s in sessions],
            consent=True,
        ),
        datetime.now(UTC),
    )
    db.session.commit()
    code = result.attendee.checkin_code
    db.session.remove()
    return f"/manage/{result.manage_token}", code, demo_event.name


@pytest.fixture
def screenshot(tmp_path, request):
    """`screenshot(page, "name")`: docs/screenshots/name.png with EVENTAPP_SCREENSHOTS=1.

    Only the first database's run writes the docs, so the PostgreSQL run does not redo them.
    """
    keep = os.environ.get("EVENTAPP_SCREENSHOTS") == "1" and "postgresql" not in request.node.name

    def take(page, name: str, *, full_page: bool = True, max_height: int = 2400) -> Path:
        folder = SCREENSHOTS if keep else tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        size = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight") if full_page else 0
        clip = None
        if full_page and height > max_height:
            clip = {"x": 0, "y": 0, "width": size["width"], "height": max_height}
        page.screenshot(
            path=str(path), full_page=full_page, clip=clip, animations="disabled", caret="hide"
        )
        return path

    return take


@pytest.fixture
def axe_audit():
    """`axe_audit(page)`: the serious and critical WCAG violations axe-core finds."""
    if not AXE.exists():
        pytest.fail(
            f"axe-core is missing at {AXE.relative_to(ROOT)}: run `make install-test` "
            "(npm ci --prefix tests/browser)."
        )

    source = AXE.read_text()

    def audit(page) -> list[str]:
        # Evaluated through the DevTools protocol: the page's CSP forbids inline scripts, so
        # page.add_script_tag() would be refused, and the app must not relax its CSP for tests.
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(source)
        result = page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                 "wcag22aa", "best-practice"]},
                resultTypes: ["violations"],
            })"""
        )
        return [
            f"{v['impact']}: {v['id']} ({v['help']}) at "
            + "; ".join(", ".join(node["target"]) for node in v["nodes"][:5])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return audit

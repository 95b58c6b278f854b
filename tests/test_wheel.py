"""The wheel is the whole app: built from the checkout, installed into a fresh virtualenv in an
empty folder, it migrates a new database, loads the demo, serves pages in Dutch and English
and calendar feeds under gunicorn, and sends mail, with no file of the checkout in reach.

Kept fast and offline: the wheel is built without build isolation (`build`, `setuptools` and
`babel` come from the test extra), and installed with `--no-deps` into a new virtualenv whose
site-packages lists the test environment's own site-packages in a .pth file, so the
dependencies are the ones already installed, and eventapp itself is only the wheel's copy
(that directory's own .pth files, such as an editable install's, are not read).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

import pytest

from tests.mailserver import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEMO_SLUG = "smart-industry-jaarevent"
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "instance",
    "build",
    "dist",
    "__pycache__",
    "*.egg-info",
    "*.mo",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "results",
    "screenshots",
)


def _copy_source(target: Path) -> Path:
    """The checkout's files, so the build writes nothing into the checkout itself."""
    shutil.copytree(ROOT, target, ignore=NOT_COPIED, symlinks=True)
    return target


def build_wheel(tmp_path: Path) -> Path:
    source = _copy_source(tmp_path / "source")
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), "."],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = out.glob("eventapp-*.whl")
    return wheel


def test_a_checkout_without_the_npm_files_refuses_to_build_a_wheel(tmp_path):
    """A fresh clone has no eventapp/static/vendor/ (npm's output, not committed). Its wheel
    used to build without complaint and serve the registration form without the bot check's
    widget, so every browser registration was refused; now the build stops and says why."""
    source = _copy_source(tmp_path / "source")
    shutil.rmtree(source / "eventapp" / "static" / "vendor")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", "dist", "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "make static-vendor" in done.stdout + done.stderr
    assert not list((source / "dist").glob("*.whl"))


def install_into_fresh_venv(wheel: Path, home: Path) -> Path:
    """A new virtualenv holding the wheel; its dependencies are this environment's."""
    venv.create(home, with_pip=False)
    python = home / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    shared = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "shared_dependencies.pth").write_text("\n".join(sorted(shared)) + "\n")
    return python


def _get(url: str, language: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url)  # noqa: S310  (http on loopback)
    if language:
        request.add_header("Accept-Language", language)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (loopback)
        return response.status, response.headers.get("Content-Type", ""), response.read()


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310  (http on loopback)
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (loopback)
        return json.loads(response.read())


def _wait_until_serving(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited: {server.stdout.read()}")
        try:
            _get(url)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, environment, folder): the wheel installed, run from an empty folder."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp_path)
    python = install_into_fresh_venv(wheel, tmp_path / "venv")
    folder = tmp_path / "empty"
    folder.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PYTHON"))}
    env.update(
        FLASK_SECRET_KEY="wheel-test-secret-" + "x" * 32,
        FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/eventapp.sqlite",
        FLASK_SERVER_NAME_FOR_LINKS=f"http://127.0.0.1:{port}",
        EVENTAPP_INSTANCE_PATH=str(folder / "instance"),
        FLASK_RATELIMIT_ENABLED="false",
        # The API registration below is a script: the proof-of-work check would stop it
        # (tests/web/test_bot_challenge.py covers that check).
        FLASK_BOT_CHALLENGE_ENABLED="false",
        PORT=str(port),
    )
    return python, env, folder


def flask(installed, *arguments: str) -> str:
    python, env, folder = installed
    done = subprocess.run(
        [str(python), "-m", "flask", "--app", "eventapp", *arguments],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    python, env, folder = installed
    where = subprocess.run(
        [str(python), "-c", "import eventapp; print(eventapp.__file__)"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(python.parents[1])
    package = Path(where).parent
    for shipped in (
        "templates/base.html",
        "migrations/env.py",
        "static/app.css",
        "translations/nl/LC_MESSAGES/messages.mo",
        "translations/en/LC_MESSAGES/messages.mo",
        "wsgi.py",
        "gunicorn_conf.py",
    ):
        assert (package / shipped).is_file(), shipped


def test_migrate_demo_serve_in_both_languages_and_send_mail(installed):
    python, env, folder = installed
    flask(installed, "db", "upgrade")
    assert "loaded" in flask(installed, "demo")
    port = env["PORT"]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "-c",
            "python:eventapp.gunicorn_conf",
            "eventapp.wsgi:app",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_serving(f"{base}/", server)
        status, _, dutch = _get(f"{base}/events/{DEMO_SLUG}/", "nl")
        assert status == 200 and b'lang="nl"' in dutch and b"Aanmelden" in dutch
        status, _, english = _get(f"{base}/events/{DEMO_SLUG}/", "en")
        assert status == 200 and b'lang="en"' in english and b"Register" in english
        status, kind, feed = _get(f"{base}/events/{DEMO_SLUG}/calendar.ics")
        assert status == 200 and kind.startswith("text/calendar")
        assert feed.startswith(b"BEGIN:VCALENDAR") and b"BEGIN:VEVENT" in feed
        status, _, _ = _get(f"{base}/static/app.css")
        assert status == 200

        sessions = json.loads(_get(f"{base}/api/v1/events/{DEMO_SLUG}/sessions")[2])["sessions"]
        plenary = [s["id"] for s in sessions if s["kind"] == "plenary"]
        created = _post_json(
            f"{base}/api/v1/events/{DEMO_SLUG}/registrations",
            {
                "name": "Jet",
                "email": "jet@example.org",
                "organisation": "TNO",
                "session_ids": plenary,
                "consent": True,
            },
        )
        # The demo confirms the email before seats are held (SECURITY.md): the answer holds
        # the seats and leaves the private links to the email, checked below.
        assert created["status"] == "held" and created["calendar_url"] is None
    finally:
        server.terminate()
        server.wait(timeout=30)

    sent = flask(installed, "mail", "send")  # the demo's registrations' confirmations too
    assert re.search(r"\b[1-9]\d* sent, 0 to retry, 0 failed\b", sent), sent
    messages = [m.read_bytes() for m in (folder / "instance" / "mail").glob("*.eml")]
    jets = [m for m in messages if b"jet@example.org" in m]
    assert len(jets) == 1
    text = email.message_from_bytes(jets[0], policy=email.policy.default)
    body = text.get_body(("plain",)).get_content()
    assert f"{base}/manage/" in body  # links use the configured base

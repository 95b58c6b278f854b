"""Security headers on every response, HSTS and Secure cookies only behind TLS, private
pages kept out of caches, and pages that obey their own CSP (no inline script or style)."""

import pytest
from flask import g

from tests.security_support import World, injected, other_app

CSP_PARTS = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
]


@pytest.fixture
def world(app, make_event, make_room, make_session, now):
    return World("Plain", make_event, make_room, make_session, now)


@pytest.fixture
def admin_client(client, make_organiser, login):
    login(make_organiser("admin"))
    return client


def forget_request_user():
    """The `app` fixture keeps one app context, so `g` outlives a request in tests: drop the
    user Flask-Login (or the API's token check) stored there by the previous request."""
    g.pop("_login_user", None)


def assert_security_headers(response, url):
    csp = response.headers.get("Content-Security-Policy", "")
    for part in CSP_PARTS:
        assert part in csp, f"{url}: CSP lacks {part!r}: {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), url
    assert "Strict-Transport-Security" not in response.headers, f"{url}: HSTS over plain http"


def test_every_page_sends_the_security_headers_and_obeys_its_csp(app, world, admin_client):
    urls, unfilled = world.urls(app)
    assert not unfilled, f"routes this test can't reach yet (add their values): {unfilled}"
    html_pages = 0
    for endpoint, url in urls:
        forget_request_user()
        response = admin_client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        assert_security_headers(response, url)
        if response.mimetype == "text/html" and response.status_code == 200:
            html_pages += 1
            found = injected(response.get_data(as_text=True))
            assert not found, f"{endpoint} {url} breaks the CSP: {found}"
    assert html_pages >= 15  # the walk really reached the pages


def test_error_pages_and_api_errors_send_the_headers_too(client):
    for response in (client.get("/no-such-page"), client.get("/api/v1/events/nope")):
        assert response.status_code == 404
        assert_security_headers(response, response.request.path)


def test_hsts_only_over_tls(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(secure.headers["Strict-Transport-Security"].split("=")[1]) >= 180 * 24 * 3600


def test_behind_a_tls_proxy_the_forwarded_scheme_and_client_count(app, tmp_path):
    """ProxyFix, when configured, trusts X-Forwarded-Proto/-For from the one proxy in front."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    # Not configured: a client can't claim TLS (or an address) by sending the header itself.
    assert "Strict-Transport-Security" not in app.test_client().get("/", headers=forwarded).headers
    with other_app(app, tmp_path, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1) as proxied:
        seen = {}
        proxied.before_request(lambda: seen.setdefault("addr", _remote_addr()))
        response = proxied.test_client().get("/", headers=forwarded)
        assert "Strict-Transport-Security" in response.headers
        assert seen["addr"] == "203.0.113.7"


def _remote_addr():
    from flask import request

    return request.remote_addr


def test_private_pages_are_not_cached_and_send_no_referrer(app, world, admin_client):
    manage = admin_client.get(f"/manage/{world.manage_token}")
    assert manage.status_code == 200
    assert manage.headers["Cache-Control"] == "no-store"
    assert manage.headers["Referrer-Policy"] == "no-referrer"
    organiser = admin_client.get("/organiser/")
    assert organiser.headers["Cache-Control"] == "no-store"
    public = admin_client.get(f"/events/{world.event.slug}/")
    assert "no-store" not in public.headers.get("Cache-Control", "")


def _session_cookie(response):
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies, "no session cookie was set"
    return cookies[-1].lower()


def test_session_cookie_is_httponly_and_samesite_and_not_secure_over_http(client, make_organiser):
    from tests.conftest import ORGANISER_PASSWORD

    organiser = make_organiser()
    response = client.post(
        "/organiser/login", data={"email": organiser.email, "password": ORGANISER_PASSWORD}
    )
    cookie = _session_cookie(response)
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.replace("samesite", "")  # over http it would be dropped


def test_session_cookie_is_secure_behind_tls(app, tmp_path, make_organiser):
    from tests.conftest import ORGANISER_PASSWORD

    email = make_organiser().email
    with other_app(app, tmp_path, PREFERRED_URL_SCHEME="https") as tls_app:
        response = tls_app.test_client().post(
            "/organiser/login",
            data={"email": email, "password": ORGANISER_PASSWORD},
            base_url="https://localhost",
        )
        cookie = _session_cookie(response)
        assert "; secure" in cookie and "httponly" in cookie

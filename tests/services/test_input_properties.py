"""Property-based tests: the services and forms take arbitrary unicode, huge strings,
control characters and values of the wrong type, and answer with a DomainError (or succeed),
never with another exception; a refused call leaves the database as it was."""

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, Registration
from eventapp.services import validation
from eventapp.services.errors import DomainError
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as people (and attackers) send it: any code point, control characters, surrogates'
# neighbours, right-to-left marks, and now and then something enormous.
any_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F)),
    st.text(alphabet=st.sampled_from("<>\"'&=+-@\u202e\u200b\ufeff\x00\r\n\t ")),
    st.builds(lambda ch, n: ch * n, st.characters(), st.integers(0, 50_000)),
)
any_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), any_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(any_text, inner, max_size=3)
    ),
    max_leaves=10,
)
session_ids = st.one_of(
    any_value,
    st.lists(st.integers(min_value=-(2**63), max_value=2**63), max_size=200),
    st.lists(st.integers(min_value=1, max_value=6), max_size=8),
)


@pytest.fixture
def plain_app(app):
    """The pure validation functions need an app (for translations) but no database: run
    them once, on the SQLite leg of the suite."""
    if app.config["DATABASE_KIND"] != "sqlite":
        pytest.skip("independent of the database")
    return app


def row_counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Attendee)),
        db.session.scalar(select(func.count()).select_from(Registration)),
    )


@pytest.fixture
def programme(app, make_event, make_session):
    event = make_event()
    sessions = [make_session(event, start=hour, capacity=2) for hour in (0, 0.5, 2)]
    sessions.append(make_session(event, start=4, kind="plenary", capacity=50))
    return event, sessions


@PROPERTY_SETTINGS
@given(
    name=any_value,
    email=st.one_of(any_value, st.emails()),
    organisation=any_value,
    job_role=any_value,
    ids=session_ids,
    waitlist=any_value,
    consent=any_value,
    locale=any_text,
)
def test_register_refuses_bad_input_with_a_domain_error_only(
    programme, now, name, email, organisation, job_role, ids, waitlist, consent, locale
):
    event, _ = programme
    before = row_counts()
    data = RegistrationInput(
        name=name,
        email=email,
        organisation=organisation,
        job_role=job_role,
        session_ids=ids,
        waitlist=waitlist,
        consent=consent,
        locale=locale,
    )
    try:
        result = registration.register(event, data, now)
    except DomainError:
        db.session.rollback()
        assert row_counts() == before
    else:
        assert result.attendee.name.strip() == result.attendee.name
        assert len(result.attendee.name) <= validation.NAME_MAX
        db.session.rollback()


@PROPERTY_SETTINGS
@given(ids=session_ids, waitlist=st.booleans())
def test_change_sessions_refuses_bad_input_with_a_domain_error_only(programme, now, ids, waitlist):
    event, sessions = programme
    existing = db.session.scalar(select(Attendee).where(Attendee.event_id == event.id))
    if existing is None:
        registration.register(
            event,
            RegistrationInput(
                name="Ada", email="ada@example.org", session_ids=[sessions[-1].id], consent=True
            ),
            now,
        )
        db.session.commit()
        existing = db.session.scalar(select(Attendee).where(Attendee.event_id == event.id))
    before = sorted((r.session_id, r.status) for r in existing.registrations)
    with contextlib.suppress(DomainError):
        registration.change_sessions(existing, ids, waitlist=waitlist, now=now)
    db.session.rollback()
    db.session.expire_all()
    assert sorted((r.session_id, r.status) for r in existing.registrations) == before


@settings(PROPERTY_SETTINGS, max_examples=200)
@given(value=any_value, max_length=st.integers(0, 10_000), required=st.booleans())
def test_clean_text_never_raises_and_never_passes_control_characters(
    plain_app, value, max_length, required
):
    errors = validation.FieldErrors()
    cleaned = validation.clean_text(value, "f", errors, max_length=max_length, required=required)
    assert isinstance(cleaned, str)
    if not errors:
        assert len(cleaned) <= max_length
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in cleaned)


@settings(PROPERTY_SETTINGS, max_examples=200)
@given(value=st.one_of(any_value, st.emails()))
def test_clean_email_never_raises(plain_app, value):
    errors = validation.FieldErrors()
    cleaned = validation.clean_email(value, "email", errors)
    assert isinstance(cleaned, str)
    if not errors:
        assert "@" in cleaned and len(cleaned) <= validation.EMAIL_MAX
        assert not any(ch in cleaned for ch in "\r\n\x00<>,")


@settings(PROPERTY_SETTINGS, max_examples=200)
@given(value=session_ids)
def test_clean_id_list_gives_positive_database_sized_ids(plain_app, value):
    errors = validation.FieldErrors()
    ids = validation.clean_id_list(value, "ids", errors)
    assert all(type(i) is int and 0 < i < 2**31 for i in ids)
    assert len(ids) == len(set(ids))


# -- Forms, through HTTP: whatever is posted, the answer is never a server error -----------


def as_sent(text: str) -> str | bytes:
    """A form value as a client puts it on the wire. A lone surrogate has no UTF-8 form (the
    test client's urlencode would fail before the app is reached), but a hostile client can
    still send its bytes: the app gets those, which are not valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
    return text


form_value = st.one_of(
    any_text.filter(lambda t: len(t) < 5000).map(as_sent), st.integers().map(str), st.just("")
)


@PROPERTY_SETTINGS
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "email",
                "organisation",
                "job_role",
                "plenary",
                "waitlist",
                "consent",
                "round_1",
                "round_x",
                "csrf_token",
                "\x00",
                "name[]",
            ]
        ),
        st.one_of(form_value, st.lists(form_value, max_size=4)),
        max_size=9,
    )
)
def test_the_registration_form_answers_any_post_without_a_server_error(programme, client, fields):
    event, _ = programme
    before = row_counts()
    response = client.post(f"/events/{event.slug}/register", data=fields)
    assert response.status_code in (302, 400, 413, 422), response.status_code
    if response.status_code != 302:
        db.session.rollback()
        assert row_counts() == before


@PROPERTY_SETTINGS
@given(body=any_value)
def test_the_registration_api_answers_any_json_without_a_server_error(programme, client, body):
    event, _ = programme
    before = row_counts()
    response = client.post(f"/api/v1/events/{event.slug}/registrations", json=body)
    assert response.status_code in (201, 400, 409, 413, 422), response.status_code
    assert response.is_json
    if response.status_code != 201:
        db.session.rollback()
        assert row_counts() == before

"""No raw values in the interface and plurals said right (issue 19.7): stored values are shown
through one mapping (eventapp/labels.py), counts through ngettext, in Dutch and English."""

import re

import flask_babel
import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.labels import LABELS, label
from eventapp.models import OutboxMessage
from eventapp.models.attendee import REGISTRATION_STATUSES
from eventapp.models.event import EVENT_STATUSES, SESSION_KINDS
from eventapp.models.outbox import OUTBOX_STATUSES
from eventapp.services.validation import too_long
from tests.catalogs import ROOT
from tests.registering import register


def in_language(client, language: str) -> None:
    client.get(f"/lang/{language}")
    flask_babel.refresh()  # the test's app context outlives requests; Babel caches the locale


def test_every_stored_value_has_words():
    assert set(EVENT_STATUSES) <= LABELS["event_status"].keys()
    assert set(SESSION_KINDS) <= LABELS["session_kind"].keys()
    assert set(REGISTRATION_STATUSES) <= LABELS["registration_status"].keys()
    assert set(OUTBOX_STATUSES) <= LABELS["mail_status"].keys()
    assert label("event_status", "something new") == "something new"  # shown, not lost


# A value printed as it is stored: {{ x.status }}, {{ m.kind }}, {{ e.action }}; not in a
# CSS class (status-{{ r.status }}) or a data attribute (data-kind="{{ c.kind }}").
RAW_VALUE = re.compile(
    r'(?<![-"])\{\{\s*[\w.]+\.(status|kind|state|action|object_type|role|mode)\s*\}\}'
)


def test_no_template_prints_a_stored_value_raw():
    raw = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for match in RAW_VALUE.finditer(path.read_text())
    ]
    assert raw == []


def test_the_control_finds_a_raw_value():
    assert RAW_VALUE.search('<td>{{ m.kind }}</td><td>{{ m.kind|label("mail_kind") }}</td>')
    assert not RAW_VALUE.search('<td>{{ m.kind|label("mail_kind") }}</td>')
    assert not RAW_VALUE.search('<li class="status-{{ r.status }}" data-kind="{{ c.kind }}">')


@pytest.fixture
def organiser(client, make_organiser, login):
    return login(make_organiser())


@pytest.mark.parametrize(
    ("language", "status", "kind"), [("en", "Published", "Workshop"), ("nl", None, None)]
)
def test_the_programme_page_names_status_and_kind(
    client, organiser, make_event, make_session, language, status, kind
):
    event = make_event(status="published")
    make_session(event, title="Robots")
    in_language(client, language)
    page = client.get(f"/organiser/events/{event.slug}/programme").get_data(as_text=True)
    assert (
        "· published</p>" not in page and '<span class="session-kind">workshop</span>' not in page
    )
    if status:
        assert f"· {status}</p>" in page and f'<span class="session-kind">{kind}</span>' in page
    else:  # Dutch: the catalog's words
        assert "· Gepubliceerd</p>" in page


def test_the_attendee_page_names_email_kinds_and_statuses(
    client, organiser, make_event, make_session, now
):
    event = make_event()
    ada = register(event, [make_session(event)], now, "ada@example.org")
    in_language(client, "en")
    page = client.get(f"/organiser/events/{event.slug}/attendees/{ada.id}").get_data(as_text=True)
    mail = re.search(r'id="attendee-mail".*?</table>', page, re.S).group(0)
    assert "<td>Confirmation</td>" in mail and "<td>Waiting to be sent</td>" in mail
    assert "<td>confirmation</td>" not in mail and "<td>pending</td>" not in mail


def test_the_audit_log_names_actions(client, organiser, make_event):
    event = make_event()
    in_language(client, "en")
    client.post(
        f"/organiser/events/{event.slug}/rooms/new", data={"name": "Studio", "capacity": "20"}
    )
    page = client.get(f"/organiser/events/{event.slug}/audit").get_data(as_text=True)
    assert "Room added" in page and "room.created</td>" not in page
    assert "Studio" in page  # what was added, by name (backoffice/audit_log.py)


def test_failed_emails_on_the_dashboard_are_named(client, organiser, make_event, make_session, now):
    event = make_event()
    register(event, [make_session(event)], now, "ada@example.org")
    message = db.session.scalar(select(OutboxMessage))
    message.status, message.attempts, message.last_error = "failed", 3, "550 no such user"
    db.session.commit()
    in_language(client, "en")
    page = client.get(f"/organiser/events/{event.slug}/").get_data(as_text=True)
    failed = re.search(r'id="failed-mail".*?</table>', page, re.S).group(0)
    assert "<td>Confirmation</td>" in failed
    assert "<strong>1</strong> <span>failed email</span>" in page


@pytest.mark.parametrize(
    ("language", "one", "wrong"),
    [("en", "1 attendee", "1 attendees"), ("nl", "1 deelnemer", "1 deelnemers")],
)
def test_the_checkin_list_counts_in_both_languages(
    client, make_organiser, login, make_event, make_session, now, language, one, wrong
):
    event = make_event()
    register(event, [make_session(event)], now, "ada@example.org")
    login(make_organiser("checkin"))
    in_language(client, language)
    page = client.get("/organiser/").get_data(as_text=True)
    assert one in page and wrong not in page


def test_one_person_moved_up_is_said_in_the_singular(
    client, organiser, make_event, make_session, now
):
    event = make_event()
    robots = make_session(event, capacity=1, title="Robots")
    register(event, [robots], now, "ada@example.org")
    register(event, [robots], now, "bob@example.org")  # waits
    in_language(client, "en")
    response = client.post(
        f"/organiser/events/{event.slug}/sessions/{robots.id}/edit",
        data={
            "title": "Robots",
            "kind": "workshop",
            "starts_at": "2027-03-18T10:00",
            "ends_at": "2027-03-18T11:00",
            "room_id": "0",
            "capacity": "2",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "1 person moved up from the waiting list." in page
    assert "1 people" not in page


def test_a_message_to_one_attendee_is_said_in_the_singular(
    client, organiser, make_event, make_session, now
):
    event = make_event()
    robots = make_session(event, title="Robots")
    register(event, [robots], now, "ada@example.org")
    in_language(client, "nl")
    response = client.post(
        f"/organiser/events/{event.slug}/messages",
        data={
            "audience": f"session:{robots.id}",
            "subject": "Zaal",
            "body": "Andere zaal.",
            "action": "preview",
        },
    )
    page = response.get_data(as_text=True)
    assert "1 ontvanger<" in page and "Versturen naar 1 deelnemer<" in page
    assert "1 ontvangers" not in page


def test_a_length_limit_of_one_is_singular(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        flask_babel.refresh()
        assert too_long(1) == "At most 1 character."
        assert too_long(200) == "At most 200 characters."

"""Messages to attendees: preview with a count, then one outbox row per recipient, audited;
and the email the worker renders from such a row."""

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import AuditEntry, OutboxMessage
from eventapp.services.backoffice import messages
from eventapp.services.errors import InvalidInput
from eventapp.services.mail.render import render
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput


def sign_up(event, sessions, email, now, *, waitlist_ok=False, locale="en"):
    result = registration.register(
        event,
        RegistrationInput(
            name=email.split("@")[0].title(),
            email=email,
            session_ids=[s.id for s in sessions],
            waitlist=waitlist_ok,
            consent=True,
            locale=locale,
        ),
        now,
    )
    db.session.commit()
    return result.attendee


def organiser_messages():
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "organiser_message")
        .order_by(OutboxMessage.recipient)
    ).all()


def test_preview_then_send_to_one_session(
    client, make_organiser, login, make_event, make_session, now
):
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=50)
    workshop = make_session(event, start=1, capacity=2, title="Robots")
    for name in ("ada", "bob", "cyd"):
        sign_up(event, [plenary, workshop], f"{name}@example.org", now, waitlist_ok=True)
    gone = sign_up(event, [plenary, workshop], "gone@example.org", now, waitlist_ok=True)
    registration.cancel_registration(gone, now)
    db.session.commit()
    client.get("/lang/en")
    organiser = login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/messages"
    form = {
        "audience": f"session:{workshop.id}",
        "subject": "Room change",
        "body": "Robots moves to the Studio.\n\nSee you there!",
    }

    response = client.post(url, data={**form, "action": "preview"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 recipients" in page and "Send to 2 attendees" in page
    assert 'name="expected_count" type="hidden" value="2"' in page
    assert organiser_messages() == []  # a preview sends nothing

    # Sending without a preview only previews.
    client.post(url, data={**form, "action": "send"})
    assert organiser_messages() == []

    response = client.post(url, data={**form, "action": "send", "expected_count": "2"})
    assert response.status_code == 302
    sent = organiser_messages()
    assert [m.recipient for m in sent] == ["ada@example.org", "bob@example.org"]
    assert sent[0].payload == {
        "subject": "Room change",
        "body": "Robots moves to the Studio.\n\nSee you there!",
    }
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.message")).one()
    assert entry.organiser_id == organiser.id and entry.after["recipients"] == 2
    assert "Room change" in client.get(url).get_data(as_text=True)  # the history


def test_send_is_refused_when_the_audience_changed_since_the_preview(
    client, make_organiser, login, make_event, make_session, now
):
    event = make_event()
    session = make_session(event, capacity=10)
    sign_up(event, [session], "ada@example.org", now)
    client.get("/lang/en")
    login(make_organiser("admin"))
    url = f"/organiser/events/{event.slug}/messages"
    form = {"audience": "all", "subject": "Hi", "body": "Hello", "action": "send"}
    sign_up(event, [session], "late@example.org", now)  # registered after the preview said 1

    response = client.post(url, data={**form, "expected_count": "1"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "changed from 1 to 2" in page and "Send to 2 attendees" in page
    assert organiser_messages() == []


def test_subject_cannot_smuggle_headers_and_the_audience_must_be_real(
    make_event, make_session, make_organiser, now
):
    event, other = make_event(), make_event()
    session = make_session(event)
    foreign = make_session(other)
    sign_up(event, [session], "ada@example.org", now)
    with pytest.raises(InvalidInput) as bad:
        messages.clean_message("Hi\r\nBcc: everyone@example.org", "Body")
    assert "subject" in bad.value.fields
    with pytest.raises(InvalidInput):
        messages.clean_message("Hi", "  \n ")
    with pytest.raises(InvalidInput):
        messages.Audience.parse(event, f"session:{foreign.id}")
    assert messages.recipient_count(event, messages.Audience.parse(event, "all")) == 1
    assert messages.clean_message(" Hi ", "a\r\nb\tc") == ("Hi", "a\nb    c")


def test_the_worker_renders_the_message_in_both_alternatives(
    app, make_event, make_session, make_organiser, now
):
    event = make_event(name="Smart Industry 2027")
    session = make_session(event)
    ada = sign_up(event, [session], "ada@example.org", now)
    messages.send_message(
        event,
        messages.Audience(),
        messages.draft(event, "Parking <today>", "Use entrance B & C.\n\nSee you!"),
        actor=make_organiser("admin"),
        now=now,
    )
    db.session.commit()
    row = organiser_messages()[0]
    with app.test_request_context("/"):
        email = render(row, now)
    assert email.subject == "Parking <today>"
    assert email.recipients == [(ada.name, "ada@example.org")]
    assert "Use entrance B & C." in email.body and "/manage/" in email.body
    assert "Use entrance B &amp; C." in email.html and "<p>See you!</p>" in email.html
    assert not email.calendar_parts
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


BOTH_LANGUAGES = {
    "audience": "all",
    "subject": "Parkeren",
    "body": "Parkeer bij ingang B.",
    "other_subject": "Parking",
    "other_body": "Park at entrance B.",
}


@pytest.fixture
def bilingual(client, make_organiser, login, make_event, make_session, now):
    """A Dutch event with a Dutch and an English attendee, and an organiser signed in."""
    event = make_event()
    session = make_session(event, capacity=10)
    anne = sign_up(event, [session], "anne@example.org", now, locale="nl")
    ada = sign_up(event, [session], "ada@example.org", now, locale="en")
    db.session.execute(OutboxMessage.__table__.delete())  # the confirmations
    db.session.commit()
    client.get("/lang/en")
    organiser = login(make_organiser("organiser", email="org@example.org"))
    return event, anne, ada, organiser


def test_the_editor_shows_the_greeting_every_email_opens_with(client, bilingual):
    event, *_people = bilingual
    url = f"/organiser/events/{event.slug}/messages"
    page = client.get(url).get_data(as_text=True)
    assert "Every email already opens with “Beste [naam],”" in page  # the event's Dutch
    assert "Every email already opens with “Hello [name],”" in page  # the English version
    client.get("/lang/nl")
    page = client.get(url).get_data(as_text=True)
    assert "Elke e-mail begint al met „Beste [naam],”" in page


def test_a_greeting_of_its_own_is_flagged_and_removed_on_request(client, bilingual):
    event, anne, _ada, _organiser = bilingual
    url = f"/organiser/events/{event.slug}/messages"
    form = {"audience": "all", "subject": "Parkeren", "body": "Beste allemaal,\n\nParkeer bij B."}
    page = client.post(url, data={**form, "action": "preview"}).get_data(as_text=True)
    assert "starts with a greeting of its own (“Beste allemaal,”)" in page
    assert "after the automatic “Beste Anne,”" in page  # as Anne sees it
    assert 'value="strip_greeting"' in page

    page = client.post(url, data={**form, "action": "strip_greeting"}).get_data(as_text=True)
    assert "starts with a greeting of its own" not in page
    assert "Parkeer bij B.</textarea>" in page and "Beste allemaal" not in page
    assert organiser_messages() == []


@pytest.mark.parametrize(
    ("body", "greeting"),
    [
        ("Dear all,\nSee you.", "Dear all,"),
        ("  \nHi everyone!\nBring a laptop.", "Hi everyone!"),
        ("Hallo", "Hallo"),
        ("Dag 2 begins at nine in room B.", None),
        ("Hello from the organisers: we moved the lunch to the atrium today.", None),
        ("Parking is at entrance B.", None),
    ],
)
def test_what_counts_as_a_greeting_of_its_own(body, greeting):
    assert messages.own_greeting(body) == greeting


def test_each_attendee_gets_the_version_in_their_language(client, bilingual, now, smtp_server):
    event, anne, ada, _organiser = bilingual
    url = f"/organiser/events/{event.slug}/messages"
    form = BOTH_LANGUAGES
    page = client.post(url, data={**form, "action": "preview"}).get_data(as_text=True)
    assert "Nederlands: 1 recipient" in page and "English: 1 recipient" in page
    assert "Beste Anne," in page and "Hello Ada," in page
    client.post(url, data={**form, "action": "send", "expected_count": "2"})
    send_pending(now=now)
    [to_anne] = [m for m in smtp_server.messages if "anne@example.org" in m["To"]]
    [to_ada] = [m for m in smtp_server.messages if "ada@example.org" in m["To"]]
    assert to_anne["Subject"] == "Parkeren"
    assert "Beste Anne," in to_anne.get_body(("plain",)).get_content()
    assert "Parkeer bij ingang B." in to_anne.get_body(("plain",)).get_content()
    assert to_ada["Subject"] == "Parking"
    text = to_ada.get_body(("plain",)).get_content()
    assert "Hello Ada," in text and "Park at entrance B." in text
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.message")).one()
    assert entry.after["versions"] == {"en": {"subject": "Parking", "body": "Park at entrance B."}}


def test_without_a_version_in_their_language_attendees_get_the_events(
    client, bilingual, now, smtp_server
):
    event, _anne, _ada, _organiser = bilingual
    url = f"/organiser/events/{event.slug}/messages"
    form = {"audience": "all", "subject": "Parkeren", "body": "Parkeer bij ingang B."}
    client.post(url, data={**form, "action": "send", "expected_count": "2"})
    send_pending(now=now)
    assert sorted(m["Subject"] for m in smtp_server.messages) == ["Parkeren", "Parkeren"]
    to_ada = next(m for m in smtp_server.messages if "ada@example.org" in m["To"])
    assert "Hello Ada," in to_ada.get_body(("plain",)).get_content()  # her own greeting

    # Half a second version is not a version: both fields, or neither.
    page = client.post(url, data={**form, "other_subject": "Parking", "action": "preview"})
    assert page.status_code == 422
    assert 'id="other_body-error"' in page.get_data(as_text=True)


def test_a_test_goes_to_the_organiser_only_and_counts_as_nothing_sent(
    client, bilingual, now, smtp_server
):
    event, anne, ada, organiser = bilingual
    url = f"/organiser/events/{event.slug}/messages"
    form = BOTH_LANGUAGES
    page = client.post(url, data={**form, "action": "test"}).get_data(as_text=True)
    assert "2 tests (one per language) are on their way to org@example.org" in page
    assert "Parkeer bij ingang B.</textarea>" in page  # the draft stays, to send later
    send_pending(now=now)
    received = smtp_server.received
    assert [r.rcpt_tos for r in received] == [["org@example.org"], ["org@example.org"]]
    subjects = sorted(r.message["Subject"] for r in received)
    assert subjects == ["[Test] Parkeren", "[Test] Parking"]
    dutch = next(r.message for r in received if r.message["Subject"] == "[Test] Parkeren")
    text = dutch.get_body(("plain",)).get_content()
    assert text.startswith("TEST: alleen jij krijgt deze e-mail")
    assert "Beste Anne," in text and "/manage/" not in text  # nobody's private link
    assert organiser_messages() == []
    assert messages.sent_messages(event) == []
    attendee_page = client.get(f"/organiser/events/{event.slug}/attendees/{anne.id}")
    assert "Parkeren" not in attendee_page.get_data(as_text=True)
    assert "org@example.org" in dutch["To"] and "anne@" not in dutch["To"]

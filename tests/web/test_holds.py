"""Confirm email before seats are held (issue 18, section 1): a public registration of such an
event holds its seats until the link in its email is confirmed with a POST; the periodic job
gives unconfirmed seats back through the cancel path, so waiting lists move on. The private
links reach only the mailbox (a real SMTP server here), never the form's page or the API's
201 answer; organiser clients are never held."""

import re
from datetime import timedelta

import flask_babel
import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, Event, OutboxMessage, Registration
from eventapp.models.types import utcnow
from eventapp.services import links
from eventapp.services.backoffice.demo import load_demo_event
from eventapp.services.mail.worker import send_pending
from eventapp.services.periodic import run_periodic
from eventapp.services.registration.register import confirmed_count_matches_counter
from tests.registering import register
from tests.web.conftest import fresh


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def held_event(make_event, make_session):
    """An event that confirms the email first, with a plenary and a one-seat lab."""
    event = make_event(name="Smart Industry 2027", confirm_email_first=True)
    plenary = make_session(event, kind="plenary", capacity=100, title="Opening")
    lab = make_session(event, start=1, capacity=1, title="Lab")
    return event, plenary, lab


def sign_up_on_form(client, event, session, email, **extra):
    return client.post(
        f"/events/{event.slug}/register",
        data={
            "name": email.split("@")[0].title(),
            "email": email,
            "plenary": [str(session.id)],
            "consent": "y",
            **extra,
        },
    )


def sign_up_by_api(client, event, session, email, **extra):
    return client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={
            "name": "Bo",
            "email": email,
            "session_ids": [session.id],
            "consent": True,
            "locale": "en",
            **extra,
        },
    )


def attendee_of(email) -> Attendee:
    db.session.expire_all()
    return db.session.scalar(select(Attendee).where(Attendee.email == email))


def text_of(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_content()


def manage_path_in(message) -> str:
    return re.search(r"http://localhost(/manage/\S+)", text_of(message)).group(1)


def mail_to(smtp_server, address):
    return [m for m in smtp_server.messages if address in m["To"]]


def test_form_registration_holds_the_seat_and_the_page_keeps_the_links_out(client, held_event):
    event, plenary, _lab = held_event
    before = utcnow()
    response = sign_up_on_form(client, event, plenary, "ada@example.org")
    assert response.status_code == 302
    ada = attendee_of("ada@example.org")
    assert ada.on_hold
    minutes = (ada.hold_expires_at - before).total_seconds() / 60
    assert 30 <= minutes < 31
    assert fresh(type(plenary), plenary.id).seats_taken == 1

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Almost there, Ada: confirm your email address" in page
    assert "within 30 minutes" in page
    assert links.manage_token(ada) not in page and links.feed_token(ada) not in page
    assert "/manage/" not in page and "/calendar/" not in page
    assert "Held until you confirm" in page


def test_the_email_asks_to_confirm_and_only_the_post_of_its_page_confirms(
    client, held_event, now, smtp_server
):
    event, plenary, _lab = held_event
    sign_up_on_form(client, event, plenary, "ada@example.org")
    send_pending(now=now)
    [message] = mail_to(smtp_server, "ada@example.org")
    assert message["Subject"] == "Confirm your registration for Smart Industry 2027"
    assert "confirm within 30 minutes" in text_of(message)
    assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    path = manage_path_in(message)

    page = client.get(path)  # what a mail filter that follows links does
    assert page.status_code == 200
    assert "Yes, confirm my registration" in page.get_data(as_text=True)
    assert 'method="post"' in page.get_data(as_text=True)
    assert attendee_of("ada@example.org").on_hold
    assert client.get(path).status_code == 200 and attendee_of("ada@example.org").on_hold

    confirmed = client.post(f"{path}/confirm", follow_redirects=True)
    assert "Your registration is confirmed" in confirmed.get_data(as_text=True)
    ada = attendee_of("ada@example.org")
    assert not ada.on_hold and ada.hold_expires_at is None and ada.status == "active"
    assert fresh(type(plenary), plenary.id).seats_taken == 1

    send_pending(now=now)
    confirmation = mail_to(smtp_server, "ada@example.org")[-1]
    assert confirmation["Subject"] == "Your registration for Smart Industry 2027"
    assert [p for p in confirmation.walk() if p.get_content_type() == "text/calendar"]
    again = client.post(f"{path}/confirm")  # a second click changes nothing, sends nothing
    assert again.status_code == 303
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["confirm_email", "confirmation"]


def test_the_api_answer_has_no_private_link_and_the_token_confirms(client, held_event):
    event, plenary, _lab = held_event
    response = sign_up_by_api(client, event, plenary, "bo@example.org")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "held"
    assert body["manage_url"] is None and body["calendar_url"] is None
    assert body["hold_expires_at"]
    bo = attendee_of("bo@example.org")
    text = response.get_data(as_text=True)
    assert links.manage_token(bo) not in text and links.feed_token(bo) not in text
    assert [s["status"] for s in body["sessions"]] == ["confirmed"]

    confirmed = client.post(f"/api/v1/registrations/{links.manage_token(bo)}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.get_json()["hold_expires_at"] is None
    assert confirmed.get_json()["manage_url"].endswith(links.manage_token(bo))
    assert not attendee_of("bo@example.org").on_hold


def test_organiser_clients_and_events_without_the_setting_are_never_held(
    client, held_event, make_event, make_session, make_organiser, api_token
):
    event, plenary, _lab = held_event
    bearer = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    by_organiser = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={
            "name": "Cy",
            "email": "cy@example.org",
            "session_ids": [plenary.id],
            "consent": True,
        },
        headers=bearer,
    )
    assert by_organiser.status_code == 201
    assert by_organiser.get_json()["status"] == "confirmed"
    assert by_organiser.get_json()["manage_url"]
    assert attendee_of("cy@example.org").hold_expires_at is None

    plain = make_event()  # built directly: the setting is off unless set
    talk = make_session(plain, kind="plenary", capacity=10)
    answer = sign_up_by_api(client, plain, talk, "di@example.org")
    assert answer.get_json()["status"] == "confirmed" and answer.get_json()["manage_url"]


def test_expired_holds_go_back_by_the_periodic_job_and_the_waiting_list_moves_on(
    client, held_event, smtp_server, now
):
    event, _plenary, lab = held_event
    assert sign_up_by_api(client, event, lab, "bot@throwaway.example").status_code == 201
    waiting = sign_up_by_api(client, event, lab, "eve@example.org", waitlist=True)
    assert [s["status"] for s in waiting.get_json()["sessions"]] == ["waitlisted"]
    eve = attendee_of("eve@example.org")
    assert (
        client.post(f"/api/v1/registrations/{links.manage_token(eve)}/confirm").status_code == 200
    )
    send_pending(now=now)
    smtp_server.handler.received.clear()

    assert run_periodic(utcnow() + timedelta(minutes=29))["holds_released"] == 0
    assert run_periodic(utcnow() + timedelta(minutes=31))["holds_released"] == 1

    bot = attendee_of("bot@throwaway.example")
    assert bot.status == "cancelled" and bot.hold_expires_at is not None
    assert [r.status for r in bot.registrations] == ["cancelled"]
    [eves] = attendee_of("eve@example.org").registrations
    assert eves.status == "confirmed"
    assert confirmed_count_matches_counter(lab.id)
    assert fresh(type(lab), lab.id).seats_taken == 1
    send_pending(now=now)
    assert [m["Subject"] for m in mail_to(smtp_server, "eve@example.org")] == [
        "A place became free: you are in for Lab"
    ]
    assert mail_to(smtp_server, "bot@throwaway.example") == []  # nobody confirmed it


def test_a_waiting_list_place_is_held_too_and_released_unconfirmed(client, held_event):
    event, _plenary, lab = held_event
    sign_up_by_api(client, event, lab, "first@example.org")
    queued = sign_up_by_api(client, event, lab, "queue@example.org", waitlist=True)
    assert queued.get_json()["status"] == "held"
    run_periodic(utcnow() + timedelta(minutes=31))
    assert attendee_of("queue@example.org").status == "cancelled"
    assert (
        db.session.scalar(
            select(Registration.status).join(Attendee).where(Attendee.email == "queue@example.org")
        )
        == "cancelled"
    )


def test_a_confirmation_before_the_job_keeps_the_seats_and_after_it_is_refused(client, held_event):
    event, plenary, _lab = held_event
    sign_up_by_api(client, event, plenary, "late@example.org")
    sign_up_by_api(client, event, plenary, "later@example.org")
    late, later = attendee_of("late@example.org"), attendee_of("later@example.org")
    for attendee in (late, later):  # both past their time, the job not run yet
        attendee.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    late_token, later_token = links.manage_token(late), links.manage_token(later)

    assert client.post(f"/manage/{late_token}/confirm").status_code == 303
    assert run_periodic(utcnow())["holds_released"] == 1
    assert attendee_of("late@example.org").status == "active"
    assert attendee_of("later@example.org").status == "cancelled"

    refused = client.post(f"/manage/{later_token}/confirm", follow_redirects=True)
    assert "was not confirmed in time" in refused.get_data(as_text=True)
    api = client.post(f"/api/v1/registrations/{later_token}/confirm")
    assert api.status_code == 409 and api.get_json()["error"] == "registration_closed"
    assert confirmed_count_matches_counter(plenary.id)


def test_coming_back_through_the_link_after_a_release_is_a_confirmed_registration(
    client, held_event
):
    event, plenary, _lab = held_event
    sign_up_by_api(client, event, plenary, "again@example.org")
    run_periodic(utcnow() + timedelta(minutes=31))
    token = links.manage_token(attendee_of("again@example.org"))
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    assert "This registration has been cancelled." in page
    back = client.post(f"/manage/{token}/sessions", data={"plenary": [str(plenary.id)]})
    assert back.status_code == 303
    again = attendee_of("again@example.org")
    assert again.status == "active" and again.hold_expires_at is None
    assert run_periodic(utcnow() + timedelta(minutes=31))["holds_released"] == 0


def test_the_cli_job_reports_the_released_holds(client, held_event, runner):
    event, plenary, _lab = held_event
    sign_up_by_api(client, event, plenary, "gone@example.org")
    attendee_of("gone@example.org").hold_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["periodic", "--force"])
    assert result.exit_code == 0, result.output
    assert "holds_released: 1" in result.output
    assert fresh(type(plenary), plenary.id).seats_taken == 0


def test_the_organiser_sees_held_registrations_and_held_seats(
    client, held_event, make_organiser, login, api_token
):
    event, plenary, _lab = held_event
    sign_up_by_api(client, event, plenary, "held@example.org")
    sign_up_by_api(client, event, plenary, "sure@example.org")
    sure = attendee_of("sure@example.org")
    client.post(f"/manage/{links.manage_token(sure)}/confirm")
    organiser = login(make_organiser())

    dashboard = client.get(f"/organiser/events/{event.slug}/").get_data(as_text=True)
    assert "held, email unconfirmed: 1" in dashboard
    assert "waiting for email confirmation (seats held: 1)" in dashboard
    listing = client.get(f"/organiser/events/{event.slug}/attendees?status=held")
    text = listing.get_data(as_text=True)
    assert "held@example.org" in text and "sure@example.org" not in text
    assert "Email not confirmed: seats held until" in text
    organiser_api = {"Authorization": f"Bearer {api_token(organiser)}"}
    rows = client.get(
        f"/api/v1/events/{event.slug}/registrations?status=held", headers=organiser_api
    ).get_json()["registrations"]
    assert [row["email"] for row in rows] == ["held@example.org"]
    assert rows[0]["hold_expires_at"]

    client.get("/lang/nl")
    flask_babel.refresh()  # the test's app context outlives requests; Babel caches the locale
    dutch = client.get(f"/organiser/events/{event.slug}/attendees").get_data(as_text=True)
    assert "E-mailadres niet bevestigd: plaatsen vastgehouden tot" in dutch
    run_periodic(utcnow() + timedelta(minutes=31))
    flask_babel.refresh()
    expired = client.get(f"/organiser/events/{event.slug}/attendees?status=cancelled")
    assert "Niet op tijd bevestigd" in expired.get_data(as_text=True)


def test_new_events_confirm_the_email_first_through_the_form_the_api_and_the_demo(
    client, make_organiser, login, api_token
):
    organiser = make_organiser()
    bearer = {"Authorization": f"Bearer {api_token(organiser)}"}
    created = client.post(
        "/api/v1/events",
        json={
            "slug": "by-api",
            "name": "By API",
            "starts_at": "2027-03-18T09:00",
            "ends_at": "2027-03-18T18:00",
        },
        headers=bearer,
    )
    assert created.status_code == 201
    assert created.get_json()["confirm_email_first"] is True
    assert created.get_json()["hold_minutes"] == 30

    login(organiser)
    form = client.get("/organiser/events/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="confirm_email_first"', form) or re.search(
        r'<input[^>]*name="confirm_email_first"[^>]*checked', form
    )
    posted = client.post(
        "/organiser/events/new",
        data={
            "name": "By form",
            "slug": "by-form",
            "timezone": "Europe/Amsterdam",
            "starts_at": "2027-03-18T09:00",
            "ends_at": "2027-03-18T18:00",
            "status": "draft",
            "confirm_email_first": "y",
            "hold_minutes": "45",
        },
    )
    assert posted.status_code == 302, posted.get_data(as_text=True)
    by_form = db.session.scalar(select(Event).where(Event.slug == "by-form"))
    assert (by_form.confirm_email_first, by_form.hold_minutes) == (True, 45)

    session_form = client.get("/organiser/events/by-form/sessions/new").get_data(as_text=True)
    assert "hold_minutes" not in session_form  # an event's setting, not a session's

    demo, _created = load_demo_event()
    assert demo.confirm_email_first is True


@pytest.mark.parametrize("minutes", [4, 1441, "30", None])
def test_hold_minutes_outside_the_range_are_refused_and_change_nothing(
    client, make_event, make_organiser, api_token, minutes
):
    event = make_event(confirm_email_first=True)
    bearer = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    response = client.patch(
        f"/api/v1/events/{event.slug}", json={"hold_minutes": minutes}, headers=bearer
    )
    assert response.status_code == 422
    assert "hold_minutes" in response.get_json()["fields"]
    assert fresh(Event, event.id).hold_minutes == 30


def test_the_organiser_switches_it_off_and_sets_the_time_through_the_api(
    client, make_event, make_organiser, api_token
):
    event = make_event(confirm_email_first=True)
    bearer = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    response = client.patch(
        f"/api/v1/events/{event.slug}",
        json={"confirm_email_first": False, "hold_minutes": 90},
        headers=bearer,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["confirm_email_first"] is False
    stored = fresh(Event, event.id)
    assert (stored.confirm_email_first, stored.hold_minutes) == (False, 90)


def test_a_missing_confirm_email_comes_again_by_the_lost_link_form(
    client, held_event, now, smtp_server
):
    event, plenary, _lab = held_event
    sign_up_by_api(client, event, plenary, "lost@example.org")
    asked = client.post(f"/events/{event.slug}/lost-link", data={"email": "lost@example.org"})
    assert asked.status_code in (302, 303)
    send_pending(now=now)
    [_confirm, again] = mail_to(smtp_server, "lost@example.org")
    assert again["Subject"] == "Your personal link for Smart Industry 2027"
    page = client.get(manage_path_in(again)).get_data(as_text=True)
    assert "Yes, confirm my registration" in page


def test_a_fallback_kept_while_held_is_confirmed_only_with_the_rest(
    client, held_event, make_session, now, smtp_server
):
    """Waiting for a full lab with a fallback, on an event that holds seats: the fallback is
    held like the other seats, so the only email is the one asking to confirm (no
    "confirmed" email with calendar invitations for seats that may yet go back); confirming
    brings one first confirmation with every seat, the fallback's included."""
    event, plenary, lab = held_event
    studio = make_session(event, start=1, capacity=10, title="Studio")
    register(event, [lab], now, "first@example.org")  # an organiser's client: not held
    send_pending(now=now)
    smtp_server.handler.received.clear()
    slot = lab.starts_at.strftime("%Y%m%dT%H%M")
    response = sign_up_on_form(
        client,
        event,
        plenary,
        "fatima@example.org",
        **{f"round_{slot}": str(lab.id), f"fallback_{slot}": str(studio.id), "waitlist": "y"},
    )
    assert response.status_code == 302
    fatima = attendee_of("fatima@example.org")
    assert fatima.on_hold
    assert {r.session.title: r.status for r in fatima.registrations} == {
        "Opening": "confirmed",
        "Lab": "waitlisted",
        "Studio": "confirmed",
    }
    send_pending(now=now)
    [asking] = mail_to(smtp_server, "fatima@example.org")
    assert asking["Subject"] == "Confirm your registration for Smart Industry 2027"
    assert "Studio" in text_of(asking)

    client.post(f"{manage_path_in(asking)}/confirm")
    send_pending(now=now)
    [_, confirmation] = mail_to(smtp_server, "fatima@example.org")
    assert confirmation["Subject"] == "Your registration for Smart Industry 2027"
    body = text_of(confirmation)
    assert "Thank you for registering" in body and "has been updated" not in body
    [calendar] = [p for p in confirmation.walk() if p.get_content_type() == "text/calendar"]
    assert "SUMMARY:Studio" in calendar.get_content()  # the fallback's seat, now confirmed


@pytest.mark.parametrize(
    ("locale", "wording"), [("en", "On the waiting list, position 2"), ("nl", "plaats 2")]
)
def test_the_held_page_tells_the_waiting_list_position(
    client, held_event, now, smtp_server, locale, wording
):
    """Whoever confirms a held waiting-list place wants to know how far down the line it is."""
    event, _plenary, lab = held_event
    sign_up_by_api(client, event, lab, "first@example.org")
    sign_up_by_api(client, event, lab, "queue@example.org", waitlist=True)
    sign_up_by_api(client, event, lab, "second@example.org", waitlist=True, locale=locale)
    send_pending(now=now)
    [message] = mail_to(smtp_server, "second@example.org")

    page = client.get(manage_path_in(message)).get_data(as_text=True)

    assert 'method="post"' in page  # the held page, with its confirm button
    assert wording in page
    assert "position 1" not in page and "plaats 1" not in page

"""The attendee's private page over HTTP: view, change, cancel, details, offers, data."""

import json
import re

import flask_babel
import pytest
from flask import g
from flask_babel import refresh
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, OutboxMessage, Registration
from eventapp.services.registration import register as service
from eventapp.services.registration.register import (
    RegistrationInput,
    confirmed_count_matches_counter,
)


def sign_up(event, session_ids, email, *, waitlist=True, name="Ada Lovelace"):
    from eventapp.models.types import utcnow

    data = RegistrationInput(
        name=name,
        email=email,
        organisation="Engines BV",
        session_ids=session_ids,
        waitlist=waitlist,
        consent=True,
        consent_text="2026-11",
        locale="en",
    )
    result = service.register(event, data, utcnow())
    db.session.commit()
    return result.attendee, result.manage_token


def statuses(attendee_id) -> dict[int, str]:
    db.session.expire_all()
    return dict(
        db.session.execute(
            select(Registration.session_id, Registration.status).where(
                Registration.attendee_id == attendee_id
            )
        ).all()
    )


def seats(session_id) -> int:
    db.session.expire_all()
    return db.session.get(EventSession, session_id).seats_taken


@pytest.fixture
def programme(make_event, make_session):
    """A plenary, and one round of two workshops: Cobots (roomy) and Lab (one seat)."""
    event = make_event()
    plenary = make_session(event, start=0, kind="plenary", capacity=100, title="Opening")
    cobots = make_session(event, start=1, capacity=10, title="Cobots")
    lab = make_session(event, start=1, capacity=1, title="Lab demo")
    return event, plenary, cobots, lab


def round_field(page: str) -> str:
    return re.search(r'name="(round_[0-9T]+)"', page).group(1)


def test_page_shows_sessions_statuses_positions_and_calendar(client, programme):
    event, plenary, cobots, lab = programme
    sign_up(event, [lab.id], "holder@example.org")
    _, token = sign_up(event, [plenary.id, lab.id], "ada@example.org")

    page = client.get(f"/manage/{token}", headers={"Accept-Language": "en"})

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Opening" in text and "Confirmed" in text
    assert "Lab demo" in text and "On the waiting list, position 1" in text
    assert "/calendar/" in text  # the personal feed
    assert "Download my data" in text and "Delete my registration" in text
    assert (
        page.headers["Cache-Control"].startswith("no-store")
        or "private" in page.headers["Cache-Control"]
    )


def test_unknown_or_tampered_link_is_404(client, programme):
    event, plenary, *_ = programme
    _, token = sign_up(event, [plenary.id], "ada@example.org")
    tampered = client.get(f"/manage/{token[:-3]}abc")
    assert tampered.status_code == 404
    assert f"/events/{event.slug}/lost-link" in tampered.get_data(as_text=True)  # a way back
    assert client.get("/manage/short").status_code == 404
    assert client.post(f"/manage/{token[:-3]}abc/cancel").status_code == 404


def test_changing_the_workshop_moves_the_seat(client, programme):
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id, lab.id], "ada@example.org")
    page = client.get(f"/manage/{token}").get_data(as_text=True)

    response = client.post(
        f"/manage/{token}/sessions",
        data={"plenary": [str(plenary.id)], round_field(page): str(cobots.id)},
    )

    assert response.status_code == 303
    assert statuses(attendee.id) == {
        plenary.id: "confirmed",
        lab.id: "cancelled",
        cobots.id: "confirmed",
    }
    assert seats(lab.id) == 0 and seats(cobots.id) == 1
    kinds = {m.kind for m in db.session.scalars(select(OutboxMessage))}
    assert {"confirmation", "sessions_dropped"} <= kinds


def test_a_change_to_a_full_session_keeps_the_old_seat(client, programme):
    event, plenary, cobots, lab = programme
    sign_up(event, [lab.id], "holder@example.org")
    attendee, token = sign_up(event, [plenary.id, cobots.id], "ada@example.org")
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    outbox_before = db.session.query(OutboxMessage).count()

    response = client.post(
        f"/manage/{token}/sessions",
        data={"plenary": [str(plenary.id)], round_field(page): str(lab.id)},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert "Lab demo" in response.get_data(as_text=True)  # the error names the full one
    assert statuses(attendee.id) == {plenary.id: "confirmed", cobots.id: "confirmed"}
    assert seats(cobots.id) == 1 and seats(lab.id) == 1
    assert confirmed_count_matches_counter(cobots.id)
    assert db.session.query(OutboxMessage).count() == outbox_before


def test_cancelling_one_session_asks_first(client, programme):
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id, lab.id], "ada@example.org")
    _, waiting_token = sign_up(event, [lab.id], "bob@example.org")

    question = client.get(f"/manage/{token}/sessions/{lab.id}/cancel")
    assert question.status_code == 200
    assert statuses(attendee.id)[lab.id] == "confirmed"  # asking changes nothing

    done = client.post(f"/manage/{token}/sessions/{lab.id}/cancel")
    assert done.status_code == 303
    assert statuses(attendee.id) == {plenary.id: "confirmed", lab.id: "cancelled"}
    bob = db.session.scalar(select(Attendee).where(Attendee.email == "bob@example.org"))
    assert statuses(bob.id)[lab.id] == "confirmed"  # the waiting list moved up
    assert confirmed_count_matches_counter(lab.id)


def test_cancelling_the_whole_registration(client, programme):
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id, cobots.id], "ada@example.org")

    assert client.get(f"/manage/{token}/cancel").status_code == 200
    assert db.session.get(Attendee, attendee.id).status == "active"
    assert client.post(f"/manage/{token}/cancel").status_code == 303

    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).status == "cancelled"
    assert set(statuses(attendee.id).values()) == {"cancelled"}
    assert seats(plenary.id) == 0 and seats(cobots.id) == 0
    page = client.get(f"/manage/{token}", headers={"Accept-Language": "en"})
    assert "This registration has been cancelled." in page.get_data(as_text=True)


def test_a_cancelled_registration_can_come_back(client, programme):
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id], "ada@example.org")
    client.post(f"/manage/{token}/cancel")

    response = client.post(f"/manage/{token}/sessions", data={"plenary": [str(plenary.id)]})

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).status == "active"
    assert statuses(attendee.id) == {plenary.id: "confirmed"}


def test_updating_name_organisation_and_language(client, programme):
    event, plenary, *_ = programme
    attendee, token = sign_up(event, [plenary.id], "ada@example.org")

    response = client.post(
        f"/manage/{token}/details", data={"name": " Ada King ", "organisation": "", "locale": "nl"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    changed = db.session.get(Attendee, attendee.id)
    assert (changed.name, changed.organisation, changed.locale) == ("Ada King", "", "nl")

    refused = client.post(
        f"/manage/{token}/details", data={"name": "", "organisation": "X", "locale": "fr"}
    )
    assert refused.status_code == 422
    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).organisation == ""


def test_every_form_needs_its_csrf_token(app, client, programme):
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id, cobots.id], "ada@example.org")
    app.config["WTF_CSRF_ENABLED"] = True

    for path, data in [
        (f"/manage/{token}/cancel", {}),
        (f"/manage/{token}/sessions/{cobots.id}/cancel", {}),
        (f"/manage/{token}/details", {"name": "Mallory", "locale": "en"}),
        (f"/manage/{token}/sessions", {"plenary": [str(plenary.id)]}),
        (f"/manage/{token}/delete", {}),
        (f"/manage/{token}/offers/{cobots.id}/accept", {}),
    ]:
        assert client.post(path, data=data).status_code in (400, 422), path

    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).name == "Ada Lovelace"
    assert statuses(attendee.id) == {plenary.id: "confirmed", cobots.id: "confirmed"}

    # With the token from the page, the same request goes through.
    page = client.get(f"/manage/{token}/cancel").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"/manage/{token}/cancel", data={"csrf_token": csrf}).status_code == 303


def test_data_export_downloads_json(client, programme):
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id, cobots.id], "ada@example.org")

    response = client.get(f"/manage/{token}/data.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["attendee"]["email"] == "ada@example.org"
    assert data["attendee"]["consent_text"] == "2026-11"
    assert {r["title"] for r in data["registrations"]} == {"Opening", "Cobots"}


def test_deleting_my_data(client, programme):
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id, lab.id], "ada@example.org")
    _, bob_token = sign_up(event, [lab.id], "bob@example.org", name="Bob")

    assert client.get(f"/manage/{token}/delete").status_code == 200
    response = client.post(f"/manage/{token}/delete")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/events/{event.slug}/data-deleted")
    assert client.get(response.headers["Location"]).status_code == 200
    assert client.get(f"/manage/{token}").status_code == 404
    db.session.expire_all()
    gone = db.session.get(Attendee, attendee.id)
    assert "ada" not in gone.email and gone.name != "Ada Lovelace"
    assert seats(lab.id) == 1  # Bob was promoted into the freed seat
    assert confirmed_count_matches_counter(lab.id)
    assert "Confirmed" in client.get(
        f"/manage/{bob_token}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)


def test_accepting_and_declining_an_offer_on_the_page(client, make_event, make_session):
    event = make_event(promotion_mode="offer")
    lab = make_session(event, capacity=1, title="Lab demo")
    holder, holder_token = sign_up(event, [lab.id], "holder@example.org")
    first, first_token = sign_up(event, [lab.id], "first@example.org")
    second, second_token = sign_up(event, [lab.id], "second@example.org")
    client.post(f"/manage/{holder_token}/cancel")

    page = client.get(f"/manage/{first_token}", headers={"Accept-Language": "en"})
    assert "A place is free for you" in page.get_data(as_text=True)
    assert statuses(first.id)[lab.id] == "offered"

    # The attendee's own language (en) wins over the browser's, for the message too. The
    # test client's requests share the fixture's app context (g, Babel's cached locale); a
    # real request starts without them.
    g.pop("attendee_locale", None)
    refresh()
    declined = client.post(
        f"/manage/{first_token}/offers/{lab.id}/decline", headers={"Accept-Language": "nl"}
    )
    told = client.get(declined.headers["Location"], headers={"Accept-Language": "nl"})
    assert "You declined the place" in told.get_data(as_text=True)
    assert statuses(first.id)[lab.id] == "cancelled"
    assert statuses(second.id)[lab.id] == "offered"

    response = client.post(f"/manage/{second_token}/offers/{lab.id}/accept")
    assert response.status_code == 303
    assert statuses(second.id)[lab.id] == "confirmed"
    assert confirmed_count_matches_counter(lab.id)
    again = client.post(
        f"/manage/{second_token}/offers/{lab.id}/accept", headers={"Accept-Language": "en"}
    )
    assert again.status_code == 303  # explained on the page, nothing changes
    follow = client.get(again.headers["Location"], headers={"Accept-Language": "en"})
    assert "no open offer" in follow.get_data(as_text=True)


@pytest.mark.parametrize("blank", [" ", "\t", "  \u00a0"])
def test_a_blank_workshop_choice_means_none_not_a_500(client, programme, blank):
    """WTForms' Optional() lets whitespace through without the choice check; the view then
    read " " as a session id (int(" "): a 500). Blank is "no workshop"."""
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id, cobots.id], "ada@example.org")
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    response = client.post(
        f"/manage/{token}/sessions",
        data={"plenary": [str(plenary.id)], round_field(page): blank},
    )
    assert response.status_code == 303
    assert statuses(attendee.id) == {plenary.id: "confirmed", cobots.id: "cancelled"}


def test_data_export_explains_itself_in_the_readers_language(client, programme):
    """The export's one sentence for people ("purpose") is in the language of the private
    page it was downloaded from (the attendee's, or the one chosen on the site), like
    everything else the attendee reads, not always English."""
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id], "ada@example.org")
    attendee.locale = "nl"
    db.session.commit()
    dutch = client.get(f"/manage/{token}/data.json")
    assert dutch.get_json()["purpose"].startswith("We bewaren je naam, e-mailadres")
    client.get(f"/lang/en?next=/manage/{token}")
    flask_babel.refresh()  # the test's app context outlives the request: forget its locale
    english = client.get(f"/manage/{token}/data.json")
    assert english.get_json()["purpose"].startswith("We store your name, email address")


def test_a_cancelled_registration_offers_no_calendar_buttons(client, programme):
    """Subscribing would add nothing the attendee still attends; the buttons mislead."""
    event, plenary, cobots, lab = programme
    attendee, token = sign_up(event, [plenary.id, cobots.id], "ada@example.org")
    before = client.get(f"/manage/{token}", headers={"Accept-Language": "en"})
    assert "Subscribe in your calendar app" in before.get_data(as_text=True)

    client.post(f"/manage/{token}/cancel")

    html = client.get(f"/manage/{token}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This registration has been cancelled." in html
    assert "Your calendar" not in html
    assert "personal-calendar-links" not in html
    assert "webcal:" not in html and ".ics" not in html
    assert "Register again" in html  # the way back stays

"""Programme edits that touch rankings (finding 4 of allocation round two): the organiser is
shown how many rankings a change touches before it is saved, the attendees who ranked the
workshop are asked through the outbox to review their ranking, the audit log records it, and
no ranking is ever rewritten."""

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, AuditEntry, EventSession, OutboxMessage, Preference
from eventapp.services.allocation import runs as allocation
from eventapp.services.errors import Conflict
from eventapp.services.mail.render import render
from eventapp.services.programme import schedule
from eventapp.services.registration.register import RegistrationInput, register


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def ranked(make_event, make_session, now, make_organiser):
    event = make_event(allocation_mode="preferences")
    robots = make_session(event, start=2, capacity=2, title="Robots")
    sensors = make_session(event, start=2, capacity=2, title="Sensors")
    key = allocation.rounds_of(event)[0].key
    for name, ranking in (
        ("Ann", [robots.id, sensors.id]),
        ("Bob", [robots.id]),
        ("Cy", [sensors.id]),
    ):
        register(
            event,
            RegistrationInput(
                name=name,
                email=f"{name.lower()}@example.org",
                consent=True,
                preferences={key: ranking},
                locale="en",
            ),
            now,
        )
    db.session.commit()
    return event, robots, sensors, make_organiser()


def outbox(kind="ranking_review"):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()


def names(messages):
    return sorted(db.session.get(Attendee, m.attendee_id).name for m in messages)


def rankings():
    return sorted(
        db.session.execute(
            select(Preference.attendee_id, Preference.session_id, Preference.rank)
        ).all()
    )


@pytest.mark.parametrize(
    "data, change",
    [
        ({"capacity": 5}, "resized"),
        ({"starts_at": "2027-03-18T13:00", "ends_at": "2027-03-18T14:00"}, "moved"),
    ],
)
def test_an_edit_that_touches_rankings_needs_confirming_and_tells_the_rankers(
    app, ranked, now, data, change
):
    event, robots, sensors, organiser = ranked
    before = rankings()
    with pytest.raises(Conflict) as refused:
        schedule.update_session(organiser, robots, data, now)
    db.session.rollback()
    item = refused.value.details["conflicts"][0]
    assert refused.value.details["confirm_required"] is True
    assert item["kind"] == "rankings_touched"
    assert "2 attendees ranked “Robots”" in item["message"]
    assert outbox() == [] and rankings() == before

    schedule.update_session(organiser, robots, data, now, confirm=True)
    db.session.commit()
    mails = outbox()
    assert names(mails) == ["Ann", "Bob"]
    assert {m.payload["change"] for m in mails} == {change}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "preferences.touched"))
    assert entry.after == {"change": change, "attendees": 2} and entry.organiser_id == organiser.id
    assert rankings() == before  # never rewritten: each attendee decides

    with app.test_request_context("/"):
        body = render(mails[0], now).body
    assert "we did not change it for you" in body and "Robots" in body


def test_a_cancelled_workshop_tells_its_rankers(ranked, now):
    event, robots, sensors, organiser = ranked
    with pytest.raises(Conflict):
        schedule.update_session(organiser, sensors, {"status": "cancelled"}, now)
    db.session.rollback()
    schedule.cancel_session(organiser, sensors, now)  # the cancel page and the API's DELETE
    db.session.commit()
    assert names(outbox()) == ["Ann", "Cy"]
    assert {m.payload["change"] for m in outbox()} == {"cancelled"}


def test_edits_that_leave_rankings_alone_ask_nothing(ranked, now, make_event, make_session):
    event, robots, sensors, organiser = ranked
    schedule.update_session(organiser, robots, {"title": "Robotics"}, now)
    db.session.commit()
    assert outbox() == []
    # After publication rankings no longer matter: edits are first come, first served.
    allocation.publish(event, allocation.dry_run(event, 1, now=now), now=now)
    db.session.commit()
    schedule.update_session(
        organiser, db.session.get(EventSession, robots.id), {"capacity": 9}, now
    )
    db.session.commit()
    assert outbox() == []

"""The demo shows the product (issue 19.8): `flask demo` registers people through the real
service so one workshop is full with a waiting list and the dashboard has figures."""

from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, OutboxMessage, Registration
from eventapp.services.backoffice import dashboard, demo
from eventapp.services.registration import answers, questions


def loaded_demo(now):
    event, _created = demo.load_demo_event()
    filled = demo.load_demo_registrations(event, now)
    db.session.commit()
    return event, filled


def test_one_workshop_is_full_with_a_waiting_list(app, now):
    event, filled = loaded_demo(now)
    popular = db.session.scalar(
        select(EventSession).where(EventSession.title == demo.POPULAR_WORKSHOP)
    )
    assert popular.seats_taken == popular.capacity == 12
    assert filled.waiting > 0 and filled.full_session == demo.POPULAR_WORKSHOP
    waiting = db.session.scalar(
        select(func.count()).where(
            Registration.session_id == popular.id, Registration.status == "waitlisted"
        )
    )
    assert waiting == filled.waiting
    # The one full workshop: the rest of the programme still has room to try things out.
    full = [s.title for s in event.sessions if s.registrable and s.is_full]
    assert full == [demo.POPULAR_WORKSHOP]
    for session in event.sessions:  # the counters the capacity guard keeps are true
        confirmed = db.session.scalar(
            select(func.count()).where(
                Registration.session_id == session.id, Registration.status == "confirmed"
            )
        )
        assert confirmed == session.seats_taken <= session.capacity


def test_the_dashboard_has_figures(app, now):
    event, filled = loaded_demo(now)
    figures = dashboard.event_figures(event, now)
    assert figures.totals.attendees == demo.DEMO_ATTENDEES == filled.attendees
    assert figures.totals.waitlisted == filled.waiting
    assert 0 < figures.totals.seats_taken < figures.totals.capacity
    assert figures.timeline[-1].total == demo.DEMO_ATTENDEES
    assert len([day for day in figures.timeline if day.new]) > 10  # spread over the period
    assert figures.outbox.pending == demo.DEMO_ATTENDEES  # a confirmation each, as in life


def test_demo_registrations_are_made_once_and_only_to_reserved_addresses(app, now):
    event, _filled = loaded_demo(now)
    assert demo.load_demo_registrations(event, now) is None
    emails = db.session.scalars(select(Attendee.email)).all()
    assert len(emails) == demo.DEMO_ATTENDEES
    assert all(email.endswith("@example.org") for email in emails)
    recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert all(r.endswith("@example.org") for r in recipients)


def test_the_cli_loads_them_unless_asked_for_an_empty_event(runner):
    empty = runner.invoke(args=["demo", "--empty"])
    assert empty.exit_code == 0 and "loaded" in empty.output
    assert db.session.scalar(select(func.count(Attendee.id))) == 0


def test_make_runs_demo_registers_people(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert (
        f"{demo.DEMO_ATTENDEES} demo registrations" in result.output
        and "on its waiting list" in result.output
    )
    assert db.session.scalar(select(func.count(Attendee.id))) == demo.DEMO_ATTENDEES
    again = runner.invoke(args=["demo"])
    assert "already present" in again.output
    assert db.session.scalar(select(func.count(Attendee.id))) == demo.DEMO_ATTENDEES


def test_the_demo_asks_for_the_hub_and_dietary_needs_and_has_answers(app, now):
    event, _created = demo.load_demo_event()
    demo.load_demo_registrations(event, now)
    asked = questions.questions_of(event)
    assert [(q.key, q.kind) for q in asked] == [("hub", "one_choice"), ("dieet", "several_choices")]
    assert asked[0].text("en") == "Which Smart Industry hub do you belong to?"
    given = answers.event_answers(event)
    hubs = [a[asked[0].id] for a in given.values() if asked[0].id in a]
    assert len(hubs) > demo.DEMO_ATTENDEES / 2 and len(set(hubs)) > 3
    assert any(asked[1].id in a for a in given.values())

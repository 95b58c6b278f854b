"""The dashboard's figures and its server-drawn chart."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Registration
from eventapp.organiser.charts import nice_ceiling, timeline_chart
from eventapp.services.backoffice import checkin, dashboard
from eventapp.services.backoffice.dashboard import DayCount
from eventapp.services.mail import outbox
from eventapp.services.programme.schedule.sessions import cancel_session
from eventapp.services.registration import register as registration
from eventapp.services.registration import waitlist
from eventapp.services.registration.register import RegistrationInput


def sign_up(event, sessions, email, when, *, waitlist_ok=False):
    result = registration.register(
        event,
        RegistrationInput(
            name="X",
            email=email,
            session_ids=[s.id for s in sessions],
            waitlist=waitlist_ok,
            consent=True,
        ),
        when,
    )
    db.session.commit()
    return result.attendee


def test_session_figures_totals_and_outbox(make_event, make_session, now):
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=10)
    small = make_session(event, start=1, capacity=1)
    make_session(event, start=2, kind="other", title="Lunch")
    ada = sign_up(event, [plenary, small], "ada@example.org", now)
    sign_up(event, [plenary, small], "bob@example.org", now, waitlist_ok=True)
    gone = sign_up(event, [plenary], "gone@example.org", now)
    registration.cancel_registration(gone, now)
    ada.checked_in_at = now
    ada.registrations[0].checked_in_at = now
    failed = outbox.enqueue("confirmation", ada, {})
    failed.status, failed.last_error = "failed", "550 no such user"
    db.session.commit()

    figures = dashboard.event_figures(event, now)
    by_title = {f.session.title: f for f in figures.sessions}
    assert (by_title[plenary.title].confirmed, by_title[plenary.title].checked_in) == (2, 1)
    assert (by_title[small.title].confirmed, by_title[small.title].waitlisted) == (1, 1)
    assert by_title[small.title].is_full and by_title[small.title].fill_percent == 100
    t = figures.totals
    assert (t.attendees, t.cancelled, t.checked_in) == (2, 1, 1)
    assert (t.seats_taken, t.capacity, t.waitlisted) == (3, 11, 1)  # the lunch has no seats
    # Plenary and workshop fill apart: the plenary's empty seats do not hide a full workshop.
    assert (t.plenary_taken, t.plenary_capacity) == (2, 10)
    assert (t.workshop_taken, t.workshop_capacity, t.workshop_fill_percent) == (1, 1, 100)
    assert figures.outbox.failed == 1 and figures.outbox.pending >= 4
    assert figures.outbox.failed_messages[0].last_error == "550 no such user"


def test_registrations_are_counted_per_local_day(make_event, make_session):
    event = make_event()
    session = make_session(event, capacity=10)
    # 23:30 UTC on 1 Feb is 00:30 on 2 Feb in Amsterdam: it counts on the 2nd.
    sign_up(event, [session], "a@example.org", datetime(2027, 2, 1, 22, 0, tzinfo=UTC))
    sign_up(event, [session], "b@example.org", datetime(2027, 2, 1, 23, 30, tzinfo=UTC))
    sign_up(event, [session], "c@example.org", datetime(2027, 2, 4, 9, 0, tzinfo=UTC))
    days = dashboard.registrations_per_day(event)
    assert [(d.day.isoformat(), d.new, d.total) for d in days] == [
        ("2027-02-01", 1, 1),
        ("2027-02-02", 1, 2),
        ("2027-02-03", 0, 2),
        ("2027-02-04", 1, 3),
    ]


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (51, 100), (1000, 1000)]
)
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_timeline_chart_geometry(app):
    from datetime import date

    days = [
        DayCount(date(2027, 2, d), new, total)
        for d, new, total in [(1, 2, 2), (2, 0, 2), (3, 5, 7)]
    ]
    with app.test_request_context():
        chart = timeline_chart(days, width=400, height=200)
    assert len(chart.bars) == 3
    bottom = chart.plot_bottom
    # The tallest day reaches the top of the axis (max 5 -> scale 5); an empty day is flat.
    assert chart.bars[2].y == pytest.approx(chart.plot_top)
    assert chart.bars[1].height == 0 and chart.bars[1].y == pytest.approx(bottom)
    assert chart.bars[0].height == pytest.approx((bottom - chart.plot_top) * 2 / 5)
    # The running total ends at its own axis' top (7 -> scale 10: 70% up).
    last_y = float(chart.line.split()[-1].split(",")[1])
    assert last_y == pytest.approx(bottom - (bottom - chart.plot_top) * 0.7)
    assert chart.last_point == (
        pytest.approx(float(chart.line.split()[-1].split(",")[0])),
        pytest.approx(last_y),
    )
    assert chart.total == 7
    assert [t.label for t in chart.left_ticks][-1] == "5"
    assert timeline_chart([]).empty


def test_an_opening_rush_is_counted_per_ten_minutes_then_per_hour(app, make_event, make_session):
    """Registrations that all came within hours are shown by the hour, or by ten minutes,
    in the event's local time; the buckets between are there with zero."""
    event = make_event()
    session = make_session(event, capacity=10)
    opening = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam
    for n, minutes in enumerate([0, 1, 4, 12, 35]):
        sign_up(event, [session], f"r{n}@example.org", opening + timedelta(minutes=minutes))
    rush = dashboard.registrations_over_time(event)
    assert [(d.day.strftime("%H:%M"), d.new, d.total) for d in rush] == [
        ("10:00", 3, 3),
        ("10:10", 1, 4),
        ("10:20", 0, 4),
        ("10:30", 1, 5),
    ]
    with app.test_request_context():
        chart = timeline_chart(rush)
    assert chart.unit == "ten_minutes"
    assert [t.label for t in chart.bottom_ticks][:2] == ["10:00", "10:10"]

    sign_up(event, [session], "late@example.org", opening + timedelta(hours=5, minutes=20))
    hourly = dashboard.registrations_over_time(event)
    assert [(d.day.strftime("%H:%M"), d.new) for d in hourly] == [
        ("10:00", 5),
        ("11:00", 0),
        ("12:00", 0),
        ("13:00", 0),
        ("14:00", 0),
        ("15:00", 1),
    ]
    with app.test_request_context():
        assert timeline_chart(hourly).unit == "hour"

    sign_up(event, [session], "days@example.org", opening + timedelta(days=3))
    assert [d.new for d in dashboard.registrations_over_time(event)] == [6, 0, 0, 1]


def _rows(session, *statuses) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Registration.session_id == session.id, Registration.status.in_(statuses)
        )
    )


def _checked_in_rows(session) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Registration.session_id == session.id,
            Registration.status.in_(Registration.SEAT_HOLDING),
            Registration.checked_in_at.is_not(None),
        )
    )


def test_session_counts_equal_the_rows_after_every_kind_of_change(
    make_event, make_session, make_organiser, now
):
    """The seats come from the sessions' counters and the rest from one statement without
    the confirmed rows (dashboard._registration_counts): after registrations, a waiting
    list, a drop that moves it, a manual promotion, a cancellation, check-ins and a cancelled
    session, each figure still equals a count of the rows themselves."""
    admin = make_organiser("admin")
    event = make_event()
    small = make_session(event, capacity=2, title="Small")
    other = make_session(event, start=2, capacity=5, title="Other")
    people = [
        sign_up(event, [small, other], f"p{i}@example.org", now, waitlist_ok=True) for i in range(5)
    ]
    registration.cancel_session(people[0], small.id, now)  # the first on the list moves up
    db.session.commit()
    waiting = next(r for r in people[4].registrations if r.session_id == small.id)
    waitlist.promote_registration(waiting, now, admin, override_capacity=True)
    assert _rows(small, "waitlisted") == 1  # the third still waits ...
    registration.cancel_registration(people[1], now)  # ... and moves up into this seat
    checkin.check_in(people[2], now=now, actor=admin, session=other)
    checkin.check_in(people[3], now=now, actor=admin, session=other)
    db.session.commit()

    figures = {f.session.id: f for f in dashboard.session_figures(event)}
    for session in (small, other):
        figure = figures[session.id]
        assert figure.confirmed == _rows(session, "confirmed", "offered")
        assert figure.waitlisted == _rows(session, "waitlisted")
        assert figure.checked_in == _checked_in_rows(session)
    assert (figures[small.id].confirmed, figures[small.id].waitlisted) == (3, 0)
    assert (figures[other.id].confirmed, figures[other.id].checked_in) == (4, 2)

    cancel_session(admin, other, now)  # the organiser cancels a session: its seats end
    db.session.commit()
    figure = next(f for f in dashboard.session_figures(event) if f.session.id == other.id)
    assert figure.confirmed == _rows(other, "confirmed", "offered") == 0
    assert figure.checked_in == _checked_in_rows(other) == 0


def test_held_seats_are_counted_per_session(make_event, make_session, now):
    """Seats of an attendee whose email is not confirmed yet count as held, apart (the
    hold itself is tested in tests/web/test_holds.py; here only its counting)."""
    event = make_event()
    first = make_session(event, capacity=5)
    second = make_session(event, start=2, capacity=5)
    held = sign_up(event, [first, second], "held@example.org", now)
    sign_up(event, [first], "confirmed@example.org", now)
    held.hold_expires_at = now + timedelta(minutes=30)
    db.session.commit()
    figures = {f.session.id: f for f in dashboard.session_figures(event)}
    assert (figures[first.id].confirmed, figures[first.id].held) == (2, 1)
    assert figures[second.id].held == 1
    assert dashboard.event_figures(event, now).totals.held_seats == 2


def test_days_of_the_programme_with_their_figures(make_event, make_session, now):
    event = make_event(ends_at=datetime(2027, 3, 19, 17, 0, tzinfo=UTC))
    monday = make_session(event, capacity=1, title="Day one")
    make_session(event, start=2, kind="other", title="Lunch")
    tuesday = make_session(event, start=24, capacity=3, title="Day two")
    sign_up(event, [monday, tuesday], "ada@example.org", now)
    sign_up(event, [monday, tuesday], "bob@example.org", now, waitlist_ok=True)

    days = dashboard.days_of(event, dashboard.session_figures(event))
    assert [d.day.isoformat() for d in days] == ["2027-03-18", "2027-03-19"]
    assert [f.session.title for f in days[0].sessions] == ["Day one", "Lunch"]
    # The lunch has no seats: left out of the day's sums.
    assert (days[0].seats_taken, days[0].capacity, days[0].waitlisted, days[0].full) == (1, 1, 1, 1)
    assert (days[1].seats_taken, days[1].capacity, days[1].waitlisted, days[1].full) == (2, 3, 0, 0)

    before, during = datetime(2027, 3, 1).date(), datetime(2027, 3, 19).date()
    assert dashboard.day_to_show(days, None, before) is days[0]  # before: the first day
    assert dashboard.day_to_show(days, None, during) is days[1]  # during: today
    assert dashboard.day_to_show(days, "2027-03-19", before) is days[1]
    assert dashboard.day_to_show(days, "all", during) is None
    for wrong in ("2027-03-20", "tomorrow", "2027-13-45", "2027-03-18T00:00"):
        with pytest.raises(dashboard.NotFound):
            dashboard.day_to_show(days, wrong, before)

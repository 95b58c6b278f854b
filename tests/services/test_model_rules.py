"""The rules defined once on the models: the overlap of two sessions (a hybrid method, the
same in Python and in SQL) and the registration status sets."""

from itertools import combinations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from eventapp.extensions import db
from eventapp.models import EventSession, Registration
from eventapp.models.attendee import REGISTRATION_STATUSES
from tests.web.attendee_factory import add_attendees


def test_python_and_sql_agree_on_which_sessions_overlap(make_event, make_session):
    event = make_event()
    # Nested, crossing, touching (10:00-11:00 after 09:00-10:00), equal and apart.
    for start, hours in [(0, 1), (1, 1), (0.5, 1), (0, 3), (0, 1), (4, 0.5), (4.25, 1)]:
        make_session(event, start=start, hours=hours)
    sessions = db.session.scalars(select(EventSession)).all()
    in_python = {(a.id, b.id) for a, b in combinations(sessions, 2) if a.overlaps(b)}
    first, second = aliased(EventSession), aliased(EventSession)
    in_sql = set(
        db.session.execute(
            select(first.id, second.id).where(first.id < second.id, first.overlaps(second))
        ).all()
    )
    assert in_python == in_sql
    by_start = {(s.starts_at.hour, s.starts_at.minute, s.ends_at.hour): s for s in sessions}
    assert not by_start[(9, 0, 10)].overlaps(by_start[(10, 0, 11)])  # touching ends
    assert by_start[(9, 0, 12)].overlaps(by_start[(10, 0, 11)])  # nested
    assert len(in_python) == 9  # fails if touching counted, or nesting missed


def test_a_plan_with_times_is_compared_in_a_query(make_event, make_session):
    event = make_event()
    nine, ten = make_session(event, start=0), make_session(event, start=1)
    plan = make_session(event, start=0.5)
    found = db.session.scalars(
        select(EventSession.id).where(EventSession.overlaps(plan), EventSession.id != plan.id)
    ).all()
    assert sorted(found) == sorted([nine.id, ten.id])


def test_status_sets_partition_the_statuses():
    assert set(Registration.ACTIVE) == set(REGISTRATION_STATUSES) - {"cancelled"}
    assert set(Registration.SEAT_HOLDING) | set(Registration.WAITING) == set(Registration.ACTIVE)
    for status in REGISTRATION_STATUSES:
        registration = Registration(status=status)
        assert registration.holds_seat == (status in ("confirmed", "offered"))
        assert registration.is_active == (status != "cancelled")


def test_the_status_hybrids_filter_queries(make_event, make_session):
    event = make_event()
    session = make_session(event, capacity=10)
    for number, status in enumerate(REGISTRATION_STATUSES):
        add_attendees(event, [session], 1, start=number, status=status)
    holding = db.session.scalars(select(Registration.status).where(Registration.holds_seat))
    active = db.session.scalars(select(Registration.status).where(Registration.is_active))
    assert sorted(holding) == sorted(Registration.SEAT_HOLDING)
    assert sorted(active) == sorted(Registration.ACTIVE)

"""Many attendees fast, straight into the tables (the registration service is tested
elsewhere): for pages that must cost the same number of queries for 10 or 1,000 people."""

import secrets
from datetime import timedelta

from eventapp.extensions import db
from eventapp.models import Attendee, Registration


def add_attendees(
    event, sessions, count, *, start=0, created_at=None, status="confirmed", checked_in_every=0
):
    """`count` attendees, each confirmed (or `status`) for every session in `sessions`.

    Seat counters follow, so the database's capacity check holds; the sessions need the room.
    Registration times spread over days, for the chart.
    """
    created_at = created_at or event.starts_at - timedelta(days=30)
    people = []
    for number in range(start, start + count):
        attendee = Attendee(
            event=event,
            reference=secrets.token_hex(6).upper(),
            name=f"Attendee {number:05d}",
            email=f"attendee{number}@example.org",
            email_normalized=f"attendee{number}@example.org",
            organisation=f"Org {number % 17}",
            checkin_code=secrets.token_hex(5).upper(),
            token_hash=secrets.token_hex(32),
            token_nonce=secrets.token_hex(32),
            feed_token_hash=secrets.token_hex(32),
            feed_nonce=secrets.token_hex(32),
            created_at=created_at + timedelta(hours=number % 240),
            checked_in_at=(
                event.starts_at if checked_in_every and number % checked_in_every == 0 else None
            ),
        )
        for session in sessions:
            attendee.registrations.append(
                Registration(
                    session=session,
                    status=status,
                    waitlisted_at=created_at if status == "waitlisted" else None,
                )
            )
        people.append(attendee)
    db.session.add_all(people)
    if status == "confirmed":
        for session in sessions:
            session.seats_taken += count
    db.session.commit()
    return people

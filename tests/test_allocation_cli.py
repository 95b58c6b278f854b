"""flask allocate EVENT [--dry-run] [--seed N]."""

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import AllocationRun, Event, Registration
from tests.allocation_support import preference_event as shared_preference_event


@pytest.fixture(autouse=True)
def english(app):
    """Messages are asserted in English (the CLI speaks the default locale)."""
    with force_locale("en"):
        yield


def preference_event(make_event, make_session, now):
    return shared_preference_event(
        make_event, make_session, now, people=4, workshops={"A1": 1, "A2": 2}
    )


def test_dry_run_prints_the_quality_table_and_writes_no_seat(runner, make_event, make_session, now):
    event = preference_event(make_event, make_session, now)
    result = runner.invoke(args=["allocate", event.slug, "--dry-run", "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert "seed 11" in result.output
    lines = {line.split("  ")[0]: line.split() for line in result.output.splitlines()}
    # Four people rank A1 (1 seat) then A2 (2 seats): 1 first, 2 second, 1 none for each;
    # one round, so nobody can miss out twice (the "2+ miss" column).
    assert "2+ miss" in result.output
    assert lines["fair optimum"][-7:] == ["1", "2", "0", "1", "0", "3/3", "100%"]
    assert "first come, first served" in lines and "random serial order" in lines
    # The whole distribution, not only the 2+ column: 3 with no miss, 1 with one.
    assert "Attendees with nothing in 0, 1, 2, ... of their rounds:" in result.output
    assert "  fair optimum: 3, 1\n" in result.output
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert db.session.scalar(select(AllocationRun.status)) == "dry_run"


def test_allocate_publishes_once(runner, make_event, make_session, now):
    event = preference_event(make_event, make_session, now)
    result = runner.invoke(args=["allocate", event.slug, "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Published: 3 seat(s) confirmed, 2 waiting-list place(s), 4 email(s)" in result.output
    assert db.session.scalar(select(Event.allocation_published_at)) is not None
    again = runner.invoke(args=["allocate", event.slug])
    assert again.exit_code != 0 and "already been published" in again.output


def test_allocate_unknown_event_and_fcfs_event(runner, make_event):
    assert "No event" in runner.invoke(args=["allocate", "nope"]).output
    event = make_event()
    result = runner.invoke(args=["allocate", event.slug, "--dry-run"])
    assert result.exit_code != 0 and "first come, first served" in result.output


def test_verify_recomputes_a_stored_run_seat_for_seat(runner, make_event, make_session, now):
    event = preference_event(make_event, make_session, now)
    runner.invoke(args=["allocate", event.slug, "--dry-run", "--seed", "5"])
    run = db.session.scalar(select(AllocationRun))
    ok = runner.invoke(args=["allocate", event.slug, "--verify", str(run.id)])
    assert ok.exit_code == 0, ok.output
    assert "recomputed 4 (attendee, round) places" in ok.output
    assert "It matches the stored result, seat for seat." in ok.output

    # Someone alters the stored result: the verification says so, place by place.
    rows = [dict(a) for a in run.result["assignments"]]
    moved = next(a for a in rows if a["workshop_id"] is not None)
    moved["workshop_id"] = None
    run.result = {**run.result, "assignments": rows}
    db.session.commit()
    bad = runner.invoke(args=["allocate", event.slug, "--verify", str(run.id)])
    assert bad.exit_code == 1
    assert "It does NOT match: 1 place(s) differ." in bad.output
    assert f"attendee {moved['attendee_id']}" in bad.output

    missing = runner.invoke(args=["allocate", event.slug, "--verify", "999"])
    assert missing.exit_code != 0 and "No such allocation run" in missing.output

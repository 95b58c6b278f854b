"""Priority groups in the database: made by pasting addresses (all or nothing, audited),
honoured by a dry run and a publication, stored with the run so --verify replays it, and
reported per member."""

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import (
    Attendee,
    AuditEntry,
    EventSession,
    PriorityGroup,
    PriorityGroupMember,
    Registration,
)
from eventapp.services.allocation import groups
from eventapp.services.allocation import runs as allocation
from eventapp.services.allocation.preferences import AllocationError
from eventapp.services.errors import InvalidInput, NotFound
from eventapp.services.programme import schedule
from tests.allocation_support import preference_event


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def event(make_event, make_session, now):
    """Six people rank Robots (2 seats) then Sensors (6 seats)."""
    return preference_event(
        make_event, make_session, now, people=6, workshops={"Robots": 2, "Sensors": 6}
    )


def session_id(title: str) -> int:
    return db.session.scalar(select(EventSession.id).where(EventSession.title == title))


def attendee(email: str) -> Attendee:
    return db.session.scalar(select(Attendee).where(Attendee.email == email))


def seated(run, title: str) -> set[str]:
    wid = session_id(title)
    ids = {a["attendee_id"] for a in run.result["assignments"] if a["workshop_id"] == wid}
    return {db.session.get(Attendee, i).email for i in ids}


def test_a_group_is_made_from_pasted_addresses_and_audited(event, now, make_organiser):
    organiser = make_organiser("organiser")
    group = groups.create_group(
        event,
        organiser,
        session_id=str(session_id("Robots")),
        name=" Speakers' guests ",
        emails="P4@example.org\n\n  p5@example.org \np4@example.org\n",
        now=now,
    )
    db.session.commit()
    assert group.name == "Speakers' guests"
    assert [m.attendee.email for m in group.members] == ["p4@example.org", "p5@example.org"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("priority_group%")))
    assert entry.action == "priority_group.created" and entry.session_id == session_id("Robots")
    assert entry.after["members"] == ["p4@example.org", "p5@example.org"]

    assert (
        groups.add_members(
            event, organiser, group.id, emails="p5@example.org\np3@example.org", now=now
        )
        == 1
    )
    db.session.commit()
    assert len(group.members) == 3

    groups.delete_group(event, organiser, group.id, now=now)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PriorityGroupMember)) == 0
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["priority_group.members_added", "priority_group.deleted"]


def test_unknown_addresses_save_nothing_and_are_named(event, now):
    with pytest.raises(InvalidInput) as refused:
        groups.create_group(
            event,
            None,
            session_id=str(session_id("Robots")),
            name="Hub",
            emails="p1@example.org\nnobody@example.org\nnot an address",
            now=now,
        )
    db.session.rollback()
    reason = " ".join(refused.value.fields["emails"])
    assert "nobody@example.org" in reason and "not an address" in reason
    assert "p1@example.org" not in reason
    assert db.session.scalar(select(func.count()).select_from(PriorityGroup)) == 0

    with pytest.raises(InvalidInput) as refused:
        groups.create_group(event, None, session_id="abc", name="  ", emails=" \n ", now=now)
    assert set(refused.value.fields) == {"name", "session_id", "emails"}


def test_a_group_needs_a_workshop_of_this_event_and_an_open_allocation(
    event, now, make_event, make_session
):
    other = make_session(make_event(allocation_mode="preferences"), start=2, title="Elsewhere")
    with pytest.raises(InvalidInput) as refused:
        groups.create_group(
            event, None, session_id=str(other.id), name="x", emails="p1@example.org", now=now
        )
    assert "session_id" in refused.value.fields
    with pytest.raises(NotFound):
        groups.add_members(event, None, 999, emails="p1@example.org", now=now)
    fcfs = make_event()
    with pytest.raises(AllocationError):
        groups.create_group(fcfs, None, session_id="1", name="x", emails="a@b.org", now=now)


def test_the_dry_run_honours_the_group_reports_it_and_verifies(event, now, runner):
    robots = session_id("Robots")
    groups.create_group(
        event,
        None,
        session_id=str(robots),
        name="Guests",
        emails="p3@example.org\np4@example.org\np5@example.org",
        now=now,
    )
    # p5 ranks only Sensors: a member who did not rank Robots is not put in it.
    p5 = attendee("p5@example.org")
    key = allocation.rounds_of(event)[0].key
    allocation.record_preferences(p5, {key: [session_id("Sensors")]})
    db.session.commit()

    for seed in range(4):
        run = allocation.dry_run(event, seed, now=now)
        db.session.commit()
        assert seated(run, "Robots") == {"p3@example.org", "p4@example.org"}
        for method in ("first_come_first_served", "random_serial_dictatorship"):
            fill = {f["workshop_id"]: f["assigned"] for f in run.stats[method]["fill"]}
            assert fill[robots] == 2
    assert run.inputs["priority"][0]["members"] == sorted(
        attendee(e).id for e in ("p3@example.org", "p4@example.org", "p5@example.org")
    )
    (report,) = groups.reports_of(run)
    assert (report.name, report.workshop, report.seats) == ("Guests", "Robots", 2)
    assert (report.members, report.ranked, report.got) == (3, 2, 2)
    assert [(m.email, m.reason) for m in report.missed] == [("p5@example.org", "not_ranked")]

    assert allocation.verify_run(run).matches
    result = runner.invoke(args=["allocate", event.slug, "--verify", str(run.id)])
    assert result.exit_code == 0 and "It matches the stored result" in result.output

    # The groups are part of the inputs: a replay without them would differ, and a change
    # to them makes the dry run stale.
    without = dict(run.inputs, priority=[])
    run.inputs = without
    db.session.commit()
    assert not allocation.verify_run(run).matches


def test_an_over_full_group_and_a_changed_group_makes_the_run_stale(event, now):
    group = groups.create_group(
        event,
        None,
        session_id=str(session_id("Robots")),
        name="Hub",
        emails="p0@example.org\np1@example.org\np2@example.org",
        now=now,
    )
    db.session.commit()
    run = allocation.dry_run(event, 5, now=now)
    db.session.commit()
    assert seated(run, "Robots") < {"p0@example.org", "p1@example.org", "p2@example.org"}
    assert len(seated(run, "Robots")) == 2
    (report,) = groups.reports_of(run)
    assert (report.members, report.ranked, report.got) == (3, 3, 2)
    assert [m.reason for m in report.missed] == ["full"]

    groups.add_members(event, None, group.id, emails="p3@example.org", now=now)
    db.session.commit()
    assert allocation.changes_since(event, run) == ["the priority groups changed"]
    with pytest.raises(AllocationError) as stale:
        allocation.publish(event, run, now=now)
    assert stale.value.code == "stale"
    db.session.rollback()

    fresh = allocation.dry_run(event, 5, now=now)
    allocation.publish(event, fresh, now=now)
    db.session.commit()
    confirmed = db.session.scalars(
        select(Attendee.email)
        .join(Registration, Registration.attendee_id == Attendee.id)
        .where(Registration.session_id == session_id("Robots"), Registration.status == "confirmed")
    ).all()
    assert set(confirmed) < {"p0@example.org", "p1@example.org", "p2@example.org", "p3@example.org"}
    assert len(confirmed) == 2
    with pytest.raises(AllocationError):
        groups.delete_group(event, None, group.id, now=now)
    with pytest.raises(AllocationError):
        groups.remove_member(event, None, group.id, attendee("p0@example.org").id, now=now)


def test_deleting_the_workshop_or_the_attendee_cascades(event, now):
    group = groups.create_group(
        event,
        None,
        session_id=str(session_id("Robots")),
        name="Hub",
        emails="p0@example.org",
        now=now,
    )
    db.session.commit()
    db.session.delete(attendee("p0@example.org"))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PriorityGroupMember)) == 0
    db.session.delete(db.session.get(EventSession, group.session_id))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PriorityGroup)) == 0


def test_the_cli_dry_run_prints_the_report(event, now, runner):
    groups.create_group(
        event,
        None,
        session_id=str(session_id("Robots")),
        name="Guests",
        emails="p3@example.org\np4@example.org\np5@example.org",
        now=now,
    )
    key = allocation.rounds_of(event)[0].key
    allocation.record_preferences(attendee("p5@example.org"), {key: [session_id("Sensors")]})
    db.session.commit()
    result = runner.invoke(args=["allocate", event.slug, "--dry-run", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert (
        "Priority group 'Guests' (Robots, 2 seats): 3 members, 2 ranked it, 2 got it."
        in result.output
    )
    assert "  not placed: p5@example.org: did not rank it" in result.output


def test_one_member_is_removed_the_rest_stay_and_it_is_audited(event, now, make_organiser):
    organiser = make_organiser("organiser")
    group = groups.create_group(
        event,
        organiser,
        session_id=str(session_id("Robots")),
        name="Hub",
        emails="p4@example.org\np2@example.org\np3@example.org",
        now=now,
    )
    db.session.commit()
    p3 = attendee("p3@example.org")
    assert groups.remove_member(event, organiser, group.id, str(p3.id), now=now) == p3
    db.session.commit()
    assert [m.attendee.email for m in groups.members_by_name(group)] == [
        "p2@example.org",
        "p4@example.org",
    ]
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
    assert (entry.action, entry.attendee_id, entry.session_id) == (
        "priority_group.member_removed",
        p3.id,
        session_id("Robots"),
    )
    assert entry.before == {"name": "Hub", "members": ["p3@example.org"]}

    with pytest.raises(NotFound):  # no longer a member, or never was
        groups.remove_member(event, organiser, group.id, p3.id, now=now)
    with pytest.raises(NotFound):
        groups.remove_member(event, organiser, group.id, "x", now=now)
    with pytest.raises(NotFound):
        groups.remove_member(event, organiser, 999, attendee("p2@example.org").id, now=now)
    assert allocation.dry_run(event, 1, now=now).inputs["priority"][0]["members"] == sorted(
        [attendee("p2@example.org").id, attendee("p4@example.org").id]
    )


def test_members_are_listed_by_name_then_email(event, now):
    group = groups.create_group(
        event,
        None,
        session_id=str(session_id("Robots")),
        name="Hub",
        emails="p1@example.org\np0@example.org\np2@example.org",
        now=now,
    )
    attendee("p2@example.org").name = "anna"
    attendee("p0@example.org").name = "Bob"
    attendee("p1@example.org").name = "Bob"
    db.session.commit()
    assert [m.attendee.email for m in groups.members_by_name(group)] == [
        "p2@example.org",
        "p0@example.org",
        "p1@example.org",
    ]


def test_a_cancelled_workshops_group_is_reported_as_not_applied(event, now, runner):
    group = groups.create_group(
        event,
        None,
        session_id=str(session_id("Robots")),
        name="Guests",
        emails="p0@example.org\np1@example.org",
        now=now,
    )
    db.session.commit()
    assert groups.not_applied_reason(group) is None
    schedule.cancel_session(None, db.session.get(EventSession, session_id("Robots")), now)
    db.session.commit()
    assert groups.not_applied_reason(group) == "cancelled"

    run = allocation.dry_run(event, 1, now=now)
    db.session.commit()
    assert run.inputs["priority"] == [] and run.result["priority"] == []
    (line,) = groups.reports_of(run)
    assert (line.name, line.workshop, line.members, line.not_applied) == (
        "Guests",
        "Robots",
        2,
        "cancelled",
    )
    assert allocation.verify_run(run).matches

    result = runner.invoke(args=["allocate", event.slug, "--dry-run", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert (
        "Priority group 'Guests' (Robots): This workshop is cancelled: the group is not applied."
        in result.output
    )


def test_a_group_whose_session_is_no_longer_a_workshop_is_not_applied(event, now):
    group = groups.create_group(
        event,
        None,
        session_id=str(session_id("Robots")),
        name="Guests",
        emails="p0@example.org",
        now=now,
    )
    group.session.kind = "plenary"
    db.session.commit()
    assert groups.not_applied_reason(group) == "not_a_workshop"
    run = allocation.dry_run(event, 1, now=now)
    assert [r["reason"] for r in run.result["priority_not_applied"]] == ["not_a_workshop"]

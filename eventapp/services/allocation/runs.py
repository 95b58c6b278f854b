"""The allocation's database side: dry runs, publication, the deadline job.

The organiser runs a dry run, which builds the solver's inputs from the database (seats left,
everyone's rankings, preferences.py), runs the fair optimum (solver.py) and both baselines
(baselines.py), and stores seed, inputs and result in an AllocationRun, so the run can be
replayed. Publishing a run writes it in one transaction: seats through the capacity guard,
waiting-list places for whoever got nothing in a round, confirmation emails through the
outbox; from then on the event is first come, first served for the seats left.

A round here is preferences.rounds_of(). The mode is per event (every round of the event is
allocated).
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    AllocationRun,
    Attendee,
    Event,
    EventSession,
    Organiser,
    Preference,
    Registration,
)
from .. import audit
from ..errors import InvalidInput, NotFound
from ..mail.outbox import enqueue
from ..registration import capacity
from ..registration.waitlist import SEAT_HOLDING
from .baselines import first_come_first_served, random_serial_dictatorship
from .preferences import (  # noqa: F401 (re-exported: callers outside the package use runs)
    MAX_CHOICES,
    AllocationError,
    WorkshopDemand,
    change_preferences,
    clean_preferences,
    collects_preferences,
    demand,
    ensure_no_workshops,
    preferences_of,
    record_preferences,
    rounds_of,
    workshop_ids,
)
from .problem import (  # noqa: F401 (METHODS: re-exported)
    METHOD_FCFS,
    METHOD_OPTIMAL,
    METHOD_RSD,
    METHODS,
    HeldSeat,
    Ranking,
    Workshop,
)
from .quality import audit_record, quality_rows  # noqa: F401 (quality_rows: re-exported)
from .solver import allocate

# Seeds are stored in a BIGINT column.
SEED_MAX = 2**63 - 1


# --------------------------------------------------------------------------------------------
# Solver inputs, dry run, replay
# --------------------------------------------------------------------------------------------


@dataclass
class SolverInputs:
    workshops: list[Workshop]
    rankings: list[Ranking]
    arrival_order: list[int]  # attendees in registration order, for the FCFS baseline
    held: list[HeldSeat]  # seats attendees with a ranking already hold (plenaries too)


def build_inputs(event: Event) -> SolverInputs:
    """The solver's view of the event now: seats left per workshop and everyone's rankings.

    A round in which an attendee already holds a workshop (an organiser seated them) is left
    out for them, so nobody gets two workshops in one round; every seat they hold (a plenary
    too) goes to the solver, which never gives them anything overlapping it.
    """
    rounds = rounds_of(event)
    round_of = {s.id: r.key for r in rounds for s in r.sessions}
    workshops = [
        Workshop(s.id, r.key, s.seats_left, s.starts_at, s.ends_at)
        for r in rounds
        for s in r.sessions
    ]
    seats = db.session.execute(
        select(
            Registration.attendee_id,
            Registration.session_id,
            EventSession.starts_at,
            EventSession.ends_at,
        )
        .join(Attendee, Attendee.id == Registration.attendee_id)
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(Attendee.event_id == event.id, Registration.status.in_(SEAT_HOLDING))
        .order_by(Registration.attendee_id, Registration.session_id)
    ).all()
    held_rounds = {(a, round_of[s]) for a, s, _start, _end in seats if s in round_of}
    rows = db.session.execute(
        select(Preference.attendee_id, Preference.session_id)
        .join(Attendee, Attendee.id == Preference.attendee_id)
        .where(Attendee.event_id == event.id, Attendee.status == "active")
        .order_by(Preference.attendee_id, Preference.rank, Preference.id)
    ).all()
    choices: dict[tuple[int, str], list[int]] = defaultdict(list)
    for attendee_id, session_id in rows:
        key = round_of.get(session_id)
        if key is not None and (attendee_id, key) not in held_rounds:
            choices[(attendee_id, key)].append(session_id)
    rankings = [Ranking(a, key, tuple(ids)) for (a, key), ids in sorted(choices.items())]
    ranked_attendees = {a for a, _key in choices}
    held = [HeldSeat(a, s, start, end) for a, s, start, end in seats if a in ranked_attendees]
    arrival_order = [
        a
        for a in db.session.scalars(
            select(Attendee.id)
            .where(Attendee.event_id == event.id)
            .order_by(Attendee.created_at, Attendee.id)
        )
        if a in ranked_attendees
    ]
    return SolverInputs(workshops, rankings, arrival_order, held)


def _ensure_collecting(event: Event) -> None:
    if event.allocation_mode != "preferences":
        raise AllocationError(
            _("This event allocates workshops first come, first served."), "not_preference_mode"
        )
    if event.allocation_published_at is not None:
        raise AllocationError(
            _("The allocation of this event has already been published."), "already_published"
        )


def clean_seed(seed: object) -> int:
    if seed is None:
        return secrets.randbelow(2**31)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise InvalidInput(
            _("Please correct the marked fields."),
            {"seed": [_("A whole number from 0 to %(max)d.", max=SEED_MAX)]},
        )
    return seed


def dry_run(
    event: Event, seed: object = None, *, now: datetime, actor: Organiser | None = None
) -> AllocationRun:
    """Allocate on paper: the optimum and both baselines, stored (seed and inputs too) as an
    AllocationRun that publish() can write later. Nothing else changes."""
    _ensure_collecting(event)
    seed = clean_seed(seed)
    inputs = build_inputs(event)
    optimum = allocate(inputs.workshops, inputs.rankings, seed, inputs.held)
    fcfs = first_come_first_served(
        inputs.workshops, inputs.rankings, inputs.arrival_order, inputs.held
    )
    rsd = random_serial_dictatorship(inputs.workshops, inputs.rankings, seed, inputs.held)
    record = audit_record(inputs.workshops, inputs.rankings, optimum, inputs.held)
    run = AllocationRun(
        event_id=event.id,
        organiser_id=actor.id if actor is not None else None,
        seed=seed,
        status="dry_run",
        inputs={
            "versions": record["versions"],
            "workshops": record["workshops"],
            "rankings": record["rankings"],
            "held": record["held"],
            "arrival_order": inputs.arrival_order,
        },
        result={"seed": seed, "assignments": record["assignments"]},
        stats={
            METHOD_OPTIMAL: optimum.stats.to_dict(),
            METHOD_FCFS: fcfs.stats.to_dict(),
            METHOD_RSD: rsd.stats.to_dict(),
        },
        created_at=now,
    )
    db.session.add(run)
    db.session.flush()
    audit.record(
        actor,
        "allocation.dry_run",
        run,
        after={"seed": seed, "stats": run.stats[METHOD_OPTIMAL]},
        event=event,
        now=now,
    )
    return run


def stored_inputs(run: AllocationRun) -> SolverInputs:
    """The solver's inputs as the run stored them (runs from before held seats have none)."""
    workshops = [
        Workshop(
            w["id"],
            w["round_key"],
            w["capacity"],
            datetime.fromisoformat(w["starts_at"]),
            datetime.fromisoformat(w["ends_at"]),
        )
        for w in run.inputs["workshops"]
    ]
    rankings = [
        Ranking(r["attendee_id"], r["round_key"], tuple(r["choices"]))
        for r in run.inputs["rankings"]
    ]
    held = [HeldSeat.from_dict(h) for h in run.inputs.get("held", [])]
    return SolverInputs(workshops, rankings, list(run.inputs.get("arrival_order", [])), held)


def replay(run: AllocationRun):
    """Run the solver again on the run's stored inputs and seed (for audit): an Allocation."""
    inputs = stored_inputs(run)
    return allocate(inputs.workshops, inputs.rankings, run.seed, inputs.held)


def latest_run(event: Event) -> AllocationRun | None:
    return db.session.scalars(
        select(AllocationRun)
        .where(AllocationRun.event_id == event.id)
        .order_by(AllocationRun.created_at.desc(), AllocationRun.id.desc())
        .limit(1)
    ).first()


def get_run(event: Event, run_id: int) -> AllocationRun:

    run = db.session.get(AllocationRun, run_id)
    if run is None or run.event_id != event.id:
        raise NotFound(_("No such allocation run."))
    return run


# --------------------------------------------------------------------------------------------
# Publication
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    run: AllocationRun
    confirmed: int
    waitlisted: int
    emails: int


def publish(
    event: Event, run: AllocationRun, *, now: datetime, actor: Organiser | None = None
) -> PublishResult:
    """Write a dry run's result, all or nothing (the caller commits, or rolls back on error).

    Seats go through the capacity guard; a pair left with nothing goes on the waiting list of
    each workshop it ranked, ordered by rank, then by a lottery from the run's seed; everyone
    affected gets a confirmation email through the outbox. Refused when already published,
    or when preferences or seats changed since the dry run (run a new one).
    """
    # The event row's lock makes two concurrent publications queue; the second sees the first.
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    db.session.refresh(event, ["allocation_published_at", "allocation_mode"])
    _ensure_collecting(event)
    if run.event_id != event.id or run.status != "dry_run":
        raise AllocationError(_("This allocation run cannot be published."), "not_publishable")
    if build_inputs(event).rankings != [
        Ranking(r["attendee_id"], r["round_key"], tuple(r["choices"]))
        for r in run.inputs["rankings"]
    ]:
        raise AllocationError(
            _("Preferences have changed since this dry run. Run a new dry run first."), "stale"
        )

    assignments = run.result["assignments"]
    attendee_ids = sorted({a["attendee_id"] for a in assignments})
    attendees = {
        a.id: a
        for a in db.session.scalars(
            select(Attendee)
            .where(Attendee.id.in_(attendee_ids or [-1]))
            .options(selectinload(Attendee.registrations))
        )
    }
    sessions = {s.id: s for r in rounds_of(event) for s in r.sessions}

    by_workshop: dict[int, list[int]] = defaultdict(list)
    for row in assignments:
        if row["workshop_id"] is not None:
            by_workshop[row["workshop_id"]].append(row["attendee_id"])
    touched: dict[int, list[int]] = defaultdict(list)  # attendee -> session ids to confirm
    confirmed = 0
    with db.session.no_autoflush:
        for workshop_id in sorted(by_workshop):
            seated = by_workshop[workshop_id]
            if not capacity.take_seats(workshop_id, len(seated)):
                raise AllocationError(
                    _(
                        "“%(title)s” no longer has %(count)d seats free. Run a new dry run.",
                        title=sessions[workshop_id].title
                        if workshop_id in sessions
                        else workshop_id,
                        count=len(seated),
                    ),
                    "stale",
                )
            for attendee_id in seated:
                _set_registration(attendees[attendee_id], sessions[workshop_id], "confirmed", now)
                touched[attendee_id].append(workshop_id)
                confirmed += 1

        waitlisted = _waitlist_the_rest(run, attendees, sessions, touched, now)

    emails = 0
    for attendee_id in sorted(touched):
        enqueue_ids = sorted(touched[attendee_id])

        enqueue("confirmation", attendees[attendee_id], {"session_ids": enqueue_ids})
        emails += 1
    capacity.refresh_counters(*[sessions[i] for i in by_workshop if i in sessions])
    event.allocation_published_at = now
    run.status = "published"
    run.published_at = now
    if actor is not None:
        run.organiser_id = run.organiser_id or actor.id
    db.session.flush()
    audit.record(
        actor,
        "allocation.published",
        run,
        after={"confirmed": confirmed, "waitlisted": waitlisted, "emails": emails},
        event=event,
        now=now,
    )
    return PublishResult(run, confirmed, waitlisted, emails)


def _waitlist_the_rest(run, attendees, sessions, touched, now) -> int:
    """Pairs left with nothing: a waiting-list place on each workshop they ranked, in order
    of rank first (all first choices before any second choice), then of a seeded lottery."""
    ranked = {(r["attendee_id"], r["round_key"]): r["choices"] for r in run.inputs["rankings"]}
    unassigned = [
        (row["attendee_id"], row["round_key"])
        for row in run.result["assignments"]
        if row["workshop_id"] is None and ranked.get((row["attendee_id"], row["round_key"]))
    ]
    lottery = sorted({a for a, _key in unassigned})
    random.Random(run.seed).shuffle(lottery)
    position = {a: i for i, a in enumerate(lottery)}
    places = sorted(
        (rank, position[a], session_id, a)
        for a, key in unassigned
        for rank, session_id in enumerate(ranked[(a, key)], start=1)
        if session_id in sessions
    )
    for i, (_rank, _pos, session_id, attendee_id) in enumerate(places):
        # One microsecond apart keeps the order exact on both databases; all before `now`,
        # so whoever joins a waiting list after publication queues behind the allocation.
        _set_registration(
            attendees[attendee_id],
            sessions[session_id],
            "waitlisted",
            now - timedelta(microseconds=len(places) - i),
        )
        touched[attendee_id].append(session_id)
    return len(places)


def _set_registration(attendee: Attendee, session: EventSession, status: str, when) -> None:
    existing = next((r for r in attendee.registrations if r.session_id == session.id), None)
    if existing is None:
        existing = Registration(attendee=attendee, session=session, status=status, created_at=when)
        db.session.add(existing)
    elif existing.status == "cancelled":
        existing.sequence += 1
    existing.status = status
    existing.waitlisted_at = when if status == "waitlisted" else None


# --------------------------------------------------------------------------------------------


def allocate_due_events(now: datetime) -> int:
    """Allocate and publish every preference-mode event whose registration has closed.

    Called by the worker's periodic loop, so the allocation happens at the deadline even when
    no organiser starts it. A fresh random seed is drawn and stored with the run, as for a
    dry run started by hand. Another worker that got there first wins: the event row's lock
    in publish() makes this one see the publication and skip the event.
    """
    due = db.session.scalars(
        select(Event).where(
            Event.allocation_mode == "preferences",
            Event.allocation_published_at.is_(None),
            Event.status == "published",
            Event.registration_closes_at.is_not(None),
            Event.registration_closes_at <= now,
        )
    ).all()
    published = 0
    for event in due:
        try:
            with db.session.begin_nested():
                publish(event, dry_run(event, None, now=now), now=now)
        except AllocationError:
            continue  # published meanwhile by another worker or an organiser
        published += 1
    return published

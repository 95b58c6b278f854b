"""Fair allocation of workshops from ranked preferences: the database side.

In an event whose `allocation_mode` is "preferences", registration confirms the plenary
sessions at once and stores the attendee's ranked workshop choices per round as Preference
rows (no seat is taken). The organiser then runs a dry run, which builds the solver's inputs
from the database, runs the fair optimum (services/allocation_solver.py) and both baselines,
and stores seed, inputs and result in an AllocationRun, so the run can be replayed. Publishing
a run writes it in one transaction: seats through the capacity guard, waiting-list places for
whoever got nothing in a round, confirmation emails through the outbox; from then on the event
is first come, first served for the seats left.

A round here is programme.workshop_rounds(): workshops that overlap in time. The mode is per
event (every round of the event is allocated).
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, delete, func, select
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
from ..errors import DomainError, InvalidInput, NotFound, RegistrationClosed
from ..mail.outbox import enqueue
from ..programme.reading import Round, ensure_open, workshop_rounds
from ..registration import capacity
from ..registration.capacity import lock_attendee
from ..registration.waitlist import SEAT_HOLDING
from ..validation import FieldErrors
from .solver import (
    METHOD_FCFS,
    METHOD_OPTIMAL,
    METHOD_RSD,
    Ranking,
    Workshop,
    allocate,
    audit_record,
    first_come_first_served,
    random_serial_dictatorship,
)

# How many workshops an attendee ranks per round (first, second, third choice).
MAX_CHOICES = 3
# Seeds are stored in a BIGINT column.
SEED_MAX = 2**63 - 1
METHODS = (METHOD_OPTIMAL, METHOD_FCFS, METHOD_RSD)


class AllocationError(DomainError):
    """The allocation cannot run or be published now (409, with a stable code)."""

    def __init__(self, message: str, code: str = "allocation"):
        super().__init__(message, code, 409)


# --------------------------------------------------------------------------------------------
# The mode and the rounds
# --------------------------------------------------------------------------------------------


def collects_preferences(event: Event) -> bool:
    """True while the event takes ranked workshop choices instead of seats."""
    return event.allocation_mode == "preferences" and event.allocation_published_at is None


def rounds_of(event: Event) -> list[Round]:
    """The event's workshop rounds (scheduled workshops grouped by overlap in time)."""
    sessions = db.session.scalars(
        select(EventSession)
        .where(EventSession.event_id == event.id, EventSession.kind == "workshop")
        .order_by(EventSession.starts_at, EventSession.id)
    )
    return workshop_rounds(sessions)


def workshop_ids(event: Event) -> set[int]:
    return {s.id for r in rounds_of(event) for s in r.sessions}


# --------------------------------------------------------------------------------------------
# Attendees' preferences
# --------------------------------------------------------------------------------------------


def clean_preferences(event: Event, ranked: object, errors: FieldErrors | None = None) -> dict:
    """Validate `{round_key: [session ids, best first]}`; the cleaned dict, or InvalidInput.

    Each list holds at most MAX_CHOICES distinct workshops of that round; an empty list (or a
    missing round) means "none is fine".
    """
    own_errors = errors is None
    errors = errors if errors is not None else FieldErrors()
    if ranked is None:
        ranked = {}
    if not isinstance(ranked, dict):
        errors.add("preferences", _("Give your choices per round."))
        ranked = {}
    rounds = {r.key: {s.id for s in r.sessions} for r in rounds_of(event)}
    cleaned: dict[str, list[int]] = {}
    for key, ids in ranked.items():
        if key not in rounds:
            errors.add("preferences", _("Unknown round: %(round)s.", round=str(key)))
            continue
        if not isinstance(ids, list) or any(
            isinstance(i, bool) or not isinstance(i, int) for i in ids
        ):
            errors.add("preferences", _("Choices must be a list of workshop ids."))
            continue
        if len(set(ids)) != len(ids):
            errors.add("preferences", _("Choose a workshop only once per round."))
            continue
        if len(ids) > MAX_CHOICES:
            errors.add(
                "preferences", _("Rank at most %(count)d workshops per round.", count=MAX_CHOICES)
            )
            continue
        unknown = [i for i in ids if i not in rounds[key]]
        if unknown:
            errors.add(
                "preferences",
                _("Not a workshop of this round: %(ids)s.", ids=", ".join(map(str, unknown))),
            )
            continue
        if ids:
            cleaned[key] = ids
    if own_errors and errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    return cleaned


def ensure_no_workshops(event: Event, sessions: list[EventSession]) -> None:
    """While preferences are collected, workshops are ranked, not booked."""
    workshops = [s for s in sessions if s.kind == "workshop"]
    if workshops:
        message = _(
            "Workshops of this event are allocated from your ranked preferences: "
            "rank them instead of choosing them."
        )
        raise InvalidInput(message, {"session_ids": [message]})


def record_preferences(attendee: Attendee, ranked: object) -> dict[str, list[int]]:
    """Replace the attendee's ranked choices with `ranked` ({round_key: [ids, best first]})."""
    cleaned = clean_preferences(attendee.event, ranked)
    db.session.execute(delete(Preference).where(Preference.attendee_id == attendee.id))
    for ids in cleaned.values():
        for rank, session_id in enumerate(ids, start=1):
            db.session.add(Preference(attendee_id=attendee.id, session_id=session_id, rank=rank))
    db.session.flush()
    return cleaned


def preferences_of(attendee: Attendee) -> dict[str, list[int]]:
    """The attendee's ranked choices per current round key, best first."""
    rows = db.session.execute(
        select(Preference.session_id)
        .where(Preference.attendee_id == attendee.id)
        .order_by(Preference.rank, Preference.id)
    ).scalars()
    ranked = list(rows)
    result: dict[str, list[int]] = {}
    for workshop_round in rounds_of(attendee.event):
        ids = {s.id for s in workshop_round.sessions}
        chosen = [i for i in ranked if i in ids]
        if chosen:
            result[workshop_round.key] = chosen
    return result


def change_preferences(
    attendee: Attendee, ranked: object, now: datetime, actor: Organiser | None = None
) -> dict[str, list[int]]:
    """The attendee (or an organiser for them) changes their ranking, until publication."""
    event = attendee.event
    if not collects_preferences(event):
        raise AllocationError(
            _("Workshops are no longer chosen by preference for this event."), "not_collecting"
        )
    if attendee.status != "active":
        raise RegistrationClosed(_("This registration has been cancelled."))
    if actor is None:
        ensure_open(event, now)
    lock_attendee(attendee)
    return record_preferences(attendee, ranked)


# --------------------------------------------------------------------------------------------
# Demand, for the dashboard and the allocation page
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkshopDemand:
    session: EventSession
    round_key: str
    first_choice: int
    total: int

    @property
    def capacity(self) -> int:
        return self.session.capacity

    @property
    def oversubscribed(self) -> bool:
        return self.first_choice > self.session.seats_left


def demand(event: Event) -> list[WorkshopDemand]:
    """Per workshop: how many ranked it first, how many ranked it at all (active attendees)."""
    counts = {
        session_id: (first, total)
        for session_id, first, total in db.session.execute(
            select(
                Preference.session_id,
                func.sum(case((Preference.rank == 1, 1), else_=0)),
                func.count(),
            )
            .join(Attendee, Attendee.id == Preference.attendee_id)
            .where(Attendee.event_id == event.id, Attendee.status == "active")
            .group_by(Preference.session_id)
        )
    }
    return [
        WorkshopDemand(s, r.key, int(counts.get(s.id, (0, 0))[0] or 0), counts.get(s.id, (0, 0))[1])
        for r in rounds_of(event)
        for s in r.sessions
    ]


# --------------------------------------------------------------------------------------------
# Solver inputs, dry run, replay
# --------------------------------------------------------------------------------------------


@dataclass
class SolverInputs:
    workshops: list[Workshop]
    rankings: list[Ranking]
    arrival_order: list[int]  # attendees in registration order, for the FCFS baseline


def build_inputs(event: Event) -> SolverInputs:
    """The solver's view of the event now: seats left per workshop and everyone's rankings.

    A round in which an attendee already holds a workshop (an organiser seated them) is left
    out for them, so nobody gets two workshops in one round.
    """
    rounds = rounds_of(event)
    round_of = {s.id: r.key for r in rounds for s in r.sessions}
    workshops = [
        Workshop(s.id, r.key, s.seats_left, s.starts_at, s.ends_at)
        for r in rounds
        for s in r.sessions
    ]
    held = set(
        db.session.execute(
            select(Registration.attendee_id, Registration.session_id)
            .join(Attendee, Attendee.id == Registration.attendee_id)
            .where(
                Attendee.event_id == event.id,
                Registration.status.in_(SEAT_HOLDING),
                Registration.session_id.in_(list(round_of) or [-1]),
            )
        ).all()
    )
    held_rounds = {(a, round_of[s]) for a, s in held}
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
    arrival_order = [
        a
        for a in db.session.scalars(
            select(Attendee.id)
            .where(Attendee.event_id == event.id)
            .order_by(Attendee.created_at, Attendee.id)
        )
        if a in ranked_attendees
    ]
    return SolverInputs(workshops, rankings, arrival_order)


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
    optimum = allocate(inputs.workshops, inputs.rankings, seed)
    fcfs = first_come_first_served(inputs.workshops, inputs.rankings, inputs.arrival_order)
    rsd = random_serial_dictatorship(inputs.workshops, inputs.rankings, seed)
    record = audit_record(inputs.workshops, inputs.rankings, optimum)
    run = AllocationRun(
        event_id=event.id,
        organiser_id=actor.id if actor is not None else None,
        seed=seed,
        status="dry_run",
        inputs={
            "versions": record["versions"],
            "workshops": record["workshops"],
            "rankings": record["rankings"],
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


def replay(run: AllocationRun):
    """Run the solver again on the run's stored inputs and seed (for audit): an Allocation."""
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
    return allocate(workshops, rankings, run.seed)


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


def quality_rows(stats: dict) -> list[dict]:
    """The comparison as rows (one per method) with first/second/third/none and mean fill."""
    rows = []
    for method in METHODS:
        s = stats.get(method)
        if s is None:
            continue
        fill = s["fill"]
        seats = sum(f["capacity"] for f in fill)
        rows.append(
            {
                "method": method,
                "first": s["by_rank"][0] if len(s["by_rank"]) > 0 else 0,
                "second": s["by_rank"][1] if len(s["by_rank"]) > 1 else 0,
                "third": s["by_rank"][2] if len(s["by_rank"]) > 2 else 0,
                "none": s["none"],
                "assigned": s["assigned"],
                "seats": seats,
                "fill_percent": round(100 * s["assigned"] / seats) if seats else 0,
            }
        )
    return rows


# At the deadline
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

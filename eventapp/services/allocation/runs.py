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

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    AllocationRun,
    Attendee,
    AuditEntry,
    Event,
    EventSession,
    Organiser,
    Registration,
)
from .. import audit
from ..errors import InvalidInput, NotFound
from ..mail.outbox import enqueue
from ..registration import capacity
from ..registration.waitlist import promote_from_waitlist
from .baselines import first_come_first_served, random_serial_dictatorship
from .groups import not_applied, priority_report
from .inputs import build_inputs, input_changes, stored_inputs
from .outcome import ranking_demand
from .preferences import (  # noqa: F401 (re-exported: callers outside the package use runs)
    MAX_CHOICES,
    AllocationError,
    WorkshopDemand,
    change_preferences,
    clean_preferences,
    collects_preferences,
    demand,
    ensure_no_workshops,
    ensure_still_open,
    preferences_of,
    record_preferences,
    rounds_of,
    workshop_ids,
)
from .problem import (  # noqa: F401
    METHOD_FCFS,
    METHOD_OPTIMAL,
    METHOD_RSD,
    METHODS,
    clashes_with_held,
    round_covers,
)
from .quality import audit_record, quality_rows  # noqa: F401 (quality_rows: re-exported)
from .solver import allocate
from .verification import Verification, replay, verify_run  # noqa: F401 (re-exported)

# Seeds are stored in a BIGINT column.
SEED_MAX = 2**63 - 1


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
    ensure_still_open(event)
    seed = clean_seed(seed)
    inputs = build_inputs(event)
    optimum = allocate(inputs.workshops, inputs.rankings, seed, inputs.held, inputs.priority)
    fcfs = first_come_first_served(
        inputs.workshops, inputs.rankings, inputs.arrival_order, inputs.held, inputs.priority
    )
    rsd = random_serial_dictatorship(
        inputs.workshops, inputs.rankings, seed, inputs.held, inputs.priority
    )
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
            "priority": [g.to_dict() for g in inputs.priority],
        },
        result={
            "seed": seed,
            "assignments": record["assignments"],
            "demand": ranking_demand(record["rankings"]),
            "priority": priority_report(inputs, optimum.assignments),
            "priority_not_applied": not_applied(event),
        },
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


def changes_since(event: Event, run: AllocationRun) -> list[str]:
    """What differs between the run's stored inputs and the event now (empty: nothing)."""
    titles = {
        s.id: s.title
        for s in db.session.scalars(select(EventSession).where(EventSession.event_id == event.id))
    }
    return input_changes(stored_inputs(run), build_inputs(event), titles)


@dataclass(frozen=True)
class RunDifference:
    """Why a run was redone and what it changed: the input changes in words, and how many
    (attendee, round) pairs got a different workshop (or none) than in the stale run."""

    inputs: list[str]
    moved: int


def rerun_if_stale(
    event: Event, run: AllocationRun, *, now: datetime, actor: Organiser | None = None
) -> tuple[AllocationRun, RunDifference]:
    """The run itself if it still matches the event; else a new dry run with the same seed,
    and the difference, so the organiser sees what publishing now would really do."""
    changes = changes_since(event, run)
    if not changes:
        return run, RunDifference([], 0)
    fresh = dry_run(event, run.seed, now=now, actor=actor)
    old = {(a["attendee_id"], a["round_key"]): a["workshop_id"] for a in run.result["assignments"]}
    new = {
        (a["attendee_id"], a["round_key"]): a["workshop_id"] for a in fresh.result["assignments"]
    }
    moved = sum(old.get(k) != new.get(k) for k in old.keys() | new.keys())
    return fresh, RunDifference(changes, moved)


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
    # FOR NO KEY UPDATE (key_share) on PostgreSQL: a run inserted in the same transaction
    # holds a key-share lock on this row (its foreign key), which FOR UPDATE would wait for,
    # so two "dry run then publish" transactions deadlocked instead of queueing.
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update(key_share=True))
    db.session.refresh(event, ["allocation_published_at", "allocation_mode"])
    ensure_still_open(event)
    if run.event_id != event.id or run.status != "dry_run":
        raise AllocationError(_("This allocation run cannot be published."), "not_publishable")
    changes = changes_since(event, run)
    if changes:
        raise AllocationError(
            _(
                "The programme or the rankings changed since this dry run (%(changes)s). "
                "Run it again: the same seed gives the same lottery.",
                changes="; ".join(changes),
            ),
            "stale",
            changes=changes,
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
                    ngettext(
                        "“%(title)s” no longer has %(num)d seat free. Run a new dry run.",
                        "“%(title)s” no longer has %(num)d seats free. Run a new dry run.",
                        len(seated),
                        title=sessions[workshop_id].title
                        if workshop_id in sessions
                        else workshop_id,
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
    # From here on the event is first come, first served: a seat still free goes to the
    # first in line who can take it, by the waiting list's own rules.
    for session in sessions.values():
        if session.seats_left > 0:
            promote_from_waitlist(session, now)
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
    inputs = stored_inputs(run)
    ranked = _attendable_choices(run, inputs)
    # A round filled by a double workshop from another round is not missed (finding 3).
    covers = round_covers(inputs.workshops)
    filled = {
        (row["attendee_id"], key)
        for row in run.result["assignments"]
        if row["workshop_id"] is not None
        for key in covers.get(row["workshop_id"], ())
    }
    unassigned = [
        (row["attendee_id"], row["round_key"])
        for row in run.result["assignments"]
        if row["workshop_id"] is None
        and ranked.get((row["attendee_id"], row["round_key"]))
        and (row["attendee_id"], row["round_key"]) not in filled
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


def _attendable_choices(run, inputs) -> dict[tuple[int, str], list[int]]:
    """Each ranking without the workshops that overlap a seat the attendee held at the dry
    run: the allocation treated those as choices that do not exist (the ranks close up), so
    a waiting-list place there would be one the waiting list can never fill (promotion skips
    a clash), and a round whose every choice clashes is not missed at all."""
    workshops = {w.id: w for w in inputs.workshops}
    held: dict[int, list] = defaultdict(list)
    for seat in inputs.held:
        held[seat.attendee_id].append(seat)
    return {
        (r["attendee_id"], r["round_key"]): [
            w
            for w in r["choices"]
            if w not in workshops or not clashes_with_held(held[r["attendee_id"]], workshops[w])
        ]
        for r in run.inputs["rankings"]
    }


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

    Each event is allocated and committed in its own transaction (the one place this package
    commits): one event that fails, whatever the reason, is rolled back alone, logged with
    its traceback, and recorded in its audit log as "allocation.failed", which its organisers
    see on the allocation page; the other events go on. The next periodic run tries it again.
    """
    due = db.session.scalars(
        select(Event.id).where(
            Event.allocation_mode == "preferences",
            Event.allocation_published_at.is_(None),
            Event.status == "published",
            Event.registration_closes_at.is_not(None),
            Event.registration_closes_at <= now,
        )
    ).all()
    db.session.commit()  # end the reading transaction: each event gets its own
    published = 0
    for event_id in due:
        event = db.session.get(Event, event_id)
        try:
            publish(event, dry_run(event, None, now=now), now=now)
            db.session.commit()
        except AllocationError:
            db.session.rollback()  # published meanwhile by another worker or an organiser
            continue
        except Exception as error:
            db.session.rollback()
            current_app.logger.exception("allocation at the deadline failed for event %s", event_id)
            _record_failure(db.session.get(Event, event_id), error, now)
            continue
        published += 1
    return published


def _record_failure(event: Event, error: Exception, now: datetime) -> None:
    """The audit entry the organisers see; not repeated while the same error persists."""
    text = f"{type(error).__name__}: {error}"[:500]
    if last_failure(event) == text:
        return
    audit.record(None, "allocation.failed", event, after={"error": text}, event=event, now=now)
    db.session.commit()


def last_failure(event: Event) -> str | None:
    """The error of the deadline job's last failed attempt, unless a run was made since."""
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.event_id == event.id, AuditEntry.action == "allocation.failed")
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()
    latest = latest_run(event)
    if entry is None or (latest is not None and latest.created_at > entry.created_at):
        return None
    return (entry.after or {}).get("error")

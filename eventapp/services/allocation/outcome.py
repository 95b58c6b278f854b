"""What the published allocation gave one attendee, and why: the transparency of round two.

Per round: the workshops they ranked (best first), which one they got and as which choice, or,
where they got none, how oversubscribed each of their choices was (first choices and all
rankings against its seats), all read from the published run's stored inputs and result, so
the page shows exactly what the allocation saw.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ...extensions import db
from ...i18n import in_reader_language
from ...models import AllocationRun, Attendee, EventSession
from .problem import HeldSeat, Workshop, clashes_with_held, round_covers


@dataclass(frozen=True)
class Choice:
    session_id: int
    title: str
    rank: int  # 1-based
    seats: int  # seats the allocation had
    first_choices: int  # how many ranked it first
    ranked: int  # how many ranked it at all
    # It overlaps a seat they held at the dry run: the allocation ignored it, and put them
    # on no waiting list for it.
    clashes: bool = False

    @property
    def oversubscribed(self) -> bool:
        return self.first_choices > self.seats


@dataclass(frozen=True)
class RoundOutcome:
    starts_at: datetime
    choices: list[Choice] = field(default_factory=list)
    got: Choice | None = None
    filled_by: str | None = None  # the title of a double workshop that fills this round
    # Where they got none: every choice was full with people who ranked it as high or
    # higher. Not always so, since seats come before ranks: a double workshop may go to
    # someone who ranked it lower because it fills two of their rounds (and a priority
    # group's members get its seats whatever their rank), so the page may say it only
    # where the run shows it.
    outranked: bool = True

    @property
    def none_because(self) -> str:
        """Why they got none here, as the page words it: "clash" (every choice overlaps a
        seat they hold), "outranked" (each was full with people who ranked it as high or
        higher), "outranked_or_clash" (the same, for the choices that do not clash), or
        "lower_rank" (a seat went to someone who ranked it lower)."""
        if all(c.clashes for c in self.choices):
            return "clash"
        if not self.outranked:
            return "lower_rank"
        return "outranked_or_clash" if any(c.clashes for c in self.choices) else "outranked"


def ranking_demand(rankings: list[dict]) -> list[dict]:
    """Per workshop: how many ranked it first and how many ranked it at all. Stored with a
    run (its result's "demand"), so the attendees' pages after publication need not count
    every ranking again on each view."""
    first, ranked = Counter(), Counter()
    for r in rankings:
        if r["choices"]:
            first[r["choices"][0]] += 1
        ranked.update(set(r["choices"]))
    return [
        {"workshop_id": w, "first_choices": first[w], "ranked": ranked[w]} for w in sorted(ranked)
    ]


def published_run(attendee: Attendee) -> AllocationRun | None:
    return db.session.scalars(
        select(AllocationRun).where(
            AllocationRun.event_id == attendee.event_id, AllocationRun.status == "published"
        )
    ).first()


def outcome_for(attendee: Attendee) -> list[RoundOutcome]:
    """The attendee's rounds in time order; empty before publication or without a ranking."""
    run = published_run(attendee)
    if run is None:
        return []
    workshops = {w["id"]: Workshop.from_dict(w) for w in run.inputs["workshops"]}
    titles = {  # in the reader's language, as on every page they see
        session.id: in_reader_language(session, "title")
        for session in db.session.scalars(
            select(EventSession).where(EventSession.id.in_(list(workshops) or [-1]))
        )
    }
    demand = run.result.get("demand") or ranking_demand(run.inputs["rankings"])
    first = {d["workshop_id"]: d["first_choices"] for d in demand}
    ranked = {d["workshop_id"]: d["ranked"] for d in demand}
    mine = {
        r["round_key"]: r["choices"]
        for r in run.inputs["rankings"]
        if r["attendee_id"] == attendee.id
    }
    got = {
        a["round_key"]: a["workshop_id"]
        for a in run.result["assignments"]
        if a["attendee_id"] == attendee.id
    }
    covers = round_covers(workshops.values())
    seated = _seated(run, workshops)
    held = [
        HeldSeat.from_dict(h) for h in run.inputs.get("held", []) if h["attendee_id"] == attendee.id
    ]
    outcomes = []
    for key, ids in mine.items():
        choices = [
            Choice(
                i,
                titles.get(i, f"#{i}"),
                rank,
                workshops[i].capacity,
                first.get(i, 0),
                ranked.get(i, 0),
                clashes_with_held(held, workshops[i]),
            )
            for rank, i in enumerate((i for i in ids if i in workshops), start=1)
        ]
        if not choices:
            continue
        filled_by = next(
            (titles.get(w, f"#{w}") for w in got.values() if w and key in covers.get(w, ())),
            None,
        )
        outcomes.append(
            RoundOutcome(
                starts_at=min(workshops[c.session_id].starts_at for c in choices),
                choices=choices,
                got=next((c for c in choices if c.session_id == got.get(key)), None),
                filled_by=filled_by,
                outranked=all(_outranked(c, seated) for c in choices if not c.clashes),
            )
        )
    return sorted(outcomes, key=lambda o: o.starts_at)


def _seated(run: AllocationRun, workshops: dict) -> dict[int, tuple[int, int]]:
    """Per workshop given in the run: (how many got it, the lowest rank any of them gave it)."""
    rank_of = {
        (r["attendee_id"], i): rank
        for r in run.inputs["rankings"]
        for rank, i in enumerate((i for i in r["choices"] if i in workshops), start=1)
    }
    seated: dict[int, tuple[int, int]] = {}
    for a in run.result["assignments"]:
        w = a["workshop_id"]
        if w is not None:
            count, lowest = seated.get(w, (0, 0))
            rank = rank_of.get((a["attendee_id"], w), len(workshops) + 1)
            seated[w] = (count + 1, max(lowest, rank))
    return seated


def _outranked(choice: Choice, seated: dict[int, tuple[int, int]]) -> bool:
    """The choice was full with people who ranked it as high as `choice.rank` or higher."""
    count, lowest = seated.get(choice.session_id, (0, 0))
    return count >= choice.seats and lowest <= choice.rank

"""What an allocation achieved: per method the counts of 1st, 2nd, 3rd choices and misses.

:class:`AllocationStats` is what the dry-run page, the CLI table, the API and the benchmark
show for the optimum and both baselines; :class:`Allocation` is a result with its stats, and
:func:`audit_record` everything needed to replay it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy

from .problem import METHODS, HeldSeat, Problem, Ranking, Workshop, spanned_pairs

_ORDINALS = ("first", "second", "third", "fourth", "fifth")

# The fairness rules a run was made under (docs/ALLOCATION.md, "Rules versions"): 1, the
# fairness level over independent rounds only, a double session's rounds settled first (runs
# store no number); 2, the double session's rounds join the fairness level.
RULES_VERSION = 2


@dataclass(frozen=True)
class AllocationStats:
    """Summary of one allocation: what a dry-run page, the benchmark and the audit log show.

    ``by_rank[k]`` counts (attendee, round) pairs that got their (k+1)-th valid choice.
    ``none`` counts pairs that ranked something valid and got nothing (what level 1 minimises);
    ``unranked`` counts pairs with no valid choice at all (nothing to give, never a failure).
    ``fill`` maps workshop id to (assigned, capacity). ``misses_per_attendee[k]`` counts
    attendees left with nothing in exactly k of their rounds (what the fairness level spreads).
    """

    method: str
    by_rank: tuple[int, ...]
    none: int
    unranked: int
    fill: dict[int, tuple[int, int]] = field(hash=False)
    total_attendees: int
    wall_time_s: float
    misses_per_attendee: tuple[int, ...] = ()
    spanned: int = 0  # pairs filled by a double workshop of another round (not in ``none``)

    def missing_at_least(self, rounds: int) -> int:
        """Attendees left with nothing they ranked in ``rounds`` or more of their rounds."""
        return sum(self.misses_per_attendee[rounds:])

    def fairness(self) -> tuple[int, ...]:
        """The fairness level's key, worst first: attendees with K or more misses, ..., with 2
        or more (smaller is fairer, compared lexicographically at a common length)."""
        return tuple(
            self.missing_at_least(k) for k in range(len(self.misses_per_attendee) - 1, 1, -1)
        )

    @property
    def first(self) -> int:
        return self.rank_count(1)

    @property
    def second(self) -> int:
        return self.rank_count(2)

    @property
    def third(self) -> int:
        return self.rank_count(3)

    @property
    def assigned(self) -> int:
        return sum(self.by_rank)

    def rank_count(self, rank: int) -> int:
        """Pairs that got their ``rank``-th choice (1-based); 0 beyond the longest ranking."""
        if rank < 1:
            raise ValueError("rank is 1-based")
        return self.by_rank[rank - 1] if rank <= len(self.by_rank) else 0

    def objective(self, depth: int | None = None) -> tuple[int, ...]:
        """The lexicographic key the optimum maximises: ``(-none, first, second, ...)``.

        Pass ``depth`` to pad/truncate to a common number of ranks when comparing allocations.
        """
        depth = len(self.by_rank) if depth is None else depth
        return (-self.none, *(self.rank_count(k) for k in range(1, depth + 1)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (no tuple keys, no numpy types) for audit and the web."""
        named = {
            _ORDINALS[k] if k < len(_ORDINALS) else f"rank_{k + 1}": n
            for k, n in enumerate(self.by_rank)
        }
        return {
            "method": self.method,
            "by_rank": [int(n) for n in self.by_rank],
            **{name: int(n) for name, n in named.items()},
            "none": int(self.none),
            "unranked": int(self.unranked),
            "assigned": int(self.assigned),
            "fill": [
                {"workshop_id": int(w), "assigned": int(a), "capacity": int(c)}
                for w, (a, c) in sorted(self.fill.items())
            ],
            "total_attendees": int(self.total_attendees),
            "wall_time_s": float(self.wall_time_s),
            "misses_per_attendee": [int(n) for n in self.misses_per_attendee],
            "spanned": int(self.spanned),
            "two_or_more_misses": int(self.missing_at_least(2)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AllocationStats:
        """Inverse of :meth:`to_dict`, for reading an audit record back."""
        return cls(
            method=str(data["method"]),
            by_rank=tuple(int(n) for n in data["by_rank"]),
            none=int(data["none"]),
            unranked=int(data["unranked"]),
            fill={
                int(row["workshop_id"]): (int(row["assigned"]), int(row["capacity"]))
                for row in data["fill"]
            },
            total_attendees=int(data["total_attendees"]),
            wall_time_s=float(data["wall_time_s"]),
            misses_per_attendee=tuple(int(n) for n in data.get("misses_per_attendee", ())),
            spanned=int(data.get("spanned", 0)),
        )


@dataclass(frozen=True)
class Allocation:
    """Result: ``assignments[(attendee_id, round_key)]`` is a workshop id or ``None``.

    There is one key per input :class:`Ranking`. ``seed`` is the lottery seed (``None`` for
    first-come-first-served, which uses no randomness).
    """

    assignments: dict[tuple[int, str], int | None] = field(hash=False)
    stats: AllocationStats
    seed: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form of the whole result, for the audit log."""
        return {
            "seed": self.seed,
            "stats": self.stats.to_dict(),
            "assignments": [
                {"attendee_id": a, "round_key": r, "workshop_id": w}
                for (a, r), w in sorted(self.assignments.items())
            ],
        }


def audit_record(
    workshops: Iterable[Workshop],
    rankings: Iterable[Ranking],
    allocation: Allocation,
    held: Iterable[HeldSeat] = (),
) -> dict[str, Any]:
    """Everything needed to re-run and check an allocation later: inputs, seed and result.

    The library versions are recorded because the lottery stream comes from NumPy and the
    optimum from SciPy's HiGHS; a replay on other versions should match, and if it ever does
    not, this says why. ``rules`` says which fairness rules made the run (RULES_VERSION),
    so a replay under later rules that differs is explained, not an alarm.
    """
    return {
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "rules": RULES_VERSION,
        },
        "workshops": [w.to_dict() for w in sorted(workshops, key=lambda w: w.id)],
        "rankings": [
            r.to_dict() for r in sorted(rankings, key=lambda r: (r.attendee_id, r.round_key))
        ],
        "held": [h.to_dict() for h in sorted(held, key=lambda h: (h.attendee_id, h.session_id))],
        **allocation.to_dict(),
    }


def build_stats(
    problem: Problem,
    assignments: dict[tuple[int, str], int | None],
    method: str,
    wall_time_s: float,
) -> AllocationStats:
    by_rank = [0] * problem.max_rank
    none = unranked = 0
    assigned = dict.fromkeys(problem.workshops, 0)
    misses = dict.fromkeys(problem.pairs_by_attendee, 0)
    spanned = spanned_pairs(problem, assignments)
    for pair, valid in zip(problem.pairs, problem.choices, strict=True):
        wid = assignments[pair]
        if not valid:
            unranked += 1
        elif pair in spanned:
            pass  # a double workshop from another round fills it: assigned, not missed
        elif wid is None:
            none += 1
            misses[pair[0]] += 1
        else:
            by_rank[valid.index(wid)] += 1
        if wid is not None:
            assigned[wid] += 1
    return AllocationStats(
        method=method,
        by_rank=tuple(by_rank),
        none=none,
        unranked=unranked,
        fill={wid: (assigned[wid], w.capacity) for wid, w in problem.workshops.items()},
        total_attendees=len(problem.pairs_by_attendee),
        wall_time_s=wall_time_s,
        spanned=len(spanned),
        misses_per_attendee=tuple(
            np.bincount(np.fromiter(misses.values(), dtype=np.int64), minlength=1).tolist()
        ),
    )


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
                # Attendees with nothing in 2 or more rounds (absent from runs made before).
                "two_plus": s.get("two_or_more_misses"),
                # The whole distribution: with scarce seats "2+" alone makes the fairest
                # allocation look worst (docs/ALLOCATION.md, "What worst-first means").
                "by_misses": s.get("misses_per_attendee"),
                "assigned": s["assigned"],
                "seats": seats,
                "fill_percent": round(100 * s["assigned"] / seats) if seats else 0,
            }
        )
    return rows

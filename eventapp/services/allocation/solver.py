"""Fair allocation of oversubscribed workshops from ranked preferences (pure, database-free core).

An event has rounds of parallel workshops. Instead of first-come-first-served, each attendee
ranks a few workshops per round (best first; ranking none means "any or none is fine"). At the
deadline :func:`allocate` gives each attendee at most one workshop per round, only one they
ranked, never above a workshop's capacity, and never two sessions that overlap in time. A
workshop may span two rounds, so overlaps across rounds are derived from the sessions'
``starts_at``/``ends_at`` and respected.

Fairness rule (lexicographic; each level is optimised exactly and then frozen, so no lower
level can ever buy back a worse result on a higher one):

1. Minimise the number of (attendee, round) pairs left with nothing they ranked, counting only
   rounds where the attendee ranked at least one valid workshop. Seating one more person
   somewhere they asked for beats giving anyone a better rank.
2. Then maximise the number of first choices, then of second choices, then third, and so on.
3. Remaining ties (several allocations equal on every level) are broken by a seeded lottery:
   every (attendee, round, choice) gets an independent weight drawn uniformly from [0, 1) by
   NumPy's PCG64 seeded with ``seed``, in a canonical order (attendee id, round in time
   order, rank), and the allocation with the largest total weight among the lexicographically
   optimal ones wins. The levels are fixed as hard constraints before the lottery runs, so the
   lottery cannot outweigh any level (no big-M weights, no precision trade-off).
   Inputs are canonicalised (sorted) first, so the same workshops, rankings and seed give the
   identical allocation whatever order they arrive in.

How it is solved (a well-kept solver, HiGHS through SciPy, not a hand-written search). Rounds
that no cross-round overlap ties together are independent, and each is a transportation problem
(attendees x workshops, a bipartite incidence matrix, totally unimodular), so its LP optimum is
integral. The levels are optimised one after another, each restricting the LP to the optimal
face of the previous one (columns with a non-zero reduced cost fixed at 0, rows with a non-zero
dual made equalities), which keeps the matrix totally unimodular; the final lottery LP then has
an integral optimum. Because attendees with identical rankings are interchangeable, the level
LPs run on an aggregated model (one column per ranking type and choice, a few hundred columns)
and only the lottery LP sees every attendee. Rounds coupled by a session that spans rounds get
per-attendee conflict rows, which break total unimodularity: there each level's LP bound is
imposed as an equality, and a final integral LP solution certifies itself as the exact
optimum; if it ever came out fractional, ``scipy.optimize.milp`` (HiGHS branch and cut) solves
the same levels exactly. Everything is built as sparse matrices; ``bench/bench_allocation.py``
measures 5,000 attendees x 4 rounds x 8 workshops at about 1.4 s of CPU time (about
3.7 s when a double session couples two rounds).

Two greedy baselines, :func:`first_come_first_served` and :func:`random_serial_dictatorship`,
and :func:`compare` exist so a dry-run page and the benchmark can show what the optimum gains.

Validation: ranked ids that are not workshops of that ranking's round are ignored, and so are
repeated ids (the first occurrence keeps its rank). Structurally invalid input (negative
capacity, a session that ends before it starts, duplicate workshop ids, two rankings for the
same attendee and round, mixed naive/aware datetimes, a bad seed or arrival order) raises
``ValueError`` with a message that says what is wrong.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import scipy
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

__all__ = [
    "Allocation",
    "AllocationStats",
    "Ranking",
    "Workshop",
    "allocate",
    "audit_record",
    "compare",
    "first_come_first_served",
    "random_serial_dictatorship",
]

METHOD_OPTIMAL = "optimal"
METHOD_FCFS = "first_come_first_served"
METHOD_RSD = "random_serial_dictatorship"

# Reduced costs and duals of a totally unimodular LP with 0/1 objective are integers, so
# anything below one half is numerical noise and anything above is a real non-zero.
_DUAL_THRESHOLD = 0.5
_INTEGRALITY_TOLERANCE = 1e-6
# On coupled (not totally unimodular) models duals may be fractions, so only treat values
# below the solver's own tolerances as zero.
_REDUCED_COST_EPS = 1e-6


# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workshop:
    """One session that can be allocated.

    ``round_key`` names the round whose ranking lists it; ``starts_at``/``ends_at`` are what
    overlap checks use, so a workshop running into the next round blocks that round's sessions
    it overlaps for whoever gets it.
    """

    id: int
    round_key: str
    capacity: int
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        # Validate at construction so bad data fails where it is built, not deep in a solve.
        if isinstance(self.id, bool) or not isinstance(self.id, int):
            raise ValueError(f"Workshop id must be an int, got {self.id!r}")
        if not isinstance(self.round_key, str):
            raise ValueError(f"Workshop {self.id}: round_key must be a str")
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int):
            raise ValueError(f"Workshop {self.id}: capacity must be an int, got {self.capacity!r}")
        if self.capacity < 0:
            raise ValueError(f"Workshop {self.id}: capacity must be >= 0, got {self.capacity}")
        if not isinstance(self.starts_at, datetime) or not isinstance(self.ends_at, datetime):
            raise ValueError(f"Workshop {self.id}: starts_at and ends_at must be datetimes")
        if (self.starts_at.tzinfo is None) != (self.ends_at.tzinfo is None):
            raise ValueError(f"Workshop {self.id}: starts_at and ends_at mix naive and aware")
        if self.ends_at <= self.starts_at:
            raise ValueError(f"Workshop {self.id}: ends_at must be after starts_at")

    def overlaps(self, other: Workshop) -> bool:
        """True if the two sessions share any instant (touching end/start does not count)."""
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for storing the solver's inputs next to its result for audit."""
        return {
            "id": self.id,
            "round_key": self.round_key,
            "capacity": self.capacity,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Ranking:
    """An attendee's ranked workshop ids for one round, best first.

    An empty ``choices`` means the attendee is happy with nothing in that round; such a pair
    appears in the result as ``None`` and never counts as "left with nothing".
    """

    attendee_id: int
    round_key: str
    choices: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.attendee_id, bool) or not isinstance(self.attendee_id, int):
            raise ValueError(f"Ranking attendee_id must be an int, got {self.attendee_id!r}")
        if not isinstance(self.round_key, str):
            raise ValueError(f"Ranking of attendee {self.attendee_id}: round_key must be a str")
        choices = tuple(self.choices)  # accept lists from callers, store immutably
        for choice in choices:
            if isinstance(choice, bool) or not isinstance(choice, int):
                raise ValueError(
                    f"Ranking of attendee {self.attendee_id}: choices must be workshop ids "
                    f"(ints), got {choice!r}"
                )
        object.__setattr__(self, "choices", choices)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for audit."""
        return {
            "attendee_id": self.attendee_id,
            "round_key": self.round_key,
            "choices": list(self.choices),
        }


_ORDINALS = ("first", "second", "third", "fourth", "fifth")


@dataclass(frozen=True)
class AllocationStats:
    """Summary of one allocation: what a dry-run page, the benchmark and the audit log show.

    ``by_rank[k]`` counts (attendee, round) pairs that got their (k+1)-th valid choice.
    ``none`` counts pairs that ranked something valid and got nothing (what level 1 minimises);
    ``unranked`` counts pairs with no valid choice at all (nothing to give, never a failure).
    ``fill`` maps workshop id to (assigned, capacity).
    """

    method: str
    by_rank: tuple[int, ...]
    none: int
    unranked: int
    fill: dict[int, tuple[int, int]] = field(hash=False)
    total_attendees: int
    wall_time_s: float

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
    workshops: Iterable[Workshop], rankings: Iterable[Ranking], allocation: Allocation
) -> dict[str, Any]:
    """Everything needed to re-run and check an allocation later: inputs, seed and result.

    The library versions are recorded because the lottery stream comes from NumPy and the
    optimum from SciPy's HiGHS; a replay on other versions should match, and if it ever does
    not, this says why.
    """
    return {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
        "workshops": [w.to_dict() for w in sorted(workshops, key=lambda w: w.id)],
        "rankings": [
            r.to_dict() for r in sorted(rankings, key=lambda r: (r.attendee_id, r.round_key))
        ],
        **allocation.to_dict(),
    }


# --------------------------------------------------------------------------------------------
# Canonical problem
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """Validated, canonically ordered input shared by the optimum and the baselines."""

    workshops: dict[int, Workshop]
    round_order: tuple[str, ...]  # chronological, so greedy passes go through the day in order
    pairs: tuple[tuple[int, str], ...]  # sorted (attendee_id, round_key) with a Ranking
    choices: tuple[tuple[int, ...], ...]  # valid, de-duplicated choices per pair
    max_rank: int
    conflicts: dict[int, frozenset[int]]  # workshop -> overlapping workshops of other rounds
    pairs_by_attendee: dict[int, tuple[int, ...]]  # pair indices in chronological round order


def _prepare(workshops: Iterable[Workshop], rankings: Iterable[Ranking]) -> _Problem:
    workshops = list(workshops)
    rankings = list(rankings)
    by_id: dict[int, Workshop] = {}
    for w in workshops:
        if not isinstance(w, Workshop):
            raise ValueError(f"expected Workshop, got {type(w).__name__}")
        if w.id in by_id:
            raise ValueError(f"duplicate workshop id {w.id}")
        by_id[w.id] = w
    if len({w.starts_at.tzinfo is None for w in workshops}) > 1:
        raise ValueError("workshop times mix naive and timezone-aware datetimes")

    round_start: dict[str, datetime] = {}
    for w in by_id.values():
        if w.round_key not in round_start or w.starts_at < round_start[w.round_key]:
            round_start[w.round_key] = w.starts_at
    for r in rankings:
        if not isinstance(r, Ranking):
            raise ValueError(f"expected Ranking, got {type(r).__name__}")
    # Rounds in time order (ties by key); rounds that only rankings mention go last.
    round_order = tuple(
        sorted(round_start, key=lambda k: (round_start[k], k))
        + sorted({r.round_key for r in rankings} - set(round_start))
    )
    round_rank = {k: i for i, k in enumerate(round_order)}

    seen: set[tuple[int, str]] = set()
    for r in rankings:
        key = (r.attendee_id, r.round_key)
        if key in seen:
            raise ValueError(
                f"two rankings for attendee {r.attendee_id} in round {r.round_key!r}; "
                "merge them into one ranked tuple"
            )
        seen.add(key)
    ordered = sorted(rankings, key=lambda r: (r.attendee_id, round_rank[r.round_key]))

    pairs: list[tuple[int, str]] = []
    choices: list[tuple[int, ...]] = []
    pairs_by_attendee: dict[int, list[int]] = {}
    for r in ordered:
        valid: list[int] = []
        for wid in r.choices:
            w = by_id.get(wid)
            if w is not None and w.round_key == r.round_key and wid not in valid:
                valid.append(wid)
        pairs_by_attendee.setdefault(r.attendee_id, []).append(len(pairs))
        pairs.append((r.attendee_id, r.round_key))
        choices.append(tuple(valid))

    # Cross-round overlaps by a sweep over start times (same-round overlaps need no rows:
    # nobody gets two workshops of one round anyway).
    conflicts: dict[int, set[int]] = {wid: set() for wid in by_id}
    by_start = sorted(by_id.values(), key=lambda w: (w.starts_at, w.id))
    for i, a in enumerate(by_start):
        for b in by_start[i + 1 :]:
            if b.starts_at >= a.ends_at:
                break
            if a.round_key != b.round_key:
                conflicts[a.id].add(b.id)
                conflicts[b.id].add(a.id)

    return _Problem(
        workshops=dict(sorted(by_id.items())),
        round_order=round_order,
        pairs=tuple(pairs),
        choices=tuple(choices),
        max_rank=max((len(c) for c in choices), default=0),
        conflicts={wid: frozenset(s) for wid, s in conflicts.items()},
        pairs_by_attendee={a: tuple(p) for a, p in pairs_by_attendee.items()},
    )


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def _build_stats(
    problem: _Problem,
    assignments: dict[tuple[int, str], int | None],
    method: str,
    wall_time_s: float,
) -> AllocationStats:
    by_rank = [0] * problem.max_rank
    none = unranked = 0
    assigned = dict.fromkeys(problem.workshops, 0)
    for pair, valid in zip(problem.pairs, problem.choices, strict=True):
        wid = assignments[pair]
        if not valid:
            unranked += 1
        elif wid is None:
            none += 1
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
    )


def _verify(problem: _Problem, assignments: dict[tuple[int, str], int | None]) -> None:
    """Cheap independent check of every hard rule; a solver bug must never reach attendees."""
    load = dict.fromkeys(problem.workshops, 0)
    for pair, valid in zip(problem.pairs, problem.choices, strict=True):
        wid = assignments[pair]
        if wid is not None:
            if wid not in valid:
                raise RuntimeError(f"allocation gave {pair} unranked workshop {wid}")
            load[wid] += 1
    for wid, n in load.items():
        if n > problem.workshops[wid].capacity:
            raise RuntimeError(f"allocation overfills workshop {wid}")
    for idxs in problem.pairs_by_attendee.values():
        got = [assignments[problem.pairs[p]] for p in idxs]
        got = [w for w in got if w is not None]
        for i, a in enumerate(got):
            if any(b in problem.conflicts[a] for b in got[i + 1 :]):
                raise RuntimeError("allocation gave an attendee two overlapping sessions")


# --------------------------------------------------------------------------------------------
# The optimum
# --------------------------------------------------------------------------------------------


@dataclass
class _Model:
    """Sparse 0/1 model of one independent group of rounds.

    Columns are (pair, choice) variables in canonical order, grouped into *units*: a unit is
    one (attendee, round) pair, or all of an attendee's pairs in the group when cross-round
    conflicts tie them together. Rows: each unit's own rows ("at most one per pair", then its
    conflict rows), contiguous per unit, then one "at most capacity" row per workshop. Units
    with equal ``unit_keys`` (the same ranked tuples) are interchangeable, which is what
    :func:`_aggregate` exploits.
    """

    var_ids: np.ndarray  # global variable index of each column
    rank: np.ndarray  # 0-based rank of each column
    matrix: sparse.csr_matrix
    rhs: np.ndarray
    n_own_rows: int  # rows before the capacity rows
    unit_keys: list[tuple[tuple[int, ...], ...]]
    unit_cols: np.ndarray  # unit u owns columns unit_cols[u]:unit_cols[u + 1]
    unit_rows: np.ndarray  # unit u owns rows unit_rows[u]:unit_rows[u + 1]
    coupled: bool  # has conflict rows, so not totally unimodular


@dataclass
class _Aggregate:
    """The model with interchangeable units merged: one unit per ranking type, its own rows'
    right-hand sides multiplied by how many units share the type. Its LP has the same optimum
    as the full LP (sum a full solution over each type; conversely split an aggregated one
    evenly), but a few hundred columns where the full model has tens of thousands."""

    matrix: sparse.csr_matrix
    rhs: np.ndarray
    rank: np.ndarray
    of_col: np.ndarray  # aggregated column of each full column
    of_row: np.ndarray  # aggregated row of each full row


def _aggregate(model: _Model) -> _Aggregate:
    type_index: dict[tuple[tuple[int, ...], ...], int] = {}
    reps: list[int] = []
    unit_type = np.empty(len(model.unit_keys), dtype=np.int64)
    for u, key in enumerate(model.unit_keys):
        t = type_index.get(key)
        if t is None:
            t = type_index[key] = len(reps)
            reps.append(u)
        unit_type[u] = t
    rep = np.asarray(reps, dtype=np.int64)
    col_len = np.diff(model.unit_cols)
    row_len = np.diff(model.unit_rows)
    type_col_off = np.concatenate([[0], np.cumsum(col_len[rep])])
    type_row_off = np.concatenate([[0], np.cumsum(row_len[rep])])
    n_rows, n_cols = model.matrix.shape
    sel_cols = np.concatenate(
        [np.arange(model.unit_cols[u], model.unit_cols[u + 1]) for u in reps]
    ).astype(np.int64)
    sel_own = np.concatenate(
        [np.arange(model.unit_rows[u], model.unit_rows[u + 1]) for u in reps]
    ).astype(np.int64)
    sel_rows = np.concatenate([sel_own, np.arange(model.n_own_rows, n_rows)])
    counts = np.bincount(unit_type, minlength=rep.size).astype(float)
    units = np.arange(len(model.unit_keys))
    unit_of_col = np.repeat(units, col_len)
    unit_of_row = np.repeat(units, row_len)
    of_own_row = type_row_off[unit_type[unit_of_row]] + (
        np.arange(model.n_own_rows) - model.unit_rows[unit_of_row]
    )
    return _Aggregate(
        matrix=model.matrix[sel_rows][:, sel_cols].tocsr(),
        rhs=np.concatenate(
            [model.rhs[sel_own] * np.repeat(counts, row_len[rep]), model.rhs[model.n_own_rows :]]
        ),
        rank=model.rank[sel_cols],
        of_col=type_col_off[unit_type[unit_of_col]]
        + (np.arange(n_cols) - model.unit_cols[unit_of_col]),
        of_row=np.concatenate(
            [of_own_row, type_row_off[-1] + np.arange(n_rows - model.n_own_rows)]
        ),
    )


def _level_objectives(rank: np.ndarray, max_rank: int) -> list[np.ndarray]:
    """Maximisation objectives, most important first: seated pairs, then 1st, 2nd... choices.

    The last rank's count follows from the others once the number seated is fixed, so it is
    not a separate level.
    """
    levels = [np.ones(rank.size)]
    for k in range(max_rank - 1):
        c = (rank == k).astype(float)
        if c.any():
            levels.append(c)
    return levels


def _highs_lp(
    c: np.ndarray,
    matrix: sparse.csr_matrix,
    rhs: np.ndarray,
    tight: np.ndarray,
    upper: np.ndarray,
    method: str = "highs-ds",
) -> Any:
    """Maximise ``c @ x`` s.t. rows <= rhs (== where ``tight``), 0 <= x <= upper.

    Both HiGHS methods return a basic (vertex) solution: the dual simplex directly, the interior
    point method after crossover. Basic duals of a totally unimodular matrix are integral.
    """
    loose = ~tight
    res = linprog(
        -c,
        A_ub=matrix[loose] if loose.any() else None,
        b_ub=rhs[loose] if loose.any() else None,
        A_eq=matrix[tight] if tight.any() else None,
        b_eq=rhs[tight] if tight.any() else None,
        bounds=np.column_stack([np.zeros(c.size), upper]),
        method=method,
    )
    if res.status != 0 and method != "highs-ds":
        # The interior point method can stall on degenerate models; simplex is slower but sure.
        return _highs_lp(c, matrix, rhs, tight, upper, "highs-ds")
    return res


def _certified(
    model: _Model, res: Any, targets: list[tuple[np.ndarray, float]]
) -> np.ndarray | None:
    """The final LP's solution if it is integral, feasible and meets every level's bound."""
    if res.status != 0 or res.x is None:
        return None
    x = np.asarray(res.x)
    rounded = np.rint(x)
    if np.abs(x - rounded).max(initial=0.0) > _INTEGRALITY_TOLERANCE:
        return None
    if np.any(model.matrix @ rounded > model.rhs + 0.5):
        return None
    for c, best in targets:
        if c @ rounded < best - 0.5:
            return None
    return rounded


def _solve_round(model: _Model, lottery: np.ndarray, max_rank: int) -> np.ndarray | None:
    """Lexicographic optimum of one round (a transportation problem) by successive optimal faces.

    After each level, the optimal solutions are exactly the feasible points complementary to
    the optimal duals: columns with a non-zero reduced cost stay at 0 and rows with a non-zero
    dual stay tight. Imposing that by bounds and equalities keeps the matrix totally unimodular,
    so the final lottery LP has an integral vertex optimum. The levels are solved on the
    aggregated model; its optimal duals, copied to every unit of a type, are optimal duals of
    the full model (feasible, same objective), so they cut out the same face there. Returns
    None if anything numerical looks off, so the caller can use the MILP instead.
    """
    agg = _aggregate(model)
    upper = np.full(agg.rank.size, np.inf)
    tight = np.zeros(agg.rhs.size, dtype=bool)
    targets: list[tuple[np.ndarray, float]] = []
    full_levels = _level_objectives(model.rank, max_rank)
    for c, c_full in zip(_level_objectives(agg.rank, max_rank), full_levels, strict=True):
        res = _highs_lp(c, agg.matrix, agg.rhs, tight, upper)
        if res.status != 0:
            return None
        targets.append((c_full, -res.fun))
        upper = np.where(np.asarray(res.lower.marginals) > _DUAL_THRESHOLD, 0.0, upper)
        duals = np.zeros(agg.rhs.size)
        if (~tight).any():
            duals[~tight] = res.ineqlin.marginals
        tight |= np.abs(duals) > _DUAL_THRESHOLD
    res = _highs_lp(
        lottery,
        model.matrix,
        model.rhs,
        tight[agg.of_row],
        np.where(upper[agg.of_col] == 0.0, 0.0, 1.0),
    )
    # A misread dual would show up as a level below its optimum: then _certified says None.
    return _certified(model, res, targets)


def _solve_coupled(model: _Model, lottery: np.ndarray, max_rank: int) -> np.ndarray | None:
    """Lexicographic optimum of rounds coupled by a spanning session, via LPs with a certificate.

    Conflict rows make the matrix not totally unimodular, so a level's LP optimum is only an
    upper bound on what integral allocations reach. Rounded down to an integer (level counts
    are integers) it is imposed as an equality for the following levels. The levels are solved
    on the aggregated model (same LP optimum). If the final per-attendee lottery LP (optimum
    unique with probability one) is integral, it meets every bound, so it is the exact
    lexicographic optimum, lottery included; otherwise return None and let the MILP decide.
    Equalities rather than ">=" rows leave the interior point method an interior; with
    crossover to a vertex it is several times faster than simplex on these larger models.
    """
    agg = _aggregate(model)
    rows, rhs = [agg.matrix], [agg.rhs]
    bests: list[float] = []
    levels = _level_objectives(agg.rank, max_rank)
    for c in levels:
        matrix = sparse.vstack(rows).tocsr()
        tight = np.arange(matrix.shape[0]) >= agg.rhs.size
        res = _highs_lp(c, matrix, np.concatenate(rhs), tight, np.full(c.size, np.inf), "highs-ipm")
        if res.status != 0:
            return None
        best = float(np.floor(-res.fun + _INTEGRALITY_TOLERANCE))
        bests.append(best)
        rows.append(sparse.csr_matrix(c))
        rhs.append(np.asarray([best]))
    # Shrink the final LP: a column with a non-zero reduced cost in the last level's LP is 0
    # on its whole optimal face (complementary slackness). Valid only when that LP's optimum
    # is the integer bound imposed below. Even a misread dual cannot break the certificate,
    # since the bounds above were computed without it.
    upper = np.ones(model.rank.size)
    if abs(-res.fun - bests[-1]) <= _INTEGRALITY_TOLERANCE:
        fixed = np.asarray(res.lower.marginals) > _REDUCED_COST_EPS
        upper[fixed[agg.of_col]] = 0.0
    full_levels = _level_objectives(model.rank, max_rank)
    matrix = sparse.vstack([model.matrix, *(sparse.csr_matrix(c) for c in full_levels)]).tocsr()
    res = _highs_lp(
        lottery,
        matrix,
        np.concatenate([model.rhs, bests]),
        np.arange(matrix.shape[0]) >= model.rhs.size,
        upper,
        "highs-ipm",
    )
    return _certified(model, res, list(zip(full_levels, bests, strict=True)))


def _solve_milp(model: _Model, lottery: np.ndarray, max_rank: int) -> np.ndarray:
    """Exact fallback: successive MILPs, each level's optimum kept as a constraint.

    Only used when the LP route cannot certify an integral optimum (a fractional LP on
    coupled rounds); HiGHS's branch and cut is slower but settles it.
    """
    n = model.rank.size
    constraints = [LinearConstraint(model.matrix, -np.inf, model.rhs)]
    options = {"mip_rel_gap": 0.0, "presolve": True}
    x = np.zeros(n)
    for c in [*_level_objectives(model.rank, max_rank), lottery]:
        res = milp(
            -c,
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
            constraints=constraints,
            options=options,
        )
        if res.status != 0 or res.x is None:
            raise RuntimeError(f"HiGHS MILP failed: {res.message}")
        x = np.rint(res.x)
        if c is not lottery:
            best = float(np.rint(c @ x))
            constraints.append(LinearConstraint(sparse.csr_matrix(c), best, np.inf))
    return x


def _build_models(problem: _Problem) -> tuple[list[_Model], list[tuple[int, int]]]:
    """One sparse model per group of rounds that cross-round overlaps tie together.

    Returns the models and the global variables as (pair index, workshop id), in canonical
    order (attendee, round in time order, rank).
    """
    variables: list[tuple[int, int]] = []
    var_rank: list[int] = []
    first_var: list[int] = []  # first variable of each pair
    for p, valid in enumerate(problem.choices):
        first_var.append(len(variables))
        for k, wid in enumerate(valid):
            variables.append((p, wid))
            var_rank.append(k)

    # Conflict rows: a ranked workshop w plus all of the attendee's choices in another round
    # that overlap w sum to at most 1 (valid because at most one per round is given anyway,
    # and tighter than pairwise rows). Rows are listed per attendee, as global variables.
    parent = {k: k for k in problem.round_order}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    conflict_rows: dict[int, list[list[int]]] = {}
    for attendee, idxs in problem.pairs_by_attendee.items():
        if len(idxs) < 2:
            continue
        for p in idxs:
            for k, wid in enumerate(problem.choices[p]):
                clash = problem.conflicts[wid]
                if not clash:
                    continue
                for q in idxs:
                    if q == p:
                        continue
                    hits = [
                        first_var[q] + i for i, v in enumerate(problem.choices[q]) if v in clash
                    ]
                    if hits:
                        conflict_rows.setdefault(attendee, []).append([first_var[p] + k, *hits])
                        parent[find(problem.pairs[p][1])] = find(problem.pairs[q][1])
        if attendee in conflict_rows:
            # Also every set of the attendee's choices running at one instant (a clique of
            # the interval graph): these make the attendee's own polytope integral when each
            # round's sessions share a slot, so the LP is fractional less often.
            chosen = [
                (first_var[p] + i, problem.workshops[v], p)
                for p in idxs
                for i, v in enumerate(problem.choices[p])
            ]
            seen = {frozenset(r) for r in conflict_rows[attendee]}
            for t in sorted({w.starts_at for _, w, _ in chosen}):
                live = [(j, p) for j, w, p in chosen if w.starts_at <= t < w.ends_at]
                clique = frozenset(j for j, _ in live)
                if len({p for _, p in live}) > 1 and clique not in seen:
                    seen.add(clique)
                    conflict_rows[attendee].append(sorted(clique))

    group_of_round = {k: find(k) for k in problem.round_order}
    group_order = list(dict.fromkeys(group_of_round[k] for k in problem.round_order))
    n_groups = len(group_order)
    group_index = {g: i for i, g in enumerate(group_order)}

    # Per group: units of pairs (see _Model), their columns and own rows.
    cols: list[list[int]] = [[] for _ in range(n_groups)]
    row_ptr: list[list[list[int]]] = [[] for _ in range(n_groups)]  # rows as global variables
    keys: list[list[tuple[tuple[int, ...], ...]]] = [[] for _ in range(n_groups)]
    unit_cols: list[list[int]] = [[0] for _ in range(n_groups)]
    unit_rows: list[list[int]] = [[0] for _ in range(n_groups)]
    for attendee, idxs in problem.pairs_by_attendee.items():
        by_group: dict[int, list[int]] = {}
        for p in idxs:
            if problem.choices[p]:
                by_group.setdefault(group_index[group_of_round[problem.pairs[p][1]]], []).append(p)
        rows_of = conflict_rows.get(attendee, [])
        for g, pairs in by_group.items():
            own = [r for r in rows_of if variables[r[0]][0] in pairs]
            units = [pairs] if own else [[p] for p in pairs]
            for unit in units:
                for p in unit:
                    span = range(first_var[p], first_var[p] + len(problem.choices[p]))
                    cols[g].extend(span)
                    row_ptr[g].append(list(span))
                if own:
                    row_ptr[g].extend(own)
                keys[g].append(tuple(problem.choices[p] for p in unit))
                unit_cols[g].append(len(cols[g]))
                unit_rows[g].append(len(row_ptr[g]))

    models: list[_Model] = []
    for g in range(n_groups):
        if not cols[g]:
            continue
        var_ids = np.asarray(cols[g], dtype=np.int64)
        local = np.full(len(variables), -1, dtype=np.int64)
        local[var_ids] = np.arange(var_ids.size)
        own_rows = row_ptr[g]
        ws_of_col = np.asarray([variables[j][1] for j in cols[g]], dtype=np.int64)
        ws_ids, ws_row = np.unique(ws_of_col, return_inverse=True)
        n_own = len(own_rows)
        row_idx = np.concatenate(
            [np.repeat(np.arange(n_own), [len(r) for r in own_rows]), n_own + ws_row]
        )
        col_idx = np.concatenate(
            [
                local[np.fromiter((j for r in own_rows for j in r), dtype=np.int64)],
                np.arange(var_ids.size),
            ]
        )
        matrix = sparse.csr_matrix(
            (np.ones(row_idx.size), (row_idx, col_idx)), shape=(n_own + ws_ids.size, var_ids.size)
        )
        rhs = np.concatenate(
            [
                np.ones(n_own),
                np.asarray([problem.workshops[int(w)].capacity for w in ws_ids], dtype=float),
            ]
        )
        models.append(
            _Model(
                var_ids=var_ids,
                rank=np.asarray(var_rank, dtype=np.int64)[var_ids],
                matrix=matrix,
                rhs=rhs,
                n_own_rows=n_own,
                unit_keys=keys[g],
                unit_cols=np.asarray(unit_cols[g], dtype=np.int64),
                unit_rows=np.asarray(unit_rows[g], dtype=np.int64),
                coupled=any(len(k) > 1 for k in keys[g]),
            )
        )
    return models, variables


def allocate(workshops: Iterable[Workshop], rankings: Iterable[Ranking], seed: int) -> Allocation:
    """The lexicographically fair optimum (see the module docstring), ties by seeded lottery.

    Same inputs (in any order) and seed give the identical allocation.
    """
    _check_seed(seed)
    started = time.perf_counter()
    problem = _prepare(workshops, rankings)
    models, variables = _build_models(problem)
    # Drawn over all variables in canonical order, before splitting into groups, so the weights
    # do not depend on how the rounds happen to decompose.
    lottery_all = np.random.default_rng(int(seed)).random(len(variables))

    chosen = np.zeros(len(variables), dtype=bool)
    for model in models:
        lottery = lottery_all[model.var_ids]
        solve = _solve_coupled if model.coupled else _solve_round
        x = solve(model, lottery, problem.max_rank)
        if x is None:
            x = _solve_milp(model, lottery, problem.max_rank)
        chosen[model.var_ids[x > 0.5]] = True

    assignments: dict[tuple[int, str], int | None] = dict.fromkeys(problem.pairs)
    for j in np.flatnonzero(chosen):
        p, wid = variables[int(j)]
        if assignments[problem.pairs[p]] is not None:
            raise RuntimeError("solver gave a pair two workshops")
        assignments[problem.pairs[p]] = wid
    _verify(problem, assignments)
    elapsed = time.perf_counter() - started
    return Allocation(
        assignments=assignments,
        stats=_build_stats(problem, assignments, METHOD_OPTIMAL, elapsed),
        seed=int(seed),
    )


# --------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------


def _greedy(problem: _Problem, order: Sequence[int]) -> dict[tuple[int, str], int | None]:
    """Each attendee in turn takes, round by round in time order, their best ranked workshop
    that still has a seat and does not overlap what they already hold."""
    remaining = {wid: w.capacity for wid, w in problem.workshops.items()}
    assignments: dict[tuple[int, str], int | None] = dict.fromkeys(problem.pairs)
    for attendee in order:
        held: list[int] = []
        for p in problem.pairs_by_attendee.get(attendee, ()):
            for wid in problem.choices[p]:
                if remaining[wid] > 0 and not any(h in problem.conflicts[wid] for h in held):
                    remaining[wid] -= 1
                    held.append(wid)
                    assignments[problem.pairs[p]] = wid
                    break
    return assignments


def first_come_first_served(
    workshops: Iterable[Workshop], rankings: Iterable[Ranking], arrival_order: Sequence[int]
) -> Allocation:
    """Baseline: attendees in ``arrival_order`` each take their best still-available choice.

    ``arrival_order`` must list every attendee that has a ranking exactly once (ids without a
    ranking are ignored), because silently serving someone last would be unfair and unnoticed.
    """
    started = time.perf_counter()
    problem = _prepare(workshops, rankings)
    order = list(arrival_order)
    if len(set(order)) != len(order):
        raise ValueError("arrival_order lists an attendee more than once")
    missing = sorted(set(problem.pairs_by_attendee) - set(order))
    if missing:
        raise ValueError(f"arrival_order is missing attendees with rankings: {missing[:10]}")
    assignments = _greedy(problem, [a for a in order if a in problem.pairs_by_attendee])
    _verify(problem, assignments)
    elapsed = time.perf_counter() - started
    return Allocation(
        assignments=assignments,
        stats=_build_stats(problem, assignments, METHOD_FCFS, elapsed),
        seed=None,
    )


def random_serial_dictatorship(
    workshops: Iterable[Workshop], rankings: Iterable[Ranking], seed: int
) -> Allocation:
    """Baseline: a seeded random order of attendees, then the same greedy as FCFS."""
    _check_seed(seed)
    started = time.perf_counter()
    problem = _prepare(workshops, rankings)
    attendees = np.asarray(sorted(problem.pairs_by_attendee), dtype=np.int64)
    order = np.random.default_rng(int(seed)).permutation(attendees).tolist()
    assignments = _greedy(problem, order)
    _verify(problem, assignments)
    elapsed = time.perf_counter() - started
    return Allocation(
        assignments=assignments,
        stats=_build_stats(problem, assignments, METHOD_RSD, elapsed),
        seed=int(seed),
    )


def compare(
    workshops: Iterable[Workshop],
    rankings: Iterable[Ranking],
    seed: int,
    arrival_order: Sequence[int],
) -> dict[str, dict[str, Any]]:
    """Stats of the optimum and both baselines side by side, keyed by method name.

    Values are :meth:`AllocationStats.to_dict` dicts, ready for a dry-run page or JSON.
    """
    workshops = list(workshops)
    rankings = list(rankings)
    return {
        METHOD_OPTIMAL: allocate(workshops, rankings, seed).stats.to_dict(),
        METHOD_FCFS: first_come_first_served(workshops, rankings, arrival_order).stats.to_dict(),
        METHOD_RSD: random_serial_dictatorship(workshops, rankings, seed).stats.to_dict(),
    }

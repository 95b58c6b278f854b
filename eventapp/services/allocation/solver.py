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
3. Then spread the misses over people (fairness.py): fewest attendees left with nothing in K or
   more of their rounds, then K-1, ..., then 2. It only chooses among allocations optimal on
   1 and 2, so it never costs a seat or a better choice (docs/ALLOCATION.md: the trade-off).
4. Remaining ties are broken by a lottery seeded with ``seed`` (NumPy's PCG64, drawn in a
   canonical order): random weights on the choices of each ranking type and on who misses,
   the allocation of largest weight among the optimal ones wins, and within a type a seeded
   permutation says who gets which of the type's seats. The levels are fixed as hard
   constraints before the lottery runs, so it cannot outweigh any level (no big-M weights).
   Inputs are canonicalised (sorted) first, so the same workshops, rankings and seed give the
   identical allocation whatever order they arrive in.

How it is solved (a well-kept solver, HiGHS through SciPy, not a hand-written search). Rounds
that no cross-round overlap ties together are independent, and each is a transportation problem
(ranking types x workshops, a bipartite incidence matrix, totally unimodular), so its LP
optimum is integral. Attendees with identical rankings are interchangeable, so a round's LPs
have one column per distinct ranking and choice: with 8 workshops and 3 choices at most
8 x 7 x 6 = 336 rankings, so at most 1,008 columns (939-957 on the benchmark's rounds), against
15,000 per-attendee columns for 5,000 attendees. The levels are optimised one after another,
each restricting the LP to the optimal face of the previous one (columns with a non-zero
reduced cost fixed at 0, rows with a non-zero dual made equalities), which keeps the matrix
totally unimodular; fairness.py then runs the fairness levels and the lottery on the product
of those faces. Rounds coupled by a session that spans rounds get per-attendee conflict rows,
which break total unimodularity: their seat and rank levels are solved per attendee
(model.py), each level's LP bound imposed as an equality, and what is left (:class:`_Face`:
columns, tight rows, level rows) joins the fairness model as a :class:`CoupledPart`, so
their misses are spread with everyone's (levels.py solves that exactly, with branch and bound
on the coupled columns). If that ever fails its certificate, the rule before runs instead:
the coupled rounds settled by their own lottery, ``scipy.optimize.milp`` where their LP is
fractional, and ``fairness.milp_rounds`` for the rest with their misses fixed (logged).
``bench/bench_allocation.py`` prints the times and figures (docs/PERFORMANCE.md has the
measurements).

The model is built in model.py, the inputs checked in problem.py; the two greedy baselines
the optimum is compared with are in baselines.py, the statistics in quality.py.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .fairness import milp_rounds, spread_misses
from .levels import highs_lp, integral_solution
from .model import Model, aggregate, build_models
from .priority import Priority
from .problem import (
    METHOD_OPTIMAL,
    HeldSeat,
    Problem,
    Ranking,
    Workshop,
    check_seed,
    prepare,
    spanned_pairs,
    verify,
)
from .quality import Allocation, build_stats
from .rounds import CoupledPart, RoundModel, round_models

# Reduced costs and duals of a totally unimodular LP with 0/1 objective are integers, so
# anything below one half is numerical noise and anything above is a real non-zero.
_DUAL_THRESHOLD = 0.5
_INTEGRALITY_TOLERANCE = 1e-6
# On coupled (not totally unimodular) models duals may be fractions, so only treat values
# below the solver's own tolerances as zero.
_REDUCED_COST_EPS = 1e-6


log = logging.getLogger(__name__)


def _level_objectives(
    rank: np.ndarray, max_rank: int, weight: np.ndarray | None = None
) -> list[np.ndarray]:
    """Maximisation objectives, most important first: seated pairs, then 1st, 2nd... choices.

    ``weight`` is how many pairs a column fills: more than one for a double workshop, which
    also fills the rounds it covers. The last rank's count follows from the others once the
    number seated is fixed (without doubles), so it is not a separate level then.
    """
    levels = [np.ones(rank.size) if weight is None else weight]
    doubles = weight is not None and bool((weight > 1).any())
    for k in range(max_rank if doubles else max_rank - 1):
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
    """Maximise ``c @ x`` s.t. rows <= rhs (== where ``tight``), 0 <= x <= upper."""
    return highs_lp(c, matrix, rhs, tight, np.zeros(c.size), upper, method)


def _certified(
    model: Model, res: Any, targets: list[tuple[np.ndarray, float]]
) -> np.ndarray | None:
    """The final LP's solution if it is integral, feasible and meets every level's bound."""
    rounded = integral_solution(res)
    if rounded is None:
        return None
    rows = model.matrix @ rounded
    if np.any(rows > model.rhs + 0.5) or np.any(rows[model.fixed] < model.rhs[model.fixed] - 0.5):
        return None
    for c, best in targets:
        if c @ rounded < best - 0.5:
            return None
    return rounded


def _solve_round(model: RoundModel, max_rank: int) -> RoundModel | None:
    """The levels' optimal face of one independent round, on its per-type model.

    After each level, the optimal solutions are exactly the feasible points complementary to
    the optimal duals: columns with a non-zero reduced cost stay at 0 and rows with a non-zero
    dual stay tight. Imposing that by bounds and equalities keeps the matrix (a bipartite
    incidence matrix, types against workshops) totally unimodular, so the faces stay integral
    for the fairness levels and the lottery (fairness.py). Returns None if anything numerical
    looks off, so the caller can use the MILP instead.
    """
    upper = np.full(model.rank.size, np.inf)
    tight = model.fixed.copy()  # the priority rows are equalities throughout
    targets: list[tuple[np.ndarray, float]] = []
    for c in _level_objectives(model.rank, max_rank):
        res = _highs_lp(c, model.matrix, model.rhs, tight, upper, "highs-ipm")
        if res.status != 0:
            return None
        targets.append((c, -res.fun))
        upper = np.where(np.asarray(res.lower.marginals) > _DUAL_THRESHOLD, 0.0, upper)
        duals = np.zeros(model.rhs.size)
        if (~tight).any():
            duals[~tight] = res.ineqlin.marginals
        tight |= np.abs(duals) > _DUAL_THRESHOLD
    model.upper, model.tight, model.targets = upper, tight, targets
    return model


@dataclasses.dataclass
class _Face:
    """The levels' optimum of coupled rounds (see fairness.CoupledPart): which columns may be
    non-zero, which rows are tight, the levels kept as rows, and a certified allocation."""

    start: np.ndarray
    keep: np.ndarray
    tight: np.ndarray
    levels: list[tuple[np.ndarray, float]]
    targets: list[tuple[np.ndarray, float]]


def _solve_coupled(model: Model, lottery: np.ndarray, max_rank: int) -> _Face | None:
    """Rounds coupled by a double session: optimal faces first (fast), bound rows if not."""
    face = _solve_coupled_faces(model, lottery, max_rank)
    return face if face is not None else _solve_coupled_rows(model, lottery, max_rank)


def _solve_coupled_faces(model: Model, lottery: np.ndarray, max_rank: int) -> _Face | None:
    """The coupled levels by successive optimal faces, as for an independent round.

    Complementary slackness cuts out an LP's optimal face whatever the matrix: columns with a
    non-zero reduced cost stay at 0, rows with a non-zero dual stay tight. Without total
    unimodularity a level's LP optimum may be fractional, and then no integral allocation
    reaches it: return None (the bound-row method below handles that). When every level's LP
    optimum is a whole number, the integral points of the last face are exactly the
    allocations optimal on every level, and an integral final lottery LP certifies itself.
    Measured about three times faster than dense bound rows on the benchmark's double session
    (the faces shrink the LPs instead of adding a dense row per level).
    """
    agg = aggregate(model)
    upper = np.full(agg.rank.size, np.inf)
    tight = agg.fixed.copy()
    targets: list[tuple[np.ndarray, float]] = []
    full_levels = _level_objectives(model.rank, max_rank, model.weight)
    levels = _level_objectives(agg.rank, max_rank, agg.weight)
    for c, c_full in zip(levels, full_levels, strict=True):
        res = _highs_lp(c, agg.matrix, agg.rhs, tight, upper, "highs-ipm")
        if res.status != 0:
            return None
        best = float(np.rint(-res.fun))
        if abs(-res.fun - best) > _INTEGRALITY_TOLERANCE:
            return None
        targets.append((c_full, best))
        upper = np.where(np.asarray(res.lower.marginals) > _REDUCED_COST_EPS, 0.0, upper)
        duals = np.zeros(agg.rhs.size)
        if (~tight).any():
            duals[~tight] = res.ineqlin.marginals
        tight |= np.abs(duals) > _REDUCED_COST_EPS
    keep = upper[agg.of_col] != 0.0
    res = _highs_lp(
        lottery, model.matrix, model.rhs, tight[agg.of_row], keep.astype(float), "highs-ipm"
    )
    x = _certified(model, res, targets)
    if x is None:
        return None
    # With every level's LP optimum reached by a whole allocation, the faces are exactly the
    # allocations optimal on every level: no level needs to be kept as a row.
    return _Face(start=x, keep=keep, tight=tight[agg.of_row], levels=[], targets=targets)


def _solve_coupled_rows(model: Model, lottery: np.ndarray, max_rank: int) -> _Face | None:
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
    agg = aggregate(model)
    rows, rhs = [agg.matrix], [agg.rhs]
    bests: list[float] = []
    levels = _level_objectives(agg.rank, max_rank, agg.weight)
    for c in levels:
        matrix = sparse.vstack(rows).tocsr()
        tight = _padded(agg.fixed, matrix.shape[0])
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
    full_levels = _level_objectives(model.rank, max_rank, model.weight)
    matrix = sparse.vstack([model.matrix, *(sparse.csr_matrix(c) for c in full_levels)]).tocsr()
    res = _highs_lp(
        lottery,
        matrix,
        np.concatenate([model.rhs, bests]),
        _padded(model.fixed, matrix.shape[0]),
        upper,
        "highs-ipm",
    )
    targets = list(zip(full_levels, bests, strict=True))
    x = _certified(model, res, targets)
    if x is None:
        return None
    return _Face(start=x, keep=upper > 0, tight=model.fixed, levels=targets, targets=targets)


def _padded(fixed: np.ndarray, n_rows: int) -> np.ndarray:
    """The model's equality rows, then the level rows appended below them (all equalities)."""
    return np.concatenate([fixed, np.ones(n_rows - fixed.size, dtype=bool)])


def _solve_milp(model: Model, lottery: np.ndarray, max_rank: int) -> _Face:
    """Exact fallback: successive MILPs, each level's optimum kept as a constraint.

    Only used when the LP route cannot certify an integral optimum (a fractional LP on
    coupled rounds); HiGHS's branch and cut is slower but settles it.
    """
    targets: list[tuple[np.ndarray, float]] = []
    n = model.rank.size
    lower = np.where(model.fixed, model.rhs, -np.inf)  # the priority rows are equalities
    constraints = [LinearConstraint(model.matrix, lower, model.rhs)]
    options = {"mip_rel_gap": 0.0, "presolve": True}
    x = np.zeros(n)
    for c in [*_level_objectives(model.rank, max_rank, model.weight), lottery]:
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
            targets.append((c, best))
            constraints.append(LinearConstraint(sparse.csr_matrix(c), best, np.inf))
    keep = np.ones(n, dtype=bool)
    return _Face(start=x, keep=keep, tight=model.fixed, levels=targets, targets=targets)


def _coupled_rounds(problem: Problem) -> set[str]:
    """Rounds that a double session ties to another for at least one attendee (who ranked
    both it and an overlapping workshop of the other round): those are solved per attendee."""
    clashing = {w for w, others in problem.conflicts.items() if others}
    if not clashing:
        return set()
    rankers: dict[int, set[int]] = {}
    for (attendee, _key), choices in zip(problem.pairs, problem.choices, strict=True):
        for w in choices:
            if w in clashing:
                rankers.setdefault(w, set()).add(attendee)
    coupled: set[str] = set()
    for w, others in problem.conflicts.items():
        for v in others:
            if rankers.get(w, set()) & rankers.get(v, set()):
                coupled |= {problem.workshops[w].round_key, problem.workshops[v].round_key}
    return coupled


def _solve_coupled_rounds(
    problem: Problem, coupled: set[str], rng: np.random.Generator
) -> list[CoupledPart]:
    """The coupled rounds per attendee, on the levels' optimum; who misses where is decided
    with the other rounds, by the fairness level (fairness.py)."""
    only = tuple(
        c if k in coupled else () for (_a, k), c in zip(problem.pairs, problem.choices, strict=True)
    )
    models, variables = build_models(dataclasses.replace(problem, choices=only))
    # Drawn over all variables in canonical order, before splitting into groups, so the weights
    # do not depend on how the rounds happen to decompose.
    lottery_all = rng.random(len(variables))
    parts = []
    for model in models:
        lottery = lottery_all[model.var_ids]
        face = _solve_coupled(model, lottery, problem.max_rank)
        if face is None:
            face = _solve_milp(model, lottery, problem.max_rank)
        parts.append(
            CoupledPart(
                model=model,
                variables=variables,
                keep=face.keep,
                tight=face.tight,
                levels=face.levels,
                targets=face.targets,
                lottery=lottery,
                start=face.start,
            )
        )
    return parts


def _without_spreading_coupled(
    problem: Problem, parts: list[CoupledPart], independent: list[str], rng: np.random.Generator
) -> dict[int, int | None]:
    """The numerical fallback, if the joint fairness model cannot be certified: the coupled
    rounds as their level optimum left them, and the other rounds exactly (milp_rounds),
    spreading misses around the coupled rounds' (docs/ALLOCATION.md, "Limits")."""
    chosen: dict[int, int | None] = {}
    for part in parts:
        chosen.update(part.assignments(part.start))
    spanned = spanned_pairs(problem, {pair: chosen.get(p) for p, pair in enumerate(problem.pairs)})
    fixed: dict[int, int] = {}
    for p, wid in chosen.items():
        if wid is None and problem.pairs[p] not in spanned:
            attendee = problem.pairs[p][0]
            fixed[attendee] = fixed.get(attendee, 0) + 1
    chosen.update(milp_rounds(problem, independent, fixed, rng))
    return chosen


def allocate(
    workshops: Iterable[Workshop],
    rankings: Iterable[Ranking],
    seed: int,
    held: Iterable[HeldSeat] = (),
    priority: Iterable[Priority] = (),
) -> Allocation:
    """The lexicographically fair optimum (see the module docstring), ties by seeded lottery.

    Same inputs (in any order) and seed give the identical allocation. ``priority`` groups
    are a hard rule the levels work within (priority.py).
    """
    check_seed(seed)
    started = time.perf_counter()
    problem = prepare(workshops, rankings, held, priority)
    rng = np.random.default_rng(int(seed))
    coupled = _coupled_rounds(problem)
    parts = _solve_coupled_rounds(problem, coupled, rng) if coupled else []
    independent = [k for k in problem.round_order if k not in coupled]
    models = [_solve_round(m, problem.max_rank) for m in round_models(problem, independent)]
    chosen = None
    if all(m is not None for m in models):
        chosen = spread_misses(problem, models, parts, rng)
    if chosen is None:
        log.warning(
            "allocation: the fairness level could not be solved exactly with the coupled "
            "rounds (seed %d); their misses are settled first, without spreading",
            seed,
        )
        chosen = _without_spreading_coupled(problem, parts, independent, rng)

    assignments: dict[tuple[int, str], int | None] = dict.fromkeys(problem.pairs)
    for p, wid in chosen.items():
        assignments[problem.pairs[p]] = wid
    verify(problem, assignments)
    elapsed = time.perf_counter() - started
    return Allocation(
        assignments=assignments,
        stats=build_stats(problem, assignments, METHOD_OPTIMAL, elapsed),
        seed=int(seed),
    )

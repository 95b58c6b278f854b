"""The fairness levels solved one after another on the joint LP (fairness.py builds it).

Each level is maximised over the optimal face of the ones before. Where the matrix is totally
unimodular (independent rounds only) every level's LP vertex is integral and its face is cut
out by its duals, so a level costs one LP. A double session's coupled columns break that: an
LP optimum may then be fractional, and from that level on branch and bound (HiGHS) decides
the coupled columns; with those fixed the rest is unimodular again and the LP faces finish
the job. Why one weighted branch and bound rather than one per level: docs/ALLOCATION.md,
"With a double session" (measured 3 s against 53 s at 5,000 x 4 x 8 with scarce seats and a
double; docs/PERFORMANCE.md, "Tenth round").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

_DUAL_THRESHOLD = 0.5
_INTEGRALITY_TOLERANCE = 1e-6
_HIGHS_SOLVE_ERROR = 4  # scipy.optimize.milp's status for "Solve error"


def integral_solution(res: Any) -> np.ndarray | None:
    """The LP's solution rounded, if HiGHS found one and it is integral (as a vertex of these
    totally unimodular models is); else None, and the caller falls back."""
    if res.status != 0 or res.x is None:
        return None
    x = np.asarray(res.x)
    rounded = np.rint(x)
    if np.abs(x - rounded).max(initial=0.0) > _INTEGRALITY_TOLERANCE:
        return None
    return rounded


def highs_lp(c, matrix, rhs, tight, lower, upper, method: str = "highs-ipm") -> Any:
    """Maximise ``c @ x`` s.t. rows <= rhs (== where ``tight``), lower <= x <= upper.

    Both HiGHS methods end on a vertex (basic duals, integral for these totally unimodular
    models): the dual simplex directly, the interior point method after crossover, measured
    two to three times faster here; the simplex is the fallback when it stalls.
    """
    loose = ~tight
    res = linprog(
        -c,
        A_ub=matrix[loose] if loose.any() else None,
        b_ub=rhs[loose] if loose.any() else None,
        A_eq=matrix[tight] if tight.any() else None,
        b_eq=rhs[tight] if tight.any() else None,
        bounds=np.column_stack([lower, upper]),
        method=method,
    )
    if res.status != 0 and method != "highs-ds":
        return highs_lp(c, matrix, rhs, tight, lower, upper, "highs-ds")
    return res


def fairness_levels(s_level: np.ndarray, s_col0: int, n_cols: int) -> list[np.ndarray]:
    """Maximisation objectives, worst first: minus the misses beyond K-1, ..., beyond 1."""
    levels = []
    for k in range(int(s_level.max(initial=0)), 1, -1):
        c = np.zeros(n_cols)
        c[s_col0 + np.flatnonzero(s_level >= k)] = -1.0
        levels.append(c)
    return levels


def lexicographic(face: LevelFace, integer: np.ndarray, levels, lottery: np.ndarray, rng):
    """Each fairness level, then the lottery, optimised over the previous levels' optimum.

    A level whose LP optimum is an integral vertex is pinned by its optimal face (duals),
    which keeps the matrix as it was. The coupled rounds' choices make the matrix not totally
    unimodular, so an LP optimum may be fractional (half a double seat each for two people
    spreads a miss no whole seat can): from that level on, branch and bound decides the
    coupled columns (:func:`_whole_levels`), and with those fixed the rest is totally
    unimodular again, so the same LP faces finish the levels and the lottery. Returns
    (x, targets) or None.
    """
    targets: list[tuple[np.ndarray, float]] = []
    for i, c in enumerate(levels):
        res = face.lp(c)
        if res.status != 0:
            return None
        if integral_solution(res) is None:
            return _whole_levels(face, integer, levels[i:], targets, lottery, rng)
        targets.append((c, -res.fun))
        face = face.narrowed(res)
    rounded = integral_solution(face.lp(lottery))
    if rounded is None:  # levels all integral, the lottery's vertex not
        rounded = _whole_optimum(lottery, face, integer)
    return None if rounded is None else (rounded, targets)


@dataclass
class LevelFace:
    """The joint LP's rows and bounds, narrowed level by level to their optimal face."""

    matrix: sparse.csr_matrix
    rhs: np.ndarray
    tight: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    def lp(self, c):
        return highs_lp(c, self.matrix, self.rhs, self.tight, self.lower, self.upper)

    def narrowed(self, res) -> LevelFace:
        lower, upper, tight = _optimal_face(res, self.lower, self.upper, self.tight)
        return LevelFace(self.matrix, self.rhs, tight, lower, upper)

    def with_row(self, c, value: float) -> LevelFace:
        matrix = sparse.vstack([self.matrix, sparse.csr_matrix(c)]).tocsr()
        return LevelFace(
            matrix, np.append(self.rhs, value), np.append(self.tight, True), self.lower, self.upper
        )

    def fixed(self, columns: np.ndarray, values: np.ndarray) -> LevelFace:
        return LevelFace(
            self.matrix,
            self.rhs,
            self.tight,
            np.where(columns, values, self.lower),
            np.where(columns, values, self.upper),
        )


# One objective for several levels, each weighted (its largest value + 1) times the next, is
# exact while its largest value stays well inside a double's 53 bits and HiGHS's tolerances:
# 5,000 x 4 rounds with everyone able to miss everywhere needs 1.1e12, and gives the same
# levels as one branch and bound per level (docs/PERFORMANCE.md, "Tenth round").
_MAX_WEIGHTED = 2.0**46


def _whole_levels(face: LevelFace, integer: np.ndarray, levels, targets, lottery, rng):
    """The remaining fairness levels with whole coupled columns.

    One branch and bound with the levels weighted into one objective (worst level heaviest)
    finds their lexicographic optimum; it is run on a seeded permutation of the columns, so
    that among equally fair coupled choices HiGHS's pick follows the seed, not the order
    attendees registered in. Its coupled columns are then fixed and the levels and the
    lottery re-solved as LPs over the unimodular rest, which meet the same level values
    (certified in :func:`_certified`). Levels too many to weigh exactly take one branch and
    bound each, the level kept as a row (slow: docs/ALLOCATION.md, "With a double session").
    """
    weight = max(float(np.abs(c).sum()) for c in levels) + 1.0
    weights = [weight ** (len(levels) - 1 - j) for j in range(len(levels))]
    largest = sum(w * float(np.abs(c).sum()) for w, c in zip(weights, levels, strict=True))
    if largest > _MAX_WEIGHTED:
        return _level_by_level(face, integer, levels, targets, lottery)
    combined = sum(w * c for w, c in zip(weights, levels, strict=True))
    chosen = _coupled_choice(combined, face, integer, rng.permutation(combined.size))
    if chosen is None:
        return None
    face = face.fixed(integer, chosen)
    for c in levels:
        res = face.lp(c)
        if res.status != 0 or integral_solution(res) is None:
            return None
        targets.append((c, -res.fun))
        face = face.narrowed(res)
    rounded = integral_solution(face.lp(lottery))
    return None if rounded is None else (rounded, targets)


def _coupled_choice(c, face: LevelFace, integer: np.ndarray, order: np.ndarray):
    """The ``integer`` columns' values at a whole-number optimum of ``c @ x``, found by
    HiGHS's branch and bound on the columns in ``order``."""
    problem = {
        "c": -c[order],
        "integrality": integer[order].astype(np.int64),
        "bounds": Bounds(face.lower[order], face.upper[order]),
        "constraints": LinearConstraint(
            face.matrix[:, order], np.where(face.tight, face.rhs, -np.inf), face.rhs
        ),
    }
    res = milp(**problem, options={"mip_rel_gap": 0.0})
    if res.status == _HIGHS_SOLVE_ERROR:
        # Seen on a level alone (most costs zero): HiGHS's presolve failed where the same
        # model without presolve solves (tests/services/test_allocation_fairness.py).
        res = milp(**problem, options={"mip_rel_gap": 0.0, "presolve": False})
    if res.status != 0 or res.x is None:
        return None
    x = np.empty(order.size)
    x[order] = res.x
    return np.rint(x)


def _level_by_level(face: LevelFace, integer: np.ndarray, levels, targets, lottery):
    """One branch and bound per level, each kept as a row for the next; exact but slow, for
    levels too many to weigh into one objective."""
    integer = integer.copy()
    for c in levels:
        x = _whole_optimum(c, face, integer)
        if x is None:
            return None
        best = float(np.rint(c @ x))
        targets.append((c, best))
        face = face.with_row(c, best)
        integer |= c != 0  # a row over the slacks: whole slacks keep the rest unimodular
    rounded = integral_solution(face.lp(lottery))
    if rounded is None:
        rounded = _whole_optimum(lottery, face, integer)
    return None if rounded is None else (rounded, targets)


def _optimal_face(res, lower, upper, tight):
    """The LP's optimal face: columns with a non-zero reduced cost stay at their bound, rows
    with a non-zero dual stay tight (complementary slackness)."""
    at_lower = np.asarray(res.lower.marginals) > _DUAL_THRESHOLD
    at_upper = np.asarray(res.upper.marginals) < -_DUAL_THRESHOLD
    upper = np.where(at_lower, lower, upper)
    lower = np.where(at_upper, upper, lower)
    if (~tight).any():
        duals = np.zeros(tight.size)
        duals[~tight] = res.ineqlin.marginals
        tight = tight | (np.abs(duals) > _DUAL_THRESHOLD)
    return lower, upper, tight


def _whole_optimum(c, face: LevelFace, integer: np.ndarray) -> np.ndarray | None:
    """Maximise ``c @ x`` with the ``integer`` columns whole (HiGHS branch and bound, no time
    limit, so a replay finds the same optimum), then the rest at an LP vertex with those
    columns fixed: whole too, since what is left is totally unimodular."""
    chosen = _coupled_choice(c, face, integer, np.arange(c.size))
    if chosen is None:
        return None
    return integral_solution(face.fixed(integer, chosen).lp(c))

"""Fairness over people: independent rounds solved per ranking type, then misses spread.

The levels count (attendee, round) pairs, so many allocations tie on all of them; the rule
here picks among those the ones that spread the misses over people (docs/ALLOCATION.md):
lexicographically, fewest attendees with nothing in K or more of their rounds, then K-1, ...,
then 2 (K is the most rounds anyone could miss). Only allocations already optimal on every
level qualify, so this never costs a seat or a better choice.

How. A round that no double session ties to another is a transportation problem, and
attendees with the same ranking are interchangeable, so it is solved per ranking *type*:
``x[t, k]`` is how many attendees of type t get their k-th choice (:class:`RoundModel`). The
solver's levels leave an optimal face per round (columns fixed at 0, rows made tight). On the
product of those faces one joint LP decides who misses: a miss token ``y[a, r]`` per attendee
and round (attendees who can miss at most one round in all share one token column per type,
they cannot reach two misses), and per attendee slack columns ``s[a, j]`` (j = 1, 2, ...) that
count their misses, so that "misses beyond j - 1" is the sum of ``s[a, j:]``. The matrix is
the incidence matrix of a bipartite graph (types against workshops and attendees) plus unit
columns, totally unimodular, so each fairness level is an LP whose optimal face is cut out by
its duals, as the rank levels are, and the final lottery LP (seeded random weights on the
type columns and the miss tokens) has an integral optimum. Within a type, who gets which of
the type's choices is a seeded permutation. Rounds coupled by a double session are solved
first, per attendee (solver.py); their misses count here as fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .model import Model
from .problem import Problem

_DUAL_THRESHOLD = 0.5
_INTEGRALITY_TOLERANCE = 1e-6


@dataclass
class RoundModel:
    """One independent round per ranking type: rows are types (at most their head count get
    a workshop), then workshops (at most their capacity), then one row per priority workshop
    (its candidates get exactly the seats they are owed, priority.py); columns are (type,
    rank) pairs. A type is a ranking and, for a priority candidate, the workshop they have
    priority in, so candidates never share a type with others."""

    key: str
    members: list[np.ndarray]  # pair indices of each type, canonical order
    matrix: sparse.csr_matrix
    rhs: np.ndarray
    rank: np.ndarray  # 0-based rank of each column
    col_type: np.ndarray
    col_workshop: np.ndarray
    n_types: int
    # Rows that are equalities from the start (the priority rows):
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # The optimal face of the levels, filled in by the solver:
    upper: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tight: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    targets: list[tuple[np.ndarray, float]] = field(default_factory=list)  # (level, optimum)


@dataclass
class CoupledPart:
    """Rounds a double session ties together, per attendee (model.py), on their levels'
    optimum (solver.py): the columns that may be non-zero, the rows that are tight, and the
    levels that must be imposed as rows because the face alone does not pin them. ``start``
    is an allocation certified optimal on the levels; it proves their targets are reachable
    and is the fallback if the joint fairness model cannot be certified."""

    model: Model
    variables: list[tuple[int, int]]  # (pair index, workshop id) of each global variable
    keep: np.ndarray  # model columns that may be non-zero (0/1 each)
    tight: np.ndarray  # model rows that are equalities
    levels: list[tuple[np.ndarray, float]]  # rows over model columns, each == its target
    targets: list[tuple[np.ndarray, float]]  # every level's optimum (for the certificate)
    lottery: np.ndarray  # seeded weights of the model's columns
    start: np.ndarray  # a certified optimum on the levels (0/1 per model column)

    def pairs(self) -> list[int]:
        """Pair indices of these rounds with a choice, in canonical order."""
        return list(dict.fromkeys(self.variables[v][0] for v in self.model.var_ids.tolist()))

    def assignments(self, x: np.ndarray) -> dict[int, int | None]:
        """Workshop (or None) per pair index of these rounds, from 0/1 column values."""
        result: dict[int, int | None] = dict.fromkeys(self.pairs())
        for j in np.flatnonzero(x > 0.5):
            p, wid = self.variables[int(self.model.var_ids[j])]
            if result[p] is not None:
                raise RuntimeError("solver gave a pair two workshops")
            result[p] = wid
        return result


def round_models(problem: Problem, keys: list[str]) -> list[RoundModel]:
    """A :class:`RoundModel` for each round in ``keys`` that has a ranked workshop."""
    wanted = set(keys)
    types: dict[str, dict[tuple, list[int]]] = {k: {} for k in keys}
    tag = problem.priority_of
    for p, ((_attendee, key), choices) in enumerate(
        zip(problem.pairs, problem.choices, strict=True)
    ):
        if choices and key in wanted:
            types[key].setdefault((choices, tag.get(p)) if tag else choices, []).append(p)
    models = []
    for key in keys:
        if not types[key]:
            continue
        kinds = list(types[key])
        rankings = [k[0] for k in kinds] if tag else kinds
        lengths = np.fromiter((len(c) for c in rankings), dtype=np.int64, count=len(kinds))
        col_type = np.repeat(np.arange(len(kinds)), lengths)
        col_workshop = np.fromiter((w for c in rankings for w in c), dtype=np.int64)
        rank = np.concatenate([np.arange(n) for n in lengths])
        ws_ids, ws_row = np.unique(col_workshop, return_inverse=True)
        n = col_type.size
        rows = [col_type, len(kinds) + ws_row]
        cols = [np.arange(n), np.arange(n)]
        counts = np.fromiter((len(types[key][c]) for c in kinds), dtype=float, count=len(kinds))
        capacity = np.fromiter(
            (problem.workshops[int(w)].capacity for w in ws_ids), dtype=float, count=ws_ids.size
        )
        rhs = [counts, capacity]
        n_rows = len(kinds) + ws_ids.size
        if tag:
            col_tag = np.asarray([-1 if kinds[t][1] is None else kinds[t][1] for t in col_type])
            owed = [int(w) for w in ws_ids if int(w) in problem.priority]
            for i, wid in enumerate(owed):
                hits = np.flatnonzero((col_workshop == wid) & (col_tag == wid))
                rows.append(np.full(hits.size, n_rows + i))
                cols.append(hits)
            rhs.append(np.asarray([problem.priority_seats(w) for w in owed], dtype=float))
            n_rows += len(owed)
        row_idx, col_idx = np.concatenate(rows), np.concatenate(cols)
        matrix = sparse.csr_matrix((np.ones(row_idx.size), (row_idx, col_idx)), shape=(n_rows, n))
        fixed = np.zeros(n_rows, dtype=bool)
        fixed[len(kinds) + ws_ids.size :] = True
        models.append(
            RoundModel(
                key=key,
                members=[np.asarray(types[key][c], dtype=np.int64) for c in kinds],
                matrix=matrix,
                rhs=np.concatenate(rhs),
                rank=rank,
                col_type=col_type,
                col_workshop=col_workshop,
                n_types=len(kinds),
                fixed=fixed,
            )
        )
    return models


@dataclass
class _Joint:
    """The joint LP over every round's optimal face (see the module docstring)."""

    matrix: sparse.csr_matrix
    rhs: np.ndarray
    tight: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray  # columns that must be whole numbers (the coupled rounds' choices)
    x_cols: list[np.ndarray]  # per round: the joint column of each kept type column
    x_keep: list[np.ndarray]  # per round: which type columns are kept (not fixed at 0)
    c_cols: list[np.ndarray]  # per coupled part: the joint column of each kept model column
    y_pair: np.ndarray  # pair index of each individual miss token
    y_col0: int
    absorb: list[tuple[int, int, np.ndarray]]  # (round, type, members who share a column)
    absorb_col0: int
    s_level: np.ndarray  # j of each slack column (1-based)
    s_col0: int


class _Builder:
    """Sparse rows and columns added block by block; rows are "<= rhs", or "==" if tight."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rhs: list[np.ndarray] = []
        self.tight: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.n_rows = self.n_cols = 0

    def add_rows(self, rhs, tight) -> int:
        first = self.n_rows
        self.rhs.append(np.asarray(rhs, dtype=float))
        self.tight.append(np.asarray(tight, dtype=bool))
        self.n_rows += self.rhs[-1].size
        return first

    def add_cols(self, lower, upper) -> int:
        first = self.n_cols
        self.lower.append(np.asarray(lower, dtype=float))
        self.upper.append(np.asarray(upper, dtype=float))
        self.n_cols += self.lower[-1].size
        return first

    def put(self, rows, cols, vals=None) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self.rows.append(rows)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.ones(rows.size) if vals is None else np.asarray(vals, dtype=float))

    def matrix(self) -> sparse.csr_matrix:
        return sparse.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n_rows, self.n_cols),
        )


def _can_miss(problem: Problem, models: list[RoundModel], parts: list[CoupledPart]):
    """Rounds each attendee may end up missing: a type whose row is not tight may leave some
    of its members out, and any coupled pair with a choice may go empty."""
    attendee_of = np.fromiter((a for a, _k in problem.pairs), dtype=np.int64)
    can_miss: dict[int, int] = {}
    for m in models:
        for t in np.flatnonzero(~m.tight[: m.n_types]):
            for a in attendee_of[m.members[t]]:
                can_miss[int(a)] = can_miss.get(int(a), 0) + 1
    for part in parts:
        for p in part.pairs():
            a = problem.pairs[p][0]
            can_miss[a] = can_miss.get(a, 0) + 1
    return attendee_of, can_miss


def _build_joint(problem: Problem, models: list[RoundModel], parts: list[CoupledPart]) -> _Joint:
    attendee_of, can_miss = _can_miss(problem, models, parts)
    individual = sorted(a for a, n in can_miss.items() if n >= 2)
    attendee_row = {a: i for i, a in enumerate(individual)}
    b = _Builder()

    x_cols, x_keep, type_row0 = [], [], []
    for m in models:
        keep = m.upper > 0
        sub = m.matrix[:, keep].tocoo()
        row0 = b.add_rows(m.rhs, m.tight | (np.arange(m.rhs.size) < m.n_types))
        col0 = b.add_cols(np.zeros(int(keep.sum())), np.full(int(keep.sum()), np.inf))
        b.put(sub.row + row0, sub.col + col0, sub.data)
        # type rows are equalities: the tokens take the slack
        x_keep.append(keep)
        x_cols.append(col0 + np.arange(int(keep.sum())))
        type_row0.append(row0)

    y_pair, y_rows, y_att = [], [], []
    c_cols = []
    for part in parts:
        c_cols.append(_add_coupled(b, problem, part, attendee_row, (y_pair, y_rows, y_att)))

    absorb = []
    for i, m in enumerate(models):
        for t in np.flatnonzero(~m.tight[: m.n_types]):
            members = m.members[t]
            solo = np.asarray([attendee_of[p] in attendee_row for p in members], dtype=bool)
            y_pair.extend(int(p) for p in members[solo])
            y_rows.extend([type_row0[i] + int(t)] * int(solo.sum()))
            y_att.extend(attendee_row[int(a)] for a in attendee_of[members[solo]])
            if (~solo).any():
                absorb.append((i, int(t), members[~solo]))
    n_y = len(y_pair)
    att_row0 = b.n_rows
    y_col0 = b.add_cols(np.zeros(n_y), np.ones(n_y))
    b.put(y_rows, y_col0 + np.arange(n_y))
    b.put(att_row0 + np.asarray(y_att, dtype=np.int64), y_col0 + np.arange(n_y))

    absorb_col0 = b.add_cols(
        np.zeros(len(absorb)), np.asarray([float(len(mem)) for _i, _t, mem in absorb])
    )
    b.put([type_row0[i] + t for i, t, _m in absorb], absorb_col0 + np.arange(len(absorb)))

    width = np.asarray([can_miss[a] for a in individual], dtype=np.int64)
    s_level = np.concatenate([np.arange(1, w + 1) for w in width]) if individual else np.zeros(0)
    n_s = int(width.sum())
    s_col0 = b.add_cols(np.zeros(n_s), np.ones(n_s))
    b.put(
        att_row0 + np.repeat(np.arange(len(individual)), width),
        s_col0 + np.arange(n_s),
        -np.ones(n_s),
    )
    b.add_rows(np.zeros(len(individual)), np.ones(len(individual), dtype=bool))

    integer = np.zeros(b.n_cols, dtype=bool)
    for cols in c_cols:
        integer[cols] = True
    return _Joint(
        matrix=b.matrix(),
        rhs=np.concatenate(b.rhs),
        tight=np.concatenate(b.tight),
        lower=np.concatenate(b.lower),
        upper=np.concatenate(b.upper),
        integer=integer,
        x_cols=x_cols,
        x_keep=x_keep,
        c_cols=c_cols,
        y_pair=np.asarray(y_pair, dtype=np.int64),
        y_col0=y_col0,
        absorb=absorb,
        absorb_col0=absorb_col0,
        s_level=np.asarray(s_level, dtype=np.int64),
        s_col0=s_col0,
    )


def _add_coupled(b: _Builder, problem: Problem, part: CoupledPart, attendee_row, tokens):
    """The coupled rounds' rows on their face, their level rows, and a miss row per pair of
    an attendee who may miss twice: its choices, the doubles that fill it, and its token."""
    keep = part.keep
    k = int(keep.sum())
    sub = part.model.matrix[:, keep].tocoo()
    row0 = b.add_rows(part.model.rhs, part.tight)
    col0 = b.add_cols(np.zeros(k), np.ones(k))
    b.put(sub.row + row0, sub.col + col0, sub.data)
    for c, best in part.levels:
        nz = np.flatnonzero(c[keep])
        b.put(np.full(nz.size, b.add_rows([best], [True])), col0 + nz, c[keep][nz])
    pair_of_round = {pair: p for p, pair in enumerate(problem.pairs)}
    fills: dict[int, list[int]] = {}
    for j, var in enumerate(part.model.var_ids[keep].tolist()):
        p, wid = part.variables[var]
        attendee, _key = problem.pairs[p]
        if attendee not in attendee_row:
            continue
        fills.setdefault(p, []).append(col0 + j)
        for key in problem.covers.get(wid, ()):
            q = pair_of_round.get((attendee, key))
            if q is not None and problem.choices[q]:
                fills.setdefault(q, []).append(col0 + j)
    y_pair, y_rows, y_att = tokens
    for p in part.pairs():
        attendee = problem.pairs[p][0]
        if attendee in attendee_row:
            row = b.add_rows([1.0], [True])
            b.put(np.full(len(fills.get(p, ())), row), fills.get(p, []))
            y_pair.append(p)
            y_rows.append(row)
            y_att.append(attendee_row[attendee])
    return col0 + np.arange(k)


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


def spread_misses(
    problem: Problem,
    models: list[RoundModel],
    parts: list[CoupledPart],
    rng: np.random.Generator,
) -> dict[int, int | None] | None:
    """Workshop (or None) per pair index of every round, or None if the LP route cannot
    certify an integral optimum (the caller then falls back, solver.py)."""
    if not models and not parts:
        return {}
    joint = _build_joint(problem, models, parts)
    n = joint.matrix.shape[1]
    if n == 0:
        return _distribute(models, joint, np.zeros(0), rng)
    lottery = np.zeros(n)
    drawn = np.flatnonzero(~joint.integer[: joint.s_col0])
    lottery[drawn] = rng.random(drawn.size)
    for part, cols in zip(parts, joint.c_cols, strict=True):
        lottery[cols] = part.lottery[part.keep]
    levels = fairness_levels(joint.s_level, joint.s_col0, n)
    found = _lexicographic(joint, levels, lottery)
    if found is None:
        return None
    rounded, targets = found
    if not _certified(joint, models, parts, rounded, targets):
        return None
    result = _distribute(models, joint, rounded, rng)
    for part, cols in zip(parts, joint.c_cols, strict=True):
        x = np.zeros(part.keep.size)
        x[part.keep] = rounded[cols]
        result.update(part.assignments(x))
    return result


def _lexicographic(joint: _Joint, levels: list[np.ndarray], lottery: np.ndarray):
    """Each fairness level, then the lottery, optimised over the previous levels' optimum.

    A level whose LP optimum is an integral vertex is pinned by its optimal face (duals),
    which keeps the matrix as it was. The coupled rounds' choices make the matrix not totally
    unimodular, so an LP optimum may be fractional (half a double seat each for two people
    spreads a miss no whole seat can): then HiGHS's branch and bound finds the whole-number
    optimum, branching only on the coupled columns (whole coupled choices leave a totally
    unimodular rest), and the level is kept as a row. Returns (x, targets) or None.
    """
    matrix, rhs, tight = joint.matrix, joint.rhs, joint.tight.copy()
    lower, upper, integer = joint.lower.copy(), joint.upper.copy(), joint.integer.copy()
    targets = []
    for c in levels:
        res = highs_lp(c, matrix, rhs, tight, lower, upper)
        if res.status != 0:
            return None
        if integral_solution(res) is not None:
            targets.append((c, -res.fun))
            lower, upper, tight = _optimal_face(res, lower, upper, tight)
            continue
        x = _whole_optimum(c, matrix, rhs, tight, lower, upper, integer)
        if x is None:
            return None
        best = float(np.rint(c @ x))
        targets.append((c, best))
        matrix = sparse.vstack([matrix, sparse.csr_matrix(c)]).tocsr()
        rhs = np.append(rhs, best)
        tight = np.append(tight, True)
        integer |= c != 0  # a row over the slacks: whole slacks keep the rest unimodular
    res = highs_lp(lottery, matrix, rhs, tight, lower, upper)
    rounded = integral_solution(res)
    if rounded is None:
        rounded = _whole_optimum(lottery, matrix, rhs, tight, lower, upper, integer)
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


def _whole_optimum(c, matrix, rhs, tight, lower, upper, integer) -> np.ndarray | None:
    """Maximise ``c @ x`` with the ``integer`` columns whole (HiGHS branch and bound, no time
    limit, so a replay finds the same optimum), then the rest at an LP vertex with those
    columns fixed: whole too, since what is left is totally unimodular."""
    res = milp(
        -c,
        integrality=integer.astype(np.int64),
        bounds=Bounds(lower, upper),
        constraints=LinearConstraint(matrix, np.where(tight, rhs, -np.inf), rhs),
        options={"mip_rel_gap": 0.0},
    )
    if res.status != 0 or res.x is None:
        return None
    fixed = np.where(integer, np.rint(res.x), 0.0)
    res = highs_lp(
        c, matrix, rhs, tight, np.where(integer, fixed, lower), np.where(integer, fixed, upper)
    )
    return integral_solution(res)


def _certified(joint: _Joint, models, parts, x: np.ndarray, targets) -> bool:
    """Every row holds, and every level (the rounds' own, the coupled rounds', the fairness
    levels) is at its optimum: a misread dual can then not have cut a level short."""
    rows = joint.matrix @ x
    if np.any(rows > joint.rhs + 0.5) or np.any(
        np.abs(rows[joint.tight] - joint.rhs[joint.tight]) > 0.5
    ):
        return False
    if any(c @ x < best - 0.5 for c, best in targets):
        return False
    for m, cols, keep in zip(models, joint.x_cols, joint.x_keep, strict=True):
        counts = np.zeros(m.rank.size)
        counts[keep] = x[cols]
        if any(c @ counts < best - 0.5 for c, best in m.targets):
            return False
    for part, cols in zip(parts, joint.c_cols, strict=True):
        chosen = np.zeros(part.keep.size)
        chosen[part.keep] = x[cols]
        if any(c @ chosen < best - 0.5 for c, best in part.targets):
            return False
    return True


def _distribute(models, joint: _Joint, x: np.ndarray, rng) -> dict[int, int | None]:
    """Turn type counts and miss tokens into one workshop (or None) per pair."""
    missing = set(joint.y_pair[x[joint.y_col0 : joint.y_col0 + joint.y_pair.size] > 0.5].tolist())
    for j, (_i, _t, members) in enumerate(joint.absorb):
        count = int(x[joint.absorb_col0 + j])
        missing.update(rng.permutation(members)[:count].tolist())
    result: dict[int, int | None] = {}
    for m, cols, keep in zip(models, joint.x_cols, joint.x_keep, strict=True):
        counts = np.zeros(m.rank.size, dtype=np.int64)
        counts[keep] = np.rint(x[cols]).astype(np.int64)
        gets_all = np.repeat(m.col_workshop, counts).tolist()
        ends = np.cumsum(np.bincount(m.col_type, weights=counts, minlength=m.n_types)).astype(int)
        start = 0
        for t, members in enumerate(m.members):
            gets = gets_all[start : ends[t]]
            start = ends[t]
            listed = members.tolist()
            result.update(dict.fromkeys(listed))
            seated = [p for p in listed if p not in missing] if missing else listed
            if len(seated) != len(gets):
                raise RuntimeError("fairness LP seats a type's members inconsistently")
            if gets:
                order = rng.permutation(len(seated)).tolist()
                result.update({seated[i]: w for i, w in zip(order, gets, strict=True)})
    return result


def milp_rounds(
    problem: Problem, keys: list[str], fixed: dict[int, int], rng: np.random.Generator
) -> dict[int, int | None]:
    """Exact fallback for the independent rounds, per attendee: seats, ranks, then the
    fairness levels, then a lottery, each a MILP (HiGHS) with the levels above as constraints.
    """
    wanted = set(keys)
    pairs = [p for p, (_a, k) in enumerate(problem.pairs) if k in wanted and problem.choices[p]]
    if not pairs:
        return {}
    var_pair = np.asarray([p for p in pairs for _ in problem.choices[p]], dtype=np.int64)
    var_rank = np.asarray([k for p in pairs for k in range(len(problem.choices[p]))])
    var_ws = [w for p in pairs for w in problem.choices[p]]
    attendees = sorted({problem.pairs[p][0] for p in pairs})
    a_index = {a: i for i, a in enumerate(attendees)}
    per_attendee = np.bincount(
        [a_index[problem.pairs[p][0]] for p in pairs], minlength=len(attendees)
    )
    width = np.asarray([per_attendee[i] + fixed.get(a, 0) for i, a in enumerate(attendees)])
    nx, ns = var_pair.size, int(width.sum())
    s_level = np.concatenate([np.arange(1, w + 1) for w in width]) if attendees else np.zeros(0)
    ws_ids = sorted(set(var_ws))
    ws_row = {w: i for i, w in enumerate(ws_ids)}
    pair_row = {p: i for i, p in enumerate(pairs)}
    own = sparse.csr_matrix(
        (np.ones(nx), ([pair_row[int(p)] for p in var_pair], np.arange(nx))),
        shape=(len(pairs), nx + ns),
    )
    cap = sparse.csr_matrix(
        (np.ones(nx), ([ws_row[w] for w in var_ws], np.arange(nx))),
        shape=(len(ws_ids), nx + ns),
    )
    att_rows = np.concatenate(
        [
            [a_index[problem.pairs[int(p)][0]] for p in var_pair],
            np.repeat(np.arange(len(width)), width),
        ]
    )
    people = sparse.csr_matrix(
        (np.ones(nx + ns), (att_rows.astype(np.int64), np.arange(nx + ns))),
        shape=(len(attendees), nx + ns),
    )
    constraints = [
        LinearConstraint(own, -np.inf, 1),
        LinearConstraint(cap, -np.inf, [problem.workshops[w].capacity for w in ws_ids]),
        LinearConstraint(people, width, width),  # seats + misses (incl. fixed) = width
        *_priority_constraints(problem, var_pair, var_ws, nx + ns),
    ]
    levels = [np.concatenate([np.ones(nx), np.zeros(ns)])]
    for k in range(problem.max_rank - 1):
        levels.append(np.concatenate([(var_rank == k).astype(float), np.zeros(ns)]))
    levels += [np.concatenate([np.zeros(nx), c[:ns]]) for c in fairness_levels(s_level, 0, ns)]
    lottery = np.concatenate([rng.random(nx), np.zeros(ns)])
    x = np.zeros(nx + ns)
    for c in [*levels, lottery]:
        res = milp(
            -c,
            integrality=np.ones(nx + ns),
            bounds=Bounds(0, 1),
            constraints=constraints,
            options={"mip_rel_gap": 0.0},
        )
        if res.status != 0 or res.x is None:
            raise RuntimeError(f"HiGHS MILP failed: {res.message}")
        x = np.rint(res.x)
        if c is not lottery:
            constraints.append(LinearConstraint(sparse.csr_matrix(c), float(c @ x), np.inf))
    result: dict[int, int | None] = dict.fromkeys(pairs)
    for j in np.flatnonzero(x[:nx] > 0.5):
        result[int(var_pair[j])] = var_ws[j]
    return result


def _priority_constraints(problem: Problem, var_pair, var_ws, n: int) -> list[LinearConstraint]:
    """Each priority workshop's candidates get exactly the seats they are owed."""
    constraints = []
    ws = np.asarray(var_ws, dtype=np.int64)
    for wid, owed in problem.priority.items():
        hits = np.flatnonzero((ws == wid) & np.isin(var_pair, owed))
        if hits.size:
            row = sparse.csr_matrix((np.ones(hits.size), (np.zeros(hits.size), hits)), shape=(1, n))
            seats = problem.priority_seats(wid)
            constraints.append(LinearConstraint(row, seats, seats))
    return constraints

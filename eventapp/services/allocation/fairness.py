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
the type's choices is a seeded permutation.

Rounds coupled by a double session join the same joint LP (:class:`CoupledPart`): their
per-attendee columns on the optimal face of their own levels (solver.py), a row per attendee
and round that a double may fill (its choices, the doubles covering it, and its miss token),
so their misses are spread with everyone else's, not fixed beforehand. Those columns break
total unimodularity; levels.py says how the levels are then solved exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .levels import LevelFace, fairness_levels, lexicographic
from .problem import Problem
from .rounds import CoupledPart, RoundModel


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
    face = LevelFace(joint.matrix, joint.rhs, joint.tight, joint.lower, joint.upper)
    found = lexicographic(face, joint.integer, levels, lottery, rng)
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

"""The optimum's sparse 0/1 model: one per group of rounds, and its aggregated form.

Columns are (attendee, round, choice) variables; rows say "at most one workshop per attendee
and round", "never two overlapping sessions" and "never above capacity". Attendees with the
same rankings are interchangeable, so the level LPs run on :func:`aggregate`'s merged model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .problem import Problem


@dataclass
class Model:
    """Sparse 0/1 model of one independent group of rounds.

    Columns are (pair, choice) variables in canonical order, grouped into *units*: a unit is
    one (attendee, round) pair, or all of an attendee's pairs in the group when cross-round
    conflicts tie them together. Rows: each unit's own rows ("at most one per pair", then its
    conflict rows), contiguous per unit, then one "at most capacity" row per workshop. Units
    with equal ``unit_keys`` (the same ranked tuples) are interchangeable, which is what
    :func:`aggregate` exploits.
    """

    var_ids: np.ndarray  # global variable index of each column
    rank: np.ndarray  # 0-based rank of each column
    weight: np.ndarray  # pairs a column fills: 1, plus the rounds a double workshop covers
    matrix: sparse.csr_matrix
    rhs: np.ndarray
    n_own_rows: int  # rows before the capacity rows
    unit_keys: list[tuple[tuple[int, ...], ...]]
    unit_cols: np.ndarray  # unit u owns columns unit_cols[u]:unit_cols[u + 1]
    unit_rows: np.ndarray  # unit u owns rows unit_rows[u]:unit_rows[u + 1]
    coupled: bool  # has conflict rows, so not totally unimodular
    # Rows that are equalities throughout: a priority workshop's candidates get their seats
    # (one row per priority workshop, after the capacity rows).
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass
class Aggregate:
    """The model with interchangeable units merged: one unit per ranking type, its own rows'
    right-hand sides multiplied by how many units share the type. Its LP has the same optimum
    as the full LP (sum a full solution over each type; conversely split an aggregated one
    evenly), but about a thousand columns
    (at most 336 rankings x 3 choices of 8 workshops) where the full model has one per
    attendee and choice (15,000 for 5,000 attendees)."""

    matrix: sparse.csr_matrix
    rhs: np.ndarray
    rank: np.ndarray
    weight: np.ndarray
    of_col: np.ndarray  # aggregated column of each full column
    of_row: np.ndarray  # aggregated row of each full row
    fixed: np.ndarray  # rows that are equalities throughout (the priority rows)


def aggregate(model: Model) -> Aggregate:
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
    return Aggregate(
        matrix=model.matrix[sel_rows][:, sel_cols].tocsr(),
        rhs=np.concatenate(
            [model.rhs[sel_own] * np.repeat(counts, row_len[rep]), model.rhs[model.n_own_rows :]]
        ),
        rank=model.rank[sel_cols],
        weight=model.weight[sel_cols],
        of_col=type_col_off[unit_type[unit_of_col]]
        + (np.arange(n_cols) - model.unit_cols[unit_of_col]),
        of_row=np.concatenate(
            [of_own_row, type_row_off[-1] + np.arange(n_rows - model.n_own_rows)]
        ),
        fixed=np.concatenate([np.zeros(sel_own.size, dtype=bool), model.fixed[model.n_own_rows :]]),
    )


def _covered_count(problem: Problem, p: int, wid: int) -> int:
    """How many of the attendee's other ranked rounds workshop ``wid`` fills (a double)."""
    rounds = problem.covers.get(wid)
    if not rounds:
        return 0
    attendee = problem.pairs[p][0]
    return sum(
        1
        for q in problem.pairs_by_attendee[attendee]
        if q != p and problem.pairs[q][1] in rounds and problem.choices[q]
    )


def build_models(problem: Problem) -> tuple[list[Model], list[tuple[int, int]]]:
    """One sparse model per group of rounds that cross-round overlaps tie together.

    Returns the models and the global variables as (pair index, workshop id), in canonical
    order (attendee, round in time order, rank).
    """
    variables: list[tuple[int, int]] = []
    var_rank: list[int] = []
    var_weight: list[int] = []
    first_var: list[int] = []  # first variable of each pair
    for p, valid in enumerate(problem.choices):
        first_var.append(len(variables))
        for k, wid in enumerate(valid):
            variables.append((p, wid))
            var_rank.append(k)
            var_weight.append(1 + _covered_count(problem, p, wid))

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

    # Per group: units of pairs (see Model), their columns and own rows.
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
                keys[g].append(_unit_key(problem, unit))
                unit_cols[g].append(len(cols[g]))
                unit_rows[g].append(len(row_ptr[g]))

    models: list[Model] = []
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
        owed_rows, owed_cols, owed_rhs = _priority_rows(
            problem, variables, cols[g], ws_ids, n_own + ws_ids.size
        )
        n_rows = n_own + ws_ids.size + owed_rhs.size
        matrix = sparse.csr_matrix(
            (
                np.ones(row_idx.size + owed_rows.size),
                (np.concatenate([row_idx, owed_rows]), np.concatenate([col_idx, owed_cols])),
            ),
            shape=(n_rows, var_ids.size),
        )
        rhs = np.concatenate(
            [
                np.ones(n_own),
                np.asarray([problem.workshops[int(w)].capacity for w in ws_ids], dtype=float),
                owed_rhs,
            ]
        )
        fixed = np.zeros(n_rows, dtype=bool)
        fixed[n_own + ws_ids.size :] = True
        models.append(
            Model(
                var_ids=var_ids,
                rank=np.asarray(var_rank, dtype=np.int64)[var_ids],
                weight=np.asarray(var_weight, dtype=float)[var_ids],
                matrix=matrix,
                rhs=rhs,
                n_own_rows=n_own,
                unit_keys=keys[g],
                unit_cols=np.asarray(unit_cols[g], dtype=np.int64),
                unit_rows=np.asarray(unit_rows[g], dtype=np.int64),
                coupled=any(len(k) > 1 for k in keys[g]),
                fixed=fixed,
            )
        )
    return models, variables


def _unit_key(problem: Problem, unit: list[int]) -> tuple:
    """What makes units interchangeable: their rankings, and their priority workshops."""
    if problem.priority_of:
        return tuple((problem.choices[p], problem.priority_of.get(p)) for p in unit)
    return tuple(problem.choices[p] for p in unit)


def _priority_rows(problem: Problem, variables, cols: list[int], ws_ids, first_row: int):
    """One row per priority workshop of the group: its candidates' columns for it, and the
    seats they are owed (an equality, see Model.fixed)."""
    owed = [int(w) for w in ws_ids if int(w) in problem.priority]
    if not owed:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    row_of = {w: first_row + i for i, w in enumerate(owed)}
    rows, hits = [], []
    for c, j in enumerate(cols):
        p, wid = variables[j]
        if problem.priority_of.get(p) == wid and wid in row_of:
            rows.append(row_of[wid])
            hits.append(c)
    rhs = np.asarray([problem.priority_seats(w) for w in owed], dtype=float)
    return np.asarray(rows, dtype=np.int64), np.asarray(hits, dtype=np.int64), rhs

"""The release gate: an independent check that no unsafe cell can be narrowed by linear programming.

Shares nothing with `broker.suppress`: it starts again from the long table that is about to be
published, builds its own equations (every published parent = sum of its children, numerator ≤
denominator, counts ≥ 0, published cells fixed), finds which quantities are unsafe from the true
counts, and for each computes the largest value an attacker can reach. A release where any is
below k is refused (exit code 12), naming the cell.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

import highspy
import numpy as np
import pandas as pd

from broker.highs import quiet_highs
from schemas.errors import ReleaseBlocked


def _groups(
    cells: pd.DataFrame, population_of: dict[str, str]
) -> dict[tuple[str, str], pd.DataFrame]:
    """Cells grouped by (top of the hierarchy, population): no equation crosses two groups."""
    parent = dict(zip(cells["code"], cells["parent"], strict=False))

    def top(code: str) -> str:
        while isinstance(parent.get(code), str):
            code = parent[code]
        return code

    pop = cells["key"].where(cells["kind"] == "d", cells["key"].map(population_of))
    tops = cells["code"].map({c: top(c) for c in cells["code"].unique()})
    return {key: g for key, g in cells.groupby([tops, pop])}


class _System:
    """The attacker's view of one group: hidden cells are unknowns ≥ 0, the rest are constants."""

    def __init__(self, group: pd.DataFrame) -> None:
        recs = group.reset_index().to_dict("records")
        self.rows = [r["index"] for r in recs]
        self.value = {r["index"]: float(r["value"]) for r in recs}
        self.var = {
            r["index"]: j for j, r in enumerate(x for x in recs if x["status"] != "published")
        }
        by_cell = {(r["kind"], r["key"], r["code"]): r["index"] for r in recs}
        kids: dict[int, list[int]] = defaultdict(list)
        for r in recs:
            p = by_cell.get((r["kind"], r["key"], r["parent"]))
            if p is not None:
                kids[p].append(r["index"])
        eq = [[(p, 1.0)] + [(c, -1.0) for c in children] for p, children in kids.items()]
        d_key = next(r["key"] for r in recs if r["kind"] == "d")
        ub = [
            [(r["index"], 1.0), (by_cell[("d", d_key, r["code"])], -1.0)]
            for r in recs
            if r["kind"] == "n"
        ]
        self._h: highspy.Highs | None = None
        self.a_eq, self.b_eq = self._matrix(eq)
        self.a_ub, self.b_ub = self._matrix(ub)

    def _matrix(self, rows: list[list[tuple[int, float]]]) -> tuple[np.ndarray | None, list[float]]:
        """Σ sign · cell (=, ≤) 0, with published cells moved to the right-hand side."""
        if not rows:
            return None, []
        a = np.zeros((len(rows), len(self.var)))
        b = []
        for i, terms in enumerate(rows):
            rhs = 0.0
            for cell, sign in terms:
                if cell in self.var:
                    a[i, self.var[cell]] += sign
                else:
                    rhs -= sign * self.value[cell]
            b.append(rhs)
        return a, b

    def _highs(self) -> highspy.Highs:
        """One HiGHS model per group, built at the first question; each target only changes
        the objective."""
        if self._h is None:
            n = len(self.var)
            rows = [m for m in (self.a_eq, self.a_ub) if m is not None]
            a = np.vstack(rows) if rows else np.zeros((0, n))
            lp = highspy.HighsLp()
            lp.num_col_, lp.num_row_ = n, a.shape[0]
            lp.col_cost_, lp.col_lower_ = np.zeros(n), np.zeros(n)
            lp.col_upper_ = np.full(n, highspy.kHighsInf)
            n_eq = 0 if self.a_eq is None else self.a_eq.shape[0]
            lp.row_lower_ = np.r_[self.b_eq, np.full(a.shape[0] - n_eq, -highspy.kHighsInf)]
            lp.row_upper_ = np.r_[self.b_eq, self.b_ub]
            cols = a.T.nonzero()
            starts = np.searchsorted(cols[0], np.arange(n + 1))
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_ = starts.astype(np.int32)
            lp.a_matrix_.index_ = cols[1].astype(np.int32)
            lp.a_matrix_.value_ = a.T[cols]
            self._h = quiet_highs()
            self._h.passModel(lp)
        return self._h

    def widest_upper(self, target: dict[int, float]) -> float:
        """max Σ weight · count over every table consistent with what is published."""
        c = np.zeros(len(self.var))
        constant = 0.0
        for cell, w in target.items():
            if cell in self.var:
                c[self.var[cell]] -= w
            else:
                constant += w * self.value[cell]
        if not c.any():
            return constant
        h = self._highs()
        h.changeColsCost(len(c), np.arange(len(c), dtype=np.int32), c)
        h.run()
        status = h.getModelStatus()
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return float("inf")  # nothing published caps it
        if status != highspy.HighsModelStatus.kOptimal:
            raise ReleaseBlocked(f"release gate: the published table is inconsistent ({status})")
        return constant - float(h.getInfo().objective_function_value)


def _check_group(group: pd.DataFrame, k: int) -> tuple[int, str | None]:
    """(quantities checked, the first one an attacker can narrow below k, if any)."""
    system = _System(group)
    d_key = group.loc[group["kind"] == "d", "key"].iloc[0]
    d_row = {group.at[i, "code"]: i for i in group.index[group["kind"] == "d"]}
    checked = 0
    for i in group.index:
        v = int(group.at[i, "value"])
        targets: list[tuple[dict[int, float], str]] = []
        if 1 <= v < k:
            targets.append(({i: 1.0}, "count"))
        if group.at[i, "kind"] == "n":
            d_i = d_row[group.at[i, "code"]]
            if 1 <= int(group.at[d_i, "value"]) - v < k:
                targets.append(({d_i: 1.0, i: -1.0}, "complement"))
        for target, what in targets:
            checked += 1
            reach = system.widest_upper(target)
            if reach < k - 1e-6:
                cell = (
                    f"denominator {d_key}"
                    if group.at[i, "kind"] == "d"
                    else str(group.at[i, "key"])
                )
                return checked, (
                    f"release refused: {group.at[i, 'level']} {group.at[i, 'code']}, {cell} "
                    f"({what}): what is published shows it is at most {reach:g} (< k = {k})"
                )
    return checked, None


def check_release(cells: pd.DataFrame, population_of: dict[str, str], k: int) -> int:
    """Refuse the release if any unsafe quantity can be shown to be below k; returns checks run.

    Groups are independent; many of them are checked on all CPU cores.
    """
    groups = list(_groups(cells, population_of).values())
    workers = min(os.cpu_count() or 1, len(groups) // 20)
    if workers < 2:
        results = [_check_group(g, k) for g in groups]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_check_group, groups, [k] * len(groups), chunksize=4))
    for _, problem in results:
        if problem:
            raise ReleaseBlocked(
                problem, hint="the suppression did not protect this cell: report it as a bug"
            )
    return sum(n for n, _ in results)

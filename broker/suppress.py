"""Disclosure control: primary and secondary cell suppression, by MILP with row generation.

Cells are the counts of `indicators.counts`: per geography node a denominator per population
(kind "d") and a numerator per indicator (kind "n"). Published relations: every parent is the sum
of its children (buurt ⊂ wijk ⊂ gemeente), 0 ≤ numerator ≤ its denominator.

Primary: a quantity q — a numerator n, its complement d − n, or a denominator d — is unsafe when
1 ≤ q < k. Protection: an attacker who knows every published cell and solves the linear program
over the relations above must not be able to prove q < k, i.e. the largest value of q consistent
with what is published must be at least k.

Secondary: choose hidden cells x ∈ {0,1} minimising (number of hidden cells, then hidden total)
so that every unsafe quantity is protected. A master MILP over x alone (HiGHS) is solved; for the
current x every attacker LP (HiGHS) is solved, and each that breaks protection yields a Benders cut
from its dual (Σ wⱼ xⱼ ≥ k − q − constant); repeat until none breaks. A hidden denominator hides
its numerators; the denominator of a population is one cell shared by all its indicators, so it
is suppressed alike everywhere. Components are (gemeente, population): they share no relation.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from broker.highs import quiet_highs
from broker.indicators import Spec
from broker.policy import Policy

Status = Literal["published", "suppressed-primary", "suppressed-secondary"]
_TOKEN = object()  # only this module can make a SafeTable
TOL = 1e-6
PARALLEL_FROM = 20  # components per extra process: below that, one process is faster


@dataclass(frozen=True)
class SafeTable:
    """Counts with a status per cell, as `suppress` decided. Only `suppress` makes one."""

    cells: pd.DataFrame  # level, code, parent, kind, key, value, status
    k: int
    policy_id: str
    stats: dict[str, float]
    _token: object = field(repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self._token is not _TOKEN:
            raise TypeError("a SafeTable comes only from suppress()")


@dataclass
class _Component:
    """One (gemeente, population) block: its cells and their relations."""

    idx: np.ndarray  # row numbers in the counts table
    values: np.ndarray
    upper: np.ndarray  # how far above its value an attacker may push a hidden cell
    a_eq: sp.csr_matrix  # parent − Σ children = 0, per key
    a_ub: sp.csr_matrix  # n − d ≤ d_value − n_value
    b_ub: np.ndarray
    d_of: np.ndarray  # for n cells, the local index of their denominator; −1 for d cells
    parent_of: np.ndarray  # local index of the parent cell (same key); −1 at the top
    targets: list[tuple[np.ndarray, float]] = field(default_factory=list)  # (g, need)
    primary: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _components(cells: pd.DataFrame, spec: Spec) -> list[_Component]:
    population_of = {i.id: i.population for i in spec.indicators}
    cells = cells.assign(
        population=np.where(cells["kind"] == "d", cells["key"], cells["key"].map(population_of)),
        gemeente=_gemeente_of(cells),
    )
    out = []
    for _, block in cells.groupby(["gemeente", "population"], sort=True):
        out.append(_build(block))
    return out


def _gemeente_of(cells: pd.DataFrame) -> pd.Series:
    wijk_parent = cells.loc[cells["level"] == "wijk"].drop_duplicates("code").set_index("code")
    g = pd.Series(index=cells.index, dtype=object)
    g[cells["level"] == "gemeente"] = cells["code"]
    g[cells["level"] == "wijk"] = cells["parent"]
    buurt = cells["level"] == "buurt"
    g[buurt] = cells.loc[buurt, "parent"].map(wijk_parent["parent"])
    return g


def _build(block: pd.DataFrame) -> _Component:
    n = len(block)
    local = pd.Series(np.arange(n), index=pd.MultiIndex.from_frame(block[["kind", "key", "code"]]))
    values = block["value"].to_numpy(dtype=float)
    kinds, keys, codes = (block[c].to_numpy() for c in ("kind", "key", "code"))
    parents = block["parent"].to_numpy()
    parent_of = np.array([local.get((kinds[i], keys[i], parents[i]), -1) for i in range(n)])
    d_key = block.loc[block["kind"] == "d", "key"].iloc[0]
    d_of = np.array([-1 if kinds[i] == "d" else local[("d", d_key, codes[i])] for i in range(n)])
    # Equalities: for every cell with children, cell − Σ children = 0.
    rows, cols, vals = [], [], []
    children: dict[int, list[int]] = {}
    for i, p in enumerate(parent_of):
        if p >= 0:
            children.setdefault(int(p), []).append(i)
    for r, (p, kids) in enumerate(children.items()):
        rows += [r] * (len(kids) + 1)
        cols += [p, *kids]
        vals += [1.0] + [-1.0] * len(kids)
    a_eq = sp.csr_matrix((vals, (rows, cols)), shape=(len(children), n))
    n_cells = np.flatnonzero(d_of >= 0)
    a_ub = sp.csr_matrix(
        (
            np.r_[np.ones(len(n_cells)), -np.ones(len(n_cells))],
            (
                np.r_[np.arange(len(n_cells)), np.arange(len(n_cells))],
                np.r_[n_cells, d_of[n_cells]],
            ),
        ),
        shape=(len(n_cells), n),
    )
    b_ub = values[d_of[n_cells]] - values[n_cells]
    top = {k: values[i] for i, k in enumerate(zip(kinds, keys, strict=True)) if parent_of[i] < 0}
    upper = np.array([top[(kinds[i], keys[i])] for i in range(n)])
    return _Component(block.index.to_numpy(), values, upper, a_eq, a_ub, b_ub, d_of, parent_of)


def _primary(c: _Component, k: int, min_rate_denominator: int) -> None:
    """Mark unsafe cells hidden and list the quantities to protect with what they need."""
    n = len(c.values)
    # How far above its value the attacker lets a hidden cell go: the published top total plus
    # k (a count cannot exceed its municipality's total; + k keeps a hidden top protectable).
    c.upper = c.upper + k
    c.primary = np.zeros(n, dtype=bool)
    for i in range(n):
        v = c.values[i]
        if 1 <= v < k:  # a small count (numerator or denominator)
            g = np.zeros(n)
            g[i] = 1
            c.targets.append((g, k - v))
            c.primary[i] = True
        if c.d_of[i] >= 0:
            d = c.values[c.d_of[i]]
            if 1 <= d - v < k:  # a small complement: everyone but a few
                g = np.zeros(n)
                g[c.d_of[i]], g[i] = 1, -1
                c.targets.append((g, k - (d - v)))
                c.primary[i] = True
            if d < min_rate_denominator and v > 0:
                c.primary[i] = True  # no percentage on a small denominator


class Attacker:
    """The attacker LPs of one component in one HiGHS model: only bounds and costs change.

    max gᵀz s.t. A_eq z = 0, A_ub z ≤ b_ub, −xⱼ·valueⱼ ≤ zⱼ ≤ xⱼ·upperⱼ (z: deviation from the
    true table; x: hidden). Reusing the model (warm start) is ~10× faster than a fresh linprog.
    """

    def __init__(self, c: _Component) -> None:
        self.c = c
        n, m_eq = len(c.values), c.a_eq.shape[0]
        a = sp.vstack([c.a_eq, c.a_ub]).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, a.shape[0]
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.zeros(n)
        lp.col_upper_ = np.zeros(n)
        lp.row_lower_ = np.r_[np.zeros(m_eq), np.full(len(c.b_ub), -highspy.kHighsInf)]
        lp.row_upper_ = np.r_[np.zeros(m_eq), c.b_ub]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        self.h = quiet_highs()
        self.h.passModel(lp)
        self.m_eq = m_eq
        self.cols = np.arange(n, dtype=np.int32)

    def set_hidden(self, hidden: np.ndarray) -> None:
        """Bounds for the current hiding pattern."""
        c = self.c
        self.hidden = hidden.astype(float)
        self.h.changeColsBounds(
            len(self.cols), self.cols, -self.hidden * c.values, self.hidden * c.upper
        )

    def solve(self, g: np.ndarray) -> tuple[float, np.ndarray, float]:
        """max gᵀz, and the cut from the dual: value ≤ Σ xⱼ wⱼ + const (equality here)."""
        self.h.changeColsCost(len(self.cols), self.cols, -g)
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return attacker(self.c, self.hidden, g)
        sol = self.h.getSolution()
        value = -self.h.getInfo().objective_function_value
        d = np.asarray(sol.col_dual)
        mu = np.asarray(sol.row_dual)[self.m_eq :]
        w = np.maximum(d, 0) * self.c.values - np.minimum(d, 0) * self.c.upper
        const = float(-mu @ self.c.b_ub)
        if abs(w @ self.hidden + const - value) > 1e-6 * (1 + abs(value)):
            return attacker(self.c, self.hidden, g)  # dual signs not as expected: the slow path
        return value, w, const


def attacker(c: _Component, hidden: np.ndarray, g: np.ndarray) -> tuple[float, np.ndarray, float]:
    """The same attacker LP through scipy's linprog (HiGHS), from scratch."""
    lb = -hidden * c.values
    ub = hidden * c.upper
    res = linprog(
        -g,
        A_ub=c.a_ub,
        b_ub=c.b_ub,
        A_eq=c.a_eq,
        b_eq=np.zeros(c.a_eq.shape[0]),
        bounds=np.c_[lb, ub],
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"attacker LP failed: {res.message}")
    # Strong duality for min (−g)ᵀz: V = μᵀb_ub + βᵀlb + αᵀub with HiGHS' marginals.
    mu, beta, alpha = res.ineqlin.marginals, res.lower.marginals, res.upper.marginals
    w = beta * c.values - alpha * c.upper  # max(x) ≤ Σ xⱼ wⱼ − μᵀb_ub, equality at this x
    return float(-res.fun), w, float(-mu @ c.b_ub)


def _master(
    c: _Component, cuts: list[tuple[np.ndarray, float]], time_limit: float
) -> np.ndarray | None:
    """The cheapest hiding pattern that meets every cut so far; None when there is none."""
    n = len(c.values)
    cost = 1.0 + c.values / (c.values.sum() + 1.0)  # fewest cells, then smallest total
    rows = [w for w, _ in cuts]
    lo = [rhs for _, rhs in cuts]
    n_cells = np.flatnonzero(c.d_of >= 0)
    link = sp.csr_matrix(  # x_n − x_d ≥ 0: a hidden denominator hides its numerators
        (
            np.r_[np.ones(len(n_cells)), -np.ones(len(n_cells))],
            (
                np.r_[np.arange(len(n_cells)), np.arange(len(n_cells))],
                np.r_[n_cells, c.d_of[n_cells]],
            ),
        ),
        shape=(len(n_cells), n),
    )
    constraints = [LinearConstraint(link, 0, np.inf)]
    if rows:
        constraints.append(LinearConstraint(sp.csr_matrix(np.vstack(rows)), lo, np.inf))
    res = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(n),
        bounds=Bounds(c.primary.astype(float), np.ones(n)),
        options={"time_limit": time_limit},
    )
    if res.status == 2:  # infeasible
        return None
    if res.x is None:
        raise RuntimeError(f"suppression master problem failed: {res.message}")
    hidden: np.ndarray = np.round(res.x).astype(bool)
    return hidden


def _initial_cuts(c: _Component) -> list[tuple[np.ndarray, float]]:
    """For a hidden cell: its parent or a sibling must be hidden too (else: subtraction)."""
    cuts = []
    n = len(c.values)
    for i in np.flatnonzero(c.primary):
        p = c.parent_of[i]
        siblings = np.flatnonzero((c.parent_of == p) & (np.arange(n) != i) & (p >= 0))
        w = np.zeros(n)
        if p >= 0:
            w[p] = 1
        w[siblings] = 1
        if w.any():
            cuts.append((w, 1.0))
    return cuts


def protect(c: _Component, time_limit: float = 60.0) -> tuple[np.ndarray, int]:
    """Hidden cells for one component, and the number of master iterations."""
    if not c.targets and not c.primary.any():
        return np.zeros(len(c.values), dtype=bool), 0
    cuts = _initial_cuts(c)
    lp = Attacker(c)
    protected: dict[int, np.ndarray] = {}  # target → a pattern it was shown safe under
    for iteration in range(1, 500):
        hidden = _master(c, cuts, time_limit)
        if hidden is None:  # no pattern protects every cell: hide the whole component
            return np.ones(len(c.values), dtype=bool), iteration
        lp.set_hidden(hidden)
        new = []
        for t, (g, need) in enumerate(c.targets):
            if t in protected and np.all(hidden >= protected[t]):
                continue  # hiding more never narrows a range
            value, w, const = lp.solve(g)
            if value < need - TOL:
                new.append((w, need - const))
            else:
                protected[t] = hidden
        if not new:
            return hidden, iteration
        cuts += new
    raise RuntimeError("secondary suppression did not converge")


def _protect_all(components: list[_Component]) -> list[tuple[np.ndarray, int]]:
    """`protect` every component; many components are spread over the CPU cores.

    Components share no relation, so the result is the same in any order or process.
    """
    workers = min(os.cpu_count() or 1, len(components) // PARALLEL_FROM)
    if workers < 2:
        return [protect(c) for c in components]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(protect, components, chunksize=4))


def suppress(cells: pd.DataFrame, spec: Spec, policy: Policy) -> SafeTable:
    """Decide the status of every cell under `policy`; the only way to a SafeTable."""
    start = time.perf_counter()
    status = pd.Series("published", index=cells.index, dtype=object)
    iterations = 0
    components = _components(cells, spec)
    for c in components:
        _primary(c, policy.k, policy.min_rate_denominator)
    for c, (hidden, it) in zip(components, _protect_all(components), strict=True):
        iterations += it
        status.loc[c.idx[hidden & ~c.primary]] = "suppressed-secondary"
        status.loc[c.idx[c.primary]] = "suppressed-primary"
    out = cells.assign(status=status.to_numpy())
    stats = {
        "published": int((out["status"] == "published").sum()),
        "primary": int((out["status"] == "suppressed-primary").sum()),
        "secondary": int((out["status"] == "suppressed-secondary").sum()),
        "master_iterations": iterations,
        "seconds": round(time.perf_counter() - start, 3),
    }
    return SafeTable(out, policy.k, policy.policy_id, stats, _TOKEN)

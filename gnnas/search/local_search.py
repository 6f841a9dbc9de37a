r"""Local search, White et al., "Local Search is State of the Art for Neural Architecture Search
Benchmarks", 2020 (also "Exploring the Loss Landscape in Neural Architecture Search", UAI 2021).

The walk starts from the best of :attr:`~LocalSearchConfig.num_init` random table cells. Each step
queries the neighbours of the current cell (:func:`neighbours`: every cell one op change or one
edge insertion or deletion away, sent into the table by the oracle's mapping policy when the
table holds only part of the space) and moves to the best of them if it beats the current cell.
At a local optimum (no neighbour is better, or every neighbour maps back onto the current cell)
the walk restarts from new random cells.

With :attr:`~LocalSearchConfig.num_neighbours` set, only that many neighbours, drawn at random,
are looked at per step; with :attr:`~LocalSearchConfig.first_improvement` the neighbours are
queried in random order and the walk moves to the first one that is better.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnnas.search.base import Search
from gnnas.space import ArchSpec
from gnnas.space.ops import INTERIOR_OPS, MAX_EDGES

__all__ = ["LocalSearch", "LocalSearchConfig", "neighbours"]


def neighbours(spec: ArchSpec) -> list[ArchSpec]:
    r"""Returns the cells one op change or one edge insertion or deletion away from ``spec``.

    An op change gives an interior vertex another interior op. An edge may be removed, or added
    between two vertices in either direction as long as the graph stays acyclic (the input gets
    no in-edge, the output no out-edge; the vertices are renumbered in topological order). A
    result counts when it is a valid cell that pruning leaves unchanged, with at most
    :data:`~gnnas.space.ops.MAX_EDGES` edges, and is not isomorphic to ``spec``: these are exactly
    the cells with as many vertices as ``spec`` at graph edit distance 1. Results are
    deduplicated by hash, in a fixed order: op changes vertex by vertex, then edges pair by pair.

    Args:
        spec (ArchSpec): the cell.

    Returns:
        list[ArchSpec]: the neighbours.

    Raises:
        ValueError: if ``spec`` is not an :class:`ArchSpec`.
    """
    if not isinstance(spec, ArchSpec):
        raise ValueError(f"spec must be an ArchSpec, got {type(spec).__name__}")
    matrix, ops = spec.matrix, list(spec.ops)
    size = len(ops)
    candidates: list[tuple[np.ndarray, list[str]]] = []
    for v in range(1, size - 1):
        for op in INTERIOR_OPS:
            if op != ops[v]:
                candidates.append((matrix, ops[:v] + [op] + ops[v + 1:]))
    reach = _reachability(matrix)
    can_add = int(matrix.sum()) < MAX_EDGES
    for i in range(size):
        for j in range(i + 1, size):
            if matrix[i, j]:  # remove i -> j
                changed = matrix.copy()
                changed[i, j] = 0
                candidates.append((changed, ops))
            elif can_add:
                candidates.append((_with_edge(matrix, i, j), ops))  # add i -> j
                if i > 0 and j < size - 1 and not reach[i, j]:  # add j -> i: no path i -> j
                    candidates.append(_reordered(_with_edge(matrix.T, i, j).T, ops))
    found: dict[str, ArchSpec] = {}
    for candidate_matrix, candidate_ops in candidates:
        try:
            cell = ArchSpec(candidate_matrix, candidate_ops)
        except ValueError:
            continue
        if cell.was_pruned or cell.hash == spec.hash:
            continue
        found.setdefault(cell.hash, cell)
    return list(found.values())


def _with_edge(matrix: np.ndarray, i: int, j: int) -> np.ndarray:
    changed = matrix.copy()
    changed[i, j] = 1
    return changed


def _reachability(matrix: np.ndarray) -> np.ndarray:
    """``reach[i, j]``: a path of one or more edges leads from ``i`` to ``j`` (upper triangular)."""
    size = len(matrix)
    reach = matrix.astype(bool)
    for j in range(size):  # topological order: every predecessor of j is complete before j
        for i in range(j):
            if matrix[i, j]:
                reach[:, j] |= reach[:, i]
    return reach


def _reordered(matrix: np.ndarray, ops: list[str]) -> tuple[np.ndarray, list[str]]:
    """Renumbers an acyclic cell in topological order (input first, output last)."""
    size = len(ops)
    indegree = matrix.sum(axis=0).astype(int)
    order: list[int] = []
    ready = [v for v in range(size) if indegree[v] == 0 and v != size - 1]
    while ready:
        v = min(ready)
        ready.remove(v)
        order.append(v)
        for w in np.flatnonzero(matrix[v]).tolist():
            indegree[w] -= 1
            if indegree[w] == 0 and w != size - 1:
                ready.append(w)
    order.append(size - 1)
    if sorted(order) != list(range(size)) or order[0] != 0:
        raise AssertionError("not a DAG with the input first")  # pragma: no cover - guarded by caller
    return matrix[np.ix_(order, order)], [ops[v] for v in order]


@dataclass
class LocalSearchConfig:
    r"""Settings of :class:`LocalSearch`.

    Args:
        num_init (int, optional): random cells queried at each (re)start; the walk starts from the
            best. (default: :obj:`1`)
        num_neighbours (int, optional): neighbours looked at per step, drawn at random;
            :obj:`None` for all. (default: :obj:`None`)
        first_improvement (bool, optional): move to the first better neighbour (in random order)
            instead of the best one. (default: :obj:`False`)

    Raises:
        ValueError: if ``num_init`` or ``num_neighbours`` is below 1.

    Example:
        >>> from gnnas.search import LocalSearchConfig
        >>> LocalSearchConfig(num_neighbours=8, first_improvement=True)
        LocalSearchConfig(num_init=1, num_neighbours=8, first_improvement=True)
    """

    num_init: int = 1
    num_neighbours: int | None = None
    first_improvement: bool = False

    def __post_init__(self) -> None:
        if self.num_init < 1:
            raise ValueError(f"num_init must be >= 1, got {self.num_init}")
        if self.num_neighbours is not None and self.num_neighbours < 1:
            raise ValueError(f"num_neighbours must be >= 1 or None, got {self.num_neighbours}")


class LocalSearch(Search):
    r"""Local search with random restarts over the oracle's table (see the module docstring).

    One step is a (re)start (``num_init`` queries) or one neighbourhood (up to one query per
    neighbour; neighbours whose table cell was queried before are free).

    Args:
        oracle (Oracle): the oracle, with its budget and mapping policy.
        config (LocalSearchConfig, optional): the settings. (default: :obj:`None`, the defaults)
        seed (int, optional): seed of the run. (default: :obj:`0`)

    Raises:
        ValueError: if ``config`` is not a :class:`LocalSearchConfig` or ``seed`` is negative.

    Example:
        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.search import LocalSearch, LocalSearchConfig, Oracle
        >>> oracle = Oracle(NASBench101.bundled(), budget=20, mapping="nearest")
        >>> result = LocalSearch(oracle, LocalSearchConfig(num_init=5), seed=0).run()
        >>> result.num_queries, result.stop_reason
        (20, 'budget')
        >>> round(result.best_accuracy, 4)
        0.932
    """

    name = "local_search"
    Config = LocalSearchConfig

    def __init__(self, oracle: Any, config: LocalSearchConfig | None = None, *, seed: int = 0) -> None:
        super().__init__(oracle, config, seed=seed)
        self.current: int | None = None  # table index of the current cell
        self.current_accuracy = float("-inf")
        self.extra = {"restarts": 0, "moves": 0}

    def step(self) -> bool:
        oracle, config = self.oracle, self.config
        if self.current is None:
            drawn = oracle.sample_unqueried(self.generator, config.num_init)
            if not drawn:
                return False
            accuracies = [oracle.query_index(i) for i in drawn]
            best = int(np.argmax(accuracies))
            self.current, self.current_accuracy = drawn[best], accuracies[best]
            return True
        cells = neighbours(oracle.spec(self.current))
        order = self.generator.permutation(len(cells))
        if config.num_neighbours is not None:
            order = order[:config.num_neighbours]
        best_index, best_accuracy, seen = None, self.current_accuracy, {self.current}
        for position in order.tolist():
            cell = cells[position]
            index, _ = oracle.resolve(cell)
            if index in seen:
                continue
            seen.add(index)
            accuracy = oracle.query(cell)
            if accuracy > best_accuracy:
                best_index, best_accuracy = index, accuracy
                if config.first_improvement:
                    break
        if best_index is None:  # a local optimum: restart
            self.current, self.current_accuracy = None, float("-inf")
            self.extra["restarts"] += 1
        else:
            self.current, self.current_accuracy = best_index, best_accuracy
            self.extra["moves"] += 1
        return True

    def extra_state(self) -> dict[str, Any]:
        return {"current": self.current, "current_accuracy": self.current_accuracy}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.current = None if state["current"] is None else int(state["current"])
        self.current_accuracy = float(state["current_accuracy"])

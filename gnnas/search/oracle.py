r"""A budgeted accuracy oracle over a NAS-Bench-101 table.

Searches never read the table directly: they ask an :class:`Oracle`, which

- counts a query once per **distinct cell** of the table (by the official hash, so isomorphic
  proposals count once), and raises :class:`BudgetExhausted` when a new cell is asked for after
  the budget is spent (asking again for a cell already queried is free and always allowed);
- records every counted query, in order, as a :class:`QueryRecord` (the proposed hash, the table
  cell actually queried, its accuracy and the best accuracy so far);
- sends a proposal that is not in the table to a table cell, by a named **mapping policy**, when
  the table holds only part of the space (such as the 30,001-cell CSV):

  - ``mapping=None``: a proposal outside the table raises
    :class:`~gnnas.nasbench.OutOfDomainError` (the right choice with the official, complete file);
  - ``mapping="nearest"``: the table cell at the smallest exact graph edit distance, ties broken by
    the smaller hash (:func:`gnnas.ged.nearest_cells`).

A short tour::

    >>> from gnnas.nasbench import NASBench101
    >>> from gnnas.search import Oracle
    >>> table = NASBench101.bundled()        # 30,001 real cells
    >>> oracle = Oracle(table, budget=300, mapping="nearest")
    >>> spec = table.spec(table.hashes[0])
    >>> accuracy = oracle.query(spec)        # counted once per distinct table cell
    >>> oracle.num_queries, oracle.best.accuracy == accuracy
    (1, True)

The metric returned defaults to what the official API's ``query()`` returns during a search: the
validation accuracy after 108 epochs of **one** training repeat (the bundled sample and the CSV
tables hold exactly one).
"""

from __future__ import annotations

import hashlib
import math
import weakref
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gnnas.space import ArchSpec

__all__ = ["Oracle", "QueryRecord", "BudgetExhausted", "MAPPINGS"]

#: The mapping policies an :class:`Oracle` understands.
MAPPINGS: tuple[str | None, ...] = (None, "nearest")

_REDUCTIONS = ("mean", "median", "min", "max")

# Per table: the packed cells for nearest_cells and the mapping of every proposal seen so far.
# The mapping is a pure function of (table, proposal), so every oracle over a table shares it.
_MAPPING_CACHE: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


class BudgetExhausted(RuntimeError):
    r"""Raised by :meth:`Oracle.query` when a new cell is asked for after the budget is spent.

    Example:
        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.search import BudgetExhausted, Oracle
        >>> oracle = Oracle(NASBench101.bundled(), budget=1)
        >>> accuracy = oracle.query_index(0)
        >>> oracle.query_index(0) == accuracy    # asking again for a queried cell is free
        True
        >>> oracle.query_index(1)
        Traceback (most recent call last):
            ...
        gnnas.search.oracle.BudgetExhausted: the budget of 1 queries is spent
    """


@dataclass(frozen=True)
class QueryRecord:
    r"""One counted query of an :class:`Oracle`.

    Attributes:
        index (int): 1-based position of the query (the number of queries spent so far).
        proposed_hash (str): hash of the cell the search proposed.
        hash (str): hash of the table cell that was queried (equal to :attr:`proposed_hash` unless
            the proposal was mapped into the table).
        distance (int): graph edit distance between the proposal and the queried cell (``0`` when
            the proposal was in the table).
        accuracy (float): the metric of the queried cell.
        best (float): the best metric over the queries ``1 .. index``.

    Example:
        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.search import Oracle
        >>> from gnnas.space import ArchSpec
        >>> oracle = Oracle(NASBench101.bundled(), mapping="nearest")
        >>> cell = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
        >>> accuracy = oracle.query(cell)        # not in the table: its nearest table cell's
        >>> record = oracle.records[0]
        >>> record.index, record.distance, record.hash == record.proposed_hash
        (1, 1, False)
        >>> sorted(record.to_dict())
        ['accuracy', 'best', 'distance', 'hash', 'index', 'proposed_hash']
    """

    index: int
    proposed_hash: str
    hash: str
    distance: int
    accuracy: float
    best: float

    def to_dict(self) -> dict[str, Any]:
        """Returns the record as a JSON-ready dictionary.

        Returns:
            dict[str, Any]: the fields by name.
        """
        return asdict(self)


class Oracle:
    r"""A query-counting oracle over a NAS-Bench-101 table, with a mapping policy.

    Args:
        table (NASBench101): the benchmark table (:class:`gnnas.nasbench.NASBench101`, or any object
            with ``hashes``, ``metric_array(metric, epochs=..., reduce=...)`` and ``spec(hash)``).
        budget (int, optional): number of distinct cells that may be queried; :obj:`None` for no
            limit. (default: :obj:`None`)
        mapping (str, optional): what to do with a proposal outside the table, one of
            :data:`MAPPINGS`: :obj:`None` raises :class:`~gnnas.nasbench.OutOfDomainError`,
            ``"nearest"`` queries the table cell at the smallest exact graph edit distance (ties
            broken by the smaller hash). (default: :obj:`None`)
        metric (str, optional): the metric returned by :meth:`query`.
            (default: :obj:`"validation_accuracy"`)
        epochs (int, optional): the epoch budget of the metric. (default: :obj:`108`)
        repeat (int or str, optional): which training run of each cell: a run index (the
            official ``query()`` draws one of the 3 runs at random; the runs are exchangeable, so
            a fixed index is one such draw, the same for every search), or a reduction over the
            runs, ``"mean"``, ``"median"``, ``"min"`` or ``"max"``. (default: :obj:`0`)

    Raises:
        ValueError: if ``budget`` is not a positive integer, ``mapping`` or ``repeat`` is unknown,
            or the table is empty or lacks the metric for some cell.

    Example:
        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.search import Oracle
        >>> from gnnas.space import ArchSpec
        >>> oracle = Oracle(NASBench101.bundled(), budget=2, mapping="nearest")
        >>> cell = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
        >>> oracle.contains(cell)                # not one of the 30,001 cells
        False
        >>> round(oracle.query(cell), 4)         # so the nearest table cell is queried
        0.8405
        >>> oracle.num_queries, oracle.remaining
        (1, 1)
        >>> oracle.rank(oracle.best.accuracy)    # 1 is the table's best cell
        29552
    """

    def __init__(
        self,
        table: Any,
        budget: int | None = None,
        *,
        mapping: str | None = None,
        metric: str = "validation_accuracy",
        epochs: int = 108,
        repeat: int | str = 0,
    ) -> None:
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
            raise ValueError(f"budget must be a positive int or None, got {budget!r}")
        if mapping not in MAPPINGS:
            raise ValueError(f"mapping must be one of {list(MAPPINGS)}, got {mapping!r}")
        self.table = table
        self.budget = budget
        self.mapping = mapping
        self.metric = metric
        self.epochs = epochs
        self.repeat = repeat
        self.hashes: list[str] = [str(h) for h in table.hashes]
        if not self.hashes:
            raise ValueError("the table holds no cells")
        if isinstance(repeat, str):
            if repeat not in _REDUCTIONS:
                raise ValueError(f"repeat must be a run index or one of {list(_REDUCTIONS)}, got {repeat!r}")
            values = table.metric_array(metric, epochs=epochs, reduce=repeat)
        else:
            runs = np.asarray(table.metric_array(metric, epochs=epochs, reduce=None), dtype=np.float64)
            if isinstance(repeat, bool) or not 0 <= int(repeat) < runs.shape[1]:
                raise ValueError(f"repeat must be a run index in 0..{runs.shape[1] - 1}, got {repeat!r}")
            values = runs[:, int(repeat)]
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(self.hashes),):
            raise ValueError(f"metric_array returned shape {values.shape}, expected ({len(self.hashes)},)")
        if not np.isfinite(values).all():
            missing = int((~np.isfinite(values)).sum())
            raise ValueError(f"{missing} cells of the table have no {metric!r} at {epochs} epochs "
                             f"for repeat={repeat!r}")
        self.values = values
        digest = hashlib.sha256("\n".join(self.hashes).encode("ascii", "replace") + values.tobytes())
        self.table_digest = digest.hexdigest()[:16]  # which cells, with which values
        self._index = {h: i for i, h in enumerate(self.hashes)}
        self._sorted_desc = np.sort(values)[::-1]
        try:
            shared = _MAPPING_CACHE.setdefault(table, {"candidates": None, "resolved": {}})
        except TypeError:  # a table that cannot be weakly referenced keeps its own cache
            shared = {"candidates": None, "resolved": {}}
        self._shared = shared
        self._resolved: dict[str, tuple[int, int]] = shared["resolved"]  # hash -> (index, distance)
        self.records: list[QueryRecord] = []
        self._queried: dict[int, QueryRecord] = {}  # table index -> record

    # ------------------------------------------------------------------ description
    def config(self) -> dict[str, Any]:
        """Returns the oracle's settings, the table's size and a digest of its cells and values.

        Returns:
            dict[str, Any]: ``budget``, ``mapping``, ``metric``, ``epochs``, ``repeat``,
            ``table_size`` and ``table_digest`` (two tables with the same cells and metric values
            share it), JSON-ready.
        """
        return {
            "budget": self.budget, "mapping": self.mapping, "metric": self.metric,
            "epochs": self.epochs, "repeat": self.repeat, "table_size": len(self.hashes),
            "table_digest": self.table_digest,
        }

    def __len__(self) -> int:
        return len(self.hashes)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(table_size={len(self.hashes)}, budget={self.budget}, "
                f"mapping={self.mapping!r}, metric={self.metric!r}, epochs={self.epochs})")

    # ------------------------------------------------------------------ the table
    @property
    def table_best(self) -> float:
        """float: the best metric in the table."""
        return float(self._sorted_desc[0])

    def rank(self, accuracy: float) -> int:
        r"""Returns the rank in the table of a cell with metric ``accuracy``.

        The rank is :math:`1 + |\{c : \mathrm{acc}(c) > \mathrm{accuracy}\}|`, so the table's best
        cell has rank 1 and tied cells share a rank.

        Args:
            accuracy (float): a metric value.

        Returns:
            int: the rank, from 1 to the table's size plus one.
        """
        return 1 + int(np.searchsorted(-self._sorted_desc, -accuracy, side="left"))

    def ranks(self, accuracies: Sequence[float] | np.ndarray) -> list[int]:
        """Returns :meth:`rank` of each metric value, in one vectorized pass.

        Args:
            accuracies (Sequence[float] or numpy.ndarray): metric values.

        Returns:
            list[int]: their ranks, in order.
        """
        values = np.asarray(accuracies, dtype=np.float64).reshape(-1)
        return (1 + np.searchsorted(-self._sorted_desc, -values, side="left")).tolist()

    def top_threshold(self, fraction: float) -> float:
        r"""Returns the metric a cell needs to be in the table's top ``fraction``.

        With :math:`N` cells and :math:`k = \lceil \mathrm{fraction} \cdot N \rceil`, this is the
        :math:`k`-th best metric: a cell at or above it is in the top ``fraction``.

        Args:
            fraction (float): the top fraction of the table, in ``(0, 1]``.

        Returns:
            float: the threshold metric.

        Raises:
            ValueError: if ``fraction`` is not in ``(0, 1]``.
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        k = max(1, math.ceil(fraction * len(self.hashes) - 1e-9))
        return float(self._sorted_desc[k - 1])

    def accuracy_of(self, cell: ArchSpec | str) -> float:
        """Returns the metric of a table cell without counting a query (for evaluation only).

        Args:
            cell (ArchSpec or str): the cell, or its hash.

        Returns:
            float: the cell's metric.

        Raises:
            KeyError: if the cell is not in the table.
        """
        key = cell.hash if isinstance(cell, ArchSpec) else cell
        return float(self.values[self._index[key]])

    def spec(self, index: int) -> ArchSpec:
        """Returns the cell at position ``index`` of the table.

        Args:
            index (int): a position in :attr:`hashes`.

        Returns:
            ArchSpec: the cell.
        """
        return self.table.spec(self.hashes[index])

    def contains(self, cell: ArchSpec | str) -> bool:
        """Returns whether a cell is in the table (no mapping; free).

        Args:
            cell (ArchSpec or str): the cell, or its hash.

        Returns:
            bool: :obj:`True` if the table holds the cell.
        """
        return (cell.hash if isinstance(cell, ArchSpec) else cell) in self._index

    # ------------------------------------------------------------------ mapping
    def _candidate_cells(self) -> Any:
        """The table's cells as a :class:`gnnas.ged.GEDIndex`, built once per table."""
        if self._shared["candidates"] is None:
            from gnnas.ged import GEDIndex

            cells = getattr(self.table, "cells", None)  # a NASBench101 table: arrays, no ArchSpec built
            if cells is None:
                cells = [self.table.spec(h) for h in self.hashes]
            self._shared["candidates"] = GEDIndex(cells)
        return self._shared["candidates"]

    def resolve(self, cell: ArchSpec) -> tuple[int, int]:
        """Returns ``(table index, distance)`` of the table cell a proposal is sent to; free.

        Args:
            cell (ArchSpec): the proposal.

        Returns:
            tuple[int, int]: the position of the table cell in :attr:`hashes` and the graph edit
            distance from the proposal to it (``0`` when the proposal is in the table).

        Raises:
            OutOfDomainError: if the proposal is not in the table and :attr:`mapping` is :obj:`None`.
        """
        key = cell.hash
        index = self._index.get(key)
        if index is not None:
            return index, 0
        if self.mapping is None:
            from gnnas.nasbench import OutOfDomainError

            raise OutOfDomainError(f"cell {key} is not in the table and the oracle has mapping=None", key)
        hit = self._resolved.get(key)
        if hit is not None:
            return hit
        from gnnas.ged import nearest_cells

        indices, distances = nearest_cells(cell, self._candidate_cells(), k=1)
        hit = (int(indices[0]), int(distances[0]))
        self._resolved[key] = hit
        return hit

    def resolve_hash(self, cell: ArchSpec) -> str:
        """Returns the hash of the table cell a proposal is sent to (see :meth:`resolve`); free.

        Args:
            cell (ArchSpec): the proposal.

        Returns:
            str: the hash of the table cell.

        Raises:
            OutOfDomainError: if the proposal is not in the table and :attr:`mapping` is :obj:`None`.
        """
        return self.hashes[self.resolve(cell)[0]]

    # ------------------------------------------------------------------ queries
    @property
    def num_queries(self) -> int:
        """int: number of distinct table cells queried so far."""
        return len(self.records)

    @property
    def remaining(self) -> int | None:
        """int or None: queries left, :obj:`None` without a budget."""
        return None if self.budget is None else self.budget - len(self.records)

    @property
    def exhausted(self) -> bool:
        """bool: whether no new cell can be queried (budget spent or every table cell queried)."""
        return len(self.records) >= len(self.hashes) or (
            self.budget is not None and len(self.records) >= self.budget)

    @property
    def best(self) -> QueryRecord | None:
        """QueryRecord or None: the first query that reached the best metric so far."""
        best: QueryRecord | None = None
        for record in self.records:
            if best is None or record.accuracy > best.accuracy:
                best = record
        return best

    def is_queried(self, cell: ArchSpec | int) -> bool:
        """Returns whether a table cell was queried; a proposal outside the table is resolved first
        (free).

        Args:
            cell (ArchSpec or int): a cell, or a table index.

        Returns:
            bool: :obj:`True` if its table cell was queried.

        Raises:
            OutOfDomainError: if the proposal is not in the table and :attr:`mapping` is :obj:`None`.
        """
        index = cell if isinstance(cell, int) else self.resolve(cell)[0]
        return index in self._queried

    def queried_indices(self) -> list[int]:
        """Returns the table indices queried so far.

        Returns:
            list[int]: positions in :attr:`hashes`, in query order.
        """
        return [self._index[r.hash] for r in self.records]

    def query(self, cell: ArchSpec) -> float:
        """Returns the metric of a cell, counting one query if its table cell is new.

        Args:
            cell (ArchSpec): the proposal; mapped into the table by :attr:`mapping`.

        Returns:
            float: the metric of the queried table cell.

        Raises:
            BudgetExhausted: if the table cell is new and the budget is spent.
            OutOfDomainError: if the proposal is outside the table and :attr:`mapping` is :obj:`None`.
        """
        index, distance = self.resolve(cell)
        return self._query(index, cell.hash, distance)

    def query_index(self, index: int) -> float:
        """Returns the metric of the table cell at ``index``, counting one query if it is new.

        Args:
            index (int): a position in :attr:`hashes`.

        Returns:
            float: the cell's metric.

        Raises:
            BudgetExhausted: if the cell is new and the budget is spent.
            IndexError: if ``index`` is out of range.
        """
        if not 0 <= index < len(self.hashes):
            raise IndexError(f"table index {index} out of range 0..{len(self.hashes) - 1}")
        return self._query(int(index), self.hashes[index], 0)

    def _query(self, index: int, proposed_hash: str, distance: int) -> float:
        record = self._queried.get(index)
        if record is not None:
            return record.accuracy
        if self.budget is not None and len(self.records) >= self.budget:
            raise BudgetExhausted(f"the budget of {self.budget} queries is spent")
        accuracy = float(self.values[index])
        best = max(accuracy, self.records[-1].best) if self.records else accuracy
        record = QueryRecord(len(self.records) + 1, proposed_hash, self.hashes[index], distance,
                             accuracy, best)
        self.records.append(record)
        self._queried[index] = record
        return accuracy

    # ------------------------------------------------------------------ sampling
    def sample_unqueried(self, generator: np.random.Generator, num: int = 1) -> list[int]:
        """Draws table indices uniformly, without replacement, among cells not yet queried; free.

        Args:
            generator (numpy.random.Generator): the source of randomness.
            num (int, optional): how many indices. (default: :obj:`1`)

        Returns:
            list[int]: up to ``num`` indices (fewer when fewer cells are left).
        """
        out: list[int] = []
        taken: set[int] = set()
        size = len(self.hashes)
        while len(out) < num and len(self._queried) + len(taken) < size:
            for _ in range(64):  # rejection while most cells are free, then an exact draw
                index = int(generator.integers(size))
                if index not in self._queried and index not in taken:
                    break
            else:
                free = np.setdiff1d(np.arange(size), np.fromiter(
                    (*self._queried, *taken), dtype=np.int64), assume_unique=True)
                index = int(free[generator.integers(len(free))])
            out.append(index)
            taken.add(index)
        return out

    # ------------------------------------------------------------------ trajectory and state
    def trajectory(self) -> np.ndarray:
        """Returns the best metric after each query.

        Returns:
            numpy.ndarray: ``float64``, shape ``(num_queries,)``.
        """
        return np.asarray([r.best for r in self.records], dtype=np.float64)

    def state_dict(self) -> dict[str, Any]:
        """Returns the settings and the queries, for :meth:`load_state_dict`.

        Returns:
            dict[str, Any]: ``config`` (:meth:`config`) and ``records``, JSON-ready.
        """
        return {"config": self.config(), "records": [r.to_dict() for r in self.records]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores the queries saved by :meth:`state_dict`.

        Args:
            state (dict[str, Any]): what :meth:`state_dict` returned.

        Raises:
            ValueError: if the state was saved by an oracle with other settings or another table.
        """
        mine, theirs = self.config(), dict(state["config"])
        if mine != theirs:
            changed = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            raise ValueError("oracle settings differ from the saved ones: " + ", ".join(
                f"{k} {theirs.get(k)!r} saved, {mine.get(k)!r} now" for k in changed))
        self.records = [QueryRecord(**r) for r in state["records"]]
        self._queried = {}
        for record in self.records:
            index = self._index.get(record.hash)
            if index is None:
                raise ValueError(f"the state queried {record.hash}, which is not in this table")
            self._queried[index] = record


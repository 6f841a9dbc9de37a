r"""The outcome of one search run: its configuration, its query trajectory and the paper's columns.

A :class:`SearchResult` is what every search in :mod:`gnnas.search` returns. It holds the full
configuration (method, seed, method settings, oracle settings) and every counted query, and
computes the columns of the paper's Table 1 against the oracle's table:

- ``queries_to_best``: the number of queries spent when the run's best cell was first queried;
- ``best_accuracy`` and ``regret`` (the table's best metric minus the run's best);
- ``rank``: the rank of the run's best cell in the table (1 is the table's best);
- ``queries_to_top(fraction)``: the number of queries spent when a cell in the table's top
  ``fraction`` was first queried (:obj:`None` if never).

It saves to and loads from JSON (:meth:`SearchResult.save`, :meth:`SearchResult.load`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gnnas.files import DamagedFileError, load_json, save_json
from gnnas.search.oracle import QueryRecord

__all__ = ["SearchResult"]


@dataclass
class SearchResult:
    r"""One search run.

    Args:
        method (str): the name of the search method.
        seed (int): the seed of the run.
        config (dict): the method's settings, JSON-ready.
        oracle (dict): the oracle's settings (:meth:`Oracle.config`).
        records (list[QueryRecord]): every counted query, in order.
        table_best (float): the best metric in the oracle's table.
        ranks (list[int]): the table rank of each queried cell (same order as ``records``).
        stop_reason (str): why the run stopped (``"budget"``, ``"table"``, ``"finished"``,
            ``"stalled"`` or ``"max_steps"``).
        extra (dict, optional): method-specific diagnostics. (default: empty)

    Example:
        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.search import Oracle, RandomSearch, SearchResult
        >>> result = RandomSearch(Oracle(NASBench101.bundled(), budget=50), seed=0).run()
        >>> result.queries_to_best, result.rank          # the paper's #Queries and rank
        (39, 2010)
        >>> round(result.regret, 4)
        0.0112
        >>> result.trajectory().shape
        (50,)
        >>> result.save("random.json")                   # with random.json.sha256 beside it
        >>> SearchResult.load("random.json") == result
        True
    """

    method: str
    seed: int
    config: dict[str, Any]
    oracle: dict[str, Any]
    records: list[QueryRecord]
    table_best: float
    ranks: list[int]
    stop_reason: str
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ columns
    @property
    def num_queries(self) -> int:
        """int: queries spent."""
        return len(self.records)

    def _best_position(self) -> int:
        if not self.records:
            raise ValueError("the run made no query")
        return int(np.argmax([r.accuracy for r in self.records]))  # first occurrence of the max

    @property
    def best_record(self) -> QueryRecord:
        """QueryRecord: the first query of the run's best cell."""
        return self.records[self._best_position()]

    @property
    def best_accuracy(self) -> float:
        """float: the best metric found."""
        return self.best_record.accuracy

    @property
    def queries_to_best(self) -> int:
        """int: queries spent when the run's best cell was first queried (the paper's #Queries)."""
        return self.best_record.index

    @property
    def regret(self) -> float:
        """float: the table's best metric minus the run's best."""
        return self.table_best - self.best_accuracy

    @property
    def rank(self) -> int:
        """int: the rank in the table of the run's best cell (1 is the table's best)."""
        return self.ranks[self._best_position()]

    def queries_to_rank(self, max_rank: int) -> int | None:
        """Returns the queries spent when a cell of rank ``<= max_rank`` was first queried.

        Args:
            max_rank (int): the worst table rank that counts (1 is the table's best).

        Returns:
            int or None: the query count, or :obj:`None` if the run never found such a cell.
        """
        for record, rank in zip(self.records, self.ranks, strict=True):
            if rank <= max_rank:
                return record.index
        return None

    def trajectory(self) -> np.ndarray:
        """Returns the best metric after each query.

        Returns:
            numpy.ndarray: ``float64``, shape ``(num_queries,)``.
        """
        return np.asarray([r.best for r in self.records], dtype=np.float64)

    def summary(self) -> dict[str, Any]:
        """Returns the Table 1 columns of this run.

        Returns:
            dict[str, Any]: ``method``, ``seed``, ``num_queries``, ``queries_to_best``,
            ``best_accuracy``, ``regret``, ``rank``, ``best_hash`` and ``stop_reason``.

        Raises:
            ValueError: if the run made no query.
        """
        return {
            "method": self.method, "seed": self.seed, "num_queries": self.num_queries,
            "queries_to_best": self.queries_to_best, "best_accuracy": self.best_accuracy,
            "regret": self.regret, "rank": self.rank, "best_hash": self.best_record.hash,
            "stop_reason": self.stop_reason,
        }

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """Returns the run as a JSON-ready dictionary.

        Returns:
            dict[str, Any]: the configuration, the :meth:`summary` and every query with its rank.
        """
        return {
            "method": self.method, "seed": self.seed, "config": self.config, "oracle": self.oracle,
            "table_best": self.table_best, "stop_reason": self.stop_reason, "extra": self.extra,
            "summary": self.summary() if self.records else None,
            "records": [dict(r.to_dict(), rank=rank)
                        for r, rank in zip(self.records, self.ranks, strict=True)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchResult:
        """Rebuilds a run from :meth:`to_dict`'s output.

        Args:
            data (dict[str, Any]): what :meth:`to_dict` returned.

        Returns:
            SearchResult: the run.
        """
        records, ranks = [], []
        for row in data["records"]:
            row = dict(row)
            ranks.append(int(row.pop("rank")))
            records.append(QueryRecord(**row))
        return cls(method=data["method"], seed=int(data["seed"]), config=data["config"],
                   oracle=data["oracle"], records=records, table_best=float(data["table_best"]),
                   ranks=ranks, stop_reason=data["stop_reason"], extra=data.get("extra", {}))

    def save(self, path: str | Path) -> None:
        """Writes the run to a JSON file, atomically and with a checksum beside it
        (:func:`gnnas.files.save_json`).

        Args:
            path (str or Path): the JSON file.

        Raises:
            gnnas.files.WriteError: if the file cannot be written (a full disk); a previous file
                at ``path`` is then intact.
        """
        save_json(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | Path) -> SearchResult:
        """Reads a run written by :meth:`save`, after checking its checksum.

        Args:
            path (str or Path): the JSON file.

        Returns:
            SearchResult: the run.

        Raises:
            FileNotFoundError: if there is no such file.
            gnnas.files.DamagedFileError: naming the file, if it is damaged, has no valid
                checksum, or does not hold a search run.
        """
        data = load_json(path)
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise DamagedFileError(path, f"not a search result ({type(error).__name__}: "
                                   f"{str(error)[:200]})") from None

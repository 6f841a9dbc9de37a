r"""The nearest cells to a cell by exact graph edit distance, among many candidates.

The candidates are ordered by a cheap lower bound (:mod:`gnnas.ged.bounds`) and evaluated exactly
bucket by bucket, from the smallest bound up; once ``k`` candidates are known at distance at most
:math:`d_k`, every candidate whose bound exceeds :math:`d_k` is skipped, since its distance does too.
Candidates whose bound equals :math:`d_k` are still evaluated, so that ties at distance
:math:`d_k` are broken by hash exactly as a brute-force search would break them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gnnas.ged.bounds import BoundFeatures, bounds_from_features, cheap_bounds, one_to_many_assignment
from gnnas.ged.exact import _check_workers, one_to_many
from gnnas.ged.packing import PackedCells, as_spec, pack

__all__ = ["GEDIndex", "nearest_cells"]

# candidates per block of the assignment bound, (n, 7, 7) int16 temporaries
_CHUNK = 1 << 15


class GEDIndex:
    r"""Candidates packed once for repeated nearest-cell queries.

    Packing and summarising 423,624 cells takes a few seconds; build the index once and query it
    many times.

    Args:
        candidates (Sequence[ArchSpec | Data] | CellArray): the cells to search, e.g.
            ``gnnas.space.enumerate_cells()`` or ``table.cells`` of a benchmark table (ties are
            broken by hash).

    Raises:
        ValueError: if a candidate is not a cell.

    Example::

        from gnnas.space import enumerate_cells
        space = enumerate_cells()
        index = GEDIndex(space)
        indices, distances = index.nearest(space[0], k=5)  # space[0] itself first, at 0
    """

    def __init__(self, candidates: Any) -> None:
        self.packed: PackedCells = pack(candidates, "candidates")
        self.features = BoundFeatures.of(self.packed)

    def __len__(self) -> int:
        return len(self.packed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_cells={len(self)})"

    def lower_bound(self, cell: Any, *, pin_io: bool = False) -> np.ndarray:
        """:func:`~gnnas.ged.ged_lower_bound` from ``cell`` to every candidate.

        Args:
            cell (ArchSpec | torch_geometric.data.Data): the cell.
            pin_io (bool, optional): bound the pinned distance instead. (default: :obj:`False`)

        Returns:
            numpy.ndarray: ``(N,)`` ``int32`` lower bounds, in the order of the candidates.

        Raises:
            ValueError: if ``cell`` is not a cell.
        """
        query = BoundFeatures.of(pack([as_spec(cell)], "cell"))
        return bounds_from_features(query, self.features, pin_io)

    def nearest(
        self, cell: Any, k: int = 1, *, pin_io: bool = False, num_workers: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` candidates nearest to ``cell``; see :func:`nearest_cells`.

        Args:
            cell (ArchSpec | torch_geometric.data.Data): the query cell.
            k (int, optional): number of nearest cells. (default: :obj:`1`)
            pin_io (bool, optional): use the pinned distance. (default: :obj:`False`)
            num_workers (int, optional): threads for large buckets; :obj:`None` uses every CPU
                core. (default: :obj:`None`)

        Returns:
            tuple[numpy.ndarray, numpy.ndarray]: ``(indices, distances)``, ``int64`` positions in
            the index and ``int32`` distances, each of length ``min(k, len(self))``, sorted by
            distance then hash.

        Raises:
            ValueError: if ``cell`` is not a cell, ``k`` is not a positive integer or
                ``num_workers`` is not a positive integer or :obj:`None`.
        """
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        _check_workers(num_workers)
        query = pack([as_spec(cell)], "cell")
        k = min(int(k), len(self))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        fq = BoundFeatures.of(query)
        cheap = cheap_bounds(fq, self.features, pin_io)  # (N,)
        order = np.argsort(cheap, kind="stable")
        edges = np.searchsorted(cheap[order], np.arange(int(cheap.max()) + 2))
        pending_rows, pending_bounds = np.zeros(0, np.int64), np.zeros(0, np.int32)
        found_rows, found_dist = [], []
        kth, t = np.iinfo(np.int32).max, 0
        while t <= kth and (t < len(edges) - 1 or len(pending_rows)):
            if t < len(edges) - 1:  # candidates whose cheap bound is t: add their assignment bound
                new = order[edges[t]:edges[t + 1]]
                strong = np.concatenate([np.zeros(0, np.int32)] + [
                    one_to_many_assignment(fq, self.features, pin_io, new[i:i + _CHUNK])
                    for i in range(0, len(new), _CHUNK)
                ])
                pending_rows = np.concatenate([pending_rows, new])
                pending_bounds = np.concatenate([pending_bounds, np.maximum(strong, t)])
            now = pending_bounds == t  # every candidate whose best bound is t is evaluated exactly
            rows = pending_rows[now]
            pending_rows, pending_bounds = pending_rows[~now], pending_bounds[~now]
            if len(rows):
                found_rows.append(rows)
                found_dist.append(one_to_many(query, 0, self.packed, rows, pin_io, num_workers))
                distances = np.concatenate(found_dist)
                if len(distances) >= k:
                    kth = int(np.partition(distances, k - 1)[k - 1])
            t += 1
        rows = np.concatenate(found_rows)
        distances = np.concatenate(found_dist)
        keep = distances <= kth
        rows, distances = rows[keep], distances[keep]
        hashes = self.packed.hashes
        order = np.lexsort((hashes[rows], distances))[:k]
        return rows[order], distances[order]


def nearest_cells(
    cell: Any, candidates: Any, k: int = 1, *, pin_io: bool = False, num_workers: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""The ``k`` candidates with the smallest exact graph edit distance to ``cell``.

    Ties are broken by hash (ascending hash string), so the result equals sorting all candidates
    by ``(distance, hash)`` and taking the first ``k``; a candidate isomorphic to ``cell`` comes
    first, at distance 0.

    Args:
        cell (ArchSpec | torch_geometric.data.Data): the query cell.
        candidates (Sequence[ArchSpec | Data] | CellArray | GEDIndex): the cells to search; pass a
            :class:`GEDIndex` to reuse the packing across queries.
        k (int, optional): number of nearest cells. (default: :obj:`1`)
        pin_io (bool, optional): use the pinned distance (see
            :func:`~gnnas.ged.graph_edit_distance`). (default: :obj:`False`)
        num_workers (int, optional): threads for large buckets; :obj:`None` uses every CPU core.
            (default: :obj:`None`)

    Returns:
        tuple[numpy.ndarray, numpy.ndarray]: ``(indices, distances)``, ``int64`` positions in
        ``candidates`` and ``int32`` distances, each of length ``min(k, len(candidates))``, sorted
        by distance then hash.

    Raises:
        ValueError: if ``cell`` or a candidate is not a cell, or ``k`` is not a positive integer.
    """
    index = candidates if isinstance(candidates, GEDIndex) else GEDIndex(candidates)
    return index.nearest(cell, k, pin_io=pin_io, num_workers=num_workers)

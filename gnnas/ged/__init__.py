r"""Exact graph edit distance (GED) between NAS-Bench-101 cells, fast.

A short tour::

    >>> from gnnas import ArchSpec, graph_edit_distance
    >>> from gnnas.ged import pairwise_ged, nearest_cells
    >>> a = ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> b = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    >>> graph_edit_distance(a, b)  # relabel one vertex, insert one edge
    2
    >>> pairwise_ged([a, b], [a, b]).tolist()
    [[0, 2], [2, 0]]
    >>> nearest_cells(b, [a, b], k=2)  # indices and distances, ties broken by hash
    (array([1, 0]), array([0, 2], dtype=int32))

- :func:`graph_edit_distance`, :func:`paired_ged`, :func:`pairwise_ged`: exact distances, free or
  with input and output pinned (``pin_io=True``); the cost model and the proof that the result is
  exact are in :mod:`gnnas.ged.exact`.
- :func:`nearest_cells` and :class:`GEDIndex`: the nearest cells among many, e.g. the whole space
  of ``gnnas.space.enumerate_cells()``, pruned by the bounds of :func:`ged_lower_bound`.

Wherever a function takes many cells it takes a sequence of cells or a
:class:`~gnnas.space.CellArray` (such as ``space.cells`` or ``table.cells``).
"""

import warnings
from typing import Any

from gnnas.ged.bounds import ged_lower_bound
from gnnas.ged.exact import graph_edit_distance, paired_ged, pairwise_ged
from gnnas.ged.nearest import GEDIndex, nearest_cells

__all__ = [
    "graph_edit_distance", "pairwise_ged", "paired_ged", "nearest_cells", "GEDIndex", "ged_lower_bound",
]


def __getattr__(name: str) -> Any:
    if name == "CellTable":  # the duck-typed table protocol, replaced by gnnas.space.CellArray
        warnings.warn("gnnas.ged.CellTable is deprecated; use gnnas.space.CellArray", DeprecationWarning,
                      stacklevel=2)
        from gnnas.space.cell_array import CellArray

        return CellArray
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

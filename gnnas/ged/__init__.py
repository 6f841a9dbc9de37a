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

The cost model and the proof that the computed distance is exact are in :mod:`gnnas.ged.exact`.
"""

from gnnas.ged.exact import graph_edit_distance, paired_ged, pairwise_ged
from gnnas.ged.packing import CellTable

__all__ = ["graph_edit_distance", "pairwise_ged", "paired_ged", "CellTable"]

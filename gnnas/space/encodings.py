r"""Hand-made feature vectors of cells: the one-hot adjacency + ops encoding and BANANAS' path encoding.

These are the encodings without learning that the architecture-encoding literature compares
learned embeddings with (White et al., `"A Study on Encodings for Neural Architecture Search"
<https://arxiv.org/abs/2007.04965>`_, NeurIPS 2020):

- :func:`onehot_encoding`: the upper triangle of the ``7 × 7`` adjacency matrix (21 bits) and the
  one-hot op of each of the 5 interior vertex slots (15 bits), 36 features. A cell of ``V < 7``
  vertices is laid out with its output in the last slot and slots ``V - 1 .. 5`` empty (no edges,
  all-zero op bits), so the output always sits in the same place. Isomorphic cells written with
  another vertex order get other vectors; a table holds one vertex order per cell.
- :func:`path_encoding`: the path encoding of BANANAS (White et al., `"BANANAS: Bayesian
  Optimization with Neural Architectures for Neural Architecture Search"
  <https://arxiv.org/abs/1910.11858>`_, AAAI 2021): one bit per possible path from the input to the
  output, a path being the sequence of the ops of its interior vertices. A path passes at most 5
  interior vertices, so there are :math:`3^0 + 3^1 + \dots + 3^5 = 364` possible paths. It is the
  same for isomorphic cells.

Example::

    >>> from gnnas import ArchSpec
    >>> from gnnas.space.encodings import cell_paths, path_encoding, onehot_encoding
    >>> cell = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    ...                 ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    >>> cell_paths(cell)
    [('conv3x3-bn-relu',), ('maxpool3x3',)]
    >>> path_encoding([cell]).nonzero()[1].tolist()    # conv3x3 is path 1, maxpool3x3 path 3
    [1, 3]
    >>> onehot_encoding([cell]).shape
    (1, 36)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gnnas.space.ops import INTERIOR_OPS, MAX_VERTICES
from gnnas.space.spec import ArchSpec

__all__ = ["onehot_encoding", "path_encoding", "cell_paths", "path_index", "ONEHOT_SIZE", "NUM_PATHS"]

_INTERIOR_SLOTS = MAX_VERTICES - 2
_UPPER = np.triu_indices(MAX_VERTICES, 1)
_OP_CODE = {op: k for k, op in enumerate(INTERIOR_OPS)}  # conv3x3 0, conv1x1 1, maxpool3x3 2 (BANANAS')

#: Length of :func:`onehot_encoding`: 21 adjacency bits and 5 × 3 op bits.
ONEHOT_SIZE = len(_UPPER[0]) + _INTERIOR_SLOTS * len(INTERIOR_OPS)

#: Length of :func:`path_encoding`: the number of op sequences of length 0 to 5, :math:`\sum_{k=0}^5 3^k`.
NUM_PATHS = sum(len(INTERIOR_OPS) ** k for k in range(_INTERIOR_SLOTS + 1))


def _as_cells(cells: Sequence[ArchSpec]) -> list[ArchSpec]:
    if isinstance(cells, ArchSpec):
        raise ValueError("cells must be a sequence of ArchSpec; wrap a single cell in a list")
    cells = list(cells)
    for i, cell in enumerate(cells):
        if not isinstance(cell, ArchSpec):
            raise ValueError(f"cells must be ArchSpec instances, got {type(cell).__name__} at position {i}")
    return cells


def onehot_encoding(cells: Sequence[ArchSpec]) -> np.ndarray:
    r"""The one-hot adjacency + ops encoding (see the module docstring).

    Features ``0 .. 20`` are the entries :math:`(i, j),\ i < j` of the adjacency in the 7-slot
    layout, row by row; feature ``21 + 3 (s - 1) + k`` is 1 when interior slot ``s = 1 .. 5``
    holds op ``k`` of :data:`~gnnas.space.ops.INTERIOR_OPS` (conv3x3, conv1x1, maxpool3x3).

    Args:
        cells (Sequence[ArchSpec]): ``N`` cells.

    Returns:
        numpy.ndarray: ``float32`` of shape ``(N, 36)``.

    Raises:
        ValueError: if ``cells`` holds something other than :class:`~gnnas.space.spec.ArchSpec`.
    """
    cells = _as_cells(cells)
    out = np.zeros((len(cells), ONEHOT_SIZE), dtype=np.float32)
    for row, cell in enumerate(cells):
        v = cell.num_vertices
        slots = np.array([*range(v - 1), MAX_VERTICES - 1])  # slot of each vertex; the output last
        matrix = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.float32)
        matrix[np.ix_(slots, slots)] = cell.matrix
        out[row, :len(_UPPER[0])] = matrix[_UPPER]
        for vertex, op in enumerate(cell.ops[1:-1], start=1):
            out[row, len(_UPPER[0]) + 3 * (vertex - 1) + _OP_CODE[op]] = 1.0
    return out


def cell_paths(cell: ArchSpec) -> list[tuple[str, ...]]:
    """The paths from the input to the output of a cell, each as the ops of its interior vertices.

    Args:
        cell (ArchSpec): the cell.

    Returns:
        list[tuple[str, ...]]: one op sequence per path (an edge input → output gives ``()``), in
        depth-first order from the input; two paths through different vertices with the same ops
        give equal sequences.

    Raises:
        ValueError: if ``cell`` is not an :class:`~gnnas.space.spec.ArchSpec`.
    """
    if not isinstance(cell, ArchSpec):
        raise ValueError(f"expected an ArchSpec, got {type(cell).__name__}")
    matrix, ops, output = cell.matrix, cell.ops, cell.num_vertices - 1
    paths: list[tuple[str, ...]] = []

    def walk(vertex: int, prefix: tuple[str, ...]) -> None:
        for successor in np.flatnonzero(matrix[vertex]).tolist():
            if successor == output:
                paths.append(prefix)
            else:
                walk(successor, (*prefix, ops[successor]))

    walk(0, ())
    return paths


def path_index(path: Sequence[str]) -> int:
    r"""The position of a path in :func:`path_encoding`: BANANAS' numbering.

    .. math::
        \operatorname{index}(o_0, \dots, o_{L-1}) = \sum_{i=0}^{L-1} 3^i \, (c(o_i) + 1)

    with :math:`c` = 0, 1, 2 for conv3x3, conv1x1, maxpool3x3: the empty path is 0, paths of one op
    are 1 .. 3, of two ops 4 .. 12, ..., of five ops 121 .. 363; every path gets its own index.

    Args:
        path (Sequence[str]): the interior ops along the path, at most 5.

    Returns:
        int: the index, in ``[0, 364)``.

    Raises:
        ValueError: if the path is longer than 5 or names an op that is not interior.
    """
    if len(path) > _INTERIOR_SLOTS:
        raise ValueError(f"a path has at most {_INTERIOR_SLOTS} interior ops, got {len(path)}")
    index = 0
    for i, op in enumerate(path):
        code = _OP_CODE.get(op)
        if code is None:
            raise ValueError(f"path ops must be one of {list(INTERIOR_OPS)}, got {op!r}")
        index += len(INTERIOR_OPS) ** i * (code + 1)
    return index


def path_encoding(cells: Sequence[ArchSpec]) -> np.ndarray:
    """BANANAS' path encoding: bit :func:`path_index` of each path of :func:`cell_paths` set.

    Args:
        cells (Sequence[ArchSpec]): ``N`` cells.

    Returns:
        numpy.ndarray: ``float32`` of shape ``(N, 364)`` with 0/1 entries.

    Raises:
        ValueError: if ``cells`` holds something other than :class:`~gnnas.space.spec.ArchSpec`.
    """
    cells = _as_cells(cells)
    out = np.zeros((len(cells), NUM_PATHS), dtype=np.float32)
    for row, cell in enumerate(cells):
        out[row, [path_index(path) for path in cell_paths(cell)]] = 1.0
    return out

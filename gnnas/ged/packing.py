r"""The integer codes that the graph edit distance works on, derived from a :class:`~gnnas.space.CellArray`.

The distance functions accept a single cell (an :class:`~gnnas.space.spec.ArchSpec`, or a PyG
:class:`~torch_geometric.data.Data` as made by :meth:`~gnnas.space.ArchSpec.to_data`), a sequence of cells,
or many cells as a :class:`~gnnas.space.CellArray` (or anything :meth:`CellArray.of
<gnnas.space.CellArray.of>` accepts, such as the whole space returned by
``gnnas.space.enumerate_cells()`` or a benchmark table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnnas.ged._tables import NUM_SLOTS, UPPER_PAIRS
from gnnas.space.cell_array import CellArray, as_spec, pack_matrices
from gnnas.space.ops import OPS

__all__ = ["PackedCells", "as_spec", "pack"]

#: Label of a padding slot in the distance computation (after the 5 op indices of ``OPS``).
NONE_LABEL = len(OPS)


@dataclass(frozen=True)
class PackedCells:
    """Cells as the integer codes used by the distance kernels (internal, but documented).

    Attributes:
        cells (CellArray): the cells.
        num_vertices (numpy.ndarray): ``(N,)`` ``int64`` number of vertices ``V``.
        upper (numpy.ndarray): ``(N,)`` 21-bit upper-triangle adjacency codes, natural layout.
        code (numpy.ndarray): ``(N,)`` ``uint64`` adjacency codes, bit ``7 i + j`` for ``i → j``
            (:meth:`CellArray.pack <gnnas.space.CellArray.pack>`).
        labels (numpy.ndarray): ``(N, 7)`` op indices, padding slots labelled ``none`` (5).
        upper_io, code_io, labels_io (numpy.ndarray): the same in the *pinned layout*, where the
            output sits in slot 6 and the padding in slots ``V - 1 .. 5``.
    """

    cells: CellArray
    num_vertices: np.ndarray
    upper: np.ndarray
    code: np.ndarray
    labels: np.ndarray
    upper_io: np.ndarray
    code_io: np.ndarray
    labels_io: np.ndarray

    def __len__(self) -> int:
        return len(self.num_vertices)

    @property
    def matrices(self) -> np.ndarray:
        """numpy.ndarray: ``uint8`` ``(N, 7, 7)`` adjacency, natural layout."""
        return self.cells.matrices

    @property
    def hashes(self) -> np.ndarray:
        """numpy.ndarray: ``(N,)`` module hashes (computed on first use where not known)."""
        return self.cells.hashes


def pack(cells: Any, what: str = "cells") -> PackedCells:
    """Packs cells into :class:`PackedCells`.

    Args:
        cells (Sequence[ArchSpec | Data] | CellArray): the cells, or anything
            :meth:`CellArray.of <gnnas.space.CellArray.of>` accepts.
        what (str, optional): the argument's name, for error messages. (default: :obj:`"cells"`)

    Returns:
        PackedCells: the codes of the cells, in both layouts.

    Raises:
        ValueError: if an element is not a cell, or the arrays are not cells in the padded layout.
    """
    if isinstance(cells, PackedCells):
        return cells
    array = CellArray.of(cells, what)
    matrices, op_indices = array.matrices, array.op_indices
    n = len(array)
    num_vertices = array.num_vertices.astype(np.int64)

    # pinned layout: the output moves from slot V-1 to slot 6, padding slots shift down by one
    old_of_new = io_slot_order(num_vertices)
    rows = np.arange(n)[:, None, None]
    matrices_io = matrices[rows, old_of_new[:, :, None], old_of_new[:, None, :]]
    labels = np.where(op_indices >= 0, op_indices, NONE_LABEL).astype(np.int8)
    labels_io = np.take_along_axis(labels, old_of_new, axis=1)

    return PackedCells(
        cells=array,
        num_vertices=num_vertices,
        upper=upper_code(matrices),
        code=array.pack(),
        labels=labels,
        upper_io=upper_code(matrices_io),
        code_io=pack_matrices(matrices_io),
        labels_io=labels_io,
    )


_UPPER_I, _UPPER_J = np.array(UPPER_PAIRS).T
_UPPER_WEIGHTS = np.int64(1) << np.arange(len(UPPER_PAIRS), dtype=np.int64)


def upper_code(matrices: np.ndarray) -> np.ndarray:
    """``(N,)`` 21-bit codes of the strict upper triangles of ``(N, 7, 7)`` matrices, in the order of
    :data:`~gnnas.ged._tables.UPPER_PAIRS` (the index into the permutation tables)."""
    return matrices[:, _UPPER_I, _UPPER_J].astype(np.int64) @ _UPPER_WEIGHTS


def io_slot_order(num_vertices: np.ndarray) -> np.ndarray:
    """``(N, 7)``: for each slot of the pinned layout, the slot of the natural layout it comes from."""
    slot = np.arange(NUM_SLOTS)[None, :]
    last = (num_vertices - 1)[:, None]
    return np.where(slot < last, slot, np.where(slot == NUM_SLOTS - 1, last, slot + 1))


def mismatch_masks(labels_a: np.ndarray, labels_b: np.ndarray) -> np.ndarray:
    """Bit ``7 i + j`` set where slot ``i`` of ``a`` and slot ``j`` of ``b`` carry different labels.

    ``labels_a`` and ``labels_b`` are ``(R, 7)`` (or broadcastable); returns ``(R,)`` ``uint64``.
    """
    differ = (labels_a[..., :, None] != labels_b[..., None, :]).reshape(*np.broadcast_shapes(
        labels_a.shape[:-1], labels_b.shape[:-1]), NUM_SLOTS * NUM_SLOTS)
    return np.bitwise_or.reduce(
        differ.astype(np.uint64) << np.arange(NUM_SLOTS * NUM_SLOTS, dtype=np.uint64), axis=-1
    )

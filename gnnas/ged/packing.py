r"""Packing cells into the integer arrays that the graph edit distance works on.

The distance functions accept a single cell (an :class:`~gnnas.space.spec.ArchSpec`, or a PyG
:class:`~torch_geometric.data.Data` as made by :meth:`ArchSpec.to_data`), a sequence of cells,
or a *cell table*: any object with the attributes of :class:`CellTable`, such as the whole space
returned by ``gnnas.space.enumerate_cells()``. A table is trusted to hold valid, pruned cells; only
its shapes and op layout are checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from gnnas.ged._tables import NUM_SLOTS, UPPER_PAIRS
from gnnas.space.enumerate import pack_cells
from gnnas.space.ops import OP_INDEX, OPS
from gnnas.space.spec import ArchSpec

__all__ = ["CellTable", "PackedCells", "as_spec", "pack"]

#: Label of a padding slot in the distance computation (after the 5 op indices of ``OPS``).
NONE_LABEL = len(OPS)
_INPUT, _OUTPUT = OP_INDEX["input"], OP_INDEX["output"]


@runtime_checkable
class CellTable(Protocol):
    """A packed table of ``N`` valid, pruned cells (duck-typed; e.g. ``gnnas.space.enumerate_cells()``).

    Attributes:
        matrices (numpy.ndarray): ``(N, 7, 7)`` 0/1 adjacency matrices, the cell's ``V × V`` matrix
            in the top-left corner and zeros elsewhere.
        op_indices (numpy.ndarray): ``(N, 7)`` integer index of each vertex's op in
            :data:`~gnnas.space.ops.OPS`, ``-1`` for padding; the output is vertex ``V - 1``.
        hashes (numpy.ndarray): ``(N,)`` official module hashes (strings), used to break ties.
    """

    matrices: np.ndarray
    op_indices: np.ndarray
    hashes: np.ndarray


@dataclass(frozen=True)
class PackedCells:
    """Cells as the integer codes used by the distance kernels (internal, but documented).

    Attributes:
        num_vertices (numpy.ndarray): ``(N,)`` number of vertices ``V``.
        upper (numpy.ndarray): ``(N,)`` 21-bit upper-triangle adjacency codes, natural layout.
        code (numpy.ndarray): ``(N,)`` ``uint64`` adjacency codes, bit ``7 i + j`` for ``i → j``.
        labels (numpy.ndarray): ``(N, 7)`` op indices, padding slots labelled ``none`` (5).
        upper_io, code_io, labels_io (numpy.ndarray): the same in the *pinned layout*, where the
            output sits in slot 6 and the padding in slots ``V - 1 .. 5``.
        matrices (numpy.ndarray): ``(N, 7, 7)`` ``uint8`` adjacency, natural layout.
        hashes (numpy.ndarray | None): ``(N,)`` module hashes, when known.
    """

    num_vertices: np.ndarray
    upper: np.ndarray
    code: np.ndarray
    labels: np.ndarray
    upper_io: np.ndarray
    code_io: np.ndarray
    labels_io: np.ndarray
    matrices: np.ndarray
    hashes: np.ndarray | None

    def __len__(self) -> int:
        return len(self.num_vertices)


def as_spec(cell: Any, what: str = "cell") -> ArchSpec:
    """Returns ``cell`` as an :class:`ArchSpec` (``ArchSpec`` or PyG ``Data``), or raises ``ValueError``."""
    if isinstance(cell, ArchSpec):
        return cell
    if hasattr(cell, "x") and hasattr(cell, "edge_index"):
        try:
            return ArchSpec.from_data(cell)
        except ValueError as error:
            raise ValueError(f"{what} is a Data object that is not a valid NAS-Bench-101 cell: {error}") \
                from None
    raise ValueError(
        f"{what} must be an ArchSpec or a PyG Data made by ArchSpec.to_data(), got {type(cell).__name__}"
    )


def _is_table(cells: Any) -> bool:
    return all(hasattr(cells, name) for name in ("matrices", "op_indices"))


def _check_table(matrices: np.ndarray, op_indices: np.ndarray) -> np.ndarray:
    n = len(matrices)
    if matrices.shape != (n, NUM_SLOTS, NUM_SLOTS) or op_indices.shape != (n, NUM_SLOTS):
        raise ValueError(
            f"a cell table needs matrices of shape (N, 7, 7) and op_indices of shape (N, 7), "
            f"got {matrices.shape} and {op_indices.shape}"
        )
    num_vertices = (op_indices >= 0).sum(axis=1)
    rows = np.arange(n)
    if n and (
        (num_vertices < 2).any()
        or (op_indices[:, 0] != _INPUT).any()
        or (op_indices[rows, num_vertices - 1] != _OUTPUT).any()
        or (op_indices >= NONE_LABEL).any()
        or (op_indices < -1).any()
    ):
        raise ValueError(
            "op_indices must index OPS with input first, output at vertex V - 1 and -1 as padding after it"
        )
    if n and matrices.max() > 1:
        raise ValueError("matrices must hold only 0 and 1")
    return num_vertices


def pack(cells: Any, what: str = "cells") -> PackedCells:
    """Packs a sequence of cells or a :class:`CellTable` into :class:`PackedCells`.

    Args:
        cells (Sequence[ArchSpec | Data] | CellTable): the cells.
        what (str, optional): the argument's name, for error messages. (default: :obj:`"cells"`)

    Returns:
        PackedCells: the codes of the cells, in both layouts.

    Raises:
        ValueError: if an element is not a cell, or the table has the wrong layout.
    """
    if isinstance(cells, PackedCells):
        return cells
    if _is_table(cells):
        matrices = np.asarray(cells.matrices).astype(np.uint8, copy=False)
        op_indices = np.asarray(cells.op_indices).astype(np.int8, copy=False)
        num_vertices = _check_table(matrices, op_indices)
        hashes = getattr(cells, "hashes", None)
        hashes = None if hashes is None else np.asarray(hashes)
    elif isinstance(cells, (str, bytes)) or not isinstance(cells, Sequence):
        raise ValueError(
            f"{what} must be a sequence of ArchSpec / Data or a cell table with `matrices` and "
            f"`op_indices`, got {type(cells).__name__}"
        )
    else:
        specs = [as_spec(cell, f"{what}[{i}]") for i, cell in enumerate(cells)]
        matrices, op_indices, num_vertices = pack_cells(specs)
        hashes = np.array([spec.hash for spec in specs]) if specs else np.zeros(0, dtype="<U32")
    n = len(matrices)
    num_vertices = num_vertices.astype(np.int64)

    # pinned layout: the output moves from slot V-1 to slot 6, padding slots shift down by one
    old_of_new = io_slot_order(num_vertices)
    rows = np.arange(n)[:, None, None]
    matrices_io = matrices[rows, old_of_new[:, :, None], old_of_new[:, None, :]]
    labels = np.where(op_indices >= 0, op_indices, NONE_LABEL).astype(np.int8)
    labels_io = np.take_along_axis(labels, old_of_new, axis=1)

    return PackedCells(
        num_vertices=num_vertices,
        upper=_upper_code(matrices),
        code=_full_code(matrices),
        labels=labels,
        upper_io=_upper_code(matrices_io),
        code_io=_full_code(matrices_io),
        labels_io=labels_io,
        matrices=matrices,
        hashes=hashes,
    )


def _upper_code(matrices: np.ndarray) -> np.ndarray:
    i, j = np.array(UPPER_PAIRS).T
    bits = matrices[:, i, j].astype(np.int64)  # (N, 21)
    return bits @ (np.int64(1) << np.arange(len(UPPER_PAIRS), dtype=np.int64))


def _full_code(matrices: np.ndarray) -> np.ndarray:
    packed = np.packbits(matrices.reshape(len(matrices), NUM_SLOTS * NUM_SLOTS), axis=1, bitorder="little")
    words = np.zeros((len(matrices), 8), dtype=np.uint8)
    words[:, : packed.shape[1]] = packed
    return words.view("<u8").reshape(-1).astype(np.uint64)


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

r"""Many cells at once: :class:`CellArray`, the one batched form of NAS-Bench-101 cells.

A cell of :math:`V \le 7` vertices is padded to 7 *slots*: its pruned ``V × V`` matrix sits in
the top-left corner of a ``7 × 7`` matrix, and its ops are indices into
:data:`~gnnas.space.ops.OPS` followed by ``-1``. ``N`` cells are three aligned arrays, plus their
module hashes::

    >>> from gnnas.space import ArchSpec, CellArray
    >>> chain = ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> cells = CellArray.from_specs([chain, chain])
    >>> cells.matrices.shape, cells.op_indices[0].tolist(), cells.num_vertices.tolist()
    ((2, 7, 7), [0, 1, 4, -1, -1, -1, -1], [3, 3])
    >>> cells.pack().tolist()                 # one uint64 per cell: bit 7 i + j is the edge i → j
    [514, 514]
    >>> cells[0] == chain, len(cells[[0]])    # an int gives an ArchSpec, an index array a CellArray
    (True, 1)
    >>> batch = cells.to_batch()              # a PyG Batch: x, edge_index, tokens, batch, ptr

Every part of gnnas that works on many cells takes a :class:`CellArray`, or anything
:meth:`CellArray.of` turns into one: :func:`~gnnas.space.enumerate_cells` holds one
(``space.cells``), a benchmark table has one (``table.cells``), and the distance functions of
:mod:`gnnas.ged`, the locality analysis of :mod:`gnnas.analysis`, the networks of :mod:`gnnas.nn`
and the pretraining data of :mod:`gnnas.datasets` accept one. The bit-packed forms are made here
only: :meth:`CellArray.pack` and :meth:`CellArray.unpack` (the ``uint64`` words that benchmark
tables store and the exact distance permutes) and :meth:`CellArray.successors` (the per-vertex
bitmasks of the graph edits).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from gnnas.space.hashing import hash_cells
from gnnas.space.ops import INPUT, MAX_EDGES, MAX_VERTICES, OP_INDEX, OPS, OUTPUT
from gnnas.space.spec import ArchSpec
from gnnas.space.tokens import slot_layout

if TYPE_CHECKING:
    import torch
    from torch_geometric.data import Batch

__all__ = ["CellArray", "as_spec"]

_SLOTS = np.arange(MAX_VERTICES)
_INPUT, _OUTPUT = OP_INDEX[INPUT], OP_INDEX[OUTPUT]
_EYE = np.eye(len(OPS), dtype=np.float32)
_TOKEN_J = np.array([j for j, _ in slot_layout()])  # vertex of each token position
_TOKEN_I = np.array([min(i, j - 1) for j, i in slot_layout()])  # source of an edge slot
_TOKEN_IS_EDGE = np.array([i < j for j, i in slot_layout()])
_UPPER = np.triu(np.ones((MAX_VERTICES, MAX_VERTICES), dtype=bool), k=1)


def as_spec(cell: Any, what: str = "cell") -> ArchSpec:
    """Returns ``cell`` as an :class:`ArchSpec`: an ``ArchSpec`` as is, a PyG ``Data`` converted.

    Args:
        cell (ArchSpec | torch_geometric.data.Data): the cell.
        what (str, optional): its name, for error messages. (default: :obj:`"cell"`)

    Returns:
        ArchSpec: the cell.

    Raises:
        ValueError: if ``cell`` is neither, or a ``Data`` that is not a valid cell.
    """
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


_WORD_LOWER = np.uint64(sum(1 << (MAX_VERTICES * i + j) for i in range(MAX_VERTICES) for j in range(i + 1)))
_ROW_SHIFTS = (MAX_VERTICES * _SLOTS).astype(np.uint64)  # bits of row i: 7 i .. 7 i + 6
_COLUMN = np.uint64(sum(1 << (MAX_VERTICES * i) for i in range(MAX_VERTICES)))  # bits of column 0


def _layout_errors(matrices: np.ndarray, op_indices: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: the rows that are not a pruned cell in the padded layout."""
    real = op_indices >= 0  # (N, 7)
    num_vertices = real.sum(axis=1)
    last = np.maximum(num_vertices, 1) - 1
    rows = np.arange(len(matrices))
    interior = real & (_SLOTS > 0) & (_SLOTS < last[:, None])
    bad = (
        (real != (_SLOTS < num_vertices[:, None])).any(axis=1)  # padding only after the cell
        | (num_vertices < 2)
        | (op_indices[:, 0] != _INPUT)
        | (op_indices[rows, last] != _OUTPUT)
        | (interior & ((op_indices == _INPUT) | (op_indices == _OUTPUT))).any(axis=1)
        | ((op_indices >= len(OPS)) | (op_indices < -1)).any(axis=1)
    )
    if matrices.max(initial=0) > 1:
        bad |= (matrices > 1).any(axis=(1, 2))
    words = pack_matrices(matrices)  # bit 7 i + j: the edge i → j (nonzero entries)
    bad |= (words & _WORD_LOWER) != 0  # edges go from lower to higher vertices
    bad |= np.bitwise_count(words) > MAX_EDGES
    has_out = ((words[:, None] >> _ROW_SHIFTS) & np.uint64(0x7F)) != 0  # (N, 7)
    has_in = ((words[:, None] >> _SLOTS.astype(np.uint64)) & _COLUMN) != 0
    return (
        bad
        | (~has_in & real & (_SLOTS > 0)).any(axis=1)  # every vertex but the input has an in-edge
        | (~has_out & real & (_SLOTS < last[:, None])).any(axis=1)  # ... and an out-edge
        | ((has_in | has_out) & ~real).any(axis=1)  # padding has no edges
    )


class CellArray(Sequence[ArchSpec]):
    r"""``N`` NAS-Bench-101 cells as aligned arrays, padded to 7 vertices.

    Indexing with an ``int`` gives an :class:`~gnnas.space.ArchSpec`; with a slice, an integer
    array or a boolean mask, a :class:`CellArray` of those cells (the arrays are indexed, no cell
    is built). All arrays are read-only.

    Args:
        matrices (numpy.ndarray): ``(N, 7, 7)`` 0/1 adjacency, the pruned ``V × V`` matrix of each
            cell in the top-left corner and zeros elsewhere.
        op_indices (numpy.ndarray): ``(N, 7)`` index in :data:`~gnnas.space.ops.OPS` of each
            vertex's op (input 0, conv3x3 1, conv1x1 2, maxpool 3, output 4), ``-1`` beyond
            ``V``; the output is vertex ``V - 1``.
        hashes (numpy.ndarray, optional): ``(N,)`` module hashes, when known; otherwise computed
            on first use of :attr:`hashes`. (default: :obj:`None`)
        validate (bool, optional): check that every row is a pruned cell in this layout; pass
            :obj:`False` only for arrays already checked. (default: :obj:`True`)

    Attributes:
        matrices (numpy.ndarray): ``uint8`` ``(N, 7, 7)``.
        op_indices (numpy.ndarray): ``int8`` ``(N, 7)``.
        num_vertices (numpy.ndarray): ``int8`` ``(N,)``, the number of vertices ``V`` of each cell.

    Raises:
        ValueError: if the shapes are wrong or (with ``validate``) a row is not a pruned cell:
            strictly upper triangular, input first, output at vertex ``V - 1``, every vertex on a
            path from the input to the output, at most 9 edges, ``-1`` and no edges as padding.
    """

    def __init__(self, matrices: Any, op_indices: Any, hashes: Any = None, *, validate: bool = True) -> None:
        matrices = np.asarray(matrices)
        op_indices = np.asarray(op_indices)
        count = len(matrices) if matrices.ndim else -1
        if matrices.shape != (count, MAX_VERTICES, MAX_VERTICES) or op_indices.shape != (count, MAX_VERTICES):
            raise ValueError(
                f"cells need matrices of shape (N, 7, 7) and op_indices of shape (N, 7), "
                f"got {matrices.shape} and {op_indices.shape}"
            )
        if hashes is not None:
            hashes = np.asarray(hashes).astype("U32", copy=False)
            if hashes.shape != (count,):
                raise ValueError(f"hashes must have shape ({count},), got {hashes.shape}")
        if validate and count:
            bad = _layout_errors(matrices, op_indices)
            if bad.any():
                raise ValueError(
                    f"{int(bad.sum())} of {count} rows are not pruned cells in the padded layout (first: "
                    f"row {int(np.flatnonzero(bad)[0])}); expected the V × V upper-triangular matrix of a "
                    "pruned cell in the top-left corner, input first, output at vertex V - 1, -1 as padding"
                )
        self.matrices = _read_only(matrices.astype(np.uint8, copy=False))
        self.op_indices = _read_only(op_indices.astype(np.int8, copy=False))
        self.num_vertices = _read_only((self.op_indices >= 0).sum(axis=1, dtype=np.int8))
        self._hashes = None if hashes is None else _read_only(hashes)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_specs(cls, cells: Sequence[Any], what: str = "cells") -> CellArray:
        """Packs cells into arrays.

        Args:
            cells (Sequence[ArchSpec | torch_geometric.data.Data]): the cells (a ``Data`` as made
                by :meth:`ArchSpec.to_data`).
            what (str, optional): the argument's name, for error messages. (default: :obj:`"cells"`)

        Returns:
            CellArray: the ``len(cells)`` cells.

        Raises:
            ValueError: if an element is not a cell (naming its position).
        """
        specs = [as_spec(cell, f"{what}[{i}]") for i, cell in enumerate(cells)]
        matrices = np.zeros((len(specs), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        op_indices = np.full((len(specs), MAX_VERTICES), -1, dtype=np.int8)
        for i, spec in enumerate(specs):
            size = spec.num_vertices
            matrices[i, :size, :size] = spec.matrix
            op_indices[i, :size] = [OP_INDEX[op] for op in spec.ops]
        known = [spec._hash for spec in specs]  # hashes already computed are not computed again
        hashes = np.array(known, dtype="U32") if specs and None not in known else None
        return cls(matrices, op_indices, hashes, validate=False)  # an ArchSpec is a pruned cell

    @classmethod
    def of(cls, cells: Any, what: str = "cells") -> CellArray:
        """Returns ``cells`` as a :class:`CellArray`, building one only where needed.

        Args:
            cells: a :class:`CellArray` (returned as is); an object holding one as ``cells``, such
                as the enumerated :class:`~gnnas.space.CellSpace` or a
                :class:`~gnnas.nasbench.NASBench101` table; an object with ``matrices`` and
                ``op_indices`` arrays in this layout (and ``hashes``, if known), checked; or a
                sequence of :class:`ArchSpec` or PyG ``Data``.
            what (str, optional): the argument's name, for error messages. (default: :obj:`"cells"`)

        Returns:
            CellArray: the cells.

        Raises:
            ValueError: if ``cells`` is none of these, an element is not a cell, or the arrays are
                not pruned cells in the padded layout.
        """
        if isinstance(cells, CellArray):
            return cells
        held = getattr(cells, "cells", None)
        if isinstance(held, CellArray):
            return held
        if hasattr(cells, "matrices") and hasattr(cells, "op_indices"):
            return cls(cells.matrices, cells.op_indices, getattr(cells, "hashes", None))
        if isinstance(cells, (str, bytes)) or not isinstance(cells, Sequence):
            raise ValueError(
                f"{what} must be a sequence of ArchSpec / Data or a CellArray (or hold `matrices` and "
                f"`op_indices`), got {type(cells).__name__}"
            )
        return cls.from_specs(cells, what)

    @classmethod
    def unpack(cls, words: Any, op_indices: Any, hashes: Any = None, *, validate: bool = True) -> CellArray:
        """The inverse of :meth:`pack`: cells from their adjacency words and op indices.

        Args:
            words (numpy.ndarray): ``(N,)`` ``uint64``, bit ``7 i + j`` set for the edge ``i → j``.
            op_indices (numpy.ndarray): ``(N, 7)``, as for the constructor.
            hashes (numpy.ndarray, optional): ``(N,)`` module hashes. (default: :obj:`None`)
            validate (bool, optional): as for the constructor. (default: :obj:`True`)

        Returns:
            CellArray: the cells.

        Raises:
            ValueError: as the constructor.
        """
        return cls(unpack_words(words), op_indices, hashes, validate=validate)

    # ------------------------------------------------------------------ sequence
    def __len__(self) -> int:
        return len(self.matrices)

    @overload
    def __getitem__(self, index: int) -> ArchSpec: ...

    @overload
    def __getitem__(self, index: slice | Sequence[int] | np.ndarray) -> CellArray: ...

    def __getitem__(self, index: Any) -> ArchSpec | CellArray:
        """Cell ``index`` as an :class:`ArchSpec` (an ``int``), or the cells at ``index`` (a slice,
        an integer sequence or array, or a boolean mask) as a :class:`CellArray`.

        Raises:
            IndexError: if an index is out of range.
        """
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            count = len(self)
            if not -count <= index < count:
                raise IndexError(f"cell index {index} out of range for {count} cells")
            return self.spec(int(index) % count)
        rows = np.arange(len(self))[index]
        hashes = None if self._hashes is None else self._hashes[rows]
        return CellArray(self.matrices[rows], self.op_indices[rows], hashes, validate=False)

    def __iter__(self) -> Iterator[ArchSpec]:
        for i in range(len(self)):
            yield self.spec(i)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_cells={len(self)})"

    def spec(self, index: int) -> ArchSpec:
        """Returns one cell as an :class:`ArchSpec` (with its hash, when known).

        Args:
            index (int): the cell's position.

        Returns:
            ArchSpec: the cell.

        Raises:
            IndexError: if ``index`` is out of range.
        """
        size = int(self.num_vertices[index])
        spec = ArchSpec(self.matrices[index, :size, :size], [OPS[k] for k in self.op_indices[index, :size]])
        if self._hashes is not None:
            object.__setattr__(spec, "_hash", str(self._hashes[index]))  # known; saves recomputing it
        return spec

    def specs(self) -> list[ArchSpec]:
        """Returns every cell as an :class:`ArchSpec`.

        Returns:
            list[ArchSpec]: the cells, in order.
        """
        return list(self)

    # ------------------------------------------------------------------ derived arrays
    @property
    def hashes(self) -> np.ndarray:
        """numpy.ndarray: ``<U32`` ``(N,)`` official module hashes, computed on first use
        (:func:`~gnnas.space.hash_cells`) unless given."""
        if self._hashes is None:
            self._hashes = _read_only(hash_cells(self.matrices, self.op_indices, self.num_vertices))
        return self._hashes

    @cached_property
    def in_degree(self) -> np.ndarray:
        """numpy.ndarray: ``int16`` ``(N, 7)`` in-degree of each slot (0 for padding)."""
        return _read_only(self.matrices.sum(axis=1, dtype=np.int16))

    @cached_property
    def out_degree(self) -> np.ndarray:
        """numpy.ndarray: ``int16`` ``(N, 7)`` out-degree of each slot (0 for padding)."""
        return _read_only(self.matrices.sum(axis=2, dtype=np.int16))

    # ------------------------------------------------------------------ bit-packed forms
    def pack(self) -> np.ndarray:
        """The adjacency of each cell as one ``uint64`` word, bit ``7 i + j`` for the edge ``i → j``.

        Returns:
            numpy.ndarray: ``uint64`` ``(N,)``; :meth:`unpack` inverts it.
        """
        return pack_matrices(self.matrices)

    def successors(self) -> np.ndarray:
        """The successors of each vertex as a bitmask: bit ``j`` of entry ``(n, i)`` for ``i → j``.

        Returns:
            numpy.ndarray: ``int64`` ``(N, 7)``, ``0`` for padding.
        """
        return (self.matrices.astype(np.int64) << _SLOTS).sum(axis=2)

    # ------------------------------------------------------------------ PyG
    def to_batch(self, **graph_attrs: torch.Tensor) -> Batch:
        r"""The cells as one PyG :class:`~torch_geometric.data.Batch`, with their token sequences.

        The result equals ``Batch.from_data_list`` of the cells' :meth:`ArchSpec.to_data` with
        ``tokens`` (:meth:`ArchSpec.to_tokens`, ``(1, 27)`` each) and ``graph_attrs`` added (same
        tensors, same slicing, so ``to_data_list`` and indexing work), but is built with numpy at
        once, which is much faster for hundreds of tiny graphs.

        Args:
            **graph_attrs (torch.Tensor): graph-level attributes with one entry per cell (first
                dimension ``B``), e.g. ``label``.

        Returns:
            torch_geometric.data.Batch: ``x``, ``edge_index``, ``tokens``, the ``graph_attrs``,
            ``batch`` and ``ptr``.

        Shapes:
            - **x** :math:`(\sum_g V_g, 5)`, **edge_index** :math:`(2, \sum_g |E_g|)`,
              **tokens** :math:`(B, 27)`, **batch** :math:`(\sum_g V_g,)`, **ptr** :math:`(B + 1,)`
        """
        import torch
        from torch_geometric.data import Batch, Data

        num_graphs = len(self)
        sizes = self.num_vertices.astype(np.int64)
        ptr = np.zeros(num_graphs + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        adjacency = self.matrices.view(bool)  # (B, 7, 7)
        graph, src, dst = np.nonzero(adjacency)  # row-major per graph, as ArchSpec.to_data
        edge_counts = np.zeros(num_graphs + 1, dtype=np.int64)
        np.cumsum(np.bincount(graph, minlength=num_graphs), out=edge_counts[1:])
        offsets = ptr[graph]
        ops7 = self.op_indices.astype(np.int64)  # (B, 7)
        edges = adjacency[:, _TOKEN_I, _TOKEN_J]
        tokens = np.where(_TOKEN_IS_EDGE, 1 + edges, ops7[:, _TOKEN_J] + 2)  # (B, 27)
        tokens[_TOKEN_J[None, :] >= sizes[:, None]] = 0
        out = Batch(_base_cls=Data)
        out.x = torch.from_numpy(_EYE[ops7[self.op_indices >= 0]])
        out.edge_index = torch.from_numpy(np.stack([src + offsets, dst + offsets]))
        out.num_nodes = int(ptr[-1])
        out._store._num_nodes = sizes.tolist()  # as collate() keeps them, so graphs come back with num_nodes
        out.tokens = torch.from_numpy(tokens)
        for key, value in graph_attrs.items():
            out[key] = value
        out.batch = torch.from_numpy(np.repeat(np.arange(num_graphs, dtype=np.int64), sizes))
        out.ptr = torch.from_numpy(ptr)
        graph_slices = torch.arange(num_graphs + 1)
        zeros = torch.zeros(num_graphs, dtype=torch.long)
        out._num_graphs = num_graphs
        out._slice_dict = {"x": out.ptr, "edge_index": torch.from_numpy(edge_counts), "tokens": graph_slices,
                           **{key: graph_slices for key in graph_attrs}}
        out._inc_dict = {"x": zeros, "edge_index": out.ptr[:-1], "tokens": zeros,
                         **{key: zeros for key in graph_attrs}}
        return out


def pack_matrices(matrices: np.ndarray) -> np.ndarray:
    """``(N, 7, 7)`` 0/1 matrices as ``uint64`` words, bit ``7 i + j`` for entry ``(i, j)``."""
    matrices = np.asarray(matrices, dtype=np.uint8)
    flat = matrices.reshape(len(matrices), MAX_VERTICES * MAX_VERTICES)
    bits = np.packbits(flat, axis=1, bitorder="little")
    words = np.zeros((len(matrices), 8), dtype=np.uint8)
    words[:, : bits.shape[1]] = bits
    return words.view("<u8").reshape(-1).astype(np.uint64)


def unpack_words(words: Any) -> np.ndarray:
    """The inverse of :func:`pack_matrices`: ``uint64`` words ``(N,)`` as ``uint8`` ``(N, 7, 7)``."""
    words = np.ascontiguousarray(np.asarray(words, dtype=np.uint64).reshape(-1), dtype="<u8")
    bits = np.unpackbits(words.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    return bits[:, : MAX_VERTICES * MAX_VERTICES].reshape(-1, MAX_VERTICES, MAX_VERTICES)


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view (the caller's array itself stays writeable)."""
    view = array.view()
    view.setflags(write=False)
    return view

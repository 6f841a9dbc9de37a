r"""A cell of the NAS-Bench-101 search space.

A cell is a directed acyclic graph whose vertices carry operations. Vertex ``0`` is the
``input``, the last vertex is the ``output``, every other vertex is one of
:data:`~gnnas.space.ops.INTERIOR_OPS`. The adjacency ``matrix`` is upper triangular, so edges
always go from a lower to a higher vertex index.

A short tour::

    >>> from gnnas import ArchSpec
    >>> spec = ArchSpec(
    ...     matrix=[[0, 1, 1, 0],
    ...             [0, 0, 0, 1],
    ...             [0, 0, 0, 1],
    ...             [0, 0, 0, 0]],
    ...     ops=["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    >>> spec.num_vertices, spec.num_edges
    (4, 4)
    >>> spec.hash  # the official module hash, the same for every isomorphic cell
    '...'
    >>> data = spec.to_data()  # a torch_geometric.data.Data with one-hot ops in ``x``

Construction validates and prunes, as the official ``ModelSpec`` does: vertices that are not on
a path from the input to the output are dropped, and the pruned cell must then have at most
:data:`~gnnas.space.ops.MAX_VERTICES` vertices and :data:`~gnnas.space.ops.MAX_EDGES` edges.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gnnas.space.hashing import module_hash
from gnnas.space.ops import INPUT, INTERIOR_OPS, MAX_EDGES, MAX_VERTICES, OP_INDEX, OPS, OUTPUT

if TYPE_CHECKING:
    from torch_geometric.data import Data

__all__ = ["ArchSpec", "prune", "kept_vertices"]

_KNOWN_OPS = frozenset(OPS)


def _as_matrix(matrix: Any) -> np.ndarray:
    """Returns ``matrix`` as a square ``uint8`` array of zeros and ones, or raises."""
    try:
        array = np.asarray(matrix)
    except Exception as error:  # ragged nested lists
        raise ValueError(f"matrix must be a square 0/1 array, got {reprlib.repr(matrix)}") from error
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"matrix must be square (V, V), got shape {array.shape}")
    if array.shape[0] < 2:
        raise ValueError(f"matrix must have at least 2 vertices (input, output), got {array.shape[0]}")
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"matrix must hold 0/1 numbers, got dtype {array.dtype}")
    if not np.isin(array, (0, 1)).all():
        raise ValueError(f"matrix entries must be 0 or 1, got values {np.unique(array).tolist()}")
    return array.astype(np.uint8)


def _check_ops(ops: Sequence[str], num_vertices: int) -> tuple[str, ...]:
    if isinstance(ops, str):
        raise ValueError(f"ops must be a sequence of op names, got the string {reprlib.repr(ops)}")
    try:
        ops = tuple(ops)
    except TypeError:
        raise ValueError(f"ops must be a sequence of op names, got {reprlib.repr(ops)}") from None
    if len(ops) != num_vertices:
        raise ValueError(f"ops must name one op per vertex: {num_vertices} vertices, {len(ops)} ops")
    unknown = [op for op in ops if not isinstance(op, str) or op not in _KNOWN_OPS]
    if unknown:
        raise ValueError(f"unknown ops {reprlib.repr(unknown)}; expected names from {list(OPS)}")
    if ops[0] != INPUT:
        raise ValueError(f"the first op must be {INPUT!r}, got {ops[0]!r}")
    if ops[-1] != OUTPUT:
        raise ValueError(f"the last op must be {OUTPUT!r}, got {ops[-1]!r}")
    inner = ops[1:-1]
    if INPUT in inner or OUTPUT in inner:
        raise ValueError(f"interior vertices must be one of {list(INTERIOR_OPS)}, got {list(inner)}")
    return ops


def _reachable(matrix: np.ndarray, start: int, forward: bool) -> np.ndarray:
    """Boolean mask of the vertices reachable from ``start`` along (or against) the edges."""
    num_vertices = matrix.shape[0]
    seen = np.zeros(num_vertices, dtype=bool)
    seen[start] = True
    order = range(start + 1, num_vertices) if forward else range(start - 1, -1, -1)
    for v in order:  # the matrix is upper triangular: one sweep in topological order suffices
        seen[v] = bool((matrix[seen, v] if forward else matrix[v, seen]).any())
    return seen


def prune(matrix: Any, ops: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Validates a cell and drops the vertices that are not on an input→output path.

    This is the official NAS-Bench-101 pruning: a vertex survives when it is reachable from the
    input (vertex 0) and the output (vertex ``V - 1``) is reachable from it. The size limits are
    not checked here (see :class:`ArchSpec`).

    Args:
        matrix (array-like): square 0/1 upper-triangular adjacency matrix, shape ``(V, V)``.
        ops (Sequence[str]): one op name per vertex, ``input`` first and ``output`` last.

    Returns:
        tuple[numpy.ndarray, tuple[str, ...]]: the pruned ``uint8`` matrix and ops.

    Raises:
        ValueError: if the matrix is not square, not 0/1 or not upper triangular, if the ops do not
            fit, or if the output is not reachable from the input.
    """
    matrix = _as_matrix(matrix)
    ops = _check_ops(ops, matrix.shape[0])
    index = kept_vertices(matrix)
    if len(index) == 0:
        raise ValueError("invalid cell: the output is not reachable from the input")
    if len(index) == matrix.shape[0]:
        return matrix, ops
    return matrix[np.ix_(index, index)], tuple(ops[i] for i in index)


def kept_vertices(matrix: Any) -> np.ndarray:
    """Returns the vertices that pruning keeps: those on a path from the input to the output.

    The structural half of :func:`prune`, without the ops: the official ``ModelSpec`` prunes a
    cell before looking at its ops, so an op on a vertex pruned away is never checked there.

    Args:
        matrix (array-like): square 0/1 strictly upper-triangular adjacency matrix, ``(V, V)``.

    Returns:
        numpy.ndarray: the ascending indices of the kept vertices (``int64``); empty when the
        output is not reachable from the input.

    Raises:
        ValueError: if the matrix is not square, not 0/1 or not strictly upper triangular.
    """
    matrix = _as_matrix(matrix)
    if np.tril(matrix).any():
        raise ValueError("matrix must be strictly upper triangular (edges go from lower to higher vertices)")
    keep = _reachable(matrix, 0, True) & _reachable(matrix, matrix.shape[0] - 1, False)
    return np.flatnonzero(keep) if keep[-1] else np.empty(0, dtype=np.int64)


class ArchSpec:
    r"""A validated, pruned, immutable NAS-Bench-101 cell.

    Two specs are equal when they describe the same cell up to isomorphism, that is when their
    official module hashes (:attr:`hash`) are equal; ``hash(spec)`` follows the same rule, so specs
    can be dictionary keys and set members.

    Args:
        matrix (array-like): square 0/1 upper-triangular adjacency matrix, shape ``(V, V)``;
            ``matrix[i, j] = 1`` is an edge ``i → j``.
        ops (Sequence[str]): one op name per vertex, ``input`` first, ``output`` last, interior
            vertices from :data:`~gnnas.space.ops.INTERIOR_OPS`.

    Raises:
        ValueError: if the input is malformed (see :func:`prune`), or if the pruned cell has more
            than :data:`~gnnas.space.ops.MAX_VERTICES` vertices or
            :data:`~gnnas.space.ops.MAX_EDGES` edges.
    """

    __slots__ = ("_matrix", "_ops", "_hash", "_was_pruned")

    def __init__(self, matrix: Any, ops: Sequence[str]) -> None:
        pruned_matrix, pruned_ops = prune(matrix, ops)
        num_vertices = pruned_matrix.shape[0]
        if num_vertices > MAX_VERTICES:
            raise ValueError(f"a cell has at most {MAX_VERTICES} vertices after pruning, got {num_vertices}")
        num_edges = int(pruned_matrix.sum())
        if num_edges > MAX_EDGES:
            raise ValueError(f"a cell has at most {MAX_EDGES} edges after pruning, got {num_edges}")
        pruned_matrix.setflags(write=False)
        self._matrix = pruned_matrix
        self._ops = pruned_ops
        self._hash: str | None = None
        self._was_pruned = num_vertices != len(ops) or num_edges != int(np.asarray(matrix).sum())

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_strings(cls, adjacency: str, operations: str) -> ArchSpec:
        """Builds a spec from the string layout of the official file and of the CSV tables.

        Args:
            adjacency (str): the row-major ``0``/``1`` string of length ``V * V``.
            operations (str): ``V`` comma-separated op names.

        Returns:
            ArchSpec: the cell.

        Raises:
            ValueError: if the strings are malformed or do not describe a valid cell.
        """
        ops = operations.split(",")
        num_vertices = len(ops)
        if len(adjacency) != num_vertices * num_vertices:
            raise ValueError(
                f"adjacency has {len(adjacency)} characters; {num_vertices} ops need {num_vertices ** 2}"
            )
        if set(adjacency) - {"0", "1"}:
            raise ValueError(f"adjacency must contain only '0' and '1', got {reprlib.repr(adjacency)}")
        bits = np.frombuffer(adjacency.encode(), dtype=np.uint8) - ord("0")
        matrix = bits.reshape(num_vertices, num_vertices)
        return cls(matrix, ops)

    @classmethod
    def from_data(cls, data: Data) -> ArchSpec:
        """Turns a PyG :class:`~torch_geometric.data.Data` made by :meth:`to_data` back into a spec.

        Args:
            data (torch_geometric.data.Data): a graph with one-hot op features ``x`` of shape
                ``(V, 5)`` (columns in the order of :data:`~gnnas.space.ops.OPS`) and
                ``edge_index`` of shape ``(2, |E|)``.

        Returns:
            ArchSpec: the cell.

        Raises:
            ValueError: if ``x`` is not one-hot over the known ops or the graph is not a valid cell.
        """
        x = getattr(data, "x", None)
        edge_index = getattr(data, "edge_index", None)
        if x is None or edge_index is None:
            raise ValueError("data must have node features `x` and `edge_index`")
        x = x.detach().cpu().numpy()
        if x.ndim != 2 or x.shape[1] != len(OPS):
            raise ValueError(f"x must have shape (V, {len(OPS)}), got {tuple(x.shape)}")
        if not (np.isin(x, (0, 1)).all() and (x.sum(axis=1) == 1).all()):
            raise ValueError("x must be one-hot: exactly one 1 per row")
        ops = [OPS[i] for i in x.argmax(axis=1)]
        edge_index = edge_index.detach().cpu().numpy()
        if edge_index.ndim != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"edge_index must have shape (2, |E|), got {tuple(edge_index.shape)}")
        num_vertices = x.shape[0]
        if edge_index.size and (edge_index.min() < 0 or edge_index.max() >= num_vertices):
            raise ValueError(f"edge_index refers to vertices outside 0..{num_vertices - 1}")
        matrix = np.zeros((num_vertices, num_vertices), dtype=np.uint8)
        matrix[edge_index[0], edge_index[1]] = 1
        return cls(matrix, ops)

    # ------------------------------------------------------------------ properties
    @property
    def matrix(self) -> np.ndarray:
        """numpy.ndarray: the pruned adjacency matrix, ``uint8`` of shape ``(V, V)``, read-only."""
        return self._matrix

    @property
    def ops(self) -> tuple[str, ...]:
        """tuple[str, ...]: the op name of each vertex of the pruned cell."""
        return self._ops

    @property
    def num_vertices(self) -> int:
        """int: number of vertices ``V``, input and output included."""
        return len(self._ops)

    @property
    def num_edges(self) -> int:
        """int: number of edges."""
        return int(self._matrix.sum())

    @property
    def was_pruned(self) -> bool:
        """bool: whether construction dropped vertices or edges from the given matrix."""
        return self._was_pruned

    @property
    def hash(self) -> str:
        """str: the official NAS-Bench-101 module hash (32 hex digits), invariant under isomorphism."""
        if self._hash is None:
            object.__setattr__(self, "_hash", module_hash(self._matrix, self._ops))
        return self._hash  # type: ignore[return-value]

    @property
    def op_indices(self) -> np.ndarray:
        """numpy.ndarray: index of each vertex's op in :data:`~gnnas.space.ops.OPS`, shape ``(V,)``."""
        return np.fromiter((OP_INDEX[op] for op in self._ops), dtype=np.int64, count=len(self._ops))

    # ------------------------------------------------------------------ conversions
    def to_strings(self) -> tuple[str, str]:
        """Returns the cell in the string layout of :meth:`from_strings`.

        Returns:
            tuple[str, str]: ``(adjacency, operations)``: the matrix's bits row by row, and the
            ops joined by commas.
        """
        adjacency = "".join("1" if bit else "0" for bit in self._matrix.ravel())
        return adjacency, ",".join(self._ops)

    def to_data(self) -> Data:
        """Returns the cell as a PyG graph.

        Returns:
            torch_geometric.data.Data: ``x`` one-hot op features (float), ``edge_index`` (long) and
            ``num_nodes``.

        Shapes:
            - **x** :math:`(V, 5)`, columns in the order of :data:`~gnnas.space.ops.OPS`
            - **edge_index** :math:`(2, |E|)`
        """
        import torch
        from torch_geometric.data import Data

        num_vertices = len(self._ops)
        x = torch.zeros(num_vertices, len(OPS))
        x[torch.arange(num_vertices), torch.from_numpy(self.op_indices)] = 1.0
        rows, cols = np.nonzero(self._matrix)
        edge_index = torch.from_numpy(np.stack([rows, cols]).astype(np.int64))
        return Data(x=x, edge_index=edge_index, num_nodes=num_vertices)

    def to_tokens(self, convention: str = "paper") -> list[int]:
        """Returns the cell's 27-token sequence (see :mod:`gnnas.space.tokens`).

        Args:
            convention (str, optional): the op numbering: ``"paper"`` (conv3x3 = 3, conv1x1 = 4)
                or ``"seminas"`` (conv1x1 = 3, conv3x3 = 4, as the original NAO/SemiNAS code).
                (default: :obj:`"paper"`)

        Returns:
            list[int]: the tokens, padded with 0 to 27.

        Raises:
            ValueError: if the convention is unknown.
        """
        from gnnas.space.tokens import encode_tokens

        return encode_tokens(self._matrix, self._ops, convention=convention)

    @classmethod
    def from_tokens(cls, tokens: Sequence[int], convention: str = "paper") -> ArchSpec:
        """Builds a spec from a token sequence (see :mod:`gnnas.space.tokens`).

        Args:
            tokens (Sequence[int]): the sequence, with or without trailing padding.
            convention (str, optional): the op numbering the sequence uses, ``"paper"`` or
                ``"seminas"`` (see :meth:`to_tokens`). (default: :obj:`"paper"`)

        Returns:
            ArchSpec: the cell (validated and pruned).

        Raises:
            ValueError: if the sequence breaks the grammar or describes an invalid cell, or the
                convention is unknown.
        """
        from gnnas.space.tokens import decode_tokens

        matrix, ops = decode_tokens(tokens, convention=convention)
        return cls(matrix, ops)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArchSpec):
            return NotImplemented
        return self.hash == other.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_was_pruned"):
            raise AttributeError("ArchSpec is immutable")
        object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ArchSpec, (self._matrix.copy(), self._ops))

    def __repr__(self) -> str:
        adjacency, _ = self.to_strings()
        return f"ArchSpec(adjacency={adjacency!r}, ops={list(self._ops)!r})"

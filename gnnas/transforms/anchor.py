r"""An anchor cell in the fast form used to make positives: bitmasks and cheap invariants.

A cell is ``(n, rows, ops)``: ``rows[i]`` is the bitmask of the successors of vertex ``i`` (bit
``j`` set for an edge ``i → j``) and ``ops[i]`` the index of its op in
:data:`~gnnas.space.ops.OPS`. Python ints on 7-vertex cells are much faster than numpy arrays
and than building an :class:`~gnnas.space.ArchSpec` per candidate; every helper here is checked
against its :class:`~gnnas.space.ArchSpec` counterpart in the tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from gnnas.space.hashing import _hash_neighbours
from gnnas.space.ops import HASH_LABEL, MAX_EDGES, OP_INDEX, OPS
from gnnas.space.spec import ArchSpec

__all__ = ["Anchor", "fast_hash", "signature", "is_full", "delete_vertex", "tokens_of", "to_spec"]

# A cell is (n, rows, ops): ``rows[i]`` is the bitmask of the successors of vertex ``i``, ``ops[i]``
# the index of its op in OPS. Everything below works on Python ints: the matrices are tiny.
_HASH_LABELS = tuple(HASH_LABEL[op] for op in OPS)
#: The upper-triangular pairs ``(i, j)`` of an ``n``-vertex cell, in row-major order.
PAIRS = {n: [(i, j) for i in range(n) for j in range(i + 1, n)] for n in range(2, 8)}


def fast_hash(n: int, rows: list[int] | tuple[int, ...], ops: list[int] | tuple[int, ...]) -> str:
    """The official module hash (as :func:`gnnas.space.module_hash`) of a cell given as bitmasks.

    Args:
    n (int): the number of vertices.
    rows (list[int] or tuple[int, ...]): the successor bitmask of each vertex.
    ops (list[int] or tuple[int, ...]): the op index of each vertex.

    Returns:
        str: the 32-hex module hash.
    """
    out_neighbours = [[j for j in range(i + 1, n) if rows[i] >> j & 1] for i in range(n)]
    in_neighbours = [[i for i in range(v) if rows[i] >> v & 1] for v in range(n)]
    return _hash_neighbours(in_neighbours, out_neighbours, [_HASH_LABELS[op] for op in ops])


def signature(n: int, rows: list[int] | tuple[int, ...], ops: list[int] | tuple[int, ...]) -> tuple[int, ...]:
    """A cheap isomorphism invariant: the sorted ``(out-degree, in-degree, op)`` of the vertices.

    Cells with equal official hashes have equal signatures (the hash starts from these triples),
    so different signatures prove that two cells differ.

    Args:
    n (int): the number of vertices.
    rows (list[int] or tuple[int, ...]): the successor bitmask of each vertex.
    ops (list[int] or tuple[int, ...]): the op index of each vertex.

    Returns:
        tuple[int, ...]: the triples, each packed into one int, sorted.
    """
    in_degree = [0] * n
    for i in range(n):
        r = rows[i]
        while r:
            low = r & -r
            in_degree[low.bit_length() - 1] += 1
            r ^= low
    return tuple(sorted([(rows[v].bit_count() * 8 + in_degree[v]) * 8 + ops[v] for v in range(n)]))


def is_full(n: int, rows: list[int] | tuple[int, ...]) -> bool:
    """Whether every vertex lies on a path from the input (0) to the output (``n - 1``).

    Args:
        n (int): the number of vertices.
        rows (list[int] or tuple[int, ...]): the successor bitmask of each vertex.

    Returns:
        bool: :obj:`True` when no vertex is cut off (pruning would keep the cell as it is).
    """
    reach = 1
    for i in range(n - 1):
        if reach >> i & 1:
            reach |= rows[i]
    full = (1 << n) - 1
    if reach != full:
        return False
    co = 1 << (n - 1)
    for i in range(n - 2, -1, -1):
        if rows[i] & co:
            co |= 1 << i
    return co == full


def delete_vertex(n: int, rows: list[int], ops: list[int], v: int) -> tuple[list[int], list[int]]:
    """Removes vertex ``v`` and its edges, renumbering the later vertices.

    Args:
        n (int): the number of vertices.
        rows (list[int]): the successor bitmask of each vertex.
        ops (list[int]): the op index of each vertex.
        v (int): the vertex to remove.

    Returns:
        tuple[list[int], list[int]]: the ``n - 1`` rows and ops of the new cell (the inputs are
        left as they are).
    """
    low_mask = (1 << v) - 1
    new_rows = [(r & low_mask) | ((r >> (v + 1)) << v) for i, r in enumerate(rows) if i != v]
    return new_rows, ops[:v] + ops[v + 1:]


# An outcome: (n, rows, ops, edits); a structure: (n, rows, ops, num_edges, edits) before op changes
Outcome = tuple[int, list[int], list[int], tuple[tuple, ...]]
Structure = tuple[int, list[int], list[int], int, tuple[tuple, ...]]


class Anchor:
    """An anchor cell prepared for fast editing: bitmasks, invariants, valid single edits, hash.

    Args:
        spec (ArchSpec): the cell.

    Raises:
        ValueError: if ``spec`` is not an :class:`ArchSpec`.
    """

    __slots__ = ("_spec", "n", "rows", "ops", "num_edges", "sorted_ops", "deletable", "_signature",
                 "_hash", "_valid_flips", "_valid_deletions", "_structures")

    def __init__(self, spec: ArchSpec) -> None:
        if not isinstance(spec, ArchSpec):
            raise ValueError(f"expected an ArchSpec, got {type(spec).__name__}")
        rows = tuple(sum(1 << j for j, bit in enumerate(row) if bit) for row in spec.matrix.tolist())
        self._setup(len(rows), rows, tuple(OP_INDEX[op] for op in spec.ops), spec, spec._hash)

    @classmethod
    def from_bits(cls, n: int, rows: Sequence[int], ops: Sequence[int], hash: str | None = None) -> Anchor:
        """An anchor from bitmasks of a cell known to be valid and pruned (e.g. from the enumerated
        space), without building its :class:`ArchSpec` (made on demand by :attr:`spec`).

        Args:
            n (int): the number of vertices.
            rows (Sequence[int]): the successor bitmask of each vertex.
            ops (Sequence[int]): the op index of each vertex.
            hash (str, optional): the cell's module hash, if known. (default: :obj:`None`)

        Returns:
            Anchor: the anchor; nothing is checked.
        """
        anchor = cls.__new__(cls)
        anchor._setup(n, tuple(rows), tuple(ops), None, hash)
        return anchor

    def _setup(self, n: int, rows: tuple[int, ...], ops: tuple[int, ...], spec: ArchSpec | None,
               hash: str | None) -> None:
        self._spec = spec
        self.n = n
        self.rows = rows
        self.ops = ops
        self.num_edges = sum(r.bit_count() for r in rows)
        self.sorted_ops = sorted(ops)
        self.deletable = tuple(
            v for v in range(1, n - 1)
            if rows[v].bit_count() == 1 and sum(rows[i] >> v & 1 for i in range(v)) == 1
        )
        self._signature: tuple[int, ...] | None = None
        self._hash = hash
        self._valid_flips: list[tuple[int, int]] | None = None
        self._valid_deletions: list[tuple[int, list[int], list[int]]] | None = None
        self._structures: dict[tuple[int, int], list[Structure]] = {}

    @property
    def spec(self) -> ArchSpec:
        """ArchSpec: the anchor cell."""
        if self._spec is None:
            self._spec = to_spec(self.n, list(self.rows), list(self.ops))
            if self._hash is not None:
                object.__setattr__(self._spec, "_hash", self._hash)
        return self._spec

    @property
    def hash(self) -> str:
        """str: the anchor's official hash."""
        if self._hash is None:
            self._hash = fast_hash(self.n, self.rows, self.ops)
        return self._hash

    @property
    def valid_flips(self) -> list[tuple[int, int]]:
        """list[tuple[int, int]]: the pairs ``(i, j)`` whose flip alone gives a valid full cell."""
        if self._valid_flips is None:
            n, rows, num_edges = self.n, list(self.rows), self.num_edges
            valid = []
            for i, j in PAIRS[n]:
                bit = 1 << j
                if rows[i] & bit or num_edges < MAX_EDGES:
                    rows[i] ^= bit
                    if is_full(n, rows):
                        valid.append((i, j))
                    rows[i] ^= bit
            self._valid_flips = valid
        return self._valid_flips

    @property
    def valid_deletions(self) -> list[tuple[int, list[int], list[int]]]:
        """list[tuple]: ``(v, rows, ops)`` for each vertex whose deletion gives a valid full cell."""
        if self._valid_deletions is None:
            valid = []
            for v in self.deletable:
                rows, ops = delete_vertex(self.n, list(self.rows), list(self.ops), v)
                if is_full(self.n - 1, rows):
                    valid.append((v, rows, ops))
            self._valid_deletions = valid
        return self._valid_deletions

    def structures(self, deletes: int, flips: int) -> list[Structure]:
        """Every valid full cell after ``deletes`` deletions and ``flips`` flips, before op changes.

        Args:
            deletes (int): 0 or 1 vertex deletions (any positive number deletes one vertex).
            flips (int): the number of edge flips.

        Returns:
            list[tuple]: ``(n, rows, ops, num_edges, edits)`` for each, computed once per anchor.
        """
        key = (deletes, flips)
        if key not in self._structures:
            starts = [(self.n, list(self.rows), list(self.ops), self.num_edges, ())]
            if deletes:
                starts = []
                for v in self.deletable:
                    rows, ops = delete_vertex(self.n, list(self.rows), list(self.ops), v)
                    starts.append((self.n - 1, rows, ops, self.num_edges - 2, (("delete", v),)))
            found = []
            for n, rows0, ops, edges0, edits0 in starts:
                for chosen in itertools.combinations(PAIRS[n], flips):
                    rows = list(rows0)
                    num_edges = edges0
                    for i, j in chosen:
                        num_edges += -1 if rows[i] >> j & 1 else 1
                        rows[i] ^= 1 << j
                    if num_edges <= MAX_EDGES and is_full(n, rows):
                        edits = edits0 + tuple(("flip", i, j) for i, j in chosen)
                        found.append((n, rows, ops, num_edges, edits))
            self._structures[key] = found
        return self._structures[key]

    def differs(self, n: int, rows: list[int], ops: list[int], num_edges: int) -> bool:
        """Whether the cell ``(n, rows, ops)`` is a different cell (official hash) from the anchor.

        Cheap invariants first (size, number of edges, op multiset, :func:`signature`), the
        official hash only when they all agree.

        Args:
            n (int): the number of vertices.
            rows (list[int]): the successor bitmask of each vertex.
            ops (list[int]): the op index of each vertex.
            num_edges (int): the cell's number of edges.

        Returns:
            bool: :obj:`True` when the cell is not the anchor.
        """
        if n != self.n or num_edges != self.num_edges or sorted(ops) != self.sorted_ops:
            return True
        if self._signature is None:
            self._signature = signature(self.n, self.rows, self.ops)
        if signature(n, rows, ops) != self._signature:
            return True
        return fast_hash(n, rows, ops) != self.hash


def to_spec(n: int, rows: list[int], ops: list[int]) -> ArchSpec:
    """Builds the :class:`ArchSpec` of a fast cell.

    Args:
        n (int): the number of vertices.
        rows (list[int]): the successor bitmask of each vertex.
        ops (list[int]): the op index of each vertex.

    Returns:
        ArchSpec: the cell.

    Raises:
        ValueError: if the bitmasks and ops do not make a valid cell (as :class:`ArchSpec`).
    """
    matrix = np.array([[r >> j & 1 for j in range(n)] for r in rows], dtype=np.uint8).reshape(n, n)
    return ArchSpec(matrix, [OPS[op] for op in ops])


def tokens_of(n: int, rows: list[int] | tuple[int, ...], ops: list[int] | tuple[int, ...]) -> list[int]:
    """The 27 tokens of a fast cell (as :meth:`ArchSpec.to_tokens`).

    Args:
    n (int): the number of vertices.
    rows (list[int] or tuple[int, ...]): the successor bitmask of each vertex.
    ops (list[int] or tuple[int, ...]): the op index of each vertex.

    Returns:
        list[int]: the 27 tokens, with the slots of missing vertices 0.
    """
    tokens = [0] * 27
    for j in range(1, n):
        base = j * (j + 1) // 2 - 1
        for i in range(j):
            tokens[base + i] = 2 if rows[i] >> j & 1 else 1
        tokens[base + j] = ops[j] + 2  # conv3x3 (OPS index 1) → 3, ..., output (4) → 6
    return tokens

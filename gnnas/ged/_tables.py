"""Per-permutation lookup tables behind the exact graph edit distance.

A cell is laid out on 7 *slots* (vertices padded with the label ``none``) and its adjacency is
packed into one ``uint64`` with bit ``7 * i + j`` for an edge ``i → j``. For a permutation
``σ`` of the slots, the *permuted code* of a cell has bit ``7 * σ(i) + σ(j)`` for each edge
``i → j``. Edges always go from a lower to a higher slot in both layouts used here, so a cell's
adjacency is 21 bits (the strict upper triangle); these bits are split into three chunks of 7
bits and, for every chunk value and every permutation, the permuted code of the chunk's edges is
tabulated. The permuted code of a whole cell is then the OR of three table rows: 384 rows of
``S`` words (15.5 MB for the 5,040 permutations of 7 slots, 0.4 MB for the 120 pinned ones).

The permutations are ordered so that, for each ``n``, the first ``n!`` of them (``m!`` for the
pinned layout) are exactly those that move only the first ``n`` slots (the ``m`` interior slots):
when both cells of a pair fit in ``n`` slots, the padding slots ``n..6`` can stay in place and
only a prefix of the table is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

NUM_SLOTS = 7

#: Upper-triangular slot pairs ``(i, j)``, ``i < j``, in row-major order (the 21 adjacency bits).
UPPER_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (i, j) for i in range(NUM_SLOTS) for j in range(i + 1, NUM_SLOTS)
)

#: The three chunks of :data:`UPPER_PAIRS`, as ``(first bit, number of bits)``.
CHUNKS: tuple[tuple[int, int], ...] = ((0, 7), (7, 7), (14, 7))


def prefix_permutations(n: int) -> np.ndarray:
    """All permutations of ``range(n)``, ordered so that the first ``k!`` fix ``k..n-1``.

    Returns:
        numpy.ndarray: ``int64`` array of shape ``(n!, n)``; row ``s`` maps ``i`` to ``row[i]``.
    """
    perms = np.zeros((1, 0), dtype=np.int64)
    for size in range(1, n + 1):
        blocks = []
        for last in range(size - 1, -1, -1):  # ``last = size - 1`` first: keeps the prefix property
            others = np.array([v for v in range(size) if v != last], dtype=np.int64)
            block = np.empty((len(perms), size), dtype=np.int64)
            block[:, : size - 1] = others[perms]
            block[:, size - 1] = last
            blocks.append(block)
        perms = np.concatenate(blocks)
    return perms


@dataclass(frozen=True)
class PermutationTables:
    """Lookup tables for one set of slot permutations.

    Attributes:
        perms (numpy.ndarray): ``(S, 7)`` slot permutations.
        assignment (numpy.ndarray): ``(S,)`` ``uint64``; bit ``7 * i + σ(i)`` set for each slot ``i``.
        chunks (tuple[numpy.ndarray, ...]): per chunk of :data:`CHUNKS`, a ``(2**bits, S)`` ``uint64``
            table of permuted codes.
        prefix (dict[int, int]): number of leading permutations needed when the pair fits in
            ``n`` movable slots.
    """

    perms: np.ndarray
    assignment: np.ndarray
    chunks: tuple[np.ndarray, ...]
    prefix: dict[int, int]


def _build(perms: np.ndarray, prefix: dict[int, int]) -> PermutationTables:
    weights = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))
    slots = np.arange(NUM_SLOTS)
    assignment = np.bitwise_or.reduce(weights[NUM_SLOTS * slots[None, :] + perms], axis=1)
    # code of a single edge (i, j) under every permutation: (21, S)
    edge_codes = np.stack([weights[NUM_SLOTS * perms[:, i] + perms[:, j]] for i, j in UPPER_PAIRS])
    chunks = []
    for first, bits in CHUNKS:
        table = np.zeros((1 << bits, len(perms)), dtype=np.uint64)
        for value in range(1, 1 << bits):
            low = (value & -value).bit_length() - 1  # lowest set bit
            table[value] = table[value & (value - 1)] | edge_codes[first + low]
        table.setflags(write=False)
        chunks.append(table)
    assignment.setflags(write=False)
    return PermutationTables(perms=perms, assignment=assignment, chunks=tuple(chunks), prefix=prefix)


@cache
def free_tables() -> PermutationTables:
    """Tables over all 5,040 permutations of the 7 slots (cells in their natural layout)."""
    perms = prefix_permutations(NUM_SLOTS)
    return _build(perms, {n: math.factorial(n) for n in range(NUM_SLOTS + 1)})


@cache
def pinned_tables() -> PermutationTables:
    """Tables over the 120 permutations that fix slot 0 (input) and slot 6 (output)."""
    inner = prefix_permutations(NUM_SLOTS - 2) + 1
    perms = np.concatenate(
        [np.zeros((len(inner), 1), np.int64), inner, np.full((len(inner), 1), NUM_SLOTS - 1)], axis=1
    )
    return _build(perms, {m: math.factorial(m) for m in range(NUM_SLOTS - 1)})


def chunk_values(upper_bits: np.ndarray) -> tuple[np.ndarray, ...]:
    """Splits 21-bit upper-triangle codes ``(N,)`` into the chunk indices of :data:`CHUNKS`."""
    return tuple((upper_bits >> first) & ((1 << bits) - 1) for first, bits in CHUNKS)


def permuted_codes(tables: PermutationTables, chunk_idx: tuple[np.ndarray, ...], size: int) -> np.ndarray:
    """Permuted adjacency codes ``(N, size)`` of ``N`` cells under the first ``size`` permutations."""
    out = tables.chunks[0][chunk_idx[0], :size]
    for table, idx in zip(tables.chunks[1:], chunk_idx[1:], strict=True):
        np.bitwise_or(out, table[idx, :size], out=out)
    return out

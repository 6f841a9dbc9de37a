r"""Exact graph edit distance between NAS-Bench-101 cells.

**Cost model.** A cell is a directed graph whose vertices carry labels, the ops of
:data:`~gnnas.space.ops.OPS` (``input`` and ``output`` are labels like any other). An edit path
turns cell :math:`G_1` into cell :math:`G_2` with these operations, each of cost 1: substitute a
vertex's label, delete a vertex, insert a vertex, delete an edge, insert an edge (deleting a vertex
deletes its edges, each at cost 1). The graph edit distance is the cost of the cheapest edit path;
it equals ``networkx.graph_edit_distance(g1, g2, node_match=lambda u, v: u['op'] == v['op'])`` on
:class:`networkx.DiGraph` with an ``'op'`` node attribute.

**Why a minimum over 5,040 bijections is exact.** Pad both cells to 7 vertices with the label
``none`` and no edges. For a bijection :math:`\sigma` between the padded vertex sets, let

.. math::
    c(\sigma) = \sum_{i=0}^{6} \big[\ell_1(i) \ne \ell_2(\sigma(i))\big]
    + \big|\, E_1^\sigma \,\triangle\, E_2 \big|,
    \qquad E_1^\sigma = \{(\sigma(i), \sigma(j)) : (i, j) \in E_1\},

where :math:`\ell` is the padded label (``none`` ≠ any op, ``none`` = ``none``). Then

.. math::
    \operatorname{GED}(G_1, G_2) = \min_{\sigma \in S_7} c(\sigma).

*Every bijection is an edit path of cost* :math:`c(\sigma)`: a real vertex mapped to a real vertex
is substituted (cost 1 when the labels differ), a real vertex mapped to padding is deleted and
padding mapped to a real vertex is inserted (cost 1 each, a ``none`` mismatch), padding mapped to
padding is nothing (cost 0). Once the vertex map is fixed the edge operations are forced: an edge
:math:`(i, j)` of :math:`G_1` can be kept only as :math:`(\sigma(i), \sigma(j))`, so every edge in
exactly one of :math:`E_1^\sigma` and :math:`E_2` is deleted or inserted, and no path with this
vertex map is cheaper. *Every edit path is no cheaper than some bijection*: an edit path is a
partial matching of the vertices plus deletions and insertions, with cost at least that of its
forced edge operations as above. If it deletes a vertex :math:`u` and inserts a vertex :math:`v`,
substituting :math:`u \to v` instead costs at most 1 instead of 2 for the vertices and cannot
cost more for the edges (every edge at :math:`u` or :math:`v` that the substitution leaves
unmatched was deleted or inserted anyway), so some optimal path matches
:math:`\min(|V_1|, |V_2|)` vertices and deletes or inserts only the surplus of the larger cell,
which fits into the :math:`7 - |V|` padding vertices of the smaller one: it is a bijection.

**The computation.** The adjacency of a cell is packed into one 64-bit integer (bit
:math:`7i + j` for an edge :math:`i \to j`); the permuted codes of :math:`G_1` under all
permutations are read from precomputed tables (OR of three table rows, see
:mod:`gnnas.ged._tables`), so the edge term is ``bitwise_count(code1[σ] ^ code2)``. The label term
is ``bitwise_count(assignment[σ] & mismatch)``, with ``assignment[σ]`` the 49-bit permutation
matrix of :math:`\sigma` and ``mismatch`` the 49-bit matrix of pairs of slots with different labels.
When both cells have at most :math:`n` vertices, only the :math:`n!` permutations of the first
:math:`n` slots are needed (the padding slots beyond :math:`n` stay matched to each other).

**Pinned input and output** (``pin_io=True``). A different metric: the input must map to the
input and the output to the output (so neither is deleted, inserted or relabelled). It is the
minimum of :math:`c(\sigma)` over the 120 bijections that fix the input and output slots (the
cells are laid out with the output in the last slot), which is at least the free distance. In
networkx terms it is ``graph_edit_distance`` with ``node_subst_cost`` equal to 0 for equal ops, 1
for different interior ops and :math:`\infty` (or any value above 28) when an input or output is
substituted by a different op, and ``node_del_cost`` / ``node_ins_cost`` equal to 1 for interior
vertices and :math:`\infty` for the input and output; edge costs stay 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np

from gnnas.ged._tables import PermutationTables, chunk_values, free_tables, pinned_tables
from gnnas.ged.packing import (
    NONE_LABEL,
    PackedCells,
    as_spec,
    io_slot_order,
    mismatch_masks,
    pack,
    upper_code,
)
from gnnas.space.cell_array import pack_matrices
from gnnas.space.spec import ArchSpec
from gnnas.workers import bounded_workers

__all__ = ["graph_edit_distance", "pairwise_ged", "paired_ged"]

# pairs × permutations per block: the temporaries of a block stay in the CPU cache
_BLOCK = 1 << 17
# below this many pairs × permutations, one thread does the work
_PARALLEL_MIN = 1 << 22


def tables_for(pin_io: bool) -> PermutationTables:
    """The permutation tables of the free or the pinned distance."""
    return pinned_tables() if pin_io else free_tables()


def layout(packed: PackedCells, pin_io: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(upper, code, labels, movable)`` of the layout of the chosen variant.

    ``movable`` is the number of slots a permutation has to move: ``V`` for the free distance,
    the ``V - 2`` interior vertices for the pinned one.
    """
    if pin_io:
        return packed.upper_io, packed.code_io, packed.labels_io, packed.num_vertices - 2
    return packed.upper, packed.code, packed.labels, packed.num_vertices


def block_costs(
    tables: PermutationTables,
    size: int,
    a_upper: np.ndarray | None,
    a_perm: np.ndarray | None,
    b_code: np.ndarray,
    mismatch: np.ndarray,
) -> np.ndarray:
    r"""The kernel: :math:`\min_\sigma c(\sigma)` over the first ``size`` permutations, for ``R`` pairs.

    Args:
        tables (PermutationTables): the permutation tables.
        size (int): number of leading permutations to minimise over.
        a_upper (numpy.ndarray, optional): ``(R,)`` 21-bit upper-triangle codes of the first cells
            (each pair its own first cell), or :obj:`None` when ``a_perm`` is given.
        a_perm (numpy.ndarray, optional): ``(1, ≥ size)`` permuted codes of one first cell shared by
            all pairs.
        b_code (numpy.ndarray): ``(R,)`` adjacency codes of the second cells.
        mismatch (numpy.ndarray): ``(R,)`` label-mismatch masks of the pairs.

    Returns:
        numpy.ndarray: ``(R,)`` ``int32`` distances.
    """
    rows = len(b_code)
    out = np.empty(rows, dtype=np.int32)
    step = max(1, _BLOCK // size)
    assign = tables.assignment[None, :size]
    values = None if a_upper is None else chunk_values(a_upper)
    for start in range(0, rows, step):
        stop = min(start + step, rows)
        if values is None:
            assert a_perm is not None
            x = np.bitwise_xor(a_perm[:, :size], b_code[start:stop, None])  # (r, S)
        else:
            x = tables.chunks[0][values[0][start:stop], :size]  # permuted codes of a, (r, S)
            for table, value in zip(tables.chunks[1:], values[1:], strict=True):
                np.bitwise_or(x, table[value[start:stop], :size], out=x)
            np.bitwise_xor(x, b_code[start:stop, None], out=x)
        cost = np.bitwise_count(x)  # edge term, uint8
        np.bitwise_and(assign, mismatch[start:stop, None], out=x)
        cost += np.bitwise_count(x)  # label term
        out[start:stop] = cost.min(axis=1)
    return out


def _run(tasks: Sequence[Callable[[], Any]], work: int, num_workers: int | None) -> None:
    # small work runs here; large work on at most one thread per core and task (more would only
    # queue), counted only then: this runs for every nearest-cell query
    workers = 1 if work < _PARALLEL_MIN else bounded_workers(num_workers, len(tasks))
    if workers == 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:  # numpy releases the GIL in the kernels
        for future in [pool.submit(task) for task in tasks]:
            future.result()


def _single(spec: ArchSpec, pin_io: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(upper (1,), code (1,), labels (1, 7), movable)`` of one cell: :func:`layout` without packing."""
    v = spec.num_vertices
    matrix = np.zeros((7, 7), dtype=np.uint8)
    matrix[:v, :v] = spec.matrix
    labels = np.full(7, NONE_LABEL, dtype=np.int8)
    labels[:v] = spec.op_indices
    if pin_io:
        order = io_slot_order(np.array([v]))[0]
        matrix, labels = matrix[np.ix_(order, order)], labels[order]
    return upper_code(matrix[None]), pack_matrices(matrix[None]), labels[None, :], v - 2 if pin_io else v


def _check_workers(num_workers: int | None) -> None:
    if num_workers is not None and (not isinstance(num_workers, int) or num_workers < 1):
        raise ValueError(f"num_workers must be a positive integer or None, got {num_workers!r}")


def _paired(pa: PackedCells, pb: PackedCells, pin_io: bool, num_workers: int | None = 1) -> np.ndarray:
    tables = tables_for(pin_io)
    upper_a, _, labels_a, movable_a = layout(pa, pin_io)
    _, code_b, labels_b, movable_b = layout(pb, pin_io)
    movable = np.maximum(movable_a, movable_b)
    out = np.empty(len(pa), dtype=np.int32)
    tasks, work = [], 0
    for n in np.unique(movable):
        rows = np.flatnonzero(movable == n)
        size = tables.prefix[int(n)]
        step = max(1, 16 * _BLOCK // size)
        work += len(rows) * size

        def task(sel: np.ndarray, size: int = size) -> None:
            mismatch = mismatch_masks(labels_a[sel], labels_b[sel])
            out[sel] = block_costs(tables, size, upper_a[sel], None, code_b[sel], mismatch)

        tasks += [lambda sel=rows[i:i + step], task=task: task(sel) for i in range(0, len(rows), step)]
    _run(tasks, work, num_workers)
    return out


def one_to_many(
    pa: PackedCells, index: int, pb: PackedCells, rows: np.ndarray, pin_io: bool, num_workers: int | None = 1
) -> np.ndarray:
    """Distances from cell ``index`` of ``pa`` to the cells ``rows`` of ``pb``, ``(len(rows),)``."""
    tables = tables_for(pin_io)
    upper_a, _, labels_a, movable_a = layout(pa, pin_io)
    _, code_b, labels_b, movable_b = layout(pb, pin_io)
    out = np.empty(len(rows), dtype=np.int32)
    if len(rows) == 0:
        return out
    movable = np.maximum(movable_b[rows], movable_a[index])
    full = tables.prefix[int(movable.max())]
    values = chunk_values(upper_a[index:index + 1])
    a_perm = np.bitwise_or.reduce([t[v, :full] for t, v in zip(tables.chunks, values, strict=True)])
    tasks, work = [], 0
    for n in np.unique(movable):
        sel = np.flatnonzero(movable == n)
        size = tables.prefix[int(n)]
        step = max(1, 16 * _BLOCK // size)
        work += len(sel) * size

        def task(part: np.ndarray, size: int = size) -> None:
            target = rows[part]
            mismatch = mismatch_masks(labels_a[index][None, :], labels_b[target])
            out[part] = block_costs(tables, size, None, a_perm, code_b[target], mismatch)

        tasks += [lambda part=sel[i:i + step], task=task: task(part) for i in range(0, len(sel), step)]
    _run(tasks, work, num_workers)
    return out


def graph_edit_distance(a: Any, b: Any, *, pin_io: bool = False) -> int:
    r"""The exact graph edit distance between two NAS-Bench-101 cells, with unit costs.

    Substituting a vertex's op (``input`` and ``output`` count as ops), deleting or inserting a
    vertex, and deleting or inserting an edge each cost 1. The result equals
    ``networkx.graph_edit_distance(g1, g2, node_match=lambda u, v: u['op'] == v['op'])`` on the
    cells as directed graphs, computed as

    .. math::
        \operatorname{GED}(G_1, G_2) = \min_{\sigma \in S_7}
        \sum_{i=0}^{6} \big[\ell_1(i) \ne \ell_2(\sigma(i))\big]
        + \big|\, \sigma(E_1) \,\triangle\, E_2 \big|

    over the bijections of the two cells padded to 7 vertices with a ``none`` label (see
    :mod:`gnnas.ged.exact` for why this is exact).

    Args:
        a (ArchSpec | torch_geometric.data.Data): the first cell; a ``Data`` as made by
            :meth:`ArchSpec.to_data`.
        b (ArchSpec | torch_geometric.data.Data): the second cell.
        pin_io (bool, optional): if :obj:`True`, compute the *pinned* distance in which the input
            must map to the input and the output to the output (they are never deleted, inserted
            or relabelled); a different metric, never smaller than the free one.
            (default: :obj:`False`)

    Returns:
        int: the distance, 0 exactly when the cells are isomorphic (equal hashes).

    Raises:
        ValueError: if ``a`` or ``b`` is not a valid cell.

    Example:
        >>> from gnnas import ArchSpec, graph_edit_distance
        >>> a = ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
        >>> b = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
        >>> graph_edit_distance(a, b)
        2
    """
    upper_a, _, labels_a, movable_a = _single(as_spec(a, "a"), pin_io)
    _, code_b, labels_b, movable_b = _single(as_spec(b, "b"), pin_io)
    tables = tables_for(pin_io)
    size = tables.prefix[max(movable_a, movable_b)]
    mismatch = mismatch_masks(labels_a, labels_b)
    return int(block_costs(tables, size, upper_a, None, code_b, mismatch)[0])


def paired_ged(
    cells_a: Any, cells_b: Any, *, pin_io: bool = False, num_workers: int | None = None
) -> np.ndarray:
    r"""Exact distances between corresponding cells, :math:`d_i = \operatorname{GED}(a_i, b_i)`.

    The batched form of :func:`graph_edit_distance` for many independent pairs (e.g. random pairs
    for the locality figure).

    Args:
        cells_a (Sequence[ArchSpec | Data] | CellArray): ``N`` cells.
        cells_b (Sequence[ArchSpec | Data] | CellArray): ``N`` cells.
        pin_io (bool, optional): pinned variant, see :func:`graph_edit_distance`.
            (default: :obj:`False`)
        num_workers (int, optional): threads for large batches, at most one per core; :obj:`None`
            uses every core. (default: :obj:`None`)

    Returns:
        numpy.ndarray: ``(N,)`` ``int32`` distances.

    Raises:
        ValueError: if an element is not a cell, the lengths differ or ``num_workers`` is not positive.
    """
    _check_workers(num_workers)
    pa, pb = pack(cells_a, "cells_a"), pack(cells_b, "cells_b")
    if len(pa) != len(pb):
        raise ValueError(f"cells_a and cells_b must have the same length, got {len(pa)} and {len(pb)}")
    return _paired(pa, pb, pin_io, num_workers)


def pairwise_ged(
    cells_a: Any, cells_b: Any | None = None, *, pin_io: bool = False, num_workers: int | None = None
) -> np.ndarray:
    r"""The exact distance matrix :math:`D_{ij} = \operatorname{GED}(a_i, b_j)`.

    Each cell of the shorter side is permuted once (its codes under all permutations), and compared
    with every cell of the other side.

    Args:
        cells_a (Sequence[ArchSpec | Data] | CellArray): ``N`` cells.
        cells_b (Sequence[ArchSpec | Data] | CellArray, optional): ``M`` cells; :obj:`None` means
            ``cells_a`` again. (default: :obj:`None`)
        pin_io (bool, optional): pinned variant, see :func:`graph_edit_distance`.
            (default: :obj:`False`)
        num_workers (int, optional): threads for large matrices, at most one per core; :obj:`None`
            uses every core. (default: :obj:`None`)

    Returns:
        numpy.ndarray: ``(N, M)`` ``int32`` distances.

    Raises:
        ValueError: if an element is not a cell or ``num_workers`` is not positive.
    """
    _check_workers(num_workers)
    pa = pack(cells_a, "cells_a")
    pb = pa if cells_b is None else pack(cells_b, "cells_b")
    if len(pa) > len(pb):  # the distance is symmetric: permute the cells of the shorter side
        return np.ascontiguousarray(pairwise_ged(pb, pa, pin_io=pin_io, num_workers=num_workers).T)
    out = np.empty((len(pa), len(pb)), dtype=np.int32)
    rows = np.arange(len(pb))

    def task(i: int) -> None:
        out[i] = one_to_many(pa, i, pb, rows, pin_io)

    _run([partial(task, i) for i in range(len(pa))], len(pa) * len(pb) * 5040, num_workers)
    return out

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
permutations are read from precomputed tables (OR of four table rows, see
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

from typing import Any

import numpy as np

from gnnas.ged._tables import PermutationTables, chunk_values, free_tables, permuted_codes, pinned_tables
from gnnas.ged.packing import PackedCells, as_spec, mismatch_masks, pack

__all__ = ["graph_edit_distance", "pairwise_ged", "paired_ged"]

# elements (pairs × permutations) per block: the temporaries stay within a few MB of cache
_BLOCK = 1 << 16


def _layout(packed: PackedCells, pin_io: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(upper, code, labels, movable slots)`` of the chosen layout."""
    if pin_io:
        return packed.upper_io, packed.code_io, packed.labels_io, packed.num_vertices - 2
    return packed.upper, packed.code, packed.labels, packed.num_vertices


def min_costs(
    a_perm: np.ndarray, b_code: np.ndarray, mismatch: np.ndarray, assignment: np.ndarray
) -> np.ndarray:
    r"""The kernel: :math:`\min_\sigma` of edge plus label cost, for ``R`` pairs.

    Args:
        a_perm (numpy.ndarray): ``(R, S)`` or ``(1, S)`` permuted adjacency codes of the first cells.
        b_code (numpy.ndarray): ``(R,)`` adjacency codes of the second cells.
        mismatch (numpy.ndarray): ``(R,)`` label-mismatch masks of the pairs.
        assignment (numpy.ndarray): ``(≥ S,)`` permutation-matrix masks of the permutations.

    Returns:
        numpy.ndarray: ``(R,)`` ``int32`` distances.
    """
    rows, size = len(b_code), a_perm.shape[1]
    out = np.empty(rows, dtype=np.int32)
    step = max(1, _BLOCK // size)
    assign = assignment[None, :size]
    shared = a_perm.shape[0] == 1
    for start in range(0, rows, step):
        stop = min(start + step, rows)
        x = np.bitwise_xor(a_perm if shared else a_perm[start:stop], b_code[start:stop, None])  # (r, S)
        cost = np.bitwise_count(x)  # uint8, edge term
        np.bitwise_and(assign, mismatch[start:stop, None], out=x)
        cost += np.bitwise_count(x)  # label term
        out[start:stop] = cost.min(axis=1)
    return out


def _paired(pa: PackedCells, pb: PackedCells, pin_io: bool) -> np.ndarray:
    tables = pinned_tables() if pin_io else free_tables()
    upper_a, _, labels_a, movable_a = _layout(pa, pin_io)
    _, code_b, labels_b, movable_b = _layout(pb, pin_io)
    movable = np.maximum(movable_a, movable_b)
    out = np.empty(len(pa), dtype=np.int32)
    for n in np.unique(movable):
        rows = np.flatnonzero(movable == n)
        size = tables.prefix[int(n)]
        step = max(1, 4 * _BLOCK // size)
        for start in range(0, len(rows), step):
            sel = rows[start:start + step]
            a_perm = permuted_codes(tables, chunk_values(upper_a[sel]), size)
            mismatch = mismatch_masks(labels_a[sel], labels_b[sel])
            out[sel] = min_costs(a_perm, code_b[sel], mismatch, tables.assignment)
    return out


def _one_to_many(pa: PackedCells, index: int, pb: PackedCells, rows: np.ndarray, pin_io: bool,
                 tables: PermutationTables | None = None) -> np.ndarray:
    """Distances from cell ``index`` of ``pa`` to cells ``rows`` of ``pb``."""
    tables = tables or (pinned_tables() if pin_io else free_tables())
    upper_a, _, labels_a, movable_a = _layout(pa, pin_io)
    _, code_b, labels_b, movable_b = _layout(pb, pin_io)
    movable = np.maximum(movable_b[rows], movable_a[index])
    out = np.empty(len(rows), dtype=np.int32)
    if len(rows) == 0:
        return out
    full = tables.prefix[int(movable.max())]
    a_perm = permuted_codes(tables, chunk_values(upper_a[index:index + 1]), full)  # (1, S)
    mismatch = mismatch_masks(labels_a[index][None, :], labels_b[rows])
    for n in np.unique(movable):
        sel = np.flatnonzero(movable == n)
        size = tables.prefix[int(n)]
        out[sel] = min_costs(a_perm[:, :size], code_b[rows[sel]], mismatch[sel], tables.assignment)
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
    pa = pack([as_spec(a, "a")], "a")
    pb = pack([as_spec(b, "b")], "b")
    return int(_paired(pa, pb, pin_io)[0])


def paired_ged(cells_a: Any, cells_b: Any, *, pin_io: bool = False) -> np.ndarray:
    r"""Exact distances between corresponding cells, :math:`d_i = \operatorname{GED}(a_i, b_i)`.

    The batched form of :func:`graph_edit_distance` for many independent pairs (e.g. random pairs
    for the locality figure).

    Args:
        cells_a (Sequence[ArchSpec | Data] | CellTable): ``N`` cells.
        cells_b (Sequence[ArchSpec | Data] | CellTable): ``N`` cells.
        pin_io (bool, optional): pinned variant, see :func:`graph_edit_distance`.
            (default: :obj:`False`)

    Returns:
        numpy.ndarray: ``(N,)`` ``int32`` distances.

    Raises:
        ValueError: if an element is not a cell or the lengths differ.
    """
    pa, pb = pack(cells_a, "cells_a"), pack(cells_b, "cells_b")
    if len(pa) != len(pb):
        raise ValueError(f"cells_a and cells_b must have the same length, got {len(pa)} and {len(pb)}")
    return _paired(pa, pb, pin_io)


def pairwise_ged(cells_a: Any, cells_b: Any | None = None, *, pin_io: bool = False) -> np.ndarray:
    r"""The exact distance matrix :math:`D_{ij} = \operatorname{GED}(a_i, b_j)`.

    Args:
        cells_a (Sequence[ArchSpec | Data] | CellTable): ``N`` cells.
        cells_b (Sequence[ArchSpec | Data] | CellTable, optional): ``M`` cells; :obj:`None` means
            ``cells_a`` again. (default: :obj:`None`)
        pin_io (bool, optional): pinned variant, see :func:`graph_edit_distance`.
            (default: :obj:`False`)

    Returns:
        numpy.ndarray: ``(N, M)`` ``int32`` distances.

    Raises:
        ValueError: if an element is not a cell.
    """
    pa = pack(cells_a, "cells_a")
    pb = pa if cells_b is None else pack(cells_b, "cells_b")
    if len(pa) > len(pb):  # the distance is symmetric: loop over the shorter side
        return pairwise_ged(pb, pa, pin_io=pin_io).T.copy()
    out = np.empty((len(pa), len(pb)), dtype=np.int32)
    rows = np.arange(len(pb))
    tables = pinned_tables() if pin_io else free_tables()
    for i in range(len(pa)):
        out[i] = _one_to_many(pa, i, pb, rows, pin_io, tables)
    return out

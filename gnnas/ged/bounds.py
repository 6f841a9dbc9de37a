r"""Cheap lower bounds on the graph edit distance, to skip most exact computations.

Both cells are padded to 7 slots with the label ``none`` and no edges, as in
:mod:`gnnas.ged.exact`, where the distance is :math:`\min_\sigma c(\sigma)` with
:math:`c(\sigma) = L(\sigma) + E(\sigma)`, a label term and an edge term. A lower bound on each term
that holds for *every* bijection :math:`\sigma` gives a lower bound on the distance:

.. math::
    \operatorname{GED}(G_1, G_2) \ge \underbrace{\tfrac12 \lVert h_1 - h_2 \rVert_1}_{\text{labels}}
    + \Big\lceil \tfrac12 \big( \lVert \operatorname{sort}(d^+_1) - \operatorname{sort}(d^+_2) \rVert_1
    + \lVert \operatorname{sort}(d^-_1) - \operatorname{sort}(d^-_2) \rVert_1 \big) \Big\rceil,

with :math:`h` the histogram of the 6 padded labels and :math:`d^+, d^-` the out- and in-degrees
of the 7 slots.

* **Labels.** A bijection matches at most :math:`\min(h_1[l], h_2[l])` pairs of slots with label
  :math:`l`, so at least :math:`7 - \sum_l \min(h_1[l], h_2[l]) = \frac12 \lVert h_1 - h_2 \rVert_1`
  slots are mismatched (both histograms sum to 7).
* **Degrees.** An edge of :math:`\sigma(E_1) \triangle E_2` changes the out-degree of one slot and
  the in-degree of one slot by one, so
  :math:`\sum_j |d^+_{\sigma(1)}(j) - d^+_2(j)| + \sum_j |d^-_{\sigma(1)}(j) - d^-_2(j)| \le 2 E(\sigma)`;
  for any bijection, :math:`\sum_j |x_{\pi(j)} - y_j|` is smallest when both sequences are sorted
  (the rearrangement inequality). This bound is never below the edge-count difference
  :math:`\big||E_1| - |E_2|\big|`, which it implies.
* **Per-vertex assignment** (the *branch* bound of Blumenthal and Gamper). Coupling the two
  terms vertex by vertex: for every bijection,
  :math:`c(\sigma) \ge \sum_i w(i, \sigma(i))` with
  :math:`w(i, j) = [\ell_1(i) \ne \ell_2(j)] + \frac12 |d^+_1(i) - d^+_2(j)| + \frac12 |d^-_1(i) - d^-_2(j)|`
  (the same two arguments, slot by slot), and :math:`\sum_i w(i, \sigma(i))` is at least the sum
  of the row minima :math:`\sum_i \min_j w(i, j)` and at least the sum of the column minima.
  This bound is much tighter for cells that differ little; it costs 49 entries per pair, so
  :func:`~gnnas.ged.nearest_cells` computes it only for the candidates that the first two leave in
  play. From one cell to many (:meth:`GEDIndex.lower_bound <gnnas.ged.GEDIndex.lower_bound>`,
  :func:`~gnnas.ged.nearest_cells`) it is a gather: a slot's *signature*
  :math:`(\ell, d^-, d^+)` takes one of :math:`6 \cdot 7 \cdot 7 = 294` values, so
  :math:`2 w(i, j)` is read from a :math:`294 \times 294` table. The result is the largest of the
  bounds, rounded up.
* **Pinned** (``pin_io=True``). The input and the output keep their slots, so their degree
  differences are counted directly and only the 5 interior slots are sorted:
  :math:`|d^+_1(\text{in}) - d^+_2(\text{in})| + |d^-_1(\text{out}) - d^-_2(\text{out})|` plus the
  sorted differences of the interior out- and in-degrees, halved and rounded up; in the
  assignment bound the input row and column, and the output row and column, are matched only to
  each other. These bound the pinned distance, which is at least the free one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnnas.ged._tables import NUM_SLOTS
from gnnas.ged.packing import NONE_LABEL, PackedCells, io_slot_order, pack

__all__ = ["BoundFeatures", "ged_lower_bound"]


@dataclass(frozen=True)
class BoundFeatures:
    """Per-cell summaries used by the lower bounds (all ``int16`` but the labels).

    Attributes:
        histogram (numpy.ndarray): ``(N, 6)`` counts of the padded labels (5 ops and ``none``).
        out_sorted, in_sorted (numpy.ndarray): ``(N, 7)`` sorted out- and in-degrees of the 7 slots.
        inner_out_sorted, inner_in_sorted (numpy.ndarray): ``(N, 5)`` sorted out- and in-degrees of
            the 5 interior slots of the pinned layout.
        input_out, output_in (numpy.ndarray): ``(N,)`` out-degree of the input, in-degree of the
            output.
        labels, out_degree, in_degree (numpy.ndarray): ``(N, 7)`` per slot, natural layout.
        labels_io, out_degree_io, in_degree_io (numpy.ndarray): ``(N, 7)`` per slot, pinned layout.
        signatures, signatures_io (numpy.ndarray): ``(N, 7)`` per slot, the code
            ``(label * 7 + in-degree) * 7 + out-degree`` of the slot's label and degrees, in the
            natural and the pinned layout.
    """

    histogram: np.ndarray
    out_sorted: np.ndarray
    in_sorted: np.ndarray
    inner_out_sorted: np.ndarray
    inner_in_sorted: np.ndarray
    input_out: np.ndarray
    output_in: np.ndarray
    labels: np.ndarray
    out_degree: np.ndarray
    in_degree: np.ndarray
    labels_io: np.ndarray
    out_degree_io: np.ndarray
    in_degree_io: np.ndarray
    signatures: np.ndarray
    signatures_io: np.ndarray

    @classmethod
    def of(cls, packed: PackedCells) -> BoundFeatures:
        """Computes the features of packed cells.

        Args:
            packed (PackedCells): the cells.

        Returns:
            BoundFeatures: one row per cell.
        """
        out_degree = np.asarray(packed.cells.out_degree)  # (N, 7) int16
        in_degree = np.asarray(packed.cells.in_degree)
        order = io_slot_order(packed.num_vertices)
        out_io = np.take_along_axis(out_degree, order, axis=1)
        in_io = np.take_along_axis(in_degree, order, axis=1)
        histogram = (packed.labels[:, :, None] == np.arange(NONE_LABEL + 1)).sum(axis=1, dtype=np.int16)
        return cls(
            histogram=histogram,
            out_sorted=np.sort(out_degree, axis=1),
            in_sorted=np.sort(in_degree, axis=1),
            inner_out_sorted=np.sort(out_io[:, 1:6], axis=1),
            inner_in_sorted=np.sort(in_io[:, 1:6], axis=1),
            input_out=out_io[:, 0],
            output_in=in_io[:, 6],
            labels=packed.labels,
            out_degree=out_degree,
            in_degree=in_degree,
            labels_io=packed.labels_io,
            out_degree_io=out_io,
            in_degree_io=in_io,
            signatures=_signatures(packed.labels, in_degree, out_degree),
            signatures_io=_signatures(packed.labels_io, in_io, out_io),
        )

    def take(self, index: Any) -> BoundFeatures:
        """The features of some of the cells.

        Args:
            index (int, slice or numpy.ndarray): which rows, as numpy indexes them.

        Returns:
            BoundFeatures: the rows ``index`` of every array.
        """
        return BoundFeatures(**{name: value[index] for name, value in self.__dict__.items()})


def _signatures(labels: np.ndarray, in_degree: np.ndarray, out_degree: np.ndarray) -> np.ndarray:
    return (labels.astype(np.int16) * NUM_SLOTS + in_degree) * NUM_SLOTS + out_degree


# 2 w(i, j) between every two slot signatures (label, in-degree, out-degree): (294, 294) int8
_SIGNATURE = np.arange((NONE_LABEL + 1) * NUM_SLOTS * NUM_SLOTS)
_SIGNATURE_LABEL = _SIGNATURE // (NUM_SLOTS * NUM_SLOTS)
_SIGNATURE_IN = _SIGNATURE // NUM_SLOTS % NUM_SLOTS
_SIGNATURE_OUT = _SIGNATURE % NUM_SLOTS
_SIGNATURE_COST = (
    2 * (_SIGNATURE_LABEL[:, None] != _SIGNATURE_LABEL[None, :])
    + np.abs(_SIGNATURE_IN[:, None] - _SIGNATURE_IN[None, :])
    + np.abs(_SIGNATURE_OUT[:, None] - _SIGNATURE_OUT[None, :])
).astype(np.int8)
_SIGNATURE_COST.setflags(write=False)

# in the pinned layout, slot 0 (input) and slot 6 (output) may only be matched to themselves
_SLOTS = np.arange(NUM_SLOTS)
_PINNED_FORBIDDEN = ((_SLOTS[:, None] == 0) != (_SLOTS[None, :] == 0)) | (
    (_SLOTS[:, None] == NUM_SLOTS - 1) != (_SLOTS[None, :] == NUM_SLOTS - 1)
)


def cheap_bounds(a: BoundFeatures, b: BoundFeatures, pin_io: bool = False) -> np.ndarray:
    """Label-histogram plus sorted-degree bounds, ``a`` and ``b`` broadcast along the first axis."""
    labels = np.abs(a.histogram - b.histogram).sum(axis=-1) // 2
    if pin_io:
        twice = (
            np.abs(a.input_out - b.input_out)
            + np.abs(a.output_in - b.output_in)
            + np.abs(a.inner_out_sorted - b.inner_out_sorted).sum(axis=-1)
            + np.abs(a.inner_in_sorted - b.inner_in_sorted).sum(axis=-1)
        )
    else:
        twice = np.abs(a.out_sorted - b.out_sorted).sum(axis=-1)
        twice += np.abs(a.in_sorted - b.in_sorted).sum(axis=-1)
    return (labels + (twice + 1) // 2).astype(np.int32)


def assignment_bounds(a: BoundFeatures, b: BoundFeatures, pin_io: bool = False) -> np.ndarray:
    """Row- and column-minimum assignment bounds, ``a`` and ``b`` broadcast along the first axis."""
    if len(a.labels) == 1:
        return one_to_many_assignment(a, b, pin_io)
    if len(b.labels) == 1:  # the bound, the larger of the row and the column sums, is symmetric
        return one_to_many_assignment(b, a, pin_io)
    if pin_io:
        la, oa, ia, lb, ob, ib = (a.labels_io, a.out_degree_io, a.in_degree_io,
                                  b.labels_io, b.out_degree_io, b.in_degree_io)
    else:
        la, oa, ia, lb, ob, ib = a.labels, a.out_degree, a.in_degree, b.labels, b.out_degree, b.in_degree
    twice = 2 * (la[:, :, None] != lb[:, None, :]).astype(np.int16)  # (n, 7, 7): 2 w(i, j)
    twice += np.abs(oa[:, :, None] - ob[:, None, :])
    twice += np.abs(ia[:, :, None] - ib[:, None, :])
    if pin_io:
        twice[:, _PINNED_FORBIDDEN] = 4 * NUM_SLOTS * NUM_SLOTS
    rows = twice.min(axis=2).sum(axis=1)
    cols = twice.min(axis=1).sum(axis=1)
    return ((np.maximum(rows, cols) + 1) // 2).astype(np.int32)


def one_to_many_assignment(one: BoundFeatures, many: BoundFeatures, pin_io: bool = False,
                           rows: np.ndarray | None = None) -> np.ndarray:
    """:func:`assignment_bounds` of one cell against the cells ``rows`` of ``many`` (all: :obj:`None`),
    gathered from the signature costs; ``(N,)`` ``int32``."""
    mine = (one.signatures_io if pin_io else one.signatures)[0]  # (7,)
    theirs = many.signatures_io if pin_io else many.signatures  # (N, 7)
    if rows is not None:
        theirs = theirs[rows]
    if pin_io:  # input to input and output to output; the 5 interior slots among themselves
        fixed = (_SIGNATURE_COST[mine[0], theirs[:, 0]].astype(np.int16)
                 + _SIGNATURE_COST[mine[-1], theirs[:, -1]])
        mine, theirs = mine[1:-1], theirs[:, 1:-1]
    cost = _SIGNATURE_COST[mine]  # (k, 294): 2 w(i, ·) for each slot i of the one cell
    rows = cost[:, theirs].min(axis=2).sum(axis=0, dtype=np.int16)  # Σ_i min_j 2 w(i, j), (N,)
    cols = cost.min(axis=0)[theirs].sum(axis=1, dtype=np.int16)  # Σ_j min_i 2 w(i, j)
    if pin_io:
        rows += fixed
        cols += fixed
    return ((np.maximum(rows, cols) + 1) // 2).astype(np.int32)


def bounds_from_features(a: BoundFeatures, b: BoundFeatures, pin_io: bool = False) -> np.ndarray:
    """The best of all the bounds, ``a`` and ``b`` broadcast along the first axis, ``int32``."""
    return np.maximum(cheap_bounds(a, b, pin_io), assignment_bounds(a, b, pin_io))


def ged_lower_bound(cells_a: Any, cells_b: Any, *, pin_io: bool = False) -> np.ndarray:
    r"""Lower bounds on :math:`\operatorname{GED}(a_i, b_i)` from labels and degrees.

    See the module documentation for the bound and its proof. It costs a few operations per pair
    (no permutations) and never exceeds the exact distance; :func:`~gnnas.ged.nearest_cells` uses
    it to skip candidates. From one cell to many, :meth:`GEDIndex.lower_bound
    <gnnas.ged.GEDIndex.lower_bound>` reuses the candidates' summaries.

    Args:
        cells_a (Sequence[ArchSpec | Data] | CellArray): ``N`` cells.
        cells_b (Sequence[ArchSpec | Data] | CellArray): ``N`` cells.
        pin_io (bool, optional): bound the pinned distance instead (see
            :func:`~gnnas.ged.graph_edit_distance`). (default: :obj:`False`)

    Returns:
        numpy.ndarray: ``(N,)`` ``int32`` lower bounds.

    Raises:
        ValueError: if an element is not a cell or the lengths differ.
    """
    pa, pb = pack(cells_a, "cells_a"), pack(cells_b, "cells_b")
    if len(pa) != len(pb):
        raise ValueError(f"cells_a and cells_b must have the same length, got {len(pa)} and {len(pb)}")
    return bounds_from_features(BoundFeatures.of(pa), BoundFeatures.of(pb), pin_io)

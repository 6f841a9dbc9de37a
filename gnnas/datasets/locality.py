r"""The locality dataset of the paper: batches of classes, each an anchor cell and its positives.

Each batch holds ``classes_per_batch`` classes; a class is an anchor cell and ``num_positives``
positives, each made *independently* from the anchor by a few random graph edits (see
:mod:`gnnas.transforms.graph_edit`); the label of a graph is the index of its class within the
batch, so the other classes of the batch act as negatives for a metric-learning loss. Anchors
are drawn from a collection of cells (by default the whole NAS-Bench-101 space) without
replacement within an epoch.

Everything is a pure function of ``(seed, epoch, batch index)``: the order of the anchors of
an epoch comes from ``numpy.random.default_rng([seed, 0, epoch])`` and the edits of batch ``b``
from ``numpy.random.default_rng([seed, 1, epoch, b])``. So a run can resume exactly at any batch
(``start_batch``), and the batches can be shared among DataLoader workers and distributed
processes, which then yield exactly the batches of a single process, in the same order::

    from torch.utils.data import DataLoader
    from gnnas.datasets import LocalityDataset

    dataset = LocalityDataset(seed=0)               # 64 classes x 8 graphs = 512 graphs per batch
    loader = DataLoader(dataset, batch_size=None, num_workers=2)
    for epoch in range(2):
        dataset.set_epoch(epoch)                    # before the loader's iterator is created
        for batch in loader:                        # a torch_geometric.data.Batch
            batch.x, batch.edge_index, batch.batch  # the graphs
            batch.label                             # (512,) class index in the batch
            batch.tokens                            # (512, 27) decoder targets
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info
from torch_geometric.data import Batch

from gnnas.space.cell_array import CellArray
from gnnas.space.spec import ArchSpec
from gnnas.transforms.anchor import Anchor, to_spec
from gnnas.transforms.graph_edit import (
    check_int,
    draw_num_edits,
    edit_outcome_any,
    edit_weights,
    num_edits_cdf,
    python_random,
)

__all__ = ["LocalityDataset", "collate_cells"]

def collate_cells(cells: Sequence[tuple[int, Sequence[int], Sequence[int]]],
                  **graph_attrs: torch.Tensor) -> Batch:
    r"""Batches cells given as ``(num_vertices, successor bitmasks, op indices)`` into a PyG Batch.

    The cells become a :class:`~gnnas.space.CellArray` (through its adjacency words) and
    :meth:`~gnnas.space.CellArray.to_batch` makes the batch: the same as ``Batch.from_data_list``
    of the graphs' :meth:`ArchSpec.to_data` with ``tokens`` added, built with numpy at once.

    Args:
        cells (Sequence[tuple]): the cells; ``rows[i]`` has bit ``j`` set for an edge ``i → j``,
            ``ops[i]`` is the index of the op in :data:`~gnnas.space.ops.OPS`.
        **graph_attrs (torch.Tensor): graph-level attributes with one entry per cell (first
            dimension ``B``), e.g. ``label``.

    Returns:
        torch_geometric.data.Batch: with ``x``, ``edge_index``, ``tokens``, the ``graph_attrs``,
        ``batch`` and ``ptr``.

    Shapes:
        - **x** :math:`(\sum_g V_g, 5)`, **edge_index** :math:`(2, \sum_g |E_g|)`,
          **tokens** :math:`(B, 27)`, **batch** :math:`(\sum_g V_g,)`, **ptr** :math:`(B + 1,)`
    """
    num_graphs = len(cells)
    codes = np.empty(num_graphs, dtype=np.uint64)  # bit 7 * i + j: the edge i → j
    ops7 = np.full((num_graphs, 7), -1, dtype=np.int8)  # the ops, padded to 7 slots
    for g, (n, rows, cell_ops) in enumerate(cells):
        code = 0
        for i in range(n - 1):
            code |= rows[i] << (7 * i)
        codes[g] = code
        ops7[g, :n] = cell_ops
    return CellArray.unpack(codes, ops7, validate=False).to_batch(**graph_attrs)  # edits keep cells valid


class LocalityDataset(IterableDataset):
    r"""Batches of classes for locality-based metric learning, made on the fly (the paper, Sec. 3).

    Batch ``b`` of epoch ``e`` holds the classes of the anchors at positions
    ``b * classes_per_batch ...`` of the epoch's random order of the anchors. Its graphs are
    ordered class by class: the anchor, then its ``num_positives`` positives. A positive gets
    ``k`` edits with probability proportional to ``num_edits_weights[k - 1]``; where a cell has
    no valid outcome at ``k`` edits (the chain ``input → v → output`` has none at 3), the nearest
    other number of edits is used, and ``num_edits`` records it. The one cell without any positive
    (``input → output``) is not used as an anchor.

    Each yielded :class:`~torch_geometric.data.Batch` has the attributes

    - ``x``, ``edge_index``, ``batch``, ``ptr``: the graphs, as :meth:`ArchSpec.to_data`;
    - ``label`` (long): the class index within the batch, the metric-learning label;
    - ``tokens`` (long): the 27-token sequence of each graph (:meth:`ArchSpec.to_tokens`);
    - ``num_edits`` (long): the number of edits applied, ``0`` for anchors;
    - ``anchor_id`` (long): the index in ``cells`` of the class's anchor;
    - ``ged`` (long, only with ``compute_ged=True``): the exact graph edit distance between each
      graph and its anchor (:func:`gnnas.graph_edit_distance`), ``0`` for anchors.

    **Sharding.** With ``world_size`` processes and ``K`` DataLoader workers each, process
    ``rank`` takes the batches ``start_batch + rank + world_size * m`` (``m = 0, 1, ...``) and
    its worker ``w`` those with ``m % K == w``. A :class:`~torch.utils.data.DataLoader` asks its
    workers for items in turn (worker 0, 1, ..., K-1, 0, ...) and returns them in that order,
    so a process yields its batches in increasing order, exactly as with ``num_workers=0``; the
    processes together yield every batch of the epoch from ``start_batch`` on, once. At step
    ``m`` the processes hold the consecutive batches ``start_batch + world_size * m + rank``, so
    after ``s`` steps of every process, resume with ``start_batch + world_size * s``.
    Use ``DataLoader(dataset, batch_size=None, num_workers=K)``; call :meth:`set_epoch` before
    the loader's iterator is created (not with ``persistent_workers=True``, whose workers keep
    the old copy).

    Args:
        cells (Sequence[ArchSpec] | CellArray, optional): the anchors to draw from, a sequence of
            :class:`~gnnas.space.ArchSpec`, a :class:`~gnnas.space.CellArray` or the enumerated
            space (whose anchors are read straight from the arrays). (default: :obj:`None`, the
            whole space from :func:`gnnas.space.enumerate_cells`)
        classes_per_batch (int, optional): classes (anchors) per batch. (default: :obj:`64`)
        num_positives (int, optional): positives per anchor. (default: :obj:`7`)
        max_edits (int, optional): the largest number of edits of a positive. (default: :obj:`3`)
        weights (Mapping[str, float], optional): relative weights of the edit combinations, see
            :func:`gnnas.transforms.edit_weights`. (default: :obj:`None`, the paper's mix)
        num_edits_weights (Sequence[float], optional): relative probabilities of ``1 ..
            max_edits`` edits. (default: :obj:`None`, uniform)
        compute_ged (bool, optional): add ``ged`` to each batch (slow: exact GED of every
            positive). (default: :obj:`False`)
        seed (int, optional): the seed; :obj:`None` draws one, kept in :attr:`seed`.
            (default: :obj:`0`)
        epoch (int, optional): the epoch. (default: :obj:`0`)
        start_batch (int, optional): the first batch of the epoch to yield (to resume);
            the earlier batches are not computed. (default: :obj:`0`)
        drop_last (bool, optional): leave out the last batch of an epoch when it would have
            fewer than ``classes_per_batch`` classes. Its anchors are then not used in that
            epoch (they are in other epochs, whose orders differ). (default: :obj:`True`)
        rank (int, optional): this process's rank. (default: :obj:`None`, from
            :mod:`torch.distributed` if initialised when the dataset is built, else :obj:`0`)
        world_size (int, optional): the number of processes. (default: :obj:`None`, as ``rank``)
        max_tries (int, optional): random draws per edit combination before exhaustive search.
            (default: :obj:`16`)

    Raises:
        ValueError: if an argument is out of range, ``cells`` holds something other than
            :class:`ArchSpec`, or fewer cells than one class are usable.
    """

    def __init__(
        self,
        cells: Sequence[ArchSpec] | CellArray | None = None,
        *,
        classes_per_batch: int = 64,
        num_positives: int = 7,
        max_edits: int = 3,
        weights: Mapping[str, float] | None = None,
        num_edits_weights: Sequence[float] | None = None,
        compute_ged: bool = False,
        seed: int | None = 0,
        epoch: int = 0,
        start_batch: int = 0,
        drop_last: bool = True,
        rank: int | None = None,
        world_size: int | None = None,
        max_tries: int = 16,
    ) -> None:
        super().__init__()
        self.classes_per_batch = check_int(classes_per_batch, "classes_per_batch", 1)
        self.num_positives = check_int(num_positives, "num_positives", 0)
        self.max_edits = check_int(max_edits, "max_edits", 1)
        self.max_tries = check_int(max_tries, "max_tries", 1)
        self._weights = edit_weights(weights, self.max_edits)
        self._weights = {k: w for k, w in self._weights.items() if k <= self.max_edits}
        self._num_edits_cdf = num_edits_cdf(num_edits_weights, self.max_edits)
        self.compute_ged = bool(compute_ged)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        self.seed = check_int(seed, "seed", 0)
        self.drop_last = bool(drop_last)
        if cells is None:
            from gnnas.space import enumerate_cells

            cells = enumerate_cells()
        self.cells = cells
        self._anchor_ids = _usable_anchors(cells)
        self._packed = _packed_arrays(cells)
        if len(self._anchor_ids) < self.classes_per_batch and self.drop_last:
            raise ValueError(
                f"{len(self._anchor_ids)} usable anchors are fewer than classes_per_batch="
                f"{self.classes_per_batch}; pass drop_last=False or fewer classes"
            )
        if rank is None and world_size is None and torch.distributed.is_available() \
                and torch.distributed.is_initialized():
            rank, world_size = torch.distributed.get_rank(), torch.distributed.get_world_size()
        self.world_size = check_int(1 if world_size is None else world_size, "world_size", 1)
        self.rank = check_int(0 if rank is None else rank, "rank", 0)
        if self.rank >= self.world_size:
            raise ValueError(f"rank must be in 0..{self.world_size - 1}, got {self.rank}")
        self._order: tuple[int, np.ndarray] | None = None
        self.set_epoch(epoch, start_batch)

    # ------------------------------------------------------------------ epochs and sharding
    @property
    def num_anchors(self) -> int:
        """int: the number of usable anchors (cells with at least one positive)."""
        return len(self._anchor_ids)

    @property
    def num_batches(self) -> int:
        """int: the number of batches of an epoch, over all processes (``drop_last`` applied)."""
        if self.drop_last:
            return self.num_anchors // self.classes_per_batch
        return math.ceil(self.num_anchors / self.classes_per_batch)

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Sets the epoch to yield and the batch to start from.

        Args:
            epoch (int): the epoch.
            start_batch (int, optional): the first batch to yield. (default: :obj:`0`)

        Raises:
            ValueError: if either is not a non-negative integer, or ``start_batch`` is above
                :attr:`num_batches`.
        """
        self.epoch = check_int(epoch, "epoch", 0)
        self.start_batch = check_int(start_batch, "start_batch", 0)
        if self.start_batch > self.num_batches:
            raise ValueError(f"start_batch must be at most num_batches={self.num_batches}, got {start_batch}")

    def batch_indices(self) -> range:
        """The batches this process yields in the current epoch.

        Returns:
            range: the batch indices, all its workers together (see the sharding above).
        """
        return range(self.start_batch + self.rank, self.num_batches, self.world_size)

    def __len__(self) -> int:
        return len(self.batch_indices())

    def __iter__(self) -> Iterator[Batch]:
        indices = self.batch_indices()
        info = get_worker_info()
        if info is not None:
            indices = indices[info.id::info.num_workers]
        for b in indices:
            yield self.make_batch(b)

    # ------------------------------------------------------------------ batches
    def anchor_order(self, epoch: int | None = None) -> np.ndarray:
        """The order of the anchors in an epoch: indices into ``cells``.

        Args:
            epoch (int, optional): the epoch. (default: :obj:`None`, the current one)

        Returns:
            numpy.ndarray: ``int64`` array of shape ``(num_anchors,)``.

        Raises:
            ValueError: if ``epoch`` is not a non-negative integer.
        """
        epoch = self.epoch if epoch is None else check_int(epoch, "epoch", 0)
        if self._order is None or self._order[0] != epoch:
            permutation = np.random.default_rng([self.seed, 0, epoch]).permutation(self.num_anchors)
            self._order = (epoch, self._anchor_ids[permutation])
        return self._order[1]

    def make_batch(self, index: int, epoch: int | None = None) -> Batch:
        """Makes batch ``index`` of an epoch: a pure function of ``(seed, epoch, index)``.

        Args:
            index (int): the batch, ``0 <= index < num_batches``.
            epoch (int, optional): the epoch. (default: :obj:`None`, the current one)

        Returns:
            torch_geometric.data.Batch: see the class documentation.

        Raises:
            ValueError: if ``index`` is not a batch of the epoch or ``epoch`` is not a
                non-negative integer.
        """
        epoch = self.epoch if epoch is None else check_int(epoch, "epoch", 0)
        if not 0 <= index < self.num_batches:
            raise ValueError(f"batch index must be in 0..{self.num_batches - 1}, got {index}")
        ids = self.anchor_order(epoch)[index * self.classes_per_batch:(index + 1) * self.classes_per_batch]
        rnd = python_random(np.random.default_rng([self.seed, 1, epoch, index]))
        cdf = self._num_edits_cdf
        cells: list[tuple[int, Any, Any]] = []
        num_edits: list[int] = []
        pairs: tuple[list[ArchSpec], list[ArchSpec]] = ([], [])  # (anchor, positive) for the GED
        for anchor in self._anchors(ids):
            cells.append((anchor.n, anchor.rows, anchor.ops))
            num_edits.append(0)
            for _ in range(self.num_positives):
                k = draw_num_edits(cdf, rnd)
                (n, rows, ops, _), _, k = edit_outcome_any(anchor, k, self._weights, rnd, self.max_tries)
                cells.append((n, rows, ops))
                num_edits.append(k)
                if self.compute_ged:
                    pairs[0].append(anchor.spec)
                    pairs[1].append(to_spec(n, rows, ops))
        group = 1 + self.num_positives
        attrs = {
            "label": torch.arange(len(ids)).repeat_interleave(group),
            "num_edits": torch.tensor(num_edits, dtype=torch.long),
            "anchor_id": torch.from_numpy(np.repeat(ids.astype(np.int64), group)),
        }
        if self.compute_ged:
            from gnnas.ged import paired_ged  # the batched form of gnnas.graph_edit_distance

            ged = torch.zeros(len(cells), dtype=torch.long)
            is_positive = torch.ones(len(ids), group, dtype=torch.bool)
            is_positive[:, 0] = False
            if pairs[0]:
                ged[is_positive.view(-1)] = torch.as_tensor(np.asarray(paired_ged(*pairs), dtype=np.int64))
            attrs["ged"] = ged
        return collate_cells(cells, **attrs)

    def _anchors(self, ids: np.ndarray) -> list[Anchor]:
        """The anchors ``cells[ids]``, straight from the arrays where the cells are a CellArray."""
        if self._packed is None:
            return [Anchor(self.cells[i]) for i in ids.tolist()]
        chosen = self._packed[ids]
        rows = chosen.successors().tolist()  # (A, 7) bitmasks
        ops = chosen.op_indices.tolist()
        return [Anchor.from_bits(n, r[:n], o[:n], str(h))
                for n, r, o, h in zip(chosen.num_vertices.tolist(), rows, ops, chosen.hashes, strict=True)]

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_anchors={self.num_anchors}, classes_per_batch="
                f"{self.classes_per_batch}, num_positives={self.num_positives}, max_edits={self.max_edits}, "
                f"seed={self.seed}, epoch={self.epoch})")


def _packed_arrays(cells: Any) -> CellArray | None:
    """The cells as a :class:`CellArray` where they are one or hold one (the enumerated space), else None."""
    if isinstance(cells, CellArray):
        return cells
    held = getattr(cells, "cells", None)
    return held if isinstance(held, CellArray) else None


def _usable_anchors(cells: Sequence[ArchSpec]) -> np.ndarray:
    """Indices of the cells that have a positive: all but ``input → output``."""
    try:
        size = len(cells)
    except TypeError as error:
        raise ValueError(f"cells must be a sequence of ArchSpec, got {type(cells).__name__}") from error
    num_vertices = getattr(cells, "num_vertices", None)
    if isinstance(num_vertices, np.ndarray) and num_vertices.shape == (size,):  # the enumerated space
        return np.flatnonzero(num_vertices > 2).astype(np.int64)
    keep = np.ones(size, dtype=bool)
    for i in range(size):
        cell = cells[i]
        if not isinstance(cell, ArchSpec):
            raise ValueError(f"cells must hold ArchSpec objects, item {i} is a {type(cell).__name__}")
        keep[i] = cell.num_vertices > 2
    return np.flatnonzero(keep).astype(np.int64)

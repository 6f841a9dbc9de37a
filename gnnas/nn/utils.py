"""Helpers between cells and the tensors the networks take."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gnnas.space.cell_array import CellArray
from gnnas.space.spec import ArchSpec
from gnnas.space.tokens import SEQ_LEN

__all__ = ["cell_to_data", "cells_to_batch", "tokens_to_cells", "MAX_LAYERS", "MAX_CHANNELS"]


def cell_to_data(cell: ArchSpec) -> Data:
    """Returns ``cell.to_data()`` with its token sequence attached as ``tokens``, long ``(1, 27)``.

    Args:
        cell (ArchSpec): the cell.

    Returns:
        torch_geometric.data.Data: ``x``, ``edge_index``, ``num_nodes`` and ``tokens``.

    Raises:
        ValueError: if ``cell`` is not an :class:`~gnnas.space.spec.ArchSpec`.
    """
    if not isinstance(cell, ArchSpec):
        raise ValueError(f"expected an ArchSpec, got {type(cell).__name__}")
    data = cell.to_data()
    data.tokens = torch.tensor([cell.to_tokens()], dtype=torch.long)
    return data


def cells_to_batch(cells: Sequence[ArchSpec] | CellArray) -> Batch:
    """Collates cells into one PyG :class:`~torch_geometric.data.Batch`.

    The same batch as ``Batch.from_data_list`` of :func:`cell_to_data` of every cell, made by
    :meth:`CellArray.to_batch <gnnas.space.CellArray.to_batch>`.

    Args:
        cells (Sequence[ArchSpec] | CellArray): the cells, at least one.

    Returns:
        torch_geometric.data.Batch: ``x`` (one-hot ops), ``edge_index``, ``batch``, ``ptr`` and
        ``tokens``, the cells' token sequences stacked into a long ``(B, 27)`` tensor.

    Raises:
        ValueError: if ``cells`` is empty or holds something other than
            :class:`~gnnas.space.spec.ArchSpec` (or a PyG ``Data`` made by
            :meth:`~gnnas.space.spec.ArchSpec.to_data`).
    """
    if isinstance(cells, ArchSpec):
        raise ValueError("cells must be a sequence of ArchSpec; wrap a single cell in a list")
    if not isinstance(cells, Sequence) and getattr(cells, "cells", None) is None:
        cells = list(cells)  # an iterable of cells
    array = CellArray.of(cells)
    if not len(array):
        raise ValueError("cells must hold at least one ArchSpec")
    return array.to_batch()


def tokens_to_cells(tokens: Tensor) -> list[ArchSpec]:
    """Turns token sequences into cells with :meth:`ArchSpec.from_tokens`.

    Args:
        tokens (torch.Tensor): long ``(B, 27)``.

    Returns:
        list[ArchSpec]: one cell per row.

    Raises:
        ValueError: if ``tokens`` has the wrong shape or a row is not a valid cell.
    """
    if not isinstance(tokens, Tensor) or tokens.dim() != 2 or tokens.shape[1] != SEQ_LEN:
        shape = tuple(tokens.shape) if isinstance(tokens, Tensor) else type(tokens).__name__
        raise ValueError(f"tokens must have shape (B, {SEQ_LEN}), got {shape}")
    return [_cell_from_tokens(tuple(row)) for row in tokens.tolist()]


@functools.lru_cache(maxsize=1 << 14)
def _cell_from_tokens(row: tuple[int, ...]) -> ArchSpec:
    """:meth:`ArchSpec.from_tokens`, remembered: NAO decodes the same rows at step size after step
    size (its seeds move little), and building a cell (pruning, the hash) costs more than
    decoding it. A spec is immutable, so the same object can be returned again."""
    return ArchSpec.from_tokens(row)


#: The largest ``num_layers`` and the largest width (``*_channels``) the networks accept: far
#: beyond any useful controller, small enough that a typo cannot take all the memory.
MAX_LAYERS, MAX_CHANNELS = 256, 2**20


def _check_positive_ints(**values: int) -> None:
    """Raises :class:`ValueError` naming the first of ``values`` that is not a positive int, or
    exceeds :data:`MAX_LAYERS` (``num_layers``) or :data:`MAX_CHANNELS` (the widths)."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
        limit = MAX_LAYERS if name == "num_layers" else MAX_CHANNELS
        if value > limit:
            raise ValueError(f"{name} must be at most {limit:,}, got {value:,}")


def _check_dropout(dropout: float) -> None:
    """Raises :class:`ValueError` if ``dropout`` lies outside ``[0, 1)``."""
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")

r"""Synthetic records in the official format, for tests and benchmarks.

No machine of the project can download the official files, so tests and the speed benchmark
write files of the same format and size with :func:`write_nasbench_tfrecord`. The metrics are
random (seeded) but shaped like the real ones: float32 values stored as doubles, three
evaluations per run (start, halfway, final) and the layouts of the two official files:

- ``"only108"``: three runs per cell at 108 epochs (``nasbench_only108.tfrecord``);
- ``"full"``: twelve runs per cell, 4, 12, 36 and 108 epochs × three repeats
  (``nasbench_full.tfrecord``).

Example::

    >>> from gnnas.nasbench import NASBench101
    >>> from gnnas.nasbench.synthetic import (cells_from_specs, random_specs, synthetic_records,
    ...                                       write_nasbench_tfrecord)
    >>> cells = cells_from_specs(random_specs(3, seed=0))   # (hash, adjacency, ops, parameters)
    >>> write_nasbench_tfrecord("small.tfrecord", synthetic_records(cells, "full", seed=0))
    36
    >>> NASBench101.from_tfrecord("small.tfrecord", cache_dir=".", progress=False)
    NASBench101(cells=3, epochs=[4, 12, 36, 108], repeats=3, source='...small.tfrecord')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from gnnas.nasbench.record import EvaluationData, ModelMetrics, NASBenchRecord
from gnnas.nasbench.tfrecord import write_tfrecord
from gnnas.space.ops import INTERIOR_OPS, MAX_VERTICES
from gnnas.space.spec import ArchSpec

__all__ = ["LAYOUTS", "NUM_REPEATS", "synthetic_records", "write_nasbench_tfrecord", "cells_from_specs",
           "random_specs"]

#: The epoch budgets of each official layout.
LAYOUTS: dict[str, tuple[int, ...]] = {"only108": (108,), "full": (4, 12, 36, 108)}

#: Runs per (cell, epoch budget) in the official files.
NUM_REPEATS = 3


def synthetic_records(
    cells: Iterable[tuple[str, str, str, int]],
    layout: str = "only108",
    seed: int | None = None,
    num_repeats: int = NUM_REPEATS,
) -> Iterator[NASBenchRecord]:
    """Yields random records in the official format for the given cells.

    Args:
        cells (Iterable[tuple[str, str, str, int]]): ``(module_hash, adjacency, operations,
            trainable_parameters)`` per cell; nothing is checked here, so corrupt cells can be
            written on purpose.
        layout (str, optional): ``"only108"`` or ``"full"``. (default: :obj:`"only108"`)
        seed (int, optional): seed of the metrics. (default: :obj:`None`)
        num_repeats (int, optional): runs per cell and budget. (default: :obj:`3`)

    Yields:
        NASBenchRecord: ``len(budgets) * num_repeats`` records per cell, budget by budget.

    Raises:
        ValueError: if ``layout`` is unknown.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {sorted(LAYOUTS)}, got {layout!r}")
    budgets = LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    per_cell = len(budgets) * num_repeats
    for module_hash, adjacency, operations, params in cells:
        # (runs, 9): seconds per epoch, start accuracies (3), halfway (2) and final (3) accuracies.
        draws = rng.random((per_cell, 9)).astype(np.float32).astype(np.float64).tolist()
        run = 0
        for epochs in budgets:
            for _ in range(num_repeats):
                d = draws[run]
                run += 1
                seconds = float(np.float32(epochs * (8.0 + 20.0 * d[0])))
                start = EvaluationData(0.0, 0.0, 0.1 * d[1], 0.1 * d[2], 0.1 * d[3])
                halfway = EvaluationData(epochs / 2, float(np.float32(seconds / 2)), 0.3 + 0.5 * d[4],
                                         0.3 + 0.5 * d[5], 0.3 + 0.5 * d[5] * d[4])
                final = EvaluationData(float(epochs), seconds, 0.5 + 0.5 * d[6], 0.5 + 0.45 * d[7],
                                       0.5 + 0.45 * d[8])
                total = float(seconds * 1.2 + 30.0 * d[0])
                metrics = ModelMetrics([start, halfway, final], int(params), total)
                yield NASBenchRecord(module_hash, epochs, adjacency, operations, metrics)


def write_nasbench_tfrecord(path: str | os.PathLike, records: Iterable[NASBenchRecord]) -> int:
    """Writes records as an official-format TFRecord file.

    Args:
        path (str or os.PathLike): the file to create (an existing file is overwritten).
        records (Iterable[NASBenchRecord]): the records, in file order.

    Returns:
        int: the number of records written.
    """
    return write_tfrecord(path, (record.to_payload() for record in records))


def cells_from_specs(specs: Sequence) -> list[tuple[str, str, str, int]]:
    """Returns ``(hash, adjacency, operations, parameters)`` rows for :class:`~gnnas.ArchSpec` s.

    The parameter count is a made-up function of the cell (the real one needs the network).

    Args:
        specs (Sequence[ArchSpec]): the cells.

    Returns:
        list[tuple[str, str, str, int]]: one ``(hash, adjacency, operations, parameters)`` row
        per cell, as :func:`synthetic_records` takes them.
    """
    rows = []
    for spec in specs:
        adjacency, operations = spec.to_strings()
        rows.append((spec.hash, adjacency, operations, 100_000 * spec.num_vertices + 1_000 * spec.num_edges))
    return rows


def random_specs(num: int, seed: int | None = None, min_vertices: int = 2,
                 include_pruned: bool = False) -> list[ArchSpec]:
    r"""Returns ``num`` distinct (by hash) random valid :class:`~gnnas.ArchSpec` s.

    Each draw has ``min_vertices`` to 7 vertices, an upper-triangular adjacency with edge
    probability 0.4 and uniform interior operations; invalid draws are redrawn. Fast, but not
    uniform over the space (use :func:`gnnas.space.sample_cells` for that).

    Args:
        num (int): how many cells.
        seed (int, optional): seed of the draws. (default: :obj:`None`)
        min_vertices (int, optional): the fewest vertices of a draw, 2 to 7. (default: :obj:`2`)
        include_pruned (bool, optional): keep draws that lose vertices or edges to pruning (as
            their pruned cell). (default: :obj:`False`)

    Returns:
        list[ArchSpec]: the cells, in the order first drawn.

    Raises:
        ValueError: if ``min_vertices`` is not between 2 and 7.
    """
    if not 2 <= min_vertices <= MAX_VERTICES:
        raise ValueError(f"min_vertices must be between 2 and {MAX_VERTICES}, got {min_vertices}")
    rng = np.random.default_rng(seed)
    specs: dict[str, ArchSpec] = {}
    while len(specs) < num:
        size = int(rng.integers(min_vertices, MAX_VERTICES + 1))
        matrix = np.triu(rng.random((size, size)) < 0.4, k=1).astype(np.uint8)
        ops = ["input", *(INTERIOR_OPS[k] for k in rng.integers(0, 3, size - 2)), "output"]
        try:
            spec = ArchSpec(matrix, ops)
        except ValueError:
            continue
        if include_pruned or not spec.was_pruned:
            specs.setdefault(spec.hash, spec)
    return list(specs.values())

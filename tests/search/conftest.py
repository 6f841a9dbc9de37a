"""Fixtures of the search tests: a tiny synthetic NAS-Bench-101 table (CSV layout)."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest

from gnnas.nasbench import NASBench101
from gnnas.space import ArchSpec
from gnnas.space.ops import INTERIOR_OPS
from tests.threads import one_thread  # noqa: F401  (autouse: every test of the package runs on one thread)

TABLE_SIZE = 300


def random_cells(num: int, seed: int, exclude: set[str] = frozenset()) -> list[ArchSpec]:
    """``num`` distinct random valid cells (by hash), none of whose hashes is in ``exclude``."""
    rng = np.random.default_rng(seed)
    found: dict[str, ArchSpec] = {}
    while len(found) < num:
        size = int(rng.integers(3, 8))
        matrix = np.triu(rng.random((size, size)) < 0.45, k=1).astype(np.uint8)
        ops = ["input", *(INTERIOR_OPS[k] for k in rng.integers(3, size=size - 2)), "output"]
        try:
            spec = ArchSpec(matrix, ops)
        except ValueError:
            continue
        if spec.hash not in exclude:
            found.setdefault(spec.hash, spec)
    return list(found.values())


def synthetic_accuracy(spec: ArchSpec) -> float:
    """A made-up accuracy with locality: conv3x3 and edges help, max-pooling hurts, plus noise."""
    ops = spec.ops
    noise = int(spec.hash[:6], 16) / 16**6 - 0.5
    return (0.85 + 0.012 * ops.count("conv3x3-bn-relu") - 0.01 * ops.count("maxpool3x3")
            + 0.004 * spec.num_edges + 0.006 * noise)


@pytest.fixture(scope="session")
def table_cells(closed_cells: list[ArchSpec]) -> list[ArchSpec]:
    """300 random cells of at most 5 vertices: about as dense in that space (12%) as the real
    30,001-cell table is in the whole space (7%)."""
    rng = np.random.default_rng(0)
    return [closed_cells[i] for i in rng.choice(len(closed_cells), TABLE_SIZE, replace=False)]


def closed_space(max_vertices: int = 5) -> list[ArchSpec]:
    """Every cell with at most ``max_vertices`` vertices, by brute force (2,532 cells for 5): a
    table closed under op changes and edge flips, so searches on it never leave the domain."""
    found: dict[str, ArchSpec] = {}
    for v in range(2, max_vertices + 1):
        pairs = [(i, j) for i in range(v) for j in range(i + 1, v)]
        for bits in range(2 ** len(pairs)):
            matrix = np.zeros((v, v), dtype=np.uint8)
            for k, (i, j) in enumerate(pairs):
                matrix[i, j] = bits >> k & 1
            for ops in itertools.product(INTERIOR_OPS, repeat=v - 2):
                try:
                    spec = ArchSpec(matrix, ["input", *ops, "output"])
                except ValueError:
                    break  # invalid whatever the ops
                if spec.was_pruned:
                    break
                found.setdefault(spec.hash, spec)
    return list(found.values())


def write_table_csv(path, cells: list[ArchSpec]) -> str:
    """Writes cells in the layout of ``nb101_subset_30k.csv`` with :func:`synthetic_accuracy`."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hash", "adjacency", "operations", "val_acc_4", "val_acc_12", "val_acc_36",
                         "val_acc_108", "train_time_108", "trainable_parameters"])
        for spec in cells:
            adjacency, operations = spec.to_strings()
            accuracy = synthetic_accuracy(spec)
            writer.writerow([spec.hash, adjacency, operations, accuracy - 0.3, accuracy - 0.2,
                             accuracy - 0.1, accuracy, 1000.0, 1_000_000])
    return str(path)


@pytest.fixture(scope="session")
def table_csv(tmp_path_factory: pytest.TempPathFactory, table_cells: list[ArchSpec]) -> str:
    return write_table_csv(tmp_path_factory.mktemp("search") / "synthetic.csv", table_cells)


@pytest.fixture()
def table(table_csv: str) -> NASBench101:
    """300 random cells: a partial table, searched with ``mapping="nearest"``."""
    return NASBench101.from_csv(table_csv)


@pytest.fixture(scope="session")
def closed_cells() -> list[ArchSpec]:
    return closed_space(5)


@pytest.fixture(scope="session")
def closed_csv(tmp_path_factory: pytest.TempPathFactory, closed_cells: list[ArchSpec]) -> str:
    return write_table_csv(tmp_path_factory.mktemp("search") / "closed.csv", closed_cells)


@pytest.fixture()
def closed_table(closed_csv: str) -> NASBench101:
    """Every cell of at most 5 vertices: a table closed under edits, searched with ``mapping=None``."""
    return NASBench101.from_csv(closed_csv)

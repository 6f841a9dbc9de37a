"""Shared fixtures of the NAS-Bench-101 data tests: random valid cells and small official-format files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gnnas import ArchSpec
from gnnas.nasbench.record import NASBenchRecord
from gnnas.nasbench.synthetic import cells_from_specs, synthetic_records, write_nasbench_tfrecord
from gnnas.space.ops import INTERIOR_OPS

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "nb101"
REAL_RECORD = DATA / "nasbench_record_00005c14.tfrecord"
SUBSET_CSV = DATA / "nb101_subset_30k.csv"


def random_specs(num: int, seed: int) -> list[ArchSpec]:
    """``num`` distinct (by hash) random valid cells of 2..7 vertices."""
    rng = np.random.default_rng(seed)
    specs: dict[str, ArchSpec] = {}
    while len(specs) < num:
        size = int(rng.integers(2, 8))
        matrix = np.triu(rng.random((size, size)) < 0.4, k=1).astype(np.uint8)
        ops = ["input", *(INTERIOR_OPS[k] for k in rng.integers(0, 3, size - 2)), "output"]
        try:
            spec = ArchSpec(matrix, ops)
        except ValueError:
            continue
        if not spec.was_pruned:
            specs.setdefault(spec.hash, spec)
    return list(specs.values())


def write_synthetic(path: Path, specs: list[ArchSpec], layout: str, seed: int = 0) -> list[NASBenchRecord]:
    """Writes an official-format file for ``specs``; returns its records in file order."""
    records = list(synthetic_records(cells_from_specs(specs), layout=layout, seed=seed))
    write_nasbench_tfrecord(path, records)
    return records

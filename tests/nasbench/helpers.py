"""Shared fixtures of the NAS-Bench-101 data tests: random valid cells and small official-format files."""

from __future__ import annotations

from pathlib import Path

from gnnas import ArchSpec
from gnnas.nasbench.record import NASBenchRecord
from gnnas.nasbench.synthetic import (  # noqa: F401 (random_specs: for the test modules)
    cells_from_specs,
    random_specs,
    synthetic_records,
    write_nasbench_tfrecord,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "nb101"
REAL_RECORD = DATA / "nasbench_record_00005c14.tfrecord"
SUBSET_CSV = DATA / "nb101_subset_30k.csv"


def write_synthetic(path: Path, specs: list[ArchSpec], layout: str, seed: int = 0) -> list[NASBenchRecord]:
    """Writes an official-format file for ``specs``; returns its records in file order."""
    records = list(synthetic_records(cells_from_specs(specs), layout=layout, seed=seed))
    write_nasbench_tfrecord(path, records)
    return records

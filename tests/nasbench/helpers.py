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

#: One record of the official ``nasbench_full.tfrecord``, byte for byte (417 bytes, CRCs intact):
#: hash 00005c142e6f48ac74fdcf73e3439874, 4 epochs.
REAL_RECORD = Path(__file__).resolve().parents[1] / "data" / "nasbench_record_00005c14.tfrecord"


def write_synthetic(path: Path, specs: list[ArchSpec], layout: str, seed: int = 0) -> list[NASBenchRecord]:
    """Writes an official-format file for ``specs``; returns its records in file order."""
    records = list(synthetic_records(cells_from_specs(specs), layout=layout, seed=seed))
    write_nasbench_tfrecord(path, records)
    return records

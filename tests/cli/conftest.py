"""Fixtures of the command-line tests: one thread for torch, and a tiny official-format table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.threads import one_thread  # noqa: F401  (autouse: every test of the package runs on one thread)


@pytest.fixture(scope="session")
def tiny_tfrecord(space, tmp_path_factory) -> Path:
    """An official-format ``.tfrecord`` of 60 cells of the space (seeded synthetic metrics, 3 runs each)."""
    from gnnas.nasbench.synthetic import cells_from_specs, synthetic_records, write_nasbench_tfrecord

    cells = space.sample(60, seed=0)
    path = tmp_path_factory.mktemp("cli-data") / "tiny_only108.tfrecord"
    write_nasbench_tfrecord(path, synthetic_records(cells_from_specs(cells), layout="only108", seed=0))
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Runs ``gnnas ARGV`` in this process; returns ``(exit status, stdout, stderr)``."""
    from gnnas.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err

"""Speed of reading the official NAS-Bench-101 file: conversion (records/s) and cache loading.

No machine of the project can download ``nasbench_only108.tfrecord``, so this script first
writes a file of the same format and size with the project's writer: its cells are cells of the
space with their real hashes (all 423,624 for the size of the real file, else a seeded sample of
the enumerated space), their parameter counts made up, and their metrics random float32 values,
as in the real file. The conversion checks every record as it does for the real file: framing,
checksums, and each cell's hash recomputed.

The file goes to a temporary folder (or ``--data-dir``), never into the repository. Then it
measures:

- ``convert_tfrecord`` with 1 and with 2 worker processes (records per second of wall time,
  best of ``--repeats``, and per CPU second, which is what an idle machine would show when
  other programs share the cores), every checksum verified;
- ``NASBench101.from_tfrecord`` the first time (conversion + writing the cache) and the later
  loads from the cache (median of ``--repeats``).

Examples::

    python benchmarks/nasbench_speed.py                      # 100,000 records, a minute or two
    python benchmarks/nasbench_speed.py --records 1270872    # the size of nasbench_only108.tfrecord
    python benchmarks/nasbench_speed.py --records 5083488 --layout full   # nasbench_full.tfrecord

Results (JSON with the full configuration, and a PNG) go to ``results/nasbench_speed/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from gnnas.flags import deprecated_flag

REPO = Path(__file__).resolve().parents[1]


def space_cells(num_cells: int, seed: int) -> list[tuple[str, str, str, int]]:
    """``(hash, adjacency, operations, parameters)`` of ``num_cells`` cells of the space (all of
    them, in hash order, when ``num_cells`` is its size; else a seeded sample)."""
    import numpy as np

    from gnnas.nasbench.arrays import cell_strings
    from gnnas.space import enumerate_cells

    space = enumerate_cells(progress=False)
    index = (np.arange(len(space)) if num_cells == len(space)
             else np.sort(np.random.default_rng(seed).choice(len(space), num_cells, replace=False)))
    matrices = space.matrices[index].reshape(len(index), -1).astype(np.uint64)  # (N, 49), bit 7i + j
    words = (matrices << np.arange(49, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
    num_vertices = space.num_vertices[index]
    adjacency, operations = cell_strings(words, space.op_indices[index], num_vertices)
    edges = matrices.sum(axis=1).astype(np.int64)
    params = (100_000 * num_vertices.astype(np.int64) + 1_000 * edges).tolist()
    return list(zip(space.hashes[index].tolist(), adjacency, operations, params, strict=True))


def make_file(path: Path, num_cells: int, layout: str, seed: int) -> tuple[int, float]:
    """Writes the synthetic official-format file; returns (records, seconds)."""
    from gnnas.nasbench.synthetic import synthetic_records, write_nasbench_tfrecord

    cells = space_cells(num_cells, seed)
    start = time.perf_counter()
    records = write_nasbench_tfrecord(path, synthetic_records(cells, layout=layout, seed=seed))
    return records, time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000,
                        help="records in the generated file (1270872 = nasbench_only108.tfrecord)")
    parser.add_argument("--layout", choices=("only108", "full"), default="only108",
                        help="the record layout of the official file imitated (default: only108)")
    parser.add_argument("--worker-counts", type=int, nargs="+", default=[1, 2],
                        help="numbers of worker processes whose conversion is timed (default: 1 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timing repeats (best conversion, median load)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated records (default: 0)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where to write the generated file and cache (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and cache")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "nasbench_speed",
                        help="output folder (default: results/nasbench_speed)")
    deprecated_flag(parser, "--workers", "--worker-counts", dest="worker_counts", metavar="N,N",
                    type=lambda text: [int(w) for w in text.split(",") if w.strip()])
    return parser


def main(argv: list[str] | None = None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)

    from gnnas import NASBench101
    from gnnas.nasbench.convert import convert_tfrecord
    from gnnas.nasbench.synthetic import LAYOUTS, NUM_REPEATS
    from gnnas.space import NUM_CELLS

    per_cell = len(LAYOUTS[args.layout]) * NUM_REPEATS
    if not per_cell <= args.records <= per_cell * NUM_CELLS:
        parser.exit(2, f"{parser.prog}: error: --records must be between {per_cell} (one cell of the "
                       f"{args.layout} layout) and {per_cell * NUM_CELLS:,} (every cell), "
                       f"got {args.records:,}\n")
    if args.repeats < 1:
        parser.exit(2, f"{parser.prog}: error: --repeats must be at least 1, got {args.repeats}\n")
    num_cells = args.records // per_cell
    if args.data_dir is not None:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="nasbench_speed-", dir=args.data_dir))
    config = {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "cells": num_cells, "cells_from": "the enumerated space",
              "python": platform.python_version(), "cpu_count": os.cpu_count(),
              "load_average_at_start": os.getloadavg()}
    results: dict = {"config": config}
    try:
        path = workdir / f"synthetic_{args.layout}.tfrecord"
        print(f"writing {num_cells * per_cell:,} records ({num_cells:,} cells, {args.layout}) to {path} ...")
        records, seconds = make_file(path, num_cells, args.layout, args.seed)
        size = path.stat().st_size
        results["file"] = {"records": records, "bytes": size, "write_seconds": seconds,
                           "write_records_per_second": records / seconds}
        print(f"  {records:,} records, {size / 1e6:.1f} MB, written in {seconds:.1f} s")

        conversions = []
        for workers in args.worker_counts:
            times, cpu_times = [], []
            for _ in range(args.repeats):
                cpu_start = cpu_seconds()
                start = time.perf_counter()
                arrays = convert_tfrecord(path, progress=False, workers=workers)
                times.append(time.perf_counter() - start)
                cpu_times.append(cpu_seconds() - cpu_start)
                del arrays
            best = min(times)
            conversions.append({"workers": workers, "seconds": times, "best_seconds": best,
                                "records_per_second": records / best, "cpu_seconds": cpu_times,
                                "records_per_cpu_second": records / min(cpu_times)})
            print(f"  convert, {workers} worker(s): best {best:.2f} s of {len(times)} "
                  f"-> {records / best:,.0f} records/s (CPU time {min(cpu_times):.2f} s, "
                  f"{records / min(cpu_times):,.0f} records per CPU second)")
        results["convert"] = conversions

        cache = workdir / "cache"
        start = time.perf_counter()
        table = NASBench101.from_tfrecord(path, cache_dir=cache, progress=False)
        first = time.perf_counter() - start
        loads = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            table = NASBench101.from_tfrecord(path, cache_dir=cache, progress=False)
            loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        spec = table.spec(table.hashes[len(table) // 2])
        table.query(spec)
        first_query = time.perf_counter() - start
        cache_bytes = sum(f.stat().st_size for f in table.cache_path.iterdir())
        results["cache"] = {"first_call_seconds": first, "load_seconds": loads,
                            "median_load_seconds": statistics.median(loads), "cache_bytes": cache_bytes,
                            "first_query_seconds": first_query, "cells": len(table)}
        print(f"  from_tfrecord: first call {first:.2f} s (convert, write {cache_bytes / 1e6:.1f} MB), "
              f"then loads in {statistics.median(loads) * 1000:.0f} ms (median); first query "
              f"{first_query * 1000:.1f} ms")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"nasbench_speed_{args.layout}_{records}"
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=1))
    plot(results, args.out / f"{stem}.png")
    print(f"results in {args.out / stem}.json and .png")
    return results


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    conversions = results["convert"]
    left.bar([f"{c['workers']} worker(s)" for c in conversions],
             [c["records_per_second"] for c in conversions])
    left.set_ylabel("records / s")
    left.set_title(f"conversion, {results['file']['records']:,} records")
    right.bar(["first call", "cache load"], [results["cache"]["first_call_seconds"],
                                             results["cache"]["median_load_seconds"]])
    right.set_ylabel("seconds")
    right.set_title("NASBench101.from_tfrecord")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

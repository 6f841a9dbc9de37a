"""Builds the NAS-Bench-101 sample bundled with gnnas from its CSV, and proves it equal to the CSV.

gnnas ships 30,001 real NAS-Bench-101 cells as ``gnnas/data/nasbench101_30k.npz``
(:mod:`gnnas.nasbench.compact`), made from ``nb101_subset_30k.csv`` by this script:

1. read the CSV with ``NASBench101.from_csv(csv, verify=True)`` (every row's hash recomputed from
   its cell);
2. write the compact file (``--bundle``; an existing file only with ``--overwrite``), or with
   ``--check`` take the existing one as it is;
3. read it back and compare every array with the CSV's, value for value (``NaN`` where absent);
4. write the table read back as CSV again and compare it byte for byte with the input;
5. time ``NASBench101`` on the file (median of ``--repeats`` fresh loads) and report its size.

Examples::

    python benchmarks/bundled_table.py --data nb101_subset_30k.csv --overwrite   # rebuild the bundle
    python benchmarks/bundled_table.py --data nb101_subset_30k.csv --check       # prove the shipped one

Any difference exits with status 1 and names the first differing cell. Results (JSON with the
configuration) go to ``--out`` (default ``results/bundled_table/``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gnnas.flags import deprecated_flag

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "gnnas" / "data" / "nasbench101_30k.npz"


def differences(expected, actual) -> list[str]:
    """The fields of two :class:`NASBenchArrays` that differ, each with its first differing cell."""
    found = []
    for name in ("hashes", "adjacency", "num_vertices", "ops", "trainable_parameters", "epochs",
                 "num_repeats", "metrics", "available"):
        a, b = np.asarray(getattr(expected, name)), np.asarray(getattr(actual, name))
        if a.shape != b.shape:
            found.append(f"{name}: shape {a.shape} != {b.shape}")
            continue
        same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
        if a.dtype.kind == "f" and a.dtype != b.dtype:
            found.append(f"{name}: dtype {a.dtype} != {b.dtype}")
        if not same.all():
            row = int(np.argwhere(~same)[0][0])
            where = f"cell {expected.hashes[row]}" if name not in ("epochs", "available") else f"index {row}"
            found.append(f"{name}: {int((~same).sum())} values differ, first at {where}")
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True,
                        help="the CSV table, such as nb101_subset_30k.csv")
    parser.add_argument("--bundle", type=Path, default=BUNDLE,
                        help=f"the compact file (default: {BUNDLE.relative_to(REPO)})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace an existing --bundle")
    mode.add_argument("--check", action="store_true", help="write nothing: compare the existing --bundle")
    parser.add_argument("--repeats", type=int, default=5, help="timed loads (default: 5)")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "bundled_table",
                        help="output folder of bundled_table.json (default: results/bundled_table)")
    deprecated_flag(parser, "--csv", "--data")
    deprecated_flag(parser, "--results", "--out")
    return parser


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    if args.out.suffix == ".npz":  # --out named the compact file before it named the output folder
        raise SystemExit(f"--out {args.out} is the output folder now; the compact file is --bundle")

    from gnnas import NASBench101
    from gnnas.nasbench.compact import save_compact
    from gnnas.nasbench.csv_table import write_csv

    start = time.perf_counter()
    expected = NASBench101.from_csv(args.data, verify=True).arrays
    read_seconds = time.perf_counter() - start
    print(f"{args.data}: {expected.num_cells:,} cells, every hash verified ({read_seconds:.1f} s)")
    if not args.check:
        if args.bundle.exists() and not args.overwrite:
            raise SystemExit(f"{args.bundle} exists; pass --overwrite to replace it, or --check to compare "
                             "it")
        save_compact(expected, args.bundle)
        print(f"wrote {args.bundle}")
    elif not args.bundle.exists():
        raise SystemExit(f"--check: {args.bundle} does not exist")

    loads = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        table = NASBench101(args.bundle)
        loads.append(time.perf_counter() - start)
    found = differences(expected, table.arrays)
    with tempfile.TemporaryDirectory() as folder:
        again = Path(folder) / "again.csv"
        write_csv(table.arrays, again)
        csv_identical = sha256(again) == sha256(args.data)
    if not csv_identical:
        found.append("the CSV written back from the compact file differs from the input CSV")
    results = {
        "config": {"csv": str(args.data), "bundle": str(args.bundle), "out": str(args.out),
                   "check": args.check, "repeats": args.repeats,
                   "command": " ".join(["python", "benchmarks/bundled_table.py", *(argv or sys.argv[1:])]),
                   "python": platform.python_version(), "numpy": np.__version__},
        "num_cells": expected.num_cells,
        "csv_bytes": args.data.stat().st_size,
        "csv_sha256": sha256(args.data),
        "bundle_bytes": args.bundle.stat().st_size,
        "bundle_sha256": sha256(args.bundle),
        "csv_read_seconds": read_seconds,
        "load_seconds": {"median": statistics.median(loads), "all": loads},
        "equal": not found,
        "differences": found,
        "csv_written_back_identical": csv_identical,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bundled_table.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"{args.bundle}: {results['bundle_bytes']:,} bytes (CSV {results['csv_bytes']:,}); load "
          f"{1000 * results['load_seconds']['median']:.0f} ms (median of {args.repeats})")
    if found:
        print("DIFFERENT from the CSV:\n  " + "\n  ".join(found), file=sys.stderr)
        raise SystemExit(1)
    print(f"equal to the CSV on all {expected.num_cells:,} cells and every field; the CSV written back "
          "is byte for byte the input")
    return results


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

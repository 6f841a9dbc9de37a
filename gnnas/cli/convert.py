r"""``gnnas convert PATH``: convert an official NAS-Bench-101 ``.tfrecord`` file into the cache.

A thin wrapper over :meth:`gnnas.nasbench.NASBench101.from_tfrecord`: every record's checksums are
verified while the file is converted (with a progress bar) into numpy arrays in the cache; later
``NASBench101.from_tfrecord(PATH)`` calls (and ``gnnas search --data PATH``) load the cache in
about 0.1 s.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from gnnas.cli.settings import CLIError, folder_flag

NAME = "convert"
HELP = "convert an official NAS-Bench-101 .tfrecord file into the cache (progress bar)"
DESCRIPTION = """\
Converts an official NAS-Bench-101 file (nasbench_only108.tfrecord, about 499 MB, or
nasbench_full.tfrecord, about 1.95 GB; gnnas download fetches, checks and converts them)
into a cache of numpy arrays, checking every record's CRC-32C checksums; a damaged record is
reported with its byte offset. The cache is rebuilt when the file's size or
modification time changes; converting a file whose cache is current only loads it.

The cache folder is --cache-dir, else $GNNAS_CACHE_DIR, else $XDG_CACHE_HOME/gnnas, else
~/.cache/gnnas (a subfolder named after the file and its absolute path).

example:
  gnnas convert ~/data/nasbench_only108.tfrecord
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``gnnas convert`` to ``parser``."""
    parser.add_argument("path", type=Path, help="the official .tfrecord file")
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="cache folder (default: $GNNAS_CACHE_DIR, else ~/.cache/gnnas)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes parsing records; 1 is fastest on a busy machine (default: 1)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Converts (or loads) the file and prints what it holds; returns the exit status."""
    from gnnas.nasbench import NASBench101

    path: Path = args.path.expanduser()
    if path.suffix.lower() == ".csv":
        raise CLIError(
            f"{os.fspath(args.path)!r} is a CSV table: CSV tables need no conversion, pass them "
            "directly to --data (gnnas search --data TABLE.csv)"
        )
    if not path.exists():
        raise CLIError(
            f"no such file: {os.fspath(args.path)!r} (the official nasbench_only108.tfrecord "
            "or nasbench_full.tfrecord)"
        )
    if not path.is_file():
        raise CLIError(f"{os.fspath(args.path)!r} is not a file")
    if args.workers < 1:
        raise CLIError(f"--workers must be at least 1, got {args.workers}")
    start = time.perf_counter()
    table = NASBench101.from_tfrecord(
        path,
        cache_dir=folder_flag("--cache-dir", args.cache_dir),
        progress=not args.no_progress,
        workers=args.workers,
    )
    seconds = time.perf_counter() - start
    repeats = table.arrays.metrics.shape[2]
    print(
        f"{path.name}: {len(table):,} cells, epoch budgets {sorted(table.valid_epochs)}, "
        f"up to {repeats} runs each ({seconds:.1f} s)"
    )
    print(f"cache: {table.cache_path}")
    return 0

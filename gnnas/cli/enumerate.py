r"""``gnnas enumerate``: enumerate and cache the NAS-Bench-101 space, print the counts per size.

A thin wrapper over :func:`gnnas.space.enumerate_cells`: the first call enumerates and hashes
the 423,624 unique cells (about 10 s) and writes the cache; later calls read it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from gnnas.cli.settings import folder_flag

NAME = "enumerate"
HELP = "enumerate and cache the 423,624 NAS-Bench-101 cells; print counts per size and the cache path"
DESCRIPTION = """\
Enumerates every unique NAS-Bench-101 cell (423,624, one representative each, ordered by the
official module hash), writes them to the cache (about 8 MB) and prints the number of cells per
number of vertices, checked against the published counts, and the cache file.

The cache folder is --cache-dir, else $GNNAS_CACHE_DIR, else $XDG_CACHE_HOME/gnnas, else
~/.cache/gnnas. Delete the printed file to enumerate again.

example:
  gnnas enumerate
  GNNAS_CACHE_DIR=/data/gnnas gnnas enumerate --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``gnnas enumerate`` to ``parser``."""
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="folder of the cache file (default: $GNNAS_CACHE_DIR, else ~/.cache/gnnas)",
    )
    parser.add_argument("--json", action="store_true", help="print the counts and the path as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def cache_file(cache_dir: str | os.PathLike[str] | None) -> Path:
    """The cache file :func:`gnnas.space.enumerate_cells` uses for ``cache_dir``."""
    from gnnas.space import cache_path

    return cache_path(cache_dir)


def run(args: argparse.Namespace) -> int:
    """Enumerates (or loads) the space and prints the counts; returns the exit status."""
    from gnnas.space import enumerate_cells
    from gnnas.space.enumerate import CELLS_UP_TO, NUM_CELLS

    cache_dir = folder_flag("--cache-dir", args.cache_dir)
    path = cache_file(cache_dir)
    cached = path.is_file()
    start = time.perf_counter()
    space = enumerate_cells(cache_dir=cache_dir, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    counts = space.counts_by_num_vertices()
    up_to, total = {}, 0
    for size in sorted(counts):
        total += counts[size]
        up_to[size] = total
    matches = len(space) == NUM_CELLS and all(up_to.get(v) == n for v, n in CELLS_UP_TO.items())
    report: dict[str, Any] = {
        "num_cells": len(space),
        "cells_per_num_vertices": {str(v): counts[v] for v in sorted(counts)},
        "matches_published_counts": matches,
        "cache": os.fspath(path),
        "source": "cache" if cached else "enumerated",
        "seconds": round(seconds, 3),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if matches else 1
    how = "read from the cache" if cached else "enumerated and cached"
    print(f"NAS-Bench-101: {len(space):,} unique cells ({how} in {seconds:.1f} s)")
    print(f"{'vertices':>8}  {'cells':>9}  {'up to V':>9}  {'published':>9}")
    for size in sorted(counts):
        print(f"{size:>8}  {counts[size]:>9,}  {up_to[size]:>9,}  {CELLS_UP_TO.get(size, 0):>9,}")
    print("counts match the published ones" if matches else "WARNING: counts differ from the published ones")
    print(f"cache: {path}")
    return 0 if matches else 1

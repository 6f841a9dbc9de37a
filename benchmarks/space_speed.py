"""Speed of the NAS-Bench-101 search space: enumeration (cold, from the cache) and hashing.

Measures, each in a fresh Python process so that no in-process memo helps:

- ``cold``: :func:`gnnas.space.enumerate_cells` in an empty cache folder (enumerate all 1,293,208
  labelled full DAGs, group them by an integer Weisfeiler-Lehman fingerprint, MD5-hash the 423,624
  classes, sort, write the cache);
- ``warm``: the same call once the cache file exists (read and check it);

and, in this process, the hash of single cells (``spec.hash``: the per-cell fast path
:func:`gnnas.space.module_hash` against the straightforward transcription of the official code)
and of many cells at once (:func:`gnnas.space.hash_cells`).

Run::

    python benchmarks/space_speed.py                  # small default, about a minute
    python benchmarks/space_speed.py --repeats 3 --num-cells 20000

Writes ``space_speed.json`` (figures, configuration, seed, machine) and ``space_speed.png`` to
``results/space_speed/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_CHILD = """
import json, sys, time
start = time.perf_counter()
from gnnas.space import enumerate_cells
from gnnas.flags import DEFAULT_THREADS, deprecated_flag
imported = time.perf_counter() - start
wall, cpu = time.perf_counter(), time.process_time()
space = enumerate_cells(cache_dir=sys.argv[1], progress=False)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
again = time.perf_counter()
enumerate_cells(cache_dir=sys.argv[1], progress=False)
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "memo_s": time.perf_counter() - again, "cells": len(space),
                  "import_gnnas_s": imported}))
"""


def _child(cache_dir: str) -> dict:
    """Runs one ``enumerate_cells`` call in a fresh interpreter (gnnas import included)."""
    command = [sys.executable, "-c", _CHILD, cache_dir]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _rate(function, cells, min_seconds: float = 1.0) -> float:
    """Cells per second of ``function`` over ``cells`` (repeated until ``min_seconds`` passed)."""
    done, start = 0, time.perf_counter()
    while True:
        function(cells)
        done += len(cells)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="cold and warm runs (default: 1)")
    parser.add_argument("--num-cells", type=int, default=5000,
                        help="cells for the per-cell hash rates (default: 5000)")
    parser.add_argument("--num-batched", type=int, default=50000,
                        help="cells for the batched hash rate (default: 50000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled cells (default: 0)")
    parser.add_argument("--out", type=Path, default=Path("results/space_speed"), help="output folder")
    return parser


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)

    from gnnas.space import enumerate_cells, hash_cells, module_hash
    from gnnas.space.hashing import _module_hash_reference

    load_before = os.getloadavg()
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="gnnas-space-speed-") as folder:
            cold = _child(folder)
            warm = _child(folder)
            runs.append({"cold": cold, "warm": warm})
            print(f"cold {cold['wall_s']:.2f} s (CPU {cold['cpu_s']:.2f} s), warm {warm['wall_s']:.3f} s, "
                  f"memo {warm['memo_s'] * 1e6:.1f} us (import gnnas {cold['import_gnnas_s']:.1f} s, "
                  "not counted)", flush=True)

    space = enumerate_cells(progress=False)
    cells = space.sample(args.num_cells, seed=args.seed)
    batch = space.sample_indices(args.num_batched, seed=args.seed)
    packed = (space.matrices[batch], space.op_indices[batch], space.num_vertices[batch])
    rates = {
        "module_hash (spec.hash, fast path)": _rate(
            lambda cs: [module_hash(c.matrix, c.ops) for c in cs], cells),
        "straightforward (official transcription)": _rate(
            lambda cs: [_module_hash_reference(c.matrix, c.ops) for c in cs], cells),
        "hash_cells (batched, vectorised)": _rate(lambda _: hash_cells(*packed), batch),
    }
    for name, rate in rates.items():
        print(f"{name}: {rate:,.0f} cells/s", flush=True)

    result = {
        "config": vars(args) | {"out": str(args.out)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "runs": runs,
        "cold_wall_s_median": float(np.median([r["cold"]["wall_s"] for r in runs])),
        "cold_cpu_s_median": float(np.median([r["cold"]["cpu_s"] for r in runs])),
        "warm_wall_s_median": float(np.median([r["warm"]["wall_s"] for r in runs])),
        "hash_cells_per_s": rates,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "space_speed.json").write_text(json.dumps(result, indent=2))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.bar(["cold", "warm (cache)"], [result["cold_wall_s_median"], result["warm_wall_s_median"]])
    left.set_ylabel("seconds")
    left.set_title("enumerate_cells(): 423,624 cells")
    right.barh(list(rates), list(rates.values()))
    right.set_xscale("log")
    right.set_xlabel("cells / s")
    right.set_title("module hash")
    figure.tight_layout()
    figure.savefig(args.out / "space_speed.png", dpi=120)
    print(f"wrote {args.out / 'space_speed.json'} and space_speed.png")
    return result


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

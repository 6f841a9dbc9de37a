"""Speed of the exact graph edit distance: gnnas against networkx on the same random pairs.

Random pairs are drawn uniformly from the whole NAS-Bench-101 space (``enumerate_cells()``).
networkx runs on the first ``--networkx-pairs`` of them, gnnas on all, and the two must agree on
every pair that both computed. Also timed: the distance matrix (``pairwise_ged``) and the nearest
cells to a cell among all 423,624 (``GEDIndex``, ``nearest_cells``). Rates are given per second of
wall time and per second of CPU time of this process (the machine may be shared: the load average
is recorded with the results).

Default (a few minutes on 2 cores)::

    python benchmarks/ged_speed.py

Writes ``results.json`` (configuration, seed, figures) and ``ged_speed.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from gnnas.flags import deprecated_flag
from gnnas.ged import GEDIndex, paired_ged, pairwise_ged
from gnnas.space import ArchSpec, enumerate_cells


def to_networkx(spec: ArchSpec) -> nx.DiGraph:
    graph = nx.DiGraph()
    for i, op in enumerate(spec.ops):
        graph.add_node(i, op=op)
    graph.add_edges_from((int(i), int(j)) for i, j in zip(*np.nonzero(spec.matrix), strict=True))
    return graph


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``(result, wall seconds, CPU seconds of this process)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=50_000, help="random pairs for gnnas")
    parser.add_argument("--networkx-pairs", type=int, default=40, help="of them, pairs for networkx")
    parser.add_argument("--matrix", type=int, nargs=2, default=(200, 5000), help="pairwise_ged shape")
    parser.add_argument("--queries", type=int, default=5, help="nearest-cell queries on the space")
    parser.add_argument("--k", type=int, default=10, help="nearest cells per query")
    parser.add_argument("--num-workers", type=int, default=None, help="threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random pairs (default: 0)")
    parser.add_argument("--out", type=Path, default=Path("results/ged_speed"),
                        help="output folder (default: results/ged_speed)")
    deprecated_flag(parser, "--output", "--out")
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    rng = np.random.default_rng(args.seed)
    load_before = os.getloadavg()

    space, enum_wall, _ = timed(lambda: enumerate_cells(progress=False))
    a_rows = rng.integers(0, len(space), args.pairs)
    b_rows = rng.integers(0, len(space), args.pairs)
    table_a, table_b = _Rows(space, a_rows), _Rows(space, b_rows)
    results: dict[str, Any] = {"enumerate_cells_s": enum_wall}

    # gnnas on all pairs: free and pinned, one thread and all threads
    paired_ged(_Rows(space, a_rows[:100]), _Rows(space, b_rows[:100]))  # build the tables
    for pin_io in (False, True):
        name = "pinned" if pin_io else "free"
        for threads, workers in (("1_thread", 1), ("all_threads", args.num_workers)):
            label = f"gnnas_{name}_{threads}"
            dist, wall, cpu = timed(
                lambda w=workers, p=pin_io: paired_ged(table_a, table_b, pin_io=p, num_workers=w)
            )
            results[label] = {"pairs": args.pairs, "wall_s": wall, "cpu_s": cpu,
                              "pairs_per_s": args.pairs / wall, "pairs_per_cpu_s": args.pairs / cpu}
            print(f"{label:28s} {args.pairs / wall:12,.0f} pairs/s  ({args.pairs / cpu:,.0f} per CPU-second)")
        if not pin_io:
            distances = dist
    results["distance_histogram"] = np.bincount(distances).tolist()

    # networkx on the first pairs, the same pairs
    m = min(args.networkx_pairs, args.pairs)
    graphs = [(to_networkx(space[int(i)]), to_networkx(space[int(j)])) for i, j in zip(a_rows[:m], b_rows[:m],
                                                                                        strict=True)]
    reference, nx_wall, nx_cpu = timed(lambda: [
        nx.graph_edit_distance(g1, g2, node_match=lambda u, v: u["op"] == v["op"]) for g1, g2 in graphs
    ])
    agree = bool(np.array_equal(np.array(reference, dtype=np.int64), distances[:m]))
    results["networkx"] = {"pairs": m, "wall_s": nx_wall, "cpu_s": nx_cpu, "pairs_per_s": m / nx_wall,
                           "pairs_per_cpu_s": m / nx_cpu, "agrees_with_gnnas": agree}
    print(f"{'networkx':28s} {m / nx_wall:12,.1f} pairs/s  ({m / nx_cpu:,.1f} per CPU-second), "
          f"agree: {agree}")
    ratio = results["gnnas_free_all_threads"]["pairs_per_s"] / results["networkx"]["pairs_per_s"]
    ratio_cpu = results["gnnas_free_1_thread"]["pairs_per_cpu_s"] / results["networkx"]["pairs_per_cpu_s"]
    results["speedup_wall_all_threads"] = ratio
    results["speedup_per_cpu_second"] = ratio_cpu
    print(f"speed-up over networkx: {ratio:,.0f}x (wall, all threads), {ratio_cpu:,.0f}x (per CPU-second)")

    # distance matrix
    rows, cols = args.matrix
    _, wall, cpu = timed(lambda: pairwise_ged(_Rows(space, a_rows[:rows]), _Rows(space, b_rows[:cols]),
                                              num_workers=args.num_workers))
    results["pairwise"] = {"shape": [rows, cols], "wall_s": wall, "cpu_s": cpu,
                           "pairs_per_s": rows * cols / wall, "pairs_per_cpu_s": rows * cols / cpu}
    print(f"{'pairwise_ged':28s} {rows * cols / wall:12,.0f} pairs/s  "
          f"({rows * cols / cpu:,.0f} per CPU-second)")

    # nearest cells among the whole space
    index, index_wall, _ = timed(lambda: GEDIndex(space))
    queries = rng.integers(0, len(space), args.queries)
    for pin_io in (False, True):
        times = []
        for q in queries:
            (_, dist), wall, _ = timed(lambda q=q, p=pin_io: index.nearest(space[int(q)], k=args.k, pin_io=p,
                                                                         num_workers=args.num_workers))
            times.append(wall)
        name = "nearest_pinned" if pin_io else "nearest_free"
        results[name] = {"num_cells": len(space), "k": args.k, "index_build_s": index_wall,
                         "query_s": times, "query_s_max": max(times)}
        print(f"{name:28s} index {index_wall:.2f} s, queries {np.round(times, 2).tolist()} s")

    results["load_average_before_after"] = [load_before, os.getloadavg()]
    config = {**vars(args), "out": str(args.out), "matrix": list(args.matrix),
              "cpu_count": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
              "networkx": nx.__version__}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"config": config, "results": results}, indent=2))
    _plot(results, args.out / "ged_speed.png")
    print(f"wrote {args.out / 'results.json'} and {args.out / 'ged_speed.png'}")
    return results


class _Rows:
    """Rows of the enumerated space as a cell table (no ArchSpec objects are built)."""

    def __init__(self, space: Any, rows: np.ndarray) -> None:
        self.matrices = space.matrices[rows]
        self.op_indices = space.op_indices[rows]
        self.hashes = space.hashes[rows]


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = ["networkx", "gnnas_free_1_thread", "gnnas_free_all_threads", "gnnas_pinned_all_threads"]
    rates = [results[n]["pairs_per_s"] for n in names]
    left.bar(["networkx", "gnnas\n1 thread", "gnnas\nall threads", "gnnas pinned\nall threads"], rates)
    left.set_yscale("log")
    left.set_ylabel("exact GED pairs per second (wall)")
    left.set_title("random NAS-Bench-101 pairs")
    hist = results["distance_histogram"]
    right.bar(range(len(hist)), hist)
    right.set_xlabel("graph edit distance")
    right.set_ylabel("random pairs")
    right.set_title("distances of the random pairs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

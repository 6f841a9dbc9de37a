"""How far are the positives of GraphEditAugment from their anchor, and how fast are they made?

For anchors drawn uniformly from the NAS-Bench-101 space, this script makes positives with
exactly 1, 2 and 3 edits (the paper's mix of edit kinds) and measures

- the exact graph edit distance (GED) between anchor and positive, per number of edits and per
  combination of edit kinds, and between two positives of the same anchor (the paper assumes
  at most 6);
- how often the true GED is smaller than the number of edits, and why: each such pair is
  classified by brute force over vertex correspondences (see :func:`classify`);
- how many valid random outcomes were rejected because they were the anchor again (isomorphic);
- throughput in positives per second: :class:`~gnnas.datasets.LocalityDataset` batches without
  and with ``ged``, :class:`~gnnas.GraphEditAugment` on single graphs, :func:`edit_cell`.

Writes ``augment_stats.json`` (results, configuration, seed) and ``augment_stats.png`` to
``--out`` (default ``results/augment_stats/``)::

    python benchmarks/augment_stats.py                      # 5,000 anchors, a few minutes
    python benchmarks/augment_stats.py --num-anchors 50000  # larger sample
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from gnnas import ArchSpec, GraphEditAugment
from gnnas.datasets import LocalityDataset
from gnnas.ged import paired_ged
from gnnas.space import enumerate_cells
from gnnas.transforms import edit_cell, edit_weights
from gnnas.transforms.anchor import Anchor, to_spec
from gnnas.transforms.graph_edit import edit_outcome, python_random

REASONS = {
    "io_relabel": "the cheapest edit path relabels the input or output vertex (unit-cost GED allows it; "
                  "the pinned GED, input→input and output→output, is larger)",
    "symmetric_vertices": "the edits touch structurally equivalent vertices of the anchor, and an "
                          "automorphism of its unlabelled graph maps part of them onto each other "
                          "(partial cancellation)",
    "relabel_shortcut": "another correspondence of interior vertices, not a symmetry of the anchor, is "
                        "cheaper (e.g. a flip plus an op change that look like moving a vertex's role)",
}


class CountingAnchor(Anchor):
    """An Anchor that counts the valid outcomes rejected for being the anchor again."""

    __slots__ = ("same",)

    def __init__(self, spec: ArchSpec) -> None:
        super().__init__(spec)
        self.same = 0

    def differs(self, n: int, rows: list[int], ops: list[int], num_edges: int) -> bool:
        result = super().differs(n, rows, ops, num_edges)
        self.same += not result
        return result


def _permutations(n: int, pinned: bool) -> np.ndarray:
    inner = range(1, n - 1) if pinned else range(n)
    perms = [list(p) for p in itertools.permutations(inner)]
    if pinned:
        perms = [[0, *p, n - 1] for p in perms]
    return np.array(perms, dtype=np.int64).reshape(len(perms), n)


def _costs(a: ArchSpec, b: ArchSpec, perms: np.ndarray) -> np.ndarray:
    """Cost of each bijection ``a`` vertex ``perm[i]`` → ``b`` vertex ``i`` (equal sizes)."""
    ma, mb = a.matrix.astype(np.int64), b.matrix.astype(np.int64)
    oa, ob = a.op_indices, b.op_indices
    permuted = ma[perms[:, :, None], perms[:, None, :]]  # (P, n, n)
    return (permuted != mb).sum(axis=(1, 2)) + (oa[perms] != ob).sum(axis=1)


def classify(anchor: ArchSpec, positive: ArchSpec, ged: int, ged_pinned: int) -> str:
    """Why is ``ged`` smaller than the number of edits? One of :data:`REASONS`.

    With the identity correspondence the cost is exactly the number of edits (the edits touch
    distinct vertices and matrix entries), so a smaller GED means another correspondence is
    cheaper. If the pinned distance is larger than the free one, it moves the input or output;
    else, if the cheapest pinned correspondence can be taken among the automorphisms of the
    anchor's unlabelled graph, the edits partly cancel by symmetry; else it is another shortcut.
    """
    if ged < ged_pinned:
        return "io_relabel"
    perms = _permutations(anchor.num_vertices, pinned=True)
    matrix = anchor.matrix
    automorphic = np.array([(matrix[np.ix_(p, p)] == matrix).all() for p in perms])
    costs = _costs(anchor, positive, perms)
    if costs.min() != ged_pinned:
        raise AssertionError("brute force disagrees with the pinned GED")
    if costs[automorphic].min() == ged_pinned:
        return "symmetric_vertices"
    return "relabel_shortcut"


def distance_stats(anchors: list[ArchSpec], seed: int) -> dict:
    weights = edit_weights()
    rnd = python_random(np.random.default_rng([seed, 1]))
    out: dict = {"per_num_edits": {}, "reasons": {}}
    for k in (1, 2, 3):
        pairs_a, pairs_p, names, rejected, skipped = [], [], [], 0, 0
        for spec in anchors:
            anchor = CountingAnchor(spec)
            try:
                (n, rows, ops, _), name = edit_outcome(anchor, k, weights, rnd)
            except ValueError:
                skipped += 1  # e.g. the 3-vertex chain at 3 edits
                continue
            rejected += anchor.same
            pairs_a.append(spec)
            pairs_p.append(to_spec(n, rows, ops))
            names.append(name)
        ged = paired_ged(pairs_a, pairs_p)
        pinned = paired_ged(pairs_a, pairs_p, pin_io=True)
        if (ged > k).any():
            raise AssertionError("a GED above the number of edits: the edits are an edit path")
        by_combination = {}
        for name in sorted(set(names)):
            sel = np.array([m == name for m in names])
            by_combination[name] = {
                "count": int(sel.sum()),
                "ged_histogram": np.bincount(ged[sel], minlength=k + 1).tolist(),
                "mean_ged": float(ged[sel].mean()),
            }
        reasons = Counter()
        reasons_by_combination: dict[str, Counter] = {}
        examples: dict[str, dict] = {}
        for i in np.flatnonzero(ged < k):
            reason = classify(pairs_a[i], pairs_p[i], int(ged[i]), int(pinned[i]))
            reasons[reason] += 1
            reasons_by_combination.setdefault(names[i], Counter())[reason] += 1
            examples.setdefault(reason, {"anchor": repr(pairs_a[i]), "positive": repr(pairs_p[i]),
                                         "combination": names[i], "ged": int(ged[i]),
                                         "ged_pinned": int(pinned[i])})
        out["per_num_edits"][str(k)] = {
            "num_pairs": len(names),
            "skipped_anchors_without_outcome": skipped,
            "ged_histogram": np.bincount(ged, minlength=k + 1).tolist(),
            "pinned_ged_histogram": np.bincount(pinned, minlength=k + 1).tolist(),
            "fraction_ged_below_num_edits": float((ged < k).mean()),
            "mean_ged": float(ged.mean()),
            "by_combination": by_combination,
            "reasons_ged_below_num_edits": dict(reasons),
            "reasons_by_combination": {name: dict(c) for name, c in sorted(reasons_by_combination.items())},
            "examples": examples,
            "valid_outcomes_rejected_as_isomorphic_to_anchor": rejected,
        }
    out["reasons"] = REASONS
    return out


def positive_pair_stats(anchors: list[ArchSpec], seed: int) -> dict:
    """GED between two positives of the same anchor, made as LocalityDataset makes them."""
    transform = GraphEditAugment(compute_ged=False, seed=seed)
    first, second, edits = [], [], []
    for spec in anchors:
        if spec.num_vertices < 3:
            continue
        data = spec.to_data()
        p, q = transform(data), transform(data)
        first.append(ArchSpec.from_data(p))
        second.append(ArchSpec.from_data(q))
        edits.append(int(p.num_edits) + int(q.num_edits))
    ged = paired_ged(first, second)
    edits = np.array(edits)
    return {
        "num_pairs": len(ged),
        "ged_histogram": np.bincount(ged, minlength=7).tolist(),
        "fraction_above_6": float((ged > 6).mean()),
        "fraction_identical": float((ged == 0).mean()),
        "max_ged": int(ged.max()),
        "mean_ged": float(ged.mean()),
        "mean_sum_of_num_edits": float(edits.mean()),
    }


def throughput(space, seed: int, batches: int, ged_batches: int, single: int) -> dict:
    """Positives per second of wall-clock time and per second of this process's CPU time.

    The CPU-time rate is less sensitive to other jobs on a shared machine (but not immune:
    caches and hyper-threads are shared too).
    """
    def rate(count: int, fn) -> dict:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return {"wall": count / (time.perf_counter() - wall), "cpu": count / (time.process_time() - cpu)}

    dataset = LocalityDataset(space, seed=seed)
    per_batch = dataset.classes_per_batch * dataset.num_positives
    dataset.make_batch(0)  # warm up (anchor order of the epoch)
    result = {
        "dataset_positives_per_s": rate(batches * per_batch,
                                        lambda: [dataset.make_batch(b) for b in range(1, batches + 1)]),
    }
    with_ged = LocalityDataset(space, seed=seed, compute_ged=True)
    with_ged.make_batch(0)
    result["dataset_with_ged_positives_per_s"] = rate(
        ged_batches * per_batch, lambda: [with_ged.make_batch(b) for b in range(1, ged_batches + 1)])
    graphs = [spec.to_data() for spec in space.sample(single, seed=seed)]
    specs = [ArchSpec.from_data(g) for g in graphs]
    transform = GraphEditAugment(compute_ged=False, seed=seed)
    result["transform_positives_per_s"] = rate(single, lambda: [transform(g) for g in graphs])
    transform_ged = GraphEditAugment(seed=seed)
    result["transform_with_ged_positives_per_s"] = rate(single, lambda: [transform_ged(g) for g in graphs])
    rng = np.random.default_rng(seed)
    result["edit_cell_per_s"] = rate(single, lambda: [edit_cell(s, 1 + i % 3, generator=rng)
                                                      for i, s in enumerate(specs)])
    result["load_average"] = os.getloadavg()
    result["note"] = (f"single process, torch threads: {torch.get_num_threads()}; the machine may be "
                      "shared with other jobs (see load_average)")
    return result


def plot(stats: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ax = axes[0]
    width = 0.27
    for offset, k in enumerate(("1", "2", "3")):
        hist = np.array(stats["per_num_edits"][k]["ged_histogram"], dtype=float)
        hist /= hist.sum()
        ax.bar(np.arange(len(hist)) + (offset - 1) * width, hist, width, label=f"{k} edit(s)")
    ax.set_yscale("log")
    ax.set_xticks(range(4))
    ax.set_xlabel("exact GED(anchor, positive)")
    ax.set_ylabel("fraction of positives (log scale)")
    ax.set_title("anchor → positive")
    ax.legend()
    ax = axes[1]
    names, means, counts = [], [], []
    for k in ("1", "2", "3"):
        for name, entry in stats["per_num_edits"][k]["by_combination"].items():
            names.append(name)
            means.append(1 - entry["ged_histogram"][int(k)] / entry["count"])
            counts.append(entry["count"])
    ax.barh(names, means, color="tab:red")
    ax.set_xlabel("fraction with GED < number of edits")
    ax.set_title("by combination of edit kinds")
    ax.invert_yaxis()
    ax = axes[2]
    hist = np.array(stats["positive_pairs"]["ged_histogram"], dtype=float)
    ax.bar(np.arange(len(hist)), hist / hist.sum(), color="tab:green")
    ax.axvline(6.5, color="k", linestyle="--", label="paper's bound 6")
    ax.set_xlabel("exact GED(positive, positive) of one anchor")
    ax.set_title("two positives of the same anchor")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-anchors", type=int, default=5000, help="anchors sampled from the space")
    parser.add_argument("--seed", type=int, default=0, help="seed of the anchors and edits (default: 0)")
    parser.add_argument("--batches", type=int, default=20, help="LocalityDataset batches timed without ged")
    parser.add_argument("--ged-batches", type=int, default=3, help="LocalityDataset batches timed with ged")
    parser.add_argument("--single", type=int, default=2000, help="single graphs timed for the transform")
    parser.add_argument("--out", type=Path, default=Path("results/augment_stats"),
                        help="output folder (default: results/augment_stats)")
    parser.add_argument("--plot-only", action="store_true", help="redraw the figure from the JSON in --out")
    return parser


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    if args.plot_only:
        stats = json.loads((args.out / "augment_stats.json").read_text())
        plot(stats, args.out / "augment_stats.png")
        return stats

    start = time.perf_counter()
    space = enumerate_cells(progress=False)
    anchors = space.sample(args.num_anchors, seed=args.seed)
    stats = distance_stats(anchors, args.seed)
    stats["positive_pairs"] = positive_pair_stats(anchors, args.seed)
    stats["throughput"] = throughput(space, args.seed, args.batches, args.ged_batches, args.single)
    stats["config"] = {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                       "edit_weights": edit_weights(), "python": platform.python_version(),
                       "torch": torch.__version__, "cpu_count": os.cpu_count()}
    stats["seconds"] = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "augment_stats.json").write_text(json.dumps(stats, indent=2))
    plot(stats, args.out / "augment_stats.png")
    for k in ("1", "2", "3"):
        entry = stats["per_num_edits"][k]
        print(f"{k} edit(s): GED histogram {entry['ged_histogram']}, below: "
              f"{entry['fraction_ged_below_num_edits']:.3f}, reasons {entry['reasons_ged_below_num_edits']}")
    pairs = stats["positive_pairs"]
    print(f"positive pairs: histogram {pairs['ged_histogram']}, max {pairs['max_ged']}, "
          f"> 6: {pairs['fraction_above_6']:.4f}")
    print(json.dumps(stats["throughput"], indent=2))
    return stats


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

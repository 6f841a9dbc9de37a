"""Is the NAS-Bench-101 space local? The paper's Fig. 1 (a, b, c) and Fig. 2, measured.

- **Fig. 1a**: the exact graph edit distance (GED) between random pairs of cells drawn uniformly
  from the whole enumerated space (423,624 cells).
- **Fig. 1b**: |Δ accuracy| of pairs of table cells at each exact distance ``d = 1 ..
  max_distance`` (validation accuracy at 108 epochs, and test accuracy when the table has it),
  next to uniformly random pairs; pairs are found by exact GED
  (:func:`gnnas.analysis.pairs_by_distance`), never by nominal edit counts. The table is the
  NAS-Bench-101 sample bundled with gnnas (30,001 real cells, ``NASBench101.bundled()``) unless
  ``--data`` names another.
- **Fig. 1c**: cosine similarity of controller embeddings against exact GED, for controllers
  pretrained with metric losses (``--loss``, default AngularLoss as in the paper; ``--loss all``
  for the nine presets; or ``--controller``) beside the one pretrained with ``NoMetricLoss`` and an
  untrained one; pairs are anchors and their positives (edited as in pretraining) plus random
  pairs of cells.
- **Fig. 2**: a 2-D map (UMAP when ``umap-learn`` is installed, else PCA) of the embeddings of 16
  anchors × 7 positives, coloured by anchor, for the same controllers, and the share of cells
  whose nearest neighbour (by cosine) comes from the same anchor.
- Statistics: Spearman's correlation of distance with |Δ accuracy| and with cosine similarity;
  count, mean, std and quantiles per distance.

Settings::

    python benchmarks/locality.py                    # a few minutes, no downloaded data: 1a, 1b, 1c, 2
    python benchmarks/locality.py --loss all         # Fig. 1c and 2 for the nine presets
    python benchmarks/locality.py --data nasbench_only108.tfrecord   # 1b on all cells (gnnas download)
    python benchmarks/locality.py --quick            # seconds, for the tests
    python benchmarks/locality.py --full             # the paper's sizes (more pairs and anchors)

The controllers are the ones that ship with gnnas, pretrained with the paper's full settings
(:mod:`gnnas.pretrain.shipped`), loaded in about a second each. ``--pretrain-iterations N`` instead
pretrains each on the spot for ``N`` iterations (the paper's SGD, lr 1.0, and the preset's batch
unless ``--pretrain-optimizer``/``--pretrain-lr``/``--pretrain-batch-size`` say otherwise;
``--pretrain-optimizer adam`` learns far more in a short run; cached after the first run); ``0``
takes untrained controllers. Every size can be overridden (``--space-pairs``,
``--pairs-per-distance``, ``--max-distance``, ...) within bounds that ``--help`` gives (memory,
the size of the space, the largest distance between two cells); every flag, ``--controller`` and
``--data`` are checked before any figure is computed.
Results go to ``--out`` (default ``results/locality/``): ``locality.json`` (every number, the
configuration and the seed) and the figures ``fig1a_ged_distribution.png``,
``fig1b_accuracy_locality.png``, ``fig1c_embedding_locality.png``, ``fig2_embedding_map.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

# only light modules here: torch loads in main(), where Ctrl-C is one line (run_script)
from gnnas.flags import DEFAULT_PRETRAIN_LR, check_range, deprecated_flag, folder_flag
from gnnas.space.enumerate import NUM_CELLS

REPO = Path(__file__).resolve().parents[1]

# The bounds of the size flags, checked before any work starts (resolve_config).
#: The largest exact GED between two cells of the space is 17 or 18 (benchmarks/README.md, "The
#: largest distance"): no pair lies farther, so a larger --max-distance would search for ever.
MAX_DISTANCE = 18
#: Pairs of cells held in memory at once (Fig. 1a's pairs and distances, Fig. 1c's): at most about
#: 50 bytes each at the peak, 0.5 GB in all.
MAX_PAIRS = 10_000_000
#: Fig. 1b's random pairs are evaluated in batches, so their number is bounded by time, not memory.
MAX_RANDOM_PAIRS = 100_000_000
#: Fig. 1b keeps its pairs in a set (a few hundred bytes each), up to MAX_DISTANCE distances.
MAX_PAIRS_PER_DISTANCE = 100_000
#: Fig. 2 holds (cells × cells) similarity matrices, cells = anchors × (positives + 1): 16 M entries.
MAX_MAP_CELLS = 4096
#: Positives per anchor (pretraining uses 7); Fig. 2's matrices and Fig. 1c's pairs grow with its square.
MAX_POSITIVES = 255
#: Anchors are cells with at least 5 vertices (see sample_anchors): all but 91 of the space.
NUM_ANCHOR_CELLS = NUM_CELLS - 91

SETTINGS: dict[str, dict[str, Any]] = {
    "quick": dict(space_pairs=1000, pairs_per_distance=25, max_random_pairs=20_000, max_anchors=300,
                  embed_anchors=16, embed_random_pairs=300, map_anchors=6),
    "default": dict(space_pairs=10_000, pairs_per_distance=1000, max_random_pairs=200_000, max_anchors=None,
                    embed_anchors=256, embed_random_pairs=5000, map_anchors=16),
    "full": dict(space_pairs=10_000, pairs_per_distance=1000, max_random_pairs=400_000, max_anchors=None,
                 embed_anchors=1024, embed_random_pairs=20_000, map_anchors=16),
}


def build_parser() -> argparse.ArgumentParser:
    from gnnas.pretrain.config import OPTIMIZERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="the NAS-Bench-101 table of Fig. 1b: the official .tfrecord file or a .csv "
                             "table (default: the 30,001-cell sample bundled with gnnas)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny sizes, seconds (for the tests)")
    size.add_argument("--full", action="store_true",
                      help="the paper's sizes: more pairs and anchors (tens of minutes)")
    parser.add_argument("--out", default=str(REPO / "results" / "locality"), help="output folder")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of everything, from 0 to 2^63 - 1 (default: 0)")
    parser.add_argument("--space-pairs", type=int, default=None,
                        help=f"Fig. 1a: random pairs of the whole space, 1 to {MAX_PAIRS:,} (paper: 10,000)")
    parser.add_argument("--max-distance", type=int, default=6,
                        help=f"Fig. 1b: largest distance, 1 to {MAX_DISTANCE} (no two cells lie farther "
                             "apart; default: 6)")
    parser.add_argument("--pairs-per-distance", type=int, default=None,
                        help=f"Fig. 1b: pairs per distance, 1 to {MAX_PAIRS_PER_DISTANCE:,} (paper: 1,000)")
    parser.add_argument("--max-random-pairs", type=int, default=None,
                        help="Fig. 1b: most uniformly random pairs evaluated before anchors take over, 0 to "
                             f"{MAX_RANDOM_PAIRS:,}")
    parser.add_argument("--max-pairs-per-anchor", type=int, default=20,
                        help=f"Fig. 1b: most partners per anchor and distance, 1 to {NUM_CELLS - 1:,} "
                             "(default: 20)")
    parser.add_argument("--max-anchors", type=int, default=None,
                        help=f"Fig. 1b: most anchors searched, 1 to {NUM_CELLS:,} (default: every cell of "
                             "the table)")
    parser.add_argument("--loss", nargs="+", default=["AngularLoss"], metavar="LOSS",
                        help="metric-loss presets of the pretrained controllers, or 'all' (default: "
                             "AngularLoss, as the paper's Fig. 1c; its Fig. 2 uses MarginLoss); "
                             "NoMetricLoss and an untrained controller are always added")
    parser.add_argument("--controller", type=Path, default=None, dest="checkpoint",
                        help="a controller.pt (or a gnnas pretrain output folder) to use instead of the "
                             "shipped controller of --loss (one loss only)")
    parser.add_argument("--baseline-controller", type=Path, default=None, dest="baseline_checkpoint",
                        help="a controller.pt to use instead of the shipped NoMetricLoss one")
    parser.add_argument("--pretrain-iterations", type=int, default=None,
                        help="pretrain each controller on the spot for this many iterations; 0: untrained "
                             "controllers (default: none, the paper's 2 epochs: the shipped controllers)")
    parser.add_argument("--pretrain-batch-size", type=int, default=None,
                        help="graphs per batch of the on-the-spot pretraining, a multiple of 8 "
                             "(default: the preset's)")
    parser.add_argument("--pretrain-optimizer", choices=OPTIMIZERS, default="sgd",
                        help="optimizer of the on-the-spot pretraining (default: sgd, the paper's; adam "
                             "leaves the early plateau within a short run)")
    parser.add_argument("--pretrain-lr", type=float, default=None,
                        help="its learning rate (default: 1.0 for sgd, the paper's; 0.001 for adam and "
                             "adamw)")
    parser.add_argument("--cache-dir", default=None,
                        help="cache of pretrained controllers (default: the gnnas cache)")
    parser.add_argument("--embed-anchors", type=int, default=None,
                        help=f"Fig. 1c: anchors (7 positives each), 2 to {NUM_ANCHOR_CELLS:,} (the cells "
                             f"of at least 5 vertices), with at most {MAX_PAIRS:,} pairs in all")
    parser.add_argument("--embed-random-pairs", type=int, default=None,
                        help=f"Fig. 1c: random pairs of cells of different anchors, 0 to {MAX_PAIRS:,}")
    parser.add_argument("--map-anchors", type=int, default=None,
                        help=f"Fig. 2: anchors, 2 to {MAX_MAP_CELLS // 2:,}, with at most {MAX_MAP_CELLS:,} "
                             "cells in all (paper: 16)")
    parser.add_argument("--num-positives", type=int, default=7,
                        help=f"positives per anchor, 1 to {MAX_POSITIVES} (default: 7)")
    parser.add_argument("--projection", choices=("auto", "umap", "pca"), default="auto",
                        help="Fig. 2: UMAP if installed, else PCA (default: auto)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the results in --out even when they were made with other settings "
                             "(without it, a rerun with the same settings replaces them, others are refused)")
    deprecated_flag(parser, "--checkpoint", "--controller")
    deprecated_flag(parser, "--baseline-checkpoint", "--baseline-controller")
    return parser


def resolve_config(args: argparse.Namespace) -> dict[str, Any]:
    from gnnas.pretrain import NO_METRIC_LOSS, PRESET_NAMES

    mode = "quick" if args.quick else "full" if args.full else "default"
    config = dict(SETTINGS[mode])
    for name in config:
        value = getattr(args, name)
        if value is not None:
            config[name] = value
    losses = list(PRESET_NAMES) if args.loss == ["all"] else list(dict.fromkeys(args.loss))
    unknown = [name for name in losses if name not in PRESET_NAMES]
    if unknown:
        raise SystemExit(f"--loss: unknown presets {unknown}; expected 'all' or names from "
                         f"{list(PRESET_NAMES)}")
    if args.checkpoint is not None and len(losses) != 1:
        raise SystemExit("--controller takes one --loss, the loss the controller was trained with")
    losses = [name for name in losses if name != NO_METRIC_LOSS]  # the baseline is always added last
    config.update(
        mode=mode, seed=args.seed, max_distance=args.max_distance,
        max_pairs_per_anchor=args.max_pairs_per_anchor, pretrain_iterations=args.pretrain_iterations,
        pretrain_batch_size=args.pretrain_batch_size,
        losses=losses, num_positives=args.num_positives, projection=args.projection,
        pretrain_optimizer=args.pretrain_optimizer,
        data="bundled" if args.data is None else str(args.data),
        checkpoint=None if args.checkpoint is None else str(args.checkpoint),
        baseline_checkpoint=None if args.baseline_checkpoint is None else str(args.baseline_checkpoint),
        out=str(args.out), command=" ".join(["python", "benchmarks/locality.py", *sys.argv[1:]]),
    )
    config["pretrain_lr"] = args.pretrain_lr or DEFAULT_PRETRAIN_LR[config["pretrain_optimizer"]]
    config["out"] = str(folder_flag("--out", args.out))
    cache_dir = folder_flag("--cache-dir", args.cache_dir)
    config["cache_dir"] = None if cache_dir is None else str(cache_dir)
    check_sizes(config)
    if args.data is not None and not args.data.is_file():
        what = "a folder, not a table file" if args.data.is_dir() else "no such file"
        raise SystemExit(f"--data {args.data}: {what}")
    controllers = {"--controller": args.checkpoint, "--baseline-controller": args.baseline_checkpoint}
    for flag, path in controllers.items():
        if path is not None and not (path / "controller.pt" if path.is_dir() else path).is_file():
            what = "a folder without controller.pt" if path.is_dir() else "no such file"
            raise SystemExit(f"{flag} {path}: {what}")
    if config["pretrain_iterations"]:  # the settings of the on-the-spot pretraining, checked now
        from gnnas.pretrain import PretrainConfig

        for loss in [*losses, NO_METRIC_LOSS]:
            settings = PretrainConfig(loss=loss, max_iterations=config["pretrain_iterations"],
                                      batch_size=config["pretrain_batch_size"], seed=config["seed"],
                                      optimizer=config["pretrain_optimizer"], lr=config["pretrain_lr"])
            try:
                settings.validate()
            except ValueError as error:
                flags = "--pretrain-iterations/--pretrain-batch-size/--pretrain-lr"
                raise SystemExit(f"{flags}: {error}") from None
    return config


def check_sizes(config: dict[str, Any]) -> None:
    """Checks every size against its bound (see MAX_DISTANCE and the others) before any work starts."""
    check_range("--seed", config["seed"], 0, 2**63 - 1)
    check_range("--space-pairs", config["space_pairs"], 1, MAX_PAIRS, " (the pairs are held in memory)")
    check_range("--max-distance", config["max_distance"], 1, MAX_DISTANCE,
                f" (no two cells of the space are more than {MAX_DISTANCE} edits apart)")
    check_range("--pairs-per-distance", config["pairs_per_distance"], 1, MAX_PAIRS_PER_DISTANCE,
                " (the pairs found are held in memory)")
    check_range("--max-random-pairs", config["max_random_pairs"], 0, MAX_RANDOM_PAIRS)
    check_range("--max-pairs-per-anchor", config["max_pairs_per_anchor"], 1, NUM_CELLS - 1,
                " (the other cells of the space)")
    if config["max_anchors"] is not None:
        check_range("--max-anchors", config["max_anchors"], 1, NUM_CELLS, " (the cells of the space)")
    check_range("--num-positives", config["num_positives"], 1, MAX_POSITIVES)
    check_range("--embed-anchors", config["embed_anchors"], 2, NUM_ANCHOR_CELLS,
                " (pairs of different anchors need two; anchors are the cells of at least 5 vertices)")
    check_range("--embed-random-pairs", config["embed_random_pairs"], 0, MAX_PAIRS,
                " (the pairs are held in memory)")
    check_range("--map-anchors", config["map_anchors"], 2, MAX_MAP_CELLS // 2,
                " (a nearest neighbour of another anchor needs two)")
    if config["pretrain_iterations"] is not None:
        check_range("--pretrain-iterations", config["pretrain_iterations"], 0)
    group = config["num_positives"] + 1
    within = config["embed_anchors"] * group * (group - 1) // 2
    if within + config["embed_random_pairs"] > MAX_PAIRS:
        raise SystemExit(f"Fig. 1c would hold {within + config['embed_random_pairs']:,} pairs, more than "
                         f"{MAX_PAIRS:,} in memory: --embed-anchors × (--num-positives + 1 choose 2) + "
                         "--embed-random-pairs must be at most that")
    if config["map_anchors"] * group > MAX_MAP_CELLS:
        raise SystemExit(f"Fig. 2 would compare {config['map_anchors'] * group:,} cells, more than "
                         f"{MAX_MAP_CELLS:,} (it holds a matrix of every pair): --map-anchors × "
                         "(--num-positives + 1) must be at most that")


def write_whole(path: Path, write: Any) -> None:
    """Calls ``write(partial)`` and moves the file over ``path``: Ctrl-C never leaves half a file."""
    partial = path.with_name(path.name + ".partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def save_figure(fig: Any, path: Path) -> None:
    write_whole(path, lambda partial: fig.savefig(partial, dpi=110, format="png"))


def progress_bar(total: int | None, desc: str, disable: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=disable, leave=True, dynamic_ncols=True, mininterval=0.5)


# ---------------------------------------------------------------------------------------- Fig. 1a
def fig1a(space: Any, config: dict[str, Any], rng: np.random.Generator,
          quiet: bool) -> tuple[dict, np.ndarray]:
    from gnnas.analysis import random_pairs
    from gnnas.ged import paired_ged

    table = space.cells
    pairs = random_pairs(len(table), config["space_pairs"], seed=rng)
    distances = np.empty(len(pairs), dtype=np.int64)
    step = 1000
    with progress_bar(len(pairs), "Fig. 1a: GED of random pairs", quiet) as bar:
        for start in range(0, len(pairs), step):
            chunk = pairs[start:start + step]
            distances[start:start + step] = paired_ged(table[chunk[:, 0]], table[chunk[:, 1]])
            bar.update(len(chunk))
    counts = np.bincount(distances)
    result = {
        "num_pairs": int(len(pairs)),
        "num_cells": int(len(table)),
        "counts": {str(d): int(c) for d, c in enumerate(counts) if c},
        "mean": float(distances.mean()),
        "std": float(distances.std()),
        "quantiles": {str(q): float(v) for q, v in zip((0.05, 0.25, 0.5, 0.75, 0.95),
                                                      np.quantile(distances, (0.05, 0.25, 0.5, 0.75, 0.95)),
                                                      strict=True)},
        "share_at_most_6": float((distances <= 6).mean()),
        "max": int(distances.max()),
    }
    return result, distances


def plot_fig1a(distances: np.ndarray, path: Path) -> None:
    import matplotlib.pyplot as plt

    from gnnas.analysis import distance_histogram

    fig, ax = plt.subplots(figsize=(5.2, 3.4), constrained_layout=True)
    distance_histogram(ax, distances)
    ax.axvline(6.5, color="gray", linestyle="--", linewidth=1)
    ax.text(6.4, ax.get_ylim()[1] * 0.92, f"≤ 6: {(distances <= 6).mean():.1%}", ha="right", fontsize=9)
    ax.set_xlabel("graph edit distance")
    ax.set_ylabel("share of pairs")
    ax.set_title(f"(a) GED of {len(distances):,} random pairs of the whole space", fontsize=10)
    save_figure(fig, path)
    plt.close(fig)


# ---------------------------------------------------------------------------------------- Fig. 1b
def load_table(path: Path | None) -> Any:
    from gnnas.nasbench import NASBench101

    if path is None:
        return NASBench101.bundled()
    if not path.exists():
        raise SystemExit(f"--data {path}: no such file")
    return NASBench101(path)  # a .csv suffix selects the CSV reader


def table_metrics(table: Any) -> dict[str, np.ndarray]:
    metrics = {"validation_accuracy": table.metric_array("validation_accuracy", epochs=108, reduce="mean")}
    try:
        metrics["test_accuracy"] = table.metric_array("test_accuracy", epochs=108, reduce="mean")
    except ValueError:  # the table holds no test accuracy (e.g. the bundled 30k sample)
        pass
    return metrics


def fig1b(table: Any, config: dict[str, Any], rng: np.random.Generator, quiet: bool) -> tuple[dict, dict]:
    from gnnas.analysis import distance_statistics, pairs_by_distance, random_pairs

    cells = table.cells
    metrics = table_metrics(table)
    distances = range(1, config["max_distance"] + 1)
    with progress_bar(None, "Fig. 1b: pairs by exact GED", quiet) as bar:
        def progress(phase: str, done: int, count: dict[int, int]) -> None:
            bar.set_postfix_str(f"{phase} {done:,} | " + " ".join(f"d{d}:{n}" for d, n in count.items()))
            bar.update(1)

        found = pairs_by_distance(
            cells, distances, config["pairs_per_distance"], max_random_pairs=config["max_random_pairs"],
            max_pairs_per_anchor=config["max_pairs_per_anchor"], max_anchors=config["max_anchors"], seed=rng,
            progress=progress,
        )
    pairs, pair_distance = found.pair_array(), found.distance_array()
    reference = random_pairs(len(cells), 10_000, seed=rng)  # |Δ accuracy| of uniformly random pairs
    result: dict[str, Any] = {
        "data": config["data"],
        "num_cells": int(len(cells)),
        "search": {
            "pairs": {str(d): int(len(p)) for d, p in found.pairs.items()},
            "from_random_pairs": {str(d): int(n) for d, n in found.from_random.items()},
            "anchors_searched": {str(d): int(n) for d, n in found.num_anchors.items()},
            "random_pairs_evaluated": found.num_random,
            "exact_ged_computed": found.num_exact,
            "lower_bounds_computed": found.num_bounded,
        },
        "metrics": {},
    }
    values: dict[str, dict] = {}
    for name, accuracy in metrics.items():
        delta = np.abs(accuracy[pairs[:, 0]] - accuracy[pairs[:, 1]])
        ok = ~np.isnan(delta)
        stats = distance_statistics(pair_distance[ok], delta[ok])
        random_delta = np.abs(accuracy[reference[:, 0]] - accuracy[reference[:, 1]])
        random_delta = random_delta[~np.isnan(random_delta)]
        stats["random_pairs"] = {"count": int(len(random_delta)), "mean": float(random_delta.mean()),
                                 "median": float(np.median(random_delta))}
        result["metrics"][name] = stats
        values[name] = {"distance": pair_distance[ok], "delta": delta[ok], "random": random_delta}
    return result, values


def plot_fig1b(values: dict[str, dict], result: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    from gnnas.analysis import kde_violins

    fig, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    names = list(values)
    sides = ["both"] if len(names) == 1 else ["left", "right"]
    every = np.concatenate([np.concatenate([v["delta"], v["random"]]) for v in values.values()]) * 100
    top = float(np.quantile(every, 0.98))  # failed runs (accuracy ~0.1) make a long tail: cut at 98%
    for name, side, color in zip(names, sides, ("C0", "C1"), strict=False):
        v = values[name]
        groups = {int(d): v["delta"][v["distance"] == d] * 100 for d in np.unique(v["distance"])}
        random_x = max(groups) + 1.5
        groups[random_x] = v["random"] * 100
        rho = result["metrics"][name]["spearman"]["rho"]
        label = f"{name.replace('_', ' ')} (Spearman ρ = {rho:+.3f})"
        kde_violins(ax, groups, side=side, color=color, label=label, limits=(0.0, top))
    ticks = sorted(int(d) for d in np.unique(next(iter(values.values()))["distance"]))
    ax.set_xticks([*ticks, ticks[-1] + 1.5], [*map(str, ticks), "random"])
    ax.set_xlabel("graph edit distance")
    ax.set_ylabel("|Δ accuracy| (percentage points)")
    ax.set_ylim(0, top)
    ax.set_title(f"(b) accuracy difference by distance, {result['num_cells']:,}-cell table", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    save_figure(fig, path)
    plt.close(fig)


# ------------------------------------------------------------------------------ Fig. 1c and Fig. 2
def load_controllers(config: dict[str, Any], quiet: bool) -> tuple[dict[str, Any], dict[str, dict]]:
    """``{name: controller}`` (the metric-loss one, the NoMetricLoss baseline, an untrained one) and
    ``{name: how it was made}``."""
    import torch

    from gnnas.nn import NAOController
    from gnnas.pretrain import (
        NO_METRIC_LOSS,
        PretrainConfig,
        is_shipped,
        pretrained_controller,
        shipped_config,
    )

    controllers: dict[str, Any] = {}
    info: dict[str, dict] = {}
    wanted = [(loss, config["checkpoint"]) for loss in config["losses"]]
    wanted.append((NO_METRIC_LOSS, config["baseline_checkpoint"]))
    if config["pretrain_iterations"] != 0:
        wanted.append(("untrained", None))  # the reference: what the GIN's structure alone gives
    for preset, checkpoint in wanted:
        start = time.perf_counter()
        if checkpoint is not None:
            controller = NAOController.load(Path(checkpoint) / "controller.pt" if Path(checkpoint).is_dir()
                                            else checkpoint)
            name = f"{preset} ({Path(checkpoint).name})"
            info[name] = {"source": "checkpoint", "checkpoint": checkpoint}
        elif preset == "untrained" or config["pretrain_iterations"] == 0:
            torch.manual_seed(config["seed"])
            controller = NAOController()
            name = "untrained" if preset == "untrained" else f"{preset} (untrained)"
            info[name] = {"source": "untrained", "seed": config["seed"]}
        elif config["pretrain_iterations"] is None:
            controller = pretrained_controller(preset, seed=config["seed"], progress=not quiet,
                                               cache_dir=config.get("cache_dir"))
            name = preset
            info[name] = {"source": "shipped" if is_shipped(shipped_config(preset)) and config["seed"] == 0
                          else "pretrained", "loss": preset, "settings": "the paper's (2 epochs, SGD)",
                          "seed": config["seed"]}
        else:
            settings = PretrainConfig(loss=preset, max_iterations=config["pretrain_iterations"],
                                      batch_size=config["pretrain_batch_size"], seed=config["seed"],
                                      optimizer=config["pretrain_optimizer"], lr=config["pretrain_lr"],
                                      progress=not quiet, checkpoint_interval=0)
            print(f"Pretraining {preset} for {config['pretrain_iterations']} iterations of "
                  f"{settings.resolved_batch_size()} graphs "
                  f"(cached after the first run) ...", flush=True)
            controller = pretrained_controller(config=settings, cache_dir=config.get("cache_dir"))
            name = preset
            info[name] = {"source": "pretrained", "loss": preset, "iterations": config["pretrain_iterations"],
                          "batch_size": settings.resolved_batch_size(),
                          "lambda_e": settings.resolved_lambda_e(), "optimizer": settings.optimizer,
                          "lr": settings.lr, "seed": config["seed"]}
        info[name]["seconds"] = time.perf_counter() - start  # near 0 when loaded from the cache
        controller.eval()
        controllers[name] = controller
    return controllers, info


def embed(controller: Any, cells: list, batch_size: int = 1024) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(cells), batch_size):
            out.append(controller.encode(cells[start:start + batch_size]).float())
    z = torch.cat(out)
    return torch.nn.functional.normalize(z, dim=1).numpy()


def sample_anchors(space: Any, num: int, rng: np.random.Generator) -> list:
    # anchors have >= 5 vertices (all but 91 of the 423,624 cells): a smaller cell can lack positives
    # at 3 edits (it has fewer than 3 interior ops to change), and input → output has none at all
    eligible = np.flatnonzero(np.asarray(space.num_vertices) >= 5)
    return [space[int(i)] for i in rng.choice(eligible, size=num, replace=False)]


def fig1c(space: Any, controllers: dict[str, Any], config: dict[str, Any], rng: np.random.Generator,
          quiet: bool) -> tuple[dict, dict]:
    from gnnas.analysis import (
        anchors_with_positives,
        distance_statistics,
        random_pairs,
        spearman,
        within_group_pairs,
    )
    from gnnas.ged import paired_ged

    anchors = sample_anchors(space, config["embed_anchors"], rng)
    cells, groups, _ = anchors_with_positives(anchors, config["num_positives"], seed=rng)
    within = within_group_pairs(groups)
    across = random_pairs(len(cells), 3 * config["embed_random_pairs"], seed=rng)
    across = across[groups[across[:, 0]] != groups[across[:, 1]]][: config["embed_random_pairs"]]
    pairs = np.concatenate([within, across])
    source = np.concatenate([np.zeros(len(within), bool), np.ones(len(across), bool)])  # True: random
    distance = np.empty(len(pairs), dtype=np.int64)
    with progress_bar(len(pairs), "Fig. 1c: exact GED of the pairs", quiet) as bar:
        for start in range(0, len(pairs), 2000):
            chunk = pairs[start:start + 2000]
            first, second = [cells[i] for i in chunk[:, 0]], [cells[j] for j in chunk[:, 1]]
            distance[start:start + 2000] = paired_ged(first, second)
            bar.update(len(chunk))
    keep = distance > 0  # two positives of an anchor can be the same cell: not a pair of distinct cells
    result: dict[str, Any] = {
        "num_anchors": len(anchors),
        "num_positives": config["num_positives"],
        "num_cells": len(cells),
        "num_pairs": int(keep.sum()),
        "num_within_anchor_pairs": int((keep & ~source).sum()),
        "num_random_pairs": int((keep & source).sum()),
        "num_identical_pairs_dropped": int((~keep).sum()),
        "models": {},
    }
    values: dict[str, Any] = {"distance": distance[keep], "models": {}}
    for name, controller in controllers.items():
        z = embed(controller, cells)
        cosine = np.einsum("pd,pd->p", z[pairs[:, 0]], z[pairs[:, 1]])
        stats = distance_statistics(distance[keep], cosine[keep])
        positives = keep & ~source  # an anchor and a positive, or two positives of one anchor
        stats["spearman_within_anchor_pairs"] = spearman(distance[positives], cosine[positives])
        result["models"][name] = stats
        values["models"][name] = cosine[keep]
    return result, values


def panel_grid(count: int, size: tuple[float, float], columns: int = 4) -> tuple[Any, list]:
    """A figure of ``count`` panels, at most ``columns`` per row; the unused axes are hidden."""
    import matplotlib.pyplot as plt

    columns = min(columns, count)
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size[0] * columns, size[1] * rows),
                             constrained_layout=True, squeeze=False)
    axes = list(axes.ravel())
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def plot_fig1c(values: dict[str, Any], result: dict, path: Path, max_shown: int = 12) -> None:
    """One panel per controller, each with its own y range: an embedding that collapsed into a narrow
    cone (cosines all near 1) still shows its ordering."""
    import matplotlib.pyplot as plt

    from gnnas.analysis import kde_violins

    models = values["models"]
    fig, axes = panel_grid(len(models), (4.0, 3.4))
    distance = values["distance"]
    shown = [int(d) for d in np.unique(distance) if d <= max_shown and (distance == d).sum() >= 20]
    palette = [f"C{i}" for i in range(10) if i != 7]  # C7, grey, is kept for the untrained controller
    colors = [palette[i % len(palette)] for i in range(len(models) - 1)] + ["C7"]
    for ax, color, (name, cosine) in zip(axes, colors, models.items(), strict=False):
        groups = {d: cosine[distance == d] for d in shown}
        kept = np.concatenate(list(groups.values()))
        low, high = np.quantile(kept, [0.002, 1.0])
        pad = 0.03 * max(high - low, 1e-6)
        kde_violins(ax, groups, color=color, limits=(float(low - pad), float(min(high + pad, 1.0 + pad))))
        ax.set_xticks(shown)
        ax.set_xlabel("graph edit distance")
        ax.set_ylabel("cosine similarity of embeddings")
        ax.set_ylim(low - pad, high + pad)
        ax.axvline(6.5, color="gray", linestyle="--", linewidth=1)
        rho = result["models"][name]["spearman"]["rho"]
        ax.set_title(f"{name}: Spearman ρ = {rho:+.3f}", fontsize=10)
    fig.suptitle(f"(c) embedding similarity by exact distance, {result['num_pairs']:,} pairs", fontsize=10)
    save_figure(fig, path)
    plt.close(fig)


def fig2(space: Any, controllers: dict[str, Any], config: dict[str, Any], rng: np.random.Generator,
         path: Path) -> dict:
    import matplotlib.pyplot as plt

    from gnnas.analysis import anchors_with_positives, embedding_map, project_2d

    anchors = sample_anchors(space, config["map_anchors"], rng)
    cells, groups, is_anchor = anchors_with_positives(anchors, config["num_positives"], seed=rng)
    result: dict[str, Any] = {"num_anchors": len(anchors), "num_cells": len(cells), "models": {}}
    fig, axes = panel_grid(len(controllers), (3.8, 3.9))
    for ax, letter, (name, controller) in zip(axes, "abcdefghijklmn", controllers.items(), strict=False):
        z = embed(controller, cells)
        coords, method = project_2d(z, config["projection"], seed=config["seed"])
        cosine = z @ z.T
        off_diagonal = ~np.eye(len(cells), dtype=bool)
        same = (groups[:, None] == groups[None, :]) & off_diagonal
        nearest = np.where(off_diagonal, cosine, -np.inf).argmax(axis=1)  # by cosine, in the full space
        result["models"][name] = {
            "projection": method,
            "nearest_neighbour_same_anchor": float((groups[nearest] == groups).mean()),
            "mean_cosine_same_anchor": float(cosine[same].mean()),
            "mean_cosine_other_anchors": float(cosine[~same & off_diagonal].mean()),
        }
        embedding_map(ax, coords, groups, is_anchor=is_anchor)
        share = result["models"][name]["nearest_neighbour_same_anchor"]
        ax.set_title(f"({letter}) {name}, {method.upper()}\nnearest neighbour of the same anchor: "
                     f"{share:.0%}", fontsize=9)
    save_figure(fig, path)
    plt.close(fig)
    return result


# ------------------------------------------------------------------------------------------- main
def environment() -> dict[str, str]:
    import scipy
    import torch

    import gnnas

    return {"python": platform.python_version(), "platform": platform.platform(), "numpy": np.__version__,
            "scipy": scipy.__version__, "torch": torch.__version__, "gnnas": gnnas.__version__,
            "cpus": str(os.cpu_count())}


#: Settings that do not change the results: a rerun that differs only in these replaces them.
_RUNTIME_SETTINGS = ("command", "out", "cache_dir")


def check_previous_results(path: Path, config: dict[str, Any]) -> None:
    """Refuses to replace ``locality.json`` (and its figures) made with other settings."""
    if not path.exists():
        return
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))["config"]
        assert isinstance(previous, dict)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        raise SystemExit(f"{path}: not a results file of benchmarks/locality.py (damaged?); move it away, or "
                         "pass --overwrite to replace it") from None
    changed = sorted(key for key in set(previous) | set(config)
                     if key not in _RUNTIME_SETTINGS and previous.get(key) != config.get(key))
    if changed:
        shown = ", ".join(f"{key}: {previous.get(key)!r} there, {config.get(key)!r} now"
                          for key in changed[:4])
        raise SystemExit(f"{path} holds results of other settings ({shown}); pass --overwrite to replace "
                         "them, or choose another --out")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    config = resolve_config(args)  # every flag is checked here, before any work
    quiet = args.no_progress
    import matplotlib

    matplotlib.use("Agg")
    from gnnas.space.enumerate import enumerate_cells

    out = Path(config["out"])
    if not args.overwrite:
        check_previous_results(out / "locality.json", config)
    rng = np.random.default_rng(config["seed"])
    # one generator per figure, so that changing one figure's sizes leaves the others' draws alone
    rng_1a, rng_1b, rng_1c, rng_2 = (np.random.default_rng(s) for s in rng.integers(0, 2**63, size=4))
    results: dict[str, Any] = {"config": config, "environment": environment(), "seconds": {}}

    # the controllers and the table first: a bad --controller or --data fails before the figures
    start = time.perf_counter()
    controllers, results["controllers"] = load_controllers(config, quiet)
    results["seconds"]["pretrain"] = time.perf_counter() - start
    start = time.perf_counter()
    table = load_table(args.data)
    results["seconds"]["table"] = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    space = enumerate_cells(progress=not quiet)
    results["seconds"]["enumerate"] = time.perf_counter() - start

    start = time.perf_counter()
    results["fig1a"], distances = fig1a(space, config, rng_1a, quiet)
    plot_fig1a(distances, out / "fig1a_ged_distribution.png")
    results["seconds"]["fig1a"] = time.perf_counter() - start
    a = results["fig1a"]
    print(f"Fig. 1a: {a['num_pairs']:,} random pairs, mean GED {a['mean']:.2f}, "
          f"{a['share_at_most_6']:.1%} at distance <= 6", flush=True)

    start = time.perf_counter()
    results["fig1b"], values = fig1b(table, config, rng_1b, quiet)
    plot_fig1b(values, results["fig1b"], out / "fig1b_accuracy_locality.png")
    results["seconds"]["fig1b"] = time.perf_counter() - start
    for name, stats in results["fig1b"]["metrics"].items():
        means = ", ".join(f"d={d}: {s['mean'] * 100:.2f}" for d, s in stats["per_distance"].items())
        print(f"Fig. 1b ({name}): Spearman(distance, |Δ|) = {stats['spearman']['rho']:+.3f}; "
              f"mean |Δ| in points {means}; random pairs {stats['random_pairs']['mean'] * 100:.2f}",
              flush=True)

    start = time.perf_counter()
    results["fig1c"], values = fig1c(space, controllers, config, rng_1c, quiet)
    plot_fig1c(values, results["fig1c"], out / "fig1c_embedding_locality.png")
    results["seconds"]["fig1c"] = time.perf_counter() - start
    for name, stats in results["fig1c"]["models"].items():
        print(f"Fig. 1c ({name}): Spearman(distance, cosine) = {stats['spearman']['rho']:+.3f} over "
              f"{stats['num_pairs']:,} pairs", flush=True)

    start = time.perf_counter()
    results["fig2"] = fig2(space, controllers, config, rng_2, out / "fig2_embedding_map.png")
    results["seconds"]["fig2"] = time.perf_counter() - start
    for name, stats in results["fig2"]["models"].items():
        share = stats["nearest_neighbour_same_anchor"]
        print(f"Fig. 2 ({name}): nearest neighbour of the same anchor {share:.0%}", flush=True)

    write_whole(out / "locality.json", lambda partial: partial.write_text(json.dumps(results, indent=1)))
    print(f"Wrote {out / 'locality.json'} and the figures in {out}/", flush=True)
    return results


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

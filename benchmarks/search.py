"""Search under a query budget on real NAS-Bench-101 data: the paper's Table 1 and Fig. 4.

Rows: NAO started from a controller pretrained with each of the eight metric losses and with
``NoMetricLoss`` (reconstruction only), NAO from a fresh controller, random search, regularized
evolution and local search. All share one oracle setting and budget, and the same seeds.
Columns (mean and std over seeds): queries until the best cell was found, the best validation
accuracy, its regret to the table's best, its rank in the table, and the median number of queries
until a cell of the table's top 0.1% was found.

The table is ``--data``: by default the NAS-Bench-101 sample bundled with gnnas
(``NASBench101.bundled()``: 30,001 real cells, one-repeat validation accuracy at 108 epochs); a
proposal outside it is sent to the table cell at the smallest exact graph edit distance (ties by
hash). With the official file
(``nasbench_only108.tfrecord``) the same code runs on the whole space without mapping.

Settings::

    python benchmarks/search.py --quick     # a few minutes once pretrained: 2 seeds, 96 queries
    python benchmarks/search.py             # the README's run: 5 seeds, 224 queries, short NAO
    python benchmarks/search.py --full      # the paper's: 5 seeds, 128 + 50 x 128 queries,
                                            # 100 inner epochs, fully pretrained controllers

Every setting can be overridden (``--seeds``, ``--budget``, ``--outer-epochs``, ...). Each run
writes ``runs/<row>/seed<k>.json`` (its configuration and every query) and checkpoints while it
runs, so an interrupted benchmark continues where it stopped (``--no-resume`` to start over).
Results go to ``results/search/``: ``table1.json`` (configuration, every run's summary, the
aggregates), ``table1.md`` and ``fig4_best_so_far.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]

BASELINES = ("random", "regularized_evolution", "local_search")
NAO_FRESH = "nao:fresh"

# The NAO controller is trained with Adam (lr 0.01) in the two small settings: with controllers
# pretrained for only a few iterations, SGD at the paper's rate barely trains the decoder, which then
# decodes almost every embedding to cells queried before (see the README's search section).
SETTINGS: dict[str, dict[str, Any]] = {
    "quick": dict(seeds=2, num_init=32, outer_epochs=4, inner_epochs=30, num_seeds=32, num_candidates=16,
                  max_step_size=20, optimizer="adam", lr=0.01, pretrain_iterations=30),
    "default": dict(seeds=5, num_init=64, outer_epochs=5, inner_epochs=40, num_seeds=64, num_candidates=32,
                    max_step_size=20, optimizer="adam", lr=0.01, pretrain_iterations=30),
    "full": dict(seeds=5, num_init=128, outer_epochs=50, inner_epochs=100, num_seeds=128, num_candidates=128,
                 max_step_size=100, optimizer="sgd", lr=0.1, pretrain_iterations=None),
}


def nao_rows() -> list[str]:
    from gnnas.pretrain.presets import PRESET_NAMES

    return [f"nao:{name}" for name in PRESET_NAMES]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="a CSV table or the official .tfrecord file (default: the 30k sample bundled "
                             "with gnnas)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a few minutes: 2 seeds, tiny budget")
    size.add_argument("--full", action="store_true", help="the paper's settings (hours per row on a CPU)")
    parser.add_argument("--rows", nargs="+", default=None,
                        help="rows to run: nao:<preset> (e.g. nao:MarginLoss), nao:fresh, random, "
                             "regularized_evolution, local_search (default: all)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per row (0 .. seeds-1)")
    parser.add_argument("--budget", type=int, default=None,
                        help="queries per run (default: num_init + outer_epochs * num_candidates)")
    for name in ("num_init", "outer_epochs", "inner_epochs", "num_seeds", "num_candidates", "max_step_size"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=None, help=f"NAO {name}")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default=None, help="NAO optimizer")
    parser.add_argument("--lr", type=float, default=None, help="NAO learning rate")
    parser.add_argument("--pretrain-iterations", type=int, default=None,
                        help="pretraining iterations of the cached controllers (0: the paper's 2 epochs)")
    parser.add_argument("--pretrain-seed", type=int, default=0)
    parser.add_argument("--pretrain-optimizer", choices=("sgd", "adam"), default="sgd",
                        help="optimizer of the pretraining (sgd: the paper's, lr 1.0)")
    parser.add_argument("--pretrain-lr", type=float, default=None,
                        help="pretraining learning rate (default: 1.0 for sgd, 0.001 for adam)")
    parser.add_argument("--population-size", type=int, default=50, help="regularized evolution")
    parser.add_argument("--sample-size", type=int, default=10, help="regularized evolution")
    parser.add_argument("--top-fraction", type=float, default=0.001,
                        help="the 'top' of the table that the queries-to-top column measures")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "search")
    parser.add_argument("--no-resume", action="store_true", help="rerun runs whose results exist")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; the small NAO networks run fastest on one (default: 1)")
    return parser


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    name = "quick" if args.quick else "full" if args.full else "default"
    settings = dict(SETTINGS[name], setting=name)
    for key in ("seeds", "num_init", "outer_epochs", "inner_epochs", "num_seeds", "num_candidates",
                "max_step_size", "optimizer", "lr"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.pretrain_iterations is not None:
        settings["pretrain_iterations"] = args.pretrain_iterations or None
    nao_queries = settings["num_init"] + settings["outer_epochs"] * settings["num_candidates"]
    settings["budget"] = args.budget or nao_queries
    settings["rows"] = args.rows or [*nao_rows(), NAO_FRESH, *BASELINES]
    for row in settings["rows"]:
        if row not in BASELINES and not row.startswith("nao:"):
            raise SystemExit(f"unknown row {row!r}")
    pretrain_lr = args.pretrain_lr or (1.0 if args.pretrain_optimizer == "sgd" else 1e-3)
    settings.update(pretrain_optimizer=args.pretrain_optimizer, pretrain_lr=pretrain_lr)
    settings.update(pretrain_seed=args.pretrain_seed, population_size=args.population_size,
                    sample_size=args.sample_size, top_fraction=args.top_fraction)
    return settings


def load_table(path: Path) -> Any:
    from gnnas.nasbench import NASBench101

    if path is None:
        return NASBench101.bundled()
    return NASBench101(path)  # a .csv suffix selects the CSV reader


def make_oracle(table: Any, settings: dict[str, Any]) -> Any:
    from gnnas.search import Oracle
    from gnnas.space import NUM_CELLS

    mapping = None if len(table) >= NUM_CELLS else "nearest"
    return Oracle(table, budget=settings["budget"], mapping=mapping)


class Controllers:
    """Pretrained controllers, each loaded (or trained, through the module's cache) once."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.loaded: dict[str, Any] = {}

    def config(self, preset: str) -> Any:
        """The pretraining settings of a preset."""
        from gnnas.pretrain import PretrainConfig

        return PretrainConfig(loss=preset, max_iterations=self.settings["pretrain_iterations"],
                              seed=self.settings["pretrain_seed"],
                              optimizer=self.settings["pretrain_optimizer"], lr=self.settings["pretrain_lr"],
                              progress=False)

    def get(self, preset: str) -> Any:
        if preset not in self.loaded:
            from gnnas.pretrain import pretrained_controller

            self.loaded[preset] = pretrained_controller(config=self.config(preset))
        return self.loaded[preset]

    def describe(self, preset: str) -> dict[str, Any]:
        """Where the pretraining module caches this preset's controller, and how far its
        pretraining got (its ``summary.json``: token accuracy, losses, iterations)."""
        from gnnas.pretrain.cache import pretrained_folder

        config = self.config(preset)
        folder = pretrained_folder(config)
        summary = folder / "summary.json"
        return {"folder": str(folder), "config": config.to_dict(),
                "summary": json.loads(summary.read_text()) if summary.exists() else None}


def make_search(row: str, oracle: Any, seed: int, settings: dict[str, Any], controllers: Controllers,
                checkpoint: Path | None = None) -> Any:
    """The search of a row, continued from ``checkpoint`` when that file exists."""
    from gnnas.search import (
        LocalSearch,
        NAOConfig,
        NAOSearch,
        RandomSearch,
        RegularizedEvolution,
        RegularizedEvolutionConfig,
    )

    kwargs: dict[str, Any] = {}
    if row == "random":
        cls, config = RandomSearch, None
    elif row == "regularized_evolution":
        cls, config = RegularizedEvolution, RegularizedEvolutionConfig(
            population_size=settings["population_size"], sample_size=settings["sample_size"])
    elif row == "local_search":
        cls, config = LocalSearch, None
    else:
        preset = row.split(":", 1)[1]
        cls, config = NAOSearch, NAOConfig(
            num_init=settings["num_init"], outer_epochs=settings["outer_epochs"],
            inner_epochs=settings["inner_epochs"], num_seeds=settings["num_seeds"],
            num_candidates=settings["num_candidates"], max_step_size=settings["max_step_size"],
            optimizer=settings["optimizer"], lr=settings["lr"],
            controller_init="fresh" if preset == "fresh" else f"pretrained:{preset}")
        kwargs["controller"] = None if preset == "fresh" else controllers.get(preset)
    if checkpoint is not None and checkpoint.exists():
        return cls.resume(checkpoint, oracle, **kwargs)
    return cls(oracle, config, seed=seed, **kwargs)


def run_one(row: str, seed: int, table: Any, settings: dict[str, Any], controllers: Controllers,
            folder: Path, resume: bool) -> tuple[Any, float]:
    """Runs (or, with ``resume``, loads or continues) one seed of one row."""
    from gnnas.search import SearchResult

    folder.mkdir(parents=True, exist_ok=True)
    result_path, checkpoint = folder / f"seed{seed}.json", folder / f"seed{seed}.ckpt"
    if resume and result_path.exists():
        data = json.loads(result_path.read_text())
        return SearchResult.from_dict(data), float(data.get("extra", {}).get("wall_seconds", float("nan")))
    if not resume:
        checkpoint.unlink(missing_ok=True)
    search = make_search(row, make_oracle(table, settings), seed, settings, controllers, checkpoint)
    start = time.perf_counter()
    result = search.run(checkpoint=checkpoint, checkpoint_every=1 if row.startswith("nao:") else 25)
    seconds = time.perf_counter() - start  # of this call only, when continued from a checkpoint
    result.extra["wall_seconds"] = seconds
    result.save(result_path)
    checkpoint.unlink(missing_ok=True)
    return result, seconds


def queries_to_top(result: Any, max_rank: int) -> float:
    found = result.queries_to_rank(max_rank)
    return math.inf if found is None else float(found)


def aggregate(results: list[Any], max_rank: int, budget: int) -> dict[str, Any]:
    def stats(values: list[float]) -> dict[str, float]:
        array = np.asarray(values, dtype=np.float64)
        return {"mean": float(array.mean()), "std": float(array.std(ddof=0))}

    to_top = [queries_to_top(r, max_rank) for r in results]
    median = float(np.median(to_top))
    return {
        "seeds": len(results),
        "queries_to_best": stats([r.queries_to_best for r in results]),
        "best_accuracy": stats([r.best_accuracy for r in results]),
        "regret": stats([r.regret for r in results]),
        "rank": stats([r.rank for r in results]),
        "num_queries": stats([r.num_queries for r in results]),
        "queries_to_top": {"median": None if math.isinf(median) else median,
                           "reached": int(sum(math.isfinite(q) for q in to_top)),
                           "per_seed": [None if math.isinf(q) else int(q) for q in to_top]},
        "found_table_best": int(sum(r.rank == 1 for r in results)),
        "budget": budget,
    }


def best_so_far(results: list[Any], budget: int) -> np.ndarray:
    """(seeds, budget) best accuracy after each query; a run that stopped early keeps its last value."""
    curves = np.full((len(results), budget), np.nan)
    for k, result in enumerate(results):
        trajectory = result.trajectory()[:budget]
        curves[k, :len(trajectory)] = trajectory
        if 0 < len(trajectory) < budget:
            curves[k, len(trajectory):] = trajectory[-1]
    return curves


def plot(all_results: dict[str, list[Any]], budget: int, table_best: float, threshold: float,
         path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_acc, ax_regret) = plt.subplots(1, 2, figsize=(13, 5))
    queries = np.arange(1, budget + 1)
    cmap = plt.get_cmap("tab20")
    for k, (row, results) in enumerate(all_results.items()):
        curves = best_so_far(results, budget)
        mean, std = np.nanmean(curves, axis=0), np.nanstd(curves, axis=0)
        style = "-" if row.startswith("nao:") else "--"
        width = 2.2 if row in BASELINES or row in (NAO_FRESH, "nao:NoMetricLoss") else 1.3
        ax_acc.plot(queries, 100 * mean, style, color=cmap(k), lw=width, label=row)
        ax_acc.fill_between(queries, 100 * (mean - std), 100 * (mean + std), color=cmap(k), alpha=0.12)
        regret = np.maximum(table_best - curves, 1e-5)
        geometric = np.exp(np.nanmean(np.log(regret), axis=0))
        ax_regret.plot(queries, 100 * geometric, style, color=cmap(k), lw=width)
    ax_acc.axhline(100 * threshold, color="gray", lw=0.8, ls=":", label="top 0.1% of the table")
    ax_acc.axhline(100 * table_best, color="black", lw=0.8, ls=":", label="table's best")
    ax_acc.set(xlabel="queries", ylabel="best validation accuracy so far (%)",
               title="Best so far (mean ± std over seeds)")
    low = min(np.nanmin(best_so_far(r, budget)[:, min(budget - 1, 20)]) for r in all_results.values())
    ax_acc.set_ylim(100 * low - 0.1, 100 * table_best + 0.05)
    ax_regret.set(xlabel="queries", ylabel="regret to the table's best (%), geometric mean", yscale="log",
                  title="Regret (floored at 0.001%)")
    ax_acc.legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def markdown(aggregates: dict[str, dict[str, Any]], fraction: float) -> str:
    head = ("| method | #queries to best | best val. acc. (%) | regret (%) | rank | "
            f"queries to top {100 * fraction:g}% (median, reached) |\n|---|---|---|---|---|---|\n")
    lines = []
    for row, a in aggregates.items():
        top = a["queries_to_top"]
        median = "not reached" if top["median"] is None else f"{top['median']:.0f}"
        lines.append(
            f"| {row} | {a['queries_to_best']['mean']:.0f} ± {a['queries_to_best']['std']:.0f} "
            f"| {100 * a['best_accuracy']['mean']:.2f} ± {100 * a['best_accuracy']['std']:.2f} "
            f"| {100 * a['regret']['mean']:.2f} ± {100 * a['regret']['std']:.2f} "
            f"| {a['rank']['mean']:.1f} ± {a['rank']['std']:.1f} "
            f"| {median} ({top['reached']}/{a['seeds']}) |")
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    settings = resolve_settings(args)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    table = load_table(args.data)
    probe = make_oracle(table, settings)
    threshold = probe.top_threshold(settings["top_fraction"])
    max_rank = probe.rank(threshold)
    controllers = Controllers(settings)
    print(f"table: {len(table)} cells from {args.data or 'the bundled sample'}; mapping={probe.mapping!r}; "
          f"budget={settings['budget']}; best {probe.table_best:.6f}; top {settings['top_fraction']:g} "
          f"needs >= {threshold:.6f} (rank <= {max_rank})")
    all_results: dict[str, list[Any]] = {}
    runs: list[dict[str, Any]] = []
    for row in settings["rows"]:
        all_results[row] = []
        for seed in range(settings["seeds"]):
            folder = out / "runs" / row.replace(":", "_")
            result, seconds = run_one(row, seed, table, settings, controllers, folder,
                                      resume=not args.no_resume)
            all_results[row].append(result)
            summary = dict(result.summary(), wall_seconds=seconds,
                           queries_to_top=result.queries_to_rank(max_rank))
            runs.append(summary)
            print(f"{row:>32s} seed {seed}: best {result.best_accuracy:.4f} (rank {result.rank}) after "
                  f"{result.queries_to_best} of {result.num_queries} queries; top after "
                  f"{summary['queries_to_top']}; {seconds:.1f} s", flush=True)
    aggregates = {row: aggregate(results, max_rank, settings["budget"])
                  for row, results in all_results.items()}
    report = {
        "config": {**settings, "data": str(args.data or "bundled"), "table_size": len(table),
                   "oracle": probe.config(),
                   "nao_defaults": asdict(__import__("gnnas.search", fromlist=["NAOConfig"]).NAOConfig()),
                   "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
                   "torch": torch.__version__, "machine": platform.machine()},
        "table": {"best": probe.table_best, "top_threshold": threshold, "top_max_rank": max_rank},
        "pretrained_controllers": {row: controllers.describe(row.split(":", 1)[1]) for row in settings["rows"]
                                   if row.startswith("nao:") and row != NAO_FRESH},
        "aggregates": aggregates,
        "runs": runs,
        "wall_seconds": time.perf_counter() - start,
    }
    (out / "table1.json").write_text(json.dumps(report, indent=1))
    (out / "table1.md").write_text(markdown(aggregates, settings["top_fraction"]))
    plot(all_results, settings["budget"], probe.table_best, threshold, out / "fig4_best_so_far.png")
    print(markdown(aggregates, settings["top_fraction"]))
    print(f"wrote {out / 'table1.json'}, {out / 'table1.md'}, {out / 'fig4_best_so_far.png'} "
          f"in {report['wall_seconds']:.0f} s")
    return report


if __name__ == "__main__":
    main()

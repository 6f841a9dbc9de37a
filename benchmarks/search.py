"""Search under a query budget on real NAS-Bench-101 data: the paper's Table 1 and Fig. 4.

Rows, named as the search classes name themselves: nao:<preset> is NAO started from the
controller shipped for each of the nine loss presets (the eight metric losses and NoMetricLoss),
nao:fresh is NAO from a fresh controller, and the baselines are random, regularized_evolution
and local_search. Every row runs the same seeds on the same oracle: validation accuracy after
108 epochs, a budget of 1,024 distinct table cells, and on a partial table (the bundled 30,001
cells) a proposal outside it goes to the table cell at the smallest exact graph edit distance.
Seed k draws the same first random cells in every row (NAO's 128 initial cells, the first cells
of random search, evolution's first population, local search's first start).

NAO runs with the paper's settings: 128 initial cells, then outer epochs of 100 inner epochs of
training (SGD lr 0.1, batch 64, lambda 0.5), 128 seeds, step sizes up to 100 and 128 new cells,
for 7 outer epochs: the budget of 1,024 when each finds its 128 new cells. An outer epoch that
finds fewer (its decoder maps the moved seeds back onto cells queried before, even at step size
100) leaves the run below the budget; if it found no top cell, its time to one is censored at
the budget, as for every run that found none. --outer-epochs 50 gives the paper's 50 outer
epochs, run until the budget is spent; NAO then stalls for most of them at 15 times the cost
(one run: 790 queries after 50 outer epochs, 881 CPU seconds).

commands:
  python benchmarks/search.py --quick        # minutes: 2 seeds, 96 queries, short NAO
  python benchmarks/search.py                # Table 1: 13 rows x 10 seeds, budget 1,024
  python benchmarks/search.py --rows random nao:fresh --seeds 0 1 2     # one machine's share
  python benchmarks/search.py --merge        # the table from the finished runs in --out
  python benchmarks/search.py --check docs/results/table1.json --rows nao:MarginLoss --seeds 0

Runs go over --workers processes (default: one per core), each run on --threads torch threads
(default 1). Each finished run is written at once as OUT/runs/<row>/seed<k>.json (settings,
summary, every query; with a .sha256 checksum beside it). A run already there with the same
settings is skipped, so a killed sweep continues where it stopped (an unfinished NAO run from its
last outer epoch); one with other settings is an error, never overwritten. To shard over
machines, give each its --rows and --seeds, copy the runs/ folders into one --out, then --merge.

The merge writes --report (default OUT/table1.json): config (every setting, the torch threads,
the gnnas version and commit), table, rows (per row its runs, each with its seed, summary
figures and queries, the hashes of the queried table cells in order, and its statistics with
95 % bootstrap intervals over seeds), tests (each pretrained row against nao:NoMetricLoss,
nao:fresh and regularized_evolution) and verdict (generated sentences); beside it
table1_fig4.png (the paper's Fig. 4), table1_survival.png and table1_curves.json.

--check REPORT reruns runs of a report for their first --check-epochs outer epochs (2: 384
queries with the paper's settings; a baseline: as many queries) with the report's settings and
thread count, and compares the queries one by one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import platform
import subprocess
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from gnnas.files import load_json, read_bytes, remove, save_json, write_bytes
from gnnas.flags import DEFAULT_THREADS, deprecated_flag
from gnnas.pretrain.config import OPTIMIZERS

REPO = Path(__file__).resolve().parents[1]

#: Rows every pretrained row is tested against.
REFERENCES = ("nao:NoMetricLoss", "nao:fresh", "regularized_evolution")
#: Window of the moving average of Fig. 4 (the paper's).
WINDOW = 128
#: Bootstrap settings of the intervals.
BOOTSTRAP = {"confidence": 0.95, "num_resamples": 10_000, "seed": 0}

# The paper's NAO and the budget; --quick shrinks the search (and NAO then trains with Adam:
# SGD at lr 0.1 barely moves a controller in so few steps). "iterations" is the pretraining of
# the controllers: None is the paper's 2 epochs, the controllers shipped with gnnas (no training).
SETTINGS: dict[str, dict[str, Any]] = {
    "table1": dict(seeds=list(range(10)), budget=1024, num_init=128, outer_epochs=7, inner_epochs=100,
                   num_seeds=128, num_candidates=128, max_step_size=100, optimizer="sgd", lr=0.1,
                   iterations=None, pretrain_optimizer=None, pretrain_lr=None, at=[256, 512, 1024]),
    "quick": dict(seeds=[0, 1], budget=96, num_init=32, outer_epochs=50, inner_epochs=20, num_seeds=32,
                  num_candidates=32, max_step_size=20, optimizer="adam", lr=0.01, iterations=None,
                  pretrain_optimizer=None, pretrain_lr=None, at=[32, 64, 96]),
}
_NAO_HELP = {
    "num_init": "random cells queried first",
    "outer_epochs": "outer epochs (the budget may end a run first; the paper's: 50)",
    "inner_epochs": "training epochs of the controller per outer epoch",
    "num_seeds": "best queried cells moved along the predictor's gradient",
    "num_candidates": "new cells sought per outer epoch",
    "max_step_size": "the largest step size",
    "optimizer": "the controller's optimizer",
    "lr": "its learning rate",
}
_NAO_KEYS = tuple(_NAO_HELP)


# ---------------------------------------------------------------------------------------- rows
def baseline_rows() -> list[str]:
    """The baselines by their classes' names: random, regularized_evolution, local_search."""
    from gnnas.search import LocalSearch, RandomSearch, RegularizedEvolution

    return [RandomSearch.name, RegularizedEvolution.name, LocalSearch.name]


def nao_rows() -> list[str]:
    """``nao:<preset>`` for the nine presets, then ``nao:fresh``."""
    from gnnas.pretrain.presets import PRESET_NAMES
    from gnnas.search import NAOSearch

    return [f"{NAOSearch.name}:{name}" for name in (*PRESET_NAMES, "fresh")]


def all_rows() -> list[str]:
    return [*nao_rows(), *baseline_rows()]


def preset_of(row: str) -> str | None:
    """The loss preset of a pretrained NAO row, else :obj:`None`."""
    method, _, preset = row.partition(":")
    return preset if method == "nao" and preset != "fresh" else None


def slug(row: str) -> str:
    return row.replace(":", "_")


# ---------------------------------------------------------------------------------------- settings
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="a CSV table or the official .tfrecord file (default: the bundled 30,001 cells)")
    parser.add_argument("--quick", action="store_true", help="a few minutes: 2 seeds, 96 queries, short NAO")
    parser.add_argument("--rows", nargs="+", metavar="ROW", default=None,
                        help="rows to run or merge: nao:<preset> (e.g. nao:MarginLoss), nao:fresh, random, "
                             "regularized_evolution, local_search (default: all 13)")
    parser.add_argument("--seeds", type=int, nargs="+", metavar="SEED", default=None,
                        help="seeds of every row (default: 0 .. 9; --quick: 0 1)")
    parser.add_argument("--budget", type=int, default=None, help="queries per run (default: 1,024)")
    parser.add_argument("--at", type=int, nargs="+", metavar="QUERIES", default=None,
                        help="numbers of queries after which the best cell so far is reported "
                             "(default: 256 512 1024)")
    table1, quick = SETTINGS["table1"], SETTINGS["quick"]
    for name, what in _NAO_HELP.items():
        kind = str if name == "optimizer" else float if name == "lr" else int
        paper = "" if name == "outer_epochs" else ", the paper's"
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=None,
                            choices=("sgd", "adam") if name == "optimizer" else None,
                            help=f"NAO: {what} (default: {table1[name]}{paper}; --quick: {quick[name]})")
    parser.add_argument("--pretrain-iterations", type=int, default=None, dest="iterations",
                        help="pretraining iterations of the controllers, trained once and cached; 0 "
                             "(untrained controllers) is the nao:fresh row (default: the paper's 2 "
                             "epochs, the shipped controllers)")
    parser.add_argument("--pretrain-seed", type=int, default=0,
                        help="seed of the controllers' pretraining (default: 0, the shipped controllers')")
    parser.add_argument("--pretrain-optimizer", choices=OPTIMIZERS, default=None,
                        help="optimizer of the controllers' pretraining (default: sgd, the paper's)")
    parser.add_argument("--pretrain-lr", type=float, default=None,
                        help="learning rate of the controllers' pretraining (default: the paper's 1.0)")
    parser.add_argument("--population-size", type=int, default=50,
                        help="regularized evolution's population (default: 50)")
    parser.add_argument("--sample-size", type=int, default=10,
                        help="regularized evolution's tournament size (default: 10)")
    parser.add_argument("--top-fraction", type=float, default=0.001,
                        help="the top of the table whose first hit is timed (default: 0.001, the top 0.1%%)")
    parser.add_argument("--out", type=Path, default=Path("results/search"),
                        help="output folder: runs/<row>/seed<k>.json and the report "
                             "(default: results/search)")
    parser.add_argument("--report", type=Path, default=None,
                        help="the merged table (default: OUT/table1.json); figures are written beside it")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes running rows and seeds, at most one per core and run "
                             "(default: one per core)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"torch threads of each run (default: {DEFAULT_THREADS})")
    parser.add_argument("--merge", action="store_true", help="only merge the finished runs in --out")
    parser.add_argument("--check", type=Path, metavar="REPORT", default=None,
                        help="rerun runs of REPORT (--rows, --seeds; default: every row's first seed) for "
                             "--check-epochs outer epochs and compare their queries")
    parser.add_argument("--check-epochs", type=int, default=2,
                        help="outer epochs of NAO (for a baseline: as many queries) that --check reruns "
                             "(default: 2)")
    deprecated_flag(parser, "--iterations", "--pretrain-iterations")
    return parser


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of the sweep: the preset (``--quick`` or Table 1's) with the flags over it."""
    name = "quick" if args.quick else "table1"
    settings = dict(SETTINGS[name], setting=name)
    for key in ("seeds", "budget", *_NAO_KEYS, "iterations", "pretrain_optimizer", "pretrain_lr", "at"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    settings["rows"] = list(args.rows or all_rows())
    settings.update(pretrain_seed=args.pretrain_seed, population_size=args.population_size,
                    sample_size=args.sample_size, top_fraction=args.top_fraction, threads=args.threads)
    known = all_rows()
    for row in settings["rows"]:
        if row not in known:
            raise SystemExit(f"unknown row {row!r}; expected one of {known}")
    if any(len(set(settings[key])) < len(settings[key]) for key in ("rows", "seeds")):
        raise SystemExit("--rows and --seeds must not repeat a value")
    if settings["iterations"] is not None and settings["iterations"] < 1:
        raise SystemExit("--pretrain-iterations must be >= 1 (0, untrained controllers, is the "
                         "nao:fresh row)")
    if min(settings["seeds"]) < 0 or settings["budget"] < 1 or args.threads < 1:
        raise SystemExit("seeds must be >= 0, --budget and --threads >= 1")
    if not all(1 <= q <= settings["budget"] for q in settings["at"]):
        raise SystemExit(f"--at must lie in 1 .. the budget ({settings['budget']}), got {settings['at']}")
    settings["at"] = sorted(settings["at"])
    return settings


def method_config(row: str, settings: dict[str, Any]) -> Any:
    """The settings dataclass of a row's search."""
    from gnnas.search import LocalSearchConfig, NAOConfig, RandomSearchConfig, RegularizedEvolutionConfig

    if row == "random":
        return RandomSearchConfig()
    if row == "regularized_evolution":
        return RegularizedEvolutionConfig(population_size=settings["population_size"],
                                          sample_size=settings["sample_size"])
    if row == "local_search":
        return LocalSearchConfig()
    preset = preset_of(row)
    return NAOConfig(**{key: settings[key] for key in _NAO_KEYS},
                     controller_init=f"pretrained:{preset}" if preset else "fresh")


# ---------------------------------------------------------------------------------------- table
def load_table(data: Path | str | None) -> Any:
    """The table: ``data`` (CSV or official file), else the bundled 30,001 cells."""
    from gnnas.nasbench import NASBench101

    return NASBench101.bundled() if data is None else NASBench101(data)  # the suffix selects the reader


def make_oracle(table: Any, budget: int) -> Any:
    from gnnas.search import Oracle
    from gnnas.space import NUM_CELLS

    return Oracle(table, budget=budget, mapping=None if len(table) >= NUM_CELLS else "nearest")


def describe_table(oracle: Any, settings: dict[str, Any]) -> dict[str, Any]:
    threshold = oracle.top_threshold(settings["top_fraction"])
    best = int(np.argmax(oracle.values))
    return {"size": len(oracle), "digest": oracle.table_digest, "best": oracle.table_best,
            "best_hash": oracle.hashes[best], "top_fraction": settings["top_fraction"],
            "top_threshold": threshold, "top_max_rank": oracle.rank(threshold)}


# ---------------------------------------------------------------------------------------- controllers
def pretraining(preset: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The arguments of :func:`gnnas.pretrain.pretrained_controller` for a preset (only those that
    differ from its defaults, so that the paper's settings take the shipped controller)."""
    kwargs: dict[str, Any] = {"preset": preset}
    if settings["iterations"] is not None:
        kwargs["iterations"] = settings["iterations"]
    if settings["pretrain_seed"]:
        kwargs["seed"] = settings["pretrain_seed"]
    if settings["pretrain_optimizer"] is not None:
        kwargs["optimizer"] = settings["pretrain_optimizer"]
    if settings["pretrain_lr"] is not None:
        kwargs["lr"] = settings["pretrain_lr"]
    return kwargs


def load_controller(preset: str, settings: dict[str, Any]) -> Any:
    """The pretrained controller of a preset (trained and cached by gnnas.pretrain when missing)."""
    from gnnas.pretrain import pretrained_controller

    return pretrained_controller(**pretraining(preset, settings), progress=False)


def controller_fingerprint(controller: Any) -> str:
    """A SHA-256 of a controller's weights (names, shapes and values, in order)."""
    digest = hashlib.sha256()
    for name, tensor in controller.state_dict().items():
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{name}:{array.dtype}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------- one run
def git_commit() -> str | None:
    """The checkout's commit, with ``+dirty`` when tracked files differ from it."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def run_identity(row: str, seed: int, settings: dict[str, Any], table: dict[str, Any],
                 controller: str | None) -> dict[str, Any]:
    """What a run's queries depend on; a finished run is reused only when this matches."""
    return {"row": row, "seed": seed, "method": row.partition(":")[0],
            "config": asdict(method_config(row, settings)), "budget": settings["budget"],
            "table": table["digest"], "controller": controller, "threads": settings["threads"]}


def make_search(row: str, oracle: Any, seed: int, settings: dict[str, Any], controller: Any = None,
                checkpoint: Path | None = None) -> Any:
    """The search of a row, continued from ``checkpoint`` when that file exists."""
    from gnnas.search import SEARCHES

    cls = SEARCHES[row.partition(":")[0]]
    kwargs = {"controller": controller} if cls.name == "nao" else {}
    if checkpoint is not None and checkpoint.exists():
        return cls.resume(checkpoint, oracle, **kwargs)
    return cls(oracle, method_config(row, settings), seed=seed, **kwargs)


def summarize(result: Any, table: dict[str, Any], at: Sequence[int]) -> dict[str, Any]:
    """A run's summary figures: its best, when it first hit the table's best and its top, and its
    best after each number of queries of ``at`` (up to the budget)."""
    ranks = np.asarray(result.ranks)
    accuracies = np.asarray([r.accuracy for r in result.records])
    best_at = {}
    for queries in at:
        if queries <= result.oracle["budget"]:
            best = int(np.argmax(accuracies[:queries]))
            best_at[str(queries)] = {"best_accuracy": float(accuracies[best]),
                                     "regret": float(table["best"] - accuracies[best]),
                                     "rank": int(ranks[best])}
    summary = {key: value for key, value in result.summary().items() if key not in ("method", "seed")}
    return {**summary, "queries_to_table_best": result.queries_to_rank(1),
            "queries_to_top": result.queries_to_rank(table["top_max_rank"]), "at": best_at}


_TABLES: dict[str, tuple[Any, dict[str, Any]]] = {}  # per process: data -> (table, description)


def _table(data: str | None, settings: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    key = str(data)
    if key not in _TABLES:
        table = load_table(data)
        _TABLES[key] = (table, describe_table(make_oracle(table, 1), settings))
    return _TABLES[key]


def read_run(path: Path) -> dict[str, Any]:
    """A finished run's file, its checksum verified (:func:`gnnas.files.load_json`)."""
    try:
        return load_json(path)
    except ValueError as error:  # DamagedFileError, or not JSON
        raise SystemExit(f"{error}; move it away to rerun it") from None


def check_identity(path: Path, found: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    """Refuses a finished run whose settings differ from the expected ones."""
    found = found or {}
    if found != expected:
        keys = sorted(k for k in {*found, *expected} if found.get(k) != expected.get(k))
        detail = "; ".join(f"{k}: {found.get(k)!r} there, {expected.get(k)!r} now" for k in keys)
        raise SystemExit(f"{path} was run with other settings ({detail}); use another --out, or move it away")


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Runs one seed of one row and writes its file; returns the file's content.

    A finished file with the same identity is returned as it is; with another identity it is an
    error. An unfinished run continues from its checkpoint (same identity, by name).
    """
    import torch

    torch.set_num_threads(task["settings"]["threads"])
    settings, row, seed = task["settings"], task["row"], task["seed"]
    path = Path(task["path"])
    table, description = _table(task["data"], settings)
    identity = run_identity(row, seed, settings, description, task["controller"])
    if path.exists():
        run = read_run(path)
        check_identity(path, run.get("identity"), identity)
        return run
    preset = preset_of(row)
    controller = None
    if preset is not None:
        controller = load_controller(preset, settings)
        if controller_fingerprint(controller) != task["controller"]:
            raise SystemExit(f"the cached controller of {preset} changed while the sweep ran")
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    checkpoint = path.with_name(f"{path.stem}.{key}.ckpt")
    path.parent.mkdir(parents=True, exist_ok=True)
    oracle = make_oracle(table, settings["budget"])
    search = make_search(row, oracle, seed, settings, controller, checkpoint)
    resumed = checkpoint.exists()
    wall, cpu = time.perf_counter(), time.process_time()
    result = search.run(checkpoint=checkpoint)  # every outer epoch of NAO, every 100 steps else
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    run = {"identity": identity, "row": row, "seed": seed,
           "summary": summarize(result, description, settings["at"]), "wall_seconds": wall,
           "cpu_seconds": cpu, "resumed": resumed, "gnnas_commit": git_commit(),
           "nao_epochs": result.extra.get("epochs"), "queries": [r.hash for r in result.records],
           "result": result.to_dict()}
    if path.exists():  # another process finished the same run meanwhile: keep its file
        check_identity(path, read_run(path).get("identity"), identity)
        return read_run(path)
    save_json(run, path, indent=None)  # atomic, with its checksum beside it
    remove(checkpoint)
    return run


# ---------------------------------------------------------------------------------------- the pool
def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)  # run_task sets each run's count


def run_pool(function: Any, tasks: Sequence[Any], workers: int) -> Any:
    """Yields ``function(task)`` for every task as it finishes, on up to ``workers`` processes
    (forked, dying with this one; the tasks are processed in the given order, the longest first)."""
    from gnnas.workers import bounded_workers, worker_pool

    workers = bounded_workers(workers, len(tasks))  # never more than the tasks and the cores
    if workers == 1:
        for task in tasks:
            yield function(task)
        return
    with worker_pool(workers, start_method="fork", initializer=_init_worker) as pool:
        pending = {pool.submit(function, task) for task in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except BaseException:  # an error or ^C: let the runs in progress end, start no other
            pool.shutdown(cancel_futures=True)
            raise


def _pretrain_task(item: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    import torch

    preset, settings = item
    torch.set_num_threads(settings["threads"])
    return preset, controller_fingerprint(load_controller(preset, settings))


def prepare_controllers(settings: dict[str, Any], workers: int) -> dict[str, dict[str, Any]]:
    """Loads (or pretrains, one preset per worker) the controllers of the pretrained rows."""
    presets = [p for p in map(preset_of, settings["rows"]) if p is not None]
    out = {}
    for preset, fingerprint in run_pool(_pretrain_task, [(p, settings) for p in presets], workers):
        out[preset] = {"pretraining": pretraining(preset, settings), "fingerprint": fingerprint}
    return {p: out[p] for p in presets}


def run_all(settings: dict[str, Any], data: Path | None, out: Path, workers: int) -> None:
    """Runs every row and seed of ``settings`` that has no finished file in ``out``."""
    controllers = prepare_controllers(settings, workers)
    _, description = _table(None if data is None else str(data), settings)
    print(f"table: {description['size']} cells; best {description['best']:.6f}; top "
          f"{100 * settings['top_fraction']:g}% = rank <= {description['top_max_rank']} "
          f"(>= {description['top_threshold']:.6f}); budget {settings['budget']}", flush=True)
    tasks = [{"row": row, "seed": seed, "settings": settings, "data": None if data is None else str(data),
              "path": str(out / "runs" / slug(row) / f"seed{seed}.json"),
              "controller": controllers.get(preset_of(row) or "", {}).get("fingerprint")}
             for row in settings["rows"] for seed in settings["seeds"]]
    tasks.sort(key=lambda t: not t["row"].startswith("nao"))  # the long runs first
    start = time.perf_counter()
    for done, run in enumerate(run_pool(run_task, tasks, workers), 1):
        s = run["summary"]
        print(f"[{done}/{len(tasks)} {time.perf_counter() - start:6.0f} s] {run['row']:>31s} "
              f"seed {run['seed']}: best {s['best_accuracy']:.4f} (rank {s['rank']}) at query "
              f"{s['queries_to_best']} of {s['num_queries']}; top at {s['queries_to_top'] or '-'}; "
              f"{run['wall_seconds']:.0f} s ({run['cpu_seconds']:.0f} s CPU)", flush=True)


# ---------------------------------------------------------------------------------------- statistics
def censored(runs: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Queries until ``key`` (``queries_to_top`` or ``queries_to_table_best``), censored at the
    budget when it never happened: a run that stopped below the budget (NAO whose outer epochs
    found fewer new cells) had the whole budget and did not find one (a run without ``budget``,
    at its own number of queries)."""
    times = np.array([r[key] if r[key] is not None else r.get("budget", r["num_queries"]) for r in runs],
                     dtype=float)
    return times, np.array([r[key] is not None for r in runs])


def row_statistics(runs: list[dict[str, Any]], at: Sequence[int]) -> dict[str, Any]:
    """Per row: seeds that found the table's best and a top cell, the Kaplan-Meier median queries
    until then, and the best accuracy, regret and rank at each number of queries of ``at``; with
    95 % bootstrap intervals over seeds."""
    from gnnas.analysis.statistics import bootstrap_interval, kaplan_meier_median

    def interval(values: Any, statistic: Any = np.mean) -> list[float | None]:
        low, high = bootstrap_interval(values, statistic, **BOOTSTRAP)
        return [None if math.isinf(v) else v for v in (low, high)]

    def km(rows: np.ndarray) -> float | None:
        return kaplan_meier_median(rows[:, 0], rows[:, 1] > 0)

    out: dict[str, Any] = {"seeds": len(runs)}
    for key, name in (("queries_to_table_best", "table_best"), ("queries_to_top", "top")):
        times, found = censored(runs, key)
        stacked = np.stack([times, found], axis=1)
        out[name] = {"found": int(found.sum()), "share_interval": interval(found.astype(float)),
                     "km_median": km(stacked), "km_median_interval": interval(stacked, km)}
    out["at"] = {}
    for queries in at:
        if not all(str(queries) in r["at"] for r in runs):
            continue
        values = {k: np.array([r["at"][str(queries)][k] for r in runs], dtype=float)
                  for k in ("best_accuracy", "regret", "rank")}
        out["at"][str(queries)] = {
            "best_accuracy": {"mean": float(values["best_accuracy"].mean()),
                              "sd": float(values["best_accuracy"].std(ddof=1)) if len(runs) > 1 else 0.0,
                              "interval": interval(values["best_accuracy"])},
            "regret": {"mean": float(values["regret"].mean()), "interval": interval(values["regret"])},
            "rank": {"median": float(np.median(values["rank"])),
                     "interval": interval(values["rank"], np.median)},
        }
    return out


def row_tests(rows: dict[str, list[dict[str, Any]]], at: Sequence[int]) -> list[dict[str, Any]]:
    """Each pretrained row against each of :data:`REFERENCES` present: the log-rank test of the
    censored queries until a top cell and until the table's best (statistic > 0: the row found
    them earlier), and the Mann-Whitney U test of the regret after each number of queries of
    ``at`` (the same test as of the best accuracy or the rank, which are monotone in the regret;
    U counts the pairs of seeds where the row's regret is the larger). ``row_better`` says which
    way the difference goes; p-values are Holm-adjusted over the whole family (``p_holm``)."""
    from gnnas.analysis.statistics import holm, logrank_test, mann_whitney_test

    tests = []
    for row in rows:
        if preset_of(row) is None:
            continue
        for reference in REFERENCES:
            if reference == row or reference not in rows:
                continue
            a, b = rows[row], rows[reference]
            for key, measure in (("queries_to_top", "queries until a top cell"),
                                 ("queries_to_table_best", "queries until the table's best")):
                statistic, p = logrank_test(*censored(a, key), *censored(b, key))
                tests.append({"row": row, "reference": reference, "measure": measure, "test": "log-rank",
                              "statistic": statistic, "p": p, "row_better": statistic > 0})
            for queries in at:
                if all(str(queries) in r["at"] for r in a + b):
                    regret = [[r["at"][str(queries)]["regret"] for r in runs] for runs in (a, b)]
                    statistic, p = mann_whitney_test(*regret)  # U: pairs where the row's regret is larger
                    tests.append({"row": row, "reference": reference, "measure": f"regret at {queries}",
                                  "test": "Mann-Whitney U", "statistic": statistic, "p": p,
                                  "row_better": statistic < len(a) * len(b) / 2})
    for test, adjusted in zip(tests, holm([t["p"] for t in tests]), strict=True):
        test["p_holm"] = adjusted
    return tests


def verdict(statistics: dict[str, Any], tests: list[dict[str, Any]], alpha: float = 0.05) -> list[str]:
    """Plain sentences, one per pretrained row and reference: the seeds that found a top cell and
    the log-rank test of when, and the regret after the most queries and its Mann-Whitney test;
    then the rows that found top cells significantly earlier than ``nao:NoMetricLoss``. A
    difference is called significant when its Holm-adjusted p-value is below ``alpha``."""
    def top(row: str) -> str:
        s = statistics[row]["top"]
        median = "not reached" if s["km_median"] is None else f"{s['km_median']:.0f} queries"
        return f"{s['found']}/{statistics[row]['seeds']} seeds (median {median})"

    def judged(test: dict[str, Any], better: str, worse: str) -> str:
        p = f"{test['test']} p = {test['p']:.3g}, Holm {test['p_holm']:.3g}"
        if test["p_holm"] >= alpha:
            return f"no significant difference ({p})"
        return f"{better if test['row_better'] else worse}, significant ({p})"

    by_pair: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for test in tests:
        by_pair.setdefault((test["row"], test["reference"]), {})[test["measure"]] = test
    lines = []
    for (row, reference), found in by_pair.items():
        line = (f"{row} against {reference}: a top cell in {top(row)} against {top(reference)}; "
                + judged(found["queries until a top cell"], "earlier", "later"))
        regrets = sorted((m for m in found if m.startswith("regret at ")), key=lambda m: int(m.split()[-1]))
        if regrets:
            queries = regrets[-1].split()[-1]
            mean = {r: 100 * statistics[r]["at"][queries]["regret"]["mean"] for r in (row, reference)}
            line += (f". Regret after {queries} queries {mean[row]:.2f} % against {mean[reference]:.2f} %; "
                     + judged(found[regrets[-1]], "smaller", "larger"))
        lines.append(line + ".")
    wins = sorted(t["row"] for t in tests if t["reference"] == "nao:NoMetricLoss" and t["row_better"]
                  and t["measure"] == "queries until a top cell" and t["p_holm"] < alpha)
    lines.append(f"{len(wins)} pretrained row(s) found top cells significantly earlier than "
                 f"nao:NoMetricLoss (Holm-adjusted p < {alpha}): {', '.join(wins) or 'none'}.")
    return lines


# ---------------------------------------------------------------------------------------- merge
def collect(settings: dict[str, Any], out: Path, table: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The finished runs of every row and seed of ``settings``, checked against the settings; an
    error names the missing ones, or a run made with other settings or another controller than the
    row's other seeds."""
    from gnnas.search import SearchResult

    rows: dict[str, list[dict[str, Any]]] = {}
    missing = []
    for row in settings["rows"]:
        rows[row] = []
        for seed in settings["seeds"]:
            path = out / "runs" / slug(row) / f"seed{seed}.json"
            if not path.exists():
                missing.append(f"{row} seed {seed}")
                continue
            run = read_run(path)
            controller = (rows[row][0] if rows[row] else run)["identity"].get("controller")
            check_identity(path, run.get("identity"), run_identity(row, seed, settings, table, controller))
            # the summary again, from the queries: --at or --top-fraction may have changed since
            run["summary"] = summarize(SearchResult.from_dict(run["result"]), table, settings["at"])
            rows[row].append(run)
    if missing:
        raise SystemExit(f"{len(missing)} of {len(settings['rows']) * len(settings['seeds'])} runs are not "
                         f"finished in {out / 'runs'} (e.g. {', '.join(missing[:3])}); run them, or merge "
                         "fewer with --rows/--seeds")
    return rows


def merge(settings: dict[str, Any], data: Path | None, out: Path, report_path: Path) -> dict[str, Any]:
    """Builds the report from the finished runs and draws the figures beside it."""
    import torch

    import gnnas
    from gnnas.search import NAOConfig

    table, description = _table(None if data is None else str(data), settings)
    runs = collect(settings, out, description)
    controllers = {preset_of(row): {"pretraining": pretraining(preset_of(row), settings),
                                    "fingerprint": row_runs[0]["identity"]["controller"]}
                   for row, row_runs in runs.items() if preset_of(row) is not None}
    per_row = {row: [dict(seed=r["seed"], **r["summary"], budget=settings["budget"],
                          wall_seconds=r["wall_seconds"],
                          cpu_seconds=r["cpu_seconds"], gnnas_commit=r["gnnas_commit"],
                          nao_epochs=r["nao_epochs"], queries=r["queries"]) for r in row_runs]
               for row, row_runs in runs.items()}
    statistics = {row: row_statistics(row_runs, settings["at"]) for row, row_runs in per_row.items()}
    tests = row_tests(per_row, settings["at"])
    commits = sorted({str(r["gnnas_commit"]) for row_runs in per_row.values() for r in row_runs})
    report = {
        "config": {**settings, "data": "bundled" if data is None else str(data),
                   "oracle": make_oracle(table, settings["budget"]).config(),
                   "nao": asdict(NAOConfig(**{k: settings[k] for k in _NAO_KEYS})),
                   "methods": {row: asdict(method_config(row, settings)) for row in baseline_rows()},
                   "controllers": controllers, "bootstrap": BOOTSTRAP,
                   "gnnas_version": gnnas.__version__, "commit": git_commit(), "run_commits": commits,
                   "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                   "machine": platform.machine()},
        "table": description,
        "rows": {row: {"runs": per_row[row], "statistics": statistics[row]} for row in per_row},
        "tests": tests,
        "verdict": verdict(statistics, tests),
    }
    write_bytes(report_path, dump(report).encode())  # atomic, with its checksum beside it
    written = draw_figures(report, table, report_path)
    print(markdown(report))
    print("\n".join(report["verdict"]))
    print(f"wrote {report_path} and, beside it, {', '.join(written)}")
    return report


def dump(report: dict[str, Any]) -> str:
    """The report as JSON, indented, with each run on one line (its queries are long)."""
    placeholders = {}
    shallow = json.loads(json.dumps(report))
    for row in shallow["rows"].values():
        for k, run in enumerate(row["runs"]):
            key = f"@run{len(placeholders)}@"
            placeholders[key] = json.dumps(run)
            row["runs"][k] = key
    text = json.dumps(shallow, indent=1)
    for key, value in placeholders.items():
        text = text.replace(json.dumps(key), value, 1)
    return text + "\n"


def markdown(report: dict[str, Any]) -> str:
    last = str(max(report["config"]["at"]))

    def span(interval: list[float | None], scale: float = 1.0, digits: int = 0) -> str:
        return "[" + ", ".join("inf" if v is None else f"{scale * v:.{digits}f}" for v in interval) + "]"

    lines = [f"| row | top 0.1% found | KM median queries to top | table's best found | "
             f"best acc. at {last} (%) | regret at {last} (%) | median rank at {last} |",
             "|---|---|---|---|---|---|---|"]
    for row, data in report["rows"].items():
        s = data["statistics"]
        top, best, at = s["top"], s["table_best"], s["at"].get(last)
        median = "not reached" if top["km_median"] is None else f"{top['km_median']:.0f}"
        cells = [row, f"{top['found']}/{s['seeds']}", f"{median} {span(top['km_median_interval'])}",
                 f"{best['found']}/{s['seeds']}"]
        if at:
            accuracy, regret = at["best_accuracy"], at["regret"]
            cells += [f"{100 * accuracy['mean']:.2f} {span(accuracy['interval'], 100, 2)}",
                      f"{100 * regret['mean']:.2f} {span(regret['interval'], 100, 2)}",
                      f"{at['rank']['median']:.0f} {span(at['rank']['interval'])}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- figures
def curves(report: dict[str, Any], table: Any, window: int = WINDOW) -> dict[str, dict[str, list[float]]]:
    """Per row, mean and sd over seeds of the moving average of queried accuracy
    (:func:`gnnas.analysis.plotting.moving_average`, from the first full window) and of the best so
    far, and the share of seeds without a top cell, against queries."""
    from gnnas.analysis.plotting import moving_average

    oracle = make_oracle(table, 1)
    values = dict(zip(oracle.hashes, oracle.values.tolist(), strict=True))
    budget = report["config"]["budget"]
    out = {}
    for row, data in report["rows"].items():
        accuracy = np.full((len(data["runs"]), budget), np.nan)
        for k, run in enumerate(data["runs"]):
            accuracy[k, :len(run["queries"])] = [values[h] for h in run["queries"]]
        moving = np.full_like(accuracy, np.nan)  # NaN before the first full window, and after a run stopped
        for k, a in enumerate(accuracy):
            positions, means = moving_average(a, window)
            moving[k, positions - 1] = means
        best = np.fmax.accumulate(accuracy, axis=1)
        times, found = censored(data["runs"], "queries_to_top")
        queries = np.arange(1, budget + 1)
        without = ((times[None, :] > queries[:, None]) | ~found[None, :]).mean(axis=1)
        with warnings.catch_warnings():  # a query that no seed reached is NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            out[row] = {"moving_mean": np.nanmean(moving, 0).tolist(),
                        "moving_sd": np.nanstd(moving, 0).tolist(), "best_mean": np.nanmean(best, 0).tolist(),
                        "best_sd": np.nanstd(best, 0).tolist(),
                        "without_top": without.tolist()}
    return out


def draw_figures(report: dict[str, Any], table: Any, report_path: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = curves(report, table)
    stem = report_path.with_suffix("")
    curve_path = Path(f"{stem}_curves.json")
    save_json({row: {k: [None if math.isnan(v) else round(v, 6) for v in vs] for k, vs in c.items()}
               for row, c in data.items()}, curve_path, indent=None)
    queries = np.arange(1, report["config"]["budget"] + 1)
    palette = plt.get_cmap("tab20")
    colors = [palette(2 * k % 20 + 2 * k // 20) for k in range(len(data))]  # dark shades first
    fig, (ax_moving, ax_best) = plt.subplots(1, 2, figsize=(14, 5.5))
    for k, (row, c) in enumerate(data.items()):
        style = dict(color=colors[k], lw=2.0 if preset_of(row) is None or row == "nao:NoMetricLoss" else 1.2,
                     ls="-" if row.startswith("nao") else "--")
        for ax, key in ((ax_moving, "moving"), (ax_best, "best")):
            mean, sd = 100 * np.asarray(c[f"{key}_mean"]), 100 * np.asarray(c[f"{key}_sd"])
            ax.plot(queries, mean, label=row, **style)
            ax.fill_between(queries, mean - sd, mean + sd, color=colors[k], alpha=0.08)
    table_info = report["table"]
    ax_best.axhline(100 * table_info["top_threshold"], color="gray", lw=0.8, ls=":")
    ax_best.axhline(100 * table_info["best"], color="black", lw=0.8, ls=":")
    low = min(np.asarray(c["best_mean"])[min(127, len(queries) - 1)] for c in data.values())
    ax_best.set_ylim(100 * low - 0.15, 100 * table_info["best"] + 0.05)
    ax_moving.set(xlabel="queries", ylabel="validation accuracy of the queried cells (%)",
                  title=f"Moving average over {WINDOW} queries (mean ± sd over seeds)")
    ax_best.set(xlabel="queries", ylabel="best validation accuracy so far (%)",
                title="Best so far (mean ± sd); dotted: top 0.1 % and the table's best")
    ax_moving.legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    fig4 = Path(f"{stem}_fig4.png")
    fig.savefig(fig4, dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5.5))
    for k, (row, c) in enumerate(data.items()):
        ax.step(queries, c["without_top"], where="post", color=colors[k], label=row,
                ls="-" if row.startswith("nao") else "--")
    top = f"{100 * table_info['top_fraction']:g} %"
    ax.set(xlabel="queries", ylabel="share of seeds without a top cell", ylim=(-0.02, 1.02),
           title=f"Seeds that have not yet queried a cell of the table's top {top}")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout()
    survival = Path(f"{stem}_survival.png")
    fig.savefig(survival, dpi=120)
    plt.close(fig)
    return [fig4.name, survival.name, curve_path.name]


# ---------------------------------------------------------------------------------------- check
def check(report_path: Path, data: Path | None, rows: list[str] | None, seeds: list[int] | None,
          epochs: int) -> bool:
    """Reruns runs of a report for their first ``epochs`` outer epochs (a baseline: as many
    queries) and compares the queries; prints one line per run and returns whether all agree."""
    import torch

    try:
        report = json.loads(read_bytes(report_path))
    except (OSError, ValueError) as error:  # missing, damaged (DamagedFileError) or not JSON
        raise SystemExit(f"{report_path}: cannot check it ({error})") from None
    settings = report["config"]
    table, description = _table(None if data is None else str(data), settings)
    if description["digest"] != report["table"]["digest"]:
        raise SystemExit(f"the table is not the one {report_path} searched (--data)")
    torch.set_num_threads(settings["threads"])
    length = settings["num_init"] + epochs * settings["num_candidates"]
    same = True
    for row in rows or list(report["rows"]):
        if row not in report["rows"]:
            raise SystemExit(f"{report_path} has no row {row!r}")
        runs = {run["seed"]: run for run in report["rows"][row]["runs"]}
        for seed in seeds or [min(runs)]:
            if seed not in runs:
                raise SystemExit(f"{report_path} has no seed {seed} of {row}")
            committed = runs[seed]["queries"]
            preset, controller = preset_of(row), None
            if preset is not None:
                controller = load_controller(preset, settings)
                expected = settings["controllers"][preset]["fingerprint"]
                if controller_fingerprint(controller) != expected:
                    raise SystemExit(f"the controller of {row} is not the one the report used "
                                     f"(weights' SHA-256 {expected[:12]}...)")
            if row.startswith("nao"):
                search = make_search(row, make_oracle(table, settings["budget"]), seed, settings, controller)
                result = search.run(max_steps=1 + epochs)
            else:
                search = make_search(row, make_oracle(table, min(length, settings["budget"])), seed, settings)
                result = search.run()
            rerun = [r.hash for r in result.records]
            expect = committed[:len(rerun)]
            first = next((k for k, (a, b) in enumerate(zip(rerun, expect, strict=False)) if a != b), None)
            if first is None and len(rerun) == min(len(committed), len(rerun)) and rerun:
                print(f"{row} seed {seed}: the first {len(rerun)} queries are the same, in the same order")
            else:
                same = False
                where = f"query {first + 1}" if first is not None else "their number"
                print(f"{row} seed {seed}: the rerun differs at {where}")
    return same


# ---------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    args = build_parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.workers is not None and args.workers < 1:
        raise SystemExit(f"--workers must be >= 1, got {args.workers}")
    workers = args.workers  # None: one per core; run_pool bounds it by the tasks and cores
    if args.check is not None:
        ok = check(args.check, args.data, args.rows, args.seeds, args.check_epochs)
        if not ok:
            raise SystemExit(1)
        return None
    settings = resolve_settings(args)
    out: Path = args.out
    report_path = args.report or out / "table1.json"
    if not args.merge:
        run_all(settings, args.data, out, workers)
    return merge(settings, args.data, out, report_path)


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

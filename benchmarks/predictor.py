"""Few-shot accuracy prediction on real NAS-Bench-101 cells: does pretraining give a better predictor?

With only n labelled cells, how well does an encoding of cells rank 5,000 unseen cells by their
validation accuracy at 108 epochs? The table is ``--data``, by default the 30,001 real cells bundled
with gnnas (``NASBench101.bundled()``). Each seed splits the table once: 5,000 test cells, and the
training sets of every n (nested: the first n cells of one random order of the other cells), so
every encoding at a seed sees the same cells. Encodings (``--encodings``):

- ``z:<loss>``: the frozen embeddings z of the controller pretrained with a loss preset
  (``gnnas.pretrain.pretrained_controller``: the shipped controllers of the paper's pretraining, or
  ``--pretrain-iterations`` of your own; ``--loss`` picks the presets);
- ``z:fresh``: the embeddings of a fresh, untrained controller (initialized from the seed);
- ``finetune:<loss>``, ``finetune:fresh``: the same controllers trained end to end on the n labels
  with NAO's loss and training loop (``gnnas.search.train_controller``; Adam, lr 0.001, by
  default), predicting with NAO's predictor (regressor ``nao``);
- ``onehot`` and ``path``: the one-hot adjacency + ops encoding and BANANAS' path encoding;
- ``ged``: the GED kernel exp(-GED/l) of the exact graph edit distance (GP only).

Families: ``z`` is ``z:fresh`` and ``z:<loss>`` for every ``--loss``; ``finetune`` likewise. The
vector encodings get two regressors, a small MLP (``mlp``) and a Gaussian process whose
hyper-parameters maximize the marginal likelihood of the training labels (``gp``); see
``gnnas.analysis.predictor``. Reported: Kendall tau, Spearman rho and the precision of the
predicted top 1 %, each as a mean and a 95 % interval over seeds, per encoding, regressor and n;
then whether the best metric-loss preset beats the baselines at each n, by paired intervals over
seeds, Bonferroni-adjusted for picking the best of the presets.

Settings::

    python benchmarks/predictor.py --quick    # about a minute: 2 seeds, n in {16, 256}, 3 encodings
    python benchmarks/predictor.py            # minutes: 3 seeds, n in {16, 64, 256}, NoMetricLoss
                                              # and MarginLoss (the shipped controllers)
    python benchmarks/predictor.py --full     # the study: 10 seeds, n in {16, ..., 1024}, every
                                              # encoding, the fully pretrained controllers (hours)

Every (encoding, seed) writes ``runs/<encoding>/seed<k>.json`` under ``--out``; a rerun keeps the
files whose settings match and stops with an error on one whose settings differ (``--overwrite``
recomputes it). So the full run can be split over processes (``--shard 0/4`` ... ``--shard 3/4``,
or disjoint ``--encodings``/``--seeds``) into one folder and reported with ``--merge``. The report
(``--out``): ``predictor.json`` (configuration, every run, the aggregates, paired comparisons and
the summary sentences), ``predictor.md`` and ``predictor.rst`` (the tables) and
``predictor_tau.png`` (tau against n, one line per encoding).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

# only light modules here: torch loads in main(), where Ctrl-C is one line (run_script)
from gnnas.flags import DEFAULT_PRETRAIN_LR, DEFAULT_THREADS

REPO = Path(__file__).resolve().parents[1]

HANDMADE = ("onehot", "path")
GED = "ged"
FRESH = "fresh"
FAMILIES = ("z", "finetune")
REGRESSORS = ("mlp", "gp", "nao")
METRICS = ("kendall_tau", "spearman_rho", "top_precision")
METRIC_LABELS = {"kendall_tau": "Kendall tau", "spearman_rho": "Spearman rho",
                 "top_precision": "precision of the predicted top 1 %"}

SETTINGS: dict[str, dict[str, Any]] = {
    "quick": dict(seeds=[0, 1], train_sizes=[16, 256], encodings=["onehot", "path", "z:fresh"], loss=[]),
    "default": dict(seeds=[0, 1, 2], train_sizes=[16, 64, 256], loss=["NoMetricLoss", "MarginLoss"],
                    encodings=["onehot", "path", "ged", "z", "finetune"]),
    "full": dict(seeds=list(range(10)), train_sizes=[16, 32, 64, 128, 256, 1024],
                 encodings=["onehot", "path", "ged", "z", "finetune"], loss=None),
}


# ---------------------------------------------------------------------------------------- settings
def build_parser() -> argparse.ArgumentParser:
    from gnnas.pretrain.config import OPTIMIZERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=None)
    parser.add_argument("--data", type=Path, default=None,
                        help="a CSV table or the official .tfrecord file (default: the 30k sample bundled "
                             "with gnnas)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="about a minute: 2 seeds, n in {16, 256}, 3 encodings")
    size.add_argument("--full", action="store_true",
                      help="the study: 10 seeds, n in {16, ..., 1024}, every encoding (hours on a CPU)")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "predictor",
                        help="output folder (default: results/predictor)")
    parser.add_argument("--encodings", nargs="+", default=None,
                        help="onehot, path, ged, z:fresh, z:<loss>, finetune:fresh, finetune:<loss>, or the "
                             "families z and finetune (fresh and every --loss) (default: onehot path ged z "
                             "finetune; --quick: onehot path z:fresh)")
    parser.add_argument("--loss", nargs="+", default=None,
                        help="the loss presets of the pretrained controllers (default: NoMetricLoss and "
                             "MarginLoss; --full: all nine)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="the seeds, e.g. 0 1 2 (default: 0 1 2; --quick: 0 1; --full: 0 to 9)")
    parser.add_argument("--train-sizes", type=int, nargs="+", default=None,
                        help="numbers n of labelled cells (default: 16 64 256; --quick: 16 256; --full: "
                             "16 32 64 128 256 1024)")
    parser.add_argument("--test-size", type=int, default=5000, help="test cells per seed (default: 5000)")
    parser.add_argument("--top-fraction", type=float, default=0.01,
                        help="the top share whose precision is measured (default: 0.01)")
    parser.add_argument("--pretrain-iterations", type=int, default=None,
                        help="pretrain the controllers for this many iterations; 0 (untrained controllers) "
                             "is the encodings z:fresh and finetune:fresh (default: the paper's 2 epochs, "
                             "whose controllers ship with gnnas)")
    parser.add_argument("--pretrain-optimizer", choices=OPTIMIZERS, default=None,
                        help="optimizer of that pretraining (default: sgd, the paper's)")
    parser.add_argument("--pretrain-lr", type=float, default=None,
                        help="its learning rate (default: 1.0 for sgd, the paper's; 0.001 for adam and "
                             "adamw)")
    parser.add_argument("--pretrain-seed", type=int, default=0, help="seed of the pretraining (default: 0)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="cache of pretrained controllers (default: the gnnas cache)")
    parser.add_argument("--finetune-epochs", type=int, default=None,
                        help="NAO training epochs on the n labels (default: NAO's 100)")
    parser.add_argument("--finetune-optimizer", choices=("sgd", "adam"), default="adam",
                        help="optimizer of the fine-tuning (default: adam; sgd with --finetune-lr 0.1 is "
                             "NAO's in the paper, which barely trains the predictor in 100 epochs)")
    parser.add_argument("--finetune-lr", type=float, default=None,
                        help="its learning rate (default: 0.001 for adam, 0.1 for sgd)")
    parser.add_argument("--mlp-steps", type=int, default=1000, help="Adam steps of the MLP regressor")
    parser.add_argument("--shard", default=None,
                        help="K/N: run only every N-th (encoding, seed) from the K-th, and write no report")
    parser.add_argument("--merge", action="store_true",
                        help="compute nothing: report every run file found under --out/runs")
    parser.add_argument("--overwrite", action="store_true",
                        help="recompute runs whose files exist with other settings, replacing them")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"torch and GED threads; the small networks run fastest on one (default: "
                             f"{DEFAULT_THREADS})")
    parser.add_argument("--no-progress", action="store_true", help="print less")
    return parser


def preset_names() -> list[str]:
    from gnnas.pretrain import PRESET_NAMES

    return list(PRESET_NAMES)


def expand_encodings(names: list[str], losses: list[str]) -> list[str]:
    """Encoding names with the families ``z`` and ``finetune`` expanded, checked, in order, once each."""
    presets = set(preset_names())
    out: list[str] = []
    for name in names:
        expanded = [f"{name}:{p}" for p in (FRESH, *losses)] if name in FAMILIES else [name]
        for item in expanded:
            family, _, source = item.partition(":")
            ok = item in (*HANDMADE, GED) or (family in FAMILIES and (source == FRESH or source in presets))
            if not ok:
                raise SystemExit(f"unknown encoding {item!r}: expected onehot, path, ged, z, finetune, "
                                 "z:fresh, finetune:fresh, or z: or finetune: with a preset of "
                                 f"{sorted(presets)}")
            if item not in out:
                out.append(item)
    return out


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    from gnnas.search import NAOConfig

    mode = "quick" if args.quick else "full" if args.full else "default"
    base = SETTINGS[mode]
    losses = next(x for x in (args.loss, base["loss"], preset_names()) if x is not None)
    unknown = sorted(set(losses) - set(preset_names()))
    if unknown:
        raise SystemExit(f"--loss: unknown presets {unknown}; expected some of {preset_names()}")
    seeds = args.seeds if args.seeds is not None else base["seeds"]
    sizes = sorted(set(args.train_sizes if args.train_sizes is not None else base["train_sizes"]))
    if len(set(seeds)) != len(seeds) or any(s < 0 for s in seeds):
        raise SystemExit(f"--seeds must be distinct non-negative integers, got {seeds}")
    if not sizes or sizes[0] < 2:
        raise SystemExit(f"--train-sizes must be integers >= 2, got {sizes}")
    if args.test_size < 2 or not 0 < args.top_fraction <= 1:
        raise SystemExit("--test-size must be >= 2 and --top-fraction in (0, 1]")
    nao = NAOConfig()
    pretrain: dict[str, Any] = {}  # only what differs from pretrained_controller's defaults
    iterations = args.pretrain_iterations
    if iterations is not None:
        if iterations < 1:
            raise SystemExit(f"--pretrain-iterations must be >= 1 (0, untrained controllers, is the "
                             f"encodings z:fresh and finetune:fresh), got {iterations}")
        pretrain["iterations"] = iterations
    optimizer = args.pretrain_optimizer
    if optimizer is not None:
        pretrain["optimizer"] = optimizer
        pretrain["lr"] = args.pretrain_lr or DEFAULT_PRETRAIN_LR[optimizer]
    elif args.pretrain_lr is not None:
        pretrain["lr"] = args.pretrain_lr
    if args.pretrain_seed:
        pretrain["seed"] = args.pretrain_seed
    finetune = {"inner_epochs": nao.inner_epochs if args.finetune_epochs is None else args.finetune_epochs,
                "optimizer": args.finetune_optimizer,
                "lr": args.finetune_lr or (1e-3 if args.finetune_optimizer == "adam" else nao.lr)}
    return {
        "mode": mode,
        "encodings": expand_encodings(args.encodings or base["encodings"], losses),
        "loss": losses,
        "seeds": seeds,
        "train_sizes": sizes,
        "test_size": args.test_size,
        "top_fraction": args.top_fraction,
        "pretrain": pretrain,
        "finetune": finetune,
        "mlp": {"hidden_channels": 64, "num_layers": 3, "steps": args.mlp_steps, "batch_size": 64, "lr": 1e-3,
                "weight_decay": 1e-4},
        "gp": {"num_length_scales": 7},
    }


def unit_settings(settings: dict[str, Any], table_info: dict[str, Any], encoding: str) -> dict[str, Any]:
    """The settings a run of ``encoding`` depends on: a run file is reused only when they match."""
    out = {"table": table_info, "test_size": settings["test_size"], "train_sizes": settings["train_sizes"],
           "top_fraction": settings["top_fraction"]}
    family, _, source = encoding.partition(":")
    if encoding != GED and family != "finetune":
        out["mlp"] = settings["mlp"]
    if family != "finetune":
        out["gp"] = settings["gp"]
    if family == "finetune":
        out["finetune"] = settings["finetune"]
    if family in FAMILIES and source != FRESH:
        out["pretrain"] = settings["pretrain"]
    return out


# ---------------------------------------------------------------------------------------- data
def load_table(path: Path | None) -> Any:
    from gnnas.nasbench import NASBench101

    if path is None:
        return NASBench101.bundled()
    if not path.is_file():
        raise SystemExit(f"--data {path}: no such file")
    return NASBench101(path)


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for array in arrays:
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


class Context:
    """The table, its accuracies, the splits of each seed and the cells' encodings, built lazily."""

    def __init__(self, table: Any, settings: dict[str, Any], threads: int, quiet: bool) -> None:
        self.table = table
        self.settings = settings
        self.threads = threads
        self.quiet = quiet
        self.accuracy = table.metric_array("validation_accuracy", epochs=108)  # mean over runs
        if np.isnan(self.accuracy).any():
            raise SystemExit(f"{np.isnan(self.accuracy).sum()} cells of the table have no validation "
                             "accuracy at 108 epochs")
        needed = settings["test_size"] + max(settings["train_sizes"])
        if needed > len(table):
            raise SystemExit(f"the table has {len(table)} cells, fewer than --test-size + the largest "
                             f"--train-sizes ({needed})")
        self.info = {"num_cells": len(table), "digest": digest(table.hashes.astype("U32"), self.accuracy),
                     "metric": "validation_accuracy", "epochs": 108}
        self._graphs: dict[int, Any] = {}
        self._controllers: dict[str, Any] = {}
        self.controller_info: dict[str, dict[str, Any]] = {}

    def split(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``(test, train)`` table indices of a seed; ``train[:n]`` is the training set of n."""
        order = np.random.default_rng(seed).permutation(len(self.table))
        test_size = self.settings["test_size"]
        return order[:test_size], order[test_size:test_size + max(self.settings["train_sizes"])]

    def specs(self, index: np.ndarray) -> list[Any]:
        return [self.table.spec(h) for h in self.table.hashes[index]]

    def graphs(self, index: np.ndarray) -> list[Any]:
        from gnnas.nn import cell_to_data

        out = []
        for i in index.tolist():
            graph = self._graphs.get(i)
            if graph is None:
                graph = self._graphs[i] = cell_to_data(self.table.spec(str(self.table.hashes[i])))
            out.append(graph)
        return out

    def controller(self, source: str, seed: int) -> Any:
        """The fresh controller of a seed, or the pretrained controller of a preset (loaded once)."""
        import torch

        from gnnas.nn import NAOController

        if source == FRESH:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                return NAOController().eval()
        if source not in self._controllers:
            from gnnas.pretrain import pretrained_controller

            start = time.perf_counter()
            controller = pretrained_controller(source, cache_dir=self.settings.get("cache_dir"),
                                               progress=not self.quiet, **self.settings["pretrain"])
            self._controllers[source] = controller.eval()
            self.controller_info[source] = {"pretrain": self.settings["pretrain"],
                                            "weights": weights_digest(controller),
                                            "seconds": time.perf_counter() - start}
        return self._controllers[source]


def weights_digest(controller: Any) -> str:
    """A short hash of a controller's weights, so a run names the exact controller it used."""
    h = hashlib.sha256()
    for key, value in sorted(controller.state_dict().items()):
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def embed(controller: Any, graphs: list[Any], batch_size: int = 1024) -> np.ndarray:
    """The embeddings z ``(N, D)`` of graphs, in evaluation mode."""
    import torch
    from torch_geometric.data import Batch

    controller.eval()
    with torch.no_grad():
        parts = [controller.encode(Batch.from_data_list(graphs[s:s + batch_size]))
                 for s in range(0, len(graphs), batch_size)]
    return torch.cat(parts).double().numpy()


def nao_predict(controller: Any, graphs: list[Any], batch_size: int = 1024) -> np.ndarray:
    """The predictor's output for graphs, in evaluation mode."""
    import torch
    from torch_geometric.data import Batch

    controller.eval()
    with torch.no_grad():
        parts = [controller.predict(controller.encode(Batch.from_data_list(graphs[s:s + batch_size])))
                 for s in range(0, len(graphs), batch_size)]
    return torch.cat(parts).double().numpy()


def sub_seed(*parts: int) -> int:
    """A seed for one (seed, n) fit, independent of the others."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


# ---------------------------------------------------------------------------------------- one run
def fit_vectors(context: Context, seed: int, x_test: np.ndarray, x_train: np.ndarray, y_test: np.ndarray,
                y_train: np.ndarray) -> dict[str, dict[str, dict[str, float]]]:
    """The MLP and the GP on feature vectors, for every n."""
    from gnnas.analysis.predictor import GaussianProcess, MLPRegressor, rank_metrics, squared_distances

    settings = context.settings
    results: dict[str, dict[str, dict[str, float]]] = {}
    for n in settings["train_sizes"]:
        row: dict[str, dict[str, float]] = {}
        start = time.perf_counter()
        mlp = MLPRegressor(**settings["mlp"]).fit(x_train[:n], y_train[:n], seed=sub_seed(seed, n))
        row["mlp"] = {**rank_metrics(y_test, mlp.predict(x_test), settings["top_fraction"]),
                      "seconds": time.perf_counter() - start}
        start = time.perf_counter()
        gp = GaussianProcess(**settings["gp"]).fit(squared_distances(x_train[:n]), y_train[:n])
        prediction = gp.predict(squared_distances(x_test, x_train[:n]))
        row["gp"] = {**rank_metrics(y_test, prediction, settings["top_fraction"]), **gp_info(gp),
                     "seconds": time.perf_counter() - start}
        results[str(n)] = row
    return results


def gp_info(gp: Any) -> dict[str, float]:
    return {"length_scale": gp.length_scale, "signal_variance": gp.signal_variance,
            "noise_variance": gp.noise_variance, "log_marginal_likelihood": gp.log_marginal_likelihood}


def fit_ged(context: Context, test: np.ndarray, train: np.ndarray, y_test: np.ndarray,
            y_train: np.ndarray) -> tuple[dict[str, dict[str, dict[str, float]]], float]:
    """The GP with the GED kernel, for every n (the distances computed once, for the largest n), and
    the seconds the distances took."""
    from gnnas.analysis.predictor import GaussianProcess, rank_metrics
    from gnnas.ged import pairwise_ged

    settings = context.settings
    start = time.perf_counter()
    train_cells = context.specs(train)
    d_train = pairwise_ged(train_cells, num_workers=context.threads).astype(np.float64)
    d_test = pairwise_ged(context.specs(test), train_cells, num_workers=context.threads).astype(np.float64)
    ged_seconds = time.perf_counter() - start
    results: dict[str, dict[str, dict[str, float]]] = {}
    for n in settings["train_sizes"]:
        start = time.perf_counter()
        gp = GaussianProcess(**settings["gp"]).fit(d_train[:n, :n], y_train[:n])
        prediction = gp.predict(d_test[:, :n])
        results[str(n)] = {"gp": {**rank_metrics(y_test, prediction, settings["top_fraction"]), **gp_info(gp),
                                  "seconds": time.perf_counter() - start}}
    return results, ged_seconds


def fit_finetuned(context: Context, controller: Any, seed: int, test: np.ndarray, train: np.ndarray,
                  y_test: np.ndarray, y_train: np.ndarray) -> dict[str, dict[str, dict[str, float]]]:
    """A copy of the controller trained by NAO on the n labels, for every n; NAO's predictor predicts."""
    import torch

    from gnnas.analysis.predictor import rank_metrics
    from gnnas.search import NAOConfig, make_optimizer, train_controller

    settings = context.settings
    config = NAOConfig(**settings["finetune"])
    test_graphs, train_graphs = context.graphs(test), context.graphs(train)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for n in settings["train_sizes"]:
        start = time.perf_counter()
        model = copy.deepcopy(controller)
        generator = torch.Generator().manual_seed(sub_seed(seed, n))
        log = train_controller(model, make_optimizer(model, config), train_graphs[:n],
                               torch.tensor(y_train[:n], dtype=torch.float32), config, generator)
        prediction = nao_predict(model, test_graphs)
        results[str(n)] = {"nao": {**rank_metrics(y_test, prediction, settings["top_fraction"]),
                                   "train_loss": log["loss"], "train_mse": log["mse"],
                                   "train_nll": log["nll"], "seconds": time.perf_counter() - start}}
    return results


def run_unit(context: Context, encoding: str, seed: int) -> dict[str, Any]:
    """Every n and regressor of one encoding at one seed."""
    from gnnas.space.encodings import onehot_encoding, path_encoding

    start, cpu_start = time.perf_counter(), time.process_time()
    test, train = context.split(seed)
    y_test, y_train = context.accuracy[test], context.accuracy[train]
    family, _, source = encoding.partition(":")
    extra: dict[str, Any] = {}
    if encoding in HANDMADE:
        encode = onehot_encoding if encoding == "onehot" else path_encoding
        results = fit_vectors(context, seed, encode(context.specs(test)), encode(context.specs(train)),
                              y_test, y_train)
    elif encoding == GED:
        results, extra["ged_seconds"] = fit_ged(context, test, train, y_test, y_train)
    else:
        controller = context.controller(source, seed)
        extra["controller"] = (context.controller_info[source] if source != FRESH
                               else {"fresh": True, "init_seed": seed, "weights": weights_digest(controller)})
        if family == "z":
            z_test = embed(controller, context.graphs(test))
            z_train = embed(controller, context.graphs(train))
            results = fit_vectors(context, seed, z_test, z_train, y_test, y_train)
        else:
            results = fit_finetuned(context, controller, seed, test, train, y_test, y_train)
    return {"encoding": encoding, "seed": seed, "split": {"test": digest(test), "train": digest(train)},
            "results": results, **extra, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu_start}


def run_path(out: Path, encoding: str, seed: int) -> Path:
    return out / "runs" / encoding.replace(":", "_") / f"seed{seed}.json"


def differing(expected: Any, found: Any, prefix: str = "") -> list[str]:
    """The dotted names of the settings that differ between two nested dictionaries."""
    if isinstance(expected, dict) and isinstance(found, dict):
        names = []
        for key in sorted(set(expected) | set(found)):
            names += differing(expected.get(key), found.get(key), f"{prefix}{key}.")
        return names
    return [] if expected == found else [prefix.rstrip(".")]


def read_run(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SystemExit(f"{path}: not a readable run file ({error}); remove it to recompute") from None
    keys = {"encoding", "seed", "settings", "results", "seconds", "cpu_seconds"}
    if not isinstance(data, dict) or not keys <= set(data):
        raise SystemExit(f"{path}: not a run file of benchmarks/predictor.py; remove it to recompute")
    return data


def write_json(path: Path, data: Any) -> None:
    """Writes through a temporary file, so a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1))
    os.replace(partial, path)


def run_or_load(context: Context, out: Path, encoding: str, seed: int, overwrite: bool) -> dict[str, Any]:
    """Loads the run file when it holds these settings; computes (and writes) it otherwise."""
    path = run_path(out, encoding, seed)
    expected = unit_settings(context.settings, context.info, encoding)
    if path.exists():
        data = read_run(path)
        family, _, source = encoding.partition(":")
        found_settings = data["settings"]
        names = differing(expected, found_settings)
        if not names and family in FAMILIES and source != FRESH:
            context.controller(source, seed)  # the controller must be the one the run used
            if context.controller_info[source]["weights"] != data.get("controller", {}).get("weights"):
                names = ["controller weights"]
        if not names:
            print(f"{encoding:>28s} seed {seed}: kept {path.relative_to(out)} (same settings)", flush=True)
            return data
        if not overwrite:
            raise SystemExit(f"{path}: computed with other settings ({', '.join(names)}); pass --overwrite "
                             "to recompute it, or choose another --out")
    data = {**run_unit(context, encoding, seed), "settings": expected}
    write_json(path, data)
    taus = "  ".join(f"n={n}: " + "/".join(f"{r} {v['kendall_tau']:.3f}" for r, v in row.items())
                     for n, row in data["results"].items())
    print(f"{encoding:>28s} seed {seed}: tau {taus}  ({data['seconds']:.1f} s, "
          f"{data['cpu_seconds']:.1f} s CPU)", flush=True)
    return data


# ---------------------------------------------------------------------------------------- the report
def aggregate(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """``{encoding: {regressor: {n: {metric: mean_interval}}}}`` over the seeds of each encoding."""
    from gnnas.analysis.predictor import mean_interval

    values: dict[tuple[str, str, str, str], list[float]] = {}
    for run in runs:
        for n, row in run["results"].items():
            for regressor, result in row.items():
                for metric in METRICS:
                    values.setdefault((run["encoding"], regressor, n, metric), []).append(result[metric])
    out: dict[str, Any] = {}
    for (encoding, regressor, n, metric), seen in values.items():
        out.setdefault(encoding, {}).setdefault(regressor, {}).setdefault(n, {})[metric] = mean_interval(seen)
    return out


def per_seed(runs: list[dict[str, Any]], encoding: str, regressor: str, n: str,
             metric: str) -> dict[int, float]:
    return {run["seed"]: run["results"][n][regressor][metric] for run in runs
            if run["encoding"] == encoding and regressor in run["results"].get(n, {})}


def compare(runs: list[dict[str, Any]], candidates: list[str], baselines: list[str], regressor: str,
            n: str, metric: str = "kendall_tau") -> dict[str, Any] | None:
    """The best candidate (by mean) against each baseline, paired over common seeds.

    The best is chosen after seeing the results, so its paired intervals are Bonferroni-adjusted
    for the choice among the candidates: each at level ``1 - 0.05 / len(candidates)``."""
    from gnnas.analysis.predictor import mean_interval

    def mean(encoding: str) -> float | None:
        seen = per_seed(runs, encoding, regressor, n, metric)
        return float(np.mean(list(seen.values()))) if seen else None

    candidates = [c for c in candidates if mean(c) is not None]
    baselines = [b for b in baselines if mean(b) is not None]
    if not candidates or not baselines:
        return None
    best = max(candidates, key=lambda c: mean(c))  # type: ignore[arg-type,return-value]
    level = 1 - 0.05 / len(candidates)
    ours = per_seed(runs, best, regressor, n, metric)
    against = {}
    for baseline in baselines:
        theirs = per_seed(runs, baseline, regressor, n, metric)
        common = sorted(set(ours) & set(theirs))
        if not common:
            continue
        difference = mean_interval([ours[s] - theirs[s] for s in common], level=level)
        against[baseline] = {**difference, "beaten": difference["low"] is not None and difference["low"] > 0}
    strongest = max(baselines, key=lambda b: mean(b))  # type: ignore[arg-type,return-value]
    spread = float(np.std(list(ours.values()), ddof=1)) if len(ours) > 1 else None
    return {"regressor": regressor, "n": int(n), "metric": metric, "best": best, "best_mean": mean(best),
            "candidates": len(candidates), "level": level,
            "strongest_baseline": strongest, "strongest_mean": mean(strongest), "seed_std": spread,
            "against": against, "beats_all": bool(against) and all(a["beaten"] for a in against.values())}


def comparisons(runs: list[dict[str, Any]], sizes: list[int]) -> dict[str, list[dict[str, Any]]]:
    """The metric-loss presets of the runs against NoMetricLoss, the fresh controller and the
    hand-made encodings (frozen), and against NoMetricLoss and fresh (fine-tuned)."""
    from gnnas.pretrain import NO_METRIC_LOSS

    encodings = {run["encoding"] for run in runs}
    sources = {e.partition(":")[2] for e in encodings if e.partition(":")[0] in FAMILIES}
    metric_losses = [p for p in preset_names() if p in sources and p != NO_METRIC_LOSS]
    out: dict[str, list[dict[str, Any]]] = {"frozen": [], "finetuned": []}
    for n in [str(n) for n in sizes]:
        for regressor in ("gp", "mlp"):
            baselines = [f"z:{NO_METRIC_LOSS}", "z:fresh", *HANDMADE, *([GED] if regressor == "gp" else [])]
            present = [b for b in baselines if b in encodings]
            result = compare(runs, [f"z:{p}" for p in metric_losses], present, regressor, n)
            if result:
                out["frozen"].append(result)
        result = compare(runs, [f"finetune:{p}" for p in metric_losses],
                         [f"finetune:{NO_METRIC_LOSS}", "finetune:fresh"], "nao", n)
        if result:
            out["finetuned"].append(result)
    return out


def sentence(results: list[dict[str, Any]], what: str, baselines: str) -> str:
    """One plain sentence on whether the best metric-loss preset beats the baselines, and where."""
    if not results:
        return f"No comparison of {what}: the runs lack a metric-loss preset or the baselines."
    wins = [r for r in results if r["beats_all"]]

    def describe(r: dict[str, Any]) -> str:
        against = r["against"][r["strongest_baseline"]]
        spread = "n/a" if r["seed_std"] is None else f"{r['seed_std']:.3f}"
        interval = ("" if against["low"] is None else
                    f", paired interval [{against['low']:+.3f}, {against['high']:+.3f}]")
        return (f"{r['best']} at n = {r['n']} ({r['regressor']}): tau {r['best_mean']:.3f} vs "
                f"{r['strongest_mean']:.3f} for {r['strongest_baseline']}, a difference of "
                f"{against['mean']:+.3f}{interval}, against a seed spread (std of tau) of {spread}")

    k = max(r["candidates"] for r in results)
    adjusted = (f"paired 95 % intervals, Bonferroni-adjusted for picking the best of {k} presets "
                f"(level {1 - 0.05 / k:.2%})" if k > 1 else "paired 95 % intervals")
    if wins:
        return (f"Yes, for {what}: a metric-loss preset beats {baselines} ({adjusted} above 0 "
                f"against each) in {len(wins)} of {len(results)} settings; "
                + "; ".join(map(describe, wins)) + ".")
    closest = max(results, key=lambda r: r["best_mean"] - r["strongest_mean"])
    return (f"No, for {what}: at no n does a metric-loss preset beat {baselines} ({adjusted} above "
            f"0); the closest is {describe(closest)}.")


def fmt(stat: dict[str, Any]) -> str:
    if stat["half_width"] is None:
        return f"{stat['mean']:.3f}"
    return f"{stat['mean']:.3f} ± {stat['half_width']:.3f}"


def tables(aggregates: dict[str, Any], sizes: list[int], metrics: tuple[str, ...] = METRICS,
           rst: bool = False) -> str:
    """One table per metric and regressor: encodings by n, mean ± half-width of the 95 % interval."""
    blocks = []
    for metric in metrics:
        for regressor in REGRESSORS:
            rows = [(e, r[regressor]) for e, r in aggregates.items() if regressor in r]
            if not rows:
                continue
            title = f"{METRIC_LABELS[metric]}, regressor {regressor}"
            header = ["encoding", *[f"n = {n}" for n in sizes]]
            body = [[e, *[fmt(by_n[str(n)][metric]) if str(n) in by_n else "" for n in sizes]]
                    for e, by_n in rows]
            if rst:
                lines = [f".. list-table:: {title}", "   :header-rows: 1", ""]
                for cells in [header, *body]:
                    lines.append(f"   * - {cells[0]}")
                    lines += [f"     - {c}" for c in cells[1:]]
            else:
                lines = [f"**{title}**", "", "| " + " | ".join(header) + " |",
                         "|" + "---|" * len(header), *["| " + " | ".join(c) + " |" for c in body]]
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


FIXED_COLORS = {"onehot": "black", "path": "0.45", "ged": "goldenrod"}


def color_of(encoding: str) -> Any:
    """One colour per controller (``z:X`` and ``finetune:X`` share it), fixed ones for the others."""
    import matplotlib.pyplot as plt

    if encoding in FIXED_COLORS:
        return FIXED_COLORS[encoding]
    sources = [FRESH, *preset_names()]
    return plt.get_cmap("tab10")(sources.index(encoding.partition(":")[2]) % 10)


def plot(aggregates: dict[str, Any], sizes: list[int], path: Path) -> None:
    """Kendall tau against n, one panel per regressor, one line per encoding (95 % interval shaded)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [r for r in REGRESSORS if any(r in by_reg for by_reg in aggregates.values())]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6), squeeze=False, sharey=True)
    means: list[float] = []
    for ax, regressor in zip(axes[0], panels, strict=True):
        for encoding, by_regressor in aggregates.items():
            by_n = by_regressor.get(regressor)
            if not by_n:
                continue
            ns = [n for n in sizes if str(n) in by_n]
            stats = [by_n[str(n)]["kendall_tau"] for n in ns]
            mean = [s["mean"] for s in stats]
            means += mean
            style = "--" if encoding in (*HANDMADE, GED) else ":" if encoding.endswith(FRESH) else "-"
            width = 2.2 if encoding in (*HANDMADE, GED) or encoding.endswith((FRESH, "NoMetricLoss")) else 1.3
            ax.plot(ns, mean, style, lw=width, marker="o", ms=3, color=color_of(encoding), label=encoding)
            if all(s["low"] is not None for s in stats):
                ax.fill_between(ns, [s["low"] for s in stats], [s["high"] for s in stats],
                                color=color_of(encoding), alpha=0.08)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.set_xlabel("labelled cells n")
        ax.set_title({"mlp": "MLP on the encoding", "gp": "Gaussian process",
                      "nao": "fine-tuned, NAO's predictor"}[regressor], fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    if means:  # the intervals of a few seeds can be wide: frame the means
        axes[0][0].set_ylim(max(-1.0, min(means) - 0.1), min(1.0, max(means) + 0.1))
    axes[0][0].set_ylabel("Kendall tau on the test cells (mean, 95 % interval)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(runs: list[dict[str, Any]], settings: dict[str, Any], out: Path, extra: dict[str, Any]) -> dict:
    """Writes predictor.json, predictor.md, predictor.rst and predictor_tau.png; returns the report."""
    from gnnas.pretrain import NO_METRIC_LOSS

    sizes = sorted({int(n) for run in runs for n in run["results"]})
    aggregates = aggregate(runs)
    order = [e for e in settings["encodings"] if e in aggregates]
    order += sorted(set(aggregates) - set(order))
    aggregates = {e: aggregates[e] for e in order}
    compared = comparisons(runs, sizes)
    summary = {
        "frozen": sentence(compared["frozen"], "frozen embeddings",
                           f"{NO_METRIC_LOSS}, the untrained encoder and the hand-made encodings"),
        "finetuned": sentence(compared["finetuned"], "fine-tuned controllers",
                              f"{NO_METRIC_LOSS} and the untrained controller (both fine-tuned)"),
    }
    result = {
        "config": {**settings, **extra},
        "aggregates": aggregates,
        "comparisons": compared,
        "summary": summary,
        "runs": runs,
        "seconds": float(sum(run["seconds"] for run in runs)),
        "cpu_seconds": float(sum(run["cpu_seconds"] for run in runs)),
    }
    write_json(out / "predictor.json", result)
    text = "\n\n".join(summary.values())
    (out / "predictor.md").write_text(tables(aggregates, sizes) + "\n" + text + "\n")
    (out / "predictor.rst").write_text(tables(aggregates, sizes, rst=True) + "\n" + text + "\n")
    plot(aggregates, sizes, out / "predictor_tau.png")
    return result


def load_runs(out: Path) -> list[dict[str, Any]]:
    """Every run file under ``out/runs``; their settings must agree where they overlap."""
    runs = [read_run(path) for path in sorted((out / "runs").glob("*/seed*.json"))]
    if not runs:
        raise SystemExit(f"--merge: no run files under {out / 'runs'}")
    reference: dict[str, Any] = {}
    for run, path in zip(runs, sorted((out / "runs").glob("*/seed*.json")), strict=True):
        for key, value in run["settings"].items():
            if key in reference and reference[key][0] != value:
                raise SystemExit(f"--merge: {path} has other {key!r} settings than {reference[key][1]}")
            reference.setdefault(key, (value, path))
    return runs


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise SystemExit(f"--shard must be K/N, e.g. 0/4, got {text!r}") from None
    if not 0 <= k < n:
        raise SystemExit(f"--shard K/N needs 0 <= K < N, got {text!r}")
    return k, n


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    args = build_parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    settings = resolve_settings(args)
    settings["cache_dir"] = None if args.cache_dir is None else str(args.cache_dir)
    shard = parse_shard(args.shard)
    out: Path = args.out
    start = time.perf_counter()
    extra = {"data": "bundled" if args.data is None else str(args.data), "threads": args.threads,
             "command": " ".join(["python", "benchmarks/predictor.py",
                                  *(sys.argv[1:] if argv is None else argv)]),
             "python": platform.python_version(), "torch": torch.__version__, "machine": platform.machine()}
    if args.merge:
        runs = load_runs(out)
        found = {run["encoding"] for run in runs}
        settings = {**settings, "mode": "merge", "seeds": sorted({run["seed"] for run in runs}),
                    "encodings": [e for e in expand_encodings([*HANDMADE, GED, *FAMILIES], preset_names())
                                  if e in found],
                    "loss": [p for p in preset_names() if any(e.endswith(f":{p}") for e in found)]}
        for key in ("train_sizes", "test_size", "top_fraction", "mlp", "gp", "finetune", "pretrain"):
            settings[key] = next((run["settings"][key] for run in runs if key in run["settings"]), None)
        extra["table"] = runs[0]["settings"]["table"]
        result = report(runs, settings, out, extra)
        print((out / "predictor.md").read_text())
        return result
    context = Context(load_table(args.data), settings, args.threads, args.no_progress)
    units = [(encoding, seed) for encoding in settings["encodings"] for seed in settings["seeds"]]
    if shard is not None:
        units = units[shard[0]::shard[1]]
    print(f"table: {context.info['num_cells']} cells ({args.data or 'the bundled sample'}); "
          f"{len(units)} runs of {len(settings['encodings'])} encodings x {len(settings['seeds'])} seeds; "
          f"n = {settings['train_sizes']}, {settings['test_size']} test cells", flush=True)
    runs = [run_or_load(context, out, encoding, seed, args.overwrite) for encoding, seed in units]
    extra["table"] = context.info
    extra["controllers"] = context.controller_info
    extra["wall_seconds"] = time.perf_counter() - start
    if shard is not None:
        print(f"shard {args.shard} done in {extra['wall_seconds']:.0f} s; when every shard is done: "
              f"python benchmarks/predictor.py --merge --out {out}")
        return None
    result = report(runs, settings, out, extra)
    print((out / "predictor.md").read_text())
    print(f"wrote {out / 'predictor.json'}, predictor.md, predictor.rst, predictor_tau.png "
          f"in {extra['wall_seconds']:.0f} s")
    return result


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

r"""``gnnas search``: run a search method on a NAS-Bench-101 table under a query budget.

A thin wrapper over :mod:`gnnas.search`: it reads the table (a CSV table or the official
``.tfrecord`` file, through :class:`~gnnas.nasbench.NASBench101`), builds a budgeted
:class:`~gnnas.search.Oracle` (a proposal outside a partial table is mapped to the table cell at
the smallest exact graph edit distance), runs the method once per seed with checkpoints, and
writes each run's :class:`~gnnas.search.SearchResult` as ``seed<k>.json``, the aggregate as
``summary.json`` and the settings as ``command.json``.

Every field of the methods' settings dataclasses (:class:`~gnnas.search.NAOConfig`,
:class:`~gnnas.search.RegularizedEvolutionConfig`, :class:`~gnnas.search.LocalSearchConfig`,
:class:`~gnnas.search.RandomSearchConfig`) is a flag, generated from the dataclass, so the
command follows the library.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import reprlib
import typing
from pathlib import Path
from typing import Any

from gnnas.cli.settings import (
    COMMAND_FILE,
    CLIError,
    add_run_flags,
    add_setting,
    check_output_dir,
    check_same_settings,
    deprecated_flag,
    deprecated_name,
    field_docs,
    field_parser,
    optional,
    remove_run_files,
    resolve_settings,
    save_command,
    set_threads,
    setting_differences,
)
from gnnas.files import load_json, save_json
from gnnas.flags import DEFAULT_PRETRAIN_LR, DEFAULT_THREADS

NAME = "search"
HELP = "run NAO, random search, regularized evolution or local search on a table under a query budget"
DESCRIPTION = """\
Runs one search method, once per seed, on a NAS-Bench-101 table under a budget of queries (a
query counts once per distinct table cell). The table is the NAS-Bench-101 sample bundled with
gnnas (30,001 real cells, one-repeat validation accuracy) unless --data names the official
nasbench_only108.tfrecord / nasbench_full.tfrecord (gnnas download; converted once) or a CSV
table in the layout of nb101_subset_30k.csv. On a partial table a proposal outside it is
replaced by the table cell at the smallest exact graph edit distance (--mapping auto/nearest);
on the whole space nothing is mapped.

NAO starts from a fresh controller (the default), from the controller pretrained with a loss
preset (--loss MarginLoss: the one shipped with gnnas, or with --pretrain-iterations N one trained
once and cached), or from a controller.pt written by gnnas pretrain (--controller
results/pretrain/margin).

Settings: defaults < --config FILE.json (a JSON object of settings, method settings under
"options"; or an earlier run's command.json) < flags. Results in --out: seed<k>.json (the
run's configuration and every query), summary.json, command.json; with --resume finished seeds
are loaded and interrupted ones continue from seed<k>.ckpt. An --out folder that holds a run is
never replaced silently: without --resume (same settings; only --seeds, --threads and
--checkpoint-every may change) or --overwrite (delete the run, start over) it is an error.

examples:
  gnnas search --method random --seeds 0 1 2 --budget 300
  gnnas search --method regularized_evolution --data nasbench_only108.tfrecord --population-size 100
  gnnas search --method nao --loss MarginLoss --num-init 64 --outer-epochs 7 --inner-epochs 20
"""

#: Old command-line names of methods, accepted with a warning for one version: a method is named
#: as its class names itself (:data:`gnnas.search.SEARCHES`).
OLD_METHOD_NAMES: dict[str, str] = {"evolution": "regularized_evolution", "local": "local_search"}

#: Old names of settings in a config file (and in the command.json of earlier runs).
OLD_SETTING_NAMES: dict[str, str] = {"epochs": "nasbench_epochs"}

#: Fields of the methods' settings that the command sets itself.
_HIDDEN_FIELDS = frozenset({"controller_init"})

#: Settings a resumed run may change (each seed's file records the settings that matter).
_RESUMABLE = ("output_dir", "checkpoint_every", "threads", "seeds")

#: The files of a run in its output folder.
_RUN_FILE = re.compile(r"(seed\d+\.(json|ckpt)|summary\.json|command\.json)")

def _method_classes() -> dict[str, type]:
    from gnnas.search import SEARCHES

    return dict(SEARCHES)


def _method_name(text: str) -> str:
    """Returns the name of a method (as its class names itself); an old name warns.

    Raises:
        CLIError: if ``text`` names no method.
    """
    text = str(text)
    if text in OLD_METHOD_NAMES:
        deprecated_name(f"method {text!r}", repr(OLD_METHOD_NAMES[text]))
        return OLD_METHOD_NAMES[text]
    if text in _method_classes():
        return text
    raise CLIError(f"unknown method {text!r}; expected one of {list(_method_classes())}")


def _method_flag(text: str) -> str:
    """``--method``'s type: an old name becomes today's, with a warning (the choices check the rest)."""
    return _method_name(text) if text in OLD_METHOD_NAMES else text


def _method_fields() -> dict[str, dict[str, Any]]:
    """Every settings field of every method: its default, parser, metavar, help and methods."""
    fields: dict[str, dict[str, Any]] = {}
    for short, cls in _method_classes().items():
        config_cls = cls.Config
        if not dataclasses.is_dataclass(config_cls):
            continue
        hints = typing.get_type_hints(config_cls)
        docs = field_docs(config_cls)
        defaults = dataclasses.asdict(config_cls())
        for field in dataclasses.fields(config_cls):
            if field.name in _HIDDEN_FIELDS:
                continue
            entry = fields.setdefault(field.name, {"methods": [], "defaults": {}})
            entry["methods"].append(short)
            entry["defaults"][short] = defaults[field.name]
            entry.setdefault("parse", field_parser(hints.get(field.name, str)))
            entry.setdefault("help", docs.get(field.name, f"see {config_cls.__name__}"))
    return fields


def _defaults() -> dict[str, Any]:
    return {
        "method": "random",
        "data": None,
        "seeds": [0],
        "budget": 300,
        "mapping": "auto",
        "metric": "validation_accuracy",
        "nasbench_epochs": 108,
        "repeat": 0,
        "controller": "fresh",
        "loss": None,
        "pretrain_iterations": None,
        "pretrain_seed": 0,
        "pretrain_optimizer": "sgd",
        "pretrain_lr": None,
        "output_dir": None,
        "checkpoint_every": None,
        "threads": DEFAULT_THREADS,
        "options": {},
    }


def _show(value: Any) -> str:
    return "none" if value is None else json.dumps(value)


def _repeat(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``gnnas search`` to ``parser``."""
    from gnnas.pretrain import PRESET_NAMES
    from gnnas.pretrain.config import OPTIMIZERS

    d = _defaults()
    main = parser.add_argument_group("search")
    add_setting(
        main,
        "--method",
        key="method",
        type=_method_flag,
        choices=list(_method_classes()),
        default=d["method"],
        help="the search method, named as its class names itself: nao, random (uniform over the "
        "table), regularized_evolution or local_search",
    )
    add_setting(
        main,
        "--data",
        key="data",
        metavar="PATH",
        default=d["data"],
        help="the table: the official .tfrecord file or a .csv table (default: the 30,001-cell "
        "NAS-Bench-101 sample bundled with gnnas)",
    )
    add_setting(
        main,
        "--seeds",
        key="seeds",
        type=int,
        nargs="+",
        metavar="SEED",
        default=d["seeds"],
        help="one run per seed",
    )
    add_setting(
        main,
        "--budget",
        key="budget",
        type=optional(int),
        metavar="N",
        default=d["budget"],
        help="queries per run (distinct table cells); 'none' for no limit",
    )
    add_setting(
        main,
        "--out",
        key="output_dir",
        metavar="DIR",
        default="results/search/<method>",
        help="output folder: seed<k>.json, summary.json, command.json",
    )
    main.add_argument(
        "--config",
        metavar="FILE.json",
        help='settings from a JSON file (method settings under "options"); flags override it',
    )
    add_run_flags(main, "the run in --out: finished seeds are loaded, interrupted ones continue from "
                  "their checkpoint")
    add_setting(
        main,
        "--checkpoint-every",
        key="checkpoint_every",
        type=int,
        metavar="STEPS",
        default=d["checkpoint_every"],
        help="steps between checkpoints (a step is one query for random "
        "search, one child for evolution, one neighbourhood for local search, one outer epoch for NAO); "
        "none: 1 for nao, 100 for the others",
    )
    add_setting(
        main,
        "--threads",
        key="threads",
        type=int,
        metavar="N",
        default=d["threads"],
        help="torch threads of this process (one is fastest for gnnas's small networks)",
    )
    main.add_argument("--no-progress", action="store_true", help="no progress bars")

    oracle = parser.add_argument_group("oracle")
    add_setting(
        oracle,
        "--mapping",
        key="mapping",
        choices=["auto", "nearest", "none"],
        default=d["mapping"],
        help="a proposal outside the table: 'nearest' queries the table cell at the smallest exact GED, "
        "'none' is an error, 'auto' is 'nearest' unless the table is the whole space",
    )
    add_setting(
        oracle,
        "--metric",
        key="metric",
        default=d["metric"],
        help="the metric maximised (a key of NASBench101.query, e.g. test_accuracy if the table has it)",
    )
    add_setting(
        oracle,
        "--nasbench-epochs",
        key="nasbench_epochs",
        type=int,
        metavar="EPOCHS",
        default=d["nasbench_epochs"],
        help="training epochs of the NAS-Bench-101 metric: 4, 12, 36 or 108 (the tables hold 108 only "
        "unless made from nasbench_full.tfrecord)",
    )
    add_setting(
        oracle,
        "--repeat",
        key="repeat",
        type=_repeat,
        default=d["repeat"],
        help="training run of each cell: a run index, or mean, median, min or max over the runs",
    )

    nao = parser.add_argument_group("NAO controller")
    add_setting(
        nao,
        "--loss",
        key="loss",
        choices=list(PRESET_NAMES),
        metavar="PRESET",
        default="none, a fresh controller",
        help="start NAO from the controller pretrained with this loss preset of the paper's Table 3, one "
        f"of: {', '.join(PRESET_NAMES)}",
    )
    add_setting(
        nao,
        "--controller",
        key="controller",
        metavar="PATH",
        default=d["controller"],
        help="start NAO from a controller.pt file or a gnnas pretrain output folder instead; 'fresh': an "
        "untrained controller",
    )
    add_setting(
        nao,
        "--pretrain-iterations",
        key="pretrain_iterations",
        type=optional(int),
        metavar="N",
        default="none, the paper's 2 epochs: the shipped controller",
        help="iterations of the pretraining of --loss, trained once and cached; 0: untrained (a fresh "
        "controller)",
    )
    add_setting(
        nao,
        "--pretrain-seed",
        key="pretrain_seed",
        type=int,
        default=d["pretrain_seed"],
        help="seed of the pretraining of --loss",
    )
    add_setting(
        nao,
        "--pretrain-optimizer",
        key="pretrain_optimizer",
        choices=list(OPTIMIZERS),
        default=d["pretrain_optimizer"],
        help="optimizer of the pretraining of --loss (sgd is the paper's; a short pretraining learns far "
        "more with adam)",
    )
    add_setting(
        nao,
        "--pretrain-lr",
        key="pretrain_lr",
        type=float,
        metavar="LR",
        default="1.0 for sgd, the paper's; 0.001 for adam and adamw",
        help="learning rate of the pretraining of --loss",
    )
    deprecated_flag(parser, "--epochs", "--nasbench-epochs")

    groups: dict[tuple[str, ...], Any] = {}
    titles = {
        "nao": "NAO",
        "random": "random search",
        "regularized_evolution": "regularized evolution",
        "local_search": "local search",
    }
    for name, entry in _method_fields().items():
        methods = tuple(entry["methods"])
        if methods not in groups:
            groups[methods] = parser.add_argument_group(
                "settings of " + " and ".join(titles[m] for m in methods)
            )
        kind, metavar = entry["parse"]
        defaults = entry["defaults"]
        shown = (
            ", ".join(f"{m}: {_show(v)}" for m, v in defaults.items())
            if len(set(map(_show, defaults.values()))) > 1
            else _show(next(iter(defaults.values())))
        )
        groups[methods].add_argument(
            "--" + name.replace("_", "-"),
            dest="option__" + name,
            type=kind,
            metavar=metavar,
            default=argparse.SUPPRESS,
            help=f"{entry['help']} (default: {shown})",
        )


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Merges defaults, the config file and the flags into this command's settings.

    Returns:
        dict: the settings; the method's own settings are under ``"options"``.

    Raises:
        CLIError: on an unknown setting, a method setting that the method does not have, or (with
            ``--resume``) a setting that differs from the run's ``command.json``.
    """
    if args.resume and getattr(args, "config", None) is None and hasattr(args, "output_dir"):
        saved = Path(args.output_dir) / COMMAND_FILE
        if saved.is_file():  # resume with the run's own settings (flags still win)
            load_json(saved)  # checks its checksum
            args.config = os.fspath(saved)
    settings = resolve_settings(args, _defaults(), aliases=OLD_SETTING_NAMES)
    options = settings["options"] or {}  # the config file's "options" (resolve_settings read the file)
    if not isinstance(options, dict):
        raise CLIError('the config file\'s "options" must be a JSON object of method settings')
    flags = {key[len("option__") :]: value for key, value in vars(args).items() if key.startswith("option__")}
    options = settings["options"] = {**options, **flags}
    settings["method"] = _method_name(settings["method"])
    method = settings["method"]
    if settings["output_dir"] is None:
        settings["output_dir"] = os.path.join("results", "search", method)
    from gnnas.pretrain import PRESET_NAMES

    if settings["controller"] in PRESET_NAMES:  # the old way to name a preset
        deprecated_name(f"--controller {settings['controller']}", f"--loss {settings['controller']}")
        if settings["loss"] not in (None, settings["controller"]):
            raise CLIError(f"--controller {settings['controller']} and --loss {settings['loss']} name two "
                           "presets")
        settings["loss"], settings["controller"] = settings["controller"], "fresh"
    if settings["loss"] is not None and settings["controller"] != "fresh":
        raise CLIError("--loss and --controller both name a starting controller; give one")
    if args.resume:  # first, so that a change of method is named as such
        check_same_settings(settings["output_dir"], settings, ignore=_RESUMABLE, translate=_old_record)
    fields = _method_fields()
    for name in options:
        if name not in fields:
            raise CLIError(f"unknown method setting {name!r}; expected one of {sorted(fields)}")
        if method not in fields[name]["methods"]:
            flag = "--" + name.replace("_", "-")
            raise CLIError(
                f"{flag} is a setting of {' and '.join(fields[name]['methods'])}, not of --method {method}"
            )
    seeds = settings["seeds"]
    if isinstance(seeds, int):
        seeds = [seeds]
    if (
        not isinstance(seeds, list)
        or not seeds
        or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**63 for s in seeds)
    ):
        raise CLIError(f"--seeds must be integers in [0, 2**63), got {reprlib.repr(settings['seeds'])}")
    if len(set(seeds)) != len(seeds):
        raise CLIError(f"--seeds has repeated values: {seeds}")
    settings["seeds"] = seeds
    every = settings["checkpoint_every"]
    if every is None:  # the method's own: a checkpoint per outer epoch of NAO, per 100 steps else
        settings["checkpoint_every"] = every = _method_classes()[method].checkpoint_every
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise CLIError(f"--checkpoint-every must be an integer >= 1, got {reprlib.repr(every)}")
    if method != "nao" and (settings["controller"] != "fresh" or settings["loss"] is not None):
        flag = "--loss" if settings["loss"] else "--controller"
        raise CLIError(f"{flag} applies to --method nao, not {method}")
    return settings


def _old_record(saved: dict[str, Any]) -> dict[str, Any]:
    """The settings of a command.json written by an earlier version, under today's names."""
    from gnnas.pretrain import PRESET_NAMES

    saved = {OLD_SETTING_NAMES.get(key, key): value for key, value in saved.items()}
    saved["method"] = OLD_METHOD_NAMES.get(saved.get("method"), saved.get("method"))
    saved.setdefault("loss", None)
    if saved.get("controller") in PRESET_NAMES:
        saved["loss"], saved["controller"] = saved["controller"], "fresh"
    return saved


def load_table(path: str | os.PathLike[str] | None, progress: bool = True) -> Any:
    """Reads a CSV table or the official ``.tfrecord`` file as a :class:`~gnnas.nasbench.NASBench101`.

    :obj:`None` is the sample bundled with gnnas (:meth:`~gnnas.nasbench.NASBench101.bundled`).

    Raises:
        CLIError: if the file does not exist.
    """
    from gnnas.nasbench import NASBench101

    if path is None:
        return NASBench101.bundled()
    file = Path(path).expanduser()
    if file.is_dir():
        raise CLIError(f"--data {os.fspath(path)!r} is a folder; expected a .csv table or the official "
                       "nasbench_only108.tfrecord")
    if not file.is_file():
        raise CLIError(
            f"--data {os.fspath(path)!r}: no such file (a .csv table or the official "
            "nasbench_only108.tfrecord)"
        )
    return NASBench101(file, progress=progress)  # a .csv suffix selects the CSV reader


def load_controller(source: str, settings: dict[str, Any], progress: bool = True) -> tuple[Any, str]:
    """The starting controller of NAO and its label for the results.

    Args:
        source (str): ``"fresh"``, a loss preset, or a ``controller.pt`` file or a folder holding one.
        settings (dict): the command's settings (``pretrain_iterations``, ``pretrain_seed``,
            ``pretrain_optimizer``, ``pretrain_lr``).
        progress (bool, optional): show the progress bar if a preset has to be trained.

    Returns:
        tuple: the controller (:obj:`None` for a fresh one) and the label.

    Raises:
        CLIError: if ``source`` is neither a preset nor an existing file or folder.
    """
    from gnnas.pretrain import PRESET_NAMES

    if source == "fresh" or (source in PRESET_NAMES and settings["pretrain_iterations"] == 0):
        return None, "fresh"  # 0 pretraining iterations: an untrained controller
    if source in PRESET_NAMES:
        from gnnas.pretrain import PretrainConfig, pretrained_controller

        optimizer = settings["pretrain_optimizer"]
        lr = settings["pretrain_lr"]
        if lr is None:
            lr = DEFAULT_PRETRAIN_LR.get(optimizer, 1.0)
        config = PretrainConfig(
            loss=source,
            max_iterations=settings["pretrain_iterations"],
            seed=settings["pretrain_seed"],
            optimizer=optimizer,
            lr=lr,
            progress=progress,
        )
        return pretrained_controller(config=config), f"pretrained:{source}"
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / "controller.pt"
    if not path.is_file():
        raise CLIError(
            f"--controller {source!r} is neither 'fresh' nor an existing controller.pt file or gnnas "
            f"pretrain folder (a loss preset, {', '.join(PRESET_NAMES)}, is given with --loss)"
        )
    from gnnas.nn import NAOController

    return NAOController.load(path), f"checkpoint:{os.fspath(path)}"  # errors name the file


def _make_config(cls: type, options: dict[str, Any], method: str) -> Any:
    """The method's settings dataclass built from ``options``."""
    try:
        return cls.Config(**options) if dataclasses.is_dataclass(cls.Config) else None
    except TypeError as error:
        raise CLIError(f"bad settings for --method {method}: {error}") from None


def _make_oracle(table: Any, settings: dict[str, Any]) -> Any:
    from gnnas.search import Oracle
    from gnnas.space import NUM_CELLS

    mapping = settings["mapping"]
    if mapping == "auto":
        mapping = None if len(table) >= NUM_CELLS else "nearest"
    elif mapping == "none":
        mapping = None
    return Oracle(
        table,
        budget=settings["budget"],
        mapping=mapping,
        metric=settings["metric"],
        epochs=settings["nasbench_epochs"],
        repeat=settings["repeat"],
    )


def _prepare_seed(
    cls: type, config: Any, seed: int, table: Any, settings: dict[str, Any], controller: Any,
    folder: Path, resume: bool,
) -> Any:
    """Returns the seed's finished :class:`~gnnas.search.SearchResult` (``--resume``), or the search
    to run: continued from its checkpoint (``--resume``) or new.

    Raises:
        CLIError: if a finished seed's file records other settings than the ones given.
        ValueError: if a checkpoint records other settings, or a file is damaged (naming it).
    """
    from gnnas.search import SearchResult

    result_path, checkpoint = folder / f"seed{seed}.json", folder / f"seed{seed}.ckpt"
    kwargs = {"controller": controller} if settings["method"] == "nao" else {}
    oracle = _make_oracle(table, settings)
    if resume and result_path.is_file():
        result = SearchResult.load(result_path)
        used = dataclasses.asdict(config) if config is not None else {}
        now = {"method": cls.name, "seed": seed, "config": json.loads(json.dumps(used)),
               "oracle": oracle.config()}
        saved = {"method": result.method, "seed": result.seed, "config": result.config,
                 "oracle": result.oracle}
        changed = setting_differences(saved, now)
        if changed:
            shown = "; ".join(f"{k}: {json.dumps(a)} in the run, {json.dumps(b)} now" for k, a, b in changed)
            raise CLIError(f"cannot resume: {result_path} was run with other settings ({shown}); give "
                           "the run's settings, or --overwrite to start over")
        return result
    if resume and checkpoint.is_file():
        return cls.resume(checkpoint, oracle, config=config, seed=seed, **kwargs)
    return cls(oracle, config, seed=seed, **kwargs)


def _run_seed(search: Any, seed: int, settings: dict[str, Any], folder: Path, progress: bool) -> Any:
    """Runs (or continues) one seed to its end; returns its :class:`~gnnas.search.SearchResult`."""
    from tqdm.auto import tqdm

    from gnnas.files import remove

    result_path, checkpoint = folder / f"seed{seed}.json", folder / f"seed{seed}.ckpt"
    oracle = search.oracle
    total = len(oracle) if settings["budget"] is None else min(settings["budget"], len(oracle))
    with tqdm(
        total=total, desc=f"{settings['method']} seed {seed}", unit="query", disable=not progress, leave=False
    ) as bar:
        bar.update(oracle.num_queries)
        result = search.run(checkpoint=checkpoint, checkpoint_every=settings["checkpoint_every"],
                             callback=lambda s: bar.update(s.oracle.num_queries - bar.n))
    result.save(result_path)
    remove(checkpoint)
    return result


def _aggregate(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("best_accuracy", "regret", "rank", "queries_to_best", "num_queries"):
        values = [float(s[key]) for s in summaries]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        out[key] = {"mean": mean, "std": std}
    return out


def run(args: argparse.Namespace) -> int:
    """Runs the search for every seed and prints the Table 1 columns; returns the exit status."""
    settings = settings_from_args(args)
    data = "the bundled NAS-Bench-101 sample" if settings["data"] is None else settings["data"]
    progress = not args.no_progress
    set_threads(settings["threads"])
    folder = Path(settings["output_dir"])
    resume, overwrite = bool(args.resume), bool(getattr(args, "overwrite", False))
    found = [p.name for p in folder.iterdir() if _RUN_FILE.fullmatch(p.name)] if folder.is_dir() else []
    check_output_dir(folder, found, resume, overwrite)
    method = settings["method"]
    cls = _method_classes()[method]
    options = dict(settings["options"])
    _make_config(cls, options, method)  # bad settings are found before the table is read
    table = load_table(settings["data"], progress=progress)
    controller = None
    if method == "nao":
        controller, label = load_controller(settings["loss"] or settings["controller"], settings,
                                            progress=progress)
        options["controller_init"] = label
    config = _make_config(cls, options, method)
    # every seed's file is checked before anything is written
    runs = {seed: _prepare_seed(cls, config, seed, table, settings, controller, folder, resume)
            for seed in settings["seeds"]}
    if overwrite:
        remove_run_files(folder, found)
    save_command(folder, NAME, settings, getattr(args, "argv", None), resume=resume, table=repr(table))
    summaries = []
    print(
        f"{method} on {len(table):,} cells of {data}, budget {settings['budget']}, "
        f"seeds {settings['seeds']}"
    )
    from gnnas.search import SearchResult

    for seed, run in runs.items():
        result = run if isinstance(run, SearchResult) else _run_seed(run, seed, settings, folder, progress)
        summary = result.summary()
        summaries.append(summary)
        print(
            f"seed {seed}: best {summary['best_accuracy']:.4f} (regret {summary['regret']:.4f}, rank "
            f"{summary['rank']}) after {summary['queries_to_best']} of {summary['num_queries']} queries; "
            f"stopped: {summary['stop_reason']}",
            flush=True,
        )
    aggregate = _aggregate(summaries)
    save_json(
        {"method": method, "data": settings["data"] or "bundled", "runs": summaries,
         "mean_std": aggregate},
        folder / "summary.json",
        indent=2,
    )
    if len(summaries) > 1:
        a = aggregate
        print(
            f"mean over {len(summaries)} seeds: best {a['best_accuracy']['mean']:.4f} ± "
            f"{a['best_accuracy']['std']:.4f}, regret {a['regret']['mean']:.4f}, "
            f"rank {a['rank']['mean']:.1f}, "
            f"queries to best {a['queries_to_best']['mean']:.1f}"
        )
    print(f"results: {folder}/ (seed<k>.json, summary.json, command.json)")
    return 0

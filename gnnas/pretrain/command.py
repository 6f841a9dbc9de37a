r"""``gnnas pretrain`` and ``python -m gnnas.pretrain``: one command line for pretraining.

Both are this module's parser (:func:`build_parser`) and :func:`run`: a thin wrapper over
:func:`gnnas.pretrain.pretrain` and :class:`gnnas.pretrain.PretrainConfig`:
each flag sets one field of the config (``--iterations`` is ``max_iterations``,
``--checkpoint-every`` is ``checkpoint_interval``, ``--log-every`` is ``log_interval``); a
``--config`` file may name any field. The output folder receives ``command.json`` (this
command's settings) and, from the library, ``config.json``, ``log.jsonl``, ``checkpoint.pt``,
``summary.json`` and ``controller.pt`` (load it with :meth:`gnnas.NAOController.load`, or pass
the folder to ``gnnas search --controller``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gnnas.files import load_json
from gnnas.flags import (
    COMMAND_FILE,
    DEFAULT_THREADS,
    CLIError,
    add_run_flags,
    add_setting,
    check_output_dir,
    check_same_settings,
    deprecated_flag,
    field_docs,
    field_parser,
    parse_bool,
    remove_run_files,
    resolve_settings,
    save_command,
    set_threads,
)

__all__ = ["add_arguments", "build_parser", "settings_from_args", "run", "main"]

#: Settings a resumed run may change: how long it runs, and how (none changes the weights).
_RESUMABLE = ("output_dir", "threads", "max_iterations", "epochs", "checkpoint_interval", "log_interval",
              "device", "num_workers", "progress", "decode_interval", "decode_samples")

NAME = "pretrain"
HELP = "pretrain a controller (encoder + decoder) with a metric-loss preset; checkpoints and resume"
DESCRIPTION = """\
Pretrains the encoder and decoder of a NAO controller on the locality task: batches of anchors
and their graph-edit positives, loss = reconstruction NLL + lambda_e * metric loss (the paper's
Section 3.3). The defaults are the paper's (Table 2: SGD, lr 1.0 decayed x0.2 at iteration 6000,
2 epochs over the 423,624 cells: 13,238 iterations at batch 512, from minutes to under an hour
per preset on one CPU core); --loss picks a row of Table 3, whose batch size and lambda_e apply
unless --batch-size / --lambda-e are given.

Settings: defaults < --config FILE.json (a JSON object of PretrainConfig fields, or the
command.json / config.json of an earlier run) < flags. With --resume and no --config, the
settings come from OUT/command.json. python -m gnnas.pretrain is the same command. Under
torchrun every process runs the same command:
  torchrun --nproc_per_node=2 -m gnnas pretrain --loss MarginLoss --out results/pretrain/ddp

examples:
  gnnas pretrain --loss MarginLoss --iterations 2000 --out results/pretrain/margin
  gnnas pretrain --loss NoMetricLoss --iterations 200 --batch-size 64 --num-anchors 5000
  gnnas pretrain --out results/pretrain/margin --resume       # after an interruption

An --out folder that holds a run (checkpoint.pt, log.jsonl, config.json, summary.json,
controller.pt) is never replaced silently: pass --resume to continue it (with the same settings;
only --iterations, --epochs and runtime settings such as --threads may change) or --overwrite to
delete it and start over.
"""


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r} ({error})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"expected a JSON object such as '{{\"hidden_channels\": 64}}', got {text!r}"
        )
    return value


def _defaults() -> dict[str, Any]:
    from gnnas.pretrain import PretrainConfig

    values = PretrainConfig().to_dict()
    values.update(output_dir=None, num_anchors=None, threads=DEFAULT_THREADS)
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``gnnas pretrain`` (and ``python -m gnnas.pretrain``) to ``parser``.

    Args:
        parser (argparse.ArgumentParser): the parser of the command.
    """
    from gnnas.pretrain import PRESET_NAMES
    from gnnas.pretrain.config import OPTIMIZERS

    d = _defaults()
    run = parser.add_argument_group("run")
    add_setting(
        run,
        "--out",
        key="output_dir",
        default="results/pretrain/<loss>-seed<seed>",
        metavar="DIR",
        help="output folder: command.json, config.json, log.jsonl, checkpoint.pt, controller.pt",
    )
    run.add_argument(
        "--config",
        metavar="FILE.json",
        help="settings from a JSON file (a JSON object, or an earlier run's command.json); flags override it",
    )
    add_run_flags(run, "the run in --out from its checkpoint.pt")
    add_setting(
        run,
        "--threads",
        key="threads",
        type=int,
        metavar="N",
        default=d["threads"],
        help="torch threads of this process (one is fastest for gnnas's small networks)",
    )
    add_setting(
        run,
        "--checkpoint-every",
        key="checkpoint_interval",
        type=int,
        metavar="N",
        default=d["checkpoint_interval"],
        help="iterations between checkpoints; 0: only the final one",
    )
    add_setting(
        run,
        "--log-every",
        key="log_interval",
        type=int,
        metavar="N",
        default=d["log_interval"],
        help="iterations between progress updates (log.jsonl gets every iteration)",
    )
    add_setting(
        run,
        "--device",
        key="device",
        default=d["device"],
        help="'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'",
    )
    add_setting(
        run,
        "--num-workers",
        key="num_workers",
        type=int,
        metavar="N",
        default=d["num_workers"],
        help="DataLoader workers making the positives",
    )
    add_setting(
        run, "--no-progress", key="progress", action="store_false", default=True, help="no progress bar"
    )

    loss = parser.add_argument_group("loss and data")
    add_setting(
        loss,
        "--loss",
        key="loss",
        choices=list(PRESET_NAMES),
        default=d["loss"],
        metavar="PRESET",
        help=f"metric-loss preset of the paper's Table 3, one of: {', '.join(PRESET_NAMES)}",
    )
    add_setting(
        loss,
        "--lambda-e",
        key="lambda_e",
        type=float,
        default="the preset's",
        help="weight of the metric loss",
    )
    add_setting(
        loss,
        "--batch-size",
        key="batch_size",
        type=int,
        default="the preset's",
        help="graphs per iteration, a multiple of 1 + num_positives (anchors and their positives)",
    )
    add_setting(
        loss,
        "--num-positives",
        key="num_positives",
        type=int,
        default=d["num_positives"],
        help="positives per anchor",
    )
    add_setting(
        loss,
        "--num-anchors",
        key="num_anchors",
        type=int,
        metavar="N",
        default="all 423,624 cells",
        help="train on N anchors drawn uniformly (with --seed) from the space",
    )
    add_setting(
        loss,
        "--seed",
        key="seed",
        type=int,
        default=d["seed"],
        help="seed of the initialisation, the positives and the anchors",
    )

    optim = parser.add_argument_group("optimisation")
    add_setting(
        optim,
        "--optimizer",
        key="optimizer",
        choices=list(OPTIMIZERS),
        default=d["optimizer"],
        help="sgd (the paper's), adam or adamw; a short run learns far more with adam (and --lr 0.001)",
    )
    add_setting(
        optim,
        "--iterations",
        key="max_iterations",
        type=int,
        metavar="N",
        default="2 epochs",
        help="stop after N iterations (the lr schedule is not rescaled)",
    )
    add_setting(
        optim, "--epochs", key="epochs", type=int, default=d["epochs"], help="passes over the anchors"
    )
    add_setting(optim, "--lr", key="lr", type=float, default=d["lr"], help="learning rate")
    add_setting(optim, "--momentum", key="momentum", type=float, default=d["momentum"], help="SGD momentum")
    add_setting(
        optim,
        "--weight-decay",
        key="weight_decay",
        type=float,
        default=d["weight_decay"],
        help="weight decay",
    )
    add_setting(
        optim,
        "--lr-milestones",
        key="lr_milestones",
        type=int,
        nargs="*",
        metavar="ITER",
        default=d["lr_milestones"],
        help="iterations at which the lr is multiplied by --lr-gamma",
    )
    add_setting(
        optim, "--lr-gamma", key="lr_gamma", type=float, default=d["lr_gamma"], help="lr decay factor"
    )
    add_setting(
        optim,
        "--grad-clip",
        key="grad_clip",
        type=field_parser(float | None)[0],
        default=d["grad_clip"],
        help="clip the gradients' total 2-norm to this value; 'none': no clipping",
    )

    nets = parser.add_argument_group("networks")
    add_setting(
        nets,
        "--encoder",
        key="encoder",
        type=_json_object,
        metavar="JSON",
        default=d["encoder"],
        help="keyword arguments of the GIN encoder, e.g. '{\"hidden_channels\": 64}'",
    )
    add_setting(
        nets,
        "--decoder",
        key="decoder",
        type=_json_object,
        metavar="JSON",
        default=d["decoder"],
        help="keyword arguments of the grammar-masked decoder",
    )
    add_setting(
        nets,
        "--decode-every",
        key="decode_interval",
        type=int,
        metavar="N",
        default=d["decode_interval"],
        help="log the greedy-decoding accuracy every N iterations; 0: never",
    )
    add_setting(
        nets,
        "--decode-samples",
        key="decode_samples",
        type=int,
        metavar="N",
        default=d["decode_samples"],
        help="cells decoded each time",
    )

    # fields of PretrainConfig without a flag above (added by the library later) still get one
    from gnnas.pretrain import PretrainConfig

    covered = {action.dest for action in parser._actions}  # argument groups add to it too
    hints = typing.get_type_hints(PretrainConfig)
    docs = field_docs(PretrainConfig)
    other = None
    for field in dataclasses.fields(PretrainConfig):
        if field.name in covered:
            continue
        other = other or parser.add_argument_group("other settings (fields of PretrainConfig)")
        kind, metavar = field_parser(hints.get(field.name, str))
        add_setting(
            other,
            "--" + field.name.replace("_", "-"),
            key=field.name,
            type=kind,
            metavar=metavar,
            default=d[field.name],
            help=docs.get(field.name, "see PretrainConfig"),
        )
    # the spellings of python -m gnnas.pretrain before it became this command, for one version
    for old, new in (("--output-dir", "--out"), ("--max-iterations", "--iterations"),
                     ("--checkpoint-interval", "--checkpoint-every"), ("--log-interval", "--log-every"),
                     ("--decode-interval", "--decode-every")):
        deprecated_flag(parser, old, new)
    deprecated_flag(parser, "--progress", "--no-progress", dest="progress", type=parse_bool, metavar="BOOL",
                    default=argparse.SUPPRESS)


def build_parser(prog: str = "gnnas pretrain") -> argparse.ArgumentParser:
    """The parser of ``gnnas pretrain``, also ``python -m gnnas.pretrain``'s.

    Args:
        prog (str, optional): the program name of the usage line. (default: :obj:`"gnnas pretrain"`)

    Returns:
        argparse.ArgumentParser: the parser; :func:`run` takes what it parses.
    """
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gnnas.pretrain``: parses the flags and runs :func:`run`.

    A user's mistake (a bad value, a folder holding another run, a damaged checkpoint) ends the
    command with one line on standard error and exit status 2 (``GNNAS_DEBUG=1`` shows the
    traceback), as ``gnnas pretrain`` does.

    Args:
        argv (Sequence[str], optional): the arguments. (default: :obj:`None`, ``sys.argv[1:]``)

    Returns:
        int: the exit status: 0 on success, 2 on a user mistake, 130 when interrupted.
    """
    parser = build_parser("python -m gnnas.pretrain")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted (--resume continues from the checkpoint)", file=sys.stderr,
              flush=True)
        return 130
    except (ValueError, OSError) as error:
        if os.environ.get("GNNAS_DEBUG"):
            raise
        if isinstance(error, OSError) and error.filename is not None and error.strerror:
            message = f"{error.strerror}: {os.fspath(error.filename)!r}"
        else:
            message = str(error) or type(error).__name__
        print(f"{parser.prog}: error: {message}", file=sys.stderr, flush=True)
        return 2


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Merges defaults, the config file and the flags into this command's settings.

    Args:
        args (argparse.Namespace): what :func:`build_parser`'s parser parsed.

    Returns:
        dict: the fields of :class:`~gnnas.pretrain.PretrainConfig` plus ``output_dir`` and
        ``num_anchors``.

    Raises:
        CLIError: on an unknown setting in the config file.
    """
    if args.resume and getattr(args, "config", None) is None and hasattr(args, "output_dir"):
        saved = Path(args.output_dir) / COMMAND_FILE
        if saved.is_file():
            load_json(saved)  # checks its checksum
            args.config = os.fspath(saved)
    settings = resolve_settings(args, _defaults())
    if settings["output_dir"] is None:
        settings["output_dir"] = os.path.join(
            "results", "pretrain", f"{settings['loss']}-seed{settings['seed']}"
        )
    return settings


def run(args: argparse.Namespace) -> int:
    """Runs the pretraining and prints its summary.

    Args:
        args (argparse.Namespace): what :func:`build_parser`'s parser parsed.

    Returns:
        int: the exit status, 0.

    Raises:
        CLIError: on a bad setting, or an output folder that holds another run (without
            ``--resume`` or ``--overwrite``) or one with other settings (with ``--resume``).
        ValueError: on settings out of range, or a damaged checkpoint (naming it).
    """
    from gnnas.pretrain import PretrainConfig, pretrain
    from gnnas.pretrain.checkpoint import CHECKPOINT_NAME, RUN_FILES, check_resumable, load_checkpoint

    settings = settings_from_args(args)
    set_threads(settings["threads"])
    values = {k: v for k, v in settings.items() if k not in ("output_dir", "num_anchors", "threads")}
    fields = {f.name for f in dataclasses.fields(PretrainConfig)}
    config = PretrainConfig.from_dict({k: v for k, v in values.items() if k in fields})
    num_anchors = settings["num_anchors"]
    out = Path(settings["output_dir"])
    resume, overwrite = bool(args.resume), bool(getattr(args, "overwrite", False))
    # command.json is not a sign of a run here: under torchrun another process may have written it
    found = [name for name in RUN_FILES if (out / name).exists()]
    check_output_dir(out, found, resume, overwrite)
    cells = None
    if num_anchors is not None:
        if isinstance(num_anchors, bool) or not isinstance(num_anchors, int) or num_anchors < 2:
            raise CLIError(f"--num-anchors must be an integer >= 2, got {num_anchors!r}")
    if resume:
        check_same_settings(out, settings, ignore=_RESUMABLE)
        if (out / CHECKPOINT_NAME).exists():  # the checkpoint's own settings, before anything is written
            check_resumable(load_checkpoint(out / CHECKPOINT_NAME), config,
                            int(os.environ.get("WORLD_SIZE", "1")))
    if num_anchors is not None:
        from gnnas.space import sample_cells

        cells = sample_cells(num_anchors, seed=config.seed)
    main_process = int(os.environ.get("RANK", "0")) == 0
    if main_process:
        if overwrite:
            remove_run_files(out, [COMMAND_FILE])
        save_command(out, NAME, settings, getattr(args, "argv", None), resume=resume)
    result = pretrain(config, cells=cells, output_dir=out, resume=resume, overwrite=overwrite)
    if main_process:
        summary = result.summary
        shown = ", ".join(
            f"{k} {summary[k]:.4g}"
            for k in ("loss", "recon_loss", "metric_loss", "token_acc", "cell_acc")
            if summary.get(k) is not None
        )
        print(
            f"pretrained {summary.get('iterations')} iterations with {config.loss}: {shown} "
            f"(mean of the last {summary.get('window')})"
        )
        print(f"controller: {out / 'controller.pt'}")
        print(f"results: {out}/ (command.json, config.json, log.jsonl, summary.json, checkpoint.pt)")
    return 0

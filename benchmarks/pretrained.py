"""The shipped pretrained controllers: the paper's Fig. 3 and their reconstruction, from what ships.

By default the script reads the nine controllers and training logs that ship with gnnas
(:mod:`gnnas.pretrain.shipped`) and writes, to ``--out``:

* ``fig3.png``: the paper's Fig. 3 for every shipped preset (reconstruction loss, metric loss,
  token and whole-cell accuracy against graphs seen, moving averages; greedy decoding as dots);
* ``pretrained.json``: per preset, its settings, training time, final figures and the
  reconstruction of 1,000 random cells of the space, plus a Markdown table of them.

It takes seconds. Maintainers recreate the shipped files with ``--train`` (the paper's full
pretraining of each ``--loss``, checkpointed in ``--runs``; run it again to resume) and ``--ship``
(copy finished runs into the package, measuring their reconstruction)::

    python benchmarks/pretrained.py
    python benchmarks/pretrained.py --train --ship --loss MarginLoss --runs results/pretrain-full
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from gnnas.analysis import pretraining_curves
from gnnas.analysis.plotting import PRETRAINING_PANELS
from gnnas.flags import DEFAULT_THREADS, deprecated_flag, plain
from gnnas.pretrain import (
    PRESET_NAMES,
    metric_loss_preset,
    pretrain,
    shipped_config,
    shipped_info,
    shipped_log,
    shipped_presets,
)
from gnnas.pretrain.shipped import write_shipped


def train(args: argparse.Namespace) -> None:
    """The paper's full pretraining of each preset in ``args.loss``, resumable, one after another."""
    for loss in args.loss:
        config = shipped_config(loss).replace(
            device=args.device, checkpoint_interval=args.checkpoint_interval,
            decode_interval=args.decode_interval, progress=not args.no_progress)
        started = time.perf_counter()
        print(f"{loss}: the paper's pretraining into {args.runs / loss}", flush=True)
        result = pretrain(config, output_dir=args.runs / loss, resume=True)
        print(f"{loss}: {len(result.history)} iterations, {time.perf_counter() - started:.0f} s in this "
              f"process; last token accuracy {result.history[-1]['token_acc']:.4f}", flush=True)


def ship(args: argparse.Namespace) -> None:
    """Copies the finished runs of ``args.loss`` into the package."""
    from gnnas.space import enumerate_cells

    space = enumerate_cells()
    for loss in args.loss:
        info = write_shipped(args.runs / loss, space=space, overwrite=args.overwrite)
        print(f"{loss}: shipped; reconstruction of {info['reconstruction']['cells']} random cells: "
              f"{info['reconstruction']}", flush=True)


def table(report: dict) -> str:
    """The reconstruction of each shipped controller as a Markdown table."""
    lines = ["| preset | batch | iterations | wall hours (1 thread, shared machine) | token acc. "
             "| cells exact (teacher forcing) | cells decoded exactly |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, run in report.items():
        rec = run["reconstruction"]
        lines.append(f"| {name} | {run['batch_size']} | {run['iterations']:,} | {run['seconds'] / 3600:.2f} "
                     f"| {rec['token_acc']:.4f} | {rec['cell_acc']:.1%} | {rec['decode_acc']:.1%} |")
    return "\n".join(lines)


def figures(args: argparse.Namespace) -> dict:
    """Fig. 3 and the reconstruction table of the shipped controllers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name in args.loss if name in shipped_presets()]
    if not names:
        raise SystemExit(f"none of {args.loss} is shipped; shipped: {list(shipped_presets())}")
    report, logs, batch_sizes = {}, {}, {}
    for name in names:
        info = shipped_info(name)
        logs[name] = shipped_log(name)
        batch_sizes[name] = metric_loss_preset(name).batch_size
        report[name] = {"batch_size": batch_sizes[name], "lambda_e": metric_loss_preset(name).lambda_e,
                        **{k: info[k] for k in ("config", "iterations", "seconds", "threads", "torch",
                                                "final", "reconstruction")}}
    figure, axes = plt.subplots(1, len(PRETRAINING_PANELS), figsize=(5 * len(PRETRAINING_PANELS), 4.2))
    pretraining_curves(axes, logs, batch_sizes, window_graphs=args.window)
    axes[0].legend(fontsize=7)
    figure.suptitle("The shipped pretraining runs (the paper's settings, seed 0): moving averages over "
                    f"{args.window:,} graphs; dots: greedy decoding of 64 cells of the batch "
                    "(cf. the paper's Fig. 3)")
    figure.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out / "fig3.png", dpi=110)
    plt.close(figure)
    result = {"config": {"window_graphs": args.window, "presets": names}, "presets": report,
              "table": table(report)}
    (args.out / "pretrained.json").write_text(json.dumps(result, indent=2) + "\n")
    print(result["table"])
    print(f"wrote {args.out / 'fig3.png'} and {args.out / 'pretrained.json'}")
    return result


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=plain(__doc__),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/pretrained"),
                        help="folder for fig3.png and pretrained.json (default: results/pretrained)")
    parser.add_argument("--loss", nargs="+", default=list(PRESET_NAMES), choices=PRESET_NAMES, metavar="LOSS",
                        help="presets (default: all nine)")
    parser.add_argument("--window", type=int, default=512 * 50,
                        help="smoothing window in graphs (default: 25600)")
    parser.add_argument("--train", action="store_true",
                        help="run the paper's full pretraining of each --loss (2 epochs; minutes to under an "
                             "hour per preset on one core)")
    parser.add_argument("--ship", action="store_true", help="copy finished runs into the package")
    parser.add_argument("--overwrite", action="store_true", help="with --ship: replace shipped presets")
    parser.add_argument("--runs", type=Path, default=Path("results/pretrain-full"),
                        help="folder of the --train runs, one subfolder per preset (default: "
                             "results/pretrain-full)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"torch threads (default: {DEFAULT_THREADS})")
    parser.add_argument("--device", default="cpu", help="with --train: cpu, cuda or auto (default: cpu)")
    parser.add_argument("--checkpoint-every", type=int, default=500, dest="checkpoint_interval",
                        help="with --train: iterations between checkpoints (default: 500)")
    parser.add_argument("--decode-every", type=int, default=250, dest="decode_interval",
                        help="with --train: iterations between greedy-decoding checks in the log "
                             "(default: 250)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    deprecated_flag(parser, "--checkpoint-interval", "--checkpoint-every")
    deprecated_flag(parser, "--decode-interval", "--decode-every")
    return parser


def main(argv: list[str] | None = None) -> dict | None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.train:
        train(args)
    if args.ship:
        ship(args)
    if args.train or args.ship:
        return None
    return figures(args)


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

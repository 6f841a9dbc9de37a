"""Pretraining benchmark: training throughput, and the paper's Fig. 3 (MarginLoss vs NoMetricLoss).

1. **Throughput** in cells per second with the default networks, for each preset of
   ``--throughput-loss`` (all nine by default) at batch 512 and, with ``--preset-batch`` (the
   default), at the preset's own batch (AngularLoss 256, LiftedStructureLoss 64): the training
   step alone (forward, metric loss, backward, SGD step on batches made beforehand) and end to end
   (the locality dataset making the positives in the training process, as ``pretrain`` does by
   default), in wall-clock time and in the training process's CPU time (which other jobs on a
   shared machine disturb far less). The presets are measured in ``--throughput-rounds``
   interleaved rounds and each one's median is printed with its ratio to NoMetricLoss's, measured
   in the same run.
   ``--profile`` first prints the CPU time of each stage of an iteration (positives, collation,
   encoder, decoder, reconstruction loss, mining, metric loss, backward, optimizer) per preset.
2. **Fig. 3**: reconstruction loss, token accuracy and whole-cell accuracy per iteration for
   MarginLoss and NoMetricLoss, then, for each trained controller, the reconstruction of
   ``--eval-cells`` cells drawn from the whole space: token accuracy and exact-cell share under
   teacher forcing, and the share of cells that greedy decoding of their embedding gives back.

The default is short (a few minutes on 2 cores); ``--iterations 10000`` gives the paper's Fig. 3
and ``--full`` the paper's whole pretraining (2 epochs over the 423,624 anchors, 13,238
iterations). Writes ``pretrain.json`` (figures, full configuration, seed), ``fig3.png`` and the
runs' folders (config, log, checkpoint, controller) to ``--out``.

    python benchmarks/pretrain.py
    python benchmarks/pretrain.py --skip-curves --profile        # throughput and profile of all nine
    python benchmarks/pretrain.py --iterations 10000 --skip-throughput
    python benchmarks/pretrain.py --full --skip-throughput
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from gnnas.datasets import LocalityDataset
from gnnas.flags import DEFAULT_THREADS, deprecated_flag, plain
from gnnas.nn import NAOController
from gnnas.pretrain import NO_METRIC_LOSS, PRESET_NAMES, PretrainConfig, metric_loss_preset, pretrain
from gnnas.pretrain.config import OPTIMIZERS
from gnnas.space import enumerate_cells


class PrebuiltBatches(torch.utils.data.IterableDataset):
    """Cycles through batches made beforehand, so that a run times the training step alone."""

    def __init__(self, batches: list, num_batches: int) -> None:
        super().__init__()
        self.batches, self.num_batches, self.start_batch, self.epoch = batches, num_batches, 0, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        for index in range(self.start_batch, self.num_batches):
            yield self.batches[index % len(self.batches)]


def network_sizes(controller: NAOController) -> dict:
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    return {"config": controller.get_config(), "parameters": {
        "encoder": count(controller.encoder), "decoder": count(controller.decoder),
        "predictor": count(controller.predictor)}}


def rate(history: list[dict], warmup: int, batch_size: int) -> float:
    """Cells per second over the iterations after ``warmup``."""
    seconds = history[-1]["elapsed"] - history[warmup - 1]["elapsed"]
    return (len(history) - warmup) * batch_size / seconds


def measured_batch_sizes(args: argparse.Namespace) -> dict[str, list[int]]:
    """The batch sizes each loss is measured at: 512, and with ``--preset-batch`` the preset's own
    (NoMetricLoss then also at every such size, as the reference for the same batch)."""
    sizes = {loss: [512] for loss in args.throughput_losses}
    if args.preset_batch:
        own = {loss: metric_loss_preset(loss).batch_size for loss in args.throughput_losses}
        for loss, size in own.items():
            if size != 512:
                sizes[loss].append(size)
                if NO_METRIC_LOSS in sizes and size not in sizes[NO_METRIC_LOSS]:
                    sizes[NO_METRIC_LOSS].append(size)
    return sizes


class Timed(torch.utils.data.IterableDataset):
    """Wraps a dataset and notes this process's CPU time whenever it hands out a batch.

    With ``num_workers=0`` the batches are made in the training process, so the CPU time between
    two batches is one whole iteration (the step, then making the next batch): figures that the
    other jobs on a shared machine disturb far less than wall-clock time.
    """

    def __init__(self, dataset) -> None:
        super().__init__()
        object.__setattr__(self, "dataset", dataset)
        object.__setattr__(self, "cpu", [])

    def __getattr__(self, name):
        return getattr(self.dataset, name)

    def __setattr__(self, name, value):
        setattr(self.dataset, name, value)

    def __iter__(self):
        for batch in self.dataset:
            self.cpu.append(time.process_time())
            yield batch


def cpu_rate(stamps: list[float], warmup: int, batch_size: int) -> float:
    """Cells per CPU second over the iterations after ``warmup``."""
    return (len(stamps) - warmup) * batch_size / (stamps[-1] - stamps[warmup - 1])


def throughput(args: argparse.Namespace, space) -> dict:
    """Cells/s of every loss, the training step alone and end to end (the positives made in the
    training process), in wall-clock and CPU time, in ``--throughput-rounds`` interleaved rounds
    (medians reported), with each one's ratio to NoMetricLoss's measured in the same run."""
    warmup = 3
    sizes = measured_batch_sizes(args)
    made = time.perf_counter()
    prebuilt = {512: [LocalityDataset(space, seed=args.seed).make_batch(i) for i in range(8)]}
    results: dict = {"dataset_cells_per_s": 8 * 512 / (time.perf_counter() - made), "warmup": warmup,
                     "iterations": args.throughput_iterations, "rounds": args.throughput_rounds, "runs": {}}
    for size in {b for batch_sizes in sizes.values() for b in batch_sizes} - set(prebuilt):
        dataset = LocalityDataset(space, seed=args.seed, classes_per_batch=size // 8)
        prebuilt[size] = [dataset.make_batch(i) for i in range(8)]
    runs = results["runs"]
    for round_index in range(args.throughput_rounds):
        for loss in args.throughput_losses:
            for batch_size in sizes[loss]:
                config = PretrainConfig(loss=loss, batch_size=batch_size, seed=args.seed, device=args.device,
                                        max_iterations=args.throughput_iterations, progress=False)
                prebuilt_batches = Timed(PrebuiltBatches(prebuilt[batch_size], 10**6))
                step = pretrain(config, dataset=prebuilt_batches)
                made_here = Timed(LocalityDataset(space, classes_per_batch=batch_size // 8, seed=args.seed))
                end_to_end = pretrain(config, dataset=made_here)
                run = runs.setdefault(f"{loss}@{batch_size}",
                                      {"loss": loss, "batch_size": batch_size, "tuples": []})
                measured = (("step", step, prebuilt_batches), ("end_to_end", end_to_end, made_here))
                for key, result, dataset in measured:
                    run.setdefault(key, []).append(rate(result.history, warmup, batch_size))
                    run.setdefault(f"{key}_cpu", []).append(cpu_rate(dataset.cpu, warmup, batch_size))
                run["tuples"].append(float(np.mean([r["num_tuples"] or 0 for r in end_to_end.history])))
                print(f"round {round_index + 1}: {loss} at batch {batch_size}: step {run['step'][-1]:.0f} "
                      f"({run['step_cpu'][-1]:.0f} per CPU s), end to end {run['end_to_end'][-1]:.0f} "
                      f"({run['end_to_end_cpu'][-1]:.0f} per CPU s) cells/s", flush=True)
    for run in runs.values():
        for key in ("step", "step_cpu", "end_to_end", "end_to_end_cpu"):
            run[f"{key}_median"] = float(np.median(run[key]))
    for run in runs.values():
        for name, reference in (("512", runs.get(f"{NO_METRIC_LOSS}@512")),
                                ("same_batch", runs.get(f"{NO_METRIC_LOSS}@{run['batch_size']}"))):
            for key in ("end_to_end", "end_to_end_cpu"):
                run[f"ratio_{name}_{key}"] = (run[f"{key}_median"] / reference[f"{key}_median"]
                                              if reference else None)
    results["table"] = throughput_table(runs)
    print(results["table"], flush=True)
    return results


def throughput_table(runs: dict) -> str:
    """The throughput results as a Markdown table."""
    def ratio(value):
        return "–" if value is None else f"{value:.2f}"

    lines = ["| preset | batch | step alone: cells/s, per CPU s | end to end: cells/s, per CPU s "
             "| end to end ÷ NoMetricLoss at 512: wall, CPU | ÷ NoMetricLoss at the same batch: wall, CPU "
             "| mined tuples per batch |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for run in runs.values():
        lines.append(
            f"| {run['loss']} | {run['batch_size']} "
            f"| {run['step_median']:,.0f}, {run['step_cpu_median']:,.0f} "
            f"| {run['end_to_end_median']:,.0f}, {run['end_to_end_cpu_median']:,.0f} "
            f"| {ratio(run['ratio_512_end_to_end'])}, {ratio(run['ratio_512_end_to_end_cpu'])} "
            f"| {ratio(run['ratio_same_batch_end_to_end'])}, {ratio(run['ratio_same_batch_end_to_end_cpu'])} "
            f"| {np.mean(run['tuples']):,.0f} |")
    return "\n".join(lines)


def original_metric_loss(name: str) -> tuple:
    """pytorch-metric-learning's own loss and miner for a preset (what the presets' drop-ins replace)."""
    from pytorch_metric_learning import losses, miners

    semihard = {"type_of_triplets": "semihard"}
    made = {
        "AngularLoss": (losses.AngularLoss(alpha=45), miners.AngularMiner(angle=20)),
        "ContrastiveLoss": (losses.ContrastiveLoss(pos_margin=0, neg_margin=0),
                            miners.TripletMarginMiner(margin=0.1, **semihard)),
        "GeneralizedLiftedStructureLoss": (losses.GeneralizedLiftedStructureLoss(pos_margin=0, neg_margin=1),
                                           miners.TripletMarginMiner(margin=0.1, **semihard)),
        "LiftedStructureLoss": (losses.LiftedStructureLoss(pos_margin=0, neg_margin=1),
                                miners.TripletMarginMiner(margin=0.1, **semihard)),
        "MarginLoss": (losses.MarginLoss(margin=0.2, nu=0, beta=1.2, learn_beta=False),
                       miners.TripletMarginMiner(margin=0.2, **semihard)),
        "MultiSimilarityLoss": (losses.MultiSimilarityLoss(alpha=2, beta=30, base=1.0),
                                miners.AngularMiner(angle=20)),
        "NPairsLoss": (losses.NPairsLoss(), miners.AngularMiner(angle=20)),
        "TripletMarginLoss": (losses.TripletMarginLoss(margin=0.1),
                              miners.TripletMarginMiner(margin=0.1, **semihard)),
    }
    return made.get(name, (None, None))


STAGES = ("positives", "collation", "encoder", "decoder", "reconstruction loss", "mining", "metric loss",
          "backward", "optimizer")


def profile_step(loss: str, batch_size: int, space, iterations: int, seed: int,
                 original: bool = False) -> dict:
    """CPU milliseconds of each stage of a training iteration, medians over ``iterations``.

    The stages of :func:`gnnas.pretrain.trainer._step` timed one by one on a fresh controller
    (SGD, lr 1.0, the first iterations): the locality dataset making the positives and collating
    them, the encoder, the decoder (teacher forced), the reconstruction loss, the miner, the
    metric loss, the backward pass and the optimizer step. ``original`` times
    pytorch-metric-learning's own miner and loss instead of the preset's drop-ins.
    """
    from gnnas.datasets import locality
    from gnnas.pretrain.trainer import reconstruction_metrics

    preset = metric_loss_preset(loss)
    dataset = LocalityDataset(space, seed=seed, classes_per_batch=batch_size // 8)
    torch.manual_seed(seed)
    controller = NAOController()
    controller.train()
    metric_loss, miner = original_metric_loss(loss) if original else preset.build()
    trained = [p for name, p in controller.named_parameters() if not name.startswith("predictor")]
    optimizer = torch.optim.SGD(trained, lr=1.0)
    collate, collation = locality.collate_cells, []

    def timed_collate(*a, **k):
        started = time.process_time()
        out = collate(*a, **k)
        collation.append(time.process_time() - started)
        return out

    times: dict[str, list[float]] = {stage: [] for stage in STAGES}
    tuples = []
    locality.collate_cells = timed_collate
    try:
        for index in range(iterations + 2):
            clock = [time.process_time()]
            batch = dataset.make_batch(index)
            clock.append(time.process_time())
            z = controller.encode(batch)
            clock.append(time.process_time())
            log_probs = controller.decoder(z, batch.tokens)
            clock.append(time.process_time())
            loss_value = reconstruction_metrics(log_probs, batch.tokens)[0]
            clock.append(time.process_time())
            indices_tuple = miner(z, batch.label) if miner is not None else None
            clock.append(time.process_time())
            if metric_loss is not None:
                loss_value = loss_value + preset.lambda_e * metric_loss(z, batch.label, indices_tuple)
            clock.append(time.process_time())
            optimizer.zero_grad(set_to_none=True)
            loss_value.backward()
            clock.append(time.process_time())
            optimizer.step()
            clock.append(time.process_time())
            if index < 2:
                continue  # warm-up
            spans = np.diff(clock) * 1000
            data = spans[0] - collation[-1] * 1000
            for stage, value in zip(STAGES, [data, collation[-1] * 1000, *spans[1:]], strict=True):
                times[stage].append(float(value))
            tuples.append(len(indices_tuple[0]) if indices_tuple is not None else 0)
    finally:
        locality.collate_cells = collate
    medians = {stage: float(np.median(values)) for stage, values in times.items()}
    total = sum(medians.values())
    return {"loss": loss, "batch_size": batch_size, "original": original, "ms": medians, "total_ms": total,
            "cells_per_cpu_s": batch_size / total * 1000, "mined_tuples": float(np.mean(tuples))}


def profile(args: argparse.Namespace, space) -> list[dict]:
    """The stage breakdown of every loss of ``--throughput-loss`` at 512 and its preset's batch."""
    rows = []
    for loss, batch_sizes in measured_batch_sizes(args).items():
        for batch_size in batch_sizes:
            too_big = loss == "LiftedStructureLoss" or (loss == "AngularLoss" and batch_size > 256)
            if args.original and too_big:
                continue  # the originals' (T, T) and (T, B) matrices: gigabytes for T ~ 10^4 and 5 x 10^5
            rows.append(profile_step(loss, batch_size, space, args.profile_iterations, args.seed,
                                     original=args.original))
    reference = {row["batch_size"]: row for row in rows if row["loss"] == NO_METRIC_LOSS}
    lines = ["| preset | batch | " + " | ".join(STAGES) + " | total ms | cells per CPU s | × NoMetricLoss "
             "at 512 | mined tuples |", "| --- | ---: |" + " ---: |" * (len(STAGES) + 4)]
    for row in rows:
        ratio = row["cells_per_cpu_s"] / reference[512]["cells_per_cpu_s"] if 512 in reference else None
        row["ratio_to_no_metric_512"] = ratio
        lines.append(f"| {row['loss']} | {row['batch_size']} | "
                     + " | ".join(f"{row['ms'][stage]:.1f}" for stage in STAGES)
                     + f" | {row['total_ms']:.1f} | {row['cells_per_cpu_s']:,.0f} | "
                     + ("" if ratio is None else f"{ratio:.2f}") + f" | {row['mined_tuples']:,.0f} |")
    print("\n".join(lines), flush=True)
    return rows


@torch.no_grad()
def evaluate(controller: NAOController, space, num_cells: int, seed: int) -> dict:
    """Reconstruction of random cells of the space by a trained controller."""
    from gnnas.nn import cells_to_batch
    from gnnas.pretrain.trainer import reconstruction_metrics

    controller.eval()
    cells = space.sample(num_cells, seed=seed + 1)
    tokens_right = cells_right = decoded_right = 0
    for start in range(0, num_cells, 512):
        chunk = cells[start:start + 512]
        batch = cells_to_batch(chunk).to(next(controller.parameters()).device)
        z = controller.encode(batch)
        _, tok, cel = reconstruction_metrics(controller.decoder(z, batch.tokens), batch.tokens)
        tokens_right += int(tok)
        cells_right += int(cel)
        decoded_right += sum(int(a == b) for a, b in zip(controller.decode(z), chunk, strict=True))
    return {"cells": num_cells, "token_acc": tokens_right / (27 * num_cells),
            "cell_acc": cells_right / num_cells, "greedy_decode_acc": decoded_right / num_cells}


def curves(args: argparse.Namespace, space, output: Path) -> dict:
    results = {}
    for loss in args.losses:
        config = PretrainConfig(
            loss=loss, seed=args.seed, device=args.device, num_workers=args.num_workers,
            optimizer=args.optimizer, lr=args.lr, lr_milestones=args.lr_milestones,
            max_iterations=None if args.full else args.iterations, epochs=2,
            checkpoint_interval=args.checkpoint_interval, decode_interval=args.decode_interval,
            log_interval=10, progress=not args.no_progress)
        started = time.perf_counter()
        result = pretrain(config, cells=space, output_dir=output / loss, resume=args.resume)
        seconds = time.perf_counter() - started
        results[loss] = {
            "config": config.to_dict(), "seconds": seconds, "iterations": len(result.history),
            "summary": result.summary,
            "eval": evaluate(result.controller, space, args.eval_cells, args.seed),
            "curve": {key: [r[key] for r in result.history]
                      for key in ("recon_loss", "token_acc", "cell_acc", "metric_loss", "num_tuples")},
        }
        print(f"{loss}: {len(result.history)} iterations in {seconds:.0f} s; last-50 token acc "
              f"{result.summary['token_acc']:.4f}, cell acc {result.summary['cell_acc']:.4f}; eval "
              f"{results[loss]['eval']}", flush=True)
    return results


def smooth(values: list[float], window: int) -> tuple[np.ndarray, np.ndarray]:
    """Moving average over ``window`` iterations: ``(iteration at the window's end, mean)``."""
    values = np.asarray(values, dtype=float)
    window = max(1, min(window, len(values)))
    means = np.convolve(values, np.ones(window) / window, mode="valid")
    return np.arange(window, len(values) + 1), means


def plot(results: dict, path: Path, window: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [("recon_loss", "reconstruction loss (NLL per token)"), ("token_acc", "token accuracy"),
            ("cell_acc", "cells reconstructed exactly")]
    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    for axis, (key, title) in zip(axes, keys, strict=True):
        for loss, run in results.items():
            axis.plot(*smooth(run["curve"][key], window), label=loss)
        axis.set_title(title)
        axis.set_xlabel("iteration (batch 512)")
        if key == "recon_loss":
            axis.set_yscale("log")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(f"Pretraining, teacher forcing, moving average over {window} iterations "
                    "(cf. the paper's Fig. 3)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=plain(__doc__),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/pretrain", dest="output_dir",
                        help="output folder: pretrain.json, fig3.png and the runs (default: "
                             "results/pretrain)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the runs (default: 0)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"torch threads; two collapse when other jobs share the cores (default: "
                             f"{DEFAULT_THREADS})")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when available), cpu or cuda (default: auto)")
    parser.add_argument("--num-workers", type=int, default=1,
                        help="DataLoader workers making the positives of the Fig. 3 runs (default: 1)")
    parser.add_argument("--throughput-loss", nargs="*", default=list(PRESET_NAMES), dest="throughput_losses",
                        metavar="LOSS", help="presets whose throughput is measured (default: all nine; "
                                             "NoMetricLoss gives the ratios)")
    parser.add_argument("--throughput-iterations", type=int, default=20,
                        help="timed iterations per preset and round (default: 20)")
    parser.add_argument("--throughput-rounds", type=int, default=2,
                        help="interleaved rounds over the presets; the medians are reported (default: 2)")
    parser.add_argument("--preset-batch", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure AngularLoss (256) and LiftedStructureLoss (64) at their own batch")
    parser.add_argument("--skip-throughput", action="store_true", help="do not measure the throughput")
    parser.add_argument("--profile", action="store_true",
                        help="print the CPU time of each stage of an iteration, per preset")
    parser.add_argument("--profile-iterations", type=int, default=6,
                        help="iterations profiled per preset (default: 6)")
    parser.add_argument("--original", action="store_true",
                        help="profile pytorch-metric-learning's own miners and losses, not the drop-ins")
    parser.add_argument("--loss", nargs="*", default=["MarginLoss", "NoMetricLoss"], dest="losses",
                        metavar="LOSS", help="presets of the Fig. 3 runs (default: MarginLoss NoMetricLoss)")
    parser.add_argument("--iterations", type=int, default=300,
                        help="iterations per Fig. 3 run (default: 300; the paper's Fig. 3: 10000)")
    parser.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS,
                        help="optimizer of the Fig. 3 runs (default: sgd, the paper's)")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (default: 1.0, the paper's)")
    parser.add_argument("--lr-milestones", type=int, nargs="*", default=[6000],
                        help="iterations of the x0.2 decay (default: 6000, the paper's)")
    parser.add_argument("--full", action="store_true", help="the paper's 2 epochs (13,238 iterations)")
    parser.add_argument("--skip-curves", action="store_true", help="do not run Fig. 3")
    parser.add_argument("--eval-cells", type=int, default=2048,
                        help="cells whose reconstruction is measured after each run (default: 2048)")
    parser.add_argument("--decode-every", type=int, default=0, dest="decode_interval",
                        help="iterations between greedy-decoding checks in the log; 0: never (default: 0)")
    parser.add_argument("--checkpoint-every", type=int, default=1000, dest="checkpoint_interval",
                        help="iterations between checkpoints; 0: only the final one (default: 1000)")
    parser.add_argument("--resume", action="store_true", help="continue the runs in the output folder")
    parser.add_argument("--smooth", type=int, default=20,
                        help="moving-average window of the plotted curves, in iterations (default: 20)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    deprecated_flag(parser, "--output-dir", "--out")
    deprecated_flag(parser, "--losses", "--loss")
    deprecated_flag(parser, "--throughput-losses", "--throughput-loss")
    deprecated_flag(parser, "--decode-interval", "--decode-every")
    deprecated_flag(parser, "--checkpoint-interval", "--checkpoint-every")
    return parser


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)

    torch.set_num_threads(args.threads)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    space = enumerate_cells()
    controller = NAOController()
    report: dict = {
        "arguments": vars(args), "seed": args.seed, "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None},
        "networks": network_sizes(controller), "anchors": len(space),
    }
    if args.profile:
        report["profile"] = profile(args, space)
    if not args.skip_throughput:
        report["throughput"] = throughput(args, space)
    if not args.skip_curves:
        report["fig3"] = curves(args, space, output)
        plot(report["fig3"], output / "fig3.png", args.smooth)
    (output / "pretrain.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {output / 'pretrain.json'}")
    return report


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

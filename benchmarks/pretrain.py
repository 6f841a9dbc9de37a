"""Pretraining benchmark: training throughput, and the paper's Fig. 3 (MarginLoss vs NoMetricLoss).

1. **Throughput** in cells per second at batch 512 with the default networks, for each loss of
   ``--throughput-losses``: the training step alone (forward, metric loss, backward, SGD step on
   batches made beforehand) and end to end (the locality dataset making the positives in the same
   process, or in ``--num-workers`` DataLoader workers).
2. **Fig. 3**: reconstruction loss, token accuracy and whole-cell accuracy per iteration for
   MarginLoss and NoMetricLoss, then, for each trained controller, the reconstruction of
   ``--eval-cells`` cells drawn from the whole space: token accuracy and exact-cell share under
   teacher forcing, and the share of cells that greedy decoding of their embedding gives back.

The default is short (a few minutes on 2 cores); ``--iterations 10000`` gives the paper's Fig. 3
and ``--full`` the paper's whole pretraining (2 epochs over the 423,624 anchors, 13,238
iterations). Writes ``pretrain.json`` (figures, full configuration, seed), ``fig3.png`` and the
runs' folders (config, log, checkpoint, controller) to ``--output-dir``.

    python benchmarks/pretrain.py
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
from gnnas.nn import NAOController
from gnnas.pretrain import PretrainConfig, pretrain
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


def throughput(args: argparse.Namespace, space) -> dict:
    results = {}
    warmup = 3
    dataset = LocalityDataset(space, seed=args.seed)
    made = time.perf_counter()
    batches = [dataset.make_batch(i) for i in range(8)]
    data_rate = 8 * 512 / (time.perf_counter() - made)
    results["dataset_cells_per_s"] = data_rate
    for loss in args.throughput_losses:
        config = PretrainConfig(loss=loss, batch_size=512, max_iterations=args.throughput_iterations,
                                seed=args.seed, device=args.device, progress=False)
        step = pretrain(config, dataset=PrebuiltBatches(batches, 10**6))
        end_to_end = pretrain(config.replace(num_workers=args.num_workers), cells=space)
        results[loss] = {
            "step_cells_per_s": rate(step.history, warmup, 512),
            "end_to_end_cells_per_s": rate(end_to_end.history, warmup, 512),
            "mean_tuples": float(np.mean([r["num_tuples"] or 0 for r in step.history])),
            "iterations": args.throughput_iterations, "warmup": warmup, "num_workers": args.num_workers,
        }
        print(f"{loss}: step {results[loss]['step_cells_per_s']:.0f} cells/s, end to end "
              f"{results[loss]['end_to_end_cells_per_s']:.0f} cells/s "
              f"(mean mined tuples {results[loss]['mean_tuples']:.0f})", flush=True)
    return results


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


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", default="results/pretrain")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default: 1; 2 threads collapse when other jobs share the cores)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--num-workers", type=int, default=1, help="DataLoader workers making the positives")
    parser.add_argument("--throughput-losses", nargs="*", default=["NoMetricLoss", "MarginLoss"])
    parser.add_argument("--throughput-iterations", type=int, default=20)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--losses", nargs="*", default=["MarginLoss", "NoMetricLoss"])
    parser.add_argument("--iterations", type=int, default=300, help="iterations per run (paper: 10000)")
    parser.add_argument("--optimizer", default="sgd", help="sgd (the paper's), adam or adamw")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (the paper's: 1.0)")
    parser.add_argument("--lr-milestones", type=int, nargs="*", default=[6000],
                        help="iterations of the x0.2 decay (the paper's: 6000)")
    parser.add_argument("--full", action="store_true", help="the paper's 2 epochs (13,238 iterations)")
    parser.add_argument("--skip-curves", action="store_true")
    parser.add_argument("--eval-cells", type=int, default=2048)
    parser.add_argument("--decode-interval", type=int, default=0)
    parser.add_argument("--checkpoint-interval", type=int, default=1000)
    parser.add_argument("--resume", action="store_true", help="continue the runs in the output folder")
    parser.add_argument("--smooth", type=int, default=20)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

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
    if not args.skip_throughput:
        report["throughput"] = throughput(args, space)
    if not args.skip_curves:
        report["fig3"] = curves(args, space, output)
        plot(report["fig3"], output / "fig3.png", args.smooth)
    (output / "pretrain.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {output / 'pretrain.json'}")
    return report


if __name__ == "__main__":
    main()

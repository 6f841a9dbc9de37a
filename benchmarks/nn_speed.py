"""Training speed of the networks and validity of masked decoding.

Measures, for the default :class:`~gnnas.NAOController` (or the sizes given on the command line):

- forward + backward + SGD step throughput of encoder + decoder (the reconstruction loss, as in
  pretraining) in cells per second at a given batch size, for 1 and 2 intra-op threads, on a batch
  collated beforehand (collation is timed separately);
- the share of valid cells when decoding: random embeddings N(0, I), the same scaled by 100,
  random unit vectors, and embeddings of random cells moved by NAO's gradient step
  (:meth:`~gnnas.NAOController.generate`, step sizes 1 .. 100), for the untrained controller and
  after a short reconstruction training.

Writes ``results.json`` and ``speed.png`` to the output folder.

    python benchmarks/nn_speed.py
    python benchmarks/nn_speed.py --decode 100000 --hidden 128 --embedding 64
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from gnnas import ArchSpec, NAOController
from gnnas.flags import deprecated_flag, plain
from gnnas.nn import cells_to_batch
from gnnas.space import INTERIOR_OPS


def random_cells(count: int, rng: np.random.Generator) -> list[ArchSpec]:
    cells: list[ArchSpec] = []
    while len(cells) < count:
        size = int(rng.integers(3, 8))
        matrix = np.triu(rng.random((size, size)) < rng.uniform(0.2, 0.6), k=1).astype(np.uint8)
        ops = ["input", *rng.choice(INTERIOR_OPS, size - 2).tolist(), "output"]
        try:
            cells.append(ArchSpec(matrix, ops))
        except ValueError:
            continue
    return cells


def throughput(controller: NAOController, batch, threads: int, repeats: int) -> float:
    torch.set_num_threads(threads)
    optimizer = torch.optim.SGD(controller.parameters(), lr=0.01)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        loss = controller.reconstruction_loss(controller.encode(batch), batch.tokens)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return batch.num_graphs / float(np.median(times[1:]))


def valid_share(tokens: torch.Tensor) -> tuple[float, list[ArchSpec]]:
    cells, valid = [], 0
    for row in tokens.tolist():
        try:
            cells.append(ArchSpec.from_tokens(row))
            valid += 1
        except ValueError:
            pass
    return valid / len(tokens), cells


def decoding_checks(controller: NAOController, count: int, seeds: list[ArchSpec], seed: int) -> dict:
    generator = torch.Generator().manual_seed(seed)
    dim = controller.decoder.in_channels
    normal = torch.randn(count, dim, generator=generator)
    cases = {
        "normal": normal,
        "normal_x100": normal * 100.0,
        "unit_sphere": torch.nn.functional.normalize(normal, dim=1),
    }
    controller.eval()
    out = {}
    for name, z in cases.items():
        share, cells = valid_share(controller.decoder.decode(z))
        out[name] = {"count": count, "valid_share": share, "distinct_cells": len(set(cells))}
    moved_total, moved_valid, distinct = 0, 0, set()
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0):
        with torch.no_grad():
            z = controller.encode(cells_to_batch(seeds))
        tokens = controller.decoder.decode(controller.move(z, step))
        share, cells = valid_share(tokens)
        moved_total += len(tokens)
        moved_valid += round(share * len(tokens))
        distinct |= set(cells) - set(seeds)
    out["gradient_moved"] = {"count": moved_total, "valid_share": moved_valid / moved_total,
                             "new_distinct_cells": len(distinct)}
    controller.train()
    return out


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=plain(__doc__),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=512, help="cells per batch (default: 512)")
    parser.add_argument("--repeats", type=int, default=10, help="timed iterations per setting (default: 10)")
    parser.add_argument("--thread-counts", type=int, nargs="+", default=[1, 2],
                        help="torch thread counts whose throughput is measured (default: 1 2)")
    parser.add_argument("--embedding", type=int, default=None,
                        help="embedding size (default: the controller's)")
    parser.add_argument("--hidden", type=int, default=None, help="encoder hidden channels")
    parser.add_argument("--decoder-hidden", type=int, default=None,
                        help="decoder hidden channels (default: the controller's)")
    parser.add_argument("--backbone", choices=["made", "gru", "lstm"], default=None,
                        help="decoder backbone (default: the controller's)")
    parser.add_argument("--decode", type=int, default=10000, help="random embeddings decoded per case")
    parser.add_argument("--train-iterations", type=int, default=300,
                        help="short reconstruction training before the second decoding check")
    parser.add_argument("--seed", type=int, default=0, help="seed of the cells and networks (default: 0)")
    parser.add_argument("--out", type=Path, default=Path("results/nn_speed"),
                        help="output folder (default: results/nn_speed)")
    deprecated_flag(parser, "--threads", "--thread-counts")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    kwargs: dict = {"encoder_kwargs": {}, "decoder_kwargs": {}}
    if args.embedding:
        kwargs["embedding_channels"] = args.embedding
    if args.hidden:
        kwargs["encoder_kwargs"]["hidden_channels"] = args.hidden
    if args.decoder_hidden:
        kwargs["decoder_kwargs"]["hidden_channels"] = args.decoder_hidden
    if args.backbone:
        kwargs["decoder_kwargs"]["backbone"] = args.backbone
    controller = NAOController(**kwargs)
    cells = random_cells(args.batch_size, rng)
    start = time.perf_counter()
    batch = cells_to_batch(cells)
    collate_seconds = time.perf_counter() - start

    speed = {str(t): throughput(controller, batch, t, args.repeats) for t in args.thread_counts}
    for threads, value in speed.items():
        print(f"forward+backward+step, batch {args.batch_size}, {threads} thread(s): {value:,.0f} cells/s")
    print(f"cells_to_batch of {args.batch_size} cells: {collate_seconds * 1000:.0f} ms")
    torch.set_num_threads(1)

    seeds = random_cells(128, rng)
    untrained = decoding_checks(controller, args.decode, seeds, args.seed)
    print("untrained:", json.dumps(untrained))
    optimizer = torch.optim.Adam(controller.parameters(), lr=3e-3)
    pool = random_cells(5000, rng)
    for _ in range(args.train_iterations):
        index = rng.choice(len(pool), size=256, replace=False)
        train_batch = cells_to_batch([pool[i] for i in index])
        loss = controller(train_batch)["nll"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    trained = decoding_checks(controller, args.decode, seeds, args.seed + 1)
    print(f"after {args.train_iterations} iterations (nll {loss.item():.3f}):", json.dumps(trained))

    args.out.mkdir(parents=True, exist_ok=True)
    config = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    results = {
        "config": config, "controller": controller.get_config(), "machine": platform.platform(),
        "cells_per_second": speed, "collate_seconds": collate_seconds,
        "decoding_untrained": untrained, "decoding_trained": trained, "final_nll": loss.item(),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].bar([f"{t} thread(s)" for t in speed], list(speed.values()))
    axes[0].axhline(5000, color="gray", linestyle="--", label="target 5,000 cells/s")
    axes[0].set(ylabel=f"cells/s (forward+backward, batch {args.batch_size})")
    axes[0].legend()
    names = list(untrained)
    width = 0.4
    x = np.arange(len(names))
    axes[1].bar(x - width / 2, [untrained[n]["valid_share"] for n in names], width, label="untrained")
    axes[1].bar(x + width / 2, [trained[n]["valid_share"] for n in names], width, label="trained")
    axes[1].set_xticks(x, names, rotation=15)
    axes[1].set(ylabel="share of valid decoded cells", ylim=(0, 1.05))
    axes[1].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out / "speed.png", dpi=120)
    print(f"wrote {args.out / 'results.json'} and {args.out / 'speed.png'}")


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

"""Compare encoder and decoder variants by how well a short autoencoder training reconstructs cells.

Trains the encoder and decoder of an :class:`~gnnas.NAOController` on the reconstruction loss alone
(Adam) on cells of a NAS-Bench-101 table (by default the 30,001-cell sample bundled with gnnas,
the cells of ``nb101_subset_30k.csv``), for each variant for the same number of iterations,
then reports on held-out cells the token accuracy (greedy masked decoding vs the target sequence),
the share of cells decoded to the exact token sequence, and the share decoded to the same cell up
to isomorphism (same official hash). Writes ``results.json`` and ``reconstruction.png``.

    python benchmarks/nn_reconstruction.py                       # all variants, 1,000 iterations each
    python benchmarks/nn_reconstruction.py --variants both undirected --iterations 300
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Batch

from gnnas import ArchSpec, NAOController, NASBench101
from gnnas.flags import DEFAULT_THREADS, deprecated_flag, plain
from gnnas.nn import cell_to_data, cells_to_batch

VARIANTS = {
    "default": {},
    "forward": {"encoder_kwargs": {"direction": "forward"}},
    "reverse": {"encoder_kwargs": {"direction": "reverse"}},
    "undirected": {"encoder_kwargs": {"direction": "undirected"}},
    "mean-pooling": {"encoder_kwargs": {"pooling": "mean"}},
    "sum-pooling": {"encoder_kwargs": {"pooling": "sum"}},
    "invariant": {"encoder_kwargs": {"pooling": "mean", "positional": False}},
    "gru64": {"decoder_kwargs": {"backbone": "gru", "hidden_channels": 64, "num_layers": 1}},
}


def read_cells(path: Path | None, count: int, seed: int) -> list[ArchSpec]:
    """``count`` distinct cells of the table (the bundled sample for ``None``), drawn with ``seed``."""
    table = NASBench101.bundled() if path is None else NASBench101(path)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(table), size=min(count, len(table)), replace=False)
    return [table.spec(table.hashes[i]) for i in chosen.tolist()]


@torch.no_grad()
def evaluate(controller: NAOController, cells: list[ArchSpec]) -> dict[str, float]:
    controller.eval()
    batch = cells_to_batch(cells)
    z = controller.encode(batch)
    decoded = controller.decoder.decode(z)
    target = batch.tokens
    nll = float(controller.reconstruction_loss(z, target))
    specs = [ArchSpec.from_tokens(row) for row in decoded.tolist()]
    controller.train()
    return {
        "nll": nll,
        "token_accuracy": float((decoded == target).float().mean()),
        "exact_tokens": float((decoded == target).all(dim=1).float().mean()),
        "same_cell": float(np.mean([a == b for a, b in zip(specs, cells, strict=True)])),
    }


def run_variant(name: str, train: list[ArchSpec], test: list[ArchSpec], args: argparse.Namespace) -> dict:
    torch.manual_seed(args.seed)
    controller = NAOController(**VARIANTS[name])
    if args.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(controller.parameters(), lr=args.lr)
    else:
        optimizer = torch.optim.Adam(controller.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    graphs = [cell_to_data(cell) for cell in train]
    curve = []
    start = time.perf_counter()
    for iterations in range(1, args.iterations + 1):
        index = rng.choice(len(train), size=args.batch_size, replace=False)
        batch = Batch.from_data_list([graphs[i] for i in index])
        loss = controller(batch)["nll"]
        optimizer.zero_grad()
        loss.backward()
        if args.grad_clip:
            torch.nn.utils.clip_grad_norm_(controller.parameters(), args.grad_clip)
        optimizer.step()
        if iterations % args.eval_every == 0:
            curve.append({"iteration": iterations, "seconds": time.perf_counter() - start,
                          **evaluate(controller, test[:512])})
    final = evaluate(controller, test)
    print(f"{name:>15}: {iterations} it in {time.perf_counter() - start:.0f} s, {final}", flush=True)
    return {"variant": name, "config": controller.get_config(), "iterations": iterations,
            "final": final, "curve": curve}


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=plain(__doc__),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="a table whose cells are used (default: the sample bundled with gnnas)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                        help="decoder variants to train (default: all)")
    parser.add_argument("--train-cells", type=int, default=20000, help="training cells (default: 20000)")
    parser.add_argument("--test-cells", type=int, default=2000, help="held-out cells (default: 2000)")
    parser.add_argument("--iterations", type=int, default=1000,
                        help="training iterations per variant (default: 1000)")
    parser.add_argument("--batch-size", type=int, default=256, help="cells per iteration (default: 256)")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam", help="(default: adam)")
    parser.add_argument("--lr", type=float, default=3e-3, help="learning rate (default: 0.003)")
    parser.add_argument("--grad-clip", type=float, default=5.0,
                        help="clip the gradients' total 2-norm to this value; 0: no clipping (default: 5)")
    parser.add_argument("--eval-every", type=int, default=100,
                        help="iterations between evaluations on the held-out cells (default: 100)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"torch threads (default: {DEFAULT_THREADS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the cells and networks (default: 0)")
    parser.add_argument("--out", type=Path, default=Path("results/nn_reconstruction"),
                        help="output folder (default: results/nn_reconstruction)")
    deprecated_flag(parser, "--clip", "--grad-clip")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    cells = read_cells(args.data, args.train_cells + args.test_cells, args.seed)
    train, test = cells[:args.train_cells], cells[args.train_cells:]
    results = [run_variant(name, train, test, args) for name in args.variants]
    args.out.mkdir(parents=True, exist_ok=True)
    config = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    (args.out / "results.json").write_text(json.dumps({"config": config, "results": results}, indent=2))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for result in results:
        seconds = [point["seconds"] for point in result["curve"]]
        axes[0].plot(seconds, [point["nll"] for point in result["curve"]], label=result["variant"])
        axes[1].plot(seconds, [point["same_cell"] for point in result["curve"]], label=result["variant"])
    axes[0].set(xlabel="training time (s)", ylabel="held-out NLL per token", yscale="log")
    axes[1].set(xlabel="training time (s)", ylabel="held-out cells decoded exactly (up to isomorphism)")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(args.out / "reconstruction.png", dpi=120)
    print(f"wrote {args.out / 'results.json'} and {args.out / 'reconstruction.png'}")


if __name__ == "__main__":
    from gnnas.cli.main import run_script  # one-line errors, as `gnnas benchmark`

    raise SystemExit(run_script(main))

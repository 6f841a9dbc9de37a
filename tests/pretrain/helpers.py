"""Tiny stand-ins and fixtures for the pretraining tests: random cells, a small controller, a dataset.

The stand-ins follow the interfaces of :class:`gnnas.nn.NAOController` and
:class:`gnnas.datasets.LocalityDataset` that the trainer relies on; the tests run the trainer on
both the stand-ins (fast, fully known) and the real classes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_add_pool

from gnnas import ArchSpec
from gnnas.space import INTERIOR_OPS, OP_INDEX, OPS


def random_cells(count: int, seed: int) -> list[ArchSpec]:
    """``count`` distinct valid cells drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    cells: dict[str, ArchSpec] = {}
    while len(cells) < count:
        num_vertices = int(rng.integers(3, 8))
        matrix = np.triu(rng.random((num_vertices, num_vertices)) < rng.uniform(0.3, 0.7), k=1).astype(
            np.uint8
        )
        ops = ["input", *rng.choice(INTERIOR_OPS, num_vertices - 2).tolist(), "output"]
        try:
            spec = ArchSpec(matrix, ops)
        except ValueError:
            continue
        cells.setdefault(spec.hash, spec)
    return list(cells.values())


def change_one_op(spec: ArchSpec, rng: np.random.Generator) -> ArchSpec:
    """A positive: one interior op of ``spec`` changed (or ``spec`` itself when it has none)."""
    ops = list(spec.ops)
    if len(ops) <= 2:
        return spec
    vertex = int(rng.integers(1, len(ops) - 1))
    ops[vertex] = str(rng.choice([op for op in INTERIOR_OPS if op != ops[vertex]]))
    return ArchSpec(spec.matrix, ops)


def make_batch(specs: list[ArchSpec], labels: list[int]) -> Batch:
    datas = []
    for spec, label in zip(specs, labels, strict=True):
        data = spec.to_data()
        data.tokens = torch.tensor([spec.to_tokens()], dtype=torch.long)
        data.label = torch.tensor([label])
        datas.append(data)
    return Batch.from_data_list(datas)


class FakeLocalityDataset(torch.utils.data.IterableDataset):
    """The LocalityDataset interface on a list of anchors; positives change one op of the anchor.

    Batch ``b`` of epoch ``e`` is a pure function of ``(seed, e, b)``; ``num_batches`` and
    ``start_batch`` count the batches of all processes; rank ``r`` of ``W`` gets the batches
    ``start_batch + r + W * m``.
    """

    def __init__(self, cells, classes_per_batch=4, num_positives=3, seed=0, rank=0, world_size=1):
        super().__init__()
        self.cells = list(cells)
        self.classes_per_batch = classes_per_batch
        self.num_positives = num_positives
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.start_batch = 0
        self.batches_made = 0

    @property
    def num_batches(self) -> int:
        return len(self.cells) // self.classes_per_batch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def make_batch(self, index: int) -> Batch:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.cells))
        rng = np.random.default_rng([self.seed, self.epoch, index])
        specs, labels = [], []
        anchors = order[index * self.classes_per_batch : (index + 1) * self.classes_per_batch]
        for label, anchor in enumerate(anchors):
            anchor = self.cells[int(anchor)]
            specs += [anchor] + [change_one_op(anchor, rng) for _ in range(self.num_positives)]
            labels += [label] * (1 + self.num_positives)
        return make_batch(specs, labels)

    def __iter__(self):
        for index in range(self.start_batch + self.rank, self.num_batches, self.world_size):
            self.batches_made += 1
            yield self.make_batch(index)


class PairedDataset(FakeLocalityDataset):
    """One process's view of a ``world_size = 2`` run: batches ``2i`` and ``2i + 1`` concatenated,
    the second's labels shifted by ``classes_per_batch`` (what the trainer does across ranks)."""

    @property
    def num_batches(self) -> int:
        return len(self.cells) // self.classes_per_batch // 2

    def __iter__(self):
        for i in range(self.start_batch, self.num_batches):
            first, second = self.make_batch(2 * i), self.make_batch(2 * i + 1)
            second.label = second.label + self.classes_per_batch
            yield Batch.from_data_list(first.to_data_list() + second.to_data_list())


class TinyEncoder(nn.Module):
    def __init__(self, hidden: int = 16, out: int = 8):
        super().__init__()
        self.lin1 = nn.Linear(len(OPS), hidden)
        self.lin2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, out)
        self.dropout = nn.Dropout(0.1)  # draws from the global generator: resume must restore it

    def forward(self, x, edge_index, batch):
        h = torch.relu(self.lin1(x))
        h = h + torch.zeros_like(h).index_add_(0, edge_index[1], h[edge_index[0]])
        h = self.dropout(torch.relu(self.lin2(h)))
        return self.out(global_add_pool(h, batch))


class TinyDecoder(nn.Module):
    """Predicts all 27 tokens from ``z`` and the previous token (teacher forcing)."""

    def __init__(self, dim: int = 8):
        super().__init__()
        self.embed = nn.Embedding(7, dim)
        self.head = nn.Linear(dim, 27 * 7)

    def forward(self, z, tokens):
        previous = torch.cat([tokens.new_zeros(tokens.size(0), 1), tokens[:, :-1]], dim=1)
        logits = self.head(z).view(-1, 27, 7) + self.embed(previous) @ self.embed.weight.t()  # (B, 27, 7)
        return torch.log_softmax(logits, dim=-1)


class TinyController(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = TinyEncoder()
        self.decoder = TinyDecoder()
        self.predictor = nn.Linear(8, 1)

    def encode(self, batch):
        return self.encoder(batch.x, batch.edge_index, batch.batch)

    def reconstruction_loss(self, z, tokens):
        return nn.functional.nll_loss(self.decoder(z, tokens).reshape(-1, 7), tokens.reshape(-1))

    def decode(self, z):
        return [None] * z.size(0)

    def save(self, path):
        torch.save(self.state_dict(), path)


def tiny_setup(seed: int = 0, num_cells: int = 32, classes: int = 4, positives: int = 3):
    """A stand-in controller (initialised from ``seed``) and dataset."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        controller = TinyController()
    dataset = FakeLocalityDataset(random_cells(num_cells, 1234), classes, positives, seed=seed)
    return controller, dataset


__all__ = [
    "random_cells",
    "FakeLocalityDataset",
    "PairedDataset",
    "TinyController",
    "tiny_setup",
    "make_batch",
    "OP_INDEX",
]


def distributed_worker(rank: int, world_size: int, port: int, folder: str, jobs: list) -> None:
    """One process of the 2-process test: joins a gloo group and pretrains the stand-ins.

    ``jobs`` holds ``(name, config_values, metric_loss, miner)``; each job writes
    ``folder/name/rank{rank}.pt`` with the final weights and the history.
    """
    import os

    import torch.distributed as dist

    from gnnas.pretrain import PretrainConfig, pretrain

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        for name, config_values, metric_loss, miner in jobs:
            controller, _ = tiny_setup(seed=0)
            controller.encoder.dropout.p = 0.0  # dropout masks differ by rank; the comparison needs none
            dataset = FakeLocalityDataset(
                random_cells(32, 1234), 4, 3, seed=0, rank=rank, world_size=world_size
            )
            result = pretrain(
                PretrainConfig(**config_values),
                controller=controller,
                dataset=dataset,
                metric_loss=metric_loss,
                miner=miner,
                output_dir=os.path.join(folder, name),
            )
            torch.save(
                {"state": controller.state_dict(), "history": result.history},
                os.path.join(folder, name, f"rank{rank}.pt"),
            )
    finally:
        dist.destroy_process_group()

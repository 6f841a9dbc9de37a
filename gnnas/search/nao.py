r"""Neural Architecture Optimization (NAO) search, as run in the paper's appendix.

Luo et al., "Neural Architecture Optimization", NeurIPS 2018, in the NAS-Bench-101 form of
SemiNAS (Luo et al., 2020), which the paper modified lightly. The loop:

1. query :attr:`~NAOConfig.num_init` random table cells (128);
2. for each of :attr:`~NAOConfig.outer_epochs` outer epochs (50):

   a. train the controller for :attr:`~NAOConfig.inner_epochs` epochs (100) on every cell queried
      so far, with the targets min-max normalized to ``[0, 1]`` over those cells (as SemiNAS does),
      minimizing

      .. math::
          \mathcal{L} = \lambda \, \mathrm{MSE}(\hat y, y) + (1 - \lambda) \, \mathrm{NLL},

      :math:`\lambda` = :attr:`~NAOConfig.trade_off` (0.5), SGD with learning rate 0.1 (or Adam,
      :attr:`~NAOConfig.optimizer`), gradient norm clipped to 5.0, batches of 64;
   b. take the best :attr:`~NAOConfig.num_seeds` queried cells (128) as seeds, move each seed's
      embedding along the gradient of the predicted accuracy with step size 1, 2, ... up to
      :attr:`~NAOConfig.max_step_size` (100) and decode, until
      :attr:`~NAOConfig.num_candidates` (128) new cells are found; a decoded cell that is invalid,
      or whose table cell (after the oracle's mapping) was queried before or is already among the
      new cells, is skipped (so isomorphic duplicates count as already queried);
   c. query the new cells.

The number of queries is the number of distinct table cells whose accuracy was looked up. All
randomness (the controller's initialization when it is built here, the batch order, dropout)
comes from a :class:`torch.Generator` seeded with the run's seed, so a run is reproducible and a
run resumed from a checkpoint (taken between outer epochs) repeats the uninterrupted one.

Example::

    >>> from gnnas.nasbench import NASBench101
    >>> from gnnas.pretrain import pretrained_controller
    >>> from gnnas.search import NAOConfig, NAOSearch, Oracle
    >>> oracle = Oracle(NASBench101.bundled(), budget=1000, mapping="nearest")
    >>> controller = pretrained_controller("MarginLoss")      # shipped; or None: a fresh one
    >>> search = NAOSearch(oracle, NAOConfig(outer_epochs=10), seed=0, controller=controller)
    >>> result = search.run()                                   # doctest: +SKIP

Step a. alone is :func:`train_controller`, e.g. to fine-tune a controller on a few labelled cells
and read its predictor (``benchmarks/predictor.py`` does this).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from gnnas.search.base import Search
from gnnas.search.oracle import Oracle
from gnnas.space import ArchSpec

__all__ = ["NAOSearch", "NAOConfig", "make_optimizer", "train_controller", "MAX_STEP_SIZE"]

#: The largest :attr:`NAOConfig.max_step_size`, ten times the paper's 100: the step sizes of one
#: outer epoch are tried in turn, each decoding every seed.
MAX_STEP_SIZE = 1000


@dataclass
class NAOConfig:
    r"""Settings of :class:`NAOSearch`; the defaults are the paper's (its appendix, Table 2).

    Args:
        num_init (int, optional): random cells queried first. (default: :obj:`128`)
        outer_epochs (int, optional): rounds of train, generate, query. (default: :obj:`50`)
        inner_epochs (int, optional): training epochs of the controller per outer epoch.
            (default: :obj:`100`)
        num_seeds (int, optional): best queried cells used as seeds. (default: :obj:`128`)
        num_candidates (int, optional): new cells sought per outer epoch. (default: :obj:`128`)
        max_step_size (int, optional): largest step size of the gradient ascent, at most
            :data:`MAX_STEP_SIZE`. (default: :obj:`100`)
        trade_off (float, optional): :math:`\lambda`, the weight of the predictor's MSE against the
            reconstruction NLL. (default: :obj:`0.5`)
        optimizer (str, optional): ``"sgd"`` (the paper's) or ``"adam"`` (SemiNAS's choice on
            NAS-Bench-101); with a controller that is not (or briefly) pretrained, SGD at the
            paper's rate barely trains the decoder (see the README's search section).
            (default: :obj:`"sgd"`)
        lr (float, optional): learning rate. (default: :obj:`0.1`)
        momentum (float, optional): SGD momentum. (default: :obj:`0.0`)
        grad_clip (float, optional): largest gradient norm. (default: :obj:`5.0`)
        batch_size (int, optional): training batch size. (default: :obj:`64`)
        normalize_targets (bool, optional): min-max normalize the accuracies of the queried cells
            before training, as SemiNAS does. (default: :obj:`True`)
        controller_init (str, optional): a label of where the controller came from (``"fresh"``,
            or e.g. ``"pretrained:MarginLoss"``), written to the results. (default: ``"fresh"``)
        controller_kwargs (dict, optional): arguments of :class:`~gnnas.nn.NAOController` when
            the search builds a fresh controller. (default: empty)

    Raises:
        ValueError: if a count or size is below its minimum, ``trade_off`` is outside ``[0, 1]``,
            ``optimizer`` is unknown, or ``lr``, ``grad_clip`` or ``momentum`` is out of range.

    Example:
        >>> from gnnas.search import NAOConfig
        >>> config = NAOConfig(outer_epochs=10, optimizer="adam", lr=1e-3)
        >>> config.num_init, config.inner_epochs, config.trade_off     # the paper's
        (128, 100, 0.5)
    """

    num_init: int = 128
    outer_epochs: int = 50
    inner_epochs: int = 100
    num_seeds: int = 128
    num_candidates: int = 128
    max_step_size: int = 100
    trade_off: float = 0.5
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.0
    grad_clip: float = 5.0
    batch_size: int = 64
    normalize_targets: bool = True
    controller_init: str = "fresh"
    controller_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("num_init", "num_seeds", "num_candidates", "max_step_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_step_size > MAX_STEP_SIZE:
            raise ValueError(f"max_step_size must be at most {MAX_STEP_SIZE:,} (each step size decodes "
                             f"every seed once), got {self.max_step_size:,}")
        for name in ("outer_epochs", "inner_epochs"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.trade_off <= 1.0:
            raise ValueError(f"trade_off must be in [0, 1], got {self.trade_off}")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        for name, zero_ok in (("lr", False), ("grad_clip", False), ("momentum", True)):
            value = getattr(self, name)
            if not (math.isfinite(value) and (value >= 0 if zero_ok else value > 0)):  # NaN fails too
                bound = ">=" if zero_ok else ">"
                raise ValueError(f"{name} must be a finite number {bound} 0, got {value!r}")
        if not isinstance(self.controller_kwargs, dict):
            raise ValueError(f"controller_kwargs must be a dict, got {self.controller_kwargs!r}")
        from gnnas.nn.controller import check_controller_arguments

        check_controller_arguments(**self.controller_kwargs)


def make_optimizer(controller: torch.nn.Module, config: NAOConfig) -> torch.optim.Optimizer:
    """The optimizer of NAO's training: Adam or SGD (with momentum) at ``config.lr``.

    Args:
        controller (torch.nn.Module): the controller whose parameters it updates.
        config (NAOConfig): the settings (``optimizer``, ``lr``, ``momentum``).

    Returns:
        torch.optim.Optimizer: a fresh optimizer.
    """
    if config.optimizer == "adam":
        return torch.optim.Adam(controller.parameters(), lr=config.lr)
    return torch.optim.SGD(controller.parameters(), lr=config.lr, momentum=config.momentum)


def train_controller(controller: Any, optimizer: torch.optim.Optimizer, cells: Sequence[Any],
                     target: torch.Tensor, config: NAOConfig, generator: torch.Generator) -> dict[str, float]:
    r"""NAO's training of the controller on labelled cells (step a. of the module docstring).

    Runs :attr:`~NAOConfig.inner_epochs` epochs over ``cells`` in random order, in batches of
    :attr:`~NAOConfig.batch_size`, minimizing
    :math:`\lambda \, \mathrm{MSE}(\hat y, y) + (1 - \lambda) \, \mathrm{NLL}` with
    :math:`\lambda` = :attr:`~NAOConfig.trade_off`, the gradient norm clipped to
    :attr:`~NAOConfig.grad_clip`. With :attr:`~NAOConfig.normalize_targets` the targets are first
    min-max normalized to ``[0, 1]`` over ``cells`` (all zero when they are all equal). The batch
    order comes from ``generator``; dropout draws from torch's global generator, seeded from
    ``generator`` inside a :func:`torch.random.fork_rng` block, so the global state is left as it was.

    Args:
        controller (NAOController): the controller, trained in place (left in training mode).
        optimizer (torch.optim.Optimizer): its optimizer, e.g. from :func:`make_optimizer`.
        cells (Sequence[torch_geometric.data.Data]): the cells as graphs with their ``tokens``
            (:func:`~gnnas.nn.cell_to_data`).
        target (torch.Tensor): their accuracies, ``(N,)``.
        config (NAOConfig): the settings.
        generator (torch.Generator): the source of the batch order and of the dropout seed.

    Returns:
        dict[str, float]: the mean ``loss``, ``mse`` and ``nll`` of the last epoch (NaN without
        epochs).

    Raises:
        ValueError: if ``cells`` is empty or ``target`` does not have shape ``(len(cells),)``.
    """
    from torch_geometric.data import Batch

    num = len(cells)
    if num == 0:
        raise ValueError("train_controller needs at least one labelled cell")
    if tuple(target.shape) != (num,):
        raise ValueError(f"target must have shape ({num},), got {tuple(target.shape)}")
    if config.normalize_targets:
        low, high = target.min(), target.max()
        target = (target - low) / (high - low) if high > low else torch.zeros_like(target)
    controller.train()
    last: dict[str, float] = {"loss": float("nan"), "mse": float("nan"), "nll": float("nan")}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_draw_seed(generator))
        for _ in range(config.inner_epochs):
            order = torch.randperm(num, generator=generator)
            sums = {"loss": 0.0, "mse": 0.0, "nll": 0.0}
            for start in range(0, num, config.batch_size):
                index = order[start:start + config.batch_size]
                batch = Batch.from_data_list([cells[i] for i in index.tolist()])
                out = controller(batch, target[index])
                loss = config.trade_off * out["mse"] + (1.0 - config.trade_off) * out["nll"]
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(controller.parameters(), config.grad_clip)
                optimizer.step()
                size = len(index)
                sums["loss"] += float(loss.detach()) * size
                sums["mse"] += float(out["mse"].detach()) * size
                sums["nll"] += float(out["nll"].detach()) * size
            last = {k: v / num for k, v in sums.items()}
    return last


def _draw_seed(generator: torch.Generator) -> int:
    """A seed for torch's global generator, drawn from ``generator``."""
    return int(torch.randint(0, 2**62, (1,), generator=generator).item())


class NAOSearch(Search):
    r"""NAO search over the oracle's table (see the module docstring).

    Step 0 queries the initial random cells; each later step is one outer epoch. The controller
    passed in is copied, never changed.

    Args:
        oracle (Oracle): the oracle, with its budget and mapping policy.
        config (NAOConfig, optional): the settings. (default: :obj:`None`, the paper's)
        seed (int, optional): seed of the run. (default: :obj:`0`)
        controller (NAOController, optional): the starting controller, e.g. a pretrained one;
            :obj:`None` builds a fresh ``NAOController(**config.controller_kwargs)`` from the
            run's torch generator. (default: :obj:`None`)

    Raises:
        ValueError: if ``config`` is not a :class:`NAOConfig`, ``seed`` is negative or
            ``controller`` is not a :class:`~gnnas.nn.NAOController`.

    Example:
        A short run from the shipped MarginLoss controller: 16 random cells, then one outer epoch
        of two training epochs that proposes 4 new cells.

        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.pretrain import load_shipped
        >>> from gnnas.search import NAOConfig, NAOSearch, Oracle
        >>> oracle = Oracle(NASBench101.bundled(), budget=20, mapping="nearest")
        >>> config = NAOConfig(num_init=16, outer_epochs=1, inner_epochs=2, num_seeds=8,
        ...                    num_candidates=4, optimizer="adam", lr=1e-3)
        >>> result = NAOSearch(oracle, config, seed=0, controller=load_shipped("MarginLoss")).run()
        >>> result.num_queries, result.stop_reason
        (20, 'finished')
    """

    name = "nao"
    checkpoint_every = 1  # a step is an outer epoch: seconds to minutes of work
    Config = NAOConfig

    def __init__(self, oracle: Oracle, config: NAOConfig | None = None, *, seed: int = 0,
                 controller: Any = None) -> None:
        super().__init__(oracle, config, seed=seed)
        from gnnas.nn import NAOController

        self.torch_generator = torch.Generator().manual_seed(self.seed)
        if controller is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self._draw_seed())
                controller = NAOController(**self.config.controller_kwargs)
        elif not isinstance(controller, NAOController):
            raise ValueError(f"controller must be a NAOController or None, got {type(controller).__name__}")
        else:
            controller = copy.deepcopy(controller)
        self.controller = controller
        self.optimizer = make_optimizer(controller, self.config)
        self.outer_epoch = 0
        self.extra = {"epochs": []}
        self._graphs: dict[str, Any] = {}  # hash -> PyG Data with tokens, a cache

    def _draw_seed(self) -> int:
        return _draw_seed(self.torch_generator)

    # ------------------------------------------------------------------ the loop
    def step(self) -> bool:
        config, oracle = self.config, self.oracle
        if self.steps == 0:
            for index in oracle.sample_unqueried(self.generator, config.num_init):
                oracle.query_index(index)
            return config.outer_epochs > 0
        self.outer_epoch += 1
        log = self.train_controller()
        log.update(self.propose_and_query())
        log["outer_epoch"] = self.outer_epoch
        log["num_queries"] = oracle.num_queries
        self.extra["epochs"].append(log)
        return self.outer_epoch < config.outer_epochs

    def _graph(self, cell_hash: str) -> Any:
        """The table cell's PyG graph with its tokens and their grammar mask (which the decoder
        would otherwise recompute in every batch of every inner epoch), built once per run."""
        data = self._graphs.get(cell_hash)
        if data is None:
            from gnnas.nn.grammar import grammar_mask
            from gnnas.nn.utils import cell_to_data

            data = cell_to_data(self.oracle.table.spec(cell_hash))
            data.grammar_mask = grammar_mask(data.tokens)  # (1, 27, 7)
            self._graphs[cell_hash] = data
        return data

    def _training_set(self) -> tuple[list[Any], torch.Tensor]:
        oracle = self.oracle
        cells = [self._graph(record.hash) for record in oracle.records]
        target = torch.tensor([r.accuracy for r in oracle.records], dtype=torch.float32)
        return cells, target

    def train_controller(self) -> dict[str, float]:
        """Trains the controller for :attr:`~NAOConfig.inner_epochs` epochs on the queried cells
        (:func:`train_controller` with the run's optimizer and generator).

        Returns:
            dict[str, float]: the mean ``loss``, ``mse`` and ``nll`` of the last inner epoch.
        """
        cells, target = self._training_set()
        return train_controller(self.controller, self.optimizer, cells, target, self.config,
                                self.torch_generator)

    def propose_and_query(self) -> dict[str, Any]:
        """Generates up to :attr:`~NAOConfig.num_candidates` new cells from the best queried cells
        and queries them.

        Returns:
            dict: ``new`` (cells found), ``step_size`` (the last step size tried), ``invalid`` and
            ``duplicates`` (decoded cells skipped), ``mean_distance`` (mean graph edit distance of
            the mapping into the table, :obj:`None` without new cells).
        """
        from torch_geometric.data import Batch

        config, oracle = self.config, self.oracle
        records = sorted(oracle.records, key=lambda r: (-r.accuracy, r.index))[:config.num_seeds]
        # the seeds' graphs are collated once, not again for every step size
        seeds = Batch.from_data_list([self._graph(r.hash) for r in records])
        parameter = next(self.controller.parameters(), None)
        if parameter is not None:
            seeds = seeds.to(parameter.device)  # where generate() would have put a batch it made
        new: dict[int, ArchSpec] = {}
        invalid = duplicates = 0
        distances: list[int] = []
        step_size = 0
        self.controller.eval()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._draw_seed())
            # never more than the table has left to query or the budget allows
            wanted = min(config.num_candidates, len(oracle) - oracle.num_queries)
            if oracle.remaining is not None:
                wanted = min(wanted, oracle.remaining)
            while len(new) < wanted and step_size < config.max_step_size:
                step_size += 1
                for cell in self.controller.generate(seeds, step_size):
                    if cell is None:
                        invalid += 1
                        continue
                    index, distance = oracle.resolve(cell)
                    if index in new or oracle.is_queried(index):
                        duplicates += 1
                        continue
                    new[index] = cell
                    distances.append(distance)
                    if len(new) >= wanted:
                        break
        for cell in new.values():
            oracle.query(cell)
        return {"new": len(new), "step_size": step_size, "invalid": invalid, "duplicates": duplicates,
                "mean_distance": float(np.mean(distances)) if distances else None}

    # ------------------------------------------------------------------ checkpoints
    def extra_state(self) -> dict[str, Any]:
        return {
            "outer_epoch": self.outer_epoch,
            "controller": self.controller.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "torch_generator": self.torch_generator.get_state(),
        }

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.outer_epoch = int(state["outer_epoch"])
        self.controller.load_state_dict(state["controller"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.torch_generator.set_state(state["torch_generator"])

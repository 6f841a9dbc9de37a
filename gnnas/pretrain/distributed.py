r"""Data-parallel pretraining with :mod:`torch.distributed`, and the metric loss across processes.

Launch with ``torchrun --nproc_per_node=2 -m gnnas.pretrain ...`` (or call
:func:`~gnnas.pretrain.pretrain` in processes that have initialised a process group). Each process
draws its share of the batches from the locality dataset (its ``rank`` and ``world_size``), the
networks are wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`, and only rank 0 logs
and writes checkpoints. The backend is ``nccl`` when CUDA is used and ``gloo`` otherwise.

**The metric loss across processes.** The labels of a batch are anchor indices *within* that
batch, so two processes' labels collide. Before the loss, process :math:`r` adds
:math:`r \cdot C` to its labels (:math:`C` the largest number of classes of any process); the
embeddings and labels of all processes are then gathered with pytorch-metric-learning's
:class:`~pytorch_metric_learning.utils.distributed.DistributedMinerWrapper` and
:class:`~pytorch_metric_learning.utils.distributed.DistributedLossWrapper` (``efficient=False``),
so each process mines and computes the loss on the *global* batch. Gradients only flow into the
local embeddings; the wrapper multiplies the loss by the world size and DDP averages the
gradients, so the update is the gradient of the metric loss of the global batch, the same as one
process would compute on all the graphs at once (up to floating-point rounding). The
reconstruction loss is a mean over each process's graphs; DDP's average makes it the mean over the
global batch when every process has as many graphs, which the locality dataset guarantees.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["DistContext", "init_distributed", "offset_labels", "wrap_metric_loss"]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a distributed run.

    Args:
        rank (int): global rank.
        local_rank (int): rank on this machine (the CUDA device index).
        world_size (int): number of processes.
        owns_group (bool): whether :func:`init_distributed` created the process group (and so
            must destroy it).

    Example:
        >>> from gnnas.pretrain.distributed import init_distributed
        >>> context = init_distributed(use_cuda=False)   # not under torchrun: one process
        >>> context
        DistContext(rank=0, local_rank=0, world_size=1, owns_group=False)
        >>> context.is_main, context.enabled
        (True, False)
    """

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """bool: whether this is rank 0, the process that logs and checkpoints."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """bool: whether more than one process takes part."""
        return self.world_size > 1


def init_distributed(use_cuda: bool) -> DistContext:
    """Joins the process group that ``torchrun`` describes in the environment, if any.

    Uses an already initialised group as it is; otherwise, when ``WORLD_SIZE`` > 1 is set (as
    ``torchrun`` does), initialises one with the ``nccl`` backend for CUDA and ``gloo`` for CPU.

    Args:
        use_cuda (bool): whether training runs on CUDA.

    Returns:
        DistContext: this process's rank and the world size (rank 0 of 1 when not distributed).

    Raises:
        RuntimeError: if ``WORLD_SIZE`` > 1 but this build of torch has no :mod:`torch.distributed`.
    """
    if dist.is_available() and dist.is_initialized():
        local_rank = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
        return DistContext(dist.get_rank(), local_rank, dist.get_world_size(), False)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but torch.distributed is not available in this build")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistContext(dist.get_rank(), local_rank, dist.get_world_size(), True)


def offset_labels(labels: torch.Tensor, context: DistContext) -> torch.Tensor:
    r"""Makes the per-batch class labels of all processes distinct: :math:`y + r \cdot C`.

    Args:
        labels (torch.Tensor): class index of each graph within this process's batch.
        context (DistContext): this process's rank and the world size.

    Returns:
        torch.Tensor: the labels, offset by ``rank * C`` where ``C`` is the largest number of
        classes of any process (one all-reduce).

    Shapes:
        - **labels** :math:`(B,)`
    """
    if not context.enabled:
        return labels
    num_classes = labels.max().reshape(1) + 1 if labels.numel() else labels.new_zeros(1)
    dist.all_reduce(num_classes, op=dist.ReduceOp.MAX)
    return labels + context.rank * num_classes


def wrap_metric_loss(loss: Any, miner: Any, context: DistContext) -> tuple[Any, Any]:
    """Wraps a pytorch-metric-learning loss and miner so that they see the global batch.

    Args:
        loss: the metric loss (a ``BaseMetricLossFunction``) or :obj:`None`.
        miner: the miner (a ``BaseMiner``) or :obj:`None`.
        context (DistContext): this process's rank and the world size.

    Returns:
        tuple: ``(loss, miner)``, wrapped when more than one process takes part, as they were
        otherwise.
    """
    if not context.enabled:
        return loss, miner
    from pytorch_metric_learning.utils.distributed import DistributedLossWrapper, DistributedMinerWrapper

    if loss is not None:
        loss = DistributedLossWrapper(loss, efficient=False)
    if miner is not None:
        miner = DistributedMinerWrapper(miner, efficient=False)
    return loss, miner

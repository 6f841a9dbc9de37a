r"""The pretraining loop: reconstruction plus metric learning on the locality dataset.

Each iteration takes a batch of the :class:`~gnnas.datasets.LocalityDataset` (``C`` classes of one
anchor and its positives), embeds every graph with the controller's encoder, decodes the 27 tokens
with teacher forcing and minimises

.. math::
    \mathcal{L} = \underbrace{-\frac{1}{27B}\sum_{b=1}^{B}\sum_{t=1}^{27}
    \log p(s_{b,t} \mid s_{b,<t}, z_b)}_{\mathcal{L}_r}
    + \lambda_e \, \mathcal{L}_e\bigl(\{z_b\}, \{y_b\}, \text{mined tuples}\bigr),

where :math:`y_b` is the index of graph :math:`b`'s anchor within the batch. A tutorial::

    >>> from gnnas.pretrain import PretrainConfig, pretrain
    >>> config = PretrainConfig(loss="MarginLoss", max_iterations=2000, seed=0)
    >>> result = pretrain(config, output_dir="results/pretrain/margin")   # doctest: +SKIP
    >>> result.history[-1]["token_acc"]                                    # doctest: +SKIP
    >>> result = pretrain(config, output_dir="results/pretrain/margin", resume=True)  # doctest: +SKIP

The output folder receives ``config.json`` (every setting, and the loss and miner used),
``log.jsonl`` (one JSON record per iteration, see :data:`LOG_FIELDS`), ``checkpoint.pt`` (every
``checkpoint_interval`` iterations and at the end) and ``controller.pt`` (the final controller,
:meth:`~gnnas.nn.NAOController.save`).

**Reproducibility.** The networks are initialised from ``seed`` and training draws from the global
torch generator inside :func:`torch.random.fork_rng`, seeded from ``seed`` (and the rank), so the
caller's random state is left as it was. Batch ``b`` of epoch ``e`` is a pure function of
``(seed, e, b)``; a resumed run restores the weights, the optimizer, the scheduler and the random
states and asks the dataset to start at the next batch, so its final weights equal those of an
uninterrupted run bit for bit (on the same machine and number of threads).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gnnas.files import DamagedFileError, WriteError, write_bytes
from gnnas.pretrain.checkpoint import (
    CHECKPOINT_NAME,
    check_output_dir,
    check_resumable,
    clear_run,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from gnnas.pretrain.config import CUSTOM_LOSS, PretrainConfig
from gnnas.pretrain.distributed import DistContext, init_distributed, offset_labels, wrap_metric_loss
from gnnas.pretrain.presets import metric_loss_preset
from gnnas.workers import available_cores

__all__ = ["pretrain", "PretrainResult", "LOG_FIELDS", "reconstruction_metrics", "count_tuples"]

#: The fields of each record of ``log.jsonl`` and :attr:`PretrainResult.history`.
LOG_FIELDS: dict[str, str] = {
    "iteration": "iterations done (1 after the first update)",
    "epoch": "epoch of the batch (0-based)",
    "lr": "learning rate used for the update",
    "loss": "L_r + lambda_e * L_e",
    "recon_loss": "reconstruction NLL per token (L_r)",
    "metric_loss": "metric loss L_e (null without one)",
    "num_tuples": "tuples mined (triplets, or positive + negative pairs; null without a miner)",
    "token_acc": "share of the 27 tokens whose teacher-forced argmax is right",
    "cell_acc": "share of cells whose 27 teacher-forced argmax tokens are all right",
    "decode_acc": "share of sampled cells greedily decoded to the same cell (only every decode_interval)",
    "grad_norm": "total gradient 2-norm before clipping (only with grad_clip)",
    "elapsed": "seconds since this process started the run",
}


@dataclass
class PretrainResult:
    """What :func:`pretrain` returns.

    Args:
        controller (NAOController): the pretrained controller (on the training device, in eval mode).
        history (list[dict]): one record per iteration (see :data:`LOG_FIELDS`), resumed runs included.
        config (PretrainConfig): the settings used.
        output_dir (pathlib.Path, optional): the folder written to, if any.
        summary (dict, optional): averages of the last 50 iterations (``loss``, ``token_acc``,
            ...) and the run's totals, as written to ``summary.json``.

    Example:
        Three iterations of small networks on 64 cells of the bundled table:

        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.pretrain import PretrainConfig, pretrain
        >>> config = PretrainConfig(
        ...     loss="TripletMarginLoss", batch_size=32, num_positives=3, max_iterations=3,
        ...     encoder={"hidden_channels": 16, "out_channels": 16}, decoder={"hidden_channels": 16},
        ...     progress=False)
        >>> result = pretrain(config, cells=NASBench101.bundled().cells[:64], output_dir="run")
        >>> len(result.history), sorted(result.history[-1])[:4]
        (3, ['cell_acc', 'elapsed', 'epoch', 'iteration'])
        >>> result.summary["iterations"], result.controller.training
        (3, False)
        >>> sorted(path.name for path in result.output_dir.iterdir() if path.suffix != ".sha256")
        ['checkpoint.pt', 'config.json', 'controller.pt', 'log.jsonl', 'summary.json']
    """

    controller: Any
    history: list[dict[str, Any]]
    config: PretrainConfig
    output_dir: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- metrics
def reconstruction_metrics(log_probs: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Returns the reconstruction NLL and the counts behind the token and cell accuracies.

    Args:
        log_probs (torch.Tensor): teacher-forced log-probabilities of the decoder.
        tokens (torch.Tensor): the target tokens.

    Returns:
        tuple[torch.Tensor, ...]: ``(nll, correct_tokens, correct_cells)``: the mean NLL over all
        ``B * L`` tokens (with gradient), the number of tokens whose argmax is the target and the
        number of cells whose every token is.

    Raises:
        ValueError: if the shapes do not fit.

    Shapes:
        - **log_probs** :math:`(B, L, V)`, ``L = 27`` tokens over a vocabulary of ``V = 7``
        - **tokens** :math:`(B, L)`
    """
    if log_probs.dim() != 3 or tokens.shape != log_probs.shape[:2]:
        raise ValueError(
            f"log_probs must be (B, L, V) and tokens (B, L); got {tuple(log_probs.shape)} and "
            f"{tuple(tokens.shape)}"
        )
    nll = F.nll_loss(log_probs.reshape(-1, log_probs.size(-1)), tokens.reshape(-1))
    correct = log_probs.detach().argmax(dim=-1) == tokens
    return nll, correct.sum(), correct.all(dim=1).sum()


def count_tuples(indices_tuple: Any) -> int | None:
    """Counts what a miner returned.

    Args:
        indices_tuple (tuple, optional): triplets ``(a, p, n)``, pairs ``(a1, p, a2, n)`` or
            :obj:`None`.

    Returns:
        int or None: the number of triplets, or of positive plus negative pairs; :obj:`None` for
        :obj:`None`.

    Raises:
        ValueError: if ``indices_tuple`` does not hold 3 or 4 tensors.
    """
    if indices_tuple is None:
        return None
    if len(indices_tuple) == 3:
        return int(indices_tuple[0].numel())
    if len(indices_tuple) == 4:
        return int(indices_tuple[0].numel() + indices_tuple[2].numel())
    raise ValueError(f"a miner must return 3 or 4 index tensors, got {len(indices_tuple)}")


# ---------------------------------------------------------------------- pieces
class _Pretrained(nn.Module):
    """The controller's parts that pretraining trains (all but the predictor), as one module for DDP."""

    def __init__(self, controller: nn.Module) -> None:
        super().__init__()
        for name, child in controller.named_children():
            if name != "predictor":
                self.add_module(name, child)
        object.__setattr__(self, "controller", controller)  # not registered: no predictor parameters

    def forward(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.controller.encode(batch)  # (B, D)
        log_probs = self.controller.decoder(z, batch.tokens)  # (B, 27, 7)
        return z, log_probs


def _resolve_device(name: str, context: DistContext) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was asked for but CUDA is not available")
        if name == "cuda":
            return torch.device(
                "cuda", context.local_rank if context.enabled else torch.cuda.current_device()
            )
    return torch.device(name)


def _train_seed(seed: int, rank: int) -> int:
    """A seed for the training-time random draws (dropout), different on each rank."""
    return int(np.random.SeedSequence([seed, rank, 0x9E3779B9]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _build_controller(config: PretrainConfig) -> nn.Module:
    from gnnas.nn import NAOController

    return NAOController(encoder_kwargs=dict(config.encoder), decoder_kwargs=dict(config.decoder))


def _build_dataset(config: PretrainConfig, cells: Iterable[Any] | None, context: DistContext) -> Any:
    from gnnas.datasets import LocalityDataset

    return LocalityDataset(
        cells,
        classes_per_batch=config.classes_per_batch(context.world_size),
        num_positives=config.num_positives,
        seed=config.seed,
        rank=context.rank,
        world_size=context.world_size,
    )


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    temporary = path.with_suffix(".tmp")
    try:
        with open(temporary, "w") as stream:
            for record in records:
                stream.write(json.dumps(record) + "\n")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise WriteError(path, error) from None


def _write_json(path: Path, value: Any) -> None:
    write_bytes(path, json.dumps(value, indent=2, sort_keys=True, default=str).encode())


def _append_record(stream: Any, record: dict[str, Any]) -> None:
    try:
        stream.write(json.dumps(record) + "\n")
        stream.flush()
    except OSError as error:
        raise WriteError(stream.name, error) from None


# ---------------------------------------------------------------------- the loop
def pretrain(
    config: PretrainConfig | None = None,
    *,
    controller: nn.Module | None = None,
    dataset: Any = None,
    cells: Iterable[Any] | None = None,
    metric_loss: Any = None,
    miner: Any = None,
    output_dir: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> PretrainResult:
    r"""Pretrains a controller's encoder and decoder on the locality task (the paper's Section 3.3).

    Under ``torchrun`` (or in processes with an initialised process group) every process calls
    this function; see :mod:`gnnas.pretrain.distributed`.

    Args:
        config (PretrainConfig, optional): the settings; :obj:`None` uses the paper's defaults.
            (default: :obj:`None`)
        controller (NAOController, optional): the controller to pretrain (its encoder and decoder
            are trained, the predictor is left alone); :obj:`None` builds the default one from
            ``seed``, ``config.encoder`` and ``config.decoder``. (default: :obj:`None`)
        dataset (LocalityDataset, optional): the batches; :obj:`None` builds a
            :class:`~gnnas.datasets.LocalityDataset` over ``cells`` with the config's batch size,
            positives, seed and this process's rank. A dataset passed in must already carry the
            right ``rank`` and ``world_size``. (default: :obj:`None`)
        cells (Iterable[ArchSpec], optional): the anchors of the default dataset; :obj:`None`
            takes the whole space. (default: :obj:`None`)
        metric_loss (pytorch_metric_learning.losses.BaseMetricLossFunction, optional): a loss
            object to use instead of the preset's. (default: :obj:`None`)
        miner (pytorch_metric_learning.miners.BaseMiner, optional): a miner object to use
            instead of the preset's. (default: :obj:`None`)
        output_dir (str or os.PathLike, optional): folder for the configuration, the log, the
            checkpoints and the final controller; :obj:`None` writes nothing. (default: :obj:`None`)
        resume (bool, optional): continue from ``output_dir/checkpoint.pt`` when it exists (a fresh
            start otherwise). (default: :obj:`False`)
        overwrite (bool, optional): replace the run that ``output_dir`` holds; without it (or
            ``resume``) a folder that holds a run is an error, so no run is lost by accident.
            (default: :obj:`False`)

    Returns:
        PretrainResult: the controller, the per-iteration history and the settings.

    Raises:
        ValueError: on invalid settings, a ``custom`` loss without a loss object, ``resume``
            without an ``output_dir``, an ``output_dir`` that holds a run when neither ``resume``
            nor ``overwrite`` is set (see :func:`~gnnas.pretrain.checkpoint.check_output_dir`), or
            a checkpoint written with different settings.
        gnnas.files.DamagedFileError: if the checkpoint to resume from is damaged or unsafe.
    """
    config = PretrainConfig() if config is None else config
    if not isinstance(config, PretrainConfig):
        raise ValueError(f"config must be a PretrainConfig, got {type(config).__name__}")
    if config.loss == CUSTOM_LOSS and metric_loss is None:
        raise ValueError("config.loss is 'custom' but no metric_loss object was passed")
    if resume and output_dir is None:
        raise ValueError("resume=True needs the output_dir of the run to resume")
    if output_dir is not None:  # before any process writes (init_distributed waits for them all)
        check_output_dir(output_dir, resume=resume, overwrite=overwrite)

    use_cuda = config.device.startswith("cuda") or (config.device == "auto" and torch.cuda.is_available())
    context = init_distributed(use_cuda)
    try:
        config.validate(context.world_size)
        device = _resolve_device(config.device, context)
        devices = [device.index] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            return _run(
                config,
                controller,
                dataset,
                cells,
                metric_loss,
                miner,
                None if output_dir is None else Path(output_dir),
                resume,
                overwrite,
                context,
                device,
            )
    finally:
        if context.owns_group:
            torch.distributed.destroy_process_group()


def _run(
    config: PretrainConfig,
    controller: nn.Module | None,
    dataset: Any,
    cells: Iterable[Any] | None,
    metric_loss: Any,
    miner: Any,
    output_dir: Path | None,
    resume: bool,
    overwrite: bool,
    context: DistContext,
    device: torch.device,
) -> PretrainResult:
    # ---- networks, data, losses
    if controller is None:
        torch.manual_seed(config.seed)
        controller = _build_controller(config)
    controller.to(device)
    if dataset is None:
        dataset = _build_dataset(config, cells, context)
    if config.loss != CUSTOM_LOSS:
        preset_loss, preset_miner = metric_loss_preset(config.loss).build()
        metric_loss = preset_loss if metric_loss is None else metric_loss
        miner = preset_miner if miner is None else miner
    lambda_e = config.resolved_lambda_e()
    if metric_loss is not None:
        metric_loss.to(device)
    loss_fn, miner_fn = wrap_metric_loss(metric_loss, miner, context)

    module = _Pretrained(controller)
    parameters = [p for p in module.parameters() if p.requires_grad]
    if metric_loss is not None:
        parameters += [p for p in metric_loss.parameters() if p.requires_grad]
    if context.enabled:
        module = nn.parallel.DistributedDataParallel(
            module, device_ids=[device.index] if device.type == "cuda" else None
        )
    if config.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    else:
        kind = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
        optimizer = kind(parameters, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=config.lr_milestones, gamma=config.lr_gamma
    )

    # The dataset's num_batches and start_batch count batches over all processes; at each step
    # process r holds batch start_batch + world_size * step + r. A last batch that not every
    # process would get is left out, so that all processes take the same number of steps.
    per_epoch = int(dataset.num_batches) // context.world_size
    if per_epoch <= 0:
        raise ValueError(
            f"the dataset has {dataset.num_batches} batches per epoch, fewer than the "
            f"{context.world_size} processes"
        )
    total = config.epochs * per_epoch
    if config.max_iterations is not None:
        total = min(total, config.max_iterations)

    # ---- fresh start or resume
    history: list[dict[str, Any]] = []
    iteration = 0
    checkpoint_path = output_dir / CHECKPOINT_NAME if output_dir is not None else None
    if resume and checkpoint_path is not None and checkpoint_path.exists():
        saved = load_checkpoint(checkpoint_path)
        check_resumable(saved, config, context.world_size)
        try:
            controller.load_state_dict(saved["controller"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            if metric_loss is not None and saved.get("metric_loss") is not None:
                metric_loss.load_state_dict(saved["metric_loss"])
            set_rng_state(saved["rng"][context.rank])
        except (RuntimeError, KeyError, IndexError, TypeError, ValueError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DamagedFileError(checkpoint_path, f"does not fit this run ({reason[:300]})") from None
        iteration = int(saved["iteration"])
        history = list(saved["log"])
    else:
        torch.manual_seed(_train_seed(config.seed, context.rank))

    if output_dir is not None and context.is_main:
        if overwrite:
            clear_run(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        _write_json(
            output_dir / "config.json",
            {
                "config": config.to_dict(),
                "metric_loss": repr(metric_loss) if metric_loss is not None else None,
                "miner": repr(miner) if miner is not None else None,
                "lambda_e": lambda_e,
                "batch_size": None
                if config.loss == CUSTOM_LOSS and config.batch_size is None
                else config.resolved_batch_size(),
                "world_size": context.world_size,
                "iterations_per_epoch": per_epoch,
                "total_iterations": total,
                "controller": repr(controller),
            },
        )
        _write_jsonl(output_dir / "log.jsonl", history)  # drops records after the checkpoint

    def checkpoint() -> None:
        states = [rng_state()]
        if context.enabled:
            states = [None] * context.world_size
            torch.distributed.all_gather_object(states, rng_state())
        if checkpoint_path is None or not context.is_main:
            return
        save_checkpoint(
            {
                "controller": controller.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "metric_loss": metric_loss.state_dict() if metric_loss is not None else None,
                "iteration": iteration,
                "epoch": iteration // per_epoch,
                "step": iteration % per_epoch,  # steps done in the epoch, by every process
                "start_batch": iteration % per_epoch * context.world_size,  # the dataset's next batch
                "rng": states,
                "config": config.to_dict(),
                "world_size": context.world_size,
                "log": history,
            },
            checkpoint_path,
        )

    # ---- the loop
    log_stream = open(output_dir / "log.jsonl", "a") if output_dir is not None and context.is_main else None
    progress = None
    if config.progress and context.is_main:
        from tqdm.auto import tqdm

        progress = tqdm(
            total=total, initial=iteration, desc=f"pretrain {config.loss}", unit="it", dynamic_ncols=True
        )
    start_time = time.perf_counter()
    controller.train()
    try:
        while iteration < total:
            epoch, first_step = divmod(iteration, per_epoch)
            dataset.set_epoch(epoch)
            dataset.start_batch = first_step * context.world_size
            # Its own generator: a DataLoader draws a base seed when it starts iterating, and
            # drawing it from the global generator would shift dropout after a resume.
            loader = torch.utils.data.DataLoader(
                dataset,
                batch_size=None,
                num_workers=min(config.num_workers, available_cores()),  # never a process per request
                generator=torch.Generator().manual_seed(_train_seed(config.seed, epoch)),
            )
            for batch in loader:
                record = _step(
                    module,
                    controller,
                    batch,
                    loss_fn,
                    miner_fn,
                    lambda_e,
                    optimizer,
                    scheduler,
                    config,
                    context,
                    device,
                    iteration,
                )
                iteration += 1
                record.update(iteration=iteration, epoch=epoch, elapsed=time.perf_counter() - start_time)
                history.append(record)
                if log_stream is not None:
                    _append_record(log_stream, record)
                if progress is not None:
                    progress.update(1)
                    if iteration % config.log_interval == 0 or iteration == total:
                        progress.set_postfix(
                            loss=f"{record['loss']:.4f}",
                            tok=f"{record['token_acc']:.4f}",
                            cell=f"{record['cell_acc']:.3f}",
                            lr=f"{record['lr']:.3g}",
                        )
                if (
                    config.checkpoint_interval
                    and iteration % config.checkpoint_interval == 0
                    and iteration < total
                ):
                    checkpoint()
                if iteration >= total or iteration % per_epoch == 0:
                    break
            else:
                if iteration % per_epoch:
                    raise RuntimeError(
                        f"the dataset stopped after step {iteration % per_epoch} of epoch {epoch}, "
                        f"but num_batches says {per_epoch} steps"
                    )
            dataset.start_batch = 0
        checkpoint()
    finally:
        if progress is not None:
            progress.close()
        if log_stream is not None:
            log_stream.close()

    controller.eval()
    summary = _summary(history, total)
    if output_dir is not None and context.is_main:
        controller.save(output_dir / "controller.pt")
        _write_json(output_dir / "summary.json", summary)
    return PretrainResult(controller, history, config, output_dir, summary)


def _step(
    module: nn.Module,
    controller: nn.Module,
    batch: Any,
    loss_fn: Any,
    miner_fn: Any,
    lambda_e: float,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    config: PretrainConfig,
    context: DistContext,
    device: torch.device,
    iteration: int,
) -> dict[str, Any]:
    batch = batch.to(device)
    tokens = batch.tokens  # (B, 27)
    z, log_probs = module(batch)  # (B, D), (B, 27, 7)
    recon, correct_tokens, correct_cells = reconstruction_metrics(log_probs, tokens)
    loss = recon
    metric_value = None
    num_tuples = None
    if loss_fn is not None:
        labels = offset_labels(batch.label, context)
        indices_tuple = miner_fn(z, labels) if miner_fn is not None else None
        metric = loss_fn(z, labels, indices_tuple)
        loss = recon + lambda_e * metric
        metric_value = metric.detach() / context.world_size  # the distributed wrapper scales by it
        num_tuples = count_tuples(indices_tuple)
    lr = optimizer.param_groups[0]["lr"]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = None
    if config.grad_clip is not None:
        grad_norm = float(
            torch.nn.utils.clip_grad_norm_(
                [p for group in optimizer.param_groups for p in group["params"]], config.grad_clip
            )
        )
    optimizer.step()
    scheduler.step()

    # ---- figures of this iteration (over all processes)
    sums = torch.stack(
        [
            recon.detach() * tokens.numel(),
            correct_tokens.to(recon.dtype),
            correct_cells.to(recon.dtype),
            torch.tensor(float(tokens.numel()), device=device),
            torch.tensor(float(tokens.size(0)), device=device),
        ]
    )
    if context.enabled:
        torch.distributed.all_reduce(sums)
    recon_sum, tok, cells, num_tokens, num_cells = sums.tolist()
    metric_float = float(metric_value) if metric_value is not None else None
    record: dict[str, Any] = {
        "lr": lr,
        "loss": recon_sum / num_tokens + (lambda_e * metric_float if metric_float is not None else 0.0),
        "recon_loss": recon_sum / num_tokens,
        "metric_loss": metric_float,
        "num_tuples": num_tuples,
        "token_acc": tok / num_tokens,
        "cell_acc": cells / num_cells,
    }
    if grad_norm is not None:
        record["grad_norm"] = grad_norm
    if config.decode_interval and (iteration + 1) % config.decode_interval == 0:
        record["decode_acc"] = _decode_accuracy(
            controller, z.detach()[: config.decode_samples], tokens[: config.decode_samples]
        )
    return record


@torch.no_grad()
def _decode_accuracy(controller: nn.Module, z: torch.Tensor, tokens: torch.Tensor) -> float:
    """Share of cells that greedy decoding of their embedding gives back (same cell, by hash)."""
    from gnnas.space import ArchSpec

    was_training = controller.training
    controller.eval()
    try:
        decoded = controller.decode(z)
    finally:
        controller.train(was_training)
    hits = 0
    for spec, target in zip(decoded, tokens.tolist(), strict=True):
        hits += int(spec is not None and spec == ArchSpec.from_tokens(target))
    return hits / max(len(decoded), 1)


def _summary(history: list[dict[str, Any]], total: int, window: int = 50) -> dict[str, Any]:
    """Averages of the last ``window`` iterations."""
    tail = history[-window:]
    summary: dict[str, Any] = {"iterations": len(history), "total_iterations": total, "window": len(tail)}
    for key in ("loss", "recon_loss", "metric_loss", "token_acc", "cell_acc", "num_tuples"):
        values = [r[key] for r in tail if r.get(key) is not None]
        summary[key] = float(np.mean(values)) if values else None
    decoded = [r["decode_acc"] for r in history if "decode_acc" in r]
    summary["decode_acc"] = decoded[-1] if decoded else None
    if history:
        summary["elapsed"] = history[-1]["elapsed"]
    summary["finite"] = all(math.isfinite(r["loss"]) for r in history)
    return summary

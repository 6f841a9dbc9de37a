r"""Every setting of a pretraining run, in one dataclass that is saved as JSON beside the results.

The defaults are the paper's (Table 2): SGD with learning rate 1.0, multiplied by 0.2 at
iteration 6000, for 2 epochs over the anchors; the loss, its miner, the batch size and
:math:`\lambda_e` come from the named preset of :mod:`gnnas.pretrain.presets` unless overridden.

Example::

    >>> from gnnas.pretrain import PretrainConfig
    >>> config = PretrainConfig(loss="NoMetricLoss", max_iterations=200, seed=1)
    >>> config.resolved_batch_size(), config.resolved_lambda_e()
    (512, 0.0)
    >>> PretrainConfig.from_json(config.to_json()) == config
    True
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from gnnas.pretrain.presets import PRESET_NAMES, metric_loss_preset

__all__ = ["PretrainConfig"]

#: Fields that change neither the trained weights nor the log's figures (used by cache keys).
RUNTIME_FIELDS = frozenset(
    {
        "device",
        "num_workers",
        "log_interval",
        "checkpoint_interval",
        "progress",
        "decode_interval",
        "decode_samples",
    }
)

#: The optimizers :attr:`PretrainConfig.optimizer` can name.
OPTIMIZERS = ("sgd", "adam", "adamw")

#: The name recorded in :attr:`PretrainConfig.loss` when a loss object is passed in directly.
CUSTOM_LOSS = "custom"


@dataclass
class PretrainConfig:
    r"""Settings of :func:`~gnnas.pretrain.pretrain`.

    Args:
        loss (str, optional): a preset name from :data:`~gnnas.pretrain.presets.PRESET_NAMES`, or
            ``"custom"`` when a loss object is passed to :func:`~gnnas.pretrain.pretrain`.
            (default: :obj:`"MarginLoss"`)
        batch_size (int, optional): graphs per iteration over all processes, a multiple of
            ``(1 + num_positives) * world_size``; :obj:`None` takes the preset's.
            (default: :obj:`None`)
        lambda_e (float, optional): the weight :math:`\lambda_e` of the metric loss; :obj:`None`
            takes the preset's. (default: :obj:`None`)
        num_positives (int, optional): positives per anchor. (default: :obj:`7`)
        epochs (int, optional): passes over the anchors. (default: :obj:`2`)
        max_iterations (int, optional): stop after this many iterations (the schedule is not
            rescaled); :obj:`None` runs all ``epochs``. (default: :obj:`None`)
        optimizer (str, optional): ``"sgd"`` (the paper's), ``"adam"`` or ``"adamw"``.
            (default: :obj:`"sgd"`)
        lr (float, optional): learning rate. (default: :obj:`1.0`)
        momentum (float, optional): SGD momentum (ignored by Adam). (default: :obj:`0.0`)
        weight_decay (float, optional): weight decay. (default: :obj:`0.0`)
        lr_milestones (list[int], optional): iterations at which the learning rate is multiplied
            by ``lr_gamma`` (a :class:`~torch.optim.lr_scheduler.MultiStepLR` stepped every
            iteration). (default: :obj:`[6000]`)
        lr_gamma (float, optional): the decay factor. (default: :obj:`0.2`)
        grad_clip (float, optional): clip the gradients' total 2-norm to this value; :obj:`None`
            does not clip. (default: :obj:`None`)
        seed (int, optional): seeds the networks' initialisation, the positives and dropout.
            (default: :obj:`0`)
        encoder (dict, optional): keyword arguments of the default encoder
            (:class:`~gnnas.nn.GINEncoder`, ``encoder_kwargs`` of :class:`~gnnas.nn.NAOController`;
            ``out_channels`` sets the embedding size); ignored when a controller is passed in.
            (default: :obj:`{}`, the networks' defaults)
        decoder (dict, optional): keyword arguments of the default decoder
            (:class:`~gnnas.nn.GrammarDecoder`). (default: :obj:`{}`)
        device (str, optional): ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or
            ``"cuda:N"``. (default: :obj:`"auto"`)
        num_workers (int, optional): :class:`~torch.utils.data.DataLoader` workers making the
            positives, at most one per core (:func:`gnnas.workers.available_cores`); the weights
            do not depend on it. (default: :obj:`0`)
        log_interval (int, optional): iterations between progress-bar updates and summary log
            lines; every iteration is still written to ``log.jsonl``. (default: :obj:`50`)
        decode_interval (int, optional): every this many iterations, greedily decode the
            embeddings of ``decode_samples`` cells of the batch and log the share decoded exactly;
            :obj:`0` never. (default: :obj:`0`)
        decode_samples (int, optional): cells decoded at each ``decode_interval``.
            (default: :obj:`64`)
        checkpoint_interval (int, optional): iterations between checkpoints; :obj:`0` writes only
            the final one. (default: :obj:`1000`)
        progress (bool, optional): show a tqdm progress bar. (default: :obj:`True`)

    Raises:
        ValueError: if a value is out of range (checked on construction, see :meth:`validate`).

    Example:
        >>> from gnnas.pretrain import PretrainConfig
        >>> config = PretrainConfig(loss="AngularLoss", max_iterations=100)
        >>> config.resolved_batch_size(), config.classes_per_batch(), config.resolved_lambda_e()
        (256, 32, 0.1)
        >>> config.replace(optimizer="adam", lr=1e-3).optimizer
        'adam'
        >>> PretrainConfig(batch_size=100)
        Traceback (most recent call last):
        ValueError: batch_size 100 must be a multiple of (1 + num_positives) * world_size = (1 + 7) * 1 = 8
    """

    loss: str = "MarginLoss"
    batch_size: int | None = None
    lambda_e: float | None = None
    num_positives: int = 7
    epochs: int = 2
    max_iterations: int | None = None
    optimizer: str = "sgd"
    lr: float = 1.0
    momentum: float = 0.0
    weight_decay: float = 0.0
    lr_milestones: list[int] = field(default_factory=lambda: [6000])
    lr_gamma: float = 0.2
    grad_clip: float | None = None
    seed: int = 0
    encoder: dict[str, Any] = field(default_factory=dict)
    decoder: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    num_workers: int = 0
    log_interval: int = 50
    decode_interval: int = 0
    decode_samples: int = 64
    checkpoint_interval: int = 1000
    progress: bool = True

    def __post_init__(self) -> None:
        self.lr_milestones = (
            [int(m) for m in self.lr_milestones] if self._is_seq(self.lr_milestones) else self.lr_milestones
        )
        self.validate()

    @staticmethod
    def _is_seq(value: Any) -> bool:
        return isinstance(value, (list, tuple))

    # ------------------------------------------------------------------ checks
    def validate(self, world_size: int = 1) -> None:
        """Checks every value; called on construction and again by :func:`~gnnas.pretrain.pretrain`.

        Args:
            world_size (int, optional): number of processes the batch is split over. (default: :obj:`1`)

        Raises:
            ValueError: naming the first setting that is out of range and what was expected.
        """
        if self.loss != CUSTOM_LOSS and self.loss not in PRESET_NAMES:
            raise ValueError(
                f"unknown loss {self.loss!r}; expected one of {list(PRESET_NAMES)} (or {CUSTOM_LOSS!r} "
                "with a loss object passed to pretrain())"
            )

        def positive_int(name: str, value: Any, allow_zero: bool = False) -> None:
            ok = (
                isinstance(value, int)
                and not isinstance(value, bool)
                and (value >= 0 if allow_zero else value > 0)
            )
            if not ok:
                kind = "a non-negative" if allow_zero else "a positive"
                raise ValueError(f"{name} must be {kind} integer, got {value!r}")

        def finite(name: str, value: Any, low: float, low_ok: bool) -> None:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            ok = ok and (value >= low if low_ok else value > low)
            if not ok:
                raise ValueError(
                    f"{name} must be a finite number {'>=' if low_ok else '>'} {low}, got {value!r}"
                )

        positive_int("num_positives", self.num_positives)
        positive_int("epochs", self.epochs)
        if self.max_iterations is not None:
            positive_int("max_iterations", self.max_iterations)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        finite("lr", self.lr, 0.0, False)
        finite("momentum", self.momentum, 0.0, True)
        finite("weight_decay", self.weight_decay, 0.0, True)
        finite("lr_gamma", self.lr_gamma, 0.0, False)
        if self.lambda_e is not None:
            finite("lambda_e", self.lambda_e, 0.0, True)
        if self.grad_clip is not None:
            finite("grad_clip", self.grad_clip, 0.0, False)
        if (
            not self._is_seq(self.lr_milestones)
            or any(not isinstance(m, int) or m <= 0 for m in self.lr_milestones)
            or list(self.lr_milestones) != sorted(set(self.lr_milestones))
        ):
            raise ValueError(
                f"lr_milestones must be increasing positive integers, got {self.lr_milestones!r}"
            )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be a non-negative integer below 2**63, got {self.seed!r}")
        for name in ("encoder", "decoder"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name} must be a dict of keyword arguments, got {getattr(self, name)!r}")
        from gnnas.nn.controller import check_controller_arguments

        check_controller_arguments(encoder_kwargs=self.encoder, decoder_kwargs=self.decoder)
        if not isinstance(self.device, str) or not (
            self.device in ("auto", "cpu", "cuda")
            or (self.device.startswith("cuda:") and self.device[5:].isdigit())
        ):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        positive_int("num_workers", self.num_workers, allow_zero=True)
        positive_int("log_interval", self.log_interval)
        positive_int("decode_interval", self.decode_interval, allow_zero=True)
        positive_int("decode_samples", self.decode_samples)
        positive_int("checkpoint_interval", self.checkpoint_interval, allow_zero=True)
        positive_int("world_size", world_size)
        if self.batch_size is not None:
            positive_int("batch_size", self.batch_size)
        group = (1 + self.num_positives) * world_size
        if self.loss != CUSTOM_LOSS or self.batch_size is not None:
            batch_size = self.resolved_batch_size()
            if batch_size % group:
                raise ValueError(
                    f"batch_size {batch_size} must be a multiple of (1 + num_positives) * world_size = "
                    f"(1 + {self.num_positives}) * {world_size} = {group}"
                )
            if batch_size // group < 2:
                raise ValueError(
                    f"batch_size {batch_size} gives {batch_size // group} class per process; "
                    "metric learning needs at least 2"
                )

    # ------------------------------------------------------------------ resolved values
    def resolved_batch_size(self) -> int:
        """Returns the batch size the run uses.

        Returns:
            int: :attr:`batch_size`, or the preset's when it is :obj:`None`.

        Raises:
            ValueError: if the loss is ``"custom"`` and :attr:`batch_size` is :obj:`None`.
        """
        if self.batch_size is not None:
            return self.batch_size
        if self.loss == CUSTOM_LOSS:
            raise ValueError("a custom loss needs an explicit batch_size")
        return metric_loss_preset(self.loss).batch_size

    def resolved_lambda_e(self) -> float:
        """Returns the weight of the metric loss the run uses.

        Returns:
            float: :attr:`lambda_e`, or the preset's when it is :obj:`None` (1.0 for a custom loss).
        """
        if self.lambda_e is not None:
            return float(self.lambda_e)
        if self.loss == CUSTOM_LOSS:
            return 1.0
        return metric_loss_preset(self.loss).lambda_e

    def classes_per_batch(self, world_size: int = 1) -> int:
        """Returns the number of anchors (classes) in each process's batch.

        Args:
            world_size (int, optional): number of processes the batch is split over. (default: :obj:`1`)

        Returns:
            int: :meth:`resolved_batch_size` divided by ``(1 + num_positives) * world_size``.

        Raises:
            ValueError: as :meth:`resolved_batch_size`.
        """
        return self.resolved_batch_size() // ((1 + self.num_positives) * world_size)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Returns the settings as a JSON-ready dictionary.

        Returns:
            dict: one entry per field.
        """
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Returns the settings as an indented JSON string.

        Returns:
            str: :meth:`to_dict` as JSON, keys sorted.
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PretrainConfig:
        """Builds a config from :meth:`to_dict`'s output.

        Args:
            values (dict): settings by field name; missing fields take their defaults.

        Returns:
            PretrainConfig: the validated settings.

        Raises:
            ValueError: on unknown keys or values out of range.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown PretrainConfig settings {unknown}; expected names from {sorted(known)}"
            )
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> PretrainConfig:
        """Builds a config from :meth:`to_json`'s output.

        Args:
            text (str): a JSON object of settings.

        Returns:
            PretrainConfig: the validated settings.

        Raises:
            ValueError: if ``text`` is not valid JSON (:class:`json.JSONDecodeError`), or as
                :meth:`from_dict`.
        """
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> PretrainConfig:
        """Returns a copy with ``changes`` applied (and validated).

        Args:
            **changes: new values by field name.

        Returns:
            PretrainConfig: the new settings; this one is left as it is.

        Raises:
            ValueError: if a new value is out of range.
            TypeError: if a name is not a setting.
        """
        return dataclasses.replace(self, **changes)

    def result_dict(self) -> dict[str, Any]:
        """Returns the settings that determine the trained weights.

        Returns:
            dict: :meth:`to_dict` without the device, logging, progress and worker settings.
        """
        return {k: v for k, v in self.to_dict().items() if k not in RUNTIME_FIELDS}

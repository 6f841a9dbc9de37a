r"""Pretraining the NAO controller on the locality task (reconstruction + metric learning).

* :func:`pretrain` runs the loop (checkpoints, resume, data-parallel under ``torchrun``);
* :class:`PretrainConfig` holds every setting, the paper's by default;
* :func:`metric_loss_preset` gives the losses of the paper's Table 3 by name;
* :func:`pretrained_controller` returns the shipped controllers of the paper's settings
  (:mod:`gnnas.pretrain.shipped`), and trains once and caches the result for other settings;
* :func:`evaluate_reconstruction` measures how well a controller decodes cells back;
* :class:`~gnnas.pretrain.miners.FastTripletMarginMiner` and
  :class:`~gnnas.pretrain.miners.FastAngularMiner` mine the same triplets as
  pytorch-metric-learning's ``TripletMarginMiner`` and ``AngularMiner``, and
  :mod:`gnnas.pretrain.losses` computes the presets' losses to the same values, faster.

From the command line::

    python -m gnnas.pretrain --loss MarginLoss --iterations 2000 --out results/pretrain/run
    torchrun --nproc_per_node=2 -m gnnas.pretrain --loss MarginLoss --out results/pretrain/ddp
    python -m gnnas.pretrain --out results/pretrain/run --resume
"""

from gnnas.pretrain.cache import cache_root, pretrained_controller
from gnnas.pretrain.checkpoint import load_checkpoint, save_checkpoint
from gnnas.pretrain.config import PretrainConfig
from gnnas.pretrain.evaluation import evaluate_reconstruction
from gnnas.pretrain.miners import FastAngularMiner, FastTripletMarginMiner
from gnnas.pretrain.presets import NO_METRIC_LOSS, PRESET_NAMES, MetricLossPreset, metric_loss_preset
from gnnas.pretrain.shipped import (
    SHIPPED_SEED,
    is_shipped,
    load_shipped,
    shipped_config,
    shipped_info,
    shipped_log,
    shipped_presets,
)
from gnnas.pretrain.trainer import LOG_FIELDS, PretrainResult, pretrain, reconstruction_metrics

__all__ = [
    "pretrain",
    "PretrainConfig",
    "PretrainResult",
    "LOG_FIELDS",
    "reconstruction_metrics",
    "metric_loss_preset",
    "MetricLossPreset",
    "PRESET_NAMES",
    "NO_METRIC_LOSS",
    "pretrained_controller",
    "cache_root",
    "save_checkpoint",
    "load_checkpoint",
    "FastTripletMarginMiner",
    "FastAngularMiner",
    "evaluate_reconstruction",
    "SHIPPED_SEED",
    "is_shipped",
    "load_shipped",
    "shipped_config",
    "shipped_info",
    "shipped_log",
    "shipped_presets",
]

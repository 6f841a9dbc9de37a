r"""The metric-learning losses of the paper's Table 3, by name, in pytorch-metric-learning 2.x terms.

Pretraining minimises

.. math::
    \mathcal{L}_{pretrain} = \mathcal{L}_r + \lambda_e \, \mathcal{L}_e,

the reconstruction NLL of the 27 tokens plus :math:`\lambda_e` times a metric loss on the
embeddings, whose labels are the anchor index of each graph within its batch. Each preset fixes
the loss, its miner, the batch size (in graphs: 512 = 64 classes of 1 anchor + 7 positives) and
:math:`\lambda_e`, as the paper did (TMM(m) is ``TripletMarginMiner(margin=m,
type_of_triplets='semihard')``, AM(a) is ``AngularMiner(angle=a)``; the presets use the drop-ins
of :mod:`gnnas.pretrain.miners` and :mod:`gnnas.pretrain.losses`, subclasses of these classes that
return the same triplets and the same loss values many times faster):

==============================  ==================================  ========  =====  ====
loss                            arguments                           miner     batch  λ_e
==============================  ==================================  ========  =====  ====
AngularLoss                     alpha=45                            AM(20)    256    0.1
ContrastiveLoss                 pos_margin=0, neg_margin=0          TMM(0.1)  512    1.0
GeneralizedLiftedStructureLoss  pos_margin=0, neg_margin=1          TMM(0.1)  512    0.1
LiftedStructureLoss             pos_margin=0, neg_margin=1          TMM(0.1)  64     0.05
MarginLoss                      margin=0.2, nu=0, beta=1.2 (fixed)  TMM(0.2)  512    1.0
MultiSimilarityLoss             alpha=2, beta=30, base=1.0          AM(20)    512    1.0
NPairsLoss                      —                                   AM(20)    512    1.0
TripletMarginLoss               margin=0.1                          TMM(0.1)  512    1.0
NoMetricLoss (baseline)         —                                   —         512    0
==============================  ==================================  ========  =====  ====

Example::

    >>> from gnnas.pretrain import metric_loss_preset
    >>> preset = metric_loss_preset("MarginLoss")
    >>> loss, miner = preset.build()   # fresh pytorch-metric-learning objects
    >>> preset.batch_size, preset.lambda_e
    (512, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gnnas.pretrain.losses import (
    FastAngularLoss,
    FastContrastiveLoss,
    FastGeneralizedLiftedStructureLoss,
    FastLiftedStructureLoss,
    FastMarginLoss,
    FastMultiSimilarityLoss,
    FastNPairsLoss,
    FastTripletMarginLoss,
)
from gnnas.pretrain.miners import FastAngularMiner, FastTripletMarginMiner

__all__ = ["MetricLossPreset", "metric_loss_preset", "PRESET_NAMES", "NO_METRIC_LOSS"]

#: Name of the baseline trained with the reconstruction loss only.
NO_METRIC_LOSS = "NoMetricLoss"


@dataclass(frozen=True)
class MetricLossPreset:
    r"""A metric loss, its miner and the batch size and weight the paper trained it with.

    Args:
        name (str): the preset's name, e.g. ``"MarginLoss"``.
        make_loss (Callable[[], Any] | None): builds the pytorch-metric-learning loss;
            :obj:`None` for :data:`NO_METRIC_LOSS`.
        make_miner (Callable[[], Any] | None): builds the miner, or :obj:`None` for none.
        batch_size (int): graphs per iteration (classes × (1 + positives)).
        lambda_e (float): the weight :math:`\lambda_e` of the metric loss.
        description (str): the settings in words.

    Example:
        >>> from gnnas.pretrain import metric_loss_preset
        >>> preset = metric_loss_preset("AngularLoss")
        >>> preset.batch_size, preset.lambda_e, preset.description
        (256, 0.1, 'AngularLoss(alpha=45) + AngularMiner(angle=20)')
        >>> loss, miner = preset.build()
        >>> type(loss).__name__, miner
        ('FastAngularLoss', FastAngularMiner(angle=20))
        >>> metric_loss_preset("NoMetricLoss").build()
        (None, None)
    """

    name: str
    make_loss: Callable[[], Any] | None
    make_miner: Callable[[], Any] | None
    batch_size: int
    lambda_e: float
    description: str

    def build(self) -> tuple[Any, Any]:
        """Builds the preset's loss and miner.

        Returns:
            tuple: fresh ``(loss, miner)`` objects (pytorch-metric-learning's, or their drop-ins
            from :mod:`gnnas.pretrain.losses` and :mod:`gnnas.pretrain.miners`); either is
            :obj:`None` where the preset has none.
        """
        loss = self.make_loss() if self.make_loss is not None else None
        miner = self.make_miner() if self.make_miner is not None else None
        return loss, miner


def _semihard(margin: float) -> Callable[[], FastTripletMarginMiner]:
    # The same triplets as pml's TripletMarginMiner, without its dense B x B x B mask.
    return lambda: FastTripletMarginMiner(margin=margin, type_of_triplets="semihard")


def _angular() -> FastAngularMiner:
    # The same triplets as pml's AngularMiner, without its dense B x B x B mask.
    return FastAngularMiner(angle=20)


_PRESETS: dict[str, MetricLossPreset] = {
    preset.name: preset
    for preset in [
        MetricLossPreset(
            "AngularLoss",
            lambda: FastAngularLoss(alpha=45),
            _angular,
            256,
            0.1,
            "AngularLoss(alpha=45) + AngularMiner(angle=20)",
        ),
        MetricLossPreset(
            "ContrastiveLoss",
            lambda: FastContrastiveLoss(pos_margin=0, neg_margin=0),
            _semihard(0.1),
            512,
            1.0,
            "ContrastiveLoss(pos_margin=0, neg_margin=0) + TripletMarginMiner(0.1, semihard)",
        ),
        MetricLossPreset(
            "GeneralizedLiftedStructureLoss",
            lambda: FastGeneralizedLiftedStructureLoss(pos_margin=0, neg_margin=1),
            _semihard(0.1),
            512,
            0.1,
            "GeneralizedLiftedStructureLoss(pos_margin=0, neg_margin=1) + TripletMarginMiner(0.1, semihard)",
        ),
        MetricLossPreset(
            "LiftedStructureLoss",
            lambda: FastLiftedStructureLoss(pos_margin=0, neg_margin=1),
            _semihard(0.1),
            64,
            0.05,
            "LiftedStructureLoss(pos_margin=0, neg_margin=1) + TripletMarginMiner(0.1, semihard)",
        ),
        MetricLossPreset(
            "MarginLoss",
            lambda: FastMarginLoss(margin=0.2, nu=0, beta=1.2, learn_beta=False),
            _semihard(0.2),
            512,
            1.0,
            "MarginLoss(margin=0.2, nu=0, beta=1.2, learn_beta=False) + TripletMarginMiner(0.2, semihard)",
        ),
        MetricLossPreset(
            "MultiSimilarityLoss",
            lambda: FastMultiSimilarityLoss(alpha=2, beta=30, base=1.0),
            _angular,
            512,
            1.0,
            "MultiSimilarityLoss(alpha=2, beta=30, base=1.0) + AngularMiner(angle=20)",
        ),
        MetricLossPreset(
            "NPairsLoss",
            FastNPairsLoss,
            _angular,
            512,
            1.0,
            "NPairsLoss() + AngularMiner(angle=20)",
        ),
        MetricLossPreset(
            "TripletMarginLoss",
            lambda: FastTripletMarginLoss(margin=0.1),
            _semihard(0.1),
            512,
            1.0,
            "TripletMarginLoss(margin=0.1) + TripletMarginMiner(0.1, semihard)",
        ),
        MetricLossPreset(NO_METRIC_LOSS, None, None, 512, 0.0, "reconstruction loss only"),
    ]
}

#: The preset names, in the order of the paper's Table 3.
PRESET_NAMES: tuple[str, ...] = tuple(_PRESETS)


def metric_loss_preset(name: str) -> MetricLossPreset:
    """Returns the preset of the paper's Table 3 named ``name``.

    Args:
        name (str): one of :data:`PRESET_NAMES`, e.g. ``"MarginLoss"`` or ``"NoMetricLoss"``.

    Returns:
        MetricLossPreset: the loss and miner factories, the batch size and :math:`\\lambda_e`.

    Raises:
        ValueError: if ``name`` is not a known preset (the message lists the names).
    """
    try:
        return _PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown metric loss preset {name!r}; expected one of {list(PRESET_NAMES)}"
        ) from None

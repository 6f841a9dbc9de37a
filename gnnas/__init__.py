"""gnnas: pretraining NAS controllers with locality-based self-supervised learning, on PyG.

The names most work starts from; each subpackage documents the rest:
:mod:`gnnas.space` (cells, hash, enumeration), :mod:`gnnas.ged` (exact graph edit distance),
:mod:`gnnas.transforms` and :mod:`gnnas.datasets` (positives for pretraining),
:mod:`gnnas.nasbench` (benchmark data), :mod:`gnnas.nn` (encoder, decoder, NAO controller),
:mod:`gnnas.pretrain` (metric-learning pretraining), :mod:`gnnas.search` (NAO and baselines).
"""

from gnnas.datasets import LocalityDataset
from gnnas.ged import graph_edit_distance
from gnnas.nasbench import NASBench101, OutOfDomainError
from gnnas.nn import GINEncoder, NAOController

# Not the function `pretrain`: it would hide the subpackage gnnas.pretrain (use gnnas.pretrain.pretrain).
from gnnas.pretrain import PretrainConfig, metric_loss_preset, pretrained_controller
from gnnas.search import (
    BudgetExhausted,
    LocalSearch,
    NAOSearch,
    Oracle,
    RandomSearch,
    RegularizedEvolution,
    SearchResult,
)
from gnnas.space import ArchSpec
from gnnas.transforms import GraphEditAugment

__version__ = "0.1.0"

__all__ = [
    "ArchSpec",
    "graph_edit_distance",
    "NASBench101",
    "OutOfDomainError",
    "GraphEditAugment",
    "LocalityDataset",
    "NAOController",
    "GINEncoder",
    "PretrainConfig",
    "metric_loss_preset",
    "pretrained_controller",
    "Oracle",
    "BudgetExhausted",
    "NAOSearch",
    "RandomSearch",
    "RegularizedEvolution",
    "LocalSearch",
    "SearchResult",
    "__version__",
]

"""gnnas: pretraining NAS controllers with locality-based self-supervised learning, on PyG."""

from gnnas.nasbench import NASBench101, OutOfDomainError
from gnnas.ged import graph_edit_distance
from gnnas.space import ArchSpec
from gnnas.nn import GINEncoder, NAOController
from gnnas.transforms import GraphEditAugment
from gnnas.datasets import LocalityDataset
# not the function `pretrain`: it would hide the subpackage gnnas.pretrain (use gnnas.pretrain.pretrain)
from gnnas.pretrain import PretrainConfig, metric_loss_preset, pretrained_controller
from gnnas.search import (
    BudgetExhausted, LocalSearch, NAOSearch, Oracle, RandomSearch, RegularizedEvolution, SearchResult,
)

__version__ = "0.1.0"

__all__ = ["ArchSpec", "graph_edit_distance", "NASBench101", "OutOfDomainError", "GraphEditAugment", "LocalityDataset", "NAOController", "GINEncoder", "PretrainConfig", "metric_loss_preset", "pretrained_controller", "Oracle", "BudgetExhausted", "NAOSearch", "RandomSearch", "RegularizedEvolution", "LocalSearch", "SearchResult", "__version__"]

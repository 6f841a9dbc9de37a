"""gnnas: pretraining NAS controllers with locality-based self-supervised learning, on PyG.

The names most work starts from; each subpackage documents the rest:
:mod:`gnnas.space` (cells, hash, enumeration), :mod:`gnnas.ged` (exact graph edit distance),
:mod:`gnnas.transforms` and :mod:`gnnas.datasets` (positives for pretraining),
:mod:`gnnas.nasbench` (benchmark data), :mod:`gnnas.nn` (encoder, decoder, NAO controller),
:mod:`gnnas.pretrain` (metric-learning pretraining), :mod:`gnnas.search` (NAO and baselines).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names are imported on first use (see __getattr__)
    from gnnas.datasets import LocalityDataset
    from gnnas.ged import graph_edit_distance
    from gnnas.nasbench import NASBench101, OutOfDomainError
    from gnnas.nn import GINEncoder, NAOController
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

# Where each name of __all__ lives. Importing `gnnas` itself is instant: torch and PyG load with the
# first name used, so that the `gnnas` command has its error handling in place before the heavy
# imports (Ctrl-C during its start is one line, not a traceback).
# Not the function `pretrain`: it would hide the subpackage gnnas.pretrain (use gnnas.pretrain.pretrain).
_HOMES = {
    "LocalityDataset": "gnnas.datasets",
    "graph_edit_distance": "gnnas.ged",
    "NASBench101": "gnnas.nasbench",
    "OutOfDomainError": "gnnas.nasbench",
    "GINEncoder": "gnnas.nn",
    "NAOController": "gnnas.nn",
    "PretrainConfig": "gnnas.pretrain",
    "metric_loss_preset": "gnnas.pretrain",
    "pretrained_controller": "gnnas.pretrain",
    "BudgetExhausted": "gnnas.search",
    "LocalSearch": "gnnas.search",
    "NAOSearch": "gnnas.search",
    "Oracle": "gnnas.search",
    "RandomSearch": "gnnas.search",
    "RegularizedEvolution": "gnnas.search",
    "SearchResult": "gnnas.search",
    "ArchSpec": "gnnas.space",
    "GraphEditAugment": "gnnas.transforms",
}


#: The subpackages, imported on first use as attributes too (``import gnnas; gnnas.space``).
_SUBPACKAGES = ("analysis", "data", "datasets", "ged", "nasbench", "nn", "pretrain", "search", "space",
                "transforms", "cli", "files", "flags", "workers")


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value  # the next look-up is a plain attribute
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"gnnas.{name}")
    raise AttributeError(f"module 'gnnas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


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

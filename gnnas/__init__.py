"""gnnas: pretraining NAS controllers with locality-based self-supervised learning, on PyG."""

from gnnas.space import ArchSpec
from gnnas.transforms import GraphEditAugment
from gnnas.datasets import LocalityDataset

__version__ = "0.1.0"

__all__ = ["ArchSpec", "GraphEditAugment", "LocalityDataset", "__version__"]

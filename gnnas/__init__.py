"""gnnas: pretraining NAS controllers with locality-based self-supervised learning, on PyG."""

from gnnas.space import ArchSpec

__version__ = "0.1.0"

__all__ = ["ArchSpec", "__version__"]

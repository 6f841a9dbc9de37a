"""The NAS-Bench-101 search space: cells, their hash and tokens, and the whole space enumerated."""

from gnnas.space.hashing import module_hash
from gnnas.space.ops import (
    CONV1X1,
    CONV3X3,
    HASH_LABEL,
    INPUT,
    INTERIOR_OPS,
    MAX_EDGES,
    MAX_VERTICES,
    MAXPOOL3X3,
    OP_INDEX,
    OPS,
    OUTPUT,
)
from gnnas.space.spec import ArchSpec, prune

__all__ = [
    "ArchSpec", "prune", "module_hash",
    "INPUT", "OUTPUT", "CONV3X3", "CONV1X1", "MAXPOOL3X3", "OPS", "INTERIOR_OPS", "OP_INDEX",
    "HASH_LABEL", "MAX_VERTICES", "MAX_EDGES",
]

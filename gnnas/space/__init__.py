"""The NAS-Bench-101 search space: a cell (:class:`ArchSpec`) and many cells (:class:`CellArray`), their
hash, tokens and hand-made encodings, and the whole space enumerated."""

from gnnas.space.cell_array import CellArray
from gnnas.space.encodings import NUM_PATHS, ONEHOT_SIZE, onehot_encoding, path_encoding
from gnnas.space.enumerate import (
    NUM_CELLS,
    CacheWarning,
    CellNotFoundError,
    CellSpace,
    cache_path,
    default_cache_dir,
    enumerate_cells,
    pack_cells,
    resolve_cache_dir,
    sample_cells,
)
from gnnas.space.hashing import hash_cells, module_hash
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
from gnnas.space.spec import ArchSpec, kept_vertices, prune

__all__ = [
    "ArchSpec", "CellArray", "prune", "kept_vertices", "module_hash",
    "INPUT", "OUTPUT", "CONV3X3", "CONV1X1", "MAXPOOL3X3", "OPS", "INTERIOR_OPS", "OP_INDEX",
    "HASH_LABEL", "MAX_VERTICES", "MAX_EDGES",
    "hash_cells", "enumerate_cells", "CellSpace", "CellNotFoundError", "CacheWarning", "pack_cells",
    "sample_cells", "default_cache_dir", "resolve_cache_dir", "cache_path", "NUM_CELLS",
    "onehot_encoding", "path_encoding", "ONEHOT_SIZE", "NUM_PATHS",
]

r"""The whole NAS-Bench-101 search space, enumerated, hashed, cached and sampled.

NAS-Bench-101 holds 423,624 unique cells. :func:`enumerate_cells` returns all of them, one
representative each, ordered by their official module hash, as a :class:`CellSpace`::

    >>> from gnnas.space import enumerate_cells
    >>> space = enumerate_cells()          # about 10 s the first time, then read from the cache
    >>> len(space)
    423624
    >>> spec = space[0]                    # an ArchSpec
    >>> space.index_of(spec.hash)
    0
    >>> cells = space.sample(100, seed=0)  # uniform over the unique cells, without replacement
    >>> space.matrices.shape, space.op_indices.shape, space.num_vertices.shape
    ((423624, 7, 7), (423624, 7), (423624,))

How the enumeration works. A pruned cell is a *full* DAG: every vertex but the output has an
out-edge and every vertex but the input an in-edge. There are 1,293,208 labelled full DAGs of
2..7 vertices with at most 9 edges (4,793 adjacency patterns of 7 vertices, 1,545 of 6, ...,
each with :math:`3^{V-2}` labellings of the interior vertices). They are grouped by an integer
Weisfeiler–Lehman refinement with the structure of the official hash, vectorised in numpy over all
labelled DAGs at once:

.. math::
    h_v^{(0)} = \phi(\deg^+(v), \deg^-(v), \ell(v)), \qquad
    h_v^{(t+1)} = \phi\Big(\sum_{u \to v} \psi(h_u^{(t)}),\;
    \sum_{v \to w} \psi(h_w^{(t)}),\; h_v^{(t)}\Big),

with :math:`V` rounds and 64-bit mixing functions :math:`\phi, \psi` (splitmix64), and the cell
fingerprint :math:`\phi(\sum_v \psi(h_v^{(V)}))`. Sums of mixed values stand for the sorted
concatenations of the official hash, so the fingerprint is a function of the official hash's
refinement; the tests check that it separates exactly the same classes (all cells of up to 6
vertices against the official hash, a random sample of 7-vertex ones, and the 423,624 total).
The official MD5 hash (:func:`~gnnas.space.hashing.hash_cells`) then runs once per class. The
representative of a class is the first labelled DAG of the class in the order of the official
generator (adjacency bits ascending, then labellings in :func:`itertools.product` order). The
official data set stores this same matrix for most cells but another member of the class for some
(965 of the 30,001 cells of ``nb101_subset_30k.csv``): match cells by hash, never by matrix.

The result is cached as an ``.npz`` file (12 MB) in ``$GNNAS_CACHE_DIR``, or else
``$XDG_CACHE_HOME/gnnas``, or else ``~/.cache/gnnas``, and kept in memory for the rest of the
process.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from gnnas.space.cell_array import CellArray
from gnnas.space.hashing import _digests_to_hex, _hash_digests, _sort_keys, module_hash
from gnnas.space.ops import INTERIOR_OPS, MAX_EDGES, MAX_VERTICES, OP_INDEX, OPS, OUTPUT
from gnnas.space.spec import ArchSpec

if TYPE_CHECKING:
    import torch

__all__ = [
    "CellSpace", "CellNotFoundError", "CacheWarning", "enumerate_cells", "pack_cells", "sample_cells",
    "default_cache_dir", "resolve_cache_dir", "cache_path", "NUM_CELLS",
]

#: Number of unique cells of NAS-Bench-101.
NUM_CELLS = 423_624

#: Unique cells with at most ``V`` vertices.
CELLS_UP_TO: dict[int, int] = {2: 1, 3: 7, 4: 91, 5: 2_532, 6: 64_542, 7: 423_624}

#: Full-DAG adjacency patterns with exactly ``V`` vertices and at most 9 edges.
FULL_DAG_PATTERNS: dict[int, int] = {2: 1, 3: 2, 4: 10, 5: 121, 6: 1_545, 7: 4_793}

#: Version of the cache file layout; a cache of another version is rebuilt.
FORMAT_VERSION = 1

_CACHE_NAME = f"nasbench101_cells_v{FORMAT_VERSION}.npz"

#: The edges ``(i, j)`` in the bit order of the official generator: bit ``j * (j - 1) // 2 + i``.
_EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for j in range(MAX_VERTICES) for i in range(j))

_MEMO: dict[Path, CellSpace] = {}


class CellNotFoundError(KeyError):
    """Raised by :meth:`CellSpace.index_of` when a hash is not one of the space's cells."""


class CacheWarning(UserWarning):
    """Warned when the on-disk cache is unreadable or stale (it is rebuilt) or cannot be written."""


# ------------------------------------------------------------------------------------------ packing
def pack_cells(cells: Sequence[ArchSpec]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deprecated: the arrays of :meth:`CellArray.from_specs(cells) <gnnas.space.CellArray.from_specs>`.

    Args:
        cells (Sequence[ArchSpec]): the cells.

    Returns:
        tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]: ``(matrices, op_indices,
        num_vertices)`` of the :class:`~gnnas.space.CellArray`.

    Raises:
        ValueError: if an element is not a cell.
    """
    warnings.warn("pack_cells is deprecated; use gnnas.space.CellArray.from_specs(cells)", DeprecationWarning,
                  stacklevel=2)
    cells = CellArray.from_specs(cells)
    return cells.matrices, cells.op_indices, cells.num_vertices


# ------------------------------------------------------------------------------------------ the space
class CellSpace(Sequence[ArchSpec]):
    r"""All unique NAS-Bench-101 cells, ordered by hash, backed by a :class:`~gnnas.space.CellArray`.

    Made by :func:`enumerate_cells`; indexing builds :class:`~gnnas.space.ArchSpec` objects on
    demand (their :attr:`~gnnas.space.ArchSpec.hash` is already known), while :attr:`cells` and
    its arrays serve vectorised work directly. All arrays are read-only.

    Args:
        cells (CellArray): the cells, with their hashes, sorted by hash.

    Attributes:
        cells (CellArray): the cells as arrays; every function that takes many cells accepts it,
            or the space itself.
        hashes (numpy.ndarray): the official module hashes, 32-hex strings (``<U32``), sorted
            ascending, shape :math:`(N,)`.
        matrices (numpy.ndarray): ``uint8`` adjacency, the pruned matrix of each cell in the
            top-left ``V × V`` corner, zeros elsewhere, shape :math:`(N, 7, 7)`.
        op_indices (numpy.ndarray): ``int8`` index in :data:`~gnnas.space.ops.OPS` of each vertex's
            op (input 0, conv3x3 1, conv1x1 2, maxpool 3, output 4), ``-1`` beyond ``V``; vertex
            ``V - 1`` is the output; shape :math:`(N, 7)`.
        num_vertices (numpy.ndarray): ``int8`` number of vertices ``V`` of each cell, shape
            :math:`(N,)`.

    Raises:
        ValueError: if ``cells`` is not a :class:`~gnnas.space.CellArray`.
    """

    def __init__(self, cells: CellArray) -> None:
        if not isinstance(cells, CellArray):
            raise ValueError(f"cells must be a CellArray, got {type(cells).__name__}")
        self.cells = cells
        self.hashes = cells.hashes
        self.matrices = cells.matrices
        self.op_indices = cells.op_indices
        self.num_vertices = cells.num_vertices

    def __len__(self) -> int:
        return len(self.hashes)

    def _spec(self, index: int) -> ArchSpec:
        return self.cells.spec(index)

    @overload
    def __getitem__(self, index: int) -> ArchSpec: ...

    @overload
    def __getitem__(self, index: slice | Sequence[int] | np.ndarray) -> list[ArchSpec]: ...

    def __getitem__(self, index: Any) -> ArchSpec | list[ArchSpec]:
        """Returns the cell at ``index`` (an ``int``), or a list of cells for a slice, a sequence
        of ``int`` or an integer or boolean array.

        Raises:
            IndexError: if an index is out of range.
            TypeError: if ``index`` is of another kind.
        """
        count = len(self)
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            position = int(index)
            if not -count <= position < count:
                raise IndexError(f"cell index {position} out of range for a space of {count} cells")
            return self._spec(position % count)
        if isinstance(index, slice):
            return [self._spec(i) for i in range(*index.indices(count))]
        array = np.asarray(index)
        if array.dtype == np.bool_:
            if array.shape != (count,):
                raise IndexError(f"a boolean mask must have shape ({count},), got {array.shape}")
            array = np.flatnonzero(array)
        if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
            raise TypeError(
                f"cells are indexed by int, slice or a 1-D integer array, got {type(index).__name__}"
            )
        if array.size and (array.min() < -count or array.max() >= count):
            raise IndexError(f"cell indices out of range for a space of {count} cells")
        return [self._spec(int(i) % count) for i in array]

    def __iter__(self) -> Iterator[ArchSpec]:
        for i in range(len(self)):
            yield self._spec(i)

    def __contains__(self, item: object) -> bool:
        try:
            self.index_of(item)  # type: ignore[arg-type]
        except (CellNotFoundError, ValueError):
            return False
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_cells={len(self)})"

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """:meth:`index_of` with the contract of :meth:`list.index`.

        Args:
            value (str or ArchSpec): a cell, or its module hash.
            start (int, optional): the first position that counts. (default: :obj:`0`)
            stop (int, optional): the position after the last that counts. (default: :obj:`None`,
                the end)

        Returns:
            int: the cell's position.

        Raises:
            ValueError: if the cell is not in the space or not in ``[start, stop)``, or ``value``
                is neither a cell nor a 32-hex string.
        """
        try:
            position = self.index_of(value)
        except CellNotFoundError as error:
            raise ValueError(str(error)) from None
        if not start <= position < (len(self) if stop is None else stop):
            raise ValueError(f"cell {value!r} is at index {position}, outside [{start}, {stop})")
        return position

    def count(self, value: Any) -> int:
        """Counts a cell in the space, as :meth:`list.count`.

        Args:
            value (str or ArchSpec): a cell, or its module hash.

        Returns:
            int: 1 if the cell is in the space, else 0 (the cells are unique).
        """
        return int(value in self)

    def index_of(self, cell: str | ArchSpec) -> int:
        """Position of a cell in the space (which is ordered by hash).

        Args:
            cell (str or ArchSpec): a cell, or its module hash (32 lowercase hex digits).

        Returns:
            int: the index ``i`` with ``space.hashes[i] == hash``.

        Raises:
            CellNotFoundError: (a :class:`KeyError`) if no cell of the space has this hash.
            ValueError: if ``cell`` is neither an :class:`~gnnas.space.ArchSpec` nor a 32-hex string.
        """
        if isinstance(cell, ArchSpec):
            key = cell.hash
        elif isinstance(cell, str):
            key = cell
            if len(key) != 32 or not set(key) <= set("0123456789abcdef"):
                raise ValueError(f"a module hash is 32 lowercase hex digits, got {cell!r}")
        else:
            raise ValueError(f"expected an ArchSpec or a module hash string, got {type(cell).__name__}")
        position = int(np.searchsorted(self.hashes, key))
        if position == len(self) or self.hashes[position] != key:
            raise CellNotFoundError(f"no cell with hash {key!r} in the space")
        return position

    def sample_indices(
        self,
        num: int,
        *,
        replace: bool = False,
        seed: int | None = None,
        generator: np.random.Generator | torch.Generator | None = None,
    ) -> np.ndarray:
        """Draws cell indices uniformly at random (see :meth:`sample`).

        Args:
            num (int): how many indices.
            replace (bool, optional): draw with replacement. (default: :obj:`False`)
            seed (int, optional): seed of a fresh :func:`numpy.random.default_rng`.
                (default: :obj:`None`)
            generator (numpy.random.Generator or torch.Generator, optional): the source of
                randomness, instead of ``seed``. (default: :obj:`None`)

        Returns:
            numpy.ndarray: ``int64`` indices, shape ``(num,)``.

        Raises:
            ValueError: as :meth:`sample`.
        """
        return _sample_indices(len(self), num, replace, seed, generator)

    def sample(
        self,
        num: int,
        *,
        replace: bool = False,
        seed: int | None = None,
        generator: np.random.Generator | torch.Generator | None = None,
    ) -> list[ArchSpec]:
        """Draws cells uniformly at random from the unique cells of the space.

        Every unique cell (not every labelled graph) is equally likely, as in the random search of
        NAS-Bench-101. The same ``seed`` gives the same cells.

        Args:
            num (int): how many cells.
            replace (bool, optional): draw with replacement. (default: :obj:`False`)
            seed (int, optional): seed of a fresh :func:`numpy.random.default_rng`.
                (default: :obj:`None`)
            generator (numpy.random.Generator or torch.Generator, optional): the source of
                randomness, instead of ``seed``. (default: :obj:`None`)

        Returns:
            list[ArchSpec]: ``num`` cells; distinct unless ``replace``.

        Raises:
            ValueError: if ``num`` is negative or not an integer, larger than the space without
                replacement, if both ``seed`` and ``generator`` are given, or if they have the
                wrong type.
        """
        return self[self.sample_indices(num, replace=replace, seed=seed, generator=generator)]

    def counts_by_num_vertices(self) -> dict[int, int]:
        """Counts the cells by size.

        Returns:
            dict[int, int]: the number of cells with exactly ``V`` vertices, for ``V`` = 2..7.
        """
        sizes, counts = np.unique(self.num_vertices, return_counts=True)
        return {int(v): int(c) for v, c in zip(sizes, counts, strict=True)}


def _sample_indices(
    total: int,
    num: int,
    replace: bool,
    seed: int | None,
    generator: np.random.Generator | torch.Generator | None,
) -> np.ndarray:
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"num must be a non-negative int, got {num!r}")
    num = int(num)
    if not replace and num > total:
        raise ValueError(f"cannot draw {num} distinct cells from a space of {total}; use replace=True")
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if generator is None:
        bad_type = isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
        if seed is not None and (bad_type or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        generator = np.random.default_rng(seed)
    if isinstance(generator, np.random.Generator):
        if replace:
            return generator.integers(0, total, size=num, dtype=np.int64)
        return generator.choice(total, size=num, replace=False).astype(np.int64)
    import torch

    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a numpy or torch Generator, got {type(generator).__name__}")
    if replace:
        return torch.randint(total, (num,), generator=generator).numpy().astype(np.int64)
    return torch.randperm(total, generator=generator)[:num].numpy().astype(np.int64)


def sample_cells(
    num: int,
    *,
    replace: bool = False,
    seed: int | None = None,
    generator: np.random.Generator | torch.Generator | None = None,
    space: CellSpace | None = None,
) -> list[ArchSpec]:
    """Draws cells uniformly at random from the unique cells of NAS-Bench-101.

    A shortcut for ``enumerate_cells().sample(...)``; see :meth:`CellSpace.sample` for the
    arguments.

    Args:
        num (int): how many cells.
        replace (bool, optional): draw with replacement. (default: :obj:`False`)
        seed (int, optional): seed of a fresh :func:`numpy.random.default_rng`. (default: :obj:`None`)
        generator (numpy.random.Generator or torch.Generator, optional): the source of randomness,
            instead of ``seed``. (default: :obj:`None`)
        space (CellSpace, optional): the space to draw from. (default: :func:`enumerate_cells`)

    Returns:
        list[ArchSpec]: the cells.

    Raises:
        ValueError: as :meth:`CellSpace.sample`.
    """
    if space is None:
        space = enumerate_cells(progress=False)
    return space.sample(num, replace=replace, seed=seed, generator=generator)


# ------------------------------------------------------------------------------------------ enumeration
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, a bijection of 64-bit integers (returns a new array)."""
    x = x ^ (x >> np.uint64(30))
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _full_dag_patterns(num_vertices: int) -> np.ndarray:
    """Adjacency of every full DAG of ``V`` vertices with at most 9 edges, in the official order.

    Returns:
        numpy.ndarray: ``uint8``, shape ``(P, V, V)``, ordered by the generator's edge bits.
    """
    edges = [(i, j) for j in range(num_vertices) for i in range(j)]
    bits = np.arange(1 << len(edges), dtype=np.int64)
    has_out = np.zeros((len(bits), num_vertices), dtype=bool)
    has_in = np.zeros((len(bits), num_vertices), dtype=bool)
    for k, (i, j) in enumerate(edges):
        edge = ((bits >> k) & 1).astype(bool)
        has_out[:, i] |= edge
        has_in[:, j] |= edge
    full = has_out[:, :-1].all(axis=1) & has_in[:, 1:].all(axis=1)
    full &= np.bitwise_count(bits) <= MAX_EDGES
    chosen = bits[full]
    patterns = np.zeros((len(chosen), num_vertices, num_vertices), dtype=np.uint8)
    for k, (i, j) in enumerate(edges):
        patterns[:, i, j] = (chosen >> k) & 1
    return patterns


def _labellings(num_vertices: int) -> np.ndarray:
    """Op indices (in :data:`OPS`) of every labelling, in :func:`itertools.product` order, (L, V)."""
    interior = [OP_INDEX[op] for op in INTERIOR_OPS]
    inner = list(itertools.product(interior, repeat=num_vertices - 2))
    labels = np.empty((len(inner), num_vertices), dtype=np.int8)
    labels[:, 0] = OP_INDEX["input"]
    labels[:, -1] = OP_INDEX[OUTPUT]
    labels[:, 1:-1] = np.array(inner, dtype=np.int8).reshape(len(inner), num_vertices - 2)
    return labels


def _wl_fingerprints(patterns: np.ndarray, labellings: np.ndarray, chunk: int = 64) -> np.ndarray:
    """Integer Weisfeiler–Lehman fingerprints of every (pattern, labelling) pair, shape (P, L) uint64."""
    num_patterns, num_vertices = patterns.shape[:2]
    labels = labellings.astype(np.uint64)  # (L, V)
    result = np.empty((num_patterns, len(labellings)), dtype=np.uint64)
    for start in range(0, num_patterns, chunk):
        adjacency = patterns[start:start + chunk].astype(np.uint64)  # (c, V, V)
        transposed = np.ascontiguousarray(adjacency.transpose(0, 2, 1))
        out_degree = adjacency.sum(axis=2)[:, None, :]  # (c, 1, V)
        in_degree = adjacency.sum(axis=1)[:, None, :]
        h = _mix((out_degree << np.uint64(8)) + (in_degree << np.uint64(4)) + labels[None] + np.uint64(1))
        for _ in range(num_vertices):  # (c, L, V)
            g = _mix(h ^ _GOLDEN)
            from_in = np.matmul(g, adjacency)  # sum over in-neighbours u -> v
            from_out = np.matmul(g, transposed)  # sum over out-neighbours v -> w
            from_out += _mix(h)
            h = _mix(from_in ^ _mix(from_out))
        result[start:start + chunk] = _mix(_mix(h ^ _GOLDEN).sum(axis=2) + np.uint64(num_vertices))
    return result


def _classes(num_vertices: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Representatives of the classes of labelled full DAGs of ``V`` vertices.

    Returns:
        tuple: ``(patterns (P, V, V), labellings (L, V), first)``, with ``first`` the flat index
        ``p * L + l`` of the first labelled DAG of each class, in the order of the official generator.
    """
    patterns = _full_dag_patterns(num_vertices)
    labellings = _labellings(num_vertices)
    fingerprints = _wl_fingerprints(patterns, labellings).ravel()
    _, first = np.unique(fingerprints, return_index=True)
    return patterns, labellings, np.sort(first)


def _build(progress: bool = True) -> CellSpace:
    """Enumerates and hashes the whole space (no cache)."""
    from tqdm.auto import tqdm

    sizes = range(2, MAX_VERTICES + 1)
    matrices, op_indices, num_vertices = [], [], []
    with tqdm(total=len(sizes) + 2, desc="Enumerating NAS-Bench-101", disable=not progress) as bar:
        for size in sizes:
            patterns, labellings, first = _classes(size)
            pattern, labelling = np.divmod(first, len(labellings))
            block = np.zeros((len(first), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
            block[:, :size, :size] = patterns[pattern]
            ops = np.full((len(first), MAX_VERTICES), -1, dtype=np.int8)
            ops[:, :size] = labellings[labelling]
            matrices.append(block)
            op_indices.append(ops)
            num_vertices.append(np.full(len(first), size, dtype=np.int8))
            bar.update()
        matrices_all = np.concatenate(matrices)
        op_indices_all = np.concatenate(op_indices)
        num_vertices_all = np.concatenate(num_vertices)
        bar.set_postfix_str("MD5")
        digests = _hash_digests(matrices_all, op_indices_all, num_vertices_all)
        bar.update()
        high, low = _sort_keys(digests)
        order = np.lexsort((low, high))
        cells = CellArray(matrices_all[order], op_indices_all[order], _digests_to_hex(digests[order]),
                          validate=False)  # checked by _check_space below
        space = CellSpace(cells)
        bar.update()
    problem = _check_space(space)
    if problem:
        raise RuntimeError(f"the enumeration went wrong ({problem}); please report this as a bug")
    return space


def _check_space(space: CellSpace, spot_checks: int = 32) -> str | None:
    """Cheap consistency checks of a space; returns what is wrong, or ``None``."""
    if len(space) != NUM_CELLS:
        return f"{len(space)} cells instead of {NUM_CELLS}"
    counts = space.counts_by_num_vertices()
    up_to = dict(zip(counts, np.cumsum(list(counts.values())).tolist(), strict=True))
    if up_to != CELLS_UP_TO:
        return f"cells with at most V vertices {up_to}, expected {CELLS_UP_TO}"
    if not (space.hashes[1:] > space.hashes[:-1]).all():
        return "hashes are not strictly increasing"
    size = space.num_vertices.astype(np.int64)
    columns = np.arange(MAX_VERTICES)
    ops = space.op_indices
    inside = columns[None, :] < size[:, None]
    if (ops[~inside] != -1).any() or (ops[:, 0] != OP_INDEX["input"]).any() \
            or (ops[np.arange(len(space)), size - 1] != OP_INDEX[OUTPUT]).any():
        return "op_indices do not have input first, output last and -1 padding"
    interior = inside & (columns[None, :] > 0) & (columns[None, :] < size[:, None] - 1)
    if not np.isin(ops[interior], [OP_INDEX[op] for op in INTERIOR_OPS]).all():
        return "interior op_indices outside conv3x3, conv1x1, maxpool3x3"
    upper = np.triu(np.ones((MAX_VERTICES, MAX_VERTICES), dtype=bool), k=1)
    allowed = upper[None] & inside[:, :, None] & inside[:, None, :]
    if (space.matrices[~allowed] != 0).any() or (space.matrices.sum(axis=(1, 2)) > MAX_EDGES).any():
        return "matrices are not strictly upper triangular within V x V with at most 9 edges"
    for i in np.linspace(0, len(space) - 1, spot_checks).astype(np.int64).tolist():
        size_i = int(space.num_vertices[i])
        ops_i = [OPS[k] for k in space.op_indices[i, :size_i]]
        if module_hash(space.matrices[i, :size_i, :size_i], ops_i) != space.hashes[i]:
            return f"the stored hash of cell {i} differs from its module hash"
    return None


# ------------------------------------------------------------------------------------------ the cache
def default_cache_dir() -> Path:
    """Returns the gnnas cache folder.

    Returns:
        pathlib.Path: ``$GNNAS_CACHE_DIR``, else ``$XDG_CACHE_HOME/gnnas``, else ``~/.cache/gnnas``.
    """
    if os.environ.get("GNNAS_CACHE_DIR"):
        return Path(os.environ["GNNAS_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "gnnas"


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Returns ``cache_dir`` (``~`` expanded), else :func:`default_cache_dir`.

    Args:
        cache_dir (str or os.PathLike, optional): the cache folder; :obj:`None` takes
            :func:`default_cache_dir`. (default: :obj:`None`)

    Returns:
        pathlib.Path: the cache folder (not created).

    Raises:
        ValueError: if ``cache_dir`` is an empty string (which would mean the working folder).
    """
    if cache_dir is None:
        return default_cache_dir()
    if os.fspath(cache_dir) == "":
        raise ValueError("the cache folder must be a folder's name, got an empty string")
    return Path(cache_dir).expanduser()


def cache_path(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Returns the file in which :func:`enumerate_cells` caches the space.

    Args:
        cache_dir (str or os.PathLike, optional): the cache folder; :obj:`None` takes
            :func:`default_cache_dir`. (default: :obj:`None`)

    Returns:
        pathlib.Path: the absolute path of the cache file in that folder.
    """
    return (resolve_cache_dir(cache_dir) / _CACHE_NAME).absolute()


def _edge_bits(matrices: np.ndarray) -> np.ndarray:
    bits = np.zeros(len(matrices), dtype=np.uint32)
    for k, (i, j) in enumerate(_EDGES):
        bits |= matrices[:, i, j].astype(np.uint32) << np.uint32(k)
    return bits


def _save(space: CellSpace, path: Path) -> None:
    """Writes the space atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digests = np.frombuffer(bytes.fromhex("".join(space.hashes.tolist())), dtype=np.uint8).reshape(-1, 16)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(
                file,
                format_version=np.array(FORMAT_VERSION, dtype=np.int64),
                edge_bits=_edge_bits(space.matrices),
                op_indices=space.op_indices,
                num_vertices=space.num_vertices,
                digests=digests,
            )
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _CacheError(Exception):
    pass


def _load(path: Path) -> CellSpace:
    """Reads and checks a cache file; raises :class:`_CacheError` saying what is wrong."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # a truncated or corrupt zip, a bad CRC, not an npz at all
        raise _CacheError(f"unreadable ({type(error).__name__}: {error})") from error
    expected = {"format_version", "edge_bits", "op_indices", "num_vertices", "digests"}
    if set(arrays) != expected:
        raise _CacheError(f"arrays {sorted(arrays)}, expected {sorted(expected)}")
    if arrays["format_version"].shape != () or int(arrays["format_version"]) != FORMAT_VERSION:
        raise _CacheError(f"format version {arrays['format_version']}, expected {FORMAT_VERSION}")
    shapes = {"edge_bits": ((NUM_CELLS,), np.uint32), "op_indices": ((NUM_CELLS, MAX_VERTICES), np.int8),
              "num_vertices": ((NUM_CELLS,), np.int8), "digests": ((NUM_CELLS, 16), np.uint8)}
    for name, (shape, dtype) in shapes.items():
        if arrays[name].shape != shape or arrays[name].dtype != dtype:
            raise _CacheError(f"{name} has shape {arrays[name].shape} and dtype {arrays[name].dtype}")
    bits = arrays["edge_bits"]
    matrices = np.zeros((NUM_CELLS, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    for k, (i, j) in enumerate(_EDGES):
        matrices[:, i, j] = (bits >> np.uint32(k)) & np.uint32(1)
    hashes = _digests_to_hex(arrays["digests"])
    if (arrays["num_vertices"] != (arrays["op_indices"] >= 0).sum(axis=1)).any():
        raise _CacheError("num_vertices disagrees with op_indices")
    space = CellSpace(CellArray(matrices, arrays["op_indices"], hashes, validate=False))  # checked below
    problem = _check_space(space)
    if problem:
        raise _CacheError(problem)
    return space


def enumerate_cells(cache_dir: str | os.PathLike[str] | None = None, progress: bool = True) -> CellSpace:
    r"""Returns every unique cell of NAS-Bench-101, one representative each, ordered by hash.

    The first call enumerates and hashes the space (about 10 s on two CPU cores) and writes a cache
    file; later calls read it (well under a second); within one process the result is memoised, so
    repeated calls cost nothing. A cache file that is unreadable, of another format version or fails
    the consistency checks is rebuilt, with a :class:`CacheWarning`.

    Args:
        cache_dir (str or os.PathLike, optional): folder of the cache file.
            (default: :func:`default_cache_dir`: ``$GNNAS_CACHE_DIR``, else
            ``$XDG_CACHE_HOME/gnnas``, else ``~/.cache/gnnas``)
        progress (bool, optional): show a progress bar while enumerating. (default: :obj:`True`)

    Returns:
        CellSpace: the 423,624 cells.

    Raises:
        RuntimeError: if the enumeration fails its own consistency checks (a bug).
    """
    path = cache_path(cache_dir)
    space = _MEMO.get(path)
    if space is not None:
        return space
    space = None
    if path.exists():
        try:
            space = _load(path)
        except _CacheError as error:
            warnings.warn(f"rebuilding the cell cache {path}: {error}", CacheWarning, stacklevel=2)
    if space is None:
        space = _build(progress)
        try:
            _save(space, path)
        except OSError as error:
            warnings.warn(f"could not write the cell cache {path}: {error}", CacheWarning, stacklevel=2)
    _MEMO[path] = space
    return space

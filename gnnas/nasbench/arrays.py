r"""The compact, array-based form of a NAS-Bench-101 table, and its on-disk cache.

Every table (from the official TFRecord file or from a CSV) becomes one
:class:`NASBenchArrays`: numpy arrays aligned with the sorted cell hashes. ``N`` cells, ``E``
epoch budgets, ``R`` repeats:

========================  ========================  ====================================================
array                     shape, dtype              content
========================  ========================  ====================================================
``hashes``                ``(N,)`` ``<U32``         official module hashes, sorted
``adjacency``             ``(N,)`` ``uint64``       bit ``7 * i + j`` is the edge ``i → j``
``num_vertices``          ``(N,)`` ``uint8``        ``V``, input and output included
``ops``                   ``(N, 7)`` ``int8``       index into :data:`~gnnas.space.ops.OPS`, ``-1`` pad
``trainable_parameters``  ``(N,)`` ``int64``        parameters of the network
``epochs``                ``(E,)`` ``int64``        the epoch budgets, ascending
``num_repeats``           ``(N, E)`` ``uint8``      training runs held per cell and budget
``metrics``               ``(N, E, R, 2, 4)``       ``[..., stage, field]``; stage 0 halfway, 1 final;
                          ``float64``               fields :data:`METRIC_FIELDS`; ``NaN`` where absent
``available``             ``(E, 2, 4)`` ``bool``    which (budget, stage, field) the source holds
========================  ========================  ====================================================

The cache is a folder of ``.npy`` files plus ``meta.json`` (written last: a folder without it
is incomplete and ignored), which records a CRC-32C checksum of every file; ``metrics`` is
memory-mapped on load, so loading takes well under a second even for the full file. A cache
with a missing, truncated or damaged file fails its checksum on load and is rebuilt from the
source (:meth:`NASBench101.from_tfrecord <gnnas.nasbench.NASBench101.from_tfrecord>`); the
staging folder of a conversion that was killed is removed by the next one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from gnnas.space.cell_array import CellArray, pack_matrices, unpack_words
from gnnas.space.enumerate import default_cache_dir
from gnnas.space.ops import MAX_VERTICES, OP_INDEX, OPS

__all__ = [
    "NASBenchArrays", "METRIC_FIELDS", "STAGES", "CACHE_VERSION", "default_cache_dir",
    "pack_adjacency", "encode_ops", "find_bad_cell", "cell_strings", "remove_stale_staging",
]

#: The per-run metrics, in the order of the last axis of ``NASBenchArrays.metrics``.
METRIC_FIELDS: tuple[str, ...] = ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")

#: The two evaluation points of a run, in the order of the ``stage`` axis.
STAGES: tuple[str, ...] = ("halfway", "final")

#: Version of the cache layout; a cache written with another version is rebuilt. (2: ``meta.json``
#: records a CRC-32C checksum of every file.)
CACHE_VERSION = 2

_ARRAY_NAMES = ("hashes", "adjacency", "num_vertices", "ops", "trainable_parameters", "epochs",
                "num_repeats", "metrics", "available")


def pack_adjacency(bits: np.ndarray, num_vertices: np.ndarray) -> np.ndarray:
    """Packs row-major ``V × V`` adjacency bits of cells of mixed sizes into ``uint64`` words.

    Args:
        bits (numpy.ndarray): 0/1 array of shape ``(N, 49)``; row ``n`` holds cell ``n``'s
            ``V_n * V_n`` row-major bits first, zeros after.
        num_vertices (numpy.ndarray): ``V_n`` per cell, shape ``(N,)``, values 1..7.

    Returns:
        numpy.ndarray: shape ``(N,)`` ``uint64``, bit ``7 * i + j`` set for the edge ``i → j`` (the
        words of :meth:`CellArray.pack <gnnas.space.CellArray.pack>`).
    """
    bits = np.asarray(bits)
    num_vertices = np.asarray(num_vertices)
    grid = np.zeros((len(bits), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    for size in np.unique(num_vertices).tolist():
        rows = np.flatnonzero(num_vertices == size)
        grid[rows, :size, :size] = bits[rows, : size * size].reshape(-1, size, size)
    return pack_matrices(grid)


def find_bad_cell(hashes: np.ndarray, adjacency: np.ndarray, ops: np.ndarray,
                  num_vertices: np.ndarray) -> tuple[int, str] | None:
    """Finds the first cell that is not valid, or whose stated hash is not its own.

    A cell must be valid after pruning (the output reachable from the input, at most
    :data:`~gnnas.space.ops.MAX_EDGES` edges and :data:`~gnnas.space.ops.MAX_VERTICES` vertices)
    and its stated hash must be the official hash of the pruned cell. The hashes are recomputed
    vectorised (:func:`~gnnas.space.hash_cells`); only the cells that need pruning, have too many
    edges or hash differently are looked at one by one, through :class:`~gnnas.space.ArchSpec`.

    Args:
        hashes (numpy.ndarray): ``(N,)`` stated hashes.
        adjacency (numpy.ndarray): ``(N,)`` packed adjacency words (:func:`pack_adjacency`).
        ops (numpy.ndarray): ``(N, 7)`` op indices, ``-1`` padded.
        num_vertices (numpy.ndarray): ``(N,)`` vertex counts.

    Returns:
        tuple[int, str] or None: the index of the first bad cell and what is wrong with it, or
        :obj:`None` if every cell is right.
    """
    from gnnas.space.hashing import hash_cells
    from gnnas.space.ops import MAX_EDGES
    from gnnas.space.spec import ArchSpec

    if len(hashes) == 0:
        return None
    matrices = unpack_words(adjacency).astype(bool)  # (N, 7, 7)
    sizes = np.asarray(num_vertices, dtype=np.int64)
    present = np.arange(MAX_VERTICES) < sizes[:, None]  # (N, 7)
    from_input = np.zeros_like(present)
    from_input[:, 0] = True
    for j in range(1, MAX_VERTICES):  # edges go from lower to higher vertices: one sweep
        from_input[:, j] = (from_input[:, :j] & matrices[:, :j, j]).any(axis=1)
    to_output = np.arange(MAX_VERTICES) == (sizes - 1)[:, None]
    for i in range(MAX_VERTICES - 2, -1, -1):
        to_output[:, i] |= (matrices[:, i, i + 1:] & to_output[:, i + 1:]).any(axis=1)
    needs_pruning = (present & ~(from_input & to_output)).any(axis=1)
    computed = hash_cells(matrices.astype(np.uint8), np.asarray(ops, dtype=np.int64), sizes)
    suspect = needs_pruning | (matrices.sum(axis=(1, 2)) > MAX_EDGES) | (computed != np.asarray(hashes))
    for k in np.flatnonzero(suspect).tolist():
        size = int(sizes[k])
        try:
            own = ArchSpec(matrices[k, :size, :size].astype(np.uint8),
                           [OPS[code] for code in np.asarray(ops)[k, :size].tolist()]).hash
        except ValueError as error:
            return k, str(error) if str(error).startswith("invalid cell") else f"invalid cell: {error}"
        if own != str(hashes[k]):
            return k, f"the stated hash {hashes[k]} is not the cell's own, {own}"
    return None


def encode_ops(operations: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turns comma-separated op strings into op-index rows.

    Args:
        operations (numpy.ndarray): ``(N,)`` array of strings like ``"input,maxpool3x3,output"``.

    Returns:
        tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]: ``ops`` ``(N, 7)`` ``int8`` (``-1``
        padded), ``num_vertices`` ``(N,)`` ``uint8``, and a boolean mask ``(N,)`` of the rows whose
        ops are malformed (unknown names, not ``input`` first and ``output`` last, or more than 7).
    """
    unique, inverse = np.unique(np.asarray(operations).astype(str), return_inverse=True)
    codes = np.full((len(unique), MAX_VERTICES), -1, dtype=np.int8)
    sizes = np.zeros(len(unique), dtype=np.uint8)
    bad = np.zeros(len(unique), dtype=bool)
    for k, text in enumerate(unique.tolist()):
        names = text.split(",")
        if not (2 <= len(names) <= MAX_VERTICES and names[0] == OPS[0] and names[-1] == OPS[-1]
                and all(name in OP_INDEX for name in names)
                and OPS[0] not in names[1:-1] and OPS[-1] not in names[1:-1]):
            bad[k] = True
            continue
        codes[k, : len(names)] = [OP_INDEX[name] for name in names]
        sizes[k] = len(names)
    inverse = inverse.reshape(-1)
    return codes[inverse], sizes[inverse], bad[inverse]


def cell_strings(adjacency: np.ndarray, ops: np.ndarray,
                 num_vertices: np.ndarray) -> tuple[list[str], list[str]]:
    """Turns packed cells back into the strings of the official file (the inverse of
    :func:`pack_adjacency` and :func:`encode_ops`).

    Args:
        adjacency (numpy.ndarray): ``(N,)`` packed adjacency words.
        ops (numpy.ndarray): ``(N, 7)`` op indices, ``-1`` padded.
        num_vertices (numpy.ndarray): ``(N,)`` vertex counts ``V``.

    Returns:
        tuple[list[str], list[str]]: per cell, the row-major ``V × V`` adjacency as a ``0``/``1``
        string, and the ``V`` comma-separated op names.
    """
    num_vertices = np.asarray(num_vertices)
    bits = unpack_words(adjacency)  # (N, 7, 7)
    matrices = np.empty(len(num_vertices), dtype=object)
    for size in np.unique(num_vertices).tolist():
        rows = np.flatnonzero(num_vertices == size)
        text = (bits[rows, :size, :size].reshape(len(rows), -1) + ord("0")).astype(np.uint8)
        matrices[rows] = np.frombuffer(text.tobytes(), dtype=f"S{size * size}").astype(str)
    unique, inverse = np.unique(np.asarray(ops, dtype=np.int8), axis=0, return_inverse=True)
    names = [",".join(OPS[code] for code in row if code >= 0) for row in unique.tolist()]
    return matrices.tolist(), [names[k] for k in inverse.reshape(-1).tolist()]


@dataclass
class NASBenchArrays:
    """A NAS-Bench-101 table as aligned numpy arrays (see the module docstring for the layout).

    Args:
        hashes (numpy.ndarray): ``(N,)`` sorted module hashes.
        adjacency (numpy.ndarray): ``(N,)`` packed adjacency words.
        num_vertices (numpy.ndarray): ``(N,)`` vertex counts.
        ops (numpy.ndarray): ``(N, 7)`` op indices, ``-1`` padded.
        trainable_parameters (numpy.ndarray): ``(N,)`` parameter counts.
        epochs (numpy.ndarray): ``(E,)`` epoch budgets, ascending.
        num_repeats (numpy.ndarray): ``(N, E)`` runs per cell and budget.
        metrics (numpy.ndarray): ``(N, E, R, 2, 4)`` metrics, ``NaN`` where absent.
        available (numpy.ndarray): ``(E, 2, 4)`` which metrics the source holds.
        source (str): where the table came from (for messages and ``repr``).

    Raises:
        ValueError: if the arrays' shapes disagree or the hashes are not sorted and unique.

    Example:
        >>> from gnnas import NASBench101
        >>> arrays = NASBench101.bundled().arrays
        >>> arrays.num_cells, arrays.epochs.tolist()
        (30001, [4, 12, 36, 108])
        >>> arrays.metrics.shape          # (cells, budgets, repeats, halfway/final, metrics)
        (30001, 4, 1, 2, 4)
    """

    hashes: np.ndarray
    adjacency: np.ndarray
    num_vertices: np.ndarray
    ops: np.ndarray
    trainable_parameters: np.ndarray
    epochs: np.ndarray
    num_repeats: np.ndarray
    metrics: np.ndarray
    available: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.hashes)
        e = len(self.epochs)
        checks = {
            "adjacency": (n,), "num_vertices": (n,), "ops": (n, MAX_VERTICES),
            "trainable_parameters": (n,), "num_repeats": (n, e), "available": (e, 2, len(METRIC_FIELDS)),
        }
        for name, shape in checks.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {getattr(self, name).shape}")
        if self.metrics.ndim != 5 or self.metrics.shape[:2] != (n, e) or self.metrics.shape[3:] != (2, 4):
            raise ValueError(f"metrics must have shape ({n}, {e}, R, 2, 4), got {self.metrics.shape}")
        if n > 1 and not (self.hashes[1:] > self.hashes[:-1]).all():
            raise ValueError("hashes must be sorted and unique")

    @property
    def num_cells(self) -> int:
        """int: number of cells ``N``."""
        return len(self.hashes)

    @cached_property
    def cells(self) -> CellArray:
        """CellArray: the cells of the table, aligned with :attr:`hashes` (unpacked once).

        Raises:
            ValueError: naming the source, if a stored cell is not a pruned cell.
        """
        try:
            return CellArray.unpack(self.adjacency, self.ops, self.hashes)
        except ValueError as error:
            raise ValueError(f"{self.source or 'table'}: {error}") from None

    def save(self, folder: str | os.PathLike, meta: dict | None = None) -> None:
        """Writes the arrays into ``folder`` atomically (a temporary folder, then a rename).

        ``meta.json``, written last, records the CRC-32C checksum of every array file, which
        :meth:`load` verifies. Staging folders left by a writer that was killed are removed first
        (:func:`remove_stale_staging`).

        Args:
            folder (str or os.PathLike): the cache folder; an existing one is replaced.
            meta (dict, optional): extra JSON-serialisable facts kept in ``meta.json`` (such as
                the source file's size and modification time). (default: :obj:`None`)
        """
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(folder)
        staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(folder), dir=folder.parent))
        try:
            checksums = {}
            for name in _ARRAY_NAMES:
                array = getattr(self, name)
                if name == "hashes":
                    array = array.astype("S32")
                np.save(staging / f"{name}.npy", np.ascontiguousarray(array))
                checksums[f"{name}.npy"] = _crc32c(staging / f"{name}.npy")
            facts = {"version": CACHE_VERSION, "source": self.source, **(meta or {}), "crc32c": checksums}
            (staging / "meta.json").write_text(json.dumps(facts, indent=1))
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    @staticmethod
    def read_meta(folder: str | os.PathLike) -> dict | None:
        """Returns the ``meta.json`` facts of a cache folder.

        Args:
            folder (str or os.PathLike): the cache folder.

        Returns:
            dict or None: the facts, or :obj:`None` if the folder's ``meta.json`` is missing or
            unreadable (an incomplete cache).
        """
        try:
            meta = json.loads((Path(folder) / "meta.json").read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    @classmethod
    def load(cls, folder: str | os.PathLike) -> NASBenchArrays:
        """Loads arrays written by :meth:`save`, after checking their checksums; ``metrics`` is
        memory-mapped read-only.

        Args:
            folder (str or os.PathLike): the cache folder.

        Returns:
            NASBenchArrays: the table.

        Raises:
            FileNotFoundError: if the folder is missing or incomplete.
            ValueError: naming the file, if it was written with another cache version, or a file
                is missing, truncated, damaged or not of the expected shape (a torn cache).
        """
        folder = Path(folder)
        meta = cls.read_meta(folder)
        if meta is None:
            raise FileNotFoundError(f"no complete NAS-Bench-101 cache in {folder}")
        if meta.get("version") != CACHE_VERSION:
            raise ValueError(f"cache {folder} has version {meta.get('version')}, expected {CACHE_VERSION}")
        checksums = meta.get("crc32c") if isinstance(meta.get("crc32c"), dict) else {}
        arrays = {}
        for name in _ARRAY_NAMES:
            path = folder / f"{name}.npy"
            try:
                if _crc32c(path) != checksums.get(path.name):
                    raise ValueError("its checksum does not match meta.json: truncated or damaged")
                arrays[name] = np.load(path, mmap_mode="r" if name == "metrics" else None, allow_pickle=False)
            except OSError as error:
                raise ValueError(f"{path}: {error.strerror or error}") from None
            except (ValueError, EOFError) as error:
                raise ValueError(f"{path}: {error}") from None
        try:
            arrays["hashes"] = arrays["hashes"].astype("U32")
            return cls(**arrays, source=meta.get("source", ""))
        except (ValueError, TypeError) as error:
            raise ValueError(f"{folder}: not a NAS-Bench-101 cache ({error})") from None


def _crc32c(path: Path) -> int:
    """CRC-32C of a file, read in blocks (fast, in C: ``google-crc32c``)."""
    import google_crc32c

    checksum = google_crc32c.Checksum()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 22), b""):
            checksum.update(block)
    return int.from_bytes(checksum.digest(), "big")


def _staging_prefix(folder: Path) -> str:
    return f"{folder.name}.tmp-{os.getpid()}@{socket.gethostname()}."


def remove_stale_staging(folder: str | os.PathLike) -> list[Path]:
    """Removes the staging folders of ``folder`` left by a writer that was killed.

    A staging folder is named ``<folder>.tmp-<pid>@<host>.<random>``; it is stale when its
    process, on this host, no longer runs (one of another host is left alone). Staging folders
    of gnnas 0.1.0, named ``<folder>.tmp-<random>``, are always stale.

    Args:
        folder (str or os.PathLike): the cache folder.

    Returns:
        list[pathlib.Path]: the staging folders removed.
    """
    folder = Path(folder)
    removed = []
    pattern = re.compile(re.escape(folder.name) + r"\.tmp-(?:(\d+)@(.*)\.)?[A-Za-z0-9_]+")
    try:
        entries = list(folder.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_dir():
            continue
        if match.group(1) is not None:
            if match.group(2) != socket.gethostname() or _running(int(match.group(1))):
                continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True

r"""A table in one compact file, and the NAS-Bench-101 sample that ships with gnnas.

gnnas carries 30,001 real NAS-Bench-101 cells (an unbiased sample of the 423,624, with their
one-repeat validation accuracy at 4, 12, 36 and 108 epochs, training time at 108 epochs and
parameter count) in the package data file :data:`BUNDLED_FILE`, so that every example, test and
benchmark has real data without a download::

    >>> from gnnas import NASBench101
    >>> table = NASBench101.bundled(seed=0)       # about 0.1 s
    >>> len(table), table.best()
    (30001, ('096f593e0f12d65f6220bf8565b764a9', 0.949118...))

The file is a numpy ``.npz`` archive (read with ``allow_pickle=False``: it can hold no code) of
the arrays of :class:`~gnnas.nasbench.arrays.NASBenchArrays` in a smaller form; ``N`` cells,
``E`` budgets, ``R`` repeats, ``K`` metrics the table holds:

========================  ==========================  ===============================================
member                    shape, dtype                content
========================  ==========================  ===============================================
``format``                ``(1,)`` ``int64``          :data:`COMPACT_FORMAT`
``hashes``                ``(N, 16)`` ``uint8``       the MD5 digests of the module hashes, sorted
``adjacency``             ``(N,)`` ``uint64``         bit ``7 * i + j`` is the edge ``i → j``
``num_vertices``          ``(N,)`` ``uint8``          ``V``
``ops``                   ``(N, 7)`` ``int8``         indices into :data:`~gnnas.space.ops.OPS`; ``-1``
``trainable_parameters``  ``(N,)`` ``int32``          parameters of the network
``epochs``                ``(E,)`` ``int64``          the epoch budgets
``num_repeats``           ``(N, E)`` ``uint8``        runs held per cell and budget
``available``             ``(E, 2, 4)`` ``bool``      which (budget, stage, field) the table holds
``metrics``               ``(N, R, K)`` ``float32``   the held metrics, in the order of ``available``
========================  ==========================  ===============================================

The metrics are stored as ``float32``: NAS-Bench-101's values are ``float32`` numbers written as
doubles, so nothing is lost (:func:`save_compact` refuses a value that ``float32`` would change),
and the table read back is equal, value for value, to the one written.

Provenance and licence of the bundled sample: the metrics are NAS-Bench-101's (Ying et al.,
"NAS-Bench-101: Towards Reproducible Neural Architecture Search", ICML 2019), released under the
Apache License 2.0 by `google-research/nasbench <https://github.com/google-research/nasbench>`_;
the 30,001-cell sample was published by the nasbench-vis project (tiga1231/nasbench-vis) and
joined to each cell's adjacency and ops by the module hash. ``gnnas/data/README.md`` (next to
the file) says the same.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import numpy as np

from gnnas.nasbench.arrays import NASBenchArrays

__all__ = ["COMPACT_FORMAT", "BUNDLED_FILE", "save_compact", "load_compact", "load_bundled"]

#: Version of the compact layout; a file of another version is refused.
COMPACT_FORMAT = 1

#: The name of the bundled sample in the package data folder ``gnnas/data/``.
BUNDLED_FILE = "nasbench101_30k.npz"

_MEMBERS = ("format", "hashes", "adjacency", "num_vertices", "ops", "trainable_parameters", "epochs",
            "num_repeats", "available", "metrics")
_INT32 = np.iinfo(np.int32)


def save_compact(arrays: NASBenchArrays, path: str | os.PathLike) -> None:
    """Writes a table as one compact ``.npz`` file (a temporary name, then a rename).

    Args:
        arrays (NASBenchArrays): the table.
        path (str or os.PathLike): the file to write; an existing file is replaced.

    Raises:
        ValueError: if a metric is not a ``float32`` number (it would be changed by storing it), a
            metric the table does not hold is not ``NaN``, or a parameter count does not fit
            ``int32``.
    """
    path = Path(path)
    available = np.asarray(arrays.available, dtype=bool)
    runs = np.moveaxis(np.asarray(arrays.metrics), 2, 1)  # (N, R, E, 2, 4)
    held = runs[:, :, available]  # (N, R, K)
    values = held.astype(np.float32)
    exact = (values.astype(np.float64) == held) | (np.isnan(held) & np.isnan(values))
    _refuse(arrays, ~exact.all(axis=(1, 2)), "a metric is not a float32 number")
    _refuse(arrays, ~np.isnan(runs[:, :, ~available]).all(axis=(1, 2)),
            "a metric that the table marks absent has a value")
    params = np.asarray(arrays.trainable_parameters)
    _refuse(arrays, (params < _INT32.min) | (params > _INT32.max), "the parameter count does not fit int32")
    digests = np.frombuffer(bytes.fromhex("".join(arrays.hashes.tolist())), dtype=np.uint8)
    members = {
        "format": np.array([COMPACT_FORMAT], dtype=np.int64),
        "hashes": digests.reshape(arrays.num_cells, 16),
        "adjacency": np.asarray(arrays.adjacency, dtype=np.uint64),
        "num_vertices": np.asarray(arrays.num_vertices, dtype=np.uint8),
        "ops": np.asarray(arrays.ops, dtype=np.int8),
        "trainable_parameters": params.astype(np.int32),
        "epochs": np.asarray(arrays.epochs, dtype=np.int64),
        "num_repeats": np.asarray(arrays.num_repeats, dtype=np.uint8),
        "available": available,
        "metrics": values,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f"{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(staging, "xb") as file:  # permissions as for any new file (umask)
            np.savez_compressed(file, **members)
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def _refuse(arrays: NASBenchArrays, bad: np.ndarray, reason: str) -> None:
    if bad.any():
        raise ValueError(f"cannot store the table in the compact format: {reason} "
                         f"(cell {arrays.hashes[int(np.flatnonzero(bad)[0])]})")


def load_compact(file: str | os.PathLike | BinaryIO, source: str | None = None) -> NASBenchArrays:
    """Reads a table written by :func:`save_compact`.

    Args:
        file (str, os.PathLike or BinaryIO): the ``.npz`` file.
        source (str, optional): where the table came from, for messages and ``repr``
            (default: the path).

    Returns:
        NASBenchArrays: the table; metrics as ``float64``, ``NaN`` where absent.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: naming the file, if it is not a compact table of this format version.
    """
    name = source or (os.fspath(file) if isinstance(file, (str, os.PathLike)) else getattr(file, "name", "?"))
    try:
        with np.load(file, allow_pickle=False) as archive:
            missing = [member for member in _MEMBERS if member not in archive.files]
            if missing:
                raise ValueError(f"missing members {missing}")
            data = {member: archive[member] for member in _MEMBERS}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{name}: not a gnnas compact table ({error})") from None
    version = data["format"].tolist()
    if version != [COMPACT_FORMAT]:
        raise ValueError(f"{name}: compact table format {version}, expected [{COMPACT_FORMAT}]")
    available = data["available"]
    digests = data["hashes"]
    values = data["metrics"]
    try:
        num_cells, num_repeats = len(digests), values.shape[1]
        if digests.shape != (num_cells, 16) or available.dtype != bool or values.shape != (
                num_cells, num_repeats, int(available.sum())):
            raise ValueError("inconsistent member shapes")
        runs = np.full((num_cells, num_repeats, *available.shape), np.nan)  # (N, R, E, 2, 4)
        runs[:, :, available] = values
        hashes = np.frombuffer(digests.tobytes().hex().encode("ascii"), dtype="S32").astype("U32")
        return NASBenchArrays(
            hashes=hashes,
            adjacency=data["adjacency"].astype(np.uint64),
            num_vertices=data["num_vertices"].astype(np.uint8),
            ops=data["ops"].astype(np.int8),
            trainable_parameters=data["trainable_parameters"].astype(np.int64),
            epochs=data["epochs"].astype(np.int64),
            num_repeats=data["num_repeats"].astype(np.uint8),
            metrics=np.ascontiguousarray(np.moveaxis(runs, 1, 2)),  # (N, E, R, 2, 4)
            available=available,
            source=name,
        )
    except (ValueError, IndexError) as error:
        raise ValueError(f"{name}: not a valid compact table ({error})") from None


def load_bundled() -> NASBenchArrays:
    """Reads the NAS-Bench-101 sample that ships with gnnas (:data:`BUNDLED_FILE`).

    Returns:
        NASBenchArrays: 30,001 cells, budgets 4, 12, 36 and 108, one run each.

    Raises:
        FileNotFoundError: if the package was installed without its data file.
    """
    resource = resources.files("gnnas") / "data" / BUNDLED_FILE
    with resource.open("rb") as file:
        return load_compact(file, source=f"gnnas/data/{BUNDLED_FILE}")

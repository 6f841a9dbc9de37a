r"""The NAS-Bench-101 query API, without TensorFlow.

:class:`NASBench101` answers the queries of the official ``nasbench.api.NASBench`` with the same
names, keys and budget counters, so search code can be ported by changing the import. Here on
the sample that ships with gnnas; the official file loads the same way, once converted::

    >>> from gnnas import ArchSpec, NASBench101
    >>> nasbench = NASBench101.from_tfrecord("nasbench_only108.tfrecord", seed=0)  # doctest: +SKIP
    >>> nasbench = NASBench101.bundled(seed=0)   # 30,001 cells of the official file, 0.1 s
    >>> spec = ArchSpec(
    ...     matrix=[[0, 1, 0, 0, 1, 1, 0],
    ...             [0, 0, 1, 0, 0, 0, 0],
    ...             [0, 0, 0, 1, 0, 0, 1],
    ...             [0, 0, 0, 0, 0, 1, 0],
    ...             [0, 0, 0, 0, 0, 1, 0],
    ...             [0, 0, 0, 0, 0, 0, 1],
    ...             [0, 0, 0, 0, 0, 0, 0]],
    ...     ops=["input", "conv3x3-bn-relu", "maxpool3x3", "conv3x3-bn-relu",
    ...          "conv3x3-bn-relu", "conv1x1-bn-relu", "output"])
    >>> data = nasbench.query(spec)          # one of the runs, drawn from the seeded generator
    >>> round(data["validation_accuracy"], 4), data["trainable_parameters"]
    (0.9305, 8555530)
    >>> nasbench.get_budget_counters()       # (training time spent, epochs spent)
    (1768.9759521484375, 108)
    >>> fixed_stats, computed_stats = nasbench.get_metrics_from_spec(spec)  # free, every run
    >>> sorted(computed_stats)               # epoch budgets
    [4, 12, 36, 108]

``query`` returns a dictionary with the keys

- ``module_adjacency``: the cell's adjacency matrix (``int8`` numpy array, ``V × V``);
- ``module_operations``: the list of op names;
- ``trainable_parameters``: parameters of the network built from the cell;
- ``training_time``: training time in seconds up to this point of the run;
- ``train_accuracy``, ``validation_accuracy``, ``test_accuracy``: accuracies on CIFAR-10.

``computed_stats[epochs]`` is a list over the runs (repeats) of dictionaries with the keys
``halfway_training_time``, ``halfway_train_accuracy``, ``halfway_validation_accuracy``,
``halfway_test_accuracy`` and the same with ``final_``.

A table read with :meth:`NASBench101.from_csv` holds fewer metrics (for
``nb101_subset_30k.csv``: the final validation accuracy at every budget and the training time at
108 epochs); keys whose data the table does not hold are left out of these dictionaries, and a
query whose training time the table does not hold adds nothing to the time counter.

Code written for the official ``nasbench.api.NASBench`` ports by changing the import:
``hash_iterator()`` is a sized view of the hashes (``len(nasbench.hash_iterator())``), and
``is_valid(spec)`` says whether the spec is a valid cell of the space, as officially. What differs
(listed in full in the data guide): the random generator belongs to the object (the official one
calls ``random.seed`` on the global generator); a table may hold only part of the space, so
``spec in nasbench`` says whether it holds a cell, and a cell it does not hold raises
:class:`OutOfDomainError`, naming the hash; and the hashes come sorted.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import KeysView
from pathlib import Path
from typing import Any

import numpy as np

from gnnas.nasbench.arrays import (
    CACHE_VERSION,
    METRIC_FIELDS,
    STAGES,
    NASBenchArrays,
    remove_stale_staging,
)
from gnnas.space.cell_array import CellArray, unpack_words
from gnnas.space.enumerate import CacheWarning, resolve_cache_dir
from gnnas.space.ops import OPS
from gnnas.space.spec import ArchSpec, kept_vertices

__all__ = ["NASBench101", "OutOfDomainError"]

FixedStats = dict[str, Any]
ComputedStats = dict[int, list[dict[str, float]]]
_REDUCE = ("mean", "median", "min", "max", None)


class OutOfDomainError(KeyError, ValueError):
    """A cell (or epoch budget) that is not in the table was requested.

    It is a :class:`KeyError` (a missing key of a hash-keyed table) and a :class:`ValueError` (an
    argument outside the domain), so either ``except`` clause catches it.

    Args:
        message (str): what was requested and what the table holds.
        module_hash (str, optional): the hash of the requested cell, if it had one.

    Example:
        >>> from gnnas import ArchSpec, NASBench101, OutOfDomainError
        >>> nasbench = NASBench101.bundled()     # 30,001 of the 423,624 cells
        >>> cell = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
        >>> nasbench.is_valid(cell), cell in nasbench
        (True, False)
        >>> try:
        ...     nasbench.query(cell)
        ... except OutOfDomainError as error:
        ...     print(error.module_hash)
        d32d0b26d534203b48d866facd98cc3e
    """

    def __init__(self, message: str, module_hash: str | None = None) -> None:
        super().__init__(message)
        self.module_hash = module_hash

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class NASBench101:
    r"""A NAS-Bench-101 table with the official query API.

    Take the real sample that ships with gnnas with :meth:`bundled`, build a table from the
    official file with :meth:`from_tfrecord` (converted once into a cache), from a CSV table with
    :meth:`from_csv`, or pass any of these paths here (a ``.csv`` suffix selects the CSV reader,
    ``.npz`` a compact table of :mod:`gnnas.nasbench.compact`).

    Args:
        dataset_file (str, os.PathLike or NASBenchArrays): the official ``.tfrecord`` file, a
            ``.csv`` table, a compact ``.npz`` table, or arrays already loaded.
        seed (int or numpy.random.Generator, optional): seed (or generator) of the runs that
            :meth:`query` draws. (default: :obj:`None`)
        cache_dir (str or os.PathLike, optional): see :meth:`from_tfrecord`. (default: :obj:`None`)
        progress (bool, optional): show a progress bar while converting. (default: :obj:`True`)

    Raises:
        FileNotFoundError: if the file does not exist.
        IsADirectoryError: if ``dataset_file`` is a folder.
        ValueError: naming the file and where, if it is damaged or not a table of its kind
            (:class:`~gnnas.nasbench.tfrecord.TFRecordError` for a ``.tfrecord`` file).

    Example:
        >>> from gnnas import NASBench101
        >>> nasbench = NASBench101.bundled(seed=0)
        >>> nasbench
        NASBench101(cells=30001, epochs=[4, 12, 36, 108], repeats=1, source='gnnas/data/nasbench101_30k.npz')
        >>> best_hash, accuracy = nasbench.best()    # free: no query is counted
        >>> best_hash, round(accuracy, 4)
        ('096f593e0f12d65f6220bf8565b764a9', 0.9491)
        >>> nasbench.metric_array("validation_accuracy", epochs=36).shape
        (30001,)
    """

    def __init__(self, dataset_file: str | os.PathLike | NASBenchArrays,
                 seed: int | np.random.Generator | None = None,
                 cache_dir: str | os.PathLike | None = None, progress: bool = True) -> None:
        self.cache_path: Path | None = None
        if isinstance(dataset_file, NASBenchArrays):
            arrays = dataset_file
        elif os.fspath(dataset_file).lower().endswith(".csv"):
            from gnnas.nasbench.csv_table import read_csv

            arrays = read_csv(dataset_file)
        elif os.fspath(dataset_file).lower().endswith(".npz"):
            from gnnas.nasbench.compact import load_compact

            arrays = load_compact(dataset_file)
        else:
            arrays, self.cache_path = _load_tfrecord(dataset_file, cache_dir, progress, workers=1)
        self.arrays = arrays
        self._rng = np.random.default_rng(seed)  # a Generator is returned as is
        self._epoch_index = {int(e): k for k, e in enumerate(arrays.epochs.tolist())}
        self._index: dict[str, int] | None = None
        self._specs: list[ArchSpec | None] = [None] * arrays.num_cells
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0

    # ------------------------------------------------------------------ constructors
    @classmethod
    def bundled(cls, seed: int | np.random.Generator | None = None) -> NASBench101:
        """The real NAS-Bench-101 sample that ships with gnnas: 30,001 cells, in about 0.1 s.

        An unbiased sample of the 423,624 cells of NAS-Bench-101 (Ying et al., 2019; Apache-2.0)
        with each cell's one-repeat final validation accuracy at 4, 12, 36 and 108 epochs, its
        training time at 108 epochs and its parameter count: the same table, value for value, as
        :meth:`from_csv` of ``nb101_subset_30k.csv`` (see :mod:`gnnas.nasbench.compact` for the
        file and its provenance). It holds no test accuracy.

        Args:
            seed (int or numpy.random.Generator, optional): seed of :meth:`query`.
                (default: :obj:`None`)

        Returns:
            NASBench101: the table.

        Raises:
            FileNotFoundError: if gnnas was installed without its package data.
        """
        from gnnas.nasbench.compact import load_bundled

        return cls(load_bundled(), seed=seed)

    @classmethod
    def from_tfrecord(cls, path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                      progress: bool = True, seed: int | np.random.Generator | None = None,
                      workers: int = 1) -> NASBench101:
        """Reads the official file (``nasbench_only108.tfrecord`` or ``nasbench_full.tfrecord``).

        The first call converts the file into a compact cache (for the only-108 file about 12 s
        of CPU time, 30 s on a busy 2-core machine; every record's checksums are verified);
        later calls load the cache in about 0.1 s. The cache lives in ``cache_dir``, else
        ``$GNNAS_CACHE_DIR``, else ``~/.cache/gnnas``, in a folder named after the file and its
        absolute path; it is rebuilt when the file's size or modification time changes.

        Args:
            path (str or os.PathLike): the TFRecord file.
            cache_dir (str or os.PathLike, optional): where to keep the cache. (default: :obj:`None`)
            progress (bool, optional): show a ``tqdm`` progress bar while converting.
                (default: :obj:`True`)
            seed (int or numpy.random.Generator, optional): seed of :meth:`query`.
                (default: :obj:`None`)
            workers (int, optional): processes that parse records while converting.
                (default: :obj:`1`)

        Returns:
            NASBench101: the table.

        Raises:
            TFRecordError: naming the file and byte offset of a damaged record.
            FileNotFoundError: if the file does not exist.
        """
        arrays, cache_path = _load_tfrecord(path, cache_dir, progress, workers)
        table = cls(arrays, seed=seed)
        table.cache_path = cache_path
        return table

    @classmethod
    def from_csv(cls, path: str | os.PathLike, seed: int | np.random.Generator | None = None,
                 verify: bool = True) -> NASBench101:
        """Reads a CSV table in the layout of ``nb101_subset_30k.csv``.

        See :func:`gnnas.nasbench.csv_table.read_csv` for the columns. The table holds one run per
        cell and no test accuracy: :meth:`query` returns ``validation_accuracy`` at every budget
        and ``training_time`` at 108 epochs, and leaves the other keys out.

        Args:
            path (str or os.PathLike): the CSV file.
            seed (int or numpy.random.Generator, optional): seed of :meth:`query`.
                (default: :obj:`None`)
            verify (bool, optional): check that every cell is valid and that the hash column is
                its hash (about 1 s per 10,000 rows); turn it off only for a table known to be
                right. (default: :obj:`True`)

        Returns:
            NASBench101: the table.

        Raises:
            ValueError: naming the file and line of a bad row.
        """
        from gnnas.nasbench.csv_table import read_csv

        return cls(read_csv(path, verify=verify), seed=seed)

    # ------------------------------------------------------------------ the table
    @property
    def hashes(self) -> np.ndarray:
        """numpy.ndarray: the module hashes of the cells, sorted, shape ``(N,)``."""
        return self.arrays.hashes

    @property
    def cells(self) -> CellArray:
        """CellArray: every cell of the table as arrays, aligned with :attr:`hashes`; what the
        distance functions, the locality analysis and the networks take for many cells."""
        return self.arrays.cells

    @property
    def valid_epochs(self) -> set[int]:
        """set[int]: the epoch budgets that can be queried (``{108}`` or ``{4, 12, 36, 108}``)."""
        return set(self._epoch_index)

    def __len__(self) -> int:
        return self.arrays.num_cells

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._hash_index()
        try:
            self._cell_index(item)
        except OutOfDomainError:
            return False
        return True

    def __repr__(self) -> str:
        return (f"NASBench101(cells={len(self)}, epochs={sorted(self.valid_epochs)}, "
                f"repeats={self.arrays.metrics.shape[2]}, source={self.arrays.source!r})")

    def hash_iterator(self) -> KeysView[str]:
        """Returns the module hashes of all cells, as the official API does: a sized view.

        Like the official ``fixed_statistics.keys()`` it supports ``len``, iteration and ``in``
        (``len(nasbench.hash_iterator())`` is the number of cells); the hashes come sorted.

        Returns:
            collections.abc.KeysView[str]: the hashes.
        """
        return self._hash_index().keys()

    def _hash_index(self) -> dict[str, int]:
        if self._index is None:
            self._index = dict(zip(self.arrays.hashes.tolist(), range(len(self)), strict=True))
        return self._index

    def index_of(self, module_hash: str) -> int:
        """Returns the position of a cell in :attr:`hashes` (and in :meth:`metric_array`).

        Args:
            module_hash (str): the official module hash.

        Returns:
            int: the index.

        Raises:
            OutOfDomainError: if the table does not hold the cell.
        """
        index = self._hash_index().get(module_hash)
        if index is None:
            raise OutOfDomainError(f"the table does not hold the cell with hash {module_hash!r} "
                                   f"({len(self)} cells, from {self.arrays.source or 'arrays'})", module_hash)
        return index

    def _cell_index(self, spec: Any) -> int:
        try:
            cell = _as_spec(spec)
        except ValueError as error:
            raise OutOfDomainError(f"invalid spec: {error}") from None
        return self.index_of(cell.hash)

    def spec(self, module_hash: str) -> ArchSpec:
        """Returns the cell with this hash as an :class:`~gnnas.ArchSpec` (built once, then kept).

        Args:
            module_hash (str): the cell's hash.

        Returns:
            ArchSpec: the cell.

        Raises:
            OutOfDomainError: if the table does not hold the cell.
        """
        return self._spec_at(self.index_of(module_hash))

    def _spec_at(self, index: int) -> ArchSpec:
        spec = self._specs[index]
        if spec is None:
            matrix, ops = self._cell(index)
            spec = ArchSpec(matrix, ops)
            # The table's hash is the official hash of this cell (the readers check it); storing it
            # saves recomputing MD5s in search loops.
            object.__setattr__(spec, "_hash", str(self.arrays.hashes[index]))
            self._specs[index] = spec
        return spec

    def specs(self) -> list[ArchSpec]:
        """Returns every cell as an :class:`~gnnas.ArchSpec`, aligned with :attr:`hashes`.

        They are built on the first call and kept; building validates and prunes every cell
        (:class:`~gnnas.ArchSpec` construction, about 0.2 ms a cell: some 6 s for 30,000 cells),
        so search code that needs only a few cells should call :meth:`spec`.

        Returns:
            list[ArchSpec]: one cell per hash.
        """
        return [self._spec_at(k) for k in range(len(self))]

    def _cell(self, index: int) -> tuple[np.ndarray, list[str]]:
        size = int(self.arrays.num_vertices[index])
        matrix = unpack_words(self.arrays.adjacency[index])[0, :size, :size].astype(np.int8)
        ops = [OPS[code] for code in self.arrays.ops[index, :size].tolist()]
        return matrix, ops

    # ------------------------------------------------------------------ the official API
    def _budget(self, epochs: int) -> int:
        budget = self._epoch_index.get(epochs)
        if budget is None:
            raise OutOfDomainError(f"invalid number of epochs {epochs}, must be one of "
                                   f"{sorted(self.valid_epochs)}")
        return budget

    def query(self, spec: ArchSpec, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        """Returns one training run of a cell and counts it in the budget.

        The run is drawn uniformly from the cell's runs at this budget with the table's
        generator; the training time and ``epochs`` (``epochs // 2`` when ``stop_halfway``) are
        added to the budget counters (:meth:`get_budget_counters`).

        Args:
            spec (ArchSpec): the cell (an object with ``matrix`` and ``ops`` is converted).
            epochs (int, optional): the epoch budget. (default: :obj:`108`)
            stop_halfway (bool, optional): return the metrics at half the budget.
                (default: :obj:`False`)

        Returns:
            dict[str, Any]: the keys listed in the module docstring that the table holds.

        Raises:
            OutOfDomainError: if the cell is invalid or not in the table, or ``epochs`` is not a
                budget of the table.
            ValueError: if the table holds no metric at the requested point (``stop_halfway`` on
                a CSV table).
        """
        budget = self._budget(epochs)
        stage = 0 if stop_halfway else 1
        if not self.arrays.available[budget, stage].any():
            raise ValueError(f"the table holds no {STAGES[stage]} metrics at {epochs} epochs")
        index = self._cell_index(spec)
        count = int(self.arrays.num_repeats[index, budget])
        if count == 0:
            raise OutOfDomainError(f"the table holds no run of the cell {self.arrays.hashes[index]} at "
                                   f"{epochs} epochs", str(self.arrays.hashes[index]))
        repeat = int(self._rng.integers(count))
        matrix, ops = self._cell(index)
        data: dict[str, Any] = {
            "module_adjacency": matrix,
            "module_operations": ops,
            "trainable_parameters": int(self.arrays.trainable_parameters[index]),
        }
        values = self.arrays.metrics[index, budget, repeat, stage].tolist()
        for name, value, held in zip(METRIC_FIELDS, values, self.arrays.available[budget, stage].tolist(),
                                     strict=True):
            if held:
                data[name] = value
        self.training_time_spent += data.get("training_time", 0.0)
        self.total_epochs_spent += epochs // 2 if stop_halfway else epochs
        return data

    def is_valid(self, spec: Any) -> bool:
        """Whether the spec is a valid cell of the space, as the official ``is_valid`` answers.

        Free (not counted in the budget). After pruning, the cell must connect input to output
        and have at most 7 vertices and 9 edges, ``input`` first, ``output`` last and the other
        ops from :data:`~gnnas.space.ops.INTERIOR_OPS`; an :class:`~gnnas.ArchSpec` is valid by
        construction. This does not say whether the table holds the cell: on a partial table
        (the bundled sample, a CSV) ask ``spec in table``.

        Args:
            spec (ArchSpec): the cell, or any object with ``matrix`` and ``ops`` (such as the
                official ``ModelSpec``).

        Returns:
            bool: whether the cell is in the search space.

        Raises:
            TypeError: if ``spec`` has no ``matrix`` and ``ops``.
        """
        try:
            _as_spec(spec)
        except ValueError:
            return False
        return True

    def get_budget_counters(self) -> tuple[float, int]:
        """Returns what :meth:`query` has spent so far.

        Returns:
            tuple[float, int]: ``(training_time_spent, total_epochs_spent)``.
        """
        return self.training_time_spent, self.total_epochs_spent

    def reset_budget_counters(self) -> None:
        """Sets both budget counters back to zero."""
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0

    def get_metrics_from_hash(self, module_hash: str) -> tuple[FixedStats, ComputedStats]:
        """Returns every run of a cell, in the official layout; free (not counted in the budget).

        Args:
            module_hash (str): the official module hash.

        Returns:
            tuple[dict, dict]: ``fixed_stats`` (``module_adjacency``, ``module_operations``,
            ``trainable_parameters``) and ``computed_stats`` (budget → list over runs of
            ``halfway_*``/``final_*`` dictionaries); fresh objects on every call.

        Raises:
            OutOfDomainError: if the table does not hold the cell.
        """
        index = self.index_of(module_hash)
        matrix, ops = self._cell(index)
        fixed = {"module_adjacency": matrix, "module_operations": ops,
                 "trainable_parameters": int(self.arrays.trainable_parameters[index])}
        keys = [(stage, field, f"{STAGES[stage]}_{name}") for stage in range(2)
                for field, name in enumerate(METRIC_FIELDS)]
        computed: ComputedStats = {}
        cell_metrics = np.asarray(self.arrays.metrics[index])
        for budget, epochs in enumerate(self.arrays.epochs.tolist()):
            available = self.arrays.available[budget]
            held = [(stage, field, key) for stage, field, key in keys if available[stage, field]]
            count = int(self.arrays.num_repeats[index, budget])
            if count == 0:
                continue
            runs = cell_metrics[budget, :count].tolist()
            computed[int(epochs)] = [{key: run[stage][field] for stage, field, key in held} for run in runs]
        return fixed, computed

    def get_metrics_from_spec(self, spec: ArchSpec) -> tuple[FixedStats, ComputedStats]:
        """Returns every run of a cell, in the official layout; free (not counted in the budget).

        Args:
            spec (ArchSpec): the cell (an official-style spec is pruned first).

        Returns:
            tuple[dict, dict]: ``fixed_stats`` and ``computed_stats``, as
            :meth:`get_metrics_from_hash`.

        Raises:
            OutOfDomainError: if the cell is invalid or not in the table.
            TypeError: if ``spec`` is neither an :class:`~gnnas.ArchSpec` nor an object with
                ``matrix`` and ``ops``.
        """
        return self.get_metrics_from_hash(str(self.arrays.hashes[self._cell_index(spec)]))

    # ------------------------------------------------------------------ analysis
    def metric_array(self, metric: str = "validation_accuracy", epochs: int = 108,
                     reduce: str | None = "mean", stop_halfway: bool = False) -> np.ndarray:
        r"""Returns one metric of every cell, aligned with :attr:`hashes` (vectorised, free).

        Args:
            metric (str, optional): ``training_time``, ``train_accuracy``, ``validation_accuracy``,
                ``test_accuracy`` (optionally prefixed ``halfway_`` or ``final_``), or
                ``trainable_parameters``. (default: :obj:`"validation_accuracy"`)
            epochs (int, optional): the epoch budget. (default: :obj:`108`)
            reduce (str, optional): ``"mean"``, ``"median"``, ``"min"`` or ``"max"`` over the
                runs, or :obj:`None` for every run. (default: :obj:`"mean"`)
            stop_halfway (bool, optional): the value at half the budget (as the ``halfway_``
                prefix). (default: :obj:`False`)

        Returns:
            numpy.ndarray: ``float64`` of shape ``(N,)``, or ``(N, R)`` for ``reduce=None``
            (``NaN`` where a cell has fewer runs).

        Raises:
            ValueError: if the metric or ``reduce`` is unknown or the table does not hold it.
            OutOfDomainError: if ``epochs`` is not a budget of the table.
        """
        if reduce not in _REDUCE:
            raise ValueError(f"reduce must be one of {list(_REDUCE)}, got {reduce!r}")
        if metric == "trainable_parameters":
            return self.arrays.trainable_parameters.astype(np.float64)
        stage = 0 if stop_halfway else 1
        for prefix, prefix_stage in (("halfway_", 0), ("final_", 1)):
            if metric.startswith(prefix):
                metric, stage = metric[len(prefix):], prefix_stage
        if metric not in METRIC_FIELDS:
            raise ValueError(f"unknown metric {metric!r}; expected one of {list(METRIC_FIELDS)} or "
                             "'trainable_parameters'")
        budget = self._budget(epochs)
        field = METRIC_FIELDS.index(metric)
        if not self.arrays.available[budget, stage, field]:
            raise ValueError(f"the table holds no {STAGES[stage]} {metric} at {epochs} epochs")
        runs = np.asarray(self.arrays.metrics[:, budget, :, stage, field])  # (N, R)
        if reduce is None:
            return runs.copy()
        with warnings.catch_warnings():  # a cell with no run at this budget gives NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            return getattr(np, f"nan{reduce}")(runs, axis=1)

    def best(self, metric: str = "validation_accuracy", epochs: int = 108, reduce: str = "mean",
             stop_halfway: bool = False) -> tuple[str, float]:
        """Returns the cell with the highest value of a metric (free).

        Args:
            metric (str, optional): as in :meth:`metric_array`. (default: :obj:`"validation_accuracy"`)
            epochs (int, optional): the epoch budget. (default: :obj:`108`)
            reduce (str, optional): reduction over the runs. (default: :obj:`"mean"`)
            stop_halfway (bool, optional): as in :meth:`metric_array`. (default: :obj:`False`)

        Returns:
            tuple[str, float]: the hash of the best cell and its value (ties: the smallest hash).

        Raises:
            ValueError: as :meth:`metric_array`, or if no cell has a value.
        """
        if reduce is None:
            raise ValueError("best needs a reduction over the runs, got reduce=None")
        values = self.metric_array(metric, epochs=epochs, reduce=reduce, stop_halfway=stop_halfway)
        if np.isnan(values).all():
            raise ValueError(f"no cell has a value of {metric} at {epochs} epochs")
        index = int(np.nanargmax(values))
        return str(self.arrays.hashes[index]), float(values[index])


def _as_spec(spec: Any) -> ArchSpec:
    """``spec`` as an :class:`ArchSpec`: itself, or built from its ``matrix`` and ``ops`` (such as
    the official ``ModelSpec``); a :class:`TypeError` for anything else, a :class:`ValueError` for
    a spec outside the space.

    As officially, such an object is pruned before its ops are checked: an op on a vertex that
    pruning drops is never looked at (an :class:`ArchSpec` built directly refuses unknown ops
    anywhere)."""
    if isinstance(spec, ArchSpec):
        return spec
    try:
        matrix, ops = spec.matrix, spec.ops
    except AttributeError:
        raise TypeError(f"expected an ArchSpec (or an object with matrix and ops), got "
                        f"{type(spec).__name__}") from None
    if matrix is None or ops is None:  # the official ModelSpec of a cell that pruning left invalid
        raise ValueError("the spec is not a valid cell (its matrix or ops are None)")
    matrix = np.asarray(matrix)
    index = kept_vertices(matrix)
    ops = list(ops)
    if len(ops) != len(matrix):
        raise ValueError(f"ops must name one op per vertex: {len(matrix)} vertices, {len(ops)} ops")
    if len(index) == 0:
        raise ValueError("invalid cell: the output is not reachable from the input")
    return ArchSpec(matrix[np.ix_(index, index)], [ops[i] for i in index])


def _cache_folder(path: Path, cache_dir: str | os.PathLike | None) -> Path:
    root = resolve_cache_dir(cache_dir)
    key = hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:16]
    return root / "nasbench101" / f"{path.name}-{key}"


def _load_tfrecord(path: str | os.PathLike, cache_dir: str | os.PathLike | None, progress: bool,
                   workers: int) -> tuple[NASBenchArrays, Path]:
    """Loads the cache of ``path`` if it is current, else converts the file and writes the cache."""
    from gnnas.nasbench.convert import convert_tfrecord

    source = Path(path).expanduser().resolve()
    stat = source.stat()
    fingerprint = {"source_path": str(source), "source_size": stat.st_size,
                   "source_mtime_ns": stat.st_mtime_ns}
    folder = _cache_folder(source, cache_dir)
    remove_stale_staging(folder)  # left by a conversion that was killed
    meta = NASBenchArrays.read_meta(folder)
    if meta is not None and meta.get("version") == CACHE_VERSION and all(
            meta.get(key) == value for key, value in fingerprint.items()):
        try:
            return NASBenchArrays.load(folder), folder
        except (OSError, ValueError) as error:  # a torn or damaged cache: convert again
            warnings.warn(f"rebuilding the NAS-Bench-101 cache: {error}", CacheWarning, stacklevel=3)
    if not source.is_file():
        raise IsADirectoryError(21, "Is a directory", str(source))
    arrays = convert_tfrecord(source, progress=progress, workers=workers)
    try:
        arrays.save(folder, meta=fingerprint)
    except OSError as error:
        warnings.warn(f"could not write the NAS-Bench-101 cache to {folder} ({error}); the file will be "
                      "converted again next time", CacheWarning, stacklevel=3)
    return arrays, folder

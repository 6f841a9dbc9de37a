r"""Reading a hash-keyed NAS-Bench-101 table from CSV.

The column layout is that of ``nb101_subset_30k.csv`` (one training run per cell, no test
accuracy)::

    hash,adjacency,operations,val_acc_4,val_acc_12,val_acc_36,val_acc_108,train_time_108,trainable_parameters

``adjacency`` is the row-major ``0``/``1`` string of the ``V × V`` matrix and ``operations`` the
``V`` comma-separated op names. The table holds the *final* validation accuracy at 4, 12, 36 and
108 epochs and the final training time at 108 epochs; every other metric is marked absent.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re

import numpy as np

from gnnas.nasbench.arrays import (
    METRIC_FIELDS,
    NASBenchArrays,
    cell_strings,
    encode_ops,
    find_bad_cell,
    pack_adjacency,
)
from gnnas.space.ops import MAX_VERTICES, OPS

__all__ = ["CSV_COLUMNS", "CSV_EPOCHS", "read_csv", "write_csv"]

#: The columns a NAS-Bench-101 CSV table must have, in this order.
CSV_COLUMNS: tuple[str, ...] = ("hash", "adjacency", "operations", "val_acc_4", "val_acc_12", "val_acc_36",
                                "val_acc_108", "train_time_108", "trainable_parameters")

#: The epoch budgets of the ``val_acc_*`` columns.
CSV_EPOCHS: tuple[int, ...] = (4, 12, 36, 108)

_HASH = re.compile(r"[0-9a-f]{32}")
_ADJACENCY = re.compile(r"[01]+")
_FINAL = 1
_MAX_OPERATIONS = MAX_VERTICES * (max(map(len, OPS)) + 1)  # longer is never 7 op names
_TIME = METRIC_FIELDS.index("training_time")
_VALIDATION = METRIC_FIELDS.index("validation_accuracy")


def _shown(text: str, limit: int = 40) -> str:
    """``repr(text)``, shortened for a message when it is long."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


def _number(text: str, column: str, where: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: column {column!r} must be a number, got {_shown(text)}") from None
    if not (math.isfinite(value) and low <= value <= high):
        bounds = f"in [{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g} and finite"
        raise ValueError(f"{where}: column {column!r} must be a number {bounds}, got {_shown(text)}")
    return value


def _text(path: str) -> str:
    """The file's text: UTF-8, an optional byte-order mark dropped; other bytes name their line."""
    with open(path, "rb") as handle:
        data = handle.read()
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = start + error.start
        line = data.count(b"\n", 0, offset) + 1
        raise ValueError(f"{path}, line {line}: not UTF-8 text (byte 0x{data[offset]:02x} at offset "
                         f"{offset:,})") from None


def read_csv(path: str | os.PathLike, verify: bool = True) -> NASBenchArrays:
    """Reads a CSV table into :class:`~gnnas.nasbench.arrays.NASBenchArrays`, checking every row.

    Rows may come in any order (blank lines are skipped); the cells are sorted by hash. The file is
    UTF-8 (a byte-order mark is accepted). Every row is checked: the hash, adjacency and op formats, the
    accuracies (``val_acc_*``) within ``[0, 1]``, the training time and parameter count
    ``>= 0``, no duplicate hash, and (``verify``) that the cell is valid after pruning, with at
    most 9 edges, and that the hash column is its official hash.

    Args:
        path (str or os.PathLike): the CSV file.
        verify (bool, optional): recompute every row's cell and hash
            (:func:`~gnnas.nasbench.arrays.find_bad_cell`, vectorised: about 1 s per 10,000
            rows); turn it off only for a table known to be right. (default: :obj:`True`)

    Returns:
        NASBenchArrays: ``E = 4`` budgets (4, 12, 36, 108), ``R = 1`` run.

    Raises:
        ValueError: naming the file and the line, for bytes that are not UTF-8, a wrong header,
            a malformed or over-long field, a malformed hash, adjacency, op list or number, a value
            out of range, a duplicate hash, a cell that is not valid, or a hash that is not its
            cell's.
        OSError: if the file cannot be read (missing, a folder).
    """
    path = os.fspath(path)
    hashes: list[str] = []
    adjacency: list[str] = []
    operations: list[str] = []
    values: list[tuple[float, ...]] = []
    params: list[int] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(_text(path), newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(header) != CSV_COLUMNS:
            got = "nothing" if header is None else _shown(",".join(header), 200)
            raise ValueError(f"{path}, line 1: expected the header {','.join(CSV_COLUMNS)}, got {got}")
        for row in reader:
            if not row:  # a blank line
                continue
            where = f"{path}, line {reader.line_num}"
            if len(row) != len(CSV_COLUMNS):
                raise ValueError(f"{where}: expected {len(CSV_COLUMNS)} columns, got {len(row)}")
            module_hash, cell_adjacency, cell_operations = row[0], row[1], row[2]
            if not _HASH.fullmatch(module_hash):
                raise ValueError(f"{where}: the hash must be 32 lowercase hexadecimal digits, "
                                 f"got {_shown(module_hash)}")
            if not _ADJACENCY.fullmatch(cell_adjacency) or len(cell_adjacency) > MAX_VERTICES ** 2:
                raise ValueError(f"{where}: the adjacency must be a string of at most {MAX_VERTICES ** 2} "
                                 f"'0'/'1' characters, got {_shown(cell_adjacency)}")
            if len(cell_operations) > _MAX_OPERATIONS:
                raise ValueError(f"{where}: the operations must be at most {MAX_VERTICES} op names, got "
                                 f"{_shown(cell_operations)}")
            numbers = tuple(_number(row[k], CSV_COLUMNS[k], where, 0.0, 1.0) for k in range(3, 7))
            numbers += (_number(row[7], CSV_COLUMNS[7], where, 0.0, math.inf),)
            text = row[8].strip()
            if not (text.isdigit() and text.isascii() and len(text) <= 18):
                raise ValueError(f"{where}: column 'trainable_parameters' must be an integer >= 0, "
                                 f"got {_shown(row[8])}")
            hashes.append(module_hash)
            adjacency.append(cell_adjacency)
            operations.append(cell_operations)
            values.append(numbers)
            params.append(int(text))
            lines.append(reader.line_num)
    except csv.Error as error:  # e.g. a field longer than the csv module allows
        raise ValueError(f"{path}, line {reader.line_num}: not a CSV row ({error})") from None
    if not hashes:
        raise ValueError(f"{path}: the table has no rows")
    line_of = np.asarray(lines)

    def fail(bad: np.ndarray, reason: str) -> None:
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{path}, line {line_of[k]}: {reason} (row {hashes[k]})")

    ops, num_vertices, bad_ops = encode_ops(np.array(operations, dtype=object))
    fail(bad_ops, "operations must be 2 to 7 known op names, 'input' first and 'output' last")
    sizes = np.fromiter(map(len, adjacency), dtype=np.int64, count=len(adjacency))
    fail(sizes != num_vertices.astype(np.int64) ** 2,
         "the adjacency must have V * V characters for V operations")
    width = MAX_VERTICES * MAX_VERTICES
    text = np.array(adjacency, dtype=f"U{width}").view(np.uint32).reshape(len(adjacency), -1)
    bits = np.zeros((len(adjacency), width), dtype=np.uint8)
    bits[:, : text.shape[1]] = text == ord("1")
    packed = pack_adjacency(bits, num_vertices)
    lower = np.uint64(sum(1 << (MAX_VERTICES * i + j) for i in range(MAX_VERTICES) for j in range(i + 1)))
    fail((packed & lower) != 0, "the adjacency matrix must be strictly upper triangular")

    hash_array = np.array(hashes, dtype="U32")
    order = np.argsort(hash_array, kind="stable")
    sorted_hashes = hash_array[order]
    duplicate = np.flatnonzero(sorted_hashes[1:] == sorted_hashes[:-1])
    if len(duplicate):
        first, second = sorted(line_of[order[duplicate[0]:duplicate[0] + 2]].tolist())
        raise ValueError(f"{path}, line {second}: duplicate hash {sorted_hashes[duplicate[0]]} "
                         f"(first on line {first})")

    if verify:
        bad = find_bad_cell(hash_array, packed, ops, num_vertices)
        if bad is not None:
            raise ValueError(f"{path}, line {line_of[bad[0]]}: {bad[1]}")

    numbers = np.asarray(values, dtype=np.float64)  # (N, 5): val_acc_4/12/36/108, train_time_108
    num_cells, num_epochs = len(hashes), len(CSV_EPOCHS)
    metrics = np.full((num_cells, num_epochs, 1, 2, len(METRIC_FIELDS)), np.nan)
    metrics[:, :, 0, _FINAL, _VALIDATION] = numbers[:, :num_epochs]
    metrics[:, num_epochs - 1, 0, _FINAL, _TIME] = numbers[:, num_epochs]
    available = np.zeros((num_epochs, 2, len(METRIC_FIELDS)), dtype=bool)
    available[:, _FINAL, _VALIDATION] = True
    available[num_epochs - 1, _FINAL, _TIME] = True
    return NASBenchArrays(
        hashes=sorted_hashes,
        adjacency=packed[order],
        num_vertices=num_vertices[order],
        ops=ops[order],
        trainable_parameters=np.asarray(params, dtype=np.int64)[order],
        epochs=np.asarray(CSV_EPOCHS, dtype=np.int64),
        num_repeats=np.ones((num_cells, num_epochs), dtype=np.uint8),
        metrics=metrics[order],
        available=available,
        source=path,
    )


def write_csv(arrays: NASBenchArrays, path: str | os.PathLike) -> None:
    """Writes a table in the CSV layout that :func:`read_csv` reads (rows in hash order).

    Numbers are written as Python writes the doubles (``repr``), so :func:`read_csv` reads back
    the same values; for the bundled sample (:meth:`NASBench101.bundled
    <gnnas.nasbench.NASBench101.bundled>`) the file is byte for byte ``nb101_subset_30k.csv``.

    Args:
        arrays (NASBenchArrays): a table with one run per cell and the metrics of the CSV layout
            (such as one read by :func:`read_csv`, or the bundled sample).
        path (str or os.PathLike): the file to create; an existing file is refused.

    Raises:
        ValueError: if the table does not hold exactly the CSV layout's metrics and budgets.
        FileExistsError: if ``path`` exists.
    """
    epochs = tuple(arrays.epochs.tolist())
    num_epochs = len(CSV_EPOCHS)
    expected = np.zeros((num_epochs, 2, len(METRIC_FIELDS)), dtype=bool)
    expected[:, _FINAL, _VALIDATION] = True
    expected[num_epochs - 1, _FINAL, _TIME] = True
    if (epochs != CSV_EPOCHS or arrays.metrics.shape[2] != 1 or (arrays.num_repeats != 1).any()
            or not np.array_equal(arrays.available, expected)):
        raise ValueError(f"{arrays.source or 'the table'}: the CSV layout holds one run per cell with the "
                         f"final validation accuracy at {list(CSV_EPOCHS)} epochs and the training time "
                         "at 108; "
                         f"this table has budgets {list(epochs)} and {arrays.metrics.shape[2]} runs per cell")
    adjacency, operations = cell_strings(arrays.adjacency, arrays.ops, arrays.num_vertices)
    accuracies = np.asarray(arrays.metrics[:, :, 0, _FINAL, _VALIDATION]).tolist()
    times = np.asarray(arrays.metrics[:, num_epochs - 1, 0, _FINAL, _TIME]).tolist()
    with open(path, "x", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in zip(arrays.hashes.tolist(), adjacency, operations, accuracies, times,
                       arrays.trainable_parameters.tolist(), strict=True):
            module_hash, cell_adjacency, cell_operations, values, seconds, params = row
            writer.writerow([module_hash, cell_adjacency, cell_operations, *map(repr, values), repr(seconds),
                             str(params)])

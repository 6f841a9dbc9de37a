r"""Fast conversion of the official NAS-Bench-101 TFRecord file into :class:`NASBenchArrays`.

The conversion runs in two passes:

1. the framing pass walks the file once with :func:`~gnnas.nasbench.tfrecord.iter_tfrecord`
   (memory-mapped), which checks the length and payload checksums of every record (CRC-32C in
   C, via ``google-crc32c``), and notes where each record starts;
2. the parsing pass decodes the payloads in chunks, optionally in several worker processes:
   the JSON scanner of the standard library (``json.loads`` without its checks; ``json.loads``
   itself runs only where the scanner stops early), :func:`binascii.a2b_base64`, and a fast
   path for the protobuf message: one precompiled regular expression checks the field tags of
   the official layout (three ``EvaluationData`` entries of five doubles, the parameter count,
   the total time) and one :func:`struct.unpack_from` reads the eight needed doubles. Any other
   message goes through the general decoder
   :func:`~gnnas.nasbench.record.decode_model_metrics`, so both paths give the same values.

Cells are then sorted by hash and the runs of each (cell, epoch budget) numbered in file order,
which is the repeat order of the official API. As in the official API, a cell's adjacency, ops
and parameter count come from its first record, and are checked there: hash format, op names,
``V × V`` 0/1 upper-triangular adjacency, a valid cell, and its official hash equal to the
stored one (recomputed vectorised, :func:`~gnnas.nasbench.arrays.find_bad_cell`); later records
of the same hash are not compared.
"""

from __future__ import annotations

import binascii
import json
import mmap
import os
import re
import struct
from array import array
from collections.abc import Sequence
from json.scanner import make_scanner

import numpy as np

from gnnas.nasbench.arrays import METRIC_FIELDS, NASBenchArrays, encode_ops, find_bad_cell, pack_adjacency
from gnnas.nasbench.record import ProtobufError, decode_model_metrics
from gnnas.nasbench.tfrecord import TFRecordError, iter_tfrecord
from gnnas.space.ops import MAX_VERTICES
from gnnas.workers import available_cores, worker_pool

__all__ = ["convert_tfrecord", "parse_chunk"]

# Three EvaluationData entries of exactly five doubles (tags 1..5), then trainable_parameters as a
# varint of at most five bytes, then total_time, then the end of the message.
_FAST_LAYOUT = re.compile(
    rb"(?:\x0a\x2d\x09.{8}\x11.{8}\x19.{8}\x21.{8}\x29.{8}){3}\x10([\x80-\xff]{0,4}[\x00-\x7f])\x19.{8}\Z",
    re.DOTALL,
)
# training_time, train, validation and test accuracy of entries 1 (halfway) and 2 (final).
_FAST_VALUES = struct.Struct("<" + "12xdxdxdxd" * 2)
_FAST_VALUES_OFFSET = 47
_CHUNK_RECORDS = 50_000


def _frame(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Checks the framing and both checksums of every record; returns record offsets and payload lengths."""
    starts = array("q")
    lengths = array("q")
    for position, payload in iter_tfrecord(path):
        starts.append(position)
        lengths.append(len(payload))
    return np.frombuffer(starts, dtype=np.int64), np.frombuffer(lengths, dtype=np.int64)


def _slow_values(metrics_bytes: bytes) -> tuple[tuple[float, ...], int]:
    """The general path: decodes the message and extracts the halfway and final values."""
    metrics = decode_model_metrics(metrics_bytes)
    if len(metrics.evaluation_data) < 3:
        raise ProtobufError(f"expected 3 evaluation_data entries (start, halfway, final), "
                            f"got {len(metrics.evaluation_data)}")
    values = []
    for evaluation in metrics.evaluation_data[1:3]:
        for name in METRIC_FIELDS:  # absent fields read as the proto default 0.0, as officially
            field_value = getattr(evaluation, name)
            values.append(0.0 if field_value is None else field_value)
    params = metrics.trainable_parameters
    return tuple(values), 0 if params is None else params


def parse_chunk(path: str, starts: Sequence[int], lengths: Sequence[int]) -> tuple:
    """Parses the payloads of one chunk of records (the hot loop; runs in a worker process).

    Args:
        path (str): the TFRecord file (memory-mapped again here).
        starts (Sequence[int]): byte offsets of the records.
        lengths (Sequence[int]): their payload lengths.

    Returns:
        tuple: ``(hashes, epochs, params, values, first_seen)``: the hash of every record (list),
        its epochs and parameter count (``array('q')``), its 8 halfway/final values
        (``array('d')``), and ``{hash: (adjacency, operations, offset, index in chunk)}`` for the
        first record of each hash in the chunk.

    Raises:
        TFRecordError: naming the record's offset, for bad JSON, base64 or protobuf.
    """
    loads = json.loads
    scan = make_scanner(json.JSONDecoder())
    a2b = binascii.a2b_base64
    match = _FAST_LAYOUT.match
    unpack_values = _FAST_VALUES.unpack_from
    hashes: list[str] = []
    append_hash = hashes.append
    epochs = array("q")
    params = array("q")
    values = array("d")
    append_epochs = epochs.append
    append_params = params.append
    extend_values = values.extend
    first_seen: dict[str, tuple[str, str, int, int]] = {}
    with open(path, "rb") as handle:
        buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        for index, (start, length) in enumerate(zip(starts, lengths, strict=True)):
            begin = start + 12
            payload = buffer[begin:begin + length]
            try:
                text = payload.decode("utf-8")
                try:
                    items, end = scan(text, 0)
                    if end != len(text):  # trailing text: let json.loads accept or reject it
                        items = loads(text)
                except StopIteration:  # not a JSON value at offset 0: json.loads gives the reason
                    items = loads(text)
                module_hash, epoch, adjacency, operations, encoded = items
                if not (type(module_hash) is str and type(epoch) is int and type(adjacency) is str
                        and type(operations) is str):
                    raise ValueError("expected [hash (str), epochs (int), adjacency (str), "
                                     "operations (str), metrics (str)]")
            except (ValueError, TypeError) as error:  # JSONDecodeError is a ValueError
                raise TFRecordError(path, start, f"bad JSON payload: {error}") from None
            try:
                message = a2b(encoded)
            except (binascii.Error, ValueError, TypeError) as error:
                raise TFRecordError(path, start, f"bad base64 in the metrics field: {error}") from None
            found = match(message)
            if found is not None:
                varint = found.group(1)
                count = 0
                for shift, byte in enumerate(varint):
                    count |= (byte & 0x7F) << (7 * shift)
                if count >= 1 << 31:  # int32 wire format of a 5-byte varint: keep 32 bits
                    count = (count & 0xFFFFFFFF) - (1 << 32) if count & 0x80000000 else count & 0xFFFFFFFF
                extend_values(unpack_values(message, _FAST_VALUES_OFFSET))
            else:
                try:
                    record_values, count = _slow_values(message)
                except ProtobufError as error:
                    raise TFRecordError(path, start, f"bad protobuf ModelMetrics: {error}") from None
                extend_values(record_values)
            if module_hash not in first_seen:
                first_seen[module_hash] = (adjacency, operations, start, index)
            append_hash(module_hash)
            append_epochs(epoch)
            append_params(count)
    finally:
        buffer.close()
    return hashes, epochs, params, values, first_seen


def _fail(path: str, offsets: np.ndarray, bad: np.ndarray, reason: str) -> None:
    if bad.any():
        raise TFRecordError(path, int(offsets[np.flatnonzero(bad)[0]]), reason)


def convert_tfrecord(path: str | os.PathLike, progress: bool = True, workers: int = 1) -> NASBenchArrays:
    """Reads an official NAS-Bench-101 TFRecord file (only-108 or full) into arrays.

    Args:
        path (str or os.PathLike): the file.
        progress (bool, optional): show a ``tqdm`` progress bar. (default: :obj:`True`)
        workers (int, optional): processes that parse payloads; ``1`` parses in this process.
            Never more processes start than there are chunks of 50,000 records or cores
            (:func:`gnnas.workers.available_cores`), and they die with this process. (default: :obj:`1`)

    Returns:
        NASBenchArrays: the table; ``R`` is the largest number of runs of a (cell, budget).

    Raises:
        TFRecordError: naming the file and the byte offset of the bad record, for a truncated
            record, a bad checksum, bad JSON, bad base64 or protobuf, or a malformed cell.
        ValueError: if ``workers < 1`` or the file holds no record.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    path = os.fspath(path)
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path}: the file is empty, expected NAS-Bench-101 records")
    starts, lengths = _frame(path)

    from tqdm.auto import tqdm

    num_records = len(starts)
    bounds = list(range(0, num_records, _CHUNK_RECORDS)) + [num_records]
    chunks = [(starts[a:b].tolist(), lengths[a:b].tolist())
              for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    results = []
    with tqdm(total=num_records, unit="rec", unit_scale=True, disable=not progress,
              desc=f"converting {os.path.basename(path)}") as bar:
        workers = min(workers, len(chunks), available_cores())
        if workers == 1:
            for chunk_starts, chunk_lengths in chunks:
                results.append(parse_chunk(path, chunk_starts, chunk_lengths))
                bar.update(len(chunk_starts))
        else:
            with worker_pool(workers) as pool:
                futures = [pool.submit(parse_chunk, path, s, n) for s, n in chunks]
                for future, (chunk_starts, _) in zip(futures, chunks, strict=True):
                    results.append(future.result())
                    bar.update(len(chunk_starts))
    return _assemble(path, starts, bounds, results)


def _assemble(path: str, starts: np.ndarray, bounds: list[int], results: list[tuple]) -> NASBenchArrays:
    """Sorts the cells by hash and lays the runs out as :class:`NASBenchArrays`."""
    index: dict[str, int] = {}
    first_record: list[int] = []
    adjacency_text: list[str] = []
    operations_text: list[str] = []
    hashes: list[str] = []
    for chunk_start, (chunk_hashes, _, _, _, first_seen) in zip(bounds[:-1], results, strict=True):
        for module_hash, (adjacency, operations, _, local) in first_seen.items():
            if module_hash not in index:
                index[module_hash] = len(index)
                first_record.append(chunk_start + local)
                adjacency_text.append(adjacency)
                operations_text.append(operations)
        hashes.extend(chunk_hashes)
    record_cell = np.fromiter(map(index.__getitem__, hashes), dtype=np.int64, count=len(hashes))
    record_epochs = np.concatenate([np.frombuffer(r[1], dtype=np.int64) for r in results])
    record_params = np.concatenate([np.frombuffer(r[2], dtype=np.int64) for r in results])
    record_values = np.concatenate([np.frombuffer(r[3], dtype=np.float64) for r in results]).reshape(-1, 2, 4)
    first_record_array = np.asarray(first_record, dtype=np.int64)
    first_offsets = starts[first_record_array]

    # The cells: hash format, ops, adjacency.
    cell_hashes = np.array(list(index), dtype="U")
    lengths = np.char.str_len(cell_hashes)
    codes = cell_hashes.astype("U32").view(np.uint32).reshape(len(cell_hashes), 32)
    is_hex = ((codes >= ord("0")) & (codes <= ord("9"))) | ((codes >= ord("a")) & (codes <= ord("f")))
    _fail(path, first_offsets, (lengths != 32) | ~is_hex.all(axis=1),
          "the module hash must be 32 lowercase hexadecimal digits")
    ops, num_vertices, bad_ops = encode_ops(np.array(operations_text, dtype=object))
    _fail(path, first_offsets, bad_ops, "bad operations: expected 2 to 7 known op names, 'input' first and "
          "'output' last")
    adjacency_lengths = np.fromiter(map(len, adjacency_text), dtype=np.int64, count=len(adjacency_text))
    _fail(path, first_offsets, adjacency_lengths != num_vertices.astype(np.int64) ** 2,
          "the adjacency string must have V * V characters for V operations")
    width = MAX_VERTICES * MAX_VERTICES
    bits = np.full((len(adjacency_text), width), ord("0"), dtype=np.uint32)
    text = np.array(adjacency_text, dtype=f"U{width}").view(np.uint32).reshape(len(adjacency_text), -1)
    bits[:, : text.shape[1]] = np.where(text == 0, ord("0"), text)
    bits -= ord("0")
    _fail(path, first_offsets, (bits > 1).any(axis=1), "the adjacency string must contain only '0' and '1'")
    packed = pack_adjacency(bits, num_vertices)
    lower = np.uint64(sum(1 << (MAX_VERTICES * i + j) for i in range(MAX_VERTICES) for j in range(i + 1)))
    _fail(path, first_offsets, (packed & lower) != 0,
          "the adjacency matrix must be strictly upper triangular")
    bad = find_bad_cell(cell_hashes.astype("U32"), packed, ops, num_vertices)
    if bad is not None:
        raise TFRecordError(path, int(first_offsets[bad[0]]), bad[1])

    # The runs: epoch budgets and repeat numbers in file order.
    _fail(path, starts, record_epochs <= 0, "the epoch budget must be a positive integer")
    epochs, record_budget = np.unique(record_epochs, return_inverse=True)
    order = np.argsort(cell_hashes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    record_cell = rank[record_cell]
    num_epochs = len(epochs)
    group = record_cell * num_epochs + record_budget.reshape(-1)
    group_order = np.argsort(group, kind="stable")
    group_sizes = np.bincount(group, minlength=len(order) * num_epochs)
    group_begin = np.cumsum(group_sizes) - group_sizes
    repeat = np.empty(len(group), dtype=np.int64)
    repeat[group_order] = np.arange(len(group)) - group_begin[group[group_order]]
    num_repeats_max = int(group_sizes.max())
    if num_repeats_max > 255:
        raise ValueError(f"{path}: a cell has {num_repeats_max} runs at one epoch budget; "
                         "at most 255 are supported")
    metrics = np.full((len(order), num_epochs, num_repeats_max, 2, len(METRIC_FIELDS)), np.nan)
    metrics[record_cell, record_budget.reshape(-1), repeat] = record_values
    return NASBenchArrays(
        hashes=cell_hashes[order].astype("U32"),
        adjacency=packed[order],
        num_vertices=num_vertices[order],
        ops=ops[order],
        trainable_parameters=record_params[first_record_array][order],
        epochs=epochs.astype(np.int64),
        num_repeats=group_sizes.reshape(len(order), num_epochs).astype(np.uint8),
        metrics=metrics,
        available=np.ones((num_epochs, 2, len(METRIC_FIELDS)), dtype=bool),
        source=path,
    )

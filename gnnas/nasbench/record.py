r"""One record of the official NAS-Bench-101 file, and its hand-written protobuf codec.

The payload of every record of ``nasbench_only108.tfrecord`` and ``nasbench_full.tfrecord`` is
UTF-8 JSON, a list of five items::

    [module_hash, epochs, adjacency, operations, base64(ModelMetrics)]

``adjacency`` is the row-major ``0``/``1`` string of the ``V × V`` matrix, ``operations`` the ``V``
comma-separated op names, and the last item the base64 text (with ``\n`` line breaks, which are
ignored) of a protobuf-2 message::

    message ModelMetrics {
      repeated EvaluationData evaluation_data = 1;  // start, halfway, final
      optional int32 trainable_parameters = 2;
      optional double total_time = 3;
    }
    message EvaluationData {
      optional double current_epoch = 1;
      optional double training_time = 2;
      optional double train_accuracy = 3;
      optional double validation_accuracy = 4;
      optional double test_accuracy = 5;
      optional string checkpoint_path = 6;
    }

The codec here is written by hand (no ``protobuf`` or TensorFlow dependency). It follows the
protobuf rules: fields may come in any order, unknown fields are skipped, and a field that is
absent decodes to ``None`` here (the official API, which reads the generated classes, sees the
proto default ``0.0`` instead; :func:`gnnas.nasbench.convert.convert_tfrecord` does the same).

Example::

    >>> from gnnas.nasbench import NASBenchRecord, iter_tfrecord
    >>> payload = next(payload for _, payload in iter_tfrecord("nasbench_full.tfrecord"))  # doctest: +SKIP
    >>> record = NASBenchRecord.from_payload(payload)                                     # doctest: +SKIP
    >>> record.module_hash, record.epochs, record.metrics.trainable_parameters            # doctest: +SKIP
    ('00005c142e6f48ac74fdcf73e3439874', 4, 8555530)
    >>> record.to_payload() == payload  # byte for byte, as the official file writes it  # doctest: +SKIP
    True
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass, field

__all__ = [
    "EvaluationData", "ModelMetrics", "NASBenchRecord", "ProtobufError",
    "encode_model_metrics", "decode_model_metrics",
]

_DOUBLE = struct.Struct("<d")
_EVALUATION_DOUBLES = ("current_epoch", "training_time", "train_accuracy", "validation_accuracy",
                       "test_accuracy")


class ProtobufError(ValueError):
    """A ``ModelMetrics`` message could not be decoded.

    Example:
        >>> from gnnas.nasbench.record import decode_model_metrics
        >>> decode_model_metrics(b"\\xff")
        Traceback (most recent call last):
            ...
        gnnas.nasbench.record.ProtobufError: truncated varint at byte 1
    """


@dataclass
class EvaluationData:
    """One evaluation of a training run (the ``EvaluationData`` message).

    Every field is optional, as in the protobuf-2 message; ``None`` means "absent".

    Args:
        current_epoch (float, optional): the epoch at which the evaluation was taken.
        training_time (float, optional): training time in seconds up to this point.
        train_accuracy (float, optional): accuracy on the training set.
        validation_accuracy (float, optional): accuracy on the validation set.
        test_accuracy (float, optional): accuracy on the test set.
        checkpoint_path (str, optional): where the checkpoint was stored.

    Example:
        >>> from gnnas.nasbench import EvaluationData
        >>> final = EvaluationData(current_epoch=108.0, validation_accuracy=0.93)
        >>> final.test_accuracy is None       # absent from the message
        True
    """

    current_epoch: float | None = None
    training_time: float | None = None
    train_accuracy: float | None = None
    validation_accuracy: float | None = None
    test_accuracy: float | None = None
    checkpoint_path: str | None = None


@dataclass
class ModelMetrics:
    """The metrics of one training run (the ``ModelMetrics`` message).

    Args:
        evaluation_data (list[EvaluationData]): the evaluations; in the official file entry 0 is
            taken at the start, entry 1 halfway and entry 2 at the end of training.
        trainable_parameters (int, optional): parameters of the network built from the cell.
        total_time (float, optional): total time of the run in seconds.

    Example:
        >>> from gnnas.nasbench import EvaluationData, ModelMetrics
        >>> from gnnas.nasbench.record import decode_model_metrics, encode_model_metrics
        >>> metrics = ModelMetrics([EvaluationData(current_epoch=108.0, validation_accuracy=0.93)],
        ...                        trainable_parameters=8555530)
        >>> message = encode_model_metrics(metrics)   # the protobuf wire format
        >>> len(message), decode_model_metrics(message) == metrics
        (25, True)
    """

    evaluation_data: list[EvaluationData] = field(default_factory=list)
    trainable_parameters: int | None = None
    total_time: float | None = None


def _varint(value: int) -> bytes:
    if value < 0:  # int32 is sign-extended to 64 bits on the wire
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _encode_evaluation(evaluation: EvaluationData) -> bytes:
    out = bytearray()
    for number, name in enumerate(_EVALUATION_DOUBLES, start=1):
        value = getattr(evaluation, name)
        if value is not None:
            out += bytes([number << 3 | 1]) + _DOUBLE.pack(value)
    if evaluation.checkpoint_path is not None:
        text = evaluation.checkpoint_path.encode("utf-8")
        out += b"\x32" + _varint(len(text)) + text
    return bytes(out)


def encode_model_metrics(metrics: ModelMetrics) -> bytes:
    """Serialises a :class:`ModelMetrics` in the protobuf wire format, fields in number order.

    Args:
        metrics (ModelMetrics): the message.

    Returns:
        bytes: the serialised message.

    Raises:
        ValueError: if ``trainable_parameters`` does not fit in an int32.
    """
    out = bytearray()
    for evaluation in metrics.evaluation_data:
        body = _encode_evaluation(evaluation)
        out += b"\x0a" + _varint(len(body)) + body
    if metrics.trainable_parameters is not None:
        params = int(metrics.trainable_parameters)
        if not -(1 << 31) <= params < 1 << 31:
            raise ValueError(f"trainable_parameters must fit in an int32, got {params}")
        out += b"\x10" + _varint(params)
    if metrics.total_time is not None:
        out += b"\x19" + _DOUBLE.pack(metrics.total_time)
    return bytes(out)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if position >= len(data):
            raise ProtobufError(f"truncated varint at byte {position}")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift >= 70:
            raise ProtobufError(f"varint longer than 10 bytes ending at byte {position}")


def _fields(data: bytes) -> list[tuple[int, int, int | bytes | float]]:
    """Splits a message into ``(field number, wire type, value)``; doubles come as floats."""
    fields: list[tuple[int, int, int | bytes | float]] = []
    position = 0
    size = len(data)
    while position < size:
        key, position = _read_varint(data, position)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufError(f"field number 0 at byte {position}")
        value: int | bytes | float
        if wire_type == 0:
            value, position = _read_varint(data, position)
        elif wire_type == 1:
            if position + 8 > size:
                raise ProtobufError(f"truncated 64-bit field {number} at byte {position}")
            value = _DOUBLE.unpack_from(data, position)[0]
            position += 8
        elif wire_type == 2:
            length, position = _read_varint(data, position)
            if position + length > size:
                raise ProtobufError(f"field {number} announces {length} bytes, only {size - position} left")
            value = data[position:position + length]
            position += length
        elif wire_type == 5:
            if position + 4 > size:
                raise ProtobufError(f"truncated 32-bit field {number} at byte {position}")
            value = data[position:position + 4]
            position += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire_type} for field {number}")
        fields.append((number, wire_type, value))
    return fields


def _expect(number: int, wire_type: int, expected: int, message: str) -> None:
    if wire_type != expected:
        raise ProtobufError(f"{message} field {number} has wire type {wire_type}, expected {expected}")


def _decode_evaluation(data: bytes) -> EvaluationData:
    evaluation = EvaluationData()
    for number, wire_type, value in _fields(data):
        if 1 <= number <= 5:
            _expect(number, wire_type, 1, "EvaluationData")
            setattr(evaluation, _EVALUATION_DOUBLES[number - 1], value)
        elif number == 6:
            _expect(number, wire_type, 2, "EvaluationData")
            try:
                evaluation.checkpoint_path = bytes(value).decode("utf-8")  # type: ignore[arg-type]
            except UnicodeDecodeError as error:
                raise ProtobufError(f"checkpoint_path is not UTF-8: {error}") from error
    return evaluation


def decode_model_metrics(data: bytes) -> ModelMetrics:
    """Parses a serialised ``ModelMetrics`` message (the reference decoder).

    Args:
        data (bytes): the message in protobuf wire format.

    Returns:
        ModelMetrics: the message; absent optional fields are ``None``.

    Raises:
        ProtobufError: if the bytes are not a well-formed message of this type.
    """
    data = bytes(data)
    metrics = ModelMetrics()
    for number, wire_type, value in _fields(data):
        if number == 1:
            _expect(number, wire_type, 2, "ModelMetrics")
            metrics.evaluation_data.append(_decode_evaluation(value))  # type: ignore[arg-type]
        elif number == 2:
            _expect(number, wire_type, 0, "ModelMetrics")
            params = int(value) & 0xFFFFFFFF  # int32: keep the low 32 bits, signed
            metrics.trainable_parameters = params - (1 << 32) if params >= 1 << 31 else params
        elif number == 3:
            _expect(number, wire_type, 1, "ModelMetrics")
            metrics.total_time = value  # type: ignore[assignment]
    return metrics


@dataclass
class NASBenchRecord:
    """One record of the official file: one training run of one cell at one epoch budget.

    Args:
        module_hash (str): the official module hash of the cell (32 hex digits).
        epochs (int): the epoch budget (4, 12, 36 or 108).
        adjacency (str): the row-major ``0``/``1`` adjacency string, ``V * V`` characters.
        operations (str): ``V`` comma-separated op names.
        metrics (ModelMetrics): the run's metrics.

    Example:
        >>> from gnnas.nasbench import EvaluationData, ModelMetrics, NASBenchRecord
        >>> record = NASBenchRecord("043721b9c7fe8c5fad811d47d83132ec", 108, "0100", "input,output",
        ...                         ModelMetrics([EvaluationData(validation_accuracy=0.1)]))
        >>> payload = record.to_payload()   # one record of the official file, as JSON
        >>> payload[:50]
        b'["043721b9c7fe8c5fad811d47d83132ec", 108, "0100", '
        >>> NASBenchRecord.from_payload(payload) == record
        True
    """

    module_hash: str
    epochs: int
    adjacency: str
    operations: str
    metrics: ModelMetrics

    def to_payload(self) -> bytes:
        """Returns the record's payload exactly as the official file writes it.

        The JSON uses Python's default separators and the base64 text is broken into lines of 76
        characters, each ending in ``\\n`` (what the official generator wrote).

        Returns:
            bytes: the UTF-8 JSON payload.
        """
        encoded = base64.encodebytes(encode_model_metrics(self.metrics)).decode("ascii")
        return json.dumps([self.module_hash, int(self.epochs), self.adjacency, self.operations,
                           encoded]).encode("utf-8")

    @classmethod
    def from_payload(cls, payload: bytes) -> NASBenchRecord:
        """Parses a record's payload.

        Args:
            payload (bytes): the UTF-8 JSON payload of one TFRecord record.

        Returns:
            NASBenchRecord: the record.

        Raises:
            ValueError: if the payload is not the expected JSON list (bad JSON), or
                :class:`ProtobufError` if the metrics are not valid base64 or protobuf.
        """
        module_hash, epochs, adjacency, operations, metrics = parse_payload_json(payload)
        return cls(module_hash, epochs, adjacency, operations, decode_model_metrics(decode_base64(metrics)))


def parse_payload_json(payload: bytes) -> tuple[str, int, str, str, str]:
    """Parses and type-checks the JSON list of a payload.

    Raises:
        ValueError: if the payload is not a JSON list of (str, int, str, str, str).
    """
    try:
        items = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"bad JSON: {error}") from error
    if not isinstance(items, list) or len(items) != 5:
        raise ValueError(f"bad JSON: expected a list of 5 items, got {str(items)[:80]}")
    module_hash, epochs, adjacency, operations, metrics = items
    if not (isinstance(module_hash, str) and type(epochs) is int and isinstance(adjacency, str)
            and isinstance(operations, str) and isinstance(metrics, str)):
        raise ValueError("bad JSON: expected [hash (str), epochs (int), adjacency (str), operations (str), "
                         f"metrics (str)], got types {[type(item).__name__ for item in items]}")
    return module_hash, epochs, adjacency, operations, metrics


def decode_base64(text: str) -> bytes:
    """Decodes the base64 metrics text of a payload (line breaks are ignored).

    Raises:
        ProtobufError: if the text is not valid base64.
    """
    try:
        return binascii.a2b_base64(text)
    except (binascii.Error, ValueError) as error:
        raise ProtobufError(f"bad base64 in the metrics field: {error}") from error

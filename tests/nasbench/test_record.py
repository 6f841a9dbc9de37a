import base64
import json
import struct

import numpy as np
import pytest

from gnnas.nasbench.record import (
    EvaluationData,
    ModelMetrics,
    NASBenchRecord,
    ProtobufError,
    decode_model_metrics,
    encode_model_metrics,
)
from gnnas.nasbench.tfrecord import iter_tfrecord

from .helpers import REAL_RECORD


def real_payload() -> bytes:
    return next(iter_tfrecord(REAL_RECORD))[1]


def test_real_record_has_the_documented_values():
    record = NASBenchRecord.from_payload(real_payload())
    assert record.module_hash == "00005c142e6f48ac74fdcf73e3439874"
    assert record.epochs == 4
    assert record.adjacency == "0100110001000000010010000010000001000000010000000"
    assert record.operations.split(",")[0] == "input" and record.operations.split(",")[-1] == "output"
    metrics = record.metrics
    assert metrics.trainable_parameters == 8_555_530
    assert len(metrics.evaluation_data) == 3
    start, halfway, final = metrics.evaluation_data
    assert (start.current_epoch, halfway.current_epoch, final.current_epoch) == (0.0, 2.0, 4.0)
    assert final.training_time == pytest.approx(89.904, abs=5e-4)
    assert final.validation_accuracy == pytest.approx(0.34896, abs=5e-6)
    assert final.test_accuracy == pytest.approx(0.35046, abs=5e-6)
    assert final.checkpoint_path is None


def test_real_record_is_rewritten_byte_for_byte():
    payload = real_payload()
    assert NASBenchRecord.from_payload(payload).to_payload() == payload
    assert b"\\n" in payload  # the base64 text carries JSON-escaped line breaks, as officially


def random_metrics(rng: np.random.Generator) -> ModelMetrics:
    evaluations = []
    for _ in range(int(rng.integers(0, 5))):
        values = [float(v) if rng.random() < 0.8 else None for v in rng.normal(size=5)]
        path = None if rng.random() < 0.5 else "gs://bucket/model.ckpt-" + "é" * int(rng.integers(0, 200))
        evaluations.append(EvaluationData(*values, checkpoint_path=path))
    params = None if rng.random() < 0.2 else int(rng.integers(-(2**31), 2**31))
    total = None if rng.random() < 0.2 else float(rng.exponential(100))
    return ModelMetrics(evaluations, params, total)


def test_encode_decode_round_trip_on_random_messages():
    rng = np.random.default_rng(0)
    for _ in range(300):
        metrics = random_metrics(rng)
        assert decode_model_metrics(encode_model_metrics(metrics)) == metrics


def test_encoding_matches_the_wire_format_by_hand():
    metrics = ModelMetrics([EvaluationData(1.0, 2.5)], 300, 4.0)
    body = b"\x09" + struct.pack("<d", 1.0) + b"\x11" + struct.pack("<d", 2.5)
    expected = (b"\x0a" + bytes([len(body)]) + body + b"\x10" + bytes([0xAC, 0x02])
                + b"\x19" + struct.pack("<d", 4.0))
    assert encode_model_metrics(metrics) == expected


def test_decoder_accepts_any_field_order_and_skips_unknown_fields():
    body = b"\x29" + struct.pack("<d", 0.5) + b"\x09" + struct.pack("<d", 3.0) + b"\x38\x05"  # field 7 varint
    message = (b"\x19" + struct.pack("<d", 9.0) + b"\x10\x07" + b"\x0a" + bytes([len(body)]) + body
               + b"\x22\x02ab" + b"\x2d\x00\x00\x00\x00")  # unknown fields 4 (bytes) and 5 (fixed32)
    decoded = decode_model_metrics(message)
    assert decoded == ModelMetrics([EvaluationData(current_epoch=3.0, test_accuracy=0.5)], 7, 9.0)


@pytest.mark.parametrize(
    "message, reason",
    [
        (b"\x10", "truncated varint"),
        (b"\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "longer than 10 bytes"),
        (b"\x19\x00\x00", "truncated 64-bit"),
        (b"\x0a\x05\x09", "announces 5 bytes"),
        (b"\x11" + bytes(8), "wire type 1, expected 0"),
        (b"\x0a\x02\x08\x01", "wire type 0, expected 1"),
        (b"\x0b", "unsupported wire type 3"),
        (b"\x00\x01", "field number 0"),
    ],
)
def test_bad_protobuf_raises(message, reason):
    with pytest.raises(ProtobufError, match=reason):
        decode_model_metrics(message)


def test_bad_payloads_raise_value_errors():
    good = json.loads(real_payload())
    with pytest.raises(ValueError, match="bad JSON"):
        NASBenchRecord.from_payload(b"[\"00005c14\", 4,")
    with pytest.raises(ValueError, match="list of 5 items"):
        NASBenchRecord.from_payload(json.dumps(good[:4]).encode())
    with pytest.raises(ValueError, match="epochs \\(int\\)"):
        NASBenchRecord.from_payload(json.dumps([good[0], "4", *good[2:]]).encode())
    with pytest.raises(ProtobufError, match="base64"):
        NASBenchRecord.from_payload(json.dumps([*good[:4], "abc"]).encode())
    truncated = base64.encodebytes(base64.b64decode(good[4])[:-3]).decode()
    with pytest.raises(ProtobufError, match="truncated 64-bit"):
        NASBenchRecord.from_payload(json.dumps([*good[:4], truncated]).encode())

import struct

import numpy as np
import pytest

from gnnas.nasbench.tfrecord import (
    TFRecordError,
    TFRecordWriter,
    iter_tfrecord,
    masked_crc32c,
    write_tfrecord,
)

from .helpers import REAL_RECORD


def reference_crc32c(data: bytes) -> int:
    """Bitwise CRC-32C (reflected Castagnoli polynomial 0x82F63B78), the slow reference."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def reference_mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) % 2**32


def test_masked_crc32c_matches_bitwise_reference():
    assert reference_crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    rng = np.random.default_rng(0)
    for size in [0, 1, 7, 8, 9, 64, 401, 1000]:
        for _ in range(5):
            data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            assert masked_crc32c(data) == reference_mask(reference_crc32c(data))


def test_real_record_checksums():
    raw = REAL_RECORD.read_bytes()
    assert len(raw) == 417
    length, length_crc = struct.unpack_from("<QI", raw)
    assert length == 401
    assert masked_crc32c(raw[:8]) == length_crc
    assert masked_crc32c(raw[12:413]) == struct.unpack_from("<I", raw, 413)[0]
    records = list(iter_tfrecord(REAL_RECORD))
    assert [offset for offset, _ in records] == [0]
    assert records[0][1] == raw[12:413]


def test_write_then_read_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    sizes = rng.integers(0, 600, 50)
    payloads = [rng.integers(0, 256, int(size), dtype=np.uint8).tobytes() for size in sizes]
    payloads.insert(3, b"")
    path = tmp_path / "random.tfrecord"
    assert write_tfrecord(path, payloads) == len(payloads)
    records = list(iter_tfrecord(path))
    assert [payload for _, payload in records] == payloads
    offsets = np.cumsum([0] + [16 + len(p) for p in payloads[:-1]]).tolist()
    assert [offset for offset, _ in records] == offsets
    assert path.stat().st_size == sum(16 + len(p) for p in payloads)
    with TFRecordWriter(tmp_path / "again.tfrecord") as writer:
        for payload in payloads:
            writer.write(payload)
    assert (tmp_path / "again.tfrecord").read_bytes() == path.read_bytes()
    assert repr(writer) == f"TFRecordWriter({str(tmp_path / 'again.tfrecord')!r})"


def test_empty_file_has_no_records(tmp_path):
    path = tmp_path / "empty.tfrecord"
    path.write_bytes(b"")
    assert list(iter_tfrecord(path)) == []


def corrupt(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1:]


@pytest.fixture
def three_records(tmp_path):
    path = tmp_path / "three.tfrecord"
    write_tfrecord(path, [b"first", b"second record", b"third"])
    return path, path.read_bytes()


@pytest.mark.parametrize(
    "where, offset, reason",
    [
        ("length", 21, "bad length checksum"),         # a bit of the 2nd record's length field
        ("length_crc", 21 + 9, "bad length checksum"),  # its stored length checksum
        ("payload", 21 + 14, "bad payload checksum"),   # a byte of its payload
        ("payload_crc", 21 + 12 + 13 + 1, "bad payload checksum"),
    ],
)
def test_corrupted_checksums_name_file_and_offset(tmp_path, three_records, where, offset, reason):
    path, data = three_records
    bad = tmp_path / f"bad_{where}.tfrecord"
    bad.write_bytes(corrupt(data, offset))
    with pytest.raises(TFRecordError, match=reason) as info:
        list(iter_tfrecord(bad))
    assert info.value.offset == 21  # the second record starts after 16 + len(b"first") bytes
    assert info.value.path == str(bad)
    assert f"{bad}: record at byte offset 21" in str(info.value)


@pytest.mark.parametrize("cut", [1, 4, 12, 20])
def test_truncated_file_names_the_last_record(tmp_path, three_records, cut):
    path, data = three_records
    bad = tmp_path / "truncated.tfrecord"
    bad.write_bytes(data[:-cut])
    last = len(data) - 16 - len(b"third")
    with pytest.raises(TFRecordError, match="truncated record") as info:
        list(iter_tfrecord(bad))
    assert info.value.offset == last


def test_error_is_a_picklable_value_error():
    import pickle

    error = TFRecordError("/data/file.tfrecord", 42, "bad payload checksum")
    assert isinstance(error, ValueError)
    again = pickle.loads(pickle.dumps(error))
    assert (again.path, again.offset, str(again)) == (error.path, error.offset, str(error))

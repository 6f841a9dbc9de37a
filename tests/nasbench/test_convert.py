import base64
import json
import os
import sys

import numpy as np
import pytest

import gnnas.nasbench.convert as convert_module
from gnnas import NASBench101
from gnnas.nasbench.arrays import METRIC_FIELDS
from gnnas.nasbench.convert import convert_tfrecord
from gnnas.nasbench.record import EvaluationData, NASBenchRecord, encode_model_metrics
from gnnas.nasbench.tfrecord import TFRecordError, iter_tfrecord, write_tfrecord

from .helpers import REAL_RECORD, random_specs, write_synthetic


def reference_table(path):
    """The slow reference: the official API's loop over the records, on the general decoder."""
    fixed, computed = {}, {}
    for _, payload in iter_tfrecord(path):
        record = NASBenchRecord.from_payload(payload)
        if record.module_hash not in fixed:
            fixed[record.module_hash] = (record.adjacency, record.operations,
                                         record.metrics.trainable_parameters or 0)
        point = {}
        for stage, evaluation in (("halfway", record.metrics.evaluation_data[1]),
                                  ("final", record.metrics.evaluation_data[2])):
            for name in METRIC_FIELDS:
                value = getattr(evaluation, name)
                point[f"{stage}_{name}"] = 0.0 if value is None else value
        computed.setdefault(record.module_hash, {}).setdefault(record.epochs, []).append(point)
    return fixed, computed


def assert_matches_reference(table, path):
    fixed, computed = reference_table(path)
    assert sorted(fixed) == table.hashes.tolist()
    for module_hash, (adjacency, operations, params) in fixed.items():
        fixed_stats, computed_stats = table.get_metrics_from_hash(module_hash)
        size = len(operations.split(","))
        expected = np.array(list(adjacency), dtype=int).reshape(size, size)
        assert fixed_stats["module_adjacency"].tolist() == expected.tolist()
        assert fixed_stats["module_adjacency"].dtype == np.int8
        assert fixed_stats["module_operations"] == operations.split(",")
        assert fixed_stats["trainable_parameters"] == params
        assert computed_stats == computed[module_hash]  # exact float equality, repeats in file order


@pytest.mark.parametrize("layout, epochs, per_cell", [("only108", [108], 3), ("full", [4, 12, 36, 108], 12)])
def test_project_files_round_trip_exactly(tmp_path, layout, epochs, per_cell):
    specs = random_specs(40, seed=1)
    path = tmp_path / f"{layout}.tfrecord"
    records = write_synthetic(path, specs, layout, seed=2)
    assert len(records) == per_cell * len(specs)
    table = NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    assert len(table) == len(specs)
    assert sorted(table.valid_epochs) == epochs
    assert table.arrays.num_repeats.min() == table.arrays.num_repeats.max() == 3
    assert_matches_reference(table, path)
    for spec in specs:  # the stored cell is the written cell
        assert table.spec(spec.hash) == spec
        assert table.spec(spec.hash).matrix.tolist() == spec.matrix.tolist()
    # And once more from the cache.
    again = NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    assert_matches_reference(again, path)


def test_real_record_converts_to_the_documented_values(tmp_path):
    table = NASBench101.from_tfrecord(REAL_RECORD, cache_dir=tmp_path, progress=False)
    assert table.hashes.tolist() == ["00005c142e6f48ac74fdcf73e3439874"]
    fixed, computed = table.get_metrics_from_hash("00005c142e6f48ac74fdcf73e3439874")
    assert fixed["trainable_parameters"] == 8_555_530
    assert list(computed) == [4] and len(computed[4]) == 1
    run = computed[4][0]
    assert run["final_training_time"] == pytest.approx(89.904, abs=5e-4)
    assert run["final_validation_accuracy"] == pytest.approx(0.34896, abs=5e-6)
    assert run["final_test_accuracy"] == pytest.approx(0.35046, abs=5e-6)
    assert_matches_reference(table, REAL_RECORD)


def test_fast_path_agrees_with_the_general_decoder(tmp_path):
    """Messages off the official layout (checkpoint paths, absent fields, extra entries, large
    parameter counts) take the general path; the values must not depend on the path."""
    specs = random_specs(30, seed=3)
    records = write_synthetic(tmp_path / "plain.tfrecord", specs, "full", seed=4)
    rng = np.random.default_rng(5)
    for record in records:
        kind = int(rng.integers(0, 6))
        evaluations = record.metrics.evaluation_data
        if kind == 1:
            evaluations[2].checkpoint_path = "gs://nasbench/model.ckpt-1000"
        elif kind == 2:
            evaluations[1].test_accuracy = None  # absent: the proto default 0.0, as officially
        elif kind == 3:
            evaluations.append(EvaluationData(1.0, 2.0, 0.5, 0.5, 0.5))
        elif kind == 4:
            record.metrics.trainable_parameters = int(rng.integers(2**28, 2**31))  # 5-byte varint
        elif kind == 5:
            record.metrics.total_time = None
    path = tmp_path / "mixed.tfrecord"
    write_tfrecord(path, [record.to_payload() for record in records])
    table = NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    assert_matches_reference(table, path)


def test_worker_processes_give_the_same_table(tmp_path, monkeypatch):
    path = tmp_path / "full.tfrecord"
    write_synthetic(path, random_specs(20, seed=6), "full", seed=7)
    monkeypatch.setattr(convert_module, "_CHUNK_RECORDS", 37)  # several chunks
    one = convert_tfrecord(path, progress=False, workers=1)
    two = convert_tfrecord(path, progress=False, workers=2)
    for name in ("hashes", "adjacency", "num_vertices", "ops", "trainable_parameters", "epochs",
                 "num_repeats", "available"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    assert np.array_equal(one.metrics, two.metrics, equal_nan=True)
    with pytest.raises(ValueError, match="workers"):
        convert_tfrecord(path, workers=0)


def good_payloads():
    records = write_synthetic_records()
    return [record.to_payload() for record in records]


def write_synthetic_records():
    from gnnas.nasbench.synthetic import cells_from_specs, synthetic_records

    return list(synthetic_records(cells_from_specs(random_specs(1, seed=8)), "only108", seed=9))


def bad_payload(kind):
    record = write_synthetic_records()[0]
    items = json.loads(record.to_payload())
    message = encode_model_metrics(record.metrics)
    if kind == "json":
        return record.to_payload()[:-5]
    if kind == "json_shape":
        return json.dumps(items[:4]).encode()
    if kind == "json_types":
        return json.dumps([items[0], "108", *items[2:]]).encode()
    if kind == "base64":
        items[4] = items[4][:-3]
    elif kind == "protobuf":
        items[4] = base64.encodebytes(message[:-4]).decode()
    elif kind == "entries":
        items[4] = base64.encodebytes(message[47:]).decode()  # only two evaluation entries
    elif kind == "hash":
        items[0] = items[0][:31] + "g"
    if kind.startswith(("ops", "adjacency", "stored_hash")):
        items[0] = "f" * 32  # a new hash: the first (kept) record of its cell is the bad one
    if kind == "ops":
        items[3] = items[3].replace("input", "inptu")
    elif kind == "adjacency_size":
        items[2] = items[2] + "0"
    elif kind == "adjacency_chars":
        items[2] = items[2][:-1] + "2"
    elif kind == "adjacency_lower":
        items[2] = "1" + items[2][1:]
    elif kind == "adjacency_unreachable":
        items[2] = "0" * len(items[2])
    elif kind == "epochs":
        items[1] = 0
    return json.dumps(items).encode()


@pytest.mark.parametrize("kind, reason", [
    ("json", "bad JSON"), ("json_shape", "bad JSON"), ("json_types", "bad JSON"),
    ("base64", "bad base64"), ("protobuf", "bad protobuf"), ("entries", "3 evaluation_data entries"),
    ("hash", "32 lowercase hexadecimal"), ("ops", "bad operations"), ("adjacency_size", "V \\* V"),
    ("adjacency_chars", "only '0' and '1'"), ("adjacency_lower", "upper triangular"),
    ("epochs", "positive integer"),
    ("stored_hash", "the stated hash f{32} is not the cell's own, [0-9a-f]{32}"),
    ("adjacency_unreachable", "invalid cell: the output is not reachable from the input"),
])
def test_bad_content_names_file_and_offset(tmp_path, kind, reason):
    payloads = good_payloads()  # three good records, then the bad one, then a good one
    payloads = payloads + [bad_payload(kind), payloads[0]]
    path = tmp_path / f"{kind}.tfrecord"
    write_tfrecord(path, payloads)
    offset = sum(16 + len(payload) for payload in payloads[:3])
    with pytest.raises(TFRecordError, match=reason) as info:
        NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    assert info.value.offset == offset
    assert f"{path}: record at byte offset {offset}" in str(info.value)


@pytest.mark.parametrize("position, reason", [(3, "bad length checksum"), (20, "bad payload checksum"),
                                              (-1, "truncated record")])
def test_bad_framing_is_found_while_converting(tmp_path, position, reason):
    payloads = good_payloads()
    path = tmp_path / "framing.tfrecord"
    write_tfrecord(path, payloads)
    data = bytearray(path.read_bytes())
    second = 16 + len(payloads[0])
    if position < 0:
        data = data[:-2]
        offset = 2 * second
    else:
        data[second + position] ^= 0x10
        offset = second
    path.write_bytes(bytes(data))
    with pytest.raises(TFRecordError, match=reason) as info:
        convert_tfrecord(path, progress=False)
    assert info.value.offset == offset and info.value.path == str(path)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.tfrecord"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        convert_tfrecord(path, progress=False)


def test_cache_is_reused_and_invalidated(tmp_path, monkeypatch):
    path = tmp_path / "data.tfrecord"
    write_synthetic(path, random_specs(10, seed=10), "only108", seed=11)
    monkeypatch.setenv("GNNAS_CACHE_DIR", str(tmp_path / "env_cache"))
    calls = []
    real_convert = convert_module.convert_tfrecord

    def counting_convert(*args, **kwargs):
        calls.append(args[0])
        return real_convert(*args, **kwargs)

    monkeypatch.setattr(convert_module, "convert_tfrecord", counting_convert)
    first = NASBench101.from_tfrecord(path, progress=False)
    assert len(calls) == 1
    assert first.cache_path.parent.parent == tmp_path / "env_cache"
    assert (first.cache_path / "meta.json").exists()
    second = NASBench101(path, progress=False)  # the constructor reads the same cache
    assert len(calls) == 1
    assert np.array_equal(first.arrays.metrics, second.arrays.metrics)
    assert first.hashes.tolist() == second.hashes.tolist()

    # Same size, new modification time: converted again.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    NASBench101.from_tfrecord(path, progress=False)
    assert len(calls) == 2
    # New content: converted again, and the new values are served.
    write_synthetic(path, random_specs(12, seed=12), "only108", seed=13)
    third = NASBench101.from_tfrecord(path, progress=False)
    assert len(calls) == 3 and len(third) == 12
    assert_matches_reference(third, path)
    # An explicit cache_dir wins over the environment.
    fourth = NASBench101.from_tfrecord(path, cache_dir=tmp_path / "explicit", progress=False)
    assert fourth.cache_path.parent.parent == tmp_path / "explicit"
    # An incomplete cache folder (no meta.json) is rebuilt, not trusted.
    (fourth.cache_path / "meta.json").unlink()
    NASBench101.from_tfrecord(path, cache_dir=tmp_path / "explicit", progress=False)
    assert len(calls) == 5


def cached_table(tmp_path):
    path = tmp_path / "data.tfrecord"
    write_synthetic(path, random_specs(10, seed=20), "only108", seed=21)
    table = NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    return path, table


@pytest.mark.parametrize("damage", ["truncate", "empty", "flip", "missing", "garbage", "meta"])
def test_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch, damage):
    from gnnas.space import CacheWarning

    path, table = cached_table(tmp_path)
    folder = table.cache_path
    target = folder / ("hashes.npy" if damage == "flip" else "metrics.npy")
    content = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(content[:-8])  # once "mmap length is greater than file size", forever
    elif damage == "empty":
        target.write_bytes(b"")
    elif damage == "flip":
        target.write_bytes(content[:200] + bytes([content[200] ^ 1]) + content[201:])
    elif damage == "missing":
        target.unlink()
    elif damage == "garbage":
        target.write_bytes(os.urandom(len(content)))
    else:
        (folder / "meta.json").write_text("{not json")
    calls = []
    real_convert = convert_module.convert_tfrecord
    monkeypatch.setattr(convert_module, "convert_tfrecord",
                        lambda *args, **kwargs: calls.append(1) or real_convert(*args, **kwargs))
    if damage == "meta":  # an incomplete cache: rebuilt without a word
        again = NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    else:
        reason = "No such file or directory" if damage == "missing" else "its checksum does not match"
        with pytest.warns(CacheWarning, match=f"rebuilding the NAS-Bench-101 cache: {target}: {reason}"):
            again = NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    assert calls == [1]
    assert again.hashes.tolist() == table.hashes.tolist()
    assert np.array_equal(np.asarray(again.arrays.metrics), np.asarray(table.arrays.metrics), equal_nan=True)
    NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    assert calls == [1]  # the rebuilt cache is used


def test_staging_folders_of_killed_conversions_are_removed(tmp_path):
    import socket
    import subprocess

    path, table = cached_table(tmp_path)
    folder = table.cache_path
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    host = socket.gethostname()
    stale = [f"{folder.name}.tmp-{dead.stdout.strip()}@{host}.k2j4_x", f"{folder.name}.tmp-a1b2c3d4"]
    kept = [f"{folder.name}.tmp-{os.getpid()}@{host}.q9w8e7",  # a conversion still running
            f"{folder.name}.tmp-{dead.stdout.strip()}@another-host.z1x2c3", "other.tmp-a1b2c3d4"]
    for name in stale + kept:
        (folder.parent / name).mkdir()
        (folder.parent / name / "metrics.npy").write_bytes(b"half written")
    NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)  # the next run
    assert sorted(p.name for p in folder.parent.iterdir()) == sorted([folder.name, *kept])


def test_workers_are_capped_by_chunks_and_cores(tmp_path, monkeypatch):
    path = tmp_path / "data.tfrecord"
    write_synthetic(path, random_specs(10, seed=22), "only108", seed=23)  # 30 records
    monkeypatch.setattr(convert_module, "_CHUNK_RECORDS", 12)  # 3 chunks
    started = []
    real_pool = convert_module.worker_pool
    monkeypatch.setattr(convert_module, "worker_pool", lambda n: started.append(n) or real_pool(n))
    monkeypatch.setattr(convert_module, "available_cores", lambda: 2)
    table = convert_tfrecord(path, progress=False, workers=10**9)
    assert started == [2] and len(table.hashes) == 10
    monkeypatch.setattr(convert_module, "available_cores", lambda: 64)
    convert_tfrecord(path, progress=False, workers=10**9)
    assert started == [2, 3]  # no more processes than chunks
    monkeypatch.setattr(convert_module, "_CHUNK_RECORDS", 50)  # one chunk: no process at all
    convert_tfrecord(path, progress=False, workers=10**9)
    assert started == [2, 3]
    monkeypatch.undo()
    assert 1 <= convert_module.available_cores() <= (os.cpu_count() or 1)

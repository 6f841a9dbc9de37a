import hashlib
import importlib.util
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gnnas import ArchSpec, NASBench101
from gnnas.nasbench.arrays import NASBenchArrays, cell_strings
from gnnas.nasbench.compact import BUNDLED_FILE, COMPACT_FORMAT, load_compact, save_compact
from gnnas.nasbench.csv_table import CSV_COLUMNS, read_csv, write_csv

from .helpers import random_specs, write_synthetic

#: SHA-256 of nb101_subset_30k.csv (30,001 rows), the source of the bundled table.
SUBSET_CSV_SHA256 = "96d132d6133d36873dc1e41dc99cc22d3a7214451e23ca58d0f28a2b7defd48d"
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bundled_table.py"
FIELDS = ("hashes", "adjacency", "num_vertices", "ops", "trainable_parameters", "epochs", "num_repeats",
          "available")


def assert_same_arrays(a: NASBenchArrays, b: NASBenchArrays) -> None:
    for name in FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.metrics.dtype == b.metrics.dtype == np.float64
    assert np.array_equal(a.metrics, b.metrics, equal_nan=True)


def test_round_trip_of_a_converted_file(tmp_path):
    specs = random_specs(60, seed=5)
    write_synthetic(tmp_path / "full.tfrecord", specs, "full", seed=5)
    table = NASBench101.from_tfrecord(tmp_path / "full.tfrecord", cache_dir=tmp_path / "c", progress=False)
    # The official metrics are float32 numbers stored as doubles; the synthetic ones need rounding.
    table.arrays.metrics = table.arrays.metrics.astype(np.float32).astype(np.float64)
    save_compact(table.arrays, tmp_path / "full.npz")
    again = load_compact(tmp_path / "full.npz")
    assert_same_arrays(again, table.arrays)
    assert again.source == str(tmp_path / "full.npz")
    # A .npz suffix selects the compact reader; the answers are the same.
    compact = NASBench101(tmp_path / "full.npz", seed=0)
    original = NASBench101(table.arrays, seed=0)
    for spec in specs[:10]:
        assert compact.get_metrics_from_spec(spec)[1] == original.get_metrics_from_spec(spec)[1]
        ours, theirs = compact.query(spec, epochs=36), original.query(spec, epochs=36)  # same seed, same run
        assert ours.pop("module_adjacency").tolist() == theirs.pop("module_adjacency").tolist()
        assert ours == theirs


def test_round_trip_keeps_absent_runs_and_metrics(tmp_path):
    rows = []
    for spec in random_specs(20, seed=6):
        adjacency, operations = spec.to_strings()
        rows.append(f"{spec.hash},{adjacency},\"{operations}\",0.25,0.5,0.75,0.875,1234.5,{10**6}\n")
    (tmp_path / "t.csv").write_text(",".join(CSV_COLUMNS) + "\n" + "".join(rows))
    arrays = read_csv(tmp_path / "t.csv")
    arrays.num_repeats[3, 1] = 0  # a cell without a run at 12 epochs
    arrays.metrics[3, 1] = np.nan
    save_compact(arrays, tmp_path / "t.npz")
    assert_same_arrays(load_compact(tmp_path / "t.npz"), arrays)


def test_save_refuses_what_it_cannot_store_exactly(tmp_path):
    write_synthetic(tmp_path / "a.tfrecord", random_specs(8, seed=7), "only108", seed=7)
    arrays = NASBench101.from_tfrecord(tmp_path / "a.tfrecord", cache_dir=tmp_path / "c", progress=False)
    arrays = arrays.arrays
    arrays.metrics = arrays.metrics.astype(np.float32).astype(np.float64)
    arrays.metrics[2, 0, 1, 1, 2] = 0.1  # not a float32 number
    with pytest.raises(ValueError, match=f"not a float32 number \\(cell {arrays.hashes[2]}\\)"):
        save_compact(arrays, tmp_path / "a.npz")
    assert not list(tmp_path.glob("a.npz*"))  # nothing written, no staging file left
    arrays.metrics[2, 0, 1, 1, 2] = 0.5
    arrays.available[0, 0, 3] = False  # halfway test accuracy marked absent, yet it has values
    with pytest.raises(ValueError, match="marks absent has a value"):
        save_compact(arrays, tmp_path / "a.npz")
    arrays.available[0, 0, 3] = True
    arrays.trainable_parameters[4] = 2**31
    with pytest.raises(ValueError, match=f"does not fit int32 \\(cell {arrays.hashes[4]}\\)"):
        save_compact(arrays, tmp_path / "a.npz")
    assert not list(tmp_path.glob("a.npz*"))


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_compact(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="text.npz: not a gnnas compact table"):
        load_compact(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match=r"other.npz: not a gnnas compact table \(missing members"):
        load_compact(tmp_path / "other.npz")
    with np.load(_data_dir() / BUNDLED_FILE) as archive:
        members = dict(archive)
    np.savez(tmp_path / "future.npz", **{**members, "format": np.array([COMPACT_FORMAT + 1])})
    with pytest.raises(ValueError, match=f"future.npz: compact table format \\[{COMPACT_FORMAT + 1}\\]"):
        load_compact(tmp_path / "future.npz")
    np.savez(tmp_path / "short.npz", **{**members, "metrics": members["metrics"][:10]})
    with pytest.raises(ValueError, match="short.npz: not a valid compact table"):
        load_compact(tmp_path / "short.npz")
    pickled = {**members, "ops": np.array([object()] * 3, dtype=object)}
    np.savez(tmp_path / "pickled.npz", **pickled)
    with pytest.raises(ValueError, match="pickled.npz: not a gnnas compact table"):  # never unpickles
        load_compact(tmp_path / "pickled.npz")


def _data_dir() -> Path:
    import gnnas

    return Path(gnnas.__file__).parent / "data"


def test_bundled_table_is_the_csv_on_every_row(tmp_path):
    """Written back as CSV, the bundled table is byte for byte nb101_subset_30k.csv (its SHA-256),
    and reading that CSV gives the bundled arrays again: every row, every field, float64-equal."""
    table = NASBench101.bundled()
    write_csv(table.arrays, tmp_path / "nb101_subset_30k.csv")
    digest = hashlib.sha256((tmp_path / "nb101_subset_30k.csv").read_bytes()).hexdigest()
    assert digest == SUBSET_CSV_SHA256
    assert_same_arrays(read_csv(tmp_path / "nb101_subset_30k.csv"), table.arrays)


def test_bundled_table_facts():
    start = time.perf_counter()
    table = NASBench101.bundled(seed=0)
    assert time.perf_counter() - start < 1.0  # about 0.02-0.06 s
    assert len(table) == 30_001 and table.valid_epochs == {4, 12, 36, 108}
    assert repr(table) == ("NASBench101(cells=30001, epochs=[4, 12, 36, 108], repeats=1, "
                           "source='gnnas/data/nasbench101_30k.npz')")
    assert (_data_dir() / BUNDLED_FILE).stat().st_size <= 3 * 2**20
    sizes, counts = np.unique(table.arrays.num_vertices, return_counts=True)
    assert dict(zip(sizes.tolist(), counts.tolist(), strict=True)) == {7: 25_374, 6: 4_432, 5: 183, 4: 10,
                                                                      3: 1, 2: 1}
    assert table.best() == ("096f593e0f12d65f6220bf8565b764a9", pytest.approx(0.949119, abs=5e-7))
    with pytest.raises(ValueError, match="no final test_accuracy"):
        table.metric_array("test_accuracy")


def test_bundled_hashes_are_the_cells_hashes():
    """Every stored hash is the official hash of the stored cell (ArchSpec built from the strings)."""
    arrays = NASBench101.bundled().arrays
    adjacency, operations = cell_strings(arrays.adjacency, arrays.ops, arrays.num_vertices)
    rng = np.random.default_rng(0)
    for k in rng.choice(arrays.num_cells, 500, replace=False).tolist():
        assert ArchSpec.from_strings(adjacency[k], operations[k]).hash == arrays.hashes[k]


def load_script():
    spec = importlib.util.spec_from_file_location("bundled_table_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_on_a_small_csv(tmp_path, capsys):
    script = load_script()
    source = NASBench101.bundled().arrays
    rows = np.random.default_rng(1).choice(source.num_cells, 300, replace=False)
    rows.sort()
    small = NASBenchArrays(
        hashes=source.hashes[rows], adjacency=source.adjacency[rows], num_vertices=source.num_vertices[rows],
        ops=source.ops[rows], trainable_parameters=source.trainable_parameters[rows], epochs=source.epochs,
        num_repeats=source.num_repeats[rows], metrics=source.metrics[rows], available=source.available)
    write_csv(small, tmp_path / "small.csv")
    out = tmp_path / "small.npz"
    argv = ["--data", str(tmp_path / "small.csv"), "--bundle", str(out), "--out", str(tmp_path / "r"),
            "--repeats", "2"]
    results = script.main(argv)
    assert results["equal"] and results["csv_written_back_identical"] and results["num_cells"] == 300
    assert_same_arrays(load_compact(out), read_csv(tmp_path / "small.csv"))
    with pytest.raises(SystemExit, match="exists; pass --overwrite"):
        script.main(argv)
    assert script.main([*argv, "--check"])["equal"]
    # A bundle that differs from its CSV in one value is caught, naming the cell.
    changed = read_csv(tmp_path / "small.csv")
    changed.metrics[7, 3, 0, 1, 2] = 0.5
    save_compact(changed, out)
    with pytest.raises(SystemExit) as raised:
        script.main([*argv, "--check"])
    assert raised.value.code == 1
    assert f"metrics: 1 values differ, first at cell {changed.hashes[7]}" in capsys.readouterr().err
    with zipfile.ZipFile(out) as archive:  # the file holds arrays only
        assert sorted(archive.namelist()) == sorted(f"{m}.npy" for m in (*FIELDS, "format", "metrics"))

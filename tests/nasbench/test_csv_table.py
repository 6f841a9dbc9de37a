import csv

import numpy as np
import pytest

from gnnas import ArchSpec, NASBench101, OutOfDomainError
from gnnas.nasbench import csv_table
from gnnas.nasbench.csv_table import CSV_COLUMNS, read_csv

from .helpers import random_specs


@pytest.fixture(scope="module")
def subset_csv(tmp_path_factory):
    """``nb101_subset_30k.csv``, written from the bundled table (byte for byte the original:
    tests/nasbench/test_compact.py checks its SHA-256)."""
    path = tmp_path_factory.mktemp("subset") / "nb101_subset_30k.csv"
    csv_table.write_csv(NASBench101.bundled().arrays, path)
    return path


def rows_of(specs, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for spec in specs:
        adjacency, operations = spec.to_strings()
        accuracies = np.sort(rng.random(4)).tolist()
        rows.append([spec.hash, adjacency, operations, *map(repr, accuracies), repr(1000 * rng.random()),
                     str(int(rng.integers(10**5, 10**7)))])
    return rows


def write_csv(path, rows, header=CSV_COLUMNS):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_small_table_round_trips(tmp_path):
    specs = random_specs(30, seed=30)
    rows = rows_of(specs)
    table = NASBench101(write_csv(tmp_path / "small.csv", rows[::-1]), seed=0)  # any row order
    assert table.hashes.tolist() == sorted(row[0] for row in rows)
    for row, spec in zip(rows, specs, strict=True):
        fixed, computed = table.get_metrics_from_hash(row[0])
        assert fixed["module_adjacency"].tolist() == spec.matrix.tolist()
        assert fixed["module_operations"] == list(spec.ops)
        assert fixed["trainable_parameters"] == int(row[8])
        assert computed == {4: [{"final_validation_accuracy": float(row[3])}],
                            12: [{"final_validation_accuracy": float(row[4])}],
                            36: [{"final_validation_accuracy": float(row[5])}],
                            108: [{"final_training_time": float(row[7]),
                                   "final_validation_accuracy": float(row[6])}]}
        data = table.query(spec)
        assert data["validation_accuracy"] == float(row[6]) and data["training_time"] == float(row[7])
        assert "test_accuracy" not in data and "train_accuracy" not in data
        assert sorted(table.query(spec, epochs=4)) == ["module_adjacency", "module_operations",
                                                       "trainable_parameters", "validation_accuracy"]
    assert table.get_budget_counters() == (pytest.approx(sum(float(row[7]) for row in rows)), 30 * (108 + 4))
    with pytest.raises(ValueError, match="no halfway metrics"):
        table.query(specs[0], stop_halfway=True)
    with pytest.raises(ValueError, match="holds no final test_accuracy"):
        table.metric_array("test_accuracy")
    with pytest.raises(ValueError, match="holds no final training_time at 4 epochs"):
        table.metric_array("training_time", epochs=4)


def test_verify_checks_every_hash(tmp_path):
    rows = rows_of(random_specs(40, seed=31))
    assert len(NASBench101.from_csv(write_csv(tmp_path / "good.csv", rows), verify=True)) == 40
    # A row whose cell is not pruned (vertex 2 leads nowhere) carries the hash of the pruned cell.
    unpruned = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    row = [ArchSpec(unpruned, ops).hash, "".join(map(str, unpruned.ravel())), ",".join(ops),
           "0.5", "0.6", "0.7", "0.8", "100.0", "1000"]
    others = [other for other in rows if other[0] != row[0]]
    table = NASBench101.from_csv(write_csv(tmp_path / "unpruned.csv", [*others, row]), verify=True)
    assert len(table) == len(others) + 1
    rows[17][0], rows[18][0] = rows[18][0], rows[17][0]  # two hashes swapped: checked by default
    path = write_csv(tmp_path / "swapped.csv", rows)
    assert len(NASBench101.from_csv(path, verify=False)) == 40  # only for a table known to be right
    with pytest.raises(ValueError, match=f"swapped.csv, line 19: the stated hash {rows[17][0]} is not "
                                         f"the cell's own, {rows[18][0]}"):
        NASBench101.from_csv(path)
    with pytest.raises(ValueError, match="swapped.csv, line 19: the stated hash"):
        NASBench101(path)  # every path that reads a CSV table checks it
    rows[17][0], rows[18][0] = rows[18][0], rows[17][0]
    rows[5][1] = "0" * len(rows[5][1])  # the output is unreachable: not a valid cell
    with pytest.raises(ValueError, match="line 7: invalid cell: the output is not reachable"):
        read_csv(write_csv(tmp_path / "invalid.csv", rows))


def bad_rows(kind):
    rows = rows_of(random_specs(5, seed=32))
    row = rows[2]  # line 4 of the file
    if kind == "columns":
        row.pop()
    elif kind == "hash":
        row[0] = row[0].upper()
    elif kind == "adjacency":
        row[1] = row[1][:-1] + "x"
    elif kind == "operations":
        row[2] = row[2].replace("output", "outptu")
    elif kind == "size":
        row[1] = row[1][:-1]
    elif kind == "lower":
        row[1] = "1" + row[1][1:]
    elif kind == "number":
        row[5] = "n/a"
    elif kind == "finite":
        row[6] = "nan"
    elif kind == "parameters":
        row[8] = "12.5"
    elif kind == "duplicate":
        row[:] = rows[0]
    return rows


@pytest.mark.parametrize("kind, reason", [
    ("columns", "expected 9 columns, got 8"), ("hash", "32 lowercase hexadecimal"), ("adjacency", "'0'/'1'"),
    ("operations", "known op names"), ("size", "V \\* V"), ("lower", "upper triangular"),
    ("number", "'val_acc_36' must be a number"), ("finite", "'val_acc_108' must be a number in \\[0, 1\\]"),
    ("parameters", "must be an integer"), ("duplicate", "duplicate hash .* \\(first on line 2\\)"),
])
def test_bad_row_names_the_line(tmp_path, kind, reason):
    path = write_csv(tmp_path / f"{kind}.csv", bad_rows(kind))
    with pytest.raises(ValueError, match=f"{kind}.csv, line 4: .*{reason}"):
        NASBench101.from_csv(path)


def test_bad_header_and_empty_table(tmp_path):
    with pytest.raises(ValueError, match="line 1: expected the header"):
        read_csv(write_csv(tmp_path / "header.csv", [], header=("hash", "adjacency")))
    with pytest.raises(ValueError, match="no rows"):
        read_csv(write_csv(tmp_path / "empty.csv", []))
    (tmp_path / "nothing.csv").write_text("")
    with pytest.raises(ValueError, match="got nothing"):
        read_csv(tmp_path / "nothing.csv")


def test_real_subset_loads_and_answers_with_its_values(subset_csv):
    table = NASBench101.from_csv(subset_csv, seed=0)
    assert len(table) == 30_001
    sizes, counts = np.unique(table.arrays.num_vertices, return_counts=True)
    counted = dict(zip(sizes.tolist(), counts.tolist(), strict=True))
    assert counted == {7: 25_374, 6: 4_432, 5: 183, 4: 10, 3: 1, 2: 1}
    with open(subset_csv, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert table.hashes.tolist() == sorted(row[0] for row in rows)
    rng = np.random.default_rng(0)
    for k in rng.choice(len(rows), 200, replace=False).tolist():
        row = rows[k]
        spec = ArchSpec.from_strings(row[1], row[2])
        data = table.query(spec)
        assert data["validation_accuracy"] == float(row[6])
        assert data["training_time"] == float(row[7])
        assert data["trainable_parameters"] == int(row[8])
        assert table.query(spec, epochs=12)["validation_accuracy"] == float(row[4])
    first = ArchSpec.from_strings(rows[0][1], rows[0][2])
    assert first.hash == "00005c142e6f48ac74fdcf73e3439874"
    assert table.query(first)["trainable_parameters"] == 8_555_530
    best_hash, best_value = table.best()
    assert best_hash == "096f593e0f12d65f6220bf8565b764a9" and round(best_value, 6) == 0.949119
    accuracies = table.metric_array()
    assert round(float(accuracies.mean()), 6) == 0.910456
    assert round(float(np.median(accuracies)), 6) == 0.916166
    assert "02e5a0247bbdcf2860b7e96f74961594" in table
    assert table.query(table.spec("02e5a0247bbdcf2860b7e96f74961594"))["trainable_parameters"] == 32_426_634
    with pytest.raises(OutOfDomainError, match="0" * 32):
        table.index_of("0" * 32)


def test_real_subset_hashes_verify(subset_csv, tmp_path):
    assert len(NASBench101.from_csv(subset_csv, verify=True)) == 30_001
    with open(subset_csv, newline="") as handle:
        lines = handle.readlines()
    tampered = lines[:1] + lines[1:300]
    tampered[150] = tampered[150].replace(tampered[150][:32], "f" * 32)  # line 151: a wrong hash
    (tmp_path / "tampered.csv").write_text("".join(tampered))
    with pytest.raises(ValueError, match=f"tampered.csv, line 151: the stated hash {'f' * 32} is not"):
        NASBench101.from_csv(tmp_path / "tampered.csv")


def test_write_csv_round_trips_byte_for_byte(tmp_path):
    rows = sorted(rows_of(random_specs(40, seed=41), seed=41))  # hash order, as write_csv writes
    table = read_csv(write_csv(tmp_path / "rows.csv", rows))
    csv_table.write_csv(table, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "rows.csv").read_bytes()
    with pytest.raises(FileExistsError):
        csv_table.write_csv(table, tmp_path / "again.csv")  # never overwrites


def test_write_csv_refuses_other_layouts(tmp_path):
    from gnnas.nasbench.synthetic import cells_from_specs, synthetic_records, write_nasbench_tfrecord

    write_nasbench_tfrecord(tmp_path / "t.tfrecord",
                            synthetic_records(cells_from_specs(random_specs(5, seed=1)), "full", seed=1))
    table = NASBench101.from_tfrecord(tmp_path / "t.tfrecord", cache_dir=tmp_path / "cache", progress=False)
    with pytest.raises(ValueError, match="budgets \\[4, 12, 36, 108\\] and 3 runs per cell"):
        csv_table.write_csv(table.arrays, tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists()


def one_bad_row(tmp_path, column, value, name="bad.csv"):
    rows = rows_of(random_specs(6, seed=33))
    rows[3][column] = value  # line 5 of the file
    return write_csv(tmp_path / name, rows)


@pytest.mark.parametrize("column, value, reason", [
    (6, "93.5", "'val_acc_108' must be a number in \\[0, 1\\], got '93.5'"),
    (3, "-0.01", "'val_acc_4' must be a number in \\[0, 1\\]"),
    (4, "1.0000001", "'val_acc_12' must be a number in \\[0, 1\\]"),
    (5, "inf", "'val_acc_36' must be a number in"),
    (7, "-1", "'train_time_108' must be a number >= 0 and finite"),
    (7, "inf", "'train_time_108' must be a number >= 0 and finite"),
    (7, "nan", "'train_time_108' must be a number >= 0"),
    (8, "-5", "'trainable_parameters' must be an integer >= 0"),
    (8, "9" * 40, "'trainable_parameters' must be an integer >= 0"),
    (8, "1e6", "'trainable_parameters' must be an integer >= 0"),
    (8, "\u0661\u0662", "'trainable_parameters' must be an integer >= 0"),  # Arabic-Indic digits
])
def test_values_out_of_range_name_file_and_line(tmp_path, column, value, reason):
    with pytest.raises(ValueError, match=f"bad.csv, line 5: column {reason}"):
        read_csv(one_bad_row(tmp_path, column, value))


def test_cells_outside_the_space_name_file_and_line(tmp_path):
    # ten edges after pruning: every edge of a 5-vertex cell
    adjacency = "".join("1" if j > i else "0" for i in range(5) for j in range(5))
    operations = "input,conv3x3-bn-relu,conv1x1-bn-relu,maxpool3x3,output"
    rows = rows_of(random_specs(6, seed=33))
    rows[3][1:3] = adjacency, operations
    with pytest.raises(ValueError, match="line 5: invalid cell: a cell has at most 9 edges after pruning"):
        read_csv(write_csv(tmp_path / "ten.csv", rows))
    rows[3][1:3] = "01000", "input,output"  # 5 characters for 2 vertices
    with pytest.raises(ValueError, match="line 5: the adjacency must have V \\* V characters"):
        read_csv(write_csv(tmp_path / "size.csv", rows))


def test_bom_blank_lines_and_crlf_are_accepted(tmp_path):
    rows = rows_of(random_specs(8, seed=34))
    plain = write_csv(tmp_path / "plain.csv", rows)
    expected = read_csv(plain)
    text = plain.read_bytes()
    variants = {
        "bom.csv": b"\xef\xbb\xbf" + text,
        "blank.csv": text.replace(b"\r\n", b"\r\n\r\n", 3) + b"\r\n",
        "lf.csv": text.replace(b"\r\n", b"\n"),
    }
    for name, content in variants.items():
        (tmp_path / name).write_bytes(content)
        table = read_csv(tmp_path / name)
        assert table.hashes.tolist() == expected.hashes.tolist(), name
        assert np.array_equal(table.metrics, expected.metrics, equal_nan=True), name


def test_bytes_that_are_not_utf8_name_the_line(tmp_path):
    path = write_csv(tmp_path / "latin1.csv", rows_of(random_specs(6, seed=35)))
    lines = path.read_bytes().split(b"\r\n")
    lines[4] = lines[4].replace(b"input", b"inp\xe9ut", 1)
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(ValueError, match="latin1.csv, line 5: not UTF-8 text \\(byte 0xe9 at offset"):
        read_csv(path)
    path.write_bytes(bytes(range(256)) * 4)  # a newline at offset 10, the first bad byte at 128
    with pytest.raises(ValueError, match="line 2: not UTF-8 text \\(byte 0x80 at offset 128\\)"):
        read_csv(path)


@pytest.mark.parametrize("column", [0, 1, 2])
def test_over_long_fields_give_a_short_message(tmp_path, column):
    path = one_bad_row(tmp_path, column, "1" * 100_000)
    with pytest.raises(ValueError, match="bad.csv, line 5: .*\\(100,000 characters\\)") as caught:
        read_csv(path)
    assert len(str(caught.value)) < 300
    path = one_bad_row(tmp_path, column, "x" * 200_000, name="huge.csv")  # beyond the csv module's limit
    with pytest.raises(ValueError, match="huge.csv, line 5: not a CSV row \\(field larger than field limit"):
        read_csv(path)


def test_a_folder_or_a_missing_file(tmp_path):
    with pytest.raises(IsADirectoryError):
        read_csv(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_csv(tmp_path / "missing.csv")

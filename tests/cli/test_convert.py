from pathlib import Path

from gnnas.nasbench import NASBench101
from tests.cli.conftest import run_cli


def test_convert_then_load_from_the_cache(capsys, tmp_path, tiny_tfrecord):
    code, out, err = run_cli(capsys, "convert", tiny_tfrecord, "--cache-dir", tmp_path, "--no-progress")
    assert code == 0, err
    assert out.startswith("tiny_only108.tfrecord: 60 cells, epoch budgets [108], up to 3 runs each")
    cache = Path(out.split("cache: ")[1].strip())
    assert cache.is_dir() and cache.is_relative_to(tmp_path)
    table = NASBench101.from_tfrecord(tiny_tfrecord, cache_dir=tmp_path, progress=False)
    assert table.cache_path == cache and len(table) == 60


def test_convert_reports_a_damaged_record(capsys, tmp_path, tiny_tfrecord):
    damaged = tmp_path / "damaged.tfrecord"
    data = bytearray(tiny_tfrecord.read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    code, out, err = run_cli(capsys, "convert", damaged, "--cache-dir", tmp_path, "--no-progress")
    assert code == 2
    assert err.startswith("gnnas: error: ") and "damaged.tfrecord" in err and "offset" in err
    assert "Traceback" not in err


def test_convert_refuses_a_csv_and_a_folder(capsys, tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("hash\n")
    code, _, err = run_cli(capsys, "convert", table)
    assert code == 2 and "CSV tables need no conversion" in err
    code, _, err = run_cli(capsys, "convert", tmp_path)
    assert code == 2 and "is not a file" in err
    code, _, err = run_cli(capsys, "convert", table.with_suffix(".tfrecord"), "--workers", "0")
    assert code == 2 and "no such file" in err

import json

from gnnas.cli import benchmark
from tests.cli.conftest import run_cli

FAKE = """
import argparse, json, sys
def main(argv=None):
    parser = argparse.ArgumentParser(description="a fake benchmark")
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    open(args.out, "w").write(json.dumps({"argv": argv, "prog": parser.prog, "quick": args.quick}))
"""


def fake_checkout(tmp_path, monkeypatch):
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    (folder / "locality.py").write_text(FAKE)
    (folder / "search.py").write_text(FAKE)
    monkeypatch.setattr(benchmark, "benchmarks_folder", lambda: folder)
    return folder


def test_locality_passes_every_argument_through(capsys, tmp_path, monkeypatch):
    fake_checkout(tmp_path, monkeypatch)
    out = tmp_path / "out.json"
    code, _, err = run_cli(capsys, "locality", "--quick", "--out", out)
    assert code == 0, err
    assert json.loads(out.read_text()) == {
        "argv": ["--quick", "--out", str(out)],
        "prog": "gnnas locality",
        "quick": True,
    }


def test_benchmark_by_name(capsys, tmp_path, monkeypatch):
    fake_checkout(tmp_path, monkeypatch)
    out = tmp_path / "out.json"
    code, _, _ = run_cli(capsys, "benchmark", "search", "--out", out)
    assert code == 0
    assert json.loads(out.read_text())["prog"] == "gnnas benchmark search"
    code, out_text, _ = run_cli(capsys, "benchmark", "--help")
    assert code == 0 and "locality" in out_text and "search" in out_text


def test_the_benchmark_own_errors_exit_2(capsys, tmp_path, monkeypatch):
    fake_checkout(tmp_path, monkeypatch)
    code, _, err = run_cli(capsys, "locality", "--no-such-flag")
    assert code == 2 and "usage: gnnas locality" in err and "Traceback" not in err


def test_the_real_locality_help(capsys):
    code, out, _ = run_cli(capsys, "locality", "--help")
    assert code == 0 and out.startswith("usage: gnnas locality") and "--quick" in out


def test_without_a_checkout(capsys, tmp_path, monkeypatch):
    import gnnas

    monkeypatch.setattr(gnnas, "__file__", str(tmp_path / "site-packages" / "gnnas" / "__init__.py"))
    code, _, err = run_cli(capsys, "locality", "--quick")
    assert code == 2 and "the benchmarks are scripts of the source checkout" in err


def test_locality_help_without_the_script(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark, "benchmarks_folder", lambda: tmp_path)
    code, out, _ = run_cli(capsys, "locality", "--help")
    assert code == 0
    assert out.startswith("usage: gnnas locality") and "no benchmark 'locality'" in out

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from gnnas.cli import build_parser, main
from tests.cli.conftest import run_cli

SUBCOMMANDS = ["enumerate", "convert", "pretrain", "search", "locality", "benchmark", "ged", "hash"]


def test_top_level_help_lists_every_subcommand(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    assert out.startswith("usage: gnnas")
    for name in SUBCOMMANDS:
        assert f"    {name}" in out


def test_no_command_prints_help(capsys):
    code, out, _ = run_cli(capsys)
    assert code == 0 and "usage: gnnas" in out


def test_version(capsys):
    import gnnas

    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.strip() == f"gnnas {gnnas.__version__}"


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(capsys, name):
    code, out, err = run_cli(capsys, name, "--help")
    assert code == 0, err
    assert out.startswith(f"usage: gnnas {name}")
    assert len(out.splitlines()) > 5


def test_every_option_is_explained():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            assert action.help, f"gnnas {name} {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["pretrain", "--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
        (["pretrain", "--loss", "HingeLoss"], "argument --loss: invalid choice: 'HingeLoss'"),
        (["pretrain", "--encoder", "[1, 2]"], "argument --encoder: expected a JSON object"),
        (["search", "--method", "bayesopt"], "argument --method: invalid choice: 'bayesopt'"),
        (["search", "--seeds"], "argument --seeds: expected at least one argument"),
        (["search", "--first-improvement", "maybe"], "expected true or false, got 'maybe'"),
        (["hash", "0100"], "the following arguments are required: OPS"),
    ],
)
def test_bad_flags_exit_2_with_a_message(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["pretrain", "--batch-size", "12", "--iterations", "1"], "batch_size 12 must be a multiple of"),
        (["pretrain", "--iterations", "0"], "max_iterations must be a positive integer"),
        (
            ["search", "--data", "x.csv", "--method", "nao", "--population-size", "3"],
            "--population-size is a setting of regularized_evolution, not of --method nao",
        ),
        (
            ["search", "--data", "x.csv", "--method", "random", "--loss", "MarginLoss"],
            "--loss applies to --method nao, not random",
        ),
        (["search", "--seeds", "1", "1", "--data", "x.csv"], "--seeds has repeated values"),
        (["benchmark", "no_such_benchmark"], "no benchmark 'no_such_benchmark'"),
        (["search", "--data", "x.csv", "--threads", "0"], "--threads must be a positive integer"),
        (["pretrain", "--threads", "-1"], "--threads must be a positive integer"),
        (["hash", "01", "input,output"], "adjacency has 2 characters; 2 ops need 4"),
        (["ged", "010001000:input,conv3x3,output", "0110:input,output"], "strictly upper triangular"),
        (["ged", "0100:input,foo", "0110:input,output"], "unknown ops ['foo']"),
        (["ged", "0100", "0110:input,output"], "expected a cell as ADJ:OPS or a 32-hex module hash"),
    ],
)
def test_bad_values_exit_2_with_a_message(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.startswith("gnnas: error: ") and message in err
    assert "Traceback" not in err + out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["convert", "{tmp}/nasbench_only108.tfrecord"], "no such file"),
        (["search", "--data", "{tmp}/missing.csv"], "no such file"),
        (["pretrain", "--config", "{tmp}/missing.json"], "config file"),
        (["search", "--data", "{tmp}/missing.csv", "--config", "{tmp}/missing.json"], "does not exist"),
    ],
)
def test_missing_files_exit_2_with_a_message(capsys, tmp_path, argv, message):
    code, out, err = run_cli(capsys, *(a.format(tmp=tmp_path) for a in argv))
    assert code == 2
    assert err.startswith("gnnas: error: ") and message in err and str(tmp_path) in err
    assert "Traceback" not in err + out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["pretrain", "--encoder", '{"bogus": 1}'], "unexpected keyword argument 'bogus'"),
        (["pretrain", "--decoder", '{"hidden_channels": 100000000}'], "hidden_channels must be at most"),
        (["pretrain", "--encoder", '{"hidden_channels": 60000}'], "the controller would have"),
        (["pretrain", "--encoder", '{"num_layers": 1000000000}'], "num_layers must be at most 256"),
        (["pretrain", "--decoder", '{"dropout": "x"}'], "dropout must lie in [0, 1), got 'x'"),
        (["pretrain", "--seed", str(10**20)], "seed must be a non-negative integer below 2**63"),
        (["pretrain", "--config", "{tmp}"], "is a folder, not a JSON file"),
        (["search", "--method", "nao", "--controller-kwargs", '{"bogus": 1}'], "unexpected keyword argument"),
        (["search", "--method", "nao", "--controller-kwargs", '{"embedding_channels": 100000000}'],
         "must be at most"),
        (["search", "--method", "nao", "--controller-kwargs", '{"encoder": 5}'],
         "encoder must be a torch.nn.Module"),
        (["search", "--method", "nao", "--controller-kwargs", "[1]"], "controller_kwargs must be a dict"),
        (["search", "--method", "nao", "--max-step-size", "1000000000"], "max_step_size must be at most"),
        (["search", "--method", "regularized_evolution", "--num-edits", "30", "--max-edits", "1000000000"],
         "max_edits must be at most 25"),
        (["search", "--seeds", str(10**21)], "--seeds must be integers in [0, 2**63)"),
        (["search", "--config", "{tmp}"], "is a folder, not a JSON file"),
        (["search", "--data", "{tmp}"], "is a folder; expected a .csv table"),
        (["convert", "{tmp}/x.tfrecord", "--cache-dir", ""], "got an empty string"),
        (["enumerate", "--cache-dir", ""], "got an empty string"),
        (["download", "--cache-dir", "", "--url", "file:///nowhere/x.tfrecord"], "got an empty string"),
        (["hash", "1" * 100_000, "input,output"], "adjacency has 100000 characters"),
        (["hash", "01" * 50_000, "input," * 20_000 + "output"], "adjacency has 100000 characters"),
        (["ged", "x" * 100_000, "0100:input,output"], "expected a cell as ADJ:OPS"),
    ],
)
def test_hostile_values_are_one_short_line(capsys, tmp_path, argv, message):
    (tmp_path / "x.tfrecord").write_bytes(b"")
    code, out, err = run_cli(capsys, *(a.format(tmp=tmp_path) if "{tmp}" in a else a for a in argv))
    assert code == 2
    assert err.startswith("gnnas: error: ") and message in err and err.count("\n") == 1, err
    assert len(err) < 400  # a 100,000-character argument is not echoed back
    assert not out


def test_warnings_are_one_line(capsys, tmp_path, tiny_tfrecord):
    code, out, err = run_cli(capsys, "convert", tiny_tfrecord, "--cache-dir", tmp_path, "--no-progress")
    assert code == 0 and not err
    cache = next((tmp_path / "nasbench101").iterdir())
    (cache / "metrics.npy").write_bytes((cache / "metrics.npy").read_bytes()[:-1])  # a torn cache
    code, out, err = run_cli(capsys, "convert", tiny_tfrecord, "--cache-dir", tmp_path, "--no-progress")
    assert code == 0 and "60 cells" in out
    assert err == f"gnnas: warning: rebuilding the NAS-Bench-101 cache: {cache / 'metrics.npy'}: its " \
        "checksum does not match meta.json: truncated or damaged\n"


def test_debug_environment_variable_shows_the_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("GNNAS_DEBUG", "1")
    with pytest.raises(ValueError, match="no such file"):
        main(["search", "--data", str(tmp_path / "missing.csv")])


def test_python_dash_m_gnnas_reports_errors_without_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "gnnas", "convert", str(tmp_path / "missing.tfrecord")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("gnnas: error: no such file")
    assert "Traceback" not in done.stderr


def test_run_script_reports_a_scripts_errors_in_one_line(capsys):
    from gnnas.cli.main import run_script
    from gnnas.files import DamagedFileError

    def damaged():
        raise DamagedFileError("run/checkpoint.pt", "the content does not match its checksum")

    def bad_flag():
        raise SystemExit("--rows must not repeat a value")

    def interrupted():
        raise KeyboardInterrupt

    assert run_script(damaged, "search.py") == 2
    err = capsys.readouterr().err
    assert err == "search.py: error: run/checkpoint.pt: the content does not match its checksum\n"
    assert run_script(bad_flag, "search.py") == 2
    assert capsys.readouterr().err == "search.py: error: --rows must not repeat a value\n"
    assert run_script(interrupted, "search.py") == 130
    assert capsys.readouterr().err == "search.py: interrupted\n"
    assert run_script(lambda: None) == 0 and run_script(lambda: 3) == 3


@pytest.mark.parametrize("script, argv, message", [
    ("search.py", ["--rows", "regularized_evolution", "--population-size", "3", "--sample-size", "5"],
     "sample_size (5) must be <= population_size (3)"),
    ("search.py", ["--rows", "random", "--data", "{tmp}"], "Is a directory"),
    ("search.py", ["--rows", "random", "--top-fraction", "nan"], "fraction must be in (0, 1], got nan"),
    ("locality.py", ["--quick", "--controller", "{tmp}/random.pt", "--loss", "MarginLoss"],
     "random.pt: no checksum file"),
])
def test_benchmark_scripts_report_errors_without_traceback(tmp_path, script, argv, message):
    """``python benchmarks/NAME.py`` reports a mistake as ``gnnas benchmark NAME`` does: one line."""
    import os

    (tmp_path / "random.pt").write_bytes(os.urandom(3000))
    argv = [a.format(tmp=tmp_path) for a in argv]
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *argv, "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{script}: error: ") and message in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_console_script_entry_point():
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")}
    assert scripts.get("gnnas") == "gnnas.cli:main"


def _dests(name):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[name]
    return {action.dest for action in sub._actions}


def test_every_pretrain_config_field_has_a_flag():
    import dataclasses

    from gnnas.pretrain import PretrainConfig

    assert {f.name for f in dataclasses.fields(PretrainConfig)} <= _dests("pretrain")


def test_every_search_setting_has_a_flag():
    import dataclasses

    from gnnas.search import SEARCHES

    dests = _dests("search")
    for cls in SEARCHES.values():
        for field in dataclasses.fields(cls.Config):
            assert field.name == "controller_init" or f"option__{field.name}" in dests, (cls.name, field.name)


def test_the_help_examples_parse():
    import shlex

    from gnnas.cli.main import _EPILOG

    parser = build_parser()
    lines = [shlex.split(line, comments=True) for line in _EPILOG.splitlines() if line.startswith("  gnnas ")]
    assert len(lines) >= 5
    for words in lines:
        if words[1] not in ("locality", "benchmark"):
            assert parser.parse_args(words[1:]).command == words[1]


_INTERRUPT_TORCH = """
import runpy, sys
class Interrupt:  # Ctrl-C at the moment torch starts loading, the slowest part of a start
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = {argv!r}
{run}
"""


@pytest.mark.parametrize("argv, run, prog", [
    (["gnnas", "search", "--budget", "10"], "from gnnas.cli import main; sys.exit(main())", "gnnas"),
    (["gnnas/__main__.py", "hash"], "runpy.run_module('gnnas', run_name='__main__')", "gnnas"),
    (["benchmarks/locality.py", "--quick"], "runpy.run_path('benchmarks/locality.py', run_name='__main__')",
     "locality.py"),
    (["benchmarks/predictor.py", "--quick"], "runpy.run_path('benchmarks/predictor.py', run_name='__main__')",
     "predictor.py"),
])
def test_ctrl_c_while_torch_loads_is_one_line(argv, run, prog):
    """Ctrl-C during the start (torch and PyG load for seconds on a busy machine) ends the command as
    Ctrl-C at any later moment does: one line and exit status 130, no traceback."""
    import os

    code = _INTERRUPT_TORCH.format(argv=argv, run=run)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2], env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 130, done.stderr
    assert done.stderr == f"{prog}: interrupted\n", done.stderr


@pytest.mark.parametrize("argv, message", [
    (["search", "--budget", "10"],
     "gnnas: interrupted (gnnas search --resume continues from the last checkpoint)\n"),
    (["pretrain", "--iterations", "1"],
     "gnnas: interrupted (gnnas pretrain --resume continues from the last checkpoint)\n"),
    (["convert", "x.tfrecord"], "gnnas: interrupted\n"),  # nothing to resume: no hint
    (["enumerate"], "gnnas: interrupted\n"),
])
def test_ctrl_c_names_resume_only_where_it_applies(capsys, monkeypatch, argv, message):
    from gnnas.cli import main as main_module

    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(sys.modules["gnnas.cli.main"], "_main", interrupted)
    assert main_module(argv) == 130
    assert capsys.readouterr().err == message

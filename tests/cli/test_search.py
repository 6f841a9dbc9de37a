import hashlib
import json
import os

import pytest

from gnnas.search import SearchResult
from tests.cli.conftest import run_cli

QUIET = ["--no-progress"]


def test_random_search_seeds_results_and_resume(capsys, tmp_path, tiny_tfrecord):
    out = tmp_path / "random"
    argv = [
        "search",
        "--method",
        "random",
        "--data",
        tiny_tfrecord,
        "--seeds",
        "0",
        "1",
        "--budget",
        "10",
        "--out",
        out,
        *QUIET,
    ]
    code, text, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert "random on 60 cells" in text and "mean over 2 seeds" in text
    runs = [SearchResult.load(out / f"seed{k}.json") for k in (0, 1)]
    assert [r.num_queries for r in runs] == [10, 10] and [r.seed for r in runs] == [0, 1]
    assert runs[0].oracle["budget"] == 10 and runs[0].oracle["mapping"] == "nearest"  # a partial table
    summary = json.loads((out / "summary.json").read_text())
    assert [s["best_accuracy"] for s in summary["runs"]] == [r.best_accuracy for r in runs]
    command = json.loads((out / "command.json").read_text())
    assert command["settings"]["seeds"] == [0, 1] and command["settings"]["method"] == "random"
    assert not list(out.glob("*.ckpt"))

    # the same seed gives the same run; --resume loads finished seeds instead of rerunning them
    again = tmp_path / "again"
    assert run_cli(capsys, *argv[:-3], "--out", again, *QUIET)[0] == 0
    assert SearchResult.load(again / "seed0.json").records == runs[0].records
    SearchResult.from_dict(dict(runs[1].to_dict(), extra={"marker": 1})).save(out / "seed1.json")
    assert run_cli(capsys, *argv, "--resume")[0] == 0
    assert SearchResult.load(out / "seed1.json").extra == {"marker": 1}


def test_evolution_from_a_config_file_with_flags_winning(capsys, tmp_path, tiny_tfrecord):
    config = tmp_path / "search.json"
    config.write_text(
        json.dumps(
            {
                "method": "regularized_evolution",
                "budget": 12,
                "seeds": [2],
                "options": {"population_size": 6, "sample_size": 2, "max_stall": 50},
            }
        )
    )
    out = tmp_path / "evolution"
    code, _, err = run_cli(
        capsys,
        "search",
        "--config",
        config,
        "--data",
        tiny_tfrecord,
        "--sample-size",
        "3",
        "--out",
        out,
        *QUIET,
    )
    assert code == 0, err
    result = SearchResult.load(out / "seed2.json")
    assert result.method == "regularized_evolution" and result.seed == 2
    chosen = {"population_size": 6, "sample_size": 3, "num_edits": 1, "max_stall": 50}
    assert {k: result.config[k] for k in chosen} == chosen
    assert 1 <= result.num_queries <= 12


def test_local_search_on_the_whole_table_without_mapping(capsys, tmp_path, tiny_tfrecord):
    out = tmp_path / "local"
    code, _, err = run_cli(
        capsys,
        "search",
        "--method",
        "local_search",
        "--data",
        tiny_tfrecord,
        "--budget",
        "8",
        "--num-neighbours",
        "4",
        "--mapping",
        "nearest",
        "--repeat",
        "mean",
        "--out",
        out,
        *QUIET,
    )
    assert code == 0, err
    result = SearchResult.load(out / "seed0.json")
    assert result.method == "local_search" and result.config["num_neighbours"] == 4
    assert result.oracle["repeat"] == "mean" and result.num_queries <= 8


def test_nao_with_a_controller_from_gnnas_pretrain(capsys, tmp_path, tiny_tfrecord, space):
    pretrained = tmp_path / "pretrain"
    code, _, err = run_cli(
        capsys,
        "pretrain",
        "--loss",
        "MarginLoss",
        "--iterations",
        "1",
        "--batch-size",
        "16",
        "--num-anchors",
        "16",
        "--out",
        pretrained,
        *QUIET,
    )
    assert code == 0, err
    out = tmp_path / "nao"
    code, text, err = run_cli(
        capsys,
        "search",
        "--method",
        "nao",
        "--data",
        tiny_tfrecord,
        "--controller",
        pretrained,
        "--budget",
        "12",
        "--num-init",
        "4",
        "--outer-epochs",
        "1",
        "--inner-epochs",
        "1",
        "--num-seeds",
        "2",
        "--num-candidates",
        "4",
        "--max-step-size",
        "2",
        "--out",
        out,
        *QUIET,
    )
    assert code == 0, err
    result = SearchResult.load(out / "seed0.json")
    assert result.method == "nao" and 4 <= result.num_queries <= 8
    assert result.config["controller_init"] == f"checkpoint:{pretrained / 'controller.pt'}"
    assert result.config["num_init"] == 4 and result.config["inner_epochs"] == 1


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--controller", "nowhere"], "--controller 'nowhere' is neither 'fresh' nor an existing"),
        (["--metric", "test_accuracy", "--nasbench-epochs", "12"], "12"),
        (["--budget", "0"], "budget must be a positive int"),
    ],
)
def test_search_bad_values(capsys, tmp_path, tiny_tfrecord, extra, message):
    code, out, err = run_cli(
        capsys, "search", "--method", "nao", "--data", tiny_tfrecord, "--out", tmp_path, *extra, *QUIET
    )
    assert code == 2, out
    assert err.startswith("gnnas: error: ") and message in err and "Traceback" not in err


def test_a_damaged_controller_file(capsys, tmp_path, tiny_tfrecord):
    damaged = tmp_path / "controller.pt"
    damaged.write_bytes(b"not a checkpoint")
    code, _, err = run_cli(
        capsys,
        "search",
        "--method",
        "nao",
        "--data",
        tiny_tfrecord,
        "--controller",
        tmp_path,
        "--out",
        tmp_path / "out",
        *QUIET,
    )
    assert code == 2
    assert err == f"gnnas: error: {damaged}: no checksum file controller.pt.sha256 beside it, so its " \
        "integrity cannot be checked (written by an older gnnas, or copied without it); if you trust " \
        "the file, create one with: sha256sum controller.pt > controller.pt.sha256\n"
    sign(damaged)
    code, _, err = run_cli(capsys, "search", "--method", "nao", "--data", tiny_tfrecord, "--controller",
                           damaged, "--out", tmp_path / "out", *QUIET)
    assert code == 2 and err == f"gnnas: error: {damaged}: not a torch file (unreadable content)\n"


def sign(path):
    """A valid checksum beside ``path``, as a user who trusts the file would write it."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")


def one_line_error(code, err, *parts):
    """The command failed with one line on stderr that holds every part."""
    assert code == 2 and err.startswith("gnnas: error: ") and err.count("\n") == 1, err
    for part in parts:
        assert part in err, (part, err)


def files_of(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_finished_run_is_never_destroyed(capsys, tmp_path, tiny_tfrecord):
    out = tmp_path / "run"
    argv = ["search", "--method", "random", "--data", tiny_tfrecord, "--budget", "6", "--out", out, *QUIET]
    assert run_cli(capsys, *argv)[0] == 0
    before = files_of(out)
    # a rerun without --resume, even with other settings or other seeds, refuses and changes nothing
    for extra in [[], ["--budget", "3"], ["--seeds", "5"], ["--method", "regularized_evolution"]]:
        one_line_error(*run_cli(capsys, *argv, *extra)[::2], "already holds a run", "--overwrite")
        assert files_of(out) == before
    one_line_error(*run_cli(capsys, *argv, "--resume", "--overwrite")[::2], "exclude each other")
    # a leftover checkpoint alone counts as a run too
    for name in list(before):
        (out / name).unlink()
    (out / "seed3.ckpt").write_bytes(b"x")
    one_line_error(*run_cli(capsys, *argv)[::2], "seed3.ckpt")
    # --overwrite deletes the run and starts over
    (out / "seed3.ckpt").unlink()
    assert run_cli(capsys, *argv)[0] == 0
    assert run_cli(capsys, *argv, "--budget", "4", "--overwrite")[0] == 0
    assert SearchResult.load(out / "seed0.json").num_queries == 4
    assert json.loads((out / "command.json").read_text())["settings"]["budget"] == 4


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--method", "regularized_evolution"], "method"),
        (["--budget", "7"], "budget"),
        (["--mapping", "none"], "mapping"),
        (["--repeat", "1"], "repeat"),
        (["--population-size", "4", "--sample-size", "2"], "options.population_size"),
        (["--num-edits", "2", "--max-edits", "3"], "options.num_edits"),
        (["--data", "other"], "data"),
    ],
)
def test_resume_refuses_every_other_setting(capsys, tmp_path, tiny_tfrecord, extra, named):
    out = tmp_path / "run"
    argv = ["search", "--method", "regularized_evolution", "--population-size", "5", "--sample-size", "2",
            "--budget",
            "6", "--data", tiny_tfrecord, "--out", out, *QUIET]
    assert run_cli(capsys, *argv)[0] == 0
    if extra[:2] == ["--data", "other"]:
        other = tmp_path / "other.tfrecord"
        other.write_bytes(tiny_tfrecord.read_bytes())
        extra = ["--data", other]
    if extra[:2] == ["--method", "regularized_evolution"]:
        extra, named = ["--method", "random"], "method"
        argv = [a for a in argv if a not in ("--population-size", "5", "--sample-size", "2")]
    before = files_of(out)
    code, _, err = run_cli(capsys, *argv, *extra, "--resume")
    one_line_error(code, err, "cannot resume", f"{named}:", "--overwrite")
    assert files_of(out) == before  # command.json is not rewritten to claim unused settings
    # the settings of the run itself (read from its command.json) resume without a word
    code, text, err = run_cli(capsys, "search", "--out", out, "--resume", *QUIET)
    assert code == 0, err
    assert "regularized_evolution on 60 cells" in text and "budget 6" in text


def test_resume_checks_each_seed_file(capsys, tmp_path, tiny_tfrecord):
    out = tmp_path / "run"
    argv = ["search", "--method", "regularized_evolution", "--population-size", "5", "--sample-size", "2",
            "--budget",
            "10", "--data", tiny_tfrecord, "--out", out, *QUIET]
    assert run_cli(capsys, *argv, "--seeds", "0", "1")[0] == 0
    # a seed run with other settings (its command.json gone) is refused, naming the setting
    (out / "command.json").unlink()
    code, _, err = run_cli(capsys, *argv, "--seeds", "0", "--population-size", "6", "--resume")
    one_line_error(code, err, "seed0.json was run with other settings",
                   "config.population_size: 5 in the run")
    # an interrupted seed: its checkpoint must match too
    from gnnas.nasbench import NASBench101
    from gnnas.search import Oracle, RegularizedEvolution, RegularizedEvolutionConfig

    table = NASBench101.from_tfrecord(tiny_tfrecord, progress=False)
    config = RegularizedEvolutionConfig(population_size=5, sample_size=2)
    search = RegularizedEvolution(Oracle(table, budget=10, mapping="nearest"), config, seed=2)
    search.run(checkpoint=out / "seed2.ckpt", max_steps=6)
    code, _, err = run_cli(capsys, *argv, "--seeds", "2", "--population-size", "6", "--resume")
    one_line_error(code, err, "seed2.ckpt", "population_size 5 saved, 6 now")
    assert (out / "seed2.ckpt").is_file()
    code, text, err = run_cli(capsys, *argv, "--seeds", "0", "1", "2", "--resume")
    assert code == 0, err
    assert SearchResult.load(out / "seed2.json").num_queries == 10 and not (out / "seed2.ckpt").exists()


@pytest.mark.parametrize("name", ["seed0.json", "seed0.ckpt", "command.json", "summary.json"])
@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage", "no checksum"])
def test_damaged_files_of_a_run(capsys, tmp_path, tiny_tfrecord, name, damage):
    out = tmp_path / "run"
    argv = ["search", "--method", "random", "--data", tiny_tfrecord, "--budget", "9", "--out", out, *QUIET]
    if name == "seed0.ckpt":  # an interrupted run: stopped after 4 queries
        from gnnas.nasbench import NASBench101
        from gnnas.search import Oracle, RandomSearch

        assert run_cli(capsys, *argv, "--seeds", "1")[0] == 0
        table = NASBench101.from_tfrecord(tiny_tfrecord, progress=False)
        search = RandomSearch(Oracle(table, budget=9, mapping="nearest"), seed=0)
        search.run(checkpoint=out / name, max_steps=4)
        argv += ["--seeds", "0", "1"]
    else:
        assert run_cli(capsys, *argv)[0] == 0
    path = out / name
    content = path.read_bytes()
    if damage == "flip":
        path.write_bytes(content[:40] + bytes([content[40] ^ 1]) + content[41:])
    elif damage == "truncate":
        path.write_bytes(content[: len(content) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(content)))
    else:
        path.with_name(name + ".sha256").unlink()
    before = files_of(out)
    code, _, err = run_cli(capsys, *argv, "--resume")
    message = "no checksum file" if damage == "no checksum" else "the content does not match its checksum"
    one_line_error(code, err, f"{path}: {message}")
    assert files_of(out) == before


def test_rerun_from_command_json(capsys, tmp_path, tiny_tfrecord):
    first = tmp_path / "first"
    code, _, err = run_cli(
        capsys,
        "search",
        "--method",
        "regularized_evolution",
        "--data",
        tiny_tfrecord,
        "--budget",
        "9",
        "--population-size",
        "4",
        "--sample-size",
        "2",
        "--out",
        first,
        *QUIET,
    )
    assert code == 0, err
    again = tmp_path / "again"
    code, _, err = run_cli(
        capsys, "search", "--config", first / "command.json", "--seeds", "0", "4", "--out", again, *QUIET
    )
    assert code == 0, err
    settings = json.loads((again / "command.json").read_text())["settings"]
    assert settings["options"] == {"population_size": 4, "sample_size": 2} and settings["seeds"] == [0, 4]
    assert SearchResult.load(again / "seed0.json").records == SearchResult.load(first / "seed0.json").records
    assert SearchResult.load(again / "seed4.json").config["population_size"] == 4


def test_nao_with_a_cached_preset_controller(capsys, tmp_path, tiny_tfrecord, space):
    out = tmp_path / "nao-preset"
    argv = [
        "search",
        "--method",
        "nao",
        "--data",
        tiny_tfrecord,
        "--loss",
        "NoMetricLoss",
        "--pretrain-iterations",
        "1",
        "--pretrain-optimizer",
        "adam",
        "--pretrain-lr",
        "0.001",
        "--budget",
        "6",
        "--num-init",
        "4",
        "--outer-epochs",
        "1",
        "--inner-epochs",
        "1",
        "--num-seeds",
        "2",
        "--num-candidates",
        "2",
        "--max-step-size",
        "2",
        "--out",
        out,
        *QUIET,
    ]
    code, _, err = run_cli(capsys, *argv)
    assert code == 0, err
    result = SearchResult.load(out / "seed0.json")
    assert result.config["controller_init"] == "pretrained:NoMetricLoss"
    settings = json.loads((out / "command.json").read_text())["settings"]
    assert settings["pretrain_optimizer"] == "adam" and settings["pretrain_lr"] == 0.001
    code, _, err = run_cli(
        capsys, *argv[:-3], "--pretrain-optimizer", "rmsprop", "--out", tmp_path / "x", *QUIET
    )
    assert code == 2 and "optimizer" in err and "Traceback" not in err


def test_search_defaults_to_the_bundled_table(capsys, tmp_path):
    out = tmp_path / "bundled"
    code, text, err = run_cli(capsys, "search", "--method", "random", "--budget", "5", "--out", out, *QUIET)
    assert code == 0, err
    assert "random on 30,001 cells of the bundled NAS-Bench-101 sample" in text
    result = SearchResult.load(out / "seed0.json")
    assert result.num_queries == 5 and result.oracle["mapping"] == "nearest"  # a partial table
    assert json.loads((out / "summary.json").read_text())["data"] == "bundled"


def test_checkpoint_interval_is_the_methods_and_recorded(capsys, tiny_tfrecord, tmp_path):
    """By default a checkpoint every 100 steps (every outer epoch of NAO); command.json records the
    interval used, and a bad one is a one-line error."""

    from gnnas.cli.main import build_parser
    from gnnas.cli.search import settings_from_args

    out = tmp_path / "run"
    argv = ["search", "--data", tiny_tfrecord, "--method", "random", "--budget", "5", "--out", out, *QUIET]
    assert run_cli(capsys, *argv)[0] == 0
    assert json.loads((out / "command.json").read_text())["settings"]["checkpoint_every"] == 100
    parser = build_parser()
    for method, every in (("nao", 1), ("regularized_evolution", 100), ("local_search", 100)):
        args = parser.parse_args(["search", "--method", method, "--out", str(tmp_path / method)])
        assert settings_from_args(args)["checkpoint_every"] == every
    args = parser.parse_args(["search", "--checkpoint-every", "7", "--out", str(tmp_path / "x")])
    assert settings_from_args(args)["checkpoint_every"] == 7
    for bad in ("0", "-3"):
        code, _, err = run_cli(capsys, *argv[:-len(QUIET) - 2], "--out", tmp_path / "bad",
                               "--checkpoint-every", bad, *QUIET)
        assert code == 2 and err.strip().count("\n") == 0
        assert "--checkpoint-every must be an integer >= 1" in err

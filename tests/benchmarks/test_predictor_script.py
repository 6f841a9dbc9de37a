"""End-to-end test of benchmarks/predictor.py on a tiny synthetic table: results, reuse of run files,
refusal of mismatched settings, shards and merge, and the comparison sentences."""

import importlib.util
import json
from pathlib import Path

import pytest

from tests.search.conftest import random_cells, write_table_csv
from tests.threads import one_thread  # noqa: F401  (autouse)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "predictor.py"
ENCODINGS = ["onehot", "path", "ged", "z:fresh", "finetune:fresh"]


def load_script():
    spec = importlib.util.spec_from_file_location("predictor_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return load_script()


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory):
    return write_table_csv(tmp_path_factory.mktemp("predictor") / "table.csv", random_cells(160, seed=3))


def argv(table_csv, out, *extra):
    return ["--data", table_csv, "--out", str(out), "--test-size", "60", "--train-sizes", "8", "32",
            "--seeds", "0", "1", "--encodings", *ENCODINGS, "--finetune-epochs", "2", "--mlp-steps", "40",
            "--no-progress", *extra]


def without_seconds(value):
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


@pytest.fixture(scope="module")
def tiny_run(script, table_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("predictor_run")
    return out, script.main(argv(table_csv, out))


def test_tiny_run_reports_every_encoding_regressor_and_n(tiny_run):
    out, report = tiny_run
    on_disk = json.loads((out / "predictor.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert list(on_disk["aggregates"]) == ENCODINGS
    expected = {"onehot": {"mlp", "gp"}, "path": {"mlp", "gp"}, "ged": {"gp"}, "z:fresh": {"mlp", "gp"},
                "finetune:fresh": {"nao"}}
    for encoding, regressors in expected.items():
        by_regressor = on_disk["aggregates"][encoding]
        assert set(by_regressor) == regressors, encoding
        for by_n in by_regressor.values():
            assert set(by_n) == {"8", "32"}
            for stats in by_n.values():
                assert set(stats) == {"kendall_tau", "spearman_rho", "top_precision"}
                tau = stats["kendall_tau"]
                assert tau["count"] == 2 and -1 <= tau["mean"] <= 1
                assert tau["low"] <= tau["mean"] <= tau["high"]
    assert len(on_disk["runs"]) == 10
    config = on_disk["config"]
    assert config["seeds"] == [0, 1] and config["train_sizes"] == [8, 32] and config["test_size"] == 60
    assert config["table"]["num_cells"] == 160 and "command" in config
    for name in ("predictor.md", "predictor.rst"):
        text = (out / name).read_text()
        assert "Kendall tau, regressor gp" in text and "finetune:fresh" in text
    assert ".. list-table:: Kendall tau, regressor mlp" in (out / "predictor.rst").read_text()
    assert (out / "predictor_tau.png").stat().st_size > 5000
    assert on_disk["summary"]["frozen"].startswith("No comparison")  # no pretrained preset in this run


def test_with_more_labels_the_handmade_encodings_rank_better(tiny_run):
    aggregates = tiny_run[1]["aggregates"]
    for encoding in ("onehot", "path"):
        gp = aggregates[encoding]["gp"]
        assert gp["32"]["kendall_tau"]["mean"] > gp["8"]["kendall_tau"]["mean"], encoding


def test_the_seeds_share_their_split_across_encodings(tiny_run):
    runs = tiny_run[1]["runs"]
    for seed in (0, 1):
        splits = {json.dumps(r["split"]) for r in runs if r["seed"] == seed}
        assert len(splits) == 1
    assert runs[0]["split"] != next(r for r in runs if r["seed"] == 1)["split"]


def test_rerun_keeps_the_runs_and_refuses_other_settings(script, table_csv, tiny_run, capsys):
    out, report = tiny_run
    files = sorted((out / "runs").glob("*/seed*.json"))
    assert len(files) == 10
    before = {f: f.read_text() for f in files}
    again = script.main(argv(table_csv, out))
    assert "kept runs/onehot/seed0.json (same settings)" in capsys.readouterr().out
    assert {f: f.read_text() for f in files} == before
    assert again["aggregates"] == report["aggregates"]
    with pytest.raises(SystemExit, match=r"computed with other settings \(mlp.steps\); pass --overwrite"):
        script.main(argv(table_csv, out, "--mlp-steps", "41"))
    assert {f: f.read_text() for f in files} == before  # nothing replaced


def test_same_seed_same_result_and_overwrite(script, table_csv, tiny_run, tmp_path):
    out, report = tiny_run
    fresh = script.main(argv(table_csv, tmp_path / "second"))
    assert without_seconds(fresh["runs"]) == without_seconds(report["runs"])
    replaced = script.main(argv(table_csv, tmp_path / "second", "--mlp-steps", "41", "--overwrite"))
    assert replaced["config"]["mlp"]["steps"] == 41
    stored = json.loads((tmp_path / "second" / "runs" / "onehot" / "seed0.json").read_text())
    assert stored["settings"]["mlp"]["steps"] == 41


def test_shards_then_merge_equal_one_run(script, table_csv, tiny_run, tmp_path):
    _, report = tiny_run
    out = tmp_path / "sharded"
    assert script.main(argv(table_csv, out, "--shard", "0/2")) is None
    assert len(list((out / "runs").glob("*/seed*.json"))) == 5
    assert not (out / "predictor.json").exists()
    script.main(argv(table_csv, out, "--shard", "1/2"))
    merged = script.main(["--merge", "--out", str(out)])
    assert without_seconds(merged["aggregates"]) == without_seconds(report["aggregates"])
    assert merged["config"]["seeds"] == [0, 1] and merged["config"]["encodings"] == ENCODINGS


def test_bad_arguments(script, table_csv, tmp_path):
    with pytest.raises(SystemExit, match="unknown encoding 'z:Bogus'"):
        script.main(argv(table_csv, tmp_path, "--encodings", "z:Bogus"))
    with pytest.raises(SystemExit, match="--loss: unknown presets"):
        script.main(argv(table_csv, tmp_path, "--loss", "Bogus"))
    with pytest.raises(SystemExit, match="--shard must be K/N"):
        script.main(argv(table_csv, tmp_path, "--shard", "3"))
    with pytest.raises(SystemExit, match="fewer than --test-size"):
        script.main(argv(table_csv, tmp_path, "--test-size", "150"))
    with pytest.raises(SystemExit, match="no run files"):
        script.main(["--merge", "--out", str(tmp_path / "empty")])
    damaged = tmp_path / "damaged" / "runs" / "onehot" / "seed0.json"
    damaged.parent.mkdir(parents=True)
    damaged.write_text('{"encoding": "onehot", "se')  # a truncated file
    with pytest.raises(SystemExit, match="seed0.json: not a readable run file"):
        script.main(argv(table_csv, tmp_path / "damaged", "--encodings", "onehot", "--seeds", "0"))
    damaged.write_text('{"encoding": "onehot"}')
    with pytest.raises(SystemExit, match="seed0.json: not a run file of benchmarks/predictor.py"):
        script.main(["--merge", "--out", str(tmp_path / "damaged")])


def fake_runs(gain: float, noise: float) -> list[dict]:
    """Runs of a preset that beats every baseline by ``gain`` in tau, with seed noise ``noise``."""
    base = {"z:NoMetricLoss": 0.40, "z:fresh": 0.38, "onehot": 0.35, "path": 0.36,
            "z:MarginLoss": 0.40 + gain}
    runs = []
    for seed in range(5):
        shift = noise * (seed - 2)
        for encoding, tau in base.items():
            result = {"kendall_tau": tau + shift, "spearman_rho": 0.0, "top_precision": 0.0}
            runs.append({"encoding": encoding, "seed": seed, "results": {"16": {"mlp": result}},
                         "seconds": 1.0, "cpu_seconds": 1.0})
    return runs


def test_comparison_sentences(script):
    yes = script.comparisons(fake_runs(gain=0.05, noise=0.02), [16])
    (result,) = yes["frozen"]
    assert result["best"] == "z:MarginLoss" and result["strongest_baseline"] == "z:NoMetricLoss"
    assert result["beats_all"] and result["against"]["z:NoMetricLoss"]["mean"] == pytest.approx(0.05)
    text = script.sentence(yes["frozen"], "frozen embeddings", "the baselines")
    assert text.startswith("Yes, for frozen embeddings") and "z:MarginLoss at n = 16 (mlp)" in text
    no = script.comparisons(fake_runs(gain=-0.01, noise=0.02), [16])
    assert not no["frozen"][0]["beats_all"]
    text = script.sentence(no["frozen"], "frozen embeddings", "the baselines")
    assert text.startswith("No, for frozen embeddings") and "-0.010" in text


def test_the_best_of_many_presets_is_adjusted_for_the_choice(script):
    """Picking the best of k presets after the fact widens its intervals to level 1 - 0.05 / k."""
    from gnnas.analysis.predictor import mean_interval

    runs = fake_runs(gain=0.05, noise=0.02)
    diffs = [0.05 + 0.01 * ((seed * 7) % 5 - 2) for seed in range(5)]  # a noisy paired difference
    for run in runs:
        if run["encoding"] == "z:MarginLoss":
            run["results"]["16"]["mlp"]["kendall_tau"] = 0.36 + 0.02 * run["seed"] + diffs[run["seed"]]
    weaker = ["z:AngularLoss", "z:NPairsLoss", "z:LiftedStructureLoss", "z:MultiSimilarityLoss",
              "z:TripletMarginLoss", "z:ContrastiveLoss", "z:GeneralizedLiftedStructureLoss"]
    for k, extra in ((1, []), (8, weaker)):
        more = [dict(run, encoding=name) for name in extra for run in runs if run["encoding"] == "z:fresh"]
        (result,) = script.comparisons(runs + more, [16])["frozen"]
        assert result["best"] == "z:MarginLoss" and result["candidates"] == k
        expected = mean_interval(diffs, level=1 - 0.05 / k)
        assert result["against"]["z:NoMetricLoss"]["low"] == pytest.approx(expected["low"])
    assert "Bonferroni-adjusted for picking the best of 8 presets" in script.sentence(
        [result], "frozen embeddings", "the baselines")


def test_quick_on_the_bundled_table(script, tmp_path):
    """The issue's check: ``--quick --out DIR`` writes tau for each encoding and n; with more labels the
    hand-made encodings rank better."""
    script.main(["--quick", "--out", str(tmp_path), "--no-progress"])
    report = json.loads((tmp_path / "predictor.json").read_text())
    assert report["config"]["data"] == "bundled" and report["config"]["table"]["num_cells"] == 30_001
    aggregates = report["aggregates"]
    assert list(aggregates) == ["onehot", "path", "z:fresh"]
    for by_regressor in aggregates.values():
        assert set(by_regressor) == {"mlp", "gp"}
        for by_n in by_regressor.values():
            assert set(by_n) == {"16", "256"} and all(s["kendall_tau"]["count"] == 2 for s in by_n.values())
    for encoding in ("onehot", "path"):
        for regressor in ("mlp", "gp"):
            tau = aggregates[encoding][regressor]
            assert tau["256"]["kendall_tau"]["mean"] > tau["16"]["kendall_tau"]["mean"] + 0.1


def test_shipped_controller_runs_are_tied_to_its_weights(script, table_csv, tmp_path, capsys):
    """z:NoMetricLoss with the paper's pretraining uses the shipped controller; its run file records
    the weights, and a run file of other weights is refused rather than reused."""
    from gnnas.pretrain import pretrained_controller

    args = argv(table_csv, tmp_path, "--full", "--encodings", "z:NoMetricLoss", "finetune:NoMetricLoss",
                "--loss", "NoMetricLoss", "--seeds", "0")
    report = script.main(args)
    weights = script.weights_digest(pretrained_controller("NoMetricLoss"))
    assert report["config"]["controllers"]["NoMetricLoss"]["weights"] == weights
    assert report["config"]["pretrain"] == {}  # the paper's settings: the shipped controller
    path = tmp_path / "runs" / "z_NoMetricLoss" / "seed0.json"
    run = json.loads(path.read_text())
    assert run["controller"]["weights"] == weights and set(run["results"]["8"]) == {"mlp", "gp"}
    assert set(json.loads((tmp_path / "runs" / "finetune_NoMetricLoss" / "seed0.json").read_text())
               ["results"]["8"]) == {"nao"}
    script.main(args)
    assert "z:NoMetricLoss seed 0: kept" in capsys.readouterr().out
    run["controller"]["weights"] = "0" * 16  # as if computed with another controller
    path.write_text(json.dumps(run))
    with pytest.raises(SystemExit, match=r"other settings \(controller weights\)"):
        script.main(args)

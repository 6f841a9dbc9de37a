"""End-to-end test of benchmarks/locality.py --quick: figures written, JSON complete and sane."""

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "locality.py"


def load_script():
    spec = importlib.util.spec_from_file_location("locality_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_statistics(stats: dict, distances: set[int] | None = None) -> None:
    assert stats["num_pairs"] == sum(s["count"] for s in stats["per_distance"].values())
    rho = stats["spearman"]["rho"]
    assert rho is None or -1.0 <= rho <= 1.0
    if distances is not None:
        assert {int(d) for d in stats["per_distance"]} <= distances
    for d, s in stats["per_distance"].items():
        assert int(d) >= 1 and s["count"] >= 1
        q = list(s["quantiles"].values())
        assert q == sorted(q) and q[0] <= s["mean"] <= q[-1] or s["count"] < 20


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("locality")
    argv = ["--quick", "--out", str(out), "--no-progress", "--cache-dir", str(out / "cache")]
    results = load_script().main(argv)  # no --data: Fig. 1b on the bundled table
    return out, results


def test_quick_run_writes_figures_and_json(quick_run):
    out, results = quick_run
    on_disk = json.loads((out / "locality.json").read_text())
    assert on_disk == json.loads(json.dumps(results))
    expected = ["fig1a_ged_distribution.png", "fig1b_accuracy_locality.png", "fig1c_embedding_locality.png",
                "fig2_embedding_map.png"]
    for name in expected:
        assert (out / name).stat().st_size > 5000, name
    config = on_disk["config"]
    assert config["mode"] == "quick" and config["seed"] == 0 and "command" in config
    assert config["data"] == "bundled"
    assert set(on_disk["seconds"]) >= {"fig1a", "fig1b", "fig1c", "fig2"}


def test_quick_run_fig1a(quick_run):
    a = quick_run[1]["fig1a"]
    assert a["num_pairs"] == 1000 and a["num_cells"] == 423_624
    assert sum(a["counts"].values()) == 1000
    assert 1 <= a["mean"] <= 20 and 0.0 <= a["share_at_most_6"] <= 1.0
    assert a["quantiles"]["0.05"] <= a["quantiles"]["0.5"] <= a["quantiles"]["0.95"] <= a["max"]


def test_quick_run_fig1b(quick_run):
    b = quick_run[1]["fig1b"]
    assert b["num_cells"] == 30_001 and b["data"] == "bundled"
    metrics = b["metrics"]
    assert set(metrics) == {"validation_accuracy"}  # the bundled sample holds no test accuracy
    stats = metrics["validation_accuracy"]
    check_statistics(stats, set(range(1, 7)))
    for d in range(1, 7):
        assert stats["per_distance"][str(d)]["count"] >= 25  # the quick target per distance
        assert b["search"]["pairs"][str(d)] == stats["per_distance"][str(d)]["count"]
        assert 0.0 <= stats["per_distance"][str(d)]["mean"] <= 1.0
    assert stats["random_pairs"]["count"] == 10_000


def test_quick_run_fig1c_and_fig2(quick_run):
    results = quick_run[1]
    c = results["fig1c"]
    assert c["num_pairs"] == c["num_within_anchor_pairs"] + c["num_random_pairs"]
    names = list(c["models"])
    assert len(names) == 3 and names[1] == "NoMetricLoss" and names[2] == "untrained"
    assert names[0] == "AngularLoss"  # the default --loss
    assert [results["controllers"][name]["source"] for name in names] == ["shipped", "shipped", "untrained"]
    for stats in c["models"].values():
        check_statistics(stats)
        assert stats["num_pairs"] == c["num_pairs"]
        for s in stats["per_distance"].values():
            assert -1.0 - 1e-6 <= s["quantiles"]["0.05"] <= s["quantiles"]["0.95"] <= 1.0 + 1e-6
    f2 = results["fig2"]
    assert f2["num_cells"] == f2["num_anchors"] * 8 and list(f2["models"]) == names
    for stats in f2["models"].values():
        assert 0.0 <= stats["nearest_neighbour_same_anchor"] <= 1.0
        assert stats["projection"] in ("umap", "pca")

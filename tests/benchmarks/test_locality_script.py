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


@pytest.mark.parametrize("argv, message", [
    (["--space-pairs", "0"], "--space-pairs must be an integer from 1 to 10,000,000"),
    (["--space-pairs", "100000000000"], "--space-pairs must be an integer from 1 to 10,000,000"),
    (["--max-distance", "0"], "--max-distance must be an integer from 1 to 18"),
    (["--max-distance", "1000"], "--max-distance must be an integer from 1 to 18"),
    (["--pairs-per-distance", "0"], "--pairs-per-distance must be an integer from 1 to 100,000"),
    (["--max-random-pairs", "-1"], "--max-random-pairs must be an integer from 0 to 100,000,000"),
    (["--max-pairs-per-anchor", "0"], "--max-pairs-per-anchor must be an integer from 1 to 423,623"),
    (["--max-anchors", "-1"], "--max-anchors must be an integer from 1 to 423,624"),
    (["--max-anchors", "423625"], "--max-anchors must be an integer from 1 to 423,624"),
    (["--num-positives", "0"], "--num-positives must be an integer from 1 to 255"),
    (["--num-positives", "1000000"], "--num-positives must be an integer from 1 to 255"),
    (["--embed-anchors", "0"], "--embed-anchors must be an integer from 2 to 423,533"),
    (["--embed-random-pairs", "-1"], "--embed-random-pairs must be an integer from 0 to 10,000,000"),
    (["--map-anchors", "1"], "--map-anchors must be an integer from 2 to 2,048"),
    (["--seed", "-1"], "--seed must be an integer from 0"),
    (["--pretrain-iterations", "-1"], "--pretrain-iterations must be an integer >= 0"),
    (["--embed-anchors", "400000"], "Fig. 1c would hold 11,200,300 pairs"),
    (["--map-anchors", "600"], "Fig. 2 would compare 4,800 cells"),
    (["--pretrain-iterations", "2", "--pretrain-batch-size", "7"], "batch_size 7 must be a multiple"),
    (["--pretrain-iterations", "2", "--pretrain-lr", "-1"], "lr must be a finite number"),
    (["--out", ""], "--out must name a folder, got an empty string"),
    (["--cache-dir", ""], "--cache-dir must name a folder, got an empty string"),
    (["--data", "{tmp}"], "a folder, not a table file"),
    (["--data", "{tmp}/no.csv"], "no.csv: no such file"),
    (["--controller", "{tmp}/no.pt"], "--controller {tmp}/no.pt: no such file"),
    (["--baseline-controller", "{tmp}"], "a folder without controller.pt"),
])
def test_bad_sizes_and_paths_fail_in_one_line_before_any_work(capsys, tmp_path, monkeypatch, argv, message):
    """Every flag is checked up front: one line, exit 2, nothing computed and no --out created."""
    from gnnas.cli.main import run_script

    script = load_script()
    monkeypatch.setattr(script, "enumerate_cells", None, raising=False)
    monkeypatch.setattr(script, "load_controllers", lambda *a: pytest.fail("controllers loaded"))
    argv = [a.format(tmp=tmp_path) for a in argv]
    out = tmp_path / "out"
    full = ["--quick", *argv] if "--out" in argv else ["--quick", "--no-progress", "--out", str(out), *argv]
    assert run_script(lambda: script.main(full), "locality.py") == 2
    err = capsys.readouterr().err
    assert err.startswith("locality.py: error: ") and message.format(tmp=tmp_path) in err, err
    assert err.count("\n") == 1 and not out.exists()


def test_the_bounds_are_in_the_help():
    text = load_script().build_parser().format_help()
    for bound in ("1 to 10,000,000", "1 to 18", "1 to 100,000", "0 to 100,000,000", "1 to 423,624",
                  "1 to 255", "2 to 423,533", "2 to 2,048"):
        assert bound in " ".join(text.split()), bound


def test_a_bad_controller_fails_before_the_figures(capsys, tmp_path, monkeypatch):
    """A --controller that does not load (random bytes) stops the run before Fig. 1a is computed."""
    import os

    from gnnas.cli.main import run_script

    script = load_script()
    monkeypatch.setattr(script, "fig1a", lambda *a: pytest.fail("Fig. 1a computed"))
    (tmp_path / "random.pt").write_bytes(os.urandom(3000))
    argv = ["--quick", "--no-progress", "--out", str(tmp_path / "out"), "--loss", "MarginLoss",
            "--controller", str(tmp_path / "random.pt")]
    assert run_script(lambda: script.main(argv), "locality.py") == 2
    err = capsys.readouterr().err
    assert err.startswith("locality.py: error: ") and "random.pt" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def _padded(cell):
    """The 7-slot layout of the GED: input in slot 0, output in slot 6, padding ("none") between."""
    import numpy as np

    n = len(cell.ops)
    slots = [*range(n - 1), 6]
    matrix = np.zeros((7, 7), dtype=int)
    matrix[np.ix_(slots, slots)] = np.asarray(cell.matrix)
    labels = ["none"] * 7
    for vertex, slot in enumerate(slots):
        labels[slot] = cell.ops[vertex]
    return matrix, labels


def _mean_pinned_cost(a, b):
    """The closed form of benchmarks/README.md: the mean edit cost of the 120 bijections that map
    input to input and output to output (interior and padding slots 1..5 in any order)."""
    def parts(cell):
        m, labels = _padded(cell)
        t, k, o = m[0, 6], m[0, 1:6].sum(), m[1:6, 6].sum()
        return labels[1:6], t, k, o, m.sum() - t - k - o

    la, ta, ka, oa, ra = parts(a)
    lb, tb, kb, ob, rb = parts(b)
    same = sum(la.count(x) * lb.count(x) for x in set(la))
    common = ta * tb + ka * kb / 5 + oa * ob / 5 + ra * rb / 20
    return 5 - same / 5 + (ta + ka + oa + ra) + (tb + kb + ob + rb) - 2 * common


def test_the_largest_distance_is_reachable_and_its_bound_is_sound():
    """--max-distance allows 17, the farthest pair found; the bound 18 rests on the closed form of
    the mean cost of the bijections that fix input and output (benchmarks/README.md), checked here
    against the mean of the 120 bijections themselves and against the exact GED."""
    import itertools

    import numpy as np

    from gnnas import ArchSpec
    from gnnas.ged import graph_edit_distance
    assert load_script().MAX_DISTANCE == 18
    star = ArchSpec.from_strings("011111000001000001000001000001000000",
                                 "input,maxpool3x3,maxpool3x3,maxpool3x3,maxpool3x3,output")
    chain = ArchSpec.from_strings("0100000001100000011000000110000001000000010000000",
                                  "input," + "conv1x1-bn-relu," * 5 + "output")
    assert graph_edit_distance(star, chain) == 17
    cells, rng = [star, chain], np.random.default_rng(3)
    while len(cells) < 12:  # random valid cells of 3 to 7 vertices
        n = int(rng.integers(3, 8))
        ops = ["input", *rng.choice(["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"], n - 2), "output"]
        try:
            cells.append(ArchSpec(np.triu(rng.integers(0, 2, (n, n)), 1), ops))
        except ValueError:
            pass
    for a, b in itertools.combinations(cells, 2):
        (ma, la), (mb, lb) = _padded(a), _padded(b)
        costs = []
        for perm in itertools.permutations(range(1, 6)):
            p = [0, *perm, 6]
            labels = sum(la[i] != lb[p[i]] for i in range(7))
            moved = np.zeros((7, 7), dtype=int)
            moved[np.ix_(p, p)] = ma
            costs.append(labels + int((moved != mb).sum()))
        mean = _mean_pinned_cost(a, b)
        assert abs(np.mean(costs) - mean) < 1e-9
        assert graph_edit_distance(a, b) <= min(costs) <= mean


def test_a_figure_interrupted_while_written_leaves_the_old_one(tmp_path):
    """Ctrl-C while a figure is written: the file at the path is the old figure, whole."""
    script = load_script()
    path = tmp_path / "fig1a_ged_distribution.png"
    path.write_bytes(b"old figure")

    class Figure:
        def savefig(self, target, **kwargs):
            Path(target).write_bytes(b"half a fig")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        script.save_figure(Figure(), path)
    assert path.read_bytes() == b"old figure" and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_rerun_never_replaces_results_of_other_settings(quick_run, capsys):
    """The same settings (another --cache-dir, say) replace the results; others are refused
    before any work unless --overwrite; a damaged locality.json is named."""
    out, results = quick_run
    script = load_script()
    path = out / "locality.json"
    before = path.read_bytes()
    script.check_previous_results(path, {**results["config"], "cache_dir": "elsewhere", "command": "x"})
    for change, named in (({"seed": 3}, "seed: 0 there, 3 now"), ({"losses": []}, "losses")):
        with pytest.raises(SystemExit, match=f"holds results of other settings.*{named}.*--overwrite"):
            script.check_previous_results(path, {**results["config"], **change})
    with pytest.raises(SystemExit, match="holds results of other settings"):
        script.main(["--quick", "--out", str(out), "--no-progress", "--seed", "3"])
    assert path.read_bytes() == before
    damaged = out / "damaged" / "locality.json"
    damaged.parent.mkdir()
    damaged.write_text('{"config": ')
    with pytest.raises(SystemExit, match="not a results file of benchmarks/locality.py"):
        script.check_previous_results(damaged, results["config"])

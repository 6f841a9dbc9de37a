"""End-to-end test of benchmarks/augment_stats.py on a tiny setting, and of its classification."""

import importlib.util
import json
from pathlib import Path

from gnnas import ArchSpec, graph_edit_distance

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "augment_stats.py"


def load_script():
    spec = importlib.util.spec_from_file_location("augment_stats_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_classify_symmetric_and_shortcut_cases():
    script = load_script()
    diamond = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    anchor = ArchSpec(diamond, ["input", "conv1x1-bn-relu", "maxpool3x3", "output"])
    # op+op: v1 conv1x1 → maxpool, v2 maxpool → conv3x3; swapping the symmetric v1, v2 costs 1
    positive = ArchSpec(diamond, ["input", "maxpool3x3", "conv3x3-bn-relu", "output"])
    ged = graph_edit_distance(anchor, positive)
    assert ged == 1
    assert script.classify(anchor, positive, ged, graph_edit_distance(anchor, positive, pin_io=True)) == \
        "symmetric_vertices"
    # flip+op+op found by the benchmark: a correspondence that is not a symmetry is cheaper (2 < 3)
    anchor = ArchSpec.from_strings("0101100001100000000010000010000001000000010000000",
                                   "input,conv3x3-bn-relu,maxpool3x3,conv3x3-bn-relu,conv1x1-bn-relu,"
                                   "conv1x1-bn-relu,output")
    positive = ArchSpec.from_strings("0101100001000000000010000010000001000000010000000",
                                     "input,conv3x3-bn-relu,maxpool3x3,maxpool3x3,conv3x3-bn-relu,"
                                     "conv1x1-bn-relu,output")
    ged = graph_edit_distance(anchor, positive)
    assert ged == 2
    assert script.classify(anchor, positive, ged, graph_edit_distance(anchor, positive, pin_io=True)) == \
        "relabel_shortcut"


def test_tiny_run_writes_json_and_figure(space, tmp_path):
    script = load_script()
    stats = script.main(["--num-anchors", "80", "--batches", "1", "--ged-batches", "1", "--single", "20",
                         "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "augment_stats.json").read_text())
    assert (tmp_path / "augment_stats.png").stat().st_size > 0
    assert saved["config"]["num_anchors"] == 80 and saved["config"]["seed"] == 0
    for k in ("1", "2", "3"):
        entry = stats["per_num_edits"][k]
        histogram = entry["ged_histogram"]
        assert len(histogram) == int(k) + 1 and histogram[0] == 0  # never the anchor, never above k
        assert sum(histogram) == entry["num_pairs"] == 80 - entry["skipped_anchors_without_outcome"]
        assert sum(sum(c.values()) for c in entry["reasons_by_combination"].values()) == \
            sum(histogram[:-1])
    pairs = stats["positive_pairs"]
    assert pairs["max_ged"] <= 6 and sum(pairs["ged_histogram"]) == pairs["num_pairs"]
    assert all(rate["cpu"] > 0 for key, rate in stats["throughput"].items() if key.endswith("per_s"))

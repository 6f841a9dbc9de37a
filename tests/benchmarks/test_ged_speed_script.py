"""benchmarks/ged_speed.py end to end on tiny sizes: it runs, agrees with networkx and writes its JSON."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ged_speed.py"


def test_tiny_run_writes_results(tmp_path):
    spec = importlib.util.spec_from_file_location("ged_speed_benchmark", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "out"
    script.main(["--pairs", "200", "--networkx-pairs", "3", "--matrix", "4", "5", "--queries", "1",
                 "--k", "2", "--num-workers", "1", "--out", str(out)])
    saved = json.loads((out / "results.json").read_text())
    assert saved["config"]["out"] == str(out) and saved["config"]["pairs"] == 200
    assert saved["results"]["networkx"]["pairs"] == 3
    assert (out / "ged_speed.png").stat().st_size > 0

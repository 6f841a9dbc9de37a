"""benchmarks/search.py on a tiny synthetic table: the sweep, its files, resuming, the merge, the
statistics and the check that reruns committed runs query for query."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnas.files import load_json, save_json
from gnnas.nasbench import NASBench101
from gnnas.nn import NAOController
from gnnas.search import Oracle, SearchResult
from tests.search.conftest import random_cells, write_table_csv
from tests.threads import one_thread  # noqa: F401  (autouse)

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "search.py"
ROWS = ["nao:NoMetricLoss", "nao:fresh", "random", "regularized_evolution", "local_search"]
TINY = ["--budget", "40", "--num-init", "8", "--outer-epochs", "4", "--inner-epochs", "2", "--num-seeds", "8",
        "--num-candidates", "8", "--max-step-size", "4", "--optimizer", "adam", "--lr", "0.01",
        "--population-size", "10", "--sample-size", "3", "--at", "16", "40", "--top-fraction", "0.05"]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("search_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # forked workers find run_task by this name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def fake_controller(preset, settings):
    """A deterministic stand-in for a pretrained controller (no pretraining in the tests)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(len(preset))
        return NAOController(embedding_channels=16, encoder_kwargs={"hidden_channels": 16},
                             decoder_kwargs={"hidden_channels": 16})


@pytest.fixture(scope="module")
def patched(script):
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(script, "load_controller", fake_controller)
        yield script


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_table_csv(tmp_path_factory.mktemp("table") / "table.csv", random_cells(200, seed=3))


def sweep(script, data, out, *extra):
    return script.main(["--data", data, "--out", str(out), "--rows", *ROWS, "--seeds", "0", "1",
                        "--workers", "1", *TINY, *extra])


@pytest.fixture(scope="module")
def finished(patched, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    report = sweep(patched, data, out)
    return patched, out, report


def test_the_report(finished, data):
    script, out, report = finished
    table = NASBench101.from_csv(data)
    config = report["config"]
    assert config["threads"] == 1 and config["gnnas_version"] and "commit" in config
    assert config["budget"] == 40 and config["nao"]["inner_epochs"] == 2 and config["seeds"] == [0, 1]
    assert set(config["controllers"]) == {"NoMetricLoss"}
    assert list(report["rows"]) == ROWS
    for row, data_row in report["rows"].items():
        assert [run["seed"] for run in data_row["runs"]] == [0, 1]
        for run in data_row["runs"]:
            # NAO stops after 4 outer epochs, which may find fewer than 8 new cells each
            assert len(run["queries"]) == len(set(run["queries"])) <= 40
            assert len(run["queries"]) == 40 or row.startswith("nao") and run["stop_reason"] == "finished"
            assert all(h in table for h in run["queries"])
            assert set(run["at"]) == {"16", "40"}
            at = run["at"]
            assert at["40"]["best_accuracy"] == run["best_accuracy"] >= at["16"]["best_accuracy"]
        statistics = data_row["statistics"]
        assert statistics["seeds"] == 2 and 0 <= statistics["top"]["found"] <= 2
        low, high = statistics["at"]["40"]["best_accuracy"]["interval"]
        assert low <= statistics["at"]["40"]["best_accuracy"]["mean"] <= high
    # nao:NoMetricLoss against nao:fresh and regularized_evolution: 2 log-rank + 2 Mann-Whitney each
    assert {(t["reference"], t["test"]) for t in report["tests"]} == {
        (r, t) for r in ("nao:fresh", "regularized_evolution") for t in ("log-rank", "Mann-Whitney U")}
    assert len(report["tests"]) == 8 and all(t["p"] <= t["p_holm"] <= 1 for t in report["tests"])
    written = load_json(out / "table1.json")  # checksummed
    assert written["rows"]["random"]["runs"][1]["queries"] == report["rows"]["random"]["runs"][1]["queries"]
    for name in ("table1_fig4.png", "table1_survival.png", "table1_curves.json"):
        assert (out / name).stat().st_size > 1000
    curves = load_json(out / "table1_curves.json")["random"]
    runs = report["rows"]["random"]["runs"]
    assert curves["best_mean"][-1] == pytest.approx(np.mean([r["best_accuracy"] for r in runs]), abs=1e-6)
    # 40 queries < the window of 128: one mean, over all 40, at the last query
    oracle = Oracle(table)
    accuracy = {h: oracle.accuracy_of(h) for r in runs for h in r["queries"]}
    assert curves["moving_mean"][:39] == [None] * 39
    assert curves["moving_mean"][39] == pytest.approx(
        np.mean([np.mean([accuracy[h] for h in r["queries"]]) for r in runs]), abs=1e-6)
    assert curves["without_top"][-1] == np.mean([r["queries_to_top"] is None for r in runs])


def test_seeds_share_their_first_cells(finished):
    _, _, report = finished
    for seed in (0, 1):
        first = {row: data["runs"][seed]["queries"] for row, data in report["rows"].items()}
        # NAO's 8 initial cells are random search's first 8 and evolution's first 8 (of its population)
        assert first["nao:fresh"][:8] == first["nao:NoMetricLoss"][:8] == first["random"][:8]
        assert first["random"][:8] == first["regularized_evolution"][:8]
        assert first["local_search"][0] == first["random"][0]  # its first start


def test_finished_runs_are_skipped_and_never_overwritten(finished, data):
    script, out, report = finished
    path = out / "runs" / "nao_fresh" / "seed0.json"
    before = path.read_bytes()
    again = sweep(script, data, out)
    assert path.read_bytes() == before
    assert again["rows"]["nao:fresh"]["runs"] == report["rows"]["nao:fresh"]["runs"]
    with pytest.raises(SystemExit, match="inner_epochs"):
        sweep(script, data, out, "--inner-epochs", "3")
    assert path.read_bytes() == before


def test_a_damaged_run_file_is_an_error(script, tmp_path):
    path = tmp_path / "seed0.json"
    save_json({"identity": {}, "queries": ["a" * 32]}, path, indent=None)
    assert script.read_run(path)["queries"] == ["a" * 32]
    path.write_bytes(path.read_bytes().replace(b"aaaa", b"aaab", 1))
    with pytest.raises(SystemExit, match="seed0.json.*move it away"):
        script.read_run(path)


def test_merge_names_missing_runs(finished, data):
    script, out, _ = finished
    missing = "5 of 10 runs are not finished.*nao:NoMetricLoss seed 2, nao:fresh seed 2"
    with pytest.raises(SystemExit, match=missing):
        script.main(["--data", data, "--out", str(out), "--rows", *ROWS, "--seeds", "0", "2", "--merge",
                     *TINY])
    report = out / "subset" / "random.json"
    merged = script.main(["--data", data, "--out", str(out), "--rows", "random", "--seeds", "1", "--merge",
                          "--report", str(report), *TINY])
    assert list(merged["rows"]) == ["random"] and merged["tests"] == []
    assert load_json(report)["rows"]["random"]["runs"][0]["seed"] == 1
    assert (out / "subset" / "random_fig4.png").exists()


def test_the_pool_gives_the_same_queries(finished, data, tmp_path):
    script, _, report = finished
    rows = ["nao:NoMetricLoss", "random"]
    pooled = script.main(["--data", data, "--out", str(tmp_path / "pool"), "--rows", *rows,
                          "--seeds", "0", "1", "--workers", "2", *TINY])
    for row in rows:
        assert ([r["queries"] for r in pooled["rows"][row]["runs"]]
                == [r["queries"] for r in report["rows"][row]["runs"]])


def test_workers_are_bounded_by_runs_and_cores(script, monkeypatch, tmp_path):
    import gnnas.workers

    started = []
    real = gnnas.workers.worker_pool
    monkeypatch.setattr(gnnas.workers, "worker_pool", lambda n, **kw: started.append(n) or real(n, **kw))
    monkeypatch.setattr(gnnas.workers, "available_cores", lambda: 64)
    assert sorted(script.run_pool(abs, [-1, -2, -3], 10**9)) == [1, 2, 3]
    assert started == [3]  # no more processes than runs
    monkeypatch.setattr(gnnas.workers, "available_cores", lambda: 2)
    assert sorted(script.run_pool(abs, [-1, -2, -3], 10**9)) == [1, 2, 3]
    assert started == [3, 2]  # nor than cores
    assert list(script.run_pool(abs, [-4], 10**9)) == [4] and started == [3, 2]  # one run: no pool
    for bad in ("0", "-2"):
        with pytest.raises(SystemExit, match="--workers must be >= 1"):
            script.main(["--out", str(tmp_path / "x"), "--workers", bad])


def test_an_interrupted_run_continues_to_the_same_queries(finished, data, tmp_path):
    script, out, report = finished
    settings = report["config"]
    table, description = script._table(data, settings)
    identity = script.run_identity("nao:fresh", 1, settings, description, None)
    path = tmp_path / "runs" / "nao_fresh" / "seed1.json"
    path.parent.mkdir(parents=True)
    key = script.hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    checkpoint = path.with_name(f"seed1.{key}.ckpt")
    search = script.make_search("nao:fresh", script.make_oracle(table, 40), 1, settings)
    search.run(checkpoint=checkpoint, max_steps=2)  # "killed" after its first outer epoch
    run = script.run_task({"row": "nao:fresh", "seed": 1, "settings": settings, "data": data,
                           "path": str(path), "controller": None})
    assert run["resumed"] and not checkpoint.exists()
    assert run["queries"] == report["rows"]["nao:fresh"]["runs"][1]["queries"]


def test_a_short_nao_run_is_a_function_of_its_seed(patched, data):
    settings = patched.resolve_settings(patched.build_parser().parse_args(["--rows", "nao:fresh", *TINY]))
    table, _ = patched._table(data, settings)

    def queries(seed):
        search = patched.make_search("nao:fresh", patched.make_oracle(table, 40), seed, settings)
        return [r.hash for r in search.run().records]

    first = queries(0)
    torch.manual_seed(123)  # global state must not matter
    np.random.seed(5)
    assert queries(1) != first and queries(0) == first


def test_check_reruns_committed_runs(finished, data, capsys):
    script, out, _ = finished
    report = out / "table1.json"
    args = ["--check", str(report), "--data", data, "--check-epochs", "2"]
    assert script.main([*args, "--rows", *ROWS, "--seeds", "1"]) is None
    printed = capsys.readouterr().out
    assert printed.count("queries are the same, in the same order") == 5
    assert printed.count("the first 24 queries") >= 3  # the baselines: 8 + 2 x 8
    tampered = load_json(report)
    queries = tampered["rows"]["nao:fresh"]["runs"][0]["queries"]
    queries[2], queries[3] = queries[3], queries[2]
    save_json(tampered, out / "tampered.json")
    with pytest.raises(SystemExit) as error:
        script.main(["--check", str(out / "tampered.json"), "--data", data, "--rows", "nao:fresh"])
    assert error.value.code == 1
    assert "nao:fresh seed 0: the rerun differs at query 3" in capsys.readouterr().out


def test_check_refuses_another_controller(finished, data, monkeypatch):
    script, out, _ = finished
    other = lambda preset, settings: fake_controller(preset + "x", settings)  # noqa: E731
    monkeypatch.setattr(script, "load_controller", other)
    with pytest.raises(SystemExit, match="controller of nao:NoMetricLoss is not the one"):
        script.main(["--check", str(out / "table1.json"), "--data", data, "--rows", "nao:NoMetricLoss"])


def test_summary_and_statistics_by_hand(script):
    table = {"best": 0.95, "top_max_rank": 2}
    queried = [(0.90, 0.90, 9), (0.94, 0.94, 2), (0.93, 0.94, 5), (0.95, 0.95, 1)]  # accuracy, best, rank
    records = [dict(index=k + 1, proposed_hash=f"h{k}", hash=f"h{k}", distance=0, accuracy=a, best=b, rank=r)
               for k, (a, b, r) in enumerate(queried)]
    result = SearchResult.from_dict({"method": "random", "seed": 0, "config": {}, "oracle": {"budget": 4},
                                     "table_best": 0.95, "stop_reason": "budget", "records": records})
    summary = script.summarize(result, table, [1, 3, 4])
    assert summary["queries_to_top"] == 2 and summary["queries_to_table_best"] == 4
    assert summary["at"]["1"] == {"best_accuracy": 0.90, "regret": pytest.approx(0.05), "rank": 9}
    assert summary["at"]["3"]["rank"] == 2
    runs = [{"queries_to_top": t, "queries_to_table_best": None, "num_queries": 1024,
             "at": {"256": {"best_accuracy": a, "regret": 0.95 - a, "rank": r}}}
            for t, a, r in [(100, 0.94, 3), (None, 0.93, 8), (300, 0.945, 2)]]
    statistics = script.row_statistics(runs, [256])
    assert statistics["top"]["found"] == 2 and statistics["top"]["km_median"] == 300.0
    assert statistics["table_best"] == {"found": 0, "share_interval": [0.0, 0.0], "km_median": None,
                                        "km_median_interval": [None, None]}
    assert statistics["at"]["256"]["rank"]["median"] == 3.0
    assert statistics["at"]["256"]["best_accuracy"]["mean"] == pytest.approx((0.94 + 0.93 + 0.945) / 3)


def test_a_run_that_stopped_early_is_censored_at_the_budget(script):
    """A NAO run that ended below the budget without a top cell had the whole budget: its time is
    censored at the budget, not at its own number of queries (where it would leave the log-rank
    risk set before the other row's events and count for nothing)."""
    stalled = [{"queries_to_top": None, "queries_to_table_best": None, "num_queries": 130, "budget": 1024,
                "at": {}} for _ in range(5)]
    finding = [{"queries_to_top": t, "queries_to_table_best": None, "num_queries": 1024, "budget": 1024,
                "at": {}} for t in (300, 310, 320, 330, 340)]
    times, found = script.censored(stalled, "queries_to_top")
    assert times.tolist() == [1024.0] * 5 and not found.any()
    from gnnas.analysis.statistics import logrank_test

    statistic, p = logrank_test(*script.censored(finding, "queries_to_top"),
                                *script.censored(stalled, "queries_to_top"))
    assert statistic > 0 and p < 0.01
    tests = script.row_tests({"nao:AngularLoss": finding, "nao:fresh": stalled}, [])
    assert tests[0]["reference"] == "nao:fresh" and tests[0]["row_better"] and tests[0]["p"] < 0.01


def test_bad_settings(script):
    parser = script.build_parser()
    with pytest.raises(SystemExit, match="unknown row"):
        script.resolve_settings(parser.parse_args(["--rows", "nao:Nope"]))
    with pytest.raises(SystemExit, match="--at"):
        script.resolve_settings(parser.parse_args(["--budget", "100", "--at", "256"]))


def test_verdict_by_hand(script):
    def stats(found, median, regret):
        return {"seeds": 10, "top": {"found": found, "km_median": median},
                "at": {"1024": {"regret": {"mean": regret}}}}

    statistics = {"nao:MarginLoss": stats(8, 400.0, 0.001), "nao:NoMetricLoss": stats(2, None, 0.003),
                  "nao:fresh": stats(7, 500.0, 0.001)}
    tests = [
        {"row": "nao:MarginLoss", "reference": "nao:NoMetricLoss", "measure": "queries until a top cell",
         "test": "log-rank", "p": 0.001, "p_holm": 0.004, "row_better": True},
        {"row": "nao:MarginLoss", "reference": "nao:NoMetricLoss", "measure": "regret at 1024",
         "test": "Mann-Whitney U", "p": 0.02, "p_holm": 0.06, "row_better": True},
        {"row": "nao:MarginLoss", "reference": "nao:fresh", "measure": "queries until a top cell",
         "test": "log-rank", "p": 0.5, "p_holm": 1.0, "row_better": True},
    ]
    lines = script.verdict(statistics, tests)
    assert lines[0] == (
        "nao:MarginLoss against nao:NoMetricLoss: a top cell in 8/10 seeds (median 400 queries) against "
        "2/10 seeds (median not reached); earlier, significant (log-rank p = 0.001, Holm 0.004). Regret "
        "after 1024 queries 0.10 % against 0.30 %; no significant difference (Mann-Whitney U p = 0.02, "
        "Holm 0.06).")
    assert lines[1].endswith("no significant difference (log-rank p = 0.5, Holm 1).")
    assert lines[2] == ("1 pretrained row(s) found top cells significantly earlier than nao:NoMetricLoss "
                        "(Holm-adjusted p < 0.05): nao:MarginLoss.")

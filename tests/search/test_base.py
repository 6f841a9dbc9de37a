"""What every search shares: the budget, reproducibility, checkpoints and resume."""

import pytest

from gnnas.search import (
    LocalSearch,
    LocalSearchConfig,
    Oracle,
    RandomSearch,
    RegularizedEvolution,
    RegularizedEvolutionConfig,
    SearchResult,
)

METHODS = {
    "random": (RandomSearch, None),
    "regularized_evolution": (RegularizedEvolution,
                              RegularizedEvolutionConfig(population_size=12, sample_size=4)),
    "local_search": (LocalSearch, LocalSearchConfig()),
}


def make(name, oracle, seed=0):
    cls, config = METHODS[name]
    return cls(oracle, config, seed=seed)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_budget_and_records(name, table):
    oracle = Oracle(table, budget=40, mapping="nearest")
    result = make(name, oracle).run()
    assert result.method == name and result.stop_reason == "budget"
    assert result.num_queries == 40
    assert [r.index for r in result.records] == list(range(1, 41))
    assert len({r.hash for r in result.records}) == 40
    assert all(oracle.contains(r.hash) for r in result.records)
    assert result.trajectory().tolist() == sorted(result.trajectory().tolist())


@pytest.mark.parametrize("name", sorted(METHODS))
def test_closed_table_needs_no_mapping(name, closed_table):
    result = make(name, Oracle(closed_table, budget=60, mapping=None), seed=3).run()
    assert result.num_queries == 60
    assert all(r.distance == 0 and r.proposed_hash == r.hash for r in result.records)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_reproducible_from_seed(name, table):
    runs = [make(name, Oracle(table, budget=30, mapping="nearest"), seed=s).run() for s in (5, 5, 6)]
    assert runs[0].records == runs[1].records
    assert [r.hash for r in runs[0].records] != [r.hash for r in runs[2].records]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_resume_gives_the_uninterrupted_trajectory(name, table, tmp_path):
    full = make(name, Oracle(table, budget=45, mapping="nearest"), seed=1).run()
    path = tmp_path / "run.ckpt"
    search = make(name, Oracle(table, budget=45, mapping="nearest"), seed=1)
    partial = search.run(checkpoint=path, max_steps=7)
    assert partial.stop_reason == "max_steps" and 0 < partial.num_queries < 45
    cls = METHODS[name][0]
    resumed = cls.resume(path, Oracle(table, budget=45, mapping="nearest")).run(checkpoint=path)
    assert resumed.records == full.records
    assert resumed.extra == full.extra
    again = cls.resume(path, Oracle(table, budget=45, mapping="nearest"))
    assert again.stop_reason == "budget" and again.run().records == full.records


def test_resume_checks_the_oracle_and_method(table, tmp_path):
    path = tmp_path / "run.ckpt"
    RandomSearch(Oracle(table, budget=20), seed=0).run(checkpoint=path, max_steps=3)
    with pytest.raises(ValueError, match="oracle settings differ"):
        RandomSearch.resume(path, Oracle(table, budget=21))
    with pytest.raises(ValueError, match="checkpoint of method"):
        LocalSearch.resume(path, Oracle(table, budget=20))


def test_result_json_round_trip(table, tmp_path):
    result = make("regularized_evolution", Oracle(table, budget=25, mapping="nearest")).run()
    result.save(tmp_path / "result.json")
    loaded = SearchResult.load(tmp_path / "result.json")
    assert loaded == result
    assert loaded.to_dict()["config"] == {"population_size": 12, "sample_size": 4, "num_edits": 1,
                                          "skip_queried": True, "max_edits": 3, "max_stall": 1000}
    assert loaded.to_dict()["oracle"]["budget"] == 25


def test_bad_arguments(table):
    oracle = Oracle(table, budget=5)
    with pytest.raises(ValueError):
        RandomSearch(oracle, LocalSearchConfig())
    with pytest.raises(ValueError):
        RandomSearch(oracle, seed=-1)
    with pytest.raises(ValueError):
        RandomSearch(table)
    with pytest.raises(ValueError):
        RegularizedEvolutionConfig(population_size=3, sample_size=4)

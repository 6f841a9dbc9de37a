import numpy as np
import pytest

from gnnas.ged import graph_edit_distance
from gnnas.search import Oracle, RegularizedEvolution, RegularizedEvolutionConfig


def test_aging_and_mutation(closed_table):
    oracle = Oracle(closed_table, budget=150)
    config = RegularizedEvolutionConfig(population_size=20, sample_size=5, max_edits=1)
    search = RegularizedEvolution(oracle, config, seed=0)
    search.run(max_steps=20)
    assert [i for i, _ in search.population] == oracle.queried_indices()  # 20 random cells
    for _ in range(60):
        before = list(search.population)
        search.run(max_steps=1)
        after = search.population
        assert len(after) == 20 and after[:-1] == before[1:]  # the oldest goes, the child joins
        child = oracle.spec(after[-1][0])
        # the child is one edit away from some member: the parent
        assert 1 in {graph_edit_distance(child, oracle.spec(i)) for i, _ in before}
        assert after[-1][1] == oracle.accuracy_of(child)


def test_tournament_picks_the_best_of_the_sample(closed_table):
    """With the whole population as the sample, every child is one edit from the best member."""
    oracle = Oracle(closed_table, budget=80)
    config = RegularizedEvolutionConfig(population_size=8, sample_size=8, max_edits=1)
    search = RegularizedEvolution(oracle, config, seed=1)
    search.run(max_steps=8)
    for _ in range(30):
        best = max(search.population, key=lambda p: p[1])  # first (oldest) on ties
        search.run(max_steps=1)
        assert graph_edit_distance(oracle.spec(search.population[-1][0]), oracle.spec(best[0])) == 1


def test_children_queried_before(table):
    """On a sparse table children often map onto cells queried before: skipped by default, free
    members of the population with skip_queried=False."""
    config = RegularizedEvolutionConfig(population_size=5, sample_size=2)
    skipping = RegularizedEvolution(Oracle(table, budget=80, mapping="nearest"), config, seed=0)
    for _ in range(40):
        queried = skipping.oracle.num_queries
        skipping.run(max_steps=1)
        assert skipping.oracle.num_queries == queried + 1  # every step makes one new query
    config = RegularizedEvolutionConfig(population_size=5, sample_size=2, skip_queried=False)
    keeping = RegularizedEvolution(Oracle(table, budget=80, mapping="nearest"), config, seed=0)
    keeping.run(max_steps=40)
    assert keeping.oracle.num_queries < 40  # some children were free
    assert len(keeping.population) == 5


def test_skipped_children_get_more_edits(table, monkeypatch):
    import gnnas.transforms

    calls = []
    real = gnnas.transforms.edit_cell

    def spy(spec, num_edits, **kwargs):
        calls.append((num_edits, search.stall))
        return real(spec, num_edits, **kwargs)

    monkeypatch.setattr(gnnas.transforms, "edit_cell", spy)
    config = RegularizedEvolutionConfig(population_size=5, sample_size=2, max_edits=3, max_stall=100)
    search = RegularizedEvolution(Oracle(table, budget=60, mapping="nearest"), config, seed=0)
    search.run()
    assert calls and all(edits == min(3, 1 + stall // 10) for edits, stall in calls)
    assert {1, 2} <= {edits for edits, _ in calls}


def test_stall_stops_the_run(table):
    config = RegularizedEvolutionConfig(population_size=5, sample_size=2, max_stall=1)
    result = RegularizedEvolution(Oracle(table, budget=300, mapping="nearest"), config, seed=0).run()
    assert result.stop_reason == "stalled" and result.num_queries < 300


@pytest.mark.parametrize("field,value", [("population_size", 0), ("sample_size", 0), ("num_edits", 0),
                                         ("max_stall", 0), ("max_edits", 0), ("max_edits", 26),
                                         ("max_edits", 10**9)])
def test_bad_config(field, value):
    with pytest.raises(ValueError, match=field):
        RegularizedEvolutionConfig(**{field: value})


def test_population_is_checkpointed(table):
    search = RegularizedEvolution(Oracle(table, budget=40, mapping="nearest"),
                                  RegularizedEvolutionConfig(population_size=10, sample_size=3), seed=2)
    search.run(max_steps=25)
    state = search.state_dict()
    assert state["state"]["population"] == [list(p) for p in search.population]
    assert np.isfinite([a for _, a in search.population]).all()

import numpy as np
import pytest

from gnnas.ged import pairwise_ged
from gnnas.search import LocalSearch, LocalSearchConfig, Oracle, neighbours
from gnnas.space import ArchSpec


def test_neighbours_against_brute_force(closed_cells):
    """Neighbours = the cells of the same size at graph edit distance 1 (the space of cells with at
    most 5 vertices is closed under op changes and flips, so it holds them all)."""
    rng = np.random.default_rng(0)
    sample = [closed_cells[i] for i in rng.choice(len(closed_cells), 40, replace=False)]
    distances = pairwise_ged(sample, closed_cells)
    sizes = np.array([c.num_vertices for c in closed_cells])
    for row, spec in enumerate(sample):
        found = neighbours(spec)
        assert len({c.hash for c in found}) == len(found)
        same_size = sizes == spec.num_vertices
        expected = {closed_cells[k].hash for k in np.flatnonzero((distances[row] == 1) & same_size)}
        assert {c.hash for c in found} == expected


def test_neighbours_of_small_cells():
    assert neighbours(ArchSpec([[0, 1], [0, 0]], ["input", "output"])) == []
    chain = ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    found = neighbours(chain)  # two op changes and the skip edge 0 -> 2
    assert sorted(c.to_strings() for c in found) == sorted([
        ("010001000", "input,conv1x1-bn-relu,output"),
        ("010001000", "input,maxpool3x3,output"),
        ("011001000", "input,conv3x3-bn-relu,output"),
    ])
    with pytest.raises(ValueError):
        neighbours("cell")


def test_walk_climbs_and_restarts(closed_table):
    oracle = Oracle(closed_table)
    search = LocalSearch(oracle, seed=0)
    previous = None
    while search.stop_reason is None and search.steps < 200:
        before = (search.current, search.current_accuracy)
        queried = oracle.num_queries
        search.run(max_steps=1)
        if before[0] is None:  # a (re)start queries exactly num_init new random cells
            assert oracle.num_queries - queried == 1 and search.current is not None
        elif search.current is None:  # a restart: no neighbour beats the current cell
            nbrs = [oracle.accuracy_of(c) for c in neighbours(oracle.spec(before[0]))]
            assert max(nbrs, default=-1.0) <= before[1]
        else:  # a move to the best neighbour
            nbrs = [oracle.accuracy_of(c) for c in neighbours(oracle.spec(before[0]))]
            assert search.current_accuracy == max(nbrs) > before[1]
        previous = search.current
    assert previous is not None or search.extra["restarts"] > 0
    assert search.extra["moves"] > 0 and search.extra["restarts"] > 0


def test_num_neighbours_and_first_improvement(closed_table):
    oracle = Oracle(closed_table, budget=300)
    search = LocalSearch(oracle, LocalSearchConfig(num_neighbours=2, first_improvement=True), seed=0)
    for _ in range(60):
        queried = oracle.num_queries
        search.run(max_steps=1)
        assert oracle.num_queries - queried <= 2
    with pytest.raises(ValueError):
        LocalSearchConfig(num_neighbours=0)


def test_partial_table_maps_neighbours(table):
    result = LocalSearch(Oracle(table, budget=60, mapping="nearest"), seed=0).run()
    assert result.num_queries == 60
    assert any(r.distance > 0 for r in result.records)

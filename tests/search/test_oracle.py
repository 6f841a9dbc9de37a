import dataclasses

import numpy as np
import pytest

from gnnas.ged import pairwise_ged
from gnnas.nasbench import NASBench101, OutOfDomainError
from gnnas.search import BudgetExhausted, Oracle
from gnnas.space import ArchSpec

from .conftest import random_cells, synthetic_accuracy


def isomorphic_copy(spec: ArchSpec, rng: np.random.Generator) -> ArchSpec | None:
    """The same cell with its interior vertices renumbered (another topological order), if any."""
    v = spec.num_vertices
    for _ in range(50):
        perm = np.concatenate([[0], 1 + rng.permutation(v - 2), [v - 1]])
        matrix = spec.matrix[np.ix_(perm, perm)]
        if np.tril(matrix).any() or (matrix == spec.matrix).all():
            continue
        return ArchSpec(matrix, [spec.ops[i] for i in perm])
    return None


def test_repr_and_config(table):
    oracle = Oracle(table, budget=10, mapping="nearest")
    assert repr(oracle) == ("Oracle(table_size=300, budget=10, mapping='nearest', "
                            "metric='validation_accuracy', epochs=108)")
    assert oracle.config() == {"budget": 10, "mapping": "nearest", "metric": "validation_accuracy",
                               "epochs": 108, "repeat": 0, "table_size": 300,
                               "table_digest": oracle.table_digest}
    # the digest names the cells and their values: another table of the same size differs
    assert Oracle(table, budget=3).table_digest == oracle.table_digest
    arrays = table.arrays
    changed = NASBench101(dataclasses.replace(arrays, metrics=np.asarray(arrays.metrics) + 1e-9))
    assert Oracle(changed, budget=10, mapping="nearest").table_digest != oracle.table_digest


@pytest.mark.parametrize("kwargs", [{"budget": 0}, {"budget": 2.5}, {"mapping": "closest"},
                                    {"repeat": 3}, {"repeat": "first"}, {"metric": "test_accuracy"}])
def test_bad_arguments(table, kwargs):
    with pytest.raises(ValueError):
        Oracle(table, **kwargs)


def test_metric_matches_table(table, table_cells):
    oracle = Oracle(table)
    for spec in table_cells[:20]:
        assert oracle.query(spec) == pytest.approx(synthetic_accuracy(spec))
    assert Oracle(table, epochs=36).accuracy_of(table_cells[0]) == pytest.approx(
        synthetic_accuracy(table_cells[0]) - 0.1)


def test_counts_distinct_cells_and_isomorphic_duplicates_once(table, table_cells):
    oracle = Oracle(table, budget=5)
    rng = np.random.default_rng(0)
    copies = [(s, isomorphic_copy(s, rng)) for s in table_cells]
    copies = [(s, c) for s, c in copies if c is not None][:3]
    assert len(copies) == 3
    for spec, copy in copies:
        assert copy.hash == spec.hash
        oracle.query(spec)
        oracle.query(copy)
        oracle.query(spec)
    assert oracle.num_queries == 3
    assert [r.hash for r in oracle.records] == [s.hash for s, _ in copies]


def test_budget(table, table_cells):
    oracle = Oracle(table, budget=3)
    for spec in table_cells[:3]:
        oracle.query(spec)
    assert oracle.exhausted and oracle.remaining == 0
    with pytest.raises(BudgetExhausted):
        oracle.query(table_cells[3])
    with pytest.raises(BudgetExhausted):
        oracle.query_index(table.index_of(table_cells[4].hash))
    assert oracle.query(table_cells[1]) == pytest.approx(synthetic_accuracy(table_cells[1]))  # free
    assert oracle.num_queries == 3


def test_records(table, table_cells):
    oracle = Oracle(table)
    cells = table_cells[10:30]
    accuracies = [oracle.query(spec) for spec in cells]
    assert [r.index for r in oracle.records] == list(range(1, 21))
    assert [r.hash for r in oracle.records] == [s.hash for s in cells]
    assert [r.proposed_hash for r in oracle.records] == [s.hash for s in cells]
    assert [r.distance for r in oracle.records] == [0] * 20
    assert [r.accuracy for r in oracle.records] == accuracies
    assert oracle.trajectory().tolist() == np.maximum.accumulate(accuracies).tolist()
    best = oracle.best
    assert best.accuracy == max(accuracies) and best.index == int(np.argmax(accuracies)) + 1


def test_out_of_domain_without_mapping(table, table_cells):
    outside = random_cells(1, seed=1, exclude={s.hash for s in table_cells})[0]
    oracle = Oracle(table)
    with pytest.raises(OutOfDomainError):
        oracle.query(outside)
    assert oracle.num_queries == 0


def test_nearest_mapping_against_brute_force(table, table_cells):
    oracle = Oracle(table, mapping="nearest")
    outside = random_cells(25, seed=2, exclude={s.hash for s in table_cells})
    distances = pairwise_ged(outside, table_cells)  # (25, 300)
    hashes = np.array([s.hash for s in table_cells])
    for row, spec in enumerate(outside):
        order = np.lexsort((hashes, distances[row]))  # smallest distance, then smallest hash
        expected = table_cells[order[0]]
        index, distance = oracle.resolve(spec)
        assert oracle.hashes[index] == expected.hash
        assert distance == distances[row, order[0]] > 0
        before = oracle.num_queries
        accuracy = oracle.query(spec)
        assert accuracy == pytest.approx(synthetic_accuracy(expected))
        record = oracle.records[-1]
        if oracle.num_queries > before:
            assert record.proposed_hash == spec.hash
            assert (record.hash, record.distance) == (expected.hash, distance)
    # two proposals that map onto one table cell count once
    assert oracle.num_queries == len({oracle.resolve(s)[0] for s in outside})


def test_rank_and_top_threshold(table):
    oracle = Oracle(table)
    values = oracle.values
    for accuracy in [values.max(), values.min(), float(np.median(values)), 0.0, 1.0]:
        assert oracle.rank(accuracy) == 1 + int((values > accuracy).sum())
    for fraction in [0.001, 0.01, 0.1, 1.0]:
        threshold = oracle.top_threshold(fraction)
        k = int(np.ceil(fraction * len(values)))
        assert threshold == np.sort(values)[::-1][k - 1]
        assert (values >= threshold).sum() >= k
    assert oracle.table_best == values.max()
    with pytest.raises(ValueError):
        oracle.top_threshold(0.0)
    # the vectorized ranks equal rank() one by one, on table values (ties), between and beyond them
    rng = np.random.default_rng(0)
    between = rng.uniform(values.min() - 0.01, values.max() + 0.01, 200)
    probes = np.concatenate([rng.choice(values, 200), between])
    assert oracle.ranks(probes) == [oracle.rank(float(a)) for a in probes]
    assert oracle.ranks([]) == []


def test_sample_unqueried_is_without_replacement(table, table_cells):
    oracle = Oracle(table)
    for spec in table_cells[:100]:
        oracle.query(spec)
    rng = np.random.default_rng(0)
    drawn = oracle.sample_unqueried(rng, 250)
    assert len(drawn) == 200 and len(set(drawn)) == 200
    assert not set(drawn) & set(oracle.queried_indices())
    again = oracle.sample_unqueried(np.random.default_rng(0), 250)
    assert again == drawn


def test_state_dict_round_trip(table, table_cells):
    oracle = Oracle(table, budget=50, mapping="nearest")
    for spec in table_cells[:7]:
        oracle.query(spec)
    restored = Oracle(table, budget=50, mapping="nearest")
    restored.load_state_dict(oracle.state_dict())
    assert restored.records == oracle.records
    assert restored.is_queried(table_cells[3]) and not restored.is_queried(table_cells[8])
    with pytest.raises(ValueError):
        Oracle(table, budget=49, mapping="nearest").load_state_dict(oracle.state_dict())

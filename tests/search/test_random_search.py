import numpy as np
import pytest
from scipy.stats import chisquare

from gnnas.search import Oracle, RandomSearch, RandomSearchConfig


def test_every_cell_once_then_stop(table):
    result = RandomSearch(Oracle(table), RandomSearchConfig(batch_size=7), seed=0).run()
    assert result.stop_reason == "table" and result.num_queries == len(table)
    assert sorted(r.hash for r in result.records) == sorted(table.hashes.tolist())
    assert result.queries_to_best == 1 + [r.hash for r in result.records].index(table.best()[0])
    assert result.rank == 1 and result.regret == 0.0


def test_uniform_over_the_table(table):
    counts = np.zeros(len(table))
    oracle = Oracle(table)
    for seed in range(3000):
        counts[oracle.sample_unqueried(np.random.default_rng(seed), 1)[0]] += 1
    assert chisquare(counts).pvalue > 1e-3


def test_batch_size_is_the_step():
    with pytest.raises(ValueError):
        RandomSearchConfig(batch_size=0)

"""Tests of gnnas.analysis.locality: the GED lower bound from anchors, pairs by distance, statistics."""

import json

import numpy as np
import pytest

from gnnas import ArchSpec
from gnnas.analysis import (
    anchors_with_positives,
    distance_statistics,
    pairs_by_distance,
    random_pairs,
    spearman,
    within_group_pairs,
)
from gnnas.ged import GEDIndex, graph_edit_distance, pairwise_ged
from gnnas.space import INTERIOR_OPS, CellArray
from gnnas.transforms import edit_cell

CHAIN = ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
DIAMOND = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                   ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])


def random_cells(count: int, seed: int, min_vertices: int = 5) -> list[ArchSpec]:
    """Distinct random valid cells (by hash) of ``min_vertices`` to 7 vertices.

    With 5 or more vertices a cell has edited cells at 1, 2 and 3 edits (3 interior ops to change).
    """
    rng = np.random.default_rng(seed)
    cells: dict[str, ArchSpec] = {}
    while len(cells) < count:
        n = int(rng.integers(min_vertices, 8))
        matrix = np.triu(rng.random((n, n)) < rng.uniform(0.25, 0.6), k=1).astype(np.uint8)
        ops = ["input", *rng.choice(INTERIOR_OPS, n - 2).tolist(), "output"]
        try:
            spec = ArchSpec(matrix, ops)
        except ValueError:
            continue
        if spec.num_vertices >= min_vertices:
            cells.setdefault(spec.hash, spec)
    return list(cells.values())


@pytest.fixture(scope="module")
def neighbourhood() -> list[ArchSpec]:
    """Random cells plus edited copies of some of them, so that close pairs exist; all distinct."""
    rng = np.random.default_rng(7)
    base = random_cells(100, seed=3) + random_cells(20, seed=4, min_vertices=2)
    cells = {spec.hash: spec for spec in base}
    for anchor in base[:40]:
        for k in (1, 1, 2, 2, 3):
            spec = edit_cell(anchor, k, generator=rng).spec
            cells.setdefault(spec.hash, spec)
    return list(cells.values())


# ------------------------------------------------------------------------------------ lower bound
def test_lower_bound_is_a_lower_bound(neighbourhood):
    # the bound that pairs_by_distance uses from each anchor: gnnas.ged's, through a GEDIndex
    table = CellArray.of(neighbourhood)
    index = GEDIndex(table)
    exact = pairwise_ged(neighbourhood[:60], neighbourhood)
    bounds = []
    for a in range(60):
        bound = index.lower_bound(table[a])
        assert bound.dtype == np.int32 and bound.shape == (len(table),)
        assert (bound <= exact[a]).all()
        assert bound[a] == 0
        bounds.append(bound)
    bounds = np.stack(bounds)
    far = exact > 2
    print("share of pairs at GED > 2 that the bound rules out for d <= 2:", (bounds[far] > 2).mean())
    assert (bounds[far] > 2).mean() > 0.5  # a useful bound: it rules out most far pairs


def test_old_names_warn_and_lead_to_their_one_home(neighbourhood):
    import gnnas.analysis

    with pytest.warns(DeprecationWarning, match="gnnas.space.CellArray"):
        assert gnnas.analysis.PaddedCells is CellArray
    with pytest.warns(DeprecationWarning, match="gnnas.ged.ged_lower_bound"):
        old_bound = gnnas.analysis.ged_lower_bound
    cells = CellArray.of(neighbourhood)
    bound = old_bound(cells[[3]], cells)
    assert bound.dtype == np.int64 and (bound == GEDIndex(cells).lower_bound(neighbourhood[3])).all()
    with pytest.raises(ValueError, match="exactly one cell"):
        old_bound(cells[:2], cells)


def test_lower_bound_hand_built():
    # relabel one vertex and add one edge: GED 2; the bound sees the label and the degree changes
    pool = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    assert graph_edit_distance(CHAIN, pool) == 2
    assert GEDIndex([pool]).lower_bound(CHAIN).tolist() == [2]


# ------------------------------------------------------------------------------- pairs by distance
def test_pairs_by_distance_are_at_their_distance(neighbourhood):
    found = pairs_by_distance(neighbourhood, range(1, 5), 15, max_random_pairs=2000, batch_size=500, seed=0)
    assert set(found.pairs) == {1, 2, 3, 4}
    keys = set()
    for d, pairs in found.pairs.items():
        assert pairs.dtype == np.int64 and pairs.shape[1] == 2
        assert len(pairs) >= 15  # the neighbourhood has enough close pairs
        for i, j in pairs.tolist():
            assert i != j
            assert graph_edit_distance(neighbourhood[i], neighbourhood[j]) == d
            keys.add((min(i, j), max(i, j)))
    assert len(keys) == len(found.pair_array())  # no unordered pair twice
    assert found.distance_array().tolist() == sum(([d] * len(p) for d, p in sorted(found.pairs.items())), [])
    for d in found.pairs:  # a distance that random pairs left short was filled from anchors
        assert found.from_random[d] >= 15 or found.num_anchors[d] > 0
    assert 0 < found.num_random <= 2000


def test_pairs_by_distance_anchor_phase_is_complete(neighbourhood):
    # no random phase, no cap, an unreachable target: every cell is an anchor, so every pair at
    # distance <= 3 must be found, exactly once (the lower bound must never rule out a true pair)
    cells = neighbourhood[:150]
    found = pairs_by_distance(cells, [1, 2, 3], 10**9, max_random_pairs=0, max_pairs_per_anchor=None, seed=1)
    exact = pairwise_ged(cells, cells)
    for d in (1, 2, 3):
        expected = {(i, j) for i, j in zip(*np.nonzero(np.triu(exact == d, k=1)), strict=True)}
        got = {(min(i, j), max(i, j)) for i, j in found.pairs[d].tolist()}
        assert got == expected and len(found.pairs[d]) == len(expected)
    assert found.num_anchors_total == len(cells) and found.from_random == {1: 0, 2: 0, 3: 0}
    assert found.num_exact < found.num_bounded  # the bound ruled cells out


def test_pairs_by_distance_seeded_and_capped(neighbourhood):
    kwargs = dict(max_random_pairs=1000, batch_size=250, max_pairs_per_anchor=2)
    a = pairs_by_distance(neighbourhood, [1, 2, 6], 10, seed=5, **kwargs)
    b = pairs_by_distance(neighbourhood, [1, 2, 6], 10, seed=5, **kwargs)
    assert all(np.array_equal(a.pairs[d], b.pairs[d]) for d in a.pairs)
    anchored = a.pairs[1][a.from_random[1]:]
    if len(anchored):
        assert np.bincount(anchored[:, 0]).max() <= 2


def test_pairs_by_distance_rejects_bad_input(neighbourhood):
    with pytest.raises(ValueError, match="distances"):
        pairs_by_distance(neighbourhood, [0, 1])
    with pytest.raises(ValueError, match="pairs_per_distance"):
        pairs_by_distance(neighbourhood, [1], 0)
    with pytest.raises(ValueError, match="max_pairs_per_anchor"):
        pairs_by_distance(neighbourhood, [1], max_pairs_per_anchor=0)
    with pytest.raises(ValueError, match="max_random_pairs"):
        pairs_by_distance(neighbourhood, [1], max_random_pairs=-1)
    with pytest.raises(ValueError, match="at least 2 cells"):
        pairs_by_distance([CHAIN], [1])


# ----------------------------------------------------------------------------------- random pairs
def test_random_pairs():
    pairs = random_pairs(5, 20_000, seed=0)
    assert pairs.shape == (20_000, 2) and pairs.dtype == np.int64
    assert (pairs[:, 0] != pairs[:, 1]).all() and pairs.min() >= 0 and pairs.max() <= 4
    counts = np.bincount(pairs[:, 0] * 5 + pairs[:, 1], minlength=25).reshape(5, 5)
    off = counts[~np.eye(5, dtype=bool)]
    assert off.min() > 0.8 * 1000 and off.max() < 1.2 * 1000  # uniform over the 20 ordered pairs
    assert np.array_equal(random_pairs(5, 10, seed=3), random_pairs(5, 10, seed=3))
    with pytest.raises(ValueError, match="at least 2"):
        random_pairs(1, 3)
    with pytest.raises(ValueError, match="num_pairs"):
        random_pairs(3, -1)


# ------------------------------------------------------------------------------------- statistics
def test_distance_statistics_hand_built():
    distances = np.array([1, 1, 1, 2, 2, 3])
    values = np.array([0.0, 1.0, 2.0, 4.0, 6.0, 9.0])
    stats = distance_statistics(distances, values, quantiles=(0.5,))
    assert stats["num_pairs"] == 6
    assert stats["per_distance"]["1"] == {"count": 3, "mean": 1.0, "std": pytest.approx(np.std([0, 1, 2])),
                                          "quantiles": {"0.5": 1.0}}
    assert stats["per_distance"]["2"]["mean"] == 5.0 and stats["per_distance"]["3"]["count"] == 1
    assert 0.9 < stats["spearman"]["rho"] < 1.0  # monotone, but tied distances
    # no ties: ranks (1, 2, 3, 4) against (1, 2, 4, 3), so rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert distance_statistics(np.arange(1, 5), np.array([0.1, 0.2, 0.5, 0.4]))["spearman"]["rho"] == \
        pytest.approx(0.8)
    json.dumps(stats)  # plain Python numbers
    with pytest.raises(ValueError, match="same shape"):
        distance_statistics(distances, values[:-1])


def test_spearman():
    assert spearman(np.arange(5), -np.arange(5))["rho"] == pytest.approx(-1.0)
    assert spearman(np.ones(5), np.arange(5)) == {"rho": None, "p_value": None}
    assert spearman(np.arange(2), np.arange(2)) == {"rho": None, "p_value": None}
    with pytest.raises(ValueError, match="same shape"):
        spearman(np.arange(3), np.arange(4))


# ------------------------------------------------------------------------------- groups of anchors
def test_anchors_with_positives():
    anchors = random_cells(4, seed=11)
    cells, groups, is_anchor = anchors_with_positives(anchors, num_positives=3, seed=0)
    assert len(cells) == 16 and groups.tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    assert is_anchor.tolist() == [True, False, False, False] * 4
    for k, anchor in enumerate(anchors):
        assert cells[4 * k] == anchor
        for positive in cells[4 * k + 1: 4 * k + 4]:
            assert positive != anchor  # a positive is never its anchor
            assert 1 <= graph_edit_distance(anchor, positive) <= 9
    again, _, _ = anchors_with_positives(anchors, num_positives=3, seed=0)
    assert [c.hash for c in again] == [c.hash for c in cells]
    with pytest.raises(ValueError, match="num_positives"):
        anchors_with_positives(anchors, num_positives=0)


def test_within_group_pairs():
    assert within_group_pairs(np.array([0, 0, 1, 0, 1])).tolist() == [[0, 1], [0, 3], [1, 3], [2, 4]]
    assert within_group_pairs(np.array([0, 1, 2])).shape == (0, 2)


def test_within_group_pairs_matches_the_square_reference():
    """Any grouping, in any order: the pairs of the brute-force loop, in lexicographic order."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        groups = rng.integers(-2, int(rng.integers(1, 6)), size=int(rng.integers(0, 30)))
        reference = [[i, j] for i in range(len(groups)) for j in range(i + 1, len(groups))
                     if groups[i] == groups[j]]
        pairs = within_group_pairs(groups)
        assert pairs.dtype == np.int64 and pairs.tolist() == reference


def test_within_group_pairs_memory_grows_with_the_pairs():
    # 400,000 items in groups of 2: 200,000 pairs (the square of the items would be 640 GB)
    pairs = within_group_pairs(np.repeat(np.arange(200_000), 2))
    assert pairs.shape == (200_000, 2) and (pairs[:, 1] - pairs[:, 0] == 1).all()

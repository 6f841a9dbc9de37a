import numpy as np
import pytest
from ged_helpers import edited, random_cell, renumbered

from gnnas import ArchSpec
from gnnas.ged import GEDIndex, ged_lower_bound, paired_ged, pairwise_ged
from gnnas.ged.bounds import BoundFeatures, assignment_bounds, cheap_bounds, one_to_many_assignment
from gnnas.ged.packing import pack


def _random_pairs(rng, count):
    a, b = [], []
    for i in range(count):
        x = random_cell(rng)
        y = edited(rng, x, int(rng.integers(1, 4))) if i % 2 and x.num_vertices > 2 else random_cell(rng)
        a.append(x)
        b.append(y)
    return a, b


@pytest.mark.parametrize("pin_io", [False, True])
def test_bounds_never_exceed_exact(pin_io):
    rng = np.random.default_rng(17 + pin_io)
    a, b = _random_pairs(rng, 1500)
    exact = paired_ged(a, b, pin_io=pin_io)
    fa, fb = BoundFeatures.of(pack(a)), BoundFeatures.of(pack(b))
    cheap = cheap_bounds(fa, fb, pin_io)
    strong = assignment_bounds(fa, fb, pin_io)
    best = ged_lower_bound(a, b, pin_io=pin_io)
    assert (cheap <= exact).all() and (strong <= exact).all()
    assert (best == np.maximum(cheap, strong)).all()
    # the edge-count difference is implied by the degree bound
    edges = np.abs(np.array([x.num_edges for x in a]) - np.array([y.num_edges for y in b]))
    assert (cheap >= edges).all()
    assert (best >= 1).mean() > 0.9  # the bounds are not trivial: most of these pairs differ
    assert (best == exact).mean() > 0.2


def test_bounds_zero_for_isomorphic_and_pinned_stronger():
    rng = np.random.default_rng(4)
    a = [random_cell(rng, 7) for _ in range(50)]
    b = [renumbered(rng, x) for x in a]
    assert (ged_lower_bound(a, b) == 0).all()
    assert (ged_lower_bound(a, b, pin_io=True) == 0).all()
    c = [random_cell(rng) for _ in range(50)]
    assert (ged_lower_bound(a, c, pin_io=True) >= ged_lower_bound(a, c)).mean() > 0.5


def test_bound_hand_built():
    chain = ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    both = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    # one label differs; out-degrees (1,1,0) vs (2,1,0) and in-degrees (0,1,1) vs (0,1,2): 1 edge
    assert ged_lower_bound([chain], [both]).tolist() == [2]
    with pytest.raises(ValueError, match="same length"):
        ged_lower_bound([chain], [chain, both])


@pytest.mark.parametrize("pin_io", [False, True])
def test_one_to_many_gather_equals_the_broadcast_bound(pin_io):
    rng = np.random.default_rng(31 + pin_io)
    a, b = _random_pairs(rng, 400)
    fa, fb = BoundFeatures.of(pack(a)), BoundFeatures.of(pack(b))
    rows = rng.permutation(len(b))[:150]
    for i in range(0, len(a), 20):
        one = fa.take([i])
        broadcast = assignment_bounds(fa.take(np.full(len(b), i)), fb, pin_io)  # N x N: the (N, 7, 7) form
        assert (one_to_many_assignment(one, fb, pin_io) == broadcast).all()
        assert (assignment_bounds(one, fb, pin_io) == broadcast).all()
        assert (assignment_bounds(fb, one, pin_io) == broadcast).all()  # the bound is symmetric
        assert (one_to_many_assignment(one, fb, pin_io, rows) == broadcast[rows]).all()


@pytest.mark.parametrize("pin_io", [False, True])
def test_index_lower_bound_from_one_cell_to_many(pin_io):
    rng = np.random.default_rng(41 + pin_io)
    base = [random_cell(rng, int(rng.integers(4, 8))) for _ in range(12)]
    cells = base + [edited(rng, base[int(rng.integers(12))], int(rng.integers(1, 4))) for _ in range(150)]
    index = GEDIndex(cells)
    exact = pairwise_ged(cells[:12], cells, pin_io=pin_io)
    for i in range(12):
        bound = index.lower_bound(cells[i], pin_io=pin_io)
        assert bound.dtype == np.int32 and bound.shape == (len(cells),)
        assert (bound == ged_lower_bound([cells[i]] * len(cells), cells, pin_io=pin_io)).all()
        assert (bound <= exact[i]).all() and bound[i] == 0

import numpy as np
import pytest
from ged_helpers import edited, random_cell, renumbered

from gnnas import ArchSpec
from gnnas.ged import ged_lower_bound, paired_ged
from gnnas.ged.bounds import BoundFeatures, assignment_bounds, cheap_bounds
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
